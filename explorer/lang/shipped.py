"""The Linux mm model (spec/) and its questions (configs/) that ship with the package, addressed
by name: `mm-explorer check seed_continue`, `spec: mm` in a user's config.

In a checkout they are the repository's spec/ and configs/; an installed wheel carries them as
package data under explorer/_data/ (setup.py maps them there).
"""

from __future__ import annotations

import os

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # explorer/


def data_root() -> str | None:
    """The directory holding spec/ and configs/, or None when neither place has them."""
    for root in (os.path.join(_PKG, "_data"), os.path.dirname(_PKG)):
        if os.path.isfile(os.path.join(root, "spec", "mm.yaml")) and os.path.isdir(os.path.join(root, "configs")):
            return root
    return None


def is_name(text: str) -> bool:
    return bool(text) and "/" not in text and os.sep not in text and not text.endswith((".yaml", ".yml")) \
        and not text.startswith(".")


def _names(kind: str) -> list:
    root = data_root()
    if root is None:
        return []
    d = os.path.join(root, kind)
    return sorted(f[:-5] for f in os.listdir(d) if f.endswith(".yaml"))


def config_names() -> list:
    return _names("configs")


def spec_names() -> list:
    return _names("spec")


def _path(kind: str, name: str) -> str | None:
    if not is_name(name) or name not in _names(kind):
        return None
    return os.path.join(data_root(), kind, name + ".yaml")


def config_path(name: str) -> str | None:
    """The shipped config called `name` (no directory, no suffix), or None."""
    return _path("configs", name)


def spec_path(name: str) -> str | None:
    """The shipped spec module called `name` (`mm` is the Linux model), or None."""
    return _path("spec", name)


def config_summary(path: str) -> str:
    """A shipped config's `doc:` line, read without loading the model."""
    from .yamlsrc import load_file
    try:
        doc = load_file(path, os.path.basename(path))
    except Exception:  # a damaged file is reported when it is run, not when it is listed
        return ""
    return " ".join(str(doc.get("doc") or "").split()) if hasattr(doc, "get") else ""


def schema_path(name: str) -> str | None:
    """The JSON Schema of `result`, `spec` or `config` documents, or None."""
    root = data_root()
    path = os.path.join(root, "schemas", f"{name}.schema.json") if root else None
    return path if path and os.path.isfile(path) else None
