"""`mm-explorer diff`: two settings of the constants, compared on the projected reachable states.

Tiny specs with one boolean (or integer) constant that toggles one behaviour, where the expected
diff is counted by hand; then the mm model between v5.15 and v5.16, where what must differ comes
from the kernel change itself: 9ae0f87d009c makes mfill_atomic_install_pte mark every installed PTE
dirty (and, on x86, soft-dirty), and in configs/seed_continue.yaml its only caller is
UFFDIO_CONTINUE.
"""

import json
import os

import pytest

import explorer
from explorer.review.diff import compare
from explorer.report import flatten

from conftest import ROOT

GROW = """
    module: grow
    constants: {NEW: false}
    variables:
      x: {type: int, min: 0, max: 3}
      seen: {type: bool, ghost: true}
    actions:
      inc:
        guard: x < 2 or (NEW and x < 3)
        effect: |
          x += 1
          seen = True
    invariants:
      Small: x <= 2
"""

SWAP = """
    module: swap
    constants: {SWAP: false}
    variables:
      x: {type: int, min: 0, max: 2}
    actions:
      a: {guard: x == 0, effect: "x = 2 if SWAP else 1"}
      b: {guard: x == 0, effect: "x = 1 if SWAP else 2"}
"""

MARK = """
    module: mark
    constants: {MARK: false}
    variables:
      x: {type: int, min: 0, max: 1}
      g: {type: bool, ghost: true}
    actions:
      step:
        guard: x == 0
        effect: |
          x = 1
          g = MARK
"""

START = """
    module: start
    constants: {START: 0}
    variables:
      x: {type: int, min: 0, max: 2}
    init: |
      x = START
    actions:
      inc: {guard: x < 2, effect: "x += 1"}
"""



def headline(out):
    """The first line of the diff text with its continuation lines (indented four) joined."""
    lines = out.splitlines()
    n = 1
    while n < len(lines) and lines[n].startswith("    "):
        n += 1
    return " ".join(x.strip() for x in lines[:n])

def groups(data, side, kind):
    return [g for g in data["groups"] if g["side"] == side and g["kind"] == kind]


# --- hand-counted specs -----------------------------------------------------------------------------
def test_new_state_and_changed_verdict(spec, cli, tmp_path):
    # before: x in {0, 1, 2}; after, inc may also go 2 -> 3: one new state, one new transition
    # (into it), and Small (x <= 2) breaks after 3 steps
    path = spec(GROW)
    out = tmp_path / "d.json"
    r = cli("diff", path, "--after-set", "NEW=true", "--json", out)
    assert r.code == 1, r.err
    assert headline(r.out).startswith("VERDICT CHANGED: Small holds before (NEW=false) and is violated after (NEW=true)")
    data = json.loads(out.read_text())
    assert data["counts"]["only_after"]["states"] == 1
    assert data["counts"]["only_before"]["states"] == 0
    assert data["counts"]["only_after"]["transitions"] == 1
    assert data["counts"]["only_after"]["transitions_into_one_sided"] == 1
    assert data["counts"]["only_before"]["transitions"] == 0
    (g,) = groups(data, "after", "states")
    assert g["action"] == "inc" and g["step"] == "disabled"  # before cannot take the third inc
    assert [flatten(m["state"], data["variables"]) for m in g["members"]] == [{"x": 3}]
    assert [s["label"] for s in g["witness"][1:]] == ["inc", "inc", "inc"]
    (row,) = data["invariants"]
    assert row["before"] == {"verdict": "holds"} and row["after"] == {"verdict": "violated", "steps": 3}
    # the witness is the check's own counterexample, step for step
    result = explorer.check(explorer.load(path, {"NEW": True}))
    assert row["witness"] == result.trace


