"""The initializers: each is data contract, then scale rule, then the engine.

Every function here is data-first, ``fn(data, ..., *, inplace=False, seed=None)``,
returns the initialized array, and registers itself as ``<name>.v1`` (also
reachable as ``<name>``, the newest version).
"""

from __future__ import annotations

import math
from typing import Any

from .arguments import ArgumentError, Finite, PositiveInt, Seed, check_call
from .contract import FloatArray, prepare_output
from .engine import (
    Distribution,
    Normal,
    Uniform,
    elementwise,
    fill,
    next_seed,
    resolve_seed,
)
from .fans import compute_fans
from .registry import register_initializer

__all__ = ["normal_init", "uniform_init", "xavier_uniform_init", "zero_init"]


def _begin(func: Any, args: dict[str, Any]) -> FloatArray:
    """Check ``data`` and every argument of ``func`` (its ``locals()``); return ``out``."""
    out = prepare_output(func.__name__, args["data"], args.get("inplace", False))
    check_call(func, args)
    return out


def _random_fill(func: Any, out: FloatArray, dist: Distribution, seed: int | None) -> FloatArray:
    return fill(out, dist, next_seed() if seed is None else resolve_seed(func.__name__, seed))


def check_uniform_bounds(lo: float, hi: float) -> None:
    """``lo`` must be below ``hi``."""
    if not lo < hi:
        raise ArgumentError("uniform_init", "hi", hi, f"must be greater than lo={lo!r}")


@register_initializer("uniform_init.v1", check=check_uniform_bounds)
@elementwise
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


@register_initializer("normal_init.v1")
@elementwise
def normal_init(
    data: FloatArray,
    fan_in: PositiveInt | None = None,
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """Initialize from a normal distribution, ``N(0, sqrt(1 / fan_in))``.

    ``fan_in`` defaults to ``shape[1] * prod(shape[2:])`` (layout ``(out, in,
    *receptive_field)``); arrays with fewer than 2 dimensions must pass it.

    >>> W = normal_init(np.empty((256, 128), "f"), seed=0)   # std = sqrt(1/128)
    """
    out = _begin(normal_init, locals())
    if fan_in is None:
        if out.ndim < 2:
            raise ValueError(
                f"normal_init: cannot infer fan_in from shape {out.shape} (fewer than 2 "
                "dimensions); pass fan_in"
            )
        fan_in, _ = compute_fans(out.shape, func_name="normal_init")
    return _random_fill(normal_init, out, Normal(0.0, math.sqrt(1.0 / fan_in)), seed)


@register_initializer("xavier_uniform_init.v1")
@elementwise
def xavier_uniform_init(
    data: FloatArray,
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """Glorot & Bengio (2010): ``U(-s, s)`` with ``s = sqrt(6 / (fan_in + fan_out))``.

    For 2-D arrays ``s = sqrt(6 / (shape[0] + shape[1]))``; N-D arrays include the
    receptive field in both fans, as torch and keras do.

    >>> W = xavier_uniform_init(np.empty((64, 32), "f"), seed=0)   # s = sqrt(6/96)
    """
    out = _begin(xavier_uniform_init, locals())
    fan_in, fan_out = compute_fans(out.shape, func_name="xavier_uniform_init")
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return _random_fill(xavier_uniform_init, out, Uniform(-limit, limit), seed)


@register_initializer("zero_init.v1")
@elementwise
def zero_init(data: FloatArray, *, inplace: bool = False) -> FloatArray:
    """Initialize a parameter with zeros; usually for output layers and biases.

    >>> zero_init(np.ones(3, "f"))
    array([0., 0., 0.], dtype=float32)
    """
    out = _begin(zero_init, locals())
    out.fill(0)
    return out
