"""Text reports of results: verdict, trace with per-step changes, statistics and coverage.

Works from the result's plain data alone (the JSON), so a saved trace renders the same way.
"""

from __future__ import annotations

import os
import sys


def flatten(state: dict, layout: dict) -> dict:
    """Decoded state -> {'pte[0][1].dirty': value, ...} in variable order."""
    out = {}
    for name, info in layout.items():
        if name not in state:
            continue
        depth = len(info.get("over") or [])
        record = info.get("record")

        def rec(prefix, v, level):
            if level < depth:
                for k, x in v.items():
                    rec(f"{prefix}[{k}]", x, level + 1)
            elif record:
                for f in record:
                    out[f"{prefix}.{f}"] = v[f]
            else:
                out[prefix] = v
        rec(name, state[name], 0)
    return out


_BOOLS = {"text": ("TRUE", "FALSE"), "cell": ("T", "F"), "yaml": ("true", "false")}


def show_value(v, form: str = "text") -> str:
    """The one value formatter. `form`: "text" (TRUE / FALSE, the report and the diff), "cell"
    (T / F, diagram and viewer cells), "yaml" (true / false, lists and mappings in YAML flow
    style, symbols bare: constants and settings as a config writes them). None is "-"."""
    if v is True or v is False:
        return _BOOLS[form][0 if v else 1]
    if v is None:
        return "-"
    if isinstance(v, list):
        return "[" + ", ".join(show_value(x, form) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {show_value(x, form)}" for k, x in v.items()) + "}"
    return str(v)


def step_title(stp: dict) -> str:
    """A step as `action(param=value, ...)`, indices by the names the spec gives them (vma0)."""
    if stp.get("action") is None:
        return "initial state"
    named = stp.get("named") or {}
    if not named:
        return stp.get("label") or stp["action"]
    params = stp.get("params") or {}
    return f"{stp['action']}(" + ", ".join(f"{k}={named.get(k, v)}" for k, v in params.items()) + ")"


def world_lines(data: dict) -> list:
    """`vma0: private, R, memfd, uffd:minor` for every index the spec names by role."""
    return [f"{item['name']}: {item['label']}" for items in (data.get("world") or {}).values()
            for item in items if item.get("label")]


def invariant_doc(data: dict, name) -> str:
    return (data.get("invariant_docs") or {}).get(name) or ""


def changes(prev: dict, cur: dict, layout: dict):
    a = flatten(prev, layout)
    b = flatten(cur, layout)
    return [(k, a.get(k), b[k]) for k in b if a.get(k) != b[k]]


class Style:
    def __init__(self, color: bool):
        self.color = color

    def _c(self, code, s):
        return f"\033[{code}m{s}\033[0m" if self.color else s

    def bold(self, s):
        return self._c("1", s)

    def red(self, s):
        return self._c("31;1", s)

    def green(self, s):
        return self._c("32;1", s)

    def yellow(self, s):
        return self._c("33", s)

    def dim(self, s):
        return self._c("2", s)

    def cyan(self, s):
        return self._c("36", s)


def use_color(stream, flag=None) -> bool:
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty() and os.environ.get("TERM") != "dumb"


def format_state_compact(state: dict, layout: dict) -> list:
    """A whole state, one variable per line, records and arrays folded onto that line."""
    lines = []
    flat = flatten(state, layout)
    by_var = {}
    for k, v in flat.items():
        var = k.split("[", 1)[0].split(".", 1)[0]
        by_var.setdefault(var, []).append((k[len(var):], v))
    for var, items in by_var.items():
        if len(items) == 1 and items[0][0] == "":
            lines.append(f"{var} = {show_value(items[0][1])}")
        else:
            parts = ", ".join(f"{k}={show_value(v)}" for k, v in items)
            lines.append(f"{var}: {parts}")
    return lines


def format_trace(trace: list, layout: dict, style: Style, bad_keys=()) -> list:
    lines = []
    prev = None
    width = len(str(len(trace)))
    for n, stp in enumerate(trace):
        if stp.get("action") is None:
            lines.append(style.bold(f"  {n:>{width}}  initial state"))
            for l in format_state_compact(stp["state"], layout):
                lines.append(f"  {' ' * width}     {l}")
        else:
            label = step_title(stp)
            src = f"   {style.dim(stp['source'])}" if stp.get("source") else ""
            lines.append(style.bold(f"  {n:>{width}}  {label}") + src)
            if stp.get("state") is None:
                lines.append(f"  {' ' * width}     {style.red('error: ' + str(stp.get('error', '')))}")
            else:
                ch = changes(prev, stp["state"], layout)
                if not ch:
                    lines.append(f"  {' ' * width}     {style.dim('(no variable changed)')}")
                for k, a, b in ch:
                    mark = style.red(" <") if k in bad_keys else ""
                    lines.append(f"  {' ' * width}     {k}: {show_value(a)} -> {style.yellow(show_value(b))}{mark}")
        if stp.get("state") is not None:
            prev = stp["state"]
    return lines


