"""Float helpers: the work dtype, rounding bounds to a dtype, and searching by ulps.

The distributions use these to find, once per (parameters, dtype), the exact
numbers of a dtype where their values must stop (a uniform's largest scale, a
truncated normal's standardized edges).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["F32", "F64", "float_key", "last_key", "of_key", "round_down", "round_up", "work_dtype"]

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
