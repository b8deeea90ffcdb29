"""`mm-explorer diff`: the command line of explorer.review."""

from __future__ import annotations

import sys

from ..errors import Pos, SpecError
from ..review.diff import SIDES, compare, settings_from_text, witness_document


# --- command line ------------------------------------------------------------------------------------
def add_diff_command(sub):
    from .main import add_check_args
    p = sub.add_parser("diff", help="what one kernel (or constant setting) makes reachable that another does not",
                       description="Explore CONFIG on two sides (--before/--after kernels, or --before-set/--after-set "
                                   "constants) and compare the reachable states and transitions projected on "
                                   "--project, with the shortest witness of each difference and the invariant "
                                   "verdicts side by side. Exit 0 equal, 1 different, 2 bad input, 3 a limit stopped a side.")
    add_check_args(p)
    p.add_argument("--before", metavar="KERNEL", help="the before side sets KERNEL=this")
    p.add_argument("--after", metavar="KERNEL", help="the after side sets KERNEL=this")
    p.add_argument("--before-set", action="append", metavar="NAME=VALUE", help="a constant on the before side only (repeatable)")
    p.add_argument("--after-set", action="append", metavar="NAME=VALUE", help="a constant on the after side only (repeatable)")
    p.add_argument("--reach", action="append", metavar="EXPR",
                   help="a target condition whose reachability is compared (instead of the invariants; repeatable)")
    p.add_argument("--project", action="append", metavar="VAR[,VAR...]",
                   help="compare only these variables (or variable groups); default: every non-ghost variable")
    p.add_argument("--max-states", type=int, metavar="N", help="stop a side after N distinct states (exit 3)")
    p.add_argument("--max-depth", type=int, metavar="N", help="do not explore beyond N steps (exit 3 if cut)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="stop a side after this long (exit 3)")
    p.add_argument("--max-memory", type=int, metavar="MIB", help="stop when resident memory reaches this (exit 3)")
    p.add_argument("--members", type=int, default=1000, metavar="N",
                   help="list at most N members per group in --json (default 1000; 0: all); groups count them all")
    p.add_argument("--json", metavar="FILE", help="write the diff as JSON (witnesses in the step format of result traces)")
    p.add_argument("--all-vars", action="store_true", help="show every variable in witness traces, not only the projected ones")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the headline")
    p.add_argument("--witness", metavar="ID", help="the group (A1, B1, TA1, TB1) or changed invariant whose witness "
                                                  "--trace-out / --trace-json / --html draw (default: the first)")
    p.add_argument("--trace-out", metavar="FILE", help="draw the chosen witness with Graphviz (.svg, .png, .pdf, .dot)")
    p.add_argument("--trace-json", metavar="FILE", help="write the chosen witness as a trace document (`mm-explorer trace` re-renders it)")
    p.add_argument("--html", metavar="FILE", help="write the chosen witness as a self-contained HTML viewer")
    p.add_argument("--color", dest="color", action="store_true", default=None, help="colour the report")
    p.add_argument("--no-color", dest="color", action="store_false", help="no colour")
    p.set_defaults(run=cmd_diff)


def cmd_diff(args, out=sys.stdout, err=sys.stderr):
    from .main import _patterns, _set_pairs, write_atomic
    from ..report import Style, use_color
    common = _set_pairs(args.set)
    sides = {}
    for name in SIDES:
        own = settings_from_text(getattr(args, f"{name}_set"), f"--{name}-set")
        kernel = getattr(args, name)
        if kernel is not None:
            if "KERNEL" in own:
                raise SpecError(Pos(f"<--{name} {kernel}>", 1, 1), f"--{name} {kernel} and --{name}-set KERNEL=... both set KERNEL")
            own = {"KERNEL": settings_from_text([f"KERNEL={kernel}"], f"--{name}")["KERNEL"], **own}
        sides[name] = own
    if not sides["before"] and not sides["after"]:
        raise SpecError(None, "nothing to compare: give --before/--after KERNEL or --before-set/--after-set NAME=VALUE")
    for k in ("max_states", "max_depth", "max_memory", "timeout", "members"):
        v = getattr(args, k)
        if v is not None and v < 0:
            raise SpecError(None, f"--{k.replace('_', '-')} must not be negative")
    if (args.trace_out or args.trace_json or args.html) and not _render_available():
        raise SpecError(None, "--trace-out, --trace-json and --html need explorer.render, which is not installed")
    if args.trace_out:
        from ..render import output
        if not output.diagram_suffix_ok(args.trace_out):
            raise SpecError(None, f"--trace-out {args.trace_out}: the file name must end in .svg, .png, .pdf or .dot")
    project = [x.strip() for item in (args.project or []) for x in item.split(",") if x.strip()] or None
    limits = {"max_states": args.max_states, "max_depth": args.max_depth, "timeout": args.timeout,
              "max_memory": args.max_memory}
    d = compare(args.config, sides["before"], sides["after"], common, _patterns(args.action, "--action"),
                _patterns(args.invariant, "--invariant"), project, limits, reach=args.reach,
                members=args.members or None)
    if args.json:
        write_atomic(args.json, d.to_json())
    if args.trace_out or args.trace_json or args.html:
        _write_witness(d, args, err)
    if args.quiet:
        out.write(d.data["headline"] + "\n")
    else:
        out.write(d.text(Style(use_color(out, args.color)), all_vars=args.all_vars))
    return d.exit_code


def _render_available():
    try:
        import explorer.render  # noqa: F401
    except ImportError:
        return False
    return True


def _write_witness(d, args, err):
    from .render_cmds import write_outputs
    doc = witness_document(d, args.witness)
    if doc is None:
        err.write("note: no witness to write: the two sides do not differ\n")
        return
    write_outputs(doc, err, diagram=args.trace_out, trace_json=args.trace_json, html=args.html,
                  all_vars=args.all_vars)
