"""Compilation of checked spec expressions and statements into Python source.

Every action instance (an action with its parameters fixed) is compiled separately, with its
parameters, loop variables and constants folded, so `pte[v][p].dirty` becomes `s[17]`. Loops over
finite sets are unrolled; definitions and procedures are inlined. Nondeterminism (`either`/`or`,
`with x in SET`) becomes a loop over branches whose body holds the rest of the action, so every
branch yields its own successor; `require` ends the current branch with `continue`.
"""

from __future__ import annotations

import ast
import itertools

from ..errors import SpecError
from .budget import Budget
from .syntax import Snippet, either_branches, is_either, is_require
from ..types import (ANY, BOOL, INT, SetInfo, T, TAny, TArr, TBool, TInt, TList, TMap, TRec, TSet,
                    TSym, compatible, kind)

BUILTINS = ("all", "any", "sum", "len", "min", "max", "implies", "range")
MAX_SET = 4096  # elements of one set (loops over sets are unrolled when compiled)
MAX_CODE = 4_000_000  # characters of generated code for one model
MAX_DOMAIN = 2**20  # values of one int variable or field


# ----------------------------------------------------------------------------------------------
# values during compilation
class Val:
    """A compiled expression: either a constant known now, or Python code computing it."""

    __slots__ = ("code", "const", "isconst", "type")

    def __init__(self, type_: T, code: str | None = None, const=None, isconst=False):
        self.type = type_
        self.code = code
        self.const = const
        self.isconst = isconst

    def src(self, model) -> str:
        if self.isconst:
            return model.embed(self.const, self.type)
        return self.code


def K(value, type_: T) -> Val:
    return Val(type_, const=value, isconst=True)


class Ref:
    """A reference to (part of) a state variable: offset = const + sum(code_i * stride_i)."""

    __slots__ = ("var", "type", "off", "dyn")

    def __init__(self, var, type_, off=0, dyn=()):
        self.var = var
        self.type = type_
        self.off = off
        self.dyn = tuple(dyn)

    def offset_code(self) -> str:
        if not self.dyn:
            return str(self.off)
        parts = [str(self.off)] if self.off else []
        parts += [f"{c}*{st}" if st != 1 else c for c, st in self.dyn]
        return " + ".join(parts)


class DynElem:
    """An element of a constant list picked by a value known only at run time (its fields are
    read through tuples of the elements' field values)."""

    __slots__ = ("items", "idx", "type", "pi")

    def __init__(self, items, idx, type_, pi):
        self.items = items
        self.idx = idx
        self.type = type_
        self.pi = pi


def join(a: T, b: T) -> T:
    if isinstance(a, TAny):
        return b
    if isinstance(b, TAny):
        return a
    if isinstance(a, TInt) and isinstance(b, TInt):
        if a.bounded() and b.bounded():
            return TInt(min(a.lo, b.lo), max(a.hi, b.hi))
        return INT
    if isinstance(a, TSym) and isinstance(b, TSym):
        if a.symbols is not None and b.symbols is not None:
            return TSym(list(dict.fromkeys(a.symbols + b.symbols)))
        return TSym()
    return a


# ----------------------------------------------------------------------------------------------
class Emitter:
    """Lines of Python source with indentation."""

    def __init__(self, indent=0):
        self.lines = []
        self.indent = indent

    def emit(self, line: str):
        self.lines.append("    " * self.indent + line)

    def extend(self, other: "Emitter"):
        self.lines.extend(other.lines)


class Frame:
    """One level of the continuation: statements still to run, their snippet and scope."""

    __slots__ = ("stmts", "i", "sn", "scope", "proc", "ret", "call")

    def __init__(self, stmts, i, sn, scope, proc=None, ret=None, call=None):
        self.stmts = stmts
        self.i = i
        self.sn = sn
        self.scope = scope
        self.proc = proc  # name of the procedure whose body this frame runs
        self.ret = ret  # (local name, caller scope) receiving the procedure's return value
        self.call = call  # (call node, caller snippet) for error positions


class Scope(dict):
    """Local bindings of one activation (action, procedure call): name -> Val or Ref."""


class Dead(Exception):
    """The path being compiled can never complete (a require folded to False)."""


