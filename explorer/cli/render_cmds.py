"""The command-line side of rendering: options of `check`, and the `trace` and `graph` commands."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import EXIT_BAD_INPUT, EXIT_INCOMPLETE, SpecError
from ..render import output
from .options import add_color, add_config_args, load_problem
from .outputs import Direct, Outputs


def _diagram_path(flag):
    def check(path):
        if not output.diagram_suffix_ok(path):
            raise argparse.ArgumentTypeError(f"{path}: the file name must end in .svg, .png, .pdf or .dot")
        return path
    check.__name__ = flag
    return check


def _positive(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"{text}: give a number above 0")
    return n


# --- check options and the hook that writes them ---------------------------------------------------
def add_check_args(p):
    g = p.add_argument_group("trace outputs (written when the check finds a trace)")
    g.add_argument("--trace-out", metavar="FILE", type=_diagram_path("--trace-out"),
                   help="draw the trace with Graphviz: .svg, .png, .pdf or .dot by the suffix")
    g.add_argument("--trace-json", metavar="FILE", help="write the trace document (JSON) that `trace` re-renders")
    g.add_argument("--itf", metavar="FILE", help="write the trace in the Informal Trace Format of Apalache and Quint")
    g.add_argument("--html", metavar="FILE", help="write a self-contained HTML trace viewer")
    g.add_argument("--all-vars", action="store_true", help="draw every row of every state, not only the changed ones")


def check_hook(args, problem, result, out, err, outs=None):
    """Runs after the check, before the report and --json are written: adds the culprits of a
    violation to the result (the report shows them, and every saved JSON re-renders the same),
    then writes the trace outputs asked for."""
    wanted = [(f, v) for f, v in trace_flags(args) if v]
    data = result.data
    if data.get("verdict") == "violation" and "culprits" not in data:
        from ..analysis import culprits
        c = culprits.compute(problem.model, result.exploration)
        if c is not None:
            data["culprits"] = c
    if not wanted:
        return
    if not data.get("trace"):
        flags = ", ".join(f for f, _ in wanted)
        err.write(f"note: no trace to write for {flags}: the verdict is {data.get('verdict')} "
                  f"({data.get('message')})\n")
        return
    write_outputs(data, err, diagram=args.trace_out, trace_json=args.trace_json, itf=args.itf, html=args.html,
                  all_vars=args.all_vars, outs=outs)


def write_outputs(data, err, diagram=None, trace_json=None, itf=None, html=None, all_vars=False, outs=None):
    from ..render.view import TraceView, trace_document
    outs = outs or Direct()
    if trace_json:
        outs.write("--trace-json", trace_json,
                   lambda: output.write_text(trace_json, json.dumps(trace_document(data), indent=2) + "\n"))
    if itf:
        from ..render.itf import to_itf
        outs.write("--itf", itf, lambda: output.write_text(itf, json.dumps(to_itf(data), indent=2) + "\n"))
    if diagram or html:
        from ..render.diagram import trace_dot
        view = TraceView(data)
        source = trace_dot(view, all_vars=all_vars)
        if diagram:
            outs.write("--trace-out", diagram, lambda: output.write_diagram(source, diagram, err))
        if html:
            from ..render.html import html_page
            svg = output.svg_text(source)
            note = ""
            if svg is None:
                note = f"The diagram is missing: Graphviz's dot is not installed (install it with: {output.INSTALL_HINT})."
                if not diagram:
                    err.write(f"note: Graphviz's dot is not installed, so {html} has no diagram "
                              f"(install Graphviz with: {output.INSTALL_HINT})\n")
            outs.write("--html", html, lambda: output.write_text(html, html_page(view, svg, note)))


def trace_flags(args):
    """The trace outputs `check` and `diff` were asked for, as (flag, path) pairs."""
    return [(f, getattr(args, a, None)) for f, a in
            (("--trace-out", "trace_out"), ("--trace-json", "trace_json"), ("--itf", "itf"), ("--html", "html"))]


# --- mm-explorer trace FILE.json ----------------------------------------------------------------------
def add_trace_command(sub):
    t = sub.add_parser("trace", help="re-render a saved trace (check --json or --trace-json) without checking again")
    t.add_argument("file", metavar="FILE.json", help="a result or trace document written by check")
    t.add_argument("-o", "--output", metavar="FILE", type=_diagram_path("-o"),
                   help="draw the trace: .svg, .png, .pdf or .dot by the suffix")
    t.add_argument("--html", metavar="FILE", help="write a self-contained HTML trace viewer")
    t.add_argument("--itf", metavar="FILE", help="write the trace in the Informal Trace Format")
    t.add_argument("--format", choices=["text", "mail"], default=None,
                   help="print the trace: text (the report's table, the default when nothing else is asked) "
                        "or mail (plain text, at most 80 columns, one paragraph per step)")
    t.add_argument("--all-vars", action="store_true", help="draw every row of every state")
    add_color(t, "the text trace")
    t.set_defaults(run=cmd_trace)


def cmd_trace(args, out=sys.stdout, err=sys.stderr):
    from ..errors import Pos
    from ..render.view import load_doc
    outs = Outputs(err)
    outs.check(("-o", args.output), ("--itf", args.itf), ("--html", args.html))
    data = load_doc(args.file)
    fmt = args.format or (None if (args.output or args.html or args.itf) else "text")
    try:
        text = ""
        if fmt == "mail":
            from ..render.mail import format_mail
            text = format_mail(data)
        elif fmt == "text":
            text = format_text(data, args.color, out)
        write_outputs(data, err, diagram=args.output, itf=args.itf, html=args.html, all_vars=args.all_vars, outs=outs)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as e:
        # load_doc checked the outline; a value of the wrong kind deeper inside ends here
        raise SpecError(Pos(args.file, 1, 1), f"the trace does not have the shape of an mm-explorer trace "
                                              f"({type(e).__name__}: {e})") from None
    out.write(text)
    outs.finish(None, out=err)
    return EXIT_BAD_INPUT if outs.failed else 0


def format_text(data, color, stream) -> str:
    from ..report import Style, format_trace, use_color
    from ..render.view import TraceView
    view = TraceView(data)
    style = Style(use_color(stream, color))
    lines = [style.bold(view.title() + ":")]
    consts = view.constants_line()
    if consts:
        lines.append("constants: " + consts)
    lines.extend(format_trace(data["trace"], data.get("variables") or {}, style, bad_keys=view.marked))
    if view.verdict == "violation":
        expr = view.invariant_expr
        lines.append(f"  {style.red('violated')}: {view.invariant}" + (f"  ==  {expr}" if expr else ""))
        if view.marked:
            last = view.last_state_step.flat
            what = "because" if view.mark_kind == "culprit" else "it reads"
            from ..report import show_value
            lines.append(f"  {what}: " + ", ".join(f"{k} = {show_value(last[k])}" for k in last if k in view.marked))
    if data.get("message"):
        lines.append(f"{data.get('verdict', '').upper()}: {data['message']}")
    return "\n".join(lines) + "\n"


# --- mm-explorer graph CONFIG -o graph.svg ------------------------------------------------------------
def add_graph_command(sub):
    gp = sub.add_parser("graph", help="draw the whole reachable state graph of a small config")
    add_config_args(gp)
    gp.add_argument("-o", "--output", metavar="FILE", required=True, type=_diagram_path("-o"),
                    help="where to draw it: .svg, .png, .pdf or .dot by the suffix")
    gp.add_argument("--project", metavar="VAR,...",
                    help="merge states that agree on these variables (or variable groups)")
    gp.add_argument("--max-nodes", metavar="N", type=_positive, default=None,
                    help="refuse graphs with more nodes than this (default %d)" % _default_max_nodes())
    gp.add_argument("--params", action="store_true", help="label edges with action instances (params too)")
    gp.set_defaults(run=cmd_graph)


def _default_max_nodes():
    from ..render.stategraph import DEFAULT_MAX_NODES
    return DEFAULT_MAX_NODES


def cmd_graph(args, out=sys.stdout, err=sys.stderr):
    from ..api import check
    from ..analysis.graph import shortest_path_to, state_graph
    from ..render import stategraph

    limit = args.max_nodes or stategraph.DEFAULT_MAX_NODES
    problem = load_problem(args)
    model = problem.model
    from ..result import layout as variables_layout
    layout = variables_layout(model)
    project = None
    if args.project:
        from ..result import projection_variables
        project = projection_variables(layout, [x.strip() for x in args.project.split(",") if x.strip()])
    config_cap = (problem.check or {}).get("max_states")
    cap = config_cap if project else min(x for x in (config_cap, limit + 1) if x)
    result = check(problem, keep_graph=True, continue_all=False, deadlock=False, max_states=cap)
    ex = result.exploration
    if result.verdict == "error":
        err.write(f"{result.data['message']}\n")
        return EXIT_BAD_INPUT
    too_many = (f"more than {limit} states (the limit of --max-nodes, {limit}); raise it with --max-nodes N"
                + ("" if project else ", or merge states with --project VAR,...") + "\n")
    if not project and len(ex.states) > limit:
        err.write(f"error: the state graph has {too_many}")
        return EXIT_BAD_INPUT
    if result.verdict == "violation":
        # the check stops at its first violation; the graph needs every state, so explore again
        # without checking invariants (each state's broken invariants are evaluated below)
        from ..checker.engine import explore, options_for
        ex = explore(model, options_for(problem, max_states=cap, keep_graph=True, check_invariants=False))
        if not project and len(ex.states) > limit:
            err.write(f"error: the state graph has {too_many}")
            return EXIT_BAD_INPUT
    if not ex.complete:
        err.write(f"error: the exploration stopped before the state space was exhausted ({ex.stopped}), "
                  f"so the graph would be partial; raise the config's limits or make the config smaller\n")
        return EXIT_INCOMPLETE
    g = stategraph.annotate(state_graph(model, ex), model, ex)
    bad = [n for n in g.nodes if g.nodes[n]["breaks"]]
    path = shortest_path_to(g, min(bad)) if bad else []
    from ..render.view import TraceView
    consts = TraceView.constants_line(_Consts(problem.constants), limit=160)
    title = (f"{model.name}: {len(ex.states)} reachable states, {ex.transitions} transitions"
             + (f" ({consts})" if consts else ""))
    source, nodes, edges = stategraph.graph_dot(
        g, layout, title=title, invariants=[inv.name for inv in model.invariant_list], path=path,
        project=project, params=args.params)
    if nodes > limit:
        err.write(f"error: the projected graph has {too_many}")
        return EXIT_BAD_INPUT
    output.write_diagram(source, args.output, err)
    broken = sorted({b for n in bad for b in g.nodes[n]["breaks"]})
    msg = f"{args.output}: {nodes} node{'s' if nodes != 1 else ''}, {edges} edge{'s' if edges != 1 else ''}"
    if project:
        msg += f" ({len(ex.states)} states merged by {', '.join(project)})"
    if broken:
        msg += f"; {len(bad)} state(s) break {', '.join(broken)}; bold: the {len(path) - 1}-step path to s{path[-1]}"
    else:
        msg += "; every state satisfies every invariant"
    out.write(msg + "\n")
    return 0


class _Consts:
    """Just enough of a TraceView for constants_line."""

    def __init__(self, constants):
        self.data = {"constants": constants}
