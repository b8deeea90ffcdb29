"""Driving the C search: initial states, slices of mx_run between which Python checks time,
memory, signals and checkpoints, and reading the outcome back; a violation's trace is replayed
by the reference successor function before it is reported."""

from __future__ import annotations

import ctypes
import os
import time

from ...errors import EvalError
from .. import signals
from ..bfs import RUNTIME_ERRORS, memory_reason
from ..exploration import rss_mib
from ..invariants import invariant_checker, locate, probe_functions, prober
from . import ckpt
from .status import (ST_COMPLETE, ST_DEADLOCK, ST_ERROR, ST_INVERR, ST_MAXSTATES, ST_OOM, ST_PROBEERR,
                     ST_RUNNING)
from .store import FastExploration

SLICE_SECONDS = 0.25


class Fallback(Exception):
    """The compiled run cannot give the reference answer; the reference backend must run."""


class ReplayMismatch(Exception):
    """The compiled search reported a trace the reference successor function does not produce:
    an internal error of the compiled backend, never to be reported as a finding."""


def threads():
    v = os.environ.get("MM_EXPLORER_THREADS")
    if v and v.isdigit():
        return max(1, int(v))
    try:
        return min(2, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return min(2, os.cpu_count() or 1)


def _initial(lib, model, ex, check_state, probe):
    """Initial states into the C store, checked as the reference backend does; True to stop."""
    try:
        inits = model.initial_states()
    except EvalError as e:
        ex.error = (-1, None, e)
        return True
    vals = (ctypes.c_int64 * max(1, lib.ns))()
    for st in inits:
        if len(st) != lib.ns:
            raise Fallback("an initial state has an unexpected shape")
        for i, v in enumerate(st):
            vals[i] = int(v)
        r = lib.add_init(ex._ctx, vals)
        if r == -1:
            raise Fallback("an initial state has a value outside its slot's domain")
        if r == -2:
            raise Fallback("out of memory")
        if r == 0:
            continue
        probe(st)
        ex._n += 1
        if check_state(ex._n - 1, st):
            ex.initial_count = ex._n
            return True
    ex.initial_count = ex._n
    return False


def run(lib, model, opts, resume=None) -> FastExploration:
    ex = FastExploration(model, lib)
    n_inv = len(model.invariant_list)
    check_inv = bool(opts.check_invariants and n_inv)
    ctx = lib.new(threads(), -1 if opts.max_states is None else int(opts.max_states),
                  -1 if opts.max_depth is None else int(opts.max_depth), int(bool(opts.deadlock)),
                  (2 if model.worlds is not None else 1) if opts.continue_all else 0, int(check_inv))  # 2: every world to the end
    if not ctx:
        raise Fallback("out of memory")
    ex._ctx = ctx
    inv_fns = [model.invariant_fn(i) for i in range(n_inv)]
    violated = set()
    probe_fns = probe_functions(model, opts)
    if len(probe_fns) != lib.nprobe and opts.probes:
        raise Fallback("the library does not match the model's premise probes")
    ex.premise_seen = [False] * lib.nprobe
    t0 = time.perf_counter()
    if resume is not None:
        ckpt.restore(ex, resume, violated)
        done = False
    else:
        check_state = invariant_checker(model, opts, ex, violated, inv_fns)  # for the initial states
        done = _initial(lib, model, ex, check_state, prober(probe_fns, ex.premise_seen))
        ex.init_violations = list(ex.violations)  # found in Python; the C side holds those it finds
    if not opts.probes:
        ex.premise_seen = [True] * lib.nprobe
    lib.set_violated(ctx, sum(1 << i for i in violated))
    lib.set_seen(ctx, bytes(ex.premise_seen) or b"\0")
    if opts.max_memory is not None:
        lib.set_budget(ctx, int(max(opts.max_memory - rss_mib(), 1) * 2**20))
    status = None if done else _slices(lib, opts, ex, violated, t0, resume)
    _collect(lib, model, opts, ex, status, inv_fns, violated, probe_fns)
    ex.seconds = time.perf_counter() - t0 + (resume.seconds if resume is not None else 0.0)
    if opts.checkpoint and ex.stopped is not None:
        ckpt.save(opts.checkpoint, model, ex, violated)
    return ex


def _slices(lib, opts, ex, violated, t0, resume):
    """mx_run in slices until it ends or a limit or a signal stops it; returns the last status."""
    deadline = t0 + opts.timeout if opts.timeout else None
    last_progress = last_checkpoint = t0
    before = resume.seconds if resume is not None else 0.0
    while True:
        budget = SLICE_SECONDS
        if deadline is not None:
            budget = max(0.005, min(budget, deadline - time.perf_counter()))
        status = lib.run(ex._ctx, budget)
        now = time.perf_counter()
        if status != ST_RUNNING:
            return status
        if signals.requested():
            ex.stopped = "interrupted"
        elif deadline is not None and now >= deadline:
            ex.stopped = f"timeout of {opts.timeout:g} s reached"
        mem = rss_mib()
        ex.peak_mib = max(ex.peak_mib, mem)
        if ex.stopped is None and opts.max_memory is not None and mem >= opts.max_memory:
            ex.stopped = memory_reason(opts, mem)
        if ex.stopped is not None:
            return status
        if opts.progress is not None and now - last_progress >= 1.0:
            last_progress = now
            info = ex.info()
            opts.progress({"states": info.n, "transitions": info.transitions, "depth": info.depth,
                           "queue": info.n - info.cursor, "seconds": now - t0 + before})
        if opts.checkpoint and now - last_checkpoint >= opts.checkpoint_every:
            last_checkpoint = now
            _read_counts(lib, ex, ex.info())
            ex.seconds = now - t0 + before
            ckpt.save(opts.checkpoint, ex.model, ex, violated)


def _read_counts(lib, ex, info):
    """Counters, levels, violations and the cursor from the C side into `ex`."""
    ex.read_levels(info)
    ex.transitions = info.transitions
    ex.cursor = info.cursor
    ex.cut = bool(info.cut)
    if lib.nprobe:
        seen = ctypes.create_string_buffer(lib.nprobe)
        lib.get_seen(ex._ctx, seen)
        ex.premise_seen = [b != 0 for b in seen.raw[:lib.nprobe]]
    fired = (ctypes.c_int64 * max(1, lib.ni))()
    enabled = (ctypes.c_int64 * max(1, lib.ni))()
    lib.counts(ex._ctx, fired, enabled)
    k = len(ex.model.instances)
    ex.fired = list(fired)[:k]
    ex.enabled = list(enabled)[:k]
    found = []
    if info.nviol:
        a, b = (ctypes.c_int64 * info.nviol)(), (ctypes.c_int64 * info.nviol)()
        lib.violations(ex._ctx, a, b)
        found = list(zip(list(a), list(b)))
    ex.violations = ex.init_violations + found


def _collect(lib, model, opts, ex, status, inv_fns, violated, probe_fns):
    """The outcome of the C search, in the reference backend's terms."""
    ex.peak_mib = max(ex.peak_mib, rss_mib())
    info = ex.info()
    ex.store_bytes = info.table_bytes + info.store_bytes
    _read_counts(lib, ex, info)
    if status is None:
        ex.cursor = 0
    stop_state = info.stop_state
    if status == ST_COMPLETE and not ex.stopped:
        if opts.max_depth is not None and info.cut:
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
        _invariant_error(model, opts, ex, stop_state, inv_fns, violated)
    elif status == ST_PROBEERR:
        # the reference counts a premise that fails to evaluate as not held; let it decide
        raise Fallback("a premise failed to evaluate in compiled code")
    elif status == ST_OOM:
        ex.stopped = memory_reason(opts, rss_mib()) if info.budget_hit else "memory exhausted"
    ex.queue_left = max(ex._n - ex.cursor, 0)
    ex.violated_set = {v for v, _ in ex.violations}
    ex.depth = ex.depth_of[ex._n - 1] if ex._n else 0
    for inv, idx in ex.violations:
        replay(model, ex, idx, inv)


def _invariant_error(model, opts, ex, stop_state, inv_fns, violated):
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


def replay(model, ex, idx, inv):
    """Check a reported violation with the reference code: the trace starts in an initial state,
    each step is a successor by the recorded instance, and the invariant fails at its end."""
    path = ex.path(idx)
    states = [ex.states[i] for i in path]
    where = f"the compiled backend's trace to state {idx}"
    if states[0] not in model.initial_states():
        raise ReplayMismatch(f"{where} does not start in an initial state")
    for j in range(1, len(path)):
        k = ex.via[path[j]]
        if (k, states[j]) not in model.successors(states[j - 1]):
            raise ReplayMismatch(f"{where}: step {j} is not a successor by instance {k} in the reference backend")
    if model.invariant_fn(inv)(states[-1]):
        raise ReplayMismatch(f"{where}: the invariant {model.invariant_list[inv].name} holds there in the reference backend")


def _reference_error(model, ex, idx):
    state = ex.states[idx]
    try:
        model.successors(state)
    except EvalError as e:
        return (idx, locate(model, state), e)
    except RUNTIME_ERRORS as e:
        return (idx, locate(model, state), EvalError(-1, f"runtime error: {e}"))
    raise Fallback("the compiled successor function failed where the reference one does not "
                   "(an intermediate value beyond 64 bits?)")
