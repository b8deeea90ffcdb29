"""The whole reachable state graph of a small config as a Graphviz diagram.

Built from the networkx graph of `explorer.graph.state_graph`: states coloured by the invariants
they break, initial states drawn with a double border and an arrow from "init", the shortest
path to the first violation drawn bold, one edge per pair of states labelled with the names of
the actions between them. A projection on chosen variables merges states that agree on them.
"""

from __future__ import annotations

import json

from .diagram import FONT, MONO, esc
from .view import groups as make_groups, show

DEFAULT_MAX_NODES = 2000
VALUE_LABELS_UP_TO = 400  # more nodes than this: label states by number only
CURVED_EDGES_UP_TO = 150  # dot with curved edges (slow: spline routing grows fast with edges)
LAYERED_EDGES_UP_TO = 1500  # dot with straight edges; beyond, the force-directed sfdp
PALETTE = ["#fbb4ae", "#b3cde3", "#ccebc5", "#decbe4", "#fed9a6", "#ffffcc", "#e5d8bd", "#fddaec", "#f2f2f2"]


def annotate(g, model, ex):
    """Add to every node the names of the invariants it breaks (all of them, not just the first)."""
    fns = [(inv.name, model.invariant_fn(i)) for i, inv in enumerate(model.invariant_list)]
    for n in g.nodes:
        st = ex.states[n]
        broken = []
        for name, fn in fns:
            try:
                ok = fn(st)
            except Exception:  # a runtime error in the invariant: the check reports those itself
                ok = True
            if not ok:
                broken.append(name)
        g.nodes[n]["breaks"] = broken
    return g


class Merged:
    def __init__(self):
        self.nodes = {}  # key -> dict(members, initial, breaks, state, first)
        self.edges = {}  # (ku, kv) -> {"names": [...], "count": n}


def merge(g, project=None, params=False, drop_loops=None) -> Merged:
    """Nodes merged by their projected state (or kept when no projection), parallel edges merged."""
    m = Merged()
    if drop_loops is None:
        drop_loops = bool(project)
    key_of = {}
    for n, d in g.nodes(data=True):
        if project:
            st = {v: d["state"][v] for v in project}
            k = json.dumps(st, sort_keys=True)
        else:
            st = d["state"]
            k = n
        key_of[n] = k
        node = m.nodes.get(k)
        if node is None:
            node = m.nodes[k] = {"members": 0, "bad": 0, "initial": False, "breaks": [], "state": st, "first": n}
        node["members"] += 1
        node["bad"] += bool(d.get("breaks", d.get("violates")))
        node["initial"] = node["initial"] or bool(d.get("initial"))
        for b in d.get("breaks", d.get("violates", [])):
            if b not in node["breaks"]:
                node["breaks"].append(b)
    for u, v, d in g.edges(data=True):
        ku, kv = key_of[u], key_of[v]
        if drop_loops and ku == kv:
            continue
        e = m.edges.setdefault((ku, kv), {"names": [], "count": 0})
        name = d.get("label") if params else d.get("action")
        if name not in e["names"]:
            e["names"].append(name)
        e["count"] += 1
    m.key_of = key_of
    return m


def _state_lines(state: dict, layout: dict) -> list:
    """'title index: set bits and values' per row that has any."""
    from ..report import flatten
    flat = flatten(state, layout)
    lines = []
    for grp in make_groups(layout, state):
        for r in grp.rows:
            items = []
            for c, k in zip(grp.columns, r.cells):
                if k is None:
                    continue
                v = flat[k]
                if v is True:
                    items.append(c.label)
                elif v is not False:
                    items.append(f"{c.label}={show(v)}")
            if items:
                head = f"{grp.title} {r.label}" if r.label else grp.title
                lines.append(f"{head}: {' '.join(items)}")
    return lines or ["(all clear)"]


