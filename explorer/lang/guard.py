"""The generated module is checked before it is run.

The compiler emits a small, known subset of Python: functions of `state`, assignments, `for` and
`if`, arithmetic and comparisons on slots, calls of a few runtime helpers. Anything else in the
generated source (an import, an attribute walk, a dunder, a string constant, a call of something
the compiler never calls) means text from the input reached the source, and the module is refused
before `exec` sees it. The allow-list below is the whole of what the compiler may emit.
"""

from __future__ import annotations

import ast
import re

from ..errors import SpecError

NODES = frozenset({
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.For, ast.If,
    ast.Expr, ast.Continue, ast.Pass, ast.Name, ast.Load, ast.Store, ast.Constant, ast.Tuple,
    ast.List, ast.Subscript, ast.Slice, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
    ast.Call, ast.Attribute,
    ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.Not, ast.USub, ast.And, ast.Or,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
})
# the functions of a model (observations too), and of a composed model of several worlds (`_next_w3`)
FUNCTIONS = re.compile(r"(_init|_next|_inv_first|_inv\d+|_probe\d+|_act\d+|_obs\d+)(_w\d+)?")
NAMES = re.compile(r"state|s|out|_app|_once|_ONCE|_DEFAULT|_K\d+|_[tsblao]\d+"
                   r"|_chk|_ix|_ixd|_lix|_div|_minmax|min|max|tuple|list|range|len|bool|" + FUNCTIONS.pattern)
CALLS = frozenset({"_app", "_chk", "_ix", "_ixd", "_lix", "_div", "_minmax", "min", "max", "tuple",
                   "list", "range", "len", "bool"})
METHODS = {"copy": re.compile(r"_s\d+"), "append": re.compile(r"out")}


class GeneratedCodeError(SpecError):
    """The generated module holds something the compiler never emits (exit code 2)."""


def _refuse(node, what):
    line = getattr(node, "lineno", 0)
    raise GeneratedCodeError(None, f"the generated code contains {what} (line {line}), which the compiler "
                                   "never emits: some text of the input reached the code; refusing to run it")


def _check_node(node):
    if type(node) not in NODES:
        _refuse(node, f"a '{type(node).__name__}' node")
    if isinstance(node, ast.FunctionDef):
        a = node.args
        if not FUNCTIONS.fullmatch(node.name) or node.decorator_list or node.returns or a.defaults \
                or a.kw_defaults or a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs \
                or [x.arg for x in a.args] not in ([], ["state"]) or any(x.annotation for x in a.args):
            _refuse(node, f"a function '{node.name}' of an unexpected shape")
    elif isinstance(node, ast.Name) and not NAMES.fullmatch(node.id):
        _refuse(node, f"the name '{node.id}'")
    elif isinstance(node, ast.Constant) and (type(node.value) not in (int, bool) or abs(node.value) > 2**63):
        _refuse(node, f"the constant {node.value!r:.40}")
    elif isinstance(node, ast.Attribute):
        pattern = METHODS.get(node.attr)
        if pattern is None or not isinstance(node.value, ast.Name) or not pattern.fullmatch(node.value.id) \
                or not isinstance(node.ctx, ast.Load):
            _refuse(node, f"the attribute '.{node.attr}'")
    elif isinstance(node, ast.Call):
        f = node.func
        called = isinstance(f, ast.Name) and (f.id in CALLS or FUNCTIONS.fullmatch(f.id))
        if node.keywords or not (called or isinstance(f, ast.Attribute)):
            _refuse(node, "a call of something the compiler never calls")
    elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Del):
        _refuse(node, "a deletion")


def check_generated(source: str, filename: str):
    """Parse generated source, check every node against the allow-list; return the code object."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as e:
        _refuse(e, "a syntax error")
    if not isinstance(tree, ast.Module):  # pragma: no cover - ast.parse returns a Module
        _refuse(tree, "not a module")
    for stmt in tree.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.Assign)):
            _refuse(stmt, "a top-level statement other than a function or an assignment")
    for node in ast.walk(tree):
        _check_node(node)
    return compile(tree, filename, "exec")
