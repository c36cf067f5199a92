"""Blocks: filling an array, or any region of it, block by block of its logical index.

The contract:

* The logical (C-order) index space ``[0, N)`` of an array of ``N`` elements is
  cut into blocks of ``BLOCK_SIZE`` elements. Block ``k`` holds the
  ``min(BLOCK_SIZE, N - k * BLOCK_SIZE)`` values at indices ``k * BLOCK_SIZE ...``
  and draws them from its own stream, keyed by ``(seed, k)`` alone. A block's
  values depend on (seed, distribution and its parameters, dtype, N, k) and on
  nothing else: not on threads, memory order, or which other blocks are made.
* So an array filled whole, in slices, on one thread or on many gets the same
  bits, and any region can be produced without the rest (:func:`fill_region`).

:func:`fill` has one hook for the layer above: an output whose class (an
``ndarray`` subclass) has a ``record_fill(dist, seed)`` method is not filled;
the request is handed to that method instead (``paraminit.regions`` uses it to
learn what an initializer asks for). A plain ``ndarray`` pays one type check.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..contract import FloatArray
from . import native, ziggurat
from .distributions import Distribution
from .streams import BLOCK_SIZE, SMALL_SIZE, STREAMS
from .threads import run_parallel, threads_for

__all__ = ["fill", "fill_region", "normalize_region"]

_MASK64 = (1 << 64) - 1
_PLAIN = np.ndarray  # one global lookup in fill() instead of two


_UNRESOLVED: Any = object()
_small: Any = _UNRESOLVED  # the compiled small-array calls, None, or not decided yet
_small_lock = threading.Lock()
# The key on which configure_small compares its Philox with numpy's: both words set.
_PROBE_KEY = (0x0123456789ABCDEF, 0xFEDCBA9876543210)


def small_kernel() -> Any:
    """``paraminit._native`` if it fills small arrays (its ``uniform`` and ``normal``), else
    ``None``: the kernel is used (:func:`.ziggurat.native_kernel`) and its Philox gives numpy's
    Philox words, checked once here; if they ever disagree the numpy path fills them."""
    global _small
    with _small_lock:
        if _small is _UNRESOLVED:
            module = native.native() if ziggurat.native_kernel() is not None else None
            if module is not None:
                probe = np.random.Philox(key=_PROBE_KEY[0] | _PROBE_KEY[1] << 64)
                if not module.configure_small(probe.capsule, _PROBE_KEY, ziggurat._FAIL):
                    module = None
            _small = module
    return _small


def _block_length(size: int, block: int) -> int:
    return min(BLOCK_SIZE, size - block * BLOCK_SIZE)


def _generate_block(
    dist: Distribution, seed: int, size: int, block: int, target: FloatArray
) -> None:
    """Fill the 1-D contiguous ``target`` with block ``block`` of an ``size``-element array."""
    streams = STREAMS
    if size <= SMALL_SIZE:
        dist.fill_block(streams.philox_at(seed, block), target, streams.scratch)
    else:
        dist.fill_bulk(streams.sfc_at(seed, block), target, streams.scratch)


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
        buf = STREAMS.scratch.get("block", out.dtype, length)
        _generate_block(dist, seed, size, block, buf)
        for index, a, b in _range_tiles(out.shape, start, start + length):
            view = out[index]
            view[...] = buf[a - start : b - start].reshape(view.shape)


def fill(out: FloatArray, dist: Distribution, seed: int) -> FloatArray:
    """Fill ``out`` (any memory layout) with ``dist`` under ``seed``; return ``out``.

    Temporary memory is a few block-sized buffers per thread, whatever the size
    of ``out``.
    """
    if type(out) is not _PLAIN:  # a recorder (see the module docstring)?
        record = getattr(out, "record_fill", None)
        if record is not None:
            record(dist, seed)
            return out
    size = out.size
    if size <= SMALL_SIZE:
        if size:
            contiguous = out.flags.c_contiguous
            if contiguous:
                one = out if out.ndim == 1 else out.reshape(-1)
                kernel = _small if _small is not _UNRESOLVED else small_kernel()
                # One compiled call keys Philox and fills, where the distribution can.
                if kernel is not None and dist.fill_small(kernel, seed, one):
                    return out
            # STREAMS.philox_at(seed, 0), inlined: this path is per-call overhead.
            inner, philox, state, g, scratch = STREAMS.small
            inner["key"] = (seed & _MASK64, seed >> 64)
            philox.state = state  # type: ignore[assignment]
            if contiguous:
                dist.fill_block(g, one, scratch)
            else:
                buf = scratch.get("block", out.dtype, size)
                dist.fill_block(g, buf, scratch)
                out[...] = buf.reshape(out.shape)
        return out
    flat = out.reshape(-1) if out.flags.c_contiguous else None
    n_blocks = -(-size // BLOCK_SIZE)
    _run_blocks(lambda blocks: _fill_blocks(dist, seed, out, flat, blocks), n_blocks)
    return out


def _run_blocks(work: Callable[[range], None], n_blocks: int) -> None:
    """:func:`run_parallel`, with each thread's ``Scratch.shared`` set while it shares."""
    if threads_for(n_blocks) <= 1:
        run_parallel(work, n_blocks)
        return

    def shared(blocks: range) -> None:
        scratch = STREAMS.scratch
        scratch.shared = True
        try:
            work(blocks)
        finally:
            scratch.shared = False

    run_parallel(shared, n_blocks)


