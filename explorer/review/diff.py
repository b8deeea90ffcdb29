"""`mm-explorer diff`: what one setting of the constants makes reachable that another does not.

A patch review asks "what can happen after this change that could not happen before?". The diff
explores one config twice, once per side (two kernels: `--before v5.15 --after v5.16`, or any
two settings of the constants: `--after-set NEW_FLAG=true`), projects every reachable state on the
variables that matter (by default every variable that is not `ghost: true`, that is the kernel's
own state, not the history the invariants keep), and compares

- the projected states each side reaches and the other does not, and
- the projected transitions (action name, projected source, projected target) that exist on one
  side only, where both ends are reachable on both sides: the same states, connected by a new
  (or a vanished) step. Transitions into or out of a one-sided state are counted, not listed:
  they are how the one-sided states are entered and left.

One-sided states are grouped by the first step of their shortest witness that the other side,
taking the same action instances from the same initial state, does differently (or cannot take),
and by what it does differently there: the projected slots in which the two sides' states differ
after that step. For a kernel change this names the code path the change touched and what it now
does ("uffdio_continue leaves pte[0][0].dirty TRUE, before: FALSE"), however long the witness
goes on afterwards. One-sided transitions between states both sides reach are grouped by action,
by what the step changes and by what the same step does on the other side from a state with the
same projection. Every group has the shortest witness on the side where it exists (breadth-first
parent pointers), in the step format of a result's trace. Invariant verdicts (or the answers of
`--reach` targets) are compared side by side; a verdict that changes is the headline.

Exit codes: 0 the sides are equal on the projection (and no verdict changes), 1 they differ,
2 bad input, 3 a limit stopped either side (what was explored is still compared).
"""
from __future__ import annotations

import json

from ..version import __version__
from ..errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATION, Refused, SpecError
from ..report import show_value
from ..result import annotations, layout
from . import replay
from .projection import Projection, nested_builder, resolve_projection
from .side import SIDES, Side, explore, plain_settings, verdicts
from .text import format_diff, headline, witness_document
from .worlds import label_index, world_key

__all__ = ["SIDES", "Diff", "compare", "format_diff", "witness_document"]

SCHEMA = "mm-explorer/diff/1"


# --- the comparison ---------------------------------------------------------------------------------
class Diff:
    """The outcome: `data` is plain data (the JSON of --json), `exit_code`, `text()`."""

    def __init__(self, data, sides):
        self.data = data
        self.sides = sides  # {"before": Side, "after": Side}

    def __getitem__(self, key):
        return self.data[key]

    @property
    def exit_code(self) -> int:
        return self.data["exit_code"]

    def text(self, style=None, all_vars=False) -> str:
        return format_diff(self.data, style, all_vars=all_vars)

    def to_json(self, timings=True) -> str:
        data = self.data
        if not timings:
            data = json.loads(json.dumps(data))
            for s in SIDES:
                data[s]["stats"].pop("seconds", None)
        return json.dumps(data, indent=2) + "\n"

    def witness(self, ident):
        """The group (or changed verdict) with this id: A1, B2, TA1, TB1, or an invariant name."""
        for g in self.data["groups"]:
            if g["id"] == ident:
                return g
        for v in self.data["invariants"]:
            if v["invariant"] == ident and v.get("changed"):
                return v
        return None


