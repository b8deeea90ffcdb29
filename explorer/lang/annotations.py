"""What a spec says for its readers, beside the model itself: names for the indices of its sets
(`labels:`), who does each action (`actors:`, the lanes of a race diagram) and which assumptions
are the kernel's own refusals (`refusals:`, verdict `refused` instead of bad input).

    labels:
      VMA:
        name: vma                  # index 0 prints as vma0
        index: v                   # bound to the index in the conditions below
        show:                      # each text whose condition holds, in this order
          private: not VMAS[v].shared
          R: VMAS[v].prot == read
    actors:
      GUP thread: [gup_*]          # action names or glob patterns; the first actor that matches
    refusals: [UffdNeedsMaywrite]  # assumptions a system call enforces (EPERM, EINVAL, ...)

The conditions are expressions of the spec language over constants (checked like every other);
the texts are data, shown as they are and never run.
"""

from __future__ import annotations

import fnmatch
import re

from ..errors import SpecError, did_you_mean
from .compiler import K, Scope
from .syntax import Snippet
from .yamlsrc import LDict, LList, key_pos, pos_of

KEYS = ("labels", "actors", "refusals")
LABEL_KEYS = ("name", "index", "show")
_TEXT_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,60}$")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Annotations:
    def __init__(self):
        self.refusals = set()  # assumption names
        self.world = {}  # set name -> [{"index", "name", "label"}] in index order
        self.actors = []  # actor names, in lane order
        self.actor_of = {}  # action name -> actor name

    def name_of(self, set_name, display) -> str | None:
        for item in self.world.get(set_name, ()):
            if item["index"] == display:
                return item["name"]
        return None


def _text(value, pos, what) -> str:
    s = str(value) if value is not None else ""
    if isinstance(value, (dict, list)) or not _TEXT_RE.match(s):
        raise SpecError(pos, f"{what} is one line of printable text (at most 60 characters)")
    return s


def _section(modules, key):
    """(value, position, container) of `key` in the one module that has it, or None."""
    found = None
    for _, doc in modules:
        if doc.get(key) is not None:
            if found is not None:
                raise SpecError(key_pos(doc, key), f"'{key}' is given twice (also at {key_pos(found[2], key)})")
            found = (doc[key], pos_of(doc, key), doc)
    return found


def read_refusals(modules, assumptions) -> set:
    sec = _section(modules, "refusals")
    if sec is None:
        return set()
    val, pos, _ = sec
    if not isinstance(val, LList):
        raise SpecError(pos, "'refusals' is a list of assumption names")
    out = set()
    for i, name in enumerate(val):
        if str(name) not in assumptions:
            raise SpecError(pos_of(val, i), f"refusals: no assumption is called '{name}'"
                            + did_you_mean(str(name), list(assumptions)))
        out.add(str(name))
    return out


def read_labels(modules, model, comp) -> dict:
    """Evaluates every label condition for every index of its set; set name -> items."""
    sec = _section(modules, "labels")
    if sec is None:
        return {}
    val, pos, _ = sec
    if not isinstance(val, LDict):
        raise SpecError(pos, "'labels' maps set names to {name, index, show}")
    world = {}
    for set_name, spec in val.items():
        spos = key_pos(val, set_name)
        st = model.sets.get(str(set_name))
        if st is None:
            raise SpecError(spos, f"labels: no set is called '{set_name}'" + did_you_mean(str(set_name), list(model.sets)))
        if not isinstance(spec, LDict):
            raise SpecError(spos, f"labels of {set_name} is a mapping with name, index, show")
        unknown = [k for k in spec if k not in LABEL_KEYS]
        if unknown:
            raise SpecError(key_pos(spec, unknown[0]), f"unknown key '{unknown[0]}' in labels of {set_name}"
                            + did_you_mean(str(unknown[0]), LABEL_KEYS) + f"; allowed: {', '.join(LABEL_KEYS)}")
        prefix = _text(spec.get("name", str(set_name).lower()), pos_of(spec, "name", spos), f"labels.{set_name}.name")
        index = str(spec.get("index", "i"))
        if not _IDENT_RE.match(index):
            raise SpecError(pos_of(spec, "index", spos), f"labels.{set_name}.index is a name, e.g. v")
        conds = _conditions(spec, set_name, index, spos)
        items = []
        for value in st.values:
            scope = Scope({index: K(value, st.elem_type)})
            shown = [text for text, sn, tree in conds if _holds(comp, tree, scope, sn)]
            disp = str(st.display(value))
            items.append({"index": disp, "name": f"{prefix}{disp}", "label": ", ".join(shown)})
        world[str(set_name)] = items
    return world


