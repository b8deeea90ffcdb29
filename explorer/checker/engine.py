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

from ..errors import EvalError


class Options:
    """What a check explores and when it stops."""

    def __init__(self, max_states=None, max_depth=None, deadlock=False, continue_all=False, timeout=None,
                 max_memory=None, progress=None, keep_graph=False, check_invariants=True,
                 checkpoint=None, checkpoint_every=60.0, probes=True):
        self.max_states = max_states
        self.max_depth = max_depth
        self.deadlock = deadlock
        self.continue_all = continue_all
        self.timeout = timeout
        self.max_memory = max_memory  # MiB of resident memory
        self.progress = progress  # callable(stats dict) or None
        self.keep_graph = keep_graph
        self.check_invariants = check_invariants
        self.checkpoint = checkpoint  # file written every `checkpoint_every` seconds and at a stop
        self.checkpoint_every = checkpoint_every
        self.probes = probes  # evaluate invariant premise probes (coverage of implications)


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
        self.premise_seen = []

    def path(self, idx):
        """State indices from an initial state to `idx`."""
        out = []
        while idx >= 0:
            out.append(idx)
            idx = self.parent[idx]
        return out[::-1]


def explore(model, opts: Options, resume=None) -> Exploration:
    """Breadth-first search. States are expanded in discovery order (index order), which is BFS
    order; so the search position is one integer and a checkpoint is the arrays plus that integer."""
    ex = Exploration(model)
    states, index, parent, via, depth_of = ex.states, ex.index, ex.parent, ex.via, ex.depth_of
    enabled, fired = ex.enabled, ex.fired
    succ_fn = model.successors
    inv_fns = [model.invariant_fn(i) for i in range(len(model.invariant_list))]
    violated = set()
    edges = [] if opts.keep_graph else None
    ex.edges = edges
    max_states = opts.max_states
    max_depth = opts.max_depth
    t0 = time.perf_counter()
    deadline = t0 + opts.timeout if opts.timeout else None
    last_progress = t0 + 1.0  # the first progress line after about two seconds
    checkpoint = getattr(opts, "checkpoint", None)
    checkpoint_every = getattr(opts, "checkpoint_every", 60.0)
    last_checkpoint = t0
    cut = False  # a state at max_depth had a successor not yet seen

    check_state = invariant_checker(model, opts, ex, violated, inv_fns)

    probe_fns = model.probe_fns() if opts.probes else []
    ex.premise_seen = [False] * len(probe_fns)
    pending = list(range(len(probe_fns)))

    def add(state, par, k, d):
        if pending:
            for i in list(pending):
                try:
                    held = probe_fns[i](state)
                except EvalError:  # a premise that cannot be evaluated did not hold; the
                    held = False   # invariant check reports the error if the invariant hits it
                if held:
                    ex.premise_seen[i] = True
                    pending.remove(i)
        n = len(states)
        index[state] = n
        states.append(state)
        parent.append(par)
        via.append(k)
        depth_of.append(d)
        return n

    cur = 0
    done = False
    try:
        if resume is not None:
            cur = resume.restore(ex, violated)
            pending[:] = [i for i in pending if not ex.premise_seen[i]]
        else:
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
                if check_state(n, st):
                    done = True
                    break
            ex.initial_count = len(states)
        counter = 0
        while cur < len(states) and not done:
            idx = cur
            state = states[idx]
            d = depth_of[idx]
            try:
                succ = succ_fn(state)
            except EvalError as e:
                ex.error = (idx, _locate(model, state), e)
                break
            except (ZeroDivisionError, IndexError, KeyError, TypeError) as e:
                ex.error = (idx, _locate(model, state), EvalError(-1, f"runtime error: {e}"))
                break
            if max_depth is not None and d >= max_depth:
                # not expanded; the run is complete only if nothing new lies beyond
                if any(t not in index for _, t in succ):
                    cut = True
                cur += 1
                continue
            if not succ:
                if opts.deadlock:
                    ex.deadlock = idx
                    break
                cur += 1
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
            cur += 1
            if done:
                break
            counter += 1
            if counter >= 1024:
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
                    opts.progress({"states": len(states), "transitions": ex.transitions, "depth": d,
                                   "queue": len(states) - cur, "seconds": now - t0})
                if checkpoint is not None and now - last_checkpoint >= checkpoint_every:
                    last_checkpoint = now
                    save_checkpoint(checkpoint, model, ex, cur, violated)
            if max_states is not None and len(states) >= max_states and cur < len(states):
                raise Stop(f"max states {max_states} reached")
        if max_depth is not None and cut and not done and ex.error is None and ex.deadlock is None:
            ex.stopped = f"max depth {max_depth} reached"
        elif cur >= len(states) and not done and ex.error is None and ex.deadlock is None:
            ex.complete = True
    except Stop as s:
        ex.stopped = s.reason
    except KeyboardInterrupt:
        ex.stopped = "interrupted"
    ex.cursor = cur
    ex.queue_left = max(len(states) - cur, 0)
    ex.depth = max(depth_of) if len(depth_of) else 0
    ex.seconds = time.perf_counter() - t0 + (resume.seconds if resume is not None else 0.0)
    ex.peak_mib = max(ex.peak_mib, rss_mib())
    ex.violated_set = violated
    if checkpoint is not None and (ex.stopped is not None):
        save_checkpoint(checkpoint, model, ex, cur, violated)
    return ex


