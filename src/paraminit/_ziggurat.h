/* The ziggurat kernel of paraminit._native (included by _native.c, after Python.h).
 *
 * engine/ziggurat.py's standard_normal step for step: the candidates, their exact
 * slow path with portable.log1's log, the spares and the shortfall, drawing the
 * same words in the same order. Plain C on raw words; no Python object is touched,
 * so it runs with the GIL released.
 */
#ifndef PARAMINIT_ZIGGURAT_H
#define PARAMINIT_ZIGGURAT_H

/* numpy/random/bitgen.h, declared here: the layout numpy documents for its capsule. */
typedef struct bitgen {
    void *state;
    uint64_t (*next_uint64)(void *st);
    uint32_t (*next_uint32)(void *st);
    double (*next_double)(void *st);
    uint64_t (*next_raw)(void *st);
} bitgen_t;

#define BUCKET_BITS 6
#define FAST_SIZE (1 << (9 + BUCKET_BITS)) /* [layer | sign | bucket] */
#define LAYERS 256
#define LG_TERMS 7
#define TWO_M53 (1.0 / 9007199254740992.0) /* 2**-53, exact */

static struct {
    int ready;
    /* By [layer | sign]: +-X[layer], and the bits of u below which the candidate is a
     * sure accept (the fast table's buckets that hold +-X, not NaN). */
    struct {
        float x;
        uint32_t sure_below;
    } lane32[2 * LAYERS];
    struct {
        double x;
        uint64_t sure_below;
    } lane64[2 * LAYERS];
    double f[LAYERS], f_step[LAYERS];
    double base32, base64, r;
    double lg[LG_TERMS], ln2_hi, ln2_lo;
    uint64_t sqrt_half_bits;
    /* SFC64's next_raw, once configure() has checked that inline_sfc64 matches it. */
    uint64_t (*sfc64_raw)(void *st);
} T;

/* ------------------------------------------------------------------ the portable log */

/* portable.log1, step by step: each line one correctly rounded operation. */
static double portable_log(double x)
{
    uint64_t bits, mantissa_bits;
    double k, m, f, s, z, acc, hfsq;
    int i;
    memcpy(&bits, &x, sizeof bits);
    bits += UINT64_C(0x3FF0000000000000) - T.sqrt_half_bits;
    k = (double)((int64_t)(bits >> 52) - 1023);
    mantissa_bits = (bits & ((UINT64_C(1) << 52) - 1)) + T.sqrt_half_bits;
    memcpy(&m, &mantissa_bits, sizeof m);
    f = m - 1.0;
    s = f / (f + 2.0);
    z = s * s;
    acc = z * T.lg[LG_TERMS - 1];
    for (i = LG_TERMS - 2; i >= 0; i--) {
        acc = acc + T.lg[i];
        acc = acc * z;
    }
    hfsq = f * f;
    hfsq = hfsq * 0.5;
    acc = acc + hfsq;
    acc = acc * s;
    acc = acc + k * T.ln2_lo;
    acc = hfsq - acc;
    acc = acc - f;
    return k * T.ln2_hi - acc;
}

/* ------------------------------------------------------------------ candidates */

typedef struct {
    Py_ssize_t index; /* the candidate's position */
    double u;         /* its u, exact in double for both dtypes */
    double value;     /* decided value in the work dtype, or NaN */
    int code;         /* [layer | sign] */
    int tail;
} Slow;

typedef struct {
    Slow *items;
    Py_ssize_t size, capacity;
} SlowList;

static int push(SlowList *list, Py_ssize_t index, int code, double u)
{
    if (list->size == list->capacity) {
        Py_ssize_t capacity = list->capacity ? 2 * list->capacity : 256;
        Slow *items = realloc(list->items, (size_t)capacity * sizeof(Slow));
        if (items == NULL) {
            return -1;
        }
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->size].index = index;
    list->items[list->size].code = code;
    list->items[list->size].u = u;
    list->size++;
    return 0;
}

static inline uint64_t raw(bitgen_t *bg)
{
    /* next_raw is what BitGenerator.random_raw calls once per word. */
    return bg->next_raw(bg->state);
}

