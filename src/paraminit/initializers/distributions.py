"""Initializers with fixed distribution parameters: uniform, normal, truncated normal, sparse."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arguments import ArgumentError, Finite, NonNegativeFinite, PositiveFinite, Seed, UnitInterval
from ..contract import FloatArray, require_ndim
from ..engine import Normal, TruncatedNormal, Uniform, fill, resolve_seed
from ..engine.distributions import overflows
from ..engine.floats import round_up, work_dtype
from ..foreign import accepts_bfloat16
from ..regions import elementwise
from ..registry import register_initializer
from ._base import _begin, _random_fill, _require_distribution, _skip_empty

__all__ = [
    "check_truncation_bounds",
    "check_uniform_bounds",
    "random_normal_init",
    "sparse_init",
    "truncated_normal_init",
    "uniform_init",
]


def check_uniform_bounds(lo: float, hi: float) -> None:
    """``lo`` must be below ``hi``, and ``hi - lo`` a float (in any dtype)."""
    if not lo < hi:
        raise ArgumentError(uniform_init.__name__, "hi", hi, f"must be greater than lo={lo!r}")
    if not math.isfinite(float(hi) - float(lo)):
        raise ArgumentError(
            uniform_init.__name__, "hi", hi, f"is too far from lo={lo!r}: hi - lo overflows float64"
        )


@register_initializer("uniform_init.v1", check=check_uniform_bounds)
@elementwise
@accepts_bfloat16
def uniform_init(
    data: FloatArray,
    lo: Finite = -0.1,
    hi: Finite = 0.1,
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """Initialize values from a uniform distribution, ``U[lo, hi)``.

    Usually used for word embedding tables.

    >>> W = uniform_init(np.empty((3, 4), "f"), -0.05, 0.05, seed=0)
    >>> bool((W >= -0.05).all() and (W < 0.05).all())
    True
    """
    out = _begin(uniform_init, locals())
    check_uniform_bounds(lo, hi)
    return _random_fill(uniform_init, out, Uniform(lo, hi), seed)


@register_initializer("random_normal_init.v1")
@elementwise
@accepts_bfloat16
def random_normal_init(
    data: FloatArray,
    mean: Finite = 0.0,
    std: NonNegativeFinite = 1.0,
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """``N(mean, std)``, with no dependence on the shape (torch ``normal_``, keras/jax ``normal``).

    >>> W = random_normal_init(np.empty((3, 4), "f"), 0.0, 0.02, seed=0)
    """
    out = _begin(random_normal_init, locals())
    return _random_fill(random_normal_init, out, Normal(mean, std), seed)


def truncation_bounds(
    mean: float, std: float, a: float | None, b: float | None
) -> tuple[float, float]:
    """The cut-offs ``(a, b)`` with their defaults ``mean - 2*std`` and ``mean + 2*std``."""
    return (mean - 2.0 * std if a is None else a, mean + 2.0 * std if b is None else b)


def check_truncation_bounds(mean: float, std: float, a: float | None, b: float | None) -> None:
    """The cut-off ``a`` must be below ``b`` (each defaulting to ``mean ∓ 2*std``, which must
    then be a float: ``std=1e308`` overflows)."""
    name = truncated_normal_init.__name__
    lo, hi = truncation_bounds(mean, std, a, b)
    for given, bound, words in ((a, lo, "mean - 2*std"), (b, hi, "mean + 2*std")):
        if given is None and not math.isfinite(bound):
            raise ArgumentError(name, "std", std, f"makes the default cut-off {words} overflow")
    if lo < hi:
        return
    if b is None:
        raise ArgumentError(name, "a", a, f"must be less than b=mean+2*std={hi!r}")
    side = "a" if a is not None else "a=mean-2*std"
    raise ArgumentError(name, "b", b, f"must be greater than {side}={lo!r}")


@register_initializer("truncated_normal_init.v1", check=check_truncation_bounds)
@elementwise
@accepts_bfloat16
def truncated_normal_init(
    data: FloatArray,
    mean: Finite = 0.0,
    std: PositiveFinite = 1.0,
    a: Finite | None = None,
    b: Finite | None = None,
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """``N(mean, std)`` restricted to ``[a, b]``, by exact rejection sampling.

    ``a`` and ``b`` are absolute cut-offs (as in torch ``trunc_normal_``), by default
    ``mean - 2*std`` and ``mean + 2*std`` (as keras/jax ``truncated_normal``). No
    value lies outside ``[a, b]`` in the array's dtype. ``std`` is the standard
    deviation before truncation.

    >>> W = truncated_normal_init(np.empty((3, 4), "f"), std=0.02, seed=0)
    """
    out = _begin(truncated_normal_init, locals())
    check_truncation_bounds(mean, std, a, b)
    for name, value in (("mean", mean), ("std", std)):
        # Before [a, b] is clipped to the dtype: the clipped interval would be blamed.
        if overflows(value, work_dtype(out.dtype)):
            raise ArgumentError(
                truncated_normal_init.__name__, name, value, f"overflows {work_dtype(out.dtype)}"
            )
    lo, hi = truncation_bounds(mean, std, a, b)
    lo, hi = _representable_bounds(truncated_normal_init, out.dtype, lo, hi)
    return _random_fill(truncated_normal_init, out, TruncatedNormal(mean, std, lo, hi), seed)


def _representable_bounds(
    func: Any, dtype: np.dtype[Any], lo: float, hi: float
) -> tuple[float, float]:
    """``[lo, hi]`` clipped to the finite range of ``dtype``; it must hold a number of ``dtype``,
    or rejection sampling would never end."""
    info = np.finfo(dtype)
    lo, hi = max(lo, -float(info.max)), min(hi, float(info.max))
    if lo > hi or float(round_up(lo, dtype)) > hi:
        raise ArgumentError(
            func.__name__,
            "b",
            hi,
            f"gives [a, b] = [{lo!r}, {hi!r}], which holds no {dtype} number; widen it or use "
            "a wider dtype",
        )
    return lo, hi


@register_initializer("sparse_init.v1")
@accepts_bfloat16
def sparse_init(
    data: FloatArray,
    sparsity: UnitInterval,
    std: NonNegativeFinite = 0.01,
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """Martens (2010), torch ``sparse_``: a 2-D matrix whose columns are each sparse.

    In every column, ``ceil(sparsity * rows)`` rows are zero, the rest ``N(0, std)``.
    Which rows are zero is random per column: the rows with the smallest of a column
    of engine draws, so the result is reproducible with ``seed``.

    >>> W = sparse_init(np.empty((10, 4), "f"), 0.5, seed=0)   # 5 zeros per column
    """
    out = _begin(sparse_init, locals())
    require_ndim(sparse_init.__name__, out.shape, 2, 2)
    # The values are N(0, std) draws rounded to the array's dtype: the same rule as a normal's.
    _require_distribution(sparse_init, out, Normal(0.0, std))
    if _skip_empty(sparse_init, out, seed):
        return out
    rows, cols = out.shape
    # One draw of 2 * rows * cols normals: the first half are the values, the second
    # half rank the rows of each column (iid keys make every choice of rows equally likely).
    work = fill(
        np.empty((2, rows, cols), np.float64),
        Normal(0.0, 1.0),
        resolve_seed(sparse_init.__name__, seed),
    )
    values, keys = work
    values *= std
    out[...] = values
    n_zeros = math.ceil(sparsity * rows)
    zero_rows = np.argsort(keys, axis=0, kind="stable")[:n_zeros]
    np.put_along_axis(out, zero_rows, 0, axis=0)
    return out
