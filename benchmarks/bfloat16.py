"""bfloat16 fills against float32 fills of the same initializer, in one run.

    python benchmarks/bfloat16.py               # 4096 x 4096, 7 repeats
    python benchmarks/bfloat16.py --repeat 3

A bfloat16 array gets the float32 values rounded to nearest even
(``paraminit.foreign.accepts_bfloat16``); this prints, per initializer, the
median time of an in-place fill of each dtype (repeats interleaved, a fresh seed
per call), their ratio, the peak temporary memory of the bfloat16 fill
(``tracemalloc``, which sees numpy's allocations) and the per-call time of
``uniform_init`` on a (64,) float32 array through the bfloat16-aware wrapper
against the function it wraps. Read the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np

import paraminit

NAMES = ["uniform_init", "random_normal_init", "truncated_normal_init", "he_normal_init"]
_seeds = itertools.count(1)


def timed(call: Callable[[int], Any]) -> float:
    start = time.perf_counter()
    call(next(_seeds))
    return time.perf_counter() - start


def fills(shape: tuple[int, int], repeat: int) -> None:
    bf16 = np.empty(shape, ml_dtypes.bfloat16)
    f32 = np.empty(shape, np.float32)
    print(f"| initializer ({shape[0]}x{shape[1]}) | float32 | bfloat16 | ratio | bf16 peak temp |")
    print("| --- | --- | --- | --- | --- |")
    for name in NAMES:
        init = getattr(paraminit, name)
        times: dict[str, list[float]] = {"f32": [], "bf16": []}
        for _ in range(repeat):
            times["f32"].append(timed(lambda s, init=init: init(f32, inplace=True, seed=s)))
            times["bf16"].append(timed(lambda s, init=init: init(bf16, inplace=True, seed=s)))
        tracemalloc.start()
        init(bf16, inplace=True, seed=0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        a, b = statistics.median(times["f32"]), statistics.median(times["bf16"])
        print(
            f"| {name} | {a * 1e3:.1f} ms | {b * 1e3:.1f} ms | {b / a:.2f}x | "
            f"{peak / 2**20:.1f} MiB of {bf16.nbytes / 2**20:.0f} MiB |"
        )


def per_call(repeat: int) -> None:
    data = np.empty(64, np.float32)
    wrapped = paraminit.uniform_init
    inner = wrapped.__wrapped__  # type: ignore[attr-defined]
    times: dict[str, list[float]] = {"wrapper": [], "inner": []}
    number = 20_000
    for _ in range(repeat):
        for label, func in (("wrapper", wrapped), ("inner", inner)):
            start = time.perf_counter()
            for seed in range(number):
                func(data, inplace=True, seed=seed)
            times[label].append((time.perf_counter() - start) / number)
    w, i = statistics.median(times["wrapper"]), statistics.median(times["inner"])
    print(
        f"\nper call, uniform_init on (64,) float32: {w * 1e6:.2f} µs through the wrapper, "
        f"{i * 1e6:.2f} µs without ({w / i:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--size", type=int, default=4096)
    args = parser.parse_args()
    print(f"paraminit threads: {paraminit.get_num_threads()}\n")
    fills((args.size, args.size), args.repeat)
    per_call(args.repeat)


if __name__ == "__main__":
    main()
