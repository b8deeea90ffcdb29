"""Which values of the violating state make the invariant false, found by re-evaluating it.

A slot is a culprit when giving it another value of its domain makes the invariant hold, either
alone or together with one other slot that cannot repair it alone (so `not present implies not
write and not dirty` with write and dirty both set marks write and dirty, and `present` too
since setting it alone repairs the invariant). Pairs are tried only within a small budget;
the result records whether that search was complete.
"""

from __future__ import annotations

import time

PAIR_BUDGET = 200_000  # invariant evaluations spent on pairs at most
TIME_BUDGET = 1.0  # seconds


def compute(model, ex) -> dict | None:
    """{'invariant', 'slots', 'complete'} for the first violation of an exploration, or None."""
    violations = getattr(ex, "violations", None)
    states = getattr(ex, "states", None)
    if not violations or states is None:
        return None
    inv_i, idx = violations[0]
    try:
        state = tuple(states[idx])
        fn = model.invariant_fn(inv_i)
        names = model.slot_names()
        types = model.slot_types()
        domains = [model.domain_values(t) for t in types]
    except Exception:  # another backend, or a model without these helpers: draw without culprits
        return None
    inv = model.invariant_list[inv_i].name

    def holds(s):
        try:
            return bool(fn(s))
        except Exception:  # an out-of-range index built from a changed value: not a repair
            return False

    if holds(state):
        return None
    alts = []  # per slot: the states with that slot changed
    single = set()
    for i, cur in enumerate(state):
        changed = []
        for v in domains[i]:
            if v == cur:
                continue
            s = state[:i] + (v,) + state[i + 1:]
            if holds(s):
                single.add(i)
                break
            changed.append(v)
        alts.append(changed)
    culprits = set(single)
    rest = [i for i in range(len(state)) if i not in single and alts[i]]
    budget = PAIR_BUDGET
    deadline = time.perf_counter() + TIME_BUDGET
    complete = True
    for a_pos, i in enumerate(rest):
        if budget <= 0 or time.perf_counter() > deadline:
            complete = False
            break
        for j in rest[a_pos + 1:]:
            if i in culprits and j in culprits:
                continue
            hit = False
            for vi in alts[i]:
                base = state[:i] + (vi,) + state[i + 1:]
                for vj in alts[j]:
                    budget -= 1
                    if holds(base[:j] + (vj,) + base[j + 1:]):
                        hit = True
                        break
                if hit:
                    break
            if hit:
                culprits.add(i)
                culprits.add(j)
    return {"invariant": inv, "slots": [names[i] for i in sorted(culprits)], "complete": complete}
