"""The portable float functions: numpy's uniforms from raw words, and the accuracy of log and
sincos against numpy's (measured errors quoted in docs/engine.md)."""

from __future__ import annotations

import numpy as np
import pytest

from paraminit.engine.portable import log, sincos, uniform_from_raw
from paraminit.engine.streams import Scratch

PI = np.longdouble("3.14159265358979323846264338327950288")


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


@pytest.mark.parametrize(("dtype", "bound"), [(np.float32, 2.0**-23), (np.float64, 2.0**-52)])
def test_sincos_is_close_to_the_exact_angles_cosine_and_sine(dtype: type, bound: float) -> None:
    # float32: 32-bit words, float32 arithmetic; float64: 53-bit words. Measured
    # errors: 1.5 2**-24 and 1.26 2**-53 (absolute, against the exact angle).
    bits, word = (32, np.uint32) if dtype is np.float32 else (53, np.uint64)
    g = np.random.Generator(np.random.SFC64(2))
    n = 1 << 18
    k = g.integers(0, 2**bits, n, dtype=np.uint64).astype(word)
    quarter = 1 << (bits - 2)
    k[:6] = [0, 1, quarter, 2 * quarter, 3 * quarter, 4 * quarter - 1]
    angle = k.astype(np.longdouble) * (2 * PI / np.longdouble(2) ** bits)
    cos, sin = np.empty(n, dtype), np.empty(n, dtype)
    sincos(k.copy(), cos, sin, Scratch())
    assert float(np.abs(cos - np.cos(angle)).max()) < bound
    assert float(np.abs(sin - np.sin(angle)).max()) < bound
    assert list(cos[:5]) == [1.0, 1.0, 0.0, -1.0, 0.0]
    assert list(np.abs(sin[:5])) == [0.0, float(sin[1]), 1.0, 0.0, 1.0]
    assert np.all(np.abs(cos) <= 1.0) and np.all(np.abs(sin) <= 1.0)
