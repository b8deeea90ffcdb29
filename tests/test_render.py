"""Trace diagrams, the state graph, ITF, mail and text traces (explorer.render)."""

import html
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

import explorer
from explorer.analysis import culprits
from explorer.render import diagram, stategraph
from explorer.cli.render_cmds import write_outputs
from explorer.render.itf import to_itf
from explorer.render.mail import format_mail
from explorer.render.view import TraceView, compact_keys, groups, trace_document

from conftest import ROOT

BENCH = os.path.join(ROOT, "bench", "dirtybits.yaml")
HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz's dot is not installed (apt-get install graphviz)")
SVG = "{http://www.w3.org/2000/svg}"


def buggy(**consts):
    problem = explorer.load(BENCH, {"P": 1, "V": 1, "BUGGY": True, **consts})
    result = explorer.check(problem)
    c = culprits.compute(problem.model, result.exploration)
    data = json.loads(json.dumps(result.data))
    data["culprits"] = c
    return data


@pytest.fixture(scope="module")
def data():
    return buggy()


# --- the view: groups, changes, folding, marks --------------------------------------------------------
def test_groups_follow_index_sets_records_and_group_names(data, spec):
    gs = groups(data["variables"], data["trace"][0]["state"])
    assert [g.title for g in gs] == ["PAGES", "VMAS", "pte"]
    pages, vmas, pte = gs
    assert [c.label for c in pages.columns] == ["cached", "pdirty", "modified"]
    assert [r.cells for r in pages.rows] == [["cached[0]", "pdirty[0]", "modified[0]"]]
    assert [c.label for c in pte.columns] == ["present", "write", "dirty"]
    assert pte.rows[0].label == "0,0" and pte.over == ["VMAS", "PAGES"]

    path = spec("""
        module: g
        sets: {PAGES: range(2)}
        variables:
          cached: {type: bool, over: [PAGES], group: page}
          refs: {type: int, min: 0, max: 3, over: [PAGES], group: page}
          locked: bool
          seq: {type: int, min: 0, max: 3, ghost: true}
        actions:
          Get:
            params: {p: PAGES}
            guard: refs[p] < 3
            effect: refs[p] += 1
        invariants:
          Small: all(refs[p] < 2 for p in PAGES)
    """)
    r = explorer.check(explorer.load(path))
    gs = groups(r.data["variables"], r.data["trace"][0]["state"])
    assert [g.title for g in gs] == ["page", "globals"]
    assert [c.label for c in gs[0].columns] == ["cached", "refs"]
    assert [r.label for r in gs[0].rows] == ["0", "1"]
    assert [c.label for c in gs[1].columns] == ["locked", "seq"]


def test_changes_folding_and_culprits(data):
    view = TraceView(data)
    assert [s.label for s in view.steps] == ["initial state", "WriteFault(v=0, p=0)", "Store(v=0, p=0)", "Zap(v=0, p=0)"]
    assert view.steps[2].changed == {"modified[0]": (False, True)}
    assert set(view.steps[1].changed) == {"cached[0]", "pte[0][0].present", "pte[0][0].write", "pte[0][0].dirty"}
    pages, vmas, pte = view.groups
    s2 = view.steps[2]
    assert [len(view.visible_rows(s2, g)) for g in view.groups] == [1, 0, 0]
    assert [len(view.visible_rows(s2, g, all_vars=True)) for g in view.groups] == [1, 1, 1]
    assert [len(view.visible_rows(view.steps[0], g)) for g in view.groups] == [1, 1, 1]
    # NoLostWrite fails because the page was modified, is not PageDirty and no PTE is dirty
    assert view.mark_kind == "culprit"
    assert view.marked == {"modified[0]", "pdirty[0]", "pte[0][0].dirty"}
    last = view.steps[3]
    assert [len(view.visible_rows(last, g)) for g in view.groups] == [1, 0, 1]  # the page row holds culprits


def test_culprits_include_values_that_repair_only_together(spec):
    path = spec("""
        module: c
        types:
          Pte: {present: bool, write: bool, dirty: bool}
        variables:
          pte: Pte
          other: bool
        actions:
          Bad:
            guard: not pte.write
            effect: |
              pte.write = True
              pte.dirty = True
          Flip:
            guard: not other
            effect: other = True
        invariants:
          PteConsistent: implies(not pte.present, not pte.write and not pte.dirty)
    """)
    problem = explorer.load(path)
    r = explorer.check(problem)
    c = culprits.compute(problem.model, r.exploration)
    # setting present alone repairs it; write and dirty only together; `other` never does
    assert c == {"invariant": "PteConsistent", "slots": ["pte.present", "pte.write", "pte.dirty"], "complete": True}


