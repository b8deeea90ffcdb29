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
import re
import sys
from operator import itemgetter

from ..version import __version__
from ..errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATION, EvalError, Pos, SpecError, did_you_mean
from ..result import layout, step, trace_to

SCHEMA = "mm-explorer/diff/1"
SIDES = ("before", "after")


# --- settings -------------------------------------------------------------------------------------
def settings_from_text(items, flag) -> dict:
    """NAME=VALUE strings (VALUE is YAML) -> {name: (value, Pos)}, positions naming the flag."""
    from ..lang import yamlsrc
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SpecError(Pos(f"<{flag} {item}>", 1, 1), f"{flag} {item}: write NAME=VALUE")
        name, text = item.split("=", 1)
        name = name.strip()
        value = yamlsrc.load_text(text, f"<{flag} {name}>") if text.strip() else None
        if value is None:
            raise SpecError(Pos(f"<{flag} {item}>", 1, 1), f"{flag} {name}: give a value")
        out[name] = (value, Pos(f"<{flag} {item}>", 1, len(name) + 2))
    return out


def _plain_settings(d):
    return {k: (v if isinstance(v, tuple) else (v, Pos("<diff>", 1, 1))) for k, v in (d or {}).items()}


def show_const(v) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v)


# --- projection -----------------------------------------------------------------------------------
def resolve_projection(model, names):
    """Variables to project on: names of variables or of variable groups; default: non-ghost ones."""
    if not names:
        return [v.name for v in model.variables.values() if not v.ghost]
    out = []
    groups = sorted({v.group for v in model.variables.values() if v.group})
    for name in names:
        if name in model.variables:
            hit = [name]
        else:
            hit = [v.name for v in model.variables.values() if v.group == name]
        if not hit:
            raise SpecError(Pos(f"<--project {name}>", 1, 1),
                            f"--project {name}: no variable or group has this name"
                            + did_you_mean(name, list(model.variables) + groups)
                            + f"; variables: {', '.join(model.variables)}")
        out.extend(v for v in hit if v not in out)
    return out


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


# --- one side ----------------------------------------------------------------------------------------
class Side:
    def __init__(self, name, problem, own_settings):
        self.name = name
        self.problem = problem
        self.model = problem.model
        self.own = own_settings  # names set for this side only
        self.label = ""
        self.ex = None
        self.keys = None  # projected key per state index (in the common slot-name order)
        self.keyfn = None  # state tuple -> projected key
        self.label_index = None  # instance label -> instance index
        self.first = None  # key -> first state index with that projection (BFS: shortest)
        self.edges = None  # (action name, src key, dst key) -> (i, j, k), first (shortest) occurrence
        self.verdicts = None  # invariant name -> dict
        self.fullfn = None  # state tuple -> all slots decoded (comparable across sides when `comparable`)
        self.comparable = False
        self.nested = None  # projected key -> nested data
        self.full_first = None  # full key -> first state index, built when first needed

    def state_like(self, other_side, state, key):
        """Index of a state of this side equal to `state` of the other side, else the first one with
        projection `key`."""
        if self.comparable:
            if self.full_first is None:
                self.full_first = {}
                for i, st in enumerate(self.ex.states):
                    self.full_first.setdefault(self.fullfn(st), i)
            i = self.full_first.get(other_side.fullfn(state))
            if i is not None:
                return i
        return self.first[key]

    @property
    def complete(self):
        return self.ex.complete


def _explore(problem, limits, progress=None):
    from ..checker.engine import Interrupts, explore, options_for
    opts = options_for(problem, **(limits or {}), deadlock=False, continue_all=False, keep_graph=True,
                       check_invariants=False, progress=progress)
    with Interrupts():
        return explore(problem.model, opts)


def _verdicts(side) -> dict:
    """Per invariant: the first violating state in BFS order (a shortest counterexample), or none."""
    m, ex = side.model, side.ex
    fns = [m.invariant_fn(i) for i in range(len(m.invariant_list))]
    first = {}
    try:
        for n, st in enumerate(ex.states):
            if m.first_violated(st) >= 0:
                for i, fn in enumerate(fns):
                    if i not in first and not fn(st):
                        first[i] = n
                if len(first) == len(fns):
                    break
    except EvalError as e:
        pos = m.positions[e.pos_index] if 0 <= e.pos_index < len(m.positions) else None
        raise SpecError(pos, f"the {side.name} side ({side.label}): runtime error in an invariant: {e.message}") from None
    out = {}
    for i, inv in enumerate(m.invariant_list):
        target = inv.reach  # a witness query: `not target` fails = reached
        if i in first:
            tr = trace_to(m, ex, first[i])
            out[inv.name] = {"verdict": "reachable" if target else "violated", "steps": len(tr) - 1, "trace": tr}
        elif ex.complete:
            out[inv.name] = {"verdict": "unreachable" if target else "holds"}
        else:
            out[inv.name] = {"verdict": "unknown"}
        out[inv.name]["kind"] = "target" if target else "invariant"
    return out


