"""The diff as text for a terminal, and one witness as a result-shaped document."""

from __future__ import annotations

from ..version import __version__
from ..errors import SpecError, did_you_mean
from ..report import Style, format_trace, show_value
from .side import SIDES


def headline(data) -> str:
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


def _verdict_text(v, kind="invariant") -> str:
    if v["verdict"] in ("violated", "reachable"):
        return f"{v['verdict']} ({_steps(v['steps'])})"
    if v["verdict"] == "unknown":
        return "not reached so far" if kind == "target" else "not violated so far"
    return {"absent": "-"}.get(v["verdict"], v["verdict"])


def _format_invariants(data, lay, style) -> list:
    """The invariant verdicts side by side, then the witness of each one that changed."""
    b, a = data["before"], data["after"]
    L = []
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
    return L


def format_diff(data, style=None, all_vars=False, max_members=None) -> str:
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
    if data["invariants"]:
        L.extend(_format_invariants(data, lay, style))
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
    return [fmt(c["slot"].ljust(width), show_value(c[a]), style.yellow(show_value(c[b]))) for c in changes]


def _inline(changes, a, b):
    return ", ".join(f"{c['slot']} {show_value(c[a])} -> {show_value(c[b])}" for c in changes) or "no projected change"


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
                f"{c['slot']} = {show_value(c['other'])} ({side}: {show_value(c['this'])})" for c in final))
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


def witness_document(d, ident=None) -> dict:
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
                   + ", ".join(f"{c['slot']} = {show_value(c['this'])} ({item['other']}: {show_value(c['other'])})"
                               for c in item["changes"]))
        elif item["kind"] == "transitions":
            how = ": " + _inline(item["changes"], "from", "to")
        doc.update(verdict="witness", invariant=None,
                   message=f"{item['id']}: the {side} side ({data[side]['label']}) {what} that the "
                           f"{item['other']} side ({data[item['other']]['label']}) does not{how}")
    return doc
