#!/usr/bin/env python3
"""Benchmark: our backends and the anchor tools side by side on the dirtybits model.

    python bench/run.py                          # default sizes, anchors spin-bfs, rumur-t1, python
    python bench/run.py --sizes 2,3 2,4 --no-anchors
    python bench/run.py --sizes 4,3 --no-anchors --tools ""   # the 1e8-state run, ours only

For each size it prints one row per tool: distinct states, wall seconds, states/s, peak MiB and
bytes per state, then the ratios ours/SPIN-bfs, ours/rumur, ours/hand-written (wall time; below 1
means ours is faster). Every run is a separate process timed by GNU time (`env time -v`), so wall
time includes interpreter start-up, loading and compiling the spec (the C library is built once
per size before timing, as a user's second run finds it in the cache) and peak memory is the
process's maximum resident set. Our bytes/state is measured above the baseline of the same
command on the smallest model (interpreter, spec, compiled library); the anchors' is their whole
peak divided by their states, as the anchors report it.

The anchors run through ../shared/bench/anchors/run_anchors.sh, copied to a temporary folder
(it writes build/ beside itself). spin and rumur are installed with apt-get when missing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SPEC = os.path.join(HERE, "dirtybits.yaml")
ANCHORS = os.path.normpath(os.path.join(ROOT, "..", "shared", "bench", "anchors"))
ROW_RE = re.compile(r"^(\S+)\s+P=(\d+) V=(\d+)\s+states (\S*)\s+trans (\S*)\s+wall_s (\S*)\s+peakMiB (\S*)\s*(.*)$")


def gnu_time(cmd, env=None, timeout=None):
    """Run cmd under `env time -v`; returns (returncode, stdout, wall seconds, peak MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        p = subprocess.run(["env", "time", "-v", "-o", tf.name, *cmd], capture_output=True, text=True, env=env,
                           timeout=timeout)
        wall = time.perf_counter() - t0
        text = open(tf.name).read()
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    if m:
        parts = [float(x) for x in m.group(1).split(":")]
        wall = sum(x * 60 ** i for i, x in enumerate(reversed(parts)))
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    peak = int(m.group(1)) / 1024 if m else float("nan")
    return p.returncode, p.stdout + p.stderr, wall, peak


def ours(P, V, backend, threads=None, extra=()):
    """One `mm-explorer check` run; returns a result row."""
    env = dict(os.environ)
    if threads:
        env["MM_EXPLORER_THREADS"] = str(threads)
    with tempfile.NamedTemporaryFile("r", suffix=".json") as jf:
        cmd = [sys.executable, "-m", "explorer", "check", SPEC, "--set", f"P={P}", "--set", f"V={V}",
               "--backend", backend, "--json", jf.name, *extra]
        rc, out, wall, peak = gnu_time(cmd, env=env)
        try:
            data = json.load(open(jf.name))
        except (OSError, ValueError):
            sys.stderr.write(out)
            raise SystemExit(f"run failed: {' '.join(cmd)}")
    st = data["stats"]
    return {"tool": f"ours-{backend}" + (f"-{threads}t" if threads else ""), "states": st["distinct_states"],
            "transitions": st["transitions"], "wall": wall, "peak": peak, "explore_s": st["seconds"],
            "verdict": data["verdict"], "depth": st["depth"]}


def ensure_anchor_tools():
    missing = [t for t in ("spin", "rumur") if shutil.which(t) is None]
    if missing:
        print(f"# installing {' '.join(missing)} with apt-get", file=sys.stderr)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)


