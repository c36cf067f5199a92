"""Regions of an initializer: ``elementwise``, the stand-in recorder, ``initialize_region``.

The protocol, named *the stand-in protocol* in ``docs/engine.md``:

1. An initializer marked :func:`elementwise` promises that its values are
   elementwise independent: it makes them with exactly one
   :func:`paraminit.engine.fill` call on its whole output, or writes one constant
   into all of it (``out.fill(value)`` or ``out[...] = value``), and changes
   nothing afterwards.
2. :func:`initialize_region` and :func:`distribution_of` call such an initializer
   with ``inplace=True`` on a *stand-in*: a writeable array of the full shape and
   dtype backed by a single element, of a class whose ``record_fill`` method
   receives the engine's :func:`~paraminit.engine.fill` request instead of values.
   The initializer runs its own checks and scale rule, so a formula exists once.
3. The engine then generates only the blocks the region touches
   (:func:`paraminit.engine.fill_region`).

The guard: the single element holds a sentinel that a recorded fill leaves
alone, and the stand-in refuses partial or array-valued writes and ufunc
outputs. An initializer that breaks the promise (fills twice or a different
array, post-processes its fill, writes a position-dependent pattern) raises
:class:`ElementwiseError` naming it, instead of giving wrong region values.

This module also holds the one answer to "what function is this, and does it
take ``seed``/``inplace``?" (:func:`unwrap`, :func:`accepts`, :func:`takes_seed`),
the one answer to "which seed does a parameter get?" (:func:`written_seed`,
:func:`seed_for`), and :func:`boxes`, the C-order cut of a shape into bounded
boxes. Whole arrays of bfloat16 or the other byte order are
:mod:`paraminit.foreign`'s; a bfloat16 region here is the float32 region, rounded.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TypeVar

import numpy as np

from .contract import FloatArray, Initializer, check_dtype, is_bfloat16, require_memory
from .engine.blocks import fill_region, normalize_region
from .engine.distributions import Distribution
from .engine.seeds import param_seed

__all__ = [
    "ElementwiseError",
    "Request",
    "accepts",
    "boxes",
    "distribution_of",
    "elementwise",
    "fill_in_place",
    "init_name",
    "initialize_region",
    "is_elementwise",
    "record_request",
    "seed_for",
    "takes_seed",
    "unwrap",
    "written_seed",
]

_ELEMENTWISE: set[Callable[..., Any]] = set()

_F = TypeVar("_F", bound=Callable[..., Any])


class ElementwiseError(RuntimeError):
    """An initializer marked ``elementwise`` broke the stand-in protocol."""


def elementwise(func: _F) -> _F:
    """Mark a data-first initializer whose values are elementwise independent.

    Such an initializer makes its values with exactly one
    :func:`paraminit.engine.fill` call on its output (or only writes one
    constant, like ``zero_init``) and changes nothing afterwards.
    :func:`initialize_region` then produces any region of it without the full
    array. Returns ``func`` unchanged, so it stacks with ``@register_initializer``.
    """
    _ELEMENTWISE.add(func)
    return func


def is_elementwise(init: Callable[..., Any]) -> bool:
    """Whether ``init`` (or the function a partial of it wraps) is marked :func:`elementwise`."""
    return unwrap(init) in _ELEMENTWISE


def unwrap(init: Callable[..., Any]) -> Callable[..., Any]:
    """The function under any ``functools.partial`` (an ``InitializerPartial`` is one)."""
    func = init
    while isinstance(func, functools.partial):
        func = func.func
    return func


@functools.lru_cache(maxsize=256)
def _accepts(func: Callable[..., Any], name: str) -> bool:
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        return False  # pass nothing the function may not take
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def accepts(init: Callable[..., Any], name: str) -> bool:
    """Whether ``init`` (through any partial) takes a keyword argument ``name``.

    ``False`` when its signature cannot be read: a call then passes nothing it
    may not take.
    """
    return _accepts(unwrap(init), name)


def takes_seed(init: Callable[..., Any]) -> bool:
    """Whether ``init`` takes a ``seed`` argument."""
    return _accepts(unwrap(init), "seed")


def written_seed(init: Callable[..., Any]) -> int | None:
    """The ``seed`` written in ``init``'s config block (a partial's keyword), else ``None``."""
    written = getattr(init, "keywords", {}).get("seed")
    return written if isinstance(written, int) and not isinstance(written, bool) else None


def seed_for(init: Callable[..., Any], build_seed: int, path: str) -> int | None:
    """The seed ``init`` is called with for the parameter at ``path`` of a build.

    ``None`` if ``init`` takes no seed; else the seed written in its config block
    if there is one (it wins), else ``param_seed(build_seed, path)``. Used by
    :func:`paraminit.build`, the file writers and ``paraminit.torch.initialize``,
    so a parameter gets the same seed everywhere.
    """
    if not takes_seed(init):
        return None
    written = written_seed(init)
    return written if written is not None else param_seed(build_seed, path)


def _name(init: Callable[..., Any]) -> str:
    return str(getattr(unwrap(init), "__name__", init))


def init_name(init: Callable[..., Any]) -> str:
    """What messages call ``init``: a configured initializer's registered name
    (``"uniform_init.v1"``), else its function's name."""
    name = getattr(init, "name", None)
    return name if isinstance(name, str) else _name(init)


