"""Property-based tests: random specs within the language, compiled code vs the interpreter.

The compiler folds constants, unrolls loops and inlines definitions and procedures; the
interpreter (explorer.interp) does none of that. On every reachable state of a random spec
their successors and invariant values must agree. And whatever text the loader is given, it
answers with a result or a SpecError, never another exception.
"""

import textwrap

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explorer
from explorer.errors import EvalError, SpecError
from explorer.interp import Interpreter

HEADER = """
sets: {S: range(2)}
types:
  R: {f: bool, n: {type: int, min: 0, max: 2}}
variables:
  a: bool
  b: bool
  x: {type: int, min: 0, max: 3}
  arr: {type: int, min: 0, max: 2, over: [S]}
  r: {type: R}
definitions:
  hi(i): arr[i] >= 1
procedures:
  bump(e): e.n = (e.n + 1) % 3
"""


def ints(depth):
    leaf = st.sampled_from(["x", "0", "1", "3", "arr[0]", "arr[1]", "r.n", "arr[i]"])
    if depth <= 0:
        return leaf
    sub = ints(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(["+", "-", "*"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(sub, st.sampled_from(["// 2", "% 3"])).map(lambda t: f"({t[0]} {t[1]})"),
        st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.just("sum(arr[j] for j in S)"),
        st.just("len(j for j in S if arr[j] > 0)"),
        st.tuples(sub, bools(depth - 1), sub).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )


def bools(depth):
    leaf = st.sampled_from(["a", "b", "r.f", "hi(i)", "True", "x == 2", "arr[i] == 0"])
    if depth <= 0:
        return leaf
    sub = bools(depth - 1)
    isub = ints(depth - 1)
    return st.one_of(
        leaf,
        sub.map(lambda e: f"(not {e})"),
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(isub, st.sampled_from(["==", "!=", "<", "<=", ">"]), isub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(sub, sub).map(lambda t: f"implies({t[0]}, {t[1]})"),
        st.sampled_from(["any(arr[j] > 1 for j in S)", "all(arr[j] < 2 for j in S)", "x in [0, 2]"]),
    )


def stmts(depth):
    simple = st.one_of(
        ints(2).map(lambda e: f"x = ({e}) % 4"),
        ints(2).map(lambda e: f"arr[i] = ({e}) % 3"),
        ints(1).map(lambda e: f"r.n = ({e}) % 3"),
        bools(2).map(lambda e: f"a = {e}"),
        bools(1).map(lambda e: f"r.f = {e}"),
        bools(1).map(lambda e: f"require {e}"),
        st.just("bump(r)"),
        st.just("t = x\nx = (t + 1) % 4"),
        st.just("for j in S:\n    arr[j] = (arr[j] + 1) % 3"),
        st.just("r = R(f=True, n=2)"),
    )
    if depth <= 0:
        return st.lists(simple, min_size=1, max_size=3).map("\n".join)
    sub = stmts(depth - 1)
    ind = lambda s: textwrap.indent(s, "    ")
    return st.lists(st.one_of(
        simple,
        st.tuples(bools(1), sub, sub).map(lambda t: f"if {t[0]}:\n{ind(t[1])}\nelse:\n{ind(t[2])}"),
        st.tuples(sub, sub).map(lambda t: f"either:\n{ind(t[0])}\nor:\n{ind(t[1])}"),
        sub.map(lambda s: f"with k in range(2):\n    b = k == 1\n{ind(s)}"),
    ), min_size=1, max_size=3).map("\n".join)


def build_spec(actions, invariant, init):
    lines = [HEADER.strip(), "init: |", textwrap.indent(init, "  "), "actions:"]
    for n, (guard, effect) in enumerate(actions):
        lines += [f"  A{n}:", "    params: {i: S}", f"    guard: \"{guard}\"", "    effect: |", textwrap.indent(effect, "      ")]
    lines += ["invariants:", f"  I: \"{invariant}\""]
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(actions=st.lists(st.tuples(bools(2), stmts(1)), min_size=1, max_size=3),
       invariant=bools(2).map(lambda e: e.replace("hi(i)", "hi(0)").replace("arr[i]", "arr[1]")),
       init=stmts(0).map(lambda s: s.replace("require", "b = ").replace("arr[i]", "arr[0]").replace("hi(i)", "hi(1)")))
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
        assert [m.invariant_fn(i)(s) for i in range(len(m.invariant_list))] == it.invariants(s)
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
