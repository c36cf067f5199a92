"""The random engine: seeds, the package seed stream, blocks, threads and fills.

Every random value paraminit produces comes from here. The contract:

* The logical (C-order) index space ``[0, N)`` of an array of ``N`` elements is
  cut into blocks of ``BLOCK_SIZE`` elements. Block ``k`` holds the
  ``min(BLOCK_SIZE, N - k * BLOCK_SIZE)`` values at indices ``k * BLOCK_SIZE ...``
  and draws them from its own Philox-4x64 stream, keyed by the seed and started
  at counter ``(0, 0, k, 0)``. A block's values depend on (seed, distribution and
  its parameters, dtype, N, k) and on nothing else.
* So an array filled whole, in slices, on one thread or on many gets the same
  bits, and any region can be produced without the rest (:func:`fill_region`).
* Nothing here touches numpy's global RNG; each thread owns its bit generator.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .contract import FloatArray

__all__ = [
    "BLOCK_SIZE",
    "Normal",
    "TruncatedNormal",
    "Uniform",
    "fill",
    "fill_region",
    "get_num_threads",
    "next_seed",
    "resolve_seed",
    "set_num_threads",
    "set_seed",
]

# Elements per block: 2**16 float32 values are 256 KiB, which stays in L2 while the
# affine transform and the bound checks run over a freshly generated block.
BLOCK_SIZE = 1 << 16
# Arrays with fewer blocks than this are filled on the calling thread.
_MIN_BLOCKS_FOR_THREADS = 4
MAX_SEED = (1 << 128) - 1
_MASK64 = (1 << 64) - 1


# --------------------------------------------------------------------------- seeds


def _mix64(x: int) -> int:
    """SplitMix64 finalizer: a cheap bijective scramble of a 64-bit integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


class _SeedStream:
    """The package-level stream of seeds used when a call passes ``seed=None``.

    ``next()`` on ``itertools.count`` is atomic under the GIL, so concurrent
    callers each get a distinct counter value without a lock.
    """

    def __init__(self, base: int) -> None:
        self.reset(base)

    def reset(self, base: int) -> None:
        # Swapped in one assignment so a concurrent draw sees the old or the new state.
        self._state = (base & _MASK64, itertools.count())

    def draw(self) -> int:
        base, counter = self._state
        n = next(counter)
        return (_mix64(base ^ _mix64(n)) << 64) | _mix64(base + n)


_STREAM = _SeedStream(int.from_bytes(os.urandom(8), "little"))


def set_seed(seed: int) -> None:
    """Restart the package seed stream so later ``seed=None`` calls are reproducible.

    After ``set_seed(n)``, a script that initializes the same arrays in the same
    order gets bit-identical values on every run.
    """
    _STREAM.reset(check_seed("set_seed", seed))


def next_seed() -> int:
    """Draw the next seed from the package stream (thread-safe)."""
    return _STREAM.draw()


def check_seed(func_name: str, seed: object) -> int:
    """Return ``seed`` if it is an int in ``[0, 2**128)``, else raise."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{func_name}: 'seed' must be a non-negative int or None, got {seed!r}")
    value = int(seed)
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"{func_name}: 'seed' must be in [0, 2**128), got {value}")
    return value


def resolve_seed(func_name: str, seed: object) -> int:
    """The seed a call uses: ``seed`` itself, or the next one from the stream if ``None``."""
    return next_seed() if seed is None else check_seed(func_name, seed)


# --------------------------------------------------------------------------- threads

_thread_count: int | None = None
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _default_threads() -> int:
    env = os.environ.get("PARAMINIT_NUM_THREADS")
    if env:
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

    The default is ``PARAMINIT_NUM_THREADS`` if set, else the CPUs this process may
    use. Results are bit-identical for every thread count.
    """
    global _thread_count
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"set_num_threads: n must be a positive int or None, got {n!r}")
    _thread_count = n


def get_num_threads() -> int:
    """The number of threads large fills use."""
    return _thread_count if _thread_count is not None else _default_threads()


