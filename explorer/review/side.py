"""One side of a diff: its settings, its exploration, and its invariant verdicts."""

from __future__ import annotations

from ..errors import EvalError, Pos, SpecError
from ..result import trace_to

SIDES = ("before", "after")


def plain_settings(d):
    return {k: (v if isinstance(v, tuple) else (v, Pos("<diff>", 1, 1))) for k, v in (d or {}).items()}


# --- one side ----------------------------------------------------------------------------------------
class Side:
    def __init__(self, name, problem, own_settings):
        self.name = name
        self.problem = problem
        self.model = problem.model
        self.own = own_settings  # names set for this side only
        self.label = ""
        self.ex = None
        self.keys = None  # projected key per state index (in the common slot-name order)
        self.keyfn = None  # state tuple -> projected key
        self.label_index = None  # instance label (with its world's, for an open config) -> instance index
        self.first = None  # key -> first state index with that projection (BFS: shortest)
        self.edges = None  # (action name, src key, dst key) -> (i, j, k), first (shortest) occurrence
        self.verdicts = None  # invariant name -> dict
        self.fullfn = None  # state tuple -> all slots decoded (comparable across sides when `comparable`)
        self.comparable = False
        self.nested = None  # projected key -> nested data
        self.full_first = None  # full key -> first state index, built when first needed

    def state_like(self, other_side, state, key):
        """Index of a state of this side equal to `state` of the other side, else the first one with
        projection `key`."""
        if self.comparable:
            if self.full_first is None:
                self.full_first = {}
                for i, st in enumerate(self.ex.states):
                    self.full_first.setdefault(self.fullfn(st), i)
            i = self.full_first.get(other_side.fullfn(state))
            if i is not None:
                return i
        return self.first[key]

    @property
    def complete(self):
        return self.ex.complete


def explore(problem, limits, progress=None):
    from ..checker.engine import Interrupts, explore, options_for
    opts = options_for(problem, **(limits or {}), deadlock=False, continue_all=False, keep_graph=True,
                       check_invariants=False, progress=progress)
    with Interrupts():
        return explore(problem.model, opts)


def verdicts(side) -> dict:
    """Per invariant: the first violating state in BFS order (a shortest counterexample), or none."""
    m, ex = side.model, side.ex
    fns = [m.invariant_fn(i) for i in range(len(m.invariant_list))]
    first = {}
    try:
        for n, st in enumerate(ex.states):
            if m.first_violated(st) >= 0:
                for i, fn in enumerate(fns):
                    if i not in first and not fn(st):
                        first[i] = n
                if len(first) == len(fns):
                    break
    except EvalError as e:
        pos = m.positions[e.pos_index] if 0 <= e.pos_index < len(m.positions) else None
        raise SpecError(pos, f"the {side.name} side ({side.label}): runtime error in an invariant: {e.message}") from None
    out = {}
    for i, inv in enumerate(m.invariant_list):
        target = inv.reach  # a witness query: `not target` fails = reached
        if i in first:
            tr = trace_to(m, ex, first[i])
            out[inv.name] = {"verdict": "reachable" if target else "violated", "steps": len(tr) - 1, "trace": tr}
        elif ex.complete:
            out[inv.name] = {"verdict": "unreachable" if target else "holds"}
        else:
            out[inv.name] = {"verdict": "unknown"}
        out[inv.name]["kind"] = "target" if target else "invariant"
    return out