def invariant_checker(model, opts, ex, violated, inv_fns):
    """check_state(n, state): record the invariant violations of new state n in `ex.violations`;
    True when exploration must stop (the first violation, or with --continue once every
    invariant has failed). Shared by every backend so that they stop at the same state."""
    check_inv = opts.check_invariants and bool(inv_fns)
    first_violated = model.first_violated

    def check_state(n, state):
        try:
            return check(n, state)
        except EvalError as e:  # an invariant itself failed to evaluate: an error with its trace
            ex.error = (n, None, e)
            return True

    def check(n, state):
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
    return check_state


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


# ------------------------------------------------------------------------------------------------
# checkpoints: plain data (JSON header + raw integer arrays), never pickle, written atomically
CHECKPOINT_MAGIC = b"MMXCKPT1"


def model_fingerprint(model) -> str:
    import hashlib
    h = hashlib.sha256(model.source_code.encode())
    h.update(repr([inv.name for inv in model.invariant_list]).encode())
    return h.hexdigest()


def save_checkpoint(path, model, ex, cur, violated):
    import json
    import zlib
    width = len(ex.states[0]) if ex.states else 0
    flat = array("q", (int(v) for st in ex.states for v in st))
    header = {
        "fingerprint": model_fingerprint(model), "width": width, "count": len(ex.states), "cursor": cur,
        "transitions": ex.transitions, "initial_count": ex.initial_count, "seconds": ex.seconds or 0.0,
        "violations": ex.violations, "violated": sorted(violated),
        "premise_seen": list(getattr(ex, "premise_seen", [])),
    }
    parts = [flat, ex.parent, ex.via, ex.depth_of, array("q", ex.enabled), array("q", ex.fired)]
    blobs = [zlib.compress(p.tobytes(), 1) for p in parts]
    header["blobs"] = [[p.typecode, len(b)] for p, b in zip(parts, blobs)]
    head = json.dumps(header).encode()
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(CHECKPOINT_MAGIC + len(head).to_bytes(8, "little") + head)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Resume:
    """A checkpoint read back: restores an Exploration and returns the search position."""

    def __init__(self, path, model):
        import json
        import zlib
        from ..errors import SpecError
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise SpecError(None, f"--resume {path}: {e.strerror}") from None
        if not data.startswith(CHECKPOINT_MAGIC):
            raise SpecError(None, f"--resume {path}: not an mm-explorer checkpoint")
        n = int.from_bytes(data[8:16], "little")
        try:
            self.header = json.loads(data[16:16 + n])
        except ValueError:
            raise SpecError(None, f"--resume {path}: the checkpoint header is damaged") from None
        if self.header["fingerprint"] != model_fingerprint(model):
            raise SpecError(None, f"--resume {path}: the checkpoint was written for another spec, config or constants")
        off = 16 + n
        self.arrays = []
        for typecode, size in self.header["blobs"]:
            a = array(typecode)
            a.frombytes(zlib.decompress(data[off:off + size]))
            self.arrays.append(a)
            off += size
        self.seconds = self.header["seconds"]

    def restore(self, ex, violated) -> int:
        h = self.header
        flat, parent, via, depth_of, enabled, fired = self.arrays
        w = h["width"]
        for i in range(h["count"]):
            st = tuple(flat[i * w:(i + 1) * w])
            ex.index[st] = i
            ex.states.append(st)
        ex.parent.extend(parent)
        ex.via.extend(via)
        ex.depth_of.extend(depth_of)
        ex.enabled[:] = list(enabled)
        ex.fired[:] = list(fired)
        ex.transitions = h["transitions"]
        ex.initial_count = h["initial_count"]
        ex.violations = [tuple(v) for v in h["violations"]]
        seen = h.get("premise_seen", [])
        ex.premise_seen[:len(seen)] = seen
        violated.update(h["violated"])
        return h["cursor"]