/* SFC64 (NEP 19 freezes its stream) on a state of four words (s[3] the counter):
 * numpy's sfc64_next. Called through next_raw, each word stores and reloads the
 * state, a dependency chain that costs more than the word; inline, the state stays
 * in registers. numpy does not document its sfc64_state (the four words first), so
 * configure() tests this function against next_raw and enables it only if they agree. */
static void inline_sfc64(uint64_t *state, uint64_t *words, Py_ssize_t count)
{
    uint64_t a = state[0], b = state[1], c = state[2], counter = state[3];
    Py_ssize_t i;
    for (i = 0; i < count; i++) {
        uint64_t tmp = a + b + counter++;
        a = b ^ (b >> 11);
        b = c + (c << 3);
        c = ((c << 24) | (c >> 40)) + tmp;
        words[i] = tmp;
    }
    state[0] = a;
    state[1] = b;
    state[2] = c;
    state[3] = counter;
}

/* `count` raw words, as `count` calls of next_raw give them. */
static void raw_words(bitgen_t *bg, uint64_t *words, Py_ssize_t count)
{
    Py_ssize_t i;
    if (bg->next_raw == T.sfc64_raw && T.sfc64_raw != NULL) {
        inline_sfc64((uint64_t *)bg->state, words, count);
        return;
    }
    if (bg->next_raw == philox_raw) { /* the small-array path's own Philox (_philox.h) */
        for (i = 0; i < count; i++) {
            words[i] = philox_next((Philox *)bg->state);
        }
        return;
    }
    for (i = 0; i < count; i++) {
        words[i] = raw(bg);
    }
}

/* Words are drawn CHUNK at a time, then turned into candidates in a loop without
 * calls (a call through next_raw spills every vector register), then scanned for
 * the slow ones: about twice as fast as one pass per word. */
#define CHUNK 256

static inline float u32(uint32_t w)
{
    uint32_t bits = (w & 0x7FFFFFu) | 0x3F800000u;
    float u;
    memcpy(&u, &bits, sizeof u);
    return u - 1.0f;
}

static inline double u64(uint64_t w)
{
    uint64_t bits = (w & ((UINT64_C(1) << 52) - 1)) | UINT64_C(0x3FF0000000000000);
    double u;
    memcpy(&u, &bits, sizeof u);
    return u - 1.0;
}

/* [layer | sign] of a candidate word, and its u's bits (float32: 23, float64: 52). */
#define CODE32(w) ((w) >> 23)
#define CODE64(w) ((uint32_t)((w) >> 52) & (2 * LAYERS - 1))
#define UBITS32(w) ((w) & 0x7FFFFFu)
#define UBITS64(w) ((w) & ((UINT64_C(1) << 52) - 1))

/* One candidate j: u X[layer] with its sign, and j appended to `hits` (without a
 * branch) where the slow path decides: the fast table's NaN buckets, u's bits at or
 * above the layer's sure threshold. One entry per [layer | sign], in L1. */
#define CANDIDATE(lane, code, ubits, u, j)                                                                         \
    do {                                                                                                           \
        o[j] = (lane)[code].x * (u);                                                                               \
        hits[found] = (j);                                                                                         \
        found += (ubits) >= (lane)[code].sure_below;                                                               \
    } while (0)

/* ziggurat._candidates: float32 takes the 32-bit halves of ceil(total / 2) words,
 * low half first; the last word's high half is unused when total is odd. */
static int candidates32(bitgen_t *bg, float *out, Py_ssize_t total, SlowList *slow)
{
    uint64_t words[CHUNK];
    int hits[2 * CHUNK], found, i, k;
    Py_ssize_t start;
    for (start = 0; start < total; start += 2 * CHUNK) {
        int count = (int)(total - start < 2 * CHUNK ? total - start : 2 * CHUNK);
        float *o = out + start;
        raw_words(bg, words, (count + 1) / 2);
        found = 0;
        for (i = 0; i < count / 2; i++) {
            uint32_t lo = (uint32_t)words[i], hi = (uint32_t)(words[i] >> 32);
            CANDIDATE(T.lane32, CODE32(lo), UBITS32(lo), u32(lo), 2 * i);
            CANDIDATE(T.lane32, CODE32(hi), UBITS32(hi), u32(hi), 2 * i + 1);
        }
        if (count & 1) {
            uint32_t lo = (uint32_t)words[count / 2];
            CANDIDATE(T.lane32, CODE32(lo), UBITS32(lo), u32(lo), count - 1);
        }
        for (k = 0; k < found; k++) {
            uint32_t w = (uint32_t)(words[hits[k] >> 1] >> (32 * (hits[k] & 1)));
            if (push(slow, start + hits[k], (int)CODE32(w), (double)u32(w))) {
                return -1;
            }
        }
    }
    return 0;
}