def _changes(names, a, b):
    return [(n, x, y) for n, x, y in zip(names, a, b) if x != y]


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
    before = _plain_settings(before)
    after = _plain_settings(after)
    common = _plain_settings(common)
    sides = {}
    for name, own in (("before", before), ("after", after)):
        settings = dict(common)
        settings.update(own)
        label = ", ".join(f"{k}={show_const(_unwrap(v[0]))}" for k, v in own.items()) or "the config as given"
        try:
            problem = load(config, settings, actions, invariants, reach=reach)
        except SpecError as e:
            raise SpecError(e.pos, f"the {name} side ({label}): {e.message}") from None
        sides[name] = Side(name, problem, own)
    named = list(dict.fromkeys(list(before) + list(after)))
    for s in sides.values():
        s.label = ", ".join(f"{k}={show_const(s.problem.constants.get(k))}" for k in named) or "the config as given"
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
    # explore both sides
    for s in (b, a):
        s.ex = _explore(s.problem, limits, progress)
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
        s.keyfn = key
        s.nested = nested_builder(names)
        s.fullfn = Projection(s.model, list(s.model.variables)).key
        s.label_index = {inst.label(): i for i, inst in enumerate(s.model.instances)}
        s.keys = [key(st) for st in s.ex.states]
        s.first = {}
        for i, k in enumerate(s.keys):
            if k not in s.first:
                s.first[k] = i
        s.edges = {}
        inst = s.model.instances
        for i, j, k in s.ex.edges:
            t = (inst[k].name, s.keys[i], s.keys[j])
            if t not in s.edges:
                s.edges[t] = (i, j, k)
        s.verdicts = _verdicts(s)
    # whole states are comparable across the sides when both have the same slots (values are
    # compared decoded: symbol numbering may differ between the two compiled models)
    same_slots = b.model.slot_names() == a.model.slot_names()
    for s in (b, a):
        s.comparable = same_slots
        s.full_first = None
    return Diff(_build(sides, proj_vars, names, members), sides)


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
        sg = _state_groups(this, other, names, prefix, members)
        tg, tcounts = _transition_groups(this, other, names, "T" + prefix, members)
        groups.extend(sg)
        groups.extend(tg)
        counts[this.name] = {"states": sum(g["count"] for g in sg), "state_groups": len(sg), **tcounts,
                             "transition_groups": len(tg)}
    data["counts"] = {"only_" + k: v for k, v in counts.items()}
    data["groups"] = groups
    equal = not groups and not any(r["changed"] for r in inv_rows) and \
        counts["before"]["transitions"] == 0 and counts["after"]["transitions"] == 0
    complete = b.complete and a.complete
    data["equal"] = equal
    data["complete"] = complete
    data["exit_code"] = EXIT_INCOMPLETE if not complete else (EXIT_OK if equal else EXIT_VIOLATION)
    data["headline"] = _headline(data)
    return data


def _verdict_brief(v):
    if v is None:
        return {"verdict": "absent"}
    out = {"verdict": v["verdict"]}
    if "steps" in v:
        out["steps"] = v["steps"]
    return out


class Step:
    """Where the other side is after taking the same steps as this side's path to one state."""

    __slots__ = ("state", "key", "n", "diverges", "div_changes", "stop")

    def __init__(self, state, key, n, diverges=None, div_changes=(), stop=None):
        self.state = state  # the other side's state (None once it could not follow)
        self.key = key  # its projection
        self.n = n  # steps the other side has taken
        self.diverges = diverges  # first step whose projected outcome differs or cannot be taken
        self.div_changes = div_changes  # (slot, other, this) after that step
        self.stop = stop  # None, or why step n + 1 cannot be taken: initial, absent, disabled


