"""Atomic outputs: a file or a directory appears whole under its name, or not at all.

A single file is written, on Linux, into an unnamed file (``O_TMPFILE``) in the
target's directory and given a name (``linkat``) only once it is complete, then
renamed over the target: a process killed by any signal, SIGKILL included, leaves
no name behind (except in the microseconds between link and rename). Elsewhere,
and on filesystems without ``O_TMPFILE``, the temporary is a named file.

A directory (a zarr store) is written under a temporary name beside the target
and swapped in with one rename (``renameat2(RENAME_EXCHANGE)`` on Linux when the
target exists). A SIGKILL mid-write leaves that temporary behind.

Temporaries are named ``.<target name>.paraminit-<pid>-<random>.tmp``; the next
write to the same target removes those whose process is gone. SIGTERM is handled
like Ctrl-C during a write, so the temporary is removed before the process exits.
An output path that is a symbolic link is written through, as ``cp`` does: the
link stays and its target gets the new content.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

__all__ = [
    "TempFile",
    "atomic_directory",
    "atomic_file",
    "remove_stale_temporaries",
    "resolve_target",
    "terminate_as_interrupt",
]

TEMP_MARK = ".paraminit-"
_RENAME_EXCHANGE = 2


@dataclass(frozen=True)
class TempFile:
    """The file being written: a binary handle, and a path libraries can open by name."""

    handle: IO[bytes]
    path: str


def resolve_target(path: str | os.PathLike[str]) -> Path:
    """Where writing ``path`` puts the data: through a symbolic link, as ``cp`` does."""
    target = Path(path)
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def _temp_name(target: Path) -> Path:
    return target.with_name(f".{target.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove temporaries of ``target`` left by processes that no longer run; return them."""
    prefix = f".{target.name}{TEMP_MARK}"
    removed = []
    with contextlib.suppress(OSError):
        for entry in target.parent.iterdir():
            name = entry.name
            if not (name.startswith(prefix) and name.endswith(".tmp")):
                continue
            pid_text = name[len(prefix) :].split("-", 1)[0]
            if not pid_text.isdigit() or _alive(int(pid_text)):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
            removed.append(entry)
    return removed


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While active (main thread only), SIGTERM raises ``KeyboardInterrupt`` like Ctrl-C.

    Only a default SIGTERM disposition is replaced, so a program's own handler wins.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _open_unnamed(directory: Path) -> int | None:
    """An unnamed file in ``directory`` (``O_TMPFILE``), or ``None`` where unsupported."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(directory, flag | os.O_RDWR, 0o666)
    except OSError as err:
        if err.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            return None  # the filesystem or the kernel has no O_TMPFILE
        raise


_AT_FDCWD, _AT_EMPTY_PATH = -100, 0x1000


def _name_unnamed(fd: int, name: Path) -> None:
    """Give the ``O_TMPFILE`` file ``fd`` the name ``name``.

    ``linkat(fd, "", AT_EMPTY_PATH)`` first (Linux >= 6.10 allows it to the
    opener, older ones to privileged processes), then through ``/proc/self/fd``;
    where neither is allowed, the data is copied into a new file of that name.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.linkat(fd, b"", _AT_FDCWD, os.fsencode(name), _AT_EMPTY_PATH) == 0:
            return
    with contextlib.suppress(OSError):
        os.link(f"/proc/self/fd/{fd}", name, follow_symlinks=True)
        return
    size = os.fstat(fd).st_size
    out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        offset = 0
        while offset < size:
            offset += os.copy_file_range(fd, out, size - offset, offset)
        os.fsync(out)
    finally:
        os.close(out)


def _check_file_target(target: Path) -> None:
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "it is a directory", str(target))
    parent = target.parent
    if not parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"directory {parent} does not exist", str(target))


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[TempFile]:
    """Write ``path`` atomically: yield the temporary; on success it replaces ``path``.

    On an exception (``KeyboardInterrupt``, SIGTERM included) nothing is left.
    """
    target = resolve_target(path)
    _check_file_target(target)
    remove_stale_temporaries(target)
    with terminate_as_interrupt():
        fd = _open_unnamed(target.parent)
        if fd is not None:
            named = _temp_name(target)
            with os.fdopen(fd, "w+b") as handle:
                yield TempFile(handle, f"/proc/self/fd/{fd}")
                handle.flush()
                os.fsync(fd)
                _name_unnamed(fd, named)
        else:
            fd, name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}{TEMP_MARK}{os.getpid()}-", suffix=".tmp"
            )
            named = Path(name)
            try:
                with os.fdopen(fd, "w+b") as handle:
                    yield TempFile(handle, name)
                # mkstemp creates the file 0600; give it the mode a plain open() would.
                os.chmod(named, 0o666 & ~_umask())
            except BaseException:
                named.unlink(missing_ok=True)
                raise
        try:
            os.replace(named, target)
        finally:
            named.unlink(missing_ok=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); ``False`` where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str], *, marker: str) -> Iterator[Path]:
    """Write the directory ``path`` atomically: yield a temporary directory to fill.

    An existing ``path`` is replaced only if it is a directory holding ``marker``
    (for a zarr store, ``zarr.json``): anything else is refused, never deleted.
    """
    target = resolve_target(path)
    if target.exists() and not (target.is_dir() and (target / marker).is_file()):
        raise FileExistsError(
            errno.EEXIST, f"it exists and is not a store (no {marker} inside)", str(target)
        )
    if not target.parent.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, f"directory {target.parent} does not exist", str(target)
        )
    remove_stale_temporaries(target)
    temporary = _temp_name(target)
    with terminate_as_interrupt():
        temporary.mkdir()
        try:
            yield temporary
            if not target.exists():
                os.rename(temporary, target)
            elif not _exchange(temporary, target):
                previous = _temp_name(target)
                os.rename(target, previous)
                os.rename(temporary, target)
                shutil.rmtree(previous, ignore_errors=True)
        finally:
            # After an exchange the temporary name holds the previous store.
            shutil.rmtree(temporary, ignore_errors=True)
