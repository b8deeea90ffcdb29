"""The compiled backend gives the reference backend's answers.

Every spec and config in the repository, and small specs written here for the constructs of the
language, run on both backends: distinct states, transitions, depth, verdict, the counterexample
(action by action, state by state), coverage and limits must be identical. Both backends explore
in the same order (state index order), so runs stopped by a limit agree too; configs are bounded
by a max_states applied to both sides.
"""

import glob
import os

import pytest

import explorer
from explorer.checker import fast
from explorer.errors import SpecError

from conftest import ROOT

pytestmark = pytest.mark.skipif(not fast.available(), reason="no C compiler")

DIRTYBITS = os.path.join(ROOT, "bench", "dirtybits.yaml")
CONFIG_BOUND = 20000


def summary(problem_path, overrides=None, **opts):
    """What a check answered, without timings; an exception is an answer too."""
    try:
        r = explorer.check(explorer.load(problem_path, overrides), **opts)
    except Exception as e:  # the reference raising must be matched by the compiled backend
        return ("raised", type(e).__name__, str(e)), None
    s = dict(r.stats)
    for k in ("seconds", "states_per_second", "peak_mib"):
        s.pop(k, None)
    out = {
        "verdict": r.verdict, "invariant": r.invariant, "message": r.message, "stats": s,
        "trace": r.trace, "violations": r.violations, "coverage": r.coverage,
        "stopped_by": r.data.get("stopped_by"), "error": r.data.get("error"),
    }
    return out, r.exploration


def assert_same(path, overrides=None, compiled=True, **opts):
    ref, _ = summary(path, overrides, backend="python", **opts)
    got, ex = summary(path, overrides, backend="c", **opts)
    assert got == ref
    if compiled and ex is not None:
        assert getattr(ex, "backend", None) == "c", "the compiled backend fell back"
    return ref


# --- the benchmark model --------------------------------------------------------------------------
@pytest.mark.parametrize("pv", [(1, 1), (1, 2), (2, 1), (2, 2), (1, 3), (2, 3)])
def test_dirtybits(pv):
    r = assert_same(DIRTYBITS, {"P": pv[0], "V": pv[1]})
    assert r["verdict"] == "ok"


@pytest.mark.parametrize("pv", [(1, 1), (2, 2), (2, 3)])
def test_dirtybits_buggy(pv):
    r = assert_same(DIRTYBITS, {"P": pv[0], "V": pv[1], "BUGGY": True})
    assert r["verdict"] == "violation" and len(r["trace"]) == 4


@pytest.mark.parametrize("opts", [
    {"max_states": 1}, {"max_states": 5000}, {"max_depth": 0}, {"max_depth": 4}, {"max_depth": 15},
    {"max_depth": 40}, {"deadlock": True}, {"continue_all": True},
])
def test_dirtybits_limits(opts):
    assert_same(DIRTYBITS, {"P": 2, "V": 3}, **opts)
    assert_same(DIRTYBITS, {"P": 2, "V": 2, "BUGGY": True}, **opts)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_thread_count_does_not_change_results(threads, monkeypatch):
    monkeypatch.setenv("MM_EXPLORER_THREADS", threads)
    assert_same(DIRTYBITS, {"P": 2, "V": 3})
    assert_same(DIRTYBITS, {"P": 2, "V": 3}, max_states=30001)


# --- every config in the repository ---------------------------------------------------------------
def _configs():
    # open configs (open_*.yaml: hundreds of worlds) are compared on both backends in test_worlds.py
    return sorted(p for p in glob.glob(os.path.join(ROOT, "configs", "*.yaml")) if not os.path.basename(p).startswith("open_"))


@pytest.mark.parametrize("path", _configs() or [None], ids=lambda p: os.path.basename(p) if p else "none")
def test_config(path):
    if path is None:
        pytest.skip("no configs yet")
    try:
        explorer.load(path)
    except SpecError as e:
        pytest.skip(f"config refused at load time: {e}")
    assert_same(path, max_states=CONFIG_BOUND)


def test_every_spec_module_loads_on_both_backends():
    for path in sorted(glob.glob(os.path.join(ROOT, "spec", "*.yaml"))):
        try:
            explorer.load(path)
        except SpecError:
            continue  # a module that is not runnable alone
        assert_same(path, max_states=CONFIG_BOUND)


