"""The compiled backend's machinery: translation of the known subset only, fallback, the cache,
limits, and the packed store read back state by state."""

import os

import pytest

import explorer
from explorer.checker import engine, fast
from explorer.checker.fast import build
from explorer.checker.fast.translate import Layout, Translator, Unsupported

from conftest import ROOT

pytestmark = pytest.mark.skipif(not fast.available(), reason="no C compiler")

DIRTYBITS = os.path.join(ROOT, "bench", "dirtybits.yaml")


def model(P=2, V=2, **kw):
    return explorer.load(DIRTYBITS, {"P": P, "V": V, **kw}).model


def test_store_holds_the_reference_states_in_the_reference_order():
    m = model(2, 2)
    ref = engine.explore(m, engine.Options())
    got = fast.explore(m, engine.Options(), "c")
    assert got.backend == "c"
    assert len(got.states) == len(ref.states)
    assert list(got.states) == list(ref.states)
    assert list(got.parent) == list(ref.parent)
    assert list(got.via) == list(ref.via)
    assert list(got.depth_of) == list(ref.depth_of)
    assert got.path(len(ref.states) - 1) == ref.path(len(ref.states) - 1)
    assert [type(v) for v in got.states[5]] == [type(v) for v in ref.states[5]]
    assert got.states[:7] == ref.states[:7] and got.states[-2] == ref.states[-2]


TAMPERED = [
    "import os",
    "open('x')",
    "s.append(1)",
    "state.__class__",
    "_l0 = eval('1')",
    "_l0 = [x for x in state]",
    "_l0 = state[0] ** 2",
    "_l0 = state[0] / 2",
    "_l0 = 1 < state[0] < 3",
    "_l0 = lambda: 1",
    "_l0 = _K99",
    "_l0 = 'text'",
    "_l0 = 10 ** 30",
    "while True: pass",
    "global x",
    "s[0:3] = (1, 2)",
]


@pytest.mark.parametrize("line", TAMPERED)
def test_translator_accepts_only_the_generated_subset(line):
    m = model(1, 1)
    src = m.source_code.replace("    out = []\n    _app = out.append\n    # ", f"    out = []\n    _app = out.append\n    {line}\n    # ", 1)
    assert src != m.source_code
    m.source_code = src
    with pytest.raises(Unsupported):
        Translator(m, Layout(m)).translate("", "", "")


def test_unsupported_construct_falls_back_with_a_notice(capsys):
    p = explorer.load(DIRTYBITS, {"P": 2, "V": 2})
    p.model.source_code = p.model.source_code.replace("_app((0, tuple(s)))", "_app((0, tuple(s))); open('x')", 1)
    r = explorer.check(p, backend="c")
    err = capsys.readouterr().err
    assert "compiled backend not used" in err and err.count("\n") == 1
    assert r.verdict == "ok" and r.stats["distinct_states"] == 4356
    assert r.exploration.backend == "python"


def test_no_compiler_falls_back(monkeypatch, capsys):
    monkeypatch.setitem(build._cc, "cc", None)
    r = explorer.check(explorer.load(DIRTYBITS, {"P": 1, "V": 2}), backend="auto")
    assert "no C compiler" in capsys.readouterr().err
    assert r.stats["distinct_states"] == 132


def test_graph_falls_back(capsys):
    r = explorer.check(explorer.load(DIRTYBITS, {"P": 1, "V": 1}), backend="c", keep_graph=True)
    assert "reference backend" in capsys.readouterr().err
    assert r.exploration.edges


def test_unknown_backend_is_bad_input_with_the_choices(cli, capsys):
    with pytest.raises(explorer.SpecError) as e:
        explorer.check(explorer.load(DIRTYBITS, {"P": 1, "V": 1}), backend="numba")
    assert "auto, c, python" in str(e.value)
    r = cli("check", DIRTYBITS, "--backend", "rust")
    err = r.err + capsys.readouterr().err
    assert r.code == 2 and "Traceback" not in err
    assert "'auto', 'c', 'python'" in err and "rust" in err


