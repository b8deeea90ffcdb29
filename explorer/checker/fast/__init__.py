"""The compiled backend: the model's successor function and invariants translated to C, built at
run time with the system's C compiler, and a breadth-first search over packed states in C.

`explore(model, opts, backend, resume)` returns a FastExploration (an ExplorationBase) with the
same states in the same order as the reference backend, so counts, verdicts and traces are equal.
Whatever the translator does not support (and any disagreement found at run time) falls back to
the reference backend with a one-line notice on stderr saying why.

Backends: "c" (compiled; falls back when it cannot be used) and "auto" (the same; the default).
"""

from __future__ import annotations

import sys

from .. import bfs
from .build import BuildError, Unsupported, available
from .ckpt import LoadFailed
from .driver import Fallback, ReplayMismatch, run
from .store import FastExploration

BACKENDS = ("c", "auto")


def notice(reason):
    sys.stderr.write(f"mm-explorer: compiled backend not used ({reason}); running the reference backend\n")
    sys.stderr.flush()


def explore(model, opts, backend="c", resume=None):
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend '{backend}': choose python, c or auto")
    if opts.keep_graph:
        notice("the state graph is kept by the reference backend only")
        return bfs.explore(model, opts, resume)
    from . import build
    try:
        lib = build.load(model)
    except (Unsupported, BuildError) as e:
        notice(str(e))
        return bfs.explore(model, opts, resume)
    try:
        return run(lib, model, opts, resume)
    except (Fallback, LoadFailed) as e:
        notice(str(e))
        return bfs.explore(model, opts, resume)


__all__ = ["BACKENDS", "FastExploration", "Fallback", "ReplayMismatch", "available", "explore"]