def test_same_states_but_swapped_steps(spec):
    # SWAP exchanges where a and b lead: the same three states, two transitions on each side only
    d = compare(spec(SWAP), after={"SWAP": True})
    data = d.data
    assert d.exit_code == 1
    assert data["counts"]["only_after"]["states"] == data["counts"]["only_before"]["states"] == 0
    for side in ("after", "before"):
        c = data["counts"]["only_" + side]
        assert c["transitions"] == c["transitions_between_common"] == 2
    ta = {g["action"]: g for g in groups(data, "after", "transitions")}
    assert ta["a"]["changes"] == [{"slot": "x", "from": 0, "to": 2}]
    assert ta["a"]["other_step"] == {"result": "steps", "outcomes": [[{"slot": "x", "from": 0, "to": 1}]]}
    assert ta["b"]["changes"] == [{"slot": "x", "from": 0, "to": 1}]
    assert [s["label"] for s in ta["a"]["witness"][1:]] == ["a"]
    tb = {g["action"]: g for g in groups(data, "before", "transitions")}
    assert tb["a"]["changes"] == [{"slot": "x", "from": 0, "to": 1}]
    assert data["headline"].startswith("DIFFERENT: 0 projected state(s) only after")


def test_a_ghost_only_change_is_equal_on_the_default_projection(spec, cli):
    path = spec(MARK)
    r = cli("diff", path, "--after-set", "MARK=true")
    assert r.code == 0, r.out + r.err
    assert r.out.startswith("EQUAL on the projection: both sides reach the same 2 projected states")
    # projected on the ghost too: (x=1, g=true) only after, (x=1, g=false) only before
    d = compare(path, after={"MARK": True}, project=["x", "g"])
    assert d.exit_code == 1
    (a,) = groups(d.data, "after", "states")
    (b,) = groups(d.data, "before", "states")
    assert a["step"] == "differs" and a["action"] == "step"
    assert a["changes"] == [{"slot": "g", "other": False, "this": True}]
    assert b["changes"] == [{"slot": "g", "other": True, "this": False}]
    assert d.data["counts"]["only_after"]["transitions"] == 1


def test_a_different_initial_state(spec):
    # START=0 reaches {0, 1, 2}, START=1 reaches {1, 2}: x=0 only before, from its initial state;
    # inc 0 -> 1 only before (out of it), inc 1 -> 2 on both
    d = compare(spec(START), before={"START": 0}, after={"START": 1})
    data = d.data
    assert d.exit_code == 1
    assert data["counts"]["only_after"] == {**data["counts"]["only_after"], "states": 0, "transitions": 0}
    (g,) = groups(data, "before", "states")
    assert g["step"] == "initial" and g["count"] == 1
    assert g["changes"] == [{"slot": "x", "other": 1, "this": 0}]
    assert len(g["witness"]) == 1 and g["witness"][0]["action"] is None
    c = data["counts"]["only_before"]
    assert (c["transitions"], c["transitions_from_one_sided"], c["transitions_between_common"]) == (1, 1, 0)


def test_a_limit_gives_exit_3(spec, cli):
    r = cli("diff", spec(GROW), "--after-set", "NEW=true", "--max-states", "2")
    assert r.code == 3, r.out + r.err
    assert r.out.startswith("INCOMPLETE: before stopped: max states 2 reached")
    assert "not violated so far" in r.out  # no verdict is claimed for the unexplored part


def test_bad_input_gives_exit_2(spec, cli):
    path = spec(GROW)
    cases = [
        (["--after-set", "NOPE=1"], "unknown constant 'NOPE'"),
        (["--after-set", "NEW"], "write NAME=VALUE"),
        ([], "nothing to compare"),
        (["--after-set", "NEW=true", "--project", "y"], "--project y: no variable or group has this name"),
        (["--after", "v5.16"], "the after side (KERNEL=v5.16): unknown constant 'KERNEL'"),
        (["--after", "v1", "--after-set", "KERNEL=v2"], "both set KERNEL"),
        (["--after-set", "NEW=3"], "must be a bool"),
        (["--after-set", "NEW=true", "--witness", "A9", "--trace-json", "w.json"], "--witness A9: no such group"),
    ]
    for args, message in cases:
        r = cli("diff", path, *args)
        assert r.code == 2, (args, r.out, r.err)
        assert message in r.err, (args, r.err)


