"""Expressions of the generated Python in C: one method per node type, chosen through a table."""

from __future__ import annotations

import ast

from .tbase import _K_RE, INT64_MAX, INT64_MIN, SetVal, Unsupported, _c, _int_const

_BINOPS = {ast.Add: "ad", ast.Sub: "sb", ast.Mult: "ml", ast.FloorDiv: "fdv", ast.Mod: "fmd"}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


class ExprTranslator:
    """Mixed into Translator: `any_expr` gives a C expression (str), a tuple of them (list) or a
    SetVal."""

    def expr(self, node, fx):
        r = self.any_expr(node, fx)
        if isinstance(r, (list, SetVal)):
            raise Unsupported("a tuple or set where a value was expected")
        return r

    def tuple_expr(self, node, fx):
        r = self.any_expr(node, fx)
        if not isinstance(r, list):
            raise Unsupported("a value where a tuple was expected")
        return r

    def any_expr(self, node, fx):
        c = _int_const(node)
        if c is not None:
            if not INT64_MIN < c < INT64_MAX:
                raise Unsupported("a huge constant")
            return _c(c)
        visit = _EXPR.get(type(node))
        if visit is None:
            raise Unsupported(f"expression {type(node).__name__}")
        return visit(self, node, fx)

    def x_name(self, node, fx):
        return fx.read_local(node.id)

    def x_unary(self, node, fx):
        if isinstance(node.op, ast.Not):
            return f"(!{self.expr(node.operand, fx)})"
        if isinstance(node.op, ast.USub):
            return f"ng({self.expr(node.operand, fx)}, err)"
        if isinstance(node.op, ast.UAdd):
            return self.expr(node.operand, fx)
        raise Unsupported("unary operator")

    def x_boolop(self, node, fx):
        op = " && " if isinstance(node.op, ast.And) else " || "
        return "(" + op.join(self.expr(v, fx) for v in node.values) + ")"

    def x_binop(self, node, fx):
        fn = _BINOPS.get(type(node.op))
        if fn is None:
            raise Unsupported("binary operator")
        return f"{fn}({self.expr(node.left, fx)}, {self.expr(node.right, fx)}, err)"

    def x_compare(self, node, fx):
        if len(node.ops) != 1:
            raise Unsupported("chained comparison")
        op = node.ops[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            return self.x_membership(node, op, fx)
        sym = _CMPOPS.get(type(op))
        if sym is None:
            raise Unsupported("comparison operator")
        a = self.any_expr(node.left, fx)
        b = self.any_expr(node.comparators[0], fx)
        if isinstance(a, SetVal) or isinstance(b, SetVal):
            raise Unsupported("comparison of sets")
        if isinstance(a, list) or isinstance(b, list):
            if not (isinstance(a, list) and isinstance(b, list)) or sym not in ("==", "!="):
                raise Unsupported("tuple comparison")
            if len(a) != len(b):
                return "0" if sym == "==" else "1"
            # every element is evaluated, as Python builds both tuples before comparing
            eq = "(" + " & ".join(f"({x} == {y})" for x, y in zip(a, b)) + ")"
            return eq if sym == "==" else f"(!{eq})"
        return f"({a} {sym} {b})"

    def x_membership(self, node, op, fx):
        comp = node.comparators[0]
        if isinstance(comp, ast.Name) and _K_RE.match(comp.id):
            fn = self.int_set(comp.id)
            t = f"{fn}({self.expr(node.left, fx)})"
        else:
            left = self.expr(node.left, fx)
            sv = self.any_expr(comp, fx)
            if not isinstance(sv, SetVal):
                raise Unsupported("membership in an expression")
            t = f"{self.set_tuple(sv.kname)}({sv.idx}, {left})"
        return f"(!{t})" if isinstance(op, ast.NotIn) else t

    def x_ifexp(self, node, fx):
        c = self.expr(node.test, fx)
        a = self.any_expr(node.body, fx)
        b = self.any_expr(node.orelse, fx)
        if isinstance(a, SetVal) or isinstance(b, SetVal):
            raise Unsupported("conditional of sets")
        if isinstance(a, list) != isinstance(b, list):
            raise Unsupported("conditional of a tuple and a value")
        if isinstance(a, list):
            if len(a) != len(b):
                raise Unsupported("conditional of tuples of different lengths")
            return [f"({c} ? {x} : {y})" for x, y in zip(a, b)]
        return f"({c} ? {a} : {b})"

    def x_tuple(self, node, fx):
        return [self.expr(e, fx) for e in node.elts]

    def slot_ref(self, base, index_node, fx):
        """C lvalue/rvalue of slot `base[index]` (base: state or s)."""
        arr = fx.array(base)
        c = _int_const(index_node)
        if c is not None:
            if not 0 <= c < self.ns:
                raise Unsupported("slot index out of range")
            return f"{arr}[{c}]", str(c)
        ix = self.expr(index_node, fx)
        return f"{arr}[sx({ix}, err)]", f"sx({ix}, err)"

    def slice_len(self, sl, fx):
        lo, hi = sl.lower, sl.upper
        if sl.step is not None or lo is None or hi is None:
            raise Unsupported("slice form")
        a, b = _int_const(lo), _int_const(hi)
        if a is not None and b is not None:
            if not 0 <= a <= b <= self.ns:
                raise Unsupported("slice out of range")
            return [str(i) for i in range(a, b)]
        if isinstance(hi, ast.BinOp) and isinstance(hi.op, ast.Add) and ast.dump(hi.left) == ast.dump(lo) \
                and _int_const(hi.right) is not None:
            n = _int_const(hi.right)
            if not 0 <= n <= self.ns:
                raise Unsupported("slice length")
            off = self.expr(lo, fx)
            return [f"sx(ad({off}, {i}, err), err)" for i in range(n)]
        raise Unsupported("slice bounds")

    def subscript(self, node, fx):
        if isinstance(node.value, ast.Name) and node.value.id in ("state", "s"):
            if isinstance(node.slice, ast.Slice):
                raise Unsupported("a bare slice")
            return self.slot_ref(node.value.id, node.slice, fx)[0]
        i = _int_const(node.slice)
        if i is None:
            raise Unsupported("tuple index that is not a constant")
        t = self.tuple_expr(node.value, fx)
        if not 0 <= i < len(t):
            raise Unsupported("tuple index out of range")
        return t[i]

    def call(self, node, fx):
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise Unsupported("call form")
        fn, args = node.func.id, node.args
        if fn == "tuple":
            if len(args) != 1:
                raise Unsupported("tuple()")
            a = args[0]
            if isinstance(a, ast.Subscript) and isinstance(a.value, ast.Name) and a.value.id in ("state", "s") \
                    and isinstance(a.slice, ast.Slice):
                arr = fx.array(a.value.id)
                return [f"{arr}[{i}]" for i in self.slice_len(a.slice, fx)]
            raise Unsupported("tuple() of something else than a slice of the state")
        if fn == "_ix":
            if len(args) != 3 or _int_const(args[1]) is None or _int_const(args[2]) is None:
                raise Unsupported("_ix form")
            return f"ix({self.expr(args[0], fx)}, {_int_const(args[1])}, err)"
        if fn == "_ixd":
            if len(args) != 3 or not isinstance(args[0], ast.Name):
                raise Unsupported("_ixd form")
            return f"{self.ix_table(args[0].id)}({self.expr(args[1], fx)}, err)"
        if fn == "_lix":
            if len(args) != 3 or not isinstance(args[0], ast.Name):
                raise Unsupported("_lix form")
            obj = self.konst(args[0].id)
            if isinstance(obj, tuple) and obj and all(isinstance(x, frozenset) for x in obj):
                self.set_tuple(args[0].id)
                return SetVal(args[0].id, f"ix({self.expr(args[1], fx)}, {len(obj)}, err)")
            arr, n = self.int_list(args[0].id)
            return f"lix({arr}, {n}, {self.expr(args[1], fx)}, err)"
        if fn == "_div":
            if len(args) != 4 or not (isinstance(args[3], ast.Constant) and type(args[3].value) is bool):
                raise Unsupported("_div form")
            f = "fmd" if args[3].value else "fdv"
            return f"{f}({self.expr(args[0], fx)}, {self.expr(args[1], fx)}, err)"
        if fn == "_chk":
            if len(args) != 3 or not isinstance(args[1], ast.Name):
                raise Unsupported("_chk form")
            t = fx.temp()
            return f"({t} = {self.expr(args[0], fx)}, chk({t}, {self.int_set(args[1].id)}({t}), err))"
        if fn in ("min", "max"):
            if len(args) < 2:
                raise Unsupported("min/max form")
            r = self.expr(args[0], fx)
            for a in args[1:]:
                r = f"{'mn' if fn == 'min' else 'mx'}({r}, {self.expr(a, fx)})"
            return r
        if fn == "_minmax":
            if len(args) != 3 or not isinstance(args[0], ast.Name) or args[0].id not in ("min", "max") \
                    or not isinstance(args[1], ast.Tuple):
                raise Unsupported("_minmax form")
            pairs = []
            for p in args[1].elts:
                if not isinstance(p, ast.Tuple) or len(p.elts) != 2:
                    raise Unsupported("_minmax pair")
                pairs.append((self.expr(p.elts[0], fx), self.expr(p.elts[1], fx)))
            cmp = "<" if args[0].id == "min" else ">"
            # Python evaluates every condition and element before choosing
            lines = ["({ V _r = 0; int _any = 0;"]
            tmps = []
            for c, e in pairs:
                tc, te = fx.temp(), fx.temp()
                lines.append(f"{tc} = {c}; {te} = {e};")
                tmps.append((tc, te))
            for tc, te in tmps:
                lines.append(f"if ({tc} && (!_any || {te} {cmp} _r)) {{ _r = {te}; _any = 1; }}")
            lines.append("if (!_any) SETERR(); _r; })")
            return " ".join(lines)
        raise Unsupported(f"call of {fn}")

    # --- statements ---------------------------------------------------------------------------


_EXPR = {ast.Name: ExprTranslator.x_name, ast.UnaryOp: ExprTranslator.x_unary, ast.BoolOp: ExprTranslator.x_boolop,
         ast.BinOp: ExprTranslator.x_binop, ast.Compare: ExprTranslator.x_compare, ast.IfExp: ExprTranslator.x_ifexp,
         ast.Tuple: ExprTranslator.x_tuple, ast.Subscript: ExprTranslator.subscript, ast.Call: ExprTranslator.call}
