"""The portable float functions: numpy's uniforms from raw words, and the accuracy of log
against numpy's (the measured error is quoted in docs/engine.md)."""

from __future__ import annotations

import numpy as np
import pytest

from paraminit.engine.portable import log, log1, uniform_from_raw
from paraminit.engine.streams import Scratch


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["philox", "sfc64"])
def test_uniforms_are_numpys_generator_random_bit_for_bit(dtype: type, name: str) -> None:
    def make() -> np.random.BitGenerator:
        return np.random.Philox(key=5) if name == "philox" else np.random.SFC64(7)

    words = 1001 if dtype is np.float64 else 501
    expected = np.random.Generator(make()).random(1001, dtype=dtype)
    got = uniform_from_raw(make().random_raw(words), np.empty(1001, dtype))
    assert np.array_equal(got, expected)


def test_log_is_within_one_ulp() -> None:
    g = np.random.Generator(np.random.SFC64(1))
    n = 1 << 18
    x = np.concatenate(
        [
            (g.integers(0, 2**32, n) + 0.5) * 2**-32,  # the float32 radius path
            1.0 - g.random(n),  # the float64 radius path
            np.geomspace(2.0**-85, 1.0, n),
            [1.0, 0.5, 2.0**-85, np.nextafter(1.0, 0.0)],
        ]
    )
    exact = np.log(x.astype(np.longdouble))
    got = log(x.copy(), np.empty_like(x), Scratch())
    ulps = np.abs((got - exact) / np.spacing(np.abs(exact).astype(np.float64)))
    assert float(np.nanmax(np.where(exact == 0, 0, ulps))) < 1.0
    assert got[-4] == 0.0


def test_scalar_log_is_the_vector_log_bit_for_bit() -> None:
    g = np.random.Generator(np.random.SFC64(3))
    x = np.concatenate(
        [1.0 - g.random(4000), np.geomspace(2.0**-1000, 2.0**1000, 4000), [1.0, 2.0**-1074 * 2**52]]
    )
    vector = log(x.copy(), np.empty_like(x), Scratch())
    assert [log1(float(v)) for v in x] == vector.tolist()
