"""Conformance cases: a world, a sequence of model steps, and after each step the values of
every observation the model predicts.

A case comes from a trace (a counterexample or witness in a result JSON, replayed on the model
so the predictions are the model's own) or from a random walk of the model over a small random
world. The model decides every prediction; nothing here computes one.
"""

from __future__ import annotations

import json
import os
import random

from .. import api
from ..errors import Pos, SpecError
from ..lang import yamlsrc

# steps a program performs deterministically; GUP steps become a bounded race
DETERMINISTIC = ("user_read", "user_write", "madvise_dontneed", "mprotect", "clear_refs_soft_dirty",
                 "file_write", "uffdio_writeprotect", "uffdio_continue", "uffdio_copy", "uffdio_zeropage")
RACE = ("gup_start", "gup_follow", "gup_fault", "gup_abandon")
WORLD_KEYS = ("KERNEL", "PAGES", "FILE", "VMAS", "START", "GUP_THREADS", "FORK", "UFFD_FEATURES")
UFFD_FEATURES_SET_UP = ("wp_unpopulated",)  # UFFDIO_API features a program asks for


class Case:
    """world: constants; steps: [(action, params, label)]; predictions: per state (the initial one
    first) a list of (observation label, name, args, value)."""

    def __init__(self, name, origin, world, initial, steps, predictions):
        self.name, self.origin, self.world = name, origin, world
        self.initial, self.steps, self.predictions = initial, steps, predictions

    @property
    def is_race(self):
        return any(a in RACE for a, _, _ in self.steps)

    def unsupported(self):
        """Why a program cannot perform this case on a kernel here, or None."""
        if self.world["FILE"]["kind"] != "shmem":
            return "needs a disk filesystem with page_mkwrite (FILE.kind fs)"
        if self.world.get("FORK"):
            return "needs a forked child process (FORK)"
        extra = [f for f in self.world.get("UFFD_FEATURES") or [] if f not in UFFD_FEATURES_SET_UP]
        if extra:
            return "needs UFFDIO_API features " + ", ".join(extra)
        for a, _, _ in self.steps:
            if a not in DETERMINISTIC + RACE:
                return f"step {a} has no deterministic user-space trigger here"
        return None

    def to_json(self):
        return {"name": self.name, "origin": self.origin, "world": self.world, "initial": self.initial,
                "steps": [{"action": a, "params": p, "label": lb} for a, p, lb in self.steps],
                "predictions": [[{"observation": lb, "value": v} for lb, _, _, v in ps] for ps in self.predictions]}


def _const(value, what):
    # JSON is YAML: the value goes through the same reader (and checks) as a config's
    return (yamlsrc.load_text(json.dumps(value), f"<{what}>"), Pos(f"<{what}>", 1, 1))


_MODELS = {}


def load_world(spec, world):
    """The model of `spec` for the world constants (a dict of plain values), loaded once."""
    key = (os.path.abspath(spec), json.dumps(world, sort_keys=True))
    if key not in _MODELS:
        over = {k: _const(v, f"world {k}") for k, v in world.items()}
        _MODELS[key] = api.load(spec, overrides=over).model
    return _MODELS[key]


def observe(model, state):
    out = []
    for o in model.observations:
        v = o.fn(state)
        out.append((o.label(), o.name, {n: val for n, val, _ in o.args}, model.show(v, o.type) if not isinstance(v, bool) else v))
    return out


def initial_facts(model, state):
    """What the program must set up before the first step: which pages are in the page cache."""
    d = model.decode(state)
    return {"cached": [bool(d["cached"][str(p)]) for p in range(len(d["cached"]))]}


def from_trace(name, origin, spec, world, trace):
    """Replay a result's trace on the model: each step's successor must equal the trace's state."""
    model = load_world(spec, world)
    want0 = trace[0]["state"]
    states = [s for s in model.initial_states() if model.decode(s) == want0]
    if not states:
        raise SpecError(None, f"{origin}: the trace's initial state is not an initial state of the model")
    state = states[0]
    by_label = {inst.label(): inst for inst in model.instances}
    steps, preds = [], [observe(model, state)]
    for k, st in enumerate(trace[1:], 1):
        inst = by_label.get(st.get("label") or "")
        if inst is None:
            raise SpecError(None, f"{origin}: step {k} {st.get('label')!r} is not an action instance of the model")
        nxt = [s for i, s in model.successors(state) if i == inst.index and model.decode(s) == st["state"]]
        if not nxt:
            raise SpecError(None, f"{origin}: step {k} {inst.label()} does not lead to the trace's state in the model")
        state = nxt[0]
        steps.append((inst.name, inst.params_display(), inst.label()))
        preds.append(observe(model, state))
    return Case(name, origin, world, initial_facts(model, states[0]), steps, preds)


def random_walk(name, spec, world, rng: random.Random, length):
    """A walk of `length` deterministic steps from a random initial state of the world."""
    model = load_world(spec, dict(world, GUP_THREADS=0))
    inits = model.initial_states()
    state = inits[rng.randrange(len(inits))]
    first = state
    steps, preds = [], [observe(model, state)]
    for _ in range(length):
        by_inst = {}
        for i, s in model.successors(state):
            if s not in by_inst.setdefault(i, []):  # two branches may reach the same state
                by_inst[i].append(s)
        # an instance with several successors is a choice the kernel makes, not the program
        succ = [(i, ss[0]) for i, ss in by_inst.items()
                if len(ss) == 1 and model.instances[i].name in DETERMINISTIC]
        if not succ:
            break
        i, state = succ[rng.randrange(len(succ))]
        inst = model.instances[i]
        steps.append((inst.name, inst.params_display(), inst.label()))
        preds.append(observe(model, state))
    return Case(name, f"random walk (seed {name})", dict(world, GUP_THREADS=0), initial_facts(model, first), steps, preds)
