"""What every initializer shares: the argument check on entry and the random fill."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..arguments import check_call
from ..contract import FloatArray, prepare_output
from ..engine import Distribution, fill, next_seed, resolve_seed


def _begin(func: Any, args: dict[str, Any]) -> FloatArray:
    """Check ``data`` and every argument of ``func`` (its ``locals()``); return ``out``."""
    out = prepare_output(func.__name__, args["data"], args.get("inplace", False))
    check_call(func, args)
    return out


def _random_fill(func: Any, out: FloatArray, dist: Distribution, seed: int | None) -> FloatArray:
    """Fill ``out`` from ``dist`` under ``seed`` (the next package seed if ``None``)."""
    return fill(out, dist, next_seed() if seed is None else resolve_seed(func.__name__, seed))


def _skip_empty(func: Any, out: FloatArray, seed: int | None) -> bool:
    """True for a size-0 ``out``, after drawing the call's seed as a non-empty call would.

    Drawing keeps a ``set_seed`` stream in step whether or not an array is empty.
    """
    if out.size:
        return False
    resolve_seed(func.__name__, seed)
    return True


def _require_fits(func: Any, out: FloatArray, field: str, value: float) -> None:
    """``value`` must stay finite in ``out``'s dtype (``1e5`` overflows float16)."""
    with np.errstate(over="ignore"):
        typed = out.dtype.type(value)
    if not np.isfinite(typed):
        raise ValueError(
            f"{func.__name__}: '{field}'={value!r} overflows {out.dtype} to inf; use a wider dtype"
        )
