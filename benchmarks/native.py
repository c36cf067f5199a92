"""The compiled normal kernel against the numpy path and torch, interleaved in one run.

    python benchmarks/native.py            # sizes 1e2..1e7, per call, 4096x4096
    python benchmarks/native.py --quick    # fewer repeats

Three contenders per case, timed call by call in turn (medians, a fresh seed per
paraminit call, torch unseeded, 2 threads each side): paraminit with the kernel
(``paraminit._native``), paraminit on the numpy path (the kernel switched off in
process, as ``PARAMINIT_NATIVE=0`` does), and torch. It prints torch's time over
each paraminit path's (above 1: paraminit is faster), so the kernel's gain is read
from one run on a shared machine. The normal family only (sizes.py has the rest):
``random_normal_init`` against ``normal_``; ``he_normal_init`` (a normal truncated
at 2 std) against ``kaiming_normal_`` (untruncated) and ``trunc_normal_``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # torch's idle workers must not spin

import numpy as np
import torch
from sizes import THREADS, TORCH_DTYPES, medians, shape_of

import paraminit
from paraminit.engine import native, ziggurat

T = torch.nn.init


def trunc_normal_2_std(t: torch.Tensor, std: float) -> torch.Tensor:
    """torch's truncated normal cut at 2 std, as he_normal is (its a, b are absolute)."""
    return T.trunc_normal_(t, std=std, a=-2.0 * std, b=2.0 * std)


CASES: list[tuple[str, Callable[..., Any], Callable[[torch.Tensor], Any]]] = [
    ("normal / normal_", lambda a: paraminit.random_normal_init(a, inplace=True), T.normal_),
    (
        "he_normal / kaiming_normal_",
        lambda a: paraminit.he_normal_init(a, inplace=True),
        lambda t: T.kaiming_normal_(t, nonlinearity="relu"),
    ),
    (
        "he_normal / trunc_normal_",
        lambda a: paraminit.he_normal_init(a, inplace=True),
        lambda t: trunc_normal_2_std(t, (2.0 / t.shape[1]) ** 0.5),
    ),
]


def switched(kernel: Any, module: Any, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` run with the kernel on (``kernel``/``module`` given) or off (``None``)."""

    def run(a: Any) -> Any:
        ziggurat._kernel, native._module = kernel, module
        return func(a)

    return run


def ratios(case: int, shape: tuple[int, ...], dtype: str, repeat: int, number: int) -> str:
    """torch / kernel and torch / numpy path, as two cells."""
    _, ours, theirs = CASES[case]
    a, t = np.empty(shape, dtype), torch.empty(shape, dtype=TORCH_DTYPES[dtype])
    kernel, module = ziggurat.native_kernel(), native.native()
    with_kernel, without = switched(kernel, module, ours), switched(None, None, ours)
    times = medians([lambda: with_kernel(a), lambda: without(a), lambda: theirs(t)], repeat, number)
    ziggurat._kernel, native._module = kernel, module
    return f"{times[2] / times[0]:.2f} / {times[2] / times[1]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    paraminit.set_num_threads(THREADS)
    torch.set_num_threads(THREADS)
    if ziggurat.native_kernel() is None:
        raise SystemExit(
            "paraminit._native is not built (or PARAMINIT_NATIVE=0): nothing to compare"
        )
    print(f"numpy {np.__version__}, torch {torch.__version__}, {THREADS} threads each side")
    print("\nRatios torch / paraminit, with the kernel / on the numpy path (above 1: faster)\n")
    exps = range(2, 8)
    print("| case | dtype | " + " | ".join(f"1e{e}" for e in exps) + " | 4096x4096 |")
    print("|---|---|" + "---|" * (len(exps) + 1))
    for case, (name, _, _) in enumerate(CASES):
        for dtype in ("float32", "float16", "float64"):
            cells = []
            for exp in exps:
                if dtype != "float32" and exp != 7:
                    cells.append("")
                    continue
                repeat = 5 if exp >= 7 else (7 if args.quick else 15)
                cells.append(ratios(case, shape_of(exp), dtype, repeat, max(1, 10 ** (4 - exp))))
            big = ratios(case, (4096, 4096), dtype, 5, 1) if dtype == "float32" else ""
            print(f"| {name} | {dtype} | " + " | ".join(cells) + f" | {big} |")
    print("\nPer call on (64,) and (64, 64), medians of 2000-call batches\n")
    for case, shape in [(0, (64,)), (0, (64, 64)), (1, (64, 64))]:
        print(f"| {CASES[case][0]} | {shape} | {ratios(case, shape, 'float32', 7, 2000)} |")


if __name__ == "__main__":
    main()