def _get_pool(size: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != size:
            if _pool is not None:
                _pool.shutdown(wait=True)
            _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="paraminit")
            _pool_size = size
        return _pool


# --------------------------------------------------------------------------- generators


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.bit_generator = np.random.Philox(key=0)
        self.generator = np.random.Generator(self.bit_generator)
        self.counter = np.zeros(4, dtype=np.uint64)
        self.key = np.zeros(2, dtype=np.uint64)
        self.buffer = np.zeros(4, dtype=np.uint64)
        self.scratch: dict[np.dtype[Any], np.ndarray[Any, Any]] = {}

    def block_generator(self, seed: int, block: int) -> np.random.Generator:
        """The generator of block ``block`` under ``seed``, reset to its start."""
        self.key[0] = seed & _MASK64
        self.key[1] = seed >> 64
        self.counter[2] = block
        self.bit_generator.state = {
            "bit_generator": "Philox",
            "state": {"counter": self.counter, "key": self.key},
            "buffer": self.buffer,
            "buffer_pos": 4,
            "has_uint32": 0,
            "uinteger": 0,
        }
        return self.generator

    def scratch_for(self, dtype: np.dtype[Any], size: int) -> FloatArray:
        buf = self.scratch.get(dtype)
        if buf is None or buf.size < size:
            buf = np.empty(max(size, 1), dtype=dtype)
            self.scratch[dtype] = buf
        return buf[:size]


_LOCAL = _ThreadState()


# --------------------------------------------------------------------------- distributions


def _work_dtype(dtype: np.dtype[Any]) -> type[np.floating[Any]]:
    """The precision random numbers are drawn in: float64 for float64, else float32."""
    return np.float64 if dtype == np.float64 else np.float32


def _below(value: float, dtype: np.dtype[Any]) -> np.floating[Any]:
    """The largest number of ``dtype`` strictly below ``value``."""
    typed = dtype.type(value)
    if float(typed) >= value:
        typed = np.nextafter(typed, dtype.type(-np.inf))
    return typed  # type: ignore[no-any-return]


def _inward(lo: float, hi: float, dtype: np.dtype[Any]) -> tuple[Any, Any]:
    """``[lo, hi]`` rounded inward to numbers representable in ``dtype``."""
    t = dtype.type
    lo_d, hi_d = t(lo), t(hi)
    if float(lo_d) < lo:
        lo_d = np.nextafter(lo_d, t(np.inf))
    if float(hi_d) > hi:
        hi_d = np.nextafter(hi_d, t(-np.inf))
    return lo_d, hi_d


@dataclass(frozen=True)
class Uniform:
    """U[lo, hi): every value is ``>= lo`` and ``< hi`` in the array's dtype."""

    lo: float
    hi: float

    def fill_block(self, g: np.random.Generator, target: FloatArray, local: _ThreadState) -> None:
        work = _work_dtype(target.dtype)
        buf = target if target.dtype == work else local.scratch_for(np.dtype(work), target.size)
        g.random(out=buf, dtype=work)
        buf *= self.hi - self.lo
        buf += self.lo
        if buf is not target:
            target[...] = buf
        # lo + (hi - lo) * u can round up to hi; keep the interval half-open.
        np.minimum(target, _below(self.hi, target.dtype), out=target)


