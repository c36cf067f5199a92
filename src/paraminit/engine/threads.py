"""Threads: how many large fills use, and the pool that runs their blocks.

Results never depend on the thread count: a block's values are a function of
its key alone, so threads only decide who computes which block.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

__all__ = ["get_num_threads", "run_parallel", "set_num_threads", "submit", "threads_for"]

# Work lists with fewer items (blocks) than this run on the calling thread.
MIN_ITEMS_FOR_THREADS = 4
# Items handed to a thread at a time (dynamic scheduling over a shared iterator).
ITEMS_PER_CHUNK = 4

_thread_count: int | None = None  # set_num_threads
_default_count: int | None = None  # PARAMINIT_NUM_THREADS or the usable CPUs, read once
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _read_default_threads() -> int:
    env = os.environ.get("PARAMINIT_NUM_THREADS")
    if env is not None and env.strip():
        try:
            value = int(env)
        except ValueError:
            raise ValueError(f"PARAMINIT_NUM_THREADS must be a positive int, got {env!r}") from None
        if value < 1:
            raise ValueError(f"PARAMINIT_NUM_THREADS must be a positive int, got {env!r}")
        return value
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def set_num_threads(n: int | None) -> None:
    """Use ``n`` threads for large fills; ``None`` restores the default.

    The default is ``PARAMINIT_NUM_THREADS`` if set (read again after
    ``set_num_threads(None)``), else the CPUs this process may use. Results are
    bit-identical for every thread count.
    """
    global _thread_count, _default_count
    if n is not None:
        message = f"set_num_threads: 'n' must be a positive int or None, got {n!r}"
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(message)
        if n < 1:
            raise ValueError(message)
    _thread_count = None if n is None else int(n)
    if n is None:
        _default_count = None


def get_num_threads() -> int:
    """The number of threads large fills use.

    Raises ``ValueError`` if ``PARAMINIT_NUM_THREADS`` is set to anything but a
    positive int (and ``set_num_threads`` did not override it).
    """
    global _default_count
    if _thread_count is not None:
        return _thread_count
    if _default_count is None:
        _default_count = _read_default_threads()
    return _default_count


def submit(workers: int, task: Callable[[], None]) -> list[Future[None]]:
    """Run ``task`` on ``workers`` pool threads; the pool grows when more are asked for.

    Submitting under the lock means a pool is never shut down between a caller
    picking it and submitting to it.
    """
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < workers:
            if _pool is not None:
                _pool.shutdown(wait=False)  # running tasks finish; its threads then exit
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="paraminit")
            _pool_size = workers
        return [_pool.submit(task) for _ in range(workers)]


def threads_for(n_items: int) -> int:
    """How many threads :func:`run_parallel` uses for ``n_items`` items."""
    return min(get_num_threads(), n_items // MIN_ITEMS_FOR_THREADS)


def run_parallel(work: Callable[[range], None], n_items: int) -> None:
    """Call ``work`` on consecutive ranges covering ``[0, n_items)``, on threads if worth it.

    Threads take chunks of ``ITEMS_PER_CHUNK`` items from a shared iterator,
    so a slow (shared) core does less; the caller's thread works too.
    """
    threads = threads_for(n_items)
    if threads <= 1:
        work(range(n_items))
        return
    chunks = iter(
        [range(lo, min(lo + ITEMS_PER_CHUNK, n_items)) for lo in range(0, n_items, ITEMS_PER_CHUNK)]
    )

    def worker() -> None:
        for chunk in chunks:  # list_iterator.__next__ is atomic under the GIL
            work(chunk)

    futures = submit(threads - 1, worker)
    try:
        worker()
    finally:
        for future in futures:
            future.result()
