"""The distributions the engine fills blocks from: uniform and normal, Box-Muller, the normal law.

A distribution turns a block's generator into values from its raw words only
(``fill_block`` for small arrays, ``fill_bulk`` for the blocks of large ones;
see :mod:`.portable`) and describes its own law (``kind``, ``moments``, ``pdf``,
``parameters``), so a consumer asks the distribution instead of knowing its class.
It sees only the generator and the thread's scratch buffers, never the streams.
The truncated normal lives in :mod:`.truncated`.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt

from ..contract import FloatArray
from .floats import (
    F16,
    F32,
    F64,
    float_key,
    last_key,
    of_key,
    round_up,
    to_float16,
    work_dtype,
)
from .portable import log, sincos, uniform_from_raw, words32
from .streams import Scratch

__all__ = [
    "Distribution",
    "Moments",
    "Normal",
    "NormalParams",
    "Uniform",
    "UniformParams",
    "largest_uniform",
    "normal_cdf",
    "normal_curve",
    "normal_pdf",
    "standard_normal_bulk",
]

_TWO_POW_M32 = 2.0**-32
_U11, _U12 = np.uint64(11), np.uint64(12)
# Radius words below this are refined with 53 more bits (see standard_normal_bulk).
_TAIL_WORDS = 1 << 8


def standard_normal_bulk(
    g: np.random.Generator,
    buf: FloatArray,
    scratch: Scratch,
    spare: FloatArray | None = None,
) -> FloatArray:
    """Fill the 1-D contiguous ``buf`` (float32 or float64) with N(0, 1) by Box-Muller.

    Pairs ``(r cos t, r sin t)``, ``r = sqrt(-2 log u)``, ``t = 2 pi k / 2**bits``;
    cosines fill the first half of ``buf`` (``m = ceil(n / 2)`` values), sines
    the rest. With ``spare`` (no longer than ``buf``), the same for the ``n``
    values of ``buf`` followed by ``spare``, without a buffer that holds both.
    Returns the radii ``r`` (``m`` values of ``buf``'s dtype, a scratch buffer
    valid until the next call): value ``j`` and value ``j + m`` are ``r[j]`` times a cosine
    and a sine, so neither exceeds ``r[j]`` in magnitude.

    Only raw words of ``g``'s bit generator and the portable :func:`.portable.log`
    and :func:`.portable.sincos` make the values, so they are the same on every
    CPU and numpy version. float32: one raw 64-bit draw per pair, its low 32-bit
    word ``k`` gives ``u = (k + 1/2) 2**-32`` and its high word the angle
    (``bits = 32``); the rare pairs with ``k < 2**8`` (``u < 2**-24``, the tail
    beyond 5.8 sigma) get ``u = (k + w) 2**-32`` with a fresh 53-bit ``w`` in
    ``(0, 1)``, so the tail is exact down to ``u ~ 2**-85`` (13 sigma) instead of
    stopping at 6.7 sigma. float64: ``m`` words give ``u = 1 - (w >> 11) 2**-53``
    in ``(0, 1]``, ``m`` more the angles' 53-bit words ``w >> 11``. ``log``
    runs in float64 for both; float32 rounds ``-2 log u`` to float32 and takes
    ``sqrt``, ``cos``, ``sin`` and the products in float32.
    """
    n = buf.size if spare is None else buf.size + spare.size
    m = (n + 1) // 2
    raw = g.bit_generator.random_raw
    work = buf.dtype
    u = scratch.get("bm_u", F64, m)
    if work == F64:
        uniform_from_raw(raw(m), u)
        np.subtract(1.0, u, out=u)
        angle: Any = raw(m)
        np.right_shift(angle, _U11, out=angle)
        radius = log(u, u, scratch)
    else:
        halves = words32(raw(m))
        k = halves[0::2]
        np.add(k, 0.5, out=u)
        if u.min() < _TAIL_WORDS:  # ~0.2 % of blocks; a min is cheaper than a search
            tail = np.flatnonzero(u < _TAIL_WORDS)
            fresh = raw(tail.size)
            np.right_shift(fresh, _U12, out=fresh)
            u[tail] = k[tail] + (fresh * 2.0**-52 + 2.0**-53)
        np.multiply(u, _TWO_POW_M32, out=u)
        angle = scratch.get("bm_k", np.uint32, m)
        angle[...] = halves[1::2]
        radius = scratch.get("bm_r", work, m)
        log(u, u, scratch, short=True)
        radius[...] = u  # rounded once to float32
    np.multiply(radius, -2.0, out=radius)
    np.sqrt(radius, out=radius)
    cos, sin = scratch.get("bm_cos", work, m), scratch.get("bm_sin", work, m)
    sincos(angle, cos, sin, scratch)
    np.multiply(cos, radius, out=buf[:m])
    n_sines = buf.size - m
    np.multiply(sin[:n_sines], radius[:n_sines], out=buf[m:])
    if spare is not None:
        np.multiply(sin[n_sines : n - m], radius[n_sines : n - m], out=spare)
    return radius


def normal_cdf(x: float) -> float:
    """P(Z <= x) for a standard normal Z."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_pdf(z: float) -> float:
    """The standard normal density at ``z`` (0 at an infinite ``z``)."""
    return 0.0 if math.isinf(z) else math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def normal_curve(x: npt.NDArray[np.float64], loc: float, scale: float) -> npt.NDArray[np.float64]:
    z = (x - loc) / scale
    curve: npt.NDArray[np.float64] = np.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * scale)
    return curve


