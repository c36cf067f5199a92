"""Float helpers: the work dtype, rounding bounds to a dtype, searching by ulps, float16 rounding.

The distributions use these to find, once per (parameters, dtype), the exact
numbers of a dtype where their values must stop (a uniform's largest scale, a
truncated normal's standardized edges).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .native import native

__all__ = [
    "F16",
    "F32",
    "F64",
    "float_key",
    "last_key",
    "of_key",
    "round_down",
    "round_up",
    "to_float16",
    "work_dtype",
]

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)


def work_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The precision random numbers are drawn in: float64 for float64, else float32."""
    return F64 if dtype == F64 else F32


def round_up(x: float, dtype: np.dtype[Any]) -> Any:
    """The smallest number of ``dtype`` that is ``>= x``."""
    t = dtype.type
    value = t(x)
    return np.nextafter(value, t(np.inf)) if float(value) < x else value


def round_down(x: float, dtype: np.dtype[Any]) -> Any:
    """The largest number of ``dtype`` that is ``<= x``."""
    t = dtype.type
    value = t(x)
    return np.nextafter(value, t(-np.inf)) if float(value) > x else value


def float_key(x: Any) -> int:
    """An int that orders the numbers of ``x``'s float dtype (a numpy scalar) by value."""
    nbits: int = x.dtype.itemsize * 8
    bits = int(x.view(f"i{x.dtype.itemsize}"))
    return bits ^ ((bits >> (nbits - 1)) & ((1 << (nbits - 1)) - 1))


def of_key(key: int, dtype: np.dtype[Any]) -> Any:
    """The number of ``dtype`` whose :func:`float_key` is ``key``."""
    nbits = dtype.itemsize * 8
    bits = key ^ ((key >> (nbits - 1)) & ((1 << (nbits - 1)) - 1))
    return np.array(bits, dtype=f"i{dtype.itemsize}").view(dtype)[()]


def last_key(pred: Callable[[int], bool], start: int, lowest: int, highest: int) -> int:
    """The largest key ``k`` in ``[lowest, highest]`` with ``pred(k)``, or ``lowest - 1``.

    ``pred`` must be monotone (true, then false, as keys grow). The search starts
    at ``start`` and doubles its steps, so an answer a few ulps away costs a few
    calls; a far one, about twice the bits of the dtype.
    """
    start = min(max(start, lowest), highest)
    if pred(start):
        good, step = start, 1
        while True:  # grow until false or past the top
            probe = good + step
            if probe > highest:
                bad = highest + 1
                break
            if not pred(probe):
                bad = probe
                break
            good, step = probe, step * 2
    else:
        bad, step = start, 1
        while True:
            probe = bad - step
            if probe < lowest:
                good = lowest - 1
                break
            if pred(probe):
                good = probe
                break
            bad, step = probe, step * 2
    while bad - good > 1:  # pred(good) (or good below the range), not pred(bad)
        mid = (good + bad) // 2
        if pred(mid):
            good = mid
        else:
            bad = mid
    return good


F16 = np.dtype(np.float16)
_U32 = np.dtype(np.uint32)
# float32 bit patterns: the smallest |x| that rounds to inf in float16 (65520), the
# smallest normal float16 (2**-14), and 0.5, whose addition rounds a float32 to a
# float16 subnormal's grid (ulp 2**-24) in hardware, to nearest even.
_F16_OVERFLOW = 0x477FF000
_F16_NORMAL = 0x38800000
_HALF = 0x3F000000
# Re-biases the exponent by (15 - 127) << 23 (mod 2**32) and adds just under half a
# float16 ulp.
_REBIAS = np.uint32((((15 - 127) << 23) + 0xFFF) & 0xFFFFFFFF)


def to_float16(src: Any, out: Any, scratch: Any) -> None:
    """``out[...] = src`` for a 1-D float32 ``src`` and float16 ``out``: the same bits.

    numpy 2.4 casts float32 to float16 one element at a time (~4.6 ns each here,
    four times a uniform fill's own work); these integer passes round to nearest
    even as the cast does (F. Giesen's ``float_to_half_fast3``). ``scratch`` lends
    uint32 buffers. Arrays holding a value that overflows float16 (or a NaN) are
    cast by numpy, which then decides inf and NaN bits.
    """
    module = native()
    if module is not None and src.flags.c_contiguous and out.flags.c_contiguous:
        if not module.to_float16(src, out):  # the same passes in C, one loop
            out[...] = src
        return
    n = src.size
    bits = src.view(np.uint32)
    a = scratch.get("f16_abs", _U32, n)
    np.bitwise_and(bits, 0x7FFFFFFF, out=a)
    if n == 0 or int(a.max()) >= _F16_OVERFLOW:
        out[...] = src
        return
    o = scratch.get("f16_out", _U32, n)
    np.right_shift(a, 13, out=o)
    np.bitwise_and(o, 1, out=o)  # the kept mantissa's last bit: ties go to even
    np.add(o, a, out=o)
    np.add(o, _REBIAS, out=o)  # wraps for subnormals, which are replaced below
    np.right_shift(o, 13, out=o)
    if int(a.min()) < _F16_NORMAL:
        small = np.flatnonzero(a < _F16_NORMAL)
        grid = a[small].view(np.float32) + np.float32(0.5)
        o[small] = grid.view(np.uint32) - _HALF
    np.right_shift(bits, 16, out=a)
    np.bitwise_and(a, 0x8000, out=a)
    np.bitwise_or(o, a, out=o)
    out.view(np.uint16)[...] = o
