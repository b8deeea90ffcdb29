"""Building the C of a translated model into a shared library, cached by a hash of its inputs."""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile

from .translate import Layout, Translator, Unsupported

VERSION = "3"
HERE = os.path.dirname(os.path.abspath(__file__))
CFLAGS = ["-O1", "-fPIC", "-shared", "-pthread", "-fno-strict-aliasing", "-w"]
_loaded = {}
_cc = {}


class BuildError(Exception):
    """The C compiler is missing or failed."""


def _read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read()


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mm-explorer")


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
                _cc["cc"] = (path, ver)
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
            "mx_info": (None, [P, PI64]),
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
            setattr(self, name[3:], fn)
        meta = (ctypes.c_int64 * 7)()
        self.meta(meta)
        self.ns, self.words, self.ni, self.ninv = meta[0], meta[1], meta[2], meta[3]
        self.key_bytes, self.via_bytes, self.nprobe = meta[4], meta[5], meta[6]


def cache_key(model, layout, cc_version, flags):
    h = hashlib.sha256()
    for part in (VERSION, cc_version, " ".join(flags), model.source_code, repr(model.runtime), repr(layout.slots),
                 str(len(model.instances)), str(len(model.invariant_list)), repr(model.probes),
                 _read("prelude.h"), _read("mid.h"), _read("bfs.c"), _read("translate.py")):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


KEEP = 256


def _prune(d, keep=KEEP):
    """Keep the cache bounded: the `keep` most recently built libraries stay."""
    try:
        libs = sorted((e for e in os.scandir(d) if e.name.startswith("model-") and e.name.endswith(".so")),
                      key=lambda e: e.stat().st_mtime, reverse=True)
        for e in libs[keep:]:
            for path in (e.path, e.path[:-3] + ".c"):
                try:
                    os.unlink(path)
                except OSError:
                    pass
    except OSError:
        pass


def generate(model, layout=None):
    """The C source of a model (raises Unsupported)."""
    layout = layout or Layout(model)
    return Translator(model, layout).translate(_read("prelude.h"), _read("mid.h"), _read("bfs.c"))


def load(model) -> Lib:
    """Translate, compile (or find in the cache) and load the library of `model`."""
    layout = Layout(model)
    path, ver = compiler()
    flags = CFLAGS + ["-march=native"] + os.environ.get("MM_EXPLORER_CFLAGS", "").split()
    key = cache_key(model, layout, ver, flags)
    if key in _loaded:
        return Lib(_loaded[key], layout, key)
    d = cache_dir()
    so = os.path.join(d, f"model-{key}.so")
    if not os.path.exists(so):
        src = generate(model, layout)
        os.makedirs(d, exist_ok=True)
        fd, tmp_c = tempfile.mkstemp(suffix=".c", dir=d)
        with os.fdopen(fd, "w") as f:
            f.write(src)
        tmp_so = tmp_c[:-2] + ".so"
        try:
            for fl in (flags, [f for f in flags if f != "-march=native"]):
                r = subprocess.run([path, *fl, "-o", tmp_so, tmp_c], capture_output=True, text=True)
                if r.returncode == 0:
                    break
            else:
                raise BuildError(f"the C compiler failed: {r.stderr.strip()[:2000]}")
            os.replace(tmp_so, so)
            os.replace(tmp_c, so[:-3] + ".c")
            _prune(d)
        finally:
            for p in (tmp_c, tmp_so):
                if os.path.exists(p):
                    os.unlink(p)
    try:
        dll = ctypes.CDLL(so)
    except OSError as e:
        raise BuildError(f"cannot load {so}: {e}") from None
    _loaded[key] = dll
    return Lib(dll, layout, key)


__all__ = ["BuildError", "Lib", "Unsupported", "available", "cache_dir", "generate", "load"]
