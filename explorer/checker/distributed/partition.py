"""One partition of a distributed exploration: the states whose packed form hashes to it.

A Partition is plain Python (the Ray backend wraps it in an actor; the tests can also drive it
directly). It owns its states, their global indices, parent pointers and the instance that first
reached them, and the current BFS frontier. A level is three calls from the driver:

1. `expand()` runs the compiled successor function over the frontier (in global-index order)
   and returns one batch per partition: the successors' packed bytes, their keys
   (parent's global index << KEY_BITS | position in the parent's successor list) and instances;
2. `receive(*batches)` keeps the candidates it has not seen, each with its smallest key, sorted by
   key, checks the invariants and premise probes on them and returns the keys and the events;
3. `commit(gidx)` gives the first len(gidx) of those candidates their global indices.

The smallest key of a state is where the single-machine engine first meets it, so numbering all
partitions' candidates by key reproduces its numbering (and its first violation) exactly.
"""

from __future__ import annotations

import zlib
from array import array
from bisect import bisect_left

from ...errors import EvalError

KEY_BITS = 24  # successor positions per state; more is refused (the key would be ambiguous)
RUNTIME_ERRORS = (EvalError, ZeroDivisionError, IndexError, KeyError, TypeError)


def owner(packed: bytes, n: int) -> int:
    """The partition of a packed state: the same on every process (unlike hash())."""
    return zlib.crc32(packed) % n


class Codec:
    """States as fixed-width machine integers: `typecode` chosen from the slots' domains."""

    def __init__(self, typecode, width, bools):
        self.typecode, self.width, self.bools = typecode, width, list(bools)

    def pack(self, state) -> bytes:
        return array(self.typecode, state).tobytes()

    def unpack_all(self, blob):
        flat = array(self.typecode, blob).tolist()
        w, bools = self.width, self.bools
        out = []
        for i in range(0, len(flat), w):
            vals = flat[i:i + w]
            for j in bools:
                vals[j] = vals[j] != 0
            out.append(tuple(vals))
        return out


def namespace(source, runtime):
    """The generated module's globals, as the language layer builds them."""
    from ...lang.runtime import RUNTIME
    ns = dict(RUNTIME)
    for i, obj in enumerate(runtime):
        ns[f"_K{i}"] = obj
    exec(compile(source, "<spec>", "exec"), ns)
    return ns


