"""Writing Graphviz sources as .svg/.png/.pdf (through `dot`) or as .dot, and what to do without dot."""

from __future__ import annotations

import os

from ..errors import Pos, SpecError

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": None, ".gv": None}
INSTALL_HINT = "apt-get install graphviz"


def diagram_suffix_ok(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in FORMATS


def check_diagram_path(path: str, flag: str):
    if not diagram_suffix_ok(path):
        raise SpecError(None, f"{flag} {path}: the file name must end in .svg, .png, .pdf or .dot")


def check_writable(path: str, flag: str):
    """Refuse, before any work is done, an output path that cannot be written: a directory, a
    path below a file, a directory without write permission. Raises SpecError."""
    where = Pos(f"<{flag} {path}>", 1, 1)
    if not path or path.endswith(os.sep) or os.path.isdir(path):
        raise SpecError(where, f"{flag} {path}: is a directory; give a file name")
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise SpecError(where, f"{flag} {path}: the file cannot be written (permission denied)")
        return
    d = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(d):
        d = os.path.dirname(d)
    if not os.path.isdir(d):
        raise SpecError(where, f"{flag} {path}: {d} is not a directory")
    if not os.access(d, os.W_OK | os.X_OK):
        raise SpecError(where, f"{flag} {path}: cannot create files in {d} (permission denied)")


def write_bytes(path: str, data: bytes):
    """Write through a temporary file in the same directory (removed if anything fails), so a
    reader never sees half a file and a failed write leaves nothing behind."""
    if os.path.exists(path) and not os.path.isfile(path):  # /dev/stdout, a pipe: write into it
        with open(path, "wb") as f:
            f.write(data)
        return
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = os.path.join(d, f".{os.path.basename(path)}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text(path: str, text: str):
    write_bytes(path, text.encode("utf-8"))


def run_dot(source: str, fmt: str) -> bytes:
    """dot's output for `source`; raises graphviz.ExecutableNotFound when dot is not installed."""
    import graphviz
    try:
        return graphviz.pipe("dot", fmt, source.encode("utf-8"), quiet=True)
    except graphviz.CalledProcessError as e:
        msg = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise SpecError(None, f"Graphviz's dot failed: {msg[0] if msg else e}") from None


def dot_missing_error():
    import graphviz
    return graphviz.ExecutableNotFound


def write_diagram(source: str, path: str, err) -> bool:
    """Write `source` drawn in the format the suffix of `path` names. Without dot, write the
    .dot file next to it and say in one line how to install Graphviz. True when `path` was written."""
    check_diagram_path(path, "output")
    fmt = FORMATS[os.path.splitext(path)[1].lower()]
    if fmt is None:
        write_text(path, source)
        return True
    try:
        data = run_dot(source, fmt)
    except dot_missing_error():
        dot_path = os.path.splitext(path)[0] + ".dot"
        write_text(dot_path, source)
        err.write(f"note: Graphviz's dot is not installed, so {path} was not drawn; wrote {dot_path} "
                  f"(install Graphviz with: {INSTALL_HINT})\n")
        return False
    write_bytes(path, data)
    return True


def svg_text(source: str) -> str | None:
    """The diagram as inline SVG (no XML prolog), or None when dot is not installed."""
    try:
        data = run_dot(source, "svg").decode("utf-8")
    except dot_missing_error():
        return None
    i = data.find("<svg")
    return data[i:] if i >= 0 else data
