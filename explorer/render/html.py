"""A self-contained HTML trace viewer: one file, no network.

The page holds the trace as JSON in a <script> element and the diagram as inline SVG. It shows
the step list, the state as tables (the groups of the diagram) with the step's changes
highlighted, the violated invariant, the config and constants, and moves between steps with the
arrow keys, j / k, Home / End, or a click on a step or on a state of the diagram.

The step shown is in the address: `trace.html#step=3` opens at state 3 and moving updates it.
`#step=0&keys=j,j` replays key presses after loading, which is how scripted checks drive the
keyboard navigation without a debugging protocol.
"""

from __future__ import annotations

import html
import json

from .lanes import has_lanes, lane_of, lanes, short_title
from .view import TraceView, show


def view_model(view: TraceView) -> dict:
    d = view.data
    steps = []
    for st in view.steps:
        steps.append({
            "n": st.n,
            "label": st.label,
            "action": st.action,
            "params": st.params,
            "source": st.source,
            "values": None if st.flat is None else {k: show(v) for k, v in st.flat.items()},
            "changed": {k: [show(a), show(b)] for k, (a, b) in st.changed.items()},
            "error": st.raw.get("error"),
        })
    last = view.last_state_step
    return {
        "title": view.title(),
        "verdict": view.verdict,
        "message": d.get("message"),
        "invariant": view.invariant,
        "invariant_expr": view.invariant_expr,
        "invariant_doc": view.invariant_doc,
        "world": view.world,
        "module": d.get("module"),
        "spec": d.get("spec"),
        "config": d.get("config"),
        "version": d.get("version"),
        "constants": d.get("constants") or {},
        "groups": [g.to_json() for g in view.groups],
        "steps": steps,
        "marked": sorted(view.marked),
        "marked_step": last.n,
        "mark_kind": view.mark_kind,
        "mark_legend": view.mark_legend(),
    }