def test_chosen_witness_renders_like_a_trace(spec, cli, tmp_path):
    pytest.importorskip("explorer.render")
    path = spec(SWAP)
    w = tmp_path / "w.json"
    r = cli("diff", path, "--after-set", "SWAP=true", "--witness", "TB2", "--trace-json", w, "-q")
    assert r.code == 1, r.err
    t = cli("trace", w)
    assert t.code == 0, t.err
    assert "b" in [line.split()[1] for line in t.out.splitlines() if line.strip().startswith("1 ")]
    assert "x: 0 -> 2" in t.out


# --- the mm model: v5.15 against v5.16 (9ae0f87d009c) ---------------------------------------------
SEED = os.path.join(ROOT, "configs", "seed_continue.yaml")


@pytest.fixture(scope="module")
def seed():
    return compare(SEED, before={"KERNEL": "v5.15"}, after={"KERNEL": "v5.16"})


@pytest.fixture(scope="module")
def seed_pte():
    return compare(SEED, before={"KERNEL": "v5.15"}, after={"KERNEL": "v5.16"}, project=["pte"])


def run_labels(problem, init, labels):
    """Fire the instances named by `labels` one after another from state `init` (each must be
    enabled and deterministic here); the decoded states after each step."""
    m = problem.model
    index = {inst.label(): i for i, inst in enumerate(m.instances)}
    st, out = init, []
    for label in labels:
        succ = [t for _, t in m.instance_successors(index[label], st)]
        assert len(succ) == 1, (label, len(succ))
        st = succ[0]
        out.append(m.decode(st))
    return out


def encode_initial(problem, decoded):
    """The model's initial state whose decoding is `decoded`."""
    for st in problem.model.initial_states():
        if problem.model.decode(st) == decoded:
            return st
    raise AssertionError("no such initial state")


def private_and_shared(problem):
    vmas = problem.constants["VMAS"]
    return [i for i, v in enumerate(vmas) if not v["shared"]][0], [i for i, v in enumerate(vmas) if v["shared"]][0]


def ro_dirty_cache(pte):
    return pte["state"] == "present" and pte["page"] == "cache" and not pte["write"] and pte["dirty"]


def test_seed_verdicts_do_not_change(seed):
    # seed_continue holds on every version: the dirty bit does not break mprotect, reclaim, soft-dirty
    assert seed.exit_code == 1
    assert not any(r["changed"] for r in seed.data["invariants"])
    assert all(r["before"]["verdict"] == r["after"]["verdict"] == "holds" for r in seed.data["invariants"])
    assert seed.data["headline"].startswith("DIFFERENT: ")


@pytest.mark.parametrize("which", ["seed", "seed_pte"])
def test_seed_every_difference_is_uffdio_continue_setting_dirty(which, request):
    # the patch touches mfill_atomic_install_pte only, whose only caller here is UFFDIO_CONTINUE,
    # and only its dirty bit (soft-dirty follows it on x86): every group of one-sided states
    # starts at a uffdio_continue that leaves the pte dirty after and clean before, whether the
    # states are projected on every kernel variable or on the page tables alone
    seed = request.getfixturevalue(which)
    state_groups = [g for g in seed.data["groups"] if g["kind"] == "states"]
    assert {g["side"] for g in state_groups} == {"after", "before"}
    for g in state_groups:
        assert (g["step"], g["action"]) == ("differs", "uffdio_continue"), g["id"]
        fields = {c["slot"].rsplit(".", 1)[1] for c in g["changes"]}
        assert "dirty" in fields and fields <= {"dirty", "soft_dirty"}, g["changes"]
        after_value = {"after": "this", "before": "other"}[g["side"]]
        before_value = {"after": "other", "before": "this"}[g["side"]]
        for c in g["changes"]:
            assert c[after_value] is True and c[before_value] is False
        for m in g["members"]:
            assert m["witness"][m["first_different_step"] - 1].startswith("uffdio_continue(")
    for g in seed.data["groups"]:
        if g["kind"] == "transitions":
            assert g["action"] == "uffdio_continue"
            (outcome,) = g["other_step"]["outcomes"]
            other_dirty = {c["slot"]: c["to"] for c in outcome if c["slot"].endswith(".dirty")}
            this_dirty = {c["slot"]: c["to"] for c in g["changes"] if c["slot"].endswith(".dirty")}
            if g["side"] == "after":
                assert this_dirty and all(this_dirty.values()) and not any(other_dirty.values())
            else:
                assert other_dirty and all(other_dirty.values()) and not any(this_dirty.values())


