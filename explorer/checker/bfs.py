"""Breadth-first search in Python over the compiled successor function: the reference backend.

The visited set maps each state (a flat tuple of small ints) to its index; parent pointers and the
action instance that first reached each state live in compact arrays, so a counterexample is rebuilt
by walking back from the bad state and is a shortest one because exploration is breadth-first.
States are expanded in discovery (index) order, so the search position is one integer, the cursor.
"""

from __future__ import annotations

import time
from array import array

from ..errors import EvalError
from . import signals
from .checkpoint import save_checkpoint
from .exploration import ExplorationBase, Stop, rss_mib
from .invariants import invariant_checker, locate, probe_functions, prober


class Exploration(ExplorationBase):
    """The reference backend's exploration: states in a list, the rest in integer arrays."""

    def __init__(self, model):
        super().__init__(model)
        self.states = []
        self.index = {}
        self.parent = array("q")
        self.via = array("q")
        self.depth_of = array("i")


RUNTIME_ERRORS = (ZeroDivisionError, IndexError, KeyError, TypeError)


class Limits:
    """The periodic checks of a run: time, memory, progress, checkpoints (every 1024 states)."""

    def __init__(self, model, opts, ex, violated, t0):
        self.model, self.opts, self.ex, self.violated, self.t0 = model, opts, ex, violated, t0
        self.deadline = t0 + opts.timeout if opts.timeout else None
        self.last_progress = t0 + 1.0  # the first progress line after about two seconds
        self.last_checkpoint = t0

    def poll(self, cur, depth):
        opts, ex = self.opts, self.ex
        now = time.perf_counter()
        if self.deadline is not None and now >= self.deadline:
            raise Stop(f"timeout of {opts.timeout:g} s reached")
        if opts.max_memory is not None:
            mem = rss_mib()
            ex.peak_mib = max(ex.peak_mib, mem)
            if mem >= opts.max_memory:
                raise Stop(memory_reason(opts, mem))
        if opts.progress is not None and now - self.last_progress >= 1.0:
            self.last_progress = now
            opts.progress({"states": len(ex.states), "transitions": ex.transitions, "depth": depth,
                           "queue": len(ex.states) - cur, "seconds": now - self.t0 + ex.resumed_seconds})
        if opts.checkpoint is not None and now - self.last_checkpoint >= opts.checkpoint_every:
            self.last_checkpoint = now
            ex.seconds = now - self.t0 + ex.resumed_seconds
            save_checkpoint(opts.checkpoint, self.model, ex, cur, self.violated)


def memory_reason(opts, mem):
    what = "the default memory limit" if getattr(opts, "memory_default", False) else "memory limit"
    return f"{what} of {opts.max_memory:,} MiB reached ({mem:,.0f} MiB resident)"


def _start(model, ex, resume, violated, add, check_state):
    """Initial states (or the checkpoint); returns (cursor, done)."""
    if resume is not None:
        return resume.restore(ex, violated), False
    try:
        inits = model.initial_states()
    except EvalError as e:
        ex.error = (-1, None, e)
        return 0, True
    for st in inits:
        if st in ex.index:
            continue
        n = add(st, -1, -1, 0)
        if check_state(n, st):
            ex.initial_count = len(ex.states)
            return 0, True
    ex.initial_count = len(ex.states)
    return 0, False


def explore(model, opts, resume=None) -> Exploration:
    """Breadth-first search; `resume`: a checkpoint.Checkpoint to continue from."""
    ex = Exploration(model)
    ex.resumed_seconds = resume.seconds if resume is not None else 0.0
    states, index, parent, via, depth_of = ex.states, ex.index, ex.parent, ex.via, ex.depth_of
    inv_fns = [model.invariant_fn(i) for i in range(len(model.invariant_list))]
    violated = set()
    ex.edges = [] if opts.keep_graph else None
    probe_fns = probe_functions(model, opts)
    ex.premise_seen = [False] * len(probe_fns)
    probe = prober(probe_fns, ex.premise_seen)
    check_state = invariant_checker(model, opts, ex, violated, inv_fns)

    def add(state, par, k, d):
        if not all(ex.premise_seen):
            probe(state)
        n = len(states)
        index[state] = n
        states.append(state)
        parent.append(par)
        via.append(k)
        depth_of.append(d)
        return n

    t0 = time.perf_counter()
    limits = Limits(model, opts, ex, violated, t0)
    cur = 0
    with signals.Interrupts():
        try:
            cur, done = _start(model, ex, resume, violated, add, check_state)
            cur = _loop(model, opts, ex, cur, done, add, check_state, limits)
        except Stop as s:
            ex.stopped = s.reason
            cur = ex.cursor
        ex.cursor = cur
        ex.queue_left = max(len(states) - cur, 0)
        ex.depth = max(depth_of) if len(depth_of) else 0
        ex.seconds = time.perf_counter() - t0 + ex.resumed_seconds
        ex.peak_mib = max(ex.peak_mib, rss_mib())
        ex.violated_set = violated
        if opts.checkpoint is not None and ex.stopped is not None:
            save_checkpoint(opts.checkpoint, model, ex, cur, violated)
    return ex


def _loop(model, opts, ex, cur, done, add, check_state, limits):
    """Expand states from `cur` on; returns the cursor. A stop (limit, signal) lands between states."""
    states, index, depth_of, edges = ex.states, ex.index, ex.depth_of, ex.edges
    enabled, fired, succ_fn = ex.enabled, ex.fired, model.successors
    max_states, max_depth, requested = opts.max_states, opts.max_depth, signals.requested
    counter = 0
    while cur < len(states) and not done:
        ex.cursor = cur
        if requested():
            raise Stop("interrupted")
        idx, state = cur, states[cur]
        d = depth_of[idx]
        try:
            succ = succ_fn(state)
        except EvalError as e:
            ex.error = (idx, locate(model, state), e)
            return cur
        except RUNTIME_ERRORS as e:
            ex.error = (idx, locate(model, state), EvalError(-1, f"runtime error: {e}"))
            return cur
        cur += 1
        if max_depth is not None and d >= max_depth:
            # not expanded; the run is complete only if nothing new lies beyond
            if not ex.cut and any(t not in index for _, t in succ):
                ex.cut = True
            continue
        if not succ:
            if opts.deadlock:
                ex.deadlock = idx
                return cur - 1
            continue
        ex.transitions += len(succ)
        prev = -1
        for k, t in succ:
            fired[k] += 1
            if k != prev:
                enabled[k] += 1
                prev = k
            n = index.get(t)
            if n is None:
                n = add(t, idx, k, d + 1)
                if check_state(n, t):
                    done = True
            if edges is not None:
                edges.append((idx, n, k))
            if done:
                break
        if done:
            break
        counter += 1
        if counter >= 1024:
            counter = 0
            ex.cursor = cur
            limits.poll(cur, d)
        if max_states is not None and len(states) >= max_states and cur < len(states):
            ex.cursor = cur
            raise Stop(f"max states {max_states} reached")
    if max_depth is not None and ex.cut and not done and ex.error is None and ex.deadlock is None:
        ex.stopped = f"max depth {max_depth} reached"
    elif cur >= len(states) and not done and ex.error is None and ex.deadlock is None:
        ex.complete = True
    return cur