# --- small specs covering the language ------------------------------------------------------------
SPECS = {
    "nondeterminism": """
        module: nd
        constants: {N: 3}
        sets: {IDS: range(N)}
        variables:
          x: {type: int, min: 0, max: 3, over: [IDS]}
          last: {type: int, min: 0, max: 2}
        actions:
          Set:
            params: {i: IDS}
            guard: x[i] < 3
            effect: |
              either:
                  x[i] += 1
              or:
                  x[i] = 0
                  either:
                      last = i
                  or:
                      pass
          Pick:
            effect: |
              with j in IDS:
                  require x[j] > 0
                  with k in IDS:
                      require k != j
                      x[k] = x[j]
                      last = k
        invariants:
          Bounded: all(x[i] <= 3 for i in IDS)
    """,
    "records_dynamic": """
        module: rec
        constants: {N: 3}
        sets: {IDS: range(N), COLORS: [red, green, blue]}
        types:
          Kind: [none, anon, file]
          Ent: {kind: Kind, cnt: {type: int, min: 0, max: 2}, act: bool, col: COLORS}
        variables:
          ent: {type: Ent, over: [IDS]}
          cur: {type: int, min: 0, max: 2}
          flag: bool
        definitions:
          busy(i): ent[i].kind != none and ent[i].act
        actions:
          Move:
            effect: |
              with i in IDS:
                  require not busy(i)
                  cur = i
          Bump:
            guard: ent[cur].cnt < 2
            effect: |
              x = ent[cur]
              ent[cur].cnt += 1
              if x.act:
                  flag = not flag
              either:
                  ent[cur].kind = anon
              or:
                  ent[cur].kind = file
                  ent[cur].col = green if flag else blue
          Toggle:
            params: {i: IDS}
            guard: ent[i].kind != none
            effect: |
              ent[i].act = not ent[i].act
          Swap:
            params: {i: IDS}
            guard: i != cur and ent[i] != ent[cur]
            effect: |
              t = ent[i]
              ent[i] = ent[cur]
              ent[cur] = t
          Reset:
            guard: all(ent[i].cnt == 2 for i in IDS)
            effect: |
              for i in IDS:
                  ent[i] = Ent(act=not ent[i].act, col=ent[i].col)
        invariants:
          NotAllBusy: not all(busy(i) for i in IDS)
    """,
    "arith_and_sets": """
        module: ar
        constants: {LIM: [1, 2, 0], M: 5}
        sets: {ODD: [1, 3, 5], SMALL: range(3)}
        variables:
          odd: {type: int, min: 0, max: 4, over: [ODD]}
          tot: {type: int, min: -3, max: 6}
          c: {type: int, min: 0, max: 2}
          b: bool
        actions:
          Step:
            params: {o: ODD}
            effect: |
              odd[o] = (odd[o] + LIM[c] + tot // 2) % 5 if tot >= 0 else (odd[o] - tot) % 4
              b = c in [0, 2] and odd[o] > sum(odd[p] for p in ODD if p != o) // 3
          Down:
            guard: tot > -3
            effect: |
              tot = max(tot - 2, -3)
          Up:
            effect: |
              tot = min(tot + c + 1, 6)
              c = (c + 1) % 3
          Mix:
            guard: b
            effect: |
              tot = min(odd[p] for p in ODD if odd[p] > 0) if any(odd[p] > 0 for p in ODD) else 0
              c = max(c, len(ODD) - 1 - c) % 3
        invariants:
          TotInRange: -3 <= tot and tot <= 6
    """,
    "initial_states_and_deadlock": """
        module: ini
        variables:
          a: {type: int, min: 0, max: 4}
          b: {type: int, min: 0, max: 4}
        init: |
          with x in range(3):
              a = x
              either:
                  b = x
              or:
                  b = 4 - x
        actions:
          Inc:
            guard: a < b
            effect: |
              a += 1
          Dec:
            guard: b > 2
            effect: |
              b -= 1
        invariants:
          Le: a <= 4
    """,
    "domain_error": """
        module: dom
        variables:
          n: {type: int, min: 0, max: 3}
          m: {type: int, min: 0, max: 1}
        actions:
          Inc:
            effect: |
              n = n + m + 1
          Flip:
            effect: |
              m = 1 - m
        invariants:
          Small: n <= 3
    """,
    "index_error": """
        module: ixe
        sets: {IDS: range(2)}
        variables:
          cur: {type: int, min: 0, max: 2}
          v: {type: bool, over: [IDS]}
        actions:
          Next:
            guard: cur < 2
            effect: |
              cur += 1
          Touch:
            effect: |
              v[cur] = not v[cur]
    """,
    "division_error": """
        module: dv
        variables:
          d: {type: int, min: -1, max: 2}
          q: {type: int, min: -4, max: 4}
        actions:
          Dec:
            guard: d > -1
            effect: |
              d -= 1
          Div:
            effect: |
              q = 4 // d if q > -4 else q % d
          Neg:
            effect: |
              q = -q
    """,
    "symbol_index": """
        module: sym
        sets: {CPUS: [c0, c1, c2]}
        types:
          State: [idle, busy, done]
        variables:
          st: {type: State, over: [CPUS]}
          owner: {type: CPUS}
        actions:
          Take:
            params: {c: CPUS}
            guard: st[c] == idle
            effect: |
              st[c] = busy
              owner = c
          Finish:
            guard: st[owner] == busy
            effect: |
              st[owner] = done
          Recycle:
            params: {c: CPUS}
            guard: st[c] == done and c != owner
            effect: |
              st[c] = idle
        invariants:
          OneBusy: sum(1 for c in CPUS if st[c] == busy) <= 1
    """,
    "procedure_returns": """
        module: pr
        sets: {P: range(2)}
        constants: {RET: [write, nopage]}
        variables: {x: {type: int, min: 0, max: 2}, w: bool, cow: bool}
        procedures:
          do_wp_page(reuse): |
            if reuse:
                w = not w
                return 'write'
            either:
                return 'nopage'
            or:
                x = min(x + 1, 2)
            return 'write'
        actions:
          Fault:
            params: {p: P}
            effect: |
              ret = do_wp_page(p == 1)
              if ret == 'write':
                  cow = not cow
        invariants:
          Fine: x <= 2
    """,
    "constant_records_at_run_time": """
        module: cr
        constants:
          VMAS: [{backing: file, uffd: [minor]}, {backing: anon, uffd: [missing, wp]}, {backing: anon, uffd: []}]
        sets: {V: range(len(VMAS))}
        variables: {cur: {type: int, min: 0, max: 3}, has_wp: bool, is_anon: bool}
        actions:
          Pick: {effect: "with v in range(4):\n    cur = v"}
          Look:
            effect: |
              has_wp = 'wp' in VMAS[cur].uffd
              is_anon = VMAS[cur].backing == anon
        invariants:
          WpOnlyAnon: implies(has_wp, is_anon)
    """,
    "violation_in_initial_state": """
        module: vi
        variables:
          x: {type: int, min: 0, max: 2, init: 2}
        actions:
          Dec:
            guard: x > 0
            effect: |
              x -= 1
        invariants:
          Pos: x > 0
          Small: x < 2
    """,
}


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("opts", [{}, {"deadlock": True}, {"max_states": 40}, {"max_depth": 2}, {"continue_all": True}],
                         ids=["default", "deadlock", "max_states", "max_depth", "continue"])
