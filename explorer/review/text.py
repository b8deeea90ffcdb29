"""The diff as text for a terminal, and one witness as a result-shaped document."""

from __future__ import annotations

from ..version import __version__
from ..errors import SpecError, did_you_mean
import textwrap

from ..report import Style, changes, format_state_compact, show_value, step_title, world_lines
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
    L = [""]
    if all(r["before"]["verdict"] == r["after"]["verdict"] == "holds" for r in data["invariants"]):
        return L + [f"invariants: all {len(data['invariants'])} hold on both sides "
                    f"({', '.join(r['invariant'] for r in data['invariants'])})"]
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
                L.extend(_witness(lay, style, None)(r["witness"]))
                shown.append((r["invariant"], r["witness"]))
            if r["kind"] == "target":
                L.append(f"  {style.red('reached')}: {r['invariant']}  ==  {r.get('expr', '')}")
            else:
                expr = (data.get("invariant_exprs") or {}).get(r["invariant"])
                L.append(f"  {style.red('violated')}: {r['invariant']}" + (f"  ==  {expr}" if expr else ""))
    return L


WIDTH = 80


def wrap80(line: str) -> list:
    """A line at most WIDTH columns wide; continuations indented four more than the line."""
    if len(line) <= WIDTH:
        return [line]
    body = line.lstrip(" ")
    ind = " " * (len(line) - len(body))
    return textwrap.wrap(body, WIDTH, initial_indent=ind, subsequent_indent=ind + "    ",
                         break_long_words=True, break_on_hyphens=False)


def _witness(lay, style, base):
    """A witness as changes only: the initial state only where it differs from `base` (whole when
    there is no base), then each step with what it changes."""
    def lines(trace):
        out = []
        first = trace[0]["state"]
        if base is None:
            out.append(style.bold("  0  initial state"))
            out.extend("       " + x for x in format_state_compact(first, lay))
        else:
            diff = changes(base, first, lay)
            if diff:
                out.append(style.bold("  0  another initial state: ")
                           + ", ".join(f"{k} = {show_value(b)}" for k, _, b in diff))
        prev = first
        for n, stp in enumerate(trace[1:], 1):
            out.append(style.bold(f"  {n}  {step_title(stp)}"))
            if stp.get("state") is None:
                out.append("       " + style.red("error: " + str(stp.get("error", ""))))
                continue
            ch = changes(prev, stp["state"], lay)
            out.extend(f"       {k}: {show_value(x)} -> {style.yellow(show_value(y))}" for k, x, y in ch)
            if not ch:
                out.append("       " + style.dim("(no projected variable changed)"))
            prev = stp["state"]
        return out
    return lines


def _format_settings(data, style) -> list:
    """What differs between the two settings themselves, e.g. the commits of two kernel labels."""
    out = []
    for d in data.get("setting_members") or []:
        after, before = d["only_after"], d["only_before"]
        out.append("")
        out.append(style.bold(f"{d['setting']} {d['before']} -> {d['after']}") + f": entries of {d['by']} "
                   f"{len(after) or 'none'} only after, {len(before) or 'none'} only before")
        for sign, items in (("+", after), ("-", before)):
            for it in items:
                info = " ".join(str(x) for x in (it.get("release"), it.get("title")) if x)
                out.append(f"  {sign} {it['key']}" + (f"  {info}" if info else ""))
    return out


def _format_stats(data, style) -> list:
    b, a = data["before"], data["after"]
    w = max(6, len(b["label"]), len(a["label"]))
    out = [f"  {'':<6}  {'':<{w}}  {'states':>9} {'transitions':>11} {'depth':>5}  "
           f"{'projected:':>10} {'states':>6} {'trans.':>7}"]
    for s in SIDES:
        d = data[s]
        st = d["stats"]
        out.append(f"  {s:<6}  {d['label']:<{w}}  {st['distinct_states']:>9,} {st['transitions']:>11,} "
                   f"{st['depth']:>5}  {st['projected_states']:>17,} {st['projected_transitions']:>7,}")
        if not d["complete"]:
            out.append("          " + style.yellow(f"stopped: {d['stopped_by']}"))
    return out