@dataclass(frozen=True)
class Normal:
    """N(mean, std)."""

    mean: float
    std: float

    def fill_block(self, g: np.random.Generator, target: FloatArray, local: _ThreadState) -> None:
        work = _work_dtype(target.dtype)
        buf = target if target.dtype == work else local.scratch_for(np.dtype(work), target.size)
        g.standard_normal(out=buf, dtype=work)
        buf *= self.std
        buf += self.mean
        if buf is not target:
            target[...] = buf


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@dataclass(frozen=True)
class TruncatedNormal:
    """N(mean, std) conditioned on ``a <= x <= b``, by exact rejection sampling.

    The proposal is chosen from the standardized interval ``[alpha, beta]``:
    plain normal draws when they land inside often enough; a uniform proposal for
    narrow intervals; Robert's (1995) translated exponential for far tails. Values
    are tested once more after scaling and rounding to the dtype, so none lies
    outside ``[a, b]``.
    """

    mean: float
    std: float
    a: float
    b: float

    def _proposal(self) -> str:
        alpha, beta = (self.a - self.mean) / self.std, (self.b - self.mean) / self.std
        if _normal_cdf(beta) - _normal_cdf(alpha) >= 0.25:
            return "normal"
        if beta - alpha <= 2.0 or (alpha < 0 < beta):
            return "uniform"
        return "exponential"

    def _draw(self, g: np.random.Generator, n: int, work: Any, proposal: str) -> FloatArray:
        """Up to ``n`` standardized candidates (rejected ones are NaN)."""
        alpha, beta = (self.a - self.mean) / self.std, (self.b - self.mean) / self.std
        if proposal == "normal":
            return g.standard_normal(n, dtype=work)
        if proposal == "uniform":
            x = g.random(n, dtype=work)
            x *= beta - alpha
            x += alpha
            peak = 0.0 if alpha <= 0 <= beta else min(alpha * alpha, beta * beta)
            accept = g.random(n, dtype=work) <= np.exp((peak - x * x) / 2)
            x[~accept] = np.nan
            return x
        # Far tail on one side: work on [lo, hi] with lo > 0 and mirror if needed.
        flip = beta <= 0
        lo, hi = (-beta, -alpha) if flip else (alpha, beta)
        lam = (lo + math.sqrt(lo * lo + 4.0)) / 2.0
        x = g.standard_exponential(n, dtype=work)
        x /= lam
        x += lo
        accept = (g.random(n, dtype=work) <= np.exp(-((x - lam) ** 2) / 2)) & (x <= hi)
        x[~accept] = np.nan
        return -x if flip else x

    def fill_block(self, g: np.random.Generator, target: FloatArray, local: _ThreadState) -> None:
        work = _work_dtype(target.dtype)
        proposal = self._proposal()
        lo_d, hi_d = _inward(self.a, self.b, target.dtype)
        flat = target.reshape(-1)
        pending = np.arange(flat.size)
        while pending.size:
            z = self._draw(g, pending.size, work, proposal)
            z *= self.std
            z += self.mean
            values = z.astype(target.dtype, copy=False)
            ok = (values >= lo_d) & (values <= hi_d)  # NaN (rejected) compares False
            flat[pending[ok]] = values[ok]
            pending = pending[~ok]


Distribution = Uniform | Normal | TruncatedNormal


# --------------------------------------------------------------------------- blocks


def _block_length(size: int, block: int) -> int:
    return min(BLOCK_SIZE, size - block * BLOCK_SIZE)


def _generate_block(
    dist: Distribution, seed: int, size: int, block: int, target: FloatArray
) -> None:
    local = _LOCAL
    dist.fill_block(local.block_generator(seed, block), target, local)


def _range_tiles(
    shape: Sequence[int], start: int, stop: int, prefix: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], int, int]]:
    """Split the logical range ``[start, stop)`` of ``shape`` into sub-array indices.

    Yields ``(index, a, b)``: ``array[prefix + index]`` holds, in C order, the
    elements at logical indices ``[a, b)`` of the sub-array ``array[prefix]``.
    At most two partial rows per axis are split further, so a range yields
    ``O(ndim)`` tiles.
    """
    if len(shape) <= 1:
        yield (*prefix, slice(start, stop)), start, stop
        return
    inner = math.prod(shape[1:])
    row = start // inner
    while start < stop:
        row_start = row * inner
        if start == row_start and stop - start >= inner:
            rows = (stop - start) // inner
            yield (*prefix, slice(row, row + rows)), start, start + rows * inner
            start += rows * inner
            row += rows
            continue
        end = min(stop, row_start + inner)
        for index, a, b in _range_tiles(
            shape[1:], start - row_start, end - row_start, (*prefix, row)
        ):
            yield index, a + row_start, b + row_start
        start, row = end, row + 1


