"""Witnesses replayed on the other side of a diff, and the one-sided states and transitions
grouped by what the other side does differently."""

from __future__ import annotations

from ..result import step, trace_to
from .worlds import instance_of, world_of_key


def changes(names, a, b):
    """(slot, a value, b value) for every slot where the two projected keys differ."""
    return [(n, x, y) for n, x, y in zip(names, a, b) if x != y]


class Step:
    """Where the other side is after taking the same steps as this side's path to one state."""

    __slots__ = ("state", "key", "n", "diverges", "div_changes", "stop")

    def __init__(self, state, key, n, diverges=None, div_changes=(), stop=None):
        self.state = state  # the other side's state (None once it could not follow)
        self.key = key  # its projection
        self.n = n  # steps the other side has taken
        self.diverges = diverges  # first step whose projected outcome differs or cannot be taken
        self.div_changes = div_changes  # (slot, other, this) after that step
        self.stop = stop  # None, or why step n + 1 cannot be taken: initial, absent, disabled


class Replayer:
    """This side's witnesses replayed on the other side: the same action instances (by label), from
    the same initial state; at each step the other side's successor equal to this side's state
    when there is one, else one with the same projection, else the closest (fewest differing
    slots). Memoized along the BFS parent pointers, so each state is replayed once."""

    def __init__(self, this, other, names):
        self.this, self.other, self.names = this, other, names
        self.memo = {}

    def at(self, idx) -> Step:
        ex = self.this.ex
        chain = []
        i = idx
        while i >= 0 and i not in self.memo:
            chain.append(i)
            i = ex.parent[i]
        for i in reversed(chain):
            par = ex.parent[i]
            self.memo[i] = self._initial(i) if par < 0 else self._step(self.memo[par], i)
        return self.memo[idx]

    def _full(self, i):
        return self.this.fullfn(self.this.ex.states[i]) if self.other.comparable else None

    def _initial(self, i):
        other, want = self.other, self.this.keys[i]
        same = [st for st in other.ex.states[:other.ex.initial_count] if other.keyfn(st) == want]
        if not same:
            return Step(None, None, 0, diverges=0, stop="initial")
        full = self._full(i)
        exact = [st for st in same if other.comparable and other.fullfn(st) == full]
        return Step((exact or same)[0], want, 0)

    def _step(self, prev, i):
        this, other = self.this, self.other
        n = prev.n + 1
        if prev.stop is not None:
            return prev
        label = this.model.instances[this.ex.via[i]].label()
        k2 = instance_of(other, label, this.keys[i])
        succ = []
        if k2 is not None:
            try:
                succ = [t for _, t in other.model.instance_successors(k2, prev.state)]
            except Exception:  # a runtime error the other side's exploration did not reach
                succ = []
        if not succ:
            stop = "absent" if k2 is None else "disabled"
            return Step(None, None, prev.n, prev.diverges if prev.diverges is not None else n, prev.div_changes, stop)
        want = this.keys[i]
        keys = [other.keyfn(t) for t in succ]
        full = self._full(i)
        exact = [j for j, t in enumerate(succ) if other.comparable and other.fullfn(t) == full]
        if exact:
            pick = exact[0]
        elif want in keys:
            pick = keys.index(want)
        else:
            dist = [sum(x != y for x, y in zip(want, k)) for k in keys]
            pick = dist.index(min(dist))
        key = keys[pick]
        diverges, div_changes = prev.diverges, prev.div_changes
        if diverges is None and key != want:
            diverges, div_changes = n, tuple(changes(self.names, key, want))
        return Step(succ[pick], key, n, diverges, div_changes)


