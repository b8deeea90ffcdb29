"""Conformance: observations, the generated C program, TAP reading, the initramfs, and (when
QEMU and the Debian kernels are here, as .ci/run arranges) the model against real kernels."""

import json
import os
import shutil
import subprocess

import pytest

from explorer import api
from explorer.errors import SpecError
from explorer.conform import batch, cases, program, report, run, vm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(ROOT, "spec", "mm.yaml")
ANON_WP = {"KERNEL": "debian-6.1.y", "PAGES": 1, "FILE": {"kind": "shmem", "open": "read-write", "sealed": False},
           "VMAS": [{"backing": "anon", "shared": False, "prot": "read-write", "uffd": ["wp"]}], "START": "hole",
           "GUP_THREADS": 0}


def _obs(model, state):
    return {lb: v for lb, _, _, v in cases.observe(model, state)}


def _after(model, state, label):
    inst = next(i for i in model.instances if i.label() == label)
    (s,) = {s for i, s in model.successors(state) if i == inst.index}
    return s


def test_pagemap_observations_follow_the_kernel_rules_by_hand():
    # Documentation/admin-guide/mm/pagemap.rst and pte_to_pagemap_entry, by hand: a fresh anonymous
    # VMA has nothing mapped but VM_SOFTDIRTY (bit 55); after a store the page is present,
    # anonymous (no bit 61), mapped once (bit 56) and soft-dirty; UFFDIO_WRITEPROTECT adds bit 57.
    m = cases.load_world(SPEC, ANON_WP)
    s0 = m.initial_states()[0]
    o = _obs(m, s0)
    assert (o["pagemap_present(v=0, p=0)"], o["pagemap_soft_dirty(v=0, p=0)"], o["pagemap_exclusive(v=0, p=0)"]) == (False, True, False)
    s1 = _after(m, s0, "user_write(v=0, p=0)")
    o = _obs(m, s1)
    assert [o[f"pagemap_{b}(v=0, p=0)"] for b in ("present", "swap", "file", "uffd_wp", "exclusive", "soft_dirty")] \
        == [True, False, False, False, True, True]
    o = _obs(m, _after(m, s1, "uffdio_writeprotect(v=0, p=0, on=1)"))
    assert o["pagemap_uffd_wp(v=0, p=0)"] is True and o["pagemap_present(v=0, p=0)"] is True


def test_observations_section_refuses_unknown_keys(spec, cli):
    p = spec("""
        variables:
          x: {type: bool}
        observations:
          seen: {expr: x, colour: red}
        """)
    r = cli("lint", p)
    assert r.code == 2 and "s.yaml:4:" in r.err and "unknown key 'colour'" in r.err


def test_c_strings_from_labels_are_checked_literals():
    assert program.c_string('a"b\\c\n;system("x")') == '"a?b?c??system(?x?)"'


def test_random_walks_are_deterministic_and_only_take_programmable_steps():
    a = batch.walk_cases(SPEC, "debian-6.1.y", 6, seed=7)
    b = batch.walk_cases(SPEC, "debian-6.1.y", 6, seed=7)
    assert [c.steps for c in a] == [c.steps for c in b]
    assert all(act in cases.DETERMINISTIC for c in a for act, _, _ in c.steps)
    assert all(len(c.predictions) == len(c.steps) + 1 for c in a)


def test_a_trace_whose_state_the_model_does_not_reach_is_refused():
    m = cases.load_world(SPEC, ANON_WP)
    s0 = m.initial_states()[0]
    trace = [{"action": None, "state": m.decode(s0)},
             {"action": "user_read", "label": "user_read(v=0, p=0)", "state": m.decode(s0)}]
    with pytest.raises(SpecError, match="does not lead"):
        cases.from_trace("t", "hand", SPEC, ANON_WP, trace)


TAP = """\
TAP version 13
1..2
    # case a
    ok 1 - initial state
    # obs step 2 pagemap_present(v=0, p=0) predicted 0 observed 1
    not ok 2 - user_read(v=0, p=0)
not ok 1 - a
    # case b
    ok 1 - initial state
    # outcome step 2 user_write(v=0, p=0): SIGSEGV
    not ok 2 - user_write(v=0, p=0)
not ok 2 - b
"""


def test_tap_is_read_back_into_per_observation_counts():
    got = report.parse(TAP)
    assert got["a"]["obs"] == {(2, "pagemap_present(v=0, p=0)"): (0, 1)}
    assert got["b"]["outcomes"] == {2: "SIGSEGV"} and got["b"]["ok"] is False
    pred = [("pagemap_present(v=0, p=0)", "pagemap_present", {"v": 0, "p": 0}, False)]
    ca = cases.Case("a", "hand", ANON_WP, {"cached": [False]}, [("user_read", {"v": "0", "p": "0"}, "user_read(v=0, p=0)")], [pred, pred])
    cb = cases.Case("b", "hand", ANON_WP, {"cached": [False]}, [("user_write", {"v": "0", "p": "0"}, "user_write(v=0, p=0)")], [pred, pred])
    rep = report.agreement([ca, cb], got)
    assert rep["agree"] == 0
    # checks: a's initial + a's step 2 + b's initial (b's step 2 did not complete)
    assert rep["per_observation"]["pagemap_present"] == {"checks": 3, "agree": 2}
    assert rep["per_action"]["user_write"]["steps"] == 1 and rep["per_action"]["user_write"].get("agree", 0) == 0


