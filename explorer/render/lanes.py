"""A trace as a race diagram: one lane per actor the spec declares (`actors:`), left to right,
each step in the lane of the actor that takes it, like the "CPU 0 | CPU 1" columns of a kernel
commit message. Used by the mail text, the Graphviz diagram and the HTML viewer."""

from __future__ import annotations

import textwrap

from .view import TraceView

OTHER = "other"  # the lane of steps whose action no actor claims


def lanes(view: TraceView) -> list:
    """The lanes the trace uses, in the spec's order (an `other` lane last when needed)."""
    used = {lane_of(st) for st in view.steps[1:]}
    out = [a for a in view.actors if a in used]
    if OTHER in used:
        out.append(OTHER)
    return out


def lane_of(step) -> str:
    return step.raw.get("actor") or OTHER


def has_lanes(view: TraceView) -> bool:
    return bool(view.actors) and len(view.steps) > 1


def _cell(text: str, width: int) -> list:
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def short_title(step) -> str:
    """`uffdio_continue(vma0, page0)`: the step with its arguments only, as race diagrams write it."""
    raw = step.raw
    named = raw.get("named") or {}
    params = raw.get("params") or {}
    if not params:
        return raw.get("action") or "?"
    return f"{raw['action']}(" + ", ".join(str(named.get(k, v)) for k, v in params.items()) + ")"


def lanes_text(view: TraceView, width: int = 80) -> list:
    """The race diagram as text lines of at most `width` columns: a header of actor names, a rule,
    then each step's `n. action(params)` in its actor's column."""
    names = lanes(view)
    if not names:
        return []
    n = len(names)
    col = max(8, (width - 3 * (n - 1)) // n)
    sep = " | "

    def row(cells):
        return sep.join(c.ljust(col) for c in cells).rstrip()
    out = []
    heads = [_cell(a, col) for a in names]
    for i in range(max(len(h) for h in heads)):
        out.append(row([h[i] if i < len(h) else "" for h in heads]))
    out.append("-+-".join("-" * col for _ in names))
    for st in view.steps[1:]:
        k = names.index(lane_of(st))
        num = f"{st.n}. "
        text = [(num if i == 0 else " " * len(num)) + x for i, x in enumerate(_cell(short_title(st), col - len(num)))]
        for line in text:
            out.append(row([line if j == k else "" for j in range(n)]))
    return out
