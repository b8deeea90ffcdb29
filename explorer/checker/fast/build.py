"""Building the C of a translated model into a shared library, cached by a hash of its inputs.

The cache (cache.py) is private to the user and every library in it is verified before it is
loaded; gcc runs in its own process group, which dies with this process.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import signal
import subprocess

from . import cache
from .status import Info, c_header
from .translate import Layout, Translator, Unsupported

VERSION = "4"
HERE = os.path.dirname(os.path.abspath(__file__))
CFLAGS = ["-O1", "-fPIC", "-shared", "-pthread", "-fno-strict-aliasing", "-w"]
_loaded = {}
_cc = {}


class BuildError(Exception):
    """The C compiler is missing or failed."""


def _read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read()


cache_dir = cache.cache_dir


def compiler():
    """(path, version) of the C compiler, or raise BuildError."""
    if "cc" not in _cc:
        cc = os.environ.get("CC") or "gcc"
        path = shutil.which(cc)
        if path is None:
            _cc["cc"] = None
        else:
            try:
                ver = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout.split("\n")[0]
                _cc["cc"] = (os.path.realpath(path), ver)
            except (OSError, subprocess.SubprocessError):
                _cc["cc"] = None
    if _cc["cc"] is None:
        raise BuildError("no C compiler (gcc) found")
    return _cc["cc"]


def available() -> bool:
    try:
        compiler()
        return True
    except BuildError:
        return False


class Lib:
    """A loaded model library and the layout its keys use."""

    def __init__(self, dll, layout, key):
        self.dll = dll
        self.layout = layout
        self.key = key
        P, I64, D, I = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double, ctypes.c_int
        PI64 = ctypes.POINTER(ctypes.c_int64)
        sig = {
            "mx_new": (P, [I, I64, I64, I, I, I]),
            "mx_free": (None, [P]),
            "mx_add_init": (I, [P, PI64]),
            "mx_set_violated": (None, [P, ctypes.c_uint64]),
            "mx_run": (I, [P, D]),
            "mx_info": (None, [P, ctypes.POINTER(Info)]),
            "mx_set_budget": (None, [P, I64]),
            "mx_dump": (None, [P, PI64, PI64, PI64]),
            "mx_load": (I, [P, I64, PI64, PI64, PI64]),
            "mx_set_position": (I, [P, I64, PI64, I64, I64, I64, I64, PI64, PI64, I64, PI64, PI64]),
            "mx_key": (ctypes.c_char_p, []),
            "mx_counts": (None, [P, PI64, PI64]),
            "mx_violations": (None, [P, PI64, PI64]),
            "mx_levels": (None, [P, PI64]),
            "mx_get": (I64, [P, ctypes.c_uint64, PI64, PI64]),
            "mx_meta": (None, [PI64]),
            "mx_probe": (I, [PI64]),
            "mx_set_seen": (None, [P, ctypes.c_char_p]),
            "mx_get_seen": (None, [P, ctypes.c_char_p]),
        }
        for name, (res, args) in sig.items():
            fn = getattr(dll, name)
            fn.restype = res
            fn.argtypes = args
            setattr(self, "key_fn" if name == "mx_key" else name[3:], fn)
        meta = (ctypes.c_int64 * 7)()
        self.meta(meta)
        self.ns, self.words, self.ni, self.ninv = meta[0], meta[1], meta[2], meta[3]
        self.key_bytes, self.via_bytes, self.nprobe = meta[4], meta[5], meta[6]


def target_features(path, flags):
    """What `-march=native` means on this machine, as gcc resolves it (CPU and its features)."""
    k = ("target", path, tuple(flags))
    if k not in _cc:
        try:
            r = subprocess.run([path, *[f for f in flags if f.startswith("-m")], "-Q", "--help=target"],
                               capture_output=True, text=True, timeout=30)
            _cc[k] = r.stdout
        except (OSError, subprocess.SubprocessError):
            _cc[k] = ""
        if not _cc[k]:  # not gcc: the kernel's view of the CPU
            _cc[k] = cache.cpu_flags()
    return _cc[k]


def cache_key(model, layout, cc_version, flags, target=""):
    h = hashlib.sha256()
    for part in (VERSION, cc_version, " ".join(flags), target, model.source_code, repr(model.runtime),
                 repr(layout.slots), str(len(model.instances)), str(len(model.invariant_list)),
                 repr(model.probes), _read("prelude.h"), _read("mid.h"), _read("bfs.c"),
                 _read("translate.py"), c_header()):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


KEEP = 256
_prune = cache.prune


def generate(model, layout=None, key="0" * 32):
    """The C source of a model (raises Unsupported). `key` is embedded, to be checked after loading."""
    layout = layout or Layout(model)
    bfs = c_header() + "\n\n" + _read("bfs.c") + f'\nconst char *mx_key(void) {{ return "{_hex(key)}"; }}\n'
    return Translator(model, layout).translate(_read("prelude.h"), _read("mid.h"), bfs)


def _hex(key):
    if not (isinstance(key, str) and key and all(c in "0123456789abcdef" for c in key)):
        raise ValueError("a cache key is hexadecimal")
    return key


def _die_with_parent():
    """In the child before exec: SIGTERM when the parent dies (the wrapper then kills the group)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


# the compiler runs under a shell in a process group of its own; when this process dies, the
# shell gets SIGTERM and kills the whole group (gcc, cc1, as, ld), so no compiler outlives us
_WRAP = 'trap "kill -KILL 0" TERM; "$@" & wait $!'


def compile_c(path, flags, src_path, out_path):
    """Run the compiler; returns (returncode, stderr). Its whole process group dies with us."""
    p = subprocess.Popen(["/bin/sh", "-c", _WRAP, "sh", path, *flags, "-o", out_path, src_path],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, preexec_fn=_die_with_parent)
    try:
        _, err = p.communicate()
    except BaseException:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait()
        raise
    return p.returncode, err


def _build(model, layout, path, flags, key, d):
    """Compile into temp files in the cache directory; returns the library's bytes' path, committed."""
    src = generate(model, layout, key)
    tmp_c, tmp_so = cache.temp_names(d)
    try:
        with open(os.open(tmp_c, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(src)
        for fl in (flags, [f for f in flags if f != "-march=native"]):
            rc, err = compile_c(path, fl, tmp_c, tmp_so)
            if rc == 0:
                break
        else:
            raise BuildError(f"the C compiler failed: {err.strip()[:2000]}")
        return cache.commit(d, key, tmp_so, tmp_c)
    finally:
        for p in (tmp_c, tmp_so):
            if os.path.exists(p):
                os.unlink(p)


def load(model) -> Lib:
    """Translate, compile (or find in the cache, verified) and load the library of `model`."""
    layout = Layout(model)
    path, ver = compiler()
    flags = CFLAGS + ["-march=native"] + os.environ.get("MM_EXPLORER_CFLAGS", "").split()
    key = cache_key(model, layout, ver, flags, target_features(path, flags))
    if key in _loaded:
        return Lib(_loaded[key], layout, key)
    d = cache.private_dir(cache_dir())
    cache.clean_stale(d)
    data = cache.verified(d, key)
    if data is None:
        data = _build(model, layout, path, flags, key, d)
    dll = cache.dlopen(data, f"model-{key}.so")
    lib = Lib(dll, layout, key)
    if lib.key_fn().decode() != key:
        raise BuildError(f"the cached library model-{key}.so was built for another model; remove it")
    _loaded[key] = dll
    return lib


__all__ = ["BuildError", "Lib", "Unsupported", "available", "cache_dir", "generate", "load"]