static int candidates64(bitgen_t *bg, double *out, Py_ssize_t total, SlowList *slow)
{
    uint64_t words[CHUNK];
    int hits[CHUNK], found, j, k;
    Py_ssize_t start;
    for (start = 0; start < total; start += CHUNK) {
        int count = (int)(total - start < CHUNK ? total - start : CHUNK);
        double *o = out + start;
        raw_words(bg, words, count);
        found = 0;
        for (j = 0; j < count; j++) {
            CANDIDATE(T.lane64, CODE64(words[j]), UBITS64(words[j]), u64(words[j]), j);
        }
        for (k = 0; k < found; k++) {
            uint64_t w = words[hits[k]];
            if (push(slow, start + hits[k], (int)CODE64(w), u64(w))) {
                return -1;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ the slow path */

static inline double open_uniform(bitgen_t *bg)
{
    return 1.0 - (double)(raw(bg) >> 11) * TWO_M53;
}

/* t of the first of `tries` tries (u1, u2) with -2 log(u2) > t**2, t = -log(u1) / R;
 * returns 0 when none passes (ziggurat._tail's row). */
static int tail_try(bitgen_t *bg, int tries, double *t_out)
{
    int k, found = 0;
    for (k = 0; k < tries; k++) {
        double t = portable_log(open_uniform(bg)) / -T.r;
        double l2 = portable_log(open_uniform(bg));
        if (!found && l2 * -2.0 > t * t) {
            *t_out = t;
            found = 1;
        }
    }
    return found;
}

/* ziggurat._exact on slow->items[from:]: one word per candidate for the wedge's v,
 * then 2 * tries words per tail candidate in order, then the re-draw rounds of
 * ziggurat._tail (all rows still missing, in order, each round). */
static int decide(bitgen_t *bg, SlowList *slow, Py_ssize_t from, int is32, int tries)
{
    Py_ssize_t i, tails = 0, missing, rounds;
    Py_ssize_t *rows;
    const double base = is32 ? T.base32 : T.base64;
    for (i = from; i < slow->size; i++) {
        Slow *c = &slow->items[i];
        int layer = c->code >> 1;
        double v = (double)(raw(bg) >> 11) * TWO_M53;
        double x = is32 ? (double)((float)c->u * T.lane32[c->code].x) : c->u * T.lane64[c->code].x;
        c->tail = layer == 0 && c->u >= base;
        if (layer == 0) {
            c->value = x; /* the base rectangle passes; a tail's value comes below */
            tails += c->tail;
        } else {
            double y = T.f[layer] + v * T.f_step[layer];
            c->value = portable_log(y) < -0.5 * (x * x) ? x : Py_NAN;
        }
    }
    if (!tails) {
        return 0;
    }
    rows = malloc((size_t)tails * sizeof *rows);
    if (rows == NULL) {
        return -1;
    }
    missing = 0;
    for (i = from; i < slow->size; i++) {
        if (slow->items[i].tail) {
            rows[missing++] = i;
        }
    }
    /* Each round draws for every row still missing, in order; a row resolved in
     * round d gets t + R, then (r - R) + R once per enclosing round, as _tail's
     * recursion rounds it. */
    for (rounds = 0; missing; rounds++) {
        Py_ssize_t still = 0;
        for (i = 0; i < missing; i++) {
            Py_ssize_t row = rows[i];
            double t = 0.0;
            if (tail_try(bg, tries, &t)) {
                Slow *c = &slow->items[row];
                double r = t + T.r;
                Py_ssize_t d;
                for (d = 0; d < rounds; d++) {
                    r = r - T.r;
                    r = r + T.r;
                }
                c->value = is32 ? (double)(float)(c->code & 1 ? -r : r) : (c->code & 1 ? -r : r);
            }
            else {
                rows[still++] = row;
            }
        }
        missing = still;
    }
    free(rows);
    return 0;
}

/* ------------------------------------------------------------------ a block */

#define IS_NAN(x) ((x) != (x))

typedef struct {
    bitgen_t *bg;
    void *out;
    Py_ssize_t n, total;
    int is32, tries;
} Draw;

static inline double get(const Draw *d, const void *buf, Py_ssize_t j)
{
    return d->is32 ? (double)((const float *)buf)[j] : ((const double *)buf)[j];
}

static inline void put(const Draw *d, void *buf, Py_ssize_t j, double value)
{
    if (d->is32) {
        ((float *)buf)[j] = (float)value; /* exact: value is a float */
    }
    else {
        ((double *)buf)[j] = value;
    }
}

static int candidates(const Draw *d, void *buf, Py_ssize_t total, SlowList *slow)
{
    return d->is32 ? candidates32(d->bg, buf, total, slow) : candidates64(d->bg, buf, total, slow);
}

/* ziggurat.standard_normal's block: candidates, their slow path, then each failing
 * value of the first n takes the next passing spare; a shortfall draws more
 * candidates (2 * (failed - good) + 64 at a time) by the same method. */
static int draw(const Draw *d)
{
    SlowList slow = {NULL, 0, 0}, extra_slow = {NULL, 0, 0};
    void *extra = NULL;
    Py_ssize_t i, failed = 0, good = 0, next_spare = d->n, item_size = d->is32 ? 4 : 8;
    int status = -1;
    if (candidates(d, d->out, d->total, &slow) || decide(d->bg, &slow, 0, d->is32, d->tries)) {
        goto done;
    }
    for (i = 0; i < slow.size; i++) {
        put(d, d->out, slow.items[i].index, slow.items[i].value);
        failed += slow.items[i].index < d->n && IS_NAN(slow.items[i].value);
    }
    if (!failed) {
        status = 0;
        goto done;
    }
    for (i = d->n; i < d->total; i++) {
        good += !IS_NAN(get(d, d->out, i));
    }
    /* Failing values in order take the spares that pass, in order. */
    for (i = 0; i < slow.size && slow.items[i].index < d->n; i++) {
        Py_ssize_t j = slow.items[i].index;
        if (!IS_NAN(slow.items[i].value)) {
            continue;
        }
        if (good > 0) {
            while (IS_NAN(get(d, d->out, next_spare))) {
                next_spare++;
            }
            put(d, d->out, j, get(d, d->out, next_spare++));
            good--;
            failed--;
            continue;
        }
        break; /* the shortfall below fills this value and those after it */
    }
    while (failed > 0) {
        Py_ssize_t more = 2 * (failed - good) + 64, k, next = 0;
        void *grown = realloc(extra, (size_t)(more * item_size));
        if (grown == NULL) {
            goto done;
        }
        extra = grown;
        extra_slow.size = 0;
        if (candidates(d, extra, more, &extra_slow) || decide(d->bg, &extra_slow, 0, d->is32, d->tries)) {
            goto done;
        }
        for (k = 0; k < extra_slow.size; k++) {
            put(d, extra, extra_slow.items[k].index, extra_slow.items[k].value);
        }
        for (; i < slow.size && slow.items[i].index < d->n && failed > 0; i++) {
            if (!IS_NAN(slow.items[i].value)) {
                continue;
            }
            while (next < more && IS_NAN(get(d, extra, next))) {
                next++;
            }
            if (next == more) {
                break;
            }
            put(d, d->out, slow.items[i].index, get(d, extra, next++));
            failed--;
        }
        good = 0;
    }
    status = 0;
done:
    free(slow.items);
    free(extra_slow.items);
    free(extra);
    return status;
}

#endif /* PARAMINIT_ZIGGURAT_H */
