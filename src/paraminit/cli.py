"""The ``paraminit`` command: argument parsing and printing around the public API.

Subcommands: ``list``, ``show NAME``, ``build CONFIG``, ``diagnose CONFIG`` and
``plot CONFIG``; ``paraminit COMMAND --help`` says more. Tables and the progress bar
use ``rich`` and plots use ``matplotlib`` (the ``cli`` extra); both are imported
only when needed, and without ``rich`` the output is plain text.

Exit status: 0 success; 1 the config is invalid or cannot be built (the error
lists every bad field with its path); 2 a usage problem (missing file, bad
override, unknown name, unwritable output, missing extra); 3 ``diagnose``
flagged a layer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
from confection import ConfigValidationError

from .build import Model, OverrideError, build, parse_override_value
from .diagnostics import Diagnosis, diagnose, expected_density
from .introspect import describe_all, find, known_names
from .registry import PluginError, did_you_mean

__all__ = ["main"]

EXIT_OK, EXIT_CONFIG, EXIT_USAGE, EXIT_FLAGGED = 0, 1, 2, 3
PROGRESS_DELAY_ENV = "PARAMINIT_PROGRESS_DELAY"
CLI_EXTRA = "pip install 'paraminit[cli]'"


class UsageError(Exception):
    """A problem reported as one line and exit status 2."""


# --------------------------------------------------------------------------- output


def _rich() -> Any:
    """The ``rich`` package, or ``None`` when it is not installed."""
    try:
        import rich.console
        import rich.progress
        import rich.table
    except ImportError:
        return None
    return rich


def _console(stream: IO[str]) -> Any:
    rich = _rich()
    if rich is None:
        return None
    # Off a terminal (pipes, files) rich would wrap tables at 80 columns.
    width = None if stream.isatty() else 200
    return rich.console.Console(file=stream, width=width, highlight=False, soft_wrap=False)


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    footer: str = "",
    align: str = "",
) -> None:
    """A table on stdout: ``rich`` when installed, aligned plain text otherwise.

    ``align`` has one letter per column, ``l`` or ``r`` (default: all left).
    """
    align = align.ljust(len(columns), "l")
    console = _console(sys.stdout)
    if console is not None:
        rich = _rich()
        table = rich.table.Table(
            title=title, title_justify="left", caption=footer or None, caption_justify="left"
        )
        for i, column in enumerate(columns):
            justify = "right" if align[i] == "r" else "left"
            last = i == len(columns) - 1  # the one column allowed to wrap
            table.add_column(column, justify=justify, no_wrap=not last, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if align[i] == "r" else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print(title)
    print(line(columns))
    for row in rows:
        print(line(row))
    if footer:
        print(footer)


def _num(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.{digits}f}"
    return f"{value:.{digits - 1}e}"


class BuildProgress:
    """A progress bar on stderr that appears once a build has run for ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.done, self.total, self.path = 0, 0, ""
        self.bar: Any = None
        self.task: Any = None
        self.plain = False
        self.timer: threading.Timer | None = None

    def __enter__(self) -> BuildProgress:
        if self.delay <= 0:
            self.start()
        else:
            self.timer = threading.Timer(self.delay, self.start)
            self.timer.daemon = True
            self.timer.start()
        return self

    def start(self) -> None:
        with self.lock:
            if self.bar is not None or self.plain:
                return
            rich = _rich()
            if rich is None or not sys.stderr.isatty():
                # A live bar needs a terminal; logs get a line at the start and the end.
                self.plain = True
                sys.stderr.write("paraminit: building parameters...\n")
                sys.stderr.flush()
                return
            self.bar = rich.progress.Progress(
                rich.progress.TextColumn("building"),
                rich.progress.BarColumn(),
                rich.progress.MofNCompleteColumn(),
                rich.progress.TextColumn("{task.description}"),
                console=rich.console.Console(file=sys.stderr),
                transient=True,
            )
            self.task = self.bar.add_task(self.path, total=self.total or None)
            self.bar.update(self.task, completed=self.done)
            self.bar.start()

    def __call__(self, done: int, total: int, path: str) -> None:
        with self.lock:
            self.done, self.total, self.path = done, total, path
            if self.bar is not None:
                self.bar.update(self.task, completed=done, total=total, description=path)
            elif self.plain and sys.stderr.isatty():
                sys.stderr.write(f"\rbuilding {done}/{total} {path}\x1b[K")

    def __exit__(self, *exc: object) -> None:
        if self.timer is not None:
            self.timer.cancel()
        with self.lock:
            if self.bar is not None:
                self.bar.stop()
            elif self.plain:
                clear = "\r\x1b[K" if sys.stderr.isatty() else ""
                sys.stderr.write(f"{clear}paraminit: built {self.done} parameters\n")


