"""The result of a check: verdict, statistics, coverage and counterexample, as plain data (JSON)."""

from __future__ import annotations

import json

from .version import __version__
from .errors import EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_OK, EXIT_REFUSED, EXIT_VIOLATION, Pos, SpecError, did_you_mean

SCHEMA = "mm-explorer/result/1"


class Result:
    """Everything a check found. `to_json()` gives the documented schema (docs/results.md)."""

    def __init__(self, data: dict, exploration=None):
        self.data = data
        self.exploration = exploration

    def __getattr__(self, name):
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key):
        return self.data[key]

    @property
    def exit_code(self) -> int:
        v = self.data["verdict"]
        if "reach" in self.data and v != "error":
            q = self.data["reach"]
            if any(t["reachable"] is None and t.get("expect") for t in q):
                return EXIT_INCOMPLETE
            if any(t.get("matches") is False for t in q):
                return EXIT_VIOLATION
            if any(t["reachable"] is None for t in q):
                return EXIT_INCOMPLETE
            return EXIT_OK
        return {"ok": EXIT_OK, "violation": EXIT_VIOLATION, "deadlock": EXIT_VIOLATION,
                "incomplete": EXIT_INCOMPLETE, "error": EXIT_BAD_INPUT, "refused": EXIT_REFUSED}[v]

    def graph(self):
        """The state graph (networkx MultiDiGraph); needs check(..., keep_graph=True)."""
        from .analysis.graph import state_graph
        return state_graph(self.exploration.model, self.exploration)

    def to_json(self, timings=True) -> str:
        data = self.data
        if not timings:
            data = json.loads(json.dumps(data))
            for k in ("seconds", "states_per_second", "peak_mib"):
                data["stats"].pop(k, None)
        return json.dumps(data, indent=2, sort_keys=False) + "\n"


def refused(config: str, error) -> Result:
    """The answer for a configuration the modelled kernel refuses (a Refused error): nothing was
    explored; `message` is the kernel's reason, `position` where the config selects it."""
    return Result({"schema": SCHEMA, "tool": "mm-explorer", "version": __version__, "config": config,
                   "verdict": "refused", "message": f"the kernel refuses this configuration: {error.reason}",
                   "position": str(error.pos) if error.pos else None, "detail": error.message})


def step(model, ex, idx, k):
    """One trace step: the action instance that led to state `idx` (None for an initial state)."""
    return state_step(model, ex.states[idx] if idx is not None else None, k)


def state_step(model, state, k):
    """One trace step from a state tuple (None: no state) and the instance that reached it."""
    st = {"state": model.decode(state)} if state is not None else {}
    if state is not None and model.worlds is not None and (k is None or k < 0):
        st["world"] = model.world_of(state).label  # an open config: the initial state names its world
    if k is None or k < 0:
        return {"action": None, "params": {}, "source": None, **st}
    return {**step_of(model, model.instances[k]), **st}


def step_of(model, inst) -> dict:
    """A step's description without its state: action, params, label, source; with the spec's
    annotations also `named` (params by the names of their indices) and `actor` (its lane)."""
    out = {"action": inst.name, "params": inst.params_display(), "label": inst.label(),
           "source": inst.action.source or None}
    ann = model.annotations
    if ann is not None:
        named = {}
        for (pname, st), (_, _, disp) in zip(inst.action.params, inst.args):
            n = ann.name_of(st.name, str(disp))
            if n:
                named[pname] = n
        out["named"] = named
        out["actor"] = ann.actor_of.get(inst.name)
    return out


def trace_to(model, ex, idx):
    if model.symmetry is not None:  # replayed without symmetry: a run of the unreduced model
        from .checker.symmetry import concrete_path
        return [state_step(model, st, k) for st, k in concrete_path(model, ex, ex.path(idx))]
    return [step(model, ex, i, ex.via[i]) for i in ex.path(idx)]


def _stats(ex) -> dict:
    return {
        "distinct_states": len(ex.states),
        "transitions": ex.transitions,
        "depth": ex.depth,
        "initial_states": ex.initial_count,
        "queue_left": ex.queue_left,
        "seconds": round(ex.seconds, 3),
        "states_per_second": round(len(ex.states) / ex.seconds) if ex.seconds > 0 else None,
        "peak_mib": round(ex.peak_mib, 1),
        "complete": ex.complete,
    }


