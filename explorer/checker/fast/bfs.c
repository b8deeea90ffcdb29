/* Breadth-first exploration over packed states, in the same order as the reference backend.

   States are numbered in the order they are first reached: `states` (packed keys) is at once the
   BFS queue and the store that traces are decoded from; `parent` and `via` hold the predecessor
   and the action instance of each state. The visited set is two open-addressing tables of packed
   keys, split by one bit of the hash.

   A level is expanded in chunks of parents, in three phases:
     1. successors of the chunk's parents are generated (the two halves in two threads);
     2. each successor is looked up / inserted in the visited set (one thread per table; each
        thread scans all successors in order, so the first occurrence of a key is the one
        marked new), and invariants are evaluated on new states;
     3. one thread walks the successors in order and numbers the new states, counts transitions
        and coverage, and stops exactly where the reference backend would (violation, deadlock,
        runtime error, max states).
   Phase 3 alone decides what is recorded, so the results do not depend on the thread count. */

#define R_NEW (-1)
#define R_DUP (-2)
#define R_INVERR (-3)
#define R_OOM (-4)

/* the ST_* status codes and mx_info_t come from status.py, in front of this file */

#if NI < 256
typedef uint8_t via_t;
#elif NI < 65536
typedef uint16_t via_t;
#else
typedef uint32_t via_t;
#endif

#define NV (NINV > 0 ? NINV : 1)
#define NPR (NPROBE > 0 ? NPROBE : 1)

static inline uint64_t fmix64(uint64_t k) {
    k ^= k >> 33; k *= 0xff51afd7ed558ccdULL; k ^= k >> 33; k *= 0xc4ceb9fe1a85ec53ULL; k ^= k >> 33;
    return k;
}
static inline uint64_t khash(const pkey_t *k) {
    uint64_t h = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < W; i++) h = fmix64(h ^ k->w[i]);
    return h;
}
static inline int keq(const pkey_t *a, const pkey_t *b) {
    for (int i = 0; i < W; i++) if (a->w[i] != b->w[i]) return 0;
    return 1;
}
static inline int kempty(const pkey_t *e) { return (e->w[W - 1] >> 63) != 0; }

/* The memory budget: bytes the tables and the store may hold together (0: no budget). Both
   table threads grow their tables, so `used` is updated atomically. */
typedef struct { uint64_t limit, used; int hit; } budget;

static int bg_take(budget *g, uint64_t bytes) {
    if (!g) return 0;
    uint64_t u = __atomic_add_fetch(&g->used, bytes, __ATOMIC_RELAXED);
    if (g->limit && u > g->limit) {
        __atomic_sub_fetch(&g->used, bytes, __ATOMIC_RELAXED);
        __atomic_store_n(&g->hit, 1, __ATOMIC_RELAXED);
        return 1;
    }
    return 0;
}
static void bg_give(budget *g, uint64_t bytes) { if (g) __atomic_sub_fetch(&g->used, bytes, __ATOMIC_RELAXED); }

typedef struct { pkey_t *tab; uint64_t cap, n; int mapped; budget *bg; } __attribute__((aligned(64))) hset;

/* Large tables are mapped with transparent huge pages: every lookup lands on a random page, and
   with 4 KiB pages nearly every one would also miss the TLB. */
