"""The trace in the Informal Trace Format (ITF) that Apalache and Quint read and write.

    {"#meta": {...}, "vars": ["x", ...], "states": [{"#meta": {"index": 0, ...}, "x": ..., ...}]}

Values: booleans and symbols as JSON booleans and strings, integers as {"#bigint": "n"}, records
as JSON objects, arrays over sets as {"#map": [[key, value], ...]} (nested for several index
sets). The decoded states store index keys as text; the result's "sets" says whether a set
holds integers (keys become {"#bigint": ...}) or symbols (keys stay strings). A saved result
without "sets" falls back to the text: decimal digits are integers.
Each state's "#meta" also carries the step that led to it: action, params and source.
"""

from __future__ import annotations

import re

FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"

_INT = re.compile(r"^-?[0-9]+$")


def value(v):
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return {"#bigint": str(v)}
    return v


def key(k, is_int=None):
    k = str(k)
    if is_int is None:
        is_int = bool(_INT.match(k))
    return {"#bigint": k} if is_int else k


def encode(v, depth: int, record: bool, int_keys=()):
    """A decoded variable value: `depth` levels of arrays, then a record or a leaf.
    `int_keys[i]`: whether level i's index set holds integers (None: guess from the text)."""
    if depth > 0:
        ik = int_keys[0] if int_keys else None
        return {"#map": [[key(k, ik), encode(x, depth - 1, record, int_keys[1:])] for k, x in v.items()]}
    if record:
        return {f: value(x) for f, x in v.items()}
    return value(v)


def to_itf(data: dict) -> dict:
    layout = data.get("variables") or {}
    trace = [s for s in data["trace"] if s.get("state") is not None]
    names = [n for n in layout if n in trace[0]["state"]]
    meta = {
        "format": "ITF",
        "format-description": FORMAT_DESCRIPTION,
        "source": data.get("config") or data.get("spec"),
        "description": f"mm-explorer {data.get('version', '')} {data.get('verdict') or ''}: {data.get('message') or ''}".strip(),
        "module": data.get("module"),
        "constants": data.get("constants") or {},
        "varTypes": {n: _type_text(layout[n]) for n in names},
    }
    if data.get("invariant"):
        meta["invariant"] = data["invariant"]
        meta["status"] = data.get("verdict")
    states = []
    for i, st in enumerate(trace):
        m = {"index": i}
        if st.get("action") is not None:
            m["action"] = st.get("label") or st["action"]
            m["params"] = st.get("params") or {}
            if st.get("source"):
                m["source"] = st["source"]
        else:
            m["action"] = "init"
        s = {"#meta": m}
        for n in names:
            info = layout[n]
            over = info.get("over") or []
            int_keys = [_set_is_int(data, name) for name in over]
            s[n] = encode(st["state"][n], len(over), bool(info.get("record")), int_keys)
        states.append(s)
    return {"#meta": meta, "vars": names, "states": states}


def _type_text(info: dict) -> str:
    over = info.get("over") or []
    t = str(info.get("type"))
    if info.get("record"):
        t = f"{t} {{{', '.join(info['record'])}}}"
    for s in reversed(over):
        t = f"{s} -> {t}"
    return t


def _set_is_int(data: dict, name: str):
    """True / False from the result's "sets", None when the result does not say."""
    values = (data.get("sets") or {}).get(name)
    if values is None:
        return None
    return all(isinstance(x, int) and not isinstance(x, bool) for x in values)