def test_seed_read_only_dirty_cache_pte_in_the_private_vma_is_new(seed):
    before, after = seed.sides["before"], seed.sides["after"]
    priv, _ = private_and_shared(after.problem)
    p = str(priv)
    # v5.15: a page-cache pte of a private mapping is installed clean (read fault, CONTINUE) and a
    # write copies the page, so no reachable state has it dirty
    for st in before.ex.states:
        assert not ro_dirty_cache(before.model.decode(st)["pte"][p]["0"])
    # v5.16: it is reachable, only there, and the shortest witness of such a state ends with the
    # CONTINUE that installed it
    only_after = [(g, m) for g in seed.data["groups"] if g["side"] == "after" and g["kind"] == "states"
                  for m in g["members"]]
    hits = [m for _, m in only_after if ro_dirty_cache(m["state"]["pte"][p]["0"])]
    assert hits
    assert any(m["witness"][-1] == f"uffdio_continue(v={priv}, p=0)" for m in hits)
    # a group whose shortest witness is such a CONTINUE: replayed on v5.15 from the same initial
    # state, the same steps end in the same pte, clean; only the dirty bits differ
    group = next(g for g, m in only_after if m is g["members"][0] and m in hits
                 and g["witness"][-1]["label"] == f"uffdio_continue(v={priv}, p=0)")
    labels = [s["label"] for s in group["witness"][1:]]
    init = group["witness"][0]["state"]
    new = run_labels(after.problem, encode_initial(after.problem, init), labels)[-1]["pte"][p]["0"]
    old = run_labels(before.problem, encode_initial(before.problem, init), labels)[-1]["pte"][p]["0"]
    assert new == group["witness"][-1]["state"]["pte"][p]["0"]
    assert ro_dirty_cache(new) and new["soft_dirty"]
    assert not old["dirty"] and not old["soft_dirty"]
    assert {k: v for k, v in old.items() if k not in ("dirty", "soft_dirty")} == \
        {k: v for k, v in new.items() if k not in ("dirty", "soft_dirty")}


def test_seed_continue_on_the_shared_vma_is_dirty_only_after(seed):
    # the shared read-only VMA: v5.15 installs a clean pte (not writable), v5.16 a dirty one; the
    # diff shows it either as new states or as a new step between states both sides reach
    _, shared = private_and_shared(seed.sides["after"].problem)
    slot = f"pte[{shared}][0].dirty"
    after_groups = [g for g in seed.data["groups"] if g["side"] == "after"]
    assert any(c["slot"] == slot and c.get("this", c.get("to")) is True for g in after_groups for c in g["changes"])


def test_seed_witnesses_use_the_result_step_format(seed, tmp_path):
    result = explorer.check(explorer.load(os.path.join(ROOT, "configs", "gup_shmem_minor.yaml"), {"KERNEL": "v5.16"}))
    want = [set(s) for s in result.trace]
    for g in seed.data["groups"]:
        w = g["witness"]
        assert set(w[0]) == want[0] and all(set(s) == want[1] for s in w[1:])
        assert all(set(s["state"]) == set(seed.data["variables"]) for s in w)


