"""The counterexample as a Graphviz diagram: one node per state, one edge per step.

Each state is an HTML-like table per group (per page, per VMA, per PTE, ...). The initial state
is drawn whole; later states show only the rows that changed in their step (all rows with
`all_vars`), with the changed values highlighted as old -> new. In the last state of a
counterexample the values that make the invariant false are marked, and a note gives the
invariant. Fonts are DejaVu, which Graphviz finds on a plain Debian machine.
"""

from __future__ import annotations

import textwrap

from .lanes import has_lanes, lane_of, lanes, short_title
from .view import TraceView, show

FONT = "DejaVu Sans"
MONO = "DejaVu Sans Mono"
CHANGED_BG = "#ffe680"
MARK_BG = "#ffb3b3"
MARK_BORDER = "#c00000"
HEADER_BG = "#e6e6e6"
FALSE_FG = "#8c8c8c"
LANE_BG = "#dfe8f6"
LANE_FILL = "#f5f8fd"
LANE_BORDER = "#5b7db1"
LR_MAX_STEPS = 4  # traces up to this many steps are drawn left to right, longer ones top to bottom


def esc(s) -> str:
    s = str(s)
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
             .replace('"', "&quot;").replace("'", "&#39;"))


def _wrap(s: str, width: int) -> list:
    return textwrap.wrap(s, width, break_long_words=True, break_on_hyphens=False) or [""]


def _value_cell(view: TraceView, step, key, marked) -> str:
    v = step.flat.get(key)
    ch = step.changed.get(key)
    text = f"{show(ch[0])}&#8594;{show(ch[1])}" if ch else esc(show(v))
    attrs = ""
    font_attrs = f'FACE="{MONO}"'
    bold = False
    if key in marked:
        attrs = f' BGCOLOR="{MARK_BG}" COLOR="{MARK_BORDER}" BORDER="2"'
        bold = True
    elif ch:
        attrs = f' BGCOLOR="{CHANGED_BG}"'
        bold = True
    elif v is False:
        font_attrs += f' COLOR="{FALSE_FG}"'
    inner = f"<B>{text}</B>" if bold else text
    return f'<TD{attrs}><FONT {font_attrs}>{inner}</FONT></TD>'


def _group_table(view: TraceView, step, group, rows, marked) -> str:
    ncol = len(group.columns) + (1 if group.over else 0)
    title = esc(group.title) + (" <I>(ghost)</I>" if group.ghost and "ghost" not in group.title.lower() else "")
    out = ['<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" COLOR="#555555">',
           f'<TR><TD COLSPAN="{ncol}" BORDER="0" ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="#444444">{title}</FONT></TD></TR>',
           "<TR>"]
    if group.over:
        out.append(f'<TD BGCOLOR="{HEADER_BG}"><FONT POINT-SIZE="9">{esc(group.row_header)}</FONT></TD>')
    for c in group.columns:
        out.append(f'<TD BGCOLOR="{HEADER_BG}"><FONT POINT-SIZE="9">{esc(c.label)}</FONT></TD>')
    out.append("</TR>")
    for r in rows:
        out.append("<TR>")
        if group.over:
            out.append(f'<TD BGCOLOR="{HEADER_BG}"><FONT FACE="{MONO}">{esc(r.label)}</FONT></TD>')
        for k in r.cells:
            out.append("<TD> </TD>" if k is None else _value_cell(view, step, k, marked))
        out.append("</TR>")
    out.append("</TABLE>")
    return "".join(out)


def state_label(view: TraceView, step, all_vars=False, caption=None) -> str:
    last = step is view.last_state_step
    marked = view.marked if last else set()
    head = caption or f"state {step.n}"
    bad = ""
    if last and view.verdict == "violation":
        bad = f' &#8212; <FONT COLOR="{MARK_BORDER}">{esc(view.invariant)} is false</FONT>'
    elif last and view.verdict == "deadlock":
        bad = f' &#8212; <FONT COLOR="{MARK_BORDER}">deadlock</FONT>'
    parts = [f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="4" CELLPADDING="0" COLOR="{MARK_BORDER if bad else "#555555"}" BGCOLOR="white">',
             f'<TR><TD ALIGN="LEFT"><B>{head}</B>{bad}</TD></TR>']
    hidden = 0
    shown_any = False
    for g in view.groups:
        rows = view.visible_rows(step, g, all_vars)
        hidden += len(g.rows) - len(rows)
        if rows:
            shown_any = True
            parts.append(f"<TR><TD>{_group_table(view, step, g, rows, marked)}</TD></TR>")
    if not shown_any:
        parts.append(f'<TR><TD><FONT COLOR="{FALSE_FG}">(no variable changed)</FONT></TD></TR>')
    if hidden:
        parts.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="{FALSE_FG}">'
                     f'{hidden} unchanged row{"s" if hidden != 1 else ""} not shown</FONT></TD></TR>')
    parts.append("</TABLE>")
    return "<" + "".join(parts) + ">"


