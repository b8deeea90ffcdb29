"""Named worlds, lanes and refusals: what a spec declares for its readers (`labels:`, `actors:`,
`refusals:`) and where it shows: indices by role, each step in its actor's lane, the violated
invariant's doc line, and the kernel's refusals as a verdict of their own."""

import fnmatch
import html
import json
import os
import re

import pytest
import yaml

from conftest import ROOT

F2 = (os.path.join(ROOT, "configs", "gup_shmem_minor.yaml"), "--set", "KERNEL=v5.16")
MM = yaml.safe_load(open(os.path.join(ROOT, "spec", "mm.yaml")))

TINY = """
module: tiny
constants: {KINDS: [anon, file], BAD: false}
sets: {V: range(len(KINDS))}
assume:
  NotBad: {expr: not BAD, message: the kernel says EPERM}
  Small: {expr: len(KINDS) <= 3, message: at most three}
refusals: [NotBad]
variables:
  x: {type: bool, over: [V]}
  y: {type: bool, over: [V]}
actions:
  Set:
    params: {v: V}
    source: mm/set.c set_it
    guard: not x[v]
    effect: x[v] = True
  Mark:
    params: {v: V}
    guard: x[v]
    effect: y[v] = True
labels:
  V:
    name: m
    index: v
    show:
      anonymous: KINDS[v] == anon
      file-backed: KINDS[v] == file
actors:
  writer: [Set]
  marker: [Ma*]
invariants:
  NotBoth:
    doc: no mapping is ever marked
    expr: not any(y[v] for v in V)
"""


def test_indices_by_role_actors_and_the_doc_line_in_the_report(cli, spec, tmp_path):
    p = spec(TINY)
    out = tmp_path / "r.json"
    r = cli("check", p, "--no-color", "--json", out)
    assert r.code == 1
    assert "world: m0: anonymous; m1: file-backed" in r.out
    assert "1  Set(v=m0)" in r.out and "2  Mark(v=m0)" in r.out  # by name, not by number
    assert "  NotBoth: no mapping is ever marked" in r.out
    data = json.loads(out.read_text())
    assert data["world"]["V"] == [{"index": "0", "name": "m0", "label": "anonymous"},
                                  {"index": "1", "name": "m1", "label": "file-backed"}]
    assert data["actors"] == ["writer", "marker"]
    assert [(s["actor"], s["named"], s["params"]) for s in data["trace"][1:]] == \
        [("writer", {"v": "m0"}, {"v": "0"}), ("marker", {"v": "m0"}, {"v": "0"})]
    assert data["invariant_docs"] == {"NotBoth": "no mapping is ever marked"}


def test_a_refusal_is_a_verdict_and_other_assumptions_stay_bad_input(cli, spec, tmp_path):
    p = spec(TINY)
    out = tmp_path / "r.json"
    r = cli("check", p, "--set", "BAD=true", "--json", out)
    assert r.code == 4 and "REFUSED: the kernel refuses this configuration: the kernel says EPERM" in r.out
    data = json.loads(out.read_text())
    assert data["verdict"] == "refused" and "(assumption NotBad at " in data["detail"]
    r = cli("check", p, "--set", "KINDS=[anon, file, anon, file]")
    assert r.code == 2 and "at most three" in r.err and r.out == ""


@pytest.mark.parametrize("old,new,words", [
    ("refusals: [NotBad]", "refusals: [NotBda]", "no assumption is called 'NotBda' (did you mean 'NotBad'?)"),
    ("  marker: [Ma*]", "  marker: [Mrk]", "actors: no action matches 'Mrk'"),
    ("      anonymous: KINDS[v] == anon", "      anonymous: x[v]", "must depend on constants only"),
    ("      anonymous: KINDS[v] == anon", '      "two\\nlines": true', "one line of printable text"),
    ("    name: m\n", "    name: m\n    colour: red\n", "unknown key 'colour' in labels of V"),
])
def test_bad_annotations_are_one_clear_error(cli, spec, old, new, words):
    assert old in TINY
    p = spec(TINY.replace(old, new))
    r = cli("lint", p)
    assert r.code == 2, r.out
    assert words in r.err and re.match(r"^\S+s\.yaml:\d+:\d+: error: ", r.err), r.err
    assert "Traceback" not in r.err


