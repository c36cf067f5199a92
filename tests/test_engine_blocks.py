"""Blocks of the engine: shard invariance, memory order, threads, processes and memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import paraminit
from _elementwise import DTYPES, ELEMENTWISE, SHAPES, call
from paraminit.engine import (
    BLOCK_SIZE,
    Distribution,
    Normal,
    TruncatedNormal,
    Uniform,
    fill,
    fill_region,
)


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
    for threads in (1, 2, 3):
        paraminit.set_num_threads(threads)
        for dtype in DTYPES:
            results.append((threads, dtype, call(init, np.empty(shape, dtype), seed=9)))
    for threads, dtype, values in results:
        reference = next(v for t, d, v in results if t == 1 and d == dtype)
        assert np.array_equal(values, reference), (threads, dtype)


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
        "import test_engine_blocks\n"
        "assert paraminit.get_num_threads() == 3\n"
        "print(json.dumps(test_engine_blocks._digests(21)))\n"
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
    assert json.loads(done.stdout) == _digests(21)


def test_fill_region_matches_fill_for_truncated_normal() -> None:
    dist = TruncatedNormal(0.0, 1.0, -2.0, 2.0)
    shape = (77, 3000)
    whole = fill(np.empty(shape, np.float32), dist, 6)
    part = fill_region(dist, shape, (slice(3, 70, 4), slice(None, None, -9)), 6, np.float32)
    assert np.array_equal(part, whole[3:70:4, ::-9])


def test_fill_region_errors_name_fill_region() -> None:
    with pytest.raises(IndexError, match="fill_region: index 9 is out of bounds"):
        fill_region(Normal(0.0, 1.0), (4, 4), 9, 0, np.float32)


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
def test_temporary_memory_is_bounded_independently_of_size(dist: Distribution) -> None:
    paraminit.set_num_threads(2)
    peaks = []
    for elements in (4 * MiB, 16 * MiB):  # 16 MiB and 64 MiB of float32
        out = np.empty(elements, np.float32)
        peaks.append(_peak_bytes(lambda out=out: fill(out, dist, 3)))
        del out
    # A few block-sized buffers per thread; the bound is 64 MiB for 1 GiB.
    assert max(peaks) < 8 * MiB, peaks
    assert peaks[1] <= peaks[0] + MiB, peaks  # 4x the array, not more temporaries


def test_memory_bound_holds_for_every_elementwise_initializer_and_layout() -> None:
    shape = (2048, 2048)  # 16 MiB of float32
    for init in ELEMENTWISE:
        for order in "CF":
            data = np.empty(shape, np.float32, order=order)
            peak = _peak_bytes(lambda data=data, init=init: call(init, data, 1, inplace=True))
            assert peak < 8 * MiB, (init.__name__, order, peak)
        data = np.empty(shape, np.float16)
        assert _peak_bytes(lambda data=data, init=init: call(init, data, 1, inplace=True)) < 8 * MiB
        # inplace=False: the result plus the same bound.
        data = np.empty(shape, np.float32)
        peak = _peak_bytes(lambda data=data, init=init: call(init, data, seed=1))
        assert data.nbytes <= peak < data.nbytes + 8 * MiB, (init.__name__, peak)


# --------------------------------------------------------------------------- independence


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
