"""The variance-scaling family: each distribution, its variance from the fans, its bounds."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy import stats

import paraminit
from _tables import NAMED_SCALING
from paraminit.initializers import TRUNCATED_STD_FACTOR

# name -> (the function, its arguments, (scale, mode, distribution)): the spec, written out
# here rather than read from the code. Kaiming's scale is calculate_gain(...)**2.
SPECS: dict[str, tuple[Callable[..., Any], dict[str, Any], tuple[float, str, str]]] = {
    "xavier_uniform": (paraminit.xavier_uniform_init, {}, (1.0, "fan_avg", "uniform")),
    "xavier_uniform_gain": (
        paraminit.xavier_uniform_init,
        {"gain": 5 / 3},
        ((5 / 3) ** 2, "fan_avg", "uniform"),
    ),
    "xavier_normal": (paraminit.xavier_normal_init, {"gain": 2.0}, (4.0, "fan_avg", "normal")),
    "glorot_normal": (paraminit.glorot_normal_init, {}, (1.0, "fan_avg", "truncated_normal")),
    "kaiming_uniform": (paraminit.kaiming_uniform_init, {}, (2.0, "fan_in", "uniform")),
    "kaiming_uniform_leaky": (
        paraminit.kaiming_uniform_init,
        {"a": math.sqrt(5)},  # torch's nn.Linear default: bound = 1 / sqrt(fan_in)
        (1 / 3, "fan_in", "uniform"),
    ),
    "kaiming_normal_fan_out": (
        paraminit.kaiming_normal_init,
        {"mode": "fan_out", "nonlinearity": "relu"},
        (2.0, "fan_out", "normal"),
    ),
    "kaiming_normal_tanh": (
        paraminit.kaiming_normal_init,
        {"nonlinearity": "tanh"},
        (25 / 9, "fan_in", "normal"),
    ),
    "he_uniform": (paraminit.he_uniform_init, {}, (2.0, "fan_in", "uniform")),
    "he_normal": (paraminit.he_normal_init, {}, (2.0, "fan_in", "truncated_normal")),
    "lecun_uniform": (paraminit.lecun_uniform_init, {}, (1.0, "fan_in", "uniform")),
    "lecun_normal": (paraminit.lecun_normal_init, {}, (1.0, "fan_in", "truncated_normal")),
    "normal_init": (paraminit.normal_init, {}, (1.0, "fan_in", "normal")),
}
SHAPES = [(96, 40), (40, 96), (24, 16, 3, 3), (16, 12, 5)]


def fans_of(shape: tuple[int, ...]) -> tuple[int, int]:
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def expected(shape: tuple[int, ...], scale: float, mode: str, distribution: str) -> Any:
    """The scipy distribution the spec asks for."""
    fan_in, fan_out = fans_of(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    std = math.sqrt(scale / n)
    if distribution == "uniform":
        limit = math.sqrt(3) * std
        return stats.uniform(-limit, 2 * limit)
    if distribution == "normal":
        return stats.norm(0, std)
    sigma = std / TRUNCATED_STD_FACTOR
    return stats.truncnorm(-2, 2, scale=sigma)


def test_the_truncation_constant_is_the_std_of_a_unit_normal_cut_at_2_sigma() -> None:
    assert stats.truncnorm(-2, 2).std() == pytest.approx(TRUNCATED_STD_FACTOR, rel=1e-14)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", SPECS)
def test_values_follow_the_distribution_of_the_spec(name: str, shape: tuple[int, ...]) -> None:
    func, args, spec = SPECS[name]
    values = func(np.empty(shape, np.float32), **args, seed=2024).ravel()
    dist = expected(shape, *spec)
    assert stats.kstest(values, dist.cdf).pvalue > 1e-4
    lo, hi = dist.support()
    assert values.min() >= lo and values.max() <= hi


@pytest.mark.parametrize("name", SPECS)
def test_variance_is_scale_over_the_fan(name: str) -> None:
    func, args, (scale, mode, _) = SPECS[name]
    shape = (120, 60, 3)
    values = func(np.empty(shape, np.float64), **args, seed=7)
    fan_in, fan_out = fans_of(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    # The sample variance of n iid values has a relative error of about sqrt(2 / n).
    assert values.var() == pytest.approx(scale / n, rel=6 * math.sqrt(2 / values.size))
    assert abs(values.mean()) < 6 * math.sqrt(scale / n / values.size)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize(
    ("func", "limit"),
    [
        (paraminit.xavier_uniform_init, math.sqrt(6 / (64 + 32))),
        (paraminit.he_uniform_init, math.sqrt(6 / 32)),
        (paraminit.lecun_uniform_init, math.sqrt(3 / 32)),
        (paraminit.kaiming_uniform_init, math.sqrt(6 / 32)),
    ],
)
def test_uniform_forms_stay_inside_their_limit_and_reach_it(
    func: Callable[..., Any], limit: float, dtype: Any
) -> None:
    values = func(np.empty((64, 32), dtype), seed=3).astype(np.float64)
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.99 * limit


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize(
    ("func", "variance"),
    [
        (paraminit.glorot_normal_init, 2 / (64 + 32)),
        (paraminit.he_normal_init, 2 / 32),
        (paraminit.lecun_normal_init, 1 / 32),
    ],
)
def test_truncated_forms_stay_within_two_sigma(
    func: Callable[..., Any], variance: float, dtype: Any
) -> None:
    bound = 2 * math.sqrt(variance) / TRUNCATED_STD_FACTOR
    values = func(np.empty((64, 32), dtype), seed=3).astype(np.float64)
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.95 * bound


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "normal", "uniform"])
def test_variance_scaling_follows_every_mode_and_distribution(mode: str, distribution: str) -> None:
    shape = (48, 20, 3, 3)
    values = paraminit.variance_scaling_init(
        np.empty(shape, np.float32), 3.0, mode, distribution, seed=9
    )
    assert stats.kstest(values.ravel(), expected(shape, 3.0, mode, distribution).cdf).pvalue > 1e-4


def test_xavier_normal_is_a_plain_normal_and_glorot_normal_a_truncated_one() -> None:
    shape = (200, 100)
    xavier = paraminit.xavier_normal_init(np.empty(shape), seed=1)
    glorot = paraminit.glorot_normal_init(np.empty(shape), seed=1)
    std = math.sqrt(2 / 300)
    assert np.abs(xavier).max() > 2 * std / TRUNCATED_STD_FACTOR  # plain normal tails
    assert np.abs(glorot).max() <= 2 * std / TRUNCATED_STD_FACTOR
    assert xavier.std() == pytest.approx(std, rel=0.02)
    assert glorot.std() == pytest.approx(std, rel=0.02)


def test_glorot_uniform_is_xavier_uniform() -> None:
    assert paraminit.glorot_uniform_init is paraminit.xavier_uniform_init


def test_normal_init_with_an_explicit_fan_in_ignores_the_shape() -> None:
    values = paraminit.normal_init(np.empty(4000, np.float64), 16, seed=4)
    assert stats.kstest(values, stats.norm(0, 0.25).cdf).pvalue > 1e-4


@pytest.mark.parametrize(
    "func",
    [paraminit.variance_scaling_init, *NAMED_SCALING],
)
@pytest.mark.parametrize("shape", [(5,), ()])
def test_fans_need_two_dimensions(func: Callable[..., Any], shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=rf"{func.__name__}: .*at least 2 dimensions.*{shape}"):
        func(np.empty(shape, np.float32))


def test_normal_init_without_fan_in_needs_two_dimensions() -> None:
    with pytest.raises(ValueError, match=r"normal_init: cannot infer fan_in .*\(5,\).*pass fan_in"):
        paraminit.normal_init(np.empty(5, np.float32))
