"""The compiled normal kernel (paraminit._native) against the numpy path: the same bits, the
same words consumed, on every path of the ziggurat; and the switch between them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import paraminit
from paraminit.engine import (
    BLOCK_SIZE,
    SMALL_SIZE,
    Normal,
    TruncatedNormal,
    Uniform,
    blocks,
    fill,
    floats,
    native,
    portable,
    truncated,
    ziggurat,
)
from paraminit.engine.streams import Scratch

ROOT = Path(__file__).parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _built() -> Any:
    try:
        from paraminit import _native
    except ImportError:
        return None
    return _native


def test_the_kernel_is_built_in_ci() -> None:
    # CI installs with a C compiler: a kernel that failed to build must fail the
    # suite there, or CI would test only the numpy path. Elsewhere the package
    # works without it, slower.
    if not IN_CI and _built() is None:
        pytest.skip("paraminit._native was not built here (no C compiler); CI requires it")
    assert _built() is not None, "CI=true but paraminit._native did not build"
    assert ziggurat.native_kernel() is not None


@pytest.fixture(scope="module")
def kernel() -> ziggurat.Kernel:
    if _built() is None and not IN_CI:
        pytest.skip("paraminit._native was not built here (no C compiler)")
    module = native.load("1")
    assert module is not None
    return ziggurat.configure(module)


def _draw(
    kernel: ziggurat.Kernel | None, bits: Callable[[], Any], n: int, dtype: Any
) -> tuple[bytes, list[int]]:
    """One ``standard_normal`` on a fresh generator: the values' bytes and the next words."""
    g = np.random.Generator(bits())
    saved = ziggurat._kernel
    ziggurat._kernel = kernel
    try:
        values = ziggurat.standard_normal(g, n, np.dtype(dtype), Scratch()).tobytes()
    finally:
        ziggurat._kernel = saved
    return values, g.bit_generator.random_raw(3).tolist()


def _assert_same(kernel: ziggurat.Kernel, bits: Callable[[], Any], n: int, dtype: Any) -> None:
    native, numpy_path = _draw(kernel, bits, n, dtype), _draw(None, bits, n, dtype)
    assert native[0] == numpy_path[0], "values differ"
    assert native[1] == numpy_path[1], "the generator ends in another state"


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    n=st.one_of(st.integers(1, 64), st.integers(1, 3 * BLOCK_SIZE)),
    seed=st.integers(0, 2**64 - 1),
    dtype=st.sampled_from([np.float32, np.float64]),
    philox=st.booleans(),
)
def test_the_kernel_gives_the_numpy_paths_bits_and_state(
    kernel: ziggurat.Kernel, n: int, seed: int, dtype: Any, philox: bool
) -> None:
    bit_generator = np.random.Philox if philox else np.random.SFC64
    _assert_same(kernel, lambda: bit_generator(seed), n, dtype)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("mean", [0.0, -1.5])
