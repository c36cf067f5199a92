"""Benchmark paraminit against its peers, side by side in one run.

    python benchmarks/bench.py              # everything (about two minutes on 2 cores)
    python benchmarks/bench.py --quick      # fewer repeats, 256 MiB memory case

For each initializer family on a 4096x4096 float32 array it prints throughput in
million elements per second and paraminit's ratio against every peer that is
installed (torch.nn.init on CPU, thinc.initializers, jax.nn.initializers on CPU,
plain numpy); peers that are missing are listed as skipped. Then per-call times
for small arrays, 2 threads against 1, and the peak temporary memory of an
in-place fill of a 1 GiB array (tracemalloc; peak RSS for torch).

paraminit fills in place (``inplace=True``), like torch's ``*_`` functions and
numpy's ``out=``; thinc and jax return new arrays, so their times include the
allocation. jax runs its initializer under ``jax.jit`` after a warm-up call.
Every time is the best of several repeats, timed round-robin across the
contenders: the ratios inside one run are the numbers to read on a shared
machine. Per-call times and the thread speed-up run in fresh processes, so no
peer's thread pool holds a core; ``OMP_WAIT_POLICY=PASSIVE`` (unless set) keeps
torch's OpenMP workers from spinning after each call for the same reason, and
in the throughput table each timing starts 50 ms after the previous call (the
main thread spins meanwhile), by when jax's spinning XLA workers have stopped.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# torch's OpenMP workers spin on the cores after each parallel op by default,
# which would steal the second core from whatever runs next (paraminit's own
# threads included). Let them sleep instead; set the variable to override.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

import paraminit
from paraminit import engine, regions

SHAPE = (4096, 4096)
N = SHAPE[0] * SHAPE[1]
PEERS = ("torch", "thinc", "jax", "numpy")


def best_times(
    funcs: list[Callable[[], object]], repeat: int, number: int = 1, settle: float = 0.0
) -> list[float]:
    """Best seconds per call of each function, timed round-robin.

    Interleaving the repeats means a burst of load from another process hits
    every contender alike, so ratios within one run stay meaningful. Before
    each timing the main thread spins for ``settle`` seconds: jax's XLA
    workers keep spinning on the cores for 10-50 ms after each call, which
    slowed the two-threaded contender after jax by up to 25 %. (Sleeping
    instead lets the cores go idle, and waking them costs every contender.)
    """
    for func in funcs:
        func()  # warm-up: caches, thread pools, jit
    best = [float("inf")] * len(funcs)
    for _ in range(repeat):
        for i, func in enumerate(funcs):
            until = time.perf_counter() + settle
            while time.perf_counter() < until:
                pass
            start = time.perf_counter()
            for _ in range(number):
                func()
            best[i] = min(best[i], (time.perf_counter() - start) / number)
    return best


def optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except Exception:  # not installed, or broken: reported as skipped
        return None


@dataclass
class Family:
    name: str
    ours: Callable[[np.ndarray[Any, Any]], object] | None
    ours_label: str
    peers: dict[str, tuple[str, Callable[[], object]]] = field(default_factory=dict)


def paraminit_call(name: str, **kwargs: Any) -> Callable[[np.ndarray[Any, Any]], object] | None:
    """``paraminit.<name>(data, inplace=True, seed=1, **kwargs)`` if it exists and runs."""
    func = getattr(paraminit, name, None)
    if func is None:
        return None
    takes_seed = regions.takes_seed(func)

    def run(data: np.ndarray[Any, Any]) -> object:
        if takes_seed:
            return func(data, inplace=True, seed=1, **kwargs)
        return func(data, inplace=True, **kwargs)

    try:
        run(np.empty((8, 8), np.float32))
    except Exception:
        return None
    return run


def families(data: np.ndarray[Any, Any]) -> list[Family]:
    torch, thinc_init, jax = optional("torch"), optional("thinc.initializers"), optional("jax")
    out: list[Family] = []
    if torch is not None:
        torch.set_num_threads(paraminit.get_num_threads())
        tensor = torch.from_numpy(np.empty(SHAPE, np.float32))
        tinit = torch.nn.init
    if thinc_init is not None:
        from thinc.api import NumpyOps

        ops = NumpyOps()
    if jax is not None:
        jax.config.update("jax_platforms", "cpu")
        jinit = jax.nn.initializers
        key = jax.random.PRNGKey(0)

        def jitted(init: Any) -> Callable[[], object]:
            f = jax.jit(lambda k: init(k, SHAPE, jax.numpy.float32))
            return lambda: f(key).block_until_ready()

    rng = np.random.Generator(np.random.PCG64(0))

    def fam(
        name: str,
        ours: str,
        torch_f: Callable[[], object] | None,
        thinc_f: Callable[[], object] | None,
        jax_f: Callable[[], object] | None,
        numpy_f: tuple[str, Callable[[], object]] | None,
        labels: tuple[str, str, str],
        fallback: tuple[str, Callable[[np.ndarray[Any, Any]], object]] | None = None,
        **kwargs: Any,
    ) -> None:
        call = paraminit_call(ours, **kwargs)
        label = ours
        if call is None and fallback is not None:
            label, call = fallback
        f = Family(name, call, label)
        for peer, func, text in (
            ("torch", torch_f, labels[0]),
            ("thinc", thinc_f, labels[1]),
            ("jax", jax_f, labels[2]),
        ):
            if func is not None:
                f.peers[peer] = (text, func)
        if numpy_f is not None:
            f.peers["numpy"] = numpy_f
        out.append(f)

    has_torch, has_thinc, has_jax = torch is not None, thinc_init is not None, jax is not None
    fam(
        "uniform",
        "uniform_init",
        (lambda: tinit.uniform_(tensor, -0.1, 0.1)) if has_torch else None,
        (lambda: thinc_init.uniform_init(ops, SHAPE)) if has_thinc else None,
        jitted(jinit.uniform(0.1)) if has_jax else None,
        ("Generator.random(out=)", lambda: rng.random(out=data, dtype=np.float32)),
        ("uniform_", "uniform_init", "uniform"),
    )
    fam(
        "xavier_uniform",
        "xavier_uniform_init",
        (lambda: tinit.xavier_uniform_(tensor)) if has_torch else None,
        (lambda: thinc_init.glorot_uniform_init(ops, SHAPE)) if has_thinc else None,
        jitted(jinit.glorot_uniform()) if has_jax else None,
        None,
        ("xavier_uniform_", "glorot_uniform_init", "glorot_uniform"),
    )
    fam(
        "he_uniform",
        "he_uniform_init",
        (lambda: tinit.kaiming_uniform_(tensor)) if has_torch else None,
        (lambda: thinc_init.he_uniform_init(ops, SHAPE)) if has_thinc else None,
        jitted(jinit.he_uniform()) if has_jax else None,
        None,
        ("kaiming_uniform_", "he_uniform_init", "he_uniform"),
    )
    fam(
        "normal",
        "normal_init",
        (lambda: tinit.normal_(tensor, 0.0, 1 / 64)) if has_torch else None,
        (lambda: thinc_init.normal_init(ops, SHAPE)) if has_thinc else None,
        jitted(jinit.normal(1 / 64)) if has_jax else None,
        (
            "Generator.standard_normal(out=)",
            lambda: rng.standard_normal(out=data, dtype=np.float32),
        ),
        ("normal_", "normal_init", "normal"),
    )
    fam(
        "he_normal",
        "he_normal_init",
        (lambda: tinit.kaiming_normal_(tensor)) if has_torch else None,
        (lambda: thinc_init.he_normal_init(ops, SHAPE)) if has_thinc else None,
        jitted(jinit.he_normal()) if has_jax else None,
        None,
        ("kaiming_normal_", "he_normal_init", "he_normal"),
    )
    fam(
        "xavier_normal",
        "xavier_normal_init",
        (lambda: tinit.xavier_normal_(tensor)) if has_torch else None,
        (lambda: thinc_init.glorot_normal_init(ops, SHAPE)) if has_thinc else None,
        jitted(jinit.glorot_normal()) if has_jax else None,
        None,
        ("xavier_normal_", "glorot_normal_init", "glorot_normal"),
    )
    truncated = engine.TruncatedNormal(0.0, 0.02, -0.04, 0.04)
    fam(
        "truncated_normal",
        "truncated_normal_init",
        (lambda: tinit.trunc_normal_(tensor, 0.0, 0.02, -0.04, 0.04)) if has_torch else None,
        None,
        jitted(jinit.truncated_normal(0.02)) if has_jax else None,
        None,
        ("trunc_normal_", "-", "truncated_normal"),
        fallback=("engine.fill(TruncatedNormal)", lambda d: engine.fill(d, truncated, 1)),
    )
    fam(
        "zero",
        "zero_init",
        (lambda: tinit.zeros_(tensor)) if has_torch else None,
        (lambda: thinc_init.zero_init(ops, SHAPE)) if has_thinc else None,
        jitted(jinit.zeros) if has_jax else None,
        ("ndarray.fill(0)", lambda: data.fill(0.0)),
        ("zeros_", "zero_init", "zeros"),
    )
    fam(
        "constant",
        "constant_init",
        (lambda: tinit.constant_(tensor, 0.5)) if has_torch else None,
        None,
        jitted(jinit.constant(0.5)) if has_jax else None,
        ("ndarray.fill(0.5)", lambda: data.fill(0.5)),
        ("constant_", "-", "constant"),
        value=0.5,
    )
    return out


def throughput_table(repeat: int) -> list[str]:
    data = np.empty(SHAPE, np.float32)
    rows = [
        "| family | paraminit (M el/s) | " + " | ".join(PEERS) + " |",
        "|---|---|" + "---|" * len(PEERS),
    ]
    for f in families(data):
        if f.ours is None:
            rows.append(f"| {f.name} | not on this build | " + " | ".join("" for _ in PEERS) + " |")
            continue
        peers = [p for p in PEERS if p in f.peers]
        ours_call = f.ours
        contenders = [lambda c=ours_call: c(data), *(f.peers[p][1] for p in peers)]
        times = best_times(contenders, repeat, settle=0.05)
        ours = N / times[0] / 1e6
        cells = []
        for peer in PEERS:
            if peer not in f.peers:
                cells.append("-")
                continue
            label = f.peers[peer][0]
            theirs = N / times[1 + peers.index(peer)] / 1e6
            cells.append(f"{label}: {theirs:,.0f} → **{ours / theirs:.2f}x**")
        name = f.name if f.ours_label.endswith("_init") else f"{f.name} ({f.ours_label})"
        rows.append(f"| {name} | {ours:,.0f} | " + " | ".join(cells) + " |")
        gc.collect()
    return rows


def per_call_table(repeat: int) -> list[str]:
    torch = optional("torch")
    rows = [
        "| shape | uniform_init inplace | uniform_init new array | torch uniform_ | ratio |",
        "|---|---|---|---|---|",
    ]
    for shape, number in (((64,), 20000), ((256, 256), 300)):
        a = np.empty(shape, np.float32)
        funcs: list[Callable[[], object]] = [
            lambda a=a: paraminit.uniform_init(a, inplace=True),
            lambda a=a: paraminit.uniform_init(a),
        ]
        if torch is not None:
            t = torch.empty(shape)
            funcs.append(lambda t=t: torch.nn.init.uniform_(t))
        times = best_times(funcs, repeat, number)
        inplace, new = times[0], times[1]
        if torch is not None:
            theirs = times[2]
            cells = f"{theirs * 1e6:.2f} µs | {inplace / theirs:.2f}x (new: {new / theirs:.2f}x)"
        else:
            cells = "skipped | -"
        rows.append(f"| {shape} | {inplace * 1e6:.2f} µs | {new * 1e6:.2f} µs | {cells} |")
    return rows


def threads_table(repeat: int) -> list[str]:
    data = np.empty(1 << 24, np.float32)
    rows = [
        "| family (16M float32) | 1 thread (M el/s) | 2 threads | speed-up |",
        "|---|---|---|---|",
    ]
    cases = [
        ("uniform", lambda: paraminit.uniform_init(data, inplace=True, seed=1)),
        ("normal", lambda: paraminit.normal_init(data, 4096, inplace=True, seed=1)),
    ]
    for name, func in cases:

        def with_threads(n: int, func: Callable[[], object] = func) -> Callable[[], object]:
            def run() -> object:
                paraminit.set_num_threads(n)
                return func()

            return run

        try:
            one, two = best_times([with_threads(1), with_threads(2)], repeat)
        finally:
            paraminit.set_num_threads(None)
        speed = {1: data.size / one / 1e6, 2: data.size / two / 1e6}
        rows.append(f"| {name} | {speed[1]:,.0f} | {speed[2]:,.0f} | {speed[2] / speed[1]:.2f}x |")
    return rows


def _traced_peak(func: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _rss_peak_delta(func: Callable[[], object]) -> int | None:
    """Peak resident memory growth during ``func`` (Linux), for allocators tracemalloc misses."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # reset the peak (VmHWM) to the current RSS
    except OSError:
        return None

    def read(key: str) -> int:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
        return 0

    before = read("VmRSS:")
    func()
    return read("VmHWM:") - before


