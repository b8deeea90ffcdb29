"""`mm-explorer reproduce` and `mm-explorer conform`: the command line of explorer.conform."""

from __future__ import annotations

import json
import os
import sys

from ..errors import SpecError



def _root():
    from ..lang.shipped import data_root
    root = data_root()
    if root is None:
        raise SpecError(None, "the shipped spec/ and configs/ are not installed with this copy of mm-explorer")
    return root


def add_commands(sub):
    r = sub.add_parser("reproduce", help="write a trace (counterexample or witness) as a C program that checks a real kernel",
                       description="RESULT.json (from check --json) becomes one standalone C program with TAP output: "
                                   "it sets up the world, performs each step and checks every observation the model "
                                   "predicts after it; GUP interleavings are retried as a bounded race.")
    r.add_argument("result", metavar="RESULT.json")
    r.add_argument("-o", "--output", required=True, metavar="case.c")
    r.add_argument("--race-seconds", type=int, default=10, metavar="S", help="how long a race is retried (default 10)")
    r.add_argument("--kernel", metavar="NAME|PATH", help="also build it and run it on this kernel in a VM, printing its TAP")
    r.set_defaults(run=cmd_reproduce)
    c = sub.add_parser("conform", help="replay the model's predictions on real kernels booted in QEMU",
                       description="Every shipped config's counterexamples and witnesses on the kernel's label plus N "
                                   "random walks over random small worlds, as one static binary booted under QEMU; "
                                   "agreement per case, action and observation. Exit 0 all agree, 1 otherwise.")
    c.add_argument("--kernel", action="append", metavar="NAME|PATH",
                   help="a label of a Debian kernel (debian-6.1.y, debian-6.12.y) or an unpacked package directory "
                        "(with --label); default: every Debian kernel, fetched into the cache when missing")
    c.add_argument("--label", metavar="LABEL", help="the spec/kernels.yaml label of a --kernel PATH")
    c.add_argument("--cases", type=int, default=500, metavar="N", help="random walks per kernel (default 500)")
    c.add_argument("--seed", type=int, default=1, metavar="S", help="seed of the random worlds and walks (default 1)")
    c.add_argument("--no-configs", action="store_true", help="random walks only")
    c.add_argument("--json", metavar="FILE", help="write the agreement reports as JSON")
    c.add_argument("--log", metavar="DIR", help="keep each boot's serial console text in DIR")
    c.set_defaults(run=cmd_conform)


def _kernels(names, label):
    from ..conform import vm
    if not names:
        return [(lab, vm.fetch(pkg)) for lab, pkg in vm.DEBIAN.items()]
    out = []
    for name in names:
        if name in vm.DEBIAN:
            out.append((name, vm.fetch(vm.DEBIAN[name])))
        elif os.path.isdir(name):
            if not label:
                raise SpecError(None, f"--kernel {name}: a kernel directory needs --label LABEL (a label of spec/kernels.yaml)")
            out.append((label, vm.Kernel(name)))
        else:
            raise SpecError(None, f"--kernel {name}: neither a Debian kernel label ({', '.join(vm.DEBIAN)}) nor a directory")
    return out


def _check_tools():
    from ..conform import vm
    missing = vm.tools_missing()
    if missing:
        raise SpecError(None, "conform needs " + ", ".join(missing) + ": apt-get install " + " ".join(missing))


def cmd_reproduce(args, out=sys.stdout, err=sys.stderr):
    from ..conform import batch, program, report, run, vm
    try:
        with open(args.result) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise SpecError(None, f"{args.result}: not a result JSON ({e})")
    if not isinstance(data, dict) or "constants" not in data or "config" not in data:
        raise SpecError(None, f"{args.result}: not a result of mm-explorer check --json")
    config = data["config"] if os.path.exists(data["config"]) else os.path.join(_root(), data["config"])
    traces = batch.result_traces(data)
    if not traces:
        raise SpecError(None, f"{args.result}: the result has no trace to reproduce (verdict {data.get('verdict')})")
    base = os.path.splitext(os.path.basename(config))[0]
    cases = [batch.case_from_result(f"{base}.{kind}{j}", data, config, kind, tr) for j, (kind, tr) in enumerate(traces)]
    for c in cases:
        if c.unsupported():
            raise SpecError(None, f"{args.result}: {c.name} cannot be performed here: {c.unsupported()}")
    with open(args.output, "w") as f:
        f.write(program.program(cases, race_seconds=args.race_seconds))
    out.write(f"wrote {args.output}: {len(cases)} case(s), {sum(len(c.steps) for c in cases)} steps "
              f"(build: gcc -static -O1 -o case {args.output} -lpthread)\n")
    if args.kernel:
        _check_tools()
        for label, kernel in _kernels([args.kernel], None):
            rep, _ = run.conform(kernel, label, cases, race_seconds=args.race_seconds)
            out.write(report.text(kernel.release, label, rep) + "\n")
    return 0


def cmd_conform(args, out=sys.stdout, err=sys.stderr):
    from ..conform import batch, report, run
    if args.cases < 0:
        raise SpecError(None, "--cases must not be negative")
    _check_tools()
    root = _root()
    spec = os.path.join(root, "spec", "mm.yaml")
    reports, all_agree = {}, True
    for label, kernel in _kernels(args.kernel, args.label):
        cases = [] if args.no_configs else batch.config_cases(os.path.join(root, "configs"), label)
        cases += batch.walk_cases(spec, label, args.cases, args.seed)
        log = os.path.join(args.log, f"{label}.log") if args.log else None
        if args.log:
            os.makedirs(args.log, exist_ok=True)
        rep, skipped = run.conform(kernel, label, cases, log=log)
        rep["skipped"] = [{"case": c.name, "origin": c.origin, "why": why} for c, why in skipped]
        reports[label] = {"kernel": kernel.release, **rep}
        all_agree &= rep["agree"] == rep["cases"] - len(rep["races"])
        out.write(report.text(kernel.release, label, rep) + "\n")
        if skipped:
            out.write(f"  skipped {len(skipped)} case(s) a program cannot perform here: "
                      + "; ".join(sorted({why for _, why in skipped})) + "\n")
    if args.json:
        from ..render.output import write_text
        write_text(args.json, json.dumps(reports, indent=1) + "\n")
    return 0 if all_agree else 1