static int hs_alloc(hset *h, uint64_t cap, budget *bg) {
    size_t bytes = cap * sizeof(pkey_t);
    pkey_t *t;
    int mapped = 0;
    if (bg_take(bg, bytes)) return 1;
    if (bytes >= (4u << 20)) {
        void *m = mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) { bg_give(bg, bytes); return 1; }
#ifdef MADV_HUGEPAGE
        madvise(m, bytes, MADV_HUGEPAGE);
#endif
        t = m;
        mapped = 1;
    } else {
        t = malloc(bytes);
        if (!t) { bg_give(bg, bytes); return 1; }
    }
    memset(t, 0xff, bytes);
    h->tab = t; h->cap = cap; h->n = 0; h->mapped = mapped; h->bg = bg;
    return 0;
}
static void hs_free(hset *h) {
    if (!h->tab) return;
    bg_give(h->bg, h->cap * sizeof(pkey_t));
    if (h->mapped) munmap(h->tab, h->cap * sizeof(pkey_t));
    else free(h->tab);
    h->tab = 0;
}
static void hs_put(pkey_t *tab, uint64_t mask, const pkey_t *k) {
    uint64_t i = khash(k) & mask;
    while (!kempty(&tab[i])) i = (i + 1) & mask;
    tab[i] = *k;
}
static int hs_grow(hset *h) {
    hset g;
    if (hs_alloc(&g, h->cap * 2, h->bg)) return 1;
    for (uint64_t i = 0; i < h->cap; i++)
        if (!kempty(&h->tab[i])) hs_put(g.tab, g.cap - 1, &h->tab[i]);
    g.n = h->n;
    hs_free(h);
    *h = g;
    return 0;
}
/* 1 inserted, 0 present, -1 out of memory */
static inline int hs_insert(hset *h, const pkey_t *k, uint64_t hv) {
    /* grown at load 3/4; tables of 2^28 slots (2 GiB) and more at 4/5, where memory is what limits */
    if (UNLIKELY(h->cap < (1ULL << 28) ? (h->n + 1) * 4 > h->cap * 3 : (h->n + 1) * 5 > h->cap * 4) && hs_grow(h)) return -1;
    uint64_t mask = h->cap - 1, i = hv & mask;
    for (;;) {
        pkey_t *e = &h->tab[i];
        if (kempty(e)) { *e = *k; h->n++; return 1; }
        if (keq(e, k)) return 0;
        i = (i + 1) & mask;
    }
}

static inline int hs_find(const hset *h, const pkey_t *k, uint64_t hv) {
    uint64_t mask = h->cap - 1, i = hv & mask;
    for (;;) {
        const pkey_t *e = &h->tab[i];
        if (kempty(e)) return 0;
        if (keq(e, k)) return 1;
        i = (i + 1) & mask;
    }
}

typedef struct {
    obuf ob;
    uint32_t *cnt;     /* successors per parent */
    uint8_t *perr;     /* runtime error while expanding the parent */
    int32_t *res[2];   /* per successor, written by the thread of its table: R_* or the first violated invariant */
    uint64_t *hash;    /* per successor: hash of its key */
    uint32_t *sidx[2]; /* positions of the successors of each table, in order (two-thread mode) */
    uint64_t ns[2];
    uint64_t *fmask[2], *emask[2];  /* continue mode: failed / erroring invariants of a new state */
    uint64_t rescap, pcap;
    uint64_t a, b;     /* parents [a, b) */
    int oom;
} __attribute__((aligned(64))) tbuf;

typedef struct {
    int nth;
    int64_t max_states, max_depth;
    int deadlock, cont, check_inv;
    hset hs[2];
    pkey_t *states; uint32_t *parent; via_t *via; uint64_t n, cap;
    uint64_t *lvl; uint64_t nlvl, lvlcap;
    uint64_t lvl_start, lvl_end, cur; int64_t depth; int level_open, started;
    uint64_t transitions;
    uint64_t fired[NI], enabled[NI];
    uint64_t viol_mask; int nviol; int32_t viol_inv[NV]; uint64_t viol_idx[NV];
    int status; uint64_t stop_state; int cut_mode, cut;
    uint64_t chunk;
    tbuf tb[2];
    int shard_oom[2];
    double tph[4];
    double tth[2] __attribute__((aligned(64)));
    double cost[2];        /* seconds per successor, one thread / two threads (moving average) */
    uint64_t nchunks, chunks_two;
    int fixed;             /* debugging: always one (0) or two (1) threads */
    uint8_t pseen[NPR];    /* premise probes: did the premise hold in some state yet */
    int npending;
    budget bg;
} ctx;

/* premise probes on a state just added, as engine.explore's add(): 0, or 1 when one fails to evaluate */
static int probe_state(ctx *c, uint64_t nn) {
    SV st[NS];
    unpack(&c->states[nn], st);
    for (int j = 0; j < NPROBE; j++) {
        if (c->pseen[j]) continue;
        int e = 0;
        int r = probe_one(j, st, &e);
        if (e) return 1;
        if (r) { c->pseen[j] = 1; c->npending--; }
    }
    return 0;
}

