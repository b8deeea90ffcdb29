"""Checkpoints: the search position (one integer, the cursor) and the arrays it needs, as plain data.

File: MAGIC, an 8-byte header length, a JSON header, then zlib-compressed little-endian integer
arrays: the states (flattened, int64), parent (int64), via (int64), depth (int32), enabled and
fired (int64). The header carries a SHA-256 digest over the model's fingerprint, the canonical
header and every uncompressed array, so a checkpoint is bound to its spec and to its own content:
a changed cursor, count or array is refused, not resumed into a wrong "ok". Reading is bounded
(header size, and each array decompressed to exactly the size the header implies) and every field
is checked, so a damaged file is one message and exit code 2. Either backend writes and reads the
same format. Never pickle.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import zlib
from array import array

from ..errors import SpecError
from ..types import TBool

MAGIC = b"MMXCKPT2"
MAX_HEADER = 1 << 26
ARRAYS = (("states", "q"), ("parent", "q"), ("via", "q"), ("depth_of", "i"), ("enabled", "q"), ("fired", "q"))
_INT_FIELDS = ("width", "count", "cursor", "transitions", "initial_count")


def model_fingerprint(model) -> str:
    h = hashlib.sha256(model.source_code.encode())
    h.update(repr([inv.name for inv in model.invariant_list]).encode())
    return h.hexdigest()


def _digest(fingerprint, header, raws) -> str:
    h = hashlib.sha256(b"mm-explorer checkpoint\0" + fingerprint.encode() + b"\0")
    h.update(json.dumps({k: v for k, v in header.items() if k != "digest"}, sort_keys=True).encode())
    for raw in raws:
        h.update(len(raw).to_bytes(8, "little"))
        h.update(raw)
    return h.hexdigest()


def _raw(a: array) -> bytes:
    if sys.byteorder != "little":  # pragma: no cover - the format is little-endian everywhere
        a = array(a.typecode, a)
        a.byteswap()
    return a.tobytes()


def save(path, model, fields, arrays):
    """Write a checkpoint atomically. `fields`: the header values; `arrays`: six arrays, in ARRAYS order."""
    header = dict(fields)
    header["fingerprint"] = model_fingerprint(model)
    parts = [a if isinstance(a, array) and a.typecode == tc else array(tc, a) for a, (_, tc) in zip(arrays, ARRAYS)]
    raws = [_raw(p) for p in parts]
    blobs = [zlib.compress(r, 1) for r in raws]
    header["blobs"] = [len(b) for b in blobs]
    header["digest"] = _digest(header["fingerprint"], header, raws)
    head = json.dumps(header).encode()
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, f".{os.path.basename(path)}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(MAGIC + len(head).to_bytes(8, "little") + head)
            for b in blobs:
                f.write(b)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def python_arrays(ex):
    """The six arrays of a Python-backend exploration."""
    flat = array("q", (int(v) for st in ex.states for v in st))
    return [flat, ex.parent, ex.via, ex.depth_of, array("q", ex.enabled), array("q", ex.fired)]


def fields_of(ex, cursor, violated, width):
    return {"width": width, "count": len(ex.states), "cursor": cursor, "transitions": ex.transitions,
            "initial_count": ex.initial_count, "seconds": float(ex.seconds or 0.0), "cut": bool(ex.cut),
            "violations": [list(v) for v in ex.violations], "violated": sorted(violated),
            "premise_seen": [bool(x) for x in ex.premise_seen]}


class Checkpoint:
    """A checkpoint read back and checked field by field against the model it is resumed on."""

    def __init__(self, path, model):
        self.path = path
        try:
            with open(path, "rb") as f:
                self._read(f, model)
        except OSError as e:
            self._bad(e.strerror or str(e))

    def _bad(self, why):
        raise SpecError(None, f"--resume {self.path}: {why}")

    def _read(self, f, model):
        if f.read(len(MAGIC)) != MAGIC:
            self._bad("not an mm-explorer checkpoint (or one of an older format)")
        n = int.from_bytes(f.read(8), "little")
        if not 0 < n <= MAX_HEADER:
            self._bad("the checkpoint header is damaged (impossible length)")
        try:
            h = json.loads(f.read(n))
        except (ValueError, UnicodeDecodeError):
            self._bad("the checkpoint header is damaged")
        if not isinstance(h, dict):
            self._bad("the checkpoint header is damaged")
        if h.get("fingerprint") != model_fingerprint(model):
            self._bad("the checkpoint was written for another spec, config or constants")
        self._check_header(h, model)
        self.header = h
        expect = [h["count"] * h["width"], h["count"], h["count"], h["count"], len(model.instances), len(model.instances)]
        raws = []
        self.arrays = {}
        for (name, tc), size, items in zip(ARRAYS, h["blobs"], expect):
            want = items * array(tc).itemsize
            raw = self._inflate(f, size, want, name)
            raws.append(raw)
            a = array(tc)
            a.frombytes(raw)
            if sys.byteorder != "little":  # pragma: no cover
                a.byteswap()
            self.arrays[name] = a
        if f.read(1):
            self._bad("the checkpoint has trailing data")
        if _digest(h["fingerprint"], h, raws) != h.get("digest"):
            self._bad("the checkpoint's content does not match its digest (damaged or edited)")
        self._check_arrays(model)
        self.seconds = h["seconds"]

    def _inflate(self, f, size, want, name):
        """Exactly `want` bytes from the next `size` compressed bytes: never more is allocated."""
        data = f.read(size)
        if len(data) != size:
            self._bad(f"the checkpoint is truncated (in the {name} array)")
        z = zlib.decompressobj()
        try:
            out = z.decompress(data, want)
            extra = z.decompress(z.unconsumed_tail, 1) if z.unconsumed_tail else b""
        except zlib.error:
            self._bad(f"the checkpoint's {name} array is damaged")
        if len(out) != want or extra or not z.eof:
            self._bad(f"the checkpoint's {name} array has the wrong size")
        return out

    def _check_header(self, h, model):
        def is_int(v):
            return isinstance(v, int) and not isinstance(v, bool)
        for k in _INT_FIELDS:
            if not is_int(h.get(k)) or h[k] < 0:
                self._bad(f"the checkpoint's '{k}' is not a non-negative integer")
        if h["width"] != len(model.slot_types()):
            self._bad("the checkpoint's state width does not match the model")
        if not (h["initial_count"] <= h["count"] and h["cursor"] <= h["count"]):
            self._bad("the checkpoint's counts are inconsistent")
        s = h.get("seconds")
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s < 0:
            self._bad("the checkpoint's 'seconds' is not a time")
        if not isinstance(h.get("cut"), bool):
            self._bad("the checkpoint's 'cut' is not true or false")
        ninv, nprobe = len(model.invariant_list), len(model.probes)
        v = h.get("violations")
        if not isinstance(v, list) or not all(isinstance(p, list) and len(p) == 2 and all(map(is_int, p))
                                              and 0 <= p[0] < ninv and 0 <= p[1] < h["count"] for p in v):
            self._bad("the checkpoint's violations are damaged")
        vs = h.get("violated")
        if not isinstance(vs, list) or not all(is_int(i) and 0 <= i < ninv for i in vs):
            self._bad("the checkpoint's violated invariants are damaged")
        ps = h.get("premise_seen")
        if not isinstance(ps, list) or len(ps) > nprobe or not all(isinstance(b, bool) for b in ps):
            self._bad("the checkpoint's premise flags are damaged")
        b = h.get("blobs")
        if not isinstance(b, list) or len(b) != len(ARRAYS) or not all(is_int(x) and 0 < x <= 1 << 40 for x in b):
            self._bad("the checkpoint's array table is damaged")
        if not isinstance(h.get("digest"), str):
            self._bad("the checkpoint has no digest")

    def _check_arrays(self, model):
        """Parent pointers point back, depths grow by one along them (BFS order), vias name instances."""
        h, a = self.header, self.arrays
        parent, via, depth = a["parent"], a["via"], a["depth_of"]
        ninst, init = len(model.instances), h["initial_count"]
        for i in range(h["count"]):
            p = parent[i]
            if i < init:
                ok = p == -1 and via[i] == -1 and depth[i] == 0
            else:
                ok = 0 <= p < i and 0 <= via[i] < ninst and depth[i] == depth[p] + 1 and depth[i] >= depth[i - 1]
            if not ok:
                self._bad(f"the checkpoint's state {i} has an impossible parent, action or depth")
        if any(x < 0 for x in a["enabled"]) or any(x < 0 for x in a["fired"]):
            self._bad("the checkpoint's coverage counts are damaged")

    def states(self, model):
        """The states as tuples, booleans as the reference backend holds them."""
        flat, w = self.arrays["states"], self.header["width"]
        bools = [i for i, t in enumerate(model.slot_types()) if isinstance(t, TBool)]
        for i in range(self.header["count"]):
            st = list(flat[i * w:(i + 1) * w])
            for j in bools:
                st[j] = bool(st[j])
            yield tuple(st)

    def restore_counters(self, ex, violated):
        """What both backends take back as it was: counters, violations, flags."""
        h, a = self.header, self.arrays
        ex.enabled[:] = list(a["enabled"])
        ex.fired[:] = list(a["fired"])
        ex.transitions = h["transitions"]
        ex.initial_count = h["initial_count"]
        ex.violations = [tuple(v) for v in h["violations"]]
        ex.cut = h["cut"]
        seen = h["premise_seen"]
        ex.premise_seen[:len(seen)] = seen
        violated.update(h["violated"])
        ex.resumed_from = self.path

    def restore(self, ex, violated) -> int:
        """Fill a Python-backend exploration; returns the cursor."""
        for i, st in enumerate(self.states(ex.model)):
            ex.index[st] = i
            ex.states.append(st)
        ex.parent.extend(self.arrays["parent"])
        ex.via.extend(self.arrays["via"])
        ex.depth_of.extend(self.arrays["depth_of"])
        self.restore_counters(ex, violated)
        return self.header["cursor"]


Resume = Checkpoint  # the name api.check knows


def save_checkpoint(path, model, ex, cur, violated):
    """Checkpoint a Python-backend exploration."""
    width = len(ex.states[0]) if len(ex.states) else len(model.slot_types())
    save(path, model, fields_of(ex, cur, violated, width), python_arrays(ex))