class Replayer:
    """This side's witnesses replayed on the other side: the same action instances (by label), from
    the same initial state; at each step the other side's successor equal to this side's state
    when there is one, else one with the same projection, else the closest (fewest differing
    slots). Memoized along the BFS parent pointers, so each state is replayed once."""

    def __init__(self, this, other, names):
        self.this, self.other, self.names = this, other, names
        self.memo = {}

    def at(self, idx) -> Step:
        this, ex = self.this, self.this.ex
        chain = []
        i = idx
        while i >= 0 and i not in self.memo:
            chain.append(i)
            i = ex.parent[i]
        for i in reversed(chain):
            par = ex.parent[i]
            self.memo[i] = self._initial(i) if par < 0 else self._step(self.memo[par], i)
        return self.memo[idx]

    def _full(self, i):
        return self.this.fullfn(self.this.ex.states[i]) if self.other.comparable else None

    def _initial(self, i):
        other, want = self.other, self.this.keys[i]
        same = [st for st in other.ex.states[:other.ex.initial_count] if other.keyfn(st) == want]
        if not same:
            return Step(None, None, 0, diverges=0, stop="initial")
        full = self._full(i)
        exact = [st for st in same if other.comparable and other.fullfn(st) == full]
        return Step((exact or same)[0], want, 0)

    def _step(self, prev, i):
        this, other = self.this, self.other
        n = prev.n + 1
        if prev.stop is not None:
            return prev
        label = this.model.instances[this.ex.via[i]].label()
        k2 = other.label_index.get(label)
        succ = []
        if k2 is not None:
            try:
                succ = [t for _, t in other.model.instance_successors(k2, prev.state)]
            except Exception:  # a runtime error the other side's exploration did not reach
                succ = []
        if not succ:
            stop = "absent" if k2 is None else "disabled"
            return Step(None, None, prev.n, prev.diverges if prev.diverges is not None else n, prev.div_changes, stop)
        want = this.keys[i]
        keys = [other.keyfn(t) for t in succ]
        full = self._full(i)
        exact = [j for j, t in enumerate(succ) if other.comparable and other.fullfn(t) == full]
        if exact:
            pick = exact[0]
        elif want in keys:
            pick = keys.index(want)
        else:
            dist = [sum(x != y for x, y in zip(want, k)) for k in keys]
            pick = dist.index(min(dist))
        key = keys[pick]
        diverges, div_changes = prev.diverges, prev.div_changes
        if diverges is None and key != want:
            diverges, div_changes = n, tuple(_changes(self.names, key, want))
        return Step(succ[pick], key, n, diverges, div_changes)


def _state_groups(this, other, names, prefix, limit=None):
    """Projected states `this` side reaches and `other` does not, grouped by the first step of their
    shortest witness that the other side, taking the same steps, does differently (or cannot take)."""
    ex, model = this.ex, this.model
    only = [k for k in this.first if k not in other.first]  # in discovery order
    if not only:
        return []
    replay = Replayer(this, other, names)
    labels = [inst.label() for inst in model.instances]
    groups = {}
    for key in only:
        idx = this.first[key]
        path = ex.path(idx)
        r = replay.at(idx)
        d = r.diverges
        if d is None:
            # the same steps reach the same projected state on the other side, which had not
            # explored it when a limit stopped it
            action, label, kind, ch = None, None, "unexplored", ()
        elif r.stop == "initial":
            action, label, kind = None, None, "initial"
            ch = tuple(_changes(names, _closest(other, key), this.keys[path[0]]))
        else:
            inst = model.instances[ex.via[path[d]]]
            action, label = inst.name, inst.label()
            if r.stop is not None and d == r.n + 1:
                kind, ch = r.stop, ()
            else:
                kind, ch = "differs", r.div_changes
        gk = (kind, action, ch)
        g = groups.get(gk)
        if g is None:
            g = groups[gk] = {"kind_of_step": kind, "action": action, "changes": ch, "members": [], "_first": idx}
        g["count"] = g.get("count", 0) + 1
        if limit is not None and len(g["members"]) >= limit:
            continue
        final = None
        if r.stop is None:
            final = [{"slot": n, "other": x, "this": y} for n, x, y in _changes(names, r.key, key)]
        g["members"].append({"state": this.nested(key),
                             "depth": len(path) - 1,
                             "witness": [labels[ex.via[i]] for i in path[1:]],
                             "first_different_step": d, "first_different_label": label,
                             "same_steps_other": {"steps_taken": r.n, "stopped": r.stop,
                                                  "final_changes": final}})
    out = []
    for n, g in enumerate(sorted(groups.values(), key=lambda g: g["_first"]), 1):
        idx = g.pop("_first")
        m0 = g["members"][0]
        out.append({"id": f"{prefix}{n}", "kind": "states", "side": this.name, "other": other.name,
                    "action": g["action"], "step": g["kind_of_step"],
                    "changes": [{"slot": s, "other": x, "this": y} for s, x, y in g["changes"]],
                    "count": g["count"], "members": g["members"],
                    "witness": trace_to(model, ex, idx),
                    "witness_first_different_step": m0["first_different_step"],
                    "witness_same_steps_other": m0["same_steps_other"]})
    return out