void mx_set_seen(void *p, const uint8_t *seen) {
    ctx *c = p;
    c->npending = 0;
    for (int j = 0; j < NPROBE; j++) { c->pseen[j] = seen[j] ? 1 : 0; c->npending += !c->pseen[j]; }
}
void mx_get_seen(void *p, uint8_t *seen) {
    ctx *c = p;
    for (int j = 0; j < NPROBE; j++) seen[j] = c->pseen[j];
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define STATE_BYTES (sizeof(pkey_t) + sizeof(uint32_t) + sizeof(via_t))
static int store_reserve(ctx *c, uint64_t need) {
    if (need <= c->cap) return 0;
    if (need > 0xFFFFFFF0ULL) return 1;
    uint64_t cap = c->cap ? c->cap : 1024;
    while (cap < need) cap *= 2;
    if (bg_take(&c->bg, (cap - c->cap) * STATE_BYTES)) return 1;
    pkey_t *s = realloc(c->states, cap * sizeof(pkey_t)); if (!s) return 1; c->states = s;
    uint32_t *p = realloc(c->parent, cap * sizeof(uint32_t)); if (!p) return 1; c->parent = p;
    via_t *v = realloc(c->via, cap * sizeof(via_t)); if (!v) return 1; c->via = v;
    c->cap = cap;
    return 0;
}

static int lvl_push(ctx *c, uint64_t start) {
    if (c->nlvl == c->lvlcap) {
        uint64_t cap = c->lvlcap ? c->lvlcap * 2 : 64;
        uint64_t *l = realloc(c->lvl, cap * sizeof(uint64_t));
        if (!l) return 1;
        c->lvl = l; c->lvlcap = cap;
    }
    c->lvl[c->nlvl++] = start;
    return 0;
}

void *mx_new(int nth, int64_t max_states, int64_t max_depth, int deadlock, int cont, int check_inv) {
    void *mem = 0;
    /* the struct holds 64-byte aligned members (one cache line per thread's data) */
    if (posix_memalign(&mem, 64, sizeof(ctx)) != 0) return 0;
    ctx *c = mem;
    memset(c, 0, sizeof(ctx));
    c->nth = nth < 1 ? 1 : (nth > 2 ? 2 : nth);
    c->max_states = max_states; c->max_depth = max_depth;
    c->deadlock = deadlock; c->cont = cont; c->check_inv = check_inv && NINV > 0;
    c->chunk = 1 << 15;
    c->fixed = getenv("MM_EXPLORER_TWO") ? atoi(getenv("MM_EXPLORER_TWO")) : -1;
    if (hs_alloc(&c->hs[0], 1024, &c->bg) || hs_alloc(&c->hs[1], 1024, &c->bg) || store_reserve(c, 1024)) return 0;
    return c;
}

void mx_free(void *p) {
    ctx *c = p;
    if (!c) return;
    if (getenv("MM_EXPLORER_PHASES"))  /* profiling aid: where the time went */
        fprintf(stderr, "phases: expand %.3f dedup %.3f record %.3f total %.3f; chunks %lu, on two threads %lu; ns/successor 1t %.1f 2t %.1f\n", c->tph[0], c->tph[1], c->tph[3], c->tph[2], (unsigned long)c->nchunks, (unsigned long)c->chunks_two, c->cost[0] * 1e9, c->cost[1] * 1e9);
    hs_free(&c->hs[0]); hs_free(&c->hs[1]);
    free(c->states); free(c->parent); free(c->via); free(c->lvl);
    for (int t = 0; t < 2; t++) {
        tbuf *b = &c->tb[t];
        free(b->ob.keys); free(b->ob.inst); free(b->cnt); free(b->perr); for (int h = 0; h < 2; h++) { free(b->res[h]); free(b->fmask[h]); free(b->emask[h]); free(b->sidx[h]); } free(b->hash);
    }
    free(c);
}

static int pack_vals(const int64_t *vals, pkey_t *k) {
    int e = 0; int *err = &e;
    memset(k, 0, sizeof(pkey_t));
    for (int i = 0; i < NS; i++) kset(k, i, vals[i], err);
    return e;
}

/* an initial state: 1 new, 0 already present, -1 a value outside its domain, -2 out of memory */
int mx_add_init(void *p, const int64_t *vals) {
    ctx *c = p;
    pkey_t k;
    if (pack_vals(vals, &k)) return -1;
    uint64_t hv = khash(&k);
    int r = hs_insert(&c->hs[hv >> 63], &k, hv);
    if (r < 0) return -2;
    if (r == 0) return 0;
    if (store_reserve(c, c->n + 1)) return -2;
    c->states[c->n] = k; c->parent[c->n] = 0xFFFFFFFFu; c->via[c->n] = 0;
    c->n++;
    return 1;
}

void mx_set_violated(void *p, uint64_t mask) { ((ctx *)p)->viol_mask = mask; }

typedef struct { ctx *c; int t; int shard; } job;

static void expand_range(ctx *c, tbuf *b) {
    SV st[NS];
    b->ob.n = 0;
    b->oom = 0;
    uint64_t np = b->b - b->a;
    if (np > b->pcap) {
        uint32_t *cn = realloc(b->cnt, np * sizeof(uint32_t));
        uint8_t *pe = cn ? realloc(b->perr, np) : 0;
        if (!cn || !pe) { if (cn) b->cnt = cn; b->oom = 1; return; }
        b->cnt = cn; b->perr = pe; b->pcap = np;
    }
    for (uint64_t p = b->a; p < b->b; p++) {
        const pkey_t *pk = &c->states[p];
        unpack(pk, st);
        uint64_t start = b->ob.n;
        int e = mx_next(st, pk, &b->ob);
        if (UNLIKELY(e)) { b->ob.n = start; b->perr[p - b->a] = 1; b->cnt[p - b->a] = 0; }
        else { b->perr[p - b->a] = 0; b->cnt[p - b->a] = (uint32_t)(b->ob.n - start); }
    }
    uint64_t n = b->ob.n;
    if (n > b->rescap) {
        uint64_t cap = b->ob.cap;
        for (int h = 0; h < 2; h++) {
            int32_t *r = realloc(b->res[h], cap * sizeof(int32_t));
            if (!r) { b->oom = 1; return; }
            b->res[h] = r;
            uint32_t *x = realloc(b->sidx[h], cap * sizeof(uint32_t));
            if (!x) { b->oom = 1; return; }
            b->sidx[h] = x;
        }
        uint64_t *hh = realloc(b->hash, cap * sizeof(uint64_t));
        if (!hh) { b->oom = 1; return; }
        b->hash = hh;
        if (c->cont) {
            for (int h = 0; h < 2; h++) {
                uint64_t *f = realloc(b->fmask[h], cap * sizeof(uint64_t));
                if (!f) { b->oom = 1; return; }
                b->fmask[h] = f;
                uint64_t *em = realloc(b->emask[h], cap * sizeof(uint64_t));
                if (!em) { b->oom = 1; return; }
                b->emask[h] = em;
            }
        }
        b->rescap = cap;
    }
    b->ns[0] = b->ns[1] = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t h = khash(&b->ob.keys[i]);
        b->hash[i] = h;
        int sh = (int)(h >> 63);
        b->sidx[sh][b->ns[sh]++] = (uint32_t)i;
    }
}

