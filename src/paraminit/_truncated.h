/* paraminit._native's truncated normal: TruncatedNormal's normal-proposal method
 * (engine/truncated.py) on raw words, Python-free; included by _native.c after the
 * ziggurat and the small-array helpers it uses (zig_total, draw). */
#ifndef PARAMINIT_TRUNCATED_H
#define PARAMINIT_TRUNCATED_H

/* TruncatedNormal._fill_by_normal (engine/truncated.py) on a bit generator: n + spares
 * standard normals (one ziggurat block), each of the first n outside [z_lo, z_hi]
 * replaced by the next spare inside, in order (a shortfall draws 2 (count - good) + 64
 * more, by standard_normal's block, until enough), then fl(z std), + mean if add_mean,
 * in out's dtype. z holds zig_total(n + truncated_spares(n)) values of out's dtype.
 * Returns -1 when out of memory. */
typedef struct {
    double z_lo, z_hi, std, mean, accept, sigmas, fail;
    int add_mean, tries;
} Truncation;


static Py_ssize_t truncated_spares(Py_ssize_t n, const Truncation *t)
{
    double rejected = (double)n * (1.0 - t->accept);
    double spares = (rejected + t->sigmas * sqrt(rejected * t->accept)) / t->accept;
    return (spares > 0.0 ? (Py_ssize_t)spares : 0) + 16;
}

#define OUTSIDE(v, t) ((v) < (t)->z_lo || (v) > (t)->z_hi)

/* One pass over the first n values of z: dest = fl(v s), + m if add_mean, where v is the
 * value itself if inside [lo, hi], else the next spare inside (from *next on, below end).
 * Stops at the first value for which no spare is left and returns its index (n when
 * done; dest from there on is to be rewritten).
 *
 * With SSE2 (and GCC or clang), by runs of 64 values: all scaled and tested by vector
 * operations (IEEE single and double: the scalar roundings), a 64-bit mask of those
 * outside, then only those replaced. A branch per value would mispredict on each of the
 * 4.5% outside a 2-sigma cut: measured, that was most of a scalar pass's time. */
#define REPLACE(T)                                                                                            \
    do {                                                                                                       \
        T v_;                                                                                                  \
        while (j < end && (z[j] < lo || z[j] > hi)) {                                                          \
            j++;                                                                                               \
        }                                                                                                      \
        if (j == end) {                                                                                        \
            *next = j;                                                                                         \
            return at;                                                                                         \
        }                                                                                                      \
        v_ = z[j++] * s;                                                                                       \
        dest[at] = add_mean ? v_ + m : v_;                                                                     \
    } while (0)

#define SCALAR_PASS(T)                                                                                        \
    for (; i < n; i++) {                                                                                       \
        T v = z[i] * s;                                                                                        \
        Py_ssize_t at = i;                                                                                     \
        dest[i] = add_mean ? v + m : v;                                                                        \
        if (z[i] < lo || z[i] > hi) {                                                                          \
            REPLACE(T);                                                                                        \
        }                                                                                                      \
    }

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define RUNS(T, LANES, VEC, SET1, LOAD, STORE, MUL, ADD, OR, LT, GT, MOVEMASK)                               \
    {                                                                                                          \
        VEC vlo = SET1(lo), vhi = SET1(hi), vs = SET1(s), vm = SET1(m);                                        \
        for (; i + 64 <= n; i += 64) {                                                                         \
            uint64_t mask = 0;                                                                                 \
            int k;                                                                                             \
            for (k = 0; k < 64; k += LANES) {                                                                  \
                VEC v = LOAD(z + i + k), w = MUL(v, vs);                                                       \
                STORE(dest + i + k, add_mean ? ADD(w, vm) : w);                                                \
                mask |= (uint64_t)MOVEMASK(OR(LT(v, vlo), GT(v, vhi))) << k;                                   \
            }                                                                                                  \
            while (mask) {                                                                                     \
                Py_ssize_t at = i + __builtin_ctzll(mask);                                                     \
                mask &= mask - 1;                                                                              \
                REPLACE(T);                                                                                    \
            }                                                                                                  \
        }                                                                                                      \
    }