def _script_json(obj) -> str:
    return json.dumps(obj, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def lanes_html(view: TraceView) -> str:
    """The race as a table: a column per actor, a row per step, the step in its actor's column."""
    if not has_lanes(view):
        return ""
    names = lanes(view)
    head = "".join(f'<th scope="col">{html.escape(n)}</th>' for n in names)
    rows = []
    for st in view.steps[1:]:
        k = names.index(lane_of(st))
        tip = html.escape(st.label + (f" [{st.source}]" if st.source else ""), quote=True)
        cells = "".join(
            f'<td class="lane-step" data-step="{st.n}" data-lane="{html.escape(n, quote=True)}" title="{tip}">'
            f'{st.n}. {html.escape(short_title(st))}</td>' if j == k else "<td></td>"
            for j, n in enumerate(names))
        rows.append(f"<tr>{cells}</tr>")
    return (f'<section id="lanes-box"><h3>The steps, one column per actor</h3>'
            f'<table id="lanes"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></section>')


def html_page(view: TraceView, svg: str | None, svg_note: str = "") -> str:
    vm = view_model(view)
    title = html.escape(vm["title"])
    if svg:
        diagram = f'<div id="diagram" class="diagram">{svg}</div>'
    else:
        diagram = f'<p id="diagram" class="muted">{html.escape(svg_note or "no diagram")}</p>'
    world = "".join(f"<div>{html.escape(w)}</div>" for w in view.world)
    return (PAGE.replace("@@TITLE@@", title)
                .replace("@@WORLD@@", world)
                .replace("@@LANES@@", lanes_html(view))
                .replace("@@CSS@@", CSS)
                .replace("@@DIAGRAM@@", diagram)
                .replace("@@DATA@@", _script_json(vm))
                .replace("@@JS@@", JS))


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@@TITLE@@</title>
<style>@@CSS@@</style>
</head>
<body data-step="">
<header>
  <h1 id="title">@@TITLE@@</h1>
  <div id="verdict"></div>
  <div id="where" class="muted"></div>
  <div id="world">@@WORLD@@</div>
  <details id="consts-box"><summary>constants</summary><table id="constants"></table></details>
</header>
<div id="layout">
  <nav id="steps-nav" aria-label="steps">
    <div class="muted small">keys: &#8592; &#8594; or j k, Home End</div>
    <ol id="steps" start="0"></ol>
  </nav>
  <main>
    <div id="step-head">
      <button id="prev" title="previous step (k, left arrow)">&#9664;</button>
      <button id="next" title="next step (j, right arrow)">&#9654;</button>
      <h2 id="step-title"></h2>
    </div>
    <div id="step-source" class="muted"></div>
    <section id="changes-box"><h3>Changes in this step</h3><ul id="changes"></ul></section>
    <section id="invariant-box"></section>
    @@LANES@@
    <section><h3>State <span id="state-n"></span>
      <label class="small muted"><input type="checkbox" id="only-changed"> only changed rows</label></h3>
      <div id="state"></div></section>
    <section><h3>Diagram <label class="small muted"><input type="checkbox" id="actual-size"> actual size</label></h3>
      @@DIAGRAM@@</section>
  </main>
</div>
<script type="application/json" id="trace-data">@@DATA@@</script>
<script>@@JS@@</script>
</body>
</html>
"""

CSS = """
:root { --changed: #ffe680; --mark: #ffb3b3; --markb: #c00000; --line: #d0d0d0; --muted: #666; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 14px; margin: 0; color: #111; }
header { padding: 10px 16px; border-bottom: 1px solid var(--line); background: #fafafa; }
h1 { font-size: 18px; margin: 0 0 4px 0; }
h2 { font-size: 16px; margin: 0; display: inline; }
h3 { font-size: 14px; margin: 14px 0 6px 0; }
.muted { color: var(--muted); }
.small { font-size: 12px; font-weight: normal; }
#verdict .bad { color: var(--markb); font-weight: bold; }
#verdict .good { color: #070; font-weight: bold; }
#layout { display: flex; align-items: flex-start; }
nav { width: 290px; min-width: 220px; padding: 8px; border-right: 1px solid var(--line); position: sticky; top: 0;
      max-height: 100vh; overflow-y: auto; }
nav ol { padding-left: 0; list-style: none; margin: 6px 0; }
nav li { padding: 4px 6px; cursor: pointer; border-radius: 3px; margin-bottom: 2px; }
nav li .src { display: block; font-size: 11px; color: var(--muted); }
nav li:hover { background: #eef; }
nav li.current { background: #dde6ff; outline: 1px solid #99a; }
nav li.bad { border-left: 4px solid var(--markb); }
main { padding: 8px 16px; flex: 1; min-width: 0; }
#step-head button { font-size: 13px; margin-right: 4px; }
code, .mono, td.v { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; }
table.state { border-collapse: collapse; margin: 0 12px 12px 0; display: inline-table; vertical-align: top; }
table.state caption { text-align: left; font-size: 12px; color: #444; padding-bottom: 2px; }
table.state th, table.state td { border: 1px solid var(--line); padding: 2px 6px; text-align: center; }
table.state th { background: #eee; font-weight: normal; font-size: 12px; }
td.v.f { color: #999; }
td.v.changed { background: var(--changed); font-weight: bold; }
td.v.mark { background: var(--mark); outline: 2px solid var(--markb); outline-offset: -2px; font-weight: bold; }
tr.folded { display: none; }
#changes li { font-family: "DejaVu Sans Mono", monospace; }
#invariant-box { border: 1px solid var(--markb); background: #fff4f4; padding: 6px 10px; display: none; }
#invariant-box.show { display: block; }
#invariant-box code { white-space: pre-wrap; }
#world { font-size: 0.95em; margin: 2px 0; }
#lanes { border-collapse: collapse; margin: 4px 0 8px; }
#lanes th { background: #dfe8f6; border: 1px solid #5b7db1; padding: 2px 10px; }
#lanes td { border-left: 1px solid #5b7db1; border-right: 1px solid #5b7db1; padding: 1px 10px;
            font-family: "DejaVu Sans Mono", monospace; font-size: 0.9em; white-space: nowrap; }
#lanes td.lane-step { cursor: pointer; }
#lanes td.lane-step.current { background: #ffe680; font-weight: bold; }
.diagram { overflow: auto; border: 1px solid var(--line); max-height: 80vh; }
.diagram svg { max-width: 100%; height: auto; }
.diagram g.node { cursor: pointer; }
.diagram g.node.current { filter: drop-shadow(0 0 4px #2050ff) drop-shadow(0 0 2px #2050ff); }
.diagram.actual svg { max-width: none; }
#constants td { padding: 1px 8px; font-family: "DejaVu Sans Mono", monospace; }
"""

JS = r"""
(function () {
  "use strict";
  var errors = 0;
  window.addEventListener("error", function () {
    errors += 1;
    document.documentElement.setAttribute("data-errors", String(errors));
  });
  var D = JSON.parse(document.getElementById("trace-data").textContent);
  var N = D.steps.length;
  var cur = -1;
  var marked = {};
  D.marked.forEach(function (k) { marked[k] = true; });

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) { Object.keys(attrs).forEach(function (a) { e.setAttribute(a, attrs[a]); }); }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function header() {
    var v = document.getElementById("verdict");
    var bad = D.verdict !== "ok";
    v.appendChild(el("span", {"class": bad ? "bad" : "good"}, (D.verdict || "").toUpperCase()));
    v.appendChild(document.createTextNode(": " + (D.message || "")));
    var w = [];
    if (D.config) { w.push("config " + D.config); }
    if (D.spec && D.spec !== D.config) { w.push("spec " + D.spec); }
    if (D.module) { w.push("module " + D.module); }
    Object.keys(D.constants).forEach(function (k) {
      if (/KERNEL/.test(k) && typeof D.constants[k] === "string") { w.push("kernel " + D.constants[k]); }
    });
    if (D.version) { w.push("mm-explorer " + D.version); }
    document.getElementById("where").textContent = w.join(" \u00b7 ");
    var t = document.getElementById("constants");
    var keys = Object.keys(D.constants);
    keys.forEach(function (k) {
      var tr = el("tr");
      tr.appendChild(el("td", null, k));
      var text = JSON.stringify(D.constants[k]);
      var td = el("td");
      if (text.length > 80) {
        var det = el("details");
        det.appendChild(el("summary", null, text.slice(0, 60) + "\u2026"));
        det.appendChild(el("div", null, text));
        td.appendChild(det);
      } else {
        td.textContent = text;
      }
      tr.appendChild(td);
      t.appendChild(tr);
    });
    if (keys.length && keys.length <= 12) { document.getElementById("consts-box").open = true; }
  }

  function stepList() {
    var ol = document.getElementById("steps");
    D.steps.forEach(function (s) {
      var li = el("li", {"data-step": String(s.n), "id": "step-" + s.n});
      li.appendChild(el("b", null, s.n + " "));
      li.appendChild(document.createTextNode(s.label));
      if (s.source) { li.appendChild(el("span", {"class": "src"}, s.source)); }
      if (s.n === D.marked_step && D.verdict !== "ok") { li.classList.add("bad"); }
      if (s.error) { li.classList.add("bad"); }
      li.addEventListener("click", function () { go(s.n); });
      ol.appendChild(li);
    });
  }

  function tables() {
    var box = document.getElementById("state");
    D.groups.forEach(function (g) {
      var t = el("table", {"class": "state", "data-group": g.key});
      t.appendChild(el("caption", null, g.title + (g.ghost && !/ghost/i.test(g.title) ? " (ghost)" : "")));
      var hr = el("tr");
      if (g.over.length) { hr.appendChild(el("th", null, g.over.join(","))); }
      g.columns.forEach(function (c) { hr.appendChild(el("th", null, c)); });
      t.appendChild(hr);
      g.rows.forEach(function (r) {
        var tr = el("tr");
        if (g.over.length) { tr.appendChild(el("th", null, r.label)); }
        r.cells.forEach(function (k) {
          var td = el("td", k ? {"class": "v", "data-key": k} : {"class": "empty"});
          tr.appendChild(td);
        });
        t.appendChild(tr);
      });
      box.appendChild(t);
    });
  }

  function showInvariant(n) {
    var box = document.getElementById("invariant-box");
    box.textContent = "";
    var last = n === D.marked_step;
    if (D.verdict === "violation" && last) {
      box.appendChild(el("b", null, D.invariant + " is violated in this state"));
      if (D.invariant_doc) { box.appendChild(el("div", {"class": "doc"}, D.invariant_doc)); }
      if (D.invariant_expr) { box.appendChild(el("div")).appendChild(el("code", null, D.invariant_expr)); }
      if (D.marked.length) {
        var vals = D.steps[n].values;
        var what = D.mark_kind === "culprit" ? "because: " : "it reads: ";
        box.appendChild(el("div", {"class": "mono small"}, what + D.marked.map(function (k) {
          return k + " = " + vals[k];
        }).join(", ")));
        box.appendChild(el("div", {"class": "small muted"}, "marked cells: " + D.mark_legend));
      }
      box.className = "show";
    } else if (D.verdict === "deadlock" && last) {
      box.appendChild(el("b", null, "deadlock: no action is enabled in this state"));
      box.className = "show";
    } else if (D.steps[n].error) {
      box.appendChild(el("b", null, "runtime error: " + D.steps[n].error));
      box.className = "show";
    } else {
      box.className = "";
    }
  }

  function go(n) {
    if (!(n >= 0)) { n = 0; }
    if (n > N - 1) { n = N - 1; }
    cur = n;
    var s = D.steps[n];
    document.body.setAttribute("data-step", String(n));
    var what = n === 0 ? "Initial state" : "Step " + n + " of " + (N - 1) + ": " + s.label;
    document.getElementById("step-title").textContent = what;
    document.getElementById("step-source").textContent = s.source ? "source: " + s.source : "";
    var vs = s.values;
    if (vs === null) { vs = D.steps[n - 1].values; }
    document.getElementById("state-n").textContent = String(s.values === null ? n - 1 : n);
    var ch = document.getElementById("changes");
    ch.textContent = "";
    var keys = Object.keys(s.changed);
    if (n === 0) {
      ch.appendChild(el("li", {"class": "muted"}, "(the initial state)"));
    } else if (s.error) {
      ch.appendChild(el("li", {"class": "muted"}, "(the step fails: " + s.error + ")"));
    } else if (!keys.length) {
      ch.appendChild(el("li", {"class": "muted"}, "(no variable changed)"));
    }
    keys.forEach(function (k) {
      ch.appendChild(el("li", {"data-key": k}, k + ": " + s.changed[k][0] + " \u2192 " + s.changed[k][1]));
    });
    var only = document.getElementById("only-changed").checked;
    var cells = document.querySelectorAll("#state td.v");
    for (var i = 0; i < cells.length; i++) {
      var td = cells[i], k = td.getAttribute("data-key");
      var c = s.changed[k];
      td.textContent = c ? c[0] + "\u2192" + c[1] : vs[k];
      var isMark = marked[k] && n === D.marked_step;
      td.className = "v" + (vs[k] === "F" && !c && !isMark ? " f" : "") + (c ? " changed" : "") +
                     (isMark ? " mark" : "");
    }
    var rows = document.querySelectorAll("#state tr");
    for (var r = 0; r < rows.length; r++) {
      var tr = rows[r];
      if (!tr.querySelector("td.v")) { continue; }
      var hot = tr.querySelector("td.changed, td.mark");
      tr.className = only && n > 0 && !hot ? "folded" : "";
    }
    showInvariant(n);
    var lis = document.querySelectorAll("#steps li");
    for (var j = 0; j < lis.length; j++) {
      lis[j].classList.toggle("current", Number(lis[j].getAttribute("data-step")) === n);
    }
    var lane = document.querySelectorAll("#lanes td.lane-step");
    for (var u = 0; u < lane.length; u++) {
      lane[u].classList.toggle("current", Number(lane[u].getAttribute("data-step")) === n);
    }
    var li = document.getElementById("step-" + n);
    if (li && li.scrollIntoView) { li.scrollIntoView({block: "nearest"}); }
    var nodes = document.querySelectorAll(".diagram g.node");
    for (var q = 0; q < nodes.length; q++) {
      nodes[q].classList.toggle("current", nodes[q].id === "s" + n);
    }
    var box = document.querySelector(".diagram");
    var node = document.getElementById("s" + n);
    if (box && node && node.getBoundingClientRect) {  // scroll the diagram (not the page) to the state
      var b = box.getBoundingClientRect(), r = node.getBoundingClientRect();
      if (r.top < b.top || r.bottom > b.bottom) { box.scrollTop += r.top - b.top - 70; }
      if (r.left < b.left || r.right > b.right) { box.scrollLeft += r.left - b.left - 10; }
    }
    var h = "#step=" + n;
    if (location.hash !== h && history.replaceState) { history.replaceState(null, "", h); }
  }

  function onKey(e) {
    if (e.target && (e.target.tagName === "INPUT" || e.target.tagName === "TEXTAREA")) { return; }
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var k = e.key;
    if (k === "ArrowRight" || k === "ArrowDown" || k === "j" || k === "n") { go(cur + 1); }
    else if (k === "ArrowLeft" || k === "ArrowUp" || k === "k" || k === "p") { go(cur - 1); }
    else if (k === "Home" || k === "g") { go(0); }
    else if (k === "End" || k === "G") { go(N - 1); }
    else { return; }
    e.preventDefault();
  }

  function fromHash() {
    var m = /step=(\d+)/.exec(location.hash);
    return m ? Number(m[1]) : null;
  }

  header();
  stepList();
  tables();
  document.addEventListener("keydown", onKey);
  document.getElementById("prev").addEventListener("click", function () { go(cur - 1); });
  document.getElementById("next").addEventListener("click", function () { go(cur + 1); });
  document.getElementById("only-changed").addEventListener("change", function () { go(cur); });
  Array.prototype.forEach.call(document.querySelectorAll("#lanes td.lane-step"), function (td) {
    td.addEventListener("click", function () { go(Number(td.getAttribute("data-step"))); });
  });
  var diagram = document.getElementById("diagram");
  document.getElementById("actual-size").addEventListener("change", function (e) {
    diagram.classList.toggle("actual", e.target.checked);
  });
  var nodes = document.querySelectorAll(".diagram g.node");
  for (var q = 0; q < nodes.length; q++) {
    (function (g) {
      var m = /^s(\d+)$/.exec(g.id || "");
      if (m) { g.addEventListener("click", function () { go(Number(m[1])); }); }
    })(nodes[q]);
  }
  window.addEventListener("hashchange", function () {
    var n = fromHash();
    if (n !== null && n !== cur) { go(n); }
  });
  var start = fromHash();
  var keys = /keys=([^&]*)/.exec(location.hash);
  go(start === null ? 0 : start);
  if (keys) {
    decodeURIComponent(keys[1]).split(",").forEach(function (k) {
      if (k) { document.dispatchEvent(new KeyboardEvent("keydown", {key: k, bubbles: true, cancelable: true})); }
    });
  }
  document.documentElement.setAttribute("data-ready", "1");
})();
"""
