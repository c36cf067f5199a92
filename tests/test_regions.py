"""Regions of an initializer: the stand-in protocol, its guard, and initialize_region."""

from __future__ import annotations

import functools
import itertools
import math
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy import stats

import paraminit
from _elementwise import DTYPES, ELEMENTWISE, SHAPES, call, random_regions, with_args
from paraminit.engine import Normal, Uniform, fill
from paraminit.regions import (
    ElementwiseError,
    accepts,
    distribution_of,
    elementwise,
    initialize_region,
    is_elementwise,
    takes_seed,
    unwrap,
)
from paraminit.registry import InitializerPartial


def test_elementwise_initializers_are_known() -> None:
    names = {f.__name__ for f in ELEMENTWISE}
    assert {"uniform_init", "normal_init", "xavier_uniform_init", "zero_init"} <= names


@pytest.mark.parametrize("init", ELEMENTWISE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_regions_equal_slices_of_the_whole(
    init: Callable[..., Any], dtype: str, shape: tuple[int, ...]
) -> None:
    whole = call(init, np.empty(shape, dtype), seed=11)
    rng = np.random.default_rng(len(shape))
    for region in random_regions(shape, rng):
        part = initialize_region(with_args(init), shape, region, seed=11, dtype=dtype)
        expected = whole[region]
        assert part.shape == expected.shape and part.dtype == expected.dtype
        assert np.array_equal(part, expected), region


@pytest.mark.parametrize("init", ELEMENTWISE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", DTYPES)
def test_regions_assemble_the_whole(init: Callable[..., Any], dtype: str) -> None:
    shape = (210, 1000)  # 3.2 blocks: shards cut through block boundaries
    whole = call(init, np.empty(shape, dtype), seed=5)
    bounds = [0, 17, 64, 65, 131, 210]
    rows = [
        initialize_region(with_args(init), shape, slice(a, b), seed=5, dtype=dtype)
        for a, b in itertools.pairwise(bounds)
    ]
    assert np.array_equal(np.concatenate(rows), whole)
    cols = [
        initialize_region(
            with_args(init), shape, (slice(None), slice(a, a + 333)), seed=5, dtype=dtype
        )
        for a in range(0, 1000, 333)
    ]
    assert np.array_equal(np.concatenate(cols, axis=1), whole)


@pytest.mark.parametrize("init", ELEMENTWISE, ids=lambda f: f.__name__)
def test_regions_spread_over_threads_give_identical_bits(init: Callable[..., Any]) -> None:
    shape = (1200, 1100)  # 21 blocks
    region = (slice(7, None, 2), slice(None, 900, 3))
    paraminit.set_num_threads(1)
    whole = call(init, np.empty(shape, "float32"), seed=9)
    for threads in (1, 2, 3):
        paraminit.set_num_threads(threads)
        part = initialize_region(with_args(init), shape, region, seed=9)
        assert np.array_equal(part, whole[region]), threads


def test_seed_none_regions_follow_the_package_stream() -> None:
    shape = (100, 700)
    paraminit.set_seed(123)
    whole = paraminit.normal_init(np.empty(shape, "f"))
    paraminit.set_seed(123)
    part = initialize_region(paraminit.normal_init, shape, (slice(5, 60), slice(3, 9)), seed=None)
    assert np.array_equal(part, whole[5:60, 3:9])


def test_configured_initializers_give_regions() -> None:
    config = paraminit.Config().from_str(
        '[init]\n@initializers = "uniform_init.v1"\nlo = -2.0\nhi = 3.0\n'
    )
    init = paraminit.registry.resolve(config)["init"]
    assert isinstance(init, InitializerPartial)
    whole = init(np.empty((90, 800), "float64"), seed=4)
    part = initialize_region(init, (90, 800), (slice(10, 80, 7),), seed=4, dtype="float64")
    assert np.array_equal(part, whole[10:80:7])
    assert whole.min() >= -2.0 and whole.max() < 3.0


def test_non_elementwise_initializers_are_computed_whole_and_sliced() -> None:
    def arange_init(data: Any, *, inplace: bool = False, seed: int | None = None) -> Any:
        out = data if inplace else np.empty_like(data)
        out[...] = np.arange(out.size).reshape(out.shape) + (seed or 0)
        return out

    part = initialize_region(arange_init, (4, 5), (slice(1, 3), 2), seed=7, dtype="float64")
    assert np.array_equal(part, (np.arange(20).reshape(4, 5) + 7)[1:3, 2])

    def plain(data: Any) -> Any:  # neither seed nor inplace
        return np.ones_like(data)

    assert np.array_equal(initialize_region(plain, (3, 3), 1, seed=0), np.ones(3, "f"))


def test_initialize_region_validates_its_arguments() -> None:
    init = paraminit.uniform_init
    with pytest.raises(TypeError, match="dtype"):
        initialize_region(init, (4,), slice(None), seed=0, dtype="int32")
    with pytest.raises(TypeError, match="shape"):
        initialize_region(init, "4", slice(None), seed=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shape"):
        initialize_region(init, (-1, 3), slice(None), seed=0)
    with pytest.raises(TypeError, match="initialize_region: region entries"):
        initialize_region(init, (4, 4), ([1, 2],), seed=0)
    with pytest.raises(IndexError, match="initialize_region: index 4 is out of bounds"):
        initialize_region(init, (4, 4), (4,), seed=0)
    with pytest.raises(IndexError, match="3 entries"):
        initialize_region(init, (4, 4), (slice(None),) * 3, seed=0)
    bad = InitializerPartial("uniform_init.v1", init, lo=1.0, hi=0.0)
    with pytest.raises(ValueError, match="hi"):  # the initializer's own checks run
        initialize_region(bad, (4, 4), slice(None), seed=0)


def test_empty_and_zero_dimensional_arrays() -> None:
    assert initialize_region(paraminit.uniform_init, (0, 5), slice(None), seed=1).shape == (0, 5)
    scalar = paraminit.uniform_init(np.empty((), "f"), seed=1)
    assert np.array_equal(initialize_region(paraminit.uniform_init, (), (), seed=1), scalar)


def test_a_region_needs_no_full_array() -> None:
    shape = (1 << 15, 1 << 13)  # 1 GiB of float32, never allocated
    tracemalloc.start()
    try:
        initialize_region(
            paraminit.uniform_init, shape, (slice(1000, 1010), slice(None, None, 2)), seed=0
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * (1 << 20)


@pytest.mark.parametrize(
    ("shape", "region"),
    [
        ((2, 1 << 23), (slice(None), slice(0, (1 << 23) - 5))),  # a long last axis
        ((1 << 12, 1 << 10), (slice(3, None, 2), slice(1, None, 3))),  # many short rows
        ((8, 1 << 9, 1 << 9), (slice(None), slice(0, None, 5), slice(2, 500))),  # 3-D
        ((4, 1 << 22), (slice(None), slice(0, None, 1 << 17))),  # a step beyond a block
    ],
)
def test_a_region_needs_no_more_than_its_size_plus_bounded_scratch(
    shape: tuple[int, ...], region: tuple[slice, ...]
) -> None:
    init = paraminit.uniform_init
    tracemalloc.start()
    try:
        part = initialize_region(init, shape, region, seed=3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= part.nbytes + 4 * (1 << 20), (peak, part.nbytes)
    if math.prod(shape) <= 1 << 22:
        assert np.array_equal(part, init(np.empty(shape, "f"), seed=3)[region])


def test_ks_normal_on_a_region_straddling_many_blocks() -> None:
    shape = (4096, 4096)
    region = (slice(100, 1900, 3), slice(7, 4000, 5))  # touches ~110 blocks, skips many
    values = initialize_region(paraminit.normal_init, shape, region, seed=2).astype(np.float64)
    std = np.sqrt(1 / 4096)
    assert stats.kstest(values.ravel(), "norm", args=(0.0, std)).pvalue > 1e-3
    uniform = initialize_region(
        paraminit.uniform_init, shape, region, seed=2, dtype="float64"
    ).ravel()
    assert stats.kstest(uniform, "uniform", args=(-0.1, 0.2)).pvalue > 1e-3


# --------------------------------------------------------------------------- distribution_of


def test_distribution_of_reports_the_request_without_filling() -> None:
    assert distribution_of(paraminit.uniform_init, (3, 4)) == Uniform(-0.1, 0.1)
    assert distribution_of(paraminit.zero_init, (3, 4)) == 0.0
    assert distribution_of(functools.partial(paraminit.constant_init, value=2.5), (3,)) == 2.5
    assert distribution_of(paraminit.orthogonal_init, (3, 4)) is None  # not elementwise


def test_distribution_of_does_not_advance_the_seed_stream() -> None:
    paraminit.set_seed(5)
    first = paraminit.uniform_init(np.empty(8, "f"))
    paraminit.set_seed(5)
    distribution_of(paraminit.uniform_init, (8,))
    assert np.array_equal(paraminit.uniform_init(np.empty(8, "f")), first)


# --------------------------------------------------------------------------- the guard


def _marked(body: Callable[[Any], None]) -> Callable[..., Any]:
    """An initializer marked elementwise that runs ``body`` on its output."""

    def broken_init(data: Any, *, inplace: bool = False, seed: int | None = None) -> Any:
        out = data if inplace else np.empty_like(data)
        body(out)
        return out

    return elementwise(broken_init)


def _fill(out: Any) -> None:
    fill(out, Uniform(0.0, 1.0), 1)


MISUSES: dict[str, Callable[[Any], None]] = {
    "fills twice": lambda out: (_fill(out), _fill(out)),
    "post-processes with a ufunc": lambda out: (_fill(out), np.multiply(out, 2.0, out=out)),
    "post-processes in place": lambda out: (_fill(out), out.__imul__(2.0)),
    "writes after the fill": lambda out: (_fill(out), out.fill(0.0)),
    "writes a position-dependent pattern": lambda out: out.__setitem__(
        ..., np.arange(out.size).reshape(out.shape)
    ),
    "writes one element": lambda out: out.__setitem__((0, 0), 1.0),
    "fills a view": lambda out: fill(out.reshape(-1), Normal(0.0, 1.0), 1),
    "fills another array and copies it": lambda out: out.__setitem__(
        ..., fill(np.empty(out.shape, out.dtype), Normal(0.0, 1.0), 1)
    ),
    "writes through a plain view after the fill": lambda out: (
        _fill(out),
        np.asarray(out).__setitem__(..., 3.0),
    ),
    "does nothing": lambda out: None,
}


@pytest.mark.parametrize("body", MISUSES.values(), ids=MISUSES.keys())
def test_misuse_of_elementwise_is_an_error_naming_the_initializer(
    body: Callable[[Any], None],
) -> None:
    init = _marked(body)
    with pytest.raises(ElementwiseError, match="'broken_init' is marked elementwise"):
        initialize_region(init, (10, 3), slice(2, 4), seed=0)
    with pytest.raises(ElementwiseError, match="broken_init"):
        distribution_of(init, (10, 3))


def test_well_behaved_initializers_pass_the_guard() -> None:
    for init in ELEMENTWISE:
        for dtype in DTYPES:
            initialize_region(with_args(init), (5, 7), slice(1, 3), seed=0, dtype=dtype)
    assert np.array_equal(
        initialize_region(_marked(lambda out: out.__setitem__(..., 4.0)), (3, 2), 1, seed=0),
        np.full(2, 4.0, "f"),
    )


# --------------------------------------------------------------------------- helpers


def test_unwrap_accepts_and_takes_seed_see_through_partials() -> None:
    configured = InitializerPartial("uniform_init.v1", paraminit.uniform_init, lo=-1.0)
    nested = functools.partial(configured, hi=2.0)
    assert unwrap(nested) is paraminit.uniform_init
    assert takes_seed(nested) and accepts(nested, "inplace") and not accepts(nested, "gain")
    assert not takes_seed(paraminit.zero_init)
    assert is_elementwise(nested) and not is_elementwise(paraminit.orthogonal_init)

    def anything(data: Any, **kwargs: Any) -> Any:
        return data

    assert takes_seed(anything)