def _closest(other, key):
    """The other side's initial projected state with the fewest slots differing from `key`."""
    inits = [other.keys[i] for i in range(other.ex.initial_count)]
    return min(inits, key=lambda k: sum(x != y for x, y in zip(key, k)))


def _transition_groups(this, other, names, prefix, limit=None):
    """Projected transitions on `this` side only whose source and target `other` also reaches,
    grouped by action, by what the step changes, and by what the same step does on the other side
    from a state with the same projection."""
    ex, model = this.ex, this.model
    only = [t for t in this.edges if t not in other.edges]
    counts = {"transitions": len(only), "transitions_between_common": 0, "transitions_into_one_sided": 0,
              "transitions_from_one_sided": 0}
    groups = {}
    for t in only:
        act, src, dst = t
        if src not in other.first:
            counts["transitions_from_one_sided"] += 1
            continue
        if dst not in other.first:
            counts["transitions_into_one_sided"] += 1
            continue
        counts["transitions_between_common"] += 1
        i, j, k = this.edges[t]
        label = model.instances[k].label()
        # the same step on the other side, from its first state with this projection
        k2 = other.label_index.get(label)
        if k2 is None:
            other_step = ("absent",)
        else:
            try:
                succ = other.model.instance_successors(k2, other.ex.states[other.state_like(this, ex.states[i], src)])
            except Exception:
                succ = []
            outs = sorted({tuple(_changes(names, src, other.keyfn(s))) for _, s in succ}, key=repr)
            other_step = ("gives", tuple(outs)) if outs else ("disabled",)
        ch = tuple(_changes(names, src, dst))
        gk = (act, ch, other_step)
        g = groups.get(gk)
        if g is None:
            g = groups[gk] = {"action": act, "changes": ch, "other_step": other_step, "members": [],
                              "_first": (ex.depth_of[i], i, j, k)}
        g["count"] = g.get("count", 0) + 1
        g["_first"] = min(g["_first"], (ex.depth_of[i], i, j, k))
        if limit is not None and len(g["members"]) >= limit:
            continue
        g["members"].append({"label": label, "from": this.nested(src), "to": this.nested(dst),
                             "depth": ex.depth_of[i] + 1})
    out = []
    for n, g in enumerate(sorted(groups.values(), key=lambda g: g["_first"]), 1):
        _, i, j, k = g.pop("_first")
        witness = trace_to(model, ex, i) + [step(model, ex, j, k)]
        os_ = g["other_step"]
        other_step = {"result": {"gives": "steps", "disabled": "disabled", "absent": "absent"}[os_[0]]}
        if os_[0] == "gives":
            other_step["outcomes"] = [[{"slot": s, "from": x, "to": y} for s, x, y in o] for o in os_[1]]
        out.append({"id": f"{prefix}{n}", "kind": "transitions", "side": this.name, "other": other.name,
                    "action": g["action"], "count": g["count"],
                    "changes": [{"slot": s, "from": x, "to": y} for s, x, y in g["changes"]],
                    "other_step": other_step, "members": g["members"], "witness": witness})
    return out, counts


