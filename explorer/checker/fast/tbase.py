"""What the translator's parts share: the error it raises, literal helpers, the set value."""

from __future__ import annotations

import ast
import re


class Unsupported(Exception):
    """The generated Python uses something the translator does not handle."""


_LOCAL_RE = re.compile(r"^_[a-z]\d+$")
_K_RE = re.compile(r"^_K\d+$")
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1


def _int_const(node):
    """An int (or bool) literal, possibly negated, or None."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, bool):
        return int(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _int_const(node.operand)
        return None if v is None else -v
    return None


class SetVal:
    """A set chosen at run time from a constant tuple of sets: the tuple's name and the index."""

    def __init__(self, kname, idx):
        self.kname, self.idx = kname, idx



def _c(v: int) -> str:
    v = int(v)
    if v == INT64_MIN + 1 or v < -2**62 or v > 2**62:
        return f"((V){v}LL)"
    return f"((V){v})" if v < 0 else str(v)
