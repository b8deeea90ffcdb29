"""One model over many worlds: each world compiled on its own, composed behind a frozen world slot.

Every world's model is compiled with its constants folded, as for a closed config. The composed
state is the world's slots, padded with zeros to the widest world, followed by one slot holding
the world's index; no action writes it, so a state never leaves its world. The generated module
holds each world's functions renamed (`_next_w3`, `_inv0_w3`, ...), which the reference backend
calls through a table indexed by the world slot, and one successor function and one function per
invariant that test the world slot and run that world's code inline, in the subset of Python the
C translator reads, so the compiled backend explores the same states in the same order.
"""

from __future__ import annotations

import ast
import re

from ..errors import SpecError
from ..model import Instance, Model
from ..types import TBool, TInt, TSym
from .runtime import RUNTIME

_LOCAL_RE = re.compile(r"^_([a-z])(\d+)$")
_K_RE = re.compile(r"^_K(\d+)$")
_POS_ARG = {"_chk": 2, "_ix": 2, "_ixd": 2, "_lix": 2, "_div": 2, "_minmax": 2}


class _Rename(ast.NodeTransformer):
    """One world's generated code made unique in the composed module."""

    def __init__(self, w, koff, poff, ioff, default):
        self.w, self.koff, self.poff, self.ioff, self.default = w, koff, poff, ioff, default

    def visit_Name(self, node):
        m = _K_RE.match(node.id)
        if m:
            node.id = f"_K{int(m.group(1)) + self.koff}"
        elif node.id == "_DEFAULT":
            node.id = self.default
        else:
            m = _LOCAL_RE.match(node.id)
            if m:
                node.id = f"_{m.group(1)}{self.w + 1}{int(m.group(2)):07d}"
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Name):
            i = _POS_ARG.get(f.id)
            if i is not None and len(node.args) > i and _int(node.args[i]) is not None and _int(node.args[i]) >= 0:
                node.args[i] = ast.Constant(_int(node.args[i]) + self.poff)
            if f.id == "_app" and len(node.args) == 1 and isinstance(node.args[0], ast.Tuple):
                k = _int(node.args[0].elts[0])
                if k is not None and k >= 0:
                    node.args[0].elts[0] = ast.Constant(k + self.ioff)
        return node


def _int(node):
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -node.operand.value
    return None


def _functions(model):
    return {n.name: n for n in ast.parse(model.source_code).body if isinstance(n, ast.FunctionDef)}


def _returned(fn):
    """The expression inside `return bool(E)`."""
    return fn.body[0].value.args[0]


def _width(model):
    return len(model.slot_types())