def test_small_specs(spec, name, opts):
    assert_same(spec(SPECS[name], name=f"{name}.yaml"), **opts)


def test_small_specs_give_the_expected_verdicts(spec):
    verdicts = {name: summary(spec(text, name=f"{name}.yaml"), backend="c")[0]["verdict"] for name, text in SPECS.items()}
    assert verdicts["domain_error"] == "error"
    assert verdicts["index_error"] == "error"
    assert verdicts["division_error"] == "error"
    assert verdicts["violation_in_initial_state"] == "violation"
    assert verdicts["nondeterminism"] == "ok"
    assert verdicts["procedure_returns"] == "ok"
    assert verdicts["constant_records_at_run_time"] == "error"  # VMAS[3]


# --- the default is the fast path ---------------------------------------------------------------
@pytest.mark.parametrize("config", sorted(glob.glob(os.path.join(ROOT, "configs", "*.yaml"))) + ["quickstart"])
def test_every_config_and_the_quick_start_run_compiled_by_default(config, capsys):
    overrides = None
    if config == "quickstart":  # README: mm-explorer check configs/seed_continue.yaml --set KERNEL=v5.16
        config, overrides = os.path.join(ROOT, "configs", "seed_continue.yaml"), {"KERNEL": "v5.16"}
    try:
        problem = explorer.load(config, overrides)
    except SpecError:
        pytest.skip("a configuration the spec refuses")
    r = explorer.check(problem, max_states=CONFIG_BOUND)
    assert r.exploration.backend == "c"
    assert "compiled backend not used" not in capsys.readouterr().err
