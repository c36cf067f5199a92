"""Fans with layouts and torch's gain table."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import paraminit
from _tables import NAMED_SCALING
from paraminit import calculate_gain, compute_fans, layout_axes

# torch.nn.init.calculate_gain, value for value (torch 2.x, printed with repr()).
TORCH_GAINS = [
    ("linear", None, 1),
    ("conv1d", None, 1),
    ("conv2d", None, 1),
    ("conv3d", None, 1),
    ("conv_transpose1d", None, 1),
    ("conv_transpose2d", None, 1),
    ("conv_transpose3d", None, 1),
    ("sigmoid", None, 1),
    ("tanh", None, 1.6666666666666667),
    ("relu", None, 1.4142135623730951),
    ("leaky_relu", None, 1.4141428569978354),
    ("leaky_relu", 0.2, 1.3867504905630728),
    ("leaky_relu", 0, 1.4142135623730951),
    ("leaky_relu", 1, 1.0),
    ("selu", None, 0.75),
    ("relu", 0.5, 1.4142135623730951),  # param is ignored except for leaky_relu
]


@pytest.mark.parametrize(("nonlinearity", "param", "gain"), TORCH_GAINS)
def test_calculate_gain_equals_torch_to_the_last_digit(
    nonlinearity: str, param: Any, gain: float
) -> None:
    assert calculate_gain(nonlinearity, param) == gain


@pytest.mark.parametrize("name", ["swish", "Relu", ""])
def test_calculate_gain_rejects_unknown_names_listing_the_known(name: str) -> None:
    with pytest.raises(ValueError, match=r"calculate_gain: unknown nonlinearity.*leaky_relu"):
        calculate_gain(name)


@pytest.mark.parametrize("param", [True, False, "0.1", [0.1]])
def test_calculate_gain_rejects_a_slope_that_is_not_a_number(param: Any) -> None:
    with pytest.raises(ValueError, match="calculate_gain: param for leaky_relu must be a number"):
        calculate_gain("leaky_relu", param)


def test_calculate_gain_rejects_a_name_that_is_not_a_string() -> None:
    with pytest.raises(TypeError, match="calculate_gain: 'nonlinearity' must be a str"):
        calculate_gain(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("shape", "layout", "fans"),
    [
        ((256, 128), "oi", (128, 256)),
        ((256, 128), "io", (256, 128)),
        ((32, 16, 3, 3), "oi", (144, 288)),
        ((3, 3, 16, 32), "io", (144, 288)),
        ((8, 4, 5), "oi", (20, 40)),
        ((5, 4, 8), "io", (20, 40)),
        ((2, 3, 4, 5, 6), "io", (24 * 5, 24 * 6)),
    ],
)
def test_compute_fans_by_layout(shape: tuple[int, ...], layout: Any, fans: tuple[int, int]) -> None:
    assert compute_fans(shape, layout=layout) == fans
    in_axis, out_axis = layout_axes(layout)
    assert compute_fans(shape, in_axis=in_axis, out_axis=out_axis) == fans


def test_the_default_layout_is_out_in_receptive() -> None:
    assert compute_fans((32, 16, 3, 3)) == compute_fans((32, 16, 3, 3), layout="oi")


def test_compute_fans_refuses_a_layout_together_with_axes() -> None:
    with pytest.raises(ValueError, match="either layout or in_axis/out_axis"):
        compute_fans((3, 4), layout="io", in_axis=0)


def test_layout_axes_rejects_unknown_layouts() -> None:
    with pytest.raises(ValueError, match="'layout' must be one of 'oi', 'io', got 'x'"):
        layout_axes("x")


@pytest.mark.parametrize(
    "init",
    NAMED_SCALING,
)
def test_every_fan_based_initializer_reads_the_layout(init: Any) -> None:
    # A keras kernel (kh, kw, in, out) gets what its torch transpose (out, in, kh, kw) gets.
    keras = init(np.empty((3, 3, 8, 40)), layout="io", seed=1)
    torch_style = init(np.empty((40, 8, 3, 3)), seed=1)
    assert keras.std() == pytest.approx(torch_style.std(), rel=1e-12)
    wrong = init(np.empty((3, 3, 8, 40)), seed=1)
    assert not math.isclose(keras.std(), wrong.std(), rel_tol=0.05)


def test_variance_scaling_takes_jax_axes() -> None:
    keras = paraminit.variance_scaling_init(
        np.empty((3, 3, 8, 40)), 2.0, "fan_in", "normal", in_axis=-2, out_axis=-1, seed=1
    )
    torch_style = paraminit.variance_scaling_init(
        np.empty((40, 8, 3, 3)), 2.0, "fan_in", "normal", seed=1
    )
    assert keras.std() == pytest.approx(torch_style.std(), rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [({"in_axis": 4}, "in_axis=4 is out of range"), ({"out_axis": 1}, "must differ")],
)
def test_variance_scaling_rejects_bad_axes_for_the_shape(kwargs: Any, words: str) -> None:
    with pytest.raises(ValueError, match=f"variance_scaling_init: .*{words}.*\\(4, 3\\)"):
        paraminit.variance_scaling_init(np.empty((4, 3)), **kwargs)
