"""Loading a YAML spec (with includes) into a compiled, immutable Model.

The Loader runs the stages in order, each a mixin of its own module:

1. read (`modules`): the root file and its includes, their sections merged by name;
2. declare (`declare`): constants with the config's overrides, symbols, sets, types;
3. lay out (`layout`): variables and their slots in the state tuple;
4. resolve (here): definitions, procedures (no recursion), assumptions, actions, invariants;
5. generate (`codegen`): every action instance and invariant compiled (`compiler`) into one
   module, checked against the allow-list (`guard`) and run once.
"""

from __future__ import annotations

import ast
import fnmatch
import os

from . import annotations
from ..model import Action, Invariant, Model
from .budget import Budget
from .codegen import CodeGen
from .compiler import BUILTINS, Compiler, Scope
from .declare import Declarations
from .layout import Layout
from .modules import IDENT_RE, MODULE_KEYS, ModuleReader, parse_head
from ..errors import Refused, SpecError, did_you_mean
from .syntax import Snippet
from .yamlsrc import LDict, LList, check_keys, key_pos, pos_of

__all__ = ["Loader", "MODULE_KEYS", "load_model"]

ACTION_KEYS = ("params", "guard", "effect", "source", "doc", "when", "group")


class Definition:
    def __init__(self, name, params, sn, tree, doc=""):
        self.name, self.params, self.sn, self.tree, self.doc = name, params, sn, tree, doc


class Procedure:
    def __init__(self, name, params, sn, stmts, source="", doc=""):
        self.name, self.params, self.sn, self.stmts, self.source, self.doc = name, params, sn, stmts, source, doc


def _entry(name, key, val, kpos, cont, main, extra, what):
    """A named entry written either as its main text alone or as a mapping {main: ..., extra...}.

    Returns (text, position of the text, {extra key: string value})."""
    pos = pos_of(cont, key)
    info = {k: "" for k in extra}
    if isinstance(val, LDict):
        check_keys(val, (main,) + tuple(extra), f"{what} {name}")
        info = {k: str(val.get(k) or "") for k in extra}
        pos = pos_of(val, main, kpos)
        val = val.get(main)
    if val is None:
        raise SpecError(kpos, f"{what} {name} needs {'an expression' if main == 'expr' else 'a ' + main}")
    return val, pos, info