def fill_in_place(
    init: Callable[..., Any], out: FloatArray, name: str | None = None, **kwargs: Any
) -> FloatArray:
    """``init(out, inplace=True, **kwargs)``, with ``out`` holding its values afterwards.

    An initializer may return a new array instead of filling ``out``: its values are
    the ones meant, so they are copied into ``out`` if they have its shape and dtype;
    anything else is a ``ValueError`` naming the initializer (``name``, else
    :func:`init_name`), never memory left as it was. ``inplace`` is passed only to an
    ``init`` that takes it. The one way :func:`paraminit.build`, the torch and thinc
    bridges and :func:`initialize_region` call an initializer in place.
    """
    result: object = (
        init(out, inplace=True, **kwargs) if accepts(init, "inplace") else init(out, **kwargs)
    )
    if result is out:
        return out
    if not isinstance(result, np.ndarray) or result.shape != out.shape or result.dtype != out.dtype:
        if isinstance(result, np.ndarray):
            got = f"an array of shape {result.shape} and dtype {result.dtype}"
        else:
            got = "None" if result is None else f"a {type(result).__name__}"
        raise ValueError(
            f"{name or init_name(init)} returned {got}; it must fill the array it is given or "
            f"return one of shape {out.shape} and dtype {out.dtype}"
        )
    np.copyto(out, result)
    return out


# --------------------------------------------------------------------------- the stand-in


def _is_whole(key: Any) -> bool:
    """Whether ``key`` indexes a whole array: ``...``, ``:`` or ``()``."""
    if type(key) is tuple:
        return len(key) == 0 or (len(key) == 1 and _is_whole(key[0]))
    return key is Ellipsis or (type(key) is slice and key == slice(None))


# A value no sane initializer leaves in its output by chance, exact in float16.
_SENTINEL = -30000.0


