"""Reading: the root spec file and its includes, and the merge of their sections' names.

Each module is read once (an include cycle is refused with its chain); an include must stay in
the spec's directory tree unless the config allows otherwise. Sections of all modules merge into
one table per section; a name declared twice is refused with both positions.
"""

from __future__ import annotations

import glob
import os
import re

from . import yamlsrc
from ..errors import Pos, SpecError, did_you_mean
from .yamlsrc import LDict, LList, key_pos, pos_of

MODULE_KEYS = ("module", "doc", "include", "constants", "sets", "types", "variables", "init",
               "definitions", "procedures", "actions", "invariants", "assume", "choices", "symmetric",
               "refusals", "labels", "actors")  # the last three for readers: annotations.py
_HEAD_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(\s*([^()]*)\)\s*)?$")
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_head(key, pos, what):
    m = _HEAD_RE.match(str(key))
    if not m:
        raise SpecError(pos, f"{what} name must look like name or name(a, b), not '{key}'")
    params = [p.strip() for p in m.group(2).split(",")] if m.group(2) and m.group(2).strip() else []
    for p in params:
        if not IDENT_RE.match(p):
            raise SpecError(pos, f"parameter '{p}' of {what} '{m.group(1)}' is not a name")
    if len(set(params)) != len(params):
        raise SpecError(pos, f"{what} '{m.group(1)}' names a parameter twice")
    return m.group(1), params


class ModuleReader:
    """The reading stage of the Loader: fills self.modules with (path, LDict) in include order."""

    def shown(self, path):
        rel = os.path.relpath(path, self.cwd)
        return path if rel.startswith("..") and os.path.isabs(path) and len(rel) > len(path) else rel

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
