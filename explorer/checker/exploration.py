"""The outcome of a search, the base every backend's exploration subclasses.

A backend fills in the fields below and provides `states`, `parent`, `via` and `depth_of` as
sequences indexed by state number (BFS discovery order). `path()` and everything built on an
exploration (results, traces, graphs) only use those.
"""

from __future__ import annotations

from ..machine import rss_mib  # noqa: F401  (the backends read it from here)



class Stop(Exception):
    """Raised inside exploration by a limit or a signal."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason



class ExplorationBase:
    """What a search found and where it stopped. Subclasses set states/parent/via/depth_of."""

    backend = "python"

    def __init__(self, model):
        self.model = model
        self.index = None        # state -> number, where the backend keeps one (Python only)
        self.transitions = 0
        self.depth = 0
        self.enabled = [0] * len(model.instances)  # per instance: states where it was enabled
        self.fired = [0] * len(model.instances)    # per instance: transitions it made
        self.violations = []     # (invariant index, state index), in the order found
        self.violated_set = set()
        self.deadlock = None     # state index
        self.error = None        # (state index, instance index or None, EvalError)
        self.stopped = None      # reason string when a limit or signal stopped the run
        self.complete = False
        self.seconds = 0.0
        self.edges = None        # [(from, to, instance)] when the graph was kept
        self.initial_count = 0
        self.cursor = 0          # the next state to expand: the whole search position
        self.cut = False         # a state at max_depth had a successor not yet seen
        self.queue_left = 0
        self.peak_mib = 0.0
        self.premise_seen = []
        self.resumed_from = None  # the checkpoint this run continued, if any

    def path(self, idx):
        """State indices from an initial state to `idx`."""
        out = []
        while idx >= 0:
            out.append(idx)
            idx = self.parent[idx]
        return out[::-1]
