"""Projection of states on whole variables: which variables, and the key of a state."""

from __future__ import annotations

import re
from operator import itemgetter

from ..result import projection_variables


def resolve_projection(model, names):
    """Variables to project on: names of variables or of variable groups; default: non-ghost ones."""
    from ..result import layout
    return projection_variables(layout(model), names)


class Projection:
    """Projects a state tuple on whole variables; the key is the tuple of decoded slot values."""

    def __init__(self, model, variables):
        names = model.slot_names()
        types = model.slot_types()
        idx = []
        for name in variables:
            var = model.variables[name]
            idx.extend(range(var.base, var.base + var.size))
        self.variables = list(variables)
        self.names = [names[i] for i in idx]
        self._leaf = model.leaf_value
        self._types = [types[i] for i in idx]
        if len(idx) > 1:
            self._get = itemgetter(*idx)
        elif idx:
            i0 = idx[0]
            self._get = lambda s: (s[i0],)
        else:
            self._get = lambda s: ()
        self._cache = {}

    def key(self, state):
        raw = self._get(state)
        k = self._cache.get(raw)
        if k is None:
            k = self._cache[raw] = tuple(self._leaf(v, t) for v, t in zip(raw, self._types))
        return k


_SLOT_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\]]*\])*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?$")


def nested_builder(names):
    """key -> the projected state as nested data shaped like a decoded state (projected variables
    only): {var: value | {index: ... {field: value}}}."""
    paths = []
    for name in names:
        m = _SLOT_RE.match(name)
        var, idx, field = m.group(1), re.findall(r"\[([^\]]*)\]", m.group(2)), m.group(3)
        paths.append((var, idx, field))

    def build(key):
        out = {}
        for (var, idx, field), v in zip(paths, key):
            if v is None:  # a slot the other side has and this one does not
                continue
            if not idx and field is None:
                out[var] = v
                continue
            d = out.setdefault(var, {})
            for j, x in enumerate(idx):
                if j == len(idx) - 1 and field is None:
                    d[x] = v
                else:
                    d = d.setdefault(x, {})
            if field is not None:
                d[field] = v
        return out
    return build
