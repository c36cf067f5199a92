"""The truncated normal: N(mean, std) conditioned on ``[a, b]``, by exact rejection per block."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..contract import FloatArray
from . import native, ziggurat
from .distributions import (
    Distribution,
    Moments,
    Refusal,
    as_0d,
    normal_cdf,
    normal_curve,
    normal_pdf,
    overflows,
    remember,
    store,
)
from .floats import F32, F64, float_key, last_key, of_key, round_down, round_up, work_dtype
from .portable import log, uniform_from_raw
from .streams import Scratch
from .ziggurat import standard_normal

__all__ = ["StandardBounds", "TruncatedNormal", "TruncatedParams"]

# Spares per block: the expected rejections plus this many standard deviations.
SPARE_SIGMAS = 4.0
# The least share of the law's mass whose draws land in [a, b] once scaled and
# rounded to the dtype: below it a fill rejects (nearly) every draw. See refusal().
MIN_REACHABLE_SHARE = 1.0 / 16.0


class StandardBounds(NamedTuple):
    """What the normal proposal tests standardized draws ``z`` against.

    The kept ``z`` are exactly the work-dtype numbers of ``[z_lo, z_hi]`` (0-d
    arrays); ``symmetric`` when ``z_lo == -z_hi``; ``acceptance`` the probability of a normal draw
    landing in ``[a, b]``.
    """

    z_lo: Any
    z_hi: Any
    symmetric: bool
    acceptance: float


class TruncatedParams(NamedTuple):
    """What a truncated normal fill of one dtype needs, computed once."""

    work: np.dtype[Any]  # the dtype drawn in
    std: Any  # 0-d arrays of the work dtype
    mean: Any
    lo: Any  # [a, b] rounded inward to the array's dtype
    hi: Any
    proposal: str  # "normal", "uniform" or "exponential"
    standard: StandardBounds | None  # for the normal proposal


_TRUNCATED_PARAMS: dict[tuple[Any, ...], TruncatedParams] = {}
# By (mean, std, a, b, dtype): the compiled calls' arguments, or None where they do not fill.
_TRUNCATED_NATIVE: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}


class TruncatedNormal(Distribution):
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
    kind = "truncated_normal"

    def __init__(self, mean: float, std: float, a: float, b: float) -> None:
        self.mean = mean
        self.std = std
        self.a = a
        self.b = b
        self.key = (TruncatedNormal, mean, std, a, b)

    # ----------------------------------------------------------------- the law

    def _standardized(self) -> tuple[float, float]:
        """``[a, b]`` in units of ``std`` from ``mean``: ``(alpha, beta)``."""
        return (self.a - self.mean) / self.std, (self.b - self.mean) / self.std

    def _acceptance(self) -> float:
        """The probability that a normal draw lands in ``[a, b]``."""
        alpha, beta = self._standardized()
        return normal_cdf(beta) - normal_cdf(alpha)

    def moments(self) -> Moments:
        """The mean and std of the truncated law, in closed form."""
        mean, std = self.mean, self.std
        alpha, beta = self._standardized()
        mass = self._acceptance()
        pa, pb = normal_pdf(alpha), normal_pdf(beta)
        a_pa = 0.0 if math.isinf(alpha) else alpha * pa
        b_pb = 0.0 if math.isinf(beta) else beta * pb
        shift = (pa - pb) / mass
        variance = std * std * (1 + (a_pa - b_pb) / mass - shift * shift)
        return Moments(mean + std * shift, math.sqrt(max(variance, 0.0)))

    def pdf(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        inside = (x >= self.a) & (x <= self.b)
        return np.where(inside, normal_curve(x, self.mean, self.std) / self._acceptance(), 0.0)

    def parameters(self) -> dict[str, float]:
        return {"loc": self.mean, "scale": self.std, "lo": self.a, "hi": self.b}

    # ----------------------------------------------------------------- set-up

    def _proposal(self) -> str:
        alpha, beta = self._standardized()
        if self._acceptance() >= 0.25:
            return "normal"
        if beta - alpha <= 2.0 or (alpha < 0 < beta):
            return "uniform"
        return "exponential"

    def params_for(self, dtype: np.dtype[Any]) -> TruncatedParams:
        """The constants of a fill of ``dtype`` (cached per parameters and dtype)."""
        key = (self.mean, self.std, self.a, self.b, dtype)
        params = _TRUNCATED_PARAMS.get(key)
        if params is None:
            work = work_dtype(dtype)
            lo_d, hi_d = round_up(self.a, dtype), round_down(self.b, dtype)
            std, mean = work.type(self.std), work.type(self.mean)
            proposal = self._proposal()
            standard = (
                self._standard_bounds(work, dtype, std, mean, lo_d, hi_d)
                if proposal == "normal"
                else None
            )
            params = TruncatedParams(work, as_0d(std), as_0d(mean), lo_d, hi_d, proposal, standard)
            remember(_TRUNCATED_PARAMS, key, params)
        return params

    def _standard_bounds(
        self, work: np.dtype[Any], dtype: np.dtype[Any], std: Any, mean: Any, lo_d: Any, hi_d: Any
    ) -> StandardBounds:
        """What the normal proposal tests standardized draws ``z`` against.

        A draw is kept when ``fl(fl(z std) + mean)``, rounded to ``dtype``, lies in
        ``[lo_d, hi_d]``. That map is monotone in ``z`` (each rounding is), so the
        kept ``z`` are exactly the work-dtype numbers of one interval
        ``[z_lo, z_hi]``, found here once by search: testing ``z`` against it
        before scaling is the same test as testing the scaled, rounded value.
        """
        w, t = work.type, dtype.type
        finfo = np.finfo(work)
        lowest, highest = float_key(w(-finfo.max)), float_key(w(finfo.max))

        def scaled(k: int) -> Any:
            with np.errstate(over="ignore"):
                return t(w(w(of_key(k, work) * std) + mean))

        with np.errstate(over="ignore"):
            alpha, beta = w((self.a - self.mean) / self.std), w((self.b - self.mean) / self.std)
        k_hi = last_key(lambda k: bool(scaled(k) <= hi_d), float_key(beta), lowest, highest)
        k_lo = last_key(lambda k: bool(scaled(k) < lo_d), float_key(alpha), lowest, highest) + 1
        if k_lo > k_hi:
            raise ValueError(
                f"TruncatedNormal: no {dtype} value of N({self.mean}, {self.std}) "
                f"lies in [{self.a}, {self.b}]"
            )
        z_lo, z_hi = of_key(k_lo, work), of_key(k_hi, work)
        symmetric = bool(z_lo == -z_hi)
        return StandardBounds(as_0d(z_lo), as_0d(z_hi), symmetric, self._acceptance())

    def refusal(self, dtype: np.dtype[Any]) -> Refusal | None:
        """``mean`` and ``std`` finite in the work dtype, ``std`` not 0 there, a number of
        ``dtype`` in ``[a, b]``, and rejection that ends: at least ``MIN_REACHABLE_SHARE``
        of the law's mass lies on draws that land in ``[a, b]`` after scaling and rounding
        (the map :meth:`_standard_bounds` searches)."""
        work = work_dtype(dtype)
        w = work.type
        for name in ("mean", "std"):
            if overflows(getattr(self, name), work):
                return Refusal(name, f"overflows {work}")
        if w(self.std) == 0:
            return Refusal("std", f"underflows to 0 in {work}")
        for name in ("a", "b"):  # rounded to +-inf, a cut-off would let infinities in
            if overflows(getattr(self, name), dtype):
                return Refusal(name, f"overflows {dtype}")
        lo_d, hi_d = round_up(self.a, dtype), round_down(self.b, dtype)
        if not (np.isfinite(lo_d) and np.isfinite(hi_d) and lo_d <= hi_d):
            return Refusal(
                "b", f"gives [a, b] = [{self.a!r}, {self.b!r}], which holds no {dtype} number"
            )
        std, mean = w(self.std), w(self.mean)
        finfo = np.finfo(work)
        lowest, highest = float_key(w(-finfo.max)), float_key(w(finfo.max))

        def scaled(k: int) -> Any:
            with np.errstate(over="ignore", invalid="ignore"):
                return dtype.type(w(w(of_key(k, work) * std) + mean))

        alpha, beta = self._standardized()
        total = _log_mass(alpha, beta)
        if not math.isfinite(total):  # the proposals' own arithmetic overflows there too
            return Refusal(
                "std",
                f"puts [a, b] = [{self.a!r}, {self.b!r}] {min(abs(alpha), abs(beta)):.3g} "
                "standard deviations from the mean, too far to draw from",
            )
        with np.errstate(over="ignore"):
            k_hi = last_key(lambda k: bool(scaled(k) <= hi_d), float_key(w(beta)), lowest, highest)
            k_lo = last_key(lambda k: bool(scaled(k) < lo_d), float_key(w(alpha)), lowest, highest)
        share = (
            0.0
            if k_lo + 1 > k_hi
            # More than all of it where rounding widens [a, b]: 1 is enough.
            else math.exp(
                min(_log_mass(float(of_key(k_lo + 1, work)), float(of_key(k_hi, work))) - total, 0)
            )
        )
        if share < MIN_REACHABLE_SHARE:
            return Refusal(
                "std",
                f"gives draws of N({self.mean!r}, {self.std!r}) that almost never land in "
                f"[a, b] = [{self.a!r}, {self.b!r}] in {dtype} ({share:.3g} of them)",
            )
        return None

    # ----------------------------------------------------------------- filling

    def _native_args(self, dtype: np.dtype[Any]) -> tuple[Any, ...] | None:
        """``(z_lo, z_hi, std, mean, add_mean, accept)`` for the compiled normal proposal in
        ``dtype``'s work dtype, or ``None`` where it does not fill (another proposal)."""
        key = (self.mean, self.std, self.a, self.b, dtype)
        try:
            return _TRUNCATED_NATIVE[key]
        except KeyError:
            pass
        params = self.params_for(dtype)
        bounds = params.standard
        args = None
        if bounds is not None:
            args = (
                float(bounds.z_lo),
                float(bounds.z_hi),
                float(params.std),
                float(params.mean),
                self.mean != 0.0,
                bounds.acceptance,
            )
        remember(_TRUNCATED_NATIVE, key, args)
        return args

    def fill_small(self, kernel: Any, seed: int, target: FloatArray) -> bool:
        """The normal proposal (:meth:`_fill_by_normal`) in C where the work dtype is the
        array's (float32, float64): draws, replacements of the values outside, scaling."""
        if target.dtype is not F32 and target.dtype is not F64:
            return False  # float16 and the like: the block path draws in float32, then rounds
        args = self._native_args(target.dtype)
        if args is None:
            return False
        kernel.truncated_small(
            seed, target, *args, SPARE_SIGMAS, ziggurat._FAIL, ziggurat._TAIL_TRIES
        )
        return True

    def fill_block(self, g: np.random.Generator, target: FloatArray, scratch: Scratch) -> None:
        params = self.params_for(target.dtype)
        if params.standard is not None:
            if self._fill_compiled(g, target, scratch):
                return
            self._fill_by_normal(g, target, scratch, params, params.standard)
            return
        work, std, mean, lo_d, hi_d = params.work, params.std, params.mean, params.lo, params.hi
        pending = np.arange(target.size)
        while pending.size:
            z = self._draw(g, pending.size, scratch, params.proposal).astype(work)
            z *= std
            z += mean
            values = z.astype(target.dtype, copy=False)
            ok = (values >= lo_d) & (values <= hi_d)  # NaN (rejected) compares False
            target[pending[ok]] = values[ok]
            pending = pending[~ok]

    def _fill_compiled(self, g: np.random.Generator, target: FloatArray, scratch: Scratch) -> bool:
        """:meth:`_fill_by_normal` in one compiled call on ``g`` where the kernel is used
        (:func:`.ziggurat.native_kernel`) and draws in ``target``'s dtype; ``False`` if not."""
        kernel = ziggurat._kernel
        if kernel is ziggurat._UNRESOLVED:
            kernel = ziggurat.native_kernel()
        module: Any = native.native() if kernel is not None else None
        args = self._native_args(target.dtype) if module is not None else None
        if args is None:
            return False
        n, work = target.size, work_dtype(target.dtype)
        z = scratch.get("zig", work, ziggurat.candidates_for(n + _spares(n, args[-1])))
        # float16 (and the like): the float32 values in a scratch, then rounded as the
        # numpy passes round theirs.
        out = target if target.dtype is work else scratch.get("tn_out", work, n)
        module.truncated(
            g.bit_generator.capsule,
            out,
            z,
            *args,
            SPARE_SIGMAS,
            ziggurat._FAIL,
            ziggurat._TAIL_TRIES,
        )
        if out is not target:
            store(out, target, scratch)
        return True

    def _draw(self, g: np.random.Generator, n: int, scratch: Scratch, proposal: str) -> FloatArray:
        """``n`` standardized float64 candidates (rejected ones are NaN).

        Uniforms ``u`` in ``(0, 1]`` from raw words; a test ``v <= exp(t)`` is
        ``log(v) <= t`` and an exponential is ``-log(u)``, with the portable
        :func:`.portable.log`, so no libm function decides a value.
        """
        alpha, beta = self._standardized()
        x = _open_uniform(g, n)
        log_v = log(_open_uniform(g, n), np.empty(n), scratch)
        if proposal == "uniform":
            x *= beta - alpha
            x += alpha
            peak = 0.0 if alpha <= 0 <= beta else min(alpha * alpha, beta * beta)
            x[log_v > (peak - x * x) / 2] = np.nan
            return x
        # Far tail on one side: work on [lo, hi] with lo > 0 and mirror if needed.
        flip = beta <= 0
        lo, hi = (-beta, -alpha) if flip else (alpha, beta)
        lam = (lo + math.sqrt(lo * lo + 4.0)) / 2.0
        log(x, x, scratch)
        x /= -lam
        x += lo
        d = x - lam
        x[(log_v > -(d * d) / 2) | (x > hi)] = np.nan
        return -x if flip else x

    def _fill_by_normal(
        self,
        g: np.random.Generator,
        target: FloatArray,
        scratch: Scratch,
        params: TruncatedParams,
        bounds: StandardBounds,
    ) -> None:
        """The normal proposal: the block's draws and spares, then each draw outside
        ``[z_lo, z_hi]`` is replaced by the next unused spare inside, in order.

        Every value is its own draw when that lies inside, else the next spare
        that does: an independent draw conditioned on the interval (exact
        rejection). Draws are tested standardized, against the interval found by
        :meth:`_standard_bounds`.
        """
        work, n = params.work, target.size
        spares = _spares(n, bounds.acceptance)
        both = standard_normal(g, n + spares, work, scratch)  # one call: one slow path
        z, spare = both[:n], both[n:]
        # np.place fills the draws outside, in ascending order, with the good
        # spares in order, in one call.
        outside = _outside(z, bounds)
        count = int(np.count_nonzero(outside))
        if count:
            np.place(z, outside, self._good_spares(g, spare, count, scratch, work, bounds))
        out = target if target.dtype is work else z
        np.multiply(z, params.std, out=out)
        if self.mean != 0.0:  # adding 0 would only turn -0.0 into 0.0
            np.add(out, params.mean, out=out)
        if out is not target:
            store(out, target, scratch)

    @staticmethod
    def _good_spares(
        g: np.random.Generator,
        spare: FloatArray,
        count: int,
        scratch: Scratch,
        work: np.dtype[Any],
        bounds: StandardBounds,
    ) -> FloatArray:
        """The spares inside ``[z_lo, z_hi]`` in order, at least ``count`` of them:
        a shortfall (rare) is made up by further draws of ``g``."""
        good: FloatArray = spare[_inside(spare, bounds)]
        while good.size < count:
            more = standard_normal(g, 2 * (count - good.size) + 64, work, scratch, "tn_more")
            good = np.concatenate((good, more[_inside(more, bounds)]))
        return good


