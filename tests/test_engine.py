"""The random engine: shard invariance, threads, processes, memory and statistics."""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from scipy import stats

import paraminit
from paraminit import engine
from paraminit.engine import (
    BLOCK_SIZE,
    SMALL_SIZE,
    Normal,
    TruncatedNormal,
    Uniform,
    fill,
    fill_region,
    initialize_region,
)
from paraminit.registry import InitializerPartial

DTYPES = ["float16", "float32", "float64"]
# Every initializer marked elementwise on this branch, whatever module added it.
ELEMENTWISE = sorted(engine._ELEMENTWISE, key=lambda f: f.__name__)
# One shape per path: the small Philox path, and several blocks of the bulk path
# (3-D, with a partial last block).
SHAPES = [(24, 40), (3, 301, 240)]


# Arguments for marked initializers that have required ones (by function name).
REQUIRED_ARGS: dict[str, dict[str, Any]] = {"constant_init": {"value": 0.25}}


def call(init: Callable[..., Any], data: np.ndarray[Any, Any], seed: int | None) -> Any:
    """``init(data, seed=seed)``, leaving out ``seed`` for initializers without one."""
    if engine._takes_seed(engine._unwrap(init)):
        return with_args(init)(data, seed=seed)
    return with_args(init)(data)


def with_args(init: Callable[..., Any]) -> Callable[..., Any]:
    """``init`` with the arguments it cannot do without (see ``REQUIRED_ARGS``)."""
    args = REQUIRED_ARGS.get(getattr(init, "__name__", ""), {})
    return functools.partial(init, **args) if args else init


def random_regions(shape: tuple[int, ...], rng: np.random.Generator) -> Iterator[Any]:
    """Rows, columns, strided, reversed, irregular and integer regions of ``shape``."""
    yield slice(1, 3)  # rows
    yield (slice(None), slice(2, 5))  # columns
    yield tuple(slice(None, None, 3) for _ in shape)  # strided everywhere
    yield tuple(slice(None, None, -2) for _ in shape)  # reversed
    yield (1,)  # an integer drops the axis
    for _ in range(4):  # irregular
        region = []
        for size in shape:
            a, b = sorted(int(x) for x in rng.integers(0, size + 1, 2))
            step = int(rng.integers(1, 5))
            region.append(slice(a, b, step) if rng.random() < 0.8 else slice(b, a, -step))
        yield tuple(region)


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


@pytest.mark.parametrize("dtype", DTYPES)
def test_memory_order_does_not_change_values(dtype: str) -> None:
    shape = (300, 500)
    c = paraminit.uniform_init(np.empty(shape, dtype), seed=3)
    f = paraminit.uniform_init(np.empty(shape, dtype, order="F"), inplace=True, seed=3)
    strided = np.empty((600, 500), dtype)[::2]
    paraminit.uniform_init(strided, inplace=True, seed=3)
    assert np.array_equal(c, f) and np.array_equal(c, strided)


@pytest.mark.parametrize("init", ELEMENTWISE, ids=lambda f: f.__name__)
def test_thread_counts_give_identical_bits(init: Callable[..., Any]) -> None:
    shape = (1200, 1100)  # 21 blocks
    results = []
    try:
        for threads in (1, 2, 3):
            paraminit.set_num_threads(threads)
            for dtype in DTYPES:
                results.append((threads, dtype, call(init, np.empty(shape, dtype), seed=9)))
    finally:
        paraminit.set_num_threads(None)
    for threads, dtype, values in results:
        reference = next(v for t, d, v in results if t == 1 and d == dtype)
        assert np.array_equal(values, reference), (threads, dtype)
        # Regions spread their blocks over the threads too.
        region = (slice(7, None, 2), slice(None, 900, 3))
        paraminit.set_num_threads(threads)
        try:
            part = initialize_region(with_args(init), shape, region, seed=9, dtype=dtype)
        finally:
            paraminit.set_num_threads(None)
        assert np.array_equal(part, reference[region]), (threads, dtype)


