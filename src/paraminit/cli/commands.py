"""The command line's commands: ``list``, ``show``, ``build``, ``diagnose``, ``plot``.

Each takes the parsed arguments and the config overrides, calls the library's
public API and prints through :mod:`.output` and :mod:`.plots`; it returns the exit
status.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..build import Model, build
from ..diagnostics import diagnose
from ..introspect import describe_all, find, known_names
from ..registry import did_you_mean
from .output import (
    EXIT_FLAGGED,
    EXIT_OK,
    BuildProgress,
    UsageError,
    atomic_output,
    check_writable,
    number,
    print_table,
)
from .plots import plot_diagnosis, plot_params

__all__ = ["cmd_build", "cmd_diagnose", "cmd_list", "cmd_plot", "cmd_show"]

PROGRESS_DELAY_ENV = "PARAMINIT_PROGRESS_DELAY"


def _build(args: argparse.Namespace, overrides: dict[str, Any]) -> Model:
    config = Path(args.config)
    if not config.is_file():
        why = "it is a directory" if config.is_dir() else "no such file"
        raise UsageError(f"cannot read config {config}: {why}")
    delay = float(os.environ.get(PROGRESS_DELAY_ENV, "1.0"))
    with BuildProgress(delay) as progress:
        return build(config, seed=args.seed, overrides=overrides, progress=progress)


def cmd_list(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    entries = describe_all()
    if args.json:
        print(json.dumps(entries, indent=2, default=str))
        return EXIT_OK
    for kind in ("initializer", "layer"):
        rows = []
        for entry in (e for e in entries if e["kind"] == kind):
            if "error" in entry:
                rows.append([entry["name"], "-", "", "", "cannot be loaded (see below)"])
                continue
            for i, a in enumerate(entry["arguments"] or [None]):
                name = entry["name"] if i == 0 else ""
                if a is None:
                    rows.append([name, "-", "", "", ""])
                    continue
                default = "required" if a["required"] else repr(a["default"])
                rows.append(
                    [name, a["name"], a["type"], default, "; ".join(a["constraints"]) or "-"]
                )
        print_table(f"{kind}s", ["name", "argument", "type", "default", "constraints"], rows)
    for entry in entries:
        if "error" in entry:
            print(f"paraminit: {entry['error']}", file=sys.stderr)
    return EXIT_OK


def cmd_show(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    entry = find(args.name)
    if entry is None:
        hint = did_you_mean(args.name, known_names())
        raise UsageError(f"no initializer or layer named {args.name!r}{hint}")
    if args.json:
        print(json.dumps(entry, indent=2, default=str))
        return EXIT_OK
    print(f"{entry['name']}  ({entry['kind']}, {entry['function']})")
    print()
    print(entry["doc"] or "(no documentation)")
    print()
    rows = [
        [
            a["name"],
            a["type"],
            "required" if a["required"] else repr(a["default"]),
            "; ".join(a["constraints"]) or "-",
        ]
        for a in entry["arguments"]
    ]
    if rows:
        print_table("arguments", ["argument", "type", "default", "constraints"], rows)
    else:
        print("arguments: none")
    return EXIT_OK


def cmd_build(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    if args.output is not None:
        check_writable(args.output)
    model = _build(args, overrides)
    rows = model.summary()
    if args.output is not None:
        with atomic_output(args.output) as handle:
            np.savez(handle, **model.params)  # type: ignore[arg-type]
    if args.json:
        print(json.dumps({"config": str(args.config), "seed": str(model.seed), "params": rows}))
        return EXIT_OK
    total = sum(a.size for a in model.params.values())
    print_table(
        f"{args.config}: {len(rows)} parameters, {total:,} values, build seed {model.seed}",
        ["path", "shape", "dtype", "initializer", "mean", "std", "expected std", "min", "max"],
        [
            [
                r["path"],
                "x".join(map(str, r["shape"])),
                r["dtype"],
                r["initializer"],
                number(r["mean"]),
                number(r["std"]),
                number(r["expected_std"]),
                number(r["min"]),
                number(r["max"]),
            ]
            for r in rows
        ],
        footer=f"wrote {args.output}" if args.output is not None else "",
        align="lrllrrrrr",
    )
    return EXIT_OK


def cmd_diagnose(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    if args.batch < 2:
        raise UsageError(f"--batch must be at least 2, got {args.batch}")
    if args.plot is not None:
        check_writable(args.plot)
    model = _build(args, overrides)
    diagnosis = diagnose(model, batch=args.batch)
    if args.plot is not None:
        plot_diagnosis(diagnosis, f"{args.config} (build seed {model.seed})", args.plot)
    status = EXIT_FLAGGED if diagnosis.flagged else EXIT_OK
    if args.json:
        data = diagnosis.to_dict()
        data.update(config=str(args.config), seed=str(model.seed))
        print(json.dumps(data))
        return status
    flagged = diagnosis.flagged
    band = f"[{diagnosis.low:g}, {diagnosis.high:g}]"
    footer = (
        f"flagged {len(flagged)} of {len(diagnosis.layers)} layers: std outside {band}x input"
        if flagged
        else f"every layer keeps its std within {band}x input"
    )
    if args.plot is not None:
        footer += f"; wrote {args.plot}"
    print_table(
        f"{args.config}: {diagnosis.input_kind} input, batch {diagnosis.batch}, "
        f"reference std {diagnosis.input_std:.4f}, build seed {model.seed}",
        ["depth", "layer", "kind", "activation", "width", "mean", "std", "ratio", "dead", "flag"],
        [
            [
                str(s.depth),
                s.path,
                s.kind,
                s.activation or "-",
                str(s.width),
                number(s.mean),
                number(s.std),
                number(s.ratio),
                "-" if s.dead_share is None else f"{s.dead_share:.0%}",
                "!" if s.flagged else "",
            ]
            for s in diagnosis.layers
        ],
        footer=footer,
        align="rllrrrrrrl",
    )
    return status


def cmd_plot(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    check_writable(args.output)
    model = _build(args, overrides)
    plot_params(model, f"{args.config} (build seed {model.seed})", args.output)
    print(f"wrote {args.output}: histograms of {len(model.params)} parameters")
    return EXIT_OK
