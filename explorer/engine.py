"""Breadth-first exploration of a compiled model: invariants, deadlocks, limits, traces, coverage.

This is the reference backend: plain Python over the compiled successor function. The visited set
maps each state (a flat tuple of small ints) to its index; parent pointers and the action instance
that first reached each state live in compact arrays, so a counterexample is rebuilt by walking
back from the bad state and is a shortest one because exploration is breadth-first.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from array import array

from .errors import EvalError


class Options:
    """What a check explores and when it stops."""

    def __init__(self, max_states=None, max_depth=None, deadlock=False, continue_all=False, timeout=None,
                 max_memory=None, progress=None, keep_graph=False, check_invariants=True):
        self.max_states = max_states
        self.max_depth = max_depth
        self.deadlock = deadlock
        self.continue_all = continue_all
        self.timeout = timeout
        self.max_memory = max_memory  # MiB of resident memory
        self.progress = progress  # callable(stats dict) or None
        self.keep_graph = keep_graph
        self.check_invariants = check_invariants


class Stop(Exception):
    """Raised inside exploration by a limit or a signal."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def rss_mib() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Exploration:
    """The raw outcome of a BFS: states, parent pointers, counters, and what stopped it."""

    def __init__(self, model):
        self.model = model
        self.states = []
        self.index = {}
        self.parent = array("q")
        self.via = array("q")
        self.depth_of = array("i")
        self.transitions = 0
        self.depth = 0
        self.enabled = [0] * len(model.instances)
        self.fired = [0] * len(model.instances)
        self.violations = []  # (invariant index, state index)
        self.deadlock = None  # state index
        self.error = None  # (state index, instance index or None, EvalError)
        self.stopped = None  # reason string when a limit or signal stopped the run
        self.complete = False
        self.seconds = 0.0
        self.edges = None
        self.initial_count = 0
        self.queue_left = 0
        self.peak_mib = 0.0

    def path(self, idx):
        """State indices from an initial state to `idx`."""
        out = []
        while idx >= 0:
            out.append(idx)
            idx = self.parent[idx]
        return out[::-1]


def explore(model, opts: Options) -> Exploration:
    ex = Exploration(model)
    states, index, parent, via, depth_of = ex.states, ex.index, ex.parent, ex.via, ex.depth_of
    enabled, fired = ex.enabled, ex.fired
    succ_fn = model.successors
    first_violated = model.first_violated
    inv_fns = [model.invariant_fn(i) for i in range(len(model.invariant_list))]
    check_inv = opts.check_invariants and bool(inv_fns)
    violated = set()
    edges = [] if opts.keep_graph else None
    ex.edges = edges
    max_states = opts.max_states
    t0 = time.perf_counter()
    deadline = t0 + opts.timeout if opts.timeout else None
    last_progress = t0

    def check_state(n, state):
        """Record invariant violations of a new state; True when exploration must stop."""
        if not check_inv:
            return False
        if not opts.continue_all:
            v = first_violated(state)
            if v >= 0:
                ex.violations.append((v, n))
                return True
            return False
        for i, fn in enumerate(inv_fns):
            if i not in violated and not fn(state):
                violated.add(i)
                ex.violations.append((i, n))
        return len(violated) == len(inv_fns)

    def add(state, par, k, d):
        n = len(states)
        index[state] = n
        states.append(state)
        parent.append(par)
        via.append(k)
        depth_of.append(d)
        return n

    frontier = []
    done = False
    try:
        try:
            inits = model.initial_states()
        except EvalError as e:
            ex.error = (-1, None, e)
            inits = []
            done = True
        for st in inits:
            if st in index:
                continue
            n = add(st, -1, -1, 0)
            frontier.append(n)
            if check_state(n, st):
                done = True
                break
        ex.initial_count = len(states)
        depth = 0
        check_every = 2048
        counter = 0
        while frontier and not done:
            if opts.max_depth is not None and depth >= opts.max_depth:
                ex.stopped = f"max depth {opts.max_depth} reached"
                break
            nxt = []
            for fi, idx in enumerate(frontier):
                state = states[idx]
                try:
                    succ = succ_fn(state)
                except EvalError as e:
                    ex.error = (idx, _locate(model, state), e)
                    done = True
                    break
                except (ZeroDivisionError, IndexError, KeyError, TypeError) as e:
                    ex.error = (idx, _locate(model, state), EvalError(-1, f"runtime error: {e}"))
                    done = True
                    break
                if not succ:
                    if opts.deadlock:
                        ex.deadlock = idx
                        done = True
                        break
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
                        n = add(t, idx, k, depth + 1)
                        nxt.append(n)
                        if check_state(n, t):
                            done = True
                    if edges is not None:
                        edges.append((idx, n, k))
                    if done:
                        break
                if done:
                    frontier = frontier[fi + 1:]
                    break
                counter += 1
                if counter >= check_every:
                    counter = 0
                    now = time.perf_counter()
                    if deadline is not None and now >= deadline:
                        raise Stop(f"timeout of {opts.timeout:g} s reached")
                    if opts.max_memory is not None:
                        mem = rss_mib()
                        ex.peak_mib = max(ex.peak_mib, mem)
                        if mem >= opts.max_memory:
                            raise Stop(f"memory limit of {opts.max_memory} MiB reached ({mem:.0f} MiB resident)")
                    if opts.progress is not None and now - last_progress >= 1.0:
                        last_progress = now
                        opts.progress({"states": len(states), "transitions": ex.transitions, "depth": depth,
                                       "queue": len(frontier) - fi + len(nxt), "seconds": now - t0})
                if max_states is not None and len(states) >= max_states:
                    raise Stop(f"max states {max_states} reached")
            if done:
                ex.queue_left = len(frontier) + len(nxt)
                if nxt:
                    depth += 1
                break
            frontier = nxt
            if nxt:
                depth += 1
        ex.depth = max(depth_of) if len(depth_of) else 0
        if not done and not ex.stopped and not frontier:
            ex.complete = True
        elif not done and ex.stopped:
            ex.queue_left = len(frontier)
    except Stop as s:
        ex.stopped = s.reason
        ex.depth = max(depth_of) if len(depth_of) else 0
    except KeyboardInterrupt:
        ex.stopped = "interrupted"
        ex.depth = max(depth_of) if len(depth_of) else 0
    ex.seconds = time.perf_counter() - t0
    ex.peak_mib = max(ex.peak_mib, rss_mib())
    return ex


def _locate(model, state):
    """Which action instance raises on `state` (the combined successor function does not say)."""
    for i in range(len(model.instances)):
        try:
            model.instance_successors(i, state)
        except Exception:
            return i
    return None


class SignalsAsInterrupt:
    """Within the block, SIGTERM behaves like Ctrl-C, so both give a clean partial report."""

    def __enter__(self):
        self.old = None
        try:
            self.old = signal.signal(signal.SIGTERM, self._raise)
        except ValueError:  # not the main thread
            self.old = None
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt()

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)
        return False


def stderr_progress(stats):
    sys.stderr.write(f"\r  {stats['states']:,} states, {stats['transitions']:,} transitions, depth {stats['depth']}, "
                     f"queue {stats['queue']:,}, {stats['states'] / max(stats['seconds'], 1e-9):,.0f} states/s   ")
    sys.stderr.flush()
