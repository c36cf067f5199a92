"""Deterministic initializers: constants, the identity matrix and the Dirac (identity) kernel."""

from __future__ import annotations

import numpy as np

from ..arguments import Finite, PositiveFinite, PositiveInt
from ..contract import FloatArray, require_ndim
from ..foreign import accepts_bfloat16
from ..regions import elementwise
from ..registry import register_initializer
from ._base import _begin, _fill_constant, _require_fits

__all__ = ["constant_init", "dirac_init", "eye_init", "identity_init", "ones_init", "zero_init"]


@register_initializer("zero_init.v1")
@elementwise
@accepts_bfloat16
def zero_init(data: FloatArray, *, inplace: bool = False) -> FloatArray:
    """Initialize a parameter with zeros; usually for output layers and biases.

    >>> zero_init(np.ones(3, "f"))
    array([0., 0., 0.], dtype=float32)
    """
    out = _begin(zero_init, locals())
    return _fill_constant(out, 0.0)


@register_initializer("ones_init.v1")
@elementwise
@accepts_bfloat16
def ones_init(data: FloatArray, *, inplace: bool = False) -> FloatArray:
    """Initialize with ones; usually for the scale of a normalization layer.

    >>> ones_init(np.zeros(3, "f"))
    array([1., 1., 1.], dtype=float32)
    """
    out = _begin(ones_init, locals())
    return _fill_constant(out, 1.0)


@register_initializer("constant_init.v1")
@elementwise
@accepts_bfloat16
def constant_init(data: FloatArray, value: Finite, *, inplace: bool = False) -> FloatArray:
    """Set every element to ``value`` (rounded to the array's dtype).

    >>> constant_init(np.empty(2, "f"), 0.5)
    array([0.5, 0.5], dtype=float32)
    """
    out = _begin(constant_init, locals())
    _require_fits(constant_init, out, "value", value)
    return _fill_constant(out, value)


@register_initializer("eye_init.v1")
@register_initializer("identity_init.v1")
@accepts_bfloat16
def identity_init(
    data: FloatArray, gain: PositiveFinite = 1.0, *, inplace: bool = False
) -> FloatArray:
    """``gain`` times the identity matrix of a 2-D array; rectangular arrays get ones on the
    main diagonal and zeros elsewhere (torch ``eye_``, keras ``Identity``).

    Also registered and exported as ``eye_init``.

    >>> identity_init(np.empty((2, 3), "f"))
    array([[1., 0., 0.],
           [0., 1., 0.]], dtype=float32)
    """
    out = _begin(identity_init, locals())
    require_ndim(identity_init.__name__, out.shape, 2, 2)
    _require_fits(identity_init, out, "gain", gain)
    out.fill(0)
    np.fill_diagonal(out, gain)
    return out


eye_init = identity_init


@register_initializer("dirac_init.v1")
@accepts_bfloat16
def dirac_init(data: FloatArray, groups: PositiveInt = 1, *, inplace: bool = False) -> FloatArray:
    """A convolution kernel that passes its input channels through (torch ``dirac_``).

    For a kernel of shape ``(out, in, *spatial)`` with 1 to 3 spatial axes, in each
    of the ``groups`` groups of ``out // groups`` output channels, output channel
    ``d`` of the group gets a 1 at input channel ``d`` and the spatial centre
    ``size // 2`` of each spatial axis, for ``d < min(out // groups, in)``; all else is
    zero. A convolution with it (padding ``size // 2``) copies the first channels.

    >>> dirac_init(np.empty((2, 2, 3), "f"))[:, :, 1]
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    out = _begin(dirac_init, locals())
    require_ndim(dirac_init.__name__, out.shape, 3, 5)
    if out.shape[0] % groups:
        raise ValueError(
            f"{dirac_init.__name__}: the output channels (axis 0) must divide into "
            f"groups={groups}, got shape {out.shape}"
        )
    out.fill(0)
    per_group = out.shape[0] // groups
    channels = np.arange(min(per_group, out.shape[1]))
    centre = tuple(size // 2 for size in out.shape[2:])
    if out.size:
        for group in range(groups):
            index = (group * per_group + channels, channels, *centre)
            out[index] = 1
    return out
