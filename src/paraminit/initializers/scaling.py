"""The variance-scaling family: one formula, and its named forms (glorot/xavier, he/kaiming, lecun).

:func:`variance_scaling_init` holds the only formula: values with variance
``scale / n``, ``n`` the fan picked by ``mode``. Every other function here fixes
its arguments, as ``jax.nn.initializers`` does; the torch-style ``xavier_*`` and
``kaiming_*`` turn their ``gain`` into ``scale = gain**2``. The step from a
variance to a distribution exists once, in :func:`distribution_for_variance`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from ..arguments import ArgumentError, Finite, PositiveFinite, PositiveInt, Seed
from ..contract import FloatArray
from ..engine import Distribution, Normal, TruncatedNormal, Uniform
from ..engine.distributions import remember
from ..fans import Layout, Nonlinearity, calculate_gain, compute_fans, layout_axes
from ..foreign import accepts_bfloat16
from ..regions import elementwise
from ..registry import register_initializer
from ._base import _begin, _random_fill, _skip_empty

__all__ = [
    "TRUNCATED_STD_FACTOR",
    "FanMode",
    "KaimingMode",
    "ScalingDistribution",
    "distribution_for_variance",
    "glorot_normal_init",
    "glorot_uniform_init",
    "he_normal_init",
    "he_uniform_init",
    "kaiming_normal_init",
    "kaiming_uniform_init",
    "lecun_normal_init",
    "lecun_uniform_init",
    "normal_init",
    "variance_scaling_init",
    "xavier_normal_init",
    "xavier_uniform_init",
]

FanMode = Literal["fan_in", "fan_out", "fan_avg"]
KaimingMode = Literal["fan_in", "fan_out"]
ScalingDistribution = Literal["truncated_normal", "normal", "uniform"]

# The standard deviation of N(0, 1) truncated to [-2, 2] (keras and jax use this constant):
# dividing by it restores the variance that truncation at 2 sigma removes.
TRUNCATED_STD_FACTOR = 0.87962566103423978


def distribution_for_variance(variance: float, distribution: str) -> Distribution:
    """The zero-mean ``distribution`` whose values have variance ``variance``.

    * ``"normal"``: ``N(0, sqrt(variance))``
    * ``"uniform"``: ``U(-limit, limit)`` with ``limit = sqrt(3 * variance)``
    * ``"truncated_normal"``: ``N(0, sigma)`` truncated to ``[-2 sigma, 2 sigma]`` with
      ``sigma = sqrt(variance) / 0.87962566103423978``
    """
    if distribution == "normal":
        return Normal(0.0, math.sqrt(variance))
    if distribution == "uniform":
        limit = math.sqrt(3.0 * variance)
        return Uniform(-limit, limit)
    if distribution == "truncated_normal":
        sigma = math.sqrt(variance) / TRUNCATED_STD_FACTOR
        return TruncatedNormal(0.0, sigma, -2.0 * sigma, 2.0 * sigma)
    raise ValueError(
        f"{distribution_for_variance.__name__}: 'distribution' must be one of "
        f"'truncated_normal', 'normal', 'uniform', got {distribution!r}"
    )


def _variance_scaling(
    func: Any,
    out: FloatArray,
    scale: float,
    mode: str,
    distribution: str,
    axes: tuple[int, int],
    seed: int | None,
    cause: tuple[str, object] | None = None,
) -> FloatArray:
    """The one formula of the family: fill ``out`` with variance ``scale / fan[mode]``.

    ``cause`` is the ``(argument, value)`` that ``scale`` comes from, blamed when the
    variance or its distribution cannot fill ``out`` (``None``: ``scale`` is fixed).
    """
    key = (out.shape, axes, scale, mode, distribution)
    dist = _SCALED.get(key)
    if dist is None:
        fan_in, fan_out = compute_fans(
            out.shape, in_axis=axes[0], out_axis=axes[1], func_name=func.__name__
        )
        if _skip_empty(func, out, seed):
            return out
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / fan
        if cause is not None and not 0 < variance < math.inf:
            field, given = cause
            words = "underflows to 0" if variance == 0 else "overflows float64"
            raise ArgumentError(func.__name__, field, given, f"gives a variance that {words}")
        dist = distribution_for_variance(variance, distribution)
        remember(_SCALED, key, dist)
    elif _skip_empty(func, out, seed):
        return out
    return _random_fill(func, out, dist, seed, cause)


# The distribution of each (shape, axes, scale, mode, distribution) that passed the checks
# above: a distribution is a value, so one per key is sound, and a model's layers repeat a
# few shapes. On a 10x10 array the fans, the variance and the distribution were 1.4 of the
# 5.3 µs of xavier_uniform_init (docs/benchmarks.md).
_SCALED: dict[tuple[Any, ...], Distribution] = {}


def _square(gain: float) -> float:
    """``gain**2``, ``inf`` where a float overflows (refused by the variance check)."""
    try:
        return gain**2
    except OverflowError:
        return math.inf


def _leaky_gain(nonlinearity: str, a: float) -> float:
    """``calculate_gain(nonlinearity, a)``; 0 for a slope too steep to square (refused)."""
    try:
        return calculate_gain(nonlinearity, a)
    except OverflowError:
        return 0.0


@register_initializer("variance_scaling_init.v1")
@elementwise
@accepts_bfloat16
def variance_scaling_init(
    data: FloatArray,
    scale: PositiveFinite = 1.0,
    mode: FanMode = "fan_in",
    distribution: ScalingDistribution = "truncated_normal",
    in_axis: int = 1,
    out_axis: int = 0,
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """Values of variance ``scale / n`` (keras/jax ``VarianceScaling``).

    ``n`` is ``fan_in``, ``fan_out`` or ``(fan_in + fan_out) / 2`` for ``mode``
    ``"fan_in"``, ``"fan_out"``, ``"fan_avg"``, with the fans taken along
    ``in_axis``/``out_axis`` (default ``(out, in, *receptive_field)``; keras/jax
    kernels use ``in_axis=-2, out_axis=-1``). ``distribution``:

    * ``"truncated_normal"``: ``N(0, s)`` truncated to ``[-2s, 2s]``,
      ``s = sqrt(scale / n) / 0.87962566103423978`` (so the variance is ``scale / n``)
    * ``"normal"``: ``N(0, sqrt(scale / n))``
    * ``"uniform"``: ``U(-l, l)``, ``l = sqrt(3 * scale / n)``

    >>> W = variance_scaling_init(np.empty((64, 32), "f"), 2.0, "fan_in", "normal", seed=0)
    """
    out = _begin(variance_scaling_init, locals())
    return _variance_scaling(
        variance_scaling_init,
        out,
        scale,
        mode,
        distribution,
        (in_axis, out_axis),
        seed,
        ("scale", scale),
    )


@register_initializer("normal_init.v1")
@elementwise
@accepts_bfloat16
def normal_init(
    data: FloatArray,
    fan_in: PositiveInt | None = None,
    layout: Layout = "oi",
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """Initialize from a normal distribution, ``N(0, sqrt(1 / fan_in))``.

    ``fan_in`` defaults to the array's fan-in (``shape[1] * prod(shape[2:])`` in the
    default layout ``(out, in, *receptive_field)``); arrays with fewer than 2
    dimensions must pass it.

    >>> W = normal_init(np.empty((256, 128), "f"), seed=0)   # std = sqrt(1/128)
    """
    out = _begin(normal_init, locals())
    if fan_in is None:
        if out.ndim < 2:
            raise ValueError(
                f"{normal_init.__name__}: cannot infer fan_in from shape {out.shape} (fewer than 2 "
                "dimensions); pass fan_in"
            )
        return _variance_scaling(
            normal_init, out, 1.0, "fan_in", "normal", layout_axes(layout), seed
        )
    return _random_fill(normal_init, out, distribution_for_variance(1.0 / fan_in, "normal"), seed)


@register_initializer("glorot_uniform_init.v1")
@register_initializer("xavier_uniform_init.v1")
@elementwise
@accepts_bfloat16
def xavier_uniform_init(
    data: FloatArray,
    gain: PositiveFinite = 1.0,
    layout: Layout = "oi",
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """Glorot & Bengio (2010): ``U(-s, s)`` with ``s = gain * sqrt(6 / (fan_in + fan_out))``.

    For 2-D arrays ``s = gain * sqrt(6 / (shape[0] + shape[1]))``; N-D arrays include
    the receptive field in both fans, as torch and keras do. torch
    ``xavier_uniform_``; keras/jax ``glorot_uniform`` (also registered and exported
    as ``glorot_uniform_init``).

    >>> W = xavier_uniform_init(np.empty((64, 32), "f"), seed=0)   # s = sqrt(6/96)
    """
    out = _begin(xavier_uniform_init, locals())
    axes = layout_axes(layout)
    return _variance_scaling(
        xavier_uniform_init, out, _square(gain), "fan_avg", "uniform", axes, seed, ("gain", gain)
    )


glorot_uniform_init = xavier_uniform_init


@register_initializer("xavier_normal_init.v1")
@elementwise
@accepts_bfloat16
def xavier_normal_init(
    data: FloatArray,
    gain: PositiveFinite = 1.0,
    layout: Layout = "oi",
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """``N(0, gain * sqrt(2 / (fan_in + fan_out)))``, a plain normal (torch ``xavier_normal_``).

    Not keras/jax ``glorot_normal``, which truncates: see :func:`glorot_normal_init`.

    >>> W = xavier_normal_init(np.empty((64, 32), "f"), seed=0)   # std = sqrt(2/96)
    """
    out = _begin(xavier_normal_init, locals())
    axes = layout_axes(layout)
    return _variance_scaling(
        xavier_normal_init, out, _square(gain), "fan_avg", "normal", axes, seed, ("gain", gain)
    )


@register_initializer("glorot_normal_init.v1")
@elementwise
@accepts_bfloat16
def glorot_normal_init(
    data: FloatArray, layout: Layout = "oi", *, inplace: bool = False, seed: Seed = None
) -> FloatArray:
    """keras/jax ``glorot_normal``: ``variance_scaling(1.0, "fan_avg", "truncated_normal")``.

    Variance ``2 / (fan_in + fan_out)``, truncated at 2 sigma; torch's
    ``xavier_normal_`` is the plain normal :func:`xavier_normal_init`.
    """
    out = _begin(glorot_normal_init, locals())
    axes = layout_axes(layout)
    return _variance_scaling(
        glorot_normal_init, out, 1.0, "fan_avg", "truncated_normal", axes, seed
    )


@register_initializer("kaiming_uniform_init.v1")
@elementwise
@accepts_bfloat16
def kaiming_uniform_init(
    data: FloatArray,
    a: Finite = 0.0,
    mode: KaimingMode = "fan_in",
    nonlinearity: Nonlinearity = "leaky_relu",
    layout: Layout = "oi",
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """He et al. (2015), torch ``kaiming_uniform_``: ``U(-b, b)``, ``b = gain * sqrt(3 / fan)``.

    ``gain = calculate_gain(nonlinearity, a)``, ``a`` the negative slope of a leaky
    ReLU (used with ``"leaky_relu"`` only), ``fan`` the fan of ``mode``.

    >>> W = kaiming_uniform_init(np.empty((64, 32), "f"), nonlinearity="relu", seed=0)
    """
    out = _begin(kaiming_uniform_init, locals())
    gain = _leaky_gain(nonlinearity, a)
    axes = layout_axes(layout)
    return _variance_scaling(
        kaiming_uniform_init, out, gain**2, mode, "uniform", axes, seed, ("a", a)
    )


@register_initializer("kaiming_normal_init.v1")
@elementwise
@accepts_bfloat16
def kaiming_normal_init(
    data: FloatArray,
    a: Finite = 0.0,
    mode: KaimingMode = "fan_in",
    nonlinearity: Nonlinearity = "leaky_relu",
    layout: Layout = "oi",
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """He et al. (2015), torch ``kaiming_normal_``: ``N(0, gain / sqrt(fan))``, a plain normal.

    ``gain = calculate_gain(nonlinearity, a)``, ``fan`` the fan of ``mode``. keras/jax
    ``he_normal`` truncates instead: see :func:`he_normal_init`.

    >>> W = kaiming_normal_init(np.empty((64, 32), "f"), nonlinearity="relu", seed=0)
    """
    out = _begin(kaiming_normal_init, locals())
    gain = _leaky_gain(nonlinearity, a)
    axes = layout_axes(layout)
    return _variance_scaling(
        kaiming_normal_init, out, gain**2, mode, "normal", axes, seed, ("a", a)
    )


@register_initializer("he_uniform_init.v1")
@elementwise
@accepts_bfloat16
def he_uniform_init(
    data: FloatArray, layout: Layout = "oi", *, inplace: bool = False, seed: Seed = None
) -> FloatArray:
    """keras/jax ``he_uniform``: ``variance_scaling(2.0, "fan_in", "uniform")``."""
    out = _begin(he_uniform_init, locals())
    axes = layout_axes(layout)
    return _variance_scaling(he_uniform_init, out, 2.0, "fan_in", "uniform", axes, seed)


@register_initializer("he_normal_init.v1")
@elementwise
@accepts_bfloat16
def he_normal_init(
    data: FloatArray, layout: Layout = "oi", *, inplace: bool = False, seed: Seed = None
) -> FloatArray:
    """keras/jax ``he_normal``: ``variance_scaling(2.0, "fan_in", "truncated_normal")``."""
    out = _begin(he_normal_init, locals())
    axes = layout_axes(layout)
    return _variance_scaling(he_normal_init, out, 2.0, "fan_in", "truncated_normal", axes, seed)


@register_initializer("lecun_uniform_init.v1")
@elementwise
@accepts_bfloat16
def lecun_uniform_init(
    data: FloatArray, layout: Layout = "oi", *, inplace: bool = False, seed: Seed = None
) -> FloatArray:
    """keras/jax ``lecun_uniform``: ``variance_scaling(1.0, "fan_in", "uniform")``."""
    out = _begin(lecun_uniform_init, locals())
    axes = layout_axes(layout)
    return _variance_scaling(lecun_uniform_init, out, 1.0, "fan_in", "uniform", axes, seed)


@register_initializer("lecun_normal_init.v1")
@elementwise
@accepts_bfloat16
def lecun_normal_init(
    data: FloatArray, layout: Layout = "oi", *, inplace: bool = False, seed: Seed = None
) -> FloatArray:
    """keras/jax ``lecun_normal``: ``variance_scaling(1.0, "fan_in", "truncated_normal")``."""
    out = _begin(lecun_normal_init, locals())
    axes = layout_axes(layout)
    return _variance_scaling(lecun_normal_init, out, 1.0, "fan_in", "truncated_normal", axes, seed)
