"""Benchmark the torch bridge on a GPT-2-small-shaped model (124M parameters).

    python benchmarks/torch_bridge.py            # about two minutes on 2 cores
    python benchmarks/torch_bridge.py --quick    # fewer repeats

The model is built on the meta device and materialized with ``to_empty``. Three
contenders initialize it, timed round-robin (median of the repeats, a fresh seed
per call), torch and paraminit at 2 threads (the comparison asked for), then both
at 1 thread (torch's CPU ``normal_`` runs on one thread either way):

* ``paraminit.torch.initialize`` with GPT-2's rules (normal std 0.02, residual
  projections 0.02/sqrt(2 * n_layer), zero biases, LayerNorm ones);
* a per-parameter ``torch.nn.init`` loop with the same distributions;
* torch's own ``reset_parameters()`` on every module (torch's default
  distributions, not GPT-2's: the cost of the init torch does anyway);
* for reference, the same paraminit fills called directly on each parameter's
  numpy view (the engine's time without the bridge).

Then the per-rank time of ``initialize`` on an FSDP2-sharded model (gloo, CPU),
1 rank against 2 ranks, each rank on one thread: a rank fills only its shard.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# torch's OpenMP workers spin after each parallel op by default and would hold a
# core that paraminit's threads need next (see benchmarks/bench.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

import paraminit
import paraminit.torch as pt

VOCAB, CONTEXT, WIDTH, LAYERS = 50257, 1024, 768, 12
RESIDUAL_STD = 0.02 / math.sqrt(2 * LAYERS)


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.c_attn = nn.Linear(WIDTH, 3 * WIDTH)
        self.attn_proj = nn.Linear(WIDTH, WIDTH)
        self.c_fc = nn.Linear(WIDTH, 4 * WIDTH)
        self.mlp_proj = nn.Linear(4 * WIDTH, WIDTH)


class GPT2Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(VOCAB, WIDTH), nn.Embedding(CONTEXT, WIDTH)
        self.h = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_f = nn.LayerNorm(WIDTH)
        self.lm_head = nn.Linear(WIDTH, VOCAB, bias=False)


RULES = f"""
[init]

[init.residual]
match = "*_proj.weight"

[init.residual.init]
@initializers = "random_normal_init.v1"
std = {RESIDUAL_STD!r}

[init.norms]
match = "*.weight"
modules = ["LayerNorm"]

[init.norms.init]
@initializers = "ones_init.v1"

[init.weights]
match = "*.weight"

[init.weights.init]
@initializers = "random_normal_init.v1"
std = 0.02

[init.biases]
match = "*.bias"