def _fill_blocks(
    dist: Distribution, seed: int, out: FloatArray, flat: FloatArray | None, blocks: range
) -> None:
    size = out.size
    for block in blocks:
        start = block * BLOCK_SIZE
        length = _block_length(size, block)
        if flat is not None:
            _generate_block(dist, seed, size, block, flat[start : start + length])
            continue
        buf = _LOCAL.scratch_for(out.dtype, length)
        _generate_block(dist, seed, size, block, buf)
        for index, a, b in _range_tiles(out.shape, start, start + length):
            view = out[index]
            view[...] = buf[a - start : b - start].reshape(view.shape)


def fill(out: FloatArray, dist: Distribution, seed: int) -> FloatArray:
    """Fill ``out`` (any memory layout) with ``dist`` under ``seed``; return ``out``."""
    size = out.size
    if size == 0:
        return out
    flat = out.reshape(-1) if out.flags.c_contiguous else None
    n_blocks = -(-size // BLOCK_SIZE)
    threads = min(get_num_threads(), n_blocks // _MIN_BLOCKS_FOR_THREADS)
    if threads <= 1:
        _fill_blocks(dist, seed, out, flat, range(n_blocks))
        return out
    # Contiguous runs of blocks, a few per thread so an uneven core keeps up.
    chunks = threads * 4
    bounds = [n_blocks * i // chunks for i in range(chunks + 1)]
    pool = _get_pool(threads)
    futures = [
        pool.submit(_fill_blocks, dist, seed, out, flat, range(lo, hi))
        for lo, hi in itertools.pairwise(bounds)
        if hi > lo
    ]
    for future in futures:
        future.result()
    return out


def _normalize_region(shape: tuple[int, ...], region: object) -> tuple[slice, ...]:
    items = region if isinstance(region, tuple) else (region,)
    if len(items) > len(shape):
        raise IndexError(f"initialize_region: region has {len(items)} entries for shape {shape}")
    slices = []
    for axis, item in enumerate(items):
        if not isinstance(item, slice):
            raise TypeError(
                f"initialize_region: region entries must be slices, got {item!r} for axis {axis}"
            )
        slices.append(item)
    slices.extend(slice(None) for _ in range(len(shape) - len(items)))
    return tuple(slices)


def fill_region(
    dist: Distribution, shape: tuple[int, ...], region: object, seed: int, dtype: np.dtype[Any]
) -> FloatArray:
    """Return ``fill(np.empty(shape, dtype), dist, seed)[region]`` without the full array.

    Only the blocks the region touches are generated, one at a time.
    """
    slices = _normalize_region(shape, region)
    ranges = [range(*s.indices(d)) for s, d in zip(slices, shape, strict=True)]
    result = np.empty(tuple(len(r) for r in ranges), dtype=dtype)
    size = math.prod(shape)
    if result.size == 0:
        return result
    strides = [math.prod(shape[i + 1 :]) for i in range(len(shape))]
    last = np.asarray(ranges[-1], dtype=np.int64) * strides[-1] if shape else np.zeros(1, np.int64)
    cached_block, cached = -1, np.empty(0, dtype=dtype)
    out_rows = result.reshape(-1, last.size)
    for row, lead in enumerate(itertools.product(*ranges[:-1])):
        flat = last + sum(i * s for i, s in zip(lead, strides, strict=False))
        blocks = flat // BLOCK_SIZE
        for block in np.unique(blocks):
            if block != cached_block:
                cached = np.empty(_block_length(size, int(block)), dtype=dtype)
                _generate_block(dist, seed, size, int(block), cached)
                cached_block = int(block)
            mask = blocks == block
            out_rows[row, mask] = cached[flat[mask] - block * BLOCK_SIZE]
    return result
