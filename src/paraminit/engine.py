"""The random engine: seeds, the package seed stream, blocks, threads, fills and regions.

Every random value paraminit produces comes from here. The contract:

* The logical (C-order) index space ``[0, N)`` of an array of ``N`` elements is
  cut into blocks of ``BLOCK_SIZE`` elements. Block ``k`` holds the
  ``min(BLOCK_SIZE, N - k * BLOCK_SIZE)`` values at indices ``k * BLOCK_SIZE ...``
  and draws them from its own stream, keyed by ``(seed, k)`` alone. A block's
  values depend on (seed, distribution and its parameters, dtype, N, k) and on
  nothing else: not on threads, memory order, or which other blocks are made.
* So an array filled whole, in slices, on one thread or on many gets the same
  bits, and any region can be produced without the rest (:func:`fill_region`,
  :func:`initialize_region`).
* Nothing here touches numpy's global RNG; each thread owns its bit generators.

The streams (measured choices, see ``docs/engine.md`` for the numbers):

* Small arrays (``N <= SMALL_SIZE``) are one block drawn straight from
  Philox-4x64 keyed by the 128-bit seed at counter ``(0, 0, 0, 0)``, with
  numpy's own samplers (ziggurat normals). Re-keying Philox costs ~0.6 µs, so a
  call on a (64,) array pays no bit-generator construction.
* Larger arrays draw block ``k`` from SFC64 whose 256-bit state is the Philox
  output for key ``seed`` at counter ``(0, 0, k, 1)``: Philox is the keyed,
  counter-based hash of (seed, block); SFC64, ~1.9x faster than Philox per
  value in numpy, generates the bulk from raw 64-bit words. Normals there are a
  vectorized Box-Muller transform with an exact tail (see
  :func:`_standard_normal_bulk`), ~3x faster than numpy's float32 ziggurat.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from .contract import SUPPORTED_DTYPES, FloatArray

__all__ = [
    "BLOCK_SIZE",
    "SMALL_SIZE",
    "Normal",
    "TruncatedNormal",
    "Uniform",
    "distribution_of",
    "elementwise",
    "fill",
    "fill_region",
    "get_num_threads",
    "initialize_region",
    "next_seed",
    "resolve_seed",
    "set_num_threads",
    "set_seed",
]

# Elements per block. Measured on the 2-core dev machine (docs/engine.md, one
# thread, M elements/s uniform/normal): 2**14 664/330, 2**15 750/369,
# 2**16 798/397, 2**17 807/405, 2**18 805/403. 2**16 (256 KiB of float32) is the
# smallest at full speed: the ~2 µs keying per block is < 2 %, a block and its
# Box-Muller scratch stay in L2, regions waste the least, and 4 blocks (256K
# elements) pay for a thread hop.
BLOCK_SIZE = 1 << 16
# Arrays of at most this many elements draw their one block straight from Philox.
SMALL_SIZE = 1 << 12
# Arrays with fewer blocks than this are filled on the calling thread.
_MIN_BLOCKS_FOR_THREADS = 4
# Blocks handed to a thread at a time (dynamic scheduling over a shared iterator).
_BLOCKS_PER_CHUNK = 4
MAX_SEED = (1 << 128) - 1
_MASK64 = (1 << 64) - 1


# --------------------------------------------------------------------------- seeds


def _mix64(x: int) -> int:
    """SplitMix64 finalizer: a cheap bijective scramble of a 64-bit integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


# An odd 128-bit constant (the golden ratio's fraction bits): a Weyl step.
_WEYL128 = 0x9E3779B97F4A7C15F39CC0605CEDC835


class _SeedStream:
    """The package-level stream of seeds used when a call passes ``seed=None``.

    Seed ``i`` after a reset to ``base`` is ``spread(base) + i * WEYL (mod 2**128)``:
    distinct for 2**128 draws, far from the small seeds people type, and cheap
    (Philox, keyed by the seed, does the mixing). ``next()`` on
    ``itertools.count`` is atomic under the GIL, so concurrent callers each get
    a distinct seed without a lock.
    """

    def __init__(self, base: int) -> None:
        self.reset(base)

    def reset(self, base: int) -> None:
        lo, hi = base & _MASK64, base >> 64
        a = _mix64(lo ^ _mix64(hi))
        spread = (a << 64) | _mix64(a ^ hi ^ 0x5851F42D4C957F2D)
        # Swapped in one assignment so a concurrent draw sees the old or the new state.
        self._state = (spread, itertools.count())

    def draw(self) -> int:
        base, counter = self._state
        return (base + next(counter) * _WEYL128) & MAX_SEED


_STREAM = _SeedStream(int.from_bytes(os.urandom(16), "little"))


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
    if type(seed) is int and 0 <= seed <= MAX_SEED:  # the common case, fast
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{func_name}: 'seed' must be a non-negative int or None, got {seed!r}")
    value = int(seed)
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"{func_name}: 'seed' must be in [0, 2**128), got {value}")
    return value


def resolve_seed(func_name: str, seed: object) -> int:
    """The seed a call uses: ``seed`` itself, or the next one from the stream if ``None``."""
    return _STREAM.draw() if seed is None else check_seed(func_name, seed)


# --------------------------------------------------------------------------- threads

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


def _submit(workers: int, task: Callable[[], None]) -> list[Future[None]]:
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