def edge_label(step) -> str:
    name = step.action or "?"
    params = step.params
    p = ", ".join(f"{k}={v}" for k, v in params.items())
    rows = [f'<TR><TD ALIGN="LEFT"><B>{step.n}. {esc(name)}</B>' + (f"({esc(p)})" if p else "") + "</TD></TR>"]
    if step.source:
        for ln in _wrap(step.source, 44):
            rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="#555555">{esc(ln)}</FONT></TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"


def title_label(view: TraceView) -> str:
    d = view.data
    lines = [f'<FONT POINT-SIZE="14"><B>{esc(view.title())}</B></FONT>']
    where = d.get("config") or d.get("spec")
    consts = view.constants_line(limit=110)
    sub = "  ".join(x for x in [esc(where) if where else "", esc(consts)] if x)
    legend = (f'<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="2"><TR>'
              f'<TD BGCOLOR="{CHANGED_BG}" BORDER="1"><FONT FACE="{MONO}">F&#8594;T</FONT></TD>'
              f'<TD ALIGN="LEFT">changed in this step</TD>')
    if view.mark_kind:
        legend += (f'<TD> </TD><TD BGCOLOR="{MARK_BG}" COLOR="{MARK_BORDER}" BORDER="2"><FONT FACE="{MONO}"><B>T</B></FONT></TD>'
                   f'<TD ALIGN="LEFT">{esc(view.mark_legend())}</TD>')
    legend += ('<TD> </TD><TD ALIGN="LEFT"><FONT COLOR="#555555">after the initial state, only changed rows '
               'are drawn</FONT></TD></TR></TABLE>')
    rows = [f"<TR><TD>{lines[0]}</TD></TR>"]
    if sub:
        rows.append(f'<TR><TD><FONT POINT-SIZE="10" COLOR="#444444">{sub}</FONT></TD></TR>')
    if view.world:
        rows.append(f'<TR><TD><FONT POINT-SIZE="11">{esc("; ".join(view.world))}</FONT></TD></TR>')
    if view.invariant_doc:
        rows.append(f'<TR><TD><FONT POINT-SIZE="11"><B>{esc(view.invariant)}</B>: {esc(view.invariant_doc)}</FONT></TD></TR>')
    rows.append(f"<TR><TD>{legend}</TD></TR>")
    return '<<TABLE BORDER="0" CELLSPACING="0">' + "".join(rows) + "</TABLE>>"


def note_label(view: TraceView) -> str | None:
    if view.verdict == "violation":
        lines = [f'<B>{esc(view.invariant)}</B> is violated']
        lines += [esc(x) for x in _wrap(view.invariant_doc, 60)] if view.invariant_doc else []
        if view.invariant_expr:
            lines += [f'<FONT FACE="{MONO}" POINT-SIZE="9">{esc(x)}</FONT>' for x in _wrap(view.invariant_expr, 60)]
        if view.marked:
            last = view.last_state_step.flat
            what = "because" if view.mark_kind == "culprit" else "it reads"
            items = [f"{k} = {show(last[k])}" for k in last if k in view.marked]
            text = f"{what}: " + ", ".join(items)
            lines += [f'<FONT POINT-SIZE="9">{esc(x)}</FONT>' for x in _wrap(text, 70)]
        return "<" + '<BR ALIGN="LEFT"/>'.join(lines) + '<BR ALIGN="LEFT"/>>'
    if view.verdict == "deadlock":
        return "<<B>deadlock</B>: no action is enabled in this state>"
    return None


