"""Distributions of the engine: their statistics, bounds, exact edges and Box-Muller tails."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

import paraminit
from paraminit.engine import (
    BLOCK_SIZE,
    SMALL_SIZE,
    Normal,
    TruncatedNormal,
    Uniform,
    fill,
    fill_region,
    truncated,
)
from paraminit.engine.distributions import largest_uniform, standard_normal_bulk
from paraminit.engine.streams import Scratch

DTYPES = ["float16", "float32", "float64"]


@pytest.mark.parametrize("size", [SMALL_SIZE, 20 * BLOCK_SIZE])
@pytest.mark.parametrize(("a", "b"), [(-2.0, 2.0), (0.5, 0.7), (4.0, 9.0), (-9.0, -3.5)], ids=str)
def test_ks_truncated_normal_on_both_paths(size: int, a: float, b: float) -> None:
    out = fill(np.empty(size, np.float64), TruncatedNormal(0.0, 1.0, a, b), 8)
    assert out.min() >= a and out.max() <= b
    sample = out[:: max(1, size // 100_000)]
    assert stats.kstest(sample, "truncnorm", args=(a, b)).pvalue > 1e-3


def test_box_muller_tails_and_moments() -> None:
    out = fill(np.empty(64 * BLOCK_SIZE, np.float32), Normal(0.0, 1.0), 12).astype(np.float64)
    assert abs(out.mean()) < 5e-3 and abs(out.std() - 1.0) < 5e-3
    assert abs(stats.skew(out)) < 0.02 and abs(stats.kurtosis(out)) < 0.04
    assert stats.kstest(out[::7], "norm").pvalue > 1e-3
    # The tail beyond 4 sigma has the right mass (the radius comes from 53 bits).
    expected = 2 * stats.norm.sf(4.0) * out.size
    assert abs((np.abs(out) > 4.0).sum() - expected) < 5 * np.sqrt(expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("lo", "hi"), [(-0.1, 0.1), (1.0, 1.0000001), (0.0, 1e-30), (-3.0, 7.3)])
def test_uniform_stays_in_half_open_interval(dtype: str, lo: float, hi: float) -> None:
    for size in (SMALL_SIZE, 3 * BLOCK_SIZE):
        out = fill(np.empty(size, dtype), Uniform(lo, hi), 1)
        t = np.dtype(dtype).type
        assert ((out >= t(lo)).all() and (out < t(hi)).all()) or t(lo) == t(hi)


class _ExtremeGenerator:
    """Stands in for a ``Generator``: every uniform it gives is the largest (or the
    smallest) one, on both paths: ``random`` for small arrays, raw words for the bulk."""

    def __init__(self, largest: bool) -> None:
        self.largest = largest
        self.bit_generator = self

    def random(self, size: None, dtype: Any, out: np.ndarray[Any, Any]) -> None:
        out[...] = largest_uniform(np.dtype(dtype)) if self.largest else 0.0

    def random_raw(self, size: int) -> np.ndarray[Any, Any]:
        return np.full(size, (1 << 64) - 1 if self.largest else 0, dtype=np.uint64)


def _uniform_pairs() -> list[tuple[float, float]]:
    """Many (lo, hi): symmetric limits like the variance-scaling ones, asymmetric, tiny, huge."""
    rng = np.random.default_rng(7)
    pairs = [(-math.sqrt(6 / fan), math.sqrt(6 / fan)) for fan in range(1, 400, 7)]
    for _ in range(300):
        lo, hi = sorted(float(x) for x in rng.standard_normal(2) * 10.0 ** rng.integers(-6, 6))
        pairs.append((lo, hi))
    pairs += [(0.1, 0.7), (-3.0, 7.3), (1.0, 1.0000001), (0.0, 1e-30), (-1e30, 1e-3)]
    return [(lo, hi) for lo, hi in pairs if lo < hi]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_extremes_never_reach_hi_nor_fall_below_lo(dtype: str) -> None:
    t = np.dtype(dtype).type
    top_gen, bottom_gen = _ExtremeGenerator(True), _ExtremeGenerator(False)
    for lo, hi in _uniform_pairs():
        dist = Uniform(lo, hi)
        for method in (dist.fill_block, dist.fill_bulk):
            top, bottom = np.empty(8, dtype), np.empty(8, dtype)
            method(top_gen, top, Scratch())  # type: ignore[arg-type]
            method(bottom_gen, bottom, Scratch())  # type: ignore[arg-type]
            # In the dtype and as real numbers.
            assert (top < t(hi)).all() and float(top.max()) < hi, (lo, hi, method)
            assert (bottom >= t(lo)).all() and float(bottom.min()) >= lo, (lo, hi, method)
            if t(hi) - t(lo) > 1e-3 * max(abs(t(lo)), abs(t(hi))):
                # The scale is shortened by a few ulps at most: the top stays near hi.
                assert float(top[0]) > hi - (hi - lo) * 64 * np.finfo(dtype).eps, (lo, hi)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_uniform_sampled_values_stay_in_lo_hi_for_many_pairs(dtype: str) -> None:
    t = np.dtype(dtype).type
    top = float(np.finfo(dtype).max)
    pairs = [(lo, hi) for lo, hi in _uniform_pairs() if -top < lo and hi < top]
    for i, (lo, hi) in enumerate(pairs[::9]):
        for size in (SMALL_SIZE, BLOCK_SIZE + 5):
            out = fill(np.empty(size, dtype), Uniform(lo, hi), i)
            if t(lo) < t(hi):
                assert (out >= t(lo)).all() and (out < t(hi)).all(), (lo, hi, size)


# Normal-proposal cut-offs: symmetric (screened), asymmetric (screened and
# not), off-centre, and an interval that excludes the mean (more spares than
# values: two Box-Muller calls per block).
NORMAL_PROPOSALS = [
    (0.0, 1.0, -2.0, 2.0),
    (0.0, 1.0, -1.5, 2.5),
    (0.0, 1.0, -0.5, 3.0),
    (1.0, 2.0, -1.0, 9.0),
    (0.0, 1.0, 0.2, 5.0),
]


@pytest.mark.parametrize(("mean", "std", "a", "b"), NORMAL_PROPOSALS, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_truncated_normal_proposal_is_exact_across_blocks(
    mean: float, std: float, a: float, b: float, dtype: str
) -> None:
    dist = TruncatedNormal(mean, std, a, b)
    assert dist.params_for(np.dtype(dtype)).proposal == "normal"
    for size in (SMALL_SIZE, 12 * BLOCK_SIZE + 77):
        out = fill(np.empty(size, dtype), dist, 4).astype(np.float64)
        assert out.min() >= a and out.max() <= b, (size, out.min(), out.max())
        law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
        sample = out[:: max(1, size // 50_000)]
        if dtype != "float16":  # float16 rounding is coarser than the KS test
            assert stats.kstest(sample, law.cdf).pvalue > 1e-3, size


@pytest.mark.parametrize(("mean", "std", "a", "b"), [*NORMAL_PROPOSALS, (0.3, 1e-3, 0.299, 0.301)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_truncated_normal_standard_bounds_are_the_exact_edges(
    mean: float, std: float, a: float, b: float, dtype: str
) -> None:
    # A standardized draw z is kept iff fl(fl(z std) + mean), in the dtype, lies in
    # [a, b]: z_lo and z_hi are the first and the last such z of the work dtype.
    dist = TruncatedNormal(mean, std, a, b)
    params = dist.params_for(np.dtype(dtype))
    assert params.standard is not None
    z_lo, z_hi = params.standard.z_lo[()], params.standard.z_hi[()]
    w, t = params.work.type, np.dtype(dtype).type

    def scaled(z: Any) -> Any:
        return t(w(w(z * params.std[()]) + params.mean[()]))

    assert params.lo <= scaled(z_lo) and scaled(z_hi) <= params.hi
    assert scaled(np.nextafter(z_lo, w(-np.inf))) < params.lo
    assert scaled(np.nextafter(z_hi, w(np.inf))) > params.hi


@pytest.mark.parametrize(("mean", "std", "a", "b"), NORMAL_PROPOSALS, ids=str)
def test_truncated_normal_spare_shortfall_stays_exact_and_shard_invariant(
    mean: float, std: float, a: float, b: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Far too few spares: every block takes the rare path that draws more.
    monkeypatch.setattr(truncated, "SPARE_SIGMAS", -40.0)
    dist = TruncatedNormal(mean, std, a, b)
    shape = (9, 3 * BLOCK_SIZE // 9 + 5)
    whole = fill(np.empty(shape, np.float32), dist, 11)
    assert whole.astype(np.float64).min() >= a and whole.astype(np.float64).max() <= b
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert stats.kstest(whole.ravel().astype(np.float64), law.cdf).pvalue > 1e-3
    part = fill_region(dist, shape, (slice(2, 7), slice(None, None, 3)), 11, np.float32)
    assert np.array_equal(part, whole[2:7, ::3])
    paraminit.set_num_threads(1)
    assert np.array_equal(fill(np.empty(shape, np.float32), dist, 11), whole)


@pytest.mark.parametrize("sigmas", [4.0, -40.0], ids=["spares", "shortfall"])
@pytest.mark.parametrize(("mean", "std", "a", "b"), NORMAL_PROPOSALS, ids=str)
def test_truncated_normal_methods_alone_and_shared_give_the_same_bits(
    mean: float, std: float, a: float, b: float, sigmas: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Alone, a thread tests only screened Box-Muller pairs; sharing a fill, it
    # uses np.place over the whole block (fewer, longer calls).
    monkeypatch.setattr(truncated, "SPARE_SIGMAS", sigmas)
    dist = TruncatedNormal(mean, std, a, b)
    results = []
    for shared in (False, True):
        scratch = Scratch()
        scratch.shared = shared
        out = np.empty(BLOCK_SIZE - 3, np.float32)
        dist.fill_bulk(np.random.Generator(np.random.SFC64(5)), out, scratch)
        results.append(out)
    assert np.array_equal(results[0], results[1])


@pytest.mark.parametrize("sigmas", [4.0, -40.0], ids=["spares", "shortfall"])
@pytest.mark.parametrize(("mean", "std", "a", "b"), NORMAL_PROPOSALS, ids=str)
def test_truncated_normal_gives_the_same_bits_on_one_and_several_threads(
    mean: float, std: float, a: float, b: float, sigmas: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(truncated, "SPARE_SIGMAS", sigmas)
    dist = TruncatedNormal(mean, std, a, b)
    results = []
    for threads in (1, 3):
        paraminit.set_num_threads(threads)
        results.append(fill(np.empty(16 * BLOCK_SIZE - 3, np.float32), dist, 5))
    assert np.array_equal(results[0], results[1])


class _Words:
    """A stand-in generator: each ``random_raw`` call returns the next list of raw words."""

    def __init__(self, *calls: list[int]) -> None:
        self.bit_generator = self
        self.calls = [np.array(words, dtype=np.uint64) for words in calls]

    def random_raw(self, size: int) -> np.ndarray[Any, Any]:
        words = self.calls.pop(0)
        assert words.size == size
        return words


def test_box_muller_refines_the_far_tail() -> None:
    # Pair 0: radius word 0 (the far tail), angle word 0 -> cos = 1, sin = 0.
    # Pair 1: radius word 2**31 (u = 1/2), angle word 2**30 (a quarter turn).
    # The tail's fresh word 2**62 gives w = 2**50 2**-52 + 2**-53 = 1/4 + 2**-53.
    words = [0, (1 << 30) << 32 | (1 << 31)]
    buf = np.empty(4, np.float32)
    standard_normal_bulk(_Words(words, [1 << 62]), buf, Scratch())  # type: ignore[arg-type]
    far = np.sqrt(-2 * np.log(0.25 * 2.0**-32))  # u = (0 + 1/4) 2**-32, not 2**-33
    middle = np.sqrt(-2 * np.log((2**31 + 0.5) * 2.0**-32))
    np.testing.assert_allclose(buf, [far, middle * np.cos(np.pi / 2), 0.0, middle], atol=1e-6)
    assert buf[0] > 6.7  # beyond what a plain 32-bit radius can reach


# --------------------------------------------------------------------------- laws


@pytest.mark.parametrize(
    "dist",
    [Uniform(-0.3, 0.7), Normal(0.5, 2.0), TruncatedNormal(0.5, 2.0, -1.0, 4.0)],
    ids=repr,
)
def test_each_distribution_describes_the_values_it_draws(dist: Any) -> None:
    values = fill(np.empty(400_000, np.float64), dist, 3)
    mean, std = dist.moments()
    assert values.mean() == pytest.approx(mean, abs=0.01 * std)
    assert values.std() == pytest.approx(std, rel=0.01)
    x = np.linspace(values.min(), values.max(), 20001)
    assert np.trapezoid(dist.pdf(x), x) == pytest.approx(1.0, abs=0.01)
    assert dist.kind in ("uniform", "normal", "truncated_normal")
    assert set(dist.parameters()) <= {"loc", "scale", "lo", "hi"}


def test_truncated_normal_law_matches_scipy() -> None:
    dist = TruncatedNormal(0.5, 2.0, -1.0, 4.0)
    ref = stats.truncnorm((-1.0 - 0.5) / 2.0, (4.0 - 0.5) / 2.0, 0.5, 2.0)
    assert dist.moments().mean == pytest.approx(ref.mean(), rel=1e-9)
    assert dist.moments().std == pytest.approx(ref.std(), rel=1e-9)
    x = np.linspace(-2, 5, 50)
    assert np.allclose(dist.pdf(x), ref.pdf(x))


def test_to_float16_gives_numpys_cast_bit_for_bit() -> None:
    from paraminit.engine.floats import to_float16
    from paraminit.engine.streams import STREAMS

    # A sweep of every float32 below float16's overflow, dense where rounding changes
    # rule (subnormals, the normal edge, the largest finite), both signs, and values
    # that overflow (numpy's cast decides those) and NaN.
    patterns = [
        np.arange(0, 0x477FF000, 9973, dtype=np.uint32),
        np.arange(0x387F0000, 0x38810000, dtype=np.uint32),
        np.arange(0x33000000, 0x33010000, dtype=np.uint32),
        np.arange(0x477F0000, 0x477FF000, dtype=np.uint32),
        np.arange(0, 1 << 16, dtype=np.uint32),
    ]
    for bits in patterns:
        for sign in (0, 0x80000000):
            src = (bits | np.uint32(sign)).view(np.float32)
            out = np.empty(src.size, np.float16)
            to_float16(src, out, STREAMS.scratch)
            np.testing.assert_array_equal(
                out.view(np.uint16), src.astype(np.float16).view(np.uint16)
            )
    special = np.array([1e5, -7e4, np.nan, np.inf, 0.5], np.float32)
    out = np.empty(special.size, np.float16)
    with np.errstate(over="ignore", invalid="ignore"):  # the fallback casts as numpy does
        to_float16(special, out, STREAMS.scratch)
        expected = special.astype(np.float16)
    np.testing.assert_array_equal(out.view(np.uint16), expected.view(np.uint16))
