"""Hostile arrays: matrices, the other byte order, huge region shapes, and set_seed's words."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import paraminit
from paraminit import registry

FUNCTIONS = sorted(
    {registry.initializers.get(name).func for name in registry.initializers.get_all()},
    key=lambda f: f.__name__,
)
REQUIRED: dict[str, dict[str, Any]] = {
    "constant_init": {"value": 0.25},
    "sparse_init": {"sparsity": 0.3},
}
DTYPES = ["float16", "float32", "float64"]


def run(func: Callable[..., Any], data: Any, **kwargs: Any) -> Any:
    """``func(data)`` with its required arguments and a seed; the error it raised, if any."""
    extra = {**REQUIRED.get(func.__name__, {}), **kwargs}
    if "seed" in inspect.signature(func).parameters:
        extra["seed"] = 7
    try:
        return func(data, **extra)
    except (TypeError, ValueError) as err:
        return err


def matrix(values: np.ndarray) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.matrix(values)


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_a_matrix_filled_in_place_is_refused_naming_the_function(func: Callable[..., Any]) -> None:
    data = matrix(np.zeros((300, 300)))
    with pytest.raises(TypeError, match=rf"^{func.__name__}: 'data' is a numpy.matrix"):
        func(data, **REQUIRED.get(func.__name__, {}), inplace=True)
    assert not data.any()  # nothing half-done


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_a_matrix_copied_gets_the_values_of_a_plain_array(func: Callable[..., Any]) -> None:
    plain = run(func, np.zeros((70, 90)))
    copied = run(func, matrix(np.zeros((70, 90))))
    if isinstance(plain, Exception):
        assert str(copied) == str(plain)
        return
    assert type(copied) is np.ndarray
    assert copied.tobytes() == plain.tobytes()


@settings(derandomize=True, max_examples=40, deadline=None)
@given(
    func=st.sampled_from(FUNCTIONS),
    dtype=st.sampled_from(DTYPES),
    shape=st.sampled_from([(7,), (70, 90), (6, 4, 3), (300, 40), (2, 3, 3, 3)]),
)
def test_the_other_byte_order_gets_the_values_of_the_native_one(
    func: Callable[..., Any], dtype: str, shape: tuple[int, ...]
) -> None:
    swapped = np.dtype(dtype).newbyteorder("S")
    native = run(func, np.zeros(shape, dtype))
    other = run(func, np.zeros(shape, swapped))
    if isinstance(native, Exception):
        assert str(other) == str(native)
        return
    assert other.dtype == np.dtype(dtype) and other.dtype.isnative
    assert other.tobytes() == native.tobytes()


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_the_other_byte_order_in_place_is_refused_naming_the_function(
    func: Callable[..., Any],
) -> None:
    data = np.zeros((4, 4, 3), np.dtype("f4").newbyteorder("S"))
    with pytest.raises(TypeError, match=rf"^{func.__name__}: 'data' has the non-native byte order"):
        func(data, **REQUIRED.get(func.__name__, {}), inplace=True)


def test_a_region_of_an_array_numpy_can_describe_is_made_alone() -> None:
    # 2**42 elements (16 TiB of float32): only the region is allocated.
    shape = (2**40, 4)
    region = paraminit.initialize_region(
        paraminit.uniform_init, shape, (2**39, slice(1, 3)), seed=5
    )
    assert region.shape == (2,) and np.isfinite(region).all()


@pytest.mark.parametrize("shape", [(2**61, 4), (2**62, 2**62)])
def test_a_region_of_an_array_numpy_cannot_describe_is_refused_by_name(
    shape: tuple[int, ...],
) -> None:
    with pytest.raises(ValueError, match=r"^initialize_region: shape .* bytes, more than numpy"):
        paraminit.initialize_region(paraminit.uniform_init, shape, (0, slice(0, 2)), seed=0)


@pytest.mark.parametrize("seed", [None, 1.5, "3", True])
def test_set_seed_says_what_it_takes_and_takes_what_it_says(seed: object) -> None:
    with pytest.raises(TypeError) as caught:
        paraminit.set_seed(seed)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("set_seed: 'seed' must be a non-negative int,")
    assert "None" not in message.split(", got")[0]