def build(problem, ex) -> Result:
    model = problem.model
    stats = _stats(ex)
    if model.symmetry is not None:
        stats["symmetry"] = list(model.symmetric)  # distinct_states counts one state per orbit
    data = {
        "schema": SCHEMA,
        "tool": "mm-explorer",
        "version": __version__,
        "verdict": None,
        "invariant": None,
        "message": "",
        "spec": problem.spec_path,
        "config": problem.config_path,
        "module": model.name,
        "constants": problem.constants,
        "constants_set": list(problem.overridden),
        "question": problem.question or None,
        "answers": problem.answers or None,
        "check": problem.check,
        "invariants_checked": [inv.name for inv in model.invariant_list],
        "invariant_exprs": {inv.name: " ".join(inv.sn.text.split()) for inv in model.invariant_list},
        "invariant_docs": {inv.name: " ".join(inv.doc.split()) for inv in model.invariant_list if inv.doc},
        "variables": layout(model),
        "sets": {name: [st.display(x) if _is_symbol_set(st) else x for x in st.values]
                 for name, st in model.sets.items()},
        **annotations(model),
        "stats": stats,
        "coverage": coverage(model, ex),
        "trace": [],
        "violations": [],
    }
    if model.is_query() and ex.error is None:
        _reach_verdict(model, ex, data)
        return Result(data, ex)
    if ex.error is not None:
        idx, k, err = ex.error
        pos = model.positions[err.pos_index] if 0 <= err.pos_index < len(model.positions) else None
        data["verdict"] = "error"
        where = f"{pos}: " if pos else ""
        who = f" in {model.instances[k].label()}" if k is not None else (" in the init block" if idx < 0 else " in an invariant")
        data["message"] = f"{where}runtime error{who}: {err.message}"
        data["error"] = {"message": err.message, "position": str(pos) if pos else None,
                         "action": model.instances[k].label() if k is not None else None}
        if idx >= 0:
            tr = trace_to(model, ex, idx)
            if k is not None:
                tr.append({**step_of(model, model.instances[k]), "state": None, "error": err.message})
            data["trace"] = tr
    elif ex.violations:
        inv_i, idx = ex.violations[0]
        inv = model.invariant_list[inv_i]
        data["verdict"] = "violation"
        data["invariant"] = inv.name
        data["trace"] = trace_to(model, ex, idx)
        data["message"] = f"invariant {inv.name} is violated after {len(data['trace']) - 1} step(s)"
        data["violations"] = [{"invariant": model.invariant_list[i].name, "trace": trace_to(model, ex, j)}
                              for i, j in ex.violations]
    elif ex.deadlock is not None:
        data["verdict"] = "deadlock"
        data["trace"] = trace_to(model, ex, ex.deadlock)
        data["message"] = f"deadlock: no action is enabled after {len(data['trace']) - 1} step(s)"
    elif not ex.complete:
        data["verdict"] = "incomplete"
        data["message"] = f"stopped before the state space was exhausted: {ex.stopped}"
        data["stopped_by"] = ex.stopped
    else:
        data["verdict"] = "ok"
        n = len(model.invariant_list)
        data["message"] = f"all {n} invariant(s) hold in every one of {len(ex.states):,} reachable states"
    if ex.stopped and data["verdict"] != "incomplete":
        data["stopped_by"] = ex.stopped
    if model.worlds is not None:
        open_worlds(problem, ex, data)
    return Result(data, ex)


def open_worlds(problem, ex, data):
    """An open config: how many worlds were explored and refused, the world of each trace and,
    with --continue, per invariant every world that breaks it, minimal world first."""
    model = problem.model
    data["worlds"] = {"explored": len(model.worlds), "refused": len(model.refused),
                      "refused_examples": [{"world": w, "reason": r} for w, r in model.refused[:5]]}
    if data.get("trace") and data["verdict"] in ("violation", "deadlock", "error", "reachable", "mixed"):
        data["world"] = _world_at(model, ex, data["trace"])
    if data["verdict"] != "violation":
        return
    if not problem.check.get("continue"):
        data["violations"] = [dict(v, world=_world_at(model, ex, v["trace"])) for v in data["violations"]]
        return
    from .checker.worlds import first_per_world, ranked
    out = []
    for i, per in first_per_world(model, ex).items():
        if not per:
            continue
        order = ranked(model, ex, per)
        w0, idx = order[0]
        out.append({"invariant": model.invariant_list[i].name, "world": model.worlds[w0].label,
                    "trace": trace_to(model, ex, idx), "worlds_breaking": len(per), "complete": bool(ex.complete),
                    "worlds": [{"world": model.worlds[w].label, "steps": int(ex.depth_of[j])} for w, j in order],
                    "_key": (model.worlds[w0].size, int(ex.depth_of[idx]))})
    out.sort(key=lambda v: v.pop("_key"))
    data["violations"] = out
    first = out[0]
    data["invariant"], data["trace"], data["world"] = first["invariant"], first["trace"], first["world"]
    data["message"] = (f"{len(out)} invariant(s) violated; {first['invariant']} in {first['worlds_breaking']} of "
                       f"{len(model.worlds)} world(s), first in {first['world']} after {len(first['trace']) - 1} step(s)")


def _world_at(model, ex, trace):
    """The world of a trace (its states are decoded per world; the world is read off the path)."""
    return trace[0].get("world")


