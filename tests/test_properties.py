"""Property-based tests: random specs within the language, compiled code vs the interpreter.

The compiler folds constants, unrolls loops and inlines definitions and procedures; the
interpreter (explorer.lang.interp) does none of that. On every reachable state of a random spec
their successors and invariant values must agree. And whatever text the loader is given, it
answers with a result or a SpecError, never another exception.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explorer
from explorer.errors import EvalError, SpecError
from explorer.lang.interp import Interpreter

from specgen import ACTIONS, INIT, INVARIANT, build_spec

def outcome(fn):
    """A value, or 'error' when evaluating raised the spec's runtime error (both sides must agree)."""
    try:
        return fn()
    except EvalError:
        return "error"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(actions=ACTIONS, invariant=INVARIANT, init=INIT)
def test_compiled_code_agrees_with_the_interpreter(tmp_path_factory, actions, invariant, init):
    path = tmp_path_factory.mktemp("p") / "s.yaml"
    path.write_text(build_spec(actions, invariant, init))
    try:
        problem = explorer.load(str(path))
    except SpecError:
        return  # e.g. `require` folded in init; random text may be refused, never crash
    m = problem.model
    it = Interpreter(m)
    try:
        inits = set(m.initial_states())
    except EvalError:
        return
    assert inits == it.initial_states()
    seen = set(inits)
    todo = list(inits)
    while todo and len(seen) < 300:
        s = todo.pop()
        try:
            compiled = set(m.successors(s))
        except EvalError:
            try:
                it.successors(s)
            except EvalError:
                continue
            raise AssertionError("compiled code raised where the interpreter did not")
        assert compiled == it.successors(s), path.read_text()
        assert outcome(lambda: [m.invariant_fn(i)(s) for i in range(len(m.invariant_list))]) == outcome(lambda: it.invariants(s))
        for _, t in compiled:
            if t not in seen:
                seen.add(t)
                todo.append(t)


VALID = """
constants: {N: 2}
sets: {S: range(N)}
types: {Pte: {present: bool, dirty: bool}}
variables:
  pte: {type: Pte, over: [S]}
actions:
  Map:
    params: {p: S}
    guard: not pte[p].present
    effect: |
      pte[p].present = True
      either:
        pte[p].dirty = True
      or:
        pass
invariants:
  I: all(implies(pte[p].dirty, pte[p].present) for p in S)
"""


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_loader_raises_only_its_own_error(tmp_path_factory, data):
    text = VALID
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        tokens = list("()[]{}:,.'\"-_ \n\tx1=*#!&|%@~^") + ["__", "lambda", "import", "yield", "**", "not ", "for ", "in "]
        chunk = data.draw(st.lists(st.sampled_from(tokens), min_size=1, max_size=3).map("".join))
        if op == "insert":
            text = text[:i] + chunk + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + len(chunk):]
        else:
            text = text[:i] + chunk + text[i + len(chunk):]
    path = tmp_path_factory.mktemp("f") / "s.yaml"
    path.write_text(text)
    try:
        problem = explorer.load(str(path))
        explorer.check(problem, max_states=200)
    except SpecError as e:
        assert e.pos is None or e.pos.line >= 1
