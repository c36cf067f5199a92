"""Distributions of the engine: their statistics, bounds, exact edges and the ziggurat's paths."""

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
    ziggurat,
)
from paraminit.engine._ziggurat import K23, X32, R
from paraminit.engine.distributions import largest_uniform
from paraminit.engine.streams import Scratch

DTYPES = ["float16", "float32", "float64"]


@pytest.mark.parametrize("size", [SMALL_SIZE, 20 * BLOCK_SIZE])
@pytest.mark.parametrize(("a", "b"), [(-2.0, 2.0), (0.5, 0.7), (4.0, 9.0), (-9.0, -3.5)], ids=str)
def test_ks_truncated_normal_on_both_paths(size: int, a: float, b: float) -> None:
    out = fill(np.empty(size, np.float64), TruncatedNormal(0.0, 1.0, a, b), 8)
    assert out.min() >= a and out.max() <= b
    sample = out[:: max(1, size // 100_000)]
    assert stats.kstest(sample, "truncnorm", args=(a, b)).pvalue > 1e-3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ziggurat_tails_and_moments(dtype: type) -> None:
    out = fill(np.empty(64 * BLOCK_SIZE, dtype), Normal(0.0, 1.0), 12).astype(np.float64)
    assert abs(out.mean()) < 5e-3 and abs(out.std() - 1.0) < 5e-3
    assert abs(stats.skew(out)) < 0.02 and abs(stats.kurtosis(out)) < 0.04
    assert stats.kstest(out[::7], "norm").pvalue > 1e-3
    # The masses beyond 3 sigma, beyond the base R (the tail path) and beyond 4 sigma.
    for cut in (3.0, R, 4.0):
        expected = 2 * stats.norm.sf(cut) * out.size
        assert abs((np.abs(out) > cut).sum() - expected) < 5 * np.sqrt(expected), cut


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


# Normal-proposal cut-offs: symmetric, asymmetric, off-centre, and an interval
# that excludes the mean (more spares than values).
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


def _candidate(layer: int, negative: bool, u: int) -> int:
    """A float32 candidate word: layer, sign, then the 23 bits of u."""
    return layer << 24 | int(negative) << 23 | u


def _pairs(*halves: int) -> list[int]:
    """32-bit candidate words as raw 64-bit words, low half first."""
    padded = [*halves, 0] if len(halves) % 2 else list(halves)
    return [padded[i] | padded[i + 1] << 32 for i in range(0, len(padded), 2)]


def test_ziggurat_fast_wedge_and_tail_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    # Three values, no spare: a sure fast accept, a wedge candidate and a tail one.
    # Crafted words need the numpy path (the compiled kernel draws from a real
    # bit generator; tests/test_native.py checks it against this path).
    monkeypatch.setattr(ziggurat, "_kernel", None)
    monkeypatch.setattr(ziggurat, "_FAIL", 0.0)  # 16 spares
    n, spares = 3, 16
    top = (1 << 23) - 1
    fast = _candidate(200, True, 1 << 20)  # u = 1/8, far below K[200]
    wedge = _candidate(200, False, top)  # u near 1: beyond K[200], in the wedge
    tail = _candidate(0, False, top)  # layer 0 beyond K[0]: the tail
    fillers = [_candidate(200, False, 1 << 20)] * spares
    # One word v per slow candidate (wedge, tail): v = 0 puts the wedge's y at
    # F[200] < f(x), so it passes. The tail's tries (u1, u2): the first has
    # u1 = 1 - 2**-53 (t = 2**-53 / R) and u2 = 2**-53 (-2 log u2 = 73 > t**2).
    tries = [1 << 11, 0] * ziggurat._TAIL_TRIES
    tries[1] = (1 << 64) - 1
    words = _Words(_pairs(fast, wedge, tail, *fillers), [0, 0], tries)
    out = ziggurat.standard_normal(words, n, np.dtype(np.float32), Scratch())  # type: ignore[arg-type]
    u_top = np.float32(top * 2.0**-23)
    assert out[0] == -np.float32(2.0**-3) * np.float32(X32[200])
    assert out[1] == u_top * np.float32(X32[200])
    assert out[2] == np.float32(R + 2.0**-53 / R)
    assert u_top >= K23[200]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ziggurat_spare_shortfall_draws_more(dtype: type, monkeypatch: pytest.MonkeyPatch) -> None:
    # 16 spares for ~440 failures: the shortfall loop runs; the values stay
    # normal and are a function of the stream alone.
    monkeypatch.setattr(ziggurat, "_FAIL", 0.0)
    runs = [
        ziggurat.standard_normal(
            np.random.Generator(np.random.SFC64(4)), BLOCK_SIZE, np.dtype(dtype), Scratch()
        ).copy()
        for _ in range(2)
    ]
    assert np.array_equal(runs[0], runs[1])
    assert not np.isnan(runs[0]).any()
    assert stats.kstest(runs[0].astype(np.float64), "norm").pvalue > 1e-3


@pytest.mark.parametrize("tries", [1, 4])  # one try: a tenth of tails draw more
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ziggurat_slow_path_on_python_floats_is_the_vector_one(
    dtype: type, tries: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Few slow candidates are decided on Python floats; the values and the words
    # consumed must be the vector path's, bit for bit.
    monkeypatch.setattr(ziggurat, "_TAIL_TRIES", tries)
    layout = ziggurat._LAYOUTS[np.dtype(dtype)]
    scratch = Scratch()
    tails = 0
    for seed in range(60):
        g = np.random.Generator(np.random.SFC64(seed))
        out = np.empty(5000, dtype)
        ziggurat._candidates(g, out.size, layout, out, scratch)
        slow = np.flatnonzero(np.isnan(out))
        code = scratch.get("zig_index", np.intp, out.size)[slow] >> ziggurat._BUCKET_BITS
        u = scratch.get("zig_u", dtype, out.size)[slow]
        tails += int(np.count_nonzero((code >> 1 == 0) & (u >= layout.base)))
        state = g.bit_generator.state
        ok, values = ziggurat._exact(g, code, u, layout, scratch)
        after = g.bit_generator.random_raw(2)
        g.bit_generator.state = state
        ok_few, values_few = ziggurat._exact_few(g, code, u, layout)
        assert np.array_equal(ok, ok_few)
        assert values.tobytes() == values_few.tobytes()
        assert np.array_equal(g.bit_generator.random_raw(2), after)
    assert tails > 10


def test_ziggurat_spares_replace_failed_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    # Value 0's wedge candidate fails (v near 1 puts y above f(x)); it takes the
    # next spare that passes: spare 0 is a failing wedge candidate too, spare 1
    # a sure accept. Crafted words: the numpy path.
    monkeypatch.setattr(ziggurat, "_kernel", None)
    monkeypatch.setattr(ziggurat, "_FAIL", 0.0)
    top = (1 << 23) - 1
    wedge = _candidate(200, False, top)
    sure = [_candidate(100, True, 1 << 19)] * 15
    words = _Words(_pairs(wedge, wedge, *sure), [(1 << 64) - 1] * 2, [])
    out = ziggurat.standard_normal(words, 1, np.dtype(np.float32), Scratch())  # type: ignore[arg-type]
    assert out[0] == -np.float32(2.0**-4) * np.float32(X32[100])


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


@pytest.mark.parametrize("compiled", [True, False], ids=["kernel", "numpy passes"])
def test_to_float16_gives_numpys_cast_bit_for_bit(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paraminit.engine import native
    from paraminit.engine.floats import to_float16
    from paraminit.engine.streams import STREAMS

    if not compiled:  # the compiled kernel when built (tests/test_native.py), else these
        monkeypatch.setattr(native, "_module", None)

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
