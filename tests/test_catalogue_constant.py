"""Deterministic initializers: constants, identity and Dirac kernels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import paraminit
from _conv import conv
from paraminit.initializers import _base


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_constants(dtype: Any) -> None:
    data = np.empty((3, 4, 2), dtype)
    assert (paraminit.zero_init(data) == 0).all()
    assert (paraminit.ones_init(data) == 1).all()
    assert (paraminit.constant_init(data, -0.5) == -0.5).all()
    assert (paraminit.constant_init(data, 7) == 7).all()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_large_constant_fills_are_shared_over_threads_with_the_same_bits(
    threads: int, dtype: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pieces of 64 KiB, so that 2 MiB go to threads; 2 MiB is also above the size where
    # the C library fills. Ragged ends (an odd float16 length), an even one; -0.0 is not a
    # byte repeated (its sign bit), 1e-30 is 0 in float16.
    monkeypatch.setattr(_base, "_CONSTANT_PIECE", 1 << 16)
    for size in (2 * _base._C_FILL_FROM // np.dtype(dtype).itemsize + 3, 3 << 19):
        _check_constant_fills(size, threads, dtype)


def _check_constant_fills(size: int, threads: int, dtype: Any) -> None:
    paraminit.set_num_threads(threads)
    for value in (0.0, -0.0, 1.0, 0.1, -3.7, 1e-30):
        got = paraminit.constant_init(np.full(size, 5, dtype), value, inplace=True)
        expected = np.empty(size, dtype)
        expected.fill(value)
        np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))
    strided = np.empty((size, 2), dtype)[:, 0]  # not contiguous: one fill, same values
    assert (paraminit.ones_init(strided, inplace=True) == 1).all()
    zeros = paraminit.zero_init(np.ones((2, size // 2), dtype), inplace=True)
    assert not zeros.view(np.uint8).any()  # +0.0 everywhere, by memset


def test_constant_rejects_a_value_that_overflows_the_dtype() -> None:
    overflow = r"constant_init: 'value' overflows float16, got 100000\.0"
    with pytest.raises(ValueError, match=overflow):
        paraminit.constant_init(np.empty(3, np.float16), 1e5)


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3), (1, 1), (0, 3)])
def test_identity_is_the_eye_matrix_times_gain(shape: tuple[int, int]) -> None:
    np.testing.assert_array_equal(paraminit.identity_init(np.empty(shape)), np.eye(*shape))
    np.testing.assert_array_equal(
        paraminit.identity_init(np.empty(shape), gain=0.5), 0.5 * np.eye(*shape)
    )


def test_eye_init_is_identity_init() -> None:
    assert paraminit.eye_init is paraminit.identity_init


@pytest.mark.parametrize("shape", [(4,), (2, 2, 2)])
def test_identity_needs_exactly_two_dimensions(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=rf"identity_init: .*exactly 2 dimensions.*{shape}"):
        paraminit.identity_init(np.empty(shape))


# torch.nn.init.dirac_(torch.empty(shape), groups).nonzero(), as torch 2.x prints it.
TORCH_DIRAC = [
    ((4, 2, 3), 2, [(0, 0, 1), (1, 1, 1), (2, 0, 1), (3, 1, 1)]),
    (
        (6, 2, 3, 3),
        3,
        [(0, 0, 1, 1), (1, 1, 1, 1), (2, 0, 1, 1), (3, 1, 1, 1), (4, 0, 1, 1), (5, 1, 1, 1)],
    ),
    ((4, 4, 2, 2), 1, [(0, 0, 1, 1), (1, 1, 1, 1), (2, 2, 1, 1), (3, 3, 1, 1)]),
    ((3, 5, 3), 1, [(0, 0, 1), (1, 1, 1), (2, 2, 1)]),
    ((6, 2, 4, 4, 5), 2, [(0, 0, 2, 2, 2), (1, 1, 2, 2, 2), (3, 0, 2, 2, 2), (4, 1, 2, 2, 2)]),
]


@pytest.mark.parametrize(("shape", "groups", "ones"), TORCH_DIRAC)
def test_dirac_puts_its_ones_where_torch_does(
    shape: tuple[int, ...], groups: int, ones: list[tuple[int, ...]]
) -> None:
    kernel = paraminit.dirac_init(np.empty(shape, np.float32), groups)
    assert [tuple(i) for i in np.argwhere(kernel)] == ones
    assert (kernel[kernel != 0] == 1).all()


@pytest.mark.parametrize(
    ("shape", "groups"),
    [((5, 5, 3), 1), ((4, 4, 3, 5), 1), ((6, 3, 3, 3, 3), 2), ((8, 2, 5, 3), 4), ((3, 3, 1), 1)],
)
def test_a_convolution_with_the_dirac_kernel_copies_its_input(
    shape: tuple[int, ...], groups: int
) -> None:
    kernel = paraminit.dirac_init(np.empty(shape), groups)
    channels = shape[1] * groups
    x = np.random.default_rng(0).standard_normal((channels, *[7] * (len(shape) - 2)))
    y = conv(x, kernel, padding=tuple(k // 2 for k in shape[2:]), groups=groups)
    np.testing.assert_allclose(y, x)


def test_dirac_with_more_outputs_than_inputs_copies_the_first_channels() -> None:
    kernel = paraminit.dirac_init(np.empty((6, 4, 3)))
    x = np.random.default_rng(1).standard_normal((4, 9))
    y = conv(x, kernel, padding=(1,))
    np.testing.assert_allclose(y[:4], x)
    assert (y[4:] == 0).all()


@pytest.mark.parametrize("shape", [(4, 4), (2, 2, 2, 2, 2, 2)])
def test_dirac_needs_three_to_five_dimensions(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=rf"dirac_init: .*3 to 5 dimensions.*{shape}"):
        paraminit.dirac_init(np.empty(shape))


def test_dirac_needs_output_channels_that_divide_into_groups() -> None:
    with pytest.raises(ValueError, match=r"dirac_init: .*groups=3.*\(4, 2, 3\)"):
        paraminit.dirac_init(np.empty((4, 2, 3)), groups=3)
