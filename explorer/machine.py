"""What this machine lets a run use: resident memory now, memory still available, the default limit.

Loading (explorer.lang.budget) and exploring (explorer.checker) stop at the same default memory
limit when none is given: DEFAULT_MEMORY_FRACTION of the memory available when the run starts
(MemAvailable, or the cgroup's room if smaller), plus what the process already holds.
"""

from __future__ import annotations

import os

DEFAULT_MEMORY_FRACTION = 0.75  # of the memory available when the run starts (docs/results.md)


def rss_mib() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _meminfo_available():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        return None


def _cgroup_room():
    """MiB this process's cgroup (v2) may still use, or None when it sets no limit."""
    try:
        with open("/proc/self/cgroup") as f:
            rel = next((ln.split(":", 2)[2].strip() for ln in f if ln.startswith("0::")), None)
        if rel is None:
            return None
        d = os.path.join("/sys/fs/cgroup", rel.lstrip("/"))
        with open(os.path.join(d, "memory.max")) as f:
            lim = f.read().strip()
        if lim == "max":
            return None
        with open(os.path.join(d, "memory.current")) as f:
            cur = int(f.read().strip())
        return max(int(lim) - cur, 0) / 2**20
    except (OSError, ValueError, StopIteration):
        return None


def default_memory_mib() -> int:
    """A fraction of what this process can still get, plus what it already holds."""
    room = [r for r in (_meminfo_available(), _cgroup_room()) if r is not None]
    if not room:
        return 4096
    return max(64, int(min(room) * DEFAULT_MEMORY_FRACTION + rss_mib()))