def anchors(P, V, tools, n_states, workdir, timeout=None):
    """Rows of run_anchors.sh for this size (tools: e.g. ['spin-bfs', 'rumur-t1', 'python'])."""
    if not tools:
        return []
    env = dict(os.environ, TOOLS=" ".join(tools))
    if n_states:
        env["SPIN_W"] = str(math.ceil(math.log2(n_states)) + 1)
        env["SPIN_M"] = str(n_states + 1000)
    if timeout:
        env["TOOL_TIMEOUT"] = str(int(timeout))
    p = subprocess.run(["bash", os.path.join(workdir, "run_anchors.sh"), str(P), str(V)], capture_output=True,
                       text=True, env=env)
    rows = []
    for line in p.stdout.splitlines():
        m = ROW_RE.match(line)
        if not m:
            continue
        tool, _, _, s, tr, w, mib, note = m.groups()
        try:
            states = int(s)
        except ValueError:
            states = None
        rows.append({"tool": tool, "states": states, "transitions": tr, "wall": float(w) if w else float("nan"),
                     "peak": float(mib) if mib else float("nan"), "note": note.strip()})
    return rows


def fmt_row(r, baselines):
    s = r.get("states")
    wall = r["wall"]
    if r["tool"].startswith("ours"):
        base = baselines["python" if r["tool"].startswith("ours-python") else "c"]
        bps = (r["peak"] - base) * 2**20 / s if s else float("nan")
    else:
        bps = r["peak"] * 2**20 / s if s else float("nan")
    sps = s / wall if s and wall >= 0.005 else float("nan")
    note = r.get("note", "")
    if "explore_s" in r:
        note = f"explore {r['explore_s']:.2f} s; {r['verdict']}" + (f"; {note}" if note else "")
    sps_s = "-" if math.isnan(sps) else f"{sps:,.0f}"
    # below ~1e5 states the baseline's noise (a few MiB) dominates bytes/state
    bps_s = "-" if math.isnan(bps) or (r["tool"].startswith("ours") and s < 100000) else f"{bps:.0f}"
    return (f"| {r['tool']} | {s:,} | {wall:.2f} | {sps_s} | {r['peak']:.0f} | {bps_s} | {note} |"
            if s is not None else f"| {r['tool']} | - | {wall:.2f} | - | {r['peak']:.0f} | - | {note} |")


