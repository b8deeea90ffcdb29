"""The HTML trace viewer in a real browser: Debian's chromium, headless, without network.

The page reads `#step=N` from its address and shows that state; `#...&keys=j,k` replays key
presses through its own keyboard handler. `--dump-dom` prints the page after its scripts ran.
The screenshot is kept as an artifact in the test's temporary folder (its path is printed).
"""

import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

BENCH = os.path.join(ROOT, "bench", "dirtybits.yaml")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
         "--disable-extensions", "--mute-audio", "--enable-logging=stderr", "--v=0"]


def chromium(tmp_path, url, *args):
    profile = tmp_path / f"profile{len(list(tmp_path.glob('profile*')))}"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr[-2000:]
    console = [line for line in p.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console  # the page logs nothing, so any console line is an error
    return p.stdout


def cell(dom, key):
    m = re.search(r'<td class="([^"]*)" data-key="' + re.escape(key) + r'">([^<]*)</td>', dom)
    assert m, key
    return m.group(1), m.group(2)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from explorer.cli.main import main
    d = tmp_path_factory.mktemp("viewer")
    html = d / "trace.html"
    code = main(["check", BENCH, "--set", "BUGGY=true", "--set", "P=1", "--set", "V=2", "-q", "--html", str(html)])
    assert code == 1
    return html


def test_viewer_shows_the_step_in_the_address(page, tmp_path):
    url = page.as_uri()
    dom = chromium(tmp_path, url + "#step=2", "--dump-dom")
    root = re.search(r"<html[^>]*>", dom).group(0)
    assert 'data-ready="1"' in root and "data-errors" not in root  # scripts ran to the end, no error
    assert re.search(r'<body data-step="2"', dom)
    assert "Step 2 of 3: Store(v=0, p=0)" in dom
    assert cell(dom, "modified[0]") == ("v changed", "F\u2192T")
    assert cell(dom, "cached[0]") == ("v", "T")
    assert re.search(r'<li data-step="2" id="step-2" class="[^"]*current', dom)
    if shutil.which("dot"):
        assert re.search(r'<g id="s2" class="node current">', dom)  # the inline SVG follows the step
    dom = chromium(tmp_path, url + "#step=1", "--dump-dom")
    assert re.search(r'<body data-step="1"', dom)
    assert cell(dom, "modified[0]") == ("v f", "F")
    assert cell(dom, "cached[0]") == ("v changed", "F\u2192T")
    dom = chromium(tmp_path, url + "#step=3", "--dump-dom")
    assert cell(dom, "pdirty[0]") == ("v mark", "F")
    assert cell(dom, "pte[0][0].dirty") == ("v changed mark", "T\u2192F")
    assert "NoLostWrite is violated in this state" in dom


def test_keyboard_navigation(page, tmp_path):
    url = page.as_uri()
    dom = chromium(tmp_path, url + "#step=0&keys=j,j,ArrowRight,k", "--dump-dom")
    assert re.search(r'<body data-step="2"', dom)
    assert cell(dom, "modified[0]") == ("v changed", "F\u2192T")
    dom = chromium(tmp_path, url + "#step=1&keys=End", "--dump-dom")
    assert re.search(r'<body data-step="3"', dom)
    dom = chromium(tmp_path, url + "#step=3&keys=ArrowLeft,ArrowLeft,ArrowLeft,ArrowLeft,ArrowLeft", "--dump-dom")
    assert re.search(r'<body data-step="0"', dom)  # stops at the first step


def test_screenshot(page, tmp_path):
    shot = tmp_path / "trace-viewer-step3.png"
    chromium(tmp_path, page.as_uri() + "#step=3", "--hide-scrollbars", "--window-size=1400,1000",
             f"--screenshot={shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000
    print(f"screenshot: {shot}")


def test_page_is_self_contained(page):
    text = page.read_text()
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)
    assert "http://" not in text.replace("http://www.w3.org/", "")
    assert "trace-data" in text
    assert ("<svg" in text) == bool(shutil.which("dot"))


def test_trace_ending_in_a_runtime_error(spec, tmp_path):
    from explorer.cli.main import main
    path = spec("""
        module: e
        variables:
          n: {type: int, min: 0, max: 1}
        actions:
          Inc:
            source: kernel/fork.c copy_process
            effect: n += 1
    """)
    html = tmp_path / "e.html"
    assert main(["check", path, "-q", "--html", str(html)]) == 2
    dom = chromium(tmp_path, html.as_uri() + "#step=2", "--dump-dom")
    assert re.search(r'<body data-step="2"', dom)
    assert "runtime error: " in dom
    assert cell(dom, "n") == ("v", "1")  # the state before the failing step


@pytest.fixture(scope="module")
def f2_page(tmp_path_factory):
    """The F2 counterexample (gup_shmem_minor on v5.16), whose spec declares actors and labels."""
    from explorer.cli.main import main
    d = tmp_path_factory.mktemp("f2")
    html = d / "f2.html"
    code = main(["check", os.path.join(ROOT, "configs", "gup_shmem_minor.yaml"), "--set", "KERNEL=v5.16",
                 "-q", "--html", str(html), "--json", str(d / "r.json")])
    assert code == 1
    return html


def test_viewer_draws_the_race_in_lanes(f2_page, tmp_path):
    import fnmatch
    import json
    import yaml
    actors = yaml.safe_load(open(os.path.join(ROOT, "spec", "mm.yaml")))["actors"]
    trace = json.loads((f2_page.parent / "r.json").read_text())["trace"]

    def actor(action):
        return next(a for a, pats in actors.items() if any(fnmatch.fnmatchcase(action, p) for p in pats))
    used = [a for a in actors if any(actor(s["action"]) == a for s in trace[1:])]
    dom = chromium(tmp_path, f2_page.as_uri() + "#step=3", "--dump-dom")
    table = re.search(r'<table id="lanes">(.*?)</table>', dom, re.S).group(1)
    assert re.findall(r'<th scope="col">([^<]*)</th>', table) == used
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
    assert len(rows) == len(trace) - 1
    for n, (row, step) in enumerate(zip(rows, trace[1:]), 1):
        cells = re.findall(r"<td([^>]*)>([^<]*)</td>", row)
        filled = [i for i, (_, text) in enumerate(cells) if text]
        assert filled == [used.index(actor(step["action"]))], (n, row)
        attrs, text = cells[filled[0]]
        assert text.startswith(f"{n}. {step['action']}(") and f'data-step="{n}"' in attrs
        assert ("current" in attrs) == (n == 3)  # the step in the address is lit
    assert "vma0: private, R, memfd, uffd:minor" in dom  # the world, named by role
    dom = chromium(tmp_path, f2_page.as_uri() + "#step=7", "--dump-dom")
    assert "S1 - no page-cache page is modified through a private mapping" in dom
    assert 'class="lane-step current" data-step="7"' in dom