def test_without_culprits_the_invariants_variables_are_marked(data):
    d = dict(data)
    del d["culprits"]
    view = TraceView(d)
    assert view.mark_kind == "read"
    assert view.marked == {"modified[0]", "pdirty[0]"}  # the text names these; pte is read through a definition
    assert "read by NoLostWrite" in view.mark_legend()


def test_compact_keys():
    assert compact_keys(["pte[0][1].present", "pte[0][1].dirty", "cached[1]", "pte[1][1].write", "x.y"]) == \
        ["pte[0][1].{present,dirty}", "cached[1]", "pte[1][1].write", "x.y"]


# --- the trace diagram ----------------------------------------------------------------------------------
def node_labels(source):
    return {m.group(1): m.group(2) for m in re.finditer(r"^\s*(s\d+) \[label=<(.*?)> id=", source, re.M | re.S)}


def test_diagram_source_highlights_changes_and_marks_culprits(data):
    src = diagram.trace_dot(TraceView(data))
    labels = node_labels(src)
    assert sorted(labels) == ["s0", "s1", "s2", "s3"]
    # the initial state is whole, without highlights
    assert "vwrite" in labels["s0"] and diagram.CHANGED_BG not in labels["s0"]
    # state 2 shows only the page row, with modified F -> T highlighted
    assert "vwrite" not in labels["s2"] and "present" not in labels["s2"]
    assert f'BGCOLOR="{diagram.CHANGED_BG}"><FONT FACE="DejaVu Sans Mono"><B>F&#8594;T</B>' in labels["s2"]
    assert labels["s2"].count(diagram.CHANGED_BG) == 1
    assert "2 unchanged rows not shown" in labels["s2"]
    # the last state marks exactly the three culprits
    assert labels["s3"].count(f'BGCOLOR="{diagram.MARK_BG}"') == 3
    assert "NoLostWrite is false" in labels["s3"]
    for s in ("s1", "s2"):
        assert diagram.MARK_BG not in labels[s]
    # edges: action, params and step number; the note gives the invariant and the culprits
    assert re.search(r"s0 -> s1 \[label=<.*<B>1\. WriteFault</B>\(v=0, p=0\)", src)
    assert "because: pdirty[0] = F, modified[0] = T, pte[0][0].dirty = F" in src
    assert "rankdir=LR" in src


def test_all_vars_draws_every_row(data, cli, tmp_path):
    src = diagram.trace_dot(TraceView(data), all_vars=True)
    labels = node_labels(src)
    assert all("vwrite" in labels[s] for s in labels)
    assert "not shown" not in src
    for flag, folded in ((), True), (("--all-vars",), False):
        out = tmp_path / f"t{len(flag)}.dot"
        r = cli("check", BENCH, "--set", "BUGGY=true", "--set", "P=1", "--set", "V=1", "-q", "--trace-out", out, *flag)
        assert r.code == 1
        assert ("unchanged rows not shown" in out.read_text()) == folded


LONG = """
    module: longtrace
    constants: {P: 2, V: 2}
    sets: {PAGES: range(P), VMAS: range(V)}
    types:
      Pte: {present: bool, write: bool, dirty: bool}
    variables:
      cached: {type: bool, over: [PAGES]}
      pte: {type: Pte, over: [VMAS, PAGES]}
      writes: {type: int, min: 0, max: 9, ghost: true}
    actions:
      ReadFault:
        params: {v: VMAS, p: PAGES}
        source: mm/memory.c do_read_fault -> __do_fault -> filemap_fault, a deliberately long source line
        guard: not pte[v][p].present
        effect: |
          pte[v][p].present = True
          cached[p] = True
      WriteUpgrade:
        params: {v: VMAS, p: PAGES}
        source: mm/memory.c do_wp_page
        guard: pte[v][p].present and not pte[v][p].write
        effect: pte[v][p].write = True
      Store:
        params: {v: VMAS, p: PAGES}
        guard: pte[v][p].write and not pte[v][p].dirty
        effect: |
          pte[v][p].dirty = True
          writes += 1
    invariants:
      NotAllDirty: not all(pte[v][p].dirty for v in VMAS for p in PAGES)
"""


