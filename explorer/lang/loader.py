"""Loading a YAML spec (with includes) into a compiled, immutable Model.

Pipeline: read modules (yamlsrc) -> merge names -> constants (with overrides) -> symbols -> sets
-> types -> variables (slot layout) -> definitions / procedures -> assumptions -> action instances
and invariants compiled to Python source (compiler) -> one `exec` of generated code that contains
nothing but the compiled spec and a few runtime helpers.
"""

from __future__ import annotations

import ast
import fnmatch
import glob
import itertools
import os
import re

from . import yamlsrc
from ..model import Action, Instance, Invariant, Model, VarInfo
from .compiler import BUILTINS, Compiler, Emitter, Frame, K, Scope, domain_set
from .observations import load_observations
from .runtime import RUNTIME
from ..errors import EvalError, Pos, SpecError, did_you_mean
from .syntax import Snippet
from ..types import BOOL, ANY, SetInfo, TAny, TBool, TInt, TList, TMap, TRec, TSet, TSym, kind
from .yamlsrc import LDict, LList, LStr, key_pos, pos_of

MODULE_KEYS = ("module", "doc", "include", "constants", "sets", "types", "variables", "init",
               "definitions", "procedures", "actions", "invariants", "assume", "observations")
ACTION_KEYS = ("params", "guard", "effect", "source", "doc", "when", "group")
VARIABLE_KEYS = ("type", "over", "init", "min", "max", "doc", "ghost", "group")
_HEAD_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(\s*([^()]*)\)\s*)?$")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Definition:
    def __init__(self, name, params, sn, tree, doc=""):
        self.name, self.params, self.sn, self.tree, self.doc = name, params, sn, tree, doc


class Procedure:
    def __init__(self, name, params, sn, stmts, source="", doc=""):
        self.name, self.params, self.sn, self.stmts, self.source, self.doc = name, params, sn, stmts, source, doc


def parse_head(key, pos, what):
    m = _HEAD_RE.match(str(key))
    if not m:
        raise SpecError(pos, f"{what} name must look like name or name(a, b), not '{key}'")
    params = [p.strip() for p in m.group(2).split(",")] if m.group(2) and m.group(2).strip() else []
    for p in params:
        if not _IDENT_RE.match(p):
            raise SpecError(pos, f"parameter '{p}' of {what} '{m.group(1)}' is not a name")
    if len(set(params)) != len(params):
        raise SpecError(pos, f"{what} '{m.group(1)}' names a parameter twice")
    return m.group(1), params


def _check_keys(d, allowed, what):
    if not isinstance(d, LDict):
        return
    for k in d:
        if k not in allowed:
            raise SpecError(key_pos(d, k), f"unknown key '{k}' in {what}" + did_you_mean(k, allowed) + f"; allowed: {', '.join(allowed)}")


def _entry(name, key, val, kpos, cont, main, extra, what):
    """A named entry written either as its main text alone or as a mapping {main: ..., extra...}.

    Returns (text, position of the text, {extra key: string value})."""
    pos = pos_of(cont, key)
    info = {k: "" for k in extra}
    if isinstance(val, LDict):
        _check_keys(val, (main,) + tuple(extra), f"{what} {name}")
        info = {k: str(val.get(k) or "") for k in extra}
        pos = pos_of(val, main, kpos)
        val = val.get(main)
    if val is None:
        raise SpecError(kpos, f"{what} {name} needs {'an expression' if main == 'expr' else 'a ' + main}")
    return val, pos, info


