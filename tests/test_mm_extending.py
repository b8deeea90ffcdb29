"""docs/extending.md stays runnable: its files, written into a copy of spec/ and configs/, load
and answer as the walkthrough says (the commands are run through the same API as the CLI)."""

import os
import re
import shutil

import explorer

from conftest import ROOT, run_cli

DOC = os.path.join(ROOT, "docs", "extending.md")


def files_in_doc():
    text = open(DOC).read()
    out = {}
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        first = block.splitlines()[0]
        if first.startswith("# file: "):
            out[first[len("# file: "):].strip()] = block
    return out


def test_walkthrough_files_work(tmp_path):
    files = files_in_doc()
    assert set(files) == {"spec/callers/mcontinue_atomic_pte_wp.yaml", "configs/continue_wp.yaml"}
    shutil.copytree(os.path.join(ROOT, "spec"), tmp_path / "spec")
    (tmp_path / "configs").mkdir()
    for rel, text in files.items():
        (tmp_path / rel).write_text(text)
    config = str(tmp_path / "configs" / "continue_wp.yaml")
    assert run_cli("lint", config).code == 0
    # not on v6.3: the commit is newer, and the report says why
    listing = run_cli("list", config, "--set", "KERNEL=v6.3")
    assert "uffdio_continue_wp" in listing.out and "has('continue-mode-wp')" in listing.out
    # on newest the action exists and every checked invariant holds
    r = explorer.check(explorer.load(config, {"KERNEL": "newest"}))
    assert r.verdict == "ok"
    assert any(a["action"] == "uffdio_continue_wp" and a["fired"] for a in r.coverage["actions"])
    # section 6: the diff against the kernels without the commit shows the new steps, no new state
    d = run_cli("diff", config, "--before", "v6.3", "--after", "newest", "-q")
    assert d.code == 1
    doc = open(DOC).read()
    assert "0 projected state(s) only after" in d.out.splitlines()[0]
    assert "0 projected state(s) only after" in doc
    full = run_cli("diff", config, "--before", "v6.3", "--after", "newest")
    assert "actions only after: uffdio_continue_wp" in full.out
    assert "pte[0][0].uffd_wp      FALSE -> TRUE" in full.out
    # the deliberate break of section 5 gives the two-step counterexample the text promises
    caller = tmp_path / "spec" / "callers" / "mcontinue_atomic_pte_wp.yaml"
    broken = caller.read_text().replace("mcontinue_atomic_pte_flags(v, p, True)", "mcontinue_atomic_pte_flags(v, p, False)")
    broken = broken.replace("wp_protected[v][p] = pte[v][p].uffd_wp", "wp_protected[v][p] = True")
    caller.write_text(broken)
    r = explorer.check(explorer.load(config, {"KERNEL": "newest"}))
    assert r.verdict == "violation" and r.invariant == "UffdWpHonoured"
    assert [s["action"] for s in r.trace[1:]] == ["uffdio_continue_wp", "user_write"]