def normalize_region(
    func_name: str, shape: tuple[int, ...], region: object
) -> tuple[list[range], tuple[int, ...]]:
    """The ``range`` of indices per axis, and the axes that integer entries drop."""
    items = region if isinstance(region, tuple) else (region,)
    if len(items) > len(shape):
        raise IndexError(f"{func_name}: region has {len(items)} entries for shape {shape}")
    ranges: list[range] = []
    dropped: list[int] = []
    for axis, item in enumerate(items):
        size = shape[axis]
        if isinstance(item, slice):
            ranges.append(range(*item.indices(size)))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)):
            index = int(item)
            if not -size <= index < size:
                raise IndexError(
                    f"{func_name}: index {index} is out of bounds for axis {axis} with size {size}"
                )
            index %= size
            ranges.append(range(index, index + 1))
            dropped.append(axis)
        else:
            raise TypeError(
                f"{func_name}: region entries must be slices or ints, got {item!r} for axis {axis}"
            )
    ranges.extend(range(d) for d in shape[len(items) :])
    return ranges, tuple(dropped)


# Rows (runs along the last axis) of a region handled per pass in fill_region.
_ROWS_PER_PASS = 1 << 14


def fill_region(
    dist: Distribution,
    shape: tuple[int, ...],
    region: object,
    seed: int,
    dtype: Any,
    *,
    func_name: str = "fill_region",
) -> FloatArray:
    """Return ``fill(np.empty(shape, dtype), dist, seed)[region]`` without the full array.

    ``region`` is a slice, an int, or a tuple of them (steps allowed, negative
    too). Only the blocks the region touches are generated, each once; extra
    memory is a few block-sized buffers plus index arrays of a pass of rows.
    Errors name ``func_name``.
    """
    shape = tuple(int(d) for d in shape)
    dtype = np.dtype(dtype)
    ranges, dropped = normalize_region(func_name, shape, region)
    flips = tuple(slice(None, None, -1) if r.step < 0 else slice(None) for r in ranges)
    ranges = [r if r.step > 0 else r[::-1] for r in ranges]
    # One index needs no step: a huge one (2**61) would overflow the strides of a view.
    ranges = [range(r.start, r.start + 1) if len(r) == 1 else r for r in ranges]
    result = np.empty(tuple(len(r) for r in ranges), dtype=dtype)
    if result.size:
        _gather_region(dist, shape, ranges, seed, result)
    if any(f.step == -1 for f in flips):
        result = result[flips]
    if dropped:
        result = result[tuple(0 if axis in dropped else slice(None) for axis in range(len(shape)))]
    return result


