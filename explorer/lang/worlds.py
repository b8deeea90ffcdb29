"""Open worlds: constants a config leaves open, as sets of choices, and the worlds they span.

A spec declares under `choices:` which constants may be chosen and from which domain:

    choices:
      PAGES: 1..3                                   # an integer range
      START: [hole, populated]                      # one of these values
      FILE: {kind: [shmem, fs], sealed: bool}       # a record: each field its own domain
      VMAS: {count: 1..2, each: {uffd: {subset: [missing, wp]}, ...}}   # a list of 1 or 2 items

A config opens a constant with `{choose: all}` (the whole declared domain) or `{choose: [v, ...]}`
(some of its values), anywhere inside a record (`FILE: {kind: {choose: all}, sealed: false}`),
and a list constant with `{count: N or LO..HI, each: PATTERN}`. Every combination of the choices
is one world: the spec loaded with those constants. A world the spec's assumptions refuse is
dropped and counted; the others are composed into one model (`compose.py`).
"""

from __future__ import annotations

import itertools
import re

from ..errors import Refused, SpecError
from .yamlsrc import LDict, LList, key_pos, pos_of, reuse_parses

CHOOSE = "choose"
_RANGE_RE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$")
MAX_WORLDS = 100_000


class Domain:
    """The values a choosable constant (or a part of one) may take."""

    def __init__(self, kind, pos, items=None, lo=0, hi=0, fields=None, each=None):
        self.kind = kind  # int, bool, enum, subset, record, list
        self.pos = pos
        self.items = items or []
        self.lo, self.hi = lo, hi
        self.fields = fields or {}
        self.each = each

    def values(self):
        k = self.kind
        if k == "int":
            return list(range(self.lo, self.hi + 1))
        if k == "bool":
            return [False, True]
        if k == "enum":
            return list(self.items)
        if k == "subset":
            return [[x for x, on in zip(self.items, bits) if on]
                    for bits in itertools.product([False, True], repeat=len(self.items))]
        if k == "record":
            names = list(self.fields)
            return [dict(zip(names, combo)) for combo in itertools.product(*[self.fields[n].values() for n in names])]
        out = []
        each = self.each.values()
        for n in range(self.lo, self.hi + 1):
            out.extend(list(c) for c in itertools.product(each, repeat=n))
        return out

    def contains(self, v) -> bool:
        k = self.kind
        if k == "int":
            return type(v) is int and self.lo <= v <= self.hi
        if k == "bool":
            return type(v) is bool
        if k == "enum":
            return any(_same(v, x) for x in self.items)
        if k == "subset":
            return isinstance(v, list) and all(any(_same(x, y) for y in self.items) for x in v)
        if k == "record":
            return isinstance(v, dict) and set(v) == set(self.fields) and all(self.fields[f].contains(v[f]) for f in v)
        return isinstance(v, list) and self.lo <= len(v) <= self.hi and all(self.each.contains(x) for x in v)


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and str(a) == str(b)
    return type(a) is type(b) and a == b


def plain(v):
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, str):
        return str(v)
    return v


def _range(v, pos, what):
    if type(v) is int:
        return v, v
    m = _RANGE_RE.match(v) if isinstance(v, str) else None
    if not m or int(m.group(1)) > int(m.group(2)):
        raise SpecError(pos, f"{what} is an integer or a range LO..HI with LO <= HI")
    return int(m.group(1)), int(m.group(2))


