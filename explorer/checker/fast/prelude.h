/* Runtime helpers for a translated model: 64-bit values, checked arithmetic with Python's floor
   division, index and domain checks. An error sets *err; the caller re-runs the state in the
   reference backend for the exact message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <pthread.h>
#include <sys/mman.h>

typedef int64_t V;
typedef int32_t SV;
#define SETERR() (*err = 1)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static inline V ad(V a, V b, int *err) { V r; if (UNLIKELY(__builtin_add_overflow(a, b, &r))) { SETERR(); return 0; } return r; }
static inline V sb(V a, V b, int *err) { V r; if (UNLIKELY(__builtin_sub_overflow(a, b, &r))) { SETERR(); return 0; } return r; }
static inline V ml(V a, V b, int *err) { V r; if (UNLIKELY(__builtin_mul_overflow(a, b, &r))) { SETERR(); return 0; } return r; }
static inline V ng(V a, int *err) { if (UNLIKELY(a == INT64_MIN)) { SETERR(); return 0; } return -a; }
static inline V fdv(V a, V b, int *err) {
    if (UNLIKELY(b == 0 || (a == INT64_MIN && b == -1))) { SETERR(); return 0; }
    V q = a / b; if ((a % b != 0) && ((a < 0) != (b < 0))) q--; return q;
}
static inline V fmd(V a, V b, int *err) {
    if (UNLIKELY(b == 0 || (a == INT64_MIN && b == -1))) { SETERR(); return 0; }
    V r = a % b; if (r != 0 && ((r < 0) != (b < 0))) r += b; return r;
}
static inline V mn(V a, V b) { return b < a ? b : a; }
static inline V mx(V a, V b) { return b > a ? b : a; }
static inline V ix(V v, V n, int *err) { if (UNLIKELY(v < 0 || v >= n)) { SETERR(); return 0; } return v; }
static inline V lix(const V *a, V n, V i, int *err) { if (UNLIKELY(i < 0 || i >= n)) { SETERR(); return 0; } return a[i]; }
static inline V chk(V v, int ok, int *err) { if (UNLIKELY(!ok)) SETERR(); return v; }
