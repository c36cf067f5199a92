"""The command line's terminal output: tables, the progress bar, and write errors.

Files are written atomically by :mod:`paraminit.outputs.atomic` (parameters through
``write_params``, images through ``atomic_file``); this module only checks an
output early and turns a failed write into one line.

``rich`` (the ``cli`` extra) draws tables and the progress bar when installed; it is
imported only here, only when output is printed, and without it the output is
plain text.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = [
    "CLI_EXTRA",
    "EXIT_CONFIG",
    "EXIT_FLAGGED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Progress",
    "UsageError",
    "check_writable",
    "number",
    "print_table",
    "writing",
]

EXIT_OK, EXIT_CONFIG, EXIT_USAGE, EXIT_FLAGGED = 0, 1, 2, 3
CLI_EXTRA = "pip install 'paraminit[cli]'"


class UsageError(Exception):
    """A problem reported as one line and exit status 2."""


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


def number(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.{digits}f}"
    return f"{value:.{digits - 1}e}"


class Progress:
    """A progress bar on stderr, by parameters and by bytes, once work has run ``delay`` s.

    Shown only on a terminal: with ``rich``, a live bar per phase ("building" by
    parameters, then ``byte_label`` by bytes); without it, one line rewritten in
    place. Off a terminal (pipes, logs) and with ``quiet`` nothing is written.
    ``progress.params`` and ``progress.bytes`` are the callbacks for
    :func:`paraminit.build` and for :func:`paraminit.outputs.write_params` /
    ``verify``, all ``(done, total, name)``.
    """

    def __init__(self, delay: float, *, quiet: bool = False, byte_label: str = "writing") -> None:
        self.delay = delay
        self.shown = not quiet and sys.stderr.isatty()
        self.labels = {"params": "building", "bytes": byte_label}
        self.lock = threading.Lock()
        self.state: dict[str, tuple[int, int, str]] = {}  # phase -> (done, total, name)
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}
        self.started = False
        self.timer: threading.Timer | None = None

    def __enter__(self) -> Progress:
        if not self.shown:
            return self
        if self.delay <= 0:
            self.start()
        else:
            self.timer = threading.Timer(self.delay, self.start)
            self.timer.daemon = True
            self.timer.start()
        return self

    def start(self) -> None:
        with self.lock:
            if self.started:
                return
            self.started = True
            rich = _rich()
            if rich is not None:
                self.bar = rich.progress.Progress(
                    rich.progress.TextColumn("{task.fields[label]}"),
                    rich.progress.BarColumn(),
                    rich.progress.TextColumn("{task.fields[count]}"),
                    rich.progress.TextColumn("{task.description}"),
                    console=rich.console.Console(file=sys.stderr),
                    transient=True,
                )
                self.bar.start()
            for phase in self.state:
                self._show(phase)

    def _count(self, phase: str, done: int, total: int) -> str:
        if phase == "params":
            return f"{done}/{total}"
        power = min(4, max(0, (total.bit_length() - 1) // 10))  # the unit of the total
        unit = 1 << (10 * power)
        return f"{done / unit:,.1f}/{total / unit:,.1f} {('B', 'KiB', 'MiB', 'GiB', 'TiB')[power]}"

    def _show(self, phase: str) -> None:
        """Draw ``phase``'s state (the lock is held)."""
        done, total, name = self.state[phase]
        count = self._count(phase, done, total)
        if self.bar is None:
            sys.stderr.write(f"\r{self.labels[phase]} {count} {name}\x1b[K")
            sys.stderr.flush()
            return
        if phase not in self.tasks:
            self.tasks[phase] = self.bar.add_task(
                name, total=total or None, label=self.labels[phase], count=count
            )
        self.bar.update(
            self.tasks[phase], completed=done, total=total, description=name, count=count
        )

    def _report(self, phase: str, done: int, total: int, name: str) -> None:
        if not self.shown:
            return
        with self.lock:
            self.state[phase] = (done, total, name)
            if self.started:
                self._show(phase)

    def params(self, done: int, total: int, path: str) -> None:
        self._report("params", done, total, path)

    def bytes(self, done: int, total: int, name: str) -> None:
        self._report("bytes", done, total, name)

    def __exit__(self, *exc: object) -> None:
        if self.timer is not None:
            self.timer.cancel()
        with self.lock:
            if self.bar is not None:
                self.bar.stop()
            elif self.started and self.state:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()


def check_writable(path: Path) -> None:
    """Fail early (before any work) when ``path`` cannot be written.

    An existing ``.zarr`` output must be a zarr store (it is replaced whole);
    any other output must not be a directory.
    """
    parent = path.parent if str(path.parent) else Path(".")
    if path.suffix.lower() == ".zarr":
        if path.exists() and not (path / "zarr.json").is_file():
            raise UsageError(f"cannot write {path}: it exists and is not a zarr store")
    elif path.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"cannot write {path}: directory {parent} is not writable")


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Report an ``OSError`` while writing ``path`` as one line (exit 2)."""
    try:
        yield
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
