"""Hostile input: no string of a spec, a config or the command line becomes code.

Every payload tries to create a marker file (directly, through a subclass walk to `__import__`,
or by breaking out of a Python or C comment or string). Each is put in every string position of
a spec, a config and `--set`, and `lint` and `check` on both backends must end with exit code 0
or 2 and a message, and the marker must not exist afterwards.
"""

import json
import os

import pytest
import yaml

from explorer.checker import fast
from explorer.lang.guard import GeneratedCodeError, check_generated

from conftest import run_cli

WALK = ("[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'catch_warnings'][0]()"
        "._module.__builtins__['__import__']('os').system('touch {m}')")
PAYLOADS = [
    "a\n" + WALK,  # a line break out of a comment
    "a\r" + WALK,  # a carriage return, a line break to Python's tokenizer
    "a'); open('{m}', 'w') #",  # out of a single-quoted string
    'a"); open("{m}", "w") #',  # out of a double-quoted string
    'a"""\nopen("{m}", "w")\n"""',  # out of a triple-quoted string
    "a\\\nopen('{m}', 'w')",  # a backslash continuing a line
    "a */ system(\"touch {m}\"); /* \"; system(\"touch {m}\"); //",  # out of a C comment or string
    "a\n#define x system(\"touch {m}\")",  # a C preprocessor line
    "__import__('os').system('touch {m}')",  # an expression, as a name
]

SPEC = {
    "module": "MODNAME",
    "doc": "MODDOC",
    "constants": {"CNAME": "CSYM", "MAP": {"KEY": 1}},
    "sets": {"S": ["a", "SETSYM"], "SETNAME": ["z"]},
    "types": {"E": ["e1", "ENUMSYM"], "R": {"FIELD": "bool"}},
    "variables": {"x": {"type": "E", "doc": "VARDOC", "group": "VARGROUP"},
                  "y": {"type": ["t1", "VARSYM"]}, "r": {"type": "R"}},
    "definitions": {"d": {"expr": "True", "doc": "DEFDOC"}},
    "procedures": {"p": {"body": "pass", "source": "PROCSOURCE", "doc": "PROCDOC"}},
    "actions": {"go": {"params": {"v": "S"}, "doc": "ACTDOC", "source": "ACTSOURCE", "group": "ACTGROUP",
                       "effect": "x = 'e1'\np()"}},
    "invariants": {"INVNAME": {"expr": "d and x == x", "doc": "INVDOC"}},
}
SPEC_SLOTS = ["MODNAME", "MODDOC", "CNAME", "CSYM", "KEY", "SETSYM", "SETNAME", "ENUMSYM", "FIELD", "VARDOC",
              "VARGROUP", "VARSYM", "DEFDOC", "PROCSOURCE", "PROCDOC", "ACTDOC", "ACTSOURCE", "ACTGROUP",
              "INVNAME", "INVDOC", "INCLUDE"]
CONFIG = {"spec": "s.yaml", "doc": "CFGDOC", "constants": {"CNAME": "CFGCONST"}, "actions": ["CFGACTION"],
          "invariants": ["CFGINV"]}
CONFIG_SLOTS = ["CFGSPEC", "CFGDOC", "CFGCONST", "CFGACTION", "CFGINV", "CFGREACHNAME", "CFGREACH"]
PLAIN = {"CSYM": "c1", "CFGCONST": "c1", "CFGACTION": "go", "CFGINV": "INVNAME"}


def _fill(v, slot, payload):
    if isinstance(v, dict):
        return {_fill(k, slot, payload): _fill(x, slot, payload) for k, x in v.items()}
    if isinstance(v, list):
        return [_fill(x, slot, payload) for x in v]
    if isinstance(v, str) and v.isupper() and v in SPEC_SLOTS + CONFIG_SLOTS:
        return payload if v == slot else PLAIN.get(v, v if v in ("MAP",) else v.lower())
    return v


def _write(tmp_path, slot, payload):
    spec = _fill(SPEC, slot, payload)
    if slot == "INCLUDE":
        spec["include"] = payload
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    cfg = _fill(CONFIG, slot, payload)
    if slot == "CFGSPEC":
        cfg["spec"] = payload
    if slot in ("CFGREACHNAME", "CFGREACH"):
        del cfg["invariants"]
        cfg["reach"] = {payload: "x == 'e1'"} if slot == "CFGREACHNAME" else payload
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))


def _commands():
    out = [("lint",), ("check", "--backend", "python")]
    if fast.available():
        out.append(("check", "--backend", "c"))
    return out


def _run_all(tmp_path, target, marker, extra=()):
    for cmd in _commands():
        r = run_cli(*cmd, target, *extra)
        assert r.code in (0, 2), (cmd, r.code, r.out, r.err)
        if r.code == 2:
            assert "error:" in r.err and "Traceback" not in r.err, r.err
        assert not os.path.exists(marker), (cmd, "the payload ran")