# --------------------------------------------------------------------------- files


def _check_writable(path: Path) -> None:
    """Fail early (before any work) when ``path`` cannot be written."""
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"cannot write {path}: directory {parent} is not writable")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """Write to a temporary file beside ``path``; replace ``path`` only on success."""
    _check_writable(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        # mkstemp creates the file 0600; give it the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _pyplot_figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(f"plotting needs matplotlib: {CLI_EXTRA}") from None
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save_figure(figure: Any, path: Path) -> None:
    fmt = path.suffix.lstrip(".").lower() or "png"
    with _atomic_output(path) as handle:
        figure.savefig(handle, format=fmt, dpi=100)


# --------------------------------------------------------------------------- commands


def _build(args: argparse.Namespace, overrides: dict[str, Any]) -> Model:
    config = Path(args.config)
    if not config.is_file():
        why = "it is a directory" if config.is_dir() else "no such file"
        raise UsageError(f"cannot read config {config}: {why}")
    delay = float(os.environ.get(PROGRESS_DELAY_ENV, "1.0"))
    with BuildProgress(delay) as progress:
        return build(config, seed=args.seed, overrides=overrides, progress=progress)


def _param_rows(model: Model) -> list[dict[str, Any]]:
    rows = []
    for path, array in model.params.items():
        info = model.info[path]
        if info.init is None:
            expected: float | None = 0.0
        else:
            density = expected_density(info.init, array.shape)
            expected = None if density is None else density.std
        values = array.astype(np.float64)
        rows.append(
            {
                "path": path,
                "shape": list(array.shape),
                "dtype": str(array.dtype),
                "initializer": info.init_name,
                "seed": None if info.seed is None else str(info.seed),
                "mean": float(values.mean()),
                "std": float(values.std()),
                "expected_std": expected,
                "min": float(values.min()),
                "max": float(values.max()),
            }
        )
    return rows


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
        _check_writable(args.output)
    model = _build(args, overrides)
    rows = _param_rows(model)
    if args.output is not None:
        with _atomic_output(args.output) as handle:
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
                _num(r["mean"]),
                _num(r["std"]),
                _num(r["expected_std"]),
                _num(r["min"]),
                _num(r["max"]),
            ]
            for r in rows
        ],
        footer=f"wrote {args.output}" if args.output is not None else "",
        align="lrllrrrrr",
    )
    return EXIT_OK


def _plot_diagnosis(diagnosis: Diagnosis, title: str, path: Path) -> None:
    figure = _pyplot_figure(7.0, 4.0)
    axes = figure.add_subplot()
    depth = [0] + [layer.depth for layer in diagnosis.layers]
    ratio = [1.0] + [max(layer.ratio, 1e-30) for layer in diagnosis.layers]
    axes.axhspan(diagnosis.low, diagnosis.high, color="tab:green", alpha=0.12, label="kept")
    axes.plot(depth, ratio, marker="o", color="tab:blue", label="std / input std")
    for layer in diagnosis.flagged:
        axes.plot(layer.depth, max(layer.ratio, 1e-30), marker="o", color="tab:red")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axes.set_yscale("log")
    low = min(min(ratio), diagnosis.low) / 1.5
    high = max(max(ratio), diagnosis.high) * 1.5
    axes.set_ylim(low, high)
    axes.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("layer depth")
    axes.set_ylabel("activation std / input std")
    axes.set_title(title)
    axes.legend(loc="best")
    _save_figure(figure, path)


