"""The command line's commands: ``list``, ``show``, ``build``, ``verify``, ``diagnose``, ``plot``.

Each takes the parsed arguments and the config overrides, calls the library's
public API and prints through :mod:`.output` and :mod:`.plots`; it returns the exit
status.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..build import BuildPlan, Model, build, plan
from ..dask import DASK_EXTRA
from ..diagnostics import diagnose
from ..engine import get_num_threads
from ..engine.native import native
from ..introspect import describe_all, find, known_names
from ..outputs import ParamCheck, VerifyReport, verify, write_params
from ..outputs.formats import file_format
from ..registry import did_you_mean
from .output import (
    EXIT_FLAGGED,
    EXIT_OK,
    Progress,
    UsageError,
    check_writable,
    number,
    print_table,
    writing,
)
from .plots import check_image_format, plot_diagnosis, plot_params

__all__ = ["cmd_build", "cmd_diagnose", "cmd_list", "cmd_plot", "cmd_show", "cmd_verify"]

PROGRESS_DELAY_ENV = "PARAMINIT_PROGRESS_DELAY"
#: Seconds to wait for a ``--scheduler`` to answer before giving up.
SCHEDULER_TIMEOUT = 10


def _check_config(args: argparse.Namespace) -> Path:
    config = Path(args.config)
    if not config.is_file():
        why = "it is a directory" if config.is_dir() else "no such file"
        raise UsageError(f"cannot read config {config}: {why}")
    try:  # PARAMINIT_NUM_THREADS and PARAMINIT_NATIVE: the environment's fault, not the config's
        get_num_threads()
        native()
    except (ValueError, ImportError) as err:
        raise UsageError(str(err)) from None
    return config


def _build(args: argparse.Namespace, overrides: dict[str, Any], progress: Progress) -> Model:
    config = _check_config(args)
    return build(config, seed=args.seed, overrides=overrides, progress=progress.params)


def _progress(args: argparse.Namespace, byte_label: str = "writing") -> Progress:
    return Progress(_progress_delay(), quiet=args.quiet, byte_label=byte_label)


def _progress_delay() -> float:
    text = os.environ.get(PROGRESS_DELAY_ENV, "")
    if not text.strip():
        return 1.0
    try:
        delay = float(text)
    except ValueError:
        delay = math.nan
    if not (math.isfinite(delay) and delay >= 0):
        raise UsageError(
            f"{PROGRESS_DELAY_ENV} must be a finite number of seconds >= 0, got {text!r}"
        )
    return delay


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
    if "error" in entry:  # a broken plugin: shown with its error, as `list` does
        print(f"{entry['name']}  ({entry['kind']}, cannot be loaded)")
        print()
        print(entry["error"])
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


def _output_format(path: Path) -> str:
    """The format of ``--output`` (checked before any work), its extra importable."""
    try:
        kind = file_format(path)
    except ValueError:
        raise UsageError(
            f"cannot write {path}: unknown output format {path.suffix or '(no extension)'!r} "
            "(use .npz, .safetensors or .zarr)"
        ) from None
    if kind == "zarr":
        try:
            import dask  # noqa: F401
            import zarr  # noqa: F401
        except ImportError:
            raise UsageError(f".zarr outputs need Dask and zarr: {DASK_EXTRA}") from None
    return kind


def _check_scheduler(args: argparse.Namespace, path: Path | None, flag: str) -> None:
    if args.scheduler is not None and (path is None or path.suffix.lower() != ".zarr"):
        raise UsageError(f"--scheduler works on .zarr stores only; {flag} is {path}")


@contextlib.contextmanager
def _scheduler(address: str | None) -> Iterator[Any]:
    """A ``distributed.Client`` of ``--scheduler``, connected before any work; else ``None``."""
    if address is None:
        yield None
        return
    try:
        import distributed
        from distributed.comm.addressing import parse_address
        from distributed.comm.registry import get_backend
    except ImportError:
        raise UsageError(f"--scheduler needs distributed: {DASK_EXTRA}") from None
    try:
        # An unknown scheme first: a Client refused for it lingers and times out at exit.
        get_backend(parse_address(address)[0])
        connect: Any = distributed.Client  # untyped
        client = connect(address, set_as_default=False, timeout=SCHEDULER_TIMEOUT)
    except (OSError, ValueError, TypeError) as err:  # refused, timed out, a bad address
        reason = " ".join(str(err).split()) or type(err).__name__
        raise UsageError(f"cannot reach the scheduler {address!r}: {reason}") from None
    with client:
        yield client


def cmd_build(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    output: Path | None = args.output
    kind = None
    if output is not None:
        kind = _output_format(output)
        check_writable(output)
    _check_scheduler(args, output, "--output")
    config = _check_config(args)
    progress = _progress(args)
    with _scheduler(args.scheduler) as client, progress:
        made: Model | BuildPlan
        if kind == "zarr":  # made chunk by chunk while writing: never whole in memory
            made = plan(config, seed=args.seed, overrides=overrides)
        else:
            made = build(config, seed=args.seed, overrides=overrides, progress=progress.params)
        rows = made.summary()
        if output is not None:
            with writing(output):
                write_params(output, made, progress=progress.bytes, scheduler=client)
    if args.json:
        print(json.dumps({"config": str(args.config), "seed": str(made.seed), "params": rows}))
        return EXIT_OK
    total = sum(math.prod(r["shape"]) for r in rows)
    stats = ["mean", "std", "expected_std", "min", "max"]
    if kind == "zarr":
        stats = ["expected_std"]  # the values were written, never held
    print_table(
        f"{args.config}: {len(rows)} parameters, {total:,} values, build seed {made.seed}",
        ["path", "shape", "dtype", "initializer", *(s.replace("_", " ") for s in stats)],
        [
            [
                r["path"],
                "x".join(map(str, r["shape"])),
                r["dtype"],
                r["initializer"],
                *(number(r[s]) for s in stats),
            ]
            for r in rows
        ],
        footer=f"wrote {output}" if output is not None else "",
        align="lrll" + "r" * len(stats),
    )
    return EXIT_OK


def _verdict(check: ParamCheck) -> str:
    if check.note:
        return f"could not compare: {check.note}"
    if check.differing:
        size = math.prod(check.shape)
        return f"differs: {check.differing:,} of {size:,} values"
    return "identical"


def cmd_verify(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    path: Path = args.file
    try:
        file_format(path)
    except ValueError:
        raise UsageError(
            f"cannot verify {path}: unknown format {path.suffix or '(no extension)'!r} "
            "(paraminit writes .npz, .safetensors and .zarr)"
        ) from None
    if not path.exists():
        raise UsageError(f"cannot verify {path}: no such file")
    _check_scheduler(args, path, "FILE")
    progress = _progress(args, "verifying")
    with _scheduler(args.scheduler) as client, progress:
        report: VerifyReport = verify(path, scheduler=client, progress=progress.bytes)
    if report.error is not None:
        print(f"paraminit: {' '.join(report.error.split())}", file=sys.stderr)
        return report.exit_code
    if args.json:
        checks = [
            {
                "path": c.name,
                "shape": list(c.shape),
                "identical": c.identical,
                "differing": c.differing,
                "note": c.note or None,
            }
            for c in report.params
        ]
        assert report.provenance is not None
        print(
            json.dumps({"file": str(path), "seed": str(report.provenance.seed), "params": checks})
        )
        return report.exit_code
    bad = [c for c in report.params if not c.identical]
    summary = (
        f"every one of {len(report.params)} parameters is bit-identical"
        if not bad
        else f"{len(bad)} of {len(report.params)} parameters do not match"
    )
    print_table(
        f"{path}: recomputed from its provenance",
        ["path", "shape", "verdict"],
        [[c.name, "x".join(map(str, c.shape)), _verdict(c)] for c in report.params],
    )
    print(summary)
    return report.exit_code


def cmd_diagnose(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    if args.batch < 2:
        raise UsageError(f"--batch must be at least 2, got {args.batch}")
    if args.plot is not None:
        check_writable(args.plot)
        check_image_format(args.plot)
    with _progress(args) as progress:
        model = _build(args, overrides, progress)
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
    check_image_format(args.output)
    with _progress(args) as progress:
        model = _build(args, overrides, progress)
    plot_params(model, f"{args.config} (build seed {model.seed})", args.output)
    print(f"wrote {args.output}: histograms of {len(model.params)} parameters")
    return EXIT_OK
