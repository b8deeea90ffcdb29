"""Output files never cost a computed result: bad paths are refused before the run (exit 2, no
work done), a write that fails after the run still prints the report, saves the result in a file
it names and exits with the verdict's code."""

import json
import os
import re

import pytest

from conftest import ROOT

SPEC = os.path.join(ROOT, "bench", "dirtybits.yaml")
BUGGY = (SPEC, "--set", "P=1", "--set", "V=1", "--set", "BUGGY=true", "--no-color")
SEED = os.path.join(ROOT, "configs", "seed_continue.yaml")


def _saved(err):
    m = re.search(r"saved in (\S+)", err)
    assert m, err
    path = m.group(1)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    finally:
        os.unlink(path)


@pytest.mark.parametrize("flag", ["--json", "--trace-json", "--html", "--itf", "--graph"])
def test_a_directory_is_refused_before_the_run(cli, tmp_path, flag):
    r = cli("check", *BUGGY, flag, tmp_path)
    assert r.code == 2 and r.out == ""  # refused before anything was explored
    assert f"<{flag} {tmp_path}>:1:1" in r.err and "is a directory" in r.err
    assert os.listdir(tmp_path) == []  # no temporary file left behind


@pytest.mark.parametrize("flag,name", [("--json", "r.json"), ("--trace-out", "t.svg"), ("--html", "t.html"),
                                       ("--coverage", "c.json")])
def test_a_path_below_a_file_is_refused_before_the_run(cli, tmp_path, flag, name):
    blocker = tmp_path / "plain"
    blocker.write_text("x")
    r = cli("check", *BUGGY, flag, blocker / "sub" / name)
    assert r.code == 2 and r.out == ""
    assert f"{blocker} is not a directory" in r.err
    assert blocker.read_text() == "x" and sorted(os.listdir(tmp_path)) == ["plain"]


def test_a_graph_suffix_is_refused_before_the_run(cli, tmp_path):
    r = cli("check", *BUGGY, "--graph", tmp_path / "g.txt")
    assert r.code == 2 and r.out == "" and "use a .graphml or .dot file name" in r.err


@pytest.mark.parametrize("flag", ["--json", "--trace-json", "--html", "--trace-out"])
def test_a_write_failing_after_the_run_keeps_the_result(cli, tmp_path, flag):
    target = "/dev/full"  # accepts opening, fails every write (ENOSPC)
    if flag == "--trace-out":  # needs a diagram suffix: a link to the same device
        target = tmp_path / "t.dot"
        os.symlink("/dev/full", target)
    r = cli("check", *BUGGY, flag, target)
    assert r.code == 1  # the verdict's code, not 2
    assert "VIOLATION" in r.out and "Counterexample to NoLostWrite" in r.out  # the report is printed
    assert f"{flag} {target}: cannot write it" in r.err
    data = _saved(r.err)
    assert data["verdict"] == "violation" and data["invariant"] == "NoLostWrite"
    assert [s["action"] for s in data["trace"][1:]] == ["WriteFault", "Store", "Zap"]


def test_a_failed_json_still_writes_the_other_outputs_and_says_so(cli, tmp_path):
    html = tmp_path / "t.html"
    r = cli("check", *BUGGY, "--json", "/dev/full", "--html", html)
    assert r.code == 1 and html.exists()
    assert f"wrote: {html}" in r.out
    _saved(r.err)


def test_written_files_are_named_once_and_not_under_quiet(cli, tmp_path):
    out = tmp_path / "r.json"
    r = cli("check", *BUGGY, "--json", out, "--trace-json", tmp_path / "t.json")
    assert r.code == 1
    assert r.out.rstrip().splitlines()[-1] == f"wrote: {tmp_path / 't.json'}, {out}"
    r = cli("check", *BUGGY, "--json", out, "-q")
    assert "wrote" not in r.out + r.err


def test_diff_refuses_a_bad_path_first_and_keeps_its_result_after(cli, tmp_path):
    r = cli("diff", SEED, "--before", "v5.15", "--after", "v5.16", "--json", tmp_path)
    assert r.code == 2 and r.out == "" and "is a directory" in r.err
    r = cli("diff", SEED, "--before", "v5.15", "--after", "v5.16", "--json", "/dev/full")
    assert r.code == 1 and "States only after" in r.out  # different: the verdict's code
    data = _saved(r.err)
    assert data["schema"] == "mm-explorer/diff/1" and not data["equal"]
