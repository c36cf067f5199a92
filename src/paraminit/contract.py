"""The data contract: which arrays an initializer accepts and where it writes.

Every initializer starts with :func:`prepare_output`. It rejects what cannot be
initialized (non-arrays, non-float dtypes, read-only arrays written in place)
with an error that names the function, and returns the array to write into:
``data`` itself for ``inplace=True``, a fresh C-ordered array of the same shape
and dtype otherwise. Values never depend on the memory order of ``out``: the
engine addresses elements by their logical (C-order) index.
"""

from __future__ import annotations

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


def check_array(func_name: str, data: object) -> FloatArray:
    """Return ``data`` if it is a float16/32/64 numpy array, else raise ``TypeError``."""
    if not isinstance(data, np.ndarray):
        raise TypeError(
            f"{func_name}: 'data' must be a numpy.ndarray of float16, float32 or float64, "
            f"got {type(data).__name__}"
        )
    if data.dtype not in _SUPPORTED:
        raise TypeError(
            f"{func_name}: 'data' has dtype {data.dtype}; initializers fill float16, "
            "float32 or float64 arrays"
        )
    return data


def _swapped(data: object) -> bool:
    """Whether ``data`` is a supported float array of the other byte order (``>f4`` here)."""
    return (
        isinstance(data, np.ndarray)
        and not data.dtype.isnative
        and data.dtype.newbyteorder("=") in _SUPPORTED
    )


def prepare_output(func_name: str, data: object, inplace: bool) -> FloatArray:
    """Validate ``data`` and return the array the initializer writes into.

    ``data`` of the other byte order (``>f4`` on a little-endian machine) gets a new native
    array of the same values; ``inplace=True`` is refused for it, as for a ``numpy.matrix``
    (whose indexing keeps two dimensions, so a fill in place would go wrong).
    """
    # The common case without the call to check_array: this runs on every call.
    array = data if type(data) is np.ndarray and data.dtype in _SUPPORTED else None
    if array is None:
        if isinstance(data, np.matrix) and inplace:
            raise TypeError(
                f"{func_name}: 'data' is a numpy.matrix, which cannot be filled in place; "
                "pass numpy.asarray(data), or inplace=False"
            )
        if _swapped(data):
            assert isinstance(data, np.ndarray)
            if inplace:
                raise TypeError(
                    f"{func_name}: 'data' has the non-native byte order {data.dtype.str}, which "
                    "cannot be filled in place; pass inplace=False (the result is native)"
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