def _headline(data) -> str:
    b, a = data["before"], data["after"]
    changed = [r for r in data["invariants"] if r["changed"]]
    if changed:
        parts = []
        for r in changed:
            if r["kind"] == "target":
                on, off = ("after", "before") if r["after"]["verdict"] == "reachable" else ("before", "after")
                parts.append(f"{_target(r['invariant'])} is unreachable {off} ({data[off]['label']}) and reachable "
                             f"{on} ({data[on]['label']}), in {_steps(r[on]['steps'])}")
            elif r["after"]["verdict"] == "violated":
                parts.append(f"{r['invariant']} holds before ({b['label']}) and is violated after "
                             f"({a['label']}), in {_steps(r['after']['steps'])}")
            else:
                parts.append(f"{r['invariant']} is violated before ({b['label']}), in "
                             f"{_steps(r['before']['steps'])}, and holds after ({a['label']})")
        return "VERDICT CHANGED: " + "; ".join(parts)
    if not data["complete"]:
        why = "; ".join(f"{s} stopped: {data[s]['stopped_by']}" for s in SIDES if not data[s]["complete"])
        return f"INCOMPLETE: {why}; the diff compares only what was explored"
    ca, cb = data["counts"]["only_after"], data["counts"]["only_before"]
    if data["equal"]:
        return (f"EQUAL on the projection: both sides reach the same {a['stats']['projected_states']:,} "
                f"projected states by the same {a['stats']['projected_transitions']:,} projected transitions")
    return (f"DIFFERENT: {ca['states']:,} projected state(s) only after ({a['label']}), "
            f"{cb['states']:,} only before ({b['label']}); transitions {ca['transitions']:,} only after, "
            f"{cb['transitions']:,} only before")


# --- text ---------------------------------------------------------------------------------------------
def _steps(n) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def _target(name) -> str:
    return "the target" if name == "target" else f"target {name}"


def _show(v) -> str:
    from ..report import show_value
    return "-" if v is None else show_value(v)


def _verdict_text(v, kind="invariant") -> str:
    if v["verdict"] in ("violated", "reachable"):
        return f"{v['verdict']} ({_steps(v['steps'])})"
    if v["verdict"] == "unknown":
        return "not reached so far" if kind == "target" else "not violated so far"
    return {"absent": "-"}.get(v["verdict"], v["verdict"])


def format_diff(data, style=None, all_vars=False, max_members=None) -> str:
    from ..report import Style, format_trace
    style = style or Style(False)
    b, a = data["before"], data["after"]
    lay = data["variables"]
    proj_lay = lay if all_vars else {k: v for k, v in lay.items() if k in data["projection"]}
    L = []
    head = data["headline"]
    color = style.red if head.startswith("VERDICT") else style.yellow if not data["equal"] else style.green
    L.append(color(head.split(":", 1)[0]) + ":" + head.split(":", 1)[1])
    L.append(style.bold(f"mm-explorer {data['version']} diff") + f": {data['config']} (module {data['module']})")
    w = max(len(b["label"]), len(a["label"]))
    for s in SIDES:
        d = data[s]
        st = d["stats"]
        extra = "" if d["complete"] else f"   {style.yellow('stopped: ' + str(d['stopped_by']))}"
        L.append(f"  {s:<6}  {d['label']:<{w}}   {st['distinct_states']:,} states, {st['transitions']:,} transitions, "
                 f"depth {st['depth']}; projected: {st['projected_states']:,} states, "
                 f"{st['projected_transitions']:,} transitions" + extra)
    ghost = [k for k, v in lay.items() if v.get("ghost")]
    default = [k for k in lay if k not in ghost]
    how = "the non-ghost variables" if data["projection"] == default else "chosen with --project"
    L.append(f"projection: {', '.join(data['projection'])} ({how})")
    absent_b, absent_a = set(b["actions_not_in_configuration"]), set(a["actions_not_in_configuration"])
    if absent_b - absent_a:
        L.append(f"actions only after: {', '.join(sorted(absent_b - absent_a))}")
    if absent_a - absent_b:
        L.append(f"actions only before: {', '.join(sorted(absent_a - absent_b))}")
    # invariants
    if data["invariants"]:
        L.append("")
        kinds = {r["kind"] for r in data["invariants"]}
        title = {"invariant": "invariant", "target": "reach target"}.get(next(iter(kinds)), "invariant") \
            if len(kinds) == 1 else "invariant or target"
        nw = max(len(title), *(len(r["invariant"]) for r in data["invariants"]))
        cw = max(len(b["label"]), 22)
        L.append(style.bold(f"  {title:<{nw}}   {'before: ' + b['label']:<{cw + 8}}   after: {a['label']}"))
        for r in data["invariants"]:
            tb, ta = _verdict_text(r["before"], r["kind"]), _verdict_text(r["after"], r["kind"])
            line = f"  {r['invariant']:<{nw}}   {tb:<{cw + 8}}   {ta}"
            L.append(style.red(line + "   <- changed") if r["changed"] else line)
        shown = []
        for r in data["invariants"]:
            if r["changed"]:
                side = r["side"]
                L.append("")
                what = f"Witness of {_target(r['invariant'])}" if r["kind"] == "target" else f"Counterexample to {r['invariant']}"
                head = f"{what} {side} ({data[side]['label']}), {_steps(len(r['witness']) - 1)}"
                same = next((name for name, w in shown if w == r["witness"]), None)
                if same:
                    L.append(style.bold(head) + f": the same steps as for {same} above")
                else:
                    L.append(style.bold(head + ":"))
                    L.extend(format_trace(r["witness"], lay, style))
                    shown.append((r["invariant"], r["witness"]))
                if r["kind"] == "target":
                    L.append(f"  {style.red('reached')}: {r['invariant']}  ==  {r.get('expr', '')}")
                else:
                    expr = (data.get("invariant_exprs") or {}).get(r["invariant"])
                    L.append(f"  {style.red('violated')}: {r['invariant']}" + (f"  ==  {expr}" if expr else ""))
    # groups
    for side, other, kind in (("after", "before", "states"), ("before", "after", "states"),
                              ("after", "before", "transitions"), ("before", "after", "transitions")):
        gs = [g for g in data["groups"] if g["side"] == side and g["kind"] == kind]
        c = data["counts"]["only_" + side]
        L.append("")
        if kind == "states":
            if not gs:
                L.append(style.bold(f"States only {side} ({data[side]['label']}): none"))
                continue
            L.append(style.bold(f"States only {side} ({data[side]['label']}): {c['states']:,} projected state(s) "
                                f"in {len(gs)} group(s)"))
            L.append(style.dim(f"  grouped by the first step of their shortest witness that {other}, taking the same "
                               f"steps, does differently, and by what it does differently"))
        else:
            if not c["transitions"]:
                L.append(style.bold(f"Transitions only {side} ({data[side]['label']}): none"))
                continue
            L.append(style.bold(f"Transitions only {side} ({data[side]['label']}): {c['transitions']:,}"))
            L.append(f"  {c['transitions_between_common']:,} between projected states both sides reach"
                     + (f" ({len(gs)} group(s) below)" if gs else "")
                     + f"; {c['transitions_into_one_sided']:,} into and {c['transitions_from_one_sided']:,} out of "
                     f"states only {side} reaches")
        for g in gs:
            L.append("")
            L.extend(_format_group(g, data, proj_lay, style, format_trace))
    return "\n".join(L) + "\n"