def graph_dot(g, layout: dict, *, title: str, invariants: list, path=(), project=None, params=False) -> tuple:
    """(Graphviz source, number of drawn nodes, number of drawn edges)."""
    import graphviz
    m = merge(g, project, params)
    sub_layout = {v: layout[v] for v in project} if project else layout
    broken = [name for name in invariants if any(name in nd["breaks"] for nd in m.nodes.values())]
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(broken)}
    holding = [name for name in invariants if name not in colours]
    path_keys = [m.key_of[n] for n in path]
    path_edges = {(a, b) for a, b in zip(path_keys, path_keys[1:]) if a != b}
    path_nodes = set(path_keys)
    ids = {k: f"n{i}" for i, k in enumerate(m.nodes)}
    values = len(m.nodes) <= VALUE_LABELS_UP_TO
    dg = graphviz.Digraph("states")
    dg.attr(rankdir="TB", fontname=FONT, labelloc="t", labeljust="l", label=_title(title, colours, holding, bool(path), project),
            nodesep="0.25", ranksep="0.5", pad="0.3", bgcolor="white")
    dg.attr(**layout_attrs(len(m.nodes), len(m.edges)))
    dg.attr("node", shape="box", style="rounded,filled", fillcolor="white", fontname=MONO, fontsize="9",
            margin="0.08,0.04")
    dg.attr("edge", fontname=FONT, fontsize="8", color="#888888", fontcolor="#444444", arrowsize="0.6")
    if any(nd["initial"] for nd in m.nodes.values()):
        dg.node("init", label="init", shape="plaintext", style="", fontname=FONT)
    for k, nd in m.nodes.items():
        nid = ids[k]
        if values:
            lines = _state_lines(nd["state"], sub_layout)
            head = f"s{nd['first']}"
            if project:
                head = f"{nd['members']} state{'s' if nd['members'] != 1 else ''}"
                if nd["bad"]:
                    head += f", {nd['bad']} violating" if nd["bad"] < nd["members"] else ", all violating"
            label = "\\l".join([head] + lines) + "\\l"
        else:
            label = f"s{nd['first']}" if not project else str(nd["members"])
        attrs = {"id": nid, "label": label}
        if nd["breaks"]:
            cols = [colours[b] for b in nd["breaks"] if b in colours] or ["#ff9999"]
            attrs["fillcolor"] = ":".join(cols)
            attrs["style"] = "filled,striped" if len(cols) > 1 else "rounded,filled"
            attrs["color"] = "#c00000"
            attrs["tooltip"] = "breaks " + ", ".join(nd["breaks"])
        if nd["initial"]:
            attrs["peripheries"] = "2"
        if k in path_nodes:
            attrs["penwidth"] = "2.5"
        dg.node(nid, **attrs)
        if nd["initial"]:
            dg.edge("init", nid, color="#444444", penwidth="2.5" if k in path_nodes else "1")
    for (a, b), e in m.edges.items():
        names = e["names"]
        shown = names if len(names) <= 6 else names[:5] + [f"+{len(names) - 5} more"]
        attrs = {"label": "\\n".join(f" {x} " for x in shown)}
        if (a, b) in path_edges:
            attrs.update(penwidth="3.5", color="black", fontcolor="black", fontname=FONT + " Bold")
        dg.edge(ids[a], ids[b], **attrs)
    return dg.source, len(m.nodes), len(m.edges)


def layout_attrs(nodes: int, edges: int) -> dict:
    """Graph attributes that keep Graphviz's time reasonable for the graph's size."""
    if edges <= CURVED_EDGES_UP_TO and nodes <= CURVED_EDGES_UP_TO:
        return {}
    if edges <= LAYERED_EDGES_UP_TO:
        return {"splines": "line", "mclimit": "0.1", "nslimit": "1", "nslimit1": "1"}
    return {"layout": "sfdp", "overlap": "prism", "splines": "false"}


def _title(title, colours, holding, has_path, project) -> str:
    rows = [f'<TR><TD ALIGN="LEFT" COLSPAN="2"><FONT POINT-SIZE="13"><B>{esc(title)}</B></FONT></TD></TR>']
    legend = ['<TD BORDER="1" STYLE="rounded" BGCOLOR="white"> s </TD><TD ALIGN="LEFT">state (its true bits and values)</TD>',
              '<TD BORDER="3" STYLE="rounded"> init </TD><TD ALIGN="LEFT">initial state (double border)</TD>']
    for name, c in colours.items():
        who = "one of its states breaks" if project else "breaks"
        legend.append(f'<TD BORDER="1" BGCOLOR="{c}" COLOR="#c00000"> &#160; </TD><TD ALIGN="LEFT">{who} {esc(name)}</TD>')
    if holding:
        legend.append(f'<TD> </TD><TD ALIGN="LEFT">no state breaks {esc(", ".join(holding))}</TD>')
    if has_path:
        legend.append('<TD><B>&#8212;&#8212;</B></TD><TD ALIGN="LEFT"><B>shortest path to the first violation</B></TD>')
    if project:
        legend.append(f'<TD> </TD><TD ALIGN="LEFT">states merged by {esc(", ".join(project))}; '
                      'steps that change none of them are not drawn</TD>')
    cells = "".join(f"<TR>{x}</TR>" for x in legend)
    rows.append(f'<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="3" CELLPADDING="2">{cells}</TABLE></TD></TR>')
    return '<<TABLE BORDER="0" CELLSPACING="0">' + "".join(rows) + "</TABLE>>"