def test_library_is_cached_by_the_hash_of_its_source(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(build, "_loaded", {})
    m = model(1, 2)
    lib = build.load(m)
    sos = list((tmp_path / "mm-explorer").glob("*.so"))
    assert len(sos) == 1 and lib.key in sos[0].name
    mtime = sos[0].stat().st_mtime_ns
    monkeypatch.setattr(build, "_loaded", {})

    real_run = build.subprocess.run

    def no_compiler(*a, **k):
        raise AssertionError("compiled again")
    monkeypatch.setattr(build.subprocess, "run", no_compiler)
    lib2 = build.load(model(1, 2))
    assert lib2.key == lib.key and sos[0].stat().st_mtime_ns == mtime
    # another size is another library
    monkeypatch.setattr(build.subprocess, "run", real_run)
    assert build.load(model(2, 1)).key != lib.key


def test_generated_c_mentions_no_spec_text():
    p = explorer.load(DIRTYBITS, {"P": 1, "V": 1})
    src = build.generate(p.model)
    for word in ("WriteFault", "NoLostWrite", "dirty", "mm/"):
        assert word not in src


def test_timeout_and_progress():
    seen = []
    r = explorer.check(explorer.load(DIRTYBITS, {"P": 3, "V": 3}), backend="c", timeout=1.5, progress=seen.append)
    assert r.verdict == "incomplete" and "timeout" in r.data["stopped_by"]
    assert seen and seen[-1]["states"] <= r.stats["distinct_states"]
    assert r.stats["queue_left"] > 0


def test_memory_limit_stops_cleanly():
    r = explorer.check(explorer.load(DIRTYBITS, {"P": 3, "V": 3}), backend="c", max_memory=1)
    assert r.verdict == "incomplete" and "memory limit" in r.data["stopped_by"]


def test_error_is_reported_with_the_reference_message(spec):
    path = spec("""
        module: e
        variables:
          n: {type: int, min: 0, max: 2}
        actions:
          Inc:
            effect: |
              n = n + 1
    """)
    ref = explorer.check(explorer.load(path), backend="python")
    got = explorer.check(explorer.load(path), backend="c")
    assert got.exploration.backend == "c"
    assert got.verdict == ref.verdict == "error"
    assert got.message == ref.message and got.trace == ref.trace


def test_cache_keeps_the_newest_libraries(tmp_path):
    for i in range(5):
        for ext in (".so", ".c"):
            (tmp_path / f"model-{i}{ext}").write_text("")
        os.utime(tmp_path / f"model-{i}.so", (i, i))
    build._prune(str(tmp_path), keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-3.c", "model-3.so", "model-4.c", "model-4.so"]


def test_a_violation_from_c_is_replayed_by_the_reference_before_it_is_reported(monkeypatch):
    from explorer.checker.fast import driver as fast_run
    from explorer.checker.fast.store import FastExploration
    m = model(2, 2, BUGGY=True)
    calls = []
    real = fast_run.replay
    monkeypatch.setattr(fast_run, "replay", lambda *a: (calls.append(a[2:]), real(*a)))
    ex = fast.explore(m, engine.Options(), "c")
    assert ex.backend == "c" and ex.violations and calls == [(idx, inv) for inv, idx in ex.violations]
    # a compiled search that reports a state the reference cannot reach is an internal error, loudly
    bad = ex.violations[0][1]
    real_get = FastExploration._get

    def lying(self, i):
        st, par, via = real_get(self, i)
        if i == bad:
            st = tuple(not v if isinstance(v, bool) else v for v in st)
        return st, par, via
    monkeypatch.setattr(FastExploration, "_get", lying)
    with pytest.raises(fast.ReplayMismatch, match="not a successor"):
        fast.explore(m, engine.Options(), "c")


def test_status_codes_and_the_info_record_are_defined_once():
    import ctypes
    import re
    from explorer.checker.fast import status
    src = build.generate(model(1, 1))
    enum = dict((name, int(v)) for name, v in re.findall(r"^\s+ST_(\w+) = (\d+),", src, re.M))
    assert enum == {name: i for i, (name, _) in enumerate(status.STATUSES)}
    bfs_c = open(os.path.join(os.path.dirname(build.__file__), "bfs.c")).read()
    assert not re.search(r"ST_\w+\s*=", bfs_c)  # the C file only uses them
    fields = re.search(r"typedef struct \{\n(.*?)\} mx_info_t;", src, re.S).group(1)
    assert re.findall(r"int64_t (\w+);", fields) == [n for n, _ in status.Info._fields_]
    # the library fills every field of the record Python reads
    lib = build.load(model(1, 1))
    ex = fast.FastExploration(model(1, 1), lib)
    ex._ctx = lib.new(1, -1, -1, 0, 0, 1)
    info = status.Info(*([-7] * len(status.Info._fields_)))
    lib.info(ex._ctx, ctypes.byref(info))
    assert all(getattr(info, n) != -7 for n, _ in status.Info._fields_)
    assert info.status == status.ST_RUNNING and info.n == 0


def test_a_trace_that_does_not_replay_is_one_line_on_the_command_line(monkeypatch, cli):
    # the C backend's counterexample is checked by the reference code; if they disagree the CLI
    # says so in one line and reports no verdict (never a traceback)
    from explorer.checker.fast import driver as fast_run

    def refuse(model, ex, idx, inv):
        raise fast.ReplayMismatch(f"the compiled backend's trace to state {idx}: step 1 is not a successor")
    monkeypatch.setattr(fast_run, "replay", refuse)
    r = cli("check", DIRTYBITS, "--set", "BUGGY=true", "--backend", "c")
    assert r.code == 2 and "Traceback" not in r.err and "VIOLATION" not in r.out
    assert r.err.startswith("internal error: the compiled backend's trace") and r.err.count("\n") == 1
