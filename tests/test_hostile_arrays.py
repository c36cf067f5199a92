"""Hostile arrays: matrices, the other byte order, huge region shapes, and set_seed's words."""

from __future__ import annotations

import functools
import inspect
import itertools
import math
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import paraminit
from paraminit import registry
from paraminit.contract import prepare_output
from paraminit.engine import fill
from paraminit.engine.blocks import fill_region, normalize_region
from paraminit.engine.streams import BLOCK_SIZE
from paraminit.foreign import accepts_bfloat16
from paraminit.regions import distribution_of, is_elementwise

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


def _layouts(array: np.ndarray, layout: str) -> np.ndarray:
    """``array`` itself, its Fortran-ordered copy, or a strided view of a larger array."""
    if layout == "F":
        return np.asfortranarray(array)
    if layout == "strided":
        big = np.zeros(tuple(2 * d for d in array.shape), array.dtype)
        view = big[tuple(slice(None, None, 2) for _ in array.shape)]
        view[...] = array
        return view
    return array


@settings(derandomize=True, max_examples=120, deadline=None)
@given(
    func=st.sampled_from(FUNCTIONS),
    dtype=st.sampled_from(DTYPES),
    shape=st.sampled_from([(7,), (70, 90), (6, 4, 3), (300, 40), (2, 3, 3, 3), (0, 5)]),
    layout=st.sampled_from(["C", "F", "strided"]),
    seed=st.integers(0, 2**64 - 1),
)
def test_the_other_byte_order_in_place_gets_the_native_values_in_the_caller_s_array(
    func: Callable[..., Any], dtype: str, shape: tuple[int, ...], layout: str, seed: int
) -> None:
    swapped = np.dtype(dtype).newbyteorder("S")
    before = np.arange(math.prod(shape), dtype=dtype).reshape(shape)
    native = _layouts(before.copy(), layout)
    data = _layouts(before.astype(swapped), layout)
    extra = {**REQUIRED.get(func.__name__, {}), "inplace": True}
    if "seed" in inspect.signature(func).parameters:
        extra["seed"] = seed
    try:
        expected = func(native, **extra)
    except (TypeError, ValueError) as err:
        with pytest.raises(type(err), match=f"^{re.escape(str(err))}$"):
            func(data, **extra)
        assert data.tobytes() == before.astype(swapped).tobytes()  # nothing half-done
        return
    got = func(data, **extra)
    assert got is data and data.dtype == swapped
    assert expected is native
    assert data.astype(dtype).tobytes() == native.tobytes()


@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
def test_the_other_byte_order_read_only_in_place_is_refused_as_a_native_one(
    func: Callable[..., Any],
) -> None:
    native = np.zeros((4, 4, 3), "f4")
    data = native.astype(native.dtype.newbyteorder("S"))
    native.flags.writeable = data.flags.writeable = False
    extra = {**REQUIRED.get(func.__name__, {}), "inplace": True}
    with pytest.raises(ValueError) as expected:
        func(native, **extra)
    with pytest.raises(ValueError, match=f"^{re.escape(str(expected.value))}$"):
        func(data, **extra)


def test_a_plugin_initializer_without_the_wrapper_refuses_the_other_byte_order_in_place() -> None:
    def plain_init(data: np.ndarray, *, inplace: bool = False) -> np.ndarray:
        out = prepare_output("plain_init", data, inplace)
        out.fill(1.0)
        return out

    data = np.zeros(3, ">f4")
    with pytest.raises(TypeError, match=r"^plain_init: 'data' has the non-native byte order"):
        plain_init(data, inplace=True)
    wrapped = accepts_bfloat16(plain_init)
    assert wrapped(data, inplace=True) is data and data.tolist() == [1.0, 1.0, 1.0]


def test_a_region_of_an_array_numpy_can_describe_is_made_alone() -> None:
    # 2**42 elements (16 TiB of float32): only the region is allocated.
    shape = (2**40, 4)
    region = paraminit.initialize_region(
        paraminit.uniform_init, shape, (2**39, slice(1, 3)), seed=5
    )
    assert region.shape == (2,) and np.isfinite(region).all()