def _gather_region(
    dist: Distribution,
    shape: tuple[int, ...],
    ranges: list[range],
    seed: int,
    result: FloatArray,
) -> None:
    """Fill ``result`` with the elements at ``ranges`` (all steps positive) of the array."""
    size = math.prod(shape)
    if not shape:  # a 0-d array is one block of one element
        block = np.empty(1, dtype=result.dtype)
        _generate_block(dist, seed, 1, 0, block)
        result[()] = block[0]
        return
    strides = [math.prod(shape[i + 1 :]) for i in range(len(shape))]
    last = ranges[-1]
    length, step = len(last), last.step
    lead = ranges[:-1]
    lead_shape = tuple(len(r) for r in lead)
    n_rows = math.prod(lead_shape)
    out_rows = result.reshape(n_rows, length)
    # A row wholly inside a block has at most BLOCK_SIZE elements: a longer last axis
    # needs no index longer than that (a full-length one is twice a float32 row).
    j = np.arange(min(length, BLOCK_SIZE), dtype=np.int64) * step

    def gather(k: int, starts: Any, ends: Any, r0: int) -> None:
        """Copy the region's elements that lie in block ``k`` into ``out_rows``."""
        # hi stops at size: (k + 1) * BLOCK_SIZE may pass int64 (numpy's searchsorted wraps it).
        lo, hi = k * BLOCK_SIZE, min((k + 1) * BLOCK_SIZE, size)
        i0 = int(np.searchsorted(ends, lo, "left"))
        i1 = int(np.searchsorted(starts, hi, "left"))
        if i0 >= i1:
            return
        values = STREAMS.scratch.get("region", result.dtype, _block_length(size, k))
        _generate_block(dist, seed, size, k, values)
        a = i0 if starts[i0] >= lo else i0 + 1
        b = i1 if ends[i1 - 1] < hi else i1 - 1
        if a < b:  # whole rows inside the block
            _copy_rows(values, starts[a:b] - lo, step, length, out_rows[r0 + a : r0 + b], j)
        for i in {i0, i1 - 1}:
            if a <= i < b:
                continue
            s = int(starts[i])  # a row that crosses the block's edge
            j_lo = max(0, -(-(lo - s) // step))
            j_hi = min(length, (hi - 1 - s) // step + 1)
            if j_hi > j_lo:
                first_flat = s + j_lo * step - lo
                last_flat = s + (j_hi - 1) * step - lo
                out_rows[r0 + i, j_lo:j_hi] = values[first_flat : last_flat + 1 : step]

    for r0 in range(0, n_rows, _ROWS_PER_PASS):
        r1 = min(n_rows, r0 + _ROWS_PER_PASS)
        starts = np.full(r1 - r0, last.start, dtype=np.int64)
        if lead:
            for axis, index in enumerate(np.unravel_index(np.arange(r0, r1), lead_shape)):
                r = lead[axis]
                starts += (r.start + index.astype(np.int64) * r.step) * strides[axis]
        ends = starts + (length - 1) * step
        # Blocks write disjoint parts of the result: threads may share them out.
        todo = _touched_blocks(starts, ends, step)

        def work(
            items: range, todo: list[int] = todo, pass_: tuple[Any, ...] = (starts, ends, r0)
        ) -> None:
            for i in items:
                gather(todo[i], *pass_)

        _run_blocks(work, len(todo))


# Elements of the index array a pass of whole rows may gather at once: bounded
# scratch, never an int64 index the size of the region (twice a float32 result).
_GATHER_LIMIT = 1 << 14


def _copy_rows(values: FloatArray, offsets: Any, step: int, length: int, out: Any, j: Any) -> None:
    """``out[r] = values[offsets[r] + j]`` for rows lying wholly inside ``values``.

    Rows at a constant distance (a region of a 2-D array, or of one outer index of
    a higher one) are one strided view of ``values``, copied without any index
    array; others are gathered a bounded number of elements at a time.
    """
    n = len(offsets)
    gap = int(offsets[1] - offsets[0]) if n > 1 else 0
    first = int(offsets[0])
    spaced = n == 1 or (gap > 0 and int(offsets[-1]) - first == gap * (n - 1))
    if spaced and (n <= 2 or bool((np.diff(offsets) == gap).all())):  # equally spaced rows
        size = values.itemsize
        view = np.lib.stride_tricks.as_strided(
            values[first:],
            shape=(n, length),
            strides=(gap * size, step * size),
            writeable=False,
        )
        out[...] = view
        return
    rows = max(1, _GATHER_LIMIT // max(length, 1))
    for r in range(0, n, rows):
        out[r : r + rows] = values[offsets[r : r + rows, None] + j[None, :]]


def _touched_blocks(starts: Any, ends: Any, step: int) -> list[int]:
    """The blocks, ascending, that rows from ``starts`` to ``ends`` by ``step`` touch."""
    if step >= BLOCK_SIZE:  # each element of a row sits in its own block
        length = int((ends[0] - starts[0]) // step) + 1 if len(starts) else 0
        pieces = [np.empty(0, np.int64)]
        for c in range(0, length, _GATHER_LIMIT):  # bounded index arrays
            cols = np.arange(c, min(length, c + _GATHER_LIMIT), dtype=np.int64) * step
            rows = max(1, _GATHER_LIMIT // len(cols))
            for r in range(0, len(starts), rows):
                found = (starts[r : r + rows, None] + cols[None, :]) // BLOCK_SIZE
                pieces.append(np.unique(found))
        blocks = np.unique(np.concatenate(pieces))
    else:  # a row touches every block between its first and last element
        first, final = starts // BLOCK_SIZE, ends // BLOCK_SIZE
        spans = final - first + 1
        offsets = np.repeat(first - np.cumsum(spans) + spans, spans)
        blocks = np.unique(offsets + np.arange(spans.sum()))
    result: list[int] = blocks.tolist()
    return result
