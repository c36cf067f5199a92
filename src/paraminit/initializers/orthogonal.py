"""Orthogonal initializers: (semi-)orthogonal matrices and delta-orthogonal conv kernels."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from ..arguments import PositiveFinite, Seed
from ..contract import FloatArray, require_ndim
from ..engine import Normal, fill, resolve_seed
from ..fans import Layout, layout_axes
from ..foreign import accepts_bfloat16
from ..registry import register_initializer
from ._base import _begin, _require_fits, _skip_empty

__all__ = ["delta_orthogonal_init", "haar_orthogonal", "orthogonal_init"]


def haar_orthogonal(rows: int, cols: int, seed: int) -> npt.NDArray[np.float64]:
    """A ``(rows, cols)`` float64 matrix from the Haar (uniform) distribution.

    Orthonormal rows if ``rows <= cols``, orthonormal columns otherwise. The QR
    factors of a Gaussian matrix, with each column of Q multiplied by the sign of
    R's diagonal: plain QR would favour one sign and not be uniform (Mezzadri 2007).
    The Gaussian matrix is drawn by the engine, so the result is a function of ``seed``
    (and of the LAPACK build: the values are exempt from the golden fixture).

    With scipy (the ``lapack`` extra) the Householder QR (``geqrf``) and the
    forming of Q (``orgqr``) run in place on the Gaussian matrix, drawn straight
    into Fortran order: the only large temporary is that matrix (twice a float32
    result). Without scipy, ``numpy.linalg.qr`` does the same factorization with
    copies of it (about five matrices in all).
    """
    lapack = _lapack()
    if rows * cols < _SERIAL_BELOW:
        with _one_blas_thread():
            q = _haar_q(rows, cols, seed, lapack)
    else:
        q = _haar_q(rows, cols, seed, lapack)
    return q if rows >= cols else q.T


# Elements below which the QR runs on one BLAS thread. On 2 cores shared with other
# jobs OpenBLAS's threads wait on each other at every panel of the blocked QR: 1000x100
# took 26.7 ms on two threads, 3.3 ms on one; 316x316 12.8 and 3.9; 700x700 50.7 and
# 28.1; from 1000x1000 two threads pay (49 against 72 ms; docs/benchmarks.md).
_SERIAL_BELOW = 1_000_000
_SERIAL_SETTERS: list[Any] | None = None
# A BLAS's thread count is the process's (OpenBLAS's pthreads builds: another thread
# reads 1 after it), so concurrent QRs share one change: the first sets one
# thread, the last restores the counts the first found.
_SERIAL_LOCK = threading.Lock()
_serial_users = 0
_serial_saved: list[int] = []


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Run the block with every loaded BLAS on one thread, then restore its count."""
    global _serial_users, _serial_saved
    setters = _blas_serial_setters()
    with _SERIAL_LOCK:
        if _serial_users == 0:
            _serial_saved = [set_threads(1) for set_threads in setters]
        _serial_users += 1
    try:
        yield
    finally:
        with _SERIAL_LOCK:
            _serial_users -= 1
            if _serial_users == 0:
                for set_threads, count in zip(setters, _serial_saved, strict=True):
                    set_threads(count)


def _blas_serial_setters() -> list[Any]:
    """A setter per BLAS loaded (numpy's, scipy's), by threadpoolctl (extra ``lapack``):
    ``set_threads(n)`` sets that library's thread count and returns the one it replaced.

    Empty without threadpoolctl: the QR then runs as the BLAS is configured.
    """
    global _SERIAL_SETTERS
    if _SERIAL_SETTERS is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _SERIAL_SETTERS = []
        else:
            blas = ThreadpoolController().select(user_api="blas")
            _SERIAL_SETTERS = [_setter(library) for library in blas.lib_controllers]
    return _SERIAL_SETTERS


def _setter(library: Any) -> Any:
    def set_threads(count: int) -> int:
        previous: int = library.num_threads
        library.set_num_threads(count)
        return previous

    return set_threads


def _haar_q(
    rows: int, cols: int, seed: int, lapack: tuple[Any, Any] | None
) -> npt.NDArray[np.float64]:
    """The tall ``Q`` of :func:`haar_orthogonal` (its transpose when ``rows < cols``)."""
    tall_shape = (rows, cols) if rows >= cols else (cols, rows)
    if lapack is None:
        gaussian = fill(np.empty((rows, cols), np.float64), Normal(0.0, 1.0), seed)
        tall = gaussian if rows >= cols else gaussian.T
        q, r = np.linalg.qr(tall)
        diagonal = np.diagonal(r)
    else:
        geqrf, orgqr = lapack
        # The tall matrix in Fortran order: for rows < cols, a C-ordered (rows, cols)
        # Gaussian is its transpose already; else fill a Fortran-ordered one.
        empty = np.empty((rows, cols), np.float64, order="F" if rows >= cols else "C")
        gaussian = fill(empty, Normal(0.0, 1.0), seed)
        tall = gaussian if rows >= cols else gaussian.T
        # Room for LAPACK's blocked algorithms (blocks of up to 64 columns); their
        # default workspace (3n) forces the unblocked ones, several times slower.
        lwork = 64 * max(1, tall_shape[1])
        qr, tau, _, info = geqrf(tall, lwork=lwork, overwrite_a=True)
        _check_lapack("geqrf", info)
        diagonal = np.diagonal(qr)[: tall_shape[1]].copy()
        q, _, info = orgqr(qr, tau, lwork=lwork, overwrite_a=True)
        _check_lapack("orgqr", info)
    signs = np.sign(diagonal)
    signs[signs == 0] = 1.0
    q *= signs
    return q


