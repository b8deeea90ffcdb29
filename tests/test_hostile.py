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


def _run_all(tmp_path, target, marker, extra=(), lint=True):
    for cmd in _commands()[0 if lint else 1:]:
        r = run_cli(*cmd, target, *extra)
        assert r.code in (0, 2), (cmd, r.code, r.out, r.err)
        if r.code == 2:
            assert "error:" in r.err and "Traceback" not in r.err, r.err
        elif cmd[-1] == "c":
            assert "compiled backend not used" not in r.err, r.err  # the C translation itself was tried
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


def test_the_generated_code_check_accepts_a_composed_module_of_worlds():
    source = GOOD.replace("_inv0", "_inv0_w1") + "def _inv_first(state):\n    if not _inv0_w1(state): return 0\n    return -1\n"
    ns = {"__builtins__": {"bool": bool}}
    exec(check_generated(source, "<t>"), ns)
    assert ns["_inv_first"]((0, 0)) == 0
    with pytest.raises(GeneratedCodeError):
        check_generated("def evil_w1(state):\n    return 1\n", "<t>")


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


# --- bounds: small inputs must not exhaust memory or time -------------------------------------------
def test_a_huge_int_domain_is_refused_with_its_position(spec, cli):
    p = spec("variables:\n  n: {type: int, min: 0, max: 2147483647}\n")
    r = cli("lint", p)
    assert r.code == 2 and "s.yaml:2:31:" in r.err and "2,147,483,648 values" in r.err, r.err


def test_a_large_int_domain_is_checked_without_listing_it(tmp_path, cli):
    import explorer
    from explorer.lang.compiler import MAX_SET
    p = tmp_path / "s.yaml"
    p.write_text("variables:\n  n: {type: int, min: 0, max: 200000}\nactions:\n  inc: {effect: n = n + 1}\n")
    m = explorer.load(str(p)).model
    assert "_chk(" in m.source_code  # n + 1 may leave the domain: checked at run time
    assert all(len(k) <= MAX_SET for k in m.runtime if isinstance(k, (frozenset, tuple)))
    r = cli("check", p, "--max-states", "5")
    assert r.code == 3 and "5 distinct states" in r.out


def test_a_billion_laughs_file_is_refused_at_once_with_a_position(tmp_path, cli):
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    p = tmp_path / "laughs.yaml"
    p.write_text("\n".join(lines) + "\n")  # 9**9 strings once expanded
    r = cli("lint", p)
    assert r.code == 2 and "through aliases" in r.err and "laughs.yaml:7:4:" in r.err, r.err


def test_a_few_aliases_are_fine(tmp_path, cli):
    p = tmp_path / "s.yaml"
    p.write_text("sets:\n  A: &v [a, b]\n  B: *v\nvariables:\n  x: {type: bool, over: [A]}\n  y: {type: bool, over: [B]}\n")
    r = cli("lint", p)
    assert r.code == 0 and "(4 slots)" in r.out, r.out + r.err


def test_deep_nesting_is_refused_with_a_position(tmp_path, cli):
    p = tmp_path / "deep.yaml"
    p.write_text("x: " + "[" * 5000 + "]" * 5000 + "\n")
    r = cli("lint", p)
    assert r.code == 2 and "nested more than" in r.err and "deep.yaml:1:" in r.err, r.err


@pytest.mark.parametrize("kind", ["fifo", "device", "directory", "too large"])
def test_only_regular_files_of_bounded_size_are_read(tmp_path, cli, kind):
    from explorer.lang.yamlsrc import MAX_FILE_BYTES
    p = tmp_path / "c.yaml"
    if kind == "fifo":
        os.mkfifo(p)  # opening it for reading would block until a writer came
    elif kind == "device":
        p = "/dev/zero"  # reading it would never end
    elif kind == "directory":
        p.mkdir()
    else:
        p.write_text("#" * (MAX_FILE_BYTES + 1))
    r = cli("lint", p)
    assert r.code == 2 and r.err.count("\n") == 1 and "error:" in r.err, r.err
    assert {"fifo": "not a regular file", "device": "not a regular file", "directory": "is a directory",
            "too large": "larger than 16 MiB"}[kind] in r.err


def test_an_include_that_is_not_a_regular_file_is_refused(tmp_path, cli):
    os.mkfifo(tmp_path / "part.yaml")
    (tmp_path / "s.yaml").write_text("include: part.yaml\nvariables: {x: bool}\n")
    r = cli("lint", tmp_path / "s.yaml")
    assert r.code == 2 and "not a regular file" in r.err


MANY = """
sets:
  A: range(1000)
  B: range(1000)
variables:
  x: {type: int, min: 0, max: 1}
actions:
  go:
    params: {a: A, b: B}
    guard: a == b
    effect: x = 1
"""


