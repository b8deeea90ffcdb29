"""Bad input: one message with file:line:col, exit code 2, never a traceback."""

import os

import pytest

import explorer

BASE = """
variables: {x: {type: int, min: 0, max: 3}, b: bool}
actions:
  Go:
    guard: GUARD
    effect: |
      EFFECT
"""


def refused(cli, path, *extra):
    r = cli("check", path, *extra)
    assert r.code == 2, (r.out, r.err)
    assert "Traceback" not in r.err
    lines = [l for l in r.err.splitlines() if l.strip()]
    assert len(lines) == 1, r.err
    return lines[0]


def at(line, col):
    return f"s.yaml:{line}:{col}: error:"


@pytest.mark.parametrize("guard,effect,pos,words", [
    # guard is on line 4 after 'guard: ' (col 12); effect statements on line 6 from col 7
    ("__import__('os')", "pass", (4, 12), "double underscores"),
    ("().__class__.__bases__", "pass", (4, 15), "double underscores"),
    ("getattr(x, 'y')", "pass", (4, 12), "unknown function 'getattr'"),
    ("open('f')", "pass", (4, 12), "unknown function 'open'"),
    ("(lambda:1)()", "pass", (4, 13), "lambdas"),
    ("f'{x}' == 1", "pass", (4, 12), "format strings"),
    ("x ** 99999999 > 1", "pass", (4, 12), "power operator"),
    ("x in [y for y in b]", "pass", (4, 17), "list comprehensions"),
    ("x / 2 == 1", "pass", (4, 12), "true division"),
    ("x == 1", "import os", (6, 7), "imports"),
    ("x == 1", "while True: pass", (6, 7), "while loops"),
    ("x == 1", "y = x.__class__", (6, 13), "double underscores"),
    ("x == 1", "b = 3", (6, 11), "bool"),
    ("x == 1", "b = x + 1", (6, 11), "cannot assign"),
    ("x == 1", "x = nosuch + 1", (6, 11), "unknown name 'nosuch'"),
    ("x == 1", "x = 7", (6, 11), "outside the domain 0..3"),
    ("xx == 1", "pass", (4, 12), "did you mean 'x'"),
    ("b + 1 == 2", "pass", (4, 12), "expected an integer, found bool"),
    ("x == 1", "x == 2", (6, 7), "does nothing"),
    ("x == 1", "exec('1')", (6, 7), "unknown procedure 'exec'"),
    ("x == 1", "x = x if b else", (6, 22), "syntax error"),
])
def test_refused_expressions_and_statements(cli, spec, guard, effect, pos, words):
    p = spec(BASE.replace("GUARD", guard).replace("EFFECT", effect))
    msg = refused(cli, p)
    assert at(*pos) in msg, msg
    assert words in msg


def test_deeply_nested_expression_is_refused_not_crashing(cli, spec):
    deep = "(" * 200 + "x" + ")" * 200 + " == 1"
    p = spec(BASE.replace("GUARD", deep).replace("EFFECT", "pass"))
    msg = refused(cli, p)
    assert at(4, 12) in msg and "nest" in msg


def test_malformed_yaml(cli, spec):
    p = spec("variables: {x: bool\nactions: [\n")
    msg = refused(cli, p)
    assert "s.yaml:" in msg and "malformed YAML" in msg


def test_python_tags_in_yaml_are_refused(cli, spec):
    p = spec("variables: !!python/object/apply:os.system ['true']\n")
    msg = refused(cli, p)
    assert at(1, 12) in msg


def test_unknown_top_level_key_suggests(cli, spec):
    p = spec("varibles: {x: bool}\n")
    msg = refused(cli, p)
    assert at(1, 1) in msg and "did you mean 'variables'" in msg


def test_unknown_action_key_suggests(cli, spec):
    p = spec("variables: {x: bool}\nactions:\n  Go: {gaurd: x}\n")
    msg = refused(cli, p)
    assert at(3, 8) in msg and "did you mean 'guard'" in msg


def test_field_a_record_lacks(cli, spec):
    p = spec("types: {Pte: {dirty: bool}}\nvariables: {p: Pte}\ninvariants:\n  I: p.drity\n")
    msg = refused(cli, p)
    assert at(4, 6) in msg and "did you mean 'dirty'" in msg


def test_wrong_number_of_arguments(cli, spec):
    p = spec("variables: {x: bool}\ndefinitions:\n  f(a, b): a and b\ninvariants:\n  I: f(x)\n")
    msg = refused(cli, p)
    assert at(5, 6) in msg and "takes 2 argument(s), 1 given" in msg


def test_recursive_definition(cli, spec):
    p = spec("variables: {x: bool}\ndefinitions:\n  f: g\n  g: f\ninvariants:\n  I: f\n")
    msg = refused(cli, p)
    # reported where the cycle closes: the use of f inside g
    assert "recursive definition: f -> g -> f" in msg and "s.yaml:4:6" in msg


def test_recursive_procedure(cli, spec):
    p = spec("variables: {x: bool}\nprocedures:\n  p: q()\n  q: p()\nactions:\n  Go: {effect: p()}\n")
    msg = refused(cli, p)
    assert "recursive procedure" in msg


def test_duplicate_names_across_includes(cli, spec):
    spec("variables: {x: bool}\n", name="a.yaml")
    p = spec("include: [a.yaml]\nvariables: {x: bool}\n")
    msg = refused(cli, p)
    assert at(2, 13) in msg and "duplicate name 'x'" in msg and "a.yaml:1:13" in msg


