"""Ctrl-C and SIGTERM during a search: a request to stop, honoured between two states.

While `Interrupts` is active (it nests, and does nothing outside the main thread), SIGINT and
SIGTERM only set a flag. The searches poll it once per expanded state (per slice in C), so a stop
never lands in the middle of expanding a state, and a second Ctrl-C while the partial result or
a checkpoint is being written cannot lose either.
"""

from __future__ import annotations

import signal
import threading

_requested = [False]
_depth = [0]


def requested() -> bool:
    """True once a stop was asked for inside the active block."""
    return _requested[0]


def request():
    """Ask the running search to stop (what the signal handler does)."""
    _requested[0] = True


def _handler(signum, frame):
    _requested[0] = True


class Interrupts:
    """Within the block, SIGINT and SIGTERM ask the search to stop instead of raising."""

    def __enter__(self):
        self.old = None
        if threading.current_thread() is not threading.main_thread():
            return self
        if _depth[0] == 0:
            _requested[0] = False
            self.old = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
        _depth[0] += 1
        return self

    def __exit__(self, *exc):
        if threading.current_thread() is not threading.main_thread():
            return False
        _depth[0] -= 1
        if self.old is not None:
            for s, h in self.old.items():
                signal.signal(s, h)
            _requested[0] = False
        return False


SignalsAsInterrupt = Interrupts  # the older name