# ----------------------------------------------------------------------------------------------
class Compiler:
    """Compiles expressions and statements against a model's names (see model.Model)."""

    def __init__(self, model, budget=None):
        self.m = model
        self.tmp = itertools.count()
        self.inline_stack = []
        self.budget = budget or Budget()

    # --- names -------------------------------------------------------------------------------
    def fresh(self, base="t") -> str:
        return f"_{base}{next(self.tmp)}"

    def all_names(self, scope):
        m = self.m
        return list(scope) + list(m.variables) + list(m.definitions) + list(m.constants) + list(m.sets) + list(m.declared_symbols)

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

    # --- expressions ---------------------------------------------------------------------------
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
        m = self.m
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                return K(v, BOOL)
            if isinstance(v, int):
                return K(v, TInt(v, v))
            if isinstance(v, str):
                if v not in m.symbol_ids:
                    raise sn.error(node, f"symbol '{v}' is not declared in any enum type, set or constant" + _dym(v, m.declared_symbols))
                return K(m.symbol_id(v), TSym([v]))
        if isinstance(node, ast.Name):
            return self.resolve(node, node.id, scope, sn, st)
        if isinstance(node, ast.BoolOp):
            vals = [self.bool_value(x, scope, sn, st) for x in node.values]
            is_and = isinstance(node.op, ast.And)
            return self.fold_boolop(vals, is_and)
        if isinstance(node, ast.UnaryOp):
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
        if isinstance(node, ast.BinOp):
            return self.binop(node, scope, sn, st)
        if isinstance(node, ast.Compare):
            return self.compare(node, scope, sn, st)
        if isinstance(node, ast.IfExp):
            c = self.bool_value(node.test, scope, sn, st)
            if c.isconst:
                return self.expr(node.body if c.const else node.orelse, scope, sn, st)
            a = self.value(node.body, scope, sn, st)
            b = self.value(node.orelse, scope, sn, st)
            if not compatible(a.type, b.type):
                raise sn.error(node, f"the two branches have different types: {kind(a.type)} and {kind(b.type)}")
            return Val(join(a.type, b.type), code=f"({a.src(m)} if {c.code} else {b.src(m)})")
        if isinstance(node, ast.Attribute):
            return self.attribute(node, scope, sn, st)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, scope, sn, st)
        if isinstance(node, ast.Call):
            return self.call(node, scope, sn, st)
        if isinstance(node, (ast.List, ast.Tuple)):
            vals = [self.value(e, scope, sn, st) for e in node.elts]
            if all(v.isconst for v in vals):
                t = ANY
                for v in vals:
                    t = join(t, v.type)
                return K(tuple(v.const for v in vals), TList(t))
            raise sn.error(node, "a list literal must contain constants only")
        if isinstance(node, ast.GeneratorExp):
            raise sn.error(node, "a generator must be the argument of all, any, sum, len, min or max")
        raise sn.error(node, f"'{type(node).__name__}' is not allowed in an expression")

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
            if name in ("all", "any"):
                terms = []
                for c, e in items:
                    if e.type is not BOOL and not isinstance(e.type, (TBool, TAny)):
                        raise sn.error(args[0].elt, f"{name}() needs boolean elements, found {kind(e.type)}")
                    if name == "all":
                        nc = K(not c.const, BOOL) if c.isconst else Val(BOOL, code=f"(not {c.code})")
                        terms.append(self.fold_boolop([nc, e], False))
                    else:
                        terms.append(self.fold_boolop([c, e], True))
                return self.fold_boolop(terms, name == "all")
            if name in ("sum", "len"):
                total = 0
                codes = []
                lo = hi = 0
                for c, e in items:
                    if name == "len":
                        e = K(1, TInt(1, 1))
                    elif not isinstance(e.type, (TInt, TAny)):
                        raise sn.error(args[0].elt, f"sum() needs integer elements, found {kind(e.type)}")
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
            if name in ("min", "max"):
                if not items:
                    raise sn.error(node, f"{name}() of an empty set")
                for c, e in items:
                    if not isinstance(e.type, (TInt, TAny)):
                        raise sn.error(args[0].elt, f"{name}() needs integer elements, found {kind(e.type)}")
                t = INT
                if all(c.isconst for c, _ in items):
                    if all(e.isconst for _, e in items):
                        r = (min if name == "min" else max)(e.const for _, e in items)
                        return K(r, TInt(r, r))
                    return Val(t, code=f"{name}(" + ", ".join(e.src(m) for _, e in items) + ")")
                pi = m.pos_index(sn.pos(node))
                pairs = ", ".join(f"({c.src(m)}, {e.src(m)})" for c, e in items)
                return Val(t, code=f"_minmax({name}, ({pairs},), {pi})")
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

    # --- statements ------------------------------------------------------------------------------
    def compile_effect(self, out: Emitter, frames, finish):
        """Compile the continuation `frames` (innermost last) into `out`; `finish(out)` emits the end."""
        try:
            self.run(out, list(frames), finish)
        except Dead:
            out.emit("continue")

    def run(self, out: Emitter, frames, finish):
        m = self.m
        while frames:
            self.budget.charge("compiling statements")
            fr = frames[-1]
            if fr.i >= len(fr.stmts):
                frames.pop()
                if fr.proc is not None:
                    self.inline_stack.pop()
                    if fr.ret is not None:
                        node, csn = fr.call
                        raise csn.error(node, f"procedure '{fr.proc}' can end without 'return' on some path, but its value is used here")
                continue
            stmt = fr.stmts[fr.i]
            fr.i += 1
            sn, scope = fr.sn, fr.scope
            if isinstance(stmt, ast.Pass):
                continue
            if isinstance(stmt, ast.Return):
                self.do_return(out, stmt, frames, sn, scope)
                continue
            if is_require(stmt):
                call = stmt.value
                if len(call.args) != 1 or call.keywords:
                    raise sn.error(stmt, "require takes one condition")
                c = self.bool_value(call.args[0], scope, sn, "s")
                if c.isconst:
                    if not c.const:
                        raise Dead()
                    continue
                out.emit(f"if not {c.code}: continue")
                continue
            if is_either(stmt):
                branches = either_branches(stmt)
                self.branch(out, frames, finish, [(b, None) for b in branches], sn)
                return
            if isinstance(stmt, ast.With):
                item = stmt.items[0]
                if item.optional_vars is not None or not (isinstance(item.context_expr, ast.Compare)
                                                          and len(item.context_expr.ops) == 1
                                                          and isinstance(item.context_expr.ops[0], ast.In)
                                                          and isinstance(item.context_expr.left, ast.Name)):
                    raise sn.error(stmt, "write a nondeterministic choice as 'with x in SET:'")
                var = item.context_expr.left.id
                self.check_local_name(var, stmt, sn, scope)
                s = self.set_value(item.context_expr.comparators[0], scope, sn, "s")
                self.branch(out, frames, finish, [(stmt.body, (var, K(x, s.elem_type))) for x in s.values], sn)
                return
            if isinstance(stmt, ast.If):
                c = self.bool_value(stmt.test, scope, sn, "s")
                if c.isconst:
                    body = stmt.body if c.const else stmt.orelse
                    frames.append(Frame(body, 0, sn, scope))
                    continue
                if self.has_nondet(stmt.body + stmt.orelse, sn):
                    saved = self.inline_stack[:]
                    for cond, body in ((c.code, stmt.body), (f"not {c.code}", stmt.orelse)):
                        out.emit(f"if {cond}:")
                        sub = Emitter(out.indent + 1)
                        self.inline_stack[:] = saved
                        self.fork(sub, frames, finish, body, None, sn)
                        out.extend(sub)
                    self.inline_stack[:] = saved
                    out.emit("continue")
                    return
                self.det_if(out, stmt, c, frames, sn, scope, finish)
                continue
            if isinstance(stmt, ast.For):
                if not isinstance(stmt.target, ast.Name):
                    raise sn.error(stmt.target, "the loop variable must be a single name")
                var = stmt.target.id
                self.check_local_name(var, stmt, sn, scope, allow_rebind=True)
                s = self.set_value(stmt.iter, scope, sn, "s")
                # unroll: push iterations in reverse so the first runs first
                for x in reversed(s.values):
                    frames.append(Frame([_Bind(var, K(x, s.elem_type))] + list(stmt.body), 0, sn, scope))
                continue
            if isinstance(stmt, _Bind):
                scope[stmt.name] = stmt.val
                continue
            if isinstance(stmt, ast.Expr):
                if isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id in m.procedures:
                    self.call_procedure(out, stmt.value, frames, sn, scope)
                    continue
                v = stmt.value
                if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id not in m.definitions \
                        and v.func.id not in m.types and v.func.id not in BUILTINS:
                    raise sn.error(stmt, f"unknown procedure '{v.func.id}'" + _dym(v.func.id, list(m.procedures)))
                raise sn.error(stmt, "an expression on its own does nothing: assign it, 'require' it, or call a procedure")
            if isinstance(stmt, (ast.Assign, ast.AugAssign)):
                r = self.assign(out, stmt, sn, scope)
                if r is not None:
                    _, name, call = r
                    self.call_procedure(out, call, frames, sn, scope, target=name)
                continue
            raise sn.error(stmt, f"'{type(stmt).__name__}' is not a statement of the spec language")
        finish(out)

    def check_local_name(self, name, node, sn, scope, allow_rebind=False):
        m = self.m
        for table, what in ((m.variables, "a state variable"), (m.constants, "a constant"), (m.sets, "a set"),
                            (m.definitions, "a definition"), (m.procedures, "a procedure"), (m.types, "a type")):
            if name in table:
                raise sn.error(node, f"'{name}' is {what}; choose another name for the local")
        if name in m.declared_symbols:
            raise sn.error(node, f"'{name}' is a symbol; choose another name for the local")
        if name in BUILTINS or name == "require":
            raise sn.error(node, f"'{name}' is a built-in; choose another name for the local")

    def has_nondet(self, stmts, sn, seen=None) -> bool:
        seen = seen or set()
        for node in stmts:
            for sub in ast.walk(node):
                if is_either(sub) or isinstance(sub, ast.With) or isinstance(sub, ast.Return):
                    return True
                if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id in self.m.procedures:
                    p = self.m.procedures[sub.func.id]
                    if p.name not in seen:
                        seen.add(p.name)
                        if self.has_nondet(p.stmts, p.sn, seen):
                            return True
        return False

    def copy_frames(self, frames):
        memo = {}
        out = []
        for fr in frames:
            sc = memo.get(id(fr.scope))
            if sc is None:
                sc = memo[id(fr.scope)] = Scope(fr.scope)
            ret = fr.ret
            if ret is not None:
                cs = memo.get(id(ret[1]))
                if cs is None:
                    cs = memo[id(ret[1])] = Scope(ret[1])
                ret = (ret[0], cs)
            out.append(Frame(fr.stmts, fr.i, fr.sn, sc, fr.proc, ret, fr.call))
        return out

    def fork(self, out, frames, finish, body, bind, sn):
        """Compile `body` followed by the rest of the action on a copy of the continuation."""
        fr2 = self.copy_frames(frames)
        fr2.append(Frame(([_Bind(*bind)] if bind else []) + list(body), 0, sn, fr2[-1].scope))
        try:
            self.run(out, fr2, finish)
        except Dead:
            out.emit("continue")

    def branch(self, out, frames, finish, branches, sn):
        """Nondeterministic choice: a loop over branches, each holding the rest of the action."""
        if not branches:
            raise Dead()
        n = len(branches)
        if n == 1:
            body, bind = branches[0]
            frames.append(Frame(([_Bind(*bind)] if bind else []) + list(body), 0, sn, frames[-1].scope))
            self.run(out, frames, finish)
            return
        saved = self.inline_stack[:]
        sv = self.fresh("s")
        bv = self.fresh("b")
        out.emit(f"{sv} = s")
        out.emit(f"for {bv} in range({n}):")
        loop = Emitter(out.indent + 1)
        loop.emit(f"s = {sv}.copy()")
        for k, (body, bind) in enumerate(branches):
            loop.emit(("if" if k == 0 else "elif") + f" {bv} == {k}:")
            sub = Emitter(loop.indent + 1)
            self.inline_stack[:] = saved
            self.fork(sub, frames, finish, body, bind, sn)
            loop.extend(sub)
        self.inline_stack[:] = saved
        out.extend(loop)

    def det_if(self, out, stmt, c, frames, sn, scope, finish):
        """A deterministic if: both branches compiled in place, locals merged after it."""
        results = []
        for cond, body in ((c.code, stmt.body), (None, stmt.orelse)):
            sub = Emitter(out.indent + 1)
            sc = Scope(scope)
            dead = False
            try:
                self.run(sub, [Frame(body, 0, sn, sc)], lambda o: None)
            except Dead:
                dead = True
                sub.emit("continue")
            results.append((cond, sub, sc, dead))
        # merge locals assigned in either branch
        changed = set()
        for _, _, sc, dead in results:
            if dead:
                continue
            for name, v in sc.items():
                if scope.get(name) is not v:
                    changed.add(name)
        live = [r for r in results if not r[3]]
        for name in sorted(changed):
            if all(name in r[2] for r in live) and live:
                vals = [r[2][name] for r in live]
                if all(isinstance(v, Val) for v in vals):
                    t = ANY
                    for v in vals:
                        t = join(t, v.type)
                    phi = self.fresh("l")
                    for r in live:
                        r[1].emit(f"{phi} = {r[2][name].src(self.m)}")
                    scope[name] = Val(t, code=phi)
                    continue
            scope.pop(name, None)
        then, els = results[0], results[1]
        out.emit(f"if {c.code}:")
        if not then[1].lines:
            then[1].emit("pass")
        out.extend(then[1])
        if els[1].lines:
            out.emit("else:")
            out.extend(els[1])

    def do_return(self, out, stmt, frames, sn, scope):
        """`return [EXPR]` in a procedure: leave its frames; bind the value where the call asked for it."""
        k = len(frames) - 1
        while k >= 0 and frames[k].proc is None:
            k -= 1
        if k < 0:
            raise sn.error(stmt, "'return' belongs in a procedure; an action ends at the end of its effect")
        val = None
        if stmt.value is not None:
            val = self.value(stmt.value, scope, sn, "s")
        proc_frame = frames[k]
        for fr in frames[k:]:
            if fr.proc is not None:
                self.inline_stack.pop()
        del frames[k:]
        if proc_frame.ret is not None:
            name, caller_scope = proc_frame.ret
            if val is None:
                node, csn = proc_frame.call
                raise sn.error(stmt, f"procedure '{proc_frame.proc}' returns no value here, but its value is used at {csn.pos(node)}")
            if val.isconst:
                caller_scope[name] = val
            else:
                py = self.fresh("l")
                out.emit(f"{py} = {val.code}")
                caller_scope[name] = Val(val.type, code=py)

    def call_procedure(self, out, call, frames, sn, scope, target=None):
        m = self.m
        p = m.procedures[call.func.id]
        if call.keywords:
            raise sn.error(call, "procedures take positional arguments only")
        if len(call.args) != len(p.params):
            raise sn.error(call, f"procedure '{p.name}' takes {len(p.params)} argument(s), {len(call.args)} given")
        if p.name in self.inline_stack:
            chain = " -> ".join(self.inline_stack[self.inline_stack.index(p.name):] + [p.name])
            raise sn.error(call, f"recursive procedure: {chain}")
        inner = Scope()
        for pname, a in zip(p.params, call.args):
            r = self.expr(a, scope, sn, "s")
            if isinstance(r, Val) and not r.isconst:
                # evaluate once, at the call
                tmp = self.fresh("a")
                out.emit(f"{tmp} = {r.code}")
                r = Val(r.type, code=tmp)
            inner[pname] = r
        self.inline_stack.append(p.name)
        ret = (target, scope) if target is not None else None
        frames.append(Frame(list(p.stmts), 0, p.sn, inner, proc=p.name, ret=ret, call=(call, sn)))

    def assign(self, out, stmt, sn, scope):
        m = self.m
        if isinstance(stmt, ast.AugAssign):
            if not isinstance(stmt.op, (ast.Add, ast.Sub)):
                raise sn.error(stmt, "only += and -= are allowed")
            value_node = ast.BinOp(left=_as_load(stmt.target), op=stmt.op, right=stmt.value)
            ast.copy_location(value_node, stmt)
            ast.fix_missing_locations(value_node)
            targets = [stmt.target]
        else:
            if len(stmt.targets) != 1:
                raise sn.error(stmt, "assign one target at a time")
            targets = stmt.targets
            value_node = stmt.value
        target = targets[0]
        if isinstance(target, ast.Tuple):
            raise sn.error(target, "assign one target at a time")
        if isinstance(value_node, ast.Call) and isinstance(value_node.func, ast.Name) and value_node.func.id in m.procedures:
            if not isinstance(target, ast.Name) or isinstance(scope.get(target.id), Ref) or target.id in m.variables:
                raise sn.error(target, "assign a procedure's value to a local first, then store the local")
            self.check_local_name(target.id, target, sn, scope)
            return ("call", target.id, value_node)
        if isinstance(target, ast.Name) and not isinstance(scope.get(target.id), Ref) and target.id not in m.variables:
            self.check_local_name(target.id, target, sn, scope)
            v = self.value(value_node, scope, sn, "s")
            if isinstance(v.type, (TSet, TList, TMap)) and not v.isconst:
                raise sn.error(value_node, "locals hold values, not collections")
            if v.isconst:
                scope[target.id] = v
            else:
                name = self.fresh("l")
                out.emit(f"{name} = {v.code}")
                scope[target.id] = Val(v.type, code=name)
            return
        ref = self.expr(_as_load(target), scope, sn, "s")
        if not isinstance(ref, Ref):
            raise sn.error(target, "only state variables, their elements and fields, and locals can be assigned")
        v = self.value(value_node, scope, sn, "s")
        self.write(out, ref, v, sn, value_node, target)

    def write(self, out, ref: Ref, v: Val, sn, value_node, target):
        m = self.m
        t = ref.type
        if isinstance(t, TArr):
            raise sn.error(target, f"'{ref.var.name}' is an array: assign its elements")
        if not compatible(v.type, t) or (isinstance(t, TRec) and not (isinstance(v.type, TRec) and v.type.name == t.name)):
            raise sn.error(value_node, f"cannot assign a {kind(v.type)} to '{ref.var.name}', which holds {kind(t)}")
        off = ref.offset_code()
        if ref.dyn:
            o = self.fresh("o")
            out.emit(f"{o} = {off}")
            off = o
        if isinstance(t, TRec):
            n = len(t.fields)
            if v.isconst:
                for i, (fname, ft) in enumerate(t.fields.items()):
                    m.check_in_domain(v.const[i], ft, ft, sn.pos(value_node), f"field '{fname}'")
                if ref.dyn:
                    out.emit(f"s[{off}:{off}+{n}] = {m.embed(v.const, t)}")
                else:
                    for i in range(n):
                        out.emit(f"s[{ref.off + i}] = {m.embed(v.const[i], t.fields[list(t.fields)[i]])}")
            else:
                if ref.dyn:
                    out.emit(f"s[{off}:{off}+{n}] = {v.code}")
                else:
                    out.emit(f"s[{ref.off}:{ref.off + n}] = {v.code}")
            return
        if v.isconst:
            m.check_in_domain(v.const, v.type, t, sn.pos(value_node), f"'{ref.var.name}'")
            out.emit(f"s[{off}] = {m.embed(v.const, t)}")
            return
        if needs_check(v.type, t):
            pi = m.pos_index(sn.pos(value_node))
            out.emit(f"s[{off}] = _chk({v.code}, {m.embed_raw(domain_set(m, t))}, {pi})")
        else:
            out.emit(f"s[{off}] = {v.code}")


