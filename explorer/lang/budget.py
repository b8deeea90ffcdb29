"""Loading and compiling run under the same time and memory limits as exploring.

A spec can ask for millions of action instances; the loader calls `Budget.charge()` for each
piece of work and stops with a LimitError (exit code 3) once the deadline has passed or the
process's peak resident memory exceeds the limit (the machine's default when none is given) (looked at every 65,536 pieces of work, so a
small model is never stopped while loading: it is stopped, with a partial result, while exploring).
"""

from __future__ import annotations

import math
import time

from .. import machine
from ..errors import LimitError


def _peak_mib() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Budget:
    """A deadline (seconds from now) and a memory limit (MiB); None: no limit."""

    EVERY = 64  # pieces of work between two looks at the clock
    EVERY_MEMORY = 65536  # and at the memory: a load smaller than this cannot use much of it

    def __init__(self, timeout=None, max_memory=None):
        ok = isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and math.isfinite(timeout) and timeout > 0
        self.timeout = timeout if ok else None
        self.deadline = time.monotonic() + timeout if ok else None
        given = isinstance(max_memory, (int, float)) and not isinstance(max_memory, bool) and max_memory > 0
        # no limit given: the machine's default, the same one exploring stops at (explorer.machine)
        self.max_memory = max_memory if given else machine.default_memory_mib()
        self.memory_default = not given
        self.count = 0

    def charge(self, what: str):
        self.count += 1
        if self.count % self.EVERY:
            return
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise LimitError(f"timeout of {self.timeout:g} s reached while {what}")
        if self.max_memory is not None and self.count % self.EVERY_MEMORY == 0 and _peak_mib() >= self.max_memory:
            which = "the default memory limit" if self.memory_default else "memory limit"
            raise LimitError(f"{which} of {self.max_memory} MiB reached while {what}")
