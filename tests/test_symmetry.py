"""Symmetry reduction: reduced counts equal the number of orbits of the reachable states, found
by brute force (every reachable state without symmetry, grouped by orbit with this file's own
permutation code over decoded states), on both backends; traces replay without symmetry."""

import itertools
import json
import os

import pytest

import explorer
from explorer.checker import fast

from conftest import ROOT

TOY = """\
module: toy
constants: {N: 3}
sets: {P: range(N)}
SYMMETRIC
types:
  Pc: [idle, busy, done]
variables:
  pc: {type: Pc, over: [P]}
  owner: {type: P}
  held: bool
actions:
  Take:
    params: {p: P}
    guard: pc[p] == idle and not held
    effect: |
      pc[p] = busy
      held = True
      owner = p
  Give:
    params: {p: P}
    guard: pc[p] == busy and owner == p
    effect: |
      pc[p] = done
      held = False
invariants:
  Mutex: all(not (pc[a] == busy and pc[b] == busy) for a in P for b in P if a != b)
"""

# the mm model with one VMA, wrapped by a module that declares the symmetry
MM = """\
module: mm_sym
include: [{mm}]
SYMMETRIC
"""
MM_CONSTANTS = {"PAGES": 2, "GUP_THREADS": 2, "START": "hole",
                "VMAS": [{"backing": "file", "shared": False, "prot": "read", "uffd": ["minor"]}]}
MM_ACTIONS = ["gup_*", "uffdio_continue", "madvise_dontneed"]


def orbits(result, sets, typed):
    """Orbits of the explored states: `sets` the symmetric set names, `typed` {(var, field): set}
    for values of a symmetric set's type. Each state is keyed by the smallest JSON text over all
    permutations, computed on the decoded state."""
    layout = result.data["variables"]
    sizes = {n: len(result.data["sets"][n]) for n in sets}
    perms = [dict(zip(sets, c)) for c in itertools.product(*[itertools.permutations(range(sizes[n])) for n in sets])]
    seen = set()
    model = result.exploration.model
    plain = getattr(model, "symmetry", None) is None
    assert plain
    for st in result.exploration.states:
        dec = model.decode(st)
        seen.add(min(json.dumps(_permute(dec, layout, p, typed), sort_keys=True) for p in perms))
    return len(seen)


def _permute(dec, layout, perm, typed):
    out = {}
    for var, value in dec.items():
        over = layout[var]["over"]

        def leaf(v, field=None):
            s = typed.get((var, field))
            if s in perm:
                return perm[s][v]
            return v

        def rec(v, level):
            if level == len(over):
                if isinstance(v, dict):
                    return {f: leaf(x, f) for f, x in v.items()}
                return leaf(v)
            s = over[level]
            return {(str(perm[s][int(k)]) if s in perm else k): rec(x, level + 1) for k, x in v.items()}
        out[var] = rec(value, 0)
    return out


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    if text.startswith("module: mm_sym"):  # the wrapper includes spec/mm.yaml: a config allows it
        c = tmp_path / ("cfg_" + name)
        c.write_text(f"spec: {name}\nallow_outside_includes: true\n")
        return str(c)
    return str(p)


def backends():
    return ["python"] + (["c"] if fast.available() else [])


@pytest.mark.parametrize("n", [2, 3, 4])
def test_toy_counts_are_orbit_counts(tmp_path, n):
    full = explorer.check(explorer.load(write(tmp_path, "full.yaml", TOY.replace("SYMMETRIC", ""))
                                        , {"N": n}))
    want = orbits(full, ["P"], {("owner", None): "P"})
    assert want < full.stats["distinct_states"]
    for b in backends():
        red = explorer.check(explorer.load(write(tmp_path, "sym.yaml", TOY.replace("SYMMETRIC", "symmetric: [P]")),
                                           {"N": n}), backend=b)
        assert red.stats["distinct_states"] == want, b
        assert red.stats["symmetry"] == ["P"]


# PAGE is not a scalarset of the mm model: an idle GUP record holds page 0 (a literal), so a
# renamed state with an idle record on page 1 is unreachable and the reduction would explore it.
@pytest.mark.parametrize("sets", [["THREAD"]])
def test_mm_counts_are_orbit_counts(tmp_path, sets):
    mm = os.path.join(ROOT, "spec", "mm.yaml")
    full = explorer.check(explorer.load(write(tmp_path, "full.yaml", MM.format(mm=mm).replace("SYMMETRIC", "")),
                                        MM_CONSTANTS, MM_ACTIONS))
    typed = {("gup", "page"): "PAGE"}
    want = orbits(full, sets, typed)
    sym = MM.format(mm=mm).replace("SYMMETRIC", f"symmetric: [{', '.join(sets)}]")
    for b in backends():
        red = explorer.check(explorer.load(write(tmp_path, "sym.yaml", sym), MM_CONSTANTS, MM_ACTIONS), backend=b)
        assert red.stats["distinct_states"] == want, b
        assert red.verdict == full.verdict


def test_traces_replay_without_symmetry(tmp_path):
    mm = os.path.join(ROOT, "spec", "mm.yaml")
    consts = dict(MM_CONSTANTS, START="populated", GUP_THREADS=2, KERNEL="v5.16")
    consts["VMAS"] = [{"backing": "file", "shared": False, "prot": "read", "uffd": ["minor"]}]
    acts = ["gup_*", "madvise_dontneed", "user_read", "uffdio_continue"]
    sym = MM.format(mm=mm).replace("SYMMETRIC", "symmetric: [THREAD]")
    red = explorer.check(explorer.load(write(tmp_path, "sym.yaml", sym), consts, acts))
    assert red.verdict == "violation"
    plain = explorer.load(write(tmp_path, "full.yaml", MM.format(mm=mm).replace("SYMMETRIC", "")), consts, acts).model
    full = explorer.check(explorer.load(write(tmp_path, "full2.yaml", MM.format(mm=mm).replace("SYMMETRIC", "")), consts, acts))
    assert len(red.trace) == len(full.trace)  # a shortest trace either way
    # replay: every step is the labelled instance's successor of the previous state, without symmetry
    states = [s for s in plain.initial_states() if plain.decode(s) == red.trace[0]["state"]]
    assert states
    cur = states[0]
    labels = {i.index: i.label() for i in plain.instances}
    for stp in red.trace[1:]:
        nxt = [t for k, t in plain.successors(cur) if labels[k] == stp["label"] and plain.decode(t) == stp["state"]]
        assert nxt, stp["label"]
        cur = nxt[0]