class _Bind(ast.stmt):
    """Internal statement: bind a loop or choice variable (never produced by the parser)."""

    _fields = ()

    def __init__(self, name, val):
        super().__init__()
        self.name = name
        self.val = val


def _as_load(node):
    """A copy of an assignment target usable as an expression."""
    class Loader(ast.NodeTransformer):
        def generic_visit(self, n):
            super().generic_visit(n)
            if hasattr(n, "ctx"):
                n.ctx = ast.Load()
            return n

    import copy
    return Loader().visit(copy.deepcopy(node))


def _values_type(m, kind_t, vals):
    """The type of a field over several constant values: the union of their symbols or ranges."""
    if isinstance(kind_t, TSym):
        return TSym(list(dict.fromkeys(m.symbols[v] for v in vals)))
    if isinstance(kind_t, TInt) and vals:
        return TInt(min(vals), max(vals))
    if isinstance(kind_t, TInt):
        return INT
    return kind_t


def needs_check(src: T, dst: T) -> bool:
    if isinstance(dst, TBool):
        return not isinstance(src, TBool)
    if isinstance(dst, TInt):
        return not (isinstance(src, TInt) and src.bounded() and dst.lo <= src.lo and src.hi <= dst.hi)
    if isinstance(dst, TSym):
        if isinstance(src, TSym) and src.symbols is not None and dst.symbols is not None:
            return not set(src.symbols) <= set(dst.symbols)
        return True
    return False


def domain_set(m, t: T):
    if isinstance(t, TBool):
        return frozenset((False, True))
    if isinstance(t, TInt):
        values = range(t.lo, t.hi + 1)  # `in` on a range is arithmetic, not a search
        return frozenset(values) if len(values) <= MAX_SET else values
    if isinstance(t, TSym):
        return frozenset(m.symbol_id(s) for s in t.symbols)
    raise TypeError(t)


def eval_cmp(op, x, y):
    if op == "==":
        return x == y
    if op == "!=":
        return x != y
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    return x >= y


def _dym(name, candidates):
    from ..errors import did_you_mean
    return did_you_mean(name, candidates)
