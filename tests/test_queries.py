"""Witness queries (reach / expect) and coverage that shows whether a check meant something."""

import json
import os

import explorer

from conftest import ROOT

COUNTER = """
variables: {x: {type: int, min: 0, max: 3}, stuck: bool}
actions:
  Inc: {guard: x < 3 and not stuck, effect: x += 1}
  Stick: {guard: x == 1, effect: stuck = True}
invariants:
  NeverStuckHigh: implies(stuck, x == 1)
  NoFour: implies(x > 3, stuck)
"""


def test_reach_finds_a_shortest_witness(spec, cli):
    p = spec(COUNTER)
    # x == 3 needs three Incs; stuck needs Inc then Stick.
    r = explorer.check(explorer.load(p, reach=["x == 3"]))
    assert r.verdict == "reachable"
    assert [s["action"] for s in r.trace] == [None, "Inc", "Inc", "Inc"]
    r = explorer.check(explorer.load(p, reach=["stuck and x == 1", "x == 3"]))
    assert r.verdict == "reachable"
    assert [len(t["trace"]) - 1 for t in r.reach] == [2, 3]


def test_unreachable_after_exhausting_and_expect_sets_the_exit_code(spec, cli):
    p = spec(COUNTER)
    # stuck freezes x at 1, so x == 2 and stuck never hold together
    r = cli("check", p, "--reach", "stuck and x == 2", "--expect", "unreachable")
    assert r.code == 0 and "UNREACHABLE" in r.out and "all 5 reachable states explored" in r.out
    r = cli("check", p, "--reach", "stuck and x == 2", "--expect", "reachable")
    assert r.code == 1 and "NOT as expected" in r.out
    r = cli("check", p, "--reach", "x == 3", "--expect", "unreachable")
    assert r.code == 1
    r = cli("check", p, "--reach", "x == 3", "--expect", "reachable", "--max-depth", "1")
    assert r.code == 3 and "INCOMPLETE" in r.out


def test_reach_in_a_config_with_named_targets(spec, cli):
    spec(COUNTER)
    cfg = spec("""
        spec: s.yaml
        reach:
          StuckAtOne: {expr: stuck and x == 1, expect: reachable}
          StuckAtTwo: {expr: stuck and x == 2, expect: unreachable}
    """, name="q.yaml")
    r = cli("check", cfg, "--json", os.path.join(os.path.dirname(cfg), "r.json"))
    assert r.code == 0, r.out
    data = json.load(open(os.path.join(os.path.dirname(cfg), "r.json")))
    assert data["verdict"] == "mixed"
    assert [(t["target"], t["reachable"], t["matches"]) for t in data["reach"]] == [
        ("StuckAtOne", True, True), ("StuckAtTwo", False, True)]
    bad = spec("spec: s.yaml\nreach: x == 1\ninvariants: [NoFour]\n", name="b.yaml")
    r = cli("check", bad)
    assert r.code == 2 and "b.yaml:3:13" in r.err and "not both" in r.err


def test_vacuous_implication_is_flagged(spec, cli):
    p = spec(COUNTER)
    r = explorer.check(explorer.load(p))
    inv = {i["invariant"]: i for i in r.coverage["invariants"]}
    # x > 3 is outside x's domain: NoFour can only hold vacuously; stuck does happen.
    assert inv["NoFour"]["vacuous"] is True
    assert inv["NeverStuckHigh"]["vacuous"] is False
    out = cli("check", p, "--coverage", os.path.join(os.path.dirname(p), "cov.json"))
    assert out.code == 0
    assert "NoFour: x > 3  NEVER held" in out.out
    assert "held only vacuously" in out.out
    cov = json.load(open(os.path.join(os.path.dirname(p), "cov.json")))
    assert [i["vacuous"] for i in cov["invariants"]] == [False, True]


def test_quantified_premises_are_probed_per_binding(spec):
    # dirty[1] never becomes true: the premise quantified over P held (for p = 0) so it is not vacuous,
    # but an invariant about p = 1 alone is.
    p = spec("""
        sets: {P: range(2)}
        variables: {dirty: {type: bool, over: [P]}}
        actions:
          Dirty0: {effect: "dirty[0] = True"}
        invariants:
          Any: all(implies(dirty[p], p == 0) for p in P)
          One: implies(dirty[1], False)
    """)
    inv = {i["invariant"]: i["vacuous"] for i in explorer.check(explorer.load(p)).coverage["invariants"]}
    assert inv == {"Any": False, "One": True}


def test_coverage_lists_unavailable_and_statically_disabled(spec, cli):
    p = spec("""
        constants: {NEW: false, N: 2}
        sets: {S: range(N)}
        variables: {x: bool}
        actions:
          Old: {params: {i: S}, guard: i == 0, effect: x = True}
          New: {when: NEW, effect: x = False}
          Never: {guard: x and not x, effect: x = False}
    """)
    r = cli("check", p, "--coverage")
    lines = r.out.splitlines()
    row = lambda name: next(l for l in lines if l.strip().startswith(name))
    assert "not in this configuration" in row("New")
    assert "guard never true" in row("Never")
    data = explorer.check(explorer.load(p)).coverage
    assert [d["instance"] for d in data["statically_disabled"]] == ["Old(i=1)"]


def test_the_seed_patch_makes_a_read_only_dirty_cache_pte_reachable():
    # mcontinue_atomic_pte -> mfill_atomic_install_pte: before 9ae0f87d009c (v5.15) a CONTINUE
    # into a private VMA installs the page-cache page read-only and clean; since v5.16 dirty.
    cfg = os.path.join(ROOT, "configs", "seed_continue.yaml")
    target = ("any(pte[v][p].state == present and pte[v][p].page == cache and not pte[v][p].write"
              " and pte[v][p].dirty and not VMAS[v].shared for v in VMA for p in PAGE)")
    before = explorer.check(explorer.load(cfg, {"KERNEL": "v5.15"}, reach=[target]))
    after = explorer.check(explorer.load(cfg, {"KERNEL": "v5.16"}, reach=[target]))
    assert before.verdict == "unreachable"
    assert after.verdict == "reachable"
    assert after.trace[-1]["action"] == "uffdio_continue"