def format_coverage(data: dict, style, verbose=False) -> list:
    """The coverage table (verbose) and the warnings about what the check says nothing about."""
    L = []
    v = data["verdict"]
    cov = data.get("coverage") or {}
    if cov.get("unavailable"):
        L.append(style.dim("not in this configuration: " + "; ".join(f"{u['action']} ({u['reason']})" for u in cov["unavailable"])))
    if verbose and (cov.get("actions") or cov.get("unavailable") or cov.get("statically_disabled")):
        L.append("")
        L.append("Coverage: actions never enabled first, with the reason when the spec can say it")
        L.append(f"  {'action':<30} {'instances':>9} {'enabled':>10} {'fired':>10}")
        for u in cov.get("unavailable") or []:
            L.append(f"  {u['action']:<30} {'-':>9} {'-':>10} {'-':>10}   {style.yellow(u['reason'])}")
        static = {}
        for d in cov.get("statically_disabled") or []:
            static.setdefault(d["instance"].split("(")[0], []).append(d["instance"])
        acts = sorted(cov.get("actions") or [], key=lambda a: (a["enabled"] > 0, 0))
        for a in acts:
            why = ""
            if a["enabled"] == 0:
                why = style.yellow("guard never true in a reachable state")
            L.append(f"  {a['action']:<30} {a['instances']:>9} {a['enabled']:>10,} {a['fired']:>10,}   {why}")
        for name, insts in static.items():
            if not any(a["action"] == name for a in acts):
                L.append(f"  {name:<30} {0:>9} {'-':>10} {'-':>10}   "
                         + style.yellow("no instance: guard or require false for these constants (e.g. no VMA of the needed kind)"))
        if cov.get("invariants"):
            L.append("")
            L.append("  invariant premises (an implication whose premise never held is vacuous):")
            for inv in cov["invariants"]:
                for p in inv["premises"]:
                    mark = style.green("held") if p["ever_true"] else style.red("NEVER held")
                    L.append(f"    {inv['invariant']}: {p['premise']}  {mark}")
    vac = [(inv["invariant"], p["premise"]) for inv in cov.get("invariants") or [] for p in inv["premises"] if not p["ever_true"]]
    if vac and v in ("ok", "incomplete"):
        L.append(style.yellow(f"warning: {len(vac)} implication(s) held only vacuously (premise never true in a reachable state): "
                              + "; ".join(f"{i}: {p}" for i, p in vac[:4]) + (" ..." if len(vac) > 4 else "")))
    never = cov.get("never_fired") or []
    if never and v in ("ok", "incomplete"):
        shown = ", ".join(never[:8]) + (f", and {len(never) - 8} more" if len(never) > 8 else "")
        L.append(style.yellow(f"warning: {len(never)} action instance(s) never fired, so the check says nothing about them: {shown}"))
    none = cov.get("no_instance") or []
    if none and v in ("ok", "incomplete"):
        L.append(style.yellow(f"warning: {len(none)} action(s) of this config have no instance for these constants "
                              f"(their guard or require is false for every parameter), so the check says nothing "
                              f"about them: {', '.join(none)}"))
    return L


def header_lines(data: dict, style: Style | None = None) -> list:
    """What is checked: tool, config, module, the constants set, the world by role and the
    question (printed before exploring)."""
    style = style or Style(False)
    L = [style.bold(f"mm-explorer {data.get('version', '')}") + f": {data.get('config')} (module {data.get('module')})"]
    consts = data.get("constants") or {}
    chosen = data.get("constants_set")
    shown = {k: v for k, v in consts.items() if chosen is None or k in chosen}
    if shown:
        L.append("constants: " + ", ".join(f"{k}={show_value(v, 'yaml')}" for k, v in shown.items())
                 + (" (others at their defaults)" if len(shown) < len(consts) else ""))
    world = world_lines(data)
    if world:
        L.append("world: " + "; ".join(world))
    if data.get("question"):
        L.append("question: " + data["question"])
    return L


