"""The command line's contract: exit codes, the JSON keys scripts rely on, list and lint."""

import json
import os
import subprocess
import sys

from conftest import ROOT

SPEC = os.path.join(ROOT, "bench", "dirtybits.yaml")


def test_json_result_of_a_violation(cli, tmp_path):
    out = tmp_path / "r.json"
    r = cli("check", SPEC, "--set", "P=1", "--set", "V=1", "--set", "BUGGY=true", "--json", out)
    assert r.code == 1
    data = json.loads(out.read_text())
    for key in ("verdict", "invariant", "stats", "coverage", "trace", "constants", "config", "spec"):
        assert key in data
    assert data["verdict"] == "violation" and data["invariant"] == "NoLostWrite"
    for key in ("distinct_states", "transitions", "depth", "seconds"):
        assert key in data["stats"]
    assert data["constants"] == {"P": 1, "V": 1, "BUGGY": True}
    first, *steps = data["trace"]
    assert first["action"] is None and first["state"]["vwrite"] == {"0": True}
    assert [s["action"] for s in steps] == ["WriteFault", "Store", "Zap"]
    assert steps[0]["params"] == {"v": "0", "p": "0"}
    assert steps[-1]["state"]["pte"]["0"]["0"] == {"present": False, "write": False, "dirty": False}
    assert steps[-1]["state"]["modified"] == {"0": True}


def test_text_trace_shows_only_what_changed(cli):
    r = cli("check", SPEC, "--set", "P=1", "--set", "V=1", "--set", "BUGGY=true", "--no-color")
    step2 = r.out.split("2  Store(v=0, p=0)")[1].split("3  Zap")[0]
    assert "modified[0]: FALSE -> TRUE" in step2
    assert "cached" not in step2 and "vwrite" not in step2


def test_exit_zero_and_ok_json(cli, tmp_path):
    out = tmp_path / "ok.json"
    r = cli("check", SPEC, "--set", "P=1", "--set", "V=1", "--json", out, "-q")
    assert r.code == 0 and r.out.startswith("ok:")
    data = json.loads(out.read_text())
    assert data["verdict"] == "ok" and data["trace"] == [] and data["invariant"] is None


def test_list_and_lint(cli):
    r = cli("list", SPEC, "--set", "P=1", "--set", "V=2")
    assert r.code == 0
    # slot layout: cached, pdirty, modified (1 each), vwrite (2), pte 2 x 1 x 3 fields = 11 slots
    assert "(11 slots per state)" in r.out
    assert "pte: Pte over VMAS x PAGES  slots 5..10" in r.out
    assert "WriteFault(v=1, p=0)" in r.out
    r = cli("lint", SPEC)
    assert r.code == 0 and r.out.startswith("ok:")


def test_usage_errors_exit_2(cli):
    assert cli("check").code == 2
    assert cli("frobnicate", SPEC).code == 2
    assert cli("check", SPEC, "--max-states", "lots").code == 2


def test_console_entry_point_runs_as_a_module():
    p = subprocess.run([sys.executable, "-m", "explorer", "lint", SPEC], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert p.returncode == 0 and "module dirtybits" in p.stdout
