"""Translation of a compiled model's generated Python into C.

The compiler (explorer/compiler.py) turns a spec into Python source over flat state tuples; that
source uses a small, fixed subset of Python. This module parses it with `ast` and translates the
successor function and the invariants into C, accepting only that subset: any other construct
raises `Unsupported`, and the caller falls back to the reference backend. Nothing from a spec
reaches the C source except integers (slot offsets, constants, instance indices).

Values are 64-bit integers in C (bools are 0/1, symbols their ids). Record values (tuples) are
translated element by element. Runtime errors of the spec (domain, index, division) and anything
the C code cannot represent exactly (integer overflow, a value that does not pack) set an error
flag; the state is then re-run in the reference backend, which raises the exact error.
"""

from __future__ import annotations

import ast
import re

from ...types import TBool, TInt, TSym
from .symmetry_c import symmetry_code


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


class Layout:
    """How a state is packed into 64-bit words: per slot its word, shift, width and value map."""

    def __init__(self, model):
        types = model.slot_types()
        self.ns = len(types)
        self.slots = []  # (kind, lo, size, values)  kind: 'r' contiguous range, 's' symbol table
        self.is_bool = []
        for t in types:
            if isinstance(t, TBool):
                vals = [0, 1]
            elif isinstance(t, TInt):
                if not t.bounded():
                    raise Unsupported("an unbounded integer slot")
                vals = list(range(t.lo, t.hi + 1))
            elif isinstance(t, TSym) and t.symbols is not None:
                vals = [int(v) for v in model.domain_values(t)]
            else:
                raise Unsupported(f"a slot of type {t!r}")
            if not vals:
                raise Unsupported("a slot with an empty domain")
            self.is_bool.append(isinstance(t, TBool))
            if vals == list(range(vals[0], vals[0] + len(vals))):
                self.slots.append(("r", vals[0], len(vals), vals))
            else:
                self.slots.append(("s", min(vals), len(vals), vals))
        for kind, lo, size, vals in self.slots:
            if min(vals) < -2**31 or max(vals) >= 2**31:
                raise Unsupported("a slot value does not fit 32 bits")
        # bit layout: no slot straddles a word; the top bit of the last word stays free
        self.word, self.shift, self.bits = [], [], []
        w, sh = 0, 0
        for kind, lo, size, vals in self.slots:
            b = (size - 1).bit_length()
            if sh + b > 64:
                w, sh = w + 1, 0
            self.word.append(w)
            self.shift.append(sh)
            self.bits.append(b)
            sh += b
        if sh > 63:
            w, sh = w + 1, 0
        self.words = w + 1
        self.total_bits = sum(self.bits)


