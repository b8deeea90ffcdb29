"""A conformance batch: every shipped config's traces on the kernel's label, plus random walks
of the model over random small worlds."""

from __future__ import annotations

import glob
import os
import random

from .. import api
from ..errors import SpecError
from .cases import WORLD_KEYS, from_trace, load_world, random_walk


def result_traces(data: dict):
    """(kind, trace) of every counterexample and witness in a result's data."""
    out = []
    if data.get("trace") and data.get("verdict") in ("violation", "reachable", "mixed", "unreachable"):
        out.append(("counterexample" if data["verdict"] == "violation" else "witness", data["trace"]))
    for v in data.get("violations") or []:
        out.append(("counterexample", v["trace"]))
    for r in data.get("reach") or []:
        if r.get("trace"):
            out.append(("witness", r["trace"]))
    seen, uniq = set(), []
    for kind, tr in out:
        key = tuple(s.get("label") for s in tr)
        if key not in seen and len(tr) > 1:
            seen.add(key)
            uniq.append((kind, tr))
    return uniq


def case_from_result(name, data, path, kind="trace", trace=None):
    world = {k: data["constants"][k] for k in WORLD_KEYS if k in data["constants"]}
    return from_trace(name, f"{os.path.basename(path)} {kind}", path, world, trace or data["trace"])


def config_cases(config_dir: str, label: str) -> list:
    cases = []
    for path in sorted(glob.glob(os.path.join(config_dir, "*.yaml"))):
        try:
            prob = api.load(path, overrides={"KERNEL": label})
        except SpecError:
            continue  # the question's world is refused on this kernel (an assumption fails)
        # the reference backend: no compiled library shared with other processes is loaded here
        data = api.check(prob, continue_all=True, backend="python").data
        for j, (kind, tr) in enumerate(result_traces(data)):
            base = os.path.splitext(os.path.basename(path))[0]
            cases.append(case_from_result(f"{base}.{kind}{j}", data, path, kind, tr))
    return cases


def random_world(rng: random.Random, label: str) -> dict:
    vmas = []
    for _ in range(rng.choice((1, 1, 2))):
        backing = rng.choice(("file", "file", "anon"))
        shared = backing == "file" and rng.random() < 0.5
        uffd = sorted(m for m in ("missing", "wp", "minor") if rng.random() < 0.35)
        vmas.append({"backing": backing, "shared": shared, "prot": rng.choice(("none", "read", "read-write")), "uffd": uffd})
    return {"KERNEL": label, "PAGES": rng.choice((1, 1, 2)),
            "FILE": {"kind": "shmem", "open": rng.choice(("read-write", "read-write", "read-only")),
                     "sealed": rng.random() < 0.15},
            "VMAS": vmas, "START": "any"}


def walk_cases(spec: str, label: str, n: int, seed: int, length=(3, 8)) -> list:
    """n random walks; a world the spec's assumptions refuse (an mmap or UFFDIO_REGISTER that
    fails) is drawn again."""
    rng = random.Random(seed)
    pool, tries = [], 0
    while len(pool) < max(2, min(n // 50, 48)) and tries < 1000:
        tries += 1
        world = random_world(rng, label)
        try:
            load_world(spec, dict(world, GUP_THREADS=0))
        except SpecError:
            continue
        pool.append(world)
    cases = []
    while len(cases) < n:
        case = random_walk(f"walk{seed}.{len(cases)}", spec, rng.choice(pool), rng, rng.randint(*length))
        if case.steps:
            cases.append(case)
    return cases