class WorldsModel(Model):
    """The composition of per-world models; decoding, instances and errors map back to a world."""

    def __init__(self, worlds, models, refused, pos=None):
        super().__init__()
        self.worlds = worlds
        self.world_models = models
        self.refused = refused
        self.widths = [_width(m) for m in models]
        self.world_slot = max(self.widths)
        self._check_alike(models, pos)
        base = max(models, key=_width)
        for attr in ("name", "doc", "files", "root_file", "constants", "constant_pos", "constant_docs", "declared_symbols",
                     "sets", "types", "variables", "definitions", "procedures", "actions", "invariants"):
            setattr(self, attr, getattr(base, attr))
        longest = max(models, key=lambda m: len(m.symbols))
        self.symbols = list(longest.symbols)
        self.symbol_ids = dict(longest.symbol_ids)
        self.invariant_list = [self.invariants[inv.name] if inv.name in self.invariants else inv for inv in base.invariant_list]
        self.unavailable_actions = sorted({u for m in models for u in m.unavailable_actions})
        self.inst_off, self.pos_off, self.k_off = [], [], []
        for w, m in zip(worlds, models):
            self.inst_off.append(len(self.instances))
            self.pos_off.append(len(self.positions))
            self.k_off.append(len(self.runtime))
            for inst in m.instances:
                self.instances.append(Instance(len(self.instances), inst.action, inst.args))
            self.positions.extend(m.positions)
            self.runtime.extend(m.runtime)
            self.disabled_instances.extend((f"{label} in world {w.index}", r) for label, r in m.disabled_instances)
        self.inst_world = []
        for w, m in enumerate(models):
            self.inst_world.extend([w] * len(m.instances))
        same = all([p[:2] for p in m.probes] == [p[:2] for p in models[0].probes] for m in models)
        self.probes = list(models[0].probes) if same else []
        self._generate()

    def _check_alike(self, models, pos):
        names = [inv.name for inv in models[0].invariant_list]
        for m in models:
            if [inv.name for inv in m.invariant_list] != names:
                raise SpecError(pos, "the worlds of an open config check different invariants; open constants may not "
                                     "change which invariants exist")
        longest = max(models, key=lambda m: len(m.symbols)).symbols
        for m in models:
            if m.symbols != longest[:len(m.symbols)]:
                raise SpecError(pos, "the worlds of an open config number their symbols differently; declare every "
                                     "symbol a choice can take in a set or type of the spec")

    # --- the composed module -------------------------------------------------------------------
    def _generate(self):
        N = self.world_slot
        lines = []
        init = ["def _init():", "    out = []", "    _app = out.append"]
        nxt = ["def _next(state):", "    out = []", "    _app = out.append"]
        inv_parts = [[] for _ in self.invariant_list]
        probe_parts = [[] for _ in self.probes]
        for w, m in enumerate(self.world_models):
            default = list(m.ns["_DEFAULT"]) + [0] * (N - self.widths[w]) + [w]
            dname = f"_K{len(self.runtime)}"
            self.runtime.append(tuple(default))
            ren = _Rename(w, self.k_off[w], self.pos_off[w], self.inst_off[w], dname)
            for name, fn in _functions(m).items():
                fn = ren.visit(fn)
                if name.startswith(("_inv", "_probe")) and name != "_inv_first":
                    kind, i = ("_inv", int(name[4:])) if name.startswith("_inv") else ("_probe", int(name[6:]))
                    expr = ast.unparse(_returned(fn))
                    lines += [f"def {name}_w{w}(state):", f"    return bool({expr})"]
                    if kind == "_inv":
                        inv_parts[i].append(f"(state[{N}] == {w} and {expr})")
                    elif self.probes:
                        probe_parts[i].append(f"(state[{N}] == {w} and {expr})")
                    continue
                text = ast.unparse(fn).splitlines()
                body = text[3:-1]  # between `out = []; _app = out.append` and `return out`
                if name == "_init":
                    init.extend(body)
                    continue
                if name == "_next" and body:
                    nxt.append(f"    if state[{N}] == {w}:")
                    nxt.extend("    " + ln for ln in body)
                lines.append(f"def {name}_w{w}(state):")
                lines.extend(text[1:])
        init.append("    return out")
        nxt.append("    return out")
        lines += init + nxt
        for prefix, parts in (("_inv", inv_parts), ("_probe", probe_parts)):
            for i, p in enumerate(parts):
                lines += [f"def {prefix}{i}(state):", f"    return bool({' or '.join(p) or 'True'})"]
        first = ["def _inv_first(state):"] + [f"    if not _inv{i}(state): return {i}" for i in range(len(inv_parts))]
        lines += first + ["    return -1"]
        self.source_code = "\n".join(lines) + "\n"
        ns = dict(RUNTIME)
        for i, obj in enumerate(self.runtime):
            ns[f"_K{i}"] = obj
        exec(compile(self.source_code, f"<spec {self.name}, {len(self.worlds)} worlds>", "exec"), ns)
        self.ns = ns
        self._bind(ns)

    def _bind(self, ns):
        """The reference backend calls each world's own functions through the world slot."""
        N, nw = self.world_slot, len(self.worlds)
        nexts = [ns[f"_next_w{w}"] for w in range(nw)]
        firsts = [ns[f"_inv_first_w{w}"] for w in range(nw)]
        self.successors = lambda state: nexts[state[N]](state)
        self.first_violated = lambda state: firsts[state[N]](state)
        self._inv_tables = [[ns[f"_inv{i}_w{w}"] for w in range(nw)] for i in range(len(self.invariant_list))]
        for j in range(len(self.probes)):
            table = [ns[f"_probe{j}_w{w}"] for w in range(nw)]
            ns[f"_probe{j}"] = lambda state, t=table: t[state[N]](state)

    def invariant_fn(self, i):
        table, N = self._inv_tables[i], self.world_slot
        return lambda state: table[state[N]](state)

    # --- mapping back to one world ---------------------------------------------------------------
    def world_of(self, state):
        return self.worlds[state[self.world_slot]]

    def local_state(self, state):
        w = state[self.world_slot]
        return w, tuple(state[:self.widths[w]])

    def decode(self, state) -> dict:
        w, st = self.local_state(state)
        return self.world_models[w].decode(st)

    def instance_successors(self, i, state):
        w = self.inst_world[i]
        if state[self.world_slot] != w:
            return []
        return self.world_models[w].instance_successors(i - self.inst_off[w], state)

    def slot_names(self):
        return list(max(self.world_models, key=_width).slot_names()) + ["world"]

    def slot_types(self):
        """Per slot the union of what the worlds keep there (a padded slot holds 0)."""
        N = self.world_slot
        per = [set() for _ in range(N)]
        kinds = [set() for _ in range(N)]
        for w, m in enumerate(self.world_models):
            for i, t in enumerate(m.slot_types()):
                kinds[i].add(repr(t))
                per[i].update(int(v) for v in m.domain_values(t))
                per[i].add(None)  # placeholder so the set is non-empty
            for i in range(self.widths[w], N):
                per[i].add(0)
        out = []
        types0 = max(self.world_models, key=_width).slot_types()
        for i in range(N):
            vals = sorted(v for v in per[i] if v is not None)
            if len(kinds[i]) == 1 and all(self.widths[w] > i for w in range(len(self.worlds))) \
                    and isinstance(types0[i], (TBool, TSym)):
                out.append(types0[i])
            else:
                out.append(TInt(min(vals), max(vals)))
        out.append(TInt(0, len(self.worlds) - 1))
        return out
