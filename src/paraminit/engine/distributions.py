"""The distributions the engine fills blocks from: uniform, normal (a ziggurat), the normal law.

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
from .portable import LITTLE, U32, uniform_from_raw, words32
from .streams import Scratch
from .ziggurat import _TAIL_TRIES, standard_normal

__all__ = [
    "NORMAL_REACH",
    "Distribution",
    "Moments",
    "Normal",
    "NormalParams",
    "Refusal",
    "Uniform",
    "UniformParams",
    "largest_uniform",
    "normal_cdf",
    "normal_curve",
    "normal_pdf",
]


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


class Refusal(NamedTuple):
    """Why a distribution cannot fill a dtype: the parameter to blame and the reason."""

    parameter: str
    reason: str


def overflows(value: float, dtype: np.dtype[Any]) -> bool:
    """Whether ``value`` rounds to an infinity (or is one) in ``dtype``."""
    with np.errstate(over="ignore"):
        return not np.isfinite(dtype.type(value))


# No standard normal draw of the engine exceeds this in magnitude: the
# ziggurat's tail (engine/ziggurat.py) stops near 13.7 (R - log(2**-53) / R,
# R = 3.654, its smallest open uniform 2**-53). A Normal must stay finite this far out.
NORMAL_REACH = 14.0


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

    __slots__ = ("key",)
    _fields: ClassVar[tuple[str, ...]] = ()
    kind: ClassVar[str] = ""
    #: ``(class, *parameters)``, set once by ``__init__``: equality, hashing and the caches
    #: keyed by a distribution use it (a distribution is a value, never changed after).
    key: tuple[Any, ...]

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Distribution)
        return self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def fill_block(self, g: np.random.Generator, target: FloatArray, scratch: Scratch) -> None:
        raise NotImplementedError  # pragma: no cover

    def fill_bulk(self, g: np.random.Generator, target: FloatArray, scratch: Scratch) -> None:
        self.fill_block(g, target, scratch)

    def fill_small(self, kernel: Any, seed: int, target: FloatArray) -> bool:
        """Fill the 1-D C-contiguous ``target`` of a small array (one block) by one call of the
        compiled ``kernel`` (:func:`.blocks.small_kernel`) from Philox keyed by ``seed``, the
        values :meth:`fill_block` gives; ``False`` (nothing written) where it has no such call."""
        return False

    def moments(self) -> Moments:
        raise NotImplementedError  # pragma: no cover

    def pdf(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        raise NotImplementedError  # pragma: no cover

    def parameters(self) -> dict[str, float]:
        raise NotImplementedError  # pragma: no cover

    def refusal(self, dtype: np.dtype[Any]) -> Refusal | None:
        """Why this distribution cannot fill ``dtype`` with finite values of its law, or
        ``None``. A fill of a refused dtype may not end or may give inf."""
        return None


# float16 targets of at least this many values are rounded by floats.to_float16
# (the same bits as numpy's cast, in a quarter of the time); fewer by numpy.
_FAST_F16 = 1024


def largest_uniform(work: np.dtype[Any]) -> Any:
    """The largest uniform numpy's ``Generator.random`` gives in ``work``: ``1 - 2**-24`` or
    ``1 - 2**-53``."""
    return work.type(1.0) - work.type(np.finfo(work).epsneg)


def _scale24(scale: Any) -> Any:
    """``scale 2**-24`` in float32 when that product is exact (the 24-bit path), else ``None``."""
    if scale.dtype != F32:
        return None
    scale24 = np.float32(scale * np.float32(2.0**-24))
    return scale24 if np.float32(scale24 * np.float32(2.0**24)) == scale else None


# A 0-d array: a ufunc takes one in half the time of a Python int or numpy scalar.
_EIGHT = as_0d(np.uint32(8))


class UniformParams(NamedTuple):
    """What a uniform fill of one dtype needs, computed once (see :class:`Uniform`)."""

    work: np.dtype[Any]  # the dtype drawn in
    scale: Any  # 0-d array: values are lo + scale * u
    lo: Any  # 0-d array
    clamp_lo: Any  # a floor to clamp to in the array's dtype, or None
    clamp_hi: Any  # a ceiling to clamp to, or None
    scale24: Any  # 0-d array: scale 2**-24 when exact (the float32 24-bit path), or None


class NormalParams(NamedTuple):
    """What a normal fill of one dtype needs, computed once."""

    work: np.dtype[Any]
    std: Any  # 0-d arrays
    mean: Any


def store(buf: FloatArray, target: FloatArray, scratch: Scratch) -> None:
    """``target[...] = buf`` for a block's work values: float32 into float16 by
    :func:`.floats.to_float16` (numpy's cast, bit for bit, in a fraction of its time)."""
    if target.dtype is F16 and buf.dtype is F32 and buf.size >= _FAST_F16:
        to_float16(buf, target, scratch)
    else:
        target[...] = buf


_UNIFORM_PARAMS: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_NORMAL_PARAMS: dict[tuple[Any, ...], tuple[Any, ...]] = {}
# The compiled small-array call's arguments after (seed, target), per (parameters,
# dtype): Python floats, or None where that call does not apply (float16, clamps).
_UNIFORM_SMALL: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
_NORMAL_SMALL: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}


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
        self.key = (Uniform, lo, hi)

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
            if work == F32 and overflows(self.hi - self.lo, F32):
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
            scale24 = _scale24(scale)
            params = tuple(
                UniformParams(
                    work,
                    as_0d(scale),
                    as_0d(lo),
                    clamp_lo,
                    clamp_hi,
                    None if scale24 is None else as_0d(scale24),
                )
            )
            remember(_UNIFORM_PARAMS, key, params)
        return params

    def _fit(self, work: np.dtype[Any]) -> tuple[Any, Any] | None:
        """``(scale', lo')`` whose values all lie in ``[lo, hi)`` in ``work``, or ``None``.

        Checks the largest value, ``fl(fl(scale u_max) + lo)``; the 24-bit path's
        ``fl(fl(k_max scale24) + lo)`` is the same number (see :meth:`fill_block`).
        """
        w = work.type
        lo = round_up(self.lo, work)
        top = np.nextafter(w(self.hi), w(-np.inf))  # the largest value allowed
        start = w(self.hi - self.lo)
        if not (lo <= top and np.isfinite(start)):
            return None
        u_max = largest_uniform(work)

        def fits(k: int) -> bool:
            with np.errstate(over="ignore"):
                return bool(w(w(of_key(k, work) * u_max) + lo) <= top)

        zero = float_key(w(0.0))
        best = last_key(fits, float_key(start), zero, float_key(start))
        return None if best < zero else (of_key(best, work), lo)

    def fill_block(self, g: np.random.Generator, target: FloatArray, scratch: Scratch) -> None:
        """float32 work: ``u = (w >> 8) 2**-24`` (numpy's own float32 rule) for the 32-bit
        halves ``w`` of raw 64-bit draws, and ``fl(k * fl(scale 2**-24))``, which equals
        ``fl(fl(k 2**-24) * scale)`` as both products are exact scalings: one multiply
        fewer, and one raw draw per two values. Otherwise ``lo + scale * u``. Small arrays
        and the blocks of large ones both come here."""
        # UniformParams' fields, unpacked at once: this runs on every small call, so the
        # cache is read here (a hit costs no call) and filled by _cached.
        dtype = target.dtype
        params = _UNIFORM_PARAMS.get((self.lo, self.hi, dtype)) or self._cached(dtype)
        work, scale, lo, clamp_lo, clamp_hi, scale24 = params
        n = target.size
        # Builtin dtypes are singletons: ``is`` is the cheap test (a miss is only slower).
        buf = target if dtype is work else scratch.get("work", work, n)
        if scale24 is not None:
            raw = g.bit_generator.random_raw((n + 1) >> 1)
            words = raw.view(U32) if LITTLE else words32(raw)
            if n & 1:
                words = words[:n]
            np.right_shift(words, _EIGHT, words)
            buf[...] = words  # exact (k < 2**24); a cast in the multiply costs twice as much
            np.multiply(buf, scale24, buf)
        else:
            uniform_from_raw(g.bit_generator.random_raw(n if work is F64 else (n + 1) >> 1), buf)
            np.multiply(buf, scale, buf)
        np.add(buf, lo, buf)
        if buf is not target or clamp_hi is not None or clamp_lo is not None:
            self._finish(buf, target, clamp_lo, clamp_hi, scratch)

    def fill_small(self, kernel: Any, seed: int, target: FloatArray) -> bool:
        """:meth:`fill_block`'s formulas in C, where the work dtype is the array's and no
        clamp is needed: ``k scale24`` (float32 24-bit path), ``(k 2**-24) scale``, or
        ``((w >> 11) 2**-53) scale``, then ``+ lo``, each one rounded step of the dtype."""
        key = (self.lo, self.hi, target.dtype)
        try:
            args = _UNIFORM_SMALL[key]
        except KeyError:
            args = self._small_args(target.dtype)
            remember(_UNIFORM_SMALL, key, args)
        if args is None:
            return False
        kernel.uniform(seed, target, *args)
        return True

    def _small_args(self, dtype: np.dtype[Any]) -> tuple[Any, ...] | None:
        work, scale, lo, clamp_lo, clamp_hi, scale24 = self._cached(dtype)
        if work is not dtype or clamp_lo is not None or clamp_hi is not None:
            return None
        if scale24 is not None:
            return (float(scale24), float(lo), False)
        return (float(scale), float(lo), True)

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
        if buf is not target:
            store(buf, target, scratch)

    def refusal(self, dtype: np.dtype[Any]) -> Refusal | None:
        """``lo`` and ``hi`` finite in ``dtype``, ``hi - lo`` finite, and a number of ``dtype``
        that is ``>= lo`` and below ``hi`` rounded to ``dtype`` (the fill's ceiling)."""
        for name in ("lo", "hi"):
            if overflows(getattr(self, name), dtype):
                return Refusal(name, f"overflows {dtype}")
        if not math.isfinite(self.hi - self.lo):
            return Refusal("hi", f"is too far from lo={self.lo!r}: hi - lo overflows float64")
        if not round_up(self.lo, dtype) < dtype.type(self.hi):
            return Refusal(
                "hi",
                f"gives [lo, hi) = [{self.lo!r}, {self.hi!r}), which holds no {dtype} number "
                f"below hi's {dtype} value",
            )
        return None


