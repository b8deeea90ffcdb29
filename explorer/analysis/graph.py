"""The state graph as a networkx MultiDiGraph, built on request from an exploration.

Nodes are state indices (BFS discovery order) carrying the decoded state; edges carry the action
instance that connects them. Functions take and return plain data (networkx style).
"""

from __future__ import annotations

import json

import networkx as nx


def state_graph(model, ex) -> nx.MultiDiGraph:
    """Every explored state and every generated transition (needs Options(keep_graph=True))."""
    if ex.edges is None:
        raise ValueError("the exploration did not keep its edges: run it with keep_graph=True")
    g = nx.MultiDiGraph(module=model.name)
    bad = {}
    for inv_i, idx in ex.violations:
        bad.setdefault(idx, []).append(model.invariant_list[inv_i].name)
    for i, st in enumerate(ex.states):
        g.add_node(i, state=model.decode(st), initial=ex.parent[i] < 0, depth=ex.depth_of[i],
                   violates=bad.get(i, []))
    for u, v, k in ex.edges:
        inst = model.instances[k]
        g.add_edge(u, v, key=k, action=inst.name, params=inst.params_display(), label=inst.label())
    return g


def shortest_path_to(g: nx.MultiDiGraph, target) -> list:
    """Nodes of a shortest path from any initial state to `target`."""
    starts = [n for n, d in g.nodes(data=True) if d.get("initial")]
    best = None
    for s in starts:
        try:
            p = nx.shortest_path(g, s, target)
        except nx.NetworkXNoPath:
            continue
        if best is None or len(p) < len(best):
            best = p
    return best or []


def check_graph_path(path: str):
    """--graph names a .graphml, .dot or .gv file; raises SpecError otherwise."""
    if not path.endswith((".graphml", ".dot", ".gv")):
        from ..errors import Pos, SpecError
        raise SpecError(Pos(f"<--graph {path}>", 1, 1), f"--graph {path}: use a .graphml or .dot file name")


def write_graph(g: nx.MultiDiGraph, path: str):
    """GraphML (.graphml) or DOT (.dot, .gv); attributes that are not scalars are stored as JSON."""
    check_graph_path(path)
    if path.endswith((".dot", ".gv")):
        with open(path, "w", encoding="utf-8") as f:
            f.write(to_dot(g))
        return
    h = nx.MultiDiGraph()
    for n, d in g.nodes(data=True):
        h.add_node(n, **{k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in d.items()})
    for u, v, k, d in g.edges(keys=True, data=True):
        h.add_edge(u, v, key=k, **{a: (json.dumps(b) if isinstance(b, (dict, list)) else b) for a, b in d.items()})
    nx.write_graphml(h, path)


def to_dot(g: nx.MultiDiGraph) -> str:
    lines = ["digraph states {", "  node [shape=box, fontname=\"DejaVu Sans Mono\", fontsize=9];"]
    for n, d in g.nodes(data=True):
        attrs = [f'label="{n}"']
        if d.get("initial"):
            attrs.append("peripheries=2")
        if d.get("violates"):
            attrs.append('color="red", fontcolor="red"')
        lines.append(f"  s{n} [{', '.join(attrs)}];")
    for u, v, k, d in g.edges(keys=True, data=True):
        lab = d.get("label", "").replace('"', '\\"')
        lines.append(f'  s{u} -> s{v} [label="{lab}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
