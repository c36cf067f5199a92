/* paraminit._native: the ziggurat standard normal of engine/ziggurat.py in one pass, and
 * small arrays (engine/blocks.py) filled in one call from Philox keyed in C (_philox.h).
 *
 * The same candidates, the same exact slow path and the same spares as the numpy
 * path, step for step, so the values are bit-identical and the bit generator ends
 * in the same state; only the speed differs. Every value comes from raw 64-bit
 * words and correctly rounded IEEE operations: built with -ffp-contract=off
 * -fno-fast-math (setup.py) so that no compiler fuses a product and a sum into an
 * FMA, which would round once where numpy rounds twice.
 *
 * The tables (the fast table, +-X, F, the accept bound K[0], R) and the constants
 * of the portable log come from Python once, through configure(): they exist only
 * in engine/_ziggurat.py and engine/portable.py.
 *
 * No numpy C-API: arrays arrive through the buffer protocol and the bit generator
 * through numpy's documented capsule (numpy/random/bitgen.h's bitgen_t). The
 * caller owns the generator (paraminit's are thread-local), so numpy's Python-level
 * lock is not taken; the GIL is released for the whole draw.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* float products must round to float (SSE on x86-64, any IEEE FPU without excess
 * precision): with FLT_EVAL_METHOD 1 or 2 (x87) fl(u * X) would round differently. */
#if defined(FLT_EVAL_METHOD)
#if FLT_EVAL_METHOD != 0
#error "paraminit._native needs FLT_EVAL_METHOD == 0 (float and double rounded to their own type)"
#endif
#elif !defined(_MSC_VER)
#error "paraminit._native needs FLT_EVAL_METHOD == 0 and the compiler does not say"
#endif

#include "_philox.h" /* before the ziggurat, which draws Philox words inline */
#include "_ziggurat.h"

/* ------------------------------------------------------------------ Python */

/* A C-contiguous buffer of float16 ('e'), float32 ('f') or float64 ('d') values, as `kinds` allows. */
static int get_buffer(PyObject *obj, Py_buffer *view, const char *kinds, int writable, const char *name)
{
    const char *format;
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0))) {
        return -1;
    }
    format = view->format ? view->format : "B";
    if (format[0] == '=' || format[0] == '<' || format[0] == '@') {
        format++;
    }
    if (strlen(format) != 1 || strchr(kinds, format[0]) == NULL ||
        view->itemsize != (format[0] == 'e' ? 2 : format[0] == 'f' ? 4 : 8)) {
        PyErr_Format(PyExc_TypeError, "paraminit._native: %s must be a buffer of format '%s', not '%s'",
                     name, kinds, format);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* Copies the buffer to dest (if not NULL), refusing one of another size. */
static int copy_table(PyObject *obj, void *dest, const char *kind, Py_ssize_t count, const char *name)
{
    Py_buffer view;
    if (get_buffer(obj, &view, kind, 0, name)) {
        return -1;
    }
    if (view.len != count * view.itemsize) {
        PyErr_Format(PyExc_ValueError, "paraminit._native.configure: %s must hold %zd values, not %zd", name,
                     count, view.len / view.itemsize);
        PyBuffer_Release(&view);
        return -1;
    }
    if (dest != NULL) {
        memcpy(dest, view.buf, (size_t)view.len);
    }
    PyBuffer_Release(&view);
    return 0;
}

/* The lanes from ziggurat's +-X by [layer | sign] and its fast table: how many
 * buckets of a layer hold +-X (the rest NaN) sets the sure threshold of u's bits;
 * refuses a table of any other form. */
static int derive_lanes(PyObject *fast_obj, PyObject *signed_obj, int is32)
{
    Py_buffer fast, signed_x;
    const char *kind = is32 ? "f" : "d";
    int code, bucket, buckets = 1 << BUCKET_BITS, ok = 1;
    if (copy_table(fast_obj, NULL, kind, FAST_SIZE, "fast") || copy_table(signed_obj, NULL, kind, 2 * LAYERS, "signed")) {
        return -1;
    }
    if (get_buffer(fast_obj, &fast, kind, 0, "fast")) {
        return -1;
    }
    if (get_buffer(signed_obj, &signed_x, kind, 0, "signed")) {
        PyBuffer_Release(&fast);
        return -1;
    }
    for (code = 0; code < 2 * LAYERS; code++) {
        double x = is32 ? ((float *)signed_x.buf)[code] : ((double *)signed_x.buf)[code];
        int sure = 0;
        for (bucket = 0; bucket < buckets; bucket++) {
            int at = code * buckets + bucket;
            double value = is32 ? ((float *)fast.buf)[at] : ((double *)fast.buf)[at];
            sure += value == value && bucket == sure;
            ok &= bucket < sure ? value == x : value != value;
        }
        if (is32) {
            T.lane32[code].x = (float)x;
            T.lane32[code].sure_below = (uint32_t)sure << (23 - BUCKET_BITS);
        }
        else {
            T.lane64[code].x = x;
            T.lane64[code].sure_below = (uint64_t)sure << (52 - BUCKET_BITS);
        }
    }
    PyBuffer_Release(&fast);
    PyBuffer_Release(&signed_x);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "paraminit._native.configure: the fast table is not +-X, then NaN");
        return -1;
    }
    return 0;
}

