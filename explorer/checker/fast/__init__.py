"""The compiled backend: the model's successor function and invariants translated to C, built at
run time with the system's C compiler, and a breadth-first search over packed states in C.

`explore(model, opts, backend)` returns an object with the attributes of engine.Exploration, with
the same states in the same order, so counts, verdicts and traces equal the reference backend's.
Whatever the translator does not support (and any disagreement found at run time) falls back to
the reference backend with a one-line notice on stderr.

Backends: "c" (compiled; falls back when it cannot be used) and "auto" (the same).
"""

from __future__ import annotations

import bisect
import ctypes
import os
import sys
import time

from .. import engine
from ...errors import EvalError
from ...types import TBool
from .build import BuildError, Unsupported, available

BACKENDS = ("c", "auto")
(ST_RUNNING, ST_COMPLETE, ST_VIOLATION, ST_DEADLOCK, ST_ERROR, ST_MAXSTATES, _ST_UNUSED, ST_INVERR, ST_OOM,
 ST_PROBEERR) = range(10)
SLICE_SECONDS = 0.25


class Fallback(Exception):
    """The compiled run cannot give the reference answer; the reference backend must run."""


def notice(reason):
    sys.stderr.write(f"mm-explorer: compiled backend not used ({reason}); running the reference backend\n")
    sys.stderr.flush()


def threads():
    v = os.environ.get("MM_EXPLORER_THREADS")
    if v and v.isdigit():
        return max(1, int(v))
    try:
        return min(2, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return min(2, os.cpu_count() or 1)


def explore(model, opts, backend="c"):
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend '{backend}': choose python, c or auto")
    if opts.keep_graph:
        notice("the state graph is kept by the reference backend only")
        return engine.explore(model, opts)
    if getattr(opts, "checkpoint", None):
        notice("checkpoints are written by the reference backend only")
        return engine.explore(model, opts)
    from . import build
    try:
        lib = build.load(model)
    except (Unsupported, BuildError) as e:
        notice(str(e))
        return engine.explore(model, opts)
    try:
        return run(lib, model, opts)
    except Fallback as e:
        notice(str(e))
        return engine.explore(model, opts)


class _Lazy:
    def __init__(self, ex):
        self.ex = ex

    def __len__(self):
        return self.ex._n

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.item(j) for j in range(*i.indices(len(self)))]
        return self.item(self._norm(i))

    def _norm(self, i):
        n = self.ex._n
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("state index out of range")
        return i


class _States(_Lazy):
    def item(self, i):
        return self.ex._get(i)[0]


class _Parent(_Lazy):
    def item(self, i):
        return self.ex._get(i)[1]


class _Via(_Lazy):
    def item(self, i):
        return self.ex._get(i)[2]


class _DepthOf(_Lazy):
    def item(self, i):
        return bisect.bisect_right(self.ex._levels, i) - 1


class FastExploration:
    """engine.Exploration's attributes over the packed store of the compiled backend."""

    def __init__(self, model, lib):
        self.model = model
        self.lib = lib
        self._ctx = None
        self._n = 0
        self._levels = [0]
        self.states = _States(self)
        self.parent = _Parent(self)
        self.via = _Via(self)
        self.depth_of = _DepthOf(self)
        self.index = None
        self.transitions = 0
        self.depth = 0
        self.enabled = [0] * len(model.instances)
        self.fired = [0] * len(model.instances)
        self.violations = []
        self.deadlock = None
        self.error = None
        self.stopped = None
        self.complete = False
        self.seconds = 0.0
        self.edges = None
        self.initial_count = 0
        self.queue_left = 0
        self.peak_mib = 0.0
        self.backend = "c"
        self.store_bytes = 0
        self._vals = (ctypes.c_int64 * max(1, lib.ns))()
        self._bools = [i for i, t in enumerate(model.slot_types()) if isinstance(t, TBool)]

    def _get(self, i):
        via = ctypes.c_int64()
        par = self.lib.get(self._ctx, i, self._vals, ctypes.byref(via))
        vals = list(self._vals)
        for j in self._bools:
            vals[j] = bool(vals[j])
        return tuple(vals), par, via.value

    def path(self, idx):
        out = []
        while idx >= 0:
            out.append(idx)
            idx = self.parent[idx]
        return out[::-1]

    def close(self):
        if self._ctx:
            self.lib.free(self._ctx)
            self._ctx = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def _info(ex):
    info = (ctypes.c_int64 * 11)()
    ex.lib.info(ex._ctx, info)
    ex._n = info[0]
    return info


