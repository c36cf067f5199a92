/* paraminit._native: the ziggurat standard normal of engine/ziggurat.py in one pass.
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

#include "_ziggurat.h"

/* ------------------------------------------------------------------ Python */

/* A C-contiguous buffer of float32 ('f') or float64 ('d') values, as `kinds` allows. */
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
        view->itemsize != (format[0] == 'f' ? 4 : 8)) {
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

/* limit[layer] from ziggurat's fast table: how many buckets hold +-X[layer] (the rest
 * NaN); refuses a table of any other form. */
static int derive_limits(PyObject *obj, const char *kind, unsigned char *limit)
{
    Py_buffer view;
    int layer, sign, bucket, buckets = 1 << BUCKET_BITS, ok = 1;
    if (copy_table(obj, NULL, kind, FAST_SIZE, "fast") || get_buffer(obj, &view, kind, 0, "fast")) {
        return -1;
    }
    for (layer = 0; layer < LAYERS; layer++) {
        limit[layer] = 0;
        for (sign = 0; sign < 2; sign++) {
            for (bucket = 0; bucket < buckets; bucket++) {
                int code = 2 * layer + sign, at = code * buckets + bucket;
                double value = kind[0] == 'f' ? ((float *)view.buf)[at] : ((double *)view.buf)[at];
                double x = kind[0] == 'f' ? T.signed32[code] : T.signed64[code];
                if (sign == 0 && value == value && bucket == limit[layer]) {
                    limit[layer]++;
                }
                ok &= bucket < limit[layer] ? value == x : value != value;
            }
        }
    }
    PyBuffer_Release(&view);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "paraminit._native.configure: the fast table is not +-X, then NaN");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(configure_doc,
             "configure(fast32, fast64, signed32, signed64, f, f_step, lg, base32, base64, r, ln2_hi, ln2_lo, "
             "sqrt_half_bits)\n--\n\n"
             "Copy the ziggurat's tables and the portable log's constants (once, before any draw).");

static PyObject *configure(PyObject *self, PyObject *args)
{
    PyObject *fast32, *fast64, *signed32, *signed64, *f, *f_step, *lg;
    unsigned long long sqrt_half_bits;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOOOdddddK:configure", &fast32, &fast64, &signed32, &signed64, &f, &f_step,
                          &lg, &T.base32, &T.base64, &T.r, &T.ln2_hi, &T.ln2_lo, &sqrt_half_bits)) {
        return NULL;
    }
    if (copy_table(signed32, T.signed32, "f", 2 * LAYERS, "signed32") ||
        copy_table(signed64, T.signed64, "d", 2 * LAYERS, "signed64") || derive_limits(fast32, "f", T.limit32) ||
        derive_limits(fast64, "d", T.limit64) || copy_table(f, T.f, "d", LAYERS, "f") ||
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
    if (d.bg == NULL) {
        return NULL;
    }
    if (get_buffer(out_obj, &out, "fd", 1, "out")) {
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

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS, configure_doc},
    {"standard_normal", standard_normal, METH_VARARGS, standard_normal_doc},
    {"log", log_, METH_VARARGS, log_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "paraminit._native",
    "The ziggurat normal of paraminit.engine.ziggurat, compiled: the same values, one pass, no GIL.", -1, methods,
};

PyMODINIT_FUNC PyInit__native(void)
{
    return PyModule_Create(&module);
}
