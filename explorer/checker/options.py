"""What a search explores and when it stops, and the limits that protect the machine by default."""

from __future__ import annotations

import math

from ..errors import SpecError
from .. import machine
from ..machine import DEFAULT_MEMORY_FRACTION, rss_mib



class Options:
    """What a check explores and when it stops.

    max_memory is in MiB of resident memory; None means the default, a fraction of the memory
    available to this process when the run starts (`default_memory_mib`)."""

    def __init__(self, max_states=None, max_depth=None, deadlock=False, continue_all=False, timeout=None,
                 max_memory=None, progress=None, keep_graph=False, check_invariants=True,
                 checkpoint=None, checkpoint_every=60.0, probes=True):
        self.max_states = max_states
        self.max_depth = max_depth
        self.deadlock = deadlock
        self.continue_all = continue_all
        self.timeout = check_timeout(timeout)
        self.memory_default = max_memory is None
        self.max_memory = default_memory_mib() if max_memory is None else check_memory(max_memory)
        self.progress = progress  # callable(stats dict) or None
        self.keep_graph = keep_graph
        self.check_invariants = check_invariants
        self.checkpoint = checkpoint  # file written every `checkpoint_every` seconds and at a stop
        self.checkpoint_every = checkpoint_every
        self.probes = probes  # evaluate invariant premise probes (coverage of implications)

    @classmethod
    def from_problem(cls, problem, **overrides):
        """The options a Problem's `check:` settings ask for, with `overrides` (None = keep) on top.
        The merged settings are stored back in `problem.check`, where the report reads them."""
        c = dict(problem.check)
        for key, value in overrides.items():
            if key == "continue_all":
                key = "continue"
            if key in c and value is not None:
                c[key] = value
        if problem.model.is_query():
            c["continue"] = True  # a witness query looks for the first state of every target
        problem.check = c
        extra = {k: v for k, v in overrides.items()
                 if k in ("progress", "keep_graph", "check_invariants", "checkpoint", "probes") and v is not None}
        if overrides.get("checkpoint_every"):
            extra["checkpoint_every"] = overrides["checkpoint_every"]
        return cls(max_states=c.get("max_states"), max_depth=c.get("max_depth"), deadlock=bool(c.get("deadlock")),
                   continue_all=bool(c.get("continue")), timeout=c.get("timeout"), max_memory=c.get("max_memory"),
                   **extra)

    def describe_limits(self) -> str:
        """One line for the report header: the limits in force and where the memory one comes from."""
        parts = [f"memory {self.max_memory:,} MiB" + (f" ({DEFAULT_MEMORY_FRACTION:.0%} of available, the default)"
                                                    if self.memory_default else "")]
        if self.timeout is not None:
            parts.append(f"timeout {self.timeout:g} s")
        if self.max_states is not None:
            parts.append(f"max states {self.max_states:,}")
        if self.max_depth is not None:
            parts.append(f"max depth {self.max_depth}")
        return "limits: " + ", ".join(parts)


def options_for(problem, **overrides) -> Options:
    return Options.from_problem(problem, **overrides)


def check_timeout(value):
    """None (no limit) or a positive finite number of seconds; anything else is refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise SpecError(None, f"timeout must be a positive number of seconds, not {value!r}"
                        " (leave it out for no time limit)")
    return value


def check_memory(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise SpecError(None, f"max_memory must be a positive number of MiB, not {value!r}")
    return value


def default_memory_mib() -> int:
    """The default memory limit (explorer.machine): a fraction of what this process can still get."""
    return machine.default_memory_mib()
