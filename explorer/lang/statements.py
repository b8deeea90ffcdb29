"""Compiling statements by continuation.

`run` walks a stack of frames (the statements still to run, innermost last: an action's effect,
a loop body, a procedure's body) and emits straight-line code for each statement, one small
method per statement kind. At a nondeterministic choice (`either`, `with x in S`, an `if` whose
branches hold one) the rest of the whole continuation is compiled into every branch, so each
branch yields its own successor; `require` that can fail ends the branch with `continue`.
"""

from __future__ import annotations

import ast

from ..types import ANY, TArr, TList, TMap, TRec, TSet, compatible, kind
from .syntax import either_branches, is_either, is_require
from .values import BUILTINS, Bind, Dead, Emitter, Frame, K, Ref, Scope, Val, as_load, domain_set, dym as _dym, join, needs_check


class Statements:
    """The statement stage of the Compiler."""

    def compile_effect(self, out: Emitter, frames, finish):
        """Compile the continuation `frames` (innermost last) into `out`; `finish(out)` emits the end."""
        try:
            self.run(out, list(frames), finish)
        except Dead:
            out.emit("continue")

    def run(self, out: Emitter, frames, finish):
        while frames:
            self.budget.charge("compiling statements")
            fr = frames[-1]
            if fr.i >= len(fr.stmts):
                self.end_frame(frames, fr)
                continue
            stmt = fr.stmts[fr.i]
            fr.i += 1
            kind_ = "require" if is_require(stmt) else "either" if is_either(stmt) else type(stmt).__name__
            handler = getattr(self, "stmt_" + kind_, None)
            if handler is None:
                raise fr.sn.error(stmt, f"'{type(stmt).__name__}' is not a statement of the spec language")
            if handler(out, stmt, frames, fr.sn, fr.scope, finish) is STOP:
                return  # the rest of the continuation was compiled into the branches
        finish(out)

    def end_frame(self, frames, fr):
        frames.pop()
        if fr.proc is not None:
            self.inline_stack.pop()
            if fr.ret is not None:
                node, csn = fr.call
                raise csn.error(node, f"procedure '{fr.proc}' can end without 'return' on some path, but its value is used here")

    def stmt_Pass(self, out, stmt, frames, sn, scope, finish):
        return None

    def stmt_Return(self, out, stmt, frames, sn, scope, finish):
        self.do_return(out, stmt, frames, sn, scope)

    def stmt_require(self, out, stmt, frames, sn, scope, finish):
        call = stmt.value
        if len(call.args) != 1 or call.keywords:
            raise sn.error(stmt, "require takes one condition")
        c = self.bool_value(call.args[0], scope, sn, "s")
        if c.isconst:
            if not c.const:
                raise Dead()
            return None
        out.emit(f"if not {c.code}: continue")

    def stmt_either(self, out, stmt, frames, sn, scope, finish):
        self.branch(out, frames, finish, [(b, None) for b in either_branches(stmt)], sn)
        return STOP

    def stmt_With(self, out, stmt, frames, sn, scope, finish):
        item = stmt.items[0]
        if item.optional_vars is not None or not (isinstance(item.context_expr, ast.Compare)
                                                  and len(item.context_expr.ops) == 1
                                                  and isinstance(item.context_expr.ops[0], ast.In)
                                                  and isinstance(item.context_expr.left, ast.Name)):
            raise sn.error(stmt, "write a nondeterministic choice as 'with x in SET:'")
        var = item.context_expr.left.id
        self.check_local_name(var, stmt, sn, scope)
        s = self.set_value(item.context_expr.comparators[0], scope, sn, "s")
        self.branch(out, frames, finish, [(stmt.body, (var, K(x, s.elem_type))) for x in s.values], sn)
        return STOP

    def stmt_If(self, out, stmt, frames, sn, scope, finish):
        c = self.bool_value(stmt.test, scope, sn, "s")
        if c.isconst:
            frames.append(Frame(stmt.body if c.const else stmt.orelse, 0, sn, scope))
            return None
        if not self.has_nondet(stmt.body + stmt.orelse, sn):
            self.det_if(out, stmt, c, frames, sn, scope, finish)
            return None
        # one test, then `else`: the first branch rewrites `s`, so testing the condition again for
        # the second branch would ask it of the state the first branch produced
        saved = self.inline_stack[:]
        for head, body in ((f"if {c.code}:", stmt.body), ("else:", stmt.orelse)):
            out.emit(head)
            sub = Emitter(out.indent + 1)
            self.inline_stack[:] = saved
            self.fork(sub, frames, finish, body, None, sn)
            if not sub.lines:
                sub.emit("pass")
            out.extend(sub)
        self.inline_stack[:] = saved
        out.emit("continue")
        return STOP

    def stmt_For(self, out, stmt, frames, sn, scope, finish):
        if not isinstance(stmt.target, ast.Name):
            raise sn.error(stmt.target, "the loop variable must be a single name")
        var = stmt.target.id
        self.check_local_name(var, stmt, sn, scope, allow_rebind=True)
        s = self.set_value(stmt.iter, scope, sn, "s")
        # unroll: push iterations in reverse so the first runs first
        for x in reversed(s.values):
            frames.append(Frame([Bind(var, K(x, s.elem_type))] + list(stmt.body), 0, sn, scope))

    def stmt_Bind(self, out, stmt, frames, sn, scope, finish):
        scope[stmt.name] = stmt.val

    def stmt_Expr(self, out, stmt, frames, sn, scope, finish):
        m = self.m
        v = stmt.value
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in m.procedures:
            self.call_procedure(out, v, frames, sn, scope)
            return None
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id not in m.definitions \
                and v.func.id not in m.types and v.func.id not in BUILTINS:
            raise sn.error(stmt, f"unknown procedure '{v.func.id}'" + _dym(v.func.id, list(m.procedures)))
        raise sn.error(stmt, "an expression on its own does nothing: assign it, 'require' it, or call a procedure")

    def stmt_Assign(self, out, stmt, frames, sn, scope, finish):
        r = self.assign(out, stmt, sn, scope)
        if r is not None:
            _, name, call = r
            self.call_procedure(out, call, frames, sn, scope, target=name)

    stmt_AugAssign = stmt_Assign

    def check_local_name(self, name, node, sn, scope, allow_rebind=False):
        m = self.m
        for table, what in ((m.variables, "a state variable"), (m.constants, "a constant"), (m.sets, "a set"),
                            (m.definitions, "a definition"), (m.procedures, "a procedure"), (m.types, "a type")):
            if name in table:
                raise sn.error(node, f"'{name}' is {what}; choose another name for the local")
        if name in m.declared_symbols:
            raise sn.error(node, f"'{name}' is a symbol; choose another name for the local")
        if name in BUILTINS or name == "require":
            raise sn.error(node, f"'{name}' is a built-in; choose another name for the local")

    def has_nondet(self, stmts, sn, seen=None) -> bool:
        seen = seen or set()
        for node in stmts:
            for sub in ast.walk(node):
                if is_either(sub) or isinstance(sub, ast.With) or isinstance(sub, ast.Return):
                    return True
                if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id in self.m.procedures:
                    p = self.m.procedures[sub.func.id]
                    if p.name not in seen:
                        seen.add(p.name)
                        if self.has_nondet(p.stmts, p.sn, seen):
                            return True
        return False

    def copy_frames(self, frames):
        memo = {}
        out = []
        for fr in frames:
            sc = memo.get(id(fr.scope))
            if sc is None:
                sc = memo[id(fr.scope)] = Scope(fr.scope)
            ret = fr.ret
            if ret is not None:
                cs = memo.get(id(ret[1]))
                if cs is None:
                    cs = memo[id(ret[1])] = Scope(ret[1])
                ret = (ret[0], cs)
            out.append(Frame(fr.stmts, fr.i, fr.sn, sc, fr.proc, ret, fr.call))
        return out

    def fork(self, out, frames, finish, body, bind, sn):
        """Compile `body` followed by the rest of the action on a copy of the continuation."""
        fr2 = self.copy_frames(frames)
        fr2.append(Frame(([Bind(*bind)] if bind else []) + list(body), 0, sn, fr2[-1].scope))
        try:
            self.run(out, fr2, finish)
        except Dead:
            out.emit("continue")

    def branch(self, out, frames, finish, branches, sn):
        """Nondeterministic choice: a loop over branches, each holding the rest of the action."""
        if not branches:
            raise Dead()
        n = len(branches)
        if n == 1:
            body, bind = branches[0]
            frames.append(Frame(([Bind(*bind)] if bind else []) + list(body), 0, sn, frames[-1].scope))
            self.run(out, frames, finish)
            return
        saved = self.inline_stack[:]
        sv = self.fresh("s")
        bv = self.fresh("b")
        out.emit(f"{sv} = s")
        out.emit(f"for {bv} in range({n}):")
        loop = Emitter(out.indent + 1)
        loop.emit(f"s = {sv}.copy()")
        for k, (body, bind) in enumerate(branches):
            loop.emit(("if" if k == 0 else "elif") + f" {bv} == {k}:")
            sub = Emitter(loop.indent + 1)
            self.inline_stack[:] = saved
            self.fork(sub, frames, finish, body, bind, sn)
            loop.extend(sub)
        self.inline_stack[:] = saved
        out.extend(loop)

    def det_if(self, out, stmt, c, frames, sn, scope, finish):
        """A deterministic if: both branches compiled in place, locals merged after it."""
        results = []
        for cond, body in ((c.code, stmt.body), (None, stmt.orelse)):
            sub = Emitter(out.indent + 1)
            sc = Scope(scope)
            dead = False
            try:
                self.run(sub, [Frame(body, 0, sn, sc)], lambda o: None)
            except Dead:
                dead = True
                sub.emit("continue")
            results.append((cond, sub, sc, dead))
        # merge locals assigned in either branch
        changed = set()
        for _, _, sc, dead in results:
            if dead:
                continue
            for name, v in sc.items():
                if scope.get(name) is not v:
                    changed.add(name)
        live = [r for r in results if not r[3]]
        for name in sorted(changed):
            if all(name in r[2] for r in live) and live:
                vals = [r[2][name] for r in live]
                if all(isinstance(v, Val) for v in vals):
                    t = ANY
                    for v in vals:
                        t = join(t, v.type)
                    phi = self.fresh("l")
                    for r in live:
                        r[1].emit(f"{phi} = {r[2][name].src(self.m)}")
                    scope[name] = Val(t, code=phi)
                    continue
            scope.pop(name, None)
        then, els = results[0], results[1]
        out.emit(f"if {c.code}:")
        if not then[1].lines:
            then[1].emit("pass")
        out.extend(then[1])
        if els[1].lines:
            out.emit("else:")
            out.extend(els[1])

    def do_return(self, out, stmt, frames, sn, scope):
        """`return [EXPR]` in a procedure: leave its frames; bind the value where the call asked for it."""
        k = len(frames) - 1
        while k >= 0 and frames[k].proc is None:
            k -= 1
        if k < 0:
            raise sn.error(stmt, "'return' belongs in a procedure; an action ends at the end of its effect")
        val = None
        if stmt.value is not None:
            val = self.value(stmt.value, scope, sn, "s")
        proc_frame = frames[k]
        for fr in frames[k:]:
            if fr.proc is not None:
                self.inline_stack.pop()
        del frames[k:]
        if proc_frame.ret is not None:
            name, caller_scope = proc_frame.ret
            if val is None:
                node, csn = proc_frame.call
                raise sn.error(stmt, f"procedure '{proc_frame.proc}' returns no value here, but its value is used at {csn.pos(node)}")
            if val.isconst:
                caller_scope[name] = val
            else:
                py = self.fresh("l")
                out.emit(f"{py} = {val.code}")
                caller_scope[name] = Val(val.type, code=py)

    def call_procedure(self, out, call, frames, sn, scope, target=None):
        m = self.m
        p = m.procedures[call.func.id]
        if call.keywords:
            raise sn.error(call, "procedures take positional arguments only")
        if len(call.args) != len(p.params):
            raise sn.error(call, f"procedure '{p.name}' takes {len(p.params)} argument(s), {len(call.args)} given")
        if p.name in self.inline_stack:
            chain = " -> ".join(self.inline_stack[self.inline_stack.index(p.name):] + [p.name])
            raise sn.error(call, f"recursive procedure: {chain}")
        inner = Scope()
        for pname, a in zip(p.params, call.args):
            r = self.expr(a, scope, sn, "s")
            if isinstance(r, Val) and not r.isconst:
                # evaluate once, at the call
                tmp = self.fresh("a")
                out.emit(f"{tmp} = {r.code}")
                r = Val(r.type, code=tmp)
            inner[pname] = r
        self.inline_stack.append(p.name)
        ret = (target, scope) if target is not None else None
        frames.append(Frame(list(p.stmts), 0, p.sn, inner, proc=p.name, ret=ret, call=(call, sn)))

    def assign(self, out, stmt, sn, scope):
        m = self.m
        if isinstance(stmt, ast.AugAssign):
            if not isinstance(stmt.op, (ast.Add, ast.Sub)):
                raise sn.error(stmt, "only += and -= are allowed")
            value_node = ast.BinOp(left=as_load(stmt.target), op=stmt.op, right=stmt.value)
            ast.copy_location(value_node, stmt)
            ast.fix_missing_locations(value_node)
            targets = [stmt.target]
        else:
            if len(stmt.targets) != 1:
                raise sn.error(stmt, "assign one target at a time")
            targets = stmt.targets
            value_node = stmt.value
        target = targets[0]
        if isinstance(target, ast.Tuple):
            raise sn.error(target, "assign one target at a time")
        if isinstance(value_node, ast.Call) and isinstance(value_node.func, ast.Name) and value_node.func.id in m.procedures:
            if not isinstance(target, ast.Name) or isinstance(scope.get(target.id), Ref) or target.id in m.variables:
                raise sn.error(target, "assign a procedure's value to a local first, then store the local")
            self.check_local_name(target.id, target, sn, scope)
            return ("call", target.id, value_node)
        if isinstance(target, ast.Name) and not isinstance(scope.get(target.id), Ref) and target.id not in m.variables:
            self.check_local_name(target.id, target, sn, scope)
            v = self.value(value_node, scope, sn, "s")
            if isinstance(v.type, (TSet, TList, TMap)) and not v.isconst:
                raise sn.error(value_node, "locals hold values, not collections")
            if v.isconst:
                scope[target.id] = v
            else:
                name = self.fresh("l")
                out.emit(f"{name} = {v.code}")
                scope[target.id] = Val(v.type, code=name)
            return
        ref = self.expr(as_load(target), scope, sn, "s")
        if not isinstance(ref, Ref):
            raise sn.error(target, "only state variables, their elements and fields, and locals can be assigned")
        v = self.value(value_node, scope, sn, "s")
        self.write(out, ref, v, sn, value_node, target)

    def write(self, out, ref: Ref, v: Val, sn, value_node, target):
        m = self.m
        t = ref.type
        if isinstance(t, TArr):
            raise sn.error(target, f"'{ref.var.name}' is an array: assign its elements")
        if not compatible(v.type, t) or (isinstance(t, TRec) and not (isinstance(v.type, TRec) and v.type.name == t.name)):
            raise sn.error(value_node, f"cannot assign a {kind(v.type)} to '{ref.var.name}', which holds {kind(t)}")
        off = ref.offset_code()
        if ref.dyn:
            o = self.fresh("o")
            out.emit(f"{o} = {off}")
            off = o
        if isinstance(t, TRec):
            n = len(t.fields)
            if v.isconst:
                for i, (fname, ft) in enumerate(t.fields.items()):
                    m.check_in_domain(v.const[i], ft, ft, sn.pos(value_node), f"field '{fname}'")
                if ref.dyn:
                    out.emit(f"s[{off}:{off}+{n}] = {m.embed(v.const, t)}")
                else:
                    for i in range(n):
                        out.emit(f"s[{ref.off + i}] = {m.embed(v.const[i], t.fields[list(t.fields)[i]])}")
            else:
                if ref.dyn:
                    out.emit(f"s[{off}:{off}+{n}] = {v.code}")
                else:
                    out.emit(f"s[{ref.off}:{ref.off + n}] = {v.code}")
            return
        if v.isconst:
            m.check_in_domain(v.const, v.type, t, sn.pos(value_node), f"'{ref.var.name}'")
            out.emit(f"s[{off}] = {m.embed(v.const, t)}")
            return
        if needs_check(v.type, t):
            pi = m.pos_index(sn.pos(value_node))
            out.emit(f"s[{off}] = _chk({v.code}, {m.embed_raw(domain_set(m, t))}, {pi})")
        else:
            out.emit(f"s[{off}] = {v.code}")


STOP = object()  # a statement handler's answer: the continuation is compiled, `run` returns
