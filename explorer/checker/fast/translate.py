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

from ...types import TBool, TInt, TSym
from .cexpr import ExprTranslator
from .cstmt import StmtTranslator
from .symmetry_c import symmetry_code
from .tbase import _K_RE, INT64_MAX, INT64_MIN, SetVal, Unsupported, _c, _int_const
from .worlds_c import world_dispatch

__all__ = ["Layout", "Translator", "Unsupported"]


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


class Translator(ExprTranslator, StmtTranslator):
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
    def next_function(self):
        f = self.funcs.get("_next")
        if f is None or f.args.args[0].arg != "state" or len(f.args.args) != 1:
            raise Unsupported("no successor function")
        body = list(f.body)
        if len(body) < 3 or ast.dump(body[0]) != ast.dump(ast.parse("out = []").body[0]) \
                or ast.dump(body[1]) != ast.dump(ast.parse("_app = out.append").body[0]) \
                or ast.dump(body[-1]) != ast.dump(ast.parse("return out").body[0]):
            raise Unsupported("successor function shape")
        parts = world_dispatch(body[2:-1])
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