@pytest.mark.parametrize("slot", SPEC_SLOTS + CONFIG_SLOTS)
def test_no_string_of_a_spec_or_config_becomes_code(tmp_path, slot):
    marker = str(tmp_path / "MARKER")
    for payload in PAYLOADS:
        p = payload.replace("{m}", marker)
        _write(tmp_path, slot, p)
        _run_all(tmp_path, str(tmp_path / ("c.yaml" if slot.startswith("CFG") else "s.yaml")), marker)


def test_no_set_value_becomes_code(tmp_path):
    marker = str(tmp_path / "MARKER")
    _write(tmp_path, None, "")
    for payload in PAYLOADS:
        p = payload.replace("{m}", marker)
        for value in (json.dumps(p), json.dumps([p]), p):
            _run_all(tmp_path, str(tmp_path / "s.yaml"), marker, ("--set", f"CNAME={value}"))


def test_the_exploit_that_was_is_refused(tmp_path, cli):
    """A set element with a line break used to be pasted into a comment of the generated module."""
    marker = tmp_path / "MARKER"
    element = json.dumps("a\n" + WALK.format(m=marker))  # a double-quoted YAML scalar
    (tmp_path / "s.yaml").write_text(f"variables:\n  x: bool\nsets:\n  S:\n    - {element}\n"
                                     "actions:\n  go:\n    params: {v: S}\n    effect: x = True\n")
    r = cli("lint", tmp_path / "s.yaml")
    assert r.code == 2 and "symbols are printable one-line text" in r.err
    assert "s.yaml:5:8:" in r.err  # the text of the element (inside its quote)
    assert not marker.exists()


@pytest.mark.parametrize("symbol", ["a\nb", "a\rb", "a\tb", "", "a\x00b", "a\u2028b", "x" * 201])
def test_symbols_are_printable_one_line_text(tmp_path, cli, symbol):
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({"types": {"E": ["ok", symbol]}, "variables": {"x": "E"}}))
    r = cli("lint", tmp_path / "s.yaml")
    assert r.code == 2 and "printable one-line text" in r.err and "s.yaml:" in r.err, r.err


def test_a_printable_symbol_with_quotes_is_just_a_symbol(tmp_path, cli):
    sym = "it's \"quoted\" \\ # */"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({"types": {"E": ["ok", sym]}, "variables": {"x": "E"},
                                                    "actions": {"go": {"effect": f"x = {sym!r}"}}}))
    r = cli("check", tmp_path / "s.yaml")
    assert r.code == 0, r.err
    assert "2 distinct states" in r.out  # ok and it's "quoted" \ # */: the symbol is data


# --- the check of the generated module itself ------------------------------------------------------
GOOD = "_DEFAULT = (0, 1)\ndef _inv0(state):\n    return bool((state[0] == 1))\n"
BAD = [
    "import os\n",
    "def _inv0(state):\n    return state.__class__\n",  # an attribute walk
    "def _inv0(state):\n    return ().__class__.__base__.__subclasses__()\n",
    "def _inv0(state):\n    return __import__('os')\n",  # a dunder name and a string
    "def _inv0(state):\n    return open\n",  # a name the compiler never emits
    "def _inv0(state):\n    return 'text'\n",  # a string constant
    "def _inv0(state):\n    return eval(state)\n",  # a call of something else
    "def _inv0(state, x=print):\n    return 1\n",  # a default argument
    "def helper(state):\n    return 1\n",  # a function the compiler never defines
    "@_chk\ndef _inv0(state):\n    return 1\n",  # a decorator
    "def _inv0(state):\n    return [x for x in state]\n",  # a comprehension
    "def _inv0(state):\n    return lambda: 1\n",
    "def _inv0(state):\n    global s\n    return 1\n",
    "def _inv0(state):\n    s.x = 1\n",  # an attribute store
    "def _inv0(state):\n    return _s0.copy(key=1)\n",  # a keyword argument
    "_chk(1, 2, 3)\n",  # a top-level call
    "def _inv0(state):\n    return 1 +\n",  # not even Python
]


def test_the_generated_code_check_accepts_what_the_compiler_emits():
    ns = {"__builtins__": {"bool": bool}}
    exec(check_generated(GOOD, "<t>"), ns)
    assert ns["_inv0"]((1, 0)) is True


@pytest.mark.parametrize("source", BAD)
def test_the_generated_code_check_refuses_anything_else(source):
    with pytest.raises(GeneratedCodeError) as e:
        check_generated(source, "<t>")
    assert "never emits" in str(e.value)


def test_no_symbol_text_reaches_the_generated_source(tmp_path):
    import explorer
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({
        "sets": {"S": ["zqsym1", "zqsym2"]}, "variables": {"x": "bool"},
        "actions": {"go": {"params": {"v": "S"}, "effect": "x = v == 'zqsym1'"}}}))
    m = explorer.load(str(tmp_path / "s.yaml")).model
    assert len(m.instances) == 2
    assert "zqsym" not in m.source_code