def test_seed_cli(cli, tmp_path):
    out = tmp_path / "d.json"
    r = cli("diff", SEED, "--before", "v5.15", "--after", "v5.16", "--json", out, "--members", "2")
    assert r.code == 1, r.err
    first = headline(r.out)
    assert first.startswith("DIFFERENT: ") and "only after (KERNEL=v5.16)" in first
    assert "first step that before does differently: uffdio_continue" in r.out
    data = json.loads(out.read_text())
    assert data["schema"] == "mm-explorer/diff/1"
    assert data["projection"] == [k for k, v in data["variables"].items() if not v["ghost"]]
    # --members caps the listing, not the counts
    assert all(len(g["members"]) == min(g["count"], 2) for g in data["groups"])
    for side in ("after", "before"):
        assert sum(g["count"] for g in data["groups"] if g["side"] == side and g["kind"] == "states") == \
            data["counts"]["only_" + side]["states"]


def test_gup_shmem_minor_verdict_change_is_the_headline(cli):
    # the dirty CONTINUE pte passes the FOLL_COW check of v5.16's GUP follow (configs/README, F2)
    r = cli("diff", os.path.join(ROOT, "configs", "gup_shmem_minor.yaml"), "--before", "v5.15", "--after", "v5.16")
    assert r.code == 1, r.err
    first = headline(r.out)
    assert first.startswith("VERDICT CHANGED: PrivateStaysPrivate holds before (KERNEL=v5.15) and is violated after (KERNEL=v5.16)")
    trace = r.out.split("Counterexample to PrivateStaysPrivate after", 1)[1].split("violated:", 1)[0]
    assert "uffdio_continue(v=vma0, p=page0)" in trace and "gup_follow(t=gup0)" in trace  # indices by name


def test_refused_side_names_the_side(cli):
    # MINOR registration needs v5.14: the before side is refused by the spec
    r = cli("diff", SEED, "--before", "v5.7", "--after", "v5.16")
    assert r.code == 4  # a refusal is an answer (verdict refused), not bad input
    assert "the before side (KERNEL=v5.7)" in r.out and "REFUSED" in r.out
    assert "UFFDIO_REGISTER_MODE_MINOR needs shmem (or hugetlbfs) and v5.14" in r.out


def test_seed_reach_target_changes_from_unreachable_to_reachable(cli, tmp_path):
    # the reviewers' question as a target: a private VMA with a present, read-only, dirty pte on
    # the page-cache page; v5.15 cannot get there, v5.16 does with one UFFDIO_CONTINUE
    target = ("any(pte[v][0].state == present and pte[v][0].page == cache and not pte[v][0].write"
              " and pte[v][0].dirty and not VMAS[v].shared for v in VMA)")
    out = tmp_path / "d.json"
    r = cli("diff", SEED, "--before", "v5.15", "--after", "v5.16", "--reach", target, "--json", out)
    assert r.code == 1, r.err
    assert headline(r.out).startswith(
        "VERDICT CHANGED: the target is unreachable before (KERNEL=v5.15) and reachable after (KERNEL=v5.16)")
    (row,) = json.loads(out.read_text())["invariants"]
    assert row["kind"] == "target" and row["before"] == {"verdict": "unreachable"}
    assert row["after"]["verdict"] == "reachable"
    assert row["witness"][-1]["action"] == "uffdio_continue"