class Partition:
    def __init__(self, me, n, payload):
        from ...version import __version__
        if payload["version"] != __version__:
            raise RuntimeError(f"this node runs mm-explorer {__version__}, the driver {payload['version']}")
        self.me, self.n = me, n
        self.codec = Codec(payload["typecode"], payload["width"], payload["bools"])
        ns = namespace(payload["source"], payload["runtime"])
        self.succ = ns["_next"]
        self.first_violated = ns["_inv_first"]
        self.inv_fns = [ns[f"_inv{i}"] for i in range(payload["invariants"])]
        self.probe_fns = [ns[f"_probe{j}"] for j in range(payload["probes"])]
        self.continue_all = payload["continue_all"]
        self.check_inv = payload["check_invariants"] and bool(self.inv_fns)
        self.deadlock = payload["deadlock"]
        self.n_inst = payload["instances"]
        self.index = {}  # packed state -> global index
        self.gidx = array("q")  # global indices of the stored states, increasing
        self.packed = []
        self.parent = array("q")
        self.via = array("q")
        self.frontier = []  # (global index, state) of the current level, by global index
        self.pending = []  # (key, packed, state, via) of this level's candidates, by key
        self.sent = [0] * n  # bytes sent to each partition

    # --- the three steps of a level -------------------------------------------------------------
    def expand(self, grow=True):
        """One batch per partition plus a summary. With grow=False (the frontier is at the
        depth limit) the successors are only routed so that their owners can say if any is new."""
        out = [(array("q"), [], array("i")) for _ in range(self.n)]
        pack, n, index, sent = self.codec.pack, self.n, self.index, set()
        summary = {"transitions": 0, "fired": [0] * self.n_inst, "enabled": [0] * self.n_inst,
                   "error": None, "deadlock": None}
        fired, enabled = summary["fired"], summary["enabled"]
        for g, state in self.frontier:
            try:
                succ = self.succ(state)
            except RUNTIME_ERRORS:
                summary["error"] = g
                break
            if not grow:
                pass
            elif not succ:
                if self.deadlock:
                    summary["deadlock"] = g
                    break
                continue
            else:
                summary["transitions"] += len(succ)
                _count(succ, len(succ), fired, enabled)
            if len(succ) >= 1 << KEY_BITS:
                raise ValueError(f"a state has more than {1 << KEY_BITS} successors")
            base = g << KEY_BITS
            for j, (k, t) in enumerate(succ):
                b = pack(t)
                if b in sent or b in index:  # its first (smallest) key has already been sent,
                    continue                 # or it is one of this partition's own states
                sent.add(b)
                keys, blobs, vias = out[owner(b, n)]
                keys.append(base | j)
                blobs.append(b)
                vias.append(k)
        batches = []
        for dest, (keys, blobs, vias) in enumerate(out):
            blob = b"".join(blobs)
            self.sent[dest] += len(blob) + 8 * len(keys) + 4 * len(vias)
            batches.append((keys.tobytes(), blob, vias.tobytes()))
        summary["sent"] = list(self.sent)
        return (*batches, summary)

    def receive(self, grow, violated, pending_probes, *batches):
        """The new candidates of this level, by key; their keys and the events found in them."""
        best = {}
        for keys, blob, vias in batches:
            keys = array("q", keys)
            vias = array("i", vias)
            w = len(blob) // len(keys) if keys else 0
            index = self.index
            for i, key in enumerate(keys):
                b = blob[i * w:(i + 1) * w]
                if b in index:
                    continue
                old = best.get(b)
                if old is None or key < old[0]:
                    best[b] = (key, vias[i])
        if not grow:
            self.pending = []
            return {"any_new": bool(best)}
        order = sorted(best.items(), key=lambda kv: kv[1][0])
        states = self.codec.unpack_all(b"".join(b for b, _ in order))
        self.pending = [(key, b, st, k) for (b, (key, k)), st in zip(order, states)]
        return self._judge(violated, pending_probes)

    def _judge(self, violated, pending_probes):
        events = []  # (key, invariant outcomes) for states where an invariant fails or raises
        probes = {}  # probe -> smallest key where its premise held
        waiting = list(pending_probes)
        for key, _, st, _ in self.pending:
            if self.check_inv:
                ev = self._outcomes(st, violated)
                if ev:
                    events.append((key, ev, st))
            for j in list(waiting):
                try:
                    held = self.probe_fns[j](st)
                except EvalError:
                    held = False
                if held:
                    probes[j] = key
                    waiting.remove(j)
        keys = array("q", (p[0] for p in self.pending)).tobytes()
        return {"keys": keys, "events": events, "probes": probes, "rss": _rss_mib()}

    def _outcomes(self, st, violated):
        """[(invariant, 'false' | 'error')] as the engine's checker would meet them."""
        if not self.continue_all:
            try:
                v = self.first_violated(st)
            except EvalError:
                return [(-1, "error")]
            return [(v, "false")] if v >= 0 else []
        out = []
        for i, fn in enumerate(self.inv_fns):
            if i in violated:
                continue
            try:
                if not fn(st):
                    out.append((i, "false"))
            except EvalError:
                out.append((i, "error"))
        return out

    def commit(self, gidx, depth_grows=True):
        """The first len(gidx) pending candidates become states with these global indices; they
        are the next frontier."""
        gidx = array("q", gidx)
        frontier = []
        for g, (key, b, st, k) in zip(gidx, self.pending):
            self.index[b] = g
            self.gidx.append(g)
            self.packed.append(b)
            self.parent.append(key >> KEY_BITS)
            self.via.append(k)
            frontier.append((g, st))
        self.pending = []
        self.frontier = frontier
        return len(frontier)

    def seed(self, gidx, blob, parents, vias):
        """Initial (or restored) states with their global indices, as the next frontier."""
        states = self.codec.unpack_all(blob)
        w = len(blob) // len(states) if states else 0
        self.pending = [((p << KEY_BITS) if p >= 0 else -1 << KEY_BITS, blob[i * w:(i + 1) * w], st, k)
                        for i, (st, p, k) in enumerate(zip(states, parents, vias))]
        return self.commit(gidx)

    # --- questions after a level ----------------------------------------------------------------
    def tally(self, limit, pos):
        """Transitions, fired and enabled counts of the frontier's parents before global index
        `limit`, and of `limit` itself up to successor position `pos` (all of it if pos < 0
        and pos != -2; nothing if pos == -2)."""
        fired, enabled = [0] * self.n_inst, [0] * self.n_inst
        transitions = 0
        for g, state in self.frontier:
            if g > limit or (g == limit and pos == -2):
                break
            succ = self.succ(state)
            transitions += len(succ)
            upto = len(succ) if g < limit or pos < 0 else pos + 1
            _count(succ, upto, fired, enabled)
        return transitions, fired, enabled

    def first_nonempty(self, start):
        """The smallest global index >= start in the frontier with at least one successor (or
        whose successors cannot be computed: the run stops there anyway)."""
        i = bisect_left([g for g, _ in self.frontier], start)
        for g, state in self.frontier[i:]:
            try:
                if self.succ(state):
                    return g
            except RUNTIME_ERRORS:
                return g
        return None

    def lookup(self, wanted):
        """{global index: (packed state, parent, via)} for the wanted indices stored here."""
        out = {}
        for g in wanted:
            i = bisect_left(self.gidx, g)
            if i < len(self.gidx) and self.gidx[i] == g:
                out[g] = (self.packed[i], self.parent[i], self.via[i])
        return out

    def stats(self):
        return {"states": len(self.gidx), "sent": list(self.sent), "rss": _rss_mib()}


def _count(succ, upto, fired, enabled):
    prev = -1
    for k, _ in succ[:upto]:
        fired[k] += 1
        if k != prev:
            enabled[k] += 1
            prev = k


def _rss_mib():
    from ..engine import rss_mib
    return rss_mib()
