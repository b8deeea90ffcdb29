"""The compiled model: the one value the language hands to the checkers.

A Model is built by `explorer.lang` and read by `explorer.check`, `explorer.result` and everything
above them. Its fields are declared here; nothing else reaches into it with getattr defaults.
"""

from __future__ import annotations

import itertools

from .errors import Pos, SpecError
from .types import SetInfo, T, TArr, TBool, TInt, TRec, TSym


class VarInfo:
    """A state variable: element type, index sets and its slots in the state tuple."""

    def __init__(self, name, elem, sets, base, pos, doc="", ghost=False, group=None):
        self.name = name
        self.elem = elem
        self.sets = list(sets)
        self.base = base
        self.pos = pos
        self.doc = doc
        self.ghost = ghost
        self.group = group
        self.width = len(elem.fields) if isinstance(elem, TRec) else 1
        n = 1
        for st in self.sets:
            n *= len(st)
        self.count = n
        self.size = n * self.width

    def type(self) -> T:
        return TArr(self.sets, self.elem) if self.sets else self.elem

    def strides(self):
        out = []
        for i in range(len(self.sets)):
            n = self.width
            for st in self.sets[i + 1:]:
                n *= len(st)
            out.append(n)
        return out



class Action:
    def __init__(self, name, pos):
        self.name = name
        self.pos = pos
        self.params = []  # (name, SetInfo)
        self.guard = None
        self.effect = []
        self.guard_sn = None
        self.effect_sn = None
        self.source = ""
        self.doc = ""
        self.available = True
        self.unavailable_reason = ""
        self.group = None


class Instance:
    """One action with its parameters fixed."""

    def __init__(self, index, action, args):
        self.index = index
        self.action = action
        self.args = args  # list of (param name, value, display)

    @property
    def name(self):
        return self.action.name

    def params_display(self) -> dict:
        return {n: d for n, _, d in self.args}

    def label(self) -> str:
        if not self.args:
            return self.action.name
        return f"{self.action.name}(" + ", ".join(f"{n}={d}" for n, _, d in self.args) + ")"


class Invariant:
    """An invariant, or a witness query's target compiled as the invariant `not target`."""

    def __init__(self, name, sn, tree, doc="", pos=None, reach=False, expect=None, target_text=""):
        self.name, self.sn, self.tree, self.doc, self.pos = name, sn, tree, doc, pos
        self.reach = reach  # a witness query: this invariant failing means the target was reached
        self.expect = expect  # 'reachable', 'unreachable' or None (queries only)
        self.target_text = target_text  # the target's expression on one line (queries only)