static void *phase1_thread(void *arg) {
    job *j = arg;
    double t0 = now_s();
    expand_range(j->c, &j->c->tb[j->t]);
    j->c->tth[j->t] += now_s() - t0;
    return 0;
}

static inline void judge_new(ctx *c, tbuf *b, uint64_t i, int sh) {
    if (!c->check_inv) { b->res[sh][i] = R_NEW; return; }
    SV st[NS];
    unpack(&b->ob.keys[i], st);
    if (!c->cont) {
        int e = 0;
        int r = inv_first(st, &e);
        b->res[sh][i] = e ? R_INVERR : r;
        return;
    }
    uint64_t fm = 0, em = 0;
    for (int v = 0; v < NINV; v++) {
        int e = 0;
        int ok = inv_one(v, st, &e);
        if (e) em |= 1ULL << v;
        else if (!ok) fm |= 1ULL << v;
    }
    b->fmask[sh][i] = fm; b->emask[sh][i] = em;
    b->res[sh][i] = R_NEW;
}

#define PF_DIST 20

static inline void dedup_one(ctx *c, tbuf *b, uint64_t i, int sh) {
    const pkey_t *k = &b->ob.keys[i];
    uint64_t h = b->hash[i];
    if (c->cut_mode) { b->res[sh][i] = hs_find(&c->hs[sh], k, h) ? R_DUP : R_NEW; return; }
    int r = hs_insert(&c->hs[sh], k, h);
    if (r < 0) { b->res[sh][i] = R_OOM; c->shard_oom[sh] = 1; }
    else if (r == 0) b->res[sh][i] = R_DUP;
    else judge_new(c, b, i, sh);
}

