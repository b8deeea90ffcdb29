"""What the compiler works with: compiled values (a constant known now, or code), references
into the state, the emitter of source lines, the continuation's frames, and the small type
helpers every stage of the compiler shares."""

from __future__ import annotations

import ast
import copy

from ..errors import did_you_mean
from ..types import INT, T, TBool, TInt, TAny, TSym

BUILTINS = ("all", "any", "sum", "len", "min", "max", "implies", "range")
MAX_SET = 4096  # elements of one set (loops over sets are unrolled when compiled)
MAX_CODE = 4_000_000  # characters of generated code for one model
MAX_DOMAIN = 2**20  # values of one int variable or field
MAX_INT = 2**62  # magnitude of any integer of a spec (a value is a 64-bit integer in C)


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


class Bind(ast.stmt):
    """Internal statement: bind a loop or choice variable (never produced by the parser)."""

    _fields = ()

    def __init__(self, name, val):
        super().__init__()
        self.name = name
        self.val = val


def as_load(node):
    """A copy of an assignment target usable as an expression."""
    class Loader(ast.NodeTransformer):
        def generic_visit(self, n):
            super().generic_visit(n)
            if hasattr(n, "ctx"):
                n.ctx = ast.Load()
            return n

    return Loader().visit(copy.deepcopy(node))


def values_type(m, kind_t, vals):
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


def dym(name, candidates):
    return did_you_mean(name, candidates)

