"""The data contract: which arrays an initializer accepts and where it writes.

Every initializer starts with :func:`prepare_output`. It rejects what cannot be
initialized (non-arrays, non-float dtypes, read-only arrays written in place)
with an error that names the function, and returns the array to write into:
``data`` itself for ``inplace=True``, a fresh C-ordered array of the same shape
and dtype otherwise. Values never depend on the memory order of ``out``: the
engine addresses elements by their logical (C-order) index.

bfloat16 (``ml_dtypes.bfloat16``, the optional extra ``bf16``) is accepted too:
its values are the float32 values rounded to nearest even
(``paraminit.foreign.accepts_bfloat16`` computes them). The dtype is recognized
by its name, and ``ml_dtypes`` is imported only once one is met, never by
``import paraminit``.
"""

from __future__ import annotations

import math
import os
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.floating[Any]]


class Initializer(Protocol):
    """What an initializer is, as a type: called with the array (and its arguments),
    it returns the initialized array.

    ``uniform_init``, an ``InitializerPartial`` from a config and any
    ``functools.partial`` of an initializer are all ``Initializer``s; the
    arguments are checked by the initializer itself, so the type leaves them open.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> FloatArray: ...


SUPPORTED_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
_SUPPORTED = frozenset(SUPPORTED_DTYPES)  # a hash lookup: check_array runs on every call
BFLOAT16 = "bfloat16"  # the name of ml_dtypes' dtype; the type itself is imported lazily
_KINDS = "float16, bfloat16, float32 or float64"


def is_bfloat16(dtype: np.dtype[Any]) -> bool:
    """Whether ``dtype`` is ``ml_dtypes.bfloat16`` (by name: ``ml_dtypes`` is not imported)."""
    return dtype.name == BFLOAT16 and dtype.kind == "V"


def bfloat16_dtype() -> np.dtype[Any]:
    """``ml_dtypes.bfloat16`` as a numpy dtype; imports ``ml_dtypes`` (the ``bf16`` extra)."""
    try:
        import ml_dtypes
    except ImportError:  # pragma: no cover - the test extra installs ml_dtypes
        raise ImportError(
            "bfloat16 arrays need ml_dtypes; install it with: pip install 'paraminit[bf16]'"
        ) from None
    bfloat16: np.dtype[Any] = np.dtype(ml_dtypes.bfloat16)
    return bfloat16


def check_dtype(func_name: str, dtype: object) -> np.dtype[Any]:
    """The dtype ``dtype`` names if initializers fill it (``"bfloat16"`` too), else TypeError."""
    if isinstance(dtype, str) and dtype == BFLOAT16:
        return bfloat16_dtype()
    try:
        found: np.dtype[Any] | None = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        found = None
    if found is not None and (found in _SUPPORTED or is_bfloat16(found)):
        return found
    raise TypeError(f"{func_name}: 'dtype' must be {_KINDS}, got {dtype!r}")


def check_array(func_name: str, data: object) -> FloatArray:
    """Return ``data`` if it is a float16/bfloat16/float32/float64 array, else ``TypeError``."""
    if not isinstance(data, np.ndarray):
        raise TypeError(
            f"{func_name}: 'data' must be a numpy.ndarray of {_KINDS}, got {type(data).__name__}"
        )
    if data.dtype not in _SUPPORTED and not is_bfloat16(data.dtype):
        raise TypeError(
            f"{func_name}: 'data' has dtype {data.dtype}; initializers fill {_KINDS} arrays"
        )
    return data


def is_swapped(data: object) -> bool:
    """Whether ``data`` is a supported float array of the other byte order (``>f4`` here)."""
    return (
        isinstance(data, np.ndarray)
        and not data.dtype.isnative
        and data.dtype.newbyteorder("=") in _SUPPORTED
    )


def prepare_output(func_name: str, data: object, inplace: bool) -> FloatArray:
    """Validate ``data`` and return the array the initializer writes into.

    ``data`` of the other byte order (``>f4`` on a little-endian machine) gets a new native
    array; ``inplace=True`` is refused for it here (the initializer would fill a native
    array, not ``data``): ``paraminit.foreign.accepts_bfloat16`` fills such data in place
    for the initializers it wraps (every built-in). ``inplace=True`` is refused for a
    ``numpy.matrix`` too (its indexing keeps two dimensions, so a fill in place would go
    wrong).
    """
    # The common case without the call to check_array: this runs on every call.
    array = data if type(data) is np.ndarray and data.dtype in _SUPPORTED else None
    if array is None:
        if isinstance(data, np.matrix) and inplace:
            raise TypeError(
                f"{func_name}: 'data' is a numpy.matrix, which cannot be filled in place; "
                "pass numpy.asarray(data), or inplace=False"
            )
        if is_swapped(data):
            assert isinstance(data, np.ndarray)
            if not isinstance(inplace, (bool, np.bool_)):
                raise TypeError(f"{func_name}: 'inplace' must be a bool, got {inplace!r}")
            if inplace:
                raise TypeError(
                    f"{func_name}: 'data' has the non-native byte order {data.dtype.str}, which "
                    "this initializer cannot fill in place; pass inplace=False (the result is "
                    "native), or wrap it in paraminit.foreign.accepts_bfloat16"
                )
            return np.empty(data.shape, dtype=data.dtype.newbyteorder("="))
        array = check_array(func_name, data)
    if not isinstance(inplace, (bool, np.bool_)):
        raise TypeError(f"{func_name}: 'inplace' must be a bool, got {inplace!r}")
    if inplace:
        if not array.flags.writeable:
            raise ValueError(
                f"{func_name}: inplace=True needs a writeable array, but 'data' is read-only "
                "(pass inplace=False to get a new array)"
            )
        return array
    return np.empty(array.shape, dtype=array.dtype)


def memory_limit() -> int | None:
    """This machine's physical memory in bytes, if known: the most one array may take.

    The default ``max_bytes`` of ``paraminit.build`` (which re-exports it), and the
    limit ``initialize_region`` holds whole arrays and regions to.
    """
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def require_memory(func_name: str, what: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
    """Raise ``ValueError`` naming the bytes needed if an array of ``shape`` cannot be held.

    Beyond the physical memory (or what numpy can describe, where that is smaller),
    before anything is allocated: with overcommitted memory an allocation that
    cannot be backed only fails once it is written.
    """
    nbytes = math.prod(shape) * dtype.itemsize
    physical = memory_limit()
    limit = np.iinfo(np.intp).max if physical is None else min(physical, np.iinfo(np.intp).max)
    if nbytes > limit:
        held = "this machine's memory" if physical == limit else "numpy can describe"
        raise ValueError(
            f"{func_name}: {what} of shape {shape} ({dtype}) needs {nbytes:,} bytes, "
            f"more than {held} ({limit:,} bytes)"
        )


def require_ndim(func_name: str, shape: tuple[int, ...], low: int, high: int | None = None) -> None:
    """Raise ``ValueError`` unless ``low <= len(shape) <= high``."""
    ndim = len(shape)
    if ndim < low or (high is not None and ndim > high):
        if high is None:
            need = f"at least {low} dimensions"
        elif high == low:
            need = f"exactly {low} dimensions"
        else:
            need = f"{low} to {high} dimensions"
        raise ValueError(f"{func_name}: needs an array with {need}, got shape {shape}")