/* Look up / insert the successors of `nbuf` buffers in order: all of them (shard < 0), or only
   those of table `shard`, through the per-table position lists. */
static void dedup(ctx *c, int nbuf, int shard) {
    for (int t = 0; t < nbuf; t++) {
        tbuf *b = &c->tb[t];
        const uint64_t *H = b->hash;
        if (shard < 0) {
            uint64_t n = b->ob.n;
            for (uint64_t j = 0; j < n && j < PF_DIST; j++) {
                int sh = (int)(H[j] >> 63);
                __builtin_prefetch(&c->hs[sh].tab[H[j] & (c->hs[sh].cap - 1)]);
            }
            for (uint64_t i = 0; i < n; i++) {
                if (i + PF_DIST < n) {
                    uint64_t hj = H[i + PF_DIST];
                    int sj = (int)(hj >> 63);
                    __builtin_prefetch(&c->hs[sj].tab[hj & (c->hs[sj].cap - 1)]);
                }
                dedup_one(c, b, i, (int)(H[i] >> 63));
            }
        } else {
            const uint32_t *L = b->sidx[shard];
            uint64_t n = b->ns[shard];
            hset *hs = &c->hs[shard];
            for (uint64_t j = 0; j < n && j < PF_DIST; j++) __builtin_prefetch(&hs->tab[H[L[j]] & (hs->cap - 1)]);
            for (uint64_t j = 0; j < n; j++) {
                if (j + PF_DIST < n) __builtin_prefetch(&hs->tab[H[L[j + PF_DIST]] & (hs->cap - 1)]);
                dedup_one(c, b, L[j], shard);
            }
        }
    }
}

static void *phase2_thread(void *arg) {
    job *j = arg;
    dedup(j->c, j->t, j->shard);
    return 0;
}

static int stop(ctx *c, int status, uint64_t state) {
    c->status = status; c->stop_state = state;
    return status;
}

/* phase 3 over one chunk, as engine.explore's loop body; returns a status (ST_RUNNING to go on).
   c->cur is the reference's cursor: the next state to expand. */
