"""Orthogonal and delta-orthogonal initializers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import paraminit
from _conv import conv


@pytest.mark.parametrize("shape", [(8, 8), (5, 12), (12, 5), (6, 3, 3, 3), (30, 2, 2), (1, 7)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(
    shape: tuple[int, ...], gain: float
) -> None:
    q = paraminit.orthogonal_init(np.empty(shape), gain, seed=3).reshape(shape[0], -1)
    rows, cols = q.shape
    gram = q @ q.T if rows <= cols else q.T @ q
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_orthogonal_in_lower_precision_is_orthogonal_to_that_precision(dtype: type) -> None:
    q = paraminit.orthogonal_init(np.empty((16, 16), dtype), seed=1).astype(np.float64)
    tolerance = 1e-2 if dtype == np.float16 else 1e-5
    np.testing.assert_allclose(q @ q.T, np.eye(16), atol=tolerance)


def test_orthogonal_matrices_are_haar_distributed() -> None:
    # For a uniformly random rotation of R^3 each entry is uniform on [-1, 1] (Archimedes).
    # QR without the sign correction would give q[0, 0] <= 0 every time.
    corner = [paraminit.orthogonal_init(np.empty((3, 3)), seed=s)[0, 0] for s in range(400)]
    assert stats.kstest(corner, stats.uniform(-1, 2).cdf).pvalue > 1e-4


def test_orthogonal_needs_two_dimensions() -> None:
    with pytest.raises(ValueError, match=r"orthogonal_init: .*at least 2 dimensions.*\(5,\)"):
        paraminit.orthogonal_init(np.empty(5))


@pytest.mark.parametrize("shape", [(4, 4, 3), (6, 4, 3, 3), (5, 3, 3, 1, 3), (4, 2, 5)])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_a_convolution_with_the_delta_orthogonal_kernel_keeps_the_input(
    shape: tuple[int, ...], gain: float
) -> None:
    kernel = paraminit.delta_orthogonal_init(np.empty(shape), gain, seed=2)
    centre = tuple((k - 1) // 2 for k in shape[2:])
    q = kernel[(slice(None), slice(None), *centre)]
    np.testing.assert_allclose(q.T @ q, gain**2 * np.eye(shape[1]), atol=1e-5)
    assert np.count_nonzero(kernel) == np.count_nonzero(q)

    x = np.random.default_rng(0).standard_normal((shape[1], *[6] * (len(shape) - 2)))
    y = conv(x, kernel, padding=centre)
    np.testing.assert_allclose(np.linalg.norm(y), gain * np.linalg.norm(x))
    np.testing.assert_allclose(q.T @ y.reshape(shape[0], -1) / gain**2, x.reshape(shape[1], -1))


def test_delta_orthogonal_centre_follows_jax_for_even_kernels() -> None:
    kernel = paraminit.delta_orthogonal_init(np.empty((3, 3, 4, 2)), seed=0)
    assert np.argwhere(kernel)[:, 2:].tolist() == [[1, 0]] * np.count_nonzero(kernel)


@pytest.mark.parametrize("shape", [(4, 4), (2, 2, 2, 2, 2, 2)])
def test_delta_orthogonal_needs_three_to_five_dimensions(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"delta_orthogonal_init: .*3 to 5 dimensions"):
        paraminit.delta_orthogonal_init(np.empty(shape))


def test_delta_orthogonal_needs_no_more_inputs_than_outputs() -> None:
    with pytest.raises(ValueError, match=r"delta_orthogonal_init: .*\(2, 4, 3\)"):
        paraminit.delta_orthogonal_init(np.empty((2, 4, 3)))


@pytest.mark.parametrize("shape", [(3, 3, 4, 8), (8, 4), (4, 8), (2, 5, 3)])
def test_orthogonal_io_layout_is_the_oi_result_with_the_output_axis_moved_last(
    shape: tuple[int, ...],
) -> None:
    keras = paraminit.orthogonal_init(np.empty(shape), layout="io", seed=4)
    torch_style = paraminit.orthogonal_init(np.empty((shape[-1], *shape[:-1])), seed=4)
    np.testing.assert_array_equal(keras, np.moveaxis(torch_style, 0, -1))


@pytest.mark.parametrize("shape", [(3, 4, 6), (3, 3, 4, 4), (3, 1, 3, 2, 5)])
def test_delta_orthogonal_io_layout_is_the_oi_kernel_transposed(shape: tuple[int, ...]) -> None:
    keras = paraminit.delta_orthogonal_init(np.empty(shape), layout="io", seed=4)
    oi_shape = (shape[-1], shape[-2], *shape[:-2])
    torch_style = paraminit.delta_orthogonal_init(np.empty(oi_shape), seed=4)
    axes = (*range(2, len(shape)), 1, 0)
    np.testing.assert_array_equal(keras, np.transpose(torch_style, axes))


def test_delta_orthogonal_io_layout_checks_in_and_out_on_the_last_axes() -> None:
    with pytest.raises(ValueError, match=r"delta_orthogonal_init: .*\(3, 3, 8, 4\)"):
        paraminit.delta_orthogonal_init(np.empty((3, 3, 8, 4)), layout="io")


@pytest.mark.parametrize("shape", [(7, 7), (5, 9), (9, 5), (3, 4, 2)])
def test_the_lapack_path_and_the_numpy_fallback_give_the_same_matrix(
    shape: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both are Householder QR (geqrf, orgqr) of the same Gaussian matrix with the same
    # sign rule; they differ only by rounding in the BLAS.
    import paraminit.initializers.orthogonal as orthogonal

    with_scipy = paraminit.orthogonal_init(np.empty(shape), seed=4)
    monkeypatch.setattr(orthogonal, "_lapack", lambda: None)
    with_numpy = paraminit.orthogonal_init(np.empty(shape), seed=4)
    np.testing.assert_allclose(with_scipy, with_numpy, atol=1e-12)


def test_orthogonal_needs_no_more_than_twice_the_result_with_scipy() -> None:
    import tracemalloc

    out = np.empty((512, 512), np.float32)
    paraminit.orthogonal_init(out, inplace=True, seed=0)  # the engine's block scratch, once
    tracemalloc.start()
    try:
        paraminit.orthogonal_init(out, inplace=True, seed=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The float64 Gaussian matrix (2x), LAPACK's tau and workspace (64 columns), and
    # a block of the engine's scratch (the matrix is filled in Fortran order).
    block = paraminit.engine.BLOCK_SIZE * 8
    assert peak <= 2 * out.nbytes + 64 * 512 * 8 + block + (1 << 16)


def test_a_small_qr_runs_on_one_blas_thread_and_restores_the_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import paraminit.initializers.orthogonal as orthogonal

    counts: list[int] = []
    current = [3]

    def set_threads(n: int) -> int:
        counts.append(n)
        previous, current[0] = current[0], n
        return previous

    monkeypatch.setattr(orthogonal, "_SERIAL_SETTERS", [set_threads])
    paraminit.orthogonal_init(np.empty((40, 30)), seed=0)
    assert counts == [1, 3] and current == [3]
    counts.clear()
    monkeypatch.setattr(orthogonal, "_SERIAL_BELOW", 40 * 30)
    paraminit.orthogonal_init(np.empty((40, 30)), seed=0)  # not below: OpenBLAS as set
    assert counts == []


def test_the_blas_thread_setters_are_found_where_a_blas_is_loaded() -> None:
    import paraminit.initializers.orthogonal as orthogonal

    paraminit.orthogonal_init(np.empty((4, 4)), seed=0)
    setters = orthogonal._blas_serial_setters()
    assert setters  # numpy's BLAS at least, with threadpoolctl from the test extra
    for set_threads in setters:
        previous = set_threads(1)
        assert set_threads(previous) == 1


def test_overlapping_small_qrs_restore_the_count_the_first_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # OpenBLAS's pthreads builds share the count between threads: the second QR must
    # not save the first's 1 and restore it last.
    import paraminit.initializers.orthogonal as orthogonal

    current = [3]

    def set_threads(n: int) -> int:
        previous, current[0] = current[0], n
        return previous

    monkeypatch.setattr(orthogonal, "_SERIAL_SETTERS", [set_threads])
    with orthogonal._one_blas_thread():
        with orthogonal._one_blas_thread():
            assert current == [1]
        assert current == [1]
    assert current == [3]
