"""Checkpoints of the compiled backend, in the reference backend's format (checkpoint.py): the C
store dumped as slot values, parents and vias, depths from the level table; and read back into a
fresh context with the level table, cursor and counters, so either backend resumes either's."""

from __future__ import annotations

import ctypes
from array import array

from .. import checkpoint


class LoadFailed(Exception):
    """The checkpoint's states do not fit this library (a value outside its domain, memory)."""


def _depths(levels, n):
    out = array("i")
    for d, start in enumerate(levels):
        end = levels[d + 1] if d + 1 < len(levels) else n
        if end > start:
            out.extend(array("i", [d]) * (end - start))
    return out


def c_array(seq):
    return (ctypes.c_int64 * max(1, len(seq)))(*seq)


def _view(a):
    """An int64 array as a C array without a copy."""
    return (ctypes.c_int64 * max(1, len(a))).from_buffer(a) if len(a) else (ctypes.c_int64 * 1)()


def save(path, model, ex, violated):
    lib, n, ns = ex.lib, ex._n, ex.lib.ns
    vals = (ctypes.c_int64 * max(1, n * ns))()
    par, via = (ctypes.c_int64 * max(1, n))(), (ctypes.c_int64 * max(1, n))()
    lib.dump(ex._ctx, vals, par, via)
    arrays = [array("q", memoryview(vals).cast("B").cast("q")[:n * ns]), array("q", par[:n]), array("q", via[:n]),
              _depths(ex._levels, n), array("q", ex.enabled), array("q", ex.fired)]
    fields = checkpoint.fields_of(ex, ex.cursor, violated, ns)
    fields["count"] = n
    checkpoint.save(path, model, fields, arrays)


def restore(ex, ck, violated) -> None:
    """Load checkpoint `ck` into the empty context of `ex` and put the search where it was."""
    lib, ctx, h, a = ex.lib, ex._ctx, ck.header, ck.arrays
    n = h["count"]

    r = lib.load(ctx, n, _view(a["states"]), _view(a["parent"]), _view(a["via"]))
    if r != 0:
        raise LoadFailed("a state of the checkpoint does not fit the compiled layout" if r == -1 else "out of memory")
    depth = a["depth_of"]
    cur = h["cursor"]
    d = depth[cur] if cur < n else (depth[n - 1] if n else 0)
    starts = [0]
    for i in range(1, n):  # the first state of each depth
        if depth[i] != depth[i - 1]:
            starts.append(i)
    starts = starts[:d + 1]
    end = next((i for i in range(starts[-1], n) if depth[i] > d), n)
    lvl = starts + [end]
    ck.restore_counters(ex, violated)
    vinv = [v for v, _ in ex.violations]
    vidx = [i for _, i in ex.violations]
    r = lib.set_position(ctx, len(lvl), c_array(lvl), d, cur, ex.transitions, int(ex.cut), c_array(ex.enabled),
                         c_array(ex.fired), len(vinv), c_array(vinv), c_array(vidx))
    if r != 0:
        raise LoadFailed("the checkpoint does not fit the compiled search")
    ex._n = n
    ex.initial_count = h["initial_count"]