@pytest.fixture(scope="module")
def f2(tmp_path_factory):
    from conftest import run_cli
    d = tmp_path_factory.mktemp("f2")
    r = run_cli("check", *F2, "--no-color", "--json", d / "r.json", "--trace-out", d / "t.svg", "--html", d / "t.html")
    assert r.code == 1, r.err
    r.data = json.loads((d / "r.json").read_text())
    r.mail = run_cli("trace", d / "r.json", "--format", "mail").out
    r.svg = (d / "t.svg").read_text()
    r.html = (d / "t.html").read_text()
    return r


def expected_actor(action):
    for actor, pats in MM["actors"].items():
        if any(fnmatch.fnmatchcase(action, p) for p in pats):
            return actor
    return "other"


# gup_shmem_minor.yaml: VMAS = [{backing: file, shared: false, prot: read, uffd: [minor]}] of a
# shmem FILE: a private, read-only memfd mapping registered for MINOR faults
WORLD = "vma0: private, R, memfd, uffd:minor"
S1 = MM["invariants"]["PrivateStaysPrivate"]["doc"]


def test_f2_names_its_world_and_the_invariant_everywhere(f2):
    assert f2.data["invariant"] == "PrivateStaysPrivate"
    svg_text = html.unescape(re.sub(r"<[^>]+>", " ", f2.svg))
    for name, text in (("report", f2.out), ("mail", f2.mail), ("svg", svg_text), ("html", f2.html)):
        assert WORLD in " ".join(text.split()), name
        assert " ".join(S1.split())[:60] in " ".join(text.split()), name


def test_f2_mail_draws_lanes_within_80_columns(f2):
    lines = f2.mail.splitlines()
    assert max(len(x) for x in lines) <= 80
    i = next(i for i, x in enumerate(lines) if "GUP thread" in x and "|" in x)
    header = lines[i]
    used = [a for a in MM["actors"] if any(expected_actor(s["action"]) == a for s in f2.data["trace"][1:])]
    assert [h.strip() for h in header.split("|")] == used
    block = lines[i + 2:lines.index("", i)]
    assert set(lines[i + 1].strip()) <= set("-+") and len(block) >= len(f2.data["trace"]) - 1
    for n, step in enumerate(f2.data["trace"][1:], 1):
        pat = re.compile(rf"(^ *|\| ){n}\. ")
        line = next(x for x in block if pat.search(x))
        lane = line[:pat.search(line).end()].count("|")
        assert used[lane] == expected_actor(step["action"]), (n, line)


def _x_range(svg, gid):
    m = re.search(rf'<g id="{gid}" class="(?:node|cluster)">.*?points="([^"]+)"', svg, re.S)
    xs = [float(p.split(",")[0]) for p in m.group(1).split()]
    return min(xs), max(xs)


def test_f2_svg_puts_each_state_in_its_actors_lane(f2):
    used = [a for a in MM["actors"] if any(expected_actor(s["action"]) == a for s in f2.data["trace"][1:])]
    for j, a in enumerate(used):
        assert re.search(rf'<g id="lanehead{j}" class="node">.*?{re.escape(a)}', f2.svg, re.S)
    lanes = [_x_range(f2.svg, f"lane{j}") for j in range(len(used))]
    for n, step in enumerate(f2.data["trace"][1:], 1):
        lo, hi = _x_range(f2.svg, f"s{n}")
        j = used.index(expected_actor(step["action"]))
        assert lanes[j][0] <= lo and hi <= lanes[j][1], (n, step["action"])
    # the sources are in one legend, not on every edge
    assert f2.svg.count("mm/gup.c follow_page_mask") <= 1 + 2 * sum(s["action"] == "gup_follow" for s in f2.data["trace"])
    assert "where each step is in the kernel" in f2.svg


def test_an_action_without_instance_is_warned_about(cli, spec):
    # Drop's guard is false for every v (no VMA is anonymous here), so it has no instance at all
    p = spec(TINY.replace("  Mark:\n", "  Drop:\n    params: {v: V}\n    guard: KINDS[v] == none\n"
                          "    effect: x[v] = False\n  Mark:\n").replace("KINDS: [anon, file]", "KINDS: [file, file]")
             .replace("sets: {V: range(len(KINDS))}", "sets: {V: range(len(KINDS)), K: [anon, file, none]}"))
    r = cli("check", p, "--no-color", "--invariant", "NotBoth", "--action", "Set", "--action", "Drop")
    assert r.code == 0, r.out + r.err
    assert "warning: 1 action(s) of this config have no instance for these constants" in r.out
    assert r.out.split("no instance for these constants", 1)[1].split("\n")[0].endswith(": Drop")
