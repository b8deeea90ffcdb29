"""Statements of the generated Python in C: one method per statement type, through a table."""

from __future__ import annotations

import ast

from .tbase import _LOCAL_RE, SetVal, Unsupported, _int_const


def _call_of(node, name, nargs):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name \
        and len(node.args) == nargs


def _name(node, ident):
    return isinstance(node, ast.Name) and node.id == ident


class StmtTranslator:
    """Mixed into Translator: `stmt` gives the C lines of one statement at indent `ind`."""

    def stmts(self, body, fx, ind):
        out = []
        for st in body:
            out.extend(self.stmt(st, fx, ind))
        return out

    def stmt(self, st, fx, ind):
        visit = _STMT.get(type(st))
        if visit is None:
            raise Unsupported(f"statement {type(st).__name__}")
        return visit(self, st, fx, "    " * ind, ind)

    def s_pass(self, st, fx, pad, ind):
        return []

    def s_continue(self, st, fx, pad, ind):
        if not fx.loops:
            raise Unsupported("continue outside a loop")
        return [pad + "continue;"]

    def s_if(self, st, fx, pad, ind):
        out = [pad + f"if ({self.expr(st.test, fx)}) {{"]
        out += self.stmts(st.body, fx, ind + 1)
        if st.orelse:
            out.append(pad + "} else {")
            out += self.stmts(st.orelse, fx, ind + 1)
        out.append(pad + "}")
        return out

    def s_for(self, st, fx, pad, ind):
        if st.orelse or not isinstance(st.target, ast.Name):
            raise Unsupported("loop form")
        if st.target.id == "_once" and _name(st.iter, "_ONCE"):
            head, tail = pad + "do {", pad + "} while (0);"
        elif _call_of(st.iter, "range", 1) and _int_const(st.iter.args[0]) is not None and _LOCAL_RE.match(st.target.id):
            n = _int_const(st.iter.args[0])
            v = fx.declare(st.target.id, 0)
            head, tail = pad + f"for ({v} = 0; {v} < {n}; {v}++) {{", pad + "}"
        else:
            raise Unsupported("loop form")
        fx.loops += 1
        out = [head] + self.stmts(st.body, fx, ind + 1) + [tail]
        fx.loops -= 1
        return out

    def s_expr(self, st, fx, pad, ind):
        v = st.value
        if _call_of(v, "_app", 1) and fx.kind == "next" and isinstance(v.args[0], ast.Tuple) \
                and len(v.args[0].elts) == 2:
            k = _int_const(v.args[0].elts[0])
            what = v.args[0].elts[1]
            if k is None or not 0 <= k < self.n_inst:
                raise Unsupported("successor instance")
            if _call_of(what, "tuple", 1) and _name(what.args[0], "s"):
                fx.need_s()
                return [pad + f"EMIT({k}, &k);"]
            if _name(what, "state"):
                return [pad + f"EMIT({k}, pk);"]
        raise Unsupported("expression statement")

    def s_assign(self, st, fx, pad, ind):
        if len(st.targets) != 1:
            raise Unsupported("assignment form")
        tgt = st.targets[0]
        if isinstance(tgt, ast.Name):
            if tgt.id == "s":
                return self.assign_s(st.value, fx, pad)
            return self.assign_local(tgt.id, st.value, fx, pad)
        if isinstance(tgt, ast.Subscript) and _name(tgt.value, "s"):
            return self.assign_slot(tgt, st.value, fx, pad)
        raise Unsupported("assignment target")

    def assign_s(self, v, fx, pad):
        """s = list(state), or s = _sN.copy(): the successor starts from a state."""
        if _call_of(v, "list", 1) and _name(v.args[0], "state"):
            fx.has_s = True
            return [pad + "memcpy(s, state, sizeof(SV) * NS); k = *pk;"]
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "copy" \
                and not v.args and isinstance(v.func.value, ast.Name) and v.func.value.id in fx.saves:
            sv = v.func.value.id
            return [pad + f"memcpy(s, {sv}, sizeof(SV) * NS); k = {sv}k;"]
        raise Unsupported("assignment to s")

    def assign_local(self, name, v, fx, pad):
        if not _LOCAL_RE.match(name):
            raise Unsupported(f"assignment to {name}")
        if name.startswith("_s") and _name(v, "s"):
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

    def assign_slot(self, tgt, value, fx, pad):
        fx.need_s()
        if isinstance(tgt.slice, ast.Slice):
            idx = self.slice_len(tgt.slice, fx)
            vals = self.tuple_expr(value, fx)
            if len(vals) != len(idx):
                raise Unsupported("slice assignment of another length")
            tmps = [fx.temp() for _ in vals]
            out = [pad + " ".join(f"{t} = {x};" for t, x in zip(tmps, vals))]
            for t, i in zip(tmps, idx):
                out.append(pad + self.write(i, t, fx))
            return out
        c = _int_const(tgt.slice)
        val = self.expr(value, fx)
        t = fx.temp()
        if c is not None:
            if not 0 <= c < self.ns:
                raise Unsupported("slot index out of range")
            return [pad + f"{t} = {val}; " + self.write(str(c), t, fx)]
        ix = self.expr(tgt.slice, fx)
        ti = fx.temp()
        return [pad + f"{t} = {val}; {ti} = sx({ix}, err); " + self.write(ti, t, fx)]

    def write(self, idx, val, fx):
        if idx.isdigit():
            return f"s[{idx}] = (SV){val}; kset{idx}(&k, {val}, err);"
        return f"s[{idx}] = (SV){val}; kset(&k, {idx}, {val}, err);"


_STMT = {ast.Pass: StmtTranslator.s_pass, ast.Continue: StmtTranslator.s_continue, ast.If: StmtTranslator.s_if,
         ast.For: StmtTranslator.s_for, ast.Expr: StmtTranslator.s_expr, ast.Assign: StmtTranslator.s_assign}