static int record(ctx *c, int nbuf) {
    for (int t = 0; t < nbuf; t++)
        if (c->tb[t].oom) return stop(c, ST_OOM, 0);
    for (int t = 0; t < nbuf; t++) {
        tbuf *b = &c->tb[t];
        uint64_t e = 0;
        for (uint64_t p = b->a; p < b->b; p++) {
            uint64_t q = p - b->a;
            c->cur = p;
            if (b->perr[q]) return stop(c, ST_ERROR, p);
            uint32_t cnt = b->cnt[q];
            if (c->cut_mode) {
                /* at max depth: not expanded; the run is cut if a successor is new */
                for (uint64_t x = e; x < e + cnt; x++)
                    if (b->res[b->hash[x] >> 63][x] == R_NEW) { c->cut = 1; break; }
                e += cnt;
                continue;
            }
            if (cnt == 0) {
                if (c->deadlock) return stop(c, ST_DEADLOCK, p);
                continue;
            }
            /* memory first, so that a stop for memory lands between two parents (exact resume) */
            uint64_t fresh = 0;
            for (uint64_t x = e; x < e + cnt; x++) {
                int32_t r = b->res[b->hash[x] >> 63][x];
                if (r == R_OOM) return stop(c, ST_OOM, 0);
                fresh += r != R_DUP;
            }
            if (store_reserve(c, c->n + fresh)) return stop(c, ST_OOM, 0);
            c->transitions += cnt;
            uint32_t prev = 0xFFFFFFFFu;
            for (uint64_t x = e; x < e + cnt; x++) {
                uint32_t k = b->ob.inst[x];
                c->fired[k]++;
                if (k != prev) { c->enabled[k]++; prev = k; }
                int sh = (int)(b->hash[x] >> 63);
                int32_t r = b->res[sh][x];
                if (r == R_DUP) continue;
                uint64_t nn = c->n++;
                c->states[nn] = b->ob.keys[x]; c->parent[nn] = (uint32_t)p; c->via[nn] = (via_t)k;
                if (c->npending > 0 && probe_state(c, nn)) { c->cur = p + 1; return stop(c, ST_PROBEERR, nn); }
                if (!c->check_inv) continue;
                if (!c->cont) {
                    if (r == R_INVERR) { c->cur = p + 1; return stop(c, ST_INVERR, nn); }
                    if (r >= 0) {
                        c->viol_inv[c->nviol] = r; c->viol_idx[c->nviol] = nn; c->nviol++;
                        c->cur = p + 1;
                        return stop(c, ST_VIOLATION, nn);
                    }
                    continue;
                }
                uint64_t live = ~c->viol_mask;
                if (b->emask[sh][x] & live) { c->cur = p + 1; return stop(c, ST_INVERR, nn); }
                uint64_t f = b->fmask[sh][x] & live;
                for (int v = 0; v < NINV; v++) {
                    if (f >> v & 1) {
                        c->viol_inv[c->nviol] = v; c->viol_idx[c->nviol] = nn; c->nviol++;
                        c->viol_mask |= 1ULL << v;
                    }
                }
                if (NINV > 0 && c->cont == 1 && c->viol_mask == (NINV >= 64 ? ~0ULL : ((1ULL << NINV) - 1))) {
                    c->cur = p + 1;
                    return stop(c, ST_VIOLATION, nn);
                }
            }
            e += cnt;
            c->cur = p + 1;
            if (c->max_states >= 0 && (int64_t)c->n >= c->max_states && c->cur < c->n)
                return stop(c, ST_MAXSTATES, 0);
        }
    }
    c->cur = c->tb[nbuf - 1].b;
    return ST_RUNNING;
}

static int do_chunk2(ctx *c, uint64_t a, uint64_t b, int nbuf);
/* One or two threads for this chunk: whichever has been cheaper per successor lately (the other
   is tried on every 16th large chunk), since a second core only pays when it is not busy with
   something else. The choice never changes results. */
static int do_chunk(ctx *c, uint64_t a, uint64_t b) {
    double t0 = now_s();
    int two = 0, timed = c->nth > 1 && b - a >= 4096;
    if (timed) {
        if (c->cost[1] == 0) two = 1;
        else if (c->cost[0] == 0) two = 0;
        else two = c->cost[1] < c->cost[0];
        if (++c->nchunks % 16 == 0) two = !two;
        if (c->fixed >= 0) two = c->fixed;
    }
    uint64_t before = c->transitions;
    int r = do_chunk2(c, a, b, two ? 2 : 1);
    double dt = now_s() - t0;
    c->tph[2] += dt;
    if (timed && r == ST_RUNNING) {
        uint64_t succ = c->tb[0].ob.n + (two ? c->tb[1].ob.n : 0);
        (void)before;
        if (succ) {
            double per = dt / (double)succ;
            c->cost[two] = c->cost[two] == 0 ? per : 0.7 * c->cost[two] + 0.3 * per;
            c->chunks_two += two;
        }
    }
    return r;
}
static int do_chunk2(ctx *c, uint64_t a, uint64_t b, int nbuf) {
    double t0 = now_s();
    if (nbuf == 2) {
        uint64_t mid = a + (b - a) / 2;
        c->tb[0].a = a; c->tb[0].b = mid; c->tb[1].a = mid; c->tb[1].b = b;
        pthread_t th;
        job j1 = {c, 1, 0};
        job j0 = {c, 0, 0};
        if (pthread_create(&th, 0, phase1_thread, &j1) != 0) {
            expand_range(c, &c->tb[1]);
        } else {
            phase1_thread(&j0);
            pthread_join(th, 0);
        }
        if (c->tb[0].oom || c->tb[1].oom) return stop(c, ST_OOM, 0);
        double t1 = now_s(); c->tph[0] += t1 - t0;
        job j2 = {c, 2, 1};
        if (pthread_create(&th, 0, phase2_thread, &j2) != 0) {
            dedup(c, 2, -1);
        } else {
            dedup(c, 2, 0);
            pthread_join(th, 0);
        }
        c->tph[1] += now_s() - t1;
    } else {
        c->tb[0].a = a; c->tb[0].b = b;
        expand_range(c, &c->tb[0]);
        if (c->tb[0].oom) return stop(c, ST_OOM, 0);
        double t1 = now_s(); c->tph[0] += t1 - t0;
        dedup(c, 1, -1);
        c->tph[1] += now_s() - t1;
    }
    double t2 = now_s();
    int r = record(c, nbuf);
    c->tph[3] += now_s() - t2;
    return r;
}

