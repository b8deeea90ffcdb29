"""Declarations: constants (with the config's overrides checked for shape), symbols, sets and
types, each checked and resolved before any variable or action is read."""

from __future__ import annotations

from ..errors import SpecError, did_you_mean
from .compiler import BUILTINS, MAX_DOMAIN, MAX_INT, MAX_SET, Scope, join
from .modules import IDENT_RE
from .syntax import Snippet
from ..types import ANY, BOOL, SetInfo, TInt, TList, TMap, TRec, TSym
from .yamlsrc import LDict, LList, check_keys, key_pos, pos_of

MAX_SYMBOL = 200  # characters of one symbol


def check_symbol(s, pos):
    """A symbol is printable one-line text: it is shown in reports, traces and diagrams."""
    text = str(s)
    where = getattr(s, "pos", None) or pos
    if not text or not text.isprintable() or len(text) > MAX_SYMBOL:
        raise SpecError(where, f"symbol {text[:60]!r} is not a name: symbols are printable one-line text"
                               f" of 1 to {MAX_SYMBOL} characters (no line breaks or control characters)")
    return text


class Declarations:
    """The declaration stage of the Loader: constants, symbols, sets, types."""

    def check_global_names(self):
        m = self.m
        seen = {}
        for what, table in (("constant", m.constants), ("set", m.sets), ("type", m.types), ("variable", m.variables),
                            ("definition", m.definitions), ("procedure", m.procedures)):
            for name in table:
                if name in seen:
                    raise SpecError(None, f"'{name}' is declared both as a {seen[name]} and as a {what}")
                seen[name] = what

    def load_constants(self, sec):
        m = self.m
        for name, (key, val, kpos, cont) in sec.items():
            if not IDENT_RE.match(name):
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
            if abs(v) > MAX_INT:
                raise SpecError(pos, f"integer {v} is too large (integers lie within -2**62..2**62)")
            return v, TInt(v, v)
        if isinstance(v, str):
            return m.symbol_id(str(v)), TSym([str(v)])
        if isinstance(v, list):
            vals = [self.to_const(x, pos_of(v, i, pos)) for i, x in enumerate(v)]
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

        def walk(v, pos=None):
            if isinstance(v, str) and not isinstance(v, bool):
                m.symbol_id(check_symbol(v, pos))
                m.declared_symbols.add(str(v))
            elif isinstance(v, list):
                for i, x in enumerate(v):
                    walk(x, pos_of(v, i, pos))
            elif isinstance(v, dict):
                for k, x in v.items():
                    walk(x, pos_of(v, k, pos))
        def keys(v):
            if isinstance(v, dict):
                for k, x in v.items():
                    m.symbol_id(check_symbol(k, key_pos(v, k)))
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
            walk(self.default_constants[name], m.constant_pos[name])
            keys(self.default_constants[name])
        for name in list(m.constants):
            walk(m.constants[name], m.constant_pos[name])
        for name in list(m.constants):
            m.constants[name] = self.to_const(m.constants[name], m.constant_pos[name])

    def load_sets(self, sec):
        m = self.m
        for name, (key, val, kpos, cont) in sec.items():
            pos = pos_of(cont, key)
            if name in m.constants:
                raise SpecError(kpos, f"'{name}' is already a constant")
            if isinstance(val, LList):
                if len(val) > MAX_SET:
                    raise SpecError(pos, f"set {name} lists {len(val):,} elements; a set holds at most {MAX_SET:,}")
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

    def type_spec(self, spec, pos, what, extra=None):
        """A leaf type from a spec: bool, int with min/max, enum name, set name, or a list of symbols."""
        m = self.m
        lo = hi = None
        if isinstance(spec, LDict):
            check_keys(spec, ("type", "min", "max"), what)
            extra = spec
            spec = spec.get("type")
            pos = pos_of(extra, "type", pos)
        if isinstance(spec, LList):
            syms = [check_symbol(s, pos_of(spec, i)) for i, s in enumerate(spec)]
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
            for bound, v in (("min", lo), ("max", hi)):
                if abs(v) > MAX_INT:
                    raise SpecError(pos_of(extra, bound), f"{what}: {bound} {v} is too large (integers lie within -2**62..2**62)")
            if hi - lo + 1 > MAX_DOMAIN:
                raise SpecError(pos_of(extra, "max"), f"{what}: an int of {hi - lo + 1:,} values; a domain holds at most "
                                f"{MAX_DOMAIN:,} (every value of a slot must be listable)")
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
                t = TInt(st.values[0], st.values[-1])
                t.of_set = name  # values of this set's type are renamed by a symmetry over it
                return t
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
            if not IDENT_RE.match(name):
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
                    if not IDENT_RE.match(str(f)) or str(f).startswith("_"):
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