class _StandIn(np.ndarray):
    """The array an elementwise initializer is called on: it records, it is not filled.

    Every view of it shares ``_log`` (a list of ``(what, detail)``), so a fill or
    a write through a reshaped view is seen too. A shape numpy cannot describe
    (2**63 bytes or more) is carried as ``_logical``: the array itself is then one
    element per axis, and ``shape``, ``size``, ``nbytes`` and ``len`` answer for the
    logical one; a view has its own (real) shape, so a fill of a view is refused.
    """

    _log: list[tuple[str, Any]]
    _logical: tuple[int, ...] | None = None

    def __array_finalize__(self, obj: object) -> None:
        self._log = getattr(obj, "_log", [])
        self._logical = None

    @property
    def shape(self) -> tuple[int, ...]:
        logical = self._logical
        return logical if logical is not None else np.ndarray.shape.__get__(self)

    @shape.setter
    def shape(self, value: Any) -> None:
        raise ElementwiseError("reshapes its output in place")

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    def __len__(self) -> int:
        return self.shape[0] if self.shape else np.ndarray.__len__(self)

    def record_fill(self, dist: Distribution, seed: int) -> None:
        """Called by :func:`paraminit.engine.fill` in place of filling."""
        self._log.append(("fill", (dist, seed, self.shape, self.dtype)))

    def fill(self, value: Any) -> None:
        self._log.append(("constant", None))
        np.ndarray.fill(self, value)

    def __setitem__(self, key: Any, value: Any) -> None:
        if not (_is_whole(key) and np.ndim(value) == 0):
            raise ElementwiseError("writes part of its output or an array into it")
        self._log.append(("constant", None))
        np.ndarray.__setitem__(self, key, value)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        outputs = kwargs.get("out", ())
        if any(isinstance(o, _StandIn) for o in outputs):
            raise ElementwiseError(f"changes its output with numpy.{ufunc.__name__}")
        plain = [np.asarray(x) if isinstance(x, _StandIn) else x for x in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)


def _stand_in(shape: tuple[int, ...], backing: np.ndarray) -> _StandIn:
    """A writeable stand-in of ``shape`` on the one element of ``backing``."""
    describable = math.prod(shape) * backing.itemsize <= np.iinfo(np.intp).max
    stand_in = np.lib.stride_tricks.as_strided(
        backing,
        shape=shape if describable else (1,) * len(shape),
        strides=(0,) * len(shape),
        writeable=True,
    ).view(_StandIn)
    stand_in._log = []
    if not describable:
        stand_in._logical = shape
    return stand_in


class Request(NamedTuple):
    """What an elementwise initializer asked for: a distribution and seed, or a constant."""

    dist: Distribution | None
    seed: int
    constant: Any  # a scalar of the dtype, when ``dist`` is None


def _misuse(init: Initializer, what: str) -> ElementwiseError:
    return ElementwiseError(
        f"{_name(init)!r} is marked elementwise but {what}; an elementwise initializer "
        "makes its values with one engine.fill call on its whole output, or writes one "
        "constant, and changes nothing afterwards (see paraminit.regions)"
    )


def record_request(
    init: Initializer, shape: tuple[int, ...], dtype: np.dtype[Any], kwargs: dict[str, Any]
) -> Request:
    """Call an elementwise ``init`` on a stand-in; return its one request, or raise."""
    sentinel = dtype.type(_SENTINEL)
    backing = np.full(1, sentinel, dtype=dtype)
    stand_in = _stand_in(shape, backing)
    log = stand_in._log
    try:
        init(stand_in, inplace=True, **kwargs)
    except ElementwiseError as error:
        raise _misuse(init, str(error)) from None
    if not stand_in.size:  # nothing to fill, nothing to check (zero_init's value is as good)
        return Request(None, 0, dtype.type(0))
    if len(log) > 1:
        raise _misuse(init, f"makes {len(log)} fills or writes")
    if not log:
        raise _misuse(init, "neither fills nor writes its output")
    what, detail = log[0]
    if what == "constant":
        return Request(None, 0, backing[0])
    dist, seed, got_shape, got_dtype = detail
    if got_shape != shape or got_dtype != dtype:
        raise _misuse(init, f"fills an array of shape {got_shape} ({got_dtype}), not its output")
    if backing[0] != sentinel:
        raise _misuse(init, "changes its output after the fill")
    return Request(dist, seed, None)


_MAX_ELEMENTS = int(np.iinfo(np.int64).max)  # the engine's logical index is an int64


def _check_shape(func_name: str, shape: object) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in shape
    ):
        raise TypeError(f"{func_name}: 'shape' must be a tuple of ints, got {shape!r}")
    if any(d < 0 for d in shape):
        raise ValueError(f"{func_name}: 'shape' must not be negative, got {tuple(shape)}")
    shape = tuple(int(d) for d in shape)
    count = math.prod(shape)
    if count > _MAX_ELEMENTS:
        raise ValueError(
            f"{func_name}: 'shape' {shape} has {count:,} elements, more than an int64 "
            f"index reaches ({_MAX_ELEMENTS:,})"
        )
    return shape