def run(lib, model, opts) -> FastExploration:
    ex = FastExploration(model, lib)
    n_inv = len(model.invariant_list)
    check_inv = bool(opts.check_invariants and n_inv)
    ctx = lib.new(threads(), -1 if opts.max_states is None else int(opts.max_states),
                  -1 if opts.max_depth is None else int(opts.max_depth), int(bool(opts.deadlock)),
                  int(bool(opts.continue_all)), int(check_inv))
    if not ctx:
        raise Fallback("out of memory")
    ex._ctx = ctx
    inv_fns = [model.invariant_fn(i) for i in range(n_inv)]
    violated = set()
    probe_fns = model.probe_fns()
    if len(probe_fns) != lib.nprobe:
        raise Fallback("the library does not match the model's premise probes")
    ex.premise_seen = [False] * len(probe_fns)

    def probe(state):  # as engine.explore's add()
        for i, fn in enumerate(probe_fns):
            if not ex.premise_seen[i]:
                try:
                    ex.premise_seen[i] = bool(fn(state))
                except EvalError:  # as engine.explore's: not held
                    pass
    t0 = time.perf_counter()
    deadline = t0 + opts.timeout if opts.timeout else None

    check_state = engine.invariant_checker(model, opts, ex, violated, inv_fns)  # for the initial states

    done = False
    try:
        inits = model.initial_states()
    except EvalError as e:
        ex.error = (-1, None, e)
        inits = []
        done = True
    vals = (ctypes.c_int64 * max(1, lib.ns))()
    for st in inits:
        if len(st) != lib.ns:
            raise Fallback("an initial state has an unexpected shape")
        for i, v in enumerate(st):
            vals[i] = int(v)
        r = lib.add_init(ctx, vals)
        if r == -1:
            raise Fallback("an initial state has a value outside its slot's domain")
        if r == -2:
            raise Fallback("out of memory")
        if r == 0:
            continue
        probe(st)
        ex._n += 1
        if check_state(ex._n - 1, st):
            done = True
            break
    ex.initial_count = ex._n
    lib.set_violated(ctx, sum(1 << i for i in violated))
    lib.set_seen(ctx, bytes(ex.premise_seen) or b"\0")
    status = None
    last_progress = t0
    if not done:
        try:
            while True:
                budget = SLICE_SECONDS
                if deadline is not None:
                    budget = max(0.005, min(budget, deadline - time.perf_counter()))
                status = lib.run(ctx, budget)
                now = time.perf_counter()
                if status != ST_RUNNING:
                    break
                if deadline is not None and now >= deadline:
                    ex.stopped = f"timeout of {opts.timeout:g} s reached"
                    break
                mem = engine.rss_mib()
                ex.peak_mib = max(ex.peak_mib, mem)
                if opts.max_memory is not None and mem >= opts.max_memory:
                    ex.stopped = f"memory limit of {opts.max_memory} MiB reached ({mem:.0f} MiB resident)"
                    break
                if opts.progress is not None and now - last_progress >= 1.0:
                    last_progress = now
                    info = _info(ex)
                    opts.progress({"states": info[0], "transitions": info[1], "depth": info[7],
                                   "queue": info[0] - info[4],
                                   "seconds": now - t0})
        except KeyboardInterrupt:
            ex.stopped = "interrupted"
    ex.peak_mib = max(ex.peak_mib, engine.rss_mib())
    info = _info(ex)
    ex.store_bytes = info[8] + info[9]
    levels = (ctypes.c_int64 * max(1, info[6]))()
    lib.levels(ctx, levels)
    ex._levels = list(levels)[:info[6]] or [0]
    ex.transitions = info[1]
    if probe_fns:
        seen = ctypes.create_string_buffer(len(probe_fns))
        lib.get_seen(ctx, seen)
        ex.premise_seen = [b != 0 for b in seen.raw[:len(probe_fns)]]
    fired = (ctypes.c_int64 * max(1, lib.ni))()
    enabled = (ctypes.c_int64 * max(1, lib.ni))()
    lib.counts(ctx, fired, enabled)
    k = len(model.instances)
    ex.fired = list(fired)[:k]
    ex.enabled = list(enabled)[:k]
    nv = info[5]
    if nv:
        a, b = (ctypes.c_int64 * nv)(), (ctypes.c_int64 * nv)()
        lib.violations(ctx, a, b)
        ex.violations.extend(zip(list(a), list(b)))
    stop_state = info[3]
    ex.cursor = info[4] if status is not None else 0
    if status == ST_COMPLETE and not ex.stopped:
        if opts.max_depth is not None and info[10]:
            ex.stopped = f"max depth {opts.max_depth} reached"
        else:
            ex.complete = True
    elif status == ST_DEADLOCK:
        ex.deadlock = stop_state
    elif status == ST_ERROR:
        ex.error = _reference_error(model, ex, stop_state)
    elif status == ST_MAXSTATES:
        ex.stopped = f"max states {opts.max_states} reached"
    elif status == ST_INVERR:
        state = ex.states[stop_state]
        try:
            if not opts.continue_all:
                model.first_violated(state)
            else:
                for i, fn in enumerate(inv_fns):
                    if i not in violated and not any(v == i for v, _ in ex.violations):
                        fn(state)
        except EvalError as e:  # as the reference backend records it
            ex.error = (stop_state, None, e)
        else:
            raise Fallback("an invariant failed to evaluate in compiled code only")
    elif status == ST_PROBEERR:
        # the reference counts a premise that fails to evaluate as not held; let it decide
        raise Fallback("a premise failed to evaluate in compiled code")
    elif status == ST_OOM:
        ex.stopped = "memory exhausted"
    ex.queue_left = max(ex._n - ex.cursor, 0)
    ex.violated_set = {v for v, _ in ex.violations}
    ex.depth = ex.depth_of[ex._n - 1] if ex._n else 0
    ex.seconds = time.perf_counter() - t0
    return ex


def _reference_error(model, ex, idx):
    state = ex.states[idx]
    try:
        model.successors(state)
    except EvalError as e:
        return (idx, engine._locate(model, state), e)
    except (ZeroDivisionError, IndexError, KeyError, TypeError) as e:
        return (idx, engine._locate(model, state), EvalError(-1, f"runtime error: {e}"))
    raise Fallback("the compiled successor function failed where the reference one does not "
                   "(an intermediate value beyond 64 bits?)")


__all__ = ["BACKENDS", "FastExploration", "Fallback", "available", "explore"]
