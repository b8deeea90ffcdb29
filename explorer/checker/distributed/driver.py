"""The driver of a distributed exploration: level-synchronous BFS over Partition actors.

Per level the driver sees only summaries, the sorted keys of each partition's new states (8 bytes
a state) and rare events; successor batches go from actor to actor through the object store. It
numbers the level's new states by key across partitions, which is the reference engine's order,
and settles where the level stops (a violation, an error, a deadlock, max states) by the engine's
rules, so counts, cursor and the first violation equal the single-machine run's.
"""

from __future__ import annotations

import time
from bisect import bisect_right

from .. import signals
from ...errors import EvalError
from ..bfs import RUNTIME_ERRORS, memory_reason
from ..exploration import Stop, rss_mib
from ..invariants import locate
from .partition import KEY_BITS, Codec, owner

POLL = 0.25
ALL = (1 << KEY_BITS) - 1
KEEP_ALL = (1 << 63) - 1


class Driver:
    def __init__(self, ray, model, opts, actors, ex, codec: Codec):
        import numpy
        self.np = numpy
        self.ray, self.model, self.opts, self.actors, self.ex, self.codec = ray, model, opts, actors, ex, codec
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + opts.timeout if opts.timeout else None
        self.last_progress = self.t0
        self.violated = set()
        self.level_start = 0  # global index of the current frontier's first state
        self.n = 0  # states numbered so far
        self.depth = 0
        self.sent = [[0] * len(actors) for _ in actors]
        self.actor_mib = [0.0] * len(actors)
        self.interrupted = False
        self.halted = False
        self.levels = [0]
        self.cursor = 0
        self.level_probes = {}

    # --- waiting with limits ------------------------------------------------------------------
    def get(self, refs):
        """ray.get with the time limit, progress and Ctrl-C checked while the actors work; a stop
        abandons the level (nothing of it is recorded yet)."""
        pending = list(refs)
        while pending:
            _, pending = self.ray.wait(pending, num_returns=len(pending), timeout=POLL)
            now = time.perf_counter()
            if signals.requested():
                raise Stop("interrupted")
            if self.deadline is not None and now >= self.deadline:
                raise Stop(f"timeout of {self.opts.timeout:g} s reached")
            self.progress(now)
        return self.ray.get(list(refs))

    def progress(self, now, force=False):
        if self.opts.progress is not None and (force or now - self.last_progress >= 1.0):
            self.last_progress = now
            self.opts.progress({"states": self.n, "transitions": self.ex.transitions, "depth": self.depth,
                                "queue": self.n - self.level_start, "seconds": now - self.t0})

    def check_memory(self):
        """The memory limit holds for each process (the driver and every actor)."""
        mem = max([rss_mib()] + self.actor_mib)
        self.ex.peak_mib = max(self.ex.peak_mib, rss_mib() + sum(self.actor_mib))
        if self.opts.max_memory is not None and mem >= self.opts.max_memory:
            raise Stop(memory_reason(self.opts, mem))

    # --- initial states (numbered and checked here, as the compiled backend does) -------------
    def seed(self, inits, check_state, probe):
        ex = self.ex
        seen, chosen = set(), []
        for st in inits:
            if st in seen:
                continue
            seen.add(st)
            chosen.append(st)
            probe(st)
            if check_state(len(chosen) - 1, st):
                self.halted = True
                break
        parts = [([], [], []) for _ in self.actors]
        for g, st in enumerate(chosen):
            b = self.codec.pack(st)
            gi, blobs, _ = parts[owner(b, len(self.actors))]
            gi.append(g)
            blobs.append(b)
        self.ray.get([a.seed.remote(gi, b"".join(blobs), [-1] * len(gi), [-1] * len(gi))
                      for a, (gi, blobs, _) in zip(self.actors, parts)])
        ex.initial_count = self.n = len(chosen)
        return self.halted

    # --- one level ------------------------------------------------------------------------------
    def level(self):
        """Expand the frontier; True when the exploration is over."""
        np, opts, ex = self.np, self.opts, self.ex
        grow = opts.max_depth is None or self.depth < opts.max_depth
        k = len(self.actors)
        outs = [a.expand.options(num_returns=k + 1).remote(grow) for a in self.actors]
        pending = [j for j, seen in enumerate(ex.premise_seen) if not seen]
        recv = [a.receive.remote(grow, sorted(self.violated), pending, *[outs[j][i] for j in range(k)])
                for i, a in enumerate(self.actors)]
        summaries = self.get([o[k] for o in outs])
        judged = self.get(recv)
        return self.decide(grow, summaries, judged)  # a stop requested now waits for the next level

    def decide(self, grow, summaries, judged):
        np, opts, ex = self.np, self.opts, self.ex
        for i, s in enumerate(summaries):
            self.sent[i] = s["sent"]
        errors = [s["error"] for s in summaries if s["error"] is not None]
        deads = [s["deadlock"] for s in summaries if s["deadlock"] is not None]
        cut_at = min(errors + deads) if errors or deads else None
        if not grow:
            if cut_at is not None and errors and cut_at == min(errors):
                self.runtime_error(cut_at)
            elif any(j["any_new"] for j in judged):
                ex.stopped = f"max depth {opts.max_depth} reached"
            self.cursor = self.n if cut_at is None else cut_at
            self.halted = cut_at is not None or ex.stopped is not None
            return True
        for i, j in enumerate(judged):
            self.actor_mib[i] = j["rss"]
        keys = [np.frombuffer(j["keys"], dtype=np.int64) for j in judged]
        allkeys = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        allkeys.sort()
        stop, kind = self.settle(allkeys, judged, cut_at)
        self.level_probes = {}
        for j in judged:
            for probe, key in j["probes"].items():
                self.level_probes[probe] = min(key, self.level_probes.get(probe, key))
        self.account(summaries, stop, kind == "cut" and cut_at)
        self.commit(keys, allkeys, KEEP_ALL if stop is None else stop)
        if kind == "cut":
            if cut_at in errors:
                self.runtime_error(cut_at)
            else:
                ex.deadlock = cut_at
        elif kind == "max_states":
            ex.stopped = f"max states {opts.max_states} reached"
        self.halted = kind is not None
        return kind is not None or self.n == self.level_start

    def settle(self, allkeys, judged, cut_at):
        """(largest key kept, why) for this level; (None, None) when it is kept whole. The engine
        stops before an erring or deadlocked parent's successors, after the parent that reaches
        max states, and at the state that violates an invariant, whichever comes first."""
        stop, kind = (None, None) if cut_at is None else ((cut_at << KEY_BITS) - 1, "cut")
        ms = self.max_states_stop(allkeys, stop)
        if ms is not None and (stop is None or ms < stop):
            stop, kind = ms, "max_states"
        ev = self.first_event(judged, stop, allkeys)
        if ev is not None and (stop is None or ev <= stop):
            stop, kind = ev, "event"
        return stop, kind

    def first_event(self, judged, bound, allkeys):
        """Replay invariant outcomes in key order as the engine's checker would; the key of the
        state where it stops, or None."""
        events = sorted((e for j in judged for e in j["events"]), key=lambda e: e[0])
        ex = self.ex
        for key, outcomes, state in events:
            if bound is not None and key > bound:
                break
            g = self.n + int(self.np.searchsorted(allkeys, key))
            for inv, what in outcomes:
                if inv >= 0 and inv in self.violated:
                    continue
                if what == "error":
                    ex.error = (g, None, self.invariant_error(state))
                    return key
                if not self.opts.continue_all:
                    ex.violations.append((inv, g))
                    return key
                self.violated.add(inv)
                ex.violations.append((inv, g))
            if self.opts.continue_all and len(self.violated) == len(self.model.invariant_list) \
                    and self.model.worlds is None:
                return key
        return None

    def invariant_error(self, state):
        try:
            if not self.opts.continue_all:
                self.model.first_violated(state)
            else:
                for i in range(len(self.model.invariant_list)):
                    if i not in self.violated:
                        self.model.invariant_fn(i)(state)
        except EvalError as e:
            return e
        return EvalError(-1, "an invariant failed to evaluate on one node only")

    def max_states_stop(self, allkeys, bound):
        """The engine stops after the first parent with successors whose expansion leaves at
        least max_states states and a non-empty queue."""
        ms = self.opts.max_states
        if ms is None:
            return None
        parents = allkeys >> KEY_BITS
        p = self.level_start
        while True:
            if self.n + len(allkeys) < ms and self.n < ms:
                return None
            if self.n < ms:  # the first parent whose new states reach max_states
                p = max(p, int(parents[ms - self.n - 1]))
            p = self.first_nonempty(p)
            if p is None or (bound is not None and (p << KEY_BITS) > bound):
                return None
            count = self.n + int(self.np.searchsorted(parents, p, side="right"))
            if count >= ms and p + 1 < count:
                return (p << KEY_BITS) | ALL
            p += 1

    def first_nonempty(self, start):
        found = [g for g in self.get([a.first_nonempty.remote(start) for a in self.actors]) if g is not None]
        return min(found) if found else None

    def commit(self, keys, allkeys, limit):
        np = self.np
        kept = allkeys[:int(np.searchsorted(allkeys, limit, side="right"))]
        gidx = []
        for ka in keys:
            ka = ka[:int(np.searchsorted(ka, limit, side="right"))]
            gidx.append((self.n + np.searchsorted(kept, ka)).astype(np.int64).tobytes())
        self.probes(limit)
        self.ray.get([a.commit.remote(g) for a, g in zip(self.actors, gidx)])
        self.level_start = self.n
        self.n += len(kept)
        if len(kept):
            self.depth += 1
            self.levels.append(self.level_start)

    def probes(self, limit):
        for j, key in self.level_probes.items():
            if key <= limit:
                self.ex.premise_seen[j] = True

    def account(self, summaries, stop, cut_at):
        """Transition and coverage counts of this level up to where it stopped."""
        ex = self.ex
        if stop is None:
            parts = [(s["transitions"], s["fired"], s["enabled"]) for s in summaries]
            self.cursor = self.n
        else:
            p, pos = stop >> KEY_BITS, stop & ALL
            if cut_at is not False and cut_at is not None:
                p, pos = cut_at, -2
                self.cursor = cut_at
            else:
                pos = -1 if pos == ALL else pos
                self.cursor = p + 1
            parts = self.ray.get([a.tally.remote(p, pos) for a in self.actors])
        for t, fired, enabled in parts:
            ex.transitions += t
            for i, v in enumerate(fired):
                ex.fired[i] += v
            for i, v in enumerate(enabled):
                ex.enabled[i] += v

    def runtime_error(self, g):
        state = self.fetch([g])[g][0]
        ex = self.ex
        try:
            self.model.successors(state)
        except EvalError as e:
            ex.error = (g, locate(self.model, state), e)
            return
        except RUNTIME_ERRORS as e:
            ex.error = (g, locate(self.model, state), EvalError(-1, f"runtime error: {e}"))
            return
        ex.error = (g, None, EvalError(-1, "the successor function failed on one node only"))

    # --- after the run ----------------------------------------------------------------------------
    def fetch(self, wanted):
        """{global index: (state, parent, via)} asked of the owners."""
        out = {}
        for part in self.ray.get([a.lookup.remote(list(wanted)) for a in self.actors]):
            for g, (b, par, via) in part.items():
                out[g] = (self.codec.unpack_all(b)[0], par, via)
        return out

    def paths(self, ends):
        """Every state on the paths from the initial states to `ends`, walked back level by level."""
        cache = {}
        todo = {g for g in ends if g is not None and g >= 0}
        while todo:
            got = self.fetch(sorted(todo))
            cache.update(got)
            todo = {par for _, par, _ in got.values() if par >= 0 and par not in cache}
        return cache
