#!/usr/bin/env python3
"""Run every config in configs/ on every kernel label and write the verdict table.

    python scripts/verdict_table.py            # rewrite configs/README.md between the markers
    python scripts/verdict_table.py --check    # exit 1 if configs/README.md is out of date
    python scripts/verdict_table.py --print    # print the generated text only
    python scripts/verdict_table.py --no-ray   # one check after another in this process

Each (config, kernel) check is independent: with the `ray` extra installed they run as Ray tasks
(a local Ray, or the cluster of --ray-address); the text written is the same either way.

The table (question x kernel version) and the list of counterexamples are produced here from
the tool's results (explorer.load / explorer.check); nothing in them is typed by hand.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from explorer import SpecError, check, load  # noqa: E402
from explorer.checker.distributed.tasks import map_tasks  # noqa: E402

README = os.path.join(ROOT, "configs", "README.md")
TABLE_BEGIN, TABLE_END = "<!-- verdict-table:begin -->", "<!-- verdict-table:end -->"
TRACES_BEGIN, TRACES_END = "<!-- counterexamples:begin -->", "<!-- counterexamples:end -->"

# short names for the table cells (the S-numbers of the invariants' docs)
SHORT = {
    "PrivateStaysPrivate": "S1", "FileWritesAuthorized": "S2", "NoLostWrite": "S3",
    "UffdWpHonoured": "S4", "SoftDirtyRecorded": "S5", "WriteNotifyHonoured": "S6",
    "ZeroPageNeverWritten": "S7", "CowExclusive": "S8", "CowIsolated": "S9", "PinCoherent": "S10",
    "WritableImpliesVmWrite": "VW",
}


def kernel_labels():
    """The labels of spec/kernels.yaml, oldest first (the set KERNEL_LABELS)."""
    model = load(os.path.join(ROOT, "spec", "mm.yaml")).model
    st = model.sets["KERNEL_LABELS"]
    return [str(st.display(x)) for x in st.values]


def configs():
    """The closed questions; open ones (open_*.yaml, every world of a bound in one run) take minutes
    per version and are recorded in bench/RESULTS.md instead."""
    return sorted(p for p in glob.glob(os.path.join(ROOT, "configs", "*.yaml")) if not os.path.basename(p).startswith("open_"))


def question(path):
    """The first comment paragraph of a config, without the leading 'Question:'."""
    lines = []
    with open(path) as f:
        for line in f:
            if not line.startswith("#"):
                break
            text = line[1:].strip()
            if not text:
                break
            lines.append(text)
    q = " ".join(lines)
    return q[len("Question:"):].strip() if q.startswith("Question:") else q


def run(path, label):
    """(cell text, details or None) for one config on one kernel."""
    try:
        problem = load(path, {"KERNEL": label})
    except SpecError as e:
        reason = str(e).split("this configuration is refused: ")[-1].split(" (assumption")[0]
        return "refused", {"verdict": "refused", "reason": reason}
    r = check(problem, backend="python")  # tiny spaces: exploring takes less than building C
    if r.verdict == "ok":
        return "ok", {"verdict": "ok", "states": r.stats["distinct_states"]}
    if r.verdict == "violation":
        steps = len(r.trace) - 1
        return f"**{SHORT.get(r.invariant, r.invariant)}**·{steps}", {
            "verdict": "violation", "invariant": r.invariant, "steps": steps,
            "labels": [s["label"] for s in r.trace[1:]], "states": r.stats["distinct_states"]}
    return r.verdict, {"verdict": r.verdict, "message": r.message}


def generate(use_ray=None, address=None):
    labels = kernel_labels()
    rows, found = [], []
    jobs = [(path, label) for path in configs() for label in labels]
    answers = dict(zip(jobs, map_tasks(run, jobs, address=address, use_ray=use_ray)))
    for path in configs():
        name = os.path.splitext(os.path.basename(path))[0]
        cells = []
        for label in labels:
            cell, info = answers[(path, label)]
            cells.append(cell)
            if info["verdict"] == "violation":
                found.append((name, label, info))
            print(f"{name:28} {label:7} {cell}", file=sys.stderr)
        rows.append((name, path, cells))
    out = ["| question | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for name, path, cells in rows:
        out.append(f"| [{name}]({name}.yaml) | " + " | ".join(cells) + " |")
    out.append("")
    out.append("Cells: `ok` every checked invariant holds in every reachable state; **Sn**·k the invariant "
               "that fails first and the length k of the shortest counterexample; `refused` the kernel "
               "refuses the configuration (an `assume:` of the spec, e.g. UFFDIO_REGISTER mode not supported). "
               + ", ".join(f"{v} = {k}" for k, v in SHORT.items()) + ".")
    out.append("")
    out.append("Questions:")
    out.append("")
    for name, path, _ in rows:
        out.append(f"- **{name}**: {question(path)}")
    table = "\n".join(out)
    # counterexamples: one entry per config and distinct trace, with the versions it occurs on
    groups = {}
    for name, label, info in found:
        key = (name, info["invariant"], tuple(info["labels"]))
        groups.setdefault(key, []).append(label)
    tr = []
    for (name, inv, steps), versions in groups.items():
        tr.append(f"- **{name}** on {', '.join(versions)}: `{inv}` after {len(steps)} step(s): "
                  + " → ".join(f"`{s}`" for s in steps))
    return table, "\n".join(tr) if tr else "(none)"


def splice(text, begin, end, body):
    if begin not in text or end not in text:
        return text.rstrip("\n") + f"\n\n{begin}\n{body}\n{end}\n"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}\n{end}{tail}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if configs/README.md is out of date")
    ap.add_argument("--print", action="store_true", help="print the generated text, write nothing")
    ap.add_argument("--no-ray", action="store_true", help="run the checks in this process even if Ray is installed")
    ap.add_argument("--ray-address", metavar="ADDR", help="run the checks on this Ray cluster")
    args = ap.parse_args(argv)
    try:
        table, traces = generate(use_ray=False if args.no_ray else None, address=args.ray_address)
    except SpecError as e:
        print(e, file=sys.stderr)
        return 2
    if args.print:
        print(table + "\n\n" + traces)
        return 0
    old = open(README).read() if os.path.exists(README) else "# Questions and verdicts\n"
    new = splice(splice(old, TABLE_BEGIN, TABLE_END, table), TRACES_BEGIN, TRACES_END, traces)
    if args.check:
        if new != old:
            print("configs/README.md is out of date: run python scripts/verdict_table.py", file=sys.stderr)
            return 1
        return 0
    with open(README, "w") as f:
        f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
