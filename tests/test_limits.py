"""Limits and interruption: clean partial reports (exit 3), checkpoints that resume, determinism."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import explorer

from conftest import ROOT

SPEC = os.path.join(ROOT, "bench", "dirtybits.yaml")
# (P, V) = (3, 2): 143,748 states and 1,960,200 transitions according to SPIN and rumur.
FULL = (143748, 1960200)


def partial_json(path):
    with open(path) as f:
        data = json.load(f)
    assert data["verdict"] == "incomplete"
    assert data["stats"]["complete"] is False
    return data


def test_max_states_stops_cleanly_with_statistics(cli, tmp_path):
    out = tmp_path / "r.json"
    r = cli("check", SPEC, "--set", "P=2", "--set", "V=2", "--max-states", "100", "--json", out)
    assert r.code == 3
    assert "INCOMPLETE" in r.out and "max states 100" in r.out
    data = partial_json(out)
    assert data["stats"]["distinct_states"] >= 100
    assert data["stats"]["queue_left"] > 0


def test_max_depth_incomplete_only_when_it_cuts(cli):
    # dirtybits (1,1) has BFS depth 5 (SPIN -DBFS): depth 5 explores everything, 4 does not.
    r = cli("check", SPEC, "--set", "P=1", "--set", "V=1", "--max-depth", "4")
    assert r.code == 3 and "max depth 4" in r.out
    r = cli("check", SPEC, "--set", "P=1", "--set", "V=1", "--max-depth", "5", "-q")
    assert r.code == 0
    r = explorer.check(explorer.load(SPEC, {"P": 1, "V": 1}), max_depth=5)
    assert r.stats["distinct_states"] == 22


def test_timeout_and_memory_limits(cli, tmp_path):
    r = cli("check", SPEC, "--set", "P=3", "--set", "V=2", "--timeout", "0.2", "--json", tmp_path / "t.json",
            "--backend", "python")
    assert r.code == 3 and "timeout of 0.2 s" in r.out
    partial_json(tmp_path / "t.json")
    r = cli("check", SPEC, "--set", "P=3", "--set", "V=2", "--max-memory", "1", "--json", tmp_path / "m.json")
    assert r.code == 3 and "memory limit of 1 MiB" in r.out
    partial_json(tmp_path / "m.json")


def _start(args, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen([sys.executable, "-m", "explorer", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)


def _wait_for(path, proc, limit=60):
    t = time.time()
    while not os.path.exists(path):
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t < limit
        time.sleep(0.05)


def test_sigint_and_sigterm_leave_a_valid_partial_json(tmp_path):
    for sig in (signal.SIGINT, signal.SIGTERM):
        out = tmp_path / f"r{int(sig)}.json"
        ck = tmp_path / f"c{int(sig)}"
        # the checkpoint file appears once exploration is under way
        p = _start(["check", SPEC, "--set", "P=3", "--set", "V=3", "--json", str(out), "--checkpoint", str(ck),
                    "--checkpoint-every", "0.2"], tmp_path)
        _wait_for(ck, p)
        p.send_signal(sig)
        stdout, stderr = p.communicate(timeout=60)
        assert p.returncode == 3, stderr
        assert "Traceback" not in stderr
        data = partial_json(out)
        assert data["stopped_by"] == "interrupted"
        assert 0 < data["stats"]["distinct_states"] < 8242408


def test_killed_run_resumes_to_the_uninterrupted_counts(tmp_path):
    ck = tmp_path / "ck"
    p = _start(["check", SPEC, "--set", "P=3", "--set", "V=2", "--checkpoint", str(ck), "--checkpoint-every", "0.3",
                "--backend", "python"], tmp_path)
    _wait_for(ck, p)
    p.kill()  # no chance to clean up: the last atomic checkpoint must be enough
    p.communicate()
    size = os.path.getsize(ck)
    assert size > 0
    r = explorer.check(explorer.load(SPEC, {"P": 3, "V": 2}), resume=str(ck))
    assert r.verdict == "ok"
    assert (r.stats["distinct_states"], r.stats["transitions"]) == FULL


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path, cli):
    ck = tmp_path / "ck"
    explorer.check(explorer.load(SPEC, {"P": 2, "V": 3}), max_states=1000, checkpoint=str(ck))
    r = cli("check", SPEC, "--set", "P=2", "--set", "V=2", "--resume", ck)
    assert r.code == 2 and "another spec" in r.err


def test_same_input_same_json_apart_from_timings(tmp_path, cli):
    outs = []
    for i in range(2):
        path = tmp_path / f"r{i}.json"
        r = cli("check", SPEC, "--set", "P=2", "--set", "V=2", "--set", "BUGGY=true", "--json", path)
        assert r.code == 1
        data = json.loads(path.read_text())
        for k in ("seconds", "states_per_second", "peak_mib"):
            data["stats"].pop(k)
        outs.append(json.dumps(data, indent=2))
    assert outs[0] == outs[1]


def test_timeout_zero_or_nan_is_not_silently_no_limit(cli, spec):
    for bad in ("0", "nan", "-1", "inf"):
        r = cli("check", SPEC, "--set", "P=1", "--set", "V=1", "--timeout", bad)
        assert r.code == 2 and "timeout must" in r.err and "Traceback" not in r.err, (bad, r.err)
    path = spec("""
        spec: %s
        constants: {P: 1, V: 1}
        check: {timeout: 0}
    """ % SPEC)
    r = cli("check", path)
    assert r.code == 2 and "timeout must be a positive number" in r.err


def test_the_default_memory_limit_follows_the_machine(monkeypatch):
    from explorer.checker import options
    with open("/proc/meminfo") as f:
        avail = next(int(ln.split()[1]) for ln in f if ln.startswith("MemAvailable:")) / 1024
    opts = options.Options()
    assert opts.memory_default and opts.max_memory < avail + options.rss_mib() + 64
    assert opts.max_memory > 0.5 * avail * options.DEFAULT_MEMORY_FRACTION
    assert "of available, the default" in opts.describe_limits()
    assert options.Options(max_memory=100).max_memory == 100


@pytest.mark.parametrize("backend", ["python", "c"])
def test_reaching_the_default_memory_limit_is_exit_3_with_a_partial_result(monkeypatch, backend, tmp_path):
    from explorer.checker import fast, options
    if backend == "c" and not fast.available():
        pytest.skip("no C compiler")
    monkeypatch.setattr(options, "default_memory_mib", lambda: int(options.rss_mib()) + 40)
    r = explorer.check(explorer.load(SPEC, {"P": 3, "V": 3}), backend=backend)
    assert r.exploration.backend == backend
    assert r.verdict == "incomplete" and r.exit_code == 3
    assert r.data["stopped_by"].startswith("the default memory limit of")
    assert 0 < r.stats["distinct_states"] < 8242408 and r.data["stats"]["complete"] is False
    json.loads(r.to_json())
