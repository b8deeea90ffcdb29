"""A straightforward interpreter of spec expressions and statements, for cross-checking.

It walks the same checked syntax trees the compiler reads, but evaluates them directly on a
state held as nested dicts: no unrolling, no constant folding, no slot arithmetic. It is slow
and obviously correct; tests compare its successors and invariant values with the compiled
model's on every reachable state.
"""

from __future__ import annotations

import ast
import copy
import itertools

from ..errors import EvalError
from .syntax import either_branches, is_either, is_require
from ..types import SetInfo, TInt, TRec


class Ref:
    def __init__(self, var, path):
        self.var = var
        self.path = path  # list of ('i', key) / ('f', field)


class Interpreter:
    def __init__(self, model):
        self.m = model

    # --- states ----------------------------------------------------------------------------------
    def from_tuple(self, t) -> dict:
        m = self.m
        out = {}
        for var in m.variables.values():
            def rec(level, off):
                if level == len(var.sets):
                    if isinstance(var.elem, TRec):
                        return {f: _norm(t[off + i]) for i, f in enumerate(var.elem.fields)}
                    return _norm(t[off])
                st = var.sets[level]
                stride = var.strides()[level]
                return {x: rec(level + 1, off + i * stride) for i, x in enumerate(st.values)}
            out[var.name] = rec(0, var.base)
        return out

    def to_tuple(self, d) -> tuple:
        m = self.m
        flat = []
        for var in m.variables.values():
            def rec(level, v):
                if level == len(var.sets):
                    if isinstance(var.elem, TRec):
                        flat.extend(_norm(v[f]) for f in var.elem.fields)
                    else:
                        flat.append(_norm(v))
                    return
                for x in var.sets[level].values:
                    rec(level + 1, v[x])
            rec(0, d[var.name])
        return tuple(flat)

    # --- expressions -------------------------------------------------------------------------------
    def ev(self, node, env, st):
        v = self.ev_ref(node, env, st)
        return self.read(v, st) if isinstance(v, Ref) else v

    def read(self, ref, st):
        v = st[ref.var]
        for _, k in ref.path:
            v = v[k]
        return copy.deepcopy(v) if isinstance(v, dict) else v

    def ev_ref(self, node, env, st):
        visit = getattr(self, "ev_" + type(node).__name__, None)
        if visit is None:
            raise NotImplementedError(type(node).__name__)
        return visit(node, env, st)

    def ev_Constant(self, node, env, st):
        return self.m.symbol_ids[node.value] if isinstance(node.value, str) else node.value

    def ev_Name(self, node, env, st):
        m = self.m
        n = node.id
        if n in env:
            return env[n]
        if n in m.variables:
            return Ref(n, [])
        if n in m.definitions:
            return self.ev_ref(m.definitions[n].tree, {}, st)
        if n in m.constants:
            return m.constants[n][0]
        if n in m.sets:
            return m.sets[n]
        return m.symbol_ids[n]

    def ev_BoolOp(self, node, env, st):
        if isinstance(node.op, ast.And):
            return all(self.ev(x, env, st) for x in node.values)
        return any(self.ev(x, env, st) for x in node.values)

    def ev_UnaryOp(self, node, env, st):
        v = self.ev(node.operand, env, st)
        return (not v) if isinstance(node.op, ast.Not) else (-v if isinstance(node.op, ast.USub) else v)

    def ev_BinOp(self, node, env, st):
        a, b = self.ev(node.left, env, st), self.ev(node.right, env, st)
        op = type(node.op)
        if op in (ast.FloorDiv, ast.Mod) and b == 0:
            raise EvalError(-1, "division by zero")
        return {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                ast.FloorDiv: lambda: a // b, ast.Mod: lambda: a % b}[op]()

    def ev_Compare(self, node, env, st):
        left = self.ev(node.left, env, st)
        for op, rn in zip(node.ops, node.comparators):
            right = self.ev(rn, env, st)
            if isinstance(op, (ast.In, ast.NotIn)):
                members = right.values if isinstance(right, SetInfo) else list(right)
                ok = (left in members) == isinstance(op, ast.In)
            else:
                ok = {ast.Eq: lambda: _eq(left, right), ast.NotEq: lambda: not _eq(left, right),
                      ast.Lt: lambda: left < right, ast.LtE: lambda: left <= right,
                      ast.Gt: lambda: left > right, ast.GtE: lambda: left >= right}[type(op)]()
            if not ok:
                return False
            left = right
        return True

    def ev_IfExp(self, node, env, st):
        return self.ev_ref(node.body if self.ev(node.test, env, st) else node.orelse, env, st)

    def ev_Attribute(self, node, env, st):
        base = self.ev_ref(node.value, env, st)
        if isinstance(base, Ref):
            return Ref(base.var, base.path + [("f", node.attr)])
        return base[node.attr]

    def ev_Subscript(self, node, env, st):
        base = self.ev_ref(node.value, env, st)
        idx = self.ev(node.slice, env, st)
        if isinstance(base, Ref):
            cur = self.read(base, st)
            if idx not in cur:
                raise EvalError(-1, "index out of range")
            return Ref(base.var, base.path + [("i", idx)])
        if isinstance(base, dict):
            return base[self.m.symbols[idx]]
        if not 0 <= idx < len(base):
            raise EvalError(-1, "index out of range")
        return base[idx]

    def ev_List(self, node, env, st):
        return tuple(self.ev(e, env, st) for e in node.elts)

    ev_Tuple = ev_List

    def ev_Call(self, node, env, st):
        return self.call(node, env, st)

    def call(self, node, env, st):
        m = self.m
        name = node.func.id
        if name in m.definitions:
            d = m.definitions[name]
            args = [self.ev_ref(a, env, st) for a in node.args]
            return self.ev_ref(d.tree, dict(zip(d.params, args)), st)
        if name in m.types:
            t = m.types[name]
            given = {kw.arg: self.ev(kw.value, env, st) for kw in node.keywords}
            return {f: given.get(f, m.default_value(ft)) for f, ft in t.fields.items()}
        if name == "implies":
            return (not self.ev(node.args[0], env, st)) or bool(self.ev(node.args[1], env, st))
        if name == "len" and not isinstance(node.args[0], ast.GeneratorExp):
            v = self.ev(node.args[0], env, st)
            return len(v.values) if isinstance(v, SetInfo) else len(v)
        if name in ("min", "max") and len(node.args) > 1:
            vals = [self.ev(a, env, st) for a in node.args]
            return min(vals) if name == "min" else max(vals)
        gen = node.args[0]
        vals = list(self.generate(gen, 0, dict(env), st))
        if name == "all":
            return all(vals)
        if name == "any":
            return any(vals)
        if name == "sum":
            return sum(vals)
        if name == "len":
            return len(vals)
        if not vals:
            raise EvalError(-1, f"{name}() of an empty set")
        return min(vals) if name == "min" else max(vals)

    def set_of(self, node, env, st):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
            args = [self.ev(a, env, st) for a in node.args]
            return list(range(*args))
        v = self.ev(node, env, st)
        return v.values if isinstance(v, SetInfo) else list(dict.fromkeys(v))

    def generate(self, gen, i, env, st):
        if i == len(gen.generators):
            yield self.ev(gen.elt, env, st)
            return
        comp = gen.generators[i]
        for x in self.set_of(comp.iter, env, st):
            e2 = dict(env)
            e2[comp.target.id] = x
            if all(self.ev(c, e2, st) for c in comp.ifs):
                yield from self.generate(gen, i + 1, e2, st)

    # --- statements --------------------------------------------------------------------------------
    def run(self, stmts, st, env):
        """Yield (state, env) for every path through `stmts` that completes."""
        for st2, env2, _ in self.run_r(stmts, st, env):
            yield st2, env2

    def run_r(self, stmts, st, env):
        """Yield (state, env, ret): ret is None, or (value,) when a `return` ended the path."""
        if not stmts:
            yield st, env, None
            return
        first, rest = stmts[0], stmts[1:]
        for st2, env2, ret in self.step(first, st, env):
            if ret is not None:
                yield st2, env2, ret
            else:
                yield from self.run_r(rest, st2, env2)

    def call_proc(self, call, st, env):
        """Yield (state, returned value or None) for every path through a procedure."""
        p = self.m.procedures[call.func.id]
        args = [self.ev_ref(a, env, st) for a in call.args]
        for st2, _, ret in self.run_r(p.stmts, st, dict(zip(p.params, args))):
            yield st2, (ret[0] if ret else None)

    def step(self, s, st, env):
        kind = "require" if is_require(s) else "either" if is_either(s) else type(s).__name__
        run = getattr(self, "step_" + kind, None)
        if run is None:
            raise NotImplementedError(type(s).__name__)
        return run(s, st, env)

    def step_Pass(self, s, st, env):
        yield st, env, None

    def step_Return(self, s, st, env):
        yield st, env, ((self.ev(s.value, env, st) if s.value is not None else None),)

    def step_require(self, s, st, env):
        if self.ev(s.value.args[0], env, st):
            yield st, env, None

    def step_either(self, s, st, env):
        for body in either_branches(s):
            yield from self.run_r(body, st, env)

    def step_With(self, s, st, env):
        cmp = s.items[0].context_expr
        for x in self.set_of(cmp.comparators[0], env, st):
            e2 = dict(env)
            e2[cmp.left.id] = x
            yield from self.run_r(s.body, st, e2)

    def step_If(self, s, st, env):
        yield from self.run_r(s.body if self.ev(s.test, env, st) else s.orelse, st, env)

    def step_For(self, s, st, env):
        yield from self.loop(s, self.set_of(s.iter, env, st), st, env)

    def step_Expr(self, s, st, env):
        for st2, _ in self.call_proc(s.value, st, env):
            yield st2, env, None

    def step_Assign(self, s, st, env):
        m = self.m
        if isinstance(s, ast.Assign) and isinstance(s.value, ast.Call) and s.value.func.id in m.procedures:
            for st2, value in self.call_proc(s.value, st, env):
                e2 = dict(env)
                e2[s.targets[0].id] = value
                yield st2, e2, None
            return
        target = s.targets[0] if isinstance(s, ast.Assign) else s.target
        value = self.ev(s.value, env, st)
        if isinstance(s, ast.AugAssign):
            old = self.ev(target, env, st)
            value = old + value if isinstance(s.op, ast.Add) else old - value
        if isinstance(target, ast.Name) and not isinstance(env.get(target.id), Ref) and target.id not in m.variables:
            e2 = dict(env)
            e2[target.id] = value
            yield st, e2, None
            return
        ref = self.ev_ref(target, env, st)
        st2 = copy.deepcopy(st)
        self.write(ref, value, st2)
        yield st2, env, None

    step_AugAssign = step_Assign

    def loop(self, s, values, st, env):
        if not values:
            yield st, env, None
            return
        e2 = dict(env)
        e2[s.target.id] = values[0]
        for st2, env2, ret in self.run_r(s.body, st, e2):
            if ret is not None:
                yield st2, env2, ret
            else:
                yield from self.loop(s, values[1:], st2, env2)

    def write(self, ref, value, st):
        m = self.m
        var = m.variables[ref.var]
        t = var.elem
        if any(k == "f" for k, _ in ref.path):
            t = t.fields[ref.path[-1][1]]
        self.check(t, value)
        if not ref.path:
            st[ref.var] = value
            return
        cur = st[ref.var]
        for _, k in ref.path[:-1]:
            cur = cur[k]
        cur[ref.path[-1][1]] = value

    def check(self, t, value):
        m = self.m
        if isinstance(t, TRec):
            for f, ft in t.fields.items():
                self.check(ft, value[f])
            return
        if isinstance(t, TInt):
            ok = t.lo <= _norm(value) <= t.hi  # an int domain is a range: not listed
        else:
            ok = _norm(value) in [_norm(x) for x in m.domain_values(t)]
        if not ok:
            raise EvalError(-1, f"value {value!r} is outside the domain")

    # --- the model -----------------------------------------------------------------------------------
    def successors(self, t) -> set:
        """All successor tuples of a state tuple, over every action instance."""
        m = self.m
        st = self.from_tuple(t)
        out = set()
        for inst in m.instances:
            a = inst.action
            env = {pn: v for pn, v, _ in inst.args}
            if not self.ev(a.guard, env, st):
                continue
            if not a.effect:
                out.add((inst.index, self.to_tuple(st)))
                continue
            for st2, _ in self.run(list(a.effect), st, dict(env)):
                out.add((inst.index, self.to_tuple(st2)))
        return out

    def invariants(self, t) -> list:
        st = self.from_tuple(t)
        return [bool(self.ev(inv.tree, {}, st)) for inv in self.m.invariant_list]

    def initial_states(self) -> set:
        m = self.m
        default = self.from_tuple(m.default_state())
        stmts = [s for _, stmts in m.init_specs for s in stmts]
        return {self.to_tuple(st) for st, _ in self.run(stmts, default, {})}


def _norm(v):
    return int(v) if isinstance(v, bool) else v


def _eq(a, b):
    if isinstance(a, dict) and isinstance(b, tuple):
        return tuple(_norm(x) for x in a.values()) == tuple(_norm(x) for x in b)
    if isinstance(b, dict) and isinstance(a, tuple):
        return _eq(b, a)
    return a == b


__all__ = ["Interpreter", "itertools"]
