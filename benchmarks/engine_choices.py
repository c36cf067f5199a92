"""The measurements behind the engine's choices (docs/engine.md), on one thread.

    python benchmarks/engine_choices.py

1. Bit generators: numpy's samplers per value, and raw 64-bit words.
2. Normal methods for float32: numpy's ziggurat, SIMD Box-Muller variants, the portable ziggurat.
3. Block sizes: paraminit's uniform and normal fills on 16M float32 elements.
4. Keying cost: re-keying Philox, and Philox -> SFC64 per block.
5. The small-array threshold: per-call time of both paths by size.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

import paraminit
from paraminit.engine import blocks, streams
from paraminit.engine.streams import STREAMS
from paraminit.engine.ziggurat import standard_normal


def best(func: Callable[[], object], repeat: int = 7, number: int = 20) -> float:
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            func()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def generators() -> None:
    print("| bit generator | float32 uniform (M/s) | float32 ziggurat normal | raw words (M/s) |")
    print("|---|---|---|---|")
    n = 1 << 16
    out = np.empty(n, np.float32)
    for name in ("Philox", "SFC64", "PCG64", "PCG64DXSM", "MT19937"):
        bit_generator = getattr(np.random, name)(1)
        g = np.random.Generator(bit_generator)
        uniform = n / best(lambda g=g: g.random(out=out, dtype=np.float32)) / 1e6
        normal = n / best(lambda g=g: g.standard_normal(out=out, dtype=np.float32)) / 1e6
        raw = (n // 2) / best(lambda b=bit_generator: b.random_raw(n // 2)) / 1e6
        print(f"| {name} | {uniform:,.0f} | {normal:,.0f} | {raw:,.0f} |")


def normal_methods() -> None:
    n = 1 << 16
    m = n // 2
    out = np.empty(n, np.float32)
    g = np.random.Generator(np.random.SFC64(1))
    r32, a32, u64 = np.empty(m, np.float32), np.empty(m, np.float32), np.empty(m)

    def box_muller_f32() -> None:  # two float32 uniforms: the tail stops at 5.8 sigma
        g.random(out=r32, dtype=np.float32)
        g.random(out=a32, dtype=np.float32)
        np.subtract(np.float32(1), r32, out=r32)
        np.log(r32, out=r32)
        np.multiply(r32, np.float32(-2), out=r32)
        np.sqrt(r32, out=r32)
        np.multiply(a32, np.float32(2 * math.pi), out=a32)
        np.cos(a32, out=out[:m])
        np.sin(a32, out=out[m:])
        np.multiply(out[:m], r32, out=out[:m])
        np.multiply(out[m:], r32, out=out[m:])

    def box_muller_f64_radius() -> None:  # 53-bit radius uniform, float32 angle
        g.random(out=u64)
        np.subtract(1.0, u64, out=u64)
        np.log(u64, out=u64)
        np.multiply(u64, -2.0, out=r32, casting="unsafe")
        np.sqrt(r32, out=r32)
        g.random(out=a32, dtype=np.float32)
        np.multiply(a32, np.float32(2 * math.pi), out=a32)
        np.cos(a32, out=out[:m])
        np.sin(a32, out=out[m:])
        np.multiply(out[:m], r32, out=out[:m])
        np.multiply(out[m:], r32, out=out[m:])

    scratch = STREAMS.scratch
    cases = [
        (
            "numpy ziggurat float32 (Generator.standard_normal)",
            lambda: g.standard_normal(out=out, dtype=np.float32),
        ),
        ("Box-Muller, two float32 uniforms", box_muller_f32),
        ("Box-Muller, 53-bit radius + float32 angle", box_muller_f64_radius),
        (
            "portable ziggurat, 256 layers (chosen)",
            lambda: standard_normal(g, n, np.dtype(np.float32), scratch),
        ),
    ]
    print("| normal method (SFC64, float32) | M/s |")
    print("|---|---|")
    for label, func in cases:
        print(f"| {label} | {n / best(func) / 1e6:,.0f} |")


def _set_layout(name: str, value: int) -> None:
    """Change a layout constant where the engine reads it (streams and blocks)."""
    setattr(streams, name, value)
    setattr(blocks, name, value)


def block_sizes() -> None:
    data = np.empty(1 << 24, np.float32)
    original = streams.BLOCK_SIZE
    print("| BLOCK_SIZE | uniform_init (M/s) | normal_init (M/s) |")
    print("|---|---|---|")
    paraminit.set_num_threads(1)
    try:
        for log2 in (14, 15, 16, 17, 18):
            _set_layout("BLOCK_SIZE", 1 << log2)
            STREAMS.scratch.clear()
            uniform = best(lambda: paraminit.uniform_init(data, inplace=True, seed=1), 5, 1)
            normal = best(lambda: paraminit.normal_init(data, 64, inplace=True, seed=1), 5, 1)
            rates = (data.size / uniform / 1e6, data.size / normal / 1e6)
            print(f"| 2**{log2} | {rates[0]:,.0f} | {rates[1]:,.0f} |")
    finally:
        _set_layout("BLOCK_SIZE", original)
        STREAMS.scratch.clear()
        paraminit.set_num_threads(None)


def keying() -> None:
    local = STREAMS
    philox = best(lambda: local.philox_at(12345, 7), 7, 20000)
    sfc = best(lambda: local.sfc_at(12345, 7), 7, 20000)
    build = best(lambda: np.random.Generator(np.random.Philox(key=12345)), 7, 2000)
    print("| keying | µs |")
    print("|---|---|")
    print(f"| re-key the thread's Philox (small arrays) | {philox * 1e6:.2f} |")
    print(f"| Philox -> SFC64 state per block (large arrays) | {sfc * 1e6:.2f} |")
    print(f"| build Generator(Philox(key)) (not done) | {build * 1e6:.2f} |")


def small_threshold() -> None:
    original = streams.SMALL_SIZE
    print("| elements | uniform: Philox path (µs) | bulk path | normal: Philox path | bulk path |")
    print("|---|---|---|---|---|")
    try:
        for n in (64, 512, 2048, 4096, 8192):
            a = np.empty(n, np.float32)
            row = []
            for small in (1 << 30, 0):
                _set_layout("SMALL_SIZE", small)
                uniform = best(lambda a=a: paraminit.uniform_init(a, inplace=True, seed=1), 7, 2000)
                normal = best(
                    lambda a=a: paraminit.normal_init(a, 16, inplace=True, seed=1), 7, 2000
                )
                row += [uniform, normal]
            cells = " | ".join(f"{t * 1e6:.1f}" for t in (row[0], row[2], row[1], row[3]))
            print(f"| {n} | {cells} |")
    finally:
        _set_layout("SMALL_SIZE", original)


if __name__ == "__main__":
    for section in (generators, normal_methods, block_sizes, keying, small_threshold):
        print()
        section()
