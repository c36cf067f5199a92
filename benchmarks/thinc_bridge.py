"""Initialize thinc layers through paraminit's thinc bridge and through thinc's own initializers.

    python benchmarks/thinc_bridge.py               # HashEmbed 1,000,000 x 300, Linear 4096 x 4096
    python benchmarks/thinc_bridge.py --repeat 3    # fewer repeats

Each contender's initializer is resolved by name from thinc's registry, as a
config block would be: thinc's ``uniform_init.v1`` / ``glorot_uniform_init.v1``
(HashEmbed's and Linear's defaults) against ``paraminit.uniform_init.v1`` /
``paraminit.glorot_uniform_init.v1`` with the same arguments. A timing is one
``model.initialize()`` of a freshly built layer, so it includes the allocation;
neither side is given a seed, so every call draws a fresh one from numpy's global
state (thinc draws its float64 values there and casts them; the bridge draws a
seed and fills float32 with paraminit's engine). Repeats are interleaved across
the contenders and the median is reported; read the ratios, which come from one
run, rather than the absolute rates. HashEmbed's table is 1.2 GB of float32 and
thinc's float64 draw needs 2.4 GB more while it runs.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import thinc
from thinc.api import Config, HashEmbed, Linear, registry

import paraminit


def resolve_initializer(name: str, **arguments: Any) -> Callable[..., Any]:
    """An initializer resolved from a config block ``@initializers = name``."""
    block = {"init": {"@initializers": name, **arguments}}
    return registry.resolve(Config(block))["init"]  # type: ignore[no-any-return]


def median_seconds(builds: list[Callable[[], Any]], repeat: int) -> list[float]:
    """Median seconds of ``build().initialize()`` for each builder, repeats interleaved."""
    times: list[list[float]] = [[] for _ in builds]
    for _ in range(repeat):
        for i, build in enumerate(builds):
            model = build()
            gc.collect()
            start = time.perf_counter()
            model.initialize()
            times[i].append(time.perf_counter() - start)
            del model
    return [statistics.median(t) for t in times]


def case(
    title: str,
    elements: int,
    make: Callable[[Callable[..., Any]], Any],
    thinc_name: str,
    paraminit_name: str,
    repeat: int,
    **arguments: Any,
) -> list[str]:
    thinc_init = resolve_initializer(thinc_name, **arguments)
    bridge_init = resolve_initializer(paraminit_name, **arguments)
    bridge_init(thinc.api.NumpyOps(), (2, 2))  # warm the engine's thread pool
    thinc_s, bridge_s = median_seconds(
        [lambda: make(thinc_init), lambda: make(bridge_init)], repeat
    )
    return [
        f"| {title} | {thinc_name}: {elements / thinc_s / 1e6:,.0f} M el/s "
        f"({thinc_s * 1e3:,.0f} ms) | {paraminit_name}: {elements / bridge_s / 1e6:,.0f} M el/s "
        f"({bridge_s * 1e3:,.0f} ms) | **{thinc_s / bridge_s:.2f}x** |"
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per contender")
    args = parser.parse_args(argv)
    lines = [
        f"- CPUs usable: {len(os.sched_getaffinity(0))} ({platform.machine()}), "
        f"paraminit threads: {paraminit.get_num_threads()}",
        f"- python {platform.python_version()}, numpy {np.__version__}, "
        f"thinc {thinc.__version__}, paraminit {paraminit.__version__}",
        f"- median of {args.repeat} interleaved calls of model.initialize() per contender",
        "",
        "| layer | thinc | paraminit bridge | bridge / thinc |",
        "|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    rows = case(
        "Linear 4096 x 4096 (init_W)",
        4096 * 4096,
        lambda init: Linear(4096, 4096, init_W=init),
        "glorot_uniform_init.v1",
        "paraminit.glorot_uniform_init.v1",
        args.repeat,
    )
    print("\n".join(rows), flush=True)
    rows = case(
        "HashEmbed 1,000,000 x 300 (initializer)",
        1_000_000 * 300,
        lambda init: HashEmbed(300, 1_000_000, initializer=init),
        "uniform_init.v1",
        "paraminit.uniform_init.v1",
        args.repeat,
        lo=-0.1,
        hi=0.1,
    )
    print("\n".join(rows), flush=True)


if __name__ == "__main__":
    main()
