"""Compiling expressions: one small method per syntax node, dispatched by the node's type.

An expression compiles to a Val (a constant folded now, or Python code reading the state named
`st`), to a Ref (a place in the state, not yet read) or to a DynElem (an element of a constant
list picked at run time). Everything is typed as it is compiled; a type error is a SpecError at
the node.
"""

from __future__ import annotations

import ast

from ..types import ANY, BOOL, INT, SetInfo, TArr, TAny, TBool, TInt, TList, TMap, TRec, TSet, TSym, compatible, kind
from .values import BUILTINS, MAX_INT, DynElem, K, Ref, Val, dym as _dym, eval_cmp, join, values_type as _values_type


class Expressions:
    """The expression stage of the Compiler (see compiler.Compiler for the state it keeps)."""

    def resolve(self, node, name, scope, sn, st):
        m = self.m
        if name in scope:
            return scope[name]
        if name in m.variables:
            var = m.variables[name]
            return Ref(var, var.type(), var.base)
        if name in m.definitions:
            d = m.definitions[name]
            if d.params:
                raise sn.error(node, f"definition '{name}' takes {len(d.params)} argument(s): call it as {name}({', '.join(d.params)})")
            return self.inline_definition(node, d, [], sn, st)
        if name in m.constants:
            value, t = m.constants[name]
            return K(value, t)
        if name in m.sets:
            return K(m.sets[name], TSet(m.sets[name].elem_type))
        if name in m.declared_symbols:
            return K(m.symbol_id(name), TSym([name]))
        if name in m.procedures:
            raise sn.error(node, f"procedure '{name}' is a statement; call it on a line of its own")
        if name in m.types:
            raise sn.error(node, f"'{name}' is a type; construct a value with {name}(field=...)")
        if name in BUILTINS or name == "require":
            raise sn.error(node, f"'{name}' must be called")
        raise sn.error(node, f"unknown name '{name}'" + _dym(name, self.all_names(scope)))

    def value(self, node, scope, sn, st="state") -> Val:
        """Compile an expression to a Val (state reads from the Python name `st`)."""
        r = self.expr(node, scope, sn, st)
        return self.materialize(r, node, sn, st)

    def materialize(self, r, node, sn, st) -> Val:
        if isinstance(r, Val):
            return r
        if isinstance(r, DynElem):
            raise sn.error(node, "a mapping chosen at run time can only be used through its fields")
        t = r.type
        if isinstance(t, TArr):
            raise sn.error(node, f"'{r.var.name}' is an array over {', '.join(s.name for s in t.sets)}: index it")
        off = r.offset_code()
        if isinstance(t, TRec):
            if r.dyn:
                return Val(t, code=f"tuple({st}[{off}:{off}+{len(t.fields)}])")
            return Val(t, code="(" + ", ".join(f"{st}[{r.off + i}]" for i in range(len(t.fields))) + ",)")
        return Val(t, code=f"{st}[{off}]")

    def bool_value(self, node, scope, sn, st="state") -> Val:
        v = self.value(node, scope, sn, st)
        if not isinstance(v.type, (TBool, TAny)):
            raise sn.error(node, f"expected a boolean, found {kind(v.type)}")
        return v

    def int_value(self, node, scope, sn, st="state") -> Val:
        v = self.value(node, scope, sn, st)
        if not isinstance(v.type, (TInt, TAny)):
            raise sn.error(node, f"expected an integer, found {kind(v.type)}")
        return v

    def expr(self, node, scope, sn, st):
        visit = getattr(self, "visit_" + type(node).__name__, None)
        if visit is None:
            raise sn.error(node, f"'{type(node).__name__}' is not allowed in an expression")
        return visit(node, scope, sn, st)

    def visit_Constant(self, node, scope, sn, st):
        m = self.m
        v = node.value
        if isinstance(v, bool):
            return K(v, BOOL)
        if isinstance(v, int):
            if abs(v) > MAX_INT:
                raise sn.error(node, f"integer {v} is too large (integers lie within -2**62..2**62)")
            return K(v, TInt(v, v))
        if isinstance(v, str):
            if v not in m.symbol_ids:
                raise sn.error(node, f"symbol '{v}' is not declared in any enum type, set or constant" + _dym(v, m.declared_symbols))
            return K(m.symbol_id(v), TSym([v]))
        raise sn.error(node, "'Constant' is not allowed in an expression")

    def visit_Name(self, node, scope, sn, st):
        return self.resolve(node, node.id, scope, sn, st)

    def visit_BoolOp(self, node, scope, sn, st):
        vals = [self.bool_value(x, scope, sn, st) for x in node.values]
        return self.fold_boolop(vals, isinstance(node.op, ast.And))

    def visit_UnaryOp(self, node, scope, sn, st):
        if isinstance(node.op, ast.Not):
            v = self.bool_value(node.operand, scope, sn, st)
            return K(not v.const, BOOL) if v.isconst else Val(BOOL, code=f"(not {v.code})")
        v = self.int_value(node.operand, scope, sn, st)
        if isinstance(node.op, ast.USub):
            if v.isconst:
                return K(-v.const, TInt(-v.const, -v.const))
            t = TInt(-v.type.hi, -v.type.lo) if isinstance(v.type, TInt) and v.type.bounded() else INT
            return Val(t, code=f"(-{v.code})")
        return v

    def visit_BinOp(self, node, scope, sn, st):
        return self.binop(node, scope, sn, st)

    def visit_Compare(self, node, scope, sn, st):
        return self.compare(node, scope, sn, st)

    def visit_IfExp(self, node, scope, sn, st):
        m = self.m
        c = self.bool_value(node.test, scope, sn, st)
        if c.isconst:
            return self.expr(node.body if c.const else node.orelse, scope, sn, st)
        a = self.value(node.body, scope, sn, st)
        b = self.value(node.orelse, scope, sn, st)
        if not compatible(a.type, b.type):
            raise sn.error(node, f"the two branches have different types: {kind(a.type)} and {kind(b.type)}")
        return Val(join(a.type, b.type), code=f"({a.src(m)} if {c.code} else {b.src(m)})")

    def visit_Attribute(self, node, scope, sn, st):
        return self.attribute(node, scope, sn, st)

    def visit_Subscript(self, node, scope, sn, st):
        return self.subscript(node, scope, sn, st)

    def visit_Call(self, node, scope, sn, st):
        return self.call(node, scope, sn, st)

    def visit_List(self, node, scope, sn, st):
        vals = [self.value(e, scope, sn, st) for e in node.elts]
        if all(v.isconst for v in vals):
            t = ANY
            for v in vals:
                t = join(t, v.type)
            return K(tuple(v.const for v in vals), TList(t))
        raise sn.error(node, "a list literal must contain constants only")

    visit_Tuple = visit_List

    def visit_GeneratorExp(self, node, scope, sn, st):
        raise sn.error(node, "a generator must be the argument of all, any, sum, len, min or max")

    def fold_boolop(self, vals, is_and):
        codes = []
        for v in vals:
            if v.isconst:
                if bool(v.const) != is_and:  # False in `and`, True in `or`
                    return K(not is_and, BOOL)
                continue
            codes.append(v.code)
        if not codes:
            return K(is_and, BOOL)
        if len(codes) == 1:
            return Val(BOOL, code=codes[0])
        return Val(BOOL, code="(" + (" and " if is_and else " or ").join(codes) + ")")

    def binop(self, node, scope, sn, st):
        a = self.int_value(node.left, scope, sn, st)
        b = self.int_value(node.right, scope, sn, st)
        op = node.op
        sym = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%"}.get(type(op))
        if sym is None:
            raise sn.error(node, "operator not allowed")
        if sym in ("//", "%") and b.isconst and b.const == 0:
            raise sn.error(node.right, "division by zero")
        if a.isconst and b.isconst:
            x, y = a.const, b.const
            r = {"+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y,
                 "//": lambda: x // y, "%": lambda: x % y}[sym]()
            if abs(r) > 2**62:
                raise sn.error(node, "integer result is too large")
            return K(r, TInt(r, r))
        t = INT
        ta, tb = a.type, b.type
        if isinstance(ta, TInt) and isinstance(tb, TInt) and ta.bounded() and tb.bounded():
            if sym == "+":
                t = TInt(ta.lo + tb.lo, ta.hi + tb.hi)
            elif sym == "-":
                t = TInt(ta.lo - tb.hi, ta.hi - tb.lo)
            elif sym == "*":
                c = [ta.lo * tb.lo, ta.lo * tb.hi, ta.hi * tb.lo, ta.hi * tb.hi]
                t = TInt(min(c), max(c))
        if sym in ("//", "%") and not b.isconst:
            pi = self.m.pos_index(sn.pos(node.right))
            return Val(t, code=f"_div({a.src(self.m)}, {b.code}, {pi}, {sym == '%'})")
        return Val(t, code=f"({a.src(self.m)} {sym} {b.src(self.m)})")

    def compare(self, node, scope, sn, st):
        m = self.m
        terms = []
        left_node = node.left
        left = self.value(left_node, scope, sn, st)
        for op, right_node in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                coll = self.value(right_node, scope, sn, st)
                if not coll.isconst and isinstance(coll.type, TList):
                    neg = isinstance(op, ast.NotIn)
                    terms.append(Val(BOOL, code=f"({left.src(m)} {'not in' if neg else 'in'} {coll.code})"))
                    left = coll
                    continue
                if not coll.isconst or not isinstance(coll.type, (TSet, TList)):
                    raise sn.error(right_node, "the right side of 'in' must be a set or a constant list")
                members = coll.const.values if isinstance(coll.const, SetInfo) else list(coll.const)
                etype = coll.type.elem
                if not compatible(left.type, etype) and members:
                    raise sn.error(node, f"cannot test a {kind(left.type)} for membership in a collection of {kind(etype)}")
                neg = isinstance(op, ast.NotIn)
                if left.isconst:
                    terms.append(K((left.const in members) != neg, BOOL))
                else:
                    fs = m.embed_raw(frozenset(members))
                    terms.append(Val(BOOL, code=f"({left.code} {'not in' if neg else 'in'} {fs})"))
                left = coll
                continue
            right = self.value(right_node, scope, sn, st)
            if not compatible(left.type, right.type):
                raise sn.error(node, f"cannot compare {kind(left.type)} with {kind(right.type)}")
            psym = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}[type(op)]
            if psym in ("<", "<=", ">", ">=") and not (isinstance(left.type, (TInt, TAny)) and isinstance(right.type, (TInt, TAny))):
                raise sn.error(node, f"'{psym}' compares integers, not {kind(left.type)}")
            if left.isconst and right.isconst:
                r = eval_cmp(psym, left.const, right.const)
                terms.append(K(r, BOOL))
            else:
                terms.append(Val(BOOL, code=f"({left.src(m)} {psym} {right.src(m)})"))
            left = right
        return self.fold_boolop(terms, True)

    def attribute(self, node, scope, sn, st):
        base = self.expr(node.value, scope, sn, st)
        f = node.attr
        if isinstance(base, DynElem):
            m = self.m
            if f not in base.type.fields or any(f not in e for e in base.items):
                raise sn.error(node, f"the mapping has no key '{f}'" + _dym(f, base.type.fields))
            proto = base.type.fields[f]  # the kind of the field (all elements have the same shape)
            vals = tuple(e[f] for e in base.items)
            if isinstance(proto, TList):
                flat = [x for v in vals for x in v]
                et = _values_type(m, proto.elem, flat)
                sets = tuple(frozenset(v) for v in vals)
                return Val(TList(et), code=f"_lix({m.embed_raw(sets)}, {base.idx}, {base.pi})")
            if not isinstance(proto, (TBool, TInt, TSym)):
                raise sn.error(node, f"field '{f}' of a list element chosen at run time must be a bool, int, symbol or list")
            return Val(_values_type(m, proto, vals), code=f"_lix({m.embed_raw(vals)}, {base.idx}, {base.pi})")
        if isinstance(base, Ref):
            t = base.type
            if isinstance(t, TArr):
                raise sn.error(node, f"'{base.var.name}' is an array: index it before taking field '{f}'")
            if not isinstance(t, TRec):
                raise sn.error(node, f"a {kind(t)} has no field '{f}'")
            if f not in t.fields:
                raise sn.error(node, f"record {t.name} has no field '{f}'" + _dym(f, t.fields))
            return Ref(base.var, t.fields[f], base.off + t.index[f], base.dyn)
        t = base.type
        if isinstance(t, TRec):
            if f not in t.fields:
                raise sn.error(node, f"record {t.name} has no field '{f}'" + _dym(f, t.fields))
            i = t.index[f]
            if base.isconst:
                return K(base.const[i], t.fields[f])
            return Val(t.fields[f], code=f"{base.code}[{i}]")
        if isinstance(t, TMap) and base.isconst:
            if f not in t.fields:
                raise sn.error(node, f"the mapping has no key '{f}'" + _dym(f, t.fields))
            return K(base.const[f], t.fields[f])
        raise sn.error(node, f"a {kind(t)} has no fields")

    def subscript(self, node, scope, sn, st):
        m = self.m
        base = self.expr(node.value, scope, sn, st)
        idx = self.value(node.slice, scope, sn, st)
        if isinstance(base, Ref):
            t = base.type
            if not isinstance(t, TArr):
                raise sn.error(node, f"a {kind(t)} cannot be indexed")
            s0 = t.sets[0]
            stride = base.var.strides()[len(base.var.sets) - len(t.sets)]
            rest = TArr(t.sets[1:], t.elem) if len(t.sets) > 1 else t.elem
            if not compatible(idx.type, s0.elem_type):
                raise sn.error(node.slice, f"index of '{base.var.name}' must be an element of {s0.name}, found {kind(idx.type)}")
            if idx.isconst:
                if idx.const not in s0.position:
                    raise sn.error(node.slice, f"index {m.show(idx.const, idx.type)} is not in {s0.name}")
                return Ref(base.var, rest, base.off + s0.position[idx.const] * stride, base.dyn)
            if s0.values == list(range(len(s0))):
                pi = m.pos_index(sn.pos(node.slice))
                code = f"_ix({idx.code}, {len(s0)}, {pi})"
            else:
                table = m.embed_raw(dict(s0.position))
                pi = m.pos_index(sn.pos(node.slice))
                code = f"_ixd({table}, {idx.code}, {pi})"
            return Ref(base.var, rest, base.off, base.dyn + ((code, stride),))
        t = base.type
        if isinstance(t, TList) and base.isconst:
            if not isinstance(idx.type, (TInt, TAny)):
                raise sn.error(node.slice, f"a list is indexed by an integer, found {kind(idx.type)}")
            if idx.isconst:
                if not 0 <= idx.const < len(base.const):
                    raise sn.error(node.slice, f"index {idx.const} is out of range (the list has {len(base.const)} elements)")
                return K(base.const[idx.const], t.elem)
            pi = m.pos_index(sn.pos(node.slice))
            if isinstance(t.elem, TMap):
                return DynElem(tuple(base.const), idx.code, t.elem, pi)
            if not isinstance(t.elem, (TBool, TInt, TSym)):
                raise sn.error(node.slice, "a list of lists can only be indexed by a constant (a parameter or loop variable)")
            return Val(t.elem, code=f"_lix({m.embed_raw(tuple(base.const))}, {idx.code}, {pi})")
        if isinstance(t, TMap) and base.isconst:
            if idx.isconst:
                key = m.show(idx.const, idx.type)
                if key not in base.const:
                    raise sn.error(node.slice, f"the mapping has no key '{key}'" + _dym(key, base.const))
                return K(base.const[key], t.fields[key])
            raise sn.error(node.slice, "a constant mapping can only be indexed by a constant")
        raise sn.error(node, f"a {kind(t)} cannot be indexed")
