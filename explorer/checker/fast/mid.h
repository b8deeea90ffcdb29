/* Packing of states into keys and the successor buffer the translated successor function fills. */

static inline V sx(V i, int *err) { if (UNLIKELY(i < 0 || i >= NS)) { SETERR(); return 0; } return i; }

static inline void kset(pkey_t *k, V i, V v, int *err) {
    uint64_t u;
    if (SKIND[i] == 0) {
        u = (uint64_t)v - (uint64_t)SLO[i];
        if (UNLIKELY(u > (uint64_t)(SHI[i] - SLO[i]))) { SETERR(); return; }
    } else {
        if (UNLIKELY(v < SLO[i] || v > SHI[i] || SENC[i][v - SLO[i]] < 0)) { SETERR(); return; }
        u = (uint64_t)SENC[i][v - SLO[i]];
    }
    k->w[SWORD[i]] = (k->w[SWORD[i]] & ~(SMASK[i] << SSHIFT[i])) | (u << SSHIFT[i]);
}

typedef struct { pkey_t *keys; uint32_t *inst; uint64_t n, cap; } obuf;

static int ob_reserve(obuf *o, uint64_t need) {
    if (need <= o->cap) return 0;
    uint64_t cap = o->cap ? o->cap : 4096;
    while (cap < need) cap *= 2;
    pkey_t *k = realloc(o->keys, cap * sizeof(pkey_t));
    if (!k) return 1;
    o->keys = k;
    uint32_t *in = realloc(o->inst, cap * sizeof(uint32_t));
    if (!in) return 1;
    o->inst = in;
    o->cap = cap;
    return 0;
}

static inline int emit(obuf *o, uint32_t i, const pkey_t *kp) {
    if (UNLIKELY(o->n == o->cap) && ob_reserve(o, o->n + 1)) return 1;
    o->keys[o->n] = *kp;
#ifdef MX_SYM
    canon(&o->keys[o->n]);  /* symmetry: the orbit's smallest member, as the reference backend picks */
#endif
    o->inst[o->n] = i;
    o->n++;
    return 0;
}
#define EMIT(I_, KP_) do { if (UNLIKELY(emit(ob, (I_), (KP_)))) SETERR(); } while (0)