def format_result(data: dict, style: Style | None = None, verbose=False, header=True) -> str:
    style = style or Style(False)
    L = header_lines(data, style) if header else []
    v = data["verdict"]
    stats = data["stats"]
    if data.get("trace"):
        L.extend(_format_counterexample(data, style))
    L.append("")
    sps = stats.get("states_per_second")
    L.append(f"{stats['distinct_states']:,} distinct states, {stats['transitions']:,} transitions, depth {stats['depth']}, "
             f"{stats.get('initial_states', 0)} initial, {stats.get('seconds', 0):.2f} s" + (f" ({sps:,} states/s)" if sps else ""))
    if stats.get("symmetry"):
        L.append(f"symmetry on over {', '.join(stats['symmetry'])}: states are counted one per orbit; "
                 "traces are replayed without symmetry")
    if data.get("worlds"):
        w = data["worlds"]
        L.append(f"worlds: {w['explored']:,} explored in one run, {w['refused']:,} refused by the spec's assumptions"
                 + (f" (e.g. {w['refused_examples'][0]['world']}: {w['refused_examples'][0]['reason']})"
                    if verbose and w.get("refused_examples") else ""))
    L.extend(format_coverage(data, style, verbose))
    verdict_line = {"ok": style.green("OK"), "violation": style.red("VIOLATION"), "deadlock": style.red("DEADLOCK"),
                    "incomplete": style.yellow("INCOMPLETE"), "error": style.red("ERROR"),
                    "reachable": style.bold("REACHABLE"), "unreachable": style.bold("UNREACHABLE"),
                    "mixed": style.bold("ANSWERED"), "refused": style.yellow("REFUSED")}[v]
    L.append(f"{verdict_line}: {data.get('message', '')}")
    answer = (data.get("answers") or {}).get(v)
    if answer:
        L.append(f"answer: {answer}")
    return "\n".join(L) + "\n"


def _format_counterexample(data: dict, style) -> list:
    """The trace, the violated invariant with its doc line and culprits, the other violations."""
    v = data["verdict"]
    layout = data.get("variables") or {}
    what = {"violation": f"Counterexample to {data.get('invariant')}", "deadlock": "Trace to the deadlock",
            "error": "Trace to the runtime error"}.get(v, f"Witness for {data.get('invariant')}")
    L = ["", style.bold(f"{what} ({len(data['trace']) - 1} steps)" + (" in the world" if data.get("world") else "") + ":")]
    if data.get("world"):
        L.append(f"  {style.cyan(data['world'])}")
    culprits = data.get("culprits") or {}
    bad = set(culprits.get("slots") or []) if culprits.get("invariant") == data.get("invariant") else set()
    L.extend(format_trace(data["trace"], layout, style, bad_keys=bad))
    if v == "violation":
        inv = data.get("invariant")
        expr = (data.get("invariant_exprs") or {}).get(inv)
        L.append(f"  {style.red('violated')}: {inv}" + (f"  ==  {expr}" if expr else ""))
        if invariant_doc(data, inv):
            L.append(f"  {inv}: {invariant_doc(data, inv)}")
        last = flatten(data["trace"][-1].get("state") or {}, layout)
        if bad & set(last):  # the values that make it false (a renderer adds them to the result)
            L.append("  because: " + ", ".join(f"{k} = {show_value(x)}" for k, x in last.items() if k in bad))
    if data.get("worlds") and any("worlds_breaking" in vi for vi in data.get("violations") or []):
        L.extend(_world_violations(data, style))
    elif len(data.get("violations") or []) > 1:
        L.append("")
        L.append("Other invariants violated (first violation of each, with --continue):")
        for vi in data["violations"][1:]:
            L.append(f"  {vi['invariant']}: after {len(vi['trace']) - 1} steps")
    return L


def _world_violations(data, style, shown=3):
    """--continue over an open config: per invariant the worlds that break it, minimal first."""
    L = ["", "Violations per invariant (minimal world first, then fewest steps; with --continue):"]
    for vi in data["violations"]:
        more = "" if vi.get("complete", True) else " (at least; the run stopped early)"
        L.append(f"  {style.red(vi['invariant'])}: {vi['worlds_breaking']} world(s){more}")
        for w in vi["worlds"][:shown]:
            L.append(f"    {w['steps']} steps  {w['world']}")
        if len(vi["worlds"]) > shown:
            L.append(style.dim(f"    ... and {len(vi['worlds']) - shown} more (all in the JSON result)"))
    return L


def _short(v):
    s = str(v)
    return s if len(s) <= 60 else s[:57] + "..."


def progress_printer(stream=None):
    """A one-line progress display: counts, elapsed time, and the frontier's trend (the queue
    growing or shrinking per second; when it shrinks, the time left at that rate)."""
    stream = stream or sys.stderr
    last = {}

    def show(stats):
        secs = max(stats["seconds"], 1e-9)
        trend = ""
        if last:
            dt = secs - last["seconds"]
            if dt > 0:
                rate = (stats["queue"] - last["queue"]) / dt
                trend = f" ({rate:+,.0f}/s" + (f", ~{_duration(stats['queue'] / -rate)} left at this rate)" if rate < 0 else ")")
        last.update(stats)
        stream.write(f"\r  {_duration(secs)}  {stats['states']:,} states  {stats['transitions']:,} transitions  "
                     f"depth {stats['depth']}  queue {stats['queue']:,}{trend}  {stats['states'] / secs:,.0f} states/s   ")
        stream.flush()
    return show


def _duration(s):
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