/* Enables inline_sfc64 if, on `probe` (an SFC64 capsule whose state is `expected`),
 * the state's first four words are that state and inline_sfc64 gives next_raw's words. */
static void check_sfc64(PyObject *probe, const uint64_t *expected)
{
    uint64_t copy[4], inline_words[64];
    bitgen_t *bg = PyCapsule_GetPointer(probe, "BitGenerator");
    int i, same;
    T.sfc64_raw = NULL;
    if (bg == NULL) {
        PyErr_Clear();
        return;
    }
    memcpy(copy, bg->state, sizeof copy);
    same = memcmp(copy, expected, sizeof copy) == 0;
    inline_sfc64(copy, inline_words, 64);
    for (i = 0; i < 64; i++) {
        same &= raw(bg) == inline_words[i];
    }
    same &= memcmp(copy, bg->state, sizeof copy) == 0;
    T.sfc64_raw = same ? bg->next_raw : NULL;
}

PyDoc_STRVAR(inline_sfc64_doc, "inline_sfc64() -> bool\n--\n\nWhether SFC64's words are drawn inline.");

static PyObject *uses_inline_sfc64(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    return PyBool_FromLong(T.sfc64_raw != NULL);
}

PyDoc_STRVAR(configure_doc,
             "configure(fast32, fast64, signed32, signed64, f, f_step, lg, base32, base64, r, ln2_hi, ln2_lo, "
             "sqrt_half_bits, sfc64_probe, probe_state)\n--\n\n"
             "Copy the ziggurat's tables and the portable log's constants (once, before any draw), and\n"
             "check inline SFC64 on the capsule of an SFC64 whose state is the 4 words probe_state.");

static PyObject *configure(PyObject *self, PyObject *args)
{
    PyObject *fast32, *fast64, *signed32, *signed64, *f, *f_step, *lg, *probe;
    unsigned long long sqrt_half_bits, probe_state[4];
    uint64_t expected[4];
    int i;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOOOdddddKO(KKKK):configure", &fast32, &fast64, &signed32, &signed64, &f,
                          &f_step, &lg, &T.base32, &T.base64, &T.r, &T.ln2_hi, &T.ln2_lo, &sqrt_half_bits, &probe,
                          &probe_state[0], &probe_state[1], &probe_state[2], &probe_state[3])) {
        return NULL;
    }
    for (i = 0; i < 4; i++) {
        expected[i] = (uint64_t)probe_state[i];
    }
    check_sfc64(probe, expected);
    if (derive_lanes(fast32, signed32, 1) || derive_lanes(fast64, signed64, 0) || copy_table(f, T.f, "d", LAYERS, "f") ||
        copy_table(f_step, T.f_step, "d", LAYERS, "f_step") || copy_table(lg, T.lg, "d", LG_TERMS, "lg")) {
        T.ready = 0;
        return NULL;
    }
    T.sqrt_half_bits = (uint64_t)sqrt_half_bits;
    T.ready = 1;
    Py_RETURN_NONE;
}