def memory_table(gib: float) -> list[str]:
    elements = int(gib * (1 << 30)) // 4
    shape = (elements // 4096, 4096)
    data = np.zeros(shape, np.float32)  # touched, so RSS deltas are temporaries only
    rows = [f"| case ({gib:g} GiB float32) | peak temporaries |", "|---|---|"]
    names = [
        "uniform_init",
        "xavier_uniform_init",
        "he_uniform_init",
        "normal_init",
        "he_normal_init",
        "xavier_normal_init",
        "truncated_normal_init",
        "zero_init",
        "constant_init",
    ]
    for name in names:
        call = paraminit_call(name, **({"value": 0.5} if name == "constant_init" else {}))
        if call is None:
            continue
        peak = _traced_peak(lambda call=call: call(data))
        rows.append(f"| {name}(inplace=True) | {peak / 2**20:.1f} MiB |")
    truncated = engine.TruncatedNormal(0.0, 0.02, -0.04, 0.04)
    peak = _traced_peak(lambda: engine.fill(data, truncated, 1))
    rows.append(f"| engine.fill(TruncatedNormal) in place | {peak / 2**20:.1f} MiB |")
    peak = _traced_peak(lambda: paraminit.uniform_init(data))
    rows.append(
        f"| uniform_init(inplace=False) | result + {(peak - data.nbytes) / 2**20:.1f} MiB |"
    )
    torch = optional("torch")
    if torch is not None:
        tensor = torch.from_numpy(data)
        for label, func in (
            ("torch trunc_normal_", lambda: torch.nn.init.trunc_normal_(tensor, 0, 0.02)),
            ("torch uniform_", lambda: torch.nn.init.uniform_(tensor)),
        ):
            delta = _rss_peak_delta(func)
            if delta is not None:
                rows.append(f"| {label} (peak RSS growth) | {max(delta, 0) / 2**20:.1f} MiB |")
        delta = _rss_peak_delta(lambda: engine.fill(data, truncated, 1))
        if delta is not None:
            mib = max(delta, 0) / 2**20
            rows.append(f"| engine.fill(TruncatedNormal) (peak RSS growth) | {mib:.1f} MiB |")
    return rows


def header() -> list[str]:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpu = platform.processor() or platform.machine()
    lines = [
        f"- CPUs usable: {cpus} ({cpu}), paraminit threads: {paraminit.get_num_threads()}",
        f"- python {platform.python_version()}, numpy {np.__version__}, "
        f"paraminit {paraminit.__version__}",
    ]
    for peer, module in (("torch", "torch"), ("thinc", "thinc"), ("jax", "jax")):
        mod = optional(module)
        version = getattr(mod, "__version__", None) if mod is not None else None
        lines.append(f"- {peer}: {version if version else 'skipped (not installed)'}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller memory case")
    parser.add_argument("--repeat", type=int, default=None, help="repeats per timing (best of)")
    parser.add_argument("--memory-gib", type=float, default=None, help="size of the memory case")
    parser.add_argument("--threads-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--per-call-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 7)
    gib = args.memory_gib or (0.25 if args.quick else 1.0)
    if args.threads_only:
        print("\n".join(threads_table(repeat)))
        return
    if args.per_call_only:
        print("\n".join(per_call_table(repeat)))
        return

    def fresh(flag: str) -> list[str]:
        """A section run in a fresh process: no other peer's threads or caches around."""
        command = [sys.executable, __file__, flag, "--repeat", str(repeat)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        return done.stdout.splitlines()

    sections = [
        ("Machine", header()),
        (
            f"Throughput on {SHAPE[0]}x{SHAPE[1]} float32 (ratio = paraminit / peer)",
            throughput_table(repeat),
        ),
        ("Per call on small arrays (a separate process, torch only)", fresh("--per-call-only")),
        ("Threads (a separate process, no peer imported)", fresh("--threads-only")),
        ("Peak temporary memory", memory_table(gib)),
    ]
    for title, lines in sections:
        print(f"\n### {title}\n")
        print("\n".join(lines))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