def _slot_lines(changes, a, b, fmt, style):
    width = max((len(c["slot"]) for c in changes), default=0)
    return [fmt(c["slot"].ljust(width), _show(c[a]), style.yellow(_show(c[b]))) for c in changes]


def _inline(changes, a, b):
    return ", ".join(f"{c['slot']} {_show(c[a])} -> {_show(c[b])}" for c in changes) or "no projected change"


def _format_group(g, data, lay, style, format_trace):
    L = []
    side, other = g["side"], g["other"]
    n = g["count"]
    wit = g["witness"]
    plural = "s" if n != 1 else ""
    if g["kind"] == "states":
        if g["step"] == "initial":
            L.append(style.bold(f"  {g['id']}  {n:,} state{plural} from an initial state {other} does not have") +
                     (f"; unlike {other}'s closest one:" if g["changes"] else ""))
            L.extend(_slot_lines(g["changes"], "other", "this",
                                 lambda s, x, y: f"        {s} = {y}   ({other}: {x})", style))
        elif g["step"] == "differs":
            L.append(style.bold(f"  {g['id']}  {n:,} state{plural}; first step that {other} does differently: "
                                f"{g['action']}, which {side} leaves with"))
            L.extend(_slot_lines(g["changes"], "other", "this",
                                 lambda s, x, y: f"        {s} = {y}   ({other}: {x})", style))
        elif g["step"] == "unexplored":
            L.append(style.bold(f"  {g['id']}  {n:,} state{plural} that {other} reaches by the same steps, but had not "
                                f"explored when its limit stopped it"))
        else:
            why = "not enabled there" if g["step"] == "disabled" else f"no such action in the {other} configuration"
            L.append(style.bold(f"  {g['id']}  {n:,} state{plural}; first step that {other}, taking the same steps, "
                                f"cannot take: {g['action']}") + f" ({why})")
        d = g.get("witness_first_different_step")
        L.append(f"      shortest witness {side} ({data[side]['label']}), {len(wit) - 1} step{'s' if len(wit) != 2 else ''}"
                 + (f", step {d} is the first that differs:" if d else ":"))
        L.extend("    " + line for line in format_trace(wit, lay, style))
        same = g.get("witness_same_steps_other") or {}
        final = same.get("final_changes")
        if final is not None and g["step"] == "differs" and \
                [(c["slot"], c["other"], c["this"]) for c in final] != [(c["slot"], c["other"], c["this"]) for c in g["changes"]]:
            L.append(f"      taking the same {_steps(len(wit) - 1)}, {other} ends with " + ", ".join(
                f"{c['slot']} = {_show(c['other'])} ({side}: {_show(c['this'])})" for c in final))
        elif final is None and same.get("stopped") in ("disabled", "absent") and g["step"] == "differs":
            L.append(f"      {other} cannot take step {same['steps_taken'] + 1} of these steps "
                     f"({'not enabled' if same['stopped'] == 'disabled' else 'no such action there'})")
    else:
        L.append(style.bold(f"  {g['id']}  {g['action']}: {n:,} transition{plural} only {side}, between states both "
                            f"sides reach") + (", changing:" if g["changes"] else ", changing nothing projected"))
        L.extend(_slot_lines(g["changes"], "from", "to", lambda s, x, y: f"        {s}   {x} -> {y}", style))
        os_ = g["other_step"]
        if os_["result"] == "steps":
            outs = "; or ".join(_inline(o, "from", "to") for o in os_["outcomes"])
            L.append(f"      {other}, the same step from the same projected state: {outs}")
        elif os_["result"] == "disabled":
            L.append(f"      {other}, the same step is not enabled in the same projected state")
        else:
            L.append(f"      {other} has no such step")
        L.append(f"      shortest witness {side} ({data[side]['label']}), {len(wit) - 1} step{'s' if len(wit) != 2 else ''}:")
        L.extend("    " + line for line in format_trace(wit, lay, style))
    return L


