#!/usr/bin/env python3
"""Benchmark: the Ray backend with 1 and 2 actors against the single-process backends.

    python bench/ray_bench.py                     # dirtybits 3,2 and 2,4
    python bench/ray_bench.py --sizes 2,3 --actors 1 2 3

For each size: the compiled backend (`--backend c`) and the reference backend in this process,
then the Ray backend on a local Ray (`ray.init(num_cpus=2)`, started once and timed apart) with
each actor count. Seconds are exploration only (stats.seconds: no interpreter start-up, no Ray
start-up). Per row: states/s, states/s per actor, bytes routed per state and per transition (all
successor batches, including those an actor sends to itself) and bytes between actors per state
(what a network would carry), resident MiB of the actors, and the wall-time ratio to --backend c.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import explorer  # noqa: E402

SPEC = os.path.join(HERE, "dirtybits.yaml")


def run(p, v, **opts):
    r = explorer.check(explorer.load(SPEC, {"P": p, "V": v}), **opts)
    assert r.verdict == "ok", r.message
    return r


def row(name, r, base, actors=None):
    s = r.stats
    n, t = s["distinct_states"], s["transitions"]
    out = {"tool": name, "states": n, "transitions": t, "seconds": s["seconds"],
           "states_per_s": n / s["seconds"], "ratio_to_c": s["seconds"] / base if base else None}
    st = getattr(r.exploration, "stats", None)
    if actors:
        out.update(per_actor=n / s["seconds"] / actors, routed_per_state=st["bytes_routed"] / n,
                   routed_per_transition=st["bytes_routed"] / t, between_per_state=st["bytes_between_actors"] / n,
                   actor_mib=sum(st["actor_mib"]), widest_level=max(_level_sizes(r.exploration)))
    return out


def _level_sizes(ex):
    starts = list(ex._levels) + [ex._n]
    return [b - a for a, b in zip(starts, starts[1:])]


def show(rows):
    print("| tool | states | transitions | explore s | states/s | per actor | routed B/state | routed B/transition "
          "| between actors B/state | actors' MiB | widest level | x c |")
    print("|---|" + "---|" * 11)
    for r in rows:
        f = lambda k, fmt: (fmt.format(r[k]) if r.get(k) is not None else "-")  # noqa: E731
        print(f"| {r['tool']} | {r['states']:,} | {r['transitions']:,} | {r['seconds']:.2f} | {r['states_per_s']:,.0f} | "
              f"{f('per_actor', '{:,.0f}')} | {f('routed_per_state', '{:.0f}')} | {f('routed_per_transition', '{:.1f}')} | "
              f"{f('between_per_state', '{:.0f}')} | {f('actor_mib', '{:,.0f}')} | {f('widest_level', '{:,}')} | "
              f"{f('ratio_to_c', '{:.1f}x')} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", default=["3,2", "2,4"], help="P,V pairs")
    ap.add_argument("--actors", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--no-python", action="store_true", help="skip the reference backend")
    args = ap.parse_args(argv)
    import ray
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    print(f"ray {ray.__version__} on {platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
          f"ray.init {time.perf_counter() - t0:.1f} s")
    for size in args.sizes:
        p, v = map(int, size.split(","))
        c = run(p, v, backend="c")
        base = c.stats["seconds"]
        rows = [row("c", c, base)]
        if not args.no_python:
            rows.append(row("python", run(p, v, backend="python"), base))
        for n in args.actors:
            t = time.perf_counter()
            r = run(p, v, backend="ray", ray_actors=n)
            assert (r.stats["distinct_states"], r.stats["transitions"]) == (c.stats["distinct_states"], c.stats["transitions"])
            rows.append(row(f"ray {n} actor{'s' if n > 1 else ''}", r, base, n))
            rows[-1]["call_s"] = time.perf_counter() - t
        print(f"\ndirtybits P={p} V={v} (width {len(c.exploration.states[0])} slots)")
        show(rows)
        for r in rows:
            if "call_s" in r:
                print(f"  {r['tool']}: whole call {r['call_s']:.1f} s (actor start-up included)")
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
