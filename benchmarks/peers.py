"""The engine's performance bar against torch.nn.init, in one short run.

    python benchmarks/peers.py [--repeat 15]

4096x4096 float32, paraminit on 2 threads (torch on its default 2), a fresh seed
per call, contenders interleaved, the median of ``--repeat`` timings each. Prints
M elements/s and paraminit's ratio against torch for the three bars of
docs/benchmarks.md: normal >= 1.5x ``normal_``, truncated normal (std 0.02,
``a=-0.04, b=0.04``) >= 10x ``trunc_normal_``, uniform >= 2.5x ``uniform_``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

import paraminit

SHAPE = (4096, 4096)
BARS = {"normal": 1.5, "truncated_normal": 10.0, "uniform": 2.5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    paraminit.set_num_threads(2)
    torch.set_num_threads(2)
    data = np.empty(SHAPE, np.float32)
    tensor = torch.empty(SHAPE)
    seeds = itertools.count(1)
    pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "normal": (
            lambda: paraminit.random_normal_init(data, 0.0, 0.02, inplace=True, seed=next(seeds)),
            lambda: torch.nn.init.normal_(tensor, 0.0, 0.02),
        ),
        "truncated_normal": (
            lambda: paraminit.truncated_normal_init(
                data, 0.0, 0.02, -0.04, 0.04, inplace=True, seed=next(seeds)
            ),
            lambda: torch.nn.init.trunc_normal_(tensor, 0.0, 0.02, -0.04, 0.04),
        ),
        "uniform": (
            lambda: paraminit.uniform_init(data, -0.05, 0.05, inplace=True, seed=next(seeds)),
            lambda: torch.nn.init.uniform_(tensor, -0.05, 0.05),
        ),
    }
    n = data.size / 1e6
    print(f"{'family':<18}{'paraminit M/s':>15}{'torch M/s':>12}{'ratio':>8}{'bar':>6}")
    for family, funcs in pairs.items():
        times: list[list[float]] = [[], []]
        for func in funcs:
            func()
        for _ in range(args.repeat):
            for i, func in enumerate(funcs):
                start = time.perf_counter()
                func()
                times[i].append(time.perf_counter() - start)
        ours, theirs = (statistics.median(t) for t in times)
        print(
            f"{family:<18}{n / ours:>15.0f}{n / theirs:>12.0f}"
            f"{theirs / ours:>8.2f}{BARS[family]:>6.1f}"
        )


if __name__ == "__main__":
    main()
