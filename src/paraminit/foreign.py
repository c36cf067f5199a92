"""Foreign dtypes: arrays numpy's samplers cannot fill directly (bfloat16, the other byte order).

:func:`accepts_bfloat16`, stacked on every built-in initializer and offered to
plugins, is the one path for them: a bfloat16 array gets the initializer's float32
values rounded to nearest even (chunk by chunk for an initializer marked
:func:`~paraminit.regions.elementwise`, through its stand-in request), and an array
of the other byte order filled in place gets a native array's values, written back
swapped. Native float16/32/64 arrays go straight to the initializer, through a
wrapper generated with its own signature so that the common call costs ~0.1 µs.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from .arguments import ArgumentError
from .contract import SUPPORTED_DTYPES, FloatArray, is_bfloat16, is_swapped, prepare_output
from .engine.blocks import fill_region
from .regions import boxes, is_elementwise, record_request

__all__ = ["BFLOAT16_CHUNK", "accepts_bfloat16"]

_F = TypeVar("_F", bound=Callable[..., Any])

_F32 = np.dtype(np.float32)
#: Elements per float32 buffer when an elementwise initializer fills a bfloat16 array.
BFLOAT16_CHUNK = 1 << 20


def accepts_bfloat16(func: _F) -> _F:
    """Let the data-first initializer ``func`` fill ``ml_dtypes.bfloat16`` arrays too, and
    arrays of the other byte order in place.

    A bfloat16 array gets exactly the float32 values ``func`` gives (same seed,
    shape and arguments), rounded to nearest even; other arrays go straight to
    ``func``. An initializer marked :func:`~paraminit.regions.elementwise` is asked
    for its one request on a stand-in and the values are made :data:`BFLOAT16_CHUNK`
    elements at a time (``fill_region`` gives exactly the float32 fill's bits), so the extra
    memory is about one float32 buffer of that size; any other initializer is
    computed whole in a float32 temporary of the full shape and rounded (orthogonal
    and sparse hold float64 temporaries of that size anyway). The seed stream
    advances as for a float32 call. An array of the other byte order (``>f4`` on a
    little-endian machine) with ``inplace=True`` gets the values of a native array,
    made in a native temporary and written back swapped. Put it directly above
    ``def``, under :func:`~paraminit.regions.elementwise`.
    """
    plain, supported = np.ndarray, frozenset[np.dtype[Any]](SUPPORTED_DTYPES)

    def other(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        data = args[0] if args else kwargs.get("data")
        if isinstance(data, np.ndarray) and is_bfloat16(data.dtype):
            return _fill_bfloat16(initializer, func, args, kwargs)
        if is_swapped(data) and not isinstance(data, np.matrix):
            inplace = kwargs.get("inplace", False)
            if isinstance(inplace, (bool, np.bool_)) and inplace:
                return _fill_swapped(func, args, kwargs)
        return func(*args, **kwargs)  # a stand-in, or what func refuses in its own words

    @functools.wraps(func)
    def generic(*args: Any, **kwargs: Any) -> Any:
        data = args[0] if args else kwargs.get("data")
        if type(data) is plain and data.dtype in supported:
            return func(*args, **kwargs)
        return other(args, kwargs)

    # generic only for a signature the generated wrapper does not spell (*args, /).
    initializer = _same_signature(func, other, plain, supported) or generic
    return initializer  # type: ignore[return-value]


def _same_signature(
    func: Callable[..., Any],
    other: Callable[[tuple[Any, ...], dict[str, Any]], Any],
    plain: type,
    supported: frozenset[np.dtype[Any]],
) -> Callable[..., Any] | None:
    """A wrapper of ``func`` with ``func``'s own parameters, or ``None`` if they are not plain.

    Every call pays the wrapper, so it is spelled out with ``func``'s parameter
    names (written once, here, from the signature): no ``*args``/``**kwargs``
    packing, one type check and one hash lookup before ``func`` (~0.1 µs, where a
    generic ``*args`` wrapper measured ~0.5 µs).
    """
    params = list(inspect.signature(func).parameters.values())
    kinds = {inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY}
    if not params or params[0].name != "data" or any(p.kind not in kinds for p in params):
        return None
    names = [p.name for p in params]
    if any(not n.isidentifier() or n.startswith("_") or n == "type" for n in names):
        return None  # a name the wrapper's body uses itself: the generic wrapper
    positional = [p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    keyword = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
    header = ", ".join(positional + (["*", *keyword] if keyword else []))
    call = ", ".join(positional + [f"{n}={n}" for n in keyword])
    pos = "".join(f"{n}, " for n in positional)
    kw = ", ".join(f"{n!r}: {n}" for n in keyword)
    source = (
        f"def wrapper({header}):\n"
        "    if type(data) is _plain and data.dtype in _supported:\n"
        f"        return _func({call})\n"
        f"    return _other(({pos}), {{{kw}}})\n"
    )
    namespace: dict[str, Any] = {
        "_plain": plain,
        "_supported": supported,
        "_func": func,
        "_other": other,
    }
    exec(source, namespace)  # the names are func's own parameters, checked above
    wrapper: Callable[..., Any] = namespace["wrapper"]  # named as func by functools.wraps
    wrapper.__defaults__ = func.__defaults__
    wrapper.__kwdefaults__ = func.__kwdefaults__
    return functools.wraps(func)(wrapper)


def _fill_bfloat16(
    public: Callable[..., Any], func: Callable[..., Any], args: tuple[Any, ...], kwargs: Any
) -> FloatArray:
    """``func``'s float32 values for ``data`` (in ``args``/``kwargs``), rounded into bfloat16."""
    kwargs = dict(kwargs)
    data = args[0] if args else kwargs.pop("data")
    rest = args[1:]
    out = prepare_output(func.__name__, data, kwargs.pop("inplace", False))

    def at_float32(work: Any, **extra: Any) -> Any:
        return func(work, *rest, **kwargs, **extra)

    at_float32.__name__ = func.__name__
    if is_elementwise(public):
        request = record_request(at_float32, out.shape, _F32, {})
        if request.dist is None:
            _require_finite(func, out.dtype, np.asarray(request.constant, _F32))
            out.fill(np.asarray(request.constant, _F32).astype(out.dtype))
            return out
        # float32 passed the initializer's own check; bfloat16's largest number is a
        # little smaller (3.3895e38 against 3.4028e38), so ask the law again for it.
        refusal = request.dist.refusal(out.dtype)
        if refusal is not None:
            parameter, reason = refusal
            raise ArgumentError(func.__name__, parameter, getattr(request.dist, parameter), reason)
        for box in boxes(out.shape, BFLOAT16_CHUNK):
            # Assignment casts with ml_dtypes' float32 -> bfloat16 conversion: nearest even.
            out[box] = fill_region(request.dist, out.shape, box, request.seed, _F32)
        return out
    work = at_float32(np.empty(out.shape, _F32), inplace=True)
    _require_finite(func, out.dtype, work)
    np.copyto(out, work, casting="unsafe")
    return out


def _fill_swapped(func: Callable[..., Any], args: tuple[Any, ...], kwargs: Any) -> FloatArray:
    """``func`` in place on ``data`` of the other byte order (in ``args``/``kwargs``): its
    values for a native array (``func`` makes one for such data), written back swapped.

    Nothing is written unless ``func`` succeeds; the native array is a temporary of the
    full size.
    """
    kwargs = dict(kwargs, inplace=False)
    data: FloatArray = args[0] if args else kwargs.pop("data")
    prepare_output(func.__name__, data.view(data.dtype.newbyteorder("=")), True)  # writeable?
    values = func(data, *args[1:], **kwargs)
    np.copyto(data, values)  # a cast between byte orders: the same values
    return data


def _require_finite(func: Callable[..., Any], dtype: np.dtype[Any], values: Any) -> None:
    """Raise a ValueError naming ``func`` if float32 ``values`` round to inf in ``dtype``."""
    if not values.size:
        return
    reach = max(float(values.max()), -float(values.min()))  # no array-sized temporary
    if not np.isfinite(np.asarray(reach, _F32).astype(dtype).astype(_F32)):
        raise ValueError(
            f"{func.__name__}: its float32 values reach {reach!r}, which overflows {dtype}; "
            "use float32"
        )
