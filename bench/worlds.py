#!/usr/bin/env python3
"""Benchmark: open configs of the mm model, every world of a small bound in one run.

    python bench/worlds.py                      # every case on newest and v5.16
    python bench/worlds.py --cases one_vma --kernels v5.16

Each case and kernel runs in its own process (`--one`), on the default backend, with --continue
(every world to the end, every violation): the row gives worlds explored and refused, distinct
states, wall seconds split into loading (one compile per world, then the composition) and
checking (for the compiled backend: building the library, cached after the first run, and the
search), the process's peak resident memory, and per violated invariant how many worlds break it
and the smallest such world. The rows of one invocation are measured in one sitting, so their
ratios (newest against v5.16, one case against the other) compare like with like. That an open
run's counts are the sum over its worlds checked one by one is asserted in tests/test_worlds.py.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

SPEC = os.path.join(ROOT, "spec", "mm.yaml")
CASES = {
    # every world with one VMA, 1-2 pages, 0-1 GUP threads (all actions)
    "one_vma": {"FILE": {"choose": "all"}, "VMAS": {"count": 1, "each": {"choose": "all"}},
                "PAGES": {"choose": [1, 2]}, "GUP_THREADS": {"choose": [0, 1]}},
    # two VMAs, one page: file-backed mappings, any sharing, read or read-write, no / minor / wp registration
    "two_vmas": {"FILE": {"kind": "shmem", "open": {"choose": "all"}, "sealed": {"choose": "all"}},
                 "VMAS": {"count": 2, "each": {"backing": "file", "shared": {"choose": "all"},
                                               "prot": {"choose": ["read", "read-write"]},
                                               "uffd": {"choose": [[], ["minor"], ["wp"]]}}},
                 "PAGES": 1, "GUP_THREADS": 1},
}


def one(case, kernel, backend):
    import explorer
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, f"{case}.yaml")
        with open(cfg, "w") as f:
            json.dump({"spec": SPEC, "constants": dict(CASES[case], KERNEL=kernel)}, f)  # JSON is YAML
        t0 = time.perf_counter()
        problem = explorer.load(cfg)
        t1 = time.perf_counter()
        r = explorer.check(problem, continue_all=True, backend=backend)
        t2 = time.perf_counter()
    viol = [{"invariant": v["invariant"], "worlds": v["worlds_breaking"], "first_world": v["world"],
             "steps": len(v["trace"]) - 1} for v in r.violations]
    return {"case": case, "kernel": kernel, "backend": getattr(r.exploration, "backend", "python"),
            "worlds": r.worlds["explored"], "refused": r.worlds["refused"],
            "states": r.stats["distinct_states"], "transitions": r.stats["transitions"],
            "load_s": round(t1 - t0, 1), "check_s": round(t2 - t1, 1), "search_s": r.stats["seconds"],
            "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "complete": r.stats["complete"], "violations": viol}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--kernels", nargs="*", default=["newest", "v5.16"])
    ap.add_argument("--backend", default=None)
    ap.add_argument("--one", nargs=2, metavar=("CASE", "KERNEL"))
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one[0], a.one[1], a.backend)))
        return
    print("| case | kernel | worlds | refused | states | load s | check s (search s) | peak MiB | violations (worlds breaking; smallest world, steps) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for case in a.cases:
        for k in a.kernels:
            cmd = [sys.executable, __file__, "--one", case, k] + (["--backend", a.backend] if a.backend else [])
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if out.returncode != 0:
                print(f"| {case} | {k} | failed: {out.stderr.strip().splitlines()[-1:]} |")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            v = "; ".join(f"{x['invariant']} {x['worlds']} ({x['first_world']}, {x['steps']})" for x in r["violations"]) or "none"
            print(f"| {case} | {k} | {r['worlds']:,} | {r['refused']:,} | {r['states']:,} | {r['load_s']} | "
                  f"{r['check_s']} ({r['search_s']}) | {r['peak_mib']} | {v} |", flush=True)


if __name__ == "__main__":
    main()
