"""The command line: parse arguments, call the public API, print.

``paraminit [CONFIG]`` resolves a config whose ``[arrays]`` section lists arrays
(``shape``, ``dtype`` and an ``init`` block), initializes each and prints a
summary row per array.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from confection import Config, ConfigValidationError

from .registry import registry


def summarize(config: Config) -> list[dict[str, object]]:
    """Initialize every array of ``config["arrays"]``; one summary dict per array."""
    resolved = registry.resolve(config)
    rows = []
    for name, spec in resolved.get("arrays", {}).items():
        init = spec["init"]
        array = init(np.empty(tuple(spec["shape"]), dtype=spec.get("dtype", "float32")))
        rows.append(
            {
                "name": name,
                "shape": array.shape,
                "dtype": str(array.dtype),
                "initializer": getattr(init, "name", repr(init)),
                "mean": float(array.mean()),
                "std": float(array.std()),
                "min": float(array.min()),
                "max": float(array.max()),
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="paraminit", description=__doc__)
    parser.add_argument("config", nargs="?", default="configs/default.cfg", type=Path)
    args = parser.parse_args(argv)
    try:
        config = Config().from_disk(args.config)
    except OSError as err:
        print(f"paraminit: cannot read config {args.config}: {err.strerror}", file=sys.stderr)
        return 2
    try:
        rows = summarize(config)
    except ConfigValidationError as err:
        print(err, file=sys.stderr)
        return 1
    header = f"{'name':<16} {'shape':<14} {'dtype':<8} {'initializer':<24} "
    header += f"{'mean':>9} {'std':>9} {'min':>9} {'max':>9}"
    print(header)
    for r in rows:
        print(
            f"{r['name']:<16} {r['shape']!s:<14} {r['dtype']:<8} {r['initializer']:<24} "
            f"{r['mean']:>9.4f} {r['std']:>9.4f} {r['min']:>9.4f} {r['max']:>9.4f}"
        )
    return 0