def coverage(model, ex) -> dict:
    per_action = {}
    instances = []
    for inst, en, fi in zip(model.instances, ex.enabled, ex.fired):
        a = per_action.setdefault(inst.name, {"action": inst.name, "instances": 0, "enabled": 0, "fired": 0,
                                              "source": inst.action.source or None})
        a["instances"] += 1
        a["enabled"] += en
        a["fired"] += fi
        instances.append({"instance": inst.label(), "enabled": en, "fired": fi})
    never = [i["instance"] for i in instances if i["fired"] == 0]
    premises = {}
    seen = getattr(ex, "premise_seen", None) or []
    for (inv, text, j), was in zip(model.probes, seen):
        premises.setdefault(inv, []).append({"premise": text, "ever_true": bool(was)})
    invs = [{"invariant": inv.name, "premises": premises.get(inv.name, []),
             "vacuous": any(not p["ever_true"] for p in premises.get(inv.name, []))}
            for inv in model.invariant_list if not inv.reach]
    return {
        "invariants": invs,
        "actions": list(per_action.values()),
        "instances": instances,
        "never_fired": never,
        "unavailable": [{"action": n, "reason": r} for n, r in model.unavailable_actions],
        "statically_disabled": [{"instance": n, "reason": r} for n, r in model.disabled_instances],
        "no_instance": sorted({n.split("(", 1)[0].split(" in world ", 1)[0] for n, _ in model.disabled_instances}
                              - set(per_action)),
    }


def layout(model) -> dict:
    """How decoded states are shaped: per variable its index sets, record fields, type, group."""
    from .types import TRec
    out = {}
    for var in model.variables.values():
        out[var.name] = {
            "over": [s.name for s in var.sets],
            "record": list(var.elem.fields) if isinstance(var.elem, TRec) else None,
            "type": repr(var.elem),
            "ghost": var.ghost,
            "group": var.group,
            "doc": var.doc or None,
        }
    return out


def projection_variables(layout: dict, names=None) -> list:
    """The variables a `--project VAR,...` list names (variables or variable groups, in the order
    given); with no names, every variable that is not a ghost. Raises SpecError on an unknown name."""
    if not names:
        return [v for v, info in layout.items() if not info.get("ghost")]
    out = []
    groups = sorted({info["group"] for info in layout.values() if info.get("group")})
    for name in names:
        hit = [name] if name in layout else [v for v, info in layout.items() if info.get("group") == name]
        if not hit:
            raise SpecError(Pos(f"<--project {name}>", 1, 1),
                            f"--project {name}: no variable or group has this name"
                            + did_you_mean(name, list(layout) + groups) + f"; variables: {', '.join(layout)}")
        out.extend(v for v in hit if v not in out)
    return out


def annotations(model) -> dict:
    """What the spec says for readers: `world` (each labelled set's indices by name and role) and
    `actors` (the lanes of a race diagram, in order). Empty when the spec says nothing."""
    ann = model.annotations
    out = {}
    if ann is not None and ann.world:
        out["world"] = ann.world
    if ann is not None and ann.actors:
        out["actors"] = list(ann.actors)
    return out


def _is_symbol_set(st) -> bool:
    from .types import TSym
    return isinstance(st.elem_type, TSym)


def _reach_verdict(model, ex, data):
    """A witness query: per target, a shortest trace to it, or unreachable (when exhausted)."""
    first = {i: j for i, j in ex.violations}
    out = []
    for i, inv in enumerate(model.invariant_list):
        if i in first:
            reachable = True
        elif ex.complete:
            reachable = False
        else:
            reachable = None  # not found before a limit stopped the run
        t = {"target": inv.name, "expr": inv.target_text, "reachable": reachable,
             "expect": inv.expect, "trace": trace_to(model, ex, first[i]) if i in first else []}
        if inv.expect is not None and reachable is not None:
            t["matches"] = (inv.expect == "reachable") == reachable
        out.append(t)
    data["reach"] = out
    answers = {t["reachable"] for t in out}
    if None in answers:
        data["verdict"] = "incomplete"
        data["stopped_by"] = ex.stopped
    elif answers == {True}:
        data["verdict"] = "reachable"
    elif answers == {False}:
        data["verdict"] = "unreachable"
    else:
        data["verdict"] = "mixed"
    hit = [t for t in out if t["reachable"]]
    if hit:
        data["invariant"] = hit[0]["target"]
        data["trace"] = hit[0]["trace"]
    parts = []
    for t in out:
        if t["reachable"]:
            parts.append(f"{t['target']} is reachable in {len(t['trace']) - 1} step(s)")
        elif t["reachable"] is False:
            parts.append(f"{t['target']} is unreachable: all {len(ex.states):,} reachable states explored")
        else:
            parts.append(f"{t['target']} not reached before the run stopped ({ex.stopped})")
        if t.get("expect"):
            parts[-1] += f" (expected {t['expect']}: {'as expected' if t.get('matches') else 'NOT as expected'})" \
                if t["reachable"] is not None else f" (expected {t['expect']})"
    data["message"] = "; ".join(parts)
