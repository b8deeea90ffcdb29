"""The mm-explorer command line: check, list, lint; trace and graph (render_cmds), diff (diff_cmd)."""

from __future__ import annotations

import json
import os
import sys
import textwrap

from ..version import __version__
from ..errors import EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_REFUSED, LimitError, Refused, SpecError
from ..render.output import write_text
from . import completion, conform_cmd, diff_cmd, render_cmds
from ..analysis.graph import check_graph_path
from .outputs import Outputs
from .options import Parser, add_color, add_config_args, add_limits, load_problem, refuse_negative


def build_parser():
    p = Parser(prog="mm-explorer", description="Explicit-state model checker for YAML specs of kernel memory management.")
    p.add_argument("--version", action="version", version=f"mm-explorer {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    c = sub.add_parser("check", help="explore every reachable state and check the invariants")
    add_config_args(c)
    add_limits(c)
    c.add_argument("--deadlock", action="store_true", default=None, help="report states with no enabled action")
    c.add_argument("--continue", dest="continue_all", action="store_true", default=None,
                   help="go on after a violation to find the first violation of each invariant")
    c.add_argument("--checkpoint", metavar="FILE", help="save the search to FILE every --checkpoint-every seconds and when stopped")
    c.add_argument("--checkpoint-every", type=float, default=60.0, metavar="SECONDS", help="how often to checkpoint (default 60)")
    c.add_argument("--resume", metavar="FILE", help="continue a search from a checkpoint")
    c.add_argument("--backend", default="auto", choices=("auto", "c", "python", "ray"),
                   help="auto (default): compiled C where a C compiler is found, else python, the reference backend; "
                        "ray: partitioned over a Ray cluster (docs/ray.md)")
    c.add_argument("--ray-address", metavar="ADDR", help="with --backend ray: the Ray cluster to use (default: a local Ray)")
    c.add_argument("--ray-actors", type=int, metavar="N", help="with --backend ray: partitions (default: the cluster's CPUs)")
    c.add_argument("--json", metavar="FILE", help="write the result as JSON (docs/results.md)")
    c.add_argument("--graph", metavar="FILE", help="write the state graph (.graphml or .dot)")
    c.add_argument("--quiet", "-q", action="store_true", help="no progress, only the verdict line")
    c.add_argument("--progress", action="store_true", help="show progress even when stderr is not a terminal")
    c.add_argument("--coverage", nargs="?", const=True, default=None, metavar="FILE",
                   help="show the coverage table (actions, invariant premises); with FILE also write it as JSON")
    c.add_argument("--reach", action="append", metavar="EXPR", help="witness query: find a shortest trace to a state where EXPR holds")
    c.add_argument("--expect", choices=["reachable", "unreachable"], help="what the reach query should answer (exit 1 if not)")
    add_color(c)
    render_cmds.add_check_args(c)

    ls = sub.add_parser("list", help="show constants, sets, variables (slot layout), action instances, invariants")
    add_config_args(ls)
    lt = sub.add_parser("lint", help="load and compile only")
    add_config_args(lt)
    cf = sub.add_parser("configs", help="list the shipped configs (run one by name: mm-explorer check NAME)")
    cf.add_argument("--names", action="store_true", help="only the names, one a line")
    cf.set_defaults(run=cmd_configs)
    for add_command in (render_cmds.add_trace_command, render_cmds.add_graph_command, diff_cmd.add_diff_command,
                        completion.add_completion_command, conform_cmd.add_commands):
        add_command(sub)
    return p


def cmd_check(args, out=sys.stdout, err=sys.stderr):
    from ..api import check
    from ..report import Style, format_result, progress_printer, use_color
    refuse_negative(args, ("max_states", "max_depth", "timeout", "max_memory"))
    outs = Outputs(err)
    coverage_file = args.coverage if isinstance(args.coverage, str) else None
    outs.check(("--json", args.json), ("--graph", args.graph), ("--coverage", coverage_file),
               *render_cmds.trace_flags(args))
    if args.graph:
        check_graph_path(args.graph)
    try:
        problem = load_problem(args)
    except Refused as e:  # the kernel's refusal is an answer, said as a verdict and saved like one
        if not e.kernel:
            raise
        return _refused(args, e, out, err, outs)
    show_progress = not args.quiet and (args.progress or (hasattr(err, "isatty") and err.isatty()))
    opts = dict(max_states=args.max_states, max_depth=args.max_depth, timeout=args.timeout, max_memory=args.max_memory,
                deadlock=args.deadlock, continue_all=args.continue_all)
    if (args.ray_address or args.ray_actors is not None) and args.backend != "ray":
        raise SpecError(None, "--ray-address and --ray-actors need --backend ray")
    prog = progress_printer(err) if show_progress else None
    style = Style(use_color(out, args.color))
    result = check(problem, progress=prog, keep_graph=bool(args.graph), backend=args.backend,
                   on_start=None if args.quiet else _header(problem, out, style),
                   checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every, resume=args.resume,
                   ray_address=args.ray_address, ray_actors=args.ray_actors, **opts)
    if prog is not None:
        err.write("\r" + " " * 100 + "\r")
    data = result.data
    render_cmds.check_hook(args, problem, result, out, err, outs)  # culprits and trace outputs, before --json
    if args.json:
        outs.write("--json", args.json, lambda: write_text(args.json, result.to_json()))
    if args.graph:
        from ..analysis.graph import state_graph, write_graph
        outs.write("--graph", args.graph, lambda: write_graph(state_graph(problem.model, result.exploration), args.graph))
    if args.quiet:
        out.write(f"{data['verdict']}: {data['message']}\n")
    else:
        out.write(format_result(data, style, verbose=bool(args.coverage), header=False))
    if coverage_file:
        outs.write("--coverage", coverage_file,
                   lambda: write_text(coverage_file, json.dumps(data["coverage"], indent=2) + "\n"))
    out.flush()
    outs.finish(result.to_json(), out=None if args.quiet else out)
    return result.exit_code


def _header(problem, out, style):
    """The report's head, printed when the search starts (before a long run has a result)."""
    from ..report import header_lines
    from ..result import annotations

    def header(opts):
        head = {"version": __version__, "config": problem.config_path, "module": problem.model.name,
                "constants": problem.constants, "constants_set": list(problem.overridden),
                "question": problem.question, **annotations(problem.model)}
        out.write("\n".join(header_lines(head, style) + [opts.describe_limits()]) + "\n")
        out.flush()
    return header


def constant_lines(name, value, width=100) -> list:
    """`  NAME = value` in YAML flow style; a mapping or list too long for one line gets a line
    per entry, each wrapped at `width` with a hanging indent."""
    from ..report import show_value
    line = f"  {name} = {show_value(value, 'yaml')}"
    if len(line) <= width or not isinstance(value, (dict, list)):
        return [line]
    items = value.items() if isinstance(value, dict) else enumerate(value)
    out = [f"  {name} ="]
    for k, v in items:
        text = (f"{k}: " if isinstance(value, dict) else "- ") + show_value(v, "yaml")
        out.extend(textwrap.wrap(text, width, initial_indent="      ", subsequent_indent="          ",
                                 break_long_words=True, break_on_hyphens=False))
    return out


def cmd_list(args, out=sys.stdout, err=sys.stderr):
    problem = load_problem(args)
    m = problem.model
    w = out.write
    w(f"module {m.name}  ({', '.join(m.files)})\n")
    w("\nconstants:\n")
    for k, v in problem.constants.items():
        w("".join(x + "\n" for x in constant_lines(k, v)))
    w("\nsets:\n")
    for name, st in m.sets.items():
        line = f"  {name} = {{{', '.join(str(st.display(x)) for x in st.values)}}}"
        w("\n".join(textwrap.wrap(line, 100, subsequent_indent="      ", break_on_hyphens=False)) + "\n")
    w("\nvariables (slot layout):\n")
    for var in m.variables.values():
        over = f" over {' x '.join(s.name for s in var.sets)}" if var.sets else ""
        w(f"  {var.name}: {var.elem!r}{over}  slots {var.base}..{var.base + var.size - 1}" + ("  (ghost)" if var.ghost else "") + "\n")
        from ..types import TRec
        if isinstance(var.elem, TRec):
            for f, ft in var.elem.fields.items():
                w(f"      .{f}: {ft!r}\n")
    total = sum(v.size for v in m.variables.values())
    w(f"  ({total} slots per state)\n")
    w(f"\naction instances ({len(m.instances)}):\n")
    for inst in m.instances:
        src = f"   [{inst.action.source}]" if inst.action.source else ""
        w(f"  {inst.label()}{src}\n")
    if m.disabled_instances:
        w(f"\nstatically disabled instances ({len(m.disabled_instances)}):\n")
        for label, why in m.disabled_instances:
            w(f"  {label}: {why}\n")
    if m.unavailable_actions:
        w("\nactions not in this configuration:\n")
        for name, why in m.unavailable_actions:
            w(f"  {name}: {why}\n")
    w(f"\ninvariants ({len(m.invariant_list)}):\n")
    for inv in m.invariant_list:
        w(f"  {inv.name}: {' '.join(inv.sn.text.split())}\n")
    return 0


def _refused(args, e, out, err, outs):
    from ..result import refused
    result = refused(args.config, e)
    if args.json:
        outs.write("--json", args.json, lambda: write_text(args.json, result.to_json()))
    if args.quiet:
        out.write(f"refused: {result.data['message']}\n")
    else:
        out.write(f"{e.pos}: {e.message}\nREFUSED: {result.data['message']}\n")
    if any(v for _, v in render_cmds.trace_flags(args)):
        err.write("note: no trace to write: the verdict is refused (nothing was explored)\n")
    outs.finish(result.to_json(), out=None if args.quiet else out)
    return result.exit_code


def cmd_configs(args, out=sys.stdout, err=sys.stderr):
    from ..lang import shipped
    root = shipped.data_root()
    if root is None:
        err.write("error: this installation has no shipped configs (explorer/_data is missing)\n")
        return EXIT_BAD_INPUT
    names = shipped.config_names()
    if args.names:
        out.write("".join(n + "\n" for n in names))
        return 0
    out.write(f"{len(names)} shipped configs, in {os.path.join(root, 'configs')}\n"
              f"(run one: mm-explorer check NAME; in a config of your own, `spec: mm` is the Linux model)\n")
    width = max(len(n) for n in names) + 2
    for name in names:
        doc = shipped.config_summary(shipped.config_path(name)) or "-"
        lines = textwrap.wrap(doc, 80 - width - 2) or ["-"]
        out.write(f"  {name:<{width}}{lines[0]}\n")
        for line in lines[1:]:
            out.write(f"  {'':<{width}}{line}\n")
    return 0


def cmd_lint(args, out=sys.stdout, err=sys.stderr):
    problem = load_problem(args)
    m = problem.model
    out.write(f"ok: {args.config}: module {m.name}, {len(m.variables)} variables "
              f"({sum(v.size for v in m.variables.values())} slots), {len(m.instances)} action instances, "
              f"{len(m.invariant_list)} invariants\n")
    return 0


def main(argv=None, out=None, err=None) -> int:
    from ..checker.fast import ReplayMismatch
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    run = getattr(args, "run", None) or {"check": cmd_check, "list": cmd_list, "lint": cmd_lint}[args.command]
    try:
        return run(args, out, err)
    except Refused as e:
        if not e.kernel:  # an assumption of the spec itself: bad input
            err.write(f"{e}\n")
            return EXIT_BAD_INPUT
        out.write(f"{e.pos}: {e.message}\nREFUSED: the kernel refuses this configuration: {e.reason}\n")
        return EXIT_REFUSED
    except SpecError as e:
        err.write(f"{e}\n")
        return EXIT_BAD_INPUT
    except LimitError as e:
        err.write(f"{e}\n")
        return EXIT_INCOMPLETE
    except ReplayMismatch as e:  # the two backends disagree: a defect of the tool, never a verdict
        err.write(f"internal error: {e}; the result is not reported (--backend python gives the reference answer)\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return 3
    except BrokenPipeError:
        return 0
    except RecursionError:
        err.write("error: the input is nested too deeply\n")
        return EXIT_BAD_INPUT
    except OSError as e:
        err.write(f"error: {e.filename or ''}: {e.strerror or e}\n")
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
