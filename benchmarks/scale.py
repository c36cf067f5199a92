"""A table larger than comfort: zarr through Dask against the in-memory fill, and verify.

    python benchmarks/scale.py [--log2 30] [--rounds 3] [--dir DIR]

One float32 table of 2**log2 elements (an ``Embed`` of 64 columns, uniform_init):

* fill: ``uniform_init`` on one ``np.empty`` array in memory (allocation included);
* zarr write: ``write_params(DIR/t.zarr, plan(...))``: chunks of 8 MiB made and
  written by Dask's threads, the whole table never in memory;
* storage: the same bytes written as 8 MiB files from one buffer, no values made
  (what the disk and page cache allow; the write cannot beat it);
* verify: ``verify(DIR/t.zarr)`` of the store just written.

Each contender runs in a fresh process, which reports its time and its peak RSS
(``VmHWM``); contenders are interleaved round by round with a fresh seed
each, and the table shows medians with ratios from the same run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, os, resource, sys, time
import numpy as np
kind, log2, seed, directory = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
n = 1 << log2
config = f'''
[model]
@layers = "Embed.v1"
nV = {n // 64}
nO = 64

[model.init]
@initializers = "uniform_init.v1"
'''
store = os.path.join(directory, "t.zarr")
if kind == "fill":
    import paraminit
    start = time.perf_counter()
    out = paraminit.uniform_init(np.empty(n, np.float32), inplace=True, seed=seed)
    seconds = time.perf_counter() - start
elif kind == "write":
    from paraminit.build import plan
    from paraminit.outputs import write_params
    start = time.perf_counter()
    write_params(store, plan(config, seed=seed))
    seconds = time.perf_counter() - start
elif kind == "storage":
    buffer = np.random.default_rng(seed).random(2 << 20, dtype=np.float32)
    os.makedirs(store)
    start = time.perf_counter()
    for i in range(n // buffer.size):
        with open(os.path.join(store, str(i)), "wb") as handle:
            handle.write(buffer.data)
    seconds = time.perf_counter() - start
elif kind == "verify":
    from paraminit.outputs import verify
    start = time.perf_counter()
    report = verify(store)
    seconds = time.perf_counter() - start
    assert report.exit_code == 0, report
try:  # VmHWM, not ru_maxrss, which Linux carries over from the parent across exec
    with open("/proc/self/status") as status:
        peak = int(next(l for l in status if l.startswith("VmHWM:")).split()[1]) * 1024
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak": peak}))
"""


def run(kind: str, log2: int, seed: int, directory: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(log2), str(seed), str(directory)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--log2", type=int, default=30, help="elements = 2**log2 (default 30)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where the store goes")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="paraminit-scale-", dir=args.dir))
    kinds = ["fill", "write", "verify", "storage"]
    results: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    try:
        for round_ in range(args.rounds):
            for kind in kinds:
                results[kind].append(run(kind, args.log2, 1000 + round_, directory))
                if kind in ("verify", "storage"):  # the store is used up
                    shutil.rmtree(directory / "t.zarr")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    nbytes = (1 << args.log2) * 4
    rate = {k: nbytes / statistics.median(r["seconds"] for r in results[k]) for k in kinds}
    peak = {k: max(r["peak"] for r in results[k]) for k in kinds}
    print(f"float32 table of 2**{args.log2} elements ({nbytes / 2**30:g} GiB), ", end="")
    print(f"{args.rounds} rounds, medians")
    print()
    print("| contender | MiB/s | peak RSS (MiB) | peak / table | ratio |")
    print("|---|---|---|---|---|")
    ratios = {
        "fill": "-",
        "write": f"{rate['write'] / rate['fill']:.2f}x the fill",
        "verify": f"{rate['verify'] / rate['write']:.2f}x the write",
        "storage": f"write is {rate['write'] / rate['storage']:.2f}x storage",
    }
    for kind in kinds:
        print(
            f"| {kind} | {rate[kind] / 2**20:,.0f} | {peak[kind] / 2**20:,.0f} | "
            f"{peak[kind] / nbytes:.1%} | {ratios[kind]} |"
        )


if __name__ == "__main__":
    main()
