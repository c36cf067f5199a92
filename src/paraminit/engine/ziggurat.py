"""The standard normal by a vectorized 256-layer ziggurat, from raw words and exact operations.

Marsaglia and Tsang's (2000) ziggurat covers the half density with 256 layers
of equal area: layer 0 is the base rectangle ``[0, R] x [0, f(R)]`` plus the
tail beyond ``R``, layer ``i >= 1`` the rectangle ``[0, X[i]] x [F[i],
F[i - 1]]`` (the tables of :mod:`._ziggurat`, written once by
tools/ziggurat_tables.py). A candidate is one word: its top 8 bits pick the
layer, the next bit the sign, its low 23 (float32: a 32-bit half of a raw
word) or 52 (float64: a raw word with 3 bits unused) bits a uniform ``u``, an
exact multiple of ``2**-23`` or ``2**-52``; its value is ``x = u X[i]``, one
rounded product in the work dtype.

The fast path needs no transcendental: one gather, from a table indexed by
the layer, the sign and the top ``_BUCKET_BITS`` bits of ``u``, gives
``+-X[i]`` where every ``u`` of that bucket lies below ``K[i]`` (then ``u X[i] <
X[i - 1]``: the point is surely under the density), NaN elsewhere; ``x = u
T[index]`` is the value, or NaN for the ~2.4 % of candidates the exact slow
path decides: Marsaglia's wedge test ``F[i] + v (F[i-1] - F[i]) < exp(-x**2/2)``
as ``log(...) < -x**2/2`` (always true for ``u < K[i]``), and the tail
``R + t``, ``t = -log(u1)/R``, kept when ``-2 log(u2) > t**2`` (tries repeat
until one passes), with the portable :func:`.portable.log` (a block with at
most ``_FEW`` such candidates decides them on Python floats, bit for bit the
same). Candidates that fail are replaced by spares (see
:func:`standard_normal`). No libm or SIMD function decides a value.

The optional compiled kernel ``paraminit._native`` runs these same steps in one
pass with the GIL released: the same values and the same words consumed. It is
used when it was built, unless ``PARAMINIT_NATIVE=0`` (see :mod:`.native`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..contract import FloatArray
from . import native, portable
from ._ziggurat import K23, K52, X32, F, R, X
from .portable import log, log1, words32
from .streams import Scratch

__all__ = ["candidates_for", "native_kernel", "standard_normal"]

# Bits of u in the fast table's index: candidates in a bucket that straddles
# K[i] go to the slow path (0.9 % of them at 6 bits; 7 bits was no faster, 5 bits
# 9 % slower: a bigger table gathers slower, more slow candidates cost more).
_BUCKET_BITS = 6
# Spares drawn with a block: a candidate fails with probability 0.67 % (the
# ziggurat's efficiency is 0.9933); the expected failures plus 4 standard
# deviations plus 16.
_FAIL = 0.0068


class _Layout(NamedTuple):
    """How one work dtype draws candidates."""

    dtype: Any  # np.float32 or np.float64
    word: Any  # np.uint32 or np.uint64
    mantissa: int  # bits of u: 23 or 52
    fast: Any  # the fast table, indexed by (w >> index_shift) & index_mask
    index_shift: Any
    index_mask: Any
    low: Any  # the mask of u's bits
    one: Any  # the bits of 1.0: (bits of u | one) - 1 = u exactly
    signed: Any  # by [layer | sign]: +-X[layer] in the work dtype
    base: float  # K[0]: layer 0 with u below it is in the base rectangle, else the tail


def _layout(dtype: Any) -> _Layout:
    is32 = dtype is np.float32
    word = np.uint32 if is32 else np.uint64
    mantissa = 23 if is32 else 52
    k, x = (K23, X32) if is32 else (K52, X)
    buckets = 1 << _BUCKET_BITS
    top = (np.arange(buckets) + 1.0) / buckets  # each bucket's upper end
    width = np.array(x, dtype)
    sure = np.where(top[None, :] <= np.array(k)[:, None], width[:, None], np.nan).astype(dtype)
    return _Layout(
        dtype,
        word,
        mantissa,
        np.stack((sure, -sure), axis=1).reshape(-1),
        word(mantissa - _BUCKET_BITS),
        np.intp((1 << (9 + _BUCKET_BITS)) - 1),
        word((1 << mantissa) - 1),
        word(0x3F800000 if is32 else 0x3FF0000000000000),
        np.stack((width, -width), axis=1).reshape(-1),
        k[0],
    )


_LAYOUTS = {np.dtype(np.float32): _layout(np.float32), np.dtype(np.float64): _layout(np.float64)}
_F = np.array(F, np.float64)
_F_STEP = np.array((0.0, *(F[i - 1] - F[i] for i in range(1, len(F)))), np.float64)
_U11 = np.uint64(11)
_TWO_M53 = 2.0**-53


def candidates_for(n: int) -> int:
    """The candidates :func:`standard_normal` draws for ``n`` values: ``n`` plus spares for
    the expected failures and 4 of their standard deviations, plus 16."""
    expected = n * _FAIL
    return n + int(expected + 4.0 * math.sqrt(expected)) + 16


def standard_normal(
    g: np.random.Generator, n: int, dtype: np.dtype[Any], scratch: Scratch, name: str = "zig"
) -> FloatArray:
    """``n`` N(0, 1) values of float32 or float64 ``dtype``, in a scratch buffer (by ``name``).

    The block draws ``n + s`` candidates at once (``s`` spares, 546 for
    65,536): float32 from the 32-bit halves of ``ceil((n + s) / 2)`` raw words,
    low half first, float64 one raw word each. Value ``j`` is candidate ``j``
    when that passes; a failing one takes the next spare (candidates ``n`` on)
    that passes, in order, so each value is an independent exact draw and the
    values depend only on the generator's state and ``n``. The slow path's
    words come after (see :func:`_exact`); a shortfall of spares (4 sigma,
    rare) draws more candidates.
    """
    lay = _LAYOUTS[dtype]
    total = candidates_for(n)
    out = scratch.get(name, lay.dtype, total)
    kernel = _kernel if _kernel is not _UNRESOLVED else native_kernel()
    if kernel is not None:
        kernel(g.bit_generator.capsule, out, n, _TAIL_TRIES)
        return out[:n]
    _candidates(g, total, lay, out, scratch)
    slow = np.flatnonzero(np.isnan(out))
    if slow.size:
        _settle(g, out, slow, n, lay, scratch)
    return out[:n]


def _candidates(
    g: np.random.Generator, total: int, lay: _Layout, out: Any, scratch: Scratch
) -> None:
    """The fast path: ``out`` = the candidates' values, NaN where the slow path decides.

    Keeps each candidate's ``[layer | sign | bucket]`` in scratch ``zig_index``
    and its ``u`` in ``zig_u`` for the slow path.
    """
    raw = g.bit_generator.random_raw
    words: Any = words32(raw((total + 1) // 2))[:total] if lay.mantissa == 23 else raw(total)
    index: Any = scratch.get("zig_index", np.intp, total)
    np.right_shift(words, lay.index_shift, out=index, casting="unsafe")
    if lay.mantissa == 52:
        np.bitwise_and(index, lay.index_mask, out=index)
    np.take(lay.fast, index, out=out, mode="clip")
    u = scratch.get("zig_u", lay.dtype, total)
    bits = u.view(lay.word)
    np.bitwise_and(words, lay.low, out=bits)
    np.bitwise_or(bits, lay.one, out=bits)
    np.subtract(u, lay.dtype(1.0), out=u)
    np.multiply(out, u, out=out)


def _settle(
    g: np.random.Generator,
    out: Any,
    slow: npt.NDArray[np.intp],
    n: int,
    lay: _Layout,
    scratch: Scratch,
) -> None:
    """Decide the candidates at ``slow`` (ascending) exactly, then give each failing
    one of the first ``n`` the next passing spare."""
    index: Any = scratch.get("zig_index", np.intp, out.size)
    code = index[slow] >> _BUCKET_BITS  # [layer | sign]
    u = scratch.get("zig_u", lay.dtype, out.size)[slow]
    ok, values = (
        _exact_few(g, code, u, lay) if slow.size <= _FEW else _exact(g, code, u, lay, scratch)
    )
    out[slow] = np.where(ok, values, np.nan)
    first = int(np.searchsorted(slow, n))
    failed = slow[:first][~ok[:first]]
    if not failed.size:
        return
    spares = out[n:]
    good = spares[~np.isnan(spares)]
    while good.size < failed.size:  # a shortfall: more spares, by the same method
        more = 2 * (failed.size - good.size) + 64
        extra = scratch.get("zig_more", lay.dtype, more)
        _candidates(g, more, lay, extra, scratch)
        slow = np.flatnonzero(np.isnan(extra))
        if slow.size:
            index = scratch.get("zig_index", np.intp, more)
            code = index[slow] >> _BUCKET_BITS
            u = scratch.get("zig_u", lay.dtype, more)[slow]
            ok, values = _exact(g, code, u, lay, scratch)
            extra[slow] = np.where(ok, values, np.nan)
        good = np.concatenate((good, extra[~np.isnan(extra)]))
    out[failed] = good[: failed.size]


# Tries drawn at once for each tail value (one try passes with probability 0.9;
# all four fail with probability 1e-4, and then four more are drawn).
_TAIL_TRIES = 4


def _exact(
    g: np.random.Generator, code: npt.NDArray[np.intp], u: Any, lay: _Layout, scratch: Scratch
) -> tuple[npt.NDArray[np.bool_], Any]:
    """The wedge or tail test of candidates by ``[layer | sign]`` and ``u``: which pass,
    and their values in the work dtype.

    One raw word per candidate, in order, gives the wedge test's ``v``; then
    ``2 * _TAIL_TRIES`` words per tail candidate (layer 0 beyond ``K[0]``), in
    order, its tries ``(u1, u2)``: a tail candidate always passes, with the
    first try that does (Marsaglia's tail loop). One portable ``log`` call
    serves all.
    """
    s = code.size
    x = u * lay.signed[code]  # the fast path's value, exactly
    raw = g.bit_generator.random_raw
    v = (raw(s) >> _U11) * _TWO_M53
    layer = code >> 1
    base = layer == 0
    tails = np.flatnonzero(base & (u >= lay.base))
    tries = _open_uniforms(raw, 2 * _TAIL_TRIES * tails.size)
    y = np.concatenate((_F[layer] + v * _F_STEP[layer], tries))
    logs = log(y, y, scratch)
    wide = x.astype(np.float64)
    ok = logs[:s] < -0.5 * (wide * wide)
    ok |= base  # the base rectangle's straddling bucket passes; the tail below
    if tails.size:
        t = _tail(raw, logs[s:].reshape(tails.size, _TAIL_TRIES, 2), scratch)
        x[tails] = np.where(code[tails] & 1, -t, t)
    return ok, x


def _open_uniforms(raw: Any, count: int) -> npt.NDArray[np.float64]:
    """``count`` uniforms in ``(0, 1]``: ``1 - (w >> 11) 2**-53`` of raw words ``w``."""
    uniforms: npt.NDArray[np.float64] = 1.0 - (raw(count) >> _U11) * _TWO_M53
    return uniforms


def _tail(raw: Any, logs: Any, scratch: Scratch) -> Any:
    """``R + t`` for each row of tries ``(log u1, log u2)``: ``t = -log(u1) / R`` of the
    first try with ``-2 log(u2) > t**2``; rows where none passes draw more tries."""
    t = logs[:, :, 0] / -R
    passed = logs[:, :, 1] * -2.0 > t * t
    found = passed.any(axis=1)
    chosen = t[np.arange(t.shape[0]), passed.argmax(axis=1)]
    missing = np.flatnonzero(~found)
    if missing.size:
        more = _open_uniforms(raw, 2 * _TAIL_TRIES * missing.size)
        chosen[missing] = (
            _tail(raw, log(more, more, scratch).reshape(missing.size, _TAIL_TRIES, 2), scratch) - R
        )
    return chosen + R


# Up to this many slow candidates, _exact_few decides them on Python floats: a
# small array's block has one or two, and numpy's per-call cost (about 60 calls
# for _exact, some 45-90 us) would be most of its time. Measured: 2 candidates
# 16 against 58 us, 8: 30 against 46, 32: 99 against 88.
_FEW = 24
_F_LIST = [float(v) for v in _F]
_F_STEP_LIST = [float(v) for v in _F_STEP]


def _exact_few(
    g: np.random.Generator, code: npt.NDArray[np.intp], u: Any, lay: _Layout
) -> tuple[npt.NDArray[np.bool_], Any]:
    """:func:`_exact`, value for value and word for word, on Python floats (with
    :func:`.portable.log1`): the same rounded steps in the same order."""
    raw = g.bit_generator.random_raw
    codes, us = code.tolist(), u.astype(np.float64).tolist()
    signed = lay.signed[code].astype(np.float64).tolist()
    work = lay.dtype
    # fl(u X) in the work dtype: the double product of a 23-bit u and a float32
    # X is exact, so rounding it to float32 once is float32's rounded product.
    xs = [float(work(a * b)) for a, b in zip(us, signed, strict=True)]
    vs = [(w >> 11) * _TWO_M53 for w in raw(len(codes)).tolist()]
    tails = [
        i for i, (c, a) in enumerate(zip(codes, us, strict=True)) if c >> 1 == 0 and a >= lay.base
    ]
    tries = _open_uniforms(raw, 2 * _TAIL_TRIES * len(tails)).tolist()
    ok = []
    for c, x, v in zip(codes, xs, vs, strict=True):
        layer = c >> 1
        y = _F_LIST[layer] + v * _F_STEP_LIST[layer]
        ok.append(log1(y) < -0.5 * (x * x) or layer == 0)
    if tails:
        logs = [log1(y) for y in tries]
        for i, t in zip(tails, _tail_few(raw, logs, len(tails)), strict=True):
            xs[i] = float(work(-t if codes[i] & 1 else t))
    return np.array(ok, np.bool_), np.array(xs, work)


def _tail_few(raw: Any, logs: list[float], rows: int) -> list[float]:
    """:func:`_tail` on Python floats: ``logs`` holds ``rows`` rows of tries."""
    width = 2 * _TAIL_TRIES
    chosen, missing = [], []
    for r in range(rows):
        row = logs[r * width : (r + 1) * width]
        ts = [a / -R for a in row[0::2]]
        passed = [b * -2.0 > t * t for b, t in zip(row[1::2], ts, strict=True)]
        chosen.append(ts[passed.index(True)] if True in passed else ts[0])
        if True not in passed:
            missing.append(r)
    if missing:
        more = _open_uniforms(raw, width * len(missing)).tolist()
        again = _tail_few(raw, [log1(y) for y in more], len(missing))
        for r, t in zip(missing, again, strict=True):
            chosen[r] = t - R
    return [t + R for t in chosen]


# ----------------------------------------------------------------- the compiled kernel

Kernel = Callable[[Any, Any, int, int], None]
_UNRESOLVED: Any = object()
_kernel: Any = _UNRESOLVED  # the configured kernel, None, or not yet decided
_kernel_lock = threading.Lock()


def native_kernel() -> Kernel | None:
    """The compiled ``standard_normal`` (configured on first use), or ``None`` for the
    numpy path: as :func:`.native.native` decides."""
    global _kernel
    with _kernel_lock:
        if _kernel is _UNRESOLVED:
            module = native.native()
            _kernel = None if module is None else configure(module)
    kernel: Kernel | None = _kernel
    return kernel


def configure(module: ModuleType) -> Kernel:
    """Hands the kernel module this module's tables and ``portable``'s constants once;
    returns its ``standard_normal``."""
    f32, f64 = _LAYOUTS[np.dtype(np.float32)], _LAYOUTS[np.dtype(np.float64)]
    # An SFC64 of known state, on which the kernel checks its inline SFC64.
    probe_state = (1, 2**64 - 3, 0x0123456789ABCDEF, 2**63 + 5)
    probe = np.random.SFC64(0)
    probe.state = {
        "bit_generator": "SFC64",
        "state": {"state": np.array(probe_state, np.uint64)},
        "has_uint32": 0,
        "uinteger": 0,
    }
    module.configure(
        f32.fast,
        f64.fast,
        f32.signed,
        f64.signed,
        _F,
        _F_STEP,
        np.array(portable._LG64, np.float64),
        f32.base,
        f64.base,
        R,
        portable._LN2_HI,
        portable._LN2_LO,
        portable._SQRT_HALF_BITS,
        probe.capsule,
        probe_state,
    )
    kernel: Kernel = module.standard_normal
    return kernel
