"""The distributed backend: the state space partitioned over Ray actors (docs/ray.md).

`explore(model, opts, resume, address, actors)` returns an ExplorationBase with the reference
backend's states in the reference backend's order: the same counts, the same first
violation and trace, the same stopping point under a limit. Ray is an optional extra
(`pip install 'mm-explorer[ray]'`); `tasks.map_tasks` runs independent jobs on Ray or locally.
"""

from __future__ import annotations

import os
import sys
import time

from .. import signals
from ...errors import EvalError, SpecError
from ..exploration import ExplorationBase, Stop, rss_mib
from ..invariants import invariant_checker, probe_functions, prober
from ...types import TBool, TInt
from .partition import Codec, Partition

BACKEND = "ray"
MISSING = "the ray backend needs the ray extra: pip install 'mm-explorer[ray]'"


def import_ray():
    """The ray module, or None when the extra is not installed."""
    try:
        import ray
    except ImportError:
        return None
    return ray


def start(ray, address=None, num_cpus=None):
    """Connect to the cluster at `address` (or start a new local Ray, never joining one that
    happens to run on this machine); True if this call started or joined it (and must stop it)."""
    if ray.is_initialized():
        return False
    import logging
    extra = {}
    if not address:  # local workers import this very package, not another installed copy
        path = os.pathsep.join(p for p in (package_root(), os.environ.get("PYTHONPATH")) if p)
        extra["runtime_env"] = {"env_vars": {"PYTHONPATH": path}}
    try:
        ray.init(address=address or "local", num_cpus=None if address else num_cpus, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.ERROR, configure_logging=True, **extra)
    except (ConnectionError, ValueError, RuntimeError) as e:
        where = f"--ray-address {address}" if address else "a local Ray"
        raise SpecError(None, f"{where}: cannot start or reach the Ray cluster ({e})") from None
    return True


def package_root():
    """The folder that holds the explorer package."""
    here = os.path.abspath(__file__)
    for _ in range(4):
        here = os.path.dirname(here)
    return here


def codec_for(model) -> Codec:
    """The narrowest machine integer that holds every slot's domain."""
    lo, hi = 0, 1
    types = model.slot_types()
    for t in types:
        if isinstance(t, TInt):
            lo, hi = min(lo, t.lo), max(hi, t.hi)
        elif not isinstance(t, TBool):
            hi = max(hi, len(model.symbols))
    tc = "B" if 0 <= lo and hi < 256 else "h" if -2**15 <= lo and hi < 2**15 else "q"
    return Codec(tc, len(types), [i for i, t in enumerate(types) if isinstance(t, TBool)])


def payload(model, opts, codec):
    """What an actor needs to rebuild the compiled model: generated source and embedded data."""
    from ...version import __version__
    return {"source": model.source_code, "runtime": list(model.runtime), "version": __version__,
            "invariants": len(model.invariant_list), "probes": len(getattr(model, "probes", None) or []),
            "instances": len(model.instances), "typecode": codec.typecode, "width": codec.width,
            "bools": codec.bools, "continue_all": bool(opts.continue_all),
            "check_invariants": bool(opts.check_invariants), "deadlock": bool(opts.deadlock)}


def explore(model, opts, resume=None, address=None, actors=None):
    """Breadth-first search over Ray actors. Checkpoints, the kept state graph and open configs
    (whose report reads every state) are features of the single-machine backends; asking for
    them here is a usage error."""
    for asked, what in ((resume is not None, "--resume"), (opts.checkpoint, "--checkpoint"),
                        (opts.keep_graph, "--graph"), (model.worlds is not None, "an open config (every world)")):
        if asked:
            raise SpecError(None, f"{what} is not supported by the ray backend; use --backend c or python")
    ray = import_ray()
    if ray is None:
        raise SpecError(None, MISSING)
    if actors is not None and actors < 1:
        raise SpecError(None, "--ray-actors must be at least 1")
    started = start(ray, address)
    try:
        with signals.Interrupts():
            return _run(ray, model, opts, actors)
    finally:
        if started:
            ray.shutdown()


