"""The mm-explorer command line: check, list, lint (and the commands other modules add)."""

from __future__ import annotations

import argparse
import json
import os
import sys

import yaml

from ..version import __version__
from ..errors import EXIT_BAD_INPUT, EXIT_INCOMPLETE, LimitError, Pos, SpecError


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write(f"mm-explorer: error: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def _set_pairs(values):
    """--set NAME=VALUE pairs, VALUE read as YAML (so 2, true, v5.16, [a, b] all work)."""
    from ..lang import yamlsrc
    out = {}
    for n, item in enumerate(values or []):
        where = Pos("<command line>", 1, 1)
        if "=" not in item:
            raise SpecError(where, f"--set {item}: write NAME=VALUE")
        name, text = item.split("=", 1)
        name = name.strip()
        value = yamlsrc.load_text(text, f"<--set {name}>") if text.strip() else None
        if value is None:
            raise SpecError(where, f"--set {name}: give a value")
        out[name] = (value, Pos(f"<--set {item}>", 1, len(name) + 2))
    return out


def _patterns(values, flag):
    if not values:
        return None
    return [(v, Pos(f"<{flag} {v}>", 1, 1)) for v in values]


def add_check_args(p):
    p.add_argument("config", help="a config file (or a spec file alone)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a constant (value in YAML)")
    p.add_argument("--invariant", action="append", metavar="NAME", help="check only these invariants (repeatable, globs)")
    p.add_argument("--action", action="append", metavar="NAME", help="enable only these actions (repeatable, globs)")


def build_parser():
    p = _Parser(prog="mm-explorer", description="Explicit-state model checker for YAML specs of kernel memory management.")
    p.add_argument("--version", action="version", version=f"mm-explorer {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    c = sub.add_parser("check", help="explore every reachable state and check the invariants")
    add_check_args(c)
    c.add_argument("--max-states", type=int, metavar="N", help="stop after N distinct states (exit 3)")
    c.add_argument("--max-depth", type=int, metavar="N", help="do not explore beyond N steps (exit 3 if cut)")
    c.add_argument("--timeout", type=float, metavar="SECONDS", help="stop after this long (exit 3)")
    c.add_argument("--max-memory", type=int, metavar="MIB", help="stop when resident memory reaches this (exit 3)")
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
    c.add_argument("--color", dest="color", action="store_true", default=None, help="colour the report")
    c.add_argument("--no-color", dest="color", action="store_false", help="no colour")
    for fn in _CHECK_ARGS:
        fn(c)

    ls = sub.add_parser("list", help="show constants, sets, variables (slot layout), action instances, invariants")
    add_check_args(ls)
    lt = sub.add_parser("lint", help="load and compile only")
    add_check_args(lt)
    for extra in _EXTRA_COMMANDS:
        extra(sub)
    return p


_EXTRA_COMMANDS = []
_CHECK_ARGS = []


def register_check_args(fn):
    """Let another module add options to `check`: fn(parser) calls parser.add_argument(...)."""
    _CHECK_ARGS.append(fn)
    return fn


def register(fn):
    """Let another module add a subcommand: fn(subparsers) must set_defaults(run=callable)."""
    _EXTRA_COMMANDS.append(fn)
    return fn


def load_problem(args):
    from ..api import load
    limits = {k: getattr(args, k, None) for k in ("timeout", "max_memory")}  # loading runs under them too
    return load(args.config, _set_pairs(args.set), _patterns(args.action, "--action"), _patterns(args.invariant, "--invariant"),
                check={k: v for k, v in limits.items() if v is not None} or None,
                reach=getattr(args, "reach", None), expect=getattr(args, "expect", None))


def cmd_check(args, out=sys.stdout, err=sys.stderr):
    from ..api import check
    from ..report import Style, format_result, header_lines, progress_printer, use_color
    problem = load_problem(args)
    show_progress = not args.quiet and (args.progress or (hasattr(err, "isatty") and err.isatty()))
    opts = dict(max_states=args.max_states, max_depth=args.max_depth, timeout=args.timeout, max_memory=args.max_memory,
                deadlock=args.deadlock, continue_all=args.continue_all)
    for k, v in opts.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
            raise SpecError(None, f"--{k.replace('_', '-')} must not be negative")
    if (args.ray_address or args.ray_actors is not None) and args.backend != "ray":
        raise SpecError(None, "--ray-address and --ray-actors need --backend ray")
    prog = progress_printer(err) if show_progress else None
    style = Style(use_color(out, args.color))

    def header(o):
        if not args.quiet:
            head = {"version": __version__, "config": problem.config_path, "module": problem.model.name,
                    "constants": problem.constants, "constants_set": list(problem.overridden)}
            out.write("\n".join(header_lines(head, style) + [o.describe_limits()]) + "\n")
            out.flush()
    result = check(problem, progress=prog, keep_graph=bool(args.graph), backend=args.backend, on_start=header,
                   checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every, resume=args.resume,
                   ray_address=args.ray_address, ray_actors=args.ray_actors, **opts)
    if prog is not None:
        err.write("\r" + " " * 100 + "\r")
    data = result.data
    for hook in _CHECK_HOOKS:  # hooks may add to the result (e.g. the invariant's culprits) before it is written
        hook(args, problem, result, out, err)
    if args.json:
        write_atomic(args.json, result.to_json())
    if args.graph:
        from ..analysis.graph import state_graph, write_graph
        write_graph(state_graph(problem.model, result.exploration), args.graph)
    if args.quiet:
        out.write(f"{data['verdict']}: {data['message']}\n")
    else:
        out.write(format_result(data, style, verbose=bool(args.coverage), header=False))
    if isinstance(args.coverage, str):
        write_atomic(args.coverage, json.dumps(data["coverage"], indent=2) + "\n")
    return result.exit_code


_CHECK_HOOKS = []


def register_check_hook(fn):
    """fn(args, problem, result, out, err) runs after a check (renderers add outputs this way)."""
    _CHECK_HOOKS.append(fn)
    return fn


def write_atomic(path, text):
    tmp = f"{path}.tmp{os.getpid()}"
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def cmd_list(args, out=sys.stdout, err=sys.stderr):
    problem = load_problem(args)
    m = problem.model
    w = out.write
    w(f"module {m.name}  ({', '.join(m.files)})\n")
    w("\nconstants:\n")
    for k, v in problem.constants.items():
        w(f"  {k} = {json.dumps(v)}\n")
    w("\nsets:\n")
    for name, st in m.sets.items():
        w(f"  {name} = {{{', '.join(str(st.display(x)) for x in st.values)}}}\n")
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


def cmd_lint(args, out=sys.stdout, err=sys.stderr):
    problem = load_problem(args)
    m = problem.model
    out.write(f"ok: {args.config}: module {m.name}, {len(m.variables)} variables "
              f"({sum(v.size for v in m.variables.values())} slots), {len(m.instances)} action instances, "
              f"{len(m.invariant_list)} invariants\n")
    return 0


def main(argv=None, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    _load_extensions()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    run = getattr(args, "run", None) or {"check": cmd_check, "list": cmd_list, "lint": cmd_lint}[args.command]
    try:
        return run(args, out, err)
    except SpecError as e:
        err.write(f"{e}\n")
        return EXIT_BAD_INPUT
    except LimitError as e:
        err.write(f"{e}\n")
        return EXIT_INCOMPLETE
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


def _load_extensions():
    """The commands and check options of the rendering and review layers."""
    from . import diff_cmd, render_cmds
    if not _EXTRA_COMMANDS:
        render_cmds.register_all()
        register(diff_cmd.add_diff_command)


if __name__ == "__main__":
    sys.exit(main())