@pytest.mark.parametrize("flag", [("--timeout", "0.2"), ("--max-memory", "1")])
def test_compiling_runs_under_the_time_and_memory_limits(spec, cli, flag):
    r = cli("check", spec(MANY), *flag)
    assert r.code == 3, r.err
    assert "while compiling" in r.err and "nothing was explored" in r.err
    assert ("timeout of 0.2 s" if flag[0] == "--timeout" else "memory limit of 1 MiB") in r.err


def test_the_config_s_timeout_covers_compiling_too(spec, tmp_path):
    import explorer
    from explorer.errors import LimitError
    s = spec(MANY)
    c = tmp_path / "c.yaml"
    c.write_text(f"spec: {os.path.basename(s)}\ncheck: {{timeout: 1}}\n")
    with pytest.raises(LimitError):
        explorer.load(str(c))


def test_too_many_instances_are_refused_before_compiling(spec, cli):
    p = spec(MANY.replace("range(1000)", "range(4096)"))  # 4096 x 4096 instances
    r = cli("lint", p)
    assert r.code == 2 and "16,777,216 instances" in r.err and "s.yaml:7:3:" in r.err, r.err


@pytest.mark.parametrize("text", [
    "variables: {x: bool}\ndefinitions:\n  f: g\n  g: f\n  h: x\ninvariants:\n  I: h\n",
    "variables: {x: bool}\ndefinitions:\n  f(a): f(a)\n",
    "variables: {x: bool}\nprocedures:\n  p: q()\n  q: |\n    x = True\n    p()\nactions:\n  Go: {effect: x = True}\n",
])
def test_a_recursive_definition_nothing_uses_is_refused(spec, cli, text):
    r = cli("lint", spec(text))
    assert r.code == 2 and "recursive" in r.err and "s.yaml:" in r.err, r.err


def test_a_parameter_or_generator_variable_named_like_a_definition_is_no_recursion(spec, cli):
    p = spec("variables: {x: bool}\nsets:\n  S: [1, 2]\ndefinitions:\n  g: x\n"
             "  f(g): g and all(h for h in [True])\n  h: f(x)\ninvariants:\n  I: implies(h, x)\n")
    r = cli("lint", p)
    assert r.code == 0, r.err


def test_a_listed_set_is_bounded_like_a_range(spec, cli):
    r = cli("lint", spec("sets:\n  S: [" + ", ".join(map(str, range(5000))) + "]\n"))
    assert r.code == 2 and "s.yaml:2:6:" in r.err and "at most 4,096" in r.err, r.err
    r = cli("lint", spec("constants:\n  L: [" + ", ".join(map(str, range(5000))) + "]\nsets:\n  S: L\n"))
    assert r.code == 2 and "s.yaml:4:6:" in r.err and "at most 4,096" in r.err, r.err


@pytest.mark.parametrize("flag", ["--reach", "--action", "--invariant"])
def test_no_command_line_pattern_or_target_becomes_code(tmp_path, flag):
    marker = str(tmp_path / "MARKER")
    _write(tmp_path, None, "")
    for payload in PAYLOADS:
        _run_all(tmp_path, str(tmp_path / "s.yaml"), marker, (flag, payload.replace("{m}", marker)), lint=False)


def test_no_file_name_becomes_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the payloads name the marker relative to here: no "/" in a file name
    for payload in [p for p in PAYLOADS if "/" not in p]:  # a file name holds no "/"
        name = payload.replace("{m}", "MARKER") + ".yaml"
        _write(tmp_path, None, "")
        os.replace(tmp_path / "s.yaml", tmp_path / name)
        _run_all(tmp_path, name, str(tmp_path / "MARKER"))
        os.remove(tmp_path / name)


def test_a_message_quoting_hostile_text_is_one_line(spec, cli):
    p = spec("variables: {x: bool}\nconstants: {C: 1}\ninvariants:\n  I: \"x == 'a\\\\nb'\"\n")
    for args in (("lint", p), ("lint", p, "--set", "C\nD\r=1")):
        r = cli(*args)
        assert r.code == 2 and r.err.count("\n") == 1 and "error:" in r.err, r.err


@pytest.mark.parametrize("text, where", [
    ("variables:\n  n: {type: int, min: 1000000000000000000000, max: 1000000000000000000005}\n", "s.yaml:2:23:"),
    ("constants: {C: 100000000000000000000000}\nvariables: {x: bool}\n", "s.yaml:1:13:"),  # at the constant
])
def test_integers_beyond_64_bits_are_refused_where_written(spec, cli, text, where):
    r = cli("check", spec(text))
    assert r.code == 2 and where in r.err and "too large" in r.err and "generated code" not in r.err, r.err


def test_compiling_stops_at_the_default_memory_limit_when_none_is_given(spec, monkeypatch):
    # with no --max-memory, loading is held to the same machine-derived default as exploring
    import explorer
    from explorer import machine
    from explorer.errors import LimitError
    monkeypatch.setattr(machine, "default_memory_mib", lambda: 1)
    with pytest.raises(LimitError, match="the default memory limit of 1 MiB reached while"):
        explorer.load(spec(MANY))
