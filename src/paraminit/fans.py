"""Fans and gains: how an array's shape and a nonlinearity set the scale of its values.

Layout convention (thinc, torch): ``(out, in, *receptive_field)``, so
``fan_in = shape[1] * prod(shape[2:])`` and ``fan_out = shape[0] * prod(shape[2:])``.
Keras/JAX kernels are ``(*receptive_field, in, out)``: pass ``in_axis=-2, out_axis=-1``.
Every axis that is neither the in nor the out axis belongs to the receptive field.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["calculate_gain", "compute_fans"]


def compute_fans(
    shape: tuple[int, ...],
    *,
    in_axis: int = 1,
    out_axis: int = 0,
    func_name: str = "compute_fans",
) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of an array of ``shape``.

    ``fan_in = shape[in_axis] * receptive``, ``fan_out = shape[out_axis] * receptive``,
    where ``receptive`` is the product of all other axes.

    >>> compute_fans((256, 128))
    (128, 256)
    >>> compute_fans((3, 3, 16, 32), in_axis=-2, out_axis=-1)
    (144, 288)
    """
    ndim = len(shape)
    if ndim < 2:
        raise ValueError(
            f"{func_name}: fans need an array with at least 2 dimensions, got shape {tuple(shape)}"
        )
    axes = []
    for name, axis in (("in_axis", in_axis), ("out_axis", out_axis)):
        if not -ndim <= axis < ndim:
            raise ValueError(f"{func_name}: {name}={axis} is out of range for shape {tuple(shape)}")
        axes.append(axis % ndim)
    if axes[0] == axes[1]:
        raise ValueError(
            f"{func_name}: in_axis and out_axis must differ, both are axis {axes[0]} "
            f"of shape {tuple(shape)}"
        )
    receptive = math.prod(d for i, d in enumerate(shape) if i not in axes)
    return int(shape[axes[0]]) * receptive, int(shape[axes[1]]) * receptive


_LINEAR_GAIN_NAMES = frozenset(
    {
        "linear",
        "identity",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    }
)


def calculate_gain(nonlinearity: str, param: object = None) -> float:
    """Return the recommended gain for ``nonlinearity`` (torch's table).

    ============================ ===========================
    nonlinearity                 gain
    ============================ ===========================
    linear / identity / conv*    1
    sigmoid                      1
    tanh                         5/3
    relu                         sqrt(2)
    leaky_relu                   sqrt(2 / (1 + slope**2)), slope = ``param`` or 0.01
    selu                         3/4
    ============================ ===========================

    >>> calculate_gain("relu")
    1.4142135623730951
    """
    if nonlinearity in _LINEAR_GAIN_NAMES:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, numbers.Real):
            raise ValueError(
                f"calculate_gain: param for leaky_relu must be a number (the negative slope), "
                f"got {param!r}"
            )
        else:
            slope = float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    known = sorted(_LINEAR_GAIN_NAMES | {"tanh", "relu", "selu", "leaky_relu"})
    raise ValueError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r}; known: {', '.join(known)}"
    )