#define RUNS32 RUNS(float, 4, __m128, _mm_set1_ps, _mm_loadu_ps, _mm_storeu_ps, _mm_mul_ps, _mm_add_ps, _mm_or_ps, _mm_cmplt_ps, _mm_cmpgt_ps, _mm_movemask_ps)
#define RUNS64 RUNS(double, 2, __m128d, _mm_set1_pd, _mm_loadu_pd, _mm_storeu_pd, _mm_mul_pd, _mm_add_pd, _mm_or_pd, _mm_cmplt_pd, _mm_cmpgt_pd, _mm_movemask_pd)
#else
#define RUNS32
#define RUNS64
#endif

#define SCALE_PASS(NAME, T, RUNS_T)                                                                           \
    static Py_ssize_t NAME(const T *z, T *dest, Py_ssize_t n, Py_ssize_t *next, Py_ssize_t end, T lo, T hi,  \
                           T s, T m, int add_mean)                                                             \
    {                                                                                                          \
        Py_ssize_t i = 0, j = *next;                                                                           \
        RUNS_T                                                                                                 \
        SCALAR_PASS(T)                                                                                         \
        *next = j;                                                                                             \
        return n;                                                                                              \
    }
SCALE_PASS(scale_pass32, float, RUNS32)
SCALE_PASS(scale_pass64, double, RUNS64)

static void scale_one(void *dest, int is32, Py_ssize_t i, double v, const Truncation *t)
{
    if (is32) {
        float w = (float)v * (float)t->std; /* (float)v exact: v is a float */
        ((float *)dest)[i] = t->add_mean ? w + (float)t->mean : w;
    }
    else {
        double w = v * t->std;
        ((double *)dest)[i] = t->add_mean ? w + t->mean : w;
    }
}

static int truncated_fill(bitgen_t *bg, void *out, int is32, Py_ssize_t n, void *z, const Truncation *t)
{
    Py_ssize_t spares = truncated_spares(n, t), i, count = 0, have = 0, next = n;
    double *more_values = NULL;
    void *extra = NULL;
    Draw d;
    int status = -1;
    d.bg = bg;
    d.out = z;
    d.n = n + spares;
    d.total = zig_total(d.n, t->fail);
    d.is32 = is32;
    d.tries = t->tries;
    if (draw(&d)) {
        return -1;
    }
    i = is32 ? scale_pass32(z, out, n, &next, n + spares, (float)t->z_lo, (float)t->z_hi, (float)t->std,
                            (float)t->mean, t->add_mean)
             : scale_pass64(z, out, n, &next, n + spares, t->z_lo, t->z_hi, t->std, t->mean, t->add_mean);
    if (i == n) {
        return 0;
    }
    /* A shortfall (rare): every good spare is used; the values outside from i on take the
     * good values of further draws of 2 (count - good) + 64, as _good_spares draws them. */
    for (next = i; next < n; next++) {
        count += OUTSIDE(get(&d, z, next), t);
    }
    more_values = malloc((size_t)count * sizeof *more_values);
    if (more_values == NULL) {
        goto done;
    }
    while (have < count) {
        Draw m = d;
        Py_ssize_t k, want = 2 * (count - have) + 64;
        void *grown = realloc(extra, (size_t)zig_total(want, t->fail) * (is32 ? 4 : 8));
        if (grown == NULL) {
            goto done;
        }
        extra = grown;
        m.out = extra;
        m.n = want;
        m.total = zig_total(want, t->fail);
        if (draw(&m)) {
            goto done;
        }
        for (k = 0; k < want && have < count; k++) {
            double v = get(&m, extra, k);
            if (!OUTSIDE(v, t)) {
                more_values[have++] = v;
            }
        }
    }
    for (have = 0; i < n; i++) {
        double v = get(&d, z, i);
        scale_one(out, is32, i, OUTSIDE(v, t) ? more_values[have++] : v, t);
    }
    status = 0;
done:
    free(more_values);
    free(extra);
    return status;
}

#endif
