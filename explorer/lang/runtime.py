"""The runtime the generated module sees: its only globals besides embedded constants."""

from __future__ import annotations

from ..errors import EvalError

def _chk(v, dom, pi):
    if v not in dom:
        raise EvalError(pi, f"value {v!r} is outside the variable's domain")
    return v


def _ix(v, n, pi):
    if not 0 <= v < n:
        raise EvalError(pi, f"index {v} is out of range")
    return v


def _ixd(table, v, pi):
    try:
        return table[v]
    except KeyError:
        raise EvalError(pi, "index is not an element of the array's set") from None


def _lix(tup, i, pi):
    if not 0 <= i < len(tup):
        raise EvalError(pi, f"index {i} is out of range (the list has {len(tup)} elements)")
    return tup[i]


def _div(a, b, pi, mod):
    if b == 0:
        raise EvalError(pi, "division by zero")
    return a % b if mod else a // b


def _minmax(fn, pairs, pi):
    vals = [e for c, e in pairs if c]
    if not vals:
        raise EvalError(pi, f"{fn.__name__}() of an empty set")
    return fn(vals)


RUNTIME = {"_ONCE": (0,), "_chk": _chk, "_ix": _ix, "_ixd": _ixd, "_lix": _lix, "_div": _div,
           "_minmax": _minmax, "EvalError": EvalError, "__builtins__": {"min": min, "max": max,
           "tuple": tuple, "list": list, "range": range, "len": len, "bool": bool}}


# ------------------------------------------------------------------------------------------------