def _run_parallel(work: Callable[[range], None], n_items: int) -> None:
    """Call ``work`` on consecutive ranges covering ``[0, n_items)``, on threads if worth it.

    Threads take chunks of ``_BLOCKS_PER_CHUNK`` items from a shared iterator,
    so a slow (shared) core does less; the caller's thread works too.
    """
    threads = min(get_num_threads(), n_items // _MIN_BLOCKS_FOR_THREADS)
    if threads <= 1:
        work(range(n_items))
        return
    chunks = iter(
        [
            range(lo, min(lo + _BLOCKS_PER_CHUNK, n_items))
            for lo in range(0, n_items, _BLOCKS_PER_CHUNK)
        ]
    )

    def worker() -> None:
        local = _LOCAL
        local.parallel = True
        try:
            for chunk in chunks:  # list_iterator.__next__ is atomic under the GIL
                work(chunk)
        finally:
            local.parallel = False

    futures = _submit(threads - 1, worker)
    try:
        worker()
    finally:
        for future in futures:
            future.result()


# --------------------------------------------------------------------------- generators


class _Capture:
    """What an elementwise initializer asked the engine for (see :func:`initialize_region`)."""

    __slots__ = ("calls", "dist", "dtype", "seed", "shape")

    def __init__(self) -> None:
        self.calls = 0
        self.dist: Distribution | None = None
        self.seed = 0
        self.shape: tuple[int, ...] = ()
        self.dtype: np.dtype[Any] | None = None


class _ThreadState(threading.local):
    """Per-thread bit generators, their reusable state objects, and scratch buffers."""

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
        # What the small-array path of fill() needs, in one attribute lookup.
        self.small = (self.philox_inner, self.philox, self.philox_state, self.philox_generator)
        self.scratch: dict[tuple[str, np.dtype[Any]], np.ndarray[Any, Any]] = {}
        self.capture: _Capture | None = None
        # True while this thread works on a fill shared out over several threads.
        self.parallel = False

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

    def scratch_for(self, name: str, dtype: Any, size: int) -> FloatArray:
        """A reusable 1-D buffer of ``size`` elements (contents undefined)."""
        dtype = np.dtype(dtype)
        buf = self.scratch.get((name, dtype))
        if buf is None or buf.size < size:
            buf = np.empty(max(size, BLOCK_SIZE), dtype=dtype)
            self.scratch[(name, dtype)] = buf
        return buf[:size]


_LOCAL = _ThreadState()

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


# --------------------------------------------------------------------------- distributions


def _work_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The precision random numbers are drawn in: float64 for float64, else float32."""
    return _F64 if dtype == _F64 else _F32


def _inward(lo: float, hi: float, dtype: np.dtype[Any]) -> tuple[Any, Any]:
    """``[lo, hi]`` rounded inward to numbers representable in ``dtype``."""
    t = dtype.type
    lo_d, hi_d = t(lo), t(hi)
    if float(lo_d) < lo:
        lo_d = np.nextafter(lo_d, t(np.inf))
    if float(hi_d) > hi:
        hi_d = np.nextafter(hi_d, t(-np.inf))
    return lo_d, hi_d


def _key(x: Any) -> int:
    """An int that orders the numbers of ``x``'s float dtype (a numpy scalar) by value."""
    nbits: int = x.dtype.itemsize * 8
    bits = int(x.view(f"i{x.dtype.itemsize}"))
    return bits ^ ((bits >> (nbits - 1)) & ((1 << (nbits - 1)) - 1))


def _of_key(key: int, dtype: np.dtype[Any]) -> Any:
    """The number of ``dtype`` whose :func:`_key` is ``key``."""
    nbits = dtype.itemsize * 8
    bits = key ^ ((key >> (nbits - 1)) & ((1 << (nbits - 1)) - 1))
    return np.array(bits, dtype=f"i{dtype.itemsize}").view(dtype)[()]


def _last_key(pred: Callable[[int], bool], start: int, lowest: int, highest: int) -> int:
    """The largest key ``k`` in ``[lowest, highest]`` with ``pred(k)``, or ``lowest - 1``.

    ``pred`` must be monotone (true, then false, as keys grow). The search starts
    at ``start`` and doubles its steps, so an answer a few ulps away costs a few
    calls; a far one, about twice the bits of the dtype.
    """
    start = min(max(start, lowest), highest)
    if pred(start):
        good, step = start, 1
        while True:  # grow until false or past the top
            probe = good + step
            if probe > highest:
                bad = highest + 1
                break
            if not pred(probe):
                bad = probe
                break
            good, step = probe, step * 2
    else:
        bad, step = start, 1
        while True:
            probe = bad - step
            if probe < lowest:
                good = lowest - 1
                break
            if pred(probe):
                good = probe
                break
            bad, step = probe, step * 2
    while bad - good > 1:  # pred(good) (or good below the range), not pred(bad)
        mid = (good + bad) // 2
        if pred(mid):
            good = mid
        else:
            bad = mid
    return good


_TWO_PI = 2.0 * math.pi
_TWO_POW_M32 = 2.0**-32
# Radius words below this are refined with 53 more bits (see _standard_normal_bulk).
_TAIL_WORDS = 1 << 8


def _standard_normal_bulk(
    g: np.random.Generator,
    buf: FloatArray,
    local: _ThreadState,
    spare: FloatArray | None = None,
) -> FloatArray:
    """Fill the 1-D contiguous ``buf`` (float32 or float64) with N(0, 1) by Box-Muller.

    Pairs ``(r cos t, r sin t)``, ``r = sqrt(-2 log u)``, ``t = 2 pi v``; cosines
    fill the first half of ``buf`` (``m = ceil(n / 2)`` values), sines the rest.
    With ``spare`` (no longer than ``buf``), the same for the ``n`` values of
    ``buf`` followed by ``spare``, without a buffer that holds both. Returns the
    radii ``r`` (``m`` values, a scratch buffer valid until the next call): value
    ``j`` and value ``j + m`` are ``r[j]`` times a cosine and a sine, so neither
    exceeds ``r[j]`` in magnitude by more than the rounding of ``cos``.

    float32: one raw 64-bit draw per pair (numpy's per-value sampler overhead
    is what costs, not the bits). Its low 32-bit word ``k`` gives
    ``u = (k + 1/2) 2**-32``, its high word the angle. ``log`` runs in float64,
    so ``u`` keeps all 32 bits at both ends; the rare pairs with ``k < 2**8``
    (``u < 2**-24``, the tail beyond 5.8 sigma) get ``u = (k + w) 2**-32`` with a
    fresh 53-bit ``w``, so the tail is exact down to ``u ~ 2**-85`` (13 sigma)
    instead of stopping at 6.7 sigma. float64: ``u`` and ``v`` are two 53-bit
    uniforms.
    """
    n = buf.size if spare is None else buf.size + spare.size
    m = (n + 1) // 2
    work = buf.dtype
    u = local.scratch_for("bm_u", _F64, m)
    if work == _F64:
        g.random(out=u)
        np.subtract(1.0, u, out=u)  # (0, 1]
        np.log(u, out=u)
        radius = u
        np.multiply(radius, -2.0, out=radius)
        angle = local.scratch_for("bm_t", work, m)
        g.random(out=angle)
        np.multiply(angle, _TWO_PI, out=angle)
    else:
        words = g.bit_generator.random_raw(m).view(np.uint32)
        k, high = words[0::2], words[1::2]  # low and high words (little-endian)
        np.add(k, 0.5, out=u)
        if u.min() < _TAIL_WORDS:  # ~0.2 % of blocks; a min is cheaper than a search
            tail = np.flatnonzero(u < _TAIL_WORDS)
            u[tail] = k[tail] + g.random(tail.size)
        np.multiply(u, _TWO_POW_M32, out=u)
        np.log(u, out=u)
        radius = local.scratch_for("bm_r", work, m)
        np.multiply(u, -2.0, out=radius, casting="unsafe")
        angle = local.scratch_for("bm_t", work, m)
        np.multiply(high, np.float32(_TWO_PI * _TWO_POW_M32), out=angle, dtype=np.float32)
    np.sqrt(radius, out=radius)
    head, sines = buf[:m], buf[m:]
    np.cos(angle, out=head)
    np.multiply(head, radius, head)
    n_sines = sines.size
    np.sin(angle[:n_sines], out=sines)
    np.multiply(sines, radius[:n_sines], sines)
    if spare is not None:
        np.sin(angle[n_sines : n - m], out=spare)
        np.multiply(spare, radius[n_sines : n - m], spare)
    return radius


# Per (parameters, dtype) constants of each distribution, computed once: an
# initializer builds a new distribution object on every call, and these numpy
# scalar computations would cost more than filling a small array.
_UNIFORM_PARAMS: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_NORMAL_PARAMS: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_TRUNCATED_PARAMS: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_PARAMS_LIMIT = 4096


def _0d(value: Any) -> np.ndarray[Any, Any]:
    """``value`` as a 0-d array: a ufunc takes one in half the time of a numpy scalar."""
    return np.array(value)


def _remember(
    cache: dict[tuple[Any, ...], tuple[Any, ...]], key: tuple[Any, ...], value: tuple[Any, ...]
) -> None:
    if len(cache) >= _PARAMS_LIMIT:
        cache.clear()
    cache[key] = value


# The largest 24-bit word of the float32 bulk path: u = k 2**-24.
_BULK_K_MAX = (1 << 24) - 1


def _u_max(work: np.dtype[Any]) -> Any:
    """The largest uniform numpy's ``Generator.random`` gives in ``work``: ``1 - 2**-24`` or
    ``1 - 2**-53``."""
    return work.type(1.0) - work.type(np.finfo(work).epsneg)


def _scale24(scale: Any) -> Any:
    """``scale 2**-24`` in float32 when that product is exact (the bulk path), else ``None``."""
    if scale.dtype != _F32:
        return None
    scale24 = np.float32(scale * np.float32(2.0**-24))
    return scale24 if np.float32(scale24 * np.float32(2.0**24)) == scale else None


class _DistributionBase:
    """A distribution the engine can fill blocks from.

    ``fill_block(g, target, local)`` fills the 1-D C-contiguous ``target`` (any
    float dtype) from ``g`` with numpy's own samplers; small arrays use it.
    ``fill_bulk`` is the same for blocks of large arrays, where ``g`` is a fast
    SFC64 generator; it defaults to ``fill_block``. Both must consume ``g``
    deterministically: the values are a function of ``g``'s state and
    ``target``'s size and dtype only.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(getattr(self, f) for f in self._fields)))

    def fill_block(self, g: np.random.Generator, target: FloatArray, local: _ThreadState) -> None:
        raise NotImplementedError  # pragma: no cover

    def fill_bulk(self, g: np.random.Generator, target: FloatArray, local: _ThreadState) -> None:
        self.fill_block(g, target, local)


class Uniform(_DistributionBase):
    """U[lo, hi): every value is ``>= lo`` and ``< hi``.

    ``lo' + scale' * u`` for a uniform ``u`` in ``[0, 1)`` of the work dtype.
    When the array's dtype is the work dtype (float32, float64), ``lo'`` is the
    smallest number of the dtype ``>= lo`` and ``scale'`` the largest one
    ``<= hi - lo`` for which the largest ``u`` still gives a value ``< hi``:
    the scale may be shortened by a few ulps so that no value reaches ``hi``
    (rounding is monotone, so the largest ``u`` bounds every value), and no
    clamp pass is needed. float16 arrays are drawn in float32 and rounded; where
    rounding can reach ``hi`` (or fall below ``lo``) a clamp pass, checked once
    per dtype, keeps values ``>= lo`` and ``< hi`` compared in the array's dtype.
    """

    __slots__ = ("hi", "lo")
    _fields = ("lo", "hi")

    def __init__(self, lo: float, hi: float) -> None:
        self.lo = lo
        self.hi = hi

    def _params_for(self, dtype: np.dtype[Any]) -> tuple[Any, ...]:
        key = (self.lo, self.hi, dtype)
        params = _UNIFORM_PARAMS.get(key)
        if params is None:
            work = _work_dtype(dtype)
            if work == _F32 and not np.isfinite(np.float32(self.hi - self.lo)):
                work = _F64  # (hi - lo) overflows float32: draw in float64
            fitted = self._fit(work) if work == dtype else None
            if fitted is not None:
                scale, lo = fitted
                clamp_lo = clamp_hi = None
            else:
                w, t = work.type, dtype.type
                scale, lo = w(self.hi - self.lo), w(self.lo)
                with np.errstate(over="ignore"):
                    top, bottom = t(w(scale * _u_max(work)) + lo), t(lo)
                below_hi = np.nextafter(t(self.hi), t(-np.inf))
                clamp_hi = below_hi if top > below_hi else None
                clamp_lo = t(self.lo) if bottom < t(self.lo) else None
            params = (work, _0d(scale), _0d(lo), clamp_lo, clamp_hi, _scale24(scale), work.type)
            _remember(_UNIFORM_PARAMS, key, params)
        return params

    def _fit(self, work: np.dtype[Any]) -> tuple[Any, Any] | None:
        """``(scale', lo')`` whose values all lie in ``[lo, hi)`` in ``work``, or ``None``.

        Checks the largest value of each path with its own formula: ``fill_block``'s
        ``fl(fl(scale u_max) + lo)`` and ``fill_bulk``'s ``fl(fl(k_max scale24) + lo)``.
        """
        w = work.type
        lo = w(self.lo)
        if float(lo) < self.lo:
            lo = np.nextafter(lo, w(np.inf))
        top = np.nextafter(w(self.hi), w(-np.inf))  # the largest value allowed
        start = w(self.hi - self.lo)
        if not (lo <= top and np.isfinite(start)):
            return None
        u_max, k_max = _u_max(work), w(_BULK_K_MAX)

        def fits(k: int) -> bool:
            scale = _of_key(k, work)
            with np.errstate(over="ignore"):
                if w(w(scale * u_max) + lo) > top:
                    return False
                scale24 = _scale24(scale) if work == _F32 else None
                return scale24 is None or bool(w(w(k_max * scale24) + lo) <= top)

        zero = _key(w(0.0))
        best = _last_key(fits, _key(start), zero, _key(start))
        return None if best < zero else (_of_key(best, work), lo)

    def fill_block(self, g: np.random.Generator, target: FloatArray, local: _ThreadState) -> None:
        work, scale, lo, clamp_lo, clamp_hi, _, work_type = self._params_for(target.dtype)
        # Builtin dtypes are singletons: ``is`` is the cheap test (a miss is only slower).
        buf = target if target.dtype is work else local.scratch_for("work", work, target.size)
        g.random(None, work_type, buf)  # positional: cheaper for small arrays
        np.multiply(buf, scale, buf)
        np.add(buf, lo, buf)
        if buf is not target or clamp_hi is not None or clamp_lo is not None:
            self._finish(buf, target, clamp_lo, clamp_hi)

    def fill_bulk(self, g: np.random.Generator, target: FloatArray, local: _ThreadState) -> None:
        """float32: ``u = (w >> 8) 2**-24`` (numpy's own float32 rule) from raw 64-bit
        draws split into two 32-bit words ``w``; one raw draw per two values costs
        less than numpy's per-value float32 sampler. float64: as ``fill_block``."""
        work, _, lo, clamp_lo, clamp_hi, scale24, _ = self._params_for(target.dtype)
        if work is not _F32 or scale24 is None:
            self.fill_block(g, target, local)
            return
        n = target.size
        buf = target if target.dtype is work else local.scratch_for("work", work, n)
        words = g.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n]
        np.right_shift(words, 8, out=words)
        # fl(k * fl(scale 2**-24)) == fl(fl(k 2**-24) * scale): both products are exact scalings.
        np.multiply(words, scale24, out=buf, dtype=np.float32)
        np.add(buf, lo, buf)
        self._finish(buf, target, clamp_lo, clamp_hi)

    @staticmethod
    def _finish(buf: FloatArray, target: FloatArray, clamp_lo: Any, clamp_hi: Any) -> None:
        if buf is not target:
            target[...] = buf
        if clamp_hi is not None:
            np.minimum(target, clamp_hi, out=target)
        if clamp_lo is not None:
            np.maximum(target, clamp_lo, out=target)


class Normal(_DistributionBase):
    """N(mean, std)."""

    __slots__ = ("mean", "std")
    _fields = ("mean", "std")

    def __init__(self, mean: float, std: float) -> None:
        self.mean = mean
        self.std = std

    def _params_for(self, dtype: np.dtype[Any]) -> tuple[Any, ...]:
        key = (self.mean, self.std, dtype)
        params = _NORMAL_PARAMS.get(key)
        if params is None:
            work = _work_dtype(dtype)
            params = (work, _0d(work.type(self.std)), _0d(work.type(self.mean)))
            _remember(_NORMAL_PARAMS, key, params)
        return params

    def _fill(
        self, g: np.random.Generator, target: FloatArray, local: _ThreadState, bulk: bool
    ) -> None:
        work, std, mean = self._params_for(target.dtype)
        buf = target if target.dtype is work else local.scratch_for("work", work, target.size)
        if bulk:
            _standard_normal_bulk(g, buf, local)
        else:
            g.standard_normal(out=buf, dtype=work.type)
        np.multiply(buf, std, buf)
        np.add(buf, mean, buf)
        if buf is not target:
            target[...] = buf

    def fill_block(self, g: np.random.Generator, target: FloatArray, local: _ThreadState) -> None:
        self._fill(g, target, local, bulk=False)

    def fill_bulk(self, g: np.random.Generator, target: FloatArray, local: _ThreadState) -> None:
        self._fill(g, target, local, bulk=True)


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


# The normal proposal of TruncatedNormal screens Box-Muller pairs by radius when
# at most this share of pairs lies beyond the screen (see _fill_by_normal).
_SCREEN_MAX_SHARE = 0.4
# Spares per block: the expected rejections plus this many standard deviations.
_SPARE_SIGMAS = 4.0


class TruncatedNormal(_DistributionBase):
    """N(mean, std) conditioned on ``a <= x <= b``, by exact rejection within each block.

    The proposal is chosen from the standardized interval ``[alpha, beta]``:
    plain normal draws when at least a quarter land inside (then the block is
    drawn like :class:`Normal` and only the values outside are replaced, so the
    cost stays close to a normal fill); a uniform proposal for narrow intervals;
    Robert's (1995) translated exponential for far tails. Values are tested as
    they come out after scaling and rounding to the dtype, so none lies outside
    ``[a, b]``.
    """

    __slots__ = ("a", "b", "mean", "std")
    _fields = ("mean", "std", "a", "b")

    def __init__(self, mean: float, std: float, a: float, b: float) -> None:
        self.mean = mean
        self.std = std
        self.a = a
        self.b = b

    def _proposal(self) -> str:
        alpha, beta = (self.a - self.mean) / self.std, (self.b - self.mean) / self.std
        if _normal_cdf(beta) - _normal_cdf(alpha) >= 0.25:
            return "normal"
        if beta - alpha <= 2.0 or (alpha < 0 < beta):
            return "uniform"
        return "exponential"

    def _acceptance(self) -> float:
        """The probability that a normal draw lands in ``[a, b]``."""
        alpha, beta = (self.a - self.mean) / self.std, (self.b - self.mean) / self.std
        return _normal_cdf(beta) - _normal_cdf(alpha)

    def _params_for(self, dtype: np.dtype[Any]) -> tuple[Any, ...]:
        key = (self.mean, self.std, self.a, self.b, dtype)
        params = _TRUNCATED_PARAMS.get(key)
        if params is None:
            work = _work_dtype(dtype)
            lo_d, hi_d = _inward(self.a, self.b, dtype)
            std, mean = work.type(self.std), work.type(self.mean)
            proposal = self._proposal()
            standard = (
                self._standard_bounds(work, dtype, std, mean, lo_d, hi_d)
                if proposal == "normal"
                else None
            )
            params = (work, _0d(std), _0d(mean), lo_d, hi_d, proposal, standard)
            _remember(_TRUNCATED_PARAMS, key, params)
        return params

    def _standard_bounds(
        self, work: np.dtype[Any], dtype: np.dtype[Any], std: Any, mean: Any, lo_d: Any, hi_d: Any
    ) -> tuple[Any, ...]:
        """What the normal proposal tests standardized draws ``z`` against.

        A draw is kept when ``fl(fl(z std) + mean)``, rounded to ``dtype``, lies in
        ``[lo_d, hi_d]``. That map is monotone in ``z`` (each rounding is), so the
        kept ``z`` are exactly the work-dtype numbers of one interval
        ``[z_lo, z_hi]``, found here once by search: testing ``z`` against it
        before scaling is the same test as testing the scaled, rounded value.
        Returns ``(z_lo, z_hi, symmetric, screen, acceptance)``; ``screen`` is a
        Box-Muller radius below which both values of a pair are surely kept, or
        ``None`` where screening would not pay.
        """
        w, t = work.type, dtype.type
        finfo = np.finfo(work)
        lowest, highest = _key(w(-finfo.max)), _key(w(finfo.max))

        def scaled(k: int) -> Any:
            with np.errstate(over="ignore"):
                return t(w(w(_of_key(k, work) * std) + mean))

        with np.errstate(over="ignore"):
            alpha, beta = w((self.a - self.mean) / self.std), w((self.b - self.mean) / self.std)
        k_hi = _last_key(lambda k: bool(scaled(k) <= hi_d), _key(beta), lowest, highest)
        k_lo = _last_key(lambda k: bool(scaled(k) < lo_d), _key(alpha), lowest, highest) + 1
        if k_lo > k_hi:
            raise ValueError(
                f"TruncatedNormal: no {dtype} value of N({self.mean}, {self.std}) "
                f"lies in [{self.a}, {self.b}]"
            )
        z_lo, z_hi = _of_key(k_lo, work), _of_key(k_hi, work)
        symmetric = bool(z_lo == -z_hi)
        reach = min(-float(z_lo), float(z_hi))
        # |r cos t| <= r (1 + a few ulps): a pair with r below the screen has both
        # values inside [-reach, reach], so inside [z_lo, z_hi].
        screen = None
        if reach > 0 and math.exp(-reach * reach / 2) <= _SCREEN_MAX_SHARE:
            screen = _0d(w(reach * (1.0 - 2.0**-16)))
        return (_0d(z_lo), _0d(z_hi), symmetric, screen, self._acceptance())

    def _draw(self, g: np.random.Generator, n: int, work: Any, proposal: str) -> FloatArray:
        """``n`` standardized candidates (rejected ones are NaN)."""
        alpha, beta = (self.a - self.mean) / self.std, (self.b - self.mean) / self.std
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

    def _fill_by_normal(
        self,
        g: np.random.Generator,
        target: FloatArray,
        local: _ThreadState,
        bulk: bool,
        params: tuple[Any, ...],
    ) -> None:
        """The normal proposal: the block's draws and spares, then each draw outside
        ``[z_lo, z_hi]`` is replaced by the next unused spare inside, in order.

        Every value is its own draw when that lies inside, else the next spare
        that does: an independent draw conditioned on the interval (exact
        rejection). Draws are tested standardized, against the interval found by
        :meth:`_standard_bounds`. Finding the few draws outside costs more than
        drawing them (a scan of a sparse random mask mispredicts), so on the bulk
        path only the Box-Muller pairs whose radius exceeds the screen are
        tested (13 % of pairs for a cut at 2 sigma).
        """
        work, std, mean, _, _, _, (z_lo, z_hi, symmetric, screen, accept) = params
        n = target.size
        buf = target if target.dtype is work else local.scratch_for("work", work, n)
        # Spares for the expected rejections plus _SPARE_SIGMAS standard deviations
        # (an even total keeps the Box-Muller halves aligned); a shortfall draws more.
        rejected = n * (1.0 - accept)
        spares = max(int((rejected + _SPARE_SIGMAS * math.sqrt(rejected * accept)) / accept), 0)
        spares += 16
        spares += (n + spares) & 1
        spare = local.scratch_for("tn_spare", work, spares)
        radius = None
        if not bulk:
            g.standard_normal(out=buf, dtype=work.type)
            g.standard_normal(out=spare, dtype=work.type)
        elif spares <= n:  # one Box-Muller call: the spares are its last sines
            radius = _standard_normal_bulk(g, buf, local, spare)
        else:
            _standard_normal_bulk(g, buf, local)
            _standard_normal_bulk(g, spare, local)
        if radius is not None and screen is not None and not local.parallel:
            half = (n + spares) // 2
            pairs = np.flatnonzero(np.greater(radius, screen))
            # Value j (a cosine) and value j + half (its sine, if before n) of each
            # screened pair j, ascending. 1-D index arrays: numpy's 2-D forms are
            # far slower, and take(flatnonzero) beats a boolean index here (a
            # third of the mask is set, where numpy's nonzero is branch-free).
            cut = int(np.searchsorted(pairs, n - half))
            where = np.concatenate((pairs, pairs[:cut] + half))
            outside = self._outside(buf.take(where), z_lo, z_hi, symmetric)
            bad = where.take(np.flatnonzero(outside))
            if bad.size:
                good = self._good_spares(g, spare, bad.size, local, bulk, params)
                buf[bad] = good[: bad.size]
        else:
            # The same values by fewer numpy calls: np.place fills the draws
            # outside, in ascending order, with the good spares in order. It
            # takes longer alone (a branch per value outside), but one long call
            # that releases the GIL beats a dozen short ones on several threads.
            outside = self._outside(buf, z_lo, z_hi, symmetric)
            count = int(np.count_nonzero(outside))
            if count:
                np.place(buf, outside, self._good_spares(g, spare, count, local, bulk, params))
        np.multiply(buf, std, buf)
        np.add(buf, mean, buf)
        if buf is not target:
            target[...] = buf

    def _good_spares(
        self,
        g: np.random.Generator,
        spare: FloatArray,
        count: int,
        local: _ThreadState,
        bulk: bool,
        params: tuple[Any, ...],
    ) -> FloatArray:
        """The spares inside ``[z_lo, z_hi]`` in order, at least ``count`` of them:
        a shortfall (rare) is made up by further draws of ``g``."""
        work, _, _, _, _, _, (z_lo, z_hi, symmetric, _, _) = params
        good: FloatArray = spare[self._inside(spare, z_lo, z_hi, symmetric)]
        while good.size < count:
            more = local.scratch_for("tn_more", work, 2 * (count - good.size) + 64)
            if bulk:
                _standard_normal_bulk(g, more, local)
            else:
                g.standard_normal(out=more, dtype=work.type)
            good = np.concatenate((good, more[self._inside(more, z_lo, z_hi, symmetric)]))
        return good

    @staticmethod
    def _inside(values: FloatArray, z_lo: Any, z_hi: Any, symmetric: bool) -> Any:
        """A mask of the ``values`` inside ``[z_lo, z_hi]``."""
        if symmetric:
            return np.less_equal(np.abs(values), z_hi)
        mask = np.greater_equal(values, z_lo)
        mask &= np.less_equal(values, z_hi)
        return mask

    @staticmethod
    def _outside(values: FloatArray, z_lo: Any, z_hi: Any, symmetric: bool) -> Any:
        """A mask of the ``values`` outside ``[z_lo, z_hi]``."""
        if symmetric:
            return np.greater(np.abs(values), z_hi)
        mask = np.less(values, z_lo)
        mask |= np.greater(values, z_hi)
        return mask

    def _fill(
        self, g: np.random.Generator, target: FloatArray, local: _ThreadState, bulk: bool
    ) -> None:
        params = self._params_for(target.dtype)
        work, std, mean, lo_d, hi_d, proposal, _ = params
        if proposal == "normal":
            self._fill_by_normal(g, target, local, bulk, params)
            return
        pending = np.arange(target.size)
        while pending.size:
            z = self._draw(g, pending.size, work.type, proposal)
            z *= std
            z += mean
            values = z.astype(target.dtype, copy=False)
            ok = (values >= lo_d) & (values <= hi_d)  # NaN (rejected) compares False
            target[pending[ok]] = values[ok]
            pending = pending[~ok]

    def fill_block(self, g: np.random.Generator, target: FloatArray, local: _ThreadState) -> None:
        self._fill(g, target, local, bulk=False)

    def fill_bulk(self, g: np.random.Generator, target: FloatArray, local: _ThreadState) -> None:
        self._fill(g, target, local, bulk=True)


Distribution = Uniform | Normal | TruncatedNormal


# --------------------------------------------------------------------------- blocks


def _block_length(size: int, block: int) -> int:
    return min(BLOCK_SIZE, size - block * BLOCK_SIZE)


def _generate_block(
    dist: Distribution, seed: int, size: int, block: int, target: FloatArray
) -> None:
    """Fill the 1-D contiguous ``target`` with block ``block`` of an ``size``-element array."""
    local = _LOCAL
    if size <= SMALL_SIZE:
        dist.fill_block(local.philox_at(seed, block), target, local)
    else:
        dist.fill_bulk(local.sfc_at(seed, block), target, local)


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
        buf = _LOCAL.scratch_for("block", out.dtype, length)
        _generate_block(dist, seed, size, block, buf)
        for index, a, b in _range_tiles(out.shape, start, start + length):
            view = out[index]
            view[...] = buf[a - start : b - start].reshape(view.shape)


def fill(out: FloatArray, dist: Distribution, seed: int) -> FloatArray:
    """Fill ``out`` (any memory layout) with ``dist`` under ``seed``; return ``out``.

    Temporary memory is a few block-sized buffers per thread, whatever the size
    of ``out``.
    """
    local = _LOCAL
    if local.capture is not None:
        _record(local.capture, out, dist, seed)
        return out
    size = out.size
    if size <= SMALL_SIZE:
        if size:
            # local.philox_at(seed, 0), inlined: this path is per-call overhead.
            inner, philox, state, g = local.small
            inner["key"] = (seed & _MASK64, seed >> 64)
            inner["counter"] = (0, 0, 0, 0)
            philox.state = state  # type: ignore[assignment]
            if out.flags.c_contiguous:
                dist.fill_block(g, out if out.ndim == 1 else out.reshape(-1), local)
            else:
                buf = local.scratch_for("block", out.dtype, size)
                dist.fill_block(g, buf, local)
                out[...] = buf.reshape(out.shape)
        return out
    flat = out.reshape(-1) if out.flags.c_contiguous else None
    n_blocks = -(-size // BLOCK_SIZE)
    _run_parallel(lambda blocks: _fill_blocks(dist, seed, out, flat, blocks), n_blocks)
    return out


# --------------------------------------------------------------------------- regions


def _normalize_region(
    shape: tuple[int, ...], region: object
) -> tuple[list[range], tuple[int, ...]]:
    """The ``range`` of indices per axis, and the axes that integer entries drop."""
    items = region if isinstance(region, tuple) else (region,)
    if len(items) > len(shape):
        raise IndexError(f"initialize_region: region has {len(items)} entries for shape {shape}")
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
                    f"initialize_region: index {index} is out of bounds for axis {axis} "
                    f"with size {size}"
                )
            index %= size
            ranges.append(range(index, index + 1))
            dropped.append(axis)
        else:
            raise TypeError(
                "initialize_region: region entries must be slices or ints, "
                f"got {item!r} for axis {axis}"
            )
    ranges.extend(range(d) for d in shape[len(items) :])
    return ranges, tuple(dropped)


# Rows (runs along the last axis) of a region handled per pass in fill_region.
_ROWS_PER_PASS = 1 << 14


def fill_region(
    dist: Distribution, shape: tuple[int, ...], region: object, seed: int, dtype: Any
) -> FloatArray:
    """Return ``fill(np.empty(shape, dtype), dist, seed)[region]`` without the full array.

    ``region`` is a slice, an int, or a tuple of them (steps allowed, negative
    too). Only the blocks the region touches are generated, each once; extra
    memory is a few block-sized buffers plus index arrays of a pass of rows.
    """
    shape = tuple(int(d) for d in shape)
    dtype = np.dtype(dtype)
    ranges, dropped = _normalize_region(shape, region)
    flips = tuple(slice(None, None, -1) if r.step < 0 else slice(None) for r in ranges)
    ranges = [r if r.step > 0 else r[::-1] for r in ranges]
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
    j = np.arange(length, dtype=np.int64) * step

    def gather(k: int, starts: Any, ends: Any, r0: int) -> None:
        """Copy the region's elements that lie in block ``k`` into ``out_rows``."""
        lo, hi = k * BLOCK_SIZE, (k + 1) * BLOCK_SIZE
        i0 = int(np.searchsorted(ends, lo, "left"))
        i1 = int(np.searchsorted(starts, hi, "left"))
        if i0 >= i1:
            return
        values = _LOCAL.scratch_for("region", result.dtype, _block_length(size, k))
        _generate_block(dist, seed, size, k, values)
        a = i0 if starts[i0] >= lo else i0 + 1
        b = i1 if ends[i1 - 1] < hi else i1 - 1
        if a < b:  # whole rows inside the block: one gather
            out_rows[r0 + a : r0 + b] = values[(starts[a:b, None] - lo) + j[None, :]]
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
        if step >= BLOCK_SIZE:  # each element of a row sits in its own block
            blocks = np.unique((starts[:, None] + j[None, :]) // BLOCK_SIZE)
        else:  # a row touches every block between its first and last element
            first, final = starts // BLOCK_SIZE, ends // BLOCK_SIZE
            spans = final - first + 1
            offsets = np.repeat(first - np.cumsum(spans) + spans, spans)
            blocks = np.unique(offsets + np.arange(spans.sum()))
        # Blocks write disjoint parts of the result: threads may share them out.
        todo = blocks.tolist()

        def work(
            items: range, todo: list[int] = todo, pass_: tuple[Any, ...] = (starts, ends, r0)
        ) -> None:
            for i in items:
                gather(todo[i], *pass_)

        _run_parallel(work, len(todo))


# --------------------------------------------------------------------------- initialize_region

_ELEMENTWISE: set[Callable[..., Any]] = set()


_F = TypeVar("_F", bound=Callable[..., Any])


def elementwise(func: _F) -> _F:
    """Mark a data-first initializer whose values are elementwise independent.

    Such an initializer makes its values with exactly one :func:`fill` call on
    its output (or only writes one constant, like ``zero_init``) and changes
    nothing afterwards. :func:`initialize_region` then produces any region of it
    without the full array. Returns ``func`` unchanged, so it stacks with
    ``@register_initializer``.
    """
    _ELEMENTWISE.add(func)
    return func


def _record(capture: _Capture, out: FloatArray, dist: Distribution, seed: int) -> None:
    capture.calls += 1
    capture.dist, capture.seed = dist, seed
    capture.shape, capture.dtype = out.shape, out.dtype


def _unwrap(init: Callable[..., Any]) -> Callable[..., Any]:
    func = init
    while isinstance(func, functools.partial):
        func = func.func
    return func


@functools.lru_cache(maxsize=256)
def _accepts(func: Callable[..., Any], name: str) -> bool:
    """Whether ``func`` takes a keyword argument ``name``."""
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        return True
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _takes_seed(func: Callable[..., Any]) -> bool:
    return _accepts(func, "seed")


def _check_shape(func_name: str, shape: object) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in shape
    ):
        raise TypeError(f"{func_name}: 'shape' must be a tuple of ints, got {shape!r}")
    if any(d < 0 for d in shape):
        raise ValueError(f"{func_name}: 'shape' must not be negative, got {tuple(shape)}")
    return tuple(int(d) for d in shape)


def _check_dtype(func_name: str, dtype: object) -> np.dtype[Any]:
    for supported in SUPPORTED_DTYPES:
        try:
            if np.dtype(dtype) == supported:  # type: ignore[call-overload]
                return supported
        except TypeError:
            break
    raise TypeError(f"{func_name}: 'dtype' must be float16, float32 or float64, got {dtype!r}")


def _capture(
    init: Callable[..., Any], shape: tuple[int, ...], dtype: np.dtype[Any], kwargs: dict[str, Any]
) -> tuple[_Capture, Any]:
    """Call an elementwise ``init`` on a stand-in; return what it asked :func:`fill` for.

    The stand-in is writeable, of the right shape and dtype, and backed by one
    element: the initializer validates it and picks its distribution, and
    :func:`fill` records the request instead of filling. A constant initializer
    writes its value into the single element, returned second.
    """
    backing = np.zeros(1, dtype=dtype)
    stand_in = np.lib.stride_tricks.as_strided(
        backing, shape=shape, strides=(0,) * len(shape), writeable=True
    )
    local = _LOCAL
    capture, previous = _Capture(), local.capture
    local.capture = capture
    try:
        init(stand_in, inplace=True, **kwargs)
    finally:
        local.capture = previous
    if capture.calls > 1 or (
        capture.calls == 1 and (capture.shape != shape or capture.dtype != dtype)
    ):
        raise RuntimeError(
            f"{getattr(_unwrap(init), '__name__', init)!r} is marked elementwise "
            "but does not fill its output with a single engine.fill call"
        )
    return capture, backing[0]


def distribution_of(
    init: Callable[..., Any], shape: tuple[int, ...], *, dtype: Any = "float32"
) -> Distribution | float | None:
    """What ``init`` fills an array of ``shape`` with, without filling anything.

    For an initializer marked :func:`elementwise`: the engine distribution it
    draws from (``Uniform``, ``Normal``, ``TruncatedNormal``), or the value of a
    constant fill as a ``float``. ``None`` for any other initializer. Raises what
    the initializer raises for an array of this shape.
    """
    shape = _check_shape("distribution_of", shape)
    dt = _check_dtype("distribution_of", dtype)
    func = _unwrap(init)
    if func not in _ELEMENTWISE:
        return None
    # A fixed seed: asking must not advance the package seed stream.
    capture, constant = _capture(init, shape, dt, {"seed": 0} if _takes_seed(func) else {})
    return capture.dist if capture.dist is not None else float(constant)


def initialize_region(
    init: Callable[..., Any],
    shape: tuple[int, ...],
    region: object,
    *,
    seed: int | None,
    dtype: Any = "float32",
) -> FloatArray:
    """Return ``init(np.empty(shape, dtype), seed=seed)[region]``, bit for bit.

    ``init`` is an initializer (``uniform_init``) or a configured one (an
    ``InitializerPartial`` from a config, any ``functools.partial``). ``region``
    is a slice, an int, or a tuple of them, as numpy indexing takes them. For
    initializers marked :func:`elementwise` (the uniform, normal and truncated
    families, variance scaling and its named forms, constants) only the blocks
    the region touches are generated and the full array is never allocated. For
    the others (orthogonal, sparse, identity, ...) the whole array is computed and
    sliced. Initializers without a ``seed`` argument ignore ``seed``.

    >>> import paraminit
    >>> W = paraminit.initialize_region(paraminit.uniform_init, (1000, 64), slice(10, 20), seed=0)
    >>> W.shape
    (10, 64)
    """
    shape = _check_shape("initialize_region", shape)
    dt = _check_dtype("initialize_region", dtype)
    func = _unwrap(init)
    kwargs: dict[str, Any] = {"seed": seed} if _takes_seed(func) else {}
    if func not in _ELEMENTWISE:
        if _accepts(func, "inplace"):
            kwargs["inplace"] = True
        full = init(np.empty(shape, dtype=dt), **kwargs)
        _normalize_region(shape, region)  # the same errors as the fast path
        return np.array(full[region], copy=True)
    capture, constant = _capture(init, shape, dt, kwargs)
    if capture.dist is None:
        ranges, dropped = _normalize_region(shape, region)
        region_shape = tuple(len(r) for i, r in enumerate(ranges) if i not in dropped)
        return np.full(region_shape, constant, dtype=dt)
    return fill_region(capture.dist, shape, region, capture.seed, dt)
