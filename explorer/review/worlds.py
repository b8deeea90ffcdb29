"""diff over an open config: every projected state carries the label of its world, so what a
version makes reachable is compared and grouped world by world (worlds match by their label:
the two versions may refuse different worlds, which numbers them differently)."""

from __future__ import annotations


def world_key(model, key):
    """`key` (state -> projected tuple) extended by the state's world label ('' for a closed config)."""
    if model.worlds is None:
        return lambda st: key(st) + ("",)
    slot = model.world_slot
    labels = [w.label for w in model.worlds]
    return lambda st: key(st) + (labels[st[slot]],)


def label_index(model):
    """Instance label -> index; for an open config (world label, instance label) -> index."""
    if model.worlds is None:
        return {inst.label(): i for i, inst in enumerate(model.instances)}
    return {(model.worlds[model.inst_world[i]].label, inst.label()): i for i, inst in enumerate(model.instances)}


def instance_of(side, label, key):
    """The side's instance with this label, in the world of projected `key` (its last element)."""
    if side.model.worlds is None:
        return side.label_index.get(label)
    return side.label_index.get((key[-1], label))


def world_of_key(side, key):
    """The world label a projected key carries ('' for a closed config)."""
    return key[-1] if side.model.worlds is not None else ""