class Loader:
    """Reads a root spec file and its includes; builds a Model."""

    def __init__(self, root_path, overrides=None, actions=None, invariants=None, allow_outside=False,
                 config_pos=None, reach=None):
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

    def shown(self, path):
        rel = os.path.relpath(path, self.cwd)
        return path if rel.startswith("..") and os.path.isabs(path) and len(rel) > len(path) else rel

    # --- reading modules -------------------------------------------------------------------------
    def read(self, path, stack, pos):
        path = os.path.abspath(path)
        if path in stack:
            chain = " -> ".join(self.shown(p) for p in stack[stack.index(path):] + [path])
            raise SpecError(pos, f"include cycle: {chain}")
        if any(path == p for p, _ in self.modules):
            return
        shown = self.shown(path)
        doc = yamlsrc.load_file(path, shown)
        if doc is None:
            doc = LDict()
            doc.pos, doc.key_pos, doc.val_pos = Pos(shown, 1, 1), {}, {}
        if not isinstance(doc, LDict):
            raise SpecError(getattr(doc, "pos", Pos(shown, 1, 1)), "a spec module is a YAML mapping of module, constants, variables, actions, ...")
        for k in doc:
            if k not in MODULE_KEYS:
                hint = did_you_mean(k, MODULE_KEYS + ("spec",))
                raise SpecError(key_pos(doc, k), f"unknown key '{k}' in a spec module" + hint
                                + f"; allowed: {', '.join(MODULE_KEYS)} (a config has 'spec: PATH')")
        inc = doc.get("include")
        if inc is not None:
            items = inc if isinstance(inc, LList) else [inc]
            for i, item in enumerate(items):
                ipos = pos_of(inc, i) if isinstance(inc, LList) else pos_of(doc, "include")
                if not isinstance(item, str):
                    raise SpecError(ipos, "an include is a path relative to this file")
                base = os.path.dirname(path)
                pattern = os.path.normpath(os.path.join(base, str(item)))
                matches = sorted(glob.glob(pattern)) if any(c in item for c in "*?[") else [pattern]
                if not matches:
                    raise SpecError(ipos, f"include '{item}' matches no file")
                for target in matches:
                    real = os.path.realpath(target)
                    if not self.allow_outside and not (real + os.sep).startswith(os.path.realpath(self.root_dir) + os.sep) and real != os.path.realpath(self.root_dir):
                        raise SpecError(ipos, f"include '{item}' is outside the spec's directory tree ({self.shown(self.root_dir)}); configs may allow it with 'allow_outside_includes: true'")
                    if not os.path.exists(target):
                        raise SpecError(ipos, f"include '{item}': no such file")
                    self.read(target, stack + [path], ipos)
        self.modules.append((path, doc))
        self.m.files.append(shown)

    # --- the pipeline ---------------------------------------------------------------------------
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
        self.comp = Compiler(m)
        self.load_sets(sections["sets"])
        self.load_types(sections["types"])
        self.load_variables(sections["variables"])
        self.load_definitions(sections["definitions"])
        self.load_procedures(sections["procedures"])
        self.check_assumptions(sections["assume"])
        self.load_actions(sections["actions"])
        self.load_invariants(sections["invariants"])
        for _, doc in self.modules:
            if doc.get("init") is not None:
                sn = Snippet(doc["init"], pos_of(doc, "init"), "init block")
                m.init_specs.append((sn, sn.parse_stmts()))
        self.generate()
        load_observations(self, self.merged("observations"))
        return m

    def merged(self, key):
        """Entries of section `key` over all modules: name -> (value, key pos, container)."""
        out = {}
        for _, doc in self.modules:
            sec = doc.get(key)
            if sec is None:
                continue
            if not isinstance(sec, LDict):
                raise SpecError(pos_of(doc, key), f"'{key}' must be a mapping of names")
            for name, val in sec.items():
                head = str(name)
                if key in ("definitions", "procedures"):
                    head = parse_head(name, key_pos(sec, name), key[:-1])[0]
                if head in out:
                    other = out[head][2]
                    raise SpecError(key_pos(sec, name), f"duplicate name '{head}' in {key} (also at {other})")
                out[head] = (name, val, key_pos(sec, name), sec)
        return out

    def check_global_names(self):
        m = self.m
        seen = {}
        for what, table in (("constant", m.constants), ("set", m.sets), ("type", m.types), ("variable", m.variables),
                            ("definition", m.definitions), ("procedure", m.procedures)):
            for name in table:
                if name in seen:
                    raise SpecError(None, f"'{name}' is declared both as a {seen[name]} and as a {what}")
                seen[name] = what

    # constants ------------------------------------------------------------------------------------
    def load_constants(self, sec):
        m = self.m
        for name, (key, val, kpos, cont) in sec.items():
            if not _IDENT_RE.match(name):
                raise SpecError(kpos, f"constant name '{name}' is not an identifier")
            if name in BUILTINS:
                raise SpecError(kpos, f"'{name}' is a built-in and cannot be a constant")
            m.constant_pos[name] = kpos
            m.constants[name] = val  # raw for now
        self.default_constants = dict(m.constants)
        for name, entry in self.overrides.items():
            value, pos = entry[0], entry[1]
            vpos = entry[2] if len(entry) > 2 else pos
            if name not in m.constants:
                raise SpecError(pos, f"unknown constant '{name}'" + did_you_mean(name, m.constants) + (f"; the spec declares: {', '.join(m.constants)}" if m.constants else "; the spec declares no constants"))
            self.check_shape(m.constants[name], value, vpos, name)
            m.constants[name] = value
            m.constant_pos[name] = pos

    def check_shape(self, default, value, pos, what):
        def k(v):
            if isinstance(v, bool):
                return "a bool"
            if isinstance(v, int):
                return "an integer"
            if isinstance(v, str):
                return "a symbol"
            if isinstance(v, list):
                return "a list"
            if isinstance(v, dict):
                return "a mapping"
            return "empty" if v is None else type(v).__name__
        if k(default) != k(value):
            raise SpecError(pos, f"constant {what} must be {k(default)} (like its default), not {k(value)}")
        if isinstance(default, dict):
            for key in value:
                if key not in default:
                    p = value.key_pos.get(key, pos) if isinstance(value, LDict) else pos
                    raise SpecError(p, f"unknown key '{key}' in constant {what}" + did_you_mean(key, default) + f"; it has: {', '.join(map(str, default))}")
            for key in default:
                if key not in value:
                    raise SpecError(pos, f"constant {what} lacks key '{key}' (it needs: {', '.join(map(str, default))})")
                self.check_shape(default[key], value[key], pos_of(value, key, pos), f"{what}.{key}")
        if isinstance(default, list) and default:
            proto = default[0]
            for i, item in enumerate(value):
                if isinstance(proto, (dict, list)) or k(proto) != "a symbol":
                    self.check_shape(proto, item, pos_of(value, i, pos), f"{what}[{i}]")

    def to_const(self, v, pos):
        """YAML value -> (runtime value, type)."""
        m = self.m
        if isinstance(v, bool):
            return v, BOOL
        if isinstance(v, int):
            return v, TInt(v, v)
        if isinstance(v, str):
            return m.symbol_id(str(v)), TSym([str(v)])
        if isinstance(v, list):
            vals = [self.to_const(x, pos_of(v, i, pos)) for i, x in enumerate(v)]
            from .compiler import join
            t = ANY
            for _, vt in vals:
                t = join(t, vt)
            return tuple(x for x, _ in vals), TList(t)
        if isinstance(v, dict):
            out, types = {}, {}
            for key, x in v.items():
                m.symbol_id(str(key))
                out[str(key)], types[str(key)] = self.to_const(x, pos_of(v, key, pos))
            return out, TMap(types)
        if v is None:
            raise SpecError(pos, "a constant needs a value")
        raise SpecError(pos, f"a constant cannot hold {type(v).__name__}")

    def collect_symbols(self, sections):
        m = self.m

        def walk(v):
            if isinstance(v, str) and not isinstance(v, bool):
                m.symbol_id(str(v))
                m.declared_symbols.add(str(v))
            elif isinstance(v, list):
                for x in v:
                    walk(x)
            elif isinstance(v, dict):
                for x in v.values():
                    walk(x)
        def keys(v):
            if isinstance(v, dict):
                for k, x in v.items():
                    m.symbol_id(str(k))
                    keys(x)
            elif isinstance(v, list):
                for x in v:
                    keys(x)
        # Symbols are numbered in an order that does not depend on the overrides: the spec's own
        # enums, set lists and constant defaults first, values that only an override brings last.
        # So two loads of one spec with other constants give equal states equal tuples.
        for name, (key, val, kpos, cont) in sections["types"].items():
            if isinstance(val, LList):
                for s in val:
                    walk(s)
        for name, (key, val, kpos, cont) in sections["sets"].items():
            if isinstance(val, LList):
                for s in val:
                    walk(s)
        for name, (key, val, kpos, cont) in sections["variables"].items():
            if isinstance(val, LDict) and isinstance(val.get("type"), LList):
                walk(val["type"])
        for name in self.default_constants:
            walk(self.default_constants[name])
            keys(self.default_constants[name])
        for name in list(m.constants):
            walk(m.constants[name])
        for name in list(m.constants):
            m.constants[name] = self.to_const(m.constants[name], m.constant_pos[name])

    # sets -------------------------------------------------------------------------------------------
    def load_sets(self, sec):
        m = self.m
        for name, (key, val, kpos, cont) in sec.items():
            pos = pos_of(cont, key)
            if name in m.constants:
                raise SpecError(kpos, f"'{name}' is already a constant")
            if isinstance(val, LList):
                vals = []
                for i, x in enumerate(val):
                    if isinstance(x, bool) or not isinstance(x, (int, str)):
                        raise SpecError(pos_of(val, i), "set elements are integers or symbols")
                    vals.append(x if isinstance(x, int) else m.symbol_id(str(x)))
                if len(set(vals)) != len(vals):
                    raise SpecError(pos, f"set {name} lists an element twice")
                if all(isinstance(x, str) for x in val):
                    t = TSym([str(x) for x in val])
                    st = SetInfo(name, vals, t, lambda x: m.symbols[x])
                elif all(isinstance(x, int) and not isinstance(x, bool) for x in val):
                    t = TInt(min(vals), max(vals)) if vals else TInt(0, 0)
                    st = SetInfo(name, vals, t, str)
                else:
                    raise SpecError(pos, f"set {name} mixes integers and symbols")
            else:
                sn = Snippet(val, pos, f"set {name}")
                tree = sn.parse_expr()
                s = self.comp.set_value(tree, Scope(), sn, "state")
                st = SetInfo(name, s.values, s.elem_type, s.display)
            m.sets[name] = st

    # types ------------------------------------------------------------------------------------------
    def type_spec(self, spec, pos, what, extra=None):
        """A leaf type from a spec: bool, int with min/max, enum name, set name, or a list of symbols."""
        m = self.m
        lo = hi = None
        if isinstance(spec, LDict):
            _check_keys(spec, ("type", "min", "max"), what)
            extra = spec
            spec = spec.get("type")
            pos = pos_of(extra, "type", pos)
        if isinstance(spec, LList):
            syms = [str(s) for s in spec]
            return TSym(syms)
        if not isinstance(spec, str):
            raise SpecError(pos, f"{what}: a type is bool, int (with min and max), an enum or record type name, or a set name")
        name = str(spec)
        if extra is not None and ("min" in extra or "max" in extra) and name != "int":
            raise SpecError(pos, f"{what}: min and max belong to an int type")
        if name == "bool":
            return BOOL
        if name == "int":
            if extra is None or "min" not in extra or "max" not in extra:
                raise SpecError(pos, f"{what}: an int needs min and max (every domain is finite)")
            lo = self.const_int(extra["min"], pos_of(extra, "min"))
            hi = self.const_int(extra["max"], pos_of(extra, "max"))
            if lo > hi:
                raise SpecError(pos_of(extra, "min"), f"{what}: min {lo} is greater than max {hi}")
            return TInt(lo, hi)
        if name in m.types:
            return m.types[name]
        if name in m.sets:
            st = m.sets[name]
            if isinstance(st.elem_type, TSym):
                return TSym([m.symbols[v] for v in st.values], name)
            if not st.values:
                raise SpecError(pos, f"{what}: set {name} is empty for these constants, so it cannot be a type")
            if st.values == list(range(st.values[0], st.values[0] + len(st))):
                return TInt(st.values[0], st.values[-1])
            raise SpecError(pos, f"{what}: set {name} is not a contiguous range of integers, so it cannot be a type")
        raise SpecError(pos, f"{what}: unknown type '{name}'" + did_you_mean(name, ["bool", "int"] + list(m.types) + list(m.sets)))

    def const_int(self, v, pos):
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise SpecError(pos, "expected an integer")
        if isinstance(v, int):
            return v
        sn = Snippet(v, pos, "bound")
        r = self.comp.value(sn.parse_expr(), Scope(), sn, "state")
        if not r.isconst or not isinstance(r.type, TInt):
            raise SpecError(pos, "expected a constant integer expression")
        return r.const

    def load_types(self, sec):
        m = self.m
        for name, (key, val, kpos, cont) in sec.items():
            if not _IDENT_RE.match(name):
                raise SpecError(kpos, f"type name '{name}' is not an identifier")
            if name in ("bool", "int") or name in BUILTINS:
                raise SpecError(kpos, f"'{name}' is a built-in type name")
            if isinstance(val, LList):
                syms = []
                for i, s in enumerate(val):
                    if not isinstance(s, str):
                        raise SpecError(pos_of(val, i), f"enum {name}: values are symbols (names)")
                    syms.append(str(s))
                if not syms:
                    raise SpecError(kpos, f"enum {name} has no values")
                if len(set(syms)) != len(syms):
                    raise SpecError(kpos, f"enum {name} lists a value twice")
                m.types[name] = TSym(syms, name)
            elif isinstance(val, LDict):
                fields = {}
                for f, fs in val.items():
                    if not _IDENT_RE.match(str(f)) or str(f).startswith("_"):
                        raise SpecError(key_pos(val, f), f"field name '{f}' is not an identifier")
                    ft = self.type_spec(fs, pos_of(val, f), f"field {name}.{f}")
                    if isinstance(ft, TRec):
                        raise SpecError(pos_of(val, f), f"field {name}.{f}: records hold bool, int and enum fields only")
                    fields[str(f)] = ft
                if not fields:
                    raise SpecError(kpos, f"record {name} has no fields")
                m.types[name] = TRec(name, fields)
            else:
                raise SpecError(kpos, f"type {name} is an enum (a list of symbols) or a record (a mapping of fields)")

    # variables --------------------------------------------------------------------------------------
    def load_variables(self, sec):
        m = self.m
        base = 0
        self.var_inits = []
        for name, (key, val, kpos, cont) in sec.items():
            if not _IDENT_RE.match(name) or name.startswith("_"):
                raise SpecError(kpos, f"variable name '{name}' is not an identifier")
            for table, what in ((m.constants, "a constant"), (m.sets, "a set"), (m.types, "a type")):
                if name in table:
                    raise SpecError(kpos, f"variable '{name}' is already {what}")
            if name in m.declared_symbols:
                raise SpecError(kpos, f"variable '{name}' has the name of a symbol")
            if name in BUILTINS or name in ("require", "either", "or"):
                raise SpecError(kpos, f"'{name}' is reserved")
            if isinstance(val, str):
                spec = LDict({"type": val})
                spec.pos, spec.key_pos, spec.val_pos = kpos, {"type": kpos}, {"type": pos_of(cont, key)}
                val = spec
            if not isinstance(val, LDict):
                raise SpecError(kpos, f"variable {name}: give its type, e.g. {{type: bool, over: [PAGES]}}")
            _check_keys(val, VARIABLE_KEYS, f"variable {name}")
            if "type" not in val:
                raise SpecError(kpos, f"variable {name} needs a type")
            extra = {k: val[k] for k in ("min", "max") if k in val}
            ex = LDict(extra)
            ex.pos, ex.key_pos, ex.val_pos = val.pos, {k: val.key_pos[k] for k in extra}, {k: val.val_pos[k] for k in extra}
            elem = self.type_spec(val["type"], pos_of(val, "type"), f"variable {name}", ex if extra else None)
            sets = []
            over = val.get("over")
            if over is not None:
                items = over if isinstance(over, LList) else [over]
                for i, sname in enumerate(items):
                    p = pos_of(over, i) if isinstance(over, LList) else pos_of(val, "over")
                    if str(sname) not in m.sets:
                        raise SpecError(p, f"variable {name}: unknown set '{sname}'" + did_you_mean(sname, m.sets))
                    sets.append(m.sets[str(sname)])
            var = VarInfo(name, elem, sets, base, kpos, doc=str(val.get("doc") or ""), ghost=bool(val.get("ghost", False)),
                          group=str(val["group"]) if val.get("group") is not None else None)
            base += var.size
            if base > 1_000_000:
                raise SpecError(kpos, f"variable {name} brings the state to {base:,} slots; a state holds at most 1,000,000")
            m.variables[name] = var
            if "init" in val:
                self.var_inits.append((var, val["init"], pos_of(val, "init")))

    def init_value(self, var, v, pos):
        m = self.m
        t = var.elem
        if isinstance(t, TRec) and isinstance(v, LDict):
            fields = []
            for f in v:
                if f not in t.fields:
                    raise SpecError(key_pos(v, f), f"record {t.name} has no field '{f}'" + did_you_mean(f, t.fields))
            for f, ft in t.fields.items():
                fields.append(self.leaf_init(ft, v[f], pos_of(v, f), f"{var.name}.{f}") if f in v else m.default_value(ft))
            return tuple(fields)
        if isinstance(v, str) and str(v) not in m.declared_symbols:
            sn = Snippet(v, pos, f"init of {var.name}")
            r = self.comp.value(sn.parse_expr(), Scope(), sn, "state")
            if not r.isconst:
                raise SpecError(pos, f"init of {var.name} must be a constant")
            if isinstance(t, TRec):
                if not (isinstance(r.type, TRec) and r.type.name == t.name):
                    raise SpecError(pos, f"init of {var.name} must be a {t.name}")
                return r.const
            m.check_in_domain(r.const, r.type, t, pos, var.name)
            return r.const
        if isinstance(t, TRec):
            raise SpecError(pos, f"init of {var.name} is a mapping of its fields or a {t.name}(...) value")
        return self.leaf_init(t, v, pos, var.name)

    def leaf_init(self, t, v, pos, what):
        m = self.m
        if isinstance(t, TBool):
            if not isinstance(v, bool):
                raise SpecError(pos, f"{what} is a bool; write true or false")
            return v
        if isinstance(t, TInt):
            if isinstance(v, bool) or not isinstance(v, int):
                raise SpecError(pos, f"{what} is an int")
            m.check_in_domain(v, t, t, pos, what)
            return v
        if isinstance(t, TSym):
            if not isinstance(v, str) or str(v) not in t.symbols:
                raise SpecError(pos, f"{what} is one of {', '.join(t.symbols)}; not {v}")
            return m.symbol_id(str(v))
        raise SpecError(pos, f"cannot initialise {what}")

    # definitions and procedures -----------------------------------------------------------------
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

    def check_name_free(self, name, pos, what):
        m = self.m
        for table, t in ((m.constants, "a constant"), (m.sets, "a set"), (m.types, "a type"), (m.variables, "a variable"),
                         (m.definitions, "a definition"), (m.procedures, "a procedure")):
            if name in table:
                raise SpecError(pos, f"{what} '{name}' is already {t}")
        if name in BUILTINS or name == "require":
            raise SpecError(pos, f"'{name}' is a built-in")

    def check_assumptions(self, sec):
        m = self.m
        for name, (key, val, kpos, cont) in sec.items():
            val, pos, info = _entry(name, key, val, kpos, cont, "expr", ("message",), "assumption")
            message = info["message"] or f"assumption {name} does not hold"
            sn = Snippet(val, pos, f"assumption {name}")
            r = self.comp.bool_value(sn.parse_expr(), Scope(), sn, "state")
            if not r.isconst:
                raise SpecError(pos, f"assumption {name} must depend on constants only")
            if not r.const:
                where = self.config_pos if self.overrides else pos
                raise SpecError(where, f"this configuration is refused: {message} (assumption {name} at {pos})")

    # actions and invariants ---------------------------------------------------------------------
    def selected(self, name, filt):
        return filt is None or any(fnmatch.fnmatchcase(name, pat) for pat, _ in filt)

    def load_actions(self, sec):
        m = self.m
        if self.action_filter is not None:
            for pat, pos in self.action_filter:
                if not any(fnmatch.fnmatchcase(n, str(pat)) for n in sec):
                    raise SpecError(pos, f"no action matches '{pat}'" + did_you_mean(pat, sec))
        for name, (key, val, kpos, cont) in sec.items():
            if not _IDENT_RE.match(name):
                raise SpecError(kpos, f"action name '{name}' is not an identifier")
            if not isinstance(val, LDict):
                raise SpecError(kpos, f"action {name} is a mapping with params, guard, effect, source")
            _check_keys(val, ACTION_KEYS, f"action {name}")
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
                if not _IDENT_RE.match(str(pname)):
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
                inv = Invariant(name, sn, neg, "", pos)
                inv.reach = True
                inv.expect = expect
                inv.target_text = " ".join(str(text).split())
                m.invariants[name] = inv

    # code generation ------------------------------------------------------------------------------
    def generate(self):
        m = self.m
        comp = self.comp
        self.check_global_names()
        # initial state defaults
        default = []
        for var in m.variables.values():
            v = m.default_value(var.elem)
            default.extend(([*v] if isinstance(v, tuple) else [v]) * var.count)
        for var, v, pos in self.var_inits:
            val = self.init_value(var, v, pos)
            flat = list(val) if isinstance(val, tuple) else [val]
            for k in range(var.count):
                default[var.base + k * var.width: var.base + (k + 1) * var.width] = flat
        lines = []
        lines.append(f"_DEFAULT = {tuple(default)!r}")
        # init
        lines.append("def _init():")
        lines.append("    out = []")
        lines.append("    _app = out.append")
        lines.append("    state = _DEFAULT")
        lines.append("    for _once in _ONCE:")
        body = Emitter(2)
        body.emit("s = list(state)")
        frames = [Frame(list(stmts), 0, sn, Scope()) for sn, stmts in reversed(m.init_specs)]
        comp.compile_effect(body, frames, lambda o: o.emit("_app((-1, tuple(s)))"))
        lines.extend(body.lines)
        lines.append("    return out")
        # actions
        m._instance_code = []
        next_lines = ["def _next(state):", "    out = []", "    _app = out.append"]
        for a in m.actions.values():
            if not self.selected(a.name, self.action_filter):
                continue
            if not a.available:
                m.unavailable_actions.append((a.name, a.unavailable_reason))
                continue
            for combo in itertools.product(*[st.values for _, st in a.params]):
                args = [(pn, v, str(st.display(v))) for (pn, st), v in zip(a.params, combo)]
                inst = Instance(len(m.instances), a, args)
                code = self.instance_code(inst)
                if code is None:
                    m.disabled_instances.append((inst.label(), "guard or a require is false for these constants and parameters"))
                    continue
                m.instances.append(inst)
                m._instance_code.append(code)
                next_lines.append(f"    # {inst.label()}")
                next_lines.extend(code)
        next_lines.append("    return out")
        lines.extend(next_lines)
        # invariants
        first = ["def _inv_first(state):"]
        for i, inv in enumerate(m.invariants.values()):
            comp.inline_stack = []
            v = comp.bool_value(inv.tree, Scope(), inv.sn, "state")
            code = v.src(m)
            lines.append(f"def _inv{i}(state):")
            lines.append(f"    return bool({code})")
            first.append(f"    if not {code}: return {i}")
        first.append("    return -1")
        lines.extend(first)
        # premise probes: for each implies(a, b) in an invariant, "did a ever hold?"
        m.probes = []
        for inv in m.invariants.values():
            if getattr(inv, "reach", False):
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
                lines.append(f"def _probe{j}(state):")
                lines.append(f"    return bool({v.src(m)})")
                m.probes.append((inv.name, ast.unparse(premise), j))
        m.source_code = "\n".join(lines) + "\n"
        from .compiler import MAX_CODE
        if len(m.source_code) > MAX_CODE:
            raise SpecError(self.config_pos, f"the compiled model is {len(m.source_code):,} characters of code, more than "
                            f"{MAX_CODE:,}: nested loops over large sets unroll into too much code; use smaller constants")
        ns = dict(RUNTIME)
        for i, obj in enumerate(m.runtime):
            ns[f"_K{i}"] = obj
        exec(compile(m.source_code, f"<spec {m.name}>", "exec"), ns)
        m.ns = ns
        m.invariant_list = list(m.invariants.values())

    def instance_code(self, inst):
        m = self.m
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


def load_model(spec_path, overrides=None, actions=None, invariants=None, allow_outside=False, config_pos=None,
               reach=None) -> Model:
    return Loader(spec_path, overrides, actions, invariants, allow_outside, config_pos, reach).load()
