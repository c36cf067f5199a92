"""The data contract: which arrays initializers accept, and where they write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import paraminit

Init = Callable[..., Any]

SEED_FUNCTIONS: list[tuple[str, Init]] = [
    ("uniform_init", paraminit.uniform_init),
    ("normal_init", paraminit.normal_init),
    ("xavier_uniform_init", paraminit.xavier_uniform_init),
    ("zero_init", paraminit.zero_init),
]


@pytest.fixture(params=SEED_FUNCTIONS, ids=[name for name, _ in SEED_FUNCTIONS])
def init(request: pytest.FixtureRequest) -> Init:
    return request.param[1]  # type: ignore[no-any-return]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_float_dtypes_are_kept(init: Init, dtype: str) -> None:
    out = init(np.empty((6, 5), dtype=dtype))
    assert out.dtype == np.dtype(dtype)
    assert out.shape == (6, 5)


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "complex64", "object", "uint8"])
def test_other_dtypes_are_a_type_error_naming_function_and_dtype(init: Init, dtype: str) -> None:
    with pytest.raises(TypeError, match=rf"{init.__name__}.*{dtype}"):
        init(np.zeros((4, 4), dtype=dtype))


@pytest.mark.parametrize("data", [[[0.0, 1.0], [2.0, 3.0]], 3.0, "W", None])
def test_non_arrays_are_a_type_error(init: Init, data: object) -> None:
    with pytest.raises(TypeError, match=rf"{init.__name__}: 'data' must be a numpy.ndarray"):
        init(data)


def test_read_only_array_in_place_is_a_value_error(init: Init) -> None:
    data = np.zeros((4, 4), np.float32)
    data.flags.writeable = False
    with pytest.raises(ValueError, match=rf"{init.__name__}: inplace=True needs a writeable"):
        init(data, inplace=True)


def test_read_only_array_can_be_copied(init: Init) -> None:
    data = np.ones((4, 4), np.float32)
    data.flags.writeable = False
    out = init(data)
    assert out is not data
    assert out.flags.writeable


def test_inplace_false_returns_new_array_and_leaves_data_untouched(init: Init) -> None:
    data = np.full((8, 4), 7.0, np.float32)
    out = init(data)
    assert out is not data
    assert not np.shares_memory(out, data)
    assert (data == 7.0).all()
    assert (out != 7.0).all()


def test_inplace_true_writes_into_data_and_returns_it(init: Init) -> None:
    data = np.full((8, 4), 7.0, np.float32)
    out = init(data, inplace=True)
    assert out is data
    assert (data != 7.0).all()


def test_inplace_on_strided_view_writes_only_the_view(init: Init) -> None:
    base = np.full((8, 12), 7.0, np.float32)
    view = base[:, ::2]
    out = init(view, inplace=True)
    assert out is view
    assert (base[:, 1::2] == 7.0).all()
    assert (base[:, ::2] != 7.0).all()


def test_size_zero_arrays_come_back_unchanged(init: Init) -> None:
    data = np.empty((0, 4), np.float32)
    assert init(data, inplace=True) is data
    out = init(data)
    assert out.shape == (0, 4)
    assert out.dtype == np.float32


@pytest.mark.parametrize("inplace", [1, "yes", None])
def test_inplace_must_be_a_bool(inplace: object) -> None:
    with pytest.raises(TypeError, match="uniform_init: 'inplace' must be a bool"):
        paraminit.uniform_init(np.zeros((2, 2)), inplace=inplace)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda a: np.asfortranarray(a), id="fortran"),
        pytest.param(
            lambda a: np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)[:, ::2], id="strided"
        ),
        pytest.param(lambda a: np.zeros(a.shape[::-1], a.dtype).T, id="transposed"),
    ],
)
def test_values_follow_the_logical_index_not_memory_order(make: Callable[[Any], Any]) -> None:
    reference = paraminit.uniform_init(np.empty((130, 70), np.float32), seed=11)
    other = make(np.zeros((130, 70), np.float32))
    paraminit.uniform_init(other, inplace=True, seed=11)
    np.testing.assert_array_equal(other, reference)
