"""The C side of symmetry reduction: the canonical form of a packed state, computed exactly as
explorer/checker/symmetry.py computes it (the smallest slot tuple over the same permutations)."""

from __future__ import annotations


def symmetry_code(model, layout):
    """(declarations before mid.h, the canon() definition) for a reduced model; empty otherwise."""
    sym = model.symmetry
    if sym is None or not sym.perms:
        return "", ""
    names = sym.names
    maxn = max(len(model.sets[n].values) for n in names)
    src_rows, set_rows, map_rows = [], [], []
    for (src, _), pi in zip(sym.perms, sym.maps):
        src_rows.append(_row(src))
        set_rows.append(_row(names.index(sym.slot_set[a]) if sym.slot_set[a] in names else -1 for a in src))
        map_rows.append("{" + ", ".join(_row(pi[n] + [0] * (maxn - len(pi[n]))) for n in names) + "}")
    decl = "\n".join([
        "#define MX_SYM 1",
        f"#define SYM_NP {len(sym.perms)}",
        f"static const int32_t SYM_SRC[SYM_NP][NS] = {{{', '.join(src_rows)}}};",
        f"static const int8_t SYM_SET[SYM_NP][NS] = {{{', '.join(set_rows)}}};",
        f"static const int32_t SYM_MAP[SYM_NP][{len(names)}][{maxn}] = {{{', '.join(map_rows)}}};",
        "static void canon(pkey_t *k);",
    ])
    return decl, CANON


def _row(values):
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


CANON = """static void canon(pkey_t *k) {
    SV st[NS], best[NS], cand[NS];
    unpack(k, st);
    memcpy(best, st, sizeof(best));
    int changed = 0;
    for (int p = 0; p < SYM_NP; p++) {
        int less = 0, decided = 0;
        for (int b = 0; b < NS; b++) {
            SV v = st[SYM_SRC[p][b]];
            int si = SYM_SET[p][b];
            cand[b] = si < 0 ? v : (SV)SYM_MAP[p][si][v];
            if (!decided && cand[b] != best[b]) { decided = 1; less = cand[b] < best[b]; }
        }
        if (less) { memcpy(best, cand, sizeof(best)); changed = 1; }
    }
    if (changed) { int e = 0; for (int b = 0; b < NS; b++) kset(k, b, best[b], &e); }
}"""
