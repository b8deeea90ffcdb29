"""Parsing of spec expressions and statements: a checked subset of Python syntax, with positions.

The text of a guard, effect, definition or invariant is parsed with `ast`; every node is checked
against the subset the language allows before anything else looks at it, so nothing outside the
language ever reaches the code generator. Positions of nodes are mapped back to file:line:col.

Statements beyond Python syntax (PlusCal-like):
    require EXPR            the action instance is not enabled on this path unless EXPR holds
    either: / or:          nondeterministic choice between blocks
    with x in SET:          nondeterministic choice of a value (native Python syntax)
"""

from __future__ import annotations

import ast
import re

from ..errors import Pos, SpecError
from .yamlsrc import LStr

MAX_SOURCE = 20000  # characters in one expression or statement block
MAX_NESTING = 60  # depth of the syntax tree

_EITHER = "_either_"
_EITHER_RE = re.compile(r"^(\s*)either\s*:(.*)$")
_OR_RE = re.compile(r"^(\s*)or\s*:(.*)$")
_REQUIRE_RE = re.compile(r"^(\s*)require(\s+)(\S.*)$")

EXPR_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.IfExp, ast.Name, ast.Load, ast.Store, ast.Constant, ast.Attribute, ast.Subscript,
    ast.Call, ast.keyword, ast.GeneratorExp, ast.comprehension, ast.List, ast.Tuple,
)
STMT_NODES = EXPR_NODES + (
    ast.Module, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.With, ast.withitem,
    ast.Expr, ast.Pass, ast.Return,
)

_REFUSED = {
    ast.Lambda: "lambdas are not part of the spec language",
    ast.ListComp: "list comprehensions are not part of the spec language; use all/any/sum/len/min/max over a generator",
    ast.SetComp: "set comprehensions are not part of the spec language",
    ast.DictComp: "dict comprehensions are not part of the spec language",
    ast.Dict: "dict literals are not part of the spec language; declare a constant mapping instead",
    ast.Set: "set literals are not part of the spec language; declare a set under 'sets:'",
    ast.JoinedStr: "format strings are not part of the spec language",
    ast.Pow: "the power operator is not part of the spec language",
    ast.Div: "true division is not part of the spec language; use // for integer division",
    ast.While: "while loops are not part of the spec language; iterate over a finite set with 'for x in SET:'",
    ast.Import: "imports are not part of the spec language",
    ast.ImportFrom: "imports are not part of the spec language",
    ast.FunctionDef: "function definitions are not part of the spec language; use 'definitions:' or 'procedures:'",
    ast.ClassDef: "class definitions are not part of the spec language",
    ast.Yield: "yield is not part of the spec language",
    ast.Await: "await is not part of the spec language",
    ast.NamedExpr: "the walrus operator is not part of the spec language",
    ast.Starred: "starred expressions are not part of the spec language",
    ast.Slice: "slices are not part of the spec language",
    ast.Global: "global is not part of the spec language",
    ast.Nonlocal: "nonlocal is not part of the spec language",
    ast.Delete: "del is not part of the spec language",
    ast.Try: "try is not part of the spec language",
    ast.Raise: "raise is not part of the spec language",
    ast.Assert: "assert is not part of the spec language; write an invariant or 'require'",
    ast.Break: "break is not part of the spec language",
    ast.Continue: "continue is not part of the spec language",
}