class Model:
    """A compiled model: slot layout, initial states, successor function and invariants."""

    def __init__(self):
        self.name = ""
        self.doc = ""
        self.files = []
        self.root_file = None
        self.constants = {}  # name -> (value, type)
        self.constant_pos = {}
        self.constant_docs = {}
        self.symbols = []  # id -> name
        self.symbol_ids = {}
        self.declared_symbols = set()
        self.sets = {}
        self.types = {}
        self.variables = {}
        self.definitions = {}
        self.procedures = {}
        self.actions = {}
        self.invariants = {}
        self.instances = []
        self.disabled_instances = []  # (label, reason)
        self.unavailable_actions = []  # (name, reason)
        self.slots = []  # (var, index tuple, field or None, leaf type)
        self.positions = []
        self._pos_ix = {}
        self.runtime = []  # embedded objects: _K0, _K1, ...
        self._embed_ix = {}
        self.source_code = ""
        self.ns = None  # the generated module's globals (its functions are read through the methods below)
        self.init_specs = []  # (sn, stmts)
        self.symmetric = []  # names of the interchangeable sets the spec declares
        self.symmetry = None  # the reduction in use (checker/symmetry.py), once a check applies it
        self.worlds = None  # an open config: the worlds composed into this model (lang/compose.py)
        self.annotations = None  # lang.annotations.Annotations: index labels, actors, refusals
        self.invariant_list = []  # the invariants in the order of their compiled functions _inv0, _inv1, ...
        self.probes = []  # (invariant name, premise text, j): premise j of an implies(a, b), function _probe{j}
        self.instance_lines = []  # per instance, the lines of its part of _next

    # --- helpers used by the compiler -----------------------------------------------------------
    def symbol_id(self, name: str) -> int:
        i = self.symbol_ids.get(name)
        if i is None:
            i = self.symbol_ids[name] = len(self.symbols)
            self.symbols.append(name)
        return i

    def pos_index(self, pos: Pos) -> int:
        key = (pos.file, pos.line, pos.col)
        i = self._pos_ix.get(key)
        if i is None:
            i = self._pos_ix[key] = len(self.positions)
            self.positions.append(pos)
        return i

    def embed_raw(self, obj) -> str:
        key = (type(obj).__name__, repr(sorted(obj.items()) if isinstance(obj, dict) else sorted(obj, key=repr) if isinstance(obj, frozenset) else obj))
        name = self._embed_ix.get(key)
        if name is None:
            name = self._embed_ix[key] = f"_K{len(self.runtime)}"
            self.runtime.append(obj)
        return name

    def embed(self, value, t) -> str:
        if isinstance(value, SetInfo):
            return self.embed_raw(frozenset(value.values))
        if isinstance(value, bool):
            return "True" if value else "False"
        if isinstance(value, int):
            return repr(value)
        if isinstance(value, tuple):
            if isinstance(t, TRec):
                return "(" + "".join(self.embed(v, ft) + ", " for v, ft in zip(value, t.fields.values())) + ")"
            return self.embed_raw(value)
        return self.embed_raw(value)

    def show(self, value, t) -> str:
        """A value as a user reads it."""
        if isinstance(t, TSym):
            return self.symbols[value] if isinstance(value, int) and 0 <= value < len(self.symbols) else str(value)
        if isinstance(t, TBool):
            return "TRUE" if value else "FALSE"
        if isinstance(t, TRec):
            return f"{t.name}(" + ", ".join(f"{f}={self.show(v, ft)}" for v, (f, ft) in zip(value, t.fields.items())) + ")"
        return str(value)

    def default_value(self, t):
        if isinstance(t, TBool):
            return False
        if isinstance(t, TInt):
            return 0 if t.lo <= 0 <= t.hi else t.lo
        if isinstance(t, TSym):
            return self.symbol_id(t.symbols[0])
        if isinstance(t, TRec):
            return tuple(self.default_value(ft) for ft in t.fields.values())
        raise TypeError(t)

    def check_in_domain(self, value, src_t, dst_t, pos, what):
        if isinstance(dst_t, TBool):
            if not isinstance(value, bool) and value not in (0, 1):
                raise SpecError(pos, f"{what} is a bool; {value} is not")
            return
        if isinstance(dst_t, TInt):
            if not dst_t.lo <= value <= dst_t.hi:
                raise SpecError(pos, f"{value} is outside the domain {dst_t.lo}..{dst_t.hi} of {what}")
            return
        if isinstance(dst_t, TSym):
            name = self.symbols[value]
            if name not in dst_t.symbols:
                raise SpecError(pos, f"'{name}' is not a value of {what} ({', '.join(dst_t.symbols)})")

    # --- decoding --------------------------------------------------------------------------------
    def decode(self, state) -> dict:
        """A state as nested plain data: {var: value | {index: ...}}; records as {field: value}."""
        out = {}
        for var in self.variables.values():
            out[var.name] = self._decode_var(var, state)
        return out

    def leaf_value(self, value, t):
        """One slot's value as plain data: bool, int, or the symbol's name."""
        return self._leaf(value, t)

    def _leaf(self, value, t):
        if isinstance(t, TBool):
            return bool(value)
        if isinstance(t, TSym):
            return self.symbols[value]
        return value

    def _decode_elem(self, var, state, off):
        t = var.elem
        if isinstance(t, TRec):
            return {f: self._leaf(state[off + i], ft) for i, (f, ft) in enumerate(t.fields.items())}
        return self._leaf(state[off], t)

    def _decode_var(self, var, state):
        def rec(level, off):
            if level == len(var.sets):
                return self._decode_elem(var, state, off)
            st = var.sets[level]
            stride = var.strides()[level]
            return {str(st.display(x)): rec(level + 1, off + i * stride) for i, x in enumerate(st.values)}
        return rec(0, var.base)

    def slot_names(self):
        """Human names of the slots, in order: 'pte[0][1].dirty'."""
        names = []
        for var in self.variables.values():
            for idx in itertools.product(*[s.values for s in var.sets]):
                base = var.name + "".join(f"[{s.display(x)}]" for s, x in zip(var.sets, idx))
                if isinstance(var.elem, TRec):
                    names.extend(f"{base}.{f}" for f in var.elem.fields)
                else:
                    names.append(base)
        return names

    def slot_types(self):
        out = []
        for var in self.variables.values():
            for _ in range(var.count):
                if isinstance(var.elem, TRec):
                    out.extend(var.elem.fields.values())
                else:
                    out.append(var.elem)
        return out

    def domain_values(self, t):
        if isinstance(t, TBool):
            return [False, True]
        if isinstance(t, TInt):
            return list(range(t.lo, t.hi + 1))
        return [self.symbol_id(s) for s in t.symbols]

    # --- running compiled code -----------------------------------------------------------------
    def default_state(self):
        """The state every variable's default and `init:` give, before the init blocks run."""
        return self.ns["_DEFAULT"]

    def initial_states(self):
        return [s for _, s in self.ns["_init"]()]

    def successors(self, state):
        """List of (instance index, successor state)."""
        return self.ns["_next"](state)

    def first_violated(self, state) -> int:
        return self.ns["_inv_first"](state)

    def invariant_fn(self, i):
        return self.ns[f"_inv{i}"]

    def probe_fn(self, j):
        """The premise probe j: state -> bool, whether premise j holds in the state."""
        return self.ns[f"_probe{j}"]

    def probe_fns(self):
        return [self.probe_fn(j) for _, _, j in self.probes]

    def is_query(self) -> bool:
        """A witness query (reach targets) rather than a check of invariants."""
        return any(inv.reach for inv in self.invariant_list)

    def instance_successors(self, i, state):
        """Successors of one instance (compiled on first use; used to locate runtime errors)."""
        fn = self.ns.get(f"_act{i}")
        if fn is None:
            # the same lines as in _next, which the loader checked before running the module
            code = "\n".join(["def _act%d(state):" % i, "    out = []", "    _app = out.append"]
                             + self.instance_lines[i] + ["    return out"])
            exec(compile(code, f"<spec instance {i}>", "exec"), self.ns)
            fn = self.ns[f"_act{i}"]
        return fn(state)
