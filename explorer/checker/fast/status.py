"""What the C search and Python say to each other, defined once here: the status codes and the
layout of the info record. The C text (`c_header()`) is generated from these tables and put in
front of bfs.c, so the two sides cannot disagree."""

from __future__ import annotations

import ctypes

# name, meaning; the code is the position
STATUSES = (
    ("RUNNING", "the budget of this slice ran out; call mx_run again"),
    ("COMPLETE", "every reachable state was expanded (or cut at max depth)"),
    ("VIOLATION", "an invariant failed (with --continue: every invariant has)"),
    ("DEADLOCK", "a state without successors, with deadlock checking on"),
    ("ERROR", "the successor function failed on stop_state"),
    ("MAXSTATES", "max states reached"),
    ("MAXDEPTH", "unused: a cut at max depth ends as COMPLETE with cut set"),
    ("INVERR", "an invariant failed to evaluate on stop_state"),
    ("OOM", "memory could not be had (or the memory budget was reached: see budget_hit)"),
    ("PROBEERR", "a premise probe failed to evaluate on stop_state"),
)
CODE = {name: i for i, (name, _) in enumerate(STATUSES)}
globals().update({f"ST_{name}": i for name, i in CODE.items()})


class Info(ctypes.Structure):
    """mx_info's record: counters of the search and where it stands."""

    _fields_ = [
        ("n", ctypes.c_int64),            # states stored
        ("transitions", ctypes.c_int64),
        ("status", ctypes.c_int64),
        ("stop_state", ctypes.c_int64),
        ("cursor", ctypes.c_int64),       # the next state to expand
        ("nviol", ctypes.c_int64),
        ("nlvl", ctypes.c_int64),         # entries of the level-start table
        ("depth", ctypes.c_int64),        # the level being expanded
        ("table_bytes", ctypes.c_int64),
        ("store_bytes", ctypes.c_int64),
        ("cut", ctypes.c_int64),          # a state at max depth had a new successor
        ("budget_hit", ctypes.c_int64),   # OOM came from the memory budget, not from malloc
    ]


def c_header() -> str:
    """The C side of this module: the status enum and the info struct."""
    lines = ["/* generated from explorer/checker/fast/status.py: do not edit by hand */", "enum {"]
    lines += [f"    ST_{name} = {i},  /* {why} */" for i, (name, why) in enumerate(STATUSES)]
    lines += ["};", "typedef struct {"]
    lines += [f"    int64_t {name};" for name, _ in Info._fields_]
    lines += ["} mx_info_t;"]
    return "\n".join(lines)