class Normal(Distribution):
    """N(mean, std)."""

    __slots__ = ("mean", "std")
    _fields = ("mean", "std")
    kind = "normal"

    def __init__(self, mean: float, std: float) -> None:
        self.mean = mean
        self.std = std
        self.key = (Normal, mean, std)

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

    def fill_small(self, kernel: Any, seed: int, target: FloatArray) -> bool:
        """:meth:`fill_block` in C where the work dtype is the array's (float32, float64)."""
        key = (self.mean, self.std, target.dtype)
        try:
            args = _NORMAL_SMALL[key]
        except KeyError:
            work, std, mean = self._cached(target.dtype)
            args = None
            if work is target.dtype:
                args = (float(std), float(mean), self.mean != 0.0, _TAIL_TRIES)
            remember(_NORMAL_SMALL, key, args)
        if args is None:
            return False
        kernel.normal(seed, target, *args)
        return True

    def fill_block(self, g: np.random.Generator, target: FloatArray, scratch: Scratch) -> None:
        work, std, mean = self._cached(target.dtype)  # NormalParams' fields
        z = standard_normal(g, target.size, work, scratch)
        out = target if target.dtype is work else z
        np.multiply(z, std, out=out)
        if self.mean != 0.0:  # adding 0 would only turn -0.0 into 0.0
            np.add(out, mean, out=out)
        if out is not target:
            store(out, target, scratch)

    def refusal(self, dtype: np.dtype[Any]) -> Refusal | None:
        """``mean`` and ``std`` finite in the work dtype, and ``mean +- NORMAL_REACH * std``
        finite in ``dtype``."""
        work = work_dtype(dtype)
        for name in ("mean", "std"):
            if overflows(getattr(self, name), work):
                return Refusal(name, f"overflows {work}")
        # The largest finite number of dtype, asked of the dtype itself: np.finfo knows
        # only numpy's own floats, not ml_dtypes' bfloat16.
        limit = float(np.nextafter(dtype.type(np.inf), dtype.type(0)))
        if abs(self.mean) + NORMAL_REACH * self.std > limit:
            name = "std" if NORMAL_REACH * self.std > limit else "mean"
            return Refusal(
                name,
                f"overflows {dtype}: values reach mean +- {NORMAL_REACH:g} std "
                f"= {self.mean!r} +- {NORMAL_REACH * self.std:.6g}, beyond {limit:g}",
            )
        return None
