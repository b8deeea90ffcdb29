"""The compiled-library cache under attack: planted, swapped, truncated and foreign-CPU libraries
are never loaded (rebuilt with one line), the directory must be private, concurrent builds agree,
and a build killed with SIGKILL leaves neither a compiler running nor temp files for ever."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

import explorer
from explorer.checker import fast
from explorer.checker.fast import build, cache

from conftest import ROOT

pytestmark = pytest.mark.skipif(not fast.available(), reason="no C compiler")

DIRTYBITS = os.path.join(ROOT, "bench", "dirtybits.yaml")
# dirtybits (1, 2): 132 states, 776 transitions (SPIN and rumur, tests/test_dirtybits_oracle.py)


def model(P=1, V=2):
    return explorer.load(DIRTYBITS, {"P": P, "V": V}).model


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(build, "_loaded", {})
    return tmp_path / "mm-explorer"


def counts(m):
    from explorer.checker.engine import Options
    ex = fast.explore(m, Options(), "c")
    assert ex.backend == "c"
    return len(ex.states), ex.transitions


def builds(monkeypatch):
    seen = []
    real = build.compile_c

    def counting(*a):
        seen.append(a)
        return real(*a)
    monkeypatch.setattr(build, "compile_c", counting)
    return seen


def test_a_planted_library_is_never_loaded(fresh, tmp_path, monkeypatch, capsys):
    key = build.load(model()).key
    monkeypatch.setattr(build, "_loaded", {})
    marker = tmp_path / "constructor-ran"
    evil = tmp_path / "evil.c"
    evil.write_text('#include <stdio.h>\n__attribute__((constructor)) static void f(void) '
                    f'{{ FILE *x = fopen("{marker}", "w"); if (x) fclose(x); }}\n')
    so = fresh / f"model-{key}.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(so), str(evil)], check=True)
    n = builds(monkeypatch)
    capsys.readouterr()
    assert counts(model()) == (132, 776)
    assert not marker.exists()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not match its build record" in err and "rebuilding" in err
    assert len(n) == 1
    # and a library in the cache without any build record is not loaded either
    monkeypatch.setattr(build, "_loaded", {})
    (fresh / f"model-{key}.json").unlink()
    shutil.copy(str(tmp_path / "evil.c"), str(tmp_path / "e2.c"))
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(so), str(evil)], check=True)
    assert counts(model()) == (132, 776) and not marker.exists()
    assert "has no build record" in capsys.readouterr().err


def test_a_library_swapped_in_from_another_model_is_rebuilt(fresh, monkeypatch, capsys):
    a, b = build.load(model(1, 2)).key, build.load(model(2, 1)).key
    monkeypatch.setattr(build, "_loaded", {})
    shutil.copy(fresh / f"model-{b}.so", fresh / f"model-{a}.so")
    assert counts(model(1, 2)) == (132, 776)
    assert "does not match its build record" in capsys.readouterr().err
    # the record copied too: it names the other library
    monkeypatch.setattr(build, "_loaded", {})
    for ext in (".so", ".json"):
        shutil.copy(fresh / f"model-{b}{ext}", fresh / f"model-{a}{ext}")
    assert counts(model(1, 2)) == (132, 776)
    assert "build record of another library" in capsys.readouterr().err
    # the record forged to carry the right key: the library's own embedded key still says no
    monkeypatch.setattr(build, "_loaded", {})
    rec = json.loads((fresh / f"model-{b}.json").read_text())
    shutil.copy(fresh / f"model-{b}.so", fresh / f"model-{a}.so")
    rec["key"] = a
    (fresh / f"model-{a}.json").write_text(json.dumps(rec))
    with pytest.raises(build.BuildError, match="built for another model"):
        build.load(model(1, 2))


def test_a_truncated_library_is_rebuilt_not_a_crash(fresh, monkeypatch, capsys):
    key = build.load(model()).key
    monkeypatch.setattr(build, "_loaded", {})
    so = fresh / f"model-{key}.so"
    data = so.read_bytes()
    so.write_bytes(data[:len(data) // 3])
    n = builds(monkeypatch)
    capsys.readouterr()
    assert counts(model()) == (132, 776)
    assert "wrong size: truncated" in capsys.readouterr().err and len(n) == 1
    assert so.read_bytes() == data or len(so.read_bytes()) == len(data)


def test_a_library_for_another_cpu_is_never_loaded(fresh, monkeypatch, capsys):
    native = build.load(model()).key
    monkeypatch.setattr(build, "_loaded", {})
    monkeypatch.setattr(build, "target_features", lambda path, flags: "-march=  znver9\n  -mavx1024  [enabled]\n")
    n = builds(monkeypatch)
    other = build.load(model()).key
    assert other != native and len(n) == 1  # the CPU is part of the key: built again, not reused
    # the other CPU's library put under this CPU's key is refused by its record
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(fresh.parent))
    monkeypatch.setattr(build, "_loaded", {})
    for ext in (".so", ".json"):
        shutil.copy(fresh / f"model-{other}{ext}", fresh / f"model-{native}{ext}")
    assert counts(model()) == (132, 776)
    assert "build record of another library" in capsys.readouterr().err


def test_the_cache_must_be_private(fresh, monkeypatch, capsys):
    fresh.mkdir(mode=0o700)
    os.chmod(fresh, 0o777)
    r = explorer.check(explorer.load(DIRTYBITS, {"P": 1, "V": 2}), backend="c")
    err = capsys.readouterr().err
    assert r.exploration.backend == "python" and r.stats["distinct_states"] == 132
    assert err.count("\n") == 1 and "writable by others" in err
    os.chmod(fresh, 0o755)  # readable by others only: tightened, then used
    assert counts(model()) == (132, 776)
    assert (os.stat(fresh).st_mode & 0o777) == 0o700
    if os.geteuid() == 0:
        os.chown(fresh, 65534, -1)
        monkeypatch.setattr(build, "_loaded", {})
        with pytest.raises(build.BuildError, match="belongs to another user"):
            build.load(model())
        os.chown(fresh, 0, -1)
    link = fresh.parent / "link"
    os.symlink(fresh, link)
    with pytest.raises(build.BuildError, match="not a directory"):
        cache.private_dir(str(link))


def test_concurrent_builds_agree(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, XDG_CACHE_HOME=str(tmp_path))
    code = ("import explorer; r = explorer.check(explorer.load(%r, {'P': 2, 'V': 1}), backend='c');"
            "print(r.exploration.backend, r.stats['distinct_states'], r.stats['transitions'])" % DIRTYBITS)
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert len({o for o, _ in outs}) == 1 and outs[0][0].startswith("c ")
    d = tmp_path / "mm-explorer"
    sos = list(d.glob("model-*.so"))
    assert len(sos) == 1 and not list(d.glob(".tmp-*"))
    key = sos[0].name[6:-3]
    assert isinstance(cache.verified(str(d), key), bytes)


FAKE_CC = """#!/bin/sh
for a in "$@"; do
  if [ "$a" = "-o" ]; then echo $$ > {pidfile}; exec sleep 300; fi
