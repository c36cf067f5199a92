"""paraminit against torch.nn.init across sizes, dtypes, per call, builds and import.

    python benchmarks/sizes.py               # sizes 1e2..1e7 (a few minutes on 2 cores)
    python benchmarks/sizes.py --max-exp 8   # up to 1e8 elements (needs ~2 GiB free)
    python benchmarks/sizes.py --quick       # fewer repeats
    python benchmarks/sizes.py --parts builds,import   # only some sections

One run, both sides on 2 threads (``paraminit.set_num_threads(2)``,
``torch.set_num_threads(2)``). Every timing interleaves the contenders call by
call and reports medians; paraminit draws a fresh seed per call (``seed=None``:
a fixed seed makes the samplers look faster than in real use), torch uses its
global generator unseeded. The machine is shared with other jobs, so read the
ratios (torch's time / paraminit's: above 1 means paraminit is faster), not the
absolute times. Sections:

* sizes: each family at 1e2..1e(max-exp) float32 elements, and at 1e7 in
  float16 and float64; orthogonal up to 1e6 (1e7 with ``--max-exp 8``);
* per call: (64,) and (64, 64), direct and through a resolved config partial;
* memory bandwidth: zero_init against numpy's copy of 1 GiB (a bandwidth proxy);
* build: a Chain of 500 Linear(64) and configs/default.cfg against constructing the
  same torch model (nn.Linear initializes its parameters when constructed);
* import: CPU seconds of ``import paraminit``, of ``import numpy`` alone and of the
  libraries paraminit imports (numpy, catalogue, annotated_types).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # torch's idle workers must not spin

import numpy as np
import torch
from torch import nn

import paraminit

THREADS = 2
PARTS = ("sizes", "per-call", "bandwidth", "builds", "import")
ROOT = Path(__file__).resolve().parent.parent


def medians(funcs: list[Callable[[], object]], repeat: int, number: int = 1) -> list[float]:
    """Median seconds per call of each function, the contenders interleaved call by call."""
    times: list[list[float]] = [[] for _ in funcs]
    for func in funcs:
        func()  # warm-up: caches, thread pools, first-touch of the pages
    for _ in range(repeat):
        for i, func in enumerate(funcs):
            start = time.perf_counter()
            for _ in range(number):
                func()
            times[i].append((time.perf_counter() - start) / number)
    return [statistics.median(t) for t in times]


def shape_of(exp: int) -> tuple[int, int]:
    """A 2-D shape of 10**exp elements, as square as powers of ten allow."""
    return (10 ** ((exp + 1) // 2), 10 ** (exp // 2))


T = torch.nn.init
FAMILIES: list[tuple[str, Callable[..., Any], Callable[[torch.Tensor], Any]]] = [
    ("uniform", lambda a: paraminit.uniform_init(a, inplace=True), lambda t: T.uniform_(t)),
    ("normal", lambda a: paraminit.random_normal_init(a, inplace=True), lambda t: T.normal_(t)),
    (
        "he_normal",
        lambda a: paraminit.he_normal_init(a, inplace=True),
        lambda t: T.kaiming_normal_(t, nonlinearity="relu"),
    ),
    (
        "xavier_uniform",
        lambda a: paraminit.xavier_uniform_init(a, inplace=True),
        lambda t: T.xavier_uniform_(t),
    ),
    (
        "truncated_normal",
        lambda a: paraminit.truncated_normal_init(a, inplace=True),
        lambda t: T.trunc_normal_(t),
    ),
    ("zero", lambda a: paraminit.zero_init(a, inplace=True), lambda t: T.zeros_(t)),
    ("ones", lambda a: paraminit.ones_init(a, inplace=True), lambda t: T.ones_(t)),
    (
        "constant",
        lambda a: paraminit.constant_init(a, 0.5, inplace=True),
        lambda t: T.constant_(t, 0.5),
    ),
    (
        "orthogonal",
        lambda a: paraminit.orthogonal_init(a, inplace=True),
        lambda t: T.orthogonal_(t),
    ),
]
TORCH_DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}


def pair(exp: int, dtype: str) -> tuple[np.ndarray[Any, Any], torch.Tensor]:
    shape = shape_of(exp)
    return np.empty(shape, dtype), torch.empty(shape, dtype=TORCH_DTYPES[dtype])


def ratio(
    ours: Callable[..., Any],
    theirs: Callable[..., Any],
    exp: int,
    dtype: str,
    repeat: int,
    number: int,
) -> float:
    """torch's median time / paraminit's on fresh arrays of 10**exp elements."""
    a, t = pair(exp, dtype)
    ours_s, theirs_s = medians([lambda: ours(a), lambda: theirs(t)], repeat, number)
    return theirs_s / ours_s


def sizes_table(max_exp: int, quick: bool) -> list[str]:
    """Ratios per family and dtype: float32 at every size, float16 and float64 at 1e7."""
    lines = ["| family | dtype | " + " | ".join(f"1e{e}" for e in range(2, max_exp + 1)) + " |"]
    lines.append("|---|---|" + "---|" * (max_exp - 1))
    for name, ours, theirs in FAMILIES:
        for dtype in ("float32", "float16", "float64"):
            cells = []
            for exp in range(2, max_exp + 1):
                too_big = name == "orthogonal" and exp > max_exp - 1
                other_dtype = dtype != "float32" and exp != 7
                if too_big or other_dtype:
                    cells.append("")
                    continue
                # Three calls only where one takes long: at 1e7 a constant fill takes ~1 ms
                # and a median of three swung 0.6-1.5x from run to run on the shared cores.
                slow = exp >= 8 or (name == "orthogonal" and exp >= 6)
                repeat = 3 if slow else (9 if quick else 15)
                number = max(1, 10 ** max(0, 4 - exp)) if name != "orthogonal" else 1
                cells.append(f"{ratio(ours, theirs, exp, dtype, repeat, number):.2f}")
            if any(cells):
                lines.append(f"| {name} | {dtype} | " + " | ".join(cells) + " |")
    return lines


def per_call_table(repeat: int) -> list[str]:
    lines = ["| call | shape | paraminit µs | torch µs | ratio |", "|---|---|---|---|---|"]
    registry = paraminit.registry.initializers
    cases = [
        ("uniform_init", "uniform_init.v1", T.uniform_),
        ("random_normal_init", "random_normal_init.v1", T.normal_),
        ("he_normal_init", "he_normal_init.v1", T.kaiming_normal_),
        ("zero_init", "zero_init.v1", T.zeros_),
    ]
    for shape in [(64,), (64, 64)]:
        a, t = np.empty(shape, "f"), torch.empty(shape)
        for name, registered, theirs in cases:
            if name == "he_normal_init" and len(shape) < 2:
                continue  # fans need two axes, on both sides
            direct = getattr(paraminit, name)
            partial = registry.get(registered)()  # what a config's block resolves to
            for how, ours in (("direct", direct), ("config partial", partial)):
                s_ours, s_theirs = medians(
                    [
                        lambda ours=ours, a=a: ours(a, inplace=True),
                        lambda theirs=theirs, t=t: theirs(t),
                    ],
                    repeat,
                    number=2000,
                )
                lines.append(
                    f"| {name} ({how}) | {shape} | {s_ours * 1e6:.2f} | {s_theirs * 1e6:.2f} "
                    f"| {s_theirs / s_ours:.2f} |"
                )
    return lines


def bandwidth_line() -> str:
    n = (1 << 30) // 4
    a, b, t = np.empty(n, "f"), np.zeros(n, "f"), torch.empty(n)
    ours, copy, theirs = medians(
        [
            lambda: paraminit.zero_init(a, inplace=True),
            lambda: np.copyto(a, b),
            lambda: T.zeros_(t),
        ],
        5,
    )
    # A copy reads and writes 1 GiB each; a fill only writes: bandwidth = bytes / second.
    return (
        f"zero_init 1 GiB: {(1 << 30) / ours / 1e9:.1f} GB/s written; numpy copyto "
        f"{(2 << 30) / copy / 1e9:.1f} GB/s read+written; torch zeros_ "
        f"{(1 << 30) / theirs / 1e9:.1f} GB/s; ratio to torch {theirs / ours:.2f}, "
        f"to copyto's bandwidth {(1 << 30) / ours / ((2 << 30) / copy):.2f}"
    )


def chain_config(blocks: int) -> str:
    lines = ["[model]", '@layers = "Chain.v1"', ""]
    for i in range(blocks):
        lines += [f"[model.*.l{i}]", '@layers = "Linear.v1"', "nO = 64", "nI = 64", ""]
    return "\n".join(lines)


def torch_like(model: paraminit.Model) -> Callable[[], object]:
    """Constructing the torch model of ``model``'s Linear weights (nn.Linear initializes)."""
    shapes = [a.shape for path, a in model.params.items() if path.endswith("W")]

    def construct() -> object:
        return nn.Sequential(*(nn.Linear(s[1], s[0]) for s in shapes))

    return construct


