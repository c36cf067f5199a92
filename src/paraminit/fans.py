"""Fans and gains: how an array's shape and a nonlinearity set the scale of its values.

Layout convention (thinc, torch): ``(out, in, *receptive_field)``, so
``fan_in = shape[1] * prod(shape[2:])`` and ``fan_out = shape[0] * prod(shape[2:])``.
Keras/JAX kernels are ``(*receptive_field, in, out)``: pass ``layout="io"`` (the same as
``in_axis=-2, out_axis=-1``). Every axis that is neither the in nor the out axis belongs
to the receptive field.
"""

from __future__ import annotations

import math
import numbers
import typing
from typing import Literal

__all__ = ["LAYOUTS", "Layout", "Nonlinearity", "calculate_gain", "compute_fans", "layout_axes"]

# "oi": (out, in, *receptive_field), torch and thinc; "io": (*receptive_field, in, out),
# keras, jax and flax kernels. Each name lists the order of the in and out axes.
Layout = Literal["oi", "io"]
LAYOUTS: dict[str, tuple[int, int]] = {"oi": (1, 0), "io": (-2, -1)}

Nonlinearity = Literal[
    "linear",
    "identity",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
]


def layout_axes(layout: str, *, func_name: str = "layout_axes") -> tuple[int, int]:
    """Return ``(in_axis, out_axis)`` of a named layout.

    >>> layout_axes("io")
    (-2, -1)
    """
    try:
        return LAYOUTS[layout]
    except (KeyError, TypeError):
        raise ValueError(
            f"{func_name}: 'layout' must be one of {', '.join(map(repr, LAYOUTS))}, got {layout!r}"
        ) from None


def compute_fans(
    shape: tuple[int, ...],
    *,
    in_axis: int | None = None,
    out_axis: int | None = None,
    layout: Layout | None = None,
    func_name: str = "compute_fans",
) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of an array of ``shape``.

    ``fan_in = shape[in_axis] * receptive``, ``fan_out = shape[out_axis] * receptive``,
    where ``receptive`` is the product of all other axes. The axes come from
    ``layout`` (``"oi"``, the default, or ``"io"``) or are given as
    ``in_axis``/``out_axis`` (default ``1`` and ``0``); not both.

    >>> compute_fans((256, 128))
    (128, 256)
    >>> compute_fans((3, 3, 16, 32), layout="io")
    (144, 288)
    >>> compute_fans((3, 3, 16, 32), in_axis=-2, out_axis=-1)
    (144, 288)
    """
    if layout is not None:
        if in_axis is not None or out_axis is not None:
            raise ValueError(
                f"{func_name}: pass either layout or in_axis/out_axis, not both "
                f"(got layout={layout!r}, in_axis={in_axis!r}, out_axis={out_axis!r})"
            )
        in_axis, out_axis = layout_axes(layout, func_name=func_name)
    in_axis = 1 if in_axis is None else in_axis
    out_axis = 0 if out_axis is None else out_axis
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


_LINEAR_GAIN_NAMES = frozenset(typing.get_args(Nonlinearity)) - {
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
}


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
    if not isinstance(nonlinearity, str):
        raise TypeError(f"calculate_gain: 'nonlinearity' must be a str, got {nonlinearity!r}")
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
    known = sorted(typing.get_args(Nonlinearity))
    raise ValueError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r}; known: {', '.join(known)}"
    )
