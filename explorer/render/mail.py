"""The trace as plain text for a reply on a mailing list: at most 80 columns, one paragraph per step."""

from __future__ import annotations

import textwrap

from .lanes import has_lanes, lanes_text
from .view import TraceView, compact_keys, show_long

WIDTH = 80


def _para(text: str, indent: str, first: str | None = None) -> list:
    return textwrap.wrap(text, WIDTH, initial_indent=first if first is not None else indent,
                         subsequent_indent=indent, break_long_words=True, break_on_hyphens=False)


def _bits(changed: dict) -> list:
    """'sets a, b', 'clears c', 'x: 1 -> 2' for one step's changes."""
    sets = [k for k, (a, b) in changed.items() if b is True and a in (False, None)]
    clears = [k for k, (a, b) in changed.items() if b is False and a in (True, None)]
    other = [(k, a, b) for k, (a, b) in changed.items() if k not in sets and k not in clears]
    out = []
    if sets:
        out.append("sets " + ", ".join(compact_keys(sets)))
    if clears:
        out.append("clears " + ", ".join(compact_keys(clears)))
    for k, a, b in other:
        out.append(f"{k}: {show_long(a)} -> {show_long(b)}")
    return out


def format_mail(data: dict) -> str:
    view = TraceView(data)
    L = []
    L += _para(view.title() + ".", "")
    where = data.get("config") or data.get("spec")
    consts = view.constants_line()
    if where or consts:
        L += _para(f"({where}{'; ' if where and consts else ''}{consts})", " ")
    for line in view.world:
        L += _para(line, "      ", "  ")
    L.append("")
    first = view.steps[0]
    true_bits = [k for k, v in first.flat.items() if v is True]
    values = [f"{k} = {show_long(v)}" for k, v in first.flat.items() if not isinstance(v, bool)]
    text = "Initially " + ("set: " + ", ".join(compact_keys(true_bits)) if true_bits else "no bit is set")
    text += "; every other bit is clear" if true_bits else ""
    if values:
        text += "; " + ", ".join(values)
    L += _para(text + ".", "   ", "0. ")
    if has_lanes(view):
        L += ["", "The steps, one column per actor:", ""] + ["  " + x if x else x for x in lanes_text(view, WIDTH - 2)]
    width = len(str(len(view.steps) - 1))
    for st in view.steps[1:]:
        L.append("")
        num = f"{st.n:>{width}}. "
        ind = " " * len(num)
        head = num + st.label
        if st.source and len(head) + len(st.source) + 4 <= WIDTH:
            L.append(f"{head} -- {st.source}")
        else:
            L += _para(st.label, ind, num)
            if st.source:
                L += _para(f"in {st.source}", ind)
        if st.flat is None:
            L += _para(f"fails: {st.raw.get('error') or 'runtime error'}", ind)
            continue
        bits = _bits(st.changed)
        if not bits:
            L += _para("changes nothing", ind)
        for b in bits:
            L += _para(b, ind + "  ", ind)
    L.append("")
    if view.verdict == "violation":
        L += _para(f"Now {view.invariant} is false" + (f" ({view.invariant_doc}):" if view.invariant_doc else ":"), "")
        if view.invariant_expr:
            L += _para(view.invariant_expr, "    ", "  ")
        if view.marked:
            last = view.last_state_step.flat
            items = [f"{k} = {show_long(last[k])}" for k in last if k in view.marked]
            what = "because" if view.mark_kind == "culprit" else "it reads"
            L += _para(f"{what} " + ", ".join(items) + ".", "  ")
    elif view.verdict == "deadlock":
        L += _para("No action is enabled in the last state (deadlock).", "")
    elif view.verdict == "error":
        L += _para(data.get("message") or "runtime error", "")
    return "\n".join(line.rstrip() for line in L) + "\n"
