"""The distributed backend (`--backend ray`) on a local Ray: the anchors' counts, the compiled
backend's shortest trace, limits, and a Ctrl-C that leaves a valid partial result."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import explorer
from explorer.checker import fast

from conftest import ROOT
from test_dirtybits_oracle import ANCHORS

ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install -e '.[ray]'")

SPEC = os.path.join(ROOT, "bench", "dirtybits.yaml")
FINDING = os.path.join(ROOT, "configs", "gup_shmem_minor.yaml")


@pytest.fixture(scope="module")
def cluster():
    """One local Ray for the module (starting Ray takes seconds); its address for subprocesses."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             runtime_env={"env_vars": {"PYTHONPATH": ROOT}})  # the workers import this checkout
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def check(path, overrides=None, **opts):
    return explorer.check(explorer.load(path, overrides), **opts)


def answer(r):
    stats = {k: v for k, v in r.stats.items() if k not in ("seconds", "states_per_second", "peak_mib")}
    return r.verdict, r.message, stats, r.trace, r.violations, r.coverage


@pytest.mark.parametrize("pv", sorted(ANCHORS))
def test_dirtybits_counts_equal_spin_and_rumur(cluster, pv):
    states, rules_fired, depth = ANCHORS[pv]
    r = check(SPEC, {"P": pv[0], "V": pv[1]}, backend="ray", ray_actors=2)
    assert r.exploration.backend == "ray"
    assert r.verdict == "ok"
    assert (r.stats["distinct_states"], r.stats["transitions"], r.stats["depth"]) == (states, rules_fired, depth)
    assert r.coverage["never_fired"] == []


@pytest.mark.skipif(not fast.available(), reason="no C compiler for the compiled backend")
def test_a_finding_has_the_compiled_backends_shortest_trace(cluster):
    c = check(FINDING, {"KERNEL": "v5.16"}, backend="c")
    assert c.verdict == "violation" and len(c.trace) == 8  # configs/README.md: S1 after 7 steps
    for actors in (1, 2, 3):
        r = check(FINDING, {"KERNEL": "v5.16"}, backend="ray", ray_actors=actors)
        assert answer(r) == answer(c)


@pytest.mark.parametrize("opts", [{"max_states": 5000}, {"max_depth": 4}, {"deadlock": True},
                                  {"continue_all": True}])
def test_limits_stop_where_the_reference_stops(cluster, opts):
    for overrides in ({"P": 2, "V": 2}, {"P": 2, "V": 2, "BUGGY": True}):
        ref = check(SPEC, overrides, **opts)
        got = check(SPEC, overrides, backend="ray", ray_actors=3, **opts)
        assert answer(got) == answer(ref)


def test_the_buggy_variant_gives_the_anchors_counterexample(cluster):
    # SPIN, rumur and the reference report WriteFault(0,0); Store(0,0); Zap(0,0) (test_dirtybits_oracle)
    r = check(SPEC, {"P": 2, "V": 3, "BUGGY": True}, backend="ray", ray_actors=2)
    assert r.invariant == "NoLostWrite"
    assert [s["label"] for s in r.trace[1:]] == ["WriteFault(v=0, p=0)", "Store(v=0, p=0)", "Zap(v=0, p=0)"]


def test_sigint_leaves_a_valid_partial_result(cluster, tmp_path):
    out = tmp_path / "r.json"
    env = dict(os.environ, PYTHONPATH=ROOT)
    # dirtybits (3, 3): 8,242,408 states, far more than the run reaches before the signal
    p = subprocess.Popen([sys.executable, "-m", "explorer", "check", SPEC, "--set", "P=3", "--set", "V=3",
                          "--backend", "ray", "--ray-address", cluster, "--ray-actors", "2", "--progress",
                          "--json", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, cwd=tmp_path)
    seen = ""
    t = time.time()
    while not re.search(r"\d{2},\d{3} states", seen):  # progress: a few levels are done
        assert p.poll() is None, p.communicate()
        assert time.time() - t < 300
        seen += os.read(p.stderr.fileno(), 4096).decode()
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=300)
    assert p.returncode == 3, stderr
    assert "Traceback" not in stderr
    data = json.loads(out.read_text())
    assert data["verdict"] == "incomplete" and data["stopped_by"] == "interrupted"
    s = data["stats"]
    assert 0 < s["distinct_states"] < 8242408 and s["queue_left"] > 0 and s["complete"] is False
    # the run stops between levels: its states are every state within its depth, as the reference
    # engine counts them when told not to go deeper
    ref = check(SPEC, {"P": 3, "V": 3}, max_depth=s["depth"])
    assert (s["distinct_states"], s["transitions"]) == (ref.stats["distinct_states"], ref.stats["transitions"])
    within = check(SPEC, {"P": 3, "V": 3}, max_depth=s["depth"] - 1).stats["distinct_states"]
    assert s["queue_left"] == s["distinct_states"] - within  # the last level, not yet expanded


def test_without_the_extra_the_backend_is_a_clear_usage_error(cli, monkeypatch):
    from explorer.checker import distributed
    monkeypatch.setattr(distributed, "import_ray", lambda: None)
    r = cli("check", SPEC, "--backend", "ray")
    assert r.code == 2
    assert "pip install 'mm-explorer[ray]'" in r.err and "Traceback" not in r.err


def test_what_the_ray_backend_cannot_do_is_a_usage_error(cli, cluster, tmp_path):
    for extra in (["--ray-actors", "0"], ["--checkpoint", str(tmp_path / "ck")], ["--graph", str(tmp_path / "g.dot")]):
        r = cli("check", SPEC, "--backend", "ray", *extra)
        assert r.code == 2 and "Traceback" not in r.err, (extra, r.err)
    r = cli("check", SPEC, "--ray-actors", "2")
    assert r.code == 2 and "need --backend ray" in r.err


def test_map_tasks_runs_on_ray_in_order_and_raises_the_tasks_error(cluster):
    from explorer.checker.distributed.tasks import map_tasks
    jobs = [(2, k) for k in range(12)]
    assert map_tasks(pow, jobs, use_ray=True) == [2 ** k for k in range(12)]
    assert map_tasks(pow, jobs, use_ray=False) == [2 ** k for k in range(12)]
    with pytest.raises(ValueError):
        map_tasks(int, [("12",), ("twelve",)], use_ray=True)