# Per (parameters, dtype) constants of each distribution, computed once: an
# initializer builds a new distribution object on every call, and these numpy
# scalar computations would cost more than filling a small array.
PARAMS_LIMIT = 4096


def remember(cache: dict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> None:
    """Store ``value`` in a parameter cache, emptied when it reaches ``PARAMS_LIMIT``."""
    if len(cache) >= PARAMS_LIMIT:
        cache.clear()
    cache[key] = value


def as_0d(value: Any) -> np.ndarray[Any, Any]:
    """``value`` as a 0-d array: a ufunc takes one in half the time of a numpy scalar."""
    return np.array(value)


class Moments(NamedTuple):
    """The mean and standard deviation of a distribution's values."""

    mean: float
    std: float


class Distribution:
    """A distribution the engine can fill blocks from, and that describes its own law.

    ``fill_block(g, target, scratch)`` fills the 1-D C-contiguous ``target`` (any
    float dtype) from the raw words of ``g``'s bit generator (never a ``Generator``
    sampler: NEP 19 does not freeze those); small arrays use it.
    ``fill_bulk`` is the same for blocks of large arrays, where ``g`` is a fast
    SFC64 generator; it defaults to ``fill_block``. Both must consume ``g``
    deterministically: the values are a function of ``g``'s state and
    ``target``'s size and dtype only. ``scratch`` lends reusable buffers.

    The law: ``kind`` names it, :meth:`moments` gives the values' mean and std,
    :meth:`pdf` the density, :meth:`parameters` its parameters by the names
    ``loc``, ``scale``, ``lo`` and ``hi``.
    """

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    kind: ClassVar[str] = ""

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(getattr(self, f) for f in self._fields)))

    def fill_block(self, g: np.random.Generator, target: FloatArray, scratch: Scratch) -> None:
        raise NotImplementedError  # pragma: no cover

    def fill_bulk(self, g: np.random.Generator, target: FloatArray, scratch: Scratch) -> None:
        self.fill_block(g, target, scratch)

    def moments(self) -> Moments:
        raise NotImplementedError  # pragma: no cover

    def pdf(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        raise NotImplementedError  # pragma: no cover

    def parameters(self) -> dict[str, float]:
        raise NotImplementedError  # pragma: no cover


# float16 targets of at least this many values are rounded by floats.to_float16
# (the same bits as numpy's cast, in a quarter of the time); fewer by numpy.
_FAST_F16 = 1024

# The largest 24-bit word of the float32 bulk path: u = k 2**-24.
_BULK_K_MAX = (1 << 24) - 1


def largest_uniform(work: np.dtype[Any]) -> Any:
    """The largest uniform numpy's ``Generator.random`` gives in ``work``: ``1 - 2**-24`` or
    ``1 - 2**-53``."""
    return work.type(1.0) - work.type(np.finfo(work).epsneg)


def _scale24(scale: Any) -> Any:
    """``scale 2**-24`` in float32 when that product is exact (the bulk path), else ``None``."""
    if scale.dtype != F32:
        return None
    scale24 = np.float32(scale * np.float32(2.0**-24))
    return scale24 if np.float32(scale24 * np.float32(2.0**24)) == scale else None


class UniformParams(NamedTuple):
    """What a uniform fill of one dtype needs, computed once (see :class:`Uniform`)."""

    work: np.dtype[Any]  # the dtype drawn in
    scale: Any  # 0-d array: values are lo + scale * u
    lo: Any  # 0-d array
    clamp_lo: Any  # a floor to clamp to in the array's dtype, or None
    clamp_hi: Any  # a ceiling to clamp to, or None
    scale24: Any  # scale 2**-24 when exact (the float32 bulk path), or None


class NormalParams(NamedTuple):
    """What a normal fill of one dtype needs, computed once."""

    work: np.dtype[Any]
    std: Any  # 0-d arrays
    mean: Any


_UNIFORM_PARAMS: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_NORMAL_PARAMS: dict[tuple[Any, ...], tuple[Any, ...]] = {}


class Uniform(Distribution):
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
    kind = "uniform"

    def __init__(self, lo: float, hi: float) -> None:
        self.lo = lo
        self.hi = hi

    def moments(self) -> Moments:
        return Moments((self.lo + self.hi) / 2, (self.hi - self.lo) / math.sqrt(12))

    def pdf(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        inside = (x >= self.lo) & (x <= self.hi)
        return np.where(inside, 1.0 / (self.hi - self.lo), 0.0)

    def parameters(self) -> dict[str, float]:
        return {"lo": self.lo, "hi": self.hi}

    def params_for(self, dtype: np.dtype[Any]) -> UniformParams:
        """The constants of a fill of ``dtype`` (cached per parameters and dtype)."""
        return UniformParams._make(self._cached(dtype))

    def _cached(self, dtype: np.dtype[Any]) -> tuple[Any, ...]:
        """The fields of :meth:`params_for` as an exact tuple, for the fill paths to
        unpack: CPython unpacks an exact tuple ~45 ns faster than a NamedTuple, which
        a call on a (64,) array notices."""
        key = (self.lo, self.hi, dtype)
        params = _UNIFORM_PARAMS.get(key)
        if params is None:
            work = work_dtype(dtype)
            if work == F32 and not np.isfinite(np.float32(self.hi - self.lo)):
                work = F64  # (hi - lo) overflows float32: draw in float64
            fitted = self._fit(work) if work == dtype else None
            if fitted is not None:
                scale, lo = fitted
                clamp_lo = clamp_hi = None
            else:
                w, t = work.type, dtype.type
                scale, lo = w(self.hi - self.lo), w(self.lo)
                with np.errstate(over="ignore"):
                    top, bottom = t(w(scale * largest_uniform(work)) + lo), t(lo)
                below_hi = np.nextafter(t(self.hi), t(-np.inf))
                clamp_hi = below_hi if top > below_hi else None
                clamp_lo = t(self.lo) if bottom < t(self.lo) else None
            params = tuple(
                UniformParams(work, as_0d(scale), as_0d(lo), clamp_lo, clamp_hi, _scale24(scale))
            )
            remember(_UNIFORM_PARAMS, key, params)
        return params

    def _fit(self, work: np.dtype[Any]) -> tuple[Any, Any] | None:
        """``(scale', lo')`` whose values all lie in ``[lo, hi)`` in ``work``, or ``None``.

        Checks the largest value of each path with its own formula: ``fill_block``'s
        ``fl(fl(scale u_max) + lo)`` and ``fill_bulk``'s ``fl(fl(k_max scale24) + lo)``.
        """
        w = work.type
        lo = round_up(self.lo, work)
        top = np.nextafter(w(self.hi), w(-np.inf))  # the largest value allowed
        start = w(self.hi - self.lo)
        if not (lo <= top and np.isfinite(start)):
            return None
        u_max, k_max = largest_uniform(work), w(_BULK_K_MAX)

        def fits(k: int) -> bool:
            scale = of_key(k, work)
            with np.errstate(over="ignore"):
                if w(w(scale * u_max) + lo) > top:
                    return False
                scale24 = _scale24(scale) if work == F32 else None
                return scale24 is None or bool(w(w(k_max * scale24) + lo) <= top)

        zero = float_key(w(0.0))
        best = last_key(fits, float_key(start), zero, float_key(start))
        return None if best < zero else (of_key(best, work), lo)

    def fill_block(self, g: np.random.Generator, target: FloatArray, scratch: Scratch) -> None:
        # UniformParams' fields, unpacked at once: this runs on every small call.
        work, scale, lo, clamp_lo, clamp_hi, _ = self._cached(target.dtype)
        # Builtin dtypes are singletons: ``is`` is the cheap test (a miss is only slower).
        n = target.size
        buf = target if target.dtype is work else scratch.get("work", work, n)
        uniform_from_raw(g.bit_generator.random_raw(n if work is F64 else (n + 1) // 2), buf)
        np.multiply(buf, scale, buf)
        np.add(buf, lo, buf)
        if buf is not target or clamp_hi is not None or clamp_lo is not None:
            self._finish(buf, target, clamp_lo, clamp_hi, scratch)

    def fill_bulk(self, g: np.random.Generator, target: FloatArray, scratch: Scratch) -> None:
        """float32: ``u = (w >> 8) 2**-24`` (numpy's own float32 rule) from raw 64-bit
        draws split into two 32-bit words ``w``; one raw draw per two values costs
        less than numpy's per-value float32 sampler. float64: as ``fill_block``."""
        work, _, lo, clamp_lo, clamp_hi, scale24 = self._cached(target.dtype)
        if work is not F32 or scale24 is None:
            self.fill_block(g, target, scratch)
            return
        n = target.size
        buf = target if target.dtype is work else scratch.get("work", work, n)
        words = g.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n]
        np.right_shift(words, 8, out=words)
        # fl(k * fl(scale 2**-24)) == fl(fl(k 2**-24) * scale): both products are exact scalings.
        np.multiply(words, scale24, out=buf, dtype=np.float32)
        np.add(buf, lo, buf)
        self._finish(buf, target, clamp_lo, clamp_hi, scratch)

    @staticmethod
    def _finish(
        buf: FloatArray, target: FloatArray, clamp_lo: Any, clamp_hi: Any, scratch: Scratch
    ) -> None:
        # The clamps are numbers of target's dtype, so exact in the wider work dtype, and
        # rounding is monotone: clamping the work values before rounding gives the same
        # bits as clamping after, without a pass of float16 arithmetic (emulated, ~5x slower).
        if clamp_hi is not None:
            np.minimum(buf, clamp_hi.astype(buf.dtype), out=buf)
        if clamp_lo is not None:
            np.maximum(buf, clamp_lo.astype(buf.dtype), out=buf)
        if buf is target:
            return
        if target.dtype is F16 and buf.dtype is F32 and buf.size >= _FAST_F16:
            to_float16(buf, target, scratch)
        else:
            target[...] = buf


class Normal(Distribution):
    """N(mean, std)."""

    __slots__ = ("mean", "std")
    _fields = ("mean", "std")
    kind = "normal"

    def __init__(self, mean: float, std: float) -> None:
        self.mean = mean
        self.std = std

    def moments(self) -> Moments:
        return Moments(self.mean, self.std)

    def pdf(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return normal_curve(x, self.mean, self.std)

    def parameters(self) -> dict[str, float]:
        return {"loc": self.mean, "scale": self.std}

    def params_for(self, dtype: np.dtype[Any]) -> NormalParams:
        """The constants of a fill of ``dtype`` (cached per parameters and dtype)."""
        return NormalParams._make(self._cached(dtype))

    def _cached(self, dtype: np.dtype[Any]) -> tuple[Any, ...]:
        """:meth:`params_for` as an exact tuple (see :meth:`Uniform._cached`)."""
        key = (self.mean, self.std, dtype)
        params = _NORMAL_PARAMS.get(key)
        if params is None:
            work = work_dtype(dtype)
            params = tuple(
                NormalParams(work, as_0d(work.type(self.std)), as_0d(work.type(self.mean)))
            )
            remember(_NORMAL_PARAMS, key, params)
        return params

    def fill_block(self, g: np.random.Generator, target: FloatArray, scratch: Scratch) -> None:
        work, std, mean = self._cached(target.dtype)  # NormalParams' fields
        buf = target if target.dtype is work else scratch.get("work", work, target.size)
        standard_normal_bulk(g, buf, scratch)
        np.multiply(buf, std, buf)
        np.add(buf, mean, buf)
        if buf is not target:
            target[...] = buf
