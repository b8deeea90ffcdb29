"""Random specs within the spec language, for the property tests (compiler against interpreter,
C backend against Python backend). Besides well-formed behaviour the generator reaches runtime
errors on purpose: values outside a domain, indexes outside a set, division by zero, max() of
an empty set, and negative floor division and modulo."""

import textwrap

from hypothesis import strategies as st

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
    leaf = st.sampled_from(["x", "0", "1", "3", "-2", "arr[0]", "arr[1]", "r.n", "arr[i]"])
    if depth <= 0:
        return leaf
    sub = ints(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(["+", "-", "*"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(sub, st.sampled_from(["// 2", "% 3", "// -3", "% -2"])).map(lambda t: f"({t[0]} {t[1]})"),
        st.tuples(sub, sub).map(lambda t: f"({t[0]} // ({t[1]} - 1))"),
        st.tuples(st.sampled_from(["min", "max"]), sub, sub).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.just("sum(arr[j] for j in S)"),
        st.just("len(j for j in S if arr[j] > 0)"),
        st.just("max(arr[j] for j in S if arr[j] > 1)"),
        st.tuples(sub, bools(depth - 1), sub).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )


def bools(depth):
    leaf = st.sampled_from(["a", "b", "r.f", "hi(i)", "True", "x == 2", "arr[i] == 0", "r == R(f=True, n=1)"])
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
        ints(2).map(lambda e: f"x = {e}"),  # may leave the domain: a runtime error
        ints(2).map(lambda e: f"arr[i] = ({e}) % 3"),
        ints(1).map(lambda e: f"arr[x] = ({e}) % 3"),  # x may not index S: a runtime error
        ints(1).map(lambda e: f"r.n = ({e}) % 3"),
        bools(2).map(lambda e: f"a = {e}"),
        bools(1).map(lambda e: f"r.f = {e}"),
        bools(1).map(lambda e: f"require {e}"),
        st.just("bump(r)"),
        st.just("t = x\nx = (t + 1) % 4"),
        st.just("u = r\nr.n = (u.n + 1) % 3\nr.f = not u.f"),
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


# what a test draws: actions (guard, effect), one invariant, and an init block (no params there)
ACTIONS = st.lists(st.tuples(bools(2), stmts(1)), min_size=1, max_size=3)
INVARIANT = bools(2).map(lambda e: e.replace("hi(i)", "hi(0)").replace("arr[i]", "arr[1]"))
INIT = stmts(0).map(lambda s: s.replace("require", "b = ").replace("arr[i]", "arr[0]").replace("hi(i)", "hi(1)"))
