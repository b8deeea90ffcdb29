"""Configs (runnable questions, like TLC's .cfg): which spec, constants, actions, invariants, limits."""

from __future__ import annotations

import os

from . import annotations, shipped, yamlsrc
from ..errors import Pos, SpecError
from .budget import Budget
from .loader import load_model
from .worlds import load_open, open_names, symmetric_sets
from .yamlsrc import LDict, LList, check_keys, key_pos, pos_of

CONFIG_KEYS = ("spec", "doc", "constants", "actions", "invariants", "check", "allow_outside_includes", "reach", "expect",
               "question", "answers")
CHECK_KEYS = ("max_states", "max_depth", "deadlock", "timeout", "max_memory", "continue")


class Problem:
    """A loaded question: the compiled model plus the check settings a config asked for."""

    def __init__(self, model, config_path, spec_path, constants, check, doc=""):
        self.model = model
        self.config_path = config_path
        self.spec_path = spec_path
        self.constants = constants  # name -> plain value, as used
        self.check = check  # dict of CHECK_KEYS
        self.doc = doc
        self.overridden = []  # the constants the config or the command line set
        self.question = ""  # the question the config asks, and what each verdict answers
        self.answers = {}


def plain(v):
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, str):
        return str(v)
    return v


def _check_int(v, pos, what, allow_none=True):
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise SpecError(pos, f"{what} must be a non-negative integer" + (" or null" if allow_none else ""))
    return v


def _expect(v, pos):
    if v not in ("reachable", "unreachable"):
        raise SpecError(pos, "expect is 'reachable' or 'unreachable'")
    return str(v)


def load(path, overrides=None, actions=None, invariants=None, check=None, reach=None, expect=None) -> Problem:
    """Load a config (or a spec file alone). `overrides`: {name: value or (value, Pos)};
    `actions` / `invariants`: lists of names or glob patterns replacing the config's; `check`: settings."""
    shown = os.path.relpath(path) if not os.path.isabs(path) else path
    cfg, spec_path = _read_config(path, shown)
    consts, cpos = _constants(cfg, overrides)
    reach_list = _reach_targets(cfg, reach, expect, invariants)
    act = _patterns(cfg, "actions", actions)
    inv = _patterns(cfg, "invariants", invariants)
    chk = _check_settings(cfg, check)
    allow = bool(cfg.get("allow_outside_includes", False))
    if expect is not None and reach_list is None:
        raise SpecError(None, "--expect goes with a reach target (--reach EXPR or 'reach:' in the config)")
    budget = Budget(chk.get("timeout"), chk.get("max_memory"))
    opened = open_names(consts)
    if opened:
        model = load_open(spec_path, consts, lambda ov: load_model(spec_path, ov, act, inv, allow, cpos or cfg.pos, reach_list,
                                                                   budget), cpos or cfg.pos)
    else:
        model = load_model(spec_path, {k: v for k, v in consts.items()}, act, inv, allow, cpos or cfg.pos, reach_list, budget)
    model.symmetric = symmetric_sets(spec_path, model)
    if model.symmetric and model.worlds is not None:
        raise SpecError(cpos or cfg.pos, "symmetry and open worlds do not combine yet; close the open constants or "
                                         "check without the spec's 'symmetric:'")
    used = {}
    for name in model.constants:
        used[name] = plain(consts[name][0]) if name in opened else model_plain_constant(model, name)
    problem = Problem(model, shown, os.path.relpath(spec_path), used, chk, str(cfg.get("doc") or ""))
    problem.overridden = [k for k in used if k in consts]
    problem.question, problem.answers = annotations.read_question(cfg)
    return problem


def _read_config(path, shown):
    """(config mapping, spec path); a spec file given alone is its own config with no settings."""
    doc = yamlsrc.load_file(path, shown)
    if doc is None or not isinstance(doc, LDict):
        raise SpecError(getattr(doc, "pos", Pos(shown, 1, 1)), "a config is a YAML mapping with a 'spec' key (or a spec module)")
    if "spec" not in doc:
        cfg = LDict()
        cfg.pos, cfg.key_pos, cfg.val_pos = doc.pos, {}, {}
        return cfg, path
    cfg = doc
    check_keys(cfg, CONFIG_KEYS, "a config")
    if not isinstance(cfg["spec"], str):
        raise SpecError(pos_of(cfg, "spec"), "'spec' is a path")
    spec_path = os.path.join(os.path.dirname(os.path.abspath(path)), str(cfg["spec"]))
    if not os.path.exists(spec_path):  # or the name of a shipped spec: `spec: mm`
        spec_path = shipped.spec_path(str(cfg["spec"])) or spec_path
    if not os.path.exists(spec_path):
        raise SpecError(pos_of(cfg, "spec"), f"spec file '{cfg['spec']}' does not exist (paths are relative to the "
                                             f"config; shipped specs by name: {', '.join(shipped.spec_names())})")
    return cfg, spec_path