def state_groups(this, other, names, prefix, limit=None):
    """Projected states `this` side reaches and `other` does not, grouped by the first step of their
    shortest witness that the other side, taking the same steps, does differently (or cannot take)."""
    ex, model = this.ex, this.model
    only = [k for k in this.first if k not in other.first]  # in discovery order
    if not only:
        return []
    replay = Replayer(this, other, names)
    labels = [inst.label() for inst in model.instances]
    groups = {}
    for key in only:
        idx = this.first[key]
        path = ex.path(idx)
        r = replay.at(idx)
        d = r.diverges
        if d is None:
            # the same steps reach the same projected state on the other side, which had not
            # explored it when a limit stopped it
            action, label, kind, ch = None, None, "unexplored", ()
        elif r.stop == "initial":
            action, label, kind = None, None, "initial"
            ch = tuple(changes(names, _closest(other, key), this.keys[path[0]]))
        else:
            inst = model.instances[ex.via[path[d]]]
            action, label = inst.name, inst.label()
            if r.stop is not None and d == r.n + 1:
                kind, ch = r.stop, ()
            else:
                kind, ch = "differs", r.div_changes
        world = world_of_key(this, key)  # an open config: groups are per world
        gk = (kind, action, ch, world)
        g = groups.get(gk)
        if g is None:
            g = groups[gk] = {"kind_of_step": kind, "action": action, "changes": ch, "members": [], "_first": idx,
                              "world": world}
        g["count"] = g.get("count", 0) + 1
        if limit is not None and len(g["members"]) >= limit:
            continue
        final = None
        if r.stop is None:
            final = [{"slot": n, "other": x, "this": y} for n, x, y in changes(names, r.key, key)]
        g["members"].append({"state": this.nested(key),
                             "depth": len(path) - 1,
                             "witness": [labels[ex.via[i]] for i in path[1:]],
                             "first_different_step": d, "first_different_label": label,
                             "same_steps_other": {"steps_taken": r.n, "stopped": r.stop,
                                                  "final_changes": final}})
    out = []
    for n, g in enumerate(sorted(groups.values(), key=lambda g: g["_first"]), 1):
        idx = g.pop("_first")
        m0 = g["members"][0]
        out.append({"id": f"{prefix}{n}", "kind": "states", "side": this.name, "other": other.name,
                    "action": g["action"], "step": g["kind_of_step"],
                    "changes": [{"slot": s, "other": x, "this": y} for s, x, y in g["changes"]],
                    "count": g["count"], "members": g["members"], **({"world": g["world"]} if g["world"] else {}),
                    "witness": trace_to(model, ex, idx),
                    "witness_first_different_step": m0["first_different_step"],
                    "witness_same_steps_other": m0["same_steps_other"]})
    return out


def _closest(other, key):
    """The other side's initial projected state with the fewest slots differing from `key`."""
    inits = [other.keys[i] for i in range(other.ex.initial_count)]
    return min(inits, key=lambda k: sum(x != y for x, y in zip(key, k)))


def transition_groups(this, other, names, prefix, limit=None):
    """Projected transitions on `this` side only whose source and target `other` also reaches,
    grouped by action, by what the step changes, and by what the same step does on the other side
    from a state with the same projection."""
    ex, model = this.ex, this.model
    only = [t for t in this.edges if t not in other.edges]
    counts = {"transitions": len(only), "transitions_between_common": 0, "transitions_into_one_sided": 0,
              "transitions_from_one_sided": 0}
    groups = {}
    for t in only:
        act, src, dst = t
        if src not in other.first:
            counts["transitions_from_one_sided"] += 1
            continue
        if dst not in other.first:
            counts["transitions_into_one_sided"] += 1
            continue
        counts["transitions_between_common"] += 1
        i, j, k = this.edges[t]
        label = model.instances[k].label()
        # the same step on the other side, from its first state with this projection
        k2 = instance_of(other, label, src)
        if k2 is None:
            other_step = ("absent",)
        else:
            try:
                succ = other.model.instance_successors(k2, other.ex.states[other.state_like(this, ex.states[i], src)])
            except Exception:
                succ = []
            outs = sorted({tuple(changes(names, src, other.keyfn(s))) for _, s in succ}, key=repr)
            other_step = ("gives", tuple(outs)) if outs else ("disabled",)
        ch = tuple(changes(names, src, dst))
        gk = (act, ch, other_step)
        g = groups.get(gk)
        if g is None:
            g = groups[gk] = {"action": act, "changes": ch, "other_step": other_step, "members": [],
                              "_first": (ex.depth_of[i], i, j, k)}
        g["count"] = g.get("count", 0) + 1
        g["_first"] = min(g["_first"], (ex.depth_of[i], i, j, k))
        if limit is not None and len(g["members"]) >= limit:
            continue
        g["members"].append({"label": label, "from": this.nested(src), "to": this.nested(dst),
                             "depth": ex.depth_of[i] + 1})
    out = []
    for n, g in enumerate(sorted(groups.values(), key=lambda g: g["_first"]), 1):
        _, i, j, k = g.pop("_first")
        witness = trace_to(model, ex, i) + [step(model, ex, j, k)]
        os_ = g["other_step"]
        other_step = {"result": {"gives": "steps", "disabled": "disabled", "absent": "absent"}[os_[0]]}
        if os_[0] == "gives":
            other_step["outcomes"] = [[{"slot": s, "from": x, "to": y} for s, x, y in o] for o in os_[1]]
        out.append({"id": f"{prefix}{n}", "kind": "transitions", "side": this.name, "other": other.name,
                    "action": g["action"], "count": g["count"],
                    "changes": [{"slot": s, "from": x, "to": y} for s, x, y in g["changes"]],
                    "other_step": other_step, "members": g["members"], "witness": witness})
    return out, counts