def machine_line():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout.split("\n")[0] if shutil.which("gcc") else "no gcc"
    load = os.getloadavg()
    return (f"{platform.machine()}, {cpu}, {os.cpu_count()} cores, {mem}; Python {platform.python_version()}; {gcc}; "
            f"load average at start {load[0]:.2f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="*", default=["2,2", "2,3", "3,2", "2,4", "3,3"], help="P,V pairs")
    ap.add_argument("--tools", default="spin-bfs rumur-t1 python", help="anchor tools of run_anchors.sh")
    ap.add_argument("--no-anchors", action="store_true")
    ap.add_argument("--rumur-max-states", type=float, default=2e6, help="skip rumur above this many states (it needs minutes)")
    ap.add_argument("--reference-max-states", type=float, default=1e5, help="run our reference (python) backend up to this size")
    ap.add_argument("--one-thread", action="store_true", help="also run the compiled backend on one thread")
    ap.add_argument("--mm", action="store_true", help="also run every configs/*.yaml on both backends and show the largest")
    ap.add_argument("--json", help="write all rows to this file")
    args = ap.parse_args(argv)
    sizes = [tuple(int(x) for x in s.split(",")) for s in args.sizes]
    print(f"machine: {machine_line()}")
    print(f"command: python bench/run.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    # build each size's library once (a user's second run finds it in the cache) and the baseline
    for P, V in sorted(set(sizes) | {(1, 1)}):
        subprocess.run([sys.executable, "-m", "explorer", "check", SPEC, "--set", f"P={P}", "--set", f"V={V}",
                        "--backend", "c", "--max-states", "1"], capture_output=True)
    base = ours(1, 1, "c")
    pybase = ours(1, 1, "python")
    baselines = {"c": base["peak"], "python": pybase["peak"]}
    baseline = base["peak"]
    print(f"baseline (P=1,V=1, whole command): compiled backend {base['wall']:.2f} s, {baseline:.0f} MiB; "
          f"reference backend {pybase['wall']:.2f} s, {pybase['peak']:.0f} MiB")
    workdir = None
    tools = [] if args.no_anchors else args.tools.split()
    if tools:
        ensure_anchor_tools()
        workdir = tempfile.mkdtemp(prefix="anchors-")
        for f in os.listdir(ANCHORS):
            src = os.path.join(ANCHORS, f)
            if os.path.isfile(src):
                shutil.copy(src, workdir)
    all_rows = []
    summary = []
    for P, V in sizes:
        rows = [ours(P, V, "c")]
        if args.one_thread:
            rows.append(ours(P, V, "c", threads=1))
        n = rows[0]["states"]
        if n <= args.reference_max_states:
            rows.append(ours(P, V, "python"))
        t = [x for x in tools if not (x.startswith("rumur") and n > args.rumur_max_states)]
        rows += anchors(P, V, t, n, workdir) if workdir else []
        print(f"\n### dirtybits P={P} V={V}: {n:,} distinct states, {rows[0]['transitions']:,} transitions\n")
        print("| tool | states | wall s | states/s | peak MiB | bytes/state | note |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            print(fmt_row(r, baselines))
        mine = rows[0]
        ratios = []
        for label, name in (("SPIN-bfs", "spin-bfs"), ("rumur", "rumur-t1"), ("hand-written", "python")):
            other = next((r for r in rows if r["tool"] == name and r.get("states")), None)
            if other and other["wall"] > 0:
                if other["states"] != mine["states"]:
                    ratios.append(f"{label}: STATES DIFFER ({other['states']:,})")
                else:
                    ratios.append(f"ours/{label} {mine['wall'] / other['wall']:.2f}x")
            else:
                ratios.append(f"ours/{label} -")
        print("\nratios (wall time): " + ", ".join(ratios))
        summary.append((P, V, mine, ratios))
        all_rows.append({"P": P, "V": V, "rows": rows, "baseline_mib": baseline})
        sys.stdout.flush()
    if args.mm:
        print("\n### configs/*.yaml (the mm model)\n")
        print("start-up = load, compile and first state (`--max-states 1`), whole command; cold: empty C cache")
        print("(gcc runs), warm: the library is in the cache.\n")
        print("| config | states | verdict | c wall s | python wall s | start-up cold s | start-up warm s |")
        print("|---|---|---|---|---|---|---|")
        cold_cache = tempfile.mkdtemp(prefix="mmx-cache-")
        for cfg in sorted(os.listdir(os.path.join(ROOT, "configs"))):
            if not cfg.endswith(".yaml"):
                continue
            path = os.path.join(ROOT, "configs", cfg)
            first = [sys.executable, "-m", "explorer", "check", path, "--backend", "c", "--max-states", "1"]
            _, _, cold, _ = gnu_time(first, env=dict(os.environ, XDG_CACHE_HOME=cold_cache))
            _, _, warm, _ = gnu_time(first)
            res = {}
            for b in ("c", "python"):
                with tempfile.NamedTemporaryFile("r", suffix=".json") as jf:
                    rc, out, wall, peak = gnu_time([sys.executable, "-m", "explorer", "check", path, "--backend", b,
                                                    "--json", jf.name])
                    try:
                        res[b] = (json.load(open(jf.name)), wall)
                    except (OSError, ValueError):
                        res[b] = None
            if res.get("c") and res.get("python"):
                d, w = res["c"]
                print(f"| {cfg} | {d['stats']['distinct_states']:,} | {d['verdict']} | {w:.2f} | {res['python'][1]:.2f} "
                      f"| {cold:.2f} | {warm:.2f} |")
            else:
                print(f"| {cfg} | - | refused at load | - | - | - | - |")
        shutil.rmtree(cold_cache, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(all_rows, f, indent=1)
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