def witness_document(d: Diff, ident=None) -> dict:
    """A result-shaped document for one witness, which the renderers draw like a counterexample."""
    data = d.data
    if ident is None:
        changed = [r for r in data["invariants"] if r["changed"]]
        item = changed[0] if changed else (data["groups"][0] if data["groups"] else None)
    else:
        item = d.witness(ident)
        if item is None:
            ids = [g["id"] for g in data["groups"]] + [r["invariant"] for r in data["invariants"] if r["changed"]]
            raise SpecError(None, f"--witness {ident}: no such group" + did_you_mean(ident, ids)
                            + (f"; the diff has: {', '.join(ids)}" if ids else "; the two sides do not differ"))
    if item is None:
        return None
    side = item["side"]
    doc = {"tool": "mm-explorer", "version": __version__, "spec": data["spec"], "config": data["config"],
           "module": data["module"], "constants": data[side]["constants"], "variables": data["variables"],
           "invariant_exprs": data.get("invariant_exprs") or {}, "trace": item["witness"]}
    if "invariant" in item and item["kind"] == "target":
        doc.update(verdict="reachable", invariant=item["invariant"],
                   message=f"{_target(item['invariant'])} is reachable {side} ({data[side]['label']}) "
                           f"in {_steps(len(item['witness']) - 1)}, and not on the other side")
    elif "invariant" in item:
        doc.update(verdict="violation", invariant=item["invariant"],
                   message=f"invariant {item['invariant']} is violated {side} ({data[side]['label']}) "
                           f"after {_steps(len(item['witness']) - 1)}")
    else:
        what = "reaches a projected state" if item["kind"] == "states" else f"takes a {item['action']} step"
        how = ""
        if item["kind"] == "states" and item["step"] == "differs":
            how = (f"; the first step it does differently is {item['action']}: "
                   + ", ".join(f"{c['slot']} = {_show(c['this'])} ({item['other']}: {_show(c['other'])})"
                               for c in item["changes"]))
        elif item["kind"] == "transitions":
            how = ": " + _inline(item["changes"], "from", "to")
        doc.update(verdict="witness", invariant=None,
                   message=f"{item['id']}: the {side} side ({data[side]['label']}) {what} that the "
                           f"{item['other']} side ({data[item['other']]['label']}) does not{how}")
    return doc
