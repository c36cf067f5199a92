"""The command line's terminal output and files: tables, the progress bar, atomic writes.

``rich`` (the ``cli`` extra) draws tables and the progress bar when installed; it is
imported only here, only when output is printed, and without it the output is
plain text.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
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
    "BuildProgress",
    "UsageError",
    "atomic_output",
    "check_writable",
    "number",
    "print_table",
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


def check_writable(path: Path) -> None:
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
def atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """Write to a temporary file beside ``path``; replace ``path`` only on success."""
    check_writable(path)
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