def trace_dot(view: TraceView, all_vars=False) -> str:
    """The Graphviz source of the trace diagram: a chain of states, in lanes when the spec
    declares actors (each state below the step that made it, in that step's actor's lane)."""
    import graphviz
    steps = view.steps
    nsteps = len(steps) - 1
    laned = has_lanes(view)
    g = graphviz.Digraph("trace")
    g.attr(rankdir="TB" if laned or nsteps > LR_MAX_STEPS else "LR", fontname=FONT, labelloc="t", labeljust="l",
           nodesep="0.35", ranksep="0.45", newrank="true", label=title_label(view), bgcolor="white",
           pad="0.3")
    g.attr("node", shape="plaintext", fontname=FONT, fontsize="10", margin="0")
    g.attr("edge", fontname=FONT, fontsize="10", color="#333333", arrowsize="0.8")
    for st in steps:
        nid = f"s{st.n}"
        if st.flat is None:
            msg = st.raw.get("error") or "runtime error"
            lab = (f'<<TABLE BORDER="1" COLOR="{MARK_BORDER}" CELLBORDER="0" BGCOLOR="#fff0f0"><TR><TD>'
                   f'<B>runtime error</B></TD></TR>' + "".join(
                       f'<TR><TD ALIGN="LEFT"><FONT FACE="{MONO}" POINT-SIZE="9">{esc(x)}</FONT></TD></TR>'
                       for x in _wrap(str(msg), 60)) + "</TABLE>>")
            g.node(nid, label=lab, id=nid)
        else:
            caption = f"{st.n}. {esc(short_title(st))}" if laned and st.n else None
            g.node(nid, label=state_label(view, st, all_vars, caption), id=nid,
                   tooltip=(st.label + (f" [{st.source}]" if st.source else "")) if caption else f"state {st.n}")
        if st.n > 0:
            tip = st.label + (f" [{st.source}]" if st.source else "")
            if laned:
                g.edge(f"s{st.n - 1}", nid, id=f"e{st.n}", tooltip=tip, constraint="false")
            else:
                g.edge(f"s{st.n - 1}", nid, label=edge_label(st), id=f"e{st.n}", tooltip=tip)
    if laned:
        _lane_grid(g, view)
        g.node("sources", label=sources_legend(view), id="sources")
        g.edge(f"s{view.steps[-1].n}", "sources", style="invis")
    note = note_label(view)
    if note:
        last = view.last_state_step
        g.node("note", label=note, shape="note", style="filled", fillcolor="#fff0f0", color=MARK_BORDER,
               margin="0.15,0.08", id="note")
        g.edge(f"s{last.n}", "note", style="dashed", arrowhead="none", color=MARK_BORDER)
    return g.source


def _lane_grid(g, view: TraceView):
    """One cluster per lane: its header, then one slot per step; step n's state takes slot n of
    its actor's lane (the other lanes hold an invisible point there), and slot n of every lane
    is on one rank, so each row holds one step and the lanes keep their order."""
    names = lanes(view)
    rows = len(view.steps)
    cells = {(st.n, names.index(lane_of(st))): f"s{st.n}" for st in view.steps[1:]}
    for j, name in enumerate(names):
        with g.subgraph(name=f"cluster_lane{j}") as c:
            c.attr(label="", style="filled", fillcolor=LANE_FILL, color=LANE_BORDER, id=f"lane{j}")
            c.node(f"lane{j}", label=f'<<B>{esc(name)}</B>>', shape="box", style="rounded,filled",
                   fillcolor=LANE_BG, color=LANE_BORDER, margin="0.15,0.05", id=f"lanehead{j}")
            prev = f"lane{j}"
            for n in range(1, rows):
                cur = cells.get((n, j))
                if cur is None:
                    cur = f"x{n}_{j}"
                    c.node(cur, label="", shape="point", width="0.01", height="0.01", style="invis")
                else:
                    c.node(cur)
                c.edge(prev, cur, style="invis", weight="10")
                prev = cur
    g.edge("s0", "lane0", style="invis")
    for n in range(1, rows):
        with g.subgraph() as r:
            r.attr(rank="same")
            for j in range(len(names)):
                r.node(cells.get((n, j), f"x{n}_{j}"))
    with g.subgraph() as r:
        r.attr(rank="same")
        for j in range(len(names)):
            r.node(f"lane{j}")


def sources_legend(view: TraceView) -> str:
    """Where each action of the trace is in the kernel: the `source:` strings, once each."""
    seen = {}
    for st in view.steps[1:]:
        if st.action and st.source and st.action not in seen:
            seen[st.action] = st.source
    rows = ['<TR><TD ALIGN="LEFT" COLSPAN="2"><B>where each step is in the kernel</B></TD></TR>']
    for action, src in seen.items():
        lines = _wrap(src, 90)
        rows.append(f'<TR><TD ALIGN="LEFT" VALIGN="TOP"><FONT FACE="{MONO}" POINT-SIZE="9">{esc(action)}</FONT></TD>'
                    f'<TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="#444444">'
                    + '<BR ALIGN="LEFT"/>'.join(esc(x) for x in lines) + '<BR ALIGN="LEFT"/></FONT></TD></TR>')
    return '<<TABLE BORDER="1" COLOR="#999999" CELLBORDER="0" CELLSPACING="2" BGCOLOR="white">' + "".join(rows) + "</TABLE>>"
