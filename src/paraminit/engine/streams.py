"""Keyed streams: the bit generator of each block, and per-thread scratch buffers.

The logical index space of an array is cut into blocks of ``BLOCK_SIZE``
elements; block ``k`` draws from a stream keyed by ``(seed, k)`` alone:

* Small arrays (``N <= SMALL_SIZE``) are one block drawn straight from
  Philox-4x64 keyed by the 128-bit seed at counter ``(0, 0, 0, 0)``, with
  numpy's own samplers. Re-keying Philox costs ~0.6 µs, so a call on a (64,)
  array pays no bit-generator construction; with the compiled kernel
  (:func:`.blocks.small_kernel`) the same Philox words are drawn in C.
* Larger arrays draw block ``k`` from SFC64 whose 256-bit state is the Philox
  output for key ``seed`` at counter ``(0, 0, k, 1)``: Philox is the keyed,
  counter-based hash of (seed, block); SFC64, ~1.9x faster than Philox per
  value in numpy, generates the bulk from raw 64-bit words.

Each thread owns its bit generators (:data:`STREAMS` is thread-local) and its
scratch buffers, so nothing here is shared or locked.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..contract import FloatArray

__all__ = ["BLOCK_SIZE", "SMALL_SIZE", "STREAMS", "Scratch", "Streams"]

# Elements per block. Measured on the 2-core dev machine (docs/engine.md, one
# thread, M elements/s uniform/normal): 2**14 664/330, 2**15 750/369,
# 2**16 798/397, 2**17 807/405, 2**18 805/403. 2**16 (256 KiB of float32) is the
# smallest at full speed: the ~2 µs keying per block is < 2 %, a block and its
# normal scratch stay near L2, regions waste the least, and 4 blocks (256K
# elements) pay for a thread hop.
BLOCK_SIZE = 1 << 16
# Arrays of at most this many elements draw their one block straight from Philox.
SMALL_SIZE = 1 << 12
_MASK64 = (1 << 64) - 1


class Scratch:
    """Reusable 1-D buffers of one thread, by name and dtype (contents undefined).

    ``shared`` is true while the thread works on a fill shared out over several
    threads: a distribution may then pick a method that holds the GIL in fewer,
    longer calls, never other values.
    """

    __slots__ = ("_buffers", "shared")

    def __init__(self) -> None:
        self._buffers: dict[tuple[str, np.dtype[Any]], np.ndarray[Any, Any]] = {}
        self.shared = False

    def get(self, name: str, dtype: Any, size: int) -> FloatArray:
        """A buffer of ``size`` elements; at least a block's worth is allocated."""
        dtype = np.dtype(dtype)
        buf = self._buffers.get((name, dtype))
        if buf is None or buf.size < size:
            buf = np.empty(max(size, BLOCK_SIZE), dtype=dtype)
            self._buffers[(name, dtype)] = buf
        return buf[:size]

    def clear(self) -> None:
        self._buffers.clear()


class Streams(threading.local):
    """One thread's bit generators, their reusable state objects, and its scratch."""

    def __init__(self) -> None:
        self.philox = np.random.Philox(key=0)
        self.philox_generator = np.random.Generator(self.philox)
        self.sfc = np.random.SFC64(0)
        self.sfc_generator = np.random.Generator(self.sfc)
        # The state setters index these containers; tuples are much cheaper to
        # index than numpy arrays, so re-keying Philox costs ~0.3 µs.
        self.philox_inner: dict[str, Any] = {"counter": (0, 0, 0, 0), "key": (0, 0)}
        self.philox_state: dict[str, Any] = {
            "bit_generator": "Philox",
            "state": self.philox_inner,
            "buffer": (0, 0, 0, 0),
            "buffer_pos": 4,
            "has_uint32": 0,
            "uinteger": 0,
        }
        self.sfc_inner: dict[str, Any] = {"state": None}
        self.sfc_state: dict[str, Any] = {
            "bit_generator": "SFC64",
            "state": self.sfc_inner,
            "has_uint32": 0,
            "uinteger": 0,
        }
        self.scratch = Scratch()
        # What the small-array path of fill() needs, in one attribute lookup: a state
        # of its own whose counter stays (0, 0, 0, 0), so re-keying sets the key alone.
        small_inner: dict[str, Any] = {"counter": (0, 0, 0, 0), "key": (0, 0)}
        self.small = (
            small_inner,
            self.philox,
            {**self.philox_state, "state": small_inner},
            self.philox_generator,
            self.scratch,
        )

    def philox_at(self, seed: int, block: int, lane: int = 0) -> np.random.Generator:
        """The Philox generator keyed by ``seed`` at counter ``(0, 0, block, lane)``."""
        inner = self.philox_inner
        inner["key"] = (seed & _MASK64, seed >> 64)
        inner["counter"] = (0, 0, block, lane)
        self.philox.state = self.philox_state  # type: ignore[assignment]
        return self.philox_generator

    def sfc_at(self, seed: int, block: int) -> np.random.Generator:
        """The SFC64 generator of ``block``: its state is Philox(seed) at ``(0, 0, block, 1)``."""
        self.philox_at(seed, block, 1)
        self.sfc_inner["state"] = self.philox.random_raw(4).tolist()
        self.sfc.state = self.sfc_state  # type: ignore[assignment]
        return self.sfc_generator


STREAMS = Streams()
