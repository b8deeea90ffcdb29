"""The compiled backend's exploration: the ExplorationBase fields over the packed store in C.

States, parents, vias and depths are read from the library on demand (`states[i]` decodes one
packed key), so a result or a trace costs only what it reads."""

from __future__ import annotations

import bisect
import ctypes

from ...types import TBool
from ..exploration import ExplorationBase
from .status import Info


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
        n = self.ex._n
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("state index out of range")
        return self.item(i)


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


class FastExploration(ExplorationBase):
    """ExplorationBase over the packed store of the compiled backend."""

    backend = "c"

    def __init__(self, model, lib):
        super().__init__(model)
        self.lib = lib
        self._ctx = None
        self._n = 0
        self._levels = [0]
        self.states = _States(self)
        self.parent = _Parent(self)
        self.via = _Via(self)
        self.depth_of = _DepthOf(self)
        self.store_bytes = 0
        self.init_violations = []
        self._vals = (ctypes.c_int64 * max(1, lib.ns))()
        self._bools = [i for i, t in enumerate(model.slot_types()) if isinstance(t, TBool)]

    def _get(self, i):
        via = ctypes.c_int64()
        par = self.lib.get(self._ctx, i, self._vals, ctypes.byref(via))
        vals = list(self._vals)
        for j in self._bools:
            vals[j] = bool(vals[j])
        return tuple(vals), par, via.value

    def info(self) -> Info:
        info = Info()
        self.lib.info(self._ctx, ctypes.byref(info))
        self._n = info.n
        return info

    def read_levels(self, info):
        levels = (ctypes.c_int64 * max(1, info.nlvl))()
        self.lib.levels(self._ctx, levels)
        self._levels = list(levels)[:info.nlvl] or [0]

    def close(self):
        if self._ctx:
            self.lib.free(self._ctx)
            self._ctx = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