def test_a_patch_as_a_boolean_constant_gives_the_same_diff_as_its_commit(seed, tmp_path):
    # the recipe of docs/review.md: the commit's branches also taken when a new boolean is set;
    # v5.15 with and without it must differ exactly as v5.15 and v5.16 do (v5.16 is v5.15 plus
    # this one commit in spec/kernels.yaml)
    import shutil
    shutil.copytree(os.path.join(ROOT, "spec"), tmp_path / "spec")
    (tmp_path / "configs").mkdir()
    shutil.copy(SEED, tmp_path / "configs" / "seed_continue.yaml")
    changed = 0
    for path in (tmp_path / "spec").rglob("*.yaml"):
        text = path.read_text()
        if "has('9ae0f87d009c')" in text:
            path.write_text(text.replace("has('9ae0f87d009c')", "(has('9ae0f87d009c') or PATCH_MKDIRTY)"))
            changed += 1
    assert changed
    mm = tmp_path / "spec" / "mm.yaml"
    mm.write_text(mm.read_text().replace("\nconstants:\n", "\nconstants:\n  PATCH_MKDIRTY: false\n", 1))
    d = compare(str(tmp_path / "configs" / "seed_continue.yaml"), common={"KERNEL": "v5.15"},
                after={"PATCH_MKDIRTY": True})
    assert (d.data["before"]["label"], d.data["after"]["label"]) == ("PATCH_MKDIRTY=false", "PATCH_MKDIRTY=true")

    def states(diff, side):
        return sorted(json.dumps(m["state"], sort_keys=True) for g in diff.data["groups"]
                      if g["side"] == side and g["kind"] == "states" for m in g["members"])
    for side in ("after", "before"):
        assert states(d, side) == states(seed, side)
    assert d.data["counts"] == seed.data["counts"]


def test_review_doc_example_is_real_output(cli, monkeypatch):
    # docs/review.md quotes the seed diff, trimmed where it says [...]; every other line must be
    # a line of the real output (numbers aside: they move with the model; trace step headers
    # aside: their source strings do). Refresh the quote from the command it shows if this fails.
    import re
    text = open(os.path.join(ROOT, "docs", "review.md")).read()
    cmd = "$ mm-explorer diff configs/seed_continue.yaml --before v5.15 --after v5.16\n"
    block = text.split(cmd, 1)[1].split("```", 1)[0]
    monkeypatch.chdir(ROOT)
    r = cli("diff", "configs/seed_continue.yaml", "--before", "v5.15", "--after", "v5.16")

    def norm(line):
        return re.sub(r"\d[\d,.]*", "N", line.rstrip())
    real = [norm(line) for line in r.out.splitlines()]
    step_header = re.compile(r"^\s+\d+\s+[a-z_]+(\(.*?\))?\s{3}\S")
    for line in block.splitlines():
        if not line.strip() or line.strip() == "[...]" or step_header.match(line):
            continue
        if "[...]" in line:
            head = norm(line.split("[...]", 1)[0])
            assert any(x.startswith(head) for x in real), line
        else:
            assert norm(line) in real, line


def test_seed_diff_reads_at_80_columns(seed):
    # the commits come from spec/kernels.yaml itself: v5.16's list minus v5.15's
    import yaml
    kernels = yaml.safe_load(open(os.path.join(ROOT, "spec", "kernels.yaml")))["constants"]["KERNELS"]
    new = [c for c in kernels["v5.16"] if c not in kernels["v5.15"]]
    gone = [c for c in kernels["v5.15"] if c not in kernels["v5.16"]]
    text = seed.text()
    lines = text.splitlines()
    assert max(len(x) for x in lines) <= 80
    head = lines[:lines.index(next(x for x in lines if x.startswith("  before ")))]
    listed = [x.split()[1] for x in head if x.startswith("  + ")]
    assert listed == new and new == ["9ae0f87d009c"] and not gone
    assert not any(x.startswith("  - ") for x in head)
    assert "mm/shmem: unconditionally set pte dirty in" in "\n".join(head)
    # witnesses are changes only: the initial state is written once, before the first group
    assert text.count("every witness below starts from this initial state") == 1
    assert "  0  initial state" not in text
    # it ends with one paragraph that names the commit and the groups
    last = text.rstrip("\n").split("\n\n")[-1]
    last = " ".join(last.split())
    assert last.startswith("Summary: ") and "9ae0f87d009c" in last and "No verdict changes" in last
    assert f"{seed.data['counts']['only_after']['states']:,} projected state(s) are reachable only after" in last
    assert seed.data["setting_members"][0]["only_after"][0]["release"] == "v5.16"