def _spares(n: int, accept: float) -> int:
    """The normal proposal's spares for ``n`` values: the expected rejections plus
    ``SPARE_SIGMAS`` standard deviations, plus 16 (a shortfall draws more)."""
    rejected = n * (1.0 - accept)
    return max(int((rejected + SPARE_SIGMAS * math.sqrt(rejected * accept)) / accept), 0) + 16


def _open_uniform(g: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
    """``n`` float64 uniforms in ``(0, 1]``: ``1 - (w >> 11) 2**-53`` of raw words ``w``."""
    u = np.empty(n)
    uniform_from_raw(g.bit_generator.random_raw(n), u)
    np.subtract(1.0, u, out=u)
    return u


def _inside(values: FloatArray, bounds: StandardBounds) -> Any:
    """A mask of the ``values`` inside ``[z_lo, z_hi]``."""
    if bounds.symmetric:
        return np.less_equal(np.abs(values), bounds.z_hi)
    mask = np.greater_equal(values, bounds.z_lo)
    mask &= np.less_equal(values, bounds.z_hi)
    return mask


def _outside(values: FloatArray, bounds: StandardBounds) -> Any:
    """A mask of the ``values`` outside ``[z_lo, z_hi]``."""
    if bounds.symmetric:
        return np.greater(np.abs(values), bounds.z_hi)
    mask = np.less(values, bounds.z_lo)
    mask |= np.greater(values, bounds.z_hi)
    return mask


def _log_upper_tail(x: float) -> float:
    """``log P(Z > x)`` for a standard normal ``Z``, without underflow in the far tail."""
    if x == math.inf:
        return -math.inf
    if x < 30.0:
        return math.log(0.5 * math.erfc(x / math.sqrt(2.0)))
    # Mills' ratio: P(Z > x) = pdf(x) / x * (1 - 1/x**2 + 3/x**4 - ...).
    inverse2 = 1.0 / x / x
    return (
        -0.5 * x * x
        - math.log(x)
        - 0.5 * math.log(2.0 * math.pi)
        + math.log1p(-inverse2 + 3.0 * inverse2 * inverse2)
    )


def _log_mass(x1: float, x2: float) -> float:
    """``log P(x1 <= Z <= x2)``; ``-inf`` for an empty interval."""
    if x1 + x2 < 0:  # mirror, so that P(Z > x1) is the larger tail: no cancellation
        x1, x2 = -x2, -x1
    upper1, upper2 = _log_upper_tail(x1), _log_upper_tail(x2)
    if upper2 >= upper1:
        return -math.inf
    return upper1 + math.log1p(-math.exp(upper2 - upper1))
