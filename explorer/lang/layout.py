"""Variables: their types, index sets and slots in the flat state tuple, and their `init:`."""

from __future__ import annotations

from ..errors import SpecError, did_you_mean
from ..model import VarInfo
from .compiler import BUILTINS, Scope
from .modules import IDENT_RE
from .syntax import Snippet
from ..types import TBool, TInt, TRec, TSym
from .yamlsrc import LDict, LList, check_keys, key_pos, pos_of

VARIABLE_KEYS = ("type", "over", "init", "min", "max", "doc", "ghost", "group")
MAX_SLOTS = 1_000_000  # slots of one state


class Layout:
    """The variable stage of the Loader: one VarInfo per variable, slots numbered in order."""

    def load_variables(self, sec):
        m = self.m
        base = 0
        self.var_inits = []
        for name, (key, val, kpos, cont) in sec.items():
            if not IDENT_RE.match(name) or name.startswith("_"):
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
            check_keys(val, VARIABLE_KEYS, f"variable {name}")
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
            if base > MAX_SLOTS:
                raise SpecError(kpos, f"variable {name} brings the state to {base:,} slots; a state holds at most {MAX_SLOTS:,}")
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