/* Explore until the run ends or `budget` seconds have passed; returns a ST_* status. */
int mx_run(void *p, double budget) {
    ctx *c = p;
    if (c->status != ST_RUNNING) return c->status;
    double t0 = now_s();
    if (!c->started) {
        c->started = 1;
        c->lvl_start = 0; c->lvl_end = c->n; c->depth = 0; c->level_open = 0; c->cur = 0;
        if (lvl_push(c, 0)) return stop(c, ST_OOM, 0);
    }
    for (;;) {
        if (!c->level_open) {
            if (c->lvl_end == c->lvl_start) { c->cur = c->n; return stop(c, ST_COMPLETE, 0); }
            c->cut_mode = c->max_depth >= 0 && c->depth >= c->max_depth;
            if (lvl_push(c, c->lvl_end)) return stop(c, ST_OOM, 0);
            c->level_open = 1;
            c->cur = c->lvl_start;
        }
        if (c->cur == c->lvl_end) {
            if (c->n > c->lvl_end) c->depth++;
            c->lvl_start = c->lvl_end; c->lvl_end = c->n; c->level_open = 0;
            continue;
        }
        uint64_t a = c->cur, b = a + c->chunk;
        if (b > c->lvl_end) b = c->lvl_end;
        int r = do_chunk(c, a, b);
        if (r != ST_RUNNING) return r;
        if (now_s() - t0 >= budget) return ST_RUNNING;
    }
}

void mx_info(void *p, mx_info_t *out) {
    ctx *c = p;
    out->n = c->n; out->transitions = c->transitions; out->status = c->status; out->stop_state = c->stop_state;
    out->cursor = c->cur; out->nviol = c->nviol; out->nlvl = c->nlvl; out->depth = c->depth; out->cut = c->cut;
    out->table_bytes = (int64_t)(c->hs[0].cap + c->hs[1].cap) * sizeof(pkey_t);
    out->store_bytes = (int64_t)c->cap * STATE_BYTES;
    out->budget_hit = c->bg.hit;
}
/* the memory budget in bytes (0: none), counted from what is held now */
void mx_set_budget(void *p, int64_t bytes) { ctx *c = p; c->bg.limit = bytes > 0 ? c->bg.used + (uint64_t)bytes : 0; }

/* every stored state: slot values (n * NS), parent (-1 for initial states) and via (-1 likewise) */
void mx_dump(void *p, int64_t *vals, int64_t *parent, int64_t *via) {
    ctx *c = p;
    SV st[NS];
    for (uint64_t i = 0; i < c->n; i++) {
        unpack(&c->states[i], st);
        for (int j = 0; j < NS; j++) vals[i * NS + j] = st[j];
        int init = c->parent[i] == 0xFFFFFFFFu;
        parent[i] = init ? -1 : (int64_t)c->parent[i];
        via[i] = init ? -1 : (int64_t)c->via[i];
    }
}

