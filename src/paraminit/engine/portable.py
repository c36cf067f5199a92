"""Portable float functions: uniforms from raw words, and ``log`` and ``sincos`` from + - * / only.

Every value paraminit makes is a function of a bit generator's raw 64-bit words
and of IEEE-754 operations that are correctly rounded on every CPU: + - * /,
sqrt, comparisons, conversions, and integer bit manipulation. numpy's SIMD
``log``/``sin``/``cos`` are not (their last bits depend on the vector ISA numpy
dispatches to), and neither are ``Generator`` methods (NEP 19 freezes bit
streams, not samplers). So this module rebuilds what the distributions need
from those operations alone, each ufunc call one rounded step (numpy never
contracts two calls into an FMA):

* :func:`uniform_from_raw`: numpy's own ``Generator.random`` values from raw
  words, bit for bit: ``(w >> 11) 2**-53`` (float64) and ``(w32 >> 8) 2**-24``
  for the 32-bit halves of each word, low half first (float32);
* :func:`log`: fdlibm's ``log`` (exponent split by integer bit operations, a
  degree-14 minimax polynomial in ``s = f / (2 + f)``), within 1 ulp of float64;
* :func:`sincos`: the cosine and sine of ``2 pi k / 2**bits`` for integer
  angle words ``k``: exact reduction to a quadrant by integer operations, then
  minimax polynomials on ``[-pi/4, pi/4]`` (fdlibm's kernels in float64,
  Cephes' in float32), within 1.3 and 1.5 units of ``2**-53`` and ``2**-24``.

docs/engine.md has the measured errors against numpy's ``log``/``sin``/``cos``.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import numpy.typing as npt

from .streams import Scratch

__all__ = ["log", "sincos", "uniform_from_raw", "words32"]

F64Array = npt.NDArray[np.floating[Any]]  # float64 arrays; typed loosely as scratch buffers are
U64Array = npt.NDArray[np.uint64]

_LITTLE = sys.byteorder == "little"


def words32(raw: U64Array) -> npt.NDArray[np.uint32]:
    """The 32-bit halves of 64-bit words, low half first (numpy's ``next_uint32`` order)."""
    if _LITTLE:
        return raw.view(np.uint32)
    pairs = np.empty((raw.size, 2), np.uint32)  # pragma: no cover - big-endian hosts
    pairs[:, 0] = raw & np.uint64(0xFFFFFFFF)  # pragma: no cover
    pairs[:, 1] = raw >> np.uint64(32)  # pragma: no cover
    return pairs.reshape(-1)  # pragma: no cover


_U11 = np.uint64(11)
_U8 = np.uint32(8)
_TWO_M53 = np.float64(2.0**-53)
_TWO_M24 = np.float32(2.0**-24)


def uniform_from_raw(raw: U64Array, out: Any) -> Any:
    """Fill ``out`` (float32 or float64, 1-D) with uniforms in ``[0, 1)`` from ``raw``.

    float64 needs ``out.size`` words, float32 ``ceil(out.size / 2)``; the values
    are exactly numpy's ``Generator.random`` on a generator that would have
    produced these words. ``raw`` is overwritten.
    """
    if out.dtype == np.float64:
        np.right_shift(raw, _U11, out=raw)
        np.multiply(raw, _TWO_M53, out=out)
    else:
        words = words32(raw)[: out.size]
        np.right_shift(words, _U8, out=words)
        np.multiply(words, _TWO_M24, out=out, dtype=np.float32)
    return out


# fdlibm e_log.c: ln2 split so that k * _LN2_HI is exact for |k| < 2**11.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LG64 = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
# musl logf.c's: |(log(1+s) - log(1-s))/s - Lg(s)| < 2**-34.24, ample for float32 radii.
_LG32 = (0xAAAAAA * 2.0**-24, 0xCCCE13 * 2.0**-25, 0x91E9EE * 2.0**-25, 0xF89E26 * 2.0**-26)
# x's bits plus this put x's mantissa in [sqrt(2)/2, sqrt(2)) (musl's trick).
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD
_OFFSET = np.uint64(0x3FF0000000000000 - _SQRT_HALF_BITS)
_MANTISSA = np.uint64((1 << 52) - 1)
_U52 = np.uint64(52)
_TWO52_BITS = np.uint64(0x4330000000000000)  # the bits of 2.0**52


def log(x: F64Array, out: F64Array, scratch: Scratch, short: bool = False) -> F64Array:
    """``out = log(x)`` for positive, normal, finite float64 ``x`` (1-D), within 1 ulp.

    ``x = 2**k m`` with ``m`` in ``[sqrt(2)/2, sqrt(2))`` by integer operations
    on the bits; ``f = m - 1`` is exact; ``log(1 + f) = 2 atanh(s)``,
    ``s = f / (2 + f)``, by fdlibm's degree-14 polynomial and its error-free
    split of ``k ln 2``; ``short``: musl ``logf``'s degree-8 polynomial instead
    (still in float64; relative error below ``2**-35``, for float32 results).
    ``out`` may be ``x``.
    """
    n = x.size
    bits = scratch.get("log_bits", np.uint64, n)
    f = scratch.get("log_f", np.float64, n)
    s = scratch.get("log_s", np.float64, n)
    acc = scratch.get("log_acc", np.float64, n)
    np.add(x.view(np.uint64), _OFFSET, out=bits)
    # The exponent k as float64 (exact) until the last step: 2**52 + e is a double
    # whose low bits are e, a faster conversion than numpy's uint64 cast.
    k = out
    k_bits = k.view(np.uint64)
    np.right_shift(bits, _U52, out=k_bits)
    np.bitwise_or(k_bits, _TWO52_BITS, out=k_bits)
    np.subtract(k, 2.0**52 + 1023.0, out=k)
    np.bitwise_and(bits, _MANTISSA, out=bits)
    np.add(bits, np.uint64(_SQRT_HALF_BITS), out=bits)
    m = bits.view(np.float64)
    np.subtract(m, 1.0, out=f)  # exact (Sterbenz)
    np.add(f, 2.0, out=s)
    np.divide(f, s, out=s)
    z = m  # s * s, in the mantissa's memory
    np.multiply(s, s, out=z)
    # R = z (Lg1 + z (Lg2 + ... + z Lg7)), by Horner's rule.
    _horner(z, _LG32 if short else _LG64, acc)
    # log(1 + f) = f - (hfsq - s (hfsq + R)), hfsq = f * f / 2; k ln 2 in two parts.
    hfsq = z
    np.multiply(f, f, out=hfsq)
    np.multiply(hfsq, 0.5, out=hfsq)
    np.add(acc, hfsq, out=acc)
    np.multiply(acc, s, out=acc)
    np.multiply(k, _LN2_LO, out=s)
    np.add(acc, s, out=acc)
    np.subtract(hfsq, acc, out=acc)
    np.subtract(acc, f, out=acc)
    np.multiply(k, _LN2_HI, out=out)
    np.subtract(out, acc, out=out)
    return out


# Polynomials on [-pi/4, pi/4]: sin x = x + x z (S1 + z (S2 + ...)), cos x = 1 - z/2
# + z^2 (C1 + z (C2 + ...)), z = x^2. float64: fdlibm's k_sin.c/k_cos.c (errors
# below 2**-58); float32, evaluated in float32: Cephes' sinf/cosf.
_SIN = {
    8: (
        -1.66666666666666324348e-01,
        8.33333333332248946124e-03,
        -1.98412698298579493134e-04,
        2.75573137070700676789e-06,
        -2.50507602534068634195e-08,
        1.58969099521155010221e-10,
    ),
    4: (-1.6666654611e-1, 8.3321608736e-3, -1.9515295891e-4),
}
_COS = {
    8: (
        4.16666666666666019037e-02,
        -1.38888888888741095749e-03,
        2.48015872894767294178e-05,
        -2.75573143513906633035e-07,
        2.08757232129817482790e-09,
        -1.13596475577881948265e-11,
    ),
    4: (4.166664568298827e-02, -1.388731625493765e-03, 2.443315711809948e-05),
}
_TWO_PI = 2.0 * math.pi


def _horner(z: Any, coefficients: tuple[float, ...], acc: Any) -> Any:
    """``acc = z (c0 + z (c1 + ... + z c_last))`` in ``acc``'s dtype."""
    t = acc.dtype.type
    np.multiply(z, t(coefficients[-1]), out=acc)
    for c in coefficients[-2::-1]:
        np.add(acc, t(c), out=acc)
        np.multiply(acc, z, out=acc)
    return acc


def sincos(k: Any, cos_out: Any, sin_out: Any, scratch: Scratch) -> None:
    """The cosine and sine of ``2 pi k / 2**bits`` for angle words ``0 <= k < 2**bits``.

    float64 outputs take 53-bit words in a uint64 ``k``; float32 outputs 32-bit
    words in a uint32 ``k``, and compute in float32. The angle is
    ``(q + y) pi / 2`` with quadrant ``q`` and ``y`` in ``[-1/2, 1/2)``, both
    exact from ``k`` by integer operations (wrapping adds); ``x = fl(y pi / 2)``
    (``y`` rounded to float32 first for float32) and the polynomials give
    ``cos x`` and ``sin x``, which the quadrant swaps and negates. ``k`` is
    overwritten.
    """
    dtype = cos_out.dtype
    n, size = k.size, dtype.itemsize
    t = dtype.type
    word, signed = (np.uint64, np.int64) if size == 8 else (np.uint32, np.int32)
    bits = 53 if size == 8 else 32
    eighth = 1 << (bits - 3)
    x = scratch.get("sc_x", dtype, n)
    z = scratch.get("sc_z", dtype, n)
    acc = scratch.get("sc_acc", dtype, n)
    ints = z.view(word)
    np.add(k, word(eighth), out=k)  # float64: < 2**54, no wrap; float32: wraps, as meant
    np.bitwise_and(k, word(2 * eighth - 1), out=ints)
    np.subtract(ints, word(eighth), out=ints)  # y 2**(bits-2), as a signed int (wrapping)
    np.multiply(ints.view(signed), t(_TWO_PI * 2.0**-bits), out=x, dtype=dtype)
    np.right_shift(k, word(bits - 2), out=k)
    np.bitwise_and(k, word(3), out=k)  # the quadrant q
    np.multiply(x, x, out=z)
    coefficients = 8 if size == 8 else 4
    np.multiply(_horner(z, _SIN[coefficients], acc), x, out=acc)
    np.add(acc, x, out=sin_out)
    # cos x = w + (((1 - w) - z/2) + z r), w = 1 - z/2 (fdlibm's k_cos.c)
    np.multiply(_horner(z, _COS[coefficients], acc), z, out=acc)
    hz = z
    np.multiply(z, t(0.5), out=hz)
    w = x
    np.subtract(t(1.0), hz, out=w)
    np.subtract(t(1.0), w, out=cos_out)
    np.subtract(cos_out, hz, out=cos_out)
    np.add(cos_out, acc, out=cos_out)
    np.add(cos_out, w, out=cos_out)
    # Quadrants: q=1 (-s, c), q=2 (-c, -s), q=3 (s, -c). The swap is done on the
    # bits with a mask (a masked copy mispredicts on random masks: 20x slower).
    c_bits, s_bits = cos_out.view(word), sin_out.view(word)
    mask, diff = z.view(word), acc.view(word)
    np.bitwise_and(k, word(1), out=mask)
    np.subtract(word(0), mask, out=mask)  # all ones where q is odd
    np.bitwise_xor(c_bits, s_bits, out=diff)
    np.bitwise_and(diff, mask, out=diff)
    np.bitwise_xor(c_bits, diff, out=c_bits)
    np.bitwise_xor(s_bits, diff, out=s_bits)
    shift = word(8 * size - 2)
    sign = mask
    np.bitwise_and(k, word(2), out=sign)
    np.left_shift(sign, shift, out=sign)
    np.bitwise_xor(s_bits, sign, out=s_bits)
    np.add(k, word(1), out=k)
    np.bitwise_and(k, word(2), out=k)
    np.left_shift(k, shift, out=k)
    np.bitwise_xor(c_bits, k, out=c_bits)