def distribution_of(
    init: Initializer, shape: tuple[int, ...], *, dtype: Any = "float32"
) -> Distribution | float | None:
    """What ``init`` fills an array of ``shape`` with, without filling anything.

    For an initializer marked :func:`elementwise`: the engine distribution it
    draws from (``Uniform``, ``Normal``, ``TruncatedNormal``), or the value of a
    constant fill as a ``float``. ``None`` for any other initializer. Raises what
    the initializer raises for an array of this shape.
    """
    shape = _check_shape("distribution_of", shape)
    dt = _work_dtype(check_dtype("distribution_of", dtype))
    if not is_elementwise(init):
        return None
    # A fixed seed: asking must not advance the package seed stream.
    request = record_request(init, shape, dt, {"seed": 0} if takes_seed(init) else {})
    return request.dist if request.dist is not None else float(request.constant)


def initialize_region(
    init: Initializer,
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
    sliced. Initializers without a ``seed`` argument ignore ``seed``. ``dtype``
    may be ``ml_dtypes.bfloat16`` (or ``"bfloat16"``): the float32 region, rounded
    to nearest even.

    >>> import paraminit
    >>> W = paraminit.initialize_region(paraminit.uniform_init, (1000, 64), slice(10, 20), seed=0)
    >>> W.shape
    (10, 64)
    """
    shape = _check_shape("initialize_region", shape)
    dt = check_dtype("initialize_region", dtype)
    if is_bfloat16(dt):  # a region-sized float32 temporary, rounded
        values = initialize_region(init, shape, region, seed=seed, dtype=_F32)
        return values.astype(dt)
    kwargs: dict[str, Any] = {"seed": seed} if takes_seed(init) else {}
    ranges, dropped = normalize_region("initialize_region", shape, region)
    region_shape = tuple(len(r) for i, r in enumerate(ranges) if i not in dropped)
    if not is_elementwise(init):
        require_memory(
            "initialize_region", f"{init_name(init)} is computed whole: an array", shape, dt
        )
        full = fill_in_place(init, np.empty(shape, dtype=dt), **kwargs)
        # region is numpy indexing, checked by normalize_region above.
        return np.array(full[region], copy=True)  # type: ignore[call-overload]
    request = record_request(init, shape, dt, kwargs)
    require_memory("initialize_region", "the region", region_shape, dt)
    if request.dist is None:
        return np.full(region_shape, request.constant, dtype=dt)
    return fill_region(request.dist, shape, region, request.seed, dt, func_name="initialize_region")


def boxes(shape: tuple[int, ...], limit: int) -> Iterator[tuple[slice, ...]]:
    """Cut ``shape`` into boxes of at most ``limit`` elements, in C order: a slice per axis.

    Single steps of the leading axes, a range of one axis and the trailing axes
    whole, so that each box is one run of the C-order index; the whole shape in one
    box if it fits. How the bfloat16 path and the torch bridge bound their buffers.
    """
    if math.prod(shape) <= limit:
        yield tuple(slice(0, n) for n in shape)
        return
    axis = next(a for a in range(len(shape)) if math.prod(shape[a + 1 :]) <= limit)
    step = max(1, limit // math.prod(shape[axis + 1 :]))
    trailing = tuple(slice(0, n) for n in shape[axis + 1 :])
    for head in np.ndindex(*shape[:axis]):
        for start in range(0, shape[axis], step):
            steps = tuple(slice(h, h + 1) for h in head)
            yield (*steps, slice(start, min(start + step, shape[axis])), *trailing)


# --------------------------------------------------------------------------- bfloat16

# A bfloat16 region is the float32 region rounded; paraminit.foreign fills whole arrays.
_F32 = np.dtype(np.float32)


def _work_dtype(dtype: np.dtype[Any]) -> np.dtype[Any]:
    """The dtype values are computed in: float32 for bfloat16, else ``dtype`` itself."""
    return _F32 if is_bfloat16(dtype) else dtype