[init.biases.init]
@initializers = "zero_init.v1"
"""


def materialized() -> GPT2Small:
    """The model built on meta, materialized on the CPU, its head tied to ``wte``."""
    with torch.device("meta"):
        model = GPT2Small()
    model.to_empty(device="cpu")
    model.lm_head.weight = model.wte.weight
    return model


def rules() -> Any:
    return paraminit.Config().from_str(RULES)["init"]


def torch_loop(model: nn.Module, seed: int) -> None:
    """The same distributions through ``torch.nn.init``, each parameter once (tied too)."""
    torch.manual_seed(seed)
    modules = dict(model.named_modules())
    for name, param in model.named_parameters():
        owner, _, kind = name.rpartition(".")
        if isinstance(modules[owner], nn.LayerNorm) and kind == "weight":
            nn.init.ones_(param)
        elif kind == "bias":
            nn.init.zeros_(param)
        else:
            nn.init.normal_(param, std=RESIDUAL_STD if owner.endswith("_proj") else 0.02)


def paraminit_loop(model: nn.Module, seed: int) -> None:
    """The same fills as ``initialize``, each parameter's numpy view filled directly: the
    engine's own time, without the bridge's rules, checks and report."""
    modules = dict(model.named_modules())
    for name, param in model.named_parameters():
        owner, _, kind = name.rpartition(".")
        view = param.detach().numpy()
        if isinstance(modules[owner], nn.LayerNorm) and kind == "weight":
            paraminit.ones_init(view, inplace=True)
        elif kind == "bias":
            paraminit.zero_init(view, inplace=True)
        else:
            std = RESIDUAL_STD if owner.endswith("_proj") else 0.02
            paraminit.random_normal_init(view, std=std, inplace=True, seed=seed)


def reset_parameters(model: nn.Module, seed: int) -> None:
    torch.manual_seed(seed)
    for module in model.modules():
        reset = getattr(module, "reset_parameters", None)
        if callable(reset):
            reset()


def median_times(funcs: list[Callable[[int], object]], repeat: int) -> list[float]:
    """Median seconds per call of each function, round-robin, a fresh seed per call."""
    times: list[list[float]] = [[] for _ in funcs]
    seed = 0
    for _ in range(repeat):
        for i, func in enumerate(funcs):
            seed += 1
            start = time.perf_counter()
            func(seed)
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def single_process(repeat: int, threads: int) -> list[str]:
    torch.set_num_threads(threads)
    paraminit.set_num_threads(threads)
    model = materialized()
    block = rules()
    n_params = sum(p.numel() for p in model.parameters())
    contenders: dict[str, Callable[[int], object]] = {
        "paraminit initialize": lambda seed: pt.initialize(model, block, seed=seed),
        "torch.nn.init loop": lambda seed: torch_loop(model, seed),
        "reset_parameters()": lambda seed: reset_parameters(model, seed),
        "paraminit fills without the bridge": lambda seed: paraminit_loop(model, seed),
    }
    for func in contenders.values():  # warm-up
        func(0)
    times = median_times(list(contenders.values()), repeat)
    ours = times[0]
    lines = [
        f"GPT-2 small: {n_params / 1e6:.1f}M parameters, float32, torch and paraminit at "
        f"{threads} thread{'s' if threads > 1 else ''}",
        "",
        "| contender | median s | M params/s | paraminit speed-up |",
        "|---|---:|---:|---:|",
    ]
    for (name, _), seconds in zip(contenders.items(), times, strict=True):
        lines.append(
            f"| {name} | {seconds:.3f} | {n_params / seconds / 1e6:.0f} | {seconds / ours:.2f}x |"
        )
    return lines


def _rank(rank: int, world: int, init_file: str, repeat: int, out: str) -> None:
    torch.set_num_threads(1)
    paraminit.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=world,
        timeout=datetime.timedelta(minutes=10),
    )  # fmt: skip
    try:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        mesh = init_device_mesh("cpu", (world,))
        with torch.device("meta"):
            model = GPT2Small()
        for block in model.h:
            fully_shard(block, mesh=mesh)
        fully_shard(model, mesh=mesh)
        model.to_empty(device="cpu")
        block = rules()
        pt.initialize(model, block, seed=0)  # warm-up
        wall, cpu = [], []
        for seed in range(1, repeat + 1):
            dist.barrier()
            start, start_cpu = time.perf_counter(), time.process_time()
            pt.initialize(model, block, seed=seed)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        medians = f"{statistics.median(wall)} {statistics.median(cpu)}"
        Path(out, f"rank{rank}").write_text(medians)
    finally:
        dist.destroy_process_group()


def per_rank(repeat: int) -> list[str]:
    os.environ["OMP_NUM_THREADS"] = "1"
    medians: dict[int, tuple[float, float]] = {}
    for world in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            mp.spawn(_rank, args=(world, f"{tmp}/init", repeat, tmp), nprocs=world)
            ranks = [Path(tmp, f"rank{r}").read_text().split() for r in range(world)]
            medians[world] = (max(float(w) for w, _ in ranks), max(float(c) for _, c in ranks))
    wall1, cpu1 = medians[1]
    return [
        "FSDP2 (gloo, CPU), one thread per rank: the slowest rank's median initialize time",
        "(wall clock, and the rank's CPU time, which other load on the machine does not inflate)",
        "",
        "| ranks | per-rank wall s | vs 1 rank | per-rank CPU s | vs 1 rank |",
        "|---:|---:|---:|---:|---:|",
        *(
            f"| {w} | {wall:.3f} | {wall / wall1:.2f}x | {cpu:.3f} | {cpu / cpu1:.2f}x |"
            for w, (wall, cpu) in medians.items()
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7
    print(
        f"torch {torch.__version__}, paraminit {paraminit.__version__}, numpy "
        f"{__import__('numpy').__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs ({platform.machine()}), load average before the run "
        f"{os.getloadavg()[0]:.1f}"
    )
    print()
    print("\n".join(single_process(repeat, threads=2)))
    print()
    print("\n".join(single_process(repeat, threads=1)))
    print()
    print("\n".join(per_rank(repeat)))


if __name__ == "__main__":
    sys.exit(main())
