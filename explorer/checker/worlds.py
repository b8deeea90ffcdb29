"""Violations per world of an open config, read off a finished exploration.

States are numbered in breadth-first order, so the first state of world w that breaks invariant i
ends a shortest trace to a violation of i within w. One pass over the states in index order finds
that state for every (invariant, world) pair; a world stops being checked for an invariant once
it broke it, and the pass ends when every pair is found.
"""

from __future__ import annotations

from ..errors import EvalError


def first_per_world(model, ex):
    """{invariant index: {world index: state index}} over every explored state."""
    N = model.world_slot
    n_inv = len(model.invariant_list)
    fns = [model.invariant_fn(i) for i in range(n_inv)]
    pending = {}  # world -> invariants not yet broken there
    found = {i: {} for i in range(n_inv)}
    left = n_inv * len(model.worlds)
    for idx in range(len(ex.states)):
        st = ex.states[idx]
        w = st[N]
        todo = pending.get(w)
        if todo is None:
            todo = pending[w] = list(range(n_inv))
        if not todo:
            continue
        for i in list(todo):
            try:
                ok = fns[i](st)
            except EvalError:  # the exploration reported it; it does not break the invariant here
                continue
            if not ok:
                found[i][w] = idx
                todo.remove(i)
                left -= 1
        if left == 0:
            break
    return found


def ranked(model, ex, per_world):
    """The (world index, state index) pairs of one invariant, minimal world first: fewest of what
    the open constants count (list lengths, integers, in the spec's choices order), then steps."""
    return sorted(per_world.items(), key=lambda wi: (model.worlds[wi[0]].size, ex.depth_of[wi[1]], wi[0]))
