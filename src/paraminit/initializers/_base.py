"""What every initializer shares: the argument check on entry and the random fill."""

from __future__ import annotations

import functools
import sys
from typing import Any

import numpy as np

from ..arguments import ArgumentError, check_call
from ..contract import FloatArray, prepare_output
from ..engine import Distribution, fill, next_seed, resolve_seed
from ..engine.distributions import remember
from ..engine.threads import run_parallel

# (distribution, dtype) pairs whose refusal() was None: asked once, as the engine
# computes its own constants once per parameters and dtype.
_ACCEPTED: dict[tuple[Any, ...], bool] = {}


def _begin(func: Any, args: dict[str, Any]) -> FloatArray:
    """Check ``data`` and every argument of ``func`` (its ``locals()``); return ``out``."""
    out = prepare_output(func.__name__, args["data"], args.get("inplace", False))
    check_call(func, args)
    return out


def _random_fill(
    func: Any,
    out: FloatArray,
    dist: Distribution,
    seed: int | None,
    cause: tuple[str, object] | None = None,
) -> FloatArray:
    """Fill ``out`` from ``dist`` under ``seed`` (the next package seed if ``None``).

    ``dist`` must be able to fill ``out``'s dtype (see :func:`_require_distribution`).
    """
    if (dist.key, out.dtype) not in _ACCEPTED:  # the common case without a call
        _require_distribution(func, out, dist, cause)
    return fill(out, dist, next_seed() if seed is None else resolve_seed(func.__name__, seed))


def _require_distribution(
    func: Any, out: FloatArray, dist: Distribution, cause: tuple[str, object] | None = None
) -> None:
    """Raise :class:`ArgumentError` unless ``dist`` fills ``out``'s dtype with finite values of
    its law and ends (``dist.refusal``).

    The argument blamed is the distribution's own parameter of that name (``uniform_init``'s
    ``lo``, ``hi``), or ``cause``, ``(argument, value)``, when the distribution was derived
    from it by a scale rule (``xavier_uniform_init``'s ``gain``).
    """
    key = (dist.key, out.dtype)
    if key in _ACCEPTED:
        return
    refusal = dist.refusal(out.dtype)
    if refusal is None:
        remember(_ACCEPTED, key, True)
        return
    parameter, reason = refusal
    value = getattr(dist, parameter)
    if cause is None:
        raise ArgumentError(func.__name__, parameter, value, reason)
    field, given = cause
    raise ArgumentError(
        func.__name__, field, given, f"gives {_law(dist)}, whose {parameter}={value!r} {reason}"
    )


def _law(dist: Distribution) -> str:
    """``dist`` in the words of the docs: ``U(-1.0, 1.0)``, ``N(0.0, 2.0)``."""
    letter = {"uniform": "U", "normal": "N"}.get(dist.kind, "truncated N")
    values = ", ".join(f"{v!r}" for v in dist.parameters().values())
    return f"{letter}({values})"


# Bytes from which a constant fill is written by the C library (through ctypes, which
# releases the GIL): memset for a value whose bytes are all one byte (+0.0, so zero_init),
# wmemset for one whose 4 bytes repeat (float32, float16 pairs). Measured against numpy's
# fill loop (docs/benchmarks.md, "Per-call cost"): memset 1.3x at 1 MiB to 2.9x at 1 GiB
# (streaming stores), wmemset 1.7x in cache and the same beyond; the ~2 µs of finding the
# array's address pay from 1 MiB.
_C_FILL_FROM = 1 << 20
# Bytes per piece of a constant fill shared over the engine's threads. run_parallel uses
# threads from 4 pieces (32 MiB) up: below, starting and joining a second thread costs
# more than it saves (1e6 float32: 74 µs on one thread, 104 µs on two). memset is one
# call on one thread at any size: alone it wrote 1 GiB at 0.83 of the rate numpy's copy
# moves bytes, where two threads measured 0.65.
_CONSTANT_PIECE = 8 << 20


@functools.cache
def _wmemset() -> Any:
    """The C library's ``wmemset`` for 4-byte patterns, or ``None`` where there is none
    (looked up on the first large fill: ``import paraminit`` does not load ctypes)."""
    import ctypes

    try:
        function = ctypes.CDLL(None).wmemset
    except (AttributeError, OSError, TypeError):  # pragma: no cover - not a POSIX libc
        return None
    if ctypes.sizeof(ctypes.c_wchar) != 4:  # pragma: no cover - Windows: 2-byte wchar_t
        return None
    function.restype = ctypes.c_void_p
    function.argtypes = (ctypes.c_void_p, ctypes.c_uint32, ctypes.c_size_t)
    return function


def _fill_constant(out: FloatArray, value: float) -> FloatArray:
    """``out.fill(value)``: by the C library's memset or wmemset when large, in pieces on the
    engine's threads from 32 MiB; the same bytes as ``out.fill`` in any case.

    A stand-in (``paraminit.regions``) and non-contiguous arrays get one
    ``out.fill``: the stand-in records it, and the values are the same either way.
    """
    nbytes = out.nbytes
    if type(out) is not np.ndarray or nbytes < _C_FILL_FROM or not out.flags.c_contiguous:
        out.fill(value)
        return out
    typed = out.dtype.type(value)  # rounded once, as out.fill rounds it
    pattern = typed.tobytes()
    address = out.__array_interface__["data"][0]
    if pattern.count(pattern[0]) == len(pattern):
        import ctypes

        ctypes.memset(address, pattern[0], nbytes)
        return out
    flat = out.reshape(-1)
    per_piece = _CONSTANT_PIECE // out.itemsize
    word = (pattern * (4 // len(pattern))) if len(pattern) <= 4 else b""
    wmemset = _wmemset() if len(word) == 4 and address % 4 == 0 else None
    if wmemset is not None:
        repeated = int.from_bytes(word, sys.byteorder)
        itemsize = out.itemsize

        def work(pieces: range) -> None:
            start = pieces.start * per_piece * itemsize
            stop = min(pieces.stop * per_piece * itemsize, nbytes)
            wmemset(address + start, repeated, (stop - start) // 4)

        if nbytes % 4:  # a float16 array of odd length: its last element
            flat[-1] = typed
    else:

        def work(pieces: range) -> None:
            flat[pieces.start * per_piece : pieces.stop * per_piece].fill(typed)

    run_parallel(work, -(-out.size // per_piece))
    return out


def _skip_empty(func: Any, out: FloatArray, seed: int | None) -> bool:
    """True for a size-0 ``out``, after drawing the call's seed as a non-empty call would.

    Drawing keeps a ``set_seed`` stream in step whether or not an array is empty.
    """
    if out.size:
        return False
    resolve_seed(func.__name__, seed)
    return True


def _require_fits(func: Any, out: FloatArray, field: str, value: float) -> None:
    """``value`` must stay finite in ``out``'s dtype (``1e5`` overflows float16)."""
    if -65504.0 <= value <= 65504.0:  # finite in every dtype (float16's largest)
        return
    with np.errstate(over="ignore"):
        typed = out.dtype.type(value)
    if not np.isfinite(typed):
        raise ArgumentError(func.__name__, field, value, f"overflows {out.dtype}")
