"""Properties over generated shapes, regions and arguments (hypothesis, derandomized)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from confection import Config
from hypothesis import given, settings
from hypothesis import strategies as st

import paraminit
from conftest import init_block
from paraminit import ConfigValidationError, registry
from paraminit.engine import BLOCK_SIZE

# Derandomized: the same examples on every run, as CI needs.
PROPERTY = settings(derandomize=True, max_examples=40, deadline=None)

shapes = st.lists(st.integers(1, 70), min_size=1, max_size=3).map(tuple)
# Up to a few blocks, so regions straddle block edges.
large_shapes = st.sampled_from([(3, 50_000), (BLOCK_SIZE + 7,), (2, 300, 301)])
dtypes = st.sampled_from(["float16", "float32", "float64"])
initializers = st.sampled_from(
    [paraminit.uniform_init, paraminit.he_normal_init, paraminit.truncated_normal_init]
)


@st.composite
def shape_and_region(draw: st.DrawFn, shape_strategy: Any) -> tuple[tuple[int, ...], Any]:
    shape = draw(shape_strategy)
    region = []
    for size in shape:
        a = draw(st.integers(-size, size))
        b = draw(st.integers(-size, size))
        step = draw(st.integers(1, 7)) * draw(st.sampled_from([1, -1]))
        region.append(slice(a, b, step))
    return shape, tuple(region)


def _init(init: Any, shape: tuple[int, ...], dtype: str, seed: int) -> Any:
    if init is paraminit.he_normal_init and len(shape) < 2:
        shape = (1, *shape)
    return init, shape, init(np.empty(shape, dtype), seed=seed)


@PROPERTY
@given(initializers, shape_and_region(shapes), dtypes, st.integers(0, 2**128 - 1))
def test_any_region_equals_the_slice_of_the_whole(
    init: Any, case: tuple[tuple[int, ...], Any], dtype: str, seed: int
) -> None:
    shape, region = case
    init, shape, whole = _init(init, shape, dtype, seed)
    region = region if len(region) == len(shape) else (slice(None), *region)
    part = paraminit.initialize_region(init, shape, region, seed=seed, dtype=dtype)
    np.testing.assert_array_equal(part, whole[region])


@settings(derandomize=True, max_examples=12, deadline=None)
@given(initializers, shape_and_region(large_shapes), st.integers(0, 2**64))
def test_regions_across_blocks_equal_the_slice_of_the_whole(
    init: Any, case: tuple[tuple[int, ...], Any], seed: int
) -> None:
    shape, region = case
    init, shape, whole = _init(init, shape, "float32", seed)
    region = region if len(region) == len(shape) else (slice(None), *region)
    part = paraminit.initialize_region(init, shape, region, seed=seed)
    np.testing.assert_array_equal(part, whole[region])


@PROPERTY
@given(shapes, st.data())
def test_filling_a_strided_view_in_place_equals_the_contiguous_fill(
    shape: tuple[int, ...], data: st.DataObject
) -> None:
    steps = [data.draw(st.integers(1, 3)) for _ in shape]
    base = np.zeros([d * s for d, s in zip(shape, steps, strict=True)], np.float32)
    view = base[tuple(slice(None, None, s) for s in steps)]
    paraminit.uniform_init(view, inplace=True, seed=5)
    np.testing.assert_array_equal(view, paraminit.uniform_init(np.empty(shape, "f"), seed=5))


@PROPERTY
@given(st.lists(st.integers(1, 9), min_size=2, max_size=5).map(tuple))
def test_fans_share_the_receptive_field(shape: tuple[int, ...]) -> None:
    fan_in, fan_out = paraminit.compute_fans(shape)
    receptive = math.prod(shape[2:])
    assert (fan_in, fan_out) == (shape[1] * receptive, shape[0] * receptive)
    assert paraminit.compute_fans(shape[::-1], layout="io") == (fan_in, fan_out)


finite = st.floats(-1e6, 1e6, allow_nan=False)


@PROPERTY
@given(finite, finite)
def test_uniform_config_resolves_exactly_when_lo_is_below_hi(lo: float, hi: float) -> None:
    text = init_block("uniform_init", "init", lo=repr(lo), hi=repr(hi), seed=0)
    if lo < hi:
        init = registry.resolve(Config().from_str(text))["init"]
        values = init(np.empty(256, np.float64))
        assert (values >= lo).all()
        assert (values < hi).all()
    else:
        try:
            registry.resolve(Config().from_str(text))
        except ConfigValidationError as err:
            assert [e["loc"] for e in err.errors] == [["init", "hi"]]
        else:
            raise AssertionError(f"lo={lo!r}, hi={hi!r} resolved")