def _digests(seed: int) -> dict[str, str]:
    """A digest of every elementwise initializer's output on both paths, every dtype."""
    import hashlib

    out = {}
    for init in ELEMENTWISE:
        for dtype in DTYPES:
            for shape in [*SHAPES, (1200, 1100)]:  # the last one spreads over threads
                values = call(init, np.empty(shape, dtype), seed=seed)
                key = f"{init.__name__}/{dtype}/{shape}"
                out[key] = hashlib.sha256(values.tobytes()).hexdigest()
    return out


def test_a_second_process_with_other_threads_makes_the_same_bits() -> None:
    script = (
        "import json, paraminit, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import test_engine\n"
        "assert paraminit.get_num_threads() == 3\n"
        "print(json.dumps(test_engine._digests(21)))\n"
    )
    env = dict(os.environ, PARAMINIT_NUM_THREADS="3")  # this process uses 1
    done = subprocess.run(
        [sys.executable, "-c", script, os.path.dirname(__file__)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    paraminit.set_num_threads(1)
    try:
        assert json.loads(done.stdout) == _digests(21)
    finally:
        paraminit.set_num_threads(None)


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


def test_an_elementwise_initializer_filling_twice_is_refused() -> None:
    def twice_init(data: Any, *, inplace: bool = False, seed: int | None = None) -> Any:
        fill(data, Uniform(0.0, 1.0), 1)
        return fill(data, Uniform(0.0, 1.0), 2)

    engine.elementwise(twice_init)
    try:
        with pytest.raises(RuntimeError, match="twice_init"):
            initialize_region(twice_init, (10,), slice(2, 4), seed=0)
    finally:
        engine._ELEMENTWISE.discard(twice_init)


def test_initialize_region_validates_its_arguments() -> None:
    init = paraminit.uniform_init
    with pytest.raises(TypeError, match="dtype"):
        initialize_region(init, (4,), slice(None), seed=0, dtype="int32")
    with pytest.raises(TypeError, match="shape"):
        initialize_region(init, "4", slice(None), seed=0)
    with pytest.raises(ValueError, match="shape"):
        initialize_region(init, (-1, 3), slice(None), seed=0)
    with pytest.raises(TypeError, match="region entries"):
        initialize_region(init, (4, 4), ([1, 2],), seed=0)
    with pytest.raises(IndexError, match="out of bounds"):
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


# --------------------------------------------------------------------------- memory

MiB = 1 << 20


def _peak_bytes(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


DISTRIBUTIONS = [
    Uniform(-0.1, 0.1),
    Normal(0.0, 0.02),
    TruncatedNormal(0.0, 1.0, -2.0, 2.0),  # normal proposal, ~5 % replaced by spares
    TruncatedNormal(0.0, 1.0, 0.5, 0.7),  # uniform proposal
    TruncatedNormal(0.0, 1.0, 4.0, 9.0),  # exponential tail proposal
]


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=repr)
def test_temporary_memory_is_bounded_independently_of_size(dist: engine.Distribution) -> None:
    paraminit.set_num_threads(2)
    try:
        peaks = []
        for elements in (4 * MiB, 16 * MiB):  # 16 MiB and 64 MiB of float32
            out = np.empty(elements, np.float32)
            peaks.append(_peak_bytes(lambda out=out: fill(out, dist, 3)))
            del out
    finally:
        paraminit.set_num_threads(None)
    # A few block-sized buffers per thread; the bound is 64 MiB for 1 GiB.
    assert max(peaks) < 8 * MiB, peaks
    assert peaks[1] <= peaks[0] + MiB, peaks  # 4x the array, not more temporaries


def test_memory_bound_holds_for_every_elementwise_initializer_and_layout() -> None:
    shape = (2048, 2048)  # 16 MiB of float32
    for init in ELEMENTWISE:
        for order in "CF":
            data = np.empty(shape, np.float32, order=order)
            peak = _peak_bytes(lambda data=data, init=init: _inplace(init, data))
            assert peak < 8 * MiB, (init.__name__, order, peak)
        data = np.empty(shape, np.float16)
        assert _peak_bytes(lambda data=data, init=init: _inplace(init, data)) < 8 * MiB
        # inplace=False: the result plus the same bound.
        data = np.empty(shape, np.float32)
        peak = _peak_bytes(lambda data=data, init=init: call(init, data, seed=1))
        assert data.nbytes <= peak < data.nbytes + 8 * MiB, (init.__name__, peak)


def _inplace(init: Callable[..., Any], data: np.ndarray[Any, Any]) -> object:
    if engine._takes_seed(engine._unwrap(init)):
        return with_args(init)(data, inplace=True, seed=1)
    return with_args(init)(data, inplace=True)


def test_a_region_needs_no_full_array() -> None:
    shape = (1 << 15, 1 << 13)  # 1 GiB of float32, never allocated
    peak = _peak_bytes(
        lambda: initialize_region(
            paraminit.uniform_init, shape, (slice(1000, 1010), slice(None, None, 2)), seed=0
        )
    )
    assert peak < 4 * MiB


# --------------------------------------------------------------------------- statistics


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


def test_neighbouring_blocks_are_uncorrelated() -> None:
    blocks = 256
    out = fill(np.empty(blocks * BLOCK_SIZE, np.float32), Normal(0.0, 1.0), 99)
    means = out.reshape(blocks, BLOCK_SIZE).mean(axis=1, dtype=np.float64)
    lag1 = np.corrcoef(means[:-1], means[1:])[0, 1]
    assert abs(lag1) < 4 / np.sqrt(blocks)
    # Block means have the spread of independent blocks.
    assert 0.8 < means.std() * np.sqrt(BLOCK_SIZE) < 1.2
    # Neighbouring seeds are unrelated too.
    other = fill(np.empty(blocks * BLOCK_SIZE, np.float32), Normal(0.0, 1.0), 100)
    assert abs(np.corrcoef(out[::16], other[::16])[0, 1]) < 4 / np.sqrt(out.size / 16)


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
        out[...] = engine._u_max(np.dtype(dtype)) if self.largest else 0.0

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
            method(top_gen, top, engine._LOCAL)  # type: ignore[arg-type]
            method(bottom_gen, bottom, engine._LOCAL)  # type: ignore[arg-type]
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
    assert dist._proposal() == "normal"
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
    work, std_w, mean_w, lo_d, hi_d, _, standard = dist._params_for(np.dtype(dtype))
    z_lo, z_hi = standard[0][()], standard[1][()]
    w, t = work.type, np.dtype(dtype).type

    def scaled(z: Any) -> Any:
        return t(w(w(z * std_w[()]) + mean_w[()]))

    assert lo_d <= scaled(z_lo) and scaled(z_hi) <= hi_d
    assert scaled(np.nextafter(z_lo, w(-np.inf))) < lo_d
    assert scaled(np.nextafter(z_hi, w(np.inf))) > hi_d


@pytest.mark.parametrize(("mean", "std", "a", "b"), NORMAL_PROPOSALS, ids=str)
def test_truncated_normal_spare_shortfall_stays_exact_and_shard_invariant(
    mean: float, std: float, a: float, b: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Far too few spares: every block takes the rare path that draws more.
    monkeypatch.setattr(engine, "_SPARE_SIGMAS", -40.0)
    dist = TruncatedNormal(mean, std, a, b)
    shape = (9, 3 * BLOCK_SIZE // 9 + 5)
    whole = fill(np.empty(shape, np.float32), dist, 11)
    assert whole.astype(np.float64).min() >= a and whole.astype(np.float64).max() <= b
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert stats.kstest(whole.ravel().astype(np.float64), law.cdf).pvalue > 1e-3
    part = fill_region(dist, shape, (slice(2, 7), slice(None, None, 3)), 11, np.float32)
    assert np.array_equal(part, whole[2:7, ::3])
    paraminit.set_num_threads(1)
    try:
        assert np.array_equal(fill(np.empty(shape, np.float32), dist, 11), whole)
    finally:
        paraminit.set_num_threads(None)


@pytest.mark.parametrize("sigmas", [4.0, -40.0], ids=["spares", "shortfall"])
@pytest.mark.parametrize(("mean", "std", "a", "b"), NORMAL_PROPOSALS, ids=str)
def test_truncated_normal_paths_for_one_and_several_threads_agree(
    mean: float, std: float, a: float, b: float, sigmas: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Alone, a thread tests only screened Box-Muller pairs; sharing a fill, it
    # uses np.place over the whole block. Both must give the same bits.
    monkeypatch.setattr(engine, "_SPARE_SIGMAS", sigmas)
    dist = TruncatedNormal(mean, std, a, b)
    local = engine._LOCAL
    results = []
    for parallel in (False, True):
        out = np.empty(BLOCK_SIZE - 3, np.float32)
        local.parallel = parallel
        try:
            dist.fill_bulk(local.sfc_at(5, 2), out, local)
        finally:
            local.parallel = False
        results.append(out)
    assert np.array_equal(results[0], results[1])


def test_fill_region_matches_fill_for_truncated_normal() -> None:
    dist = TruncatedNormal(0.0, 1.0, -2.0, 2.0)
    shape = (77, 3000)
    whole = fill(np.empty(shape, np.float32), dist, 6)
    part = fill_region(dist, shape, (slice(3, 70, 4), slice(None, None, -9)), 6, np.float32)
    assert np.array_equal(part, whole[3:70:4, ::-9])


# --------------------------------------------------------------------------- threads


def test_set_num_threads_validates_and_resets(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="positive int"):
        paraminit.set_num_threads(0)
    with pytest.raises(TypeError, match="positive int"):
        paraminit.set_num_threads("2")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="positive int"):
        paraminit.set_num_threads(True)
    try:
        paraminit.set_num_threads(3)
        assert paraminit.get_num_threads() == 3
        monkeypatch.setenv("PARAMINIT_NUM_THREADS", "5")
        paraminit.set_num_threads(None)
        assert paraminit.get_num_threads() == 5
        monkeypatch.delenv("PARAMINIT_NUM_THREADS")
        paraminit.set_num_threads(None)
        assert paraminit.get_num_threads() == len(os.sched_getaffinity(0))
        for bad in ("zero", "0", "-2", "1.5"):
            monkeypatch.setenv("PARAMINIT_NUM_THREADS", bad)
            paraminit.set_num_threads(None)
            with pytest.raises(ValueError, match="PARAMINIT_NUM_THREADS"):
                paraminit.get_num_threads()
    finally:
        monkeypatch.delenv("PARAMINIT_NUM_THREADS", raising=False)
        paraminit.set_num_threads(None)


def test_small_arrays_stay_on_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(workers: int, task: Any) -> Any:
        raise AssertionError("a small fill asked for the thread pool")

    monkeypatch.setattr(engine, "_submit", no_pool)
    paraminit.set_num_threads(4)
    try:
        paraminit.uniform_init(np.empty((256, 256), "f"), seed=0)  # one block
        paraminit.uniform_init(np.empty(3 * BLOCK_SIZE, "f"), seed=0)
        with pytest.raises(AssertionError, match="thread pool"):  # large ones do use it
            paraminit.uniform_init(np.empty(8 * BLOCK_SIZE, "f"), seed=0)
    finally:
        paraminit.set_num_threads(None)


class _Words:
    """A stand-in generator: fixed raw words, fixed fresh uniforms."""

    def __init__(self, words: list[int], fresh: float) -> None:
        self.bit_generator = self
        self.words = np.array(words, dtype=np.uint64)
        self.fresh = fresh

    def random_raw(self, size: int) -> np.ndarray[Any, Any]:
        return self.words[:size].copy()

    def random(self, size: int) -> np.ndarray[Any, Any]:
        return np.full(size, self.fresh)


def test_box_muller_refines_the_far_tail() -> None:
    # Pair 0: radius word 0 (the far tail), angle word 0 -> cos = 1, sin = 0.
    # Pair 1: radius word 2**31 (u = 1/2), angle word 2**30 (a quarter turn).
    words = [0, (1 << 30) << 32 | (1 << 31)]
    buf = np.empty(4, np.float32)
    engine._standard_normal_bulk(_Words(words, 0.25), buf, engine._LOCAL)  # type: ignore[arg-type]
    far = np.sqrt(-2 * np.log(0.25 * 2.0**-32))  # u = (0 + 0.25) 2**-32, not 2**-33
    middle = np.sqrt(-2 * np.log((2**31 + 0.5) * 2.0**-32))
    np.testing.assert_allclose(buf, [far, middle * np.cos(np.pi / 2), 0.0, middle], atol=1e-6)
    assert buf[0] > 6.7  # beyond what a plain 32-bit radius can reach
