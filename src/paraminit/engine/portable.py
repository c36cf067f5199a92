"""Portable float functions: uniforms from raw words, and ``log`` from + - * / only.

Every value paraminit makes is a function of a bit generator's raw 64-bit words
and of IEEE-754 operations that are correctly rounded on every CPU: + - * /,
sqrt, comparisons, conversions, and integer bit manipulation. numpy's SIMD
``log``/``sin``/``cos`` are not (their last bits depend on the vector ISA numpy
dispatches to), and neither are ``Generator`` methods (NEP 19 freezes bit
streams, not samplers). So this module rebuilds what the distributions need
from those operations alone, each ufunc call one rounded step (numpy never
contracts two calls into an FMA); the normal's ziggurat (:mod:`.ziggurat`)
needs nothing more:

* :func:`uniform_from_raw`: numpy's own ``Generator.random`` values from raw
  words, bit for bit: ``(w >> 11) 2**-53`` (float64) and ``(w32 >> 8) 2**-24``
  for the 32-bit halves of each word, low half first (float32);
* :func:`log`: fdlibm's ``log`` (exponent split by integer bit operations, a
  degree-14 minimax polynomial in ``s = f / (2 + f)``), within 1 ulp of float64.

docs/engine.md has the measured error against numpy's ``log``.
"""

from __future__ import annotations

import struct
import sys
from typing import Any

import numpy as np
import numpy.typing as npt

from .streams import Scratch

__all__ = ["LITTLE", "U32", "log", "log1", "uniform_from_raw", "words32"]

F64Array = npt.NDArray[np.floating[Any]]  # float64 arrays; typed loosely as scratch buffers are
U64Array = npt.NDArray[np.uint64]

LITTLE = sys.byteorder == "little"
U32 = np.dtype(np.uint32)  # a dtype object: view() takes it faster than the type


def words32(raw: U64Array) -> npt.NDArray[np.uint32]:
    """The 32-bit halves of 64-bit words, low half first (numpy's ``next_uint32`` order)."""
    if LITTLE:
        return raw.view(U32)
    pairs = np.empty((raw.size, 2), np.uint32)  # pragma: no cover - big-endian hosts
    pairs[:, 0] = raw & np.uint64(0xFFFFFFFF)  # pragma: no cover
    pairs[:, 1] = raw >> np.uint64(32)  # pragma: no cover
    return pairs.reshape(-1)  # pragma: no cover


# 0-d arrays: a ufunc takes one in half the time of a numpy scalar (numpy 2.x).
_U11 = np.array(11, np.uint64)
_U8 = np.array(8, np.uint32)
_TWO_M53 = np.array(2.0**-53, np.float64)
_TWO_M24 = np.array(2.0**-24, np.float32)


def uniform_from_raw(raw: U64Array, out: Any) -> Any:
    """Fill ``out`` (float32 or float64, 1-D) with uniforms in ``[0, 1)`` from ``raw``.

    float64 needs ``out.size`` words, float32 ``ceil(out.size / 2)``; the values
    are exactly numpy's ``Generator.random`` on a generator that would have
    produced these words. ``raw`` is overwritten.
    """
    if out.dtype == np.float64:
        np.right_shift(raw, _U11, raw)
        np.multiply(raw, _TWO_M53, out)
    else:
        words = words32(raw)[: out.size]
        np.right_shift(words, _U8, words)
        out[...] = words  # exact (< 2**24); a cast in the multiply costs twice as much
        np.multiply(out, _TWO_M24, out)
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
# x's bits plus this put x's mantissa in [sqrt(2)/2, sqrt(2)) (musl's trick).
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD
_OFFSET = np.uint64(0x3FF0000000000000 - _SQRT_HALF_BITS)
_MANTISSA = np.uint64((1 << 52) - 1)
_U52 = np.uint64(52)
_TWO52_BITS = np.uint64(0x4330000000000000)  # the bits of 2.0**52


def log(x: F64Array, out: F64Array, scratch: Scratch) -> F64Array:
    """``out = log(x)`` for positive, normal, finite float64 ``x`` (1-D), within 1 ulp.

    ``x = 2**k m`` with ``m`` in ``[sqrt(2)/2, sqrt(2))`` by integer operations
    on the bits; ``f = m - 1`` is exact; ``log(1 + f) = 2 atanh(s)``,
    ``s = f / (2 + f)``, by fdlibm's degree-14 polynomial and its error-free
    split of ``k ln 2``. ``out`` may be ``x``.
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
    _horner(z, _LG64, acc)
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


def _horner(z: Any, coefficients: tuple[float, ...], acc: Any) -> Any:
    """``acc = z (c0 + z (c1 + ... + z c_last))`` in ``acc``'s dtype."""
    t = acc.dtype.type
    np.multiply(z, t(coefficients[-1]), out=acc)
    for c in coefficients[-2::-1]:
        np.add(acc, t(c), out=acc)
        np.multiply(acc, z, out=acc)
    return acc


_DOUBLE = struct.Struct("<d")
_BITS = struct.Struct("<Q")


def log1(x: float) -> float:
    """:func:`log` of one positive, normal, finite float, bit for bit: the same rounded
    steps in the same order on Python floats (IEEE doubles; CPython rounds each
    operation, never fusing two), for callers with a handful of values, where
    numpy's per-call cost dominates."""
    bits = (_BITS.unpack(_DOUBLE.pack(x))[0] + int(_OFFSET)) & 0xFFFFFFFFFFFFFFFF
    k = float((bits >> 52) - 1023)  # exact, as the vector form's 2**52 trick
    m = _DOUBLE.unpack(_BITS.pack((bits & int(_MANTISSA)) + _SQRT_HALF_BITS))[0]
    f = m - 1.0
    s = f / (f + 2.0)
    z = s * s
    acc = z * _LG64[-1]
    for c in _LG64[-2::-1]:
        acc = (acc + c) * z
    hfsq = f * f
    hfsq = hfsq * 0.5
    acc = (acc + hfsq) * s
    acc = acc + k * _LN2_LO
    acc = (hfsq - acc) - f
    result: float = k * _LN2_HI - acc
    return result