def compare(config, before=None, after=None, common=None, actions=None, invariants=None, project=None,
            limits=None, progress=None, reach=None, members=1000) -> Diff:
    """Explore `config` with the constants `common` plus `before` on one side and plus `after` on
    the other ({NAME: value} or {NAME: (value, Pos)}), and compare them projected on `project`
    (variable or group names; default: the non-ghost variables). `limits`: max_states,
    max_depth, timeout, max_memory, per side. `reach`: target expressions compared instead of the
    invariants (reachable on each side or not). `members`: how many members each group lists
    (None: all; every group counts all of them). Raises SpecError on bad input."""
    from ..api import load
    before = plain_settings(before)
    after = plain_settings(after)
    common = plain_settings(common)
    sides = {}
    for name, own in (("before", before), ("after", after)):
        settings = dict(common)
        settings.update(own)
        label = ", ".join(f"{k}={show_value(_unwrap(v[0]), 'yaml')}" for k, v in own.items()) or "the config as given"
        try:
            problem = load(config, settings, actions, invariants, reach=reach)
        except Refused as e:
            raise Refused(e.pos, f"the {name} side ({label}): {e.message}", f"the {name} side ({label}): {e.reason}",
                          kernel=e.kernel) from None
        except SpecError as e:
            raise SpecError(e.pos, f"the {name} side ({label}): {e.message}") from None
        sides[name] = Side(name, problem, own)
    named = list(dict.fromkeys(list(before) + list(after)))
    for s in sides.values():
        s.label = ", ".join(f"{k}={show_value(s.problem.constants.get(k), 'yaml')}" for k in named) or "the config as given"
    b, a = sides["before"], sides["after"]
    proj_vars = resolve_projection(b.model, project)
    for s in (b, a):
        missing = [v for v in proj_vars if v not in s.model.variables]
        if missing:
            raise SpecError(None, f"the {s.name} side ({s.label}) has no variable {', '.join(missing)}")
    projections = {n: Projection(s.model, proj_vars) for n, s in sides.items()}
    names = list(projections["before"].names)
    for n in projections["after"].names:
        if n not in names:
            names.append(n)
    worlds_named = any(s.model.worlds is not None for s in (b, a))
    # explore both sides
    for s in (b, a):
        s.ex = explore(s.problem, limits, progress)
        if s.ex.error is not None:
            from ..result import build
            msg = build(s.problem, s.ex).data["message"]
            raise SpecError(None, f"the {s.name} side ({s.label}): {msg}")
    for n, s in sides.items():
        p = projections[n]
        if p.names == names:
            key = p.key
        else:  # the sides index their variables differently (e.g. another number of pages)
            pos = {x: i for i, x in enumerate(p.names)}
            where = [pos.get(x) for x in names]
            raw = p.key
            key = (lambda st, raw=raw, where=where: tuple(None if i is None else raw(st)[i] for i in where))
        if worlds_named:  # an open config: a state's projection names its world, so groups are per world
            key = world_key(s.model, key)
        s.keyfn = key
        s.nested = nested_builder(names + ["world"] if worlds_named else names)
        s.fullfn = Projection(s.model, list(s.model.variables)).key
        s.label_index = label_index(s.model)
        s.keys = [key(st) for st in s.ex.states]
        s.first = {}
        for i, k in enumerate(s.keys):
            s.first.setdefault(k, i)
        s.edges = {}
        inst = s.model.instances
        for i, j, k in s.ex.edges:
            t = (inst[k].name, s.keys[i], s.keys[j])
            if t not in s.edges:
                s.edges[t] = (i, j, k)
        s.verdicts = verdicts(s)
    # whole states are comparable across the sides when both have the same slots (values are
    # compared decoded: symbol numbering may differ between the two compiled models)
    same_slots = b.model.slot_names() == a.model.slot_names()
    for s in (b, a):
        s.comparable = same_slots
        s.full_first = None
    return Diff(_build(sides, proj_vars, names + ["world"] if worlds_named else names, members), sides)


def _unwrap(v):
    from ..lang.config import plain as _plain
    return _plain(v)


