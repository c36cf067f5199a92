"""Write src/paraminit/engine/_ziggurat.py: the 256-layer ziggurat tables of the standard normal.

    python tools/ziggurat_tables.py

Marsaglia and Tsang's (2000) construction in float64 with Python's ``math``
(run once; the written constants, not this script, are what every platform
uses). ``r`` is found by bisection so that the top layer closes at ``x = 0``;
the accept ratios are exact floors computed with fractions.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np

LAYERS = 256
TARGET = Path(__file__).resolve().parents[1] / "src/paraminit/engine/_ziggurat.py"


def density(x: float) -> float:
    return math.exp(-0.5 * x * x)


def edges(r: float) -> tuple[float | None, float, list[float]]:
    """The layer area ``v``, the right edges from ``r`` inward, and how far the top misses 0."""
    v = r * density(r) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))
    xs = [r]
    for _ in range(LAYERS - 2):
        y = v / xs[-1] + density(xs[-1])
        if y >= 1:
            return None, v, xs
        xs.append(math.sqrt(-2 * math.log(y)))
    return v / xs[-1] + density(xs[-1]) - 1, v, xs


def main() -> None:
    lo, hi = 3.0, 4.0
    for _ in range(200):
        mid = (lo + hi) / 2
        miss, _, _ = edges(mid)
        if miss is None or miss > 0:
            lo = mid
        else:
            hi = mid
    r = lo
    _, v, xs = edges(r)
    # Layer i >= 1 spans x in [0, X[i]] and y in [F[i], F[i - 1]]; X[255] = r, X[1] the
    # top layer's edge, F[0] = 1. Layer 0 is the base [0, r] x [0, f(r)] plus the tail,
    # sampled as a rectangle of width v / f(r).
    x = [v / density(r), *xs[::-1]]
    f = [1.0, *(density(e) for e in x[1:])]
    x32 = [float(np.float32(e)) for e in x]

    def ratios(widths: list[float], bits: int) -> list[float]:
        # Accept u (a multiple of 2**-bits) when u < K[i]: u X[i] < X[i - 1] exactly.
        out = [math.floor(Fraction(r) / Fraction(widths[0]) * 2**bits) * 2.0**-bits, 0.0]
        for i in range(2, LAYERS):
            out.append(math.floor(Fraction(widths[i - 1]) / Fraction(widths[i]) * 2**bits))
            out[-1] *= 2.0**-bits
        return out

    def table(name: str, values: list[float]) -> str:
        body = "".join(f"    {v!r},\n" for v in values)
        return f"{name} = (\n{body})\n"

    TARGET.write_text(
        '"""The standard normal ziggurat\'s 256-layer tables '
        '(written by tools/ziggurat_tables.py)."""\n\n'
        f"R = {r!r}\nV = {v!r}\n"
        + table("X", x)
        + table("F", f)
        + table("X32", x32)
        + table("K52", ratios(x, 52))
        + table("K23", ratios(x32, 23))
    )


if __name__ == "__main__":
    main()
