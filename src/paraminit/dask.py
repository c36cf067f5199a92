"""The Dask bridge: initializers as Dask arrays, and running chunk tasks on a Dask scheduler.

``initialize(init, shape, chunks=..., seed=...)`` returns a ``dask.array.Array``
whose every chunk is made by :func:`paraminit.initialize_region`: no task ever
holds the full array, and ``.compute()`` equals ``init(np.empty(shape), seed=seed)``
bit for bit whatever the chunking. Dask is an optional extra
(``pip install 'paraminit[dask]'``), imported only here and only when used.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .contract import FloatArray, check_dtype
from .engine import resolve_seed
from .regions import distribution_of, initialize_region

if TYPE_CHECKING:
    import dask.array

__all__ = [
    "MAX_WHOLE_BYTES",
    "ChunkDone",
    "chunk_task",
    "initialize",
    "is_elementwise",
    "run_chunk_tasks",
]

DASK_EXTRA = "pip install 'paraminit[dask]'"

#: Initializers that need the whole array (orthogonal, sparse, identity, dirac) are
#: computed whole, once, in one task, and only up to this many bytes (256 MiB): a
#: larger one would have to fit in one worker, which is what Dask is used to avoid.
MAX_WHOLE_BYTES = 1 << 28

ProgressHook = Callable[[int, int, str], None]


def _import_dask() -> Any:
    """The ``dask`` package with ``dask.array`` and ``dask.callbacks`` loaded (typed ``Any``)."""
    try:
        import dask
        import dask.array
        import dask.callbacks
    except ImportError:
        raise ImportError(f"paraminit.dask needs Dask: {DASK_EXTRA}") from None
    return dask


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ImportError(f"a Dask scheduler address needs distributed: {DASK_EXTRA}") from None
    return distributed


def chunk_task(func: Callable[..., ChunkDone], *args: Any, key: str) -> Any:
    """A delayed call of ``func(*args)`` named ``key`` (arguments are not hashed)."""
    return _import_dask().delayed(func, pure=False)(*args, dask_key_name=key)


def is_elementwise(init: Callable[..., Any], shape: tuple[int, ...], dtype: Any) -> bool:
    """Whether ``init`` makes any region alone (it is marked ``@engine.elementwise``).

    The one place this bridge asks; it raises what ``init`` raises for ``shape``.
    """
    return distribution_of(init, shape, dtype=dtype) is not None


def _region_task(
    init: Callable[..., Any],
    shape: tuple[int, ...],
    seed: int,
    values: np.dtype[Any],
    block_info: dict[Any, Any] | None = None,
) -> FloatArray:
    # ``values``, not ``dtype``: map_blocks keeps ``dtype=`` for itself.
    assert block_info is not None, "dask passes block_info to map_blocks functions"
    location = block_info[None]["array-location"]
    region = tuple(slice(start, stop) for start, stop in location)
    return initialize_region(init, shape, region, seed=seed, dtype=values)


def _whole_task(
    init: Callable[..., Any], shape: tuple[int, ...], seed: int, dtype: np.dtype[Any]
) -> FloatArray:
    return initialize_region(init, shape, (), seed=seed, dtype=dtype)


def initialize(
    init: Callable[..., Any],
    shape: tuple[int, ...] | int,
    *,
    chunks: Any = "auto",
    seed: int | None,
    dtype: Any = "float32",
    max_whole_bytes: int = MAX_WHOLE_BYTES,
) -> dask.array.Array:
    """A Dask array of ``init``'s values for ``shape``; chunks are made independently.

    ``init`` is an initializer or a configured one (an ``InitializerPartial``);
    ``chunks`` is anything ``dask.array`` accepts (``"auto"``, an int, a tuple).
    ``seed=None`` draws one seed from paraminit's seed stream, once, for the whole
    array. For initializers marked elementwise (uniform, normal, truncated normal,
    variance scaling and its named forms, constants) every chunk is one
    ``initialize_region`` task. The others (orthogonal, sparse, identity, dirac)
    need the whole array: it is made once, in one task, and split into chunks, and
    arrays above ``max_whole_bytes`` are refused with a ``ValueError``.

    >>> import paraminit, paraminit.dask
    >>> W = paraminit.dask.initialize(paraminit.uniform_init, (10_000, 64), chunks=1000, seed=0)
    >>> W.chunks[0][:2]
    (1000, 1000)
    """
    dk = _import_dask()  # not ``dask``: that name is the module type checkers see
    da = dk.array
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    dt = check_dtype("paraminit.dask.initialize", dtype)
    elementwise = is_elementwise(init, shape, dt)  # also checks shape and dtype
    seed = resolve_seed("paraminit.dask.initialize", seed)
    normalized = da.core.normalize_chunks(chunks, shape, dtype=dt)
    token = dk.base.tokenize(init, shape, seed, dt, normalized)
    meta = np.empty((0,) * len(shape), dtype=dt)
    if elementwise:
        chunked: dask.array.Array = da.map_blocks(
            _region_task,
            init=init,
            shape=shape,
            seed=seed,
            values=dt,
            dtype=dt,
            chunks=normalized,
            meta=meta,
            name=f"paraminit-{token}",
        )
        return chunked
    nbytes = math.prod(shape) * dt.itemsize
    if nbytes > max_whole_bytes:
        name = getattr(getattr(init, "func", init), "__name__", repr(init))
        raise ValueError(
            f"paraminit.dask.initialize: {name} needs the whole array, and shape {shape} "
            f"of {dt.name} is {nbytes:,} bytes, more than max_whole_bytes={max_whole_bytes:,}; "
            "only elementwise initializers (uniform, normal, truncated normal, variance "
            "scaling) are made chunk by chunk"
        )
    whole = dk.delayed(_whole_task, pure=True)(init, shape, seed, dt, dask_key_name=token)
    rechunked: dask.array.Array = da.from_delayed(whole, shape, dtype=dt, meta=meta).rechunk(
        normalized
    )
    return rechunked


# --------------------------------------------------------------------------- running tasks


class ChunkDone(NamedTuple):
    """What a chunk task returns: its parameter, its bytes, and elements that differ."""

    name: str
    nbytes: int
    differing: int = 0


def _local_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextlib.contextmanager
def _client(scheduler: Any) -> Iterator[Any]:
    """A ``distributed.Client`` for ``scheduler`` (an address or a Client)."""
    distributed = _import_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if not isinstance(scheduler, str):
        raise TypeError(
            "run_chunk_tasks: 'scheduler' must be None, an address string or a "
            f"distributed.Client, got {scheduler!r}"
        )
    with distributed.Client(scheduler, set_as_default=False) as client:
        yield client


def run_chunk_tasks(
    tasks: Sequence[Any],
    total_bytes: int,
    *,
    progress: ProgressHook | None = None,
    scheduler: Any = None,
) -> list[ChunkDone]:
    """Compute delayed ``tasks`` that each return a :class:`ChunkDone`; report progress.

    ``scheduler=None`` runs them on a local thread pool through Dask's threaded
    scheduler (joined before returning or raising, so no task outlives the call);
    an address (``"tcp://host:8786"``) or a ``distributed.Client`` sends them to a
    ``distributed`` scheduler. ``progress(done_bytes, total_bytes, name)`` is called
    in the calling thread as chunks finish.
    """
    dk = _import_dask()
    done: list[ChunkDone] = []
    done_bytes = 0

    def record(result: ChunkDone) -> None:
        nonlocal done_bytes
        done.append(result)
        done_bytes += result.nbytes
        if progress is not None:
            progress(done_bytes, total_bytes, result.name)

    if scheduler is not None:
        with _client(scheduler) as client:
            distributed = _import_distributed()
            futures = client.compute(list(tasks))
            try:
                # The client's own loop: a client made for an address is not the default.
                for future in distributed.as_completed(futures, loop=client.loop):
                    record(future.result())
            finally:
                client.cancel(futures)
        return done

    callback: Any = dk.callbacks.Callback
    ours = {task.key for task in tasks}  # callbacks are global: skip other computations

    class Reporter(callback):  # type: ignore[misc]
        def _posttask(self, key: Any, result: Any, *args: Any) -> None:
            if key in ours:
                record(result)

    pool = ThreadPoolExecutor(_local_threads(), thread_name_prefix="paraminit-dask")
    try:
        with Reporter():
            dk.compute(*tasks, scheduler="threads", pool=pool)
    finally:
        # On an interrupt, running tasks finish before the caller cleans up after them.
        pool.shutdown(wait=True, cancel_futures=True)
    return done
