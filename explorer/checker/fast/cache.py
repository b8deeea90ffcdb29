"""The compiled-library cache: a directory private to the user, one library per key, each with a
record of its SHA-256 taken when it was built. A library is read, checked against its record and
loaded from the checked bytes (an anonymous memory file), so what runs is what was built here:
a planted, swapped, truncated or damaged file is never loaded, only rebuilt with one line."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import stat
import sys
import time

MAX_LIBRARY = 256 << 20
STALE_SECONDS = 24 * 3600
_fds = []  # memory files of loaded libraries stay open: a reused descriptor path would alias in dlopen


class CacheError(Exception):
    """The cache directory cannot be trusted or used."""


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mm-explorer")


def say(text):
    sys.stderr.write(f"mm-explorer: {text}\n")
    sys.stderr.flush()


def private_dir(d):
    """`d`, created 0700 if missing; refused unless it is a real directory of this user that no one
    else can write (a readable one is tightened to 0700)."""
    from .build import BuildError
    try:
        os.makedirs(d, mode=0o700, exist_ok=True)
        st = os.lstat(d)
    except OSError as e:
        raise BuildError(f"the library cache {d} cannot be used: {e.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise BuildError(f"the library cache {d} is not a directory (a symbolic link?); not using it")
    if st.st_uid != os.geteuid():
        raise BuildError(f"the library cache {d} belongs to another user; not using it")
    if st.st_mode & 0o022:
        raise BuildError(f"the library cache {d} is writable by others (mode {stat.S_IMODE(st.st_mode):o}); "
                         "not using it (make it 0700 or remove it)")
    if st.st_mode & 0o077:
        os.chmod(d, 0o700)
    return d


def temp_names(d):
    tag = f".tmp-{os.getpid()}-{os.urandom(6).hex()}"
    return os.path.join(d, tag + ".c"), os.path.join(d, tag + ".so")


def clean_stale(d):
    """Temp files of builds whose process is gone (killed mid-build) or that are a day old."""
    now = time.time()
    try:
        entries = list(os.scandir(d))
    except OSError:
        return
    for e in entries:
        if not e.name.startswith(".tmp-"):
            continue
        try:
            pid = int(e.name.split("-")[1])
            alive = pid != os.getpid() and _alive(pid)
            if not alive or now - e.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                os.unlink(e.path)
        except (ValueError, IndexError, OSError):
            pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _paths(d, key):
    return os.path.join(d, f"model-{key}.so"), os.path.join(d, f"model-{key}.json")


def commit(d, key, tmp_so, tmp_c):
    """Record a freshly built library (its hash first, then the file, each atomically); returns
    its bytes, which are what gets loaded."""
    with open(tmp_so, "rb") as f:
        data = f.read(MAX_LIBRARY + 1)
    so, meta = _paths(d, key)
    record = {"key": key, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    tmp_meta = tmp_so[:-3] + ".json"
    with open(os.open(tmp_meta, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        json.dump(record, f)
    os.replace(tmp_so, so)
    os.replace(tmp_meta, meta)
    os.replace(tmp_c, so[:-3] + ".c")
    prune(d)
    return data


def verified(d, key):
    """The bytes of the cached library of `key` if its record vouches for them; None when there is
    none or it is damaged (then it is removed, with one line)."""
    so, meta = _paths(d, key)
    if not os.path.lexists(so) and not os.path.lexists(meta):
        return None
    why = _check(so, meta, key)
    if isinstance(why, bytes):
        return why
    say(f"the cached library model-{key}.so {why}; rebuilding it")
    for p in (so, meta):
        try:
            os.unlink(p)
        except OSError:
            pass
    return None


def _check(so, meta, key):
    """The library's bytes, or why they cannot be used."""
    try:
        for p in (so, meta):
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
                return "is not a regular file of yours"
        with open(meta) as f:
            record = json.loads(f.read(4096))
        with open(so, "rb") as f:
            data = f.read(MAX_LIBRARY + 1)
    except FileNotFoundError:
        return "has no build record"
    except (OSError, ValueError):
        return "has a damaged build record"
    if not isinstance(record, dict) or record.get("key") != key:
        return "has the build record of another library"
    if len(data) != record.get("size"):
        return "does not match its build record (wrong size: truncated or replaced)"
    if hashlib.sha256(data).hexdigest() != record.get("sha256"):
        return "does not match its build record (another SHA-256: damaged or replaced)"
    return data


def dlopen(data, name):
    """Load a library from its checked bytes."""
    from .build import BuildError
    try:
        fd = os.memfd_create(name, 0)
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        raise BuildError("cannot load a checked library here (no memfd_create)") from None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        dll = ctypes.CDLL(f"/proc/self/fd/{fd}")
    except OSError as e:
        os.close(fd)
        raise BuildError(f"cannot load the library {name}: {e}") from None
    _fds.append(fd)
    return dll


def prune(d, keep=256):
    """Keep the cache bounded: the `keep` most recently built libraries stay."""
    try:
        libs = sorted((e for e in os.scandir(d) if e.name.startswith("model-") and e.name.endswith(".so")),
                      key=lambda e: e.stat().st_mtime, reverse=True)
        for e in libs[keep:]:
            for path in (e.path, e.path[:-3] + ".c", e.path[:-3] + ".json"):
                try:
                    os.unlink(path)
                except OSError:
                    pass
    except OSError:
        pass


def cpu_flags():
    """The CPU model and feature flags the kernel reports (a key part when gcc cannot say)."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags"))]
        return "".join(sorted(set(lines)))
    except OSError:
        return ""