static int check_ready(const char *name)
{
    if (!T.ready) {
        PyErr_Format(PyExc_RuntimeError, "paraminit._native.%s: configure() was not called", name);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(standard_normal_doc,
             "standard_normal(capsule, out, n, tries)\n--\n\n"
             "ziggurat.standard_normal's draw of out's size candidates (float32 or float64), the first n\n"
             "of them settled, from the bit generator of `capsule`; `tries` is ziggurat._TAIL_TRIES.");

static PyObject *standard_normal(PyObject *self, PyObject *args)
{
    PyObject *capsule, *out_obj;
    Py_buffer out;
    Py_ssize_t n;
    int tries, status;
    Draw d;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOni:standard_normal", &capsule, &out_obj, &n, &tries) ||
        check_ready("standard_normal")) {
        return NULL;
    }
    d.bg = PyCapsule_GetPointer(capsule, "BitGenerator");
    if (d.bg == NULL || get_buffer(out_obj, &out, "fd", 1, "out")) {
        return NULL;
    }
    d.is32 = out.itemsize == 4;
    d.out = out.buf;
    d.total = out.len / out.itemsize;
    d.n = n;
    d.tries = tries;
    if (n < 0 || n > d.total || tries < 1) {
        PyBuffer_Release(&out);
        PyErr_Format(PyExc_ValueError,
                     "paraminit._native.standard_normal: n=%zd must be in [0, %zd] and tries=%d >= 1", n, d.total,
                     tries);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    status = draw(&d);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    if (status) {
        return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(to_float16_doc,
             "to_float16(src, out) -> bool\n--\n\n"
             "out = float32 src rounded to float16, to nearest even, as floats.to_float16's integer\n"
             "passes do; False if a value overflows float16 or is NaN (numpy's cast decides those).");

static PyObject *to_float16(PyObject *self, PyObject *args)
{
    PyObject *src_obj, *out_obj;
    Py_buffer src, out;
    Py_ssize_t j, count;
    int ok = 1;
    (void)self;
    if (!PyArg_ParseTuple(args, "OO:to_float16", &src_obj, &out_obj) || get_buffer(src_obj, &src, "f", 0, "src")) {
        return NULL;
    }
    if (get_buffer(out_obj, &out, "e", 1, "out")) {
        PyBuffer_Release(&src);
        return NULL;
    }
    count = src.len / 4;
    if (out.len != count * 2) {
        PyBuffer_Release(&src);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "paraminit._native.to_float16: src and out must have one size");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    for (j = 0; j < count; j++) {
        uint32_t bits = ((const uint32_t *)src.buf)[j], a = bits & 0x7FFFFFFFu, o;
        ok &= a < 0x477FF000u; /* 65520 rounds to inf; NaN bits lie above too */
        if (a < 0x38800000u) { /* a float16 subnormal: + 0.5 rounds to its grid */
            float f;
            memcpy(&f, &a, sizeof f);
            f = f + 0.5f;
            memcpy(&o, &f, sizeof o);
            o -= 0x3F000000u;
        }
        else { /* re-bias the exponent, add just under half an ulp plus the last kept bit */
            o = (a + ((a >> 13) & 1u) + (uint32_t)(((15 - 127) * (1 << 23)) + 0xFFF)) >> 13;
        }
        ((uint16_t *)out.buf)[j] = (uint16_t)(o | ((bits >> 16) & 0x8000u));
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&src);
    PyBuffer_Release(&out);
    return PyBool_FromLong(ok);
}

PyDoc_STRVAR(log_doc, "log(x, out)\n--\n\nout = portable.log(x) for float64 buffers of one size.");

static PyObject *log_(PyObject *self, PyObject *args)
{
    PyObject *x_obj, *out_obj;
    Py_buffer x, out;
    Py_ssize_t i, count;
    (void)self;
    if (!PyArg_ParseTuple(args, "OO:log", &x_obj, &out_obj) || check_ready("log")) {
        return NULL;
    }
    if (get_buffer(x_obj, &x, "d", 0, "x")) {
        return NULL;
    }
    if (get_buffer(out_obj, &out, "d", 1, "out")) {
        PyBuffer_Release(&x);
        return NULL;
    }
    if (x.len != out.len) {
        PyBuffer_Release(&x);
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "paraminit._native.log: x and out must have one size");
        return NULL;
    }
    count = x.len / 8;
    Py_BEGIN_ALLOW_THREADS
    for (i = 0; i < count; i++) {
        ((double *)out.buf)[i] = portable_log(((const double *)x.buf)[i]);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&x);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ small arrays */

/* Set by configure_small: whether philox_next gives numpy's Philox words, and the
 * ziggurat's expected failure rate (ziggurat._FAIL), which sizes a block's spares. */
static struct {
    int philox_ok;
    double fail;
} S;

PyDoc_STRVAR(configure_small_doc,
             "configure_small(capsule, key, fail) -> bool\n--\n\n"
             "Compare this module's Philox with the numpy Philox of `capsule` (keyed by the 128-bit\n"
             "`key`, counter 0, buffer empty; it is advanced) over 4099 words; keep the normal's\n"
             "failure rate `fail`. Returns whether they agree: the small-array calls refuse to run\n"
             "if not.");

static PyObject *configure_small(PyObject *self, PyObject *args)
{
    PyObject *capsule;
    unsigned long long key_lo, key_hi;
    bitgen_t *bg;
    Philox p;
    int i, same = 1;
    (void)self;
    if (!PyArg_ParseTuple(args, "O(KK)d:configure_small", &capsule, &key_lo, &key_hi, &S.fail)) {
        return NULL;
    }
    bg = PyCapsule_GetPointer(capsule, "BitGenerator");
    if (bg == NULL) {
        return NULL;
    }
    philox_init(&p, (uint64_t)key_lo, (uint64_t)key_hi);
    for (i = 0; i < 4099; i++) {
        same &= philox_next(&p) == bg->next_raw(bg->state);
    }
    S.philox_ok = same;
    return PyBool_FromLong(same);
}

static PyObject *sixty_four;

/* The seed (an int in [0, 2**128)) as Philox's key, low word first. */
static int seed_key(PyObject *seed, uint64_t *lo, uint64_t *hi)
{
    PyObject *high;
    unsigned long long value;
    if (!PyLong_Check(seed)) {
        PyErr_SetString(PyExc_TypeError, "paraminit._native: seed must be an int");
        return -1;
    }
    *lo = (uint64_t)PyLong_AsUnsignedLongLongMask(seed);
    if (*lo == (uint64_t)-1 && PyErr_Occurred()) {
        return -1;
    }
    high = PyNumber_Rshift(seed, sixty_four);
    if (high == NULL) {
        return -1;
    }
    value = PyLong_AsUnsignedLongLong(high); /* raises for a negative seed or one >= 2**128 */
    Py_DECREF(high);
    if (value == (unsigned long long)-1 && PyErr_Occurred()) {
        return -1;
    }
    *hi = (uint64_t)value;
    return 0;
}

static int check_small(const char *name, Py_ssize_t nargs, Py_ssize_t expected)
{
    if (nargs != expected) {
        PyErr_Format(PyExc_TypeError, "paraminit._native.%s takes %zd arguments, got %zd", name, expected, nargs);
        return -1;
    }
    if (!S.philox_ok) {
        PyErr_Format(PyExc_RuntimeError, "paraminit._native.%s: configure_small() did not confirm Philox", name);
        return -1;
    }
    return 0;
}

/* ziggurat.standard_normal's candidates for n values at failure rate `fail`. */
static Py_ssize_t zig_total(Py_ssize_t n, double fail)
{
    double expected = (double)n * fail;
    return n + (Py_ssize_t)(expected + 4.0 * sqrt(expected)) + 16;
}

/* At most this many values (streams.SMALL_SIZE); a normal block's spares fit in the rest. */
#define SMALL_MAX 4096
#define SMALL_TOTAL (SMALL_MAX + 256)

/* out (float32 or float64, writable) of a small-array call, as get_buffer, refusing more
 * than SMALL_MAX values; its size, or -1 with an exception set (out released). */
static Py_ssize_t get_small_out(PyObject *obj, Py_buffer *out, const char *name)
{
    Py_ssize_t n;
    if (get_buffer(obj, out, "fd", 1, "out")) {
        return -1;
    }
    n = out->len / out->itemsize;
    if (n > SMALL_MAX) {
        PyBuffer_Release(out);
        PyErr_Format(PyExc_ValueError, "paraminit._native.%s: out holds %zd values, more than %d", name, n,
                     SMALL_MAX);
        return -1;
    }
    return n;
}

PyDoc_STRVAR(uniform_doc,
             "uniform(seed, out, scale, lo, unit)\n--\n\n"
             "Uniform.fill_block into float32 or float64 `out` (at most 4096 values) from Philox\n"
             "keyed by `seed` at counter 0: float32 k = w32 >> 8 of each word's halves, low first,\n"
             "fl(fl(k [* 2**-24 if unit]) * scale) + lo; float64 fl(fl((w >> 11) 2**-53) * scale) + lo.\n"
             "Each step one rounded operation of out's dtype, as numpy's.");

static PyObject *uniform(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer out;
    Philox p;
    uint64_t key_lo, key_hi;
    double scale, lo;
    int unit;
    Py_ssize_t i, n;
    (void)self;
    if (check_small("uniform", nargs, 5) || seed_key(args[0], &key_lo, &key_hi)) {
        return NULL;
    }
    scale = PyFloat_AsDouble(args[2]);
    lo = PyFloat_AsDouble(args[3]);
    unit = PyObject_IsTrue(args[4]);
    if (((scale == -1.0 || lo == -1.0) && PyErr_Occurred()) || unit < 0 ||
        (n = get_small_out(args[1], &out, "uniform")) < 0) {
        return NULL;
    }
    philox_init(&p, key_lo, key_hi);
    if (out.itemsize == 4) {
        float *dest = out.buf, s = (float)scale, l = (float)lo; /* exact: float32 numbers */
        for (i = 0; i < n; i += 2) {
            uint64_t w = philox_next(&p);
            float a = (float)((uint32_t)w >> 8), b = (float)((uint32_t)(w >> 32) >> 8);
            if (unit) {
                a = a * (1.0f / 16777216.0f);
                b = b * (1.0f / 16777216.0f);
            }
            dest[i] = a * s + l; /* two roundings: built without FMA contraction */
            if (i + 1 < n) {
                dest[i + 1] = b * s + l;
            }
        }
    }
    else {
        double *dest = out.buf;
        for (i = 0; i < n; i++) {
            double u = (double)(philox_next(&p) >> 11) * TWO_M53;
            dest[i] = u * scale + lo;
        }
    }
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(normal_doc,
             "normal(seed, out, std, mean, add_mean, tries)\n--\n\n"
             "Normal.fill_block into float32 or float64 `out` (at most 4096 values) from Philox\n"
             "keyed by `seed` at counter 0: the ziggurat's standard normals z (standard_normal's\n"
             "block, its spares included), then fl(z std), + mean if add_mean, in out's dtype.");

static PyObject *normal(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer out;
    Philox p;
    bitgen_t bg = {NULL, NULL, NULL, NULL, philox_raw};
    uint64_t key_lo, key_hi;
    double std, mean, z[SMALL_TOTAL];
    int add_mean, tries, status;
    Py_ssize_t i, n;
    Draw d;
    (void)self;
    if (check_small("normal", nargs, 6) || check_ready("normal") || seed_key(args[0], &key_lo, &key_hi)) {
        return NULL;
    }
    std = PyFloat_AsDouble(args[2]);
    mean = PyFloat_AsDouble(args[3]);
    add_mean = PyObject_IsTrue(args[4]);
    tries = (int)PyLong_AsLong(args[5]);
    if (((std == -1.0 || mean == -1.0 || tries == -1) && PyErr_Occurred()) || add_mean < 0) {
        return NULL;
    }
    if (tries < 1) {
        PyErr_Format(PyExc_ValueError, "paraminit._native.normal: tries=%d must be >= 1", tries);
        return NULL;
    }
    if ((n = get_small_out(args[1], &out, "normal")) < 0) {
        return NULL;
    }
    philox_init(&p, key_lo, key_hi);
    bg.state = &p;
    d.bg = &bg;
    d.out = z;
    d.n = n;
    d.total = zig_total(n, S.fail);
    d.is32 = out.itemsize == 4;
    d.tries = tries;
    if (d.total > SMALL_TOTAL) {
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "paraminit._native.normal: the failure rate leaves too many spares");
        return NULL;
    }
    status = draw(&d);
    if (status) {
        PyBuffer_Release(&out);
        return PyErr_NoMemory();
    }
    if (d.is32) {
        const float *zs = (const float *)z;
        float *dest = out.buf, s = (float)std, m = (float)mean;
        for (i = 0; i < n; i++) {
            dest[i] = zs[i] * s;
            if (add_mean) {
                dest[i] = dest[i] + m;
            }
        }
    }
    else {
        double *dest = out.buf;
        for (i = 0; i < n; i++) {
            dest[i] = z[i] * std;
            if (add_mean) {
                dest[i] = dest[i] + mean;
            }
        }
    }
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ truncated normal */

#include "_truncated.h" /* the Python-free kernel; its Python entry points follow */

/* args[0:9]: z_lo, z_hi, std, mean, add_mean, accept, sigmas (truncated.SPARE_SIGMAS),
 * fail (ziggurat._FAIL), tries (ziggurat._TAIL_TRIES). */
static int get_truncation(PyObject *const *args, Truncation *t)
{
    t->z_lo = PyFloat_AsDouble(args[0]);
    t->z_hi = PyFloat_AsDouble(args[1]);
    t->std = PyFloat_AsDouble(args[2]);
    t->mean = PyFloat_AsDouble(args[3]);
    t->add_mean = PyObject_IsTrue(args[4]);
    t->accept = PyFloat_AsDouble(args[5]);
    t->sigmas = PyFloat_AsDouble(args[6]);
    t->fail = PyFloat_AsDouble(args[7]);
    t->tries = (int)PyLong_AsLong(args[8]);
    if (PyErr_Occurred() || t->add_mean < 0) {
        return -1;
    }
    if (!(t->accept > 0.0 && t->accept <= 1.0) || !(t->fail >= 0.0 && t->fail < 1.0) || t->tries < 1) {
        PyErr_Format(PyExc_ValueError,
                     "paraminit._native: accept=%R must be in (0, 1], fail=%R in [0, 1) and tries=%R >= 1",
                     args[5], args[7], args[8]);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(truncated_doc,
             "truncated(capsule, out, z, z_lo, z_hi, std, mean, add_mean, accept, sigmas, fail, tries)\n--\n\n"
             "truncated_small() on the bit generator of `capsule` (a block of a large array), with\n"
             "scratch `z` of out's dtype for the draws: at least standard_normal's candidates for\n"
             "n + spares values.");

static PyObject *truncated(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer out, z;
    Truncation t;
    bitgen_t *bg;
    Py_ssize_t n;
    int status;
    (void)self;
    if (nargs != 12) {
        PyErr_Format(PyExc_TypeError, "paraminit._native.truncated takes 12 arguments, got %zd", nargs);
        return NULL;
    }
    if (check_ready("truncated") || get_truncation(args + 3, &t)) {
        return NULL;
    }
    bg = PyCapsule_GetPointer(args[0], "BitGenerator");
    if (bg == NULL || get_buffer(args[1], &out, "fd", 1, "out")) {
        return NULL;
    }
    if (get_buffer(args[2], &z, out.itemsize == 4 ? "f" : "d", 1, "z")) {
        PyBuffer_Release(&out);
        return NULL;
    }
    n = out.len / out.itemsize;
    if (z.len / z.itemsize < zig_total(n + truncated_spares(n, &t), t.fail)) {
        PyErr_Format(PyExc_ValueError, "paraminit._native.truncated: z holds %zd values, fewer than %zd",
                     z.len / z.itemsize, zig_total(n + truncated_spares(n, &t), t.fail));
        PyBuffer_Release(&out);
        PyBuffer_Release(&z);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    status = truncated_fill(bg, out.buf, out.itemsize == 4, n, z.buf, &t);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    PyBuffer_Release(&z);
    if (status) {
        return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(truncated_small_doc,
             "truncated_small(seed, out, z_lo, z_hi, std, mean, add_mean, accept, sigmas, fail, tries)\n--\n\n"
             "TruncatedNormal's normal proposal into float32 or float64 `out` (at most 4096 values) from\n"
             "Philox keyed by `seed` at counter 0: n + spares standard normals, each value outside\n"
             "[z_lo, z_hi] replaced by the next spare inside, then fl(z std), + mean if add_mean.");

static PyObject *truncated_small(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer out;
    Philox p;
    bitgen_t bg = {NULL, NULL, NULL, NULL, philox_raw};
    uint64_t key_lo, key_hi;
    Truncation t;
    Py_ssize_t n, capacity;
    void *z;
    int status;
    (void)self;
    if (check_small("truncated_small", nargs, 11) || check_ready("truncated_small") ||
        seed_key(args[0], &key_lo, &key_hi) || get_truncation(args + 2, &t) ||
        (n = get_small_out(args[1], &out, "truncated_small")) < 0) {
        return NULL;
    }
    capacity = zig_total(n + truncated_spares(n, &t), t.fail);
    z = malloc((size_t)capacity * (size_t)out.itemsize);
    if (z == NULL) {
        PyBuffer_Release(&out);
        return PyErr_NoMemory();
    }
    philox_init(&p, key_lo, key_hi);
    bg.state = &p;
    status = truncated_fill(&bg, out.buf, out.itemsize == 4, n, z, &t);
    free(z);
    PyBuffer_Release(&out);
    if (status) {
        return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"configure_small", configure_small, METH_VARARGS, configure_small_doc},
    {"uniform", (PyCFunction)(void (*)(void))uniform, METH_FASTCALL, uniform_doc},
    {"normal", (PyCFunction)(void (*)(void))normal, METH_FASTCALL, normal_doc},
    {"truncated_small", (PyCFunction)(void (*)(void))truncated_small, METH_FASTCALL, truncated_small_doc},
    {"truncated", (PyCFunction)(void (*)(void))truncated, METH_FASTCALL, truncated_doc},
    {"configure", configure, METH_VARARGS, configure_doc},
    {"standard_normal", standard_normal, METH_VARARGS, standard_normal_doc},
    {"to_float16", to_float16, METH_VARARGS, to_float16_doc},
    {"log", log_, METH_VARARGS, log_doc},
    {"inline_sfc64", uses_inline_sfc64, METH_NOARGS, inline_sfc64_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "paraminit._native",
    "The ziggurat normal of paraminit.engine.ziggurat and the small-array fills of engine.blocks, compiled: the same values.", -1, methods,
};

PyMODINIT_FUNC PyInit__native(void)
{
    sixty_four = PyLong_FromLong(64);
    if (sixty_four == NULL) {
        return NULL;
    }
    return PyModule_Create(&module);
}