def build_table(repeat: int) -> list[str]:
    lines = ["| build | params | paraminit ms | torch ms | ratio |", "|---|---|---|---|---|"]
    default = (ROOT / "configs" / "default.cfg").read_text(encoding="utf8")
    for name, text in (("Chain of 500 Linear(64)", chain_config(500)), ("default.cfg", default)):
        model = paraminit.build(text, seed=0)
        ours, theirs = medians([lambda text=text: paraminit.build(text), torch_like(model)], repeat)
        lines.append(
            f"| {name} | {len(model.params)} | {ours * 1e3:.1f} | {theirs * 1e3:.1f} "
            f"| {theirs / ours:.2f} |"
        )
    return lines


def import_line(repeat: int) -> str:
    # Imported as installed packages are: from bytecode (PYTHONDONTWRITEBYTECODE would
    # have every run compile paraminit's sources, while numpy's come compiled).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def cpu(module: str) -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    cpu("paraminit")  # writes the bytecode

    # Interleaved like every timing here. The libraries import paraminit loads
    # (confection and pydantic load with the first config) are what its own code
    # cannot save.
    modules = ["paraminit", "numpy", "numpy, catalogue, annotated_types"]
    times: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(repeat):
        for module in modules:
            times[module].append(cpu(module))
    ours, base, deps = (statistics.median(times[module]) for module in modules)
    return (
        f"import paraminit: {ours:.3f} s CPU; import numpy alone: {base:.3f} s CPU; "
        f"numpy, catalogue and annotated_types: {deps:.3f} s CPU; "
        f"paraminit's own share: {ours - deps:.3f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-exp", type=int, default=7, help="largest size, 10**N elements")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-bandwidth", action="store_true", help="skip the 1 GiB case")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated sections to run, of {', '.join(PARTS)} (default: all)",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if parts - set(PARTS):
        parser.error(f"unknown parts {sorted(parts - set(PARTS))}; known: {', '.join(PARTS)}")
    paraminit.set_num_threads(THREADS)
    torch.set_num_threads(THREADS)
    print(f"numpy {np.__version__}, torch {torch.__version__}, {THREADS} threads each side")
    print("\nRatios: torch's median time / paraminit's (above 1: paraminit is faster)\n")
    if "sizes" in parts:
        print("\n".join(sizes_table(args.max_exp, args.quick)))
    if "per-call" in parts:
        print("\nPer call (medians of 2000-call batches)\n")
        print("\n".join(per_call_table(5 if args.quick else 11)))
    if "bandwidth" in parts and not args.no_bandwidth:
        print("\n" + bandwidth_line())
    if "builds" in parts:
        print()
        print("\n".join(build_table(3 if args.quick else 7)))
    if "import" in parts:
        print("\n" + import_line(3 if args.quick else 7))


if __name__ == "__main__":
    main()
