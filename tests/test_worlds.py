"""Open worlds: one run over every world a config leaves open, worlds refused by the spec's
assumptions dropped and counted, and the same answers as checking the worlds one by one."""

import itertools
import os

import pytest

import explorer
from explorer.checker import fast

from conftest import ROOT

SPEC = os.path.join(ROOT, "spec", "mm.yaml")

# 2 (shared) x 2 (prot) x 2 (uffd) = 8 worlds of one private-or-shared shmem mapping
SMALL = """\
spec: {spec}
constants:
  KERNEL: {kernel}
  FILE: {{kind: shmem, open: read-write, sealed: false}}
  VMAS: {{count: 1, each: {{backing: file, shared: {{choose: all}}, prot: {{choose: [read, read-write]}}, uffd: {{choose: [[], [minor]]}}}}}}
  PAGES: 1
  GUP_THREADS: 1
  START: populated
actions: [gup_*, madvise_dontneed, user_read, uffdio_continue]
"""
CLOSED = """\
spec: {spec}
constants:
  KERNEL: {kernel}
  FILE: {{kind: shmem, open: read-write, sealed: false}}
  VMAS: [{{backing: file, shared: {shared}, prot: {prot}, uffd: {uffd}}}]
  PAGES: 1
  GUP_THREADS: 1
  START: populated
actions: [gup_*, madvise_dontneed, user_read, uffdio_continue]
"""
WORLDS = list(itertools.product(["false", "true"], ["read", "read-write"], ["[]", "[minor]"]))


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def one_by_one(tmp_path, kernel, **opts):
    """(states, transitions, initial states, refused) summed over the worlds checked as closed configs."""
    total = [0, 0, 0, 0]
    for i, (shared, prot, uffd) in enumerate(WORLDS):
        path = write(tmp_path, f"w{i}.yaml", CLOSED.format(spec=SPEC, kernel=kernel, shared=shared, prot=prot, uffd=uffd))
        try:
            r = explorer.check(explorer.load(path), **opts)
        except explorer.SpecError as e:
            assert "refused" in str(e)
            total[3] += 1
            continue
        total[0] += r.stats["distinct_states"]
        total[1] += r.stats["transitions"]
        total[2] += r.stats["initial_states"]
    return total


@pytest.mark.parametrize("kernel,refused", [("v5.16", 0), ("v5.11", 4)])
def test_open_counts_are_the_sum_over_the_worlds(tmp_path, kernel, refused):
    # v5.11 refuses UFFDIO_REGISTER_MODE_MINOR (v5.14+): the 4 worlds registered for minor faults
    want = one_by_one(tmp_path, kernel, continue_all=True)
    assert want[3] == refused
    r = explorer.check(explorer.load(write(tmp_path, "open.yaml", SMALL.format(spec=SPEC, kernel=kernel))), continue_all=True)
    got = [r.stats["distinct_states"], r.stats["transitions"], r.stats["initial_states"], r.worlds["refused"]]
    assert got == want
    assert r.worlds["explored"] == len(WORLDS) - refused
    assert r.stats["complete"]


def test_shortest_counterexample_names_its_world(tmp_path):
    r = explorer.check(explorer.load(write(tmp_path, "open.yaml", SMALL.format(spec=SPEC, kernel="v5.16"))))
    assert r.verdict == "violation" and r.invariant == "PrivateStaysPrivate"
    # the one world of gup_shmem_minor.yaml's finding, and the same race
    assert r.world == "VMAS=[{backing: file, shared: false, prot: read, uffd: [minor]}]"
    closed = explorer.check(explorer.load(os.path.join(ROOT, "configs", "gup_shmem_minor.yaml"), {"KERNEL": "v5.16"}))
    assert [s["label"] for s in r.trace[1:]] == [s["label"] for s in closed.trace[1:]]
    # the trace's states are the world's own (no world slot, no padding)
    assert r.trace[-1]["state"] == closed.trace[-1]["state"]


