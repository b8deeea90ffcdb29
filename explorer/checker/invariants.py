"""Invariants and premise probes on newly found states, shared by every backend so that they stop
at the same state by construction."""

from __future__ import annotations

from ..errors import EvalError


def invariant_checker(model, opts, ex, violated, inv_fns):
    """check_state(n, state): record the invariant violations of new state n in `ex.violations`;
    True when exploration must stop (the first violation, or with --continue once every
    invariant has failed)."""
    check_inv = opts.check_invariants and bool(inv_fns)
    first_violated = model.first_violated

    def check_state(n, state):
        try:
            return check(n, state)
        except EvalError as e:  # an invariant itself failed to evaluate: an error with its trace
            ex.error = (n, None, e)
            return True

    def check(n, state):
        if not check_inv:
            return False
        if not opts.continue_all:
            v = first_violated(state)
            if v >= 0:
                ex.violations.append((v, n))
                return True
            return False
        for i, fn in enumerate(inv_fns):
            if i not in violated and not fn(state):
                violated.add(i)
                ex.violations.append((i, n))
        return len(violated) == len(inv_fns) and model.worlds is None  # open worlds: every world to the end
    return check_state


def probe_functions(model, opts):
    """The premise probes of the model's implications (coverage), or none when switched off."""
    if not getattr(opts, "probes", True):
        return []
    return model.probe_fns()


def prober(probe_fns, seen):
    """probe(state): mark in `seen` the premises that hold in `state`. A premise that cannot be
    evaluated did not hold; the invariant check reports the error if the invariant hits it."""
    def probe(state):
        for i, fn in enumerate(probe_fns):
            if not seen[i]:
                try:
                    seen[i] = bool(fn(state))
                except EvalError:
                    pass
    return probe


def locate(model, state):
    """Which action instance raises on `state` (the combined successor function does not say)."""
    for i in range(len(model.instances)):
        try:
            model.instance_successors(i, state)
        except Exception:
            return i
    return None