def summary(data) -> str:
    """One paragraph: what the settings change, what the verdicts say, what became reachable."""
    a = data["after"]
    parts = []
    for d in data.get("setting_members") or []:
        keys = [it["key"] for it in d["only_after"]]
        gone = [it["key"] for it in d["only_before"]]
        parts.append(f"{d['after']} differs from {d['before']} by {len(keys) + len(gone)} entr"
                     f"{'y' if len(keys) + len(gone) == 1 else 'ies'} of {d['by']}"
                     + (f" (adds {', '.join(keys)})" if keys else "") + (f" (drops {', '.join(gone)})" if gone else "") + ".")
    changed = [r for r in data["invariants"] if r["changed"]]
    if changed:
        parts.append("The verdict changes: " + "; ".join(
            f"{r['invariant']} is {r['after']['verdict']} after and {r['before']['verdict']} before" for r in changed) + ".")
    elif data["invariants"]:
        parts.append(f"No verdict changes ({len(data['invariants'])} compared).")
    ca, cb = data["counts"]["only_after"], data["counts"]["only_before"]
    for side, c in (("after", ca), ("before", cb)):
        gs = [g for g in data["groups"] if g["side"] == side and g["kind"] == "states"]
        if gs:
            acts = sorted({g.get("action") or g["step"] for g in gs})
            parts.append(f"{c['states']:,} projected state(s) are reachable only {side} ({data[side]['label']}), "
                         f"in {len(gs)} group(s) whose first differing step is {', '.join(acts)}.")
    if ca["transitions"] or cb["transitions"]:
        parts.append(f"{ca['transitions']:,} projected transition(s) exist only after and {cb['transitions']:,} "
                     f"only before.")
    if data["equal"]:
        parts.append(f"Both sides reach the same {a['stats']['projected_states']:,} projected states.")
    if not data["complete"]:
        parts.append("A limit stopped a side, so this compares only what was explored.")
    return " ".join(parts)


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
    L.extend(_format_settings(data, style))
    L.append("")
    L.extend(_format_stats(data, style))
    ghost = [k for k, v in lay.items() if v.get("ghost")]
    default = [k for k in lay if k not in ghost]
    how = "the non-ghost variables" if data["projection"] == default else "chosen with --project"
    L.append(f"projection: {', '.join(data['projection'])} ({how})")
    world = world_lines(data)
    if world:
        L.append("world: " + "; ".join(world))
    absent_b, absent_a = set(b["actions_not_in_configuration"]), set(a["actions_not_in_configuration"])
    if absent_b - absent_a:
        L.append(f"actions only after: {', '.join(sorted(absent_b - absent_a))}")
    if absent_a - absent_b:
        L.append(f"actions only before: {', '.join(sorted(absent_a - absent_b))}")
    if data["invariants"]:
        L.extend(_format_invariants(data, lay, style))
    base = None  # the initial state the witnesses are written against
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
        if gs and base is None:
            base = gs[0]["witness"][0]["state"]
            L.append(style.dim("  every witness below starts from this initial state unless it says otherwise:"))
            L.extend("    " + x for x in format_state_compact(base, proj_lay))
        for g in gs:
            L.append("")
            L.extend(_format_group(g, data, proj_lay, style, _witness(proj_lay, style, base)))
    L.append("")
    L.append(style.bold("Summary: ") + summary(data))
    return "\n".join(line for x in L for line in wrap80(x)) + "\n"


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
        if g.get("world"):
            L.append(f"      in the world {style.cyan(g['world'])}")
        d = g.get("witness_first_different_step")
        L.append(f"      shortest witness {side} ({data[side]['label']}), {len(wit) - 1} step{'s' if len(wit) != 2 else ''}"
                 + (f", step {d} is the first that differs:" if d else ":"))
        L.extend("    " + line for line in format_trace(wit))
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
        L.extend("    " + line for line in format_trace(wit))
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