class Loader(ModuleReader, Declarations, Layout, CodeGen):
    """Reads a root spec file and its includes; builds a Model."""

    def __init__(self, root_path, overrides=None, actions=None, invariants=None, allow_outside=False,
                 config_pos=None, reach=None, budget=None):
        self.root_path = os.path.abspath(root_path)
        self.root_dir = os.path.dirname(self.root_path)
        self.overrides = overrides or {}  # name -> (value, pos)
        self.action_filter = actions  # list of (pattern, pos) or None
        self.invariant_filter = invariants
        self.allow_outside = allow_outside
        self.config_pos = config_pos
        self.reach = reach  # list of (name, text, pos, expect): witness queries instead of invariants
        self.modules = []  # (path shown, LDict)
        self.m = Model()
        self.cwd = os.getcwd()
        self.budget = budget or Budget()

    def load(self) -> Model:
        m = self.m
        if not os.path.exists(self.root_path):
            raise SpecError(self.config_pos, f"spec file {self.shown(self.root_path)} does not exist")
        self.read(self.root_path, [], self.config_pos)
        root = self.modules[-1][1]
        m.root_file = self.shown(self.root_path)
        m.name = str(root.get("module") or os.path.splitext(os.path.basename(self.root_path))[0])
        m.doc = str(root.get("doc") or "")
        sections = {k: self.merged(k) for k in ("constants", "sets", "types", "variables", "definitions",
                                                 "procedures", "actions", "invariants", "assume")}
        self.load_constants(sections["constants"])
        self.collect_symbols(sections)
        self.comp = Compiler(m, self.budget)
        self.load_sets(sections["sets"])
        self.load_types(sections["types"])
        self.load_variables(sections["variables"])
        self.load_definitions(sections["definitions"])
        self.load_procedures(sections["procedures"])
        self.refuse_recursion()
        annotations.load(self, m, assumptions_only=True)
        self.check_assumptions(sections["assume"])
        self.load_actions(sections["actions"])
        self.load_invariants(sections["invariants"])
        annotations.load(self, m)
        for _, doc in self.modules:
            if doc.get("init") is not None:
                sn = Snippet(doc["init"], pos_of(doc, "init"), "init block")
                m.init_specs.append((sn, sn.parse_stmts()))
        self.generate()
        return m

    # --- resolving: definitions, procedures, assumptions ----------------------------------------
    def load_definitions(self, sec):
        m = self.m
        for name, (key, val, kpos, cont) in sec.items():
            _, params = parse_head(key, kpos, "definition")
            val, pos, info = _entry(name, key, val, kpos, cont, "expr", ("doc",), "definition")
            doc = info["doc"]
            self.check_name_free(name, kpos, "definition")
            sn = Snippet(val, pos, f"definition {name}")
            m.definitions[name] = Definition(name, params, sn, sn.parse_expr(), doc)

    def load_procedures(self, sec):
        m = self.m
        for name, (key, val, kpos, cont) in sec.items():
            _, params = parse_head(key, kpos, "procedure")
            val, pos, info = _entry(name, key, val, kpos, cont, "body", ("source", "doc"), "procedure")
            source, doc = info["source"], info["doc"]
            self.check_name_free(name, kpos, "procedure")
            sn = Snippet(val, pos, f"procedure {name}")
            m.procedures[name] = Procedure(name, params, sn, sn.parse_stmts(), source, doc)

    def refuse_recursion(self):
        """A definition or procedure that reaches itself is refused, used or not (the language has
        no recursion: every use is inlined)."""
        m = self.m
        for what, table, trees in (("definition", m.definitions, lambda d: [d.tree]),
                                   ("procedure", m.procedures, lambda p: p.stmts)):
            edges = {name: list(_references(trees(d), d.params, table)) for name, d in table.items()}
            cycle = _find_cycle(edges)
            if cycle is not None:
                chain, owner, node = cycle
                raise table[owner].sn.error(node, f"recursive {what}: {' -> '.join(chain)}")

    def check_name_free(self, name, pos, what):
        m = self.m
        for table, t in ((m.constants, "a constant"), (m.sets, "a set"), (m.types, "a type"), (m.variables, "a variable"),
                         (m.definitions, "a definition"), (m.procedures, "a procedure")):
            if name in table:
                raise SpecError(pos, f"{what} '{name}' is already {t}")
        if name in BUILTINS or name == "require":
            raise SpecError(pos, f"'{name}' is a built-in")

    def check_assumptions(self, sec):
        for name, (key, val, kpos, cont) in sec.items():
            val, pos, info = _entry(name, key, val, kpos, cont, "expr", ("message",), "assumption")
            message = info["message"] or f"assumption {name} does not hold"
            sn = Snippet(val, pos, f"assumption {name}")
            r = self.comp.bool_value(sn.parse_expr(), Scope(), sn, "state")
            if not r.isconst:
                raise SpecError(pos, f"assumption {name} must depend on constants only")
            if not r.const:
                where = self.config_pos if self.overrides else pos
                raise Refused(where, f"this configuration is refused: {message} (assumption {name} at {pos})",
                              message, kernel=name in self.m.annotations.refusals)

    # --- resolving: actions and invariants -------------------------------------------------------
    def selected(self, name, filt):
        return filt is None or any(fnmatch.fnmatchcase(name, pat) for pat, _ in filt)

    def load_actions(self, sec):
        m = self.m
        if self.action_filter is not None:
            for pat, pos in self.action_filter:
                if not any(fnmatch.fnmatchcase(n, str(pat)) for n in sec):
                    raise SpecError(pos, f"no action matches '{pat}'" + did_you_mean(pat, sec))
        for name, (key, val, kpos, cont) in sec.items():
            if not IDENT_RE.match(name):
                raise SpecError(kpos, f"action name '{name}' is not an identifier")
            if not isinstance(val, LDict):
                raise SpecError(kpos, f"action {name} is a mapping with params, guard, effect, source")
            check_keys(val, ACTION_KEYS, f"action {name}")
            a = Action(name, kpos)
            a.source = str(val.get("source") or "")
            a.doc = str(val.get("doc") or "")
            a.group = str(val["group"]) if val.get("group") is not None else None
            if "when" in val:
                sn = Snippet(val["when"], pos_of(val, "when"), f"'when' of {name}")
                r = self.comp.bool_value(sn.parse_expr(), Scope(), sn, "state")
                if not r.isconst:
                    raise SpecError(pos_of(val, "when"), f"'when' of {name} must depend on constants only (it says whether this kernel has the action)")
                if not r.const:
                    a.available = False
                    a.unavailable_reason = f"not in this configuration: when: {val['when']}"
            params = val.get("params") or LDict()
            if not isinstance(params, LDict):
                raise SpecError(pos_of(val, "params"), f"params of {name} map each parameter to a set, e.g. {{v: VMAS}}")
            for pname, sexpr in params.items():
                ppos = key_pos(params, pname)
                if not IDENT_RE.match(str(pname)):
                    raise SpecError(ppos, f"parameter name '{pname}' is not an identifier")
                for table, what in ((m.variables, "a state variable"), (m.constants, "a constant"), (m.sets, "a set"),
                                    (m.definitions, "a definition"), (m.types, "a type")):
                    if str(pname) in table:
                        raise SpecError(ppos, f"parameter '{pname}' of {name} is {what}; choose another name")
                sn = Snippet(sexpr if not isinstance(sexpr, LList) else str(sexpr), pos_of(params, pname), f"domain of {name}.{pname}")
                st = self.comp.set_value(sn.parse_expr(), Scope(), sn, "state")
                if not st.values and a.available:
                    raise SpecError(pos_of(params, pname), f"parameter {pname} of {name} ranges over an empty set"
                                    " (give the action a 'when:' that is false for such constants)")
                a.params.append((str(pname), st))
            g = val.get("guard", True)
            a.guard_sn = Snippet(g, pos_of(val, "guard", kpos), f"guard of {name}")
            a.guard = a.guard_sn.parse_expr()
            e = val.get("effect")
            if e is not None:
                a.effect_sn = Snippet(e, pos_of(val, "effect"), f"effect of {name}")
                a.effect = a.effect_sn.parse_stmts()
            m.actions[name] = a

    def load_invariants(self, sec):
        m = self.m
        if self.invariant_filter is not None:
            for pat, pos in self.invariant_filter:
                if not any(fnmatch.fnmatchcase(n, str(pat)) for n in sec):
                    raise SpecError(pos, f"no invariant matches '{pat}'" + did_you_mean(pat, sec))
        for name, (key, val, kpos, cont) in sec.items():
            val, pos, info = _entry(name, key, val, kpos, cont, "expr", ("doc",), "invariant")
            doc = info["doc"]
            sn = Snippet(val, pos, f"invariant {name}")
            inv = Invariant(name, sn, sn.parse_expr(), doc, kpos)
            if self.selected(name, self.invariant_filter) and self.reach is None:
                m.invariants[name] = inv
        if self.reach is not None:
            # a witness query: the target holds in a state <=> the invariant `not target` fails there
            for name, text, pos, expect in self.reach:
                sn = Snippet(text, pos, f"reach target {name}")
                tree = sn.parse_expr()
                neg = ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=tree), tree)
                inv = Invariant(name, sn, neg, "", pos, reach=True, expect=expect, target_text=" ".join(str(text).split()))
                m.invariants[name] = inv


def _references(trees, params, table):
    """(name, node) of every use of a name of `table` in the trees, but for parameters and
    generator variables (which hide it)."""
    bound = set(params)
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.comprehension) and isinstance(node.target, ast.Name):
                bound.add(node.target.id)
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in table and node.id not in bound:
                yield node.id, node


def _find_cycle(edges):
    """(chain, name whose body closes it, node of the closing use) of the first cycle, or None."""
    state = {}

    def visit(name, path):
        state[name] = "open"
        for target, node in edges[name]:
            if state.get(target) == "open":
                return path[path.index(target):] + [target], name, node
            if target not in state:
                found = visit(target, path + [target])
                if found:
                    return found
        state[name] = "done"
        return None

    for name in edges:
        if name not in state:
            found = visit(name, [name])
            if found:
                return found
    return None


def load_model(spec_path, overrides=None, actions=None, invariants=None, allow_outside=False, config_pos=None,
               reach=None, budget=None) -> Model:
    return Loader(spec_path, overrides, actions, invariants, allow_outside, config_pos, reach, budget).load()