/* a checkpoint's states into an empty context: 0, -1 a value outside its domain, -2 out of memory */
int mx_load(void *p, int64_t n, const int64_t *vals, const int64_t *parent, const int64_t *via) {
    ctx *c = p;
    if (store_reserve(c, (uint64_t)n)) return -2;
    for (int64_t i = 0; i < n; i++) {
        pkey_t k;
        if (pack_vals(vals + i * NS, &k)) return -1;
        uint64_t hv = khash(&k);
        int r = hs_insert(&c->hs[hv >> 63], &k, hv);
        if (r < 0) return -2;
        if (r == 0) return -1;
        c->states[c->n] = k;
        c->parent[c->n] = parent[i] < 0 ? 0xFFFFFFFFu : (uint32_t)parent[i];
        c->via[c->n] = parent[i] < 0 ? 0 : (via_t)via[i];
        c->n++;
    }
    return 0;
}

/* where a resumed search stands: the level table (nlvl starts, the last one the end of the level
   being expanded), its depth, the cursor inside it, and the counters */
int mx_set_position(void *p, int64_t nlvl, const int64_t *lvl, int64_t depth, int64_t cur, int64_t transitions,
                    int64_t cut, const int64_t *fired, const int64_t *enabled, int64_t nviol, const int64_t *vinv,
                    const int64_t *vidx) {
    ctx *c = p;
    for (int64_t i = 0; i < nlvl; i++) if (lvl_push(c, (uint64_t)lvl[i])) return -2;
    if (nviol > NV) return -1;
    c->started = 1; c->level_open = 1;
    c->depth = depth; c->lvl_start = (uint64_t)lvl[nlvl - 2]; c->lvl_end = (uint64_t)lvl[nlvl - 1]; c->cur = (uint64_t)cur;
    c->cut_mode = c->max_depth >= 0 && c->depth >= c->max_depth;
    c->transitions = (uint64_t)transitions; c->cut = (int)cut;
    for (int i = 0; i < NI; i++) { c->fired[i] = (uint64_t)fired[i]; c->enabled[i] = (uint64_t)enabled[i]; }
    c->nviol = (int)nviol;
    for (int64_t i = 0; i < nviol; i++) { c->viol_inv[i] = (int32_t)vinv[i]; c->viol_idx[i] = (uint64_t)vidx[i]; }
    return 0;
}
void mx_counts(void *p, int64_t *fired, int64_t *enabled) {
    ctx *c = p;
    for (int i = 0; i < NI; i++) { fired[i] = c->fired[i]; enabled[i] = c->enabled[i]; }
}
void mx_violations(void *p, int64_t *inv, int64_t *idx) {
    ctx *c = p;
    for (int i = 0; i < c->nviol; i++) { inv[i] = c->viol_inv[i]; idx[i] = c->viol_idx[i]; }
}
void mx_levels(void *p, int64_t *out) {
    ctx *c = p;
    for (uint64_t i = 0; i < c->nlvl; i++) out[i] = c->lvl[i];
}
/* the slot values of state idx; returns its parent (-1 for an initial state) and via in *via */
int64_t mx_get(void *p, uint64_t idx, int64_t *vals, int64_t *via) {
    ctx *c = p;
    SV st[NS];
    unpack(&c->states[idx], st);
    for (int i = 0; i < NS; i++) vals[i] = st[i];
    *via = c->parent[idx] == 0xFFFFFFFFu ? -1 : c->via[idx];
    return c->parent[idx] == 0xFFFFFFFFu ? -1 : (int64_t)c->parent[idx];
}
/* NS, W, NI, NINV, sizeof(key), sizeof(via), NPROBE */
void mx_meta(int64_t *out) {
    out[0] = NS; out[1] = W; out[2] = NI; out[3] = NINV; out[4] = sizeof(pkey_t); out[5] = sizeof(via_t); out[6] = NPROBE;
}
/* a frontier-free check of one state: successors' error flag (used by tests) */
int mx_probe(const int64_t *vals) {
    pkey_t k;
    if (pack_vals(vals, &k)) return -1;
    SV st[NS];
    unpack(&k, st);
    obuf ob = {0, 0, 0, 0};
    int e = mx_next(st, &k, &ob);
    free(ob.keys); free(ob.inst);
    return e ? -2 : (int)ob.n;
}
