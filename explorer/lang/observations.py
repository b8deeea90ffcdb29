"""The `observations:` section: what a process can see of the modelled state.

An observation is a named spec expression with parameters over sets, e.g. the pagemap bits of
(VMA, page). Each instance (parameters fixed) is compiled like an invariant, to a function of a
state; the model keeps them in `model.observations` as (name, args, type, function). Nothing here
knows what the expressions mean: the spec defines them, the conformance layer reads them.
"""

from __future__ import annotations

import itertools

from ..errors import SpecError
from .compiler import K, Scope
from .guard import check_generated
from .syntax import Snippet
from .yamlsrc import LDict, check_keys, key_pos, pos_of

OBSERVATION_KEYS = ("params", "expr", "doc")


class Observation:
    """One observation instance: `name(args)` and the compiled function of a state."""

    def __init__(self, name, args, type_, fn, doc=""):
        self.name, self.args, self.type, self.fn, self.doc = name, args, type_, fn, doc

    def label(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}(" + ", ".join(f"{n}={d}" for n, _, d in self.args) + ")"


def _params(loader, name, val):
    params = val.get("params") or LDict()
    if not isinstance(params, LDict):
        raise SpecError(pos_of(val, "params"), f"params of observation {name} map each parameter to a set, e.g. {{v: VMA}}")
    out = []
    for pname, sexpr in params.items():
        if str(pname) in loader.m.variables or str(pname) in loader.m.constants:
            raise SpecError(key_pos(params, pname), f"parameter '{pname}' of observation {name} shadows a global name")
        sn = Snippet(sexpr, pos_of(params, pname), f"domain of observation {name}.{pname}")
        out.append((str(pname), loader.comp.set_value(sn.parse_expr(), Scope(), sn, "state")))
    return out


def load_observations(loader, sec):
    """Compile every observation instance of `sec` (the merged section) into `loader.m`."""
    m, comp = loader.m, loader.comp
    lines, made = [], []
    for name, (key, val, kpos, cont) in sec.items():
        if not isinstance(val, LDict) or "expr" not in val:
            raise SpecError(kpos, f"observation {name} is a mapping with params, expr and doc")
        check_keys(val, OBSERVATION_KEYS, f"observation {name}")
        params = _params(loader, name, val)
        sn = Snippet(val["expr"], pos_of(val, "expr"), f"observation {name}")
        tree = sn.parse_expr()
        for combo in itertools.product(*[st.values for _, st in params]):
            args = [(pn, v, str(st.display(v))) for (pn, st), v in zip(params, combo)]
            scope = Scope({pn: K(v, st.elem_type) for (pn, st), v in zip(params, combo)})
            comp.inline_stack = []
            v = comp.value(tree, scope, sn, "state")
            i = len(made)
            lines.append(f"def _obs{i}(state):\n    return {v.src(m)}")
            made.append((str(name), args, v.type, str(val.get("doc") or "")))
    if not made:
        return
    ns = m.ns
    for i, obj in enumerate(m.runtime):
        ns.setdefault(f"_K{i}", obj)
    exec(check_generated("\n".join(lines) + "\n", "<observations>"), ns)
    m.observations = [Observation(n, a, t, ns[f"_obs{i}"], d) for i, (n, a, t, d) in enumerate(made)]
