"""Checkpoints: every damage is one message and exit 2 (never a zlib, Index or Type traceback),
a changed cursor is refused rather than resumed into a false "ok", decompression is bounded,
resume is exact on both backends and across them, and a second Ctrl-C while a checkpoint is
written loses neither the result nor the checkpoint."""

import json
import os
import resource
import signal
import subprocess
import sys
import time
import zlib

import pytest

import explorer
from explorer.checker import checkpoint, fast

from conftest import ROOT

SPEC = os.path.join(ROOT, "bench", "dirtybits.yaml")
# (P, V) = (3, 2): 143,748 states and 1,960,200 transitions according to SPIN and rumur.
FULL = (143748, 1960200)
BACKENDS = ["python"] + (["c"] if fast.available() else [])


def problem():
    return explorer.load(SPEC, {"P": 3, "V": 2})


def partial(tmp_path, backend="python", **kw):
    ck = tmp_path / f"ck-{backend}"
    r = explorer.check(problem(), backend=backend, checkpoint=str(ck), **kw)
    assert r.verdict == "incomplete" and ck.exists()
    return ck, r


def split(ck):
    data = ck.read_bytes()
    n = int.from_bytes(data[8:16], "little")
    return data[:8], json.loads(data[16:16 + n]), data[16 + n:]


def join(magic, header, rest):
    head = json.dumps(header).encode()
    return magic + len(head).to_bytes(8, "little") + head + rest


def refused(cli, ck, *words):
    r = cli("check", SPEC, "--set", "P=3", "--set", "V=2", "--resume", ck)
    assert r.code == 2, (r.out, r.err)
    assert "Traceback" not in r.err and r.err.count("\n") == 1, r.err
    for w in words:
        assert w in r.err, r.err
    return r


def test_a_changed_cursor_is_refused_not_resumed_into_ok(tmp_path, cli):
    ck, r = partial(tmp_path, max_states=5000)
    magic, h, rest = split(ck)
    assert h["cursor"] < h["count"]
    h["cursor"] = h["count"]  # "everything was expanded": the old format resumed this to exit 0
    ck.write_bytes(join(magic, h, rest))
    refused(cli, ck, "does not match its digest")


@pytest.mark.parametrize("damage", ["truncate", "flip-array", "flip-header", "trailing", "bad-json", "wrong-type",
                                    "bad-blobs", "bad-violation", "huge-header"])
def test_a_damaged_checkpoint_is_one_message(tmp_path, cli, damage):
    ck, _ = partial(tmp_path, max_states=5000)
    data = ck.read_bytes()
    magic, h, rest = split(ck)
    if damage == "truncate":
        data = data[:len(data) - len(rest) // 2]
    elif damage == "flip-array":
        i = len(data) - len(rest) // 2
        data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
    elif damage == "flip-header":
        data = data.replace(b'"transitions": ', b'"transitions": 1', 1)
    elif damage == "trailing":
        data += b"\0"
    elif damage == "bad-json":
        data = data[:20] + b"{" + data[21:]
    elif damage == "wrong-type":
        h["count"] = "many"
        data = join(magic, h, rest)
    elif damage == "bad-blobs":
        h["blobs"] = [1, 2]
        data = join(magic, h, rest)
    elif damage == "bad-violation":
        h["violations"] = [[99, 10 ** 9]]
        data = join(magic, h, rest)
    elif damage == "huge-header":
        data = magic + (2 ** 62).to_bytes(8, "little") + data[16:]
    ck.write_bytes(data)
    refused(cli, ck, "--resume")


def test_a_zlib_bomb_is_not_inflated(tmp_path):
    ck, _ = partial(tmp_path, max_states=100)
    magic, h, rest = split(ck)
    z, mib = zlib.compressobj(9), b"\0" * (1 << 20)
    bomb = b"".join(z.compress(mib) for _ in range(768)) + z.flush()  # 768 MiB of zeros in under a MiB
    sizes = h["blobs"]
    h["blobs"] = [len(bomb)] + sizes[1:]
    ck.write_bytes(join(magic, h, bomb + rest[sizes[0]:]))
    env = dict(os.environ, PYTHONPATH=ROOT)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    p = subprocess.run([sys.executable, "-m", "explorer", "check", SPEC, "--set", "P=3", "--set", "V=2",
                        "--resume", str(ck)], env=env, capture_output=True, text=True)
    assert p.returncode == 2 and "wrong size" in p.stderr and "Traceback" not in p.stderr
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mib < 400 or before / 1024 >= 400, peak_mib  # nowhere near the 768 MiB inside


@pytest.mark.parametrize("writer", BACKENDS)
@pytest.mark.parametrize("reader", BACKENDS)
def test_resume_is_exact_on_and_across_backends(tmp_path, writer, reader):
    ck, r = partial(tmp_path, writer, max_states=40000)
    assert r.exploration.backend == writer
    r2 = explorer.check(problem(), backend=reader, resume=str(ck))
    assert r2.exploration.backend == reader and r2.verdict == "ok"
    assert (r2.stats["distinct_states"], r2.stats["transitions"]) == FULL


@pytest.mark.parametrize("backend", BACKENDS)
def test_resume_twice(tmp_path, backend):
    """Stopped, resumed and stopped again into the same file, then finished."""
    ck = tmp_path / "ck"
    big = explorer.load(SPEC, {"P": 3, "V": 2})
    r = explorer.check(big, backend=backend, checkpoint=str(ck), max_states=20000)
    r = explorer.check(problem(), backend=backend, checkpoint=str(ck), resume=str(ck), max_states=90000)
    assert r.verdict == "incomplete"
    r = explorer.check(problem(), backend=backend, resume=str(ck))
    assert (r.stats["distinct_states"], r.stats["transitions"]) == FULL


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_sigint_mid_run_resumes_exactly(tmp_path):
    """Ctrl-C lands wherever it lands; the checkpoint it leaves must not count a state twice."""
    ck = tmp_path / "ck"
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.Popen([sys.executable, "-m", "explorer", "check", SPEC, "--set", "P=3", "--set", "V=2",
                          "--backend", "python", "--checkpoint", str(ck), "--checkpoint-every", "1000"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while _cpu_seconds(p.pid) < 1.2:  # loading takes well under a second of CPU, the search about 3
        assert p.poll() is None, p.communicate()
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 3 and "interrupted" in out, (out, err)
    r = explorer.check(problem(), backend="python", resume=str(ck))
    assert (r.stats["distinct_states"], r.stats["transitions"]) == FULL


def test_a_second_ctrl_c_while_the_checkpoint_is_written_loses_nothing(tmp_path, monkeypatch):
    ck = tmp_path / "ck"
    real = checkpoint.save

    def interrupted_save(*a, **k):
        os.kill(os.getpid(), signal.SIGINT)  # arrives while the file is being written
        return real(*a, **k)
    monkeypatch.setattr(checkpoint, "save", interrupted_save)
    from explorer.checker import bfs
    monkeypatch.setattr(bfs, "save_checkpoint", lambda path, model, ex, cur, violated: checkpoint.save(
        path, model, checkpoint.fields_of(ex, cur, violated, len(model.slot_types())), checkpoint.python_arrays(ex)))
    r = explorer.check(problem(), backend="python", checkpoint=str(ck), max_states=5000)
    assert r.verdict == "incomplete" and "max states" in r.data["stopped_by"]
    monkeypatch.setattr(checkpoint, "save", real)
    r = explorer.check(problem(), backend="python", resume=str(ck))
    assert (r.stats["distinct_states"], r.stats["transitions"]) == FULL
