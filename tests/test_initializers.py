"""The four initializers of the seed specification: distributions, fans and arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import paraminit

KS_P_MIN = 1e-4


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
@pytest.mark.parametrize("lo, hi", [(-0.1, 0.1), (0.0, 1.0), (-3.0, 0.5)])
def test_uniform_init_is_uniform_on_lo_hi(shape: tuple[int, ...], lo: float, hi: float) -> None:
    W = paraminit.uniform_init(np.empty(shape, np.float64), lo, hi, seed=1)
    assert W.min() >= lo
    assert W.max() < hi
    assert stats.kstest(W.ravel(), stats.uniform(lo, hi - lo).cdf).pvalue > KS_P_MIN


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_uniform_init_never_reaches_hi_in_any_dtype(dtype: str) -> None:
    # A tiny interval makes rounding up to hi likely if it is not prevented.
    W = paraminit.uniform_init(np.empty(200_000, dtype), 1.0, 1.001, seed=3)
    exact = W.astype(np.float64)  # compare as real numbers, not in the rounded dtype
    assert (exact >= 1.0).all()
    assert (exact < 1.001).all()


def test_uniform_init_defaults_to_plus_minus_point_one() -> None:
    W = paraminit.uniform_init(np.empty((400, 400), np.float32), seed=0)
    assert W.min() >= -0.1
    assert W.max() < 0.1
    assert abs(float(W.mean())) < 0.002


@pytest.mark.parametrize(
    "shape, fan_in",
    [((300, 200), 200), ((64, 16, 3, 3), 16 * 9), ((10, 50, 7), 350)],
)
def test_normal_init_infers_fan_in_from_layout(shape: tuple[int, ...], fan_in: int) -> None:
    W = paraminit.normal_init(np.empty(shape, np.float64), seed=2)
    assert stats.kstest(W.ravel(), stats.norm(0, math.sqrt(1 / fan_in)).cdf).pvalue > KS_P_MIN


def test_normal_init_takes_fan_in_positionally() -> None:
    W = paraminit.normal_init(np.empty(50_000, np.float64), 25, seed=4)
    assert stats.kstest(W, stats.norm(0, 0.2).cdf).pvalue > KS_P_MIN


def test_normal_init_has_zero_mean() -> None:
    W = paraminit.normal_init(np.empty((500, 400), np.float64), seed=5)
    # The sample mean of n draws has std sigma / sqrt(n); allow 4 of those.
    assert abs(float(W.mean())) < 4 * math.sqrt(1 / 400) / math.sqrt(W.size)


@pytest.mark.parametrize("shape", [(7,), ()])
def test_normal_init_without_fan_in_needs_two_dimensions(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"normal_init: cannot infer fan_in .*pass fan_in"):
        paraminit.normal_init(np.empty(shape, np.float32))


@pytest.mark.parametrize("fan_in", [0, -3])
def test_normal_init_rejects_non_positive_fan_in(fan_in: int) -> None:
    with pytest.raises(ValueError, match=rf"normal_init: 'fan_in' must be > 0, got {fan_in}"):
        paraminit.normal_init(np.empty((3, 3)), fan_in)


@pytest.mark.parametrize("fan_in", [2.5, "8", True])
def test_normal_init_rejects_non_int_fan_in(fan_in: object) -> None:
    with pytest.raises(TypeError, match="normal_init: 'fan_in' must be int"):
        paraminit.normal_init(np.empty((3, 3)), fan_in)


@pytest.mark.parametrize(
    "shape, limit",
    [
        ((300, 200), math.sqrt(6 / 500)),
        ((32, 16, 3, 3), math.sqrt(6 / ((32 + 16) * 9))),
        ((20, 10, 5), math.sqrt(6 / (30 * 5))),
    ],
)
def test_xavier_uniform_init_bound_includes_receptive_field(
    shape: tuple[int, ...], limit: float
) -> None:
    W = paraminit.xavier_uniform_init(np.empty(shape, np.float64), seed=6)
    assert W.min() >= -limit
    assert W.max() < limit
    assert stats.kstest(W.ravel(), stats.uniform(-limit, 2 * limit).cdf).pvalue > KS_P_MIN


@pytest.mark.parametrize("shape", [(5,), ()])
def test_xavier_uniform_init_needs_two_dimensions(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"xavier_uniform_init: .*at least 2 dimensions"):
        paraminit.xavier_uniform_init(np.empty(shape, np.float32))


def test_zero_init_zeroes_in_place() -> None:
    W = np.ones((4, 3), np.float16)
    assert paraminit.zero_init(W, inplace=True) is W
    assert not W.any()


def test_zero_init_takes_no_seed() -> None:
    with pytest.raises(TypeError):
        paraminit.zero_init(np.ones(3), seed=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "lo, hi, field",
    [(0.1, -0.1, "hi"), (0.5, 0.5, "hi"), (float("nan"), 1.0, "lo"), (0.0, float("inf"), "hi")],
)
def test_uniform_init_rejects_bad_bounds(lo: float, hi: float, field: str) -> None:
    with pytest.raises(ValueError, match=rf"uniform_init: '{field}'"):
        paraminit.uniform_init(np.empty(3), lo, hi)


@pytest.mark.parametrize("seed", [-1, 2**128])
def test_seed_out_of_range_is_a_value_error(seed: int) -> None:
    with pytest.raises(ValueError, match="uniform_init: 'seed'"):
        paraminit.uniform_init(np.empty(3), seed=seed)


@pytest.mark.parametrize("seed", [1.5, "3", True])
def test_seed_of_wrong_kind_is_a_type_error(seed: object) -> None:
    with pytest.raises(TypeError, match="uniform_init: 'seed'"):
        paraminit.uniform_init(np.empty(3), seed=seed)


@pytest.mark.parametrize("name", sorted(paraminit.initializers.__all__))
def test_the_compiled_argument_check_agrees_with_the_rules(name: str) -> None:
    # check_call spells each function's checks out once (arguments._compile_checker);
    # it must accept and refuse exactly what Rule.check does, with the same error.
    from paraminit.arguments import _call_rules, _compile_checker

    func = getattr(paraminit, name).__wrapped__
    checker = _compile_checker(func)
    values: list[object] = [0, 1, -1, 0.5, -0.5, 0.0, -0.0, 2.0, 1e308, 3, 10**40, -(10**40)]
    values += [10**400, -(10**400)]  # ints that no float holds
    values += [True, False, None, float("nan"), float("inf"), -float("inf"), np.float64(0.25)]
    values += [np.float32(-2.0), np.int64(4), "a", "fan_in", "normal", (1, 2)]
    for param, rule in _call_rules(func):
        for value in values:
            try:
                rule.check(func.__name__, param, value)
                expected: str | None = None
            except (TypeError, ValueError) as err:
                expected = f"{type(err).__name__}: {err}"
            try:
                checker({param: value})
                got: str | None = None
            except (TypeError, ValueError) as err:
                got = f"{type(err).__name__}: {err}"
            assert got == expected, (param, value)