def test_all_violations_per_world(tmp_path):
    r = explorer.check(explorer.load(write(tmp_path, "open.yaml", SMALL.format(spec=SPEC, kernel="v5.16"))), continue_all=True)
    by = {v["invariant"]: v for v in r.violations}
    # each world checked alone: which break PrivateStaysPrivate
    breaking = 0
    for i, (shared, prot, uffd) in enumerate(WORLDS):
        path = write(tmp_path, f"c{i}.yaml", CLOSED.format(spec=SPEC, kernel="v5.16", shared=shared, prot=prot, uffd=uffd))
        c = explorer.check(explorer.load(path), invariants=None, continue_all=True)
        hit = [v for v in c.violations if v["invariant"] == "PrivateStaysPrivate"]
        if hit:
            breaking += 1
            w = f"VMAS=[{{backing: file, shared: {shared}, prot: {prot}, uffd: {uffd}}}]"
            (mine,) = [x for x in by["PrivateStaysPrivate"]["worlds"] if x["world"] == w]
            assert mine["steps"] == len(hit[0]["trace"]) - 1
    assert by["PrivateStaysPrivate"]["worlds_breaking"] == breaking >= 1
    steps = [w["steps"] for w in by["PrivateStaysPrivate"]["worlds"]]
    assert steps == sorted(steps)  # equal world sizes: fewest steps first


@pytest.mark.skipif(not fast.available(), reason="no C compiler")
@pytest.mark.parametrize("continue_all", [False, True])
def test_both_backends_agree_on_an_open_config(tmp_path, continue_all):
    path = write(tmp_path, "open.yaml", SMALL.format(spec=SPEC, kernel="v5.16"))
    a = explorer.check(explorer.load(path), backend="python", continue_all=continue_all)
    b = explorer.check(explorer.load(path), backend="c", continue_all=continue_all)
    assert getattr(b.exploration, "backend", None) == "c"
    for k in ("distinct_states", "transitions", "depth"):
        assert a.stats[k] == b.stats[k]
    assert a.trace == b.trace and a.violations == b.violations and a.world == b.world


BAD = [
    ("GUP_THREADS: {choose: all}", "GUP_THREADS: {choose: [0, 9]}", "not in the domain"),
    ("GUP_THREADS: {choose: all}", "KERNEL: {choose: all}", "declares no choices"),
    ("GUP_THREADS: {choose: all}", "VMAS: {count: 1..7, each: {choose: all}}", "spec's bound"),
    ("GUP_THREADS: {choose: all}", "FILE: {kind: {choose: all}, open: read-only}", "lacks field"),
    ("GUP_THREADS: {choose: all}", "FILE: {choose: maybe}", "'all' or a non-empty list"),
]


@pytest.mark.parametrize("good,bad,words", BAD)
def test_bad_choices_are_one_message_with_a_position(tmp_path, cli, good, bad, words):
    text = f"spec: {SPEC}\nconstants:\n  PAGES: 1\n  {bad}\n"
    r = cli("check", write(tmp_path, "bad.yaml", text))
    assert r.code == 2 and "Traceback" not in r.err
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and words in lines[0], r.err
    assert "bad.yaml:4:" in lines[0]


def test_diff_over_worlds_names_the_new_pte_state_per_world(tmp_path):
    from explorer.review.diff import compare
    path = write(tmp_path, "open.yaml", SMALL.format(spec=SPEC, kernel="v5.15").replace("  KERNEL: v5.15\n", ""))
    d = compare(path, before={"KERNEL": "v5.15"}, after={"KERNEL": "v5.16"}).data
    after = [g for g in d["groups"] if g["kind"] == "states" and g["side"] == "after"]
    assert after
    for g in after:
        # only UFFDIO_CONTINUE (a MINOR registration) installs the PTE that 9ae0f87d009c makes dirty
        assert "uffd: [minor]" in g["world"]
        assert g["action"] == "uffdio_continue"
        assert {(c["slot"], c["this"]) for c in g["changes"]} >= {("pte[0][0].dirty", True)}
        assert g["witness"][0]["world"] == g["world"]
    worlds = {g["world"] for g in after}
    assert len(worlds) == len(after)  # one group per world here: the same change everywhere