def parse_domain(node, pos, what) -> Domain:
    """A domain as the spec writes it under `choices:`."""
    if node == "bool":
        return Domain("bool", pos)
    if isinstance(node, str) or type(node) is int:
        lo, hi = _range(node, pos, f"the domain of {what}")
        return Domain("int", pos, lo=lo, hi=hi)
    if isinstance(node, list):
        if not node:
            raise SpecError(pos, f"the domain of {what} lists no values")
        for i, x in enumerate(node):
            if isinstance(x, (dict, list)) or x is None:
                raise SpecError(pos_of(node, i, pos), f"a value in the domain of {what} is a symbol, integer or bool")
        return Domain("enum", pos, items=[plain(x) for x in node])
    if isinstance(node, dict):
        if set(node) == {"subset"}:
            items = node["subset"]
            if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
                raise SpecError(pos_of(node, "subset", pos), f"subset in the domain of {what} is a list of symbols")
            return Domain("subset", pos, items=[str(x) for x in items])
        if "each" in node or "count" in node:
            if set(node) != {"count", "each"}:
                raise SpecError(pos, f"a list domain ({what}) has exactly the keys count and each")
            lo, hi = _range(node["count"], pos_of(node, "count", pos), f"count of {what}")
            if lo < 0:
                raise SpecError(pos_of(node, "count", pos), f"count of {what} is not negative")
            each = parse_domain(node["each"], pos_of(node, "each", pos), f"{what} items")
            return Domain("list", pos, lo=lo, hi=hi, each=each)
        if CHOOSE in node:
            raise SpecError(key_pos(node, CHOOSE, pos), f"'{CHOOSE}' belongs in a config; a spec's choices give domains")
        fields = {str(k): parse_domain(v, pos_of(node, k, pos), f"{what}.{k}") for k, v in node.items()}
        return Domain("record", pos, fields=fields)
    raise SpecError(pos, f"the domain of {what} is LO..HI, bool, a list of values, {{subset: [...]}}, "
                         "{count: N, each: DOMAIN} or a mapping of fields to domains")


def is_open(v) -> bool:
    """Does a config value leave something open?"""
    if isinstance(v, dict):
        return CHOOSE in v or ("count" in v and "each" in v) or any(is_open(x) for x in v.values())
    if isinstance(v, list):
        return any(is_open(x) for x in v)
    return False


def expand(pattern, dom: Domain, pos, what):
    """The values a config pattern selects from a domain (a concrete value selects itself)."""
    if isinstance(pattern, dict) and CHOOSE in pattern:
        if len(pattern) != 1:
            raise SpecError(pos, f"{{{CHOOSE}: ...}} for {what} has no other keys")
        sel = pattern[CHOOSE]
        spos = pos_of(pattern, CHOOSE, pos)
        if sel == "all":
            return dom.values()
        if dom.kind == "int" and (isinstance(sel, str) or type(sel) is int):
            lo, hi = _range(sel, spos, f"{CHOOSE} for {what}")
            sel = list(range(lo, hi + 1))
        if not isinstance(sel, list) or not sel:
            raise SpecError(spos, f"{CHOOSE} for {what} is 'all' or a non-empty list of values")
        out = []
        for i, x in enumerate(sel):
            x = plain(x)
            if not dom.contains(x):
                raise SpecError(pos_of(sel, i, spos), f"{x!r} is not in the domain the spec declares for {what}")
            out.append(x)
        return out
    if dom.kind == "record" and isinstance(pattern, dict):
        for k in pattern:
            if k not in dom.fields:
                raise SpecError(key_pos(pattern, k, pos), f"unknown field '{k}' of {what}; it has: {', '.join(dom.fields)}")
        missing = [f for f in dom.fields if f not in pattern]
        if missing:
            raise SpecError(pos, f"{what} lacks field(s) {', '.join(missing)}")
        names = list(dom.fields)
        parts = [expand(pattern[n], dom.fields[n], pos_of(pattern, n, pos), f"{what}.{n}") for n in names]
        return [dict(zip(names, c)) for c in itertools.product(*parts)]
    if dom.kind == "list" and isinstance(pattern, dict):
        if set(pattern) != {"count", "each"}:
            raise SpecError(pos, f"an open list ({what}) has exactly the keys count and each")
        cpos = pos_of(pattern, "count", pos)
        lo, hi = _range(pattern["count"], cpos, f"count of {what}")
        if lo < dom.lo or hi > dom.hi:
            raise SpecError(cpos, f"count of {what} is within {dom.lo}..{dom.hi}, the spec's bound")
        each = expand(pattern["each"], dom.each, pos_of(pattern, "each", pos), f"{what} items")
        out = []
        for n in range(lo, hi + 1):
            out.extend(list(c) for c in itertools.product(each, repeat=n))
        return out
    if dom.kind == "list" and isinstance(pattern, list) and is_open(pattern):
        parts = [expand(x, dom.each, pos_of(pattern, i, pos), f"{what}[{i}]") for i, x in enumerate(pattern)]
        return [list(c) for c in itertools.product(*parts)]
    value = plain(pattern)
    if not dom.contains(value):
        raise SpecError(pos, f"{value!r} is not in the domain the spec declares for {what}")
    return [value]


