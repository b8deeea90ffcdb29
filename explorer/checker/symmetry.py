"""Symmetry reduction: states that differ only by a renaming of an interchangeable set are one.

A spec declares `symmetric: [PAGE, THREAD]` (Murphi's scalarset, TLC's SYMMETRY): its author
asserts that the actions, invariants and initial states treat the elements of those sets alike.
A permutation of such a set moves the slots indexed by it (`pte[v][p]` to `pte[v][pi(p)]`) and
renames the values of that set's type (`gup[t].page`). Every state is replaced by its canonical
form, the smallest tuple over all permutations (exact: two states get the same form exactly when
a permutation maps one to the other), so the search visits one state per orbit.

A trace of canonical states need not be a run (the action that reached a canonical state may have
reached another member of its orbit); `concrete_path` replays it without symmetry from the
initial state, following at each step a successor in the next state's orbit, so the trace shown
is a valid run of the unreduced model.
"""

from __future__ import annotations

import itertools

from ..types import TInt, TRec


class Symmetry:
    """The permutations of the declared sets as slot moves and value renamings."""

    def __init__(self, model, names):
        self.names = list(names)
        sets = [model.sets[n] for n in self.names]
        perms_per = [list(itertools.permutations(range(len(st.values)))) for st in sets]
        width = len(model.slot_types())
        self.perms = []  # per permutation: (source slot of each target slot, value map of each target slot or None)
        self.maps = []  # per permutation: {set name: [image of value 0, of value 1, ...]}
        self.slot_set = self._value_sets(model, width)  # per slot: the set its values belong to, or None
        for combo in itertools.product(*perms_per):
            if all(p == tuple(range(len(p))) for p in combo):
                continue  # the identity
            pi = {n: list(p) for n, p in zip(self.names, combo)}
            src = [0] * width
            for var in model.variables.values():
                for idx in itertools.product(*[s.values for s in var.sets]):
                    new = tuple(pi[s.name][x] if s.name in pi else x for s, x in zip(var.sets, idx))
                    a = var.base + _offset(var, idx)
                    b = var.base + _offset(var, new)
                    for f in range(var.width):
                        src[b + f] = a + f
            # target slot b takes source slot src[b]'s value, renamed by the source slot's set
            self.perms.append((src, [pi.get(self.slot_set[src[b]]) for b in range(width)]))
            self.maps.append(pi)

    @staticmethod
    def _value_sets(model, width):
        """Per slot the name of the set its values belong to (a field or variable typed by a set)."""
        out = [None] * width
        for var in model.variables.values():
            leaves = list(var.elem.fields.values()) if isinstance(var.elem, TRec) else [var.elem]
            for i in range(var.count):
                for f, t in enumerate(leaves):
                    if isinstance(t, TInt) and getattr(t, "of_set", None):
                        out[var.base + i * var.width + f] = t.of_set
        return out

    def canon(self, state):
        best = state
        for src, vmap in self.perms:
            cand = tuple(state[s] if m is None else m[state[s]] for s, m in zip(src, vmap))
            if cand < best:
                best = cand
        return best


def _offset(var, idx):
    off = 0
    for s, x, stride in zip(var.sets, idx, var.strides()):
        off += s.position[x] * stride
    return off


def reduced(model):
    """The model with every state replaced by its canonical form (the same model when the spec
    declares no symmetry or it is already reduced)."""
    names = getattr(model, "symmetric", None)
    if not names or getattr(model, "symmetry", None) is not None:
        return model
    sym = Symmetry(model, names)
    model.symmetry = sym
    plain_succ, plain_init = model.successors, model.initial_states
    canon = sym.canon
    model.plain_successors = plain_succ
    model.successors = lambda state: [(k, canon(t)) for k, t in plain_succ(state)]
    model.initial_states = lambda: [canon(s) for s in plain_init()]
    model.source_code += f"# symmetric: {', '.join(names)}\n"  # a reduced model builds its own library
    return model


def concrete_path(model, ex, path):
    """(state, instance) pairs of a run of the unreduced model through the orbits of `path`."""
    sym = model.symmetry
    first = ex.states[path[0]]
    inits = [s for s in _plain_inits(model) if sym.canon(s) == first]
    cur = inits[0] if inits else first
    out = [(cur, -1)]
    for idx in path[1:]:
        target = ex.states[idx]
        for k, t in model.plain_successors(cur):
            if sym.canon(t) == target:
                cur = t
                out.append((t, k))
                break
        else:  # pragma: no cover - the reduced search found this step, so some successor matches
            raise RuntimeError("symmetry: no successor in the orbit of the next state")
    return out


def _plain_inits(model):
    return [s for _, s in model.ns["_init"]()]