def _conditions(spec, set_name, index, spos):
    show = spec.get("show")
    if show is None:
        return []
    if not isinstance(show, LDict):
        raise SpecError(pos_of(spec, "show", spos), f"labels.{set_name}.show maps texts to conditions")
    out = []
    for text, cond in show.items():
        t = _text(text, key_pos(show, text), f"a text of labels.{set_name}.show")
        sn = Snippet(cond, pos_of(show, text), f"condition of label '{t}' of {set_name}")
        out.append((t, sn, sn.parse_expr()))
    return out


def _holds(comp, tree, scope, sn) -> bool:
    r = comp.bool_value(tree, scope, sn, "state")
    if not r.isconst:
        raise SpecError(sn.base_pos, f"{sn.what} must depend on constants only (it names the world, not a state)")
    return bool(r.const)


def read_actors(modules, actions) -> tuple:
    """(actor names in lane order, action name -> actor) from `actors:`."""
    sec = _section(modules, "actors")
    if sec is None:
        return [], {}
    val, pos, _ = sec
    if not isinstance(val, LDict):
        raise SpecError(pos, "'actors' maps each actor (a lane of the race diagram) to action names or patterns")
    names, of = [], {}
    for actor, pats in val.items():
        apos = key_pos(val, actor)
        a = _text(actor, apos, "an actor's name")
        items = pats if isinstance(pats, LList) else [pats]
        for i, pat in enumerate(items):
            ppos = pos_of(pats, i) if isinstance(pats, LList) else pos_of(val, actor)
            hits = [n for n in actions if fnmatch.fnmatchcase(n, str(pat))]
            if not hits:
                raise SpecError(ppos, f"actors: no action matches '{pat}'" + did_you_mean(str(pat), list(actions)))
            for n in hits:
                of.setdefault(n, a)
        names.append(a)
    return names, of


def load(loader, model, assumptions_only=False):
    """The loader's hook. Refusals are read before the assumptions are checked; labels and actors
    after the actions are loaded."""
    ann = model.annotations
    if ann is None:
        ann = model.annotations = Annotations()
    if assumptions_only:
        ann.refusals = read_refusals(loader.modules, loader.merged("assume"))
        return ann
    ann.world = read_labels(loader.modules, model, loader.comp)
    ann.actors, ann.actor_of = read_actors(loader.modules, model.actions)
    return ann


VERDICTS = ("ok", "violation", "deadlock", "incomplete", "reachable", "unreachable", "mixed", "error")


def read_question(cfg) -> tuple:
    """A config's `question:` (one paragraph) and `answers:` (verdict -> what it answers)."""
    q = cfg.get("question")
    if q is not None and (isinstance(q, (LDict, LList)) or not str(q).strip()):
        raise SpecError(pos_of(cfg, "question"), "'question' is the question this config asks, as text")
    answers = {}
    a = cfg.get("answers")
    if a is not None:
        if not isinstance(a, LDict):
            raise SpecError(pos_of(cfg, "answers"), "'answers' maps verdicts (ok, violation, ...) to what each answers")
        for k, v in a.items():
            if str(k) not in VERDICTS:
                raise SpecError(key_pos(a, k), f"answers: '{k}' is not a verdict" + did_you_mean(str(k), VERDICTS)
                                + f"; verdicts: {', '.join(VERDICTS)}")
            if isinstance(v, (LDict, LList)) or v is None:
                raise SpecError(pos_of(a, k), f"answers.{k} is text")
            answers[str(k)] = " ".join(str(v).split())
    return (" ".join(str(q).split()) if q is not None else ""), answers