def _root(spec_path):
    from . import yamlsrc
    import os
    doc = yamlsrc.load_file(spec_path, os.path.relpath(spec_path))
    return doc if isinstance(doc, LDict) else LDict()


def symmetric_sets(spec_path, model):
    """The root spec file's `symmetric:` list, checked against the model's sets."""
    doc = _root(spec_path)
    v = doc.get("symmetric")
    if v is None:
        return []
    if not isinstance(v, LList):
        raise SpecError(pos_of(doc, "symmetric"), "'symmetric' is a list of set names")
    out = []
    for i, name in enumerate(v):
        p = pos_of(v, i, pos_of(doc, "symmetric"))
        st = model.sets.get(str(name)) if isinstance(name, str) else None
        if st is None:
            raise SpecError(p, f"symmetric names '{name}', which is not a set of this spec")
        if st.values != list(range(len(st.values))) or str(name) in out:
            raise SpecError(p, f"symmetric set {name} must be range(N), named once")
        out.append(str(name))
    return out


def spec_choices(spec_path):
    """The root spec file's `choices:` as {name: Domain} (empty when it declares none)."""
    doc = _root(spec_path)
    if doc.get("choices") is None:
        return {}
    ch = doc["choices"]
    if not isinstance(ch, LDict):
        raise SpecError(pos_of(doc, "choices"), "'choices' maps constant names to their domains")
    consts = doc.get("constants") or {}
    out = {}
    for name, node in ch.items():
        if name not in consts:
            raise SpecError(key_pos(ch, name), f"choices names '{name}', which is not a constant of this module")
        out[str(name)] = parse_domain(node, pos_of(ch, name), str(name))
    return out


class World:
    """One combination of choices: its index, the chosen constants and a label."""

    def __init__(self, index, chosen, order):
        self.index = index
        self.chosen = chosen  # {name: plain value}
        self.label = " ".join(f"{k}={show(v)}" for k, v in chosen.items())
        self.size = tuple(_size(chosen[k]) for k in order if k in chosen)


def _size(v):
    if isinstance(v, list):
        return len(v)
    if type(v) is int:
        return v
    return 0


def show(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {show(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(show(x) for x in v) + "]"
    return str(v)


def open_names(consts) -> list:
    return [k for k, (v, *_) in consts.items() if is_open(v)]


def candidate_worlds(spec_path, consts):
    """Every combination of the open constants' choices, in the spec's `choices:` order."""
    domains = spec_choices(spec_path)
    names = open_names(consts)
    per = []
    for name in names:
        v, kpos, *rest = consts[name]
        vpos = rest[0] if rest else kpos
        if name not in domains:
            raise SpecError(vpos, f"constant {name} is left open, but the spec declares no choices for it"
                            + (f" (it declares: {', '.join(domains)})" if domains else " (it has no 'choices:')"))
        per.append(expand(v, domains[name], vpos, name))
    total = 1
    for p in per:
        total *= len(p)
    if total > MAX_WORLDS:
        raise SpecError(consts[names[0]][1], f"the open constants span {total:,} worlds, more than {MAX_WORLDS:,}")
    order = [n for n in domains if n in names]
    return [dict(zip(names, c)) for c in itertools.product(*per)], order


def load_worlds(spec_path, consts, load_one):
    """Load every world (`load_one(overrides)` -> Model); returns (worlds, models, refused) where
    refused lists (label, message) of the worlds the spec's assumptions reject."""
    combos, order = candidate_worlds(spec_path, consts)
    worlds, models, refused = [], [], []
    with reuse_parses():
        for chosen in combos:
            ov = dict(consts)
            for name, value in chosen.items():
                entry = consts[name]
                ov[name] = (value,) + tuple(entry[1:])
            w = World(len(worlds), {n: chosen[n] for n in order}, order)
            try:
                m = load_one(ov)
            except Refused as e:
                refused.append((w.label, e.message))
                continue
            worlds.append(w)
            models.append(m)
    if not worlds:
        first = refused[0][1] if refused else "no world"
        raise SpecError(None, f"every one of the {len(refused)} world(s) is refused by the spec's assumptions (first: {first})")
    return worlds, models, refused


def load_open(spec_path, consts, load_one, pos):
    """The composed model of every world an open config spans."""
    from .compose import WorldsModel
    worlds, models, refused = load_worlds(spec_path, consts, load_one)
    return WorldsModel(worlds, models, refused, pos)
