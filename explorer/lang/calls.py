"""Compiling calls: definitions (inlined), record constructors, the built-ins, and the finite
sets that `for`, `with`, `in` and generators range over (unrolled while compiling)."""

from __future__ import annotations

import ast

from ..types import BOOL, INT, SetInfo, TAny, TBool, TInt, TList, TRec
from ..types import compatible, kind
from .values import BUILTINS, MAX_SET, K, Scope, Val, domain_set, dym as _dym, needs_check


class Calls:
    """The call stage of the Compiler."""

    def call(self, node, scope, sn, st):
        m = self.m
        if not isinstance(node.func, ast.Name):
            raise sn.error(node, "only definitions, record types and the built-ins all, any, sum, len, min, max, implies can be called")
        name = node.func.id
        if name in scope:
            raise sn.error(node, f"'{name}' is a local value, not something to call")
        if name in m.definitions:
            d = m.definitions[name]
            if node.keywords:
                raise sn.error(node, "definitions take positional arguments only")
            if len(node.args) != len(d.params):
                raise sn.error(node, f"definition '{name}' takes {len(d.params)} argument(s), {len(node.args)} given")
            args = [self.expr(a, scope, sn, st) for a in node.args]
            return self.inline_definition(node, d, args, sn, st)
        if name in m.types and isinstance(m.types[name], TRec):
            return self.record(node, m.types[name], scope, sn, st)
        if name in BUILTINS:
            return self.builtin(node, name, scope, sn, st)
        if name in m.procedures:
            raise sn.error(node, f"procedure '{name}' is a statement; call it on a line of its own")
        if name == "require":
            raise sn.error(node, "'require' is a statement: write it on a line of its own in an effect")
        raise sn.error(node, f"unknown function '{name}'" + _dym(name, list(m.definitions) + list(BUILTINS) + list(m.types)))

    def inline_definition(self, node, d, args, sn, st):
        if d.name in self.inline_stack:
            chain = " -> ".join(self.inline_stack[self.inline_stack.index(d.name):] + [d.name])
            raise sn.error(node, f"recursive definition: {chain}")
        self.inline_stack.append(d.name)
        try:
            inner = Scope(zip(d.params, args))
            return self.expr(d.tree, inner, d.sn, st)
        finally:
            self.inline_stack.pop()

    def record(self, node, rt: TRec, scope, sn, st):
        m = self.m
        if node.args:
            raise sn.error(node, f"give the fields of {rt.name} by name: {rt.name}({', '.join(f + '=...' for f in rt.fields)})")
        given = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise sn.error(node, "'**' is not part of the spec language")
            if kw.arg not in rt.fields:
                raise sn.error(kw.value, f"record {rt.name} has no field '{kw.arg}'" + _dym(kw.arg, rt.fields))
            v = self.value(kw.value, scope, sn, st)
            ft = rt.fields[kw.arg]
            if not compatible(v.type, ft):
                raise sn.error(kw.value, f"field '{kw.arg}' of {rt.name} is {kind(ft)}, not {kind(v.type)}")
            if v.isconst:
                m.check_in_domain(v.const, v.type, ft, sn.pos(kw.value), f"field '{kw.arg}' of {rt.name}")
            elif needs_check(v.type, ft):
                pi = m.pos_index(sn.pos(kw.value))
                v = Val(ft, code=f"_chk({v.code}, {m.embed_raw(domain_set(m, ft))}, {pi})")
            given[kw.arg] = v
        vals = [given.get(f) or K(m.default_value(ft), ft) for f, ft in rt.fields.items()]
        if all(v.isconst for v in vals):
            return K(tuple(v.const for v in vals), rt)
        return Val(rt, code="(" + ", ".join(v.src(m) for v in vals) + ",)")

    def set_value(self, node, scope, sn, st) -> SetInfo:
        """A set expression (set name, range(n), constant list) evaluated now."""
        m = self.m
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
            args = [self.value(a, scope, sn, st) for a in node.args]
            if not 1 <= len(args) <= 2 or not all(a.isconst and isinstance(a.const, int) for a in args):
                raise sn.error(node, "range() takes one or two constant integers")
            lo, hi = (0, args[0].const) if len(args) == 1 else (args[0].const, args[1].const)
            if hi - lo > MAX_SET:
                raise sn.error(node, f"range() of {hi - lo} elements: sets hold at most {MAX_SET} (every loop over a set is unrolled)")
            return SetInfo(f"range({lo}, {hi})", range(lo, hi), TInt(lo, max(lo, hi - 1)), str)
        v = self.value(node, scope, sn, st)
        if v.isconst and isinstance(v.const, SetInfo):
            return v.const
        if v.isconst and isinstance(v.type, TList):
            vals = list(dict.fromkeys(v.const))
            if len(vals) > MAX_SET:
                raise sn.error(node, f"a set of {len(vals):,} elements: sets hold at most {MAX_SET:,}")
            return SetInfo("list", vals, v.type.elem, lambda x, t=v.type.elem: m.show(x, t))
        raise sn.error(node, "expected a finite set: a name from 'sets:', range(N) or a constant list")

    def unroll(self, gen, scope, sn, st):
        """Expand a generator expression over finite sets into (condition, element) Vals."""
        out = []

        def rec(i, sc):
            if i == len(gen.generators):
                out.append((cond_stack[-1] if cond_stack else K(True, BOOL), self.value(gen.elt, sc, sn, st)))
                return
            comp = gen.generators[i]
            if not isinstance(comp.target, ast.Name):
                raise sn.error(comp.target, "the loop variable must be a single name")
            s = self.set_value(comp.iter, sc, sn, st)
            for x in s.values:
                self.budget.charge("unrolling a generator")
                inner = Scope(sc)
                inner[comp.target.id] = K(x, s.elem_type)
                conds = [self.bool_value(c, inner, sn, st) for c in comp.ifs]
                prev = cond_stack[-1] if cond_stack else K(True, BOOL)
                c = self.fold_boolop([prev] + conds, True)
                if c.isconst and not c.const:
                    continue
                cond_stack.append(c)
                rec(i + 1, inner)
                cond_stack.pop()

        cond_stack = []
        rec(0, Scope(scope))
        return out

    def builtin(self, node, name, scope, sn, st):
        m = self.m
        if node.keywords:
            raise sn.error(node, f"{name}() takes no keyword arguments")
        args = node.args
        if name == "implies":
            if len(args) != 2:
                raise sn.error(node, "implies(a, b) takes two arguments")
            a = self.bool_value(args[0], scope, sn, st)
            b = self.bool_value(args[1], scope, sn, st)
            na = K(not a.const, BOOL) if a.isconst else Val(BOOL, code=f"(not {a.code})")
            return self.fold_boolop([na, b], False)
        if name == "range":
            raise sn.error(node, "range() is a set: use it after 'in' or 'for'")
        if len(args) == 1 and isinstance(args[0], ast.GeneratorExp):
            items = self.unroll(args[0], scope, sn, st)
            fold = {"all": self.all_any, "any": self.all_any, "sum": self.sum_len, "len": self.sum_len,
                    "min": self.min_max, "max": self.min_max}[name]
            return fold(node, name, items, args[0].elt, sn)
        if name == "len" and len(args) == 1:
            v = self.value(args[0], scope, sn, st)
            if v.isconst and isinstance(v.const, SetInfo):
                return K(len(v.const), TInt(len(v.const), len(v.const)))
            if v.isconst and isinstance(v.const, (tuple, dict)):
                return K(len(v.const), TInt(len(v.const), len(v.const)))
            raise sn.error(node, "len() takes a set, a constant list or a generator")
        if name in ("min", "max") and len(args) >= 2:
            vals = [self.int_value(a, scope, sn, st) for a in args]
            if all(v.isconst for v in vals):
                r = (min if name == "min" else max)(v.const for v in vals)
                return K(r, TInt(r, r))
            return Val(INT, code=f"{name}(" + ", ".join(v.src(m) for v in vals) + ")")
        raise sn.error(node, f"{name}() takes a generator over finite sets, e.g. {name}(x for x in SET)")

    def all_any(self, node, name, items, elt, sn):
        """all(...) / any(...) over unrolled (condition, element) pairs."""
        terms = []
        for c, e in items:
            if e.type is not BOOL and not isinstance(e.type, (TBool, TAny)):
                raise sn.error(elt, f"{name}() needs boolean elements, found {kind(e.type)}")
            if name == "all":
                nc = K(not c.const, BOOL) if c.isconst else Val(BOOL, code=f"(not {c.code})")
                terms.append(self.fold_boolop([nc, e], False))
            else:
                terms.append(self.fold_boolop([c, e], True))
        return self.fold_boolop(terms, name == "all")

    def sum_len(self, node, name, items, elt, sn):
        """sum(...) / len(...): constant parts folded, the bounds of the rest tracked."""
        m = self.m
        total = 0
        codes = []
        lo = hi = 0
        for c, e in items:
            if name == "len":
                e = K(1, TInt(1, 1))
            elif not isinstance(e.type, (TInt, TAny)):
                raise sn.error(elt, f"sum() needs integer elements, found {kind(e.type)}")
            et = e.type if isinstance(e.type, TInt) and e.type.bounded() else None
            if c.isconst and e.isconst:
                total += e.const
                lo += e.const
                hi += e.const
                continue
            if et is not None and lo is not None:
                lo += min(0, et.lo)
                hi += max(0, et.hi)
            else:
                lo = hi = None
            codes.append(e.src(m) if c.isconst else f"({e.src(m)} if {c.code} else 0)")
        if not codes:
            return K(total, TInt(total, total))
        t = TInt(lo, hi) if lo is not None else INT
        return Val(t, code="(" + " + ".join(([str(total)] if total else []) + codes) + ")")

    def min_max(self, node, name, items, elt, sn):
        """min(...) / max(...): an empty choice at run time is a reported error."""
        m = self.m
        if not items:
            raise sn.error(node, f"{name}() of an empty set")
        for c, e in items:
            if not isinstance(e.type, (TInt, TAny)):
                raise sn.error(elt, f"{name}() needs integer elements, found {kind(e.type)}")
        t = INT
        if all(c.isconst for c, _ in items):
            if all(e.isconst for _, e in items):
                r = (min if name == "min" else max)(e.const for _, e in items)
                return K(r, TInt(r, r))
            return Val(t, code=f"{name}(" + ", ".join(e.src(m) for _, e in items) + ")")
        pi = m.pos_index(sn.pos(node))
        pairs = ", ".join(f"({c.src(m)}, {e.src(m)})" for c, e in items)
        return Val(t, code=f"_minmax({name}, ({pairs},), {pi})")