def _run(ray, model, opts, actors):
    from .driver import Driver
    codec = codec_for(model)
    cpus = ray.cluster_resources().get("CPU", 1.0)
    n = actors or max(1, int(cpus))
    remote = ray.remote(Partition).options(num_cpus=min(1.0, cpus / n), scheduling_strategy="SPREAD")
    data = ray.put(payload(model, opts, codec))
    handles = [remote.remote(i, n, data) for i in range(n)]
    ex = DistExploration(model, n)
    drv = Driver(ray, model, opts, handles, ex, codec)
    try:
        _loop(drv, model, opts, ex)
        ex.stats = _stats(drv)
        ex.cache = drv.paths([g for _, g in ex.violations] + [ex.deadlock, ex.error[0] if ex.error else None])
    finally:
        for h in handles:
            ray.kill(h)
    return ex


def _loop(drv, model, opts, ex):
    inv_fns = [model.invariant_fn(i) for i in range(len(model.invariant_list))]
    check_state = invariant_checker(model, opts, ex, drv.violated, inv_fns)
    probe_fns = probe_functions(model, opts)
    ex.premise_seen = [False] * len(probe_fns)
    probe = prober(probe_fns, ex.premise_seen)
    try:
        try:
            inits = model.initial_states()
        except EvalError as e:
            ex.error = (-1, None, e)
            inits = []
        done = ex.error is not None or drv.seed(inits, check_state, probe)
        drv.cursor = 0
        while not done:
            done = drv.level()
            now = time.perf_counter()
            drv.progress(now)
            if not done:
                if signals.requested():
                    raise Stop("interrupted")
                if drv.deadline is not None and now >= drv.deadline:
                    raise Stop(f"timeout of {opts.timeout:g} s reached")
                drv.check_memory()
        if ex.stopped is None and ex.error is None and not drv.halted and not ex.violations_stop(opts):
            ex.complete = drv.cursor >= drv.n
    except Stop as s:
        ex.stopped = s.reason
        drv.cursor = drv.level_start
    ex._n = drv.n
    ex._levels = drv.levels
    ex.cut = ex.stopped is not None and ex.stopped.startswith("max depth")
    ex.cursor = drv.cursor
    ex.queue_left = max(drv.n - drv.cursor, 0)
    ex.depth = drv.depth
    ex.seconds = time.perf_counter() - drv.t0
    ex.peak_mib = max(ex.peak_mib, rss_mib() + sum(drv.actor_mib))
    ex.violated_set = {v for v, _ in ex.violations}


def _stats(drv):
    """What the actors reported at the last level (asking them now would wait for busy ones)."""
    sent = drv.sent
    total = sum(sum(s) for s in sent)
    remote = sum(b for i, s in enumerate(sent) for j, b in enumerate(s) if i != j)
    return {"actors": len(sent), "bytes_routed": total, "bytes_between_actors": remote,
            "actor_mib": list(drv.actor_mib)}


class _Lazy:
    """states / parent / via of the stored states the run needs afterwards (traces)."""

    def __init__(self, ex, field):
        self.ex, self.field = ex, field

    def __len__(self):
        return self.ex._n

    def __getitem__(self, i):
        if i < 0:
            i += self.ex._n
        if i not in self.ex.cache:
            raise IndexError(f"state {i} was not fetched from its partition")
        return self.ex.cache[i][self.field]


class _Depth(_Lazy):
    def __getitem__(self, i):
        from bisect import bisect_right
        return bisect_right(self.ex._levels, i) - 1


class DistExploration(ExplorationBase):
    """An exploration whose states stay with their partitions; those on the traces are fetched."""

    def __init__(self, model, actors):
        super().__init__(model)
        self.backend = BACKEND
        self.actors = actors
        self.cache = {}
        self._n = 0
        self._levels = [0]
        self.states = _Lazy(self, 0)
        self.parent = _Lazy(self, 1)
        self.via = _Lazy(self, 2)
        self.depth_of = _Depth(self, 0)
        self.stats = {}

    def violations_stop(self, opts):
        return bool(self.violations) and not opts.continue_all
