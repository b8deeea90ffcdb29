"""An open config's successor function in C: one function per world, chosen by the world slot, so
that the C compiler sees many small functions (linear build time) instead of one huge one."""

from __future__ import annotations

import ast


def world_dispatch(body):
    """(slot, [(value, block)]) when the successor body is only `if state[SLOT] == VALUE:` blocks
    on one slot with distinct values (the world dispatch of an open config), else None."""
    from .tbase import _int_const
    slot, blocks = None, []
    for st in body:
        if not (isinstance(st, ast.If) and not st.orelse and isinstance(st.test, ast.Compare)
                and len(st.test.ops) == 1 and isinstance(st.test.ops[0], ast.Eq)):
            return None
        left, right = st.test.left, st.test.comparators[0]
        if not (isinstance(left, ast.Subscript) and isinstance(left.value, ast.Name) and left.value.id == "state"):
            return None
        k, v = _int_const(left.slice), _int_const(right)
        if k is None or v is None or (slot is not None and k != slot) or any(v == w for w, _ in blocks):
            return None
        slot = k
        blocks.append((v, st.body))
    return (slot, blocks) if len(blocks) > 1 else None