class Translator:
    def __init__(self, model, layout: Layout):
        self.m = model
        self.L = layout
        self.ns = layout.ns
        self.runtime = model.runtime
        self.helpers = {}  # name -> C definition (membership tests, index tables, lists)
        try:
            self.tree = ast.parse(model.source_code)
        except SyntaxError as e:  # pragma: no cover - the compiler produced it
            raise Unsupported(f"generated source does not parse: {e}") from None
        self.funcs = {}
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef):
                self.funcs[node.name] = node
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and node.targets[0].id == "_DEFAULT":
                continue
            else:
                raise Unsupported(f"unexpected top-level {type(node).__name__}")
        self.n_inv = len(model.invariant_list)
        self.n_probe = len(model.probes)
        self.n_inst = len(model.instances)

    # --- constants --------------------------------------------------------------------------------
    def konst(self, name):
        if not _K_RE.match(name):
            raise Unsupported(f"name {name}")
        i = int(name[2:])
        if not 0 <= i < len(self.runtime):
            raise Unsupported(f"constant {name}")
        return self.runtime[i]

    def int_set(self, name):
        obj = self.konst(name)
        if not isinstance(obj, frozenset) or not all(type(x) in (int, bool) for x in obj):
            raise Unsupported(f"membership in {type(obj).__name__} {name}")
        vals = sorted(int(x) for x in obj)
        if any(not INT64_MIN < v < INT64_MAX for v in vals):
            raise Unsupported("a huge constant")
        fn = f"in{name}"
        if fn not in self.helpers:
            if not vals:
                body = "return 0;"
            elif vals == list(range(vals[0], vals[-1] + 1)):
                body = f"return v >= {_c(vals[0])} && v <= {_c(vals[-1])};"
            else:
                body = "switch (v) { " + " ".join(f"case {_c(v)}:" for v in vals) + " return 1; default: return 0; }"
            self.helpers[fn] = f"static inline int {fn}(V v) {{ {body} }}"
        return fn

    def set_tuple(self, name):
        """Membership in the i-th set of a constant tuple of sets: `inset_Kn(i, v)`."""
        obj = self.konst(name)
        if not isinstance(obj, tuple) or not all(isinstance(x, frozenset) and all(type(v) in (int, bool) for v in x)
                                                 for x in obj):
            raise Unsupported(f"tuple of sets {name}")
        fn = f"inset{name}"
        if fn not in self.helpers:
            cases = []
            for i, fs in enumerate(obj):
                vals = sorted(int(v) for v in fs)
                if any(not INT64_MIN < v < INT64_MAX for v in vals):
                    raise Unsupported("a huge constant")
                if not vals:
                    cases.append(f"case {i}: return 0;")
                else:
                    cases.append(f"case {i}: switch (v) {{ " + " ".join(f"case {_c(v)}:" for v in vals)
                                 + " return 1; default: return 0; }")
            self.helpers[fn] = f"static inline int {fn}(V i, V v) {{ switch (i) {{ {' '.join(cases)} default: return 0; }} }}"
        return fn

    def ix_table(self, name):
        obj = self.konst(name)
        if not isinstance(obj, dict) or not all(type(k) in (int, bool) and type(v) is int for k, v in obj.items()):
            raise Unsupported(f"index table {name}")
        fn = f"ixd{name}"
        if fn not in self.helpers:
            cases = " ".join(f"case {_c(int(k))}: return {v};" for k, v in sorted(obj.items()))
            self.helpers[fn] = f"static inline V {fn}(V v, int *err) {{ switch (v) {{ {cases} default: SETERR(); return 0; }} }}"
        return fn

    def int_list(self, name):
        obj = self.konst(name)
        if not isinstance(obj, tuple) or not all(type(x) in (int, bool) for x in obj):
            raise Unsupported(f"list {name}")
        arr = f"arr{name}"
        if arr not in self.helpers:
            vals = [int(x) for x in obj] or [0]
            if any(not INT64_MIN < v < INT64_MAX for v in vals):
                raise Unsupported("a huge constant")
            self.helpers[arr] = f"static const V {arr}[{len(vals)}] = {{{', '.join(_c(v) for v in vals)}}};"
        return arr, len(obj)

    # --- expressions: a scalar is a C string, a tuple a list of C strings -----------------------
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
        if isinstance(node, ast.Name):
            return fx.read_local(node.id)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return f"(!{self.expr(node.operand, fx)})"
            if isinstance(node.op, ast.USub):
                return f"ng({self.expr(node.operand, fx)}, err)"
            if isinstance(node.op, ast.UAdd):
                return self.expr(node.operand, fx)
            raise Unsupported("unary operator")
        if isinstance(node, ast.BoolOp):
            op = " && " if isinstance(node.op, ast.And) else " || "
            return "(" + op.join(self.expr(v, fx) for v in node.values) + ")"
        if isinstance(node, ast.BinOp):
            fn = {ast.Add: "ad", ast.Sub: "sb", ast.Mult: "ml", ast.FloorDiv: "fdv", ast.Mod: "fmd"}.get(type(node.op))
            if fn is None:
                raise Unsupported("binary operator")
            return f"{fn}({self.expr(node.left, fx)}, {self.expr(node.right, fx)}, err)"
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise Unsupported("chained comparison")
            op = node.ops[0]
            if isinstance(op, (ast.In, ast.NotIn)):
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
            sym = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}.get(type(op))
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
        if isinstance(node, ast.IfExp):
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
        if isinstance(node, ast.Tuple):
            return [self.expr(e, fx) for e in node.elts]
        if isinstance(node, ast.Subscript):
            return self.subscript(node, fx)
        if isinstance(node, ast.Call):
            return self.call(node, fx)
        raise Unsupported(f"expression {type(node).__name__}")

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
    def stmts(self, body, fx, ind):
        out = []
        for st in body:
            out.extend(self.stmt(st, fx, ind))
        return out

    def stmt(self, st, fx, ind):
        pad = "    " * ind
        if isinstance(st, ast.Pass):
            return []
        if isinstance(st, ast.Continue):
            if not fx.loops:
                raise Unsupported("continue outside a loop")
            return [pad + "continue;"]
        if isinstance(st, ast.If):
            out = [pad + f"if ({self.expr(st.test, fx)}) {{"]
            out += self.stmts(st.body, fx, ind + 1)
            if st.orelse:
                out.append(pad + "} else {")
                out += self.stmts(st.orelse, fx, ind + 1)
            out.append(pad + "}")
            return out
        if isinstance(st, ast.For):
            if st.orelse or not isinstance(st.target, ast.Name):
                raise Unsupported("loop form")
            if st.target.id == "_once" and isinstance(st.iter, ast.Name) and st.iter.id == "_ONCE":
                fx.loops += 1
                out = [pad + "do {"] + self.stmts(st.body, fx, ind + 1) + [pad + "} while (0);"]
                fx.loops -= 1
                return out
            it = st.iter
            if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" \
                    and len(it.args) == 1 and _int_const(it.args[0]) is not None and _LOCAL_RE.match(st.target.id):
                n = _int_const(it.args[0])
                v = fx.declare(st.target.id, 0)
                fx.loops += 1
                out = [pad + f"for ({v} = 0; {v} < {n}; {v}++) {{"] + self.stmts(st.body, fx, ind + 1) + [pad + "}"]
                fx.loops -= 1
                return out
            raise Unsupported("loop form")
        if isinstance(st, ast.Expr):
            v = st.value
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "_app" and fx.kind == "next" \
                    and len(v.args) == 1 and isinstance(v.args[0], ast.Tuple) and len(v.args[0].elts) == 2:
                k = _int_const(v.args[0].elts[0])
                what = v.args[0].elts[1]
                if k is None or not 0 <= k < self.n_inst:
                    raise Unsupported("successor instance")
                if isinstance(what, ast.Call) and isinstance(what.func, ast.Name) and what.func.id == "tuple" \
                        and len(what.args) == 1 and isinstance(what.args[0], ast.Name) and what.args[0].id == "s":
                    fx.need_s()
                    return [pad + f"EMIT({k}, &k);"]
                if isinstance(what, ast.Name) and what.id == "state":
                    return [pad + f"EMIT({k}, pk);"]
            raise Unsupported("expression statement")
        if isinstance(st, ast.Assign):
            if len(st.targets) != 1:
                raise Unsupported("assignment form")
            tgt = st.targets[0]
            if isinstance(tgt, ast.Name):
                name = tgt.id
                v = st.value
                if name == "s":
                    if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "list" \
                            and len(v.args) == 1 and isinstance(v.args[0], ast.Name) and v.args[0].id == "state":
                        fx.has_s = True
                        return [pad + "memcpy(s, state, sizeof(SV) * NS); k = *pk;"]
                    if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "copy" \
                            and not v.args and isinstance(v.func.value, ast.Name) and v.func.value.id in fx.saves:
                        sv = v.func.value.id
                        return [pad + f"memcpy(s, {sv}, sizeof(SV) * NS); k = {sv}k;"]
                    raise Unsupported("assignment to s")
                if not _LOCAL_RE.match(name):
                    raise Unsupported(f"assignment to {name}")
                if name.startswith("_s") and isinstance(v, ast.Name) and v.id == "s":
                    fx.need_s()
                    fx.saves.add(name)
                    return [pad + f"memcpy({name}, s, sizeof(SV) * NS); {name}k = k;"]
                r = self.any_expr(v, fx)
                if isinstance(r, SetVal):
                    c = fx.declare(name, ("set", r.kname))
                    return [pad + f"{c} = {r.idx};"]
                if isinstance(r, list):
                    names = fx.declare(name, len(r))
                    tmps = [fx.temp() for _ in r]
                    return [pad + " ".join(f"{t} = {x};" for t, x in zip(tmps, r))
                            + " " + " ".join(f"{n} = {t};" for n, t in zip(names, tmps))]
                return [pad + f"{fx.declare(name, 0)} = {r};"]
            if isinstance(tgt, ast.Subscript) and isinstance(tgt.value, ast.Name) and tgt.value.id == "s":
                fx.need_s()
                if isinstance(tgt.slice, ast.Slice):
                    idx = self.slice_len(tgt.slice, fx)
                    vals = self.tuple_expr(st.value, fx)
                    if len(vals) != len(idx):
                        raise Unsupported("slice assignment of another length")
                    tmps = [fx.temp() for _ in vals]
                    out = [pad + " ".join(f"{t} = {x};" for t, x in zip(tmps, vals))]
                    for t, i in zip(tmps, idx):
                        out.append(pad + self.write(i, t, fx))
                    return out
                c = _int_const(tgt.slice)
                val = self.expr(st.value, fx)
                t = fx.temp()
                if c is not None:
                    if not 0 <= c < self.ns:
                        raise Unsupported("slot index out of range")
                    return [pad + f"{t} = {val}; " + self.write(str(c), t, fx)]
                ix = self.expr(tgt.slice, fx)
                ti = fx.temp()
                return [pad + f"{t} = {val}; {ti} = sx({ix}, err); " + self.write(ti, t, fx)]
            raise Unsupported("assignment target")
        raise Unsupported(f"statement {type(st).__name__}")

    def write(self, idx, val, fx):
        if idx.isdigit():
            return f"s[{idx}] = (SV){val}; kset{idx}(&k, {val}, err);"
        return f"s[{idx}] = (SV){val}; kset(&k, {idx}, {val}, err);"

    # --- functions ----------------------------------------------------------------------------
    def next_function(self):
        f = self.funcs.get("_next")
        if f is None or f.args.args[0].arg != "state" or len(f.args.args) != 1:
            raise Unsupported("no successor function")
        body = list(f.body)
        if len(body) < 3 or ast.dump(body[0]) != ast.dump(ast.parse("out = []").body[0]) \
                or ast.dump(body[1]) != ast.dump(ast.parse("_app = out.append").body[0]) \
                or ast.dump(body[-1]) != ast.dump(ast.parse("return out").body[0]):
            raise Unsupported("successor function shape")
        parts = _dispatch(body[2:-1])
        if parts is None:
            return self._next_c("mx_next", body[2:-1])
        # an open config: one function per world, chosen by the world slot (compiles in linear time)
        slot, blocks = parts
        out = [self._next_c(f"mx_next_w{w}", b) for w, b in blocks]
        sw = ["static int mx_next(const SV *state, const pkey_t *pk, obuf *ob) {", f"    switch (state[{slot}]) {{"]
        sw += [f"    case {w}: return mx_next_w{w}(state, pk, ob);" for w, _ in blocks]
        sw += ["    default: (void)pk; (void)ob; return 0;", "    }", "}"]
        return "\n\n".join(out + ["\n".join(sw)])

    def _next_c(self, cname, body):
        fx = Fn("next")
        lines = self.stmts(body, fx, 1)
        head = [f"static int {cname}(const SV *state, const pkey_t *pk, obuf *ob) {{",
                "    int errv = 0; int *err = &errv; pkey_t k = *pk; SV s[NS];"]
        head += fx.decls()
        return "\n".join(head + lines + ["    (void)s; (void)k; (void)ob; return errv;", "}"])

    def bool_functions(self, prefix, cname, n):
        """C functions for the generated `def <prefix>N(state): return bool(expr)`."""
        out = []
        for i in range(n):
            f = self.funcs.get(f"{prefix}{i}")
            if f is None or len(f.body) != 1 or not isinstance(f.body[0], ast.Return):
                raise Unsupported(f"{prefix} shape")
            r = f.body[0].value
            if not (isinstance(r, ast.Call) and isinstance(r.func, ast.Name) and r.func.id == "bool" and len(r.args) == 1):
                raise Unsupported(f"{prefix} shape")
            fx = Fn("inv")
            e = self.expr(r.args[0], fx)
            out.append("\n".join([f"static int {cname}{i}(const SV *state, int *err) {{"] + fx.decls()
                                 + [f"    return ({e}) != 0;", "}"]))
        disp = [f"static int {cname}_one(int i, const SV *state, int *err) {{", "    switch (i) {"]
        disp += [f"    case {i}: return {cname}{i}(state, err);" for i in range(n)]
        disp += ["    default: (void)state; (void)err; return 1;", "    }", "}"]
        return "\n".join(out + ["\n".join(disp)])

    def invariant_functions(self):
        out = []
        for i in range(self.n_inv):
            f = self.funcs.get(f"_inv{i}")
            if f is None or len(f.body) != 1 or not isinstance(f.body[0], ast.Return):
                raise Unsupported("invariant shape")
            r = f.body[0].value
            if not (isinstance(r, ast.Call) and isinstance(r.func, ast.Name) and r.func.id == "bool" and len(r.args) == 1):
                raise Unsupported("invariant shape")
            fx = Fn("inv")
            e = self.expr(r.args[0], fx)
            out.append("\n".join([f"static int inv{i}(const SV *state, int *err) {{"] + fx.decls()
                                 + [f"    return ({e}) != 0;", "}"]))
        body = ["static int inv_first(const SV *state, int *err) {"]
        for i in range(self.n_inv):
            body.append(f"    if (!inv{i}(state, err)) return {i};")
            body.append("    if (*err) return -1;")
        body.append("    return -1;\n}")
        disp = ["static int inv_one(int i, const SV *state, int *err) {", "    switch (i) {"]
        disp += [f"    case {i}: return inv{i}(state, err);" for i in range(self.n_inv)]
        disp += ["    default: return 1;", "    }", "}"]
        return "\n".join(out + ["\n".join(body), "\n".join(disp)])

    def layout_code(self):
        L = self.L
        out = []
        out.append(f"#define NS {L.ns}\n#define W {L.words}\n#define NI {max(self.n_inst, 1)}\n#define NINV {self.n_inv}\n#define NPROBE {self.n_probe}")
        out.append("typedef struct { uint64_t w[W]; } pkey_t;")
        # decoding tables
        out.append(f"static const uint8_t SWORD[NS] = {{{', '.join(map(str, L.word))}}};")
        out.append(f"static const uint8_t SSHIFT[NS] = {{{', '.join(map(str, L.shift))}}};")
        out.append(f"static const uint64_t SMASK[NS] = {{{', '.join(hex((1 << b) - 1) + 'ULL' for b in L.bits)}}};")
        out.append(f"static const V SLO[NS] = {{{', '.join(_c(sl[1]) for sl in L.slots)}}};")
        out.append(f"static const V SHI[NS] = {{{', '.join(_c(sl[1] + sl[2] - 1 if sl[0] == 'r' else max(sl[3])) for sl in L.slots)}}};")
        out.append(f"static const uint8_t SKIND[NS] = {{{', '.join('0' if sl[0] == 'r' else '1' for sl in L.slots)}}};")
        # symbol slots: encode table over [lo, hi] (-1: not a value), decode table
        enc_ptrs, dec_ptrs = [], []
        for i, (kind, lo, size, vals) in enumerate(L.slots):
            if kind == "s":
                hi = max(vals)
                if hi - lo > 1 << 16:
                    raise Unsupported("a sparse symbol domain")
                enc = [-1] * (hi - lo + 1)
                for j, v in enumerate(vals):
                    enc[v - lo] = j
                out.append(f"static const int32_t ENC{i}[{len(enc)}] = {{{', '.join(map(str, enc))}}};")
                out.append(f"static const V DEC{i}[{len(vals)}] = {{{', '.join(_c(v) for v in vals)}}};")
                enc_ptrs.append(f"ENC{i}")
                dec_ptrs.append(f"DEC{i}")
            else:
                enc_ptrs.append("0")
                dec_ptrs.append("0")
        out.append(f"static const int32_t *const SENC[NS] = {{{', '.join(enc_ptrs)}}};")
        out.append(f"static const V *const SDEC[NS] = {{{', '.join(dec_ptrs)}}};")
        return "\n".join(out)

    def kset_functions(self):
        """One specialised packer per slot, for writes at a constant offset."""
        L = self.L
        out = []
        for i, (kind, lo, size, vals) in enumerate(L.slots):
            w, sh, b = L.word[i], L.shift[i], L.bits[i]
            mask = (1 << b) - 1
            if kind == "r":
                enc = f"uint64_t u = (uint64_t)v - (uint64_t)({_c(lo)}); if (u > {size - 1}ULL) {{ SETERR(); return; }}"
            else:
                hi = max(vals)
                enc = (f"if (v < {_c(lo)} || v > {_c(hi)} || ENC{i}[v - ({_c(lo)})] < 0) {{ SETERR(); return; }} "
                       f"uint64_t u = (uint64_t)ENC{i}[v - ({_c(lo)})];")
            if b == 0:
                put = "(void)u;"
            else:
                put = f"k->w[{w}] = (k->w[{w}] & ~({hex(mask)}ULL << {sh})) | (u << {sh});"
            out.append(f"static inline void kset{i}(pkey_t *k, V v, int *err) {{ {enc} {put} }}")
        return "\n".join(out)

    def unpack_function(self):
        L = self.L
        out = ["static inline void unpack(const pkey_t *k, SV *st) {"]
        for i, (kind, lo, size, vals) in enumerate(L.slots):
            w, sh, b = L.word[i], L.shift[i], L.bits[i]
            u = f"((k->w[{w}] >> {sh}) & {hex((1 << b) - 1)}ULL)" if b else "0"
            if kind == "r":
                out.append(f"    st[{i}] = (SV)({_c(lo)} + (V){u});")
            else:
                out.append(f"    st[{i}] = (SV)DEC{i}[{u}];")
        out.append("}")
        return "\n".join(out)

    def translate(self, prelude, mid, bfs) -> str:
        if self.n_inv > 63:
            raise Unsupported("more than 63 invariants")
        if self.n_inst >= 2**31:
            raise Unsupported("too many action instances")
        nxt = self.next_function()
        inv = self.invariant_functions() + "\n\n" + self.bool_functions("_probe", "probe", self.n_probe)
        sym = symmetry_code(self.m, self.L)
        parts = [prelude, self.layout_code(), sym[0], mid, self.unpack_function(), self.kset_functions(), sym[1]]
        parts += list(self.helpers.values())
        parts += [nxt, inv, bfs]
        return "\n\n".join(parts) + "\n"