def cmd_diagnose(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    if args.batch < 2:
        raise UsageError(f"--batch must be at least 2, got {args.batch}")
    if args.plot is not None:
        _check_writable(args.plot)
    model = _build(args, overrides)
    diagnosis = diagnose(model, batch=args.batch)
    if args.plot is not None:
        _plot_diagnosis(diagnosis, f"{args.config} (build seed {model.seed})", args.plot)
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
                _num(s.mean),
                _num(s.std),
                _num(s.ratio),
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
    _check_writable(args.output)
    model = _build(args, overrides)
    paths = list(model.params)
    columns = min(4, len(paths))
    rows = math.ceil(len(paths) / columns)
    figure = _pyplot_figure(3.4 * columns, 2.6 * rows)
    for i, path in enumerate(paths):
        axes = figure.add_subplot(rows, columns, i + 1)
        _plot_param(axes, path, model)
    figure.suptitle(f"{args.config} (build seed {model.seed})")
    _save_figure(figure, args.output)
    print(f"wrote {args.output}: histograms of {len(paths)} parameters")
    return EXIT_OK


def _plot_param(axes: Any, path: str, model: Model) -> None:
    values = model.params[path].astype(np.float64).ravel()
    info = model.info[path]
    axes.set_title(f"{path}\n{info.init_name}", fontsize=8)
    axes.tick_params(labelsize=7)
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        axes.axvline(lo, color="tab:blue", linewidth=3)
        axes.set_xlim(lo - 1, hi + 1)
        axes.set_yticks([])
        return
    axes.hist(values, bins=min(60, max(10, values.size // 20)), density=True, color="tab:blue")
    density = expected_density(info.init, model.params[path].shape)
    if density is None:
        return
    pad = (hi - lo) * 0.05
    x = np.linspace(lo - pad, hi + pad, 400)
    y = density.pdf(x)
    if y is not None:
        axes.plot(x, y, color="tab:red", linewidth=1.5, label="expected")


# --------------------------------------------------------------------------- parsing


def _parse_overrides(extra: Sequence[str]) -> dict[str, Any]:
    """``--section.key=value`` or ``--section.key value`` pairs, as confection reads them."""
    overrides: dict[str, Any] = {}
    items = list(extra)
    while items:
        item = items.pop(0)
        if not item.startswith("--") or "." not in item.split("=", 1)[0]:
            raise UsageError(
                f"unrecognized argument {item!r} (overrides look like --section.key=value)"
            )
        key, sep, value = item[2:].partition("=")
        if not sep:
            if not items:
                raise UsageError(f"override --{key} has no value (write --{key}=value)")
            value = items.pop(0)
        overrides[key] = parse_override_value(value)
    return overrides


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paraminit",
        description="Neural-network parameter initializers for config-driven models.",
        epilog="Exit status: 0 ok, 1 invalid config, 2 usage error, 3 diagnose flagged a layer.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="every registered initializer and layer, plugins included")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("show", help="the documentation and arguments of one function")
    p.add_argument("name", help="a registered name, e.g. uniform_init.v1 or Linear")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_show)

    def config_command(name: str, help: str, handler: Callable[..., int]) -> Any:
        p = sub.add_parser(
            name,
            help=help,
            description=f"{help}. Settings of the config can be overridden with "
            "--section.key=value (e.g. --vars.width=64).",
        )
        p.add_argument("config", type=Path, help="a .cfg file with a [model] section")
        p.add_argument("--seed", type=_seed, default=None, help="build seed (default: random)")
        p.set_defaults(handler=handler)
        return p

    p = config_command("build", "build a config's model and summarize its parameters", cmd_build)
    p.add_argument("--output", type=Path, help="write the parameters to this .npz file")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = config_command("diagnose", "feed standard-normal input through a model", cmd_diagnose)
    p.add_argument("--batch", type=int, default=1024, help="rows of input (default 1024)")
    p.add_argument("--plot", type=Path, help="draw std against depth into this image")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = config_command("plot", "histogram every parameter with its expected density", cmd_plot)
    p.add_argument("--output", type=Path, required=True, help="the image to write (.png)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    try:
        if extra and args.command in ("list", "show"):
            raise UsageError(f"unrecognized arguments: {' '.join(extra)}")
        overrides = _parse_overrides(extra)
        status: int = args.handler(args, overrides)
        return status
    except ConfigValidationError as err:
        print(str(err).strip("\n"), file=sys.stderr)
        return EXIT_CONFIG
    except (UsageError, OverrideError, PluginError) as err:
        print(f"paraminit: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        where = f" {err.filename}" if err.filename else ""
        print(f"paraminit: cannot read{where}: {err.strerror or err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("paraminit: interrupted", file=sys.stderr)
        return 130