def _build(sides, proj_vars, names, members) -> dict:
    b, a = sides["before"], sides["after"]
    lay = layout(a.model)
    data = {
        "schema": SCHEMA, "tool": "mm-explorer", "version": __version__,
        "config": b.problem.config_path, "spec": b.problem.spec_path, "module": a.model.name,
        "headline": "", "equal": None, "exit_code": None,
        "projection": proj_vars, "projected_slots": names,
        "variables": lay,
        **annotations(a.model),
    }
    for s in (b, a):
        ex = s.ex
        absent = [n for n, _ in s.model.unavailable_actions]
        data[s.name] = {
            "label": s.label,
            "settings": {k: _unwrap(v[0]) for k, v in s.own.items()},
            "constants": s.problem.constants,
            "stats": {"distinct_states": len(ex.states), "transitions": ex.transitions, "depth": ex.depth,
                      "initial_states": ex.initial_count, "projected_states": len(s.first),
                      "projected_transitions": len(s.edges), "seconds": round(ex.seconds, 3)},
            "complete": ex.complete,
            "stopped_by": ex.stopped,
            "actions_not_in_configuration": absent,
        }
    # invariants side by side
    inv_rows = []
    for name in dict.fromkeys(list(b.verdicts) + list(a.verdicts)):
        vb, va = b.verdicts.get(name), a.verdicts.get(name)
        row = {"invariant": name, "kind": (vb or va)["kind"], "before": _verdict_brief(vb), "after": _verdict_brief(va)}
        if row["kind"] == "target":
            row["expr"] = (a.model.invariants.get(name) or b.model.invariants.get(name)).target_text
        definite = vb is not None and va is not None and "unknown" not in (vb["verdict"], va["verdict"])
        row["changed"] = bool(definite and vb["verdict"] != va["verdict"])
        if row["changed"]:
            bad = "after" if va["verdict"] in ("violated", "reachable") else "before"
            row["side"] = bad
            row["witness"] = (va if bad == "after" else vb)["trace"]
        inv_rows.append(row)
    data["invariants"] = inv_rows
    data["invariant_exprs"] = {inv.name: " ".join(inv.sn.text.split()) for inv in a.model.invariant_list
                               if not inv.reach}
    # states and transitions on one side only
    groups = []
    counts = {}
    for this, other, prefix in ((a, b, "A"), (b, a, "B")):
        sg = replay.state_groups(this, other, names, prefix, members)
        tg, tcounts = replay.transition_groups(this, other, names, "T" + prefix, members)
        groups.extend(sg)
        groups.extend(tg)
        counts[this.name] = {"states": sum(g["count"] for g in sg), "state_groups": len(sg), **tcounts,
                             "transition_groups": len(tg)}
    data["setting_members"] = setting_members(b, a)
    data["counts"] = {"only_" + k: v for k, v in counts.items()}
    data["groups"] = groups
    equal = not groups and not any(r["changed"] for r in inv_rows) and \
        counts["before"]["transitions"] == 0 and counts["after"]["transitions"] == 0
    complete = b.complete and a.complete
    data["equal"] = equal
    data["complete"] = complete
    data["exit_code"] = EXIT_INCOMPLETE if not complete else (EXIT_OK if equal else EXIT_VIOLATION)
    data["headline"] = headline(data)
    return data


def setting_members(b, a) -> list:
    """What two settings of one constant stand for, when the spec says it with another constant:
    KERNEL=v5.15 and v5.16 name entries of KERNELS, lists of commit keys, whose details (release,
    title) are entries of COMMITS. For every constant the sides set differently and every mapping
    constant with both values as keys and lists as values: the members only after and only before."""
    out = []
    consts = a.problem.constants
    for name in dict.fromkeys(list(b.own) + list(a.own)):
        vb, va = b.problem.constants.get(name), consts.get(name)
        if vb == va or not isinstance(vb, str) or not isinstance(va, str):
            continue
        for by, table in consts.items():
            if not isinstance(table, dict) or not isinstance(table.get(vb), list) or not isinstance(table.get(va), list):
                continue
            only_a = [x for x in table[va] if x not in table[vb]]
            only_b = [x for x in table[vb] if x not in table[va]]
            out.append({"setting": name, "before": vb, "after": va, "by": by,
                        "only_after": [_member(consts, x) for x in only_a],
                        "only_before": [_member(consts, x) for x in only_b]})
    return out


def _member(consts, key):
    """{key, and the fields of the mapping constant that describes it (release, title, ...)}."""
    for table in consts.values():
        if isinstance(table, dict) and isinstance(table.get(key), dict) and isinstance(key, str):
            return {"key": key, **{k: v for k, v in table[key].items() if isinstance(v, (str, int))}}
    return {"key": key}


def _verdict_brief(v):
    if v is None:
        return {"verdict": "absent"}
    out = {"verdict": v["verdict"]}
    if "steps" in v:
        out["steps"] = v["steps"]
    return out