def _dispatch(body):
    """(slot, [(value, block)]) when the successor body is only `if state[SLOT] == VALUE:` blocks
    on one slot with distinct values (the world dispatch of an open config), else None."""
    slot, blocks = None, []
    for st in body:
        if not (isinstance(st, ast.If) and not st.orelse and isinstance(st.test, ast.Compare)
                and len(st.test.ops) == 1 and isinstance(st.test.ops[0], ast.Eq)):
            return None
        left, right = st.test.left, st.test.comparators[0]
        if not (isinstance(left, ast.Subscript) and isinstance(left.value, ast.Name) and left.value.id == "state"):
            return None
        k, v = _int_const(left.slice), _int_const(right)
        if k is None or v is None or (slot is not None and k != slot) or any(v == w for w, _ in blocks):
            return None
        slot = k
        blocks.append((v, st.body))
    return (slot, blocks) if len(blocks) > 1 else None


class Fn:
    """Locals of one C function being generated."""

    def __init__(self, kind):
        self.kind = kind
        self.locals = {}  # python name -> arity (0 scalar)
        self.saves = set()
        self.loops = 0
        self.ntemp = 0
        self.has_s = kind == "next"

    def array(self, base):
        if base == "state":
            return "state"
        self.need_s()
        return "s"

    def need_s(self):
        if self.kind != "next":
            raise Unsupported("s outside the successor function")

    def temp(self):
        self.ntemp += 1
        return f"t{self.ntemp}"

    def declare(self, name, arity):
        if name.startswith("_s") and self.kind == "next" and name in self.saves:
            raise Unsupported("state copy reused as a value")
        old = self.locals.get(name)
        if old is not None and old != arity:
            raise Unsupported(f"local {name} changes shape")
        self.locals[name] = arity
        base = "L" + name[1:]
        if isinstance(arity, tuple):
            return base
        return base if arity == 0 else [f"{base}_{i}" for i in range(arity)]

    def read_local(self, name):
        if name not in self.locals:
            raise Unsupported(f"name {name}")
        base = "L" + name[1:]
        a = self.locals[name]
        if isinstance(a, tuple):
            return SetVal(a[1], base)
        return base if a == 0 else [f"{base}_{i}" for i in range(a)]

    def decls(self):
        out = []
        names = []
        for n, a in self.locals.items():
            base = "L" + n[1:]
            names += [base] if (a == 0 or isinstance(a, tuple)) else [f"{base}_{i}" for i in range(a)]
        names += [f"t{i}" for i in range(1, self.ntemp + 1)]
        if names:
            out.append("    V " + ", ".join(f"{x} = 0" for x in names) + ";")
            out.append("    " + " ".join(f"(void){x};" for x in names))
        for sv in sorted(self.saves):
            out.append(f"    SV {sv}[NS]; pkey_t {sv}k;")
        return out


def _c(v: int) -> str:
    v = int(v)
    if v == INT64_MIN + 1 or v < -2**62 or v > 2**62:
        return f"((V){v}LL)"
    return f"((V){v})" if v < 0 else str(v)