def _lapack() -> tuple[Any, Any] | None:
    """scipy's ``dgeqrf`` and ``dorgqr``, or ``None`` without scipy (the ``lapack`` extra)."""
    try:
        from scipy.linalg import lapack  # type: ignore[import-untyped]
    except ImportError:
        return None
    return lapack.dgeqrf, lapack.dorgqr


def _check_lapack(name: str, info: int) -> None:
    if info != 0:  # pragma: no cover - only for an invalid argument, which we never pass
        raise RuntimeError(f"orthogonal_init: LAPACK {name} failed with info={info}")


@register_initializer("orthogonal_init.v1")
@accepts_bfloat16
def orthogonal_init(
    data: FloatArray,
    gain: PositiveFinite = 1.0,
    layout: Layout = "oi",
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """Saxe et al. (2013), torch ``orthogonal_``, keras/jax ``orthogonal``: ``gain`` times a
    random (semi-)orthogonal matrix, uniform (Haar) over the orthogonal matrices.

    The array is viewed as a matrix with one row per output unit: with
    ``layout="oi"`` (torch) ``shape[0]`` rows and ``prod(shape[1:])`` columns, the
    trailing axes flattened; with ``layout="io"`` (keras/jax kernels ``(*rf, in,
    out)``) ``shape[-1]`` rows, stored as the columns of ``data.reshape(-1,
    shape[-1])``. The rows are orthonormal when there are no more rows than columns
    (``Q @ Q.T = gain**2 * I``), else the columns are (``Q.T @ Q = gain**2 * I``).

    >>> Q = orthogonal_init(np.empty((4, 4)), seed=0)
    >>> bool(np.allclose(Q @ Q.T, np.eye(4)))
    True
    """
    out = _begin(orthogonal_init, locals())
    require_ndim(orthogonal_init.__name__, out.shape, 2)
    _require_fits(orthogonal_init, out, "gain", gain)  # |entries| <= gain
    _, out_axis = layout_axes(layout)
    if _skip_empty(orthogonal_init, out, seed):
        return out
    rows = out.shape[out_axis]
    matrix = haar_orthogonal(rows, out.size // rows, resolve_seed(orthogonal_init.__name__, seed))
    matrix *= gain
    if layout == "io":
        out[...] = matrix.T.reshape(out.shape)
    else:
        out[...] = matrix.reshape(out.shape)
    return out


@register_initializer("delta_orthogonal_init.v1")
@accepts_bfloat16
def delta_orthogonal_init(
    data: FloatArray,
    gain: PositiveFinite = 1.0,
    layout: Layout = "oi",
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> FloatArray:
    """Xiao et al. (2018), jax ``delta_orthogonal``: a conv kernel that is ``gain`` times a
    random orthogonal matrix at the spatial centre and zero elsewhere.

    For a kernel of shape ``(out, in, *spatial)`` with 1 to 3 spatial axes and
    ``out >= in``: ``kernel[:, :, c1, c2, ...] = gain * Q`` with ``Q.T @ Q = I`` of
    shape ``(out, in)`` and ``c = (size - 1) // 2`` on each spatial axis, so a
    convolution with it is a norm-preserving map of the input channels. With
    ``layout="io"`` the kernel is ``(*spatial, in, out)`` (keras/jax) and
    ``kernel[c1, c2, ..., :, :] = gain * Q.T``.

    >>> K = delta_orthogonal_init(np.empty((4, 4, 3, 3)), seed=0)
    >>> bool(np.allclose(K[:, :, 1, 1].T @ K[:, :, 1, 1], np.eye(4)))
    True
    """
    out = _begin(delta_orthogonal_init, locals())
    require_ndim(delta_orthogonal_init.__name__, out.shape, 3, 5)
    _require_fits(delta_orthogonal_init, out, "gain", gain)
    in_axis, out_axis = layout_axes(layout)
    n_in, n_out = out.shape[in_axis], out.shape[out_axis]
    if n_in > n_out:
        raise ValueError(
            f"{delta_orthogonal_init.__name__}: needs at least as many output channels as "
            f"input channels for an orthogonal centre, got shape {out.shape} (layout {layout!r})"
        )
    if _skip_empty(delta_orthogonal_init, out, seed):
        return out
    matrix = haar_orthogonal(n_out, n_in, resolve_seed(delta_orthogonal_init.__name__, seed))
    matrix *= gain
    out.fill(0)
    if layout == "io":
        centre = tuple((size - 1) // 2 for size in out.shape[:-2])
        out[centre] = matrix.T
    else:
        centre = tuple((size - 1) // 2 for size in out.shape[2:])
        index = (slice(None), slice(None), *centre)
        out[index] = matrix
    return out
