"""Compilation of checked spec expressions and statements into Python source.

Every action instance (an action with its parameters fixed) is compiled separately, with its
parameters, loop variables and constants folded, so `pte[v][p].dirty` becomes `s[17]`. Loops over
finite sets are unrolled; definitions and procedures are inlined. Nondeterminism (`either`/`or`,
`with x in SET`) becomes a loop over branches whose body holds the rest of the action, so every
branch yields its own successor; `require` ends the current branch with `continue`.

The Compiler is its stages put together: expressions (`expressions`, one visit method per node
type), calls and built-ins (`calls`), statements by continuation (`statements`), over the values
of `values`.
"""

from __future__ import annotations

import itertools

from .budget import Budget
from .calls import Calls
from .expressions import Expressions
from .statements import Statements
from .values import (BUILTINS, MAX_CODE, MAX_DOMAIN, MAX_INT, MAX_SET, Dead, DynElem, Emitter, Frame, K, Ref, Scope, Val,
                     domain_set, join, needs_check)

__all__ = ["BUILTINS", "MAX_CODE", "MAX_DOMAIN", "MAX_INT", "MAX_SET", "Compiler", "Dead", "DynElem", "Emitter", "Frame", "K",
           "Ref", "Scope", "Val", "domain_set", "join", "needs_check"]


class Compiler(Expressions, Calls, Statements):
    """Compiles expressions and statements against a model's names (see model.Model)."""

    def __init__(self, model, budget=None):
        self.m = model
        self.tmp = itertools.count()
        self.inline_stack = []  # definitions and procedures being inlined (a cycle is refused)
        self.budget = budget or Budget()

    def fresh(self, base="t") -> str:
        return f"_{base}{next(self.tmp)}"

    def all_names(self, scope):
        m = self.m
        return list(scope) + list(m.variables) + list(m.definitions) + list(m.constants) + list(m.sets) + list(m.declared_symbols)
