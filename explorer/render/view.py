"""What every renderer draws, computed from a result's plain data alone.

A result (the JSON of `check --json`, or the smaller trace document of `--trace-json`) holds the
trace as decoded states and the "variables" layout: per variable its index sets (`over`), record
fields (`record`), `ghost` and `group`. From these this module builds

- the groups a state is drawn in: one table per group, one row per index (per page, per VMA,
  per PTE, ...), one column per variable or record field;
- per step the changed slots, and which rows a folded state shows;
- the slots marked in the last state of a counterexample: the "culprits" stored with the result
  when the check computed them, else the variables the invariant's text names.

Nothing here needs the spec or the model, so a saved file renders the same as a fresh check.
"""

from __future__ import annotations

import json
import re

from ..errors import Pos, SpecError
from ..report import flatten, invariant_doc, show_value, step_title, world_lines

TRACE_SCHEMA = "mm-explorer/trace/1"


# --- reading a saved result or trace --------------------------------------------------------------
def load_doc(path: str) -> dict:
    """A saved result or trace document, checked enough that rendering cannot fail half-way."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise SpecError(Pos(path, 1, 1), "not a JSON file (it is not UTF-8 text)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(Pos(path, e.lineno, e.colno), f"not valid JSON: {e.msg}") from None
    check_doc(data, path)
    return data


def check_doc(data, where: str):
    pos = Pos(where, 1, 1)
    if not isinstance(data, dict) or not isinstance(data.get("variables"), dict) or "trace" not in data:
        raise SpecError(pos, "not an mm-explorer result or trace (write one with check --json or --trace-json)")
    trace = data["trace"]
    if not isinstance(trace, list):
        raise SpecError(pos, "'trace' is not a list of steps")
    if not trace:
        raise SpecError(pos, f"there is no trace to show (verdict {data.get('verdict') or 'unknown'}: "
                             f"{data.get('message') or 'no counterexample'})")
    for n, st in enumerate(trace):
        if not isinstance(st, dict) or not (st.get("state") is None or isinstance(st.get("state"), dict)):
            raise SpecError(pos, f"trace step {n} is not an object with a 'state'")
        if st.get("state") is None and n != len(trace) - 1:
            raise SpecError(pos, f"trace step {n} has no state and is not the last step")
    if trace[0].get("state") is None:
        raise SpecError(pos, "the trace's first step has no state")
    for name, info in data["variables"].items():
        if not isinstance(info, dict):
            raise SpecError(pos, f"variable '{name}' in 'variables' is not an object")
    try:
        for st in trace:
            if st.get("state") is not None:
                flatten(st["state"], data["variables"])
    except (AttributeError, KeyError, TypeError):
        raise SpecError(pos, "a state in the trace does not have the shape 'variables' describes") from None


def trace_document(data: dict) -> dict:
    """The part of a result that renders a trace (what --trace-json writes)."""
    keep = ("tool", "version", "verdict", "invariant", "message", "spec", "config", "module", "constants",
            "invariants_checked", "invariant_exprs", "variables", "trace", "culprits", "error")
    doc = {"schema": TRACE_SCHEMA, "result_schema": data.get("schema")}
    for k in keep:
        if k in data:
            doc[k] = data[k]
    stats = data.get("stats") or {}
    doc["stats"] = {k: stats[k] for k in ("distinct_states", "transitions", "depth") if k in stats}
    return doc


# --- values -----------------------------------------------------------------------------------------
def show(v) -> str:
    """A value in a diagram cell: T / F for booleans, the value itself otherwise."""
    return show_value(v, "cell")


def show_long(v) -> str:
    """A value in running text: true / false for booleans."""
    return show_value(v, "yaml")


# --- groups -------------------------------------------------------------------------------------------
class Column:
    __slots__ = ("label", "var", "field")

    def __init__(self, label, var, field):
        self.label, self.var, self.field = label, var, field


class Row:
    __slots__ = ("label", "index", "cells")

    def __init__(self, label, index, cells):
        self.label, self.index, self.cells = label, index, cells  # cells: flat key or None per column


class Group:
    """One table: rows are indices (a page, a VMA, a PTE), columns are variables or record fields."""

    def __init__(self, key, title, over, ghost=False):
        self.key = key
        self.title = title
        self.over = over
        self.ghost = ghost
        self.columns = []
        self.rows = []

    @property
    def row_header(self) -> str:
        return ",".join(self.over)

    def to_json(self) -> dict:
        return {"key": self.key, "title": self.title, "over": self.over, "ghost": self.ghost,
                "columns": [c.label for c in self.columns],
                "rows": [{"label": r.label, "cells": r.cells} for r in self.rows]}


def _indices(value, depth):
    """Index tuples of a decoded array value, in order."""
    if depth == 0:
        return [()]
    out = []
    for k, v in value.items():
        for rest in _indices(v, depth - 1):
            out.append((str(k),) + rest)
    return out


def flat_key(var, index, field):
    return var + "".join(f"[{i}]" for i in index) + (f".{field}" if field else "")


def groups(layout: dict, state: dict) -> list:
    """The tables a state is drawn in, in the order their first variable is declared.

    A variable with `group: NAME` joins the other variables of that group with the same index
    sets; a record variable without one is its own table (one row per element, one column per
    field); other variables share a table with the variables indexed by the same sets (all the
    per-page arrays together, all the per-VMA ones), and scalars share one table.
    """
    out = {}
    for name, info in layout.items():
        if name not in state:
            continue
        over = list(info.get("over") or [])
        record = info.get("record")
        if info.get("group"):
            key = "group:" + str(info["group"]) + ":" + ",".join(over)
            title = str(info["group"])
        elif record:
            key, title = "var:" + name, name
        else:
            key = "over:" + ",".join(over)
            title = " x ".join(over) if over else "globals"
        g = out.get(key)
        if g is None:
            g = out[key] = Group(key, title, over, ghost=bool(info.get("ghost")))
            g._vars = []
        else:
            g.ghost = g.ghost and bool(info.get("ghost"))
        g._vars.append((name, record, _indices(state[name], len(over))))
    titles = {}
    for g in out.values():
        titles.setdefault(g.title, []).append(g)
    for title, gs in titles.items():
        if len(gs) > 1:
            for g in gs:
                g.title = f"{title} ({' x '.join(g.over) or 'scalar'})"
    for g in out.values():
        several = len(g._vars) > 1
        cols = []
        for name, record, _ in g._vars:
            if record:
                cols.extend(Column(f"{name}.{f}" if several else f, name, f) for f in record)
            else:
                cols.append(Column(name, name, None))
        g.columns = cols
        index_order = []
        seen = set()
        have = set()
        for name, record, idxs in g._vars:
            for ix in idxs:
                have.add((name, ix))
                if ix not in seen:
                    seen.add(ix)
                    index_order.append(ix)
        for ix in index_order:
            cells = [flat_key(c.var, ix, c.field) if (c.var, ix) in have else None for c in cols]
            g.rows.append(Row(",".join(ix), ix, cells))
        del g._vars
    return list(out.values())


# --- a trace, prepared for drawing ------------------------------------------------------------------
class Step:
    def __init__(self, n, raw, flat, changed, prev_flat):
        self.n = n
        self.raw = raw
        self.flat = flat  # None for the error step
        self.changed = changed  # {key: (old, new)}
        self.prev_flat = prev_flat

    @property
    def action(self):
        return self.raw.get("action")

    @property
    def label(self):
        return step_title(self.raw)

    @property
    def source(self):
        return self.raw.get("source")

    @property
    def params(self):
        return self.raw.get("params") or {}


class TraceView:
    """A trace with its groups, per-step changes and the marked slots of the last state."""

    def __init__(self, data: dict):
        self.data = data
        self.layout = data.get("variables") or {}
        trace = data["trace"]
        self.groups = groups(self.layout, trace[0]["state"])
        self.steps = []
        prev = None
        for n, st in enumerate(trace):
            if st.get("state") is None:
                self.steps.append(Step(n, st, None, {}, prev))
                continue
            flat = flatten(st["state"], self.layout)
            changed = {} if prev is None else {k: (prev.get(k), v) for k, v in flat.items() if prev.get(k) != v}
            self.steps.append(Step(n, st, flat, changed, prev))
            prev = flat
        self.verdict = data.get("verdict")
        self.invariant = data.get("invariant")
        self.invariant_expr = (data.get("invariant_exprs") or {}).get(self.invariant) if self.invariant else None
        self.invariant_doc = invariant_doc(data, self.invariant) if self.invariant else ""
        self.world = world_lines(data)
        self.actors = list(data.get("actors") or [])
        self.marked, self.mark_kind = self._marked()

    @property
    def last_state_step(self) -> Step:
        for s in reversed(self.steps):
            if s.flat is not None:
                return s
        return self.steps[0]

    def _marked(self):
        """Slots to mark in the last state and why: 'culprit' (changing them repairs the invariant,
        computed by the check) or 'read' (the invariant's text names their variable)."""
        if self.verdict != "violation" or not self.invariant:
            return set(), None
        last = self.last_state_step.flat or {}
        c = self.data.get("culprits")
        if isinstance(c, dict) and c.get("invariant") == self.invariant and isinstance(c.get("slots"), list):
            return {k for k in c["slots"] if k in last}, "culprit"
        if not self.invariant_expr:
            return set(), None
        names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", self.invariant_expr))
        read = {k for k in last if _var_of(k) in names}
        return read, ("read" if read else None)

    def mark_legend(self) -> str:
        if self.mark_kind == "culprit":
            return f"makes {self.invariant} false (changing it would repair the invariant)"
        if self.mark_kind == "read":
            return f"read by {self.invariant}"
        return ""

    def visible_rows(self, step: Step, group: Group, all_vars=False):
        """Rows of `group` drawn for `step`: all in the initial state (or with all_vars), else the
        rows with a changed slot, plus marked rows in the last state."""
        if all_vars or step.n == 0 or step.flat is None:
            return list(group.rows)
        marks = self.marked if step is self.last_state_step else ()
        return [r for r in group.rows if any(k is not None and (k in step.changed or k in marks) for k in r.cells)]

    def title(self) -> str:
        d = self.data
        n = len(self.steps) - 1
        what = {"violation": f"Counterexample to {self.invariant}", "deadlock": "Trace to a deadlock",
                "error": "Trace to a runtime error"}.get(self.verdict, "Trace")
        return f"{what}, {n} step{'s' if n != 1 else ''} (module {d.get('module') or '?'})"

    def constants_line(self, limit=None, long_value=60) -> str:
        """NAME=value, ...; values longer than `long_value` characters are shown as (...)."""
        consts = self.data.get("constants") or {}
        chosen = self.data.get("constants_set")
        if chosen:  # the constants the config set say what world this is; the rest are defaults
            consts = {k: v for k, v in consts.items() if k in chosen}
        parts = []
        for k, v in consts.items():
            text = show_value(v, "yaml")
            parts.append(f"{k}={text}" if len(text) <= long_value else f"{k}=(...)")
        s = ", ".join(parts)
        if limit and len(s) > limit:
            s = s[:limit - 3] + "..."
        return s


def _var_of(key: str) -> str:
    return re.split(r"[\[.]", key, maxsplit=1)[0]


def compact_keys(keys) -> list:
    """['pte[0][0].present', 'pte[0][0].write'] -> ['pte[0][0].{present,write}']."""
    out = []
    bases = {}
    for k in keys:
        m = re.match(r"^(.*\])\.([A-Za-z_][A-Za-z0-9_]*)$", k) or re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$", k)
        if m:
            base, field = m.group(1), m.group(2)
            if base in bases:
                out[bases[base]][1].append(field)
                continue
            bases[base] = len(out)
            out.append((base, [field]))
        else:
            out.append((k, None))
    return [b if f is None else (f"{b}.{f[0]}" if len(f) == 1 else f"{b}.{{{','.join(f)}}}") for b, f in out]