def test_long_traces_are_drawn_top_to_bottom_and_sources_wrap(spec):
    problem = explorer.load(spec(LONG))
    r = explorer.check(problem)
    assert len(r.trace) - 1 == 12
    src = diagram.trace_dot(TraceView(r.data))
    assert "rankdir=TB" in src
    assert "writes" in src  # ghost variables are drawn, titled as such
    assert "(ghost)" in src
    # the long source is split over lines no longer than the wrap width
    edge = re.search(r"s0 -> s1 \[label=<(.*?)> id=", src, re.S).group(1)
    lines = [html.unescape(x) for x in re.findall(r'COLOR="#555555">([^<]*)</FONT>', edge)]
    assert len(lines) >= 2 and all(len(x) <= 44 for x in lines)
    assert " ".join(lines) == "mm/memory.c do_read_fault -> __do_fault -> filemap_fault, a deliberately long source line"


@needs_dot
def test_check_writes_svg_png_pdf_and_dot(cli, tmp_path):
    outs = {ext: tmp_path / f"t.{ext}" for ext in ("svg", "png", "pdf", "dot")}
    for ext, path in outs.items():
        r = cli("check", BENCH, "--set", "BUGGY=true", "--set", "P=1", "--set", "V=1", "-q", "--trace-out", path)
        assert r.code == 1, r.err
        assert r.err == ""
    assert outs["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert outs["pdf"].read_bytes()[:5] == b"%PDF-"
    assert outs["dot"].read_text().startswith("digraph trace {")
    svg = ET.parse(outs["svg"]).getroot()
    nodes = {g.get("id"): g for g in svg.iter(SVG + "g") if g.get("class") == "node"}
    assert {"s0", "s1", "s2", "s3", "note"} <= set(nodes)
    text = " ".join(t.text or "" for t in nodes["s3"].iter(SVG + "text"))
    assert "NoLostWrite is false" in text
    marked = [p for p in nodes["s3"].iter(SVG + "polygon") if p.get("fill") == diagram.MARK_BG]
    assert len(marked) == 3
    changed = [p for p in nodes["s1"].iter(SVG + "polygon") if p.get("fill") == diagram.CHANGED_BG]
    assert len(changed) == 4  # cached and the three PTE bits
    assert any("DejaVu" in (t.get("font-family") or "") for t in svg.iter(SVG + "text"))


def test_without_dot_the_dot_file_is_written_and_one_line_says_how_to_install(cli, tmp_path, monkeypatch):
    empty = tmp_path / "nobin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "trace.svg"
    html = tmp_path / "trace.html"
    r = cli("check", BENCH, "--set", "BUGGY=true", "--set", "P=1", "--set", "V=1", "-q", "--trace-out", out,
            "--html", html)
    assert r.code == 1  # the verdict's exit code, unchanged
    assert not out.exists()
    assert (tmp_path / "trace.dot").read_text().startswith("digraph trace {")
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "apt-get install graphviz" in lines[0] and "Traceback" not in r.err
    assert "Graphviz" in html.read_text() and "<svg" not in html.read_text()
    r = cli("graph", BENCH, "--set", "P=1", "--set", "V=1", "-o", tmp_path / "g.svg")
    assert r.code == 0 and (tmp_path / "g.dot").exists() and "apt-get install graphviz" in r.err


def test_bad_suffix_is_refused_before_checking(cli, tmp_path, capsys):
    r = cli("check", BENCH, "--trace-out", tmp_path / "t.jpg")
    assert r.code == 2
    assert ".svg, .png, .pdf or .dot" in capsys.readouterr().err
    assert r.out == ""


def test_no_trace_no_file(cli, tmp_path):
    r = cli("check", BENCH, "--set", "P=1", "--set", "V=1", "-q", "--trace-out", tmp_path / "t.dot",
            "--itf", tmp_path / "t.itf.json")
    assert r.code == 0
    assert "no trace to write for --trace-out, --itf" in r.err
    assert not (tmp_path / "t.dot").exists()


# --- saved traces re-render the same ----------------------------------------------------------------------
def test_saved_trace_rerenders_identically(cli, tmp_path):
    a = {x: tmp_path / f"a.{x}" for x in ("dot", "html", "itf.json")}
    r = cli("check", BENCH, "--set", "BUGGY=true", "--set", "P=1", "--set", "V=2", "-q",
            "--trace-out", a["dot"], "--html", a["html"], "--itf", a["itf.json"],
            "--trace-json", tmp_path / "t.json", "--json", tmp_path / "result.json")
    assert r.code == 1
    doc = json.loads((tmp_path / "t.json").read_text())
    assert doc["schema"] == "mm-explorer/trace/1"
    assert doc["culprits"]["slots"] == ["pdirty[0]", "modified[0]", "pte[0][0].dirty", "pte[1][0].dirty"]
    b = {x: tmp_path / f"b.{x}" for x in a}
    r = cli("trace", tmp_path / "t.json", "-o", b["dot"], "--html", b["html"], "--itf", b["itf.json"])
    assert r.code == 0, r.err
    assert r.out == ""  # only files were asked for
    for x in a:
        assert a[x].read_text() == b[x].read_text(), x
    # the result of --json carries the culprits too, so it re-renders the same
    assert json.loads((tmp_path / "result.json").read_text())["culprits"] == doc["culprits"]
    r = cli("trace", tmp_path / "result.json", "-o", tmp_path / "c.dot")
    assert r.code == 0 and (tmp_path / "c.dot").read_text() == a["dot"].read_text()
    # a result saved without them marks what the invariant's text reads, and says so
    d = json.loads((tmp_path / "result.json").read_text())
    del d["culprits"]
    (tmp_path / "old.json").write_text(json.dumps(d))
    r = cli("trace", tmp_path / "old.json", "-o", tmp_path / "d.dot")
    assert r.code == 0 and "read by NoLostWrite" in (tmp_path / "d.dot").read_text()


def test_trace_command_refuses_what_it_cannot_draw(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = cli("trace", bad)
    assert r.code == 2 and "not valid JSON" in r.err and r.err.count("\n") == 1
    bad.write_text('{"a": 1}')
    r = cli("trace", bad)
    assert r.code == 2 and "not an mm-explorer result" in r.err
    ok = tmp_path / "ok.json"
    assert cli("check", BENCH, "--set", "P=1", "--set", "V=1", "-q", "--json", ok).code == 0
    r = cli("trace", ok)
    assert r.code == 2 and "no trace to show (verdict ok" in r.err
    r = cli("trace", tmp_path / "missing.json")
    assert r.code == 2 and "missing.json" in r.err


def test_trace_command_prints_text_with_changes_only(cli, tmp_path, data):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(trace_document(data)))
    r = cli("trace", path, "--no-color")
    assert r.code == 0
    step2 = r.out.split("2  Store(v=0, p=0)")[1].split("3  Zap")[0]
    assert step2.strip() == "modified[0]: FALSE -> TRUE <"  # a culprit: marked
    assert "because: pdirty[0] = FALSE, modified[0] = TRUE, pte[0][0].dirty = FALSE" in r.out
    assert "\033[" not in r.out
    assert "\033[" in cli("trace", path, "--color").out


def test_check_report_shows_only_the_changes_per_step(cli):
    r = cli("check", BENCH, "--set", "BUGGY=true", "--set", "P=1", "--set", "V=1", "--no-color")
    after_init = r.out.split("1  WriteFault(v=0, p=0)")[1].split("violated:")[0]
    assert "vwrite" not in after_init  # never changes, so never shown after the initial state
    assert "modified[0]: FALSE -> TRUE" in after_init
    assert "  because: pdirty[0] = FALSE, modified[0] = TRUE, pte[0][0].dirty = FALSE\n" in r.out


# --- error and deadlock traces -----------------------------------------------------------------------------
def test_runtime_error_and_deadlock_traces(spec, tmp_path):
    path = spec("""
        module: e
        variables:
          n: {type: int, min: 0, max: 2}
        actions:
          Inc:
            source: kernel/fork.c copy_process
            effect: n += 1
    """)
    r = explorer.check(explorer.load(path))
    assert r.verdict == "error"
    view = TraceView(r.data)
    assert view.steps[-1].flat is None
    src = diagram.trace_dot(view)
    assert "runtime error" in src and "s2 -> s3" in src
    mail = format_mail(r.data)
    assert "3. Inc -- kernel/fork.c copy_process" in mail and "fails: " in mail
    itf = to_itf(r.data)
    assert len(itf["states"]) == 3  # the failing step has no state
    assert [s["n"] for s in itf["states"]] == [{"#bigint": "0"}, {"#bigint": "1"}, {"#bigint": "2"}]

    path = spec("""
        module: d
        variables:
          n: {type: int, min: 0, max: 2}
        actions:
          Inc:
            guard: n < 2
            effect: n += 1
    """, "d.yaml")
    r = explorer.check(explorer.load(path), deadlock=True)
    assert r.verdict == "deadlock"
    src = diagram.trace_dot(TraceView(r.data))
    assert "deadlock" in src


# --- ITF ---------------------------------------------------------------------------------------------------
def check_itf_value(v):
    """Every value is a bool, a string, {"#bigint": digits}, {"#map": [[k, v]...]} or a record."""
    if isinstance(v, bool) or isinstance(v, str):
        return
    assert isinstance(v, dict), v
    if "#bigint" in v:
        assert set(v) == {"#bigint"} and re.fullmatch(r"-?\d+", v["#bigint"])
    elif "#map" in v:
        assert set(v) == {"#map"}
        for pair in v["#map"]:
            assert isinstance(pair, list) and len(pair) == 2
            check_itf_value(pair[0])
            check_itf_value(pair[1])
    else:
        assert not any(k.startswith("#") for k in v), v
        for x in v.values():
            check_itf_value(x)


def test_itf_shape(cli, tmp_path, spec):
    path = tmp_path / "t.itf.json"
    r = cli("check", BENCH, "--set", "BUGGY=true", "--set", "P=1", "--set", "V=1", "-q", "--itf", path)
    assert r.code == 1
    itf = json.loads(path.read_text())
    assert set(itf) == {"#meta", "vars", "states"}
    assert itf["#meta"]["format"] == "ITF"
    assert itf["vars"] == ["cached", "pdirty", "modified", "vwrite", "pte"]
    assert [s["#meta"]["index"] for s in itf["states"]] == [0, 1, 2, 3]
    assert [s["#meta"]["action"] for s in itf["states"]] == ["init", "WriteFault(v=0, p=0)", "Store(v=0, p=0)", "Zap(v=0, p=0)"]
    for s in itf["states"]:
        assert set(s) == {"#meta", *itf["vars"]}
        for v in itf["vars"]:
            check_itf_value(s[v])
    s1 = itf["states"][1]
    assert s1["cached"] == {"#map": [[{"#bigint": "0"}, True]]}
    assert s1["pte"] == {"#map": [[{"#bigint": "0"}, {"#map": [[{"#bigint": "0"},
                                                                   {"present": True, "write": True, "dirty": True}]]}]]}
    # symbols as strings, ints as #bigint, symbol-indexed arrays keyed by strings
    p = spec("""
        module: s
        sets: {KINDS: [anon, file]}
        types:
          State: [none, mapped]
        variables:
          st: {type: State, over: [KINDS]}
          n: {type: int, min: 0, max: 3}
        actions:
          Map:
            params: {k: KINDS}
            guard: st[k] == none
            effect: |
              st[k] = mapped
              n += 1
        invariants:
          Few: n < 2
    """)
    r = explorer.check(explorer.load(p))
    itf = to_itf(r.data)
    assert itf["states"][0]["st"] == {"#map": [["anon", "none"], ["file", "none"]]}
    assert itf["states"][-1]["n"] == {"#bigint": "2"}
    try:
        import itf_py
    except ImportError:
        return
    trace = itf_py.trace_from_json(itf)  # the reference reader accepts it
    assert trace.states[-1].values["n"] == 2


# --- mail ----------------------------------------------------------------------------------------------------
def test_mail_format(data, spec):
    text = format_mail(data)
    assert all(len(line) <= 80 for line in text.splitlines())
    paras = text.strip().split("\n\n")
    steps = [p for p in paras if re.match(r"\d+\. ", p)]
    assert [p.split("\n")[0] for p in steps] == [
        "0. Initially set: vwrite[0]; every other bit is clear.",
        "1. WriteFault(v=0, p=0)", "2. Store(v=0, p=0)", "3. Zap(v=0, p=0)"]
    assert "   sets cached[0], pte[0][0].{present,write,dirty}" in steps[1]
    assert steps[3].endswith("clears pte[0][0].{present,write,dirty}")
    assert "because pdirty[0] = false, modified[0] = true, pte[0][0].dirty = false." in text

    r = explorer.check(explorer.load(spec(LONG)))
    text = format_mail(r.data)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "  in mm/memory.c do_read_fault" in text  # too long for the step's line: its own line
    assert "1. ReadFault(v=0, p=0)\n" in text
    assert "writes: 0 -> 1" in text


def test_mail_from_the_command_line(cli, tmp_path, data):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    r = cli("trace", path, "--format", "mail")
    assert r.code == 0 and r.out == format_mail(data)


# --- the whole state graph ---------------------------------------------------------------------------------
def graph_source(problem_consts, project=None):
    from explorer.analysis.graph import shortest_path_to, state_graph
    from explorer.checker.engine import Options, explore
    from explorer.result import layout
    problem = explorer.load(BENCH, problem_consts)
    ex = explore(problem.model, Options(keep_graph=True, check_invariants=False))
    g = stategraph.annotate(state_graph(problem.model, ex), problem.model, ex)
    bad = [n for n in g.nodes if g.nodes[n]["breaks"]]
    path = shortest_path_to(g, min(bad)) if bad else []
    return g, path, stategraph.graph_dot(g, layout(problem.model), title="t", invariants=["NoLostWrite"],
                                         path=path, project=project)


def test_state_graph_marks_initial_bad_states_and_the_bold_path():
    g, path, (src, nodes, edges) = graph_source({"P": 1, "V": 1, "BUGGY": True})
    assert nodes == 14 == g.number_of_nodes()
    assert len(path) == 4
    bold = re.findall(r"(\w+) -> (\w+) \[[^\]]*penwidth=3\.5", src)
    assert len(bold) == 3  # the three steps of the counterexample
    assert re.search(r'n0 \[[^\]]*peripheries=2', src)  # the initial state
    assert "init -> n0" in src
    bad = re.findall(r'(n\d+) \[[^\]]*fillcolor="#fbb4ae"', src)
    assert len(bad) == 4 == sum(1 for n in g.nodes if g.nodes[n]["breaks"])
    pairs = re.findall(r"^\s*(n\d+) -> (n\d+)", src, re.M)
    assert len(pairs) == len(set(pairs)) == edges
    assert "WriteFault" in src and "WriteFault(" not in src  # action names, not instances


def test_parallel_edges_merge_into_one_labelled_with_every_action():
    import networkx as nx
    g = nx.MultiDiGraph()
    for n in range(3):
        g.add_node(n, state={"x": n % 2}, initial=n == 0, breaks=[])
    g.add_edge(0, 1, key=0, action="Zap", label="Zap(v=0)")
    g.add_edge(0, 1, key=1, action="Zap", label="Zap(v=1)")
    g.add_edge(0, 1, key=2, action="Evict", label="Evict(p=0)")
    g.add_edge(1, 2, key=3, action="Evict", label="Evict(p=0)")
    m = stategraph.merge(g)
    assert m.edges == {(0, 1): {"names": ["Zap", "Evict"], "count": 3}, (1, 2): {"names": ["Evict"], "count": 1}}
    assert stategraph.merge(g, params=True).edges[(0, 1)]["names"] == ["Zap(v=0)", "Zap(v=1)", "Evict(p=0)"]
    p = stategraph.merge(g, project=["x"])  # 0 and 2 agree on x: merged; 0 -> 1 and 1 -> 2 remain
    assert len(p.nodes) == 2 and p.nodes[json.dumps({"x": 0})]["members"] == 2
    assert sorted(e["count"] for e in p.edges.values()) == [1, 3]


def test_state_graph_projection_merges_states():
    g, path, (src, nodes, edges) = graph_source({"P": 1, "V": 1, "BUGGY": True}, project=["pte"])
    assert nodes == 4  # the PTE bit combinations reachable
    assert "pte 0,0: present write dirty" in src
    assert "6 states, 2 violating" in src
    assert not re.search(r"^\s*(n\d+) -> \1 ", src, re.M)  # steps inside a merged node are not drawn


@needs_dot
def test_graph_command(cli, tmp_path):
    out = tmp_path / "g.svg"
    r = cli("graph", BENCH, "--set", "P=1", "--set", "V=1", "-o", out)
    assert r.code == 0, r.err
    assert "22 nodes" in r.out and "every state satisfies every invariant" in r.out
    svg = ET.parse(out).getroot()
    ids = [g.get("id") for g in svg.iter(SVG + "g") if g.get("class") == "node"]
    assert len([i for i in ids if re.fullmatch(r"n\d+", i or "")]) == 22
    r = cli("graph", BENCH, "--set", "P=1", "--set", "V=1", "--set", "BUGGY=true", "-o", out, "--project", "pte")
    assert r.code == 0 and "4 nodes" in r.out and "bold: the 3-step path" in r.out
    dot = tmp_path / "g.dot"
    r = cli("graph", BENCH, "--set", "P=1", "--set", "V=1", "-o", dot, "--params")
    assert r.code == 0 and " WriteFault(v=0, p=0) " in dot.read_text()


def test_graph_limits_and_bad_projection(cli, tmp_path):
    r = cli("graph", BENCH, "--set", "P=1", "--set", "V=1", "-o", tmp_path / "g.dot", "--max-nodes", "5")
    assert r.code == 2
    assert "more than 5 states" in r.err and "--max-nodes N" in r.err
    assert not (tmp_path / "g.dot").exists()
    r = cli("graph", BENCH, "--set", "P=1", "--set", "V=1", "-o", tmp_path / "g.dot", "--max-nodes", "5", "--project", "pte")
    assert r.code == 0  # four PTE combinations fit
    r = cli("graph", BENCH, "-o", tmp_path / "g.dot", "--project", "ptes")
    assert r.code == 2 and "did you mean 'pte'" in r.err
    r = cli("graph", BENCH, "-o", tmp_path / "g.dot", "--max-nodes", "0")
    assert r.code == 2


def test_big_graphs_get_layouts_graphviz_finishes():
    assert stategraph.layout_attrs(20, 70) == {}
    assert stategraph.layout_attrs(132, 772)["splines"] == "line"
    assert stategraph.layout_attrs(1436, 12812)["layout"] == "sfdp"


def test_damaged_trace_files_give_one_line_errors(cli, tmp_path, data):
    from hypothesis import HealthCheck, given, settings, strategies as st

    junk = st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.text(max_size=3),
                     st.lists(st.integers(0, 1), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(0, 1), max_size=2))

    def paths(x, prefix=()):
        yield prefix
        if isinstance(x, dict):
            for k, v in x.items():
                yield from paths(v, prefix + (k,))
        elif isinstance(x, list):
            for i, v in enumerate(x):
                yield from paths(v, prefix + (i,))

    doc = trace_document(data)
    all_paths = [p for p in paths(doc) if p]

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(all_paths), junk, st.booleans())
    def damaged(path, value, delete):
        d = json.loads(json.dumps(doc))
        parent = d
        for k in path[:-1]:
            parent = parent[k]
        if delete and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        f = tmp_path / "d.json"
        f.write_text(json.dumps(d))
        for extra in ((), ("--format", "mail"), ("-o", str(tmp_path / "d.dot"), "--itf", str(tmp_path / "d.itf"))):
            r = cli("trace", f, *extra)
            assert r.code in (0, 2), r.err
            assert "Traceback" not in r.err
            if r.code == 2:
                assert r.err.count("\n") == 1 and str(f) in r.err

    try:
        damaged()
    except Exception as e:  # show the failing case plainly
        raise AssertionError(f"{type(e).__name__}: {e}") from e


def test_itf_index_keys_follow_the_sets_not_the_text(tmp_path, cli):
    # LEVELS holds the symbols '4' and '5' (quoted in YAML): they look like integers but are not.
    spec = tmp_path / "s.yaml"
    spec.write_text("sets: {LEVELS: ['4', '5'], P: range(2)}\n"
                    "variables: {seen: {type: bool, over: [LEVELS, P]}}\n"
                    "actions:\n  See: {params: {q: LEVELS}, effect: 'seen[q][1] = True'}\n"
                    "invariants:\n  I: not seen['5'][1]\n")
    out = tmp_path / "t.itf.json"
    assert cli("check", spec, "--itf", out, "-q").code == 1
    seen = json.loads(out.read_text())["states"][1]["seen"]["#map"]
    assert [k for k, _ in seen] == ["4", "5"]
    assert seen[1][1]["#map"][1] == [{"#bigint": "1"}, True]
