"""Generation: the compiled model as one Python module, checked and run once.

The module holds `_DEFAULT` (the state every variable's default and `init:` give), `_init()`,
`_next(state)` (every action instance, parameters folded, one after the other), `_inv{i}` and
`_inv_first` (the invariants), and `_probe{j}` (the premise of each `implies(a, b)`). Its only
globals are the runtime helpers and the embedded constants `_K{i}`; it is checked against the
allow-list of `guard` before `exec` runs it.
"""

from __future__ import annotations

import ast
import itertools

from ..errors import SpecError
from ..model import Instance
from .compiler import MAX_CODE, Emitter, Frame, K, Scope
from .guard import check_generated
from .runtime import RUNTIME

MAX_INSTANCES = 1_000_000  # instances of one action (combinations of its parameters)
DISABLED = "guard or a require is false for these constants and parameters"


class CodeGen:
    """The generation stage of the Loader: everything is resolved; emit, check, run."""

    def generate(self):
        m = self.m
        self.check_global_names()
        lines = [f"_DEFAULT = {tuple(self.default_state())!r}"]
        lines += self.init_function()
        lines += self.next_function(sum(map(len, lines)))
        lines += self.invariant_functions()
        lines += self.probe_functions()
        m.source_code = "\n".join(lines) + "\n"
        if len(m.source_code) > MAX_CODE:
            self.too_much_code(len(m.source_code))
        ns = dict(RUNTIME)
        for i, obj in enumerate(m.runtime):
            ns[f"_K{i}"] = obj
        exec(check_generated(m.source_code, "<spec>"), ns)
        m.ns = ns
        m.invariant_list = list(m.invariants.values())

    def default_state(self):
        """Every slot's default value, then each variable's `init:` over all its elements."""
        m = self.m
        default = []
        for var in m.variables.values():
            v = m.default_value(var.elem)
            default.extend(([*v] if isinstance(v, tuple) else [v]) * var.count)
        for var, v, pos in self.var_inits:
            val = self.init_value(var, v, pos)
            flat = list(val) if isinstance(val, tuple) else [val]
            for k in range(var.count):
                default[var.base + k * var.width: var.base + (k + 1) * var.width] = flat
        return default

    def init_function(self):
        lines = ["def _init():", "    out = []", "    _app = out.append", "    state = _DEFAULT", "    for _once in _ONCE:"]
        body = Emitter(2)
        body.emit("s = list(state)")
        frames = [Frame(list(stmts), 0, sn, Scope()) for sn, stmts in reversed(self.m.init_specs)]
        self.comp.compile_effect(body, frames, lambda o: o.emit("_app((-1, tuple(s)))"))
        return lines + body.lines + ["    return out"]

    def next_function(self, size):
        """`_next`: every enabled instance of every selected, available action, in order."""
        m = self.m
        m.instance_lines = []
        lines = ["def _next(state):", "    out = []", "    _app = out.append"]
        for a in m.actions.values():
            if not self.selected(a.name, self.action_filter):
                continue
            if not a.available:
                m.unavailable_actions.append((a.name, a.unavailable_reason))
                continue
            count = 1
            for _, st in a.params:
                count *= len(st.values)
            if count > MAX_INSTANCES:
                raise SpecError(a.pos, f"action {a.name} has {count:,} instances (one per combination of its parameters);"
                                f" a model holds at most {MAX_INSTANCES:,}: use smaller sets")
            for combo in itertools.product(*[st.values for _, st in a.params]):
                self.budget.charge("compiling action instances")
                args = [(pn, v, str(st.display(v))) for (pn, st), v in zip(a.params, combo)]
                inst = Instance(len(m.instances), a, args)
                code = self.instance_code(inst)
                if code is None:
                    m.disabled_instances.append((inst.label(), DISABLED))
                    continue
                m.instances.append(inst)
                m.instance_lines.append(code)
                size += sum(map(len, code))
                if size > MAX_CODE:
                    self.too_much_code(size)
                lines.append(f"    # instance {inst.index}: {a.name}")  # a checked identifier, never a symbol
                lines.extend(code)
        return lines + ["    return out"]

    def invariant_functions(self):
        m, comp = self.m, self.comp
        lines, first = [], ["def _inv_first(state):"]
        for i, inv in enumerate(m.invariants.values()):
            comp.inline_stack = []
            code = comp.bool_value(inv.tree, Scope(), inv.sn, "state").src(m)
            lines += [f"def _inv{i}(state):", f"    return bool({code})"]
            first.append(f"    if not {code}: return {i}")
        return lines + first + ["    return -1"]

    def probe_functions(self):
        """For each implies(a, b) in an invariant, "did a ever hold?" (queries have none)."""
        m, comp = self.m, self.comp
        m.probes, lines = [], []
        for inv in m.invariants.values():
            if inv.reach:
                continue
            for premise, gens in _implications(inv.tree, []):
                probe = premise
                if gens:
                    probe = ast.copy_location(ast.Call(func=ast.Name(id="any", ctx=ast.Load()), keywords=[],
                                                       args=[ast.GeneratorExp(elt=premise, generators=list(gens))]), premise)
                    ast.fix_missing_locations(probe)
                comp.inline_stack = []
                v = comp.bool_value(probe, Scope(), inv.sn, "state")
                j = len(m.probes)
                lines += [f"def _probe{j}(state):", f"    return bool({v.src(m)})"]
                m.probes.append((inv.name, ast.unparse(premise), j))
        return lines

    def too_much_code(self, size):
        raise SpecError(self.config_pos, f"the compiled model is {size:,} characters of code or more, more than "
                        f"{MAX_CODE:,}: nested loops over large sets unroll into too much code; use smaller constants")

    def instance_code(self, inst):
        comp = self.comp
        a = inst.action
        scope = Scope({pn: K(v, st.elem_type) for (pn, st), (_, v, _) in zip(a.params, inst.args)})
        comp.inline_stack = []
        g = comp.bool_value(a.guard, scope, a.guard_sn, "state")
        if g.isconst and not g.const:
            return None
        out = Emitter(1)
        if not g.isconst:
            out.emit(f"if {g.code}:")
            out.indent += 1
        out.emit("for _once in _ONCE:")
        body = Emitter(out.indent + 1)
        body.emit("s = list(state)")
        comp.inline_stack = []
        if a.effect:
            comp.compile_effect(body, [Frame(list(a.effect), 0, a.effect_sn, Scope(scope))],
                                lambda o: o.emit(f"_app(({inst.index}, tuple(s)))"))
        else:
            body.emit(f"_app(({inst.index}, state))")
        if not any("_app(" in line for line in body.lines):
            return None  # every path ends in a require that is false for these constants
        if not any("continue" in line for line in body.lines):
            # no require: drop the loop that `continue` would leave
            out.lines.pop()
            body.lines = [line[4:] for line in body.lines]
        out.extend(body)
        return out.lines


def _implications(node, gens):
    """(premise, enclosing generators) of every implies(a, b) in an invariant's syntax tree."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("all", "any", "sum", "len", "min", "max") and len(node.args) == 1 \
                and isinstance(node.args[0], ast.GeneratorExp):
            g = node.args[0]
            yield from _implications(g.elt, gens + list(g.generators))
            return
        if node.func.id == "implies" and len(node.args) == 2:
            yield node.args[0], gens
    for child in ast.iter_child_nodes(node):
        yield from _implications(child, gens)
