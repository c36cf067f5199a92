"""paraminit.dask: chunked Dask arrays equal numpy's fill bit for bit, locally and on a cluster."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("dask.array", reason="the dask extra is not installed")

import paraminit
import paraminit.dask as pdask
from paraminit import Config, registry

# Arguments that registered initializers cannot do without.
REQUIRED = {"constant_init": {"value": 0.25}, "sparse_init": {"sparsity": 0.5}}
PROBE = (8, 6)


def configured(name: str) -> Callable[..., Any]:
    """The registered initializer ``name`` resolved from a config (an InitializerPartial)."""
    block = {"@initializers": name, **REQUIRED.get(name.split(".")[0], {})}
    init: Callable[..., Any] = registry.resolve(Config({"init": block}))["init"]
    return init


REGISTERED = {name: configured(name) for name in registry.initializers.names()}
ELEMENTWISE = sorted(n for n, i in REGISTERED.items() if pdask.is_elementwise(i, PROBE, "f4"))
WHOLE_ONLY = sorted(set(REGISTERED) - set(ELEMENTWISE))


def numpy_values(init: Callable[..., Any], shape: tuple[int, ...], seed: int, dtype: str) -> Any:
    """``init`` filling a whole numpy array (``seed`` left out where it takes none)."""
    takes_seed = "seed" in inspect.signature(init).parameters
    return init(np.empty(shape, dtype), **({"seed": seed} if takes_seed else {}))


def min_ndim(init: Callable[..., Any]) -> int:
    """1, or 2 for initializers that need fans."""
    try:
        pdask.is_elementwise(init, (5,), "f4")
    except ValueError:
        return 2
    return 1


@st.composite
def shapes_and_chunks(draw: st.DrawFn, min_ndim: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A shape of up to 3 axes (often past one engine block) and a chunk size per axis."""
    ndim = draw(st.integers(min_ndim, 3))
    big = draw(st.booleans())
    limit = {1: 200_000, 2: 600, 3: 90}[ndim] if big else 40
    shape = tuple(draw(st.integers(1, limit)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(max(1, size // 5), size)) for size in shape)
    return shape, chunks


def test_every_registered_family_is_classified() -> None:
    assert {"uniform_init.v1", "normal_init.v1", "zero_init.v1"} <= set(ELEMENTWISE)
    assert {"orthogonal_init.v1", "sparse_init.v1", "identity_init.v1", "dirac_init.v1"} <= set(
        WHOLE_ONLY
    )


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(derandomize=True, max_examples=12, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**128 - 1), dtype=st.sampled_from(["f2", "f4", "f8"]))
def test_random_chunkings_equal_numpy(
    name: str, data: st.DataObject, seed: int, dtype: str
) -> None:
    init = REGISTERED[name]
    shape, chunks = data.draw(shapes_and_chunks(min_ndim(init)))
    array = pdask.initialize(init, shape, chunks=chunks, seed=seed, dtype=dtype)
    assert array.chunks == tuple(
        (c,) * (s // c) + ((s % c,) if s % c else ()) for s, c in zip(shape, chunks, strict=True)
    )
    values = array.compute(scheduler="threads")
    expected = numpy_values(init, shape, seed, dtype)
    assert values.dtype == expected.dtype
    assert np.array_equal(values.view(f"u{values.itemsize}"), expected.view(f"u{values.itemsize}"))


def test_every_chunk_is_made_alone() -> None:
    array = pdask.initialize(paraminit.normal_init, (1000, 300), chunks=(100, 300), seed=3)
    block = array.blocks[7].compute()
    assert np.array_equal(block, paraminit.normal_init(np.empty((1000, 300), "f"), seed=3)[700:800])
    assert array.npartitions == 10


@pytest.mark.parametrize("name", WHOLE_ONLY)
def test_whole_only_initializers_are_made_once_below_the_limit(name: str) -> None:
    init = REGISTERED[name]
    shape = (6, 6, 3) if name.startswith(("dirac", "delta")) else (12, 8)
    array = pdask.initialize(init, shape, chunks=5, seed=9)
    assert np.array_equal(array.compute(), numpy_values(init, shape, 9, "float32"))


def test_whole_only_initializers_are_refused_above_the_limit() -> None:
    with pytest.raises(ValueError, match=r"orthogonal_init needs the whole array.*max_whole_bytes"):
        pdask.initialize(paraminit.orthogonal_init, (100, 100), seed=0, max_whole_bytes=39_999)
    assert pdask.initialize(
        paraminit.orthogonal_init, (100, 100), seed=0, max_whole_bytes=40_000
    ).shape == (100, 100)
    too_big = math.isqrt(pdask.MAX_WHOLE_BYTES // 4) + 1
    with pytest.raises(ValueError, match="needs the whole array"):
        pdask.initialize(paraminit.orthogonal_init, (too_big, too_big), seed=0)


def test_seed_none_draws_one_seed_for_the_whole_array() -> None:
    paraminit.set_seed(77)
    array = pdask.initialize(paraminit.uniform_init, (300, 400), chunks=50, seed=None)
    paraminit.set_seed(77)
    assert np.array_equal(array.compute(), paraminit.uniform_init(np.empty((300, 400), "f")))


def test_bad_arguments_are_refused_by_name() -> None:
    with pytest.raises(TypeError, match="'dtype' must be float16, bfloat16, float32 or float64"):
        pdask.initialize(paraminit.uniform_init, (4, 4), seed=0, dtype="int32")
    with pytest.raises(ValueError, match="'shape' must not be negative"):
        pdask.initialize(paraminit.uniform_init, (4, -4), seed=0)


@pytest.mark.parametrize(
    "name", ["uniform_init.v1", "truncated_normal_init.v1", "he_normal_init.v1"]
)
def test_chunks_made_on_worker_processes_equal_numpy(cluster: Any, name: str) -> None:
    init = REGISTERED[name]
    shape = (301, 700)  # several engine blocks, cut by chunks that are not block-aligned
    array = pdask.initialize(init, shape, chunks=(77, 300), seed=2**100 + 5)
    values = cluster.compute(array).result()
    workers = cluster.run(lambda: 1)
    assert len(workers) == 2
    assert np.array_equal(values, numpy_values(init, shape, 2**100 + 5, "float32"))


def test_run_chunk_tasks_reports_progress_on_a_cluster(cluster: Any) -> None:
    import dask

    tasks = [
        dask.delayed(pdask.ChunkDone, pure=False)(f"p{i}", 10 * (i + 1), dask_key_name=f"t{i}")
        for i in range(4)
    ]
    seen: list[tuple[int, int, str]] = []
    done = pdask.run_chunk_tasks(tasks, 100, progress=lambda *a: seen.append(a), scheduler=cluster)
    assert sorted(d.name for d in done) == ["p0", "p1", "p2", "p3"]
    assert [s[0] for s in seen] == sorted(s[0] for s in seen) and seen[-1][:2] == (100, 100)
