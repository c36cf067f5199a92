"""Initializers with fixed distribution parameters: uniform, normal, truncated normal, sparse."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from confection import ConfigValidationError
from scipy import stats

import paraminit
from paraminit import registry

SHAPES = [(60, 50), (12, 10, 5, 5), (3000,)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("mean", "std"), [(0.0, 1.0), (2.0, 0.02), (-1.0, 3.0)])
def test_random_normal_follows_n_mean_std(shape: tuple[int, ...], mean: float, std: float) -> None:
    values = paraminit.random_normal_init(np.empty(shape, np.float32), mean, std, seed=1)
    assert stats.kstest(values.ravel(), stats.norm(mean, std).cdf).pvalue > 1e-4


@pytest.mark.parametrize("shape", SHAPES)
def test_uniform_follows_u_lo_hi(shape: tuple[int, ...]) -> None:
    values = paraminit.uniform_init(np.empty(shape, np.float32), -0.3, 0.7, seed=1)
    assert stats.kstest(values.ravel(), stats.uniform(-0.3, 1.0).cdf).pvalue > 1e-4
    assert values.min() >= -0.3 and values.max() < 0.7


TRUNCATIONS = [
    # mean, std, a, b
    (0.0, 1.0, None, None),  # mean -/+ 2 std
    (1.0, 0.5, None, None),
    (0.0, 1.0, -1.0, 3.0),
    (0.0, 1.0, 0.0, None),  # half normal up to 2 std
    (0.0, 1.0, 2.5, 4.0),  # a far tail
    (0.0, 1.0, -9.0, -6.0),  # a farther one, on the left
    (0.0, 1.0, 0.1, 0.2),  # a narrow slice
    (0.5, 0.02, -2.0, 2.0),  # torch's absolute defaults, wide compared to std
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("mean", "std", "a", "b"), TRUNCATIONS)
def test_truncated_normal_follows_the_truncated_distribution(
    shape: tuple[int, ...], mean: float, std: float, a: float | None, b: float | None
) -> None:
    values = paraminit.truncated_normal_init(np.empty(shape, np.float64), mean, std, a, b, seed=5)
    lo = mean - 2 * std if a is None else a
    hi = mean + 2 * std if b is None else b
    dist = stats.truncnorm((lo - mean) / std, (hi - mean) / std, loc=mean, scale=std)
    assert stats.kstest(values.ravel(), dist.cdf).pvalue > 1e-4
    assert values.min() >= lo and values.max() <= hi


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize(("a", "b"), [(-0.1, 0.1), (0.3, 0.30078125), (-1e-3, 5.0)])
def test_truncated_normal_never_leaves_a_b_in_any_dtype(a: float, b: float, dtype: Any) -> None:
    values = paraminit.truncated_normal_init(np.empty(20000, dtype), 0.0, 0.1, a, b, seed=3)
    assert values.astype(np.float64).min() >= a and values.astype(np.float64).max() <= b


def test_truncated_normal_defaults_cut_at_two_std_around_the_mean() -> None:
    values = paraminit.truncated_normal_init(np.empty(50000), 3.0, 0.5, seed=0)
    assert values.min() >= 2.0 and values.max() <= 4.0
    assert values.min() < 2.01 and values.max() > 3.99


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"a": 1.0, "b": 1.0}, "b", "must be greater than a=1.0"),
        ({"a": 3.0}, "a", "must be less than b=mean\\+2\\*std=2.0"),
        ({"b": -2.5}, "b", "must be greater than a=mean-2\\*std=-2.0"),
    ],
)
def test_truncated_normal_needs_a_below_b(kwargs: dict[str, float], field: str, words: str) -> None:
    with pytest.raises(ValueError, match=f"truncated_normal_init: '{field}' {words}"):
        paraminit.truncated_normal_init(np.empty(3), **kwargs)
    config = {"w": {"@initializers": "truncated_normal_init", **kwargs}}
    with pytest.raises(ConfigValidationError, match=f"w -> {field}"):
        registry.resolve(config)


def test_truncated_normal_rejects_an_interval_with_no_number_of_the_dtype() -> None:
    # float16 has no number between 1.0001 and 1.0002 (its spacing at 1 is 2**-10).
    with pytest.raises(ValueError, match=r"truncated_normal_init: .* holds no float16 number"):
        paraminit.truncated_normal_init(np.empty(3, np.float16), 1.0, 1.0, 1.0001, 1.0002)


@pytest.mark.parametrize(("shape", "sparsity"), [((50, 40), 0.1), ((20, 300), 0.5), ((7, 9), 0.3)])
def test_sparse_zeros_the_same_share_of_every_column(
    shape: tuple[int, int], sparsity: float
) -> None:
    values = paraminit.sparse_init(np.empty(shape, np.float32), sparsity, seed=2)
    zeros_per_column = (values == 0).sum(axis=0)
    assert (zeros_per_column == math.ceil(sparsity * shape[0])).all()


def test_sparse_nonzeros_follow_n_0_std() -> None:
    values = paraminit.sparse_init(np.empty((60, 80), np.float32), 0.25, 0.05, seed=4)
    nonzero = values[values != 0]
    assert nonzero.size == 45 * 80
    assert stats.kstest(nonzero, stats.norm(0, 0.05).cdf).pvalue > 1e-4


def test_sparse_picks_every_row_equally_often() -> None:
    rows, cols, n_zeros = 6, 3000, 2
    values = paraminit.sparse_init(np.empty((rows, cols)), n_zeros / rows, seed=8)
    counts = (values == 0).sum(axis=1)
    assert stats.chisquare(counts).pvalue > 1e-4


def test_sparse_picks_different_rows_in_different_columns() -> None:
    values = paraminit.sparse_init(np.empty((10, 20)), 0.5, seed=8)
    patterns = {tuple(column) for column in (values == 0).T}
    assert len(patterns) > 10


@pytest.mark.parametrize(("sparsity", "zeros"), [(0.0, 0), (1.0, 8), (0.3, 3)])
def test_sparse_extremes(sparsity: float, zeros: int) -> None:
    values = paraminit.sparse_init(np.empty((8, 4)), sparsity, seed=1)
    assert ((values == 0).sum(axis=0) == zeros).all()


@pytest.mark.parametrize("shape", [(8,), (4, 4, 3)])
def test_sparse_needs_exactly_two_dimensions(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=rf"sparse_init: .*exactly 2 dimensions.*{shape}"):
        paraminit.sparse_init(np.empty(shape), 0.5)


def test_sparse_needs_its_sparsity_in_a_config() -> None:
    with pytest.raises(ConfigValidationError, match="w -> sparsity"):
        registry.resolve({"w": {"@initializers": "sparse_init"}})


def test_truncated_normal_cut_offs_beyond_the_dtype_are_clipped_to_its_range() -> None:
    values = paraminit.truncated_normal_init(
        np.empty(2000, np.float16), 0.0, 1.0, -1e6, 1e6, seed=0
    )
    assert np.isfinite(values).all()
    assert stats.kstest(values, stats.norm(0, 1).cdf).pvalue > 1e-4