def test_initramfs_is_an_uncompressed_newc_cpio_with_a_console(tmp_path):
    if shutil.which("cpio") is None:
        pytest.skip("cpio is not installed")
    binary = tmp_path / "b"
    binary.write_bytes(b"\x7fELF-not-really")
    busybox = tmp_path / "busybox"
    busybox.write_bytes(b"bb")
    out = tmp_path / "i.cpio"
    vm.initramfs(str(binary), str(out), busybox=str(busybox))
    listing = subprocess.run(["cpio", "-itv"], stdin=open(out, "rb"), capture_output=True, text=True).stdout
    assert "dev/console" in listing and listing.splitlines()[-1].startswith("crw")
    assert {"init", "conform", "bin/busybox"} <= {line.split()[-1] for line in listing.splitlines()}


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_the_generated_program_compiles_statically(tmp_path):
    cs = batch.walk_cases(SPEC, "debian-6.12.y", 4, seed=3)
    run.build(cs, str(tmp_path / "p"))
    assert os.path.getsize(tmp_path / "p") > 100_000


# --- real kernels --------------------------------------------------------------------------------
def _kernel(label):
    if vm.tools_missing():
        pytest.skip("needs " + ", ".join(vm.tools_missing()) + " (.ci/run installs them)")
    root = os.path.join(vm.CACHE, vm.DEBIAN[label])
    if not os.path.isdir(os.path.join(root, "boot")):
        pytest.skip(f"{vm.DEBIAN[label]} is not in the kernel cache (.ci/run fetches it)")
    return vm.Kernel(root)


@pytest.mark.parametrize("label", ["debian-6.1.y", "debian-6.12.y"])
def test_model_agrees_with_the_kernel(label):
    kernel = _kernel(label)
    cs = batch.config_cases(os.path.join(ROOT, "configs"), label) + batch.walk_cases(SPEC, label, 500, seed=1)
    rep, skipped = run.conform(kernel, label, cs, race_seconds=2)
    assert rep["cases"] >= 500
    assert rep["disagreements"] == [], report.text(kernel.release, label, rep)
    assert sum(c.get("checks", 0) for c in rep["per_observation"].values()) > 10_000


def _result(tmp_path, config, kernel):
    prob = api.load(os.path.join(ROOT, "configs", config), overrides={"KERNEL": kernel})
    data = api.check(prob).data
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    return data, path


@pytest.mark.parametrize("label", ["debian-6.1.y", "debian-6.12.y"])
def test_the_v5_16_gup_continue_race_does_not_reproduce_on_fixed_kernels(tmp_path, cli, label):
    kernel = _kernel(label)
    data, path = _result(tmp_path, "gup_shmem_minor.yaml", "v5.16")
    assert data["verdict"] == "violation"
    r = cli("reproduce", path, "-o", tmp_path / "case.c", "--race-seconds", "3")
    assert r.code == 0, r.err
    (case,) = [batch.case_from_result("gup", data, os.path.join(ROOT, "configs", "gup_shmem_minor.yaml"))]
    rep, _ = run.conform(kernel, label, [case], race_seconds=3)
    assert rep["races"] and rep["races"][0]["hit"] is False and rep["races"][0]["attempts"] > 100


def test_the_soft_dirty_finding_of_debian_6_1_reproduces_there_and_not_on_6_12(tmp_path, cli):
    # The model predicts for debian-6.1.y (mainline 6.1 plus the backported 51d3d5eb74ff, without
    # 931298e103c2): after clear_refs, UFFDIO_WRITEPROTECT's unprotect makes the shared shmem pte
    # writable from vm_get_page_prot(vm_flags), so the next store leaves pagemap's soft-dirty bit
    # clear. The real 6.1 kernel must show every predicted observation; 6.12 (which has
    # 931298e103c2) must show the soft-dirty bit set after the store.
    k61, k612 = _kernel("debian-6.1.y"), _kernel("debian-6.12.y")
    data, path = _result(tmp_path, "uffd_wp_mprotect_shmem.yaml", "debian-6.1.y")
    assert (data["verdict"], data["invariant"]) == ("violation", "SoftDirtyRecorded")
    r = cli("reproduce", path, "-o", tmp_path / "case.c")
    assert r.code == 0, r.err
    subprocess.run(["gcc", "-static", "-O1", "-o", tmp_path / "case", tmp_path / "case.c", "-lpthread"], check=True)
    case = batch.case_from_result("sd", data, os.path.join(ROOT, "configs", "uffd_wp_mprotect_shmem.yaml"))
    rep, _ = run.conform(k61, "debian-6.1.y", [case])
    assert rep["agree"] == 1 and rep["disagreements"] == []
    rep, _ = run.conform(k612, "debian-6.1.y", [case])
    (d,) = rep["disagreements"]
    assert [(x["step"], x["observation"], x["predicted"], x["observed"]) for x in d["differences"]] \
        == [(4, "pagemap_soft_dirty(v=0, p=0)", 0, 1)]


def test_bad_input_to_reproduce_and_conform_is_one_message_and_exit_2(tmp_path, cli):
    r = cli("reproduce", tmp_path / "missing.json", "-o", tmp_path / "c.c")
    assert r.code == 2 and "missing.json" in r.err and "Traceback" not in r.err
    bad = tmp_path / "bad.json"
    bad.write_text('{"verdict": "ok"}')
    r = cli("reproduce", bad, "-o", tmp_path / "c.c")
    assert r.code == 2 and "not a result" in r.err
    r = cli("conform", "--cases", "-1")
    assert r.code == 2 and "--cases" in r.err
    if not vm.tools_missing():
        r = cli("conform", "--kernel", "no-such-kernel", "--cases", "0")
        assert r.code == 2 and "no-such-kernel" in r.err
