"""`mm-explorer diff`: the command line of explorer.review."""

from __future__ import annotations

import sys

from ..errors import EXIT_BAD_INPUT, Pos, SpecError
from ..render.output import check_diagram_path, write_text
from ..review.diff import SIDES, compare, witness_document
from .outputs import Outputs
from .render_cmds import trace_flags, write_outputs
from .options import add_color, add_config_args, add_limits, patterns, refuse_negative, set_pairs


# --- command line ------------------------------------------------------------------------------------
def add_diff_command(sub):
    p = sub.add_parser("diff", help="what one kernel (or constant setting) makes reachable that another does not",
                       description="Explore CONFIG on two sides (--before/--after kernels, or --before-set/--after-set "
                                   "constants) and compare the reachable states and transitions projected on "
                                   "--project, with the shortest witness of each difference and the invariant "
                                   "verdicts side by side. Exit 0 equal, 1 different, 2 bad input, 3 a limit stopped a side.")
    add_config_args(p)
    p.add_argument("--before", metavar="KERNEL", help="the before side sets KERNEL=this")
    p.add_argument("--after", metavar="KERNEL", help="the after side sets KERNEL=this")
    p.add_argument("--before-set", action="append", metavar="NAME=VALUE", help="a constant on the before side only (repeatable)")
    p.add_argument("--after-set", action="append", metavar="NAME=VALUE", help="a constant on the after side only (repeatable)")
    p.add_argument("--reach", action="append", metavar="EXPR",
                   help="a target condition whose reachability is compared (instead of the invariants; repeatable)")
    p.add_argument("--project", action="append", metavar="VAR[,VAR...]",
                   help="compare only these variables (or variable groups); default: every non-ghost variable")
    add_limits(p, each="a side")
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
    add_color(p)
    p.set_defaults(run=cmd_diff)


def cmd_diff(args, out=sys.stdout, err=sys.stderr):
    from ..report import Style, use_color
    common = set_pairs(args.set)
    sides = {}
    for name in SIDES:
        own = set_pairs(getattr(args, f"{name}_set"), f"--{name}-set")
        kernel = getattr(args, name)
        if kernel is not None:
            if "KERNEL" in own:
                raise SpecError(Pos(f"<--{name} {kernel}>", 1, 1), f"--{name} {kernel} and --{name}-set KERNEL=... both set KERNEL")
            own = {"KERNEL": set_pairs([f"KERNEL={kernel}"], f"--{name}")["KERNEL"], **own}
        sides[name] = own
    if not sides["before"] and not sides["after"]:
        raise SpecError(None, "nothing to compare: give --before/--after KERNEL or --before-set/--after-set NAME=VALUE")
    refuse_negative(args, ("max_states", "max_depth", "max_memory", "timeout", "members"))
    if args.trace_out:
        check_diagram_path(args.trace_out, "--trace-out")
    outs = Outputs(err)
    outs.check(("--json", args.json), *trace_flags(args))
    project = [x.strip() for item in (args.project or []) for x in item.split(",") if x.strip()] or None
    limits = {"max_states": args.max_states, "max_depth": args.max_depth, "timeout": args.timeout,
              "max_memory": args.max_memory}
    d = compare(args.config, sides["before"], sides["after"], common, patterns(args.action, "--action"),
                patterns(args.invariant, "--invariant"), project, limits, reach=args.reach,
                members=args.members or None)
    if args.json:
        outs.write("--json", args.json, lambda: write_text(args.json, d.to_json()))
    if args.quiet:
        out.write(d.data["headline"] + "\n")
    else:
        out.write(d.text(Style(use_color(out, args.color)), all_vars=args.all_vars))
    out.flush()
    code = d.exit_code
    if args.trace_out or args.trace_json or args.html:
        try:
            _write_witness(d, args, err, outs)
        except SpecError as e:  # an unknown --witness: known only now, after the report is out
            err.write(f"{e}\n")
            code = EXIT_BAD_INPUT
    outs.finish(d.to_json(), what="diff", out=None if args.quiet else out)
    return code


def _write_witness(d, args, err, outs):
    doc = witness_document(d, args.witness)
    if doc is None:
        err.write("note: no witness to write: the two sides do not differ\n")
        return
    write_outputs(doc, err, diagram=args.trace_out, trace_json=args.trace_json, html=args.html,
                  all_vars=args.all_vars, outs=outs)
