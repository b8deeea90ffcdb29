"""The result of a check: verdict, statistics, coverage and counterexample, as plain data (JSON)."""

from __future__ import annotations

import json

from .version import __version__
from .errors import EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATION

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
                "incomplete": EXIT_INCOMPLETE, "error": EXIT_BAD_INPUT}[v]

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


def step(model, ex, idx, k):
    """One trace step: the action instance that led to state `idx` (None for an initial state)."""
    st = {"state": model.decode(ex.states[idx])} if idx is not None else {}
    if k is None or k < 0:
        return {"action": None, "params": {}, "source": None, **st}
    inst = model.instances[k]
    return {"action": inst.name, "params": inst.params_display(), "label": inst.label(),
            "source": inst.action.source or None, **st}


def trace_to(model, ex, idx):
    return [step(model, ex, i, ex.via[i]) for i in ex.path(idx)]


def build(problem, ex) -> Result:
    model = problem.model
    stats = {
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
        "check": problem.check,
        "invariants_checked": [inv.name for inv in model.invariant_list],
        "invariant_exprs": {inv.name: " ".join(inv.sn.text.split()) for inv in model.invariant_list},
        "variables": layout(model),
        "sets": {name: [st.display(x) if _is_symbol_set(st) else x for x in st.values]
                 for name, st in model.sets.items()},
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
                inst = model.instances[k]
                tr.append({"action": inst.name, "params": inst.params_display(), "label": inst.label(),
                           "source": inst.action.source or None, "state": None, "error": err.message})
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
    return Result(data, ex)


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