done
exec gcc "$@"
"""


def _gone(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return any(ln.startswith("State:") and "Z" in ln for ln in f)
    except FileNotFoundError:
        return True


def test_sigkill_during_a_build_leaves_no_compiler_and_no_temp_files(tmp_path):
    pidfile = tmp_path / "cc.pid"
    cc = tmp_path / "slowcc"
    cc.write_text(FAKE_CC.format(pidfile=pidfile))
    cc.chmod(0o755)
    env = dict(os.environ, PYTHONPATH=ROOT, XDG_CACHE_HOME=str(tmp_path), CC=str(cc))
    code = "import explorer; explorer.check(explorer.load(%r, {'P': 1, 'V': 1}), backend='c')" % DIRTYBITS
    p = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(1200):
        if pidfile.exists() and pidfile.read_text().strip():
            break
        assert p.poll() is None, p.communicate()
        time.sleep(0.05)
    cc_pid = int(pidfile.read_text())
    d = tmp_path / "mm-explorer"
    assert list(d.glob(".tmp-*"))  # the build was under way
    p.kill()
    p.communicate()
    for _ in range(200):  # the compiler's process group is killed once its parent is gone
        if _gone(cc_pid):
            break
        time.sleep(0.05)
    assert _gone(cc_pid), "the compiler outlived the killed process"
    cache.clean_stale(str(d))
    assert not list(d.glob(".tmp-*"))