# ---------------------------------------------------------------- shapes of 2**63 bytes or more

INT64_MAX = 2**63 - 1
ELEMENTWISE_INITS = [f for f in FUNCTIONS if is_elementwise(f)]
WHOLE_ONLY = [f for f in FUNCTIONS if not is_elementwise(f)]


def _gcd_twin(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape numpy can describe with the fans of ``shape`` (default layout): (o, i, r)
    with ``r = gcd(fan_out, fan_in)``; ``(1,)`` for a 1-D shape, which has no fans."""
    if len(shape) < 2:
        return (1,)
    receptive = math.prod(shape[2:])
    fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
    r = math.gcd(fan_in, fan_out)
    return (fan_out // r, fan_in // r, r)


@st.composite
def huge_shapes(draw: st.DrawFn, itemsize: int) -> tuple[int, ...]:
    """Shapes of ``2**63`` bytes or more whose element count fits in int64 and whose fans
    a describable shape (:func:`_gcd_twin`) shares; 1-D ones up to ``2**63 - 1``."""
    if draw(st.booleans()):
        return (draw(st.integers(-(-(2**63) // itemsize), INT64_MAX)),)
    odd = st.sampled_from([1, 3, 5, 7])
    r_axes = draw(st.lists(st.integers(0, 12), min_size=0, max_size=2))
    o, i = 2 ** draw(st.integers(0, 24)) * draw(odd), 2 ** draw(st.integers(0, 24)) * draw(odd)
    spare = max(0, 63 - (o * i * 2 ** sum(r_axes)).bit_length())
    rest = 2 ** draw(st.integers(max(0, spare - 6), spare))  # the receptive field's bulk
    shape = (o, i, *(2**r for r in r_axes), rest) if draw(st.booleans()) else (o * rest, i)
    count = math.prod(shape)
    assume(count * itemsize >= 2**63 and count <= INT64_MAX)
    assume(math.prod(_gcd_twin(shape)) * itemsize < 2**63)
    return shape


@st.composite
def small_regions(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """Regions of at most 4 elements per axis anywhere in ``shape``: near either end or
    inside, with steps from 1 to a third of the axis, forward or reversed, or one index."""
    region: list[Any] = []
    for size in shape:
        near = st.sampled_from([0, 1, size // 2, size - 2, size - 1])
        start = min(size - 1, max(0, draw(st.one_of(near, st.integers(0, size - 1)))))
        if draw(st.integers(0, 3)) == 0:
            region.append(start)
            continue
        step = draw(st.sampled_from([1, 2, 7, 2**16 + 1, max(1, size // 3)]))
        length = draw(st.integers(1, 4))
        if draw(st.booleans()):
            region.append(slice(start, start + length * step, step))
        else:
            stop = start - length * step
            region.append(slice(start, stop if stop >= 0 else None, -step))
    return tuple(region)


def _block_values(dist: Any, size: int, block: int, seed: int, dtype: str) -> np.ndarray:
    """Block ``block`` of a ``size``-element array: made alone, as its stream depends on
    ``(seed, block)`` only (engine.md); a whole real array where that array is small."""
    start, stop = block * BLOCK_SIZE, min(size, (block + 1) * BLOCK_SIZE)
    if stop == (block + 1) * BLOCK_SIZE <= 2**20:  # a full early block: the array's own fill
        return fill(np.empty(stop, dtype), dist, seed)[start:stop]
    return fill_region(dist, (size,), slice(start, stop), seed, dtype)


def _expected_region(
    dist: Any, shape: tuple[int, ...], region: tuple[Any, ...], seed: int, dtype: str
) -> np.ndarray:
    """The region, element by element, from the blocks its logical indices fall in."""
    ranges, dropped = normalize_region("test", shape, region)
    size, blocks = math.prod(shape), {}
    values = []
    for index in itertools.product(*ranges):
        logical = sum(i * math.prod(shape[a + 1 :]) for a, i in enumerate(index))
        block = logical // BLOCK_SIZE
        if block not in blocks:
            blocks[block] = _block_values(dist, size, block, seed, dtype)
        values.append(blocks[block][logical - block * BLOCK_SIZE])
    kept = tuple(len(r) for a, r in enumerate(ranges) if a not in dropped)
    return np.array(values, dtype).reshape(kept)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(data=st.data(), func=st.sampled_from(ELEMENTWISE_INITS), dtype=st.sampled_from(DTYPES))
def test_a_region_of_a_shape_past_2_63_bytes_is_the_engine_s_blocks_for_the_same_fans(
    data: st.DataObject, func: Callable[..., Any], dtype: str
) -> None:
    shape = data.draw(huge_shapes(np.dtype(dtype).itemsize), label="shape")
    region = data.draw(small_regions(shape), label="region")
    seed = data.draw(st.integers(0, 2**64 - 1), label="seed")
    init = functools.partial(func, **REQUIRED.get(func.__name__, {}))
    twin = _gcd_twin(shape)
    try:
        expected_dist = distribution_of(init, twin, dtype=dtype)
    except ValueError as err:  # a 1-D shape has no fans: the same refusal, for its own shape
        with pytest.raises(ValueError, match=re.escape(str(err).replace(str(twin), str(shape)))):
            paraminit.initialize_region(init, shape, region, seed=seed, dtype=dtype)
        return
    assert distribution_of(init, shape, dtype=dtype) == expected_dist
    got = paraminit.initialize_region(init, shape, region, seed=seed, dtype=dtype)
    if isinstance(expected_dist, float):  # a constant
        expected = np.full(got.shape, expected_dist, dtype)
    else:
        expected = _expected_region(expected_dist, shape, region, seed, dtype)
    assert got.dtype == np.dtype(dtype) and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()


def test_the_last_elements_of_an_int64_sized_array_are_its_last_block() -> None:
    # The block past the last one starts beyond int64: numpy's searchsorted wrapped it.
    shape, dist = (INT64_MAX,), distribution_of(paraminit.uniform_init, (1,))
    got = paraminit.initialize_region(paraminit.uniform_init, shape, slice(-3, None), seed=3)
    last = fill_region(dist, shape, slice(INT64_MAX // BLOCK_SIZE * BLOCK_SIZE, None), 3, "f4")
    assert got.tobytes() == last[-3:].tobytes()


@pytest.mark.parametrize("func", WHOLE_ONLY, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(2**60, 4), (2**40, 2**20)])
def test_a_whole_only_initializer_refuses_a_huge_shape_naming_the_bytes(
    func: Callable[..., Any], shape: tuple[int, ...]
) -> None:
    init = functools.partial(func, **REQUIRED.get(func.__name__, {}))
    with pytest.raises(ValueError) as caught:
        paraminit.initialize_region(init, shape, (0, slice(0, 2)), seed=0)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"initialize_region: {func.__name__} is computed whole: an array")
    assert f"needs {math.prod(shape) * 4:,} bytes" in message


@pytest.mark.parametrize("shape", [(2**61, 4), (2**62, 2**62), (2**63,)])
def test_a_shape_of_more_elements_than_int64_holds_is_refused_by_name(
    shape: tuple[int, ...],
) -> None:
    with pytest.raises(
        ValueError, match=r"^initialize_region: 'shape' .* elements, more than an int64"
    ):
        paraminit.initialize_region(paraminit.uniform_init, shape, (0, slice(0, 2)), seed=0)


def test_a_region_too_large_to_hold_is_refused_before_allocating() -> None:
    with pytest.raises(
        ValueError, match=rf"^initialize_region: the region of shape .* needs {2**64:,} bytes"
    ):
        paraminit.initialize_region(paraminit.uniform_init, (2**60, 4), slice(None), seed=0)


@pytest.mark.parametrize("seed", [None, 1.5, "3", True])
def test_set_seed_says_what_it_takes_and_takes_what_it_says(seed: object) -> None:
    with pytest.raises(TypeError) as caught:
        paraminit.set_seed(seed)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("set_seed: 'seed' must be a non-negative int,")
    assert "None" not in message.split(", got")[0]