@pytest.mark.parametrize("size", [64, 3 * BLOCK_SIZE + 7])
def test_normal_fills_by_the_kernel_are_the_numpy_paths(
    kernel: ziggurat.Kernel, dtype: str, mean: float, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Scaled (and shifted) after the draw; float16 is drawn in float32 and rounded
    # by the kernel's to_float16. -0.0 stays -0.0 at mean 0.
    dist = Normal(mean, 0.37)
    fills = []
    for path in (kernel, None):
        monkeypatch.setattr(ziggurat, "_kernel", path)
        monkeypatch.setattr(blocks, "_small", blocks._small if path else None)
        fills.append(fill(np.empty(size, dtype), dist, 2**70 + size).tobytes())
    assert fills[0] == fills[1]


@pytest.mark.parametrize("sigmas", [4.0, -40.0], ids=["spares", "shortfall"])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize(
    ("mean", "std", "a", "b"), [(0.0, 0.02, -0.04, 0.04), (0.3, 1.5, -1.0, 4.0)], ids=str
)
def test_truncated_normal_fills_by_the_kernel_are_the_numpy_paths(
    kernel: ziggurat.Kernel,
    sigmas: float,
    dtype: str,
    mean: float,
    std: float,
    a: float,
    b: float,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The normal proposal's draws come from the kernel; with too few spares
    # (SPARE_SIGMAS < 0) the block draws more, from the kernel too.
    monkeypatch.setattr(truncated, "SPARE_SIGMAS", sigmas)
    dist = TruncatedNormal(mean, std, a, b)
    fills = []
    for path in (kernel, None):
        monkeypatch.setattr(ziggurat, "_kernel", path)
        fills.append(fill(np.empty(3 * BLOCK_SIZE + 7, dtype), dist, 11).tobytes())
    assert fills[0] == fills[1]


@settings(derandomize=True, max_examples=30, deadline=None)
@given(
    n=st.integers(SMALL_SIZE + 1, BLOCK_SIZE + 200),
    seed=st.integers(0, 2**128 - 1),
    dtype=st.sampled_from(["float16", "float32", "float64"]),
    dist=st.sampled_from(
        [
            TruncatedNormal(0.0, 0.05, -0.1, 0.1),
            TruncatedNormal(0.3, 1.5, -1.0, 4.0),
            TruncatedNormal(-2.0, 0.5, -3.5, -1.2),
        ]
    ),
)
def test_compiled_truncated_blocks_are_the_numpy_paths(
    kernel: ziggurat.Kernel, n: int, seed: int, dtype: str, dist: TruncatedNormal
) -> None:
    # Blocks of large arrays: one compiled call draws, replaces the values outside by
    # runs of 64 (and the tail one by one) and scales (float16: into float32, then
    # rounded); bit for bit the numpy passes.
    fills = []
    saved = ziggurat._kernel
    for path in (kernel, None):
        ziggurat._kernel = path
        try:
            fills.append(fill(np.empty(n, dtype), dist, seed).tobytes())
        finally:
            ziggurat._kernel = saved
    assert fills[0] == fills[1]


def test_the_compiled_truncated_block_refuses_bad_arguments(kernel: ziggurat.Kernel) -> None:
    module: Any = native.native()
    capsule = np.random.SFC64(0).capsule
    out = np.empty(100, np.float32)
    rest = (-2.0, 2.0, 1.0, 0.0, False, 0.95, 4.0, ziggurat._FAIL, 4)
    with pytest.raises(ValueError, match="z holds 100 values, fewer than"):
        module.truncated(capsule, out, np.empty(100, np.float32), *rest)
    with pytest.raises(TypeError, match="z must be a buffer of format 'f'"):
        module.truncated(capsule, out, np.empty(1000, np.float64), *rest)
    with pytest.raises(TypeError, match="takes 12 arguments, got 3"):
        module.truncated(capsule, out, out)


@pytest.fixture
def count_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], list[int]]]:
    """Wraps a function of the numpy path by name, counting its calls."""

    def wrap(name: str) -> list[int]:
        calls = [0]
        original = getattr(ziggurat, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(ziggurat, name, counted)
        return calls

    yield wrap


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_spare_shortfall_draws_the_same_words(
    kernel: ziggurat.Kernel,
    dtype: Any,
    monkeypatch: pytest.MonkeyPatch,
    count_calls: Callable[[str], list[int]],
) -> None:
    # 16 spares for ~440 failures in a block: the shortfall loop runs (its extra
    # candidates are a second _candidates call), and in the kernel too.
    monkeypatch.setattr(ziggurat, "_FAIL", 0.0)
    calls = count_calls("_candidates")
    for seed, n in [(1, BLOCK_SIZE), (2, 3 * BLOCK_SIZE - 1), (3, 2000)]:
        before = calls[0]
        _assert_same(kernel, lambda s=seed: np.random.SFC64(s), n, dtype)
        if n >= BLOCK_SIZE:
            assert calls[0] - before > 1, "no shortfall happened"


@pytest.mark.parametrize("tries", [1, 2, ziggurat._TAIL_TRIES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tail_redraws_draw_the_same_words(
    kernel: ziggurat.Kernel,
    tries: int,
    dtype: Any,
    monkeypatch: pytest.MonkeyPatch,
    count_calls: Callable[[str], list[int]],
) -> None:
    # With one or two tries a tail value often draws again (a tenth, a hundredth
    # of them), nested re-draws too; the kernel takes ``tries`` from the module.
    monkeypatch.setattr(ziggurat, "_TAIL_TRIES", tries)
    calls = count_calls("_tail")
    for seed in range(12):
        _assert_same(kernel, lambda s=seed: np.random.SFC64(s), 3 * BLOCK_SIZE, dtype)
    # Each draw calls _tail once, and once more per round of re-draws: more than
    # two calls per draw means re-draws of re-draws happened too.
    if tries == 1:
        assert calls[0] > 2 * 12, "no nested re-draws to test"


def test_the_kernel_draws_sfc64_inline_on_this_numpy(kernel: ziggurat.Kernel) -> None:
    # Inline SFC64 is most of the kernel's speed on large arrays; configure()
    # enables it only where numpy's state layout is the one it checked (the
    # bit-for-bit tests above then cover it). A numpy that changes the layout
    # keeps the values and loses the speed: this test says so.
    from paraminit import _native

    assert _native.inline_sfc64()


def test_the_kernels_log_is_portable_log(kernel: ziggurat.Kernel) -> None:
    from paraminit import _native

    rng = np.random.default_rng(7)
    x = np.concatenate(
        (
            rng.random(1 << 18) + 2.0**-53,  # (0, 1]: the slow path's uniforms
            np.exp(rng.uniform(-700.0, 700.0, 1 << 18)),
            [2.0**-1022, 1.0, 1.0 - 2.0**-53, np.sqrt(0.5), np.sqrt(2.0), 1.7976931348623157e308],
        )
    )
    out = np.empty_like(x)
    _native.log(x, out)
    expected = portable.log(x.copy(), np.empty_like(x), Scratch())
    assert out.tobytes() == expected.tobytes()


def test_the_kernels_float16_rounding_is_numpys_cast(kernel: ziggurat.Kernel) -> None:
    from paraminit import _native

    # Every finite float16 as float32 bits, with the neighbours that decide a
    # rounding (ties, one below and above them), subnormals and zeros included,
    # then random float32 values below the overflow bound.
    halves = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
    exact = halves[np.isfinite(halves)].astype(np.float32).view(np.uint32)
    offsets = np.array([0, 1, 0xFFF, 0x1000, 0x1001, 0x1FFF], np.uint32)
    near = (exact[:, None] + offsets).reshape(-1).view(np.float32)
    rng = np.random.default_rng(5)
    spread = rng.integers(0, 1 << 32, 1 << 20, dtype=np.uint64).astype(np.uint32).view(np.float32)
    src = np.concatenate((near, spread))
    src = src[np.abs(src) < 65520.0]  # NaNs compare False: dropped
    out = np.empty(src.size, np.float16)
    assert _native.to_float16(src, out)
    assert out.view(np.uint16).tobytes() == src.astype(np.float16).view(np.uint16).tobytes()
    # Overflow and NaN are numpy's: the kernel declines, floats.to_float16 casts.
    for bad in (65520.0, -np.inf, np.nan):
        odd = np.array([1.0, bad, 3.0], np.float32)
        assert not _native.to_float16(odd, np.empty(3, np.float16))
        with np.errstate(over="ignore", invalid="ignore"):
            mine, numpys = np.empty(3, np.float16), odd.astype(np.float16)
            floats.to_float16(odd, mine, Scratch())
        assert mine.view(np.uint16).tobytes() == numpys.view(np.uint16).tobytes()


def test_float16_fills_by_the_kernel_are_the_numpy_paths(
    kernel: ziggurat.Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    dists = [Uniform(-0.3, 0.7), Normal(0.1, 2.0), TruncatedNormal(0.0, 0.02, -0.04, 0.04)]
    module = native.native()
    for dist in dists:
        fills = []
        for path, rounding in ((kernel, module), (None, None)):
            monkeypatch.setattr(ziggurat, "_kernel", path)
            monkeypatch.setattr(native, "_module", rounding)
            fills.append(fill(np.empty(2 * BLOCK_SIZE + 3, np.float16), dist, 9).tobytes())
        assert fills[0] == fills[1], dist


def test_two_threads_give_the_bits_of_one(kernel: ziggurat.Kernel) -> None:
    # The kernel runs without the GIL: two Python threads drawing at once get
    # what each gets alone, and a fill on two threads what it gets on one.
    dist = Normal(0.0, 0.5)
    paraminit.set_num_threads(1)  # conftest restores the default
    alone = [fill(np.empty(9 * BLOCK_SIZE + 5, np.float32), dist, seed) for seed in (1, 2)]
    together: list[Any] = [None, None]

    def work(i: int) -> None:
        together[i] = fill(np.empty(9 * BLOCK_SIZE + 5, np.float32), dist, i + 1)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.array_equal(a, b) for a, b in zip(alone, together, strict=True))
    paraminit.set_num_threads(2)
    two = fill(np.empty(9 * BLOCK_SIZE + 5, np.float32), dist, 1)
    assert np.array_equal(two, alone[0])


def test_the_kernel_refuses_bad_arguments(kernel: ziggurat.Kernel) -> None:
    capsule = np.random.SFC64(0).capsule
    with pytest.raises(TypeError, match="out must be a buffer of format 'fd'"):
        kernel(capsule, np.empty(8, np.int32), 4, 4)
    with pytest.raises(ValueError, match="n=9 must be in"):
        kernel(capsule, np.empty(8, np.float32), 9, 4)
    with pytest.raises(ValueError, match="tries=0"):
        kernel(capsule, np.empty(8, np.float32), 4, 0)


# ------------------------------------------------------------- small arrays


@pytest.fixture(scope="module")
def small(kernel: ziggurat.Kernel) -> Any:
    module = blocks.small_kernel()
    assert module is not None, "the kernel is built but does not fill small arrays"
    return module


@settings(derandomize=True, max_examples=40, deadline=None)
@given(key=st.integers(0, 2**128 - 1))
def test_the_small_paths_philox_is_numpys(small: Any, key: int) -> None:
    # configure_small compares 4099 words (1025 counters) with numpy's Philox of this key.
    probe = np.random.Philox(key=key)
    assert small.configure_small(probe.capsule, (key & (2**64 - 1), key >> 64), ziggurat._FAIL)


def test_a_philox_that_disagrees_is_not_used(small: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # An SFC64 stands in for a numpy Philox whose words differ: the check refuses it, the
    # small calls refuse to run, and fill() takes the numpy path with the same values.
    assert not small.configure_small(np.random.SFC64(0).capsule, (0, 0), ziggurat._FAIL)
    try:
        with pytest.raises(RuntimeError, match="did not confirm Philox"):
            small.uniform(5, np.empty(4, np.float32), 1.0, 0.0, True)
        monkeypatch.setattr(blocks, "_small", blocks._UNRESOLVED)
        monkeypatch.setattr(blocks, "_PROBE_KEY", (1, 2))
        monkeypatch.setattr(np.random, "Philox", lambda key: np.random.SFC64(key))
        assert blocks.small_kernel() is None
    finally:
        monkeypatch.undo()
        blocks._small = blocks._UNRESOLVED
        assert blocks.small_kernel() is small  # the real probe passes again


_SMALL_DISTRIBUTIONS = [
    Uniform(-0.3, 0.7),  # float32: the 24-bit path
    Uniform(0.0, 1e-40),  # float32: scale 2**-24 is inexact, (k 2**-24) scale
    Uniform(-1.0, 3.5),
    Normal(0.0, 0.02),
    Normal(-1.5, 0.37),
    Normal(1e-60, 2.0),  # a mean that is 0 in float32 is still added (-0.0 becomes 0.0)
    TruncatedNormal(0.0, 0.05, -0.1, 0.1),  # he_normal's 2-sigma cut: the compiled call
    TruncatedNormal(0.3, 1.5, -1.0, 4.0),  # asymmetric, shifted
    TruncatedNormal(0.0, 1.0, 1.5, 3.0),  # the uniform proposal: no compiled call
]


@settings(derandomize=True, max_examples=150, deadline=None)
@given(
    n=st.one_of(st.integers(1, 80), st.integers(1, SMALL_SIZE)),
    seed=st.integers(0, 2**128 - 1),
    dtype=st.sampled_from(["float16", "float32", "float64"]),
    dist=st.sampled_from(_SMALL_DISTRIBUTIONS),
    strided=st.booleans(),
)
def test_small_fills_by_one_compiled_call_are_the_numpy_paths(
    small: Any, n: int, seed: int, dtype: str, dist: Any, strided: bool
) -> None:
    # Bit for bit, against the numpy path (re-keyed numpy Philox, numpy samplers);
    # float16, clamped uniforms, truncated normals by other proposals and strided
    # outputs fall back.
    fills = []
    saved = blocks._small
    for path in (small, None):
        blocks._small = path
        try:
            out = np.empty((n, 2) if strided else n, dtype)
            fill(out[:, 0] if strided else out, dist, seed)
            fills.append((out[:, 0] if strided else out).tobytes())
        finally:
            blocks._small = saved
    assert fills[0] == fills[1]


@pytest.mark.parametrize("n", [3000, SMALL_SIZE])
def test_small_normals_through_the_slow_path_and_the_tail(small: Any, n: int) -> None:
    # Seeds chosen by what they draw: the tail (layer 0 beyond K[0]) and failing
    # candidates that take spares, in both dtypes.
    hits = 0
    for seed in range(40):
        for dtype in (np.float32, np.float64):
            values = []
            for path in (small, None):
                saved, blocks._small = blocks._small, path
                try:
                    values.append(fill(np.empty(n, dtype), Normal(0.0, 1.0), seed))
                finally:
                    blocks._small = saved
            assert values[0].tobytes() == values[1].tobytes()
            hits += bool((np.abs(values[0]) > 3.6).any())
    assert hits, "no tail value was drawn: the test seeds do not reach the tail"


def test_the_small_calls_refuse_bad_arguments(small: Any) -> None:
    with pytest.raises(TypeError, match="out must be a buffer of format 'fd'"):
        small.uniform(1, np.empty(4, np.int32), 1.0, 0.0, True)
    with pytest.raises(ValueError, match="holds 4097 values"):
        small.uniform(1, np.empty(SMALL_SIZE + 1, np.float32), 1.0, 0.0, True)
    with pytest.raises(ValueError, match="holds 4097 values"):
        small.normal(1, np.empty(SMALL_SIZE + 1, np.float32), 1.0, 0.0, False, 4)
    with pytest.raises(TypeError, match="seed must be an int"):
        small.normal(1.0, np.empty(4, np.float32), 1.0, 0.0, False, 4)
    with pytest.raises(OverflowError):
        small.uniform(2**128, np.empty(4, np.float32), 1.0, 0.0, True)
    with pytest.raises(TypeError, match="takes 5 arguments, got 2"):
        small.uniform(1, np.empty(4, np.float32))


def test_fill_small_declines_what_it_cannot_fill() -> None:
    # Nothing written and False: float16 (drawn in float32 and rounded), bfloat16-like
    # foreign dtypes, and a truncated normal by the uniform or exponential proposal
    # have no compiled small call.
    out = np.full(4, 7.0, np.float16)
    assert not Uniform(0.0, 1.0).fill_small(None, 1, out)
    assert not Normal(0.0, 1.0).fill_small(None, 1, out)
    assert not TruncatedNormal(0.0, 1.0, -2.0, 2.0).fill_small(None, 1, out)
    out32 = np.full(4, 7.0, np.float32)
    assert not TruncatedNormal(0.0, 1.0, 1.5, 3.0).fill_small(None, 1, out32)
    assert not TruncatedNormal(0.0, 1.0, 5.0, 9.0).fill_small(None, 1, out32)
    assert (out == 7.0).all() and (out32 == 7.0).all()


@pytest.mark.parametrize("sigmas", [4.0, -40.0], ids=["spares", "shortfall"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 63, 4096])
def test_small_truncated_normals_take_spares_and_draw_more_as_numpy_does(
    small: Any, sigmas: float, dtype: Any, n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With too few spares (SPARE_SIGMAS < 0) the values outside [a, b] that find no
    # good spare take those of further draws, from the same Philox words.
    monkeypatch.setattr(truncated, "SPARE_SIGMAS", sigmas)
    dist = TruncatedNormal(0.0, 0.05, -0.1, 0.1)
    replaced = 0
    bounds = dist.params_for(np.dtype(dtype)).standard
    assert bounds is not None
    for seed in range(40):
        values = []
        for path in (small, None):
            monkeypatch.setattr(blocks, "_small", path)
            values.append(fill(np.empty(n, dtype), dist, seed))
        assert values[0].tobytes() == values[1].tobytes()
        assert ((values[0] >= -0.1) & (values[0] <= 0.1)).all()
        # The proposal's own draws (the same Philox words): those outside were replaced.
        g = np.random.Generator(np.random.Philox(key=seed))
        z = ziggurat.standard_normal(
            g, n + truncated._spares(n, bounds.acceptance), np.dtype(dtype), Scratch()
        )
        replaced += int((np.abs(z[:n]) > bounds.z_hi).sum())
    assert replaced, "no value was replaced: the test seeds do not test the replacement"


def test_the_small_truncated_call_refuses_bad_arguments(small: Any) -> None:
    out = np.empty(4, np.float32)
    with pytest.raises(ValueError, match="holds 4097 values"):
        small.truncated_small(
            1,
            np.empty(SMALL_SIZE + 1, np.float32),
            -2.0,
            2.0,
            1.0,
            0.0,
            False,
            0.95,
            4.0,
            0.0068,
            4,
        )
    with pytest.raises(ValueError, match=r"accept=0\.0 must be in \(0, 1\]"):
        small.truncated_small(1, out, -2.0, 2.0, 1.0, 0.0, False, 0.0, 4.0, 0.0068, 4)
    with pytest.raises(ValueError, match="tries=0 >= 1"):
        small.truncated_small(1, out, -2.0, 2.0, 1.0, 0.0, False, 0.95, 4.0, 0.0068, 0)
    with pytest.raises(TypeError, match="takes 11 arguments, got 3"):
        small.truncated_small(1, out, -2.0)


# ------------------------------------------------------------- the switch


def test_paraminit_native_must_be_0_or_1() -> None:
    with pytest.raises(ValueError, match="PARAMINIT_NATIVE must be 0 or 1"):
        native.load("yes")
    assert native.load("0") is None


def test_paraminit_native_1_requires_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if it was not built: an import of it fails.
    monkeypatch.setitem(sys.modules, "paraminit._native", None)
    monkeypatch.delattr(paraminit, "_native", raising=False)
    with pytest.raises(ImportError, match="PARAMINIT_NATIVE=1 asks for the compiled kernel"):
        native.load("1")
    assert native.load("") is None  # unset: the numpy path, silently


_GOLDEN = """
import sys
sys.path.insert(0, {tests!r})
import _golden
from paraminit.engine import ziggurat
assert (ziggurat.native_kernel() is not None) == {native!r}, "kernel switch"
from paraminit.engine import blocks
assert (blocks.small_kernel() is not None) == {native!r}, "small-array switch"
sys.exit(_golden.main(["--check"]))
"""


@pytest.mark.parametrize("setting", ["0", "1"])
def test_golden_values_with_and_without_the_kernel(setting: str) -> None:
    if setting == "1" and _built() is None and not IN_CI:
        pytest.skip("paraminit._native was not built here (no C compiler)")
    env = {**os.environ, "PARAMINIT_NATIVE": setting}
    code = _GOLDEN.format(tests=str(ROOT / "tests"), native=setting == "1")
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 differ" in done.stdout