def _constants(cfg, overrides):
    """{name: (value, pos[, value pos])} from the config's constants and then the overrides."""
    consts = {}
    cpos = pos_of(cfg, "constants", cfg.pos) if "constants" in cfg else None
    if cfg.get("constants") is not None:
        c = cfg["constants"]
        if not isinstance(c, LDict):
            raise SpecError(pos_of(cfg, "constants"), "'constants' is a mapping of constant names to values")
        for k, v in c.items():
            consts[str(k)] = (v, key_pos(c, k), pos_of(c, k))
    for k, v in (overrides or {}).items():
        if isinstance(v, tuple):
            consts[k] = v
        else:
            consts[k] = (v, Pos("<command line>", 1, 1))
    return consts, cpos


def _patterns(cfg, key, given):
    if given is not None:
        return [(p if isinstance(p, tuple) else (p, Pos("<command line>", 1, 1))) for p in given]
    v = cfg.get(key)
    if v is None:
        return None
    if not isinstance(v, LList):
        raise SpecError(pos_of(cfg, key), f"'{key}' is a list of names (glob patterns allowed)")
    return [(str(x), pos_of(v, i)) for i, x in enumerate(v)]


def _reach_targets(cfg, reach, expect, invariants):
    """[(name, text, pos, expect)] of a witness query (the command line's or the config's), or None."""
    reach_list = None
    if reach is not None:
        reach_list = [(f"target{i + 1}" if len(reach) > 1 else "target", text, Pos("<--reach>", 1, 1), expect)
                      for i, text in enumerate(reach)]
    elif cfg.get("reach") is not None:
        r = cfg["reach"]
        top_expect = _expect(cfg.get("expect"), pos_of(cfg, "expect")) if "expect" in cfg else None
        if isinstance(r, str):
            reach_list = [("target", r, pos_of(cfg, "reach"), top_expect)]
        elif isinstance(r, LDict):
            reach_list = [_reach_target(r, name, v, top_expect) for name, v in r.items()]
        else:
            raise SpecError(pos_of(cfg, "reach"), "'reach' is an expression or a mapping of target names to expressions")
        if cfg.get("invariants") is not None and invariants is None:
            raise SpecError(pos_of(cfg, "invariants"), "a config asks either reach targets or invariants, not both")
    elif "expect" in cfg:
        raise SpecError(key_pos(cfg, "expect"), "'expect' goes with 'reach' (a witness query)")
    if reach_list is not None and expect is not None:
        reach_list = [(n, t, p, expect) for n, t, p, _ in reach_list]
    return reach_list


def _reach_target(r, name, v, expect):
    if isinstance(v, LDict):
        check_keys(v, ("expr", "expect", "doc"), f"reach target {name}")
        if "expect" in v:
            expect = _expect(v["expect"], pos_of(v, "expect"))
        vp = pos_of(v, "expr", key_pos(r, name))
        v = v.get("expr")
    else:
        vp = pos_of(r, name)
    if not isinstance(v, str):
        raise SpecError(key_pos(r, name), f"reach target {name} is an expression")
    return (str(name), v, vp, expect)


def _check_settings(cfg, check):
    chk = {"max_states": None, "max_depth": None, "deadlock": False, "timeout": None, "max_memory": None, "continue": False}
    if cfg.get("check") is not None:
        c = cfg["check"]
        if not isinstance(c, LDict):
            raise SpecError(pos_of(cfg, "check"), "'check' is a mapping of settings")
        check_keys(c, CHECK_KEYS, "check")
        for k, v in c.items():
            p = pos_of(c, k)
            if k in ("deadlock", "continue"):
                if not isinstance(v, bool):
                    raise SpecError(p, f"check.{k} is true or false")
                chk[k] = v
            else:
                chk[k] = _check_int(v, p, f"check.{k}")
    for k, v in (check or {}).items():
        if v is not None:
            chk[k] = v
    return chk


def model_plain_constant(model, name):
    value, t = model.constants[name]
    return _decode_const(model, value, t)


def _decode_const(model, value, t):
    from ..types import TList, TMap, TSym, TAny
    if isinstance(t, TSym):
        return model.symbols[value]
    if isinstance(t, TList):
        return [_decode_const(model, x, t.elem) for x in value]
    if isinstance(t, TMap):
        return {k: _decode_const(model, x, t.fields[k]) for k, x in value.items()}
    if isinstance(t, TAny):
        return value
    return value