class Snippet:
    """One expression or statement block from a spec file, parsed and checked."""

    def __init__(self, text, pos: Pos | None = None, what: str = "expression"):
        if isinstance(text, bool) or isinstance(text, int):
            text_str = "True" if text is True else "False" if text is False else str(text)
        elif isinstance(text, str):
            text_str = str(text)
        else:
            raise SpecError(pos or getattr(text, "pos", None), f"expected {what} text, found {type(text).__name__}")
        self.raw = text if isinstance(text, LStr) else None
        self.text = text_str
        self.base_pos = pos or (text.pos if isinstance(text, LStr) else Pos("<input>", 1, 1))
        self.what = what
        self.line_delta = {}  # processed line -> list of (from_col, delta) adjustments
        self.prefix = 0  # characters prepended to the first line
        self.lines_offset = []  # start offset of each processed line in the original text

    # --- positions -------------------------------------------------------------------------
    def pos(self, node) -> Pos:
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        return self.pos_lc(line, col)

    def pos_lc(self, line: int, col: int) -> Pos:
        """Map a (1-based line, 0-based col) of the processed text to the file."""
        if line == 1:
            col -= self.prefix
        for from_col, delta in self.line_delta.get(line, ()):
            if col >= from_col:
                col -= delta
        col = max(col, 0)
        lines = self.text.split("\n")
        line = min(max(line, 1), len(lines))
        offset = sum(len(l) + 1 for l in lines[: line - 1]) + min(col, len(lines[line - 1]))
        if self.raw is not None:
            return self.raw.pos_at(offset)
        b = self.base_pos
        if line == 1:
            return Pos(b.file, b.line, b.col + col)
        return Pos(b.file, b.line + line - 1, col + 1)

    def error(self, node, message: str) -> SpecError:
        return SpecError(self.pos(node), message)

    # --- parsing ---------------------------------------------------------------------------
    def _guard_size(self):
        if len(self.text) > MAX_SOURCE:
            raise SpecError(self.base_pos, f"{self.what} is longer than {MAX_SOURCE} characters")
        depth = 0
        deepest = 0
        for ch in self.text:
            if ch in "([{":
                depth += 1
                deepest = max(deepest, depth)
            elif ch in ")]}":
                depth -= 1
        if deepest > MAX_NESTING // 2:
            raise SpecError(self.base_pos, f"{self.what} nests brackets more than {MAX_NESTING // 2} deep")
        if re.search(r"(?<![\w])__|__(?![\w])|\b__\w*", self.text) and "__" in self.text:
            i = self.text.index("__")
            raise SpecError(self._offset_pos(i), "names with double underscores are not part of the spec language")
        if _EITHER in self.text:
            i = self.text.index(_EITHER)
            raise SpecError(self._offset_pos(i), f"'{_EITHER}' is a reserved name")

    def _offset_pos(self, offset: int) -> Pos:
        if self.raw is not None:
            return self.raw.pos_at(offset)
        before = self.text[:offset]
        line = before.count("\n")
        col = offset - (before.rfind("\n") + 1)
        b = self.base_pos
        return Pos(b.file, b.line + line, (b.col + col) if line == 0 else col + 1)

    def parse_expr(self) -> ast.AST:
        self._guard_size()
        src = self.text
        if "\n" in src.strip():
            self.prefix = 1
            src = "(" + src + "\n)"
        else:
            lead = len(src) - len(src.lstrip())
            src = src.strip()
            self.prefix = -lead
        return self._parse(src, "eval", EXPR_NODES)

    def parse_stmts(self) -> list:
        self._guard_size()
        lines = self.text.split("\n")
        out = []
        for n, line in enumerate(lines, start=1):
            m = _EITHER_RE.match(line)
            if m:
                new = f"{m.group(1)}if {_EITHER}:{m.group(2)}"
                self.line_delta.setdefault(n, []).append((len(m.group(1)) + 1, len(new) - len(line)))
                out.append(new)
                continue
            m = _OR_RE.match(line)
            if m:
                new = f"{m.group(1)}elif {_EITHER}:{m.group(2)}"
                self.line_delta.setdefault(n, []).append((len(m.group(1)) + 1, len(new) - len(line)))
                out.append(new)
                continue
            m = _REQUIRE_RE.match(line)
            if m:
                rest = m.group(3)
                cpos = _comment_start(rest)
                body, comment = (rest[:cpos].rstrip(), rest[cpos:]) if cpos >= 0 else (rest.rstrip(), "")
                ws = m.group(2)
                out.append(f"{m.group(1)}require({ws[1:]}{body})" + (" " + comment if comment else ""))
                continue
            out.append(line)
        src = "\n".join(out)
        # dedent a block whose every line is indented (YAML folded text, inline snippets)
        src_lines = src.split("\n")
        indents = [len(l) - len(l.lstrip()) for l in src_lines if l.strip()]
        common = min(indents) if indents else 0
        if common:
            src = "\n".join(l[common:] for l in src_lines)
            for n in range(1, len(src_lines) + 1):
                self.line_delta.setdefault(n, []).insert(0, (0, -common))
        return self._parse(src, "exec", STMT_NODES)

    def _parse(self, src, mode, allowed):
        """Parse and check against the allow-list once per text; the checked tree is cached."""
        tree = _PASSED.get((src, mode))
        if tree is not None:
            return tree.body
        try:
            tree = ast.parse(src, mode=mode)
        except SyntaxError as e:
            raise self._syntax_error(e) from None
        except (RecursionError, MemoryError, ValueError):
            raise SpecError(self.base_pos, f"{self.what} is too deeply nested or too large") from None
        self._check(tree, allowed)
        _passed((src, mode), tree)
        return tree.body

    def _syntax_error(self, e: SyntaxError) -> SpecError:
        line = e.lineno or 1
        col = (e.offset or 1) - 1
        msg = e.msg or "invalid syntax"
        if msg.startswith("invalid syntax"):
            msg = "invalid syntax"
        return SpecError(self.pos_lc(line, col), f"syntax error in {self.what}: {msg}")

    def _check(self, tree, allowed):
        depth_stack = [(tree, 0)]
        while depth_stack:
            node, depth = depth_stack.pop()
            if depth > MAX_NESTING:
                raise self.error(node, f"{self.what} is nested more than {MAX_NESTING} levels deep")
            t = type(node)
            if t in _REFUSED:
                raise self.error(node, _REFUSED[t])
            if not isinstance(node, allowed):
                name = t.__name__
                raise self.error(node, f"'{name}' syntax is not part of the spec language")
            if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                raise self.error(node, "attributes starting with an underscore are not part of the spec language")
            if isinstance(node, ast.Name) and node.id.startswith("__"):
                raise self.error(node, "names with double underscores are not part of the spec language")
            if isinstance(node, ast.Constant) and not isinstance(node.value, (bool, int, str)):
                raise self.error(node, f"literal of type {type(node.value).__name__} is not part of the spec language")
            if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool) and abs(node.value) > 2**62:
                raise self.error(node, "integer literal is too large")
            if isinstance(node, ast.comprehension) and node.is_async:
                raise self.error(node, "async comprehensions are not part of the spec language")
            if isinstance(node, ast.With) and len(node.items) != 1:
                raise self.error(node, "'with' chooses one value: write 'with x in SET:'")
            if isinstance(node, ast.For) and node.orelse:
                raise self.error(node, "'for ... else' is not part of the spec language")
            for child in ast.iter_child_nodes(node):
                depth_stack.append((child, depth + 1))


def _comment_start(s: str) -> int:
    quote = None
    for i, ch in enumerate(s):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return i
    return -1


def is_either(node) -> bool:
    """True for the `if` that an `either:` block was rewritten to."""
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == _EITHER


def either_branches(node) -> list:
    """The blocks of an either/or chain (rewritten to if/elif)."""
    branches = [node.body]
    rest = node.orelse
    while rest:
        if len(rest) == 1 and is_either(rest[0]):
            branches.append(rest[0].body)
            rest = rest[0].orelse
        else:
            raise SpecError(None, "internal: malformed either/or")
    return branches


def is_require(node) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "require"
    )


_PASSED = {}  # (source, mode) -> its tree, once it passed the allow-list check (a pure function of
# the text); the compiler never changes a tree, so an open config's worlds share the parses


def _passed(key, tree):
    if len(_PASSED) >= 100_000:
        _PASSED.clear()
    _PASSED[key] = tree