def test_include_cycle(cli, spec):
    spec("include: [s.yaml]\n", name="a.yaml")
    p = spec("include: [a.yaml]\nvariables: {x: bool}\n")
    msg = refused(cli, p)
    assert "include cycle" in msg and "a.yaml:1:11" in msg


def test_include_outside_the_tree(cli, spec, tmp_path):
    (tmp_path / "outside.yaml").write_text("variables: {y: bool}\n")
    p = spec("include: [../outside.yaml]\nvariables: {x: bool}\n", name="sub/s.yaml")
    msg = refused(cli, p)
    assert "s.yaml:1:11" in msg and "outside the spec's directory tree" in msg


def test_empty_parameter_domain(cli, spec):
    p = spec("constants: {N: 0}\nsets: {S: range(N)}\nvariables: {x: bool}\nactions:\n  Go:\n    params: {i: S}\n    effect: x = True\n")
    msg = refused(cli, p)
    assert at(6, 17) in msg and "empty set" in msg


def test_config_errors(cli, spec):
    spec("constants: {N: 2}\nvariables: {x: bool}\nactions:\n  Go: {effect: x = True}\ninvariants:\n  I: x or not x\n")
    cfg = spec("spec: s.yaml\nconstants: {M: 3}\n", name="c.yaml")
    msg = refused(cli, cfg)
    assert "c.yaml:2:13" in msg and "unknown constant 'M'" in msg
    cfg = spec("spec: s.yaml\nconstants: {N: true}\n", name="c.yaml")
    msg = refused(cli, cfg)
    assert "c.yaml:2:16" in msg and "must be an integer" in msg
    cfg = spec("spec: s.yaml\nactions: [Gp]\n", name="c.yaml")
    msg = refused(cli, cfg)
    assert "c.yaml:2:11" in msg and "did you mean 'Go'" in msg
    cfg = spec("spec: s.yaml\ninvariants: [J]\n", name="c.yaml")
    msg = refused(cli, cfg)
    assert "c.yaml:2:14" in msg and "no invariant matches 'J'" in msg
    cfg = spec("spec: s.yaml\ncheck: {max_sates: 4}\n", name="c.yaml")
    msg = refused(cli, cfg)
    assert "c.yaml:2:9" in msg and "did you mean 'max_states'" in msg
    cfg = spec("spec: nosuch.yaml\n", name="c.yaml")
    msg = refused(cli, cfg)
    assert "c.yaml:1:7" in msg and "does not exist" in msg


def test_cli_flags_name_unknown_things(cli, spec):
    p = spec("constants: {N: 2}\nvariables: {x: bool}\nactions:\n  Go: {effect: x = True}\n")
    msg = refused(cli, p, "--set", "M=1")
    assert "unknown constant 'M'" in msg and "--set M=1" in msg
    msg = refused(cli, p, "--action", "Gox")
    assert "no action matches 'Gox'" in msg


def test_runtime_division_by_zero_and_index(cli, spec):
    p = spec("""
        sets: {S: range(2)}
        variables: {x: {type: int, min: 0, max: 3}, a: {type: bool, over: [S]}}
        actions:
          Inc: {guard: x < 3, effect: x += 1}
          Div: {guard: x == 2, effect: "x = 6 // (x - 2)"}
          Idx: {guard: x == 3, effect: "a[x - 1] = True"}
    """.replace("\n        ", "\n"))
    r = cli("check", p)
    assert r.code == 2 and "division by zero" in r.out and "Traceback" not in r.out + r.err
    assert "s.yaml:5:43" in r.out  # the divisor
    r = explorer.check(explorer.load(p, None, [("Inc", None), ("Idx", None)]))
    assert r.verdict == "error" and "out of range" in r.error["message"]
    assert len(r.trace) == 5


def test_unknown_set_and_type_in_declarations(cli, spec):
    p = spec("sets: {PAGES: range(2)}\nvariables:\n  x: {type: bool, over: [PAGE]}\n")
    msg = refused(cli, p)
    assert at(3, 26) in msg and "unknown set 'PAGE'" in msg and "did you mean 'PAGES'" in msg
    p = spec("types: {Pte: {dirty: bool}}\nvariables:\n  x: {type: Ptee}\n")
    msg = refused(cli, p)
    assert at(3, 13) in msg and "unknown type 'Ptee'" in msg and "did you mean 'Pte'" in msg


def test_unknown_invariant_on_the_command_line(cli, spec):
    p = spec("variables: {x: bool}\ninvariants:\n  Safe: not x\n")
    msg = refused(cli, p, "--invariant", "Saf")
    assert "no invariant matches 'Saf'" in msg and "did you mean 'Safe'" in msg


def test_huge_sets_are_refused_before_unrolling(cli, spec):
    p = spec("variables: {x: bool}\ninvariants:\n  I: all(x or not x for i in range(99999999))\n")
    msg = refused(cli, p)
    assert at(3, 30) in msg and "at most 4096" in msg


def test_runtime_error_in_an_invariant_is_reported_with_its_trace(cli, spec):
    # x reaches 2 after two Incs, where 6 // (x - 2) divides by zero
    p = spec("""
        variables: {x: {type: int, min: 0, max: 3}}
        actions:
          Inc: {guard: x < 3, effect: x += 1}
        invariants:
          I: 6 // (x - 2) != 7
    """.replace("\n        ", "\n"))
    for backend in ("python", "c"):
        r = cli("check", p, "--backend", backend)
        assert r.code == 2 and "Traceback" not in r.out + r.err
        assert "s.yaml:5:12: runtime error in an invariant: division by zero" in r.out
        assert "2 steps" in r.out
