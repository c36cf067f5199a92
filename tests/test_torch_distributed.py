"""paraminit.torch on 1, 2 and 4 processes (gloo, CPU): sharded parameters, same full tensors.

One spawn per world size runs every check in its process group and saves what the
tests below compare: the full tensors of an FSDP2 model, of tensor-parallel
placements on a 2-D mesh (uneven too) and of FSDP2 over tensor parallelism
(strided shards), plus the errors ranks raised.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch extra is not installed")
dist = torch.distributed
if not dist.is_available():  # pragma: no cover - every torch build on PyPI has it
    pytest.skip("this torch build has no torch.distributed", allow_module_level=True)

import torch.multiprocessing as mp  # noqa: E402
from torch import nn  # noqa: E402

import paraminit  # noqa: E402
import paraminit.torch as pt  # noqa: E402
from _torch_models import Tiny, numpy_params, rules  # noqa: E402

WORLD_SIZES = (1, 2, 4)
MESHES = {1: (1, 1), 2: (1, 2), 4: (2, 2)}  # the 2-D (dp, tp) mesh of each world size
SHAPES = [(7, 5), (9, 6)]  # uneven over 2 and 4
PLACEMENTS = ["S0,S1", "R,S0", "S1,R", "S0,S0", "R,R"]
INITS = {"he_normal": paraminit.he_normal_init, "orthogonal": paraminit.orthogonal_init}
SEED = 5


def _placements(text: str) -> list[Any]:
    from torch.distributed.tensor import Replicate, Shard

    return [Replicate() if p == "R" else Shard(int(p[1])) for p in text.split(",")]


def _full(module: nn.Module) -> dict[str, np.ndarray[Any, Any]]:
    return {n: p.full_tensor().detach().numpy().copy() for n, p in module.named_parameters()}


def _fsdp(world: int) -> dict[str, Any]:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    mesh = init_device_mesh("cpu", (world,))
    with torch.device("meta"):
        model = Tiny()
    for block in model.blocks:
        fully_shard(block, mesh=mesh)
    fully_shard(model, mesh=mesh)
    model.to_empty(device="cpu")
    model.head.weight = model.tok.weight  # to_empty unties them
    pt.initialize(model, rules(), seed=SEED)
    return {f"fsdp/{name}": values for name, values in _full(model).items()}


def _fsdp_over_tensor_parallel(world: int) -> dict[str, Any]:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor.parallel import (
        ColwiseParallel,
        RowwiseParallel,
        parallelize_module,
    )

    mesh = init_device_mesh("cpu", MESHES[world], mesh_dim_names=("dp", "tp"))
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(6, 10), nn.Linear(10, 6))
    parallelize_module(model, mesh["tp"], {"0": ColwiseParallel(), "1": RowwiseParallel()})
    fully_shard(model, mesh=mesh["dp"])
    model.to_empty(device="cpu")
    pt.initialize(model, _mlp_rules(), seed=SEED)
    results: dict[str, Any] = {f"fsdp_tp/{n}": v for n, v in _full(model).items()}
    results["fsdp_tp_placements"] = {n: str(p.placements) for n, p in model.named_parameters()}
    return results


def _mlp_rules() -> list[dict[str, Any]]:
    return [
        {"match": "*.weight", "init": paraminit.orthogonal_init},
        {"match": "*.bias", "init": {"@initializers": "uniform_init.v1"}},
    ]


def _tensor_parallel(world: int) -> dict[str, Any]:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import distribute_tensor
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    mesh = init_device_mesh("cpu", MESHES[world])
    results: dict[str, Any] = {"layouts": []}
    for placement in PLACEMENTS:
        for shape in SHAPES:
            for init_name, init in INITS.items():
                empty = torch.empty(shape)
                tensor = distribute_tensor(empty, mesh, _placements(placement), src_data_rank=None)
                pt.init_(tensor, init, seed=SEED)
                results[f"tp/{placement}/{shape}/{init_name}"] = tensor.full_tensor().numpy()
            # Pins the layout found through the public API to torch's checkpoint offsets.
            runs = pt.shard_runs(tensor)
            torch_shape, torch_offset = compute_local_shape_and_global_offset(
                tensor.shape, mesh, tensor.placements
            )
            results["layouts"].append((placement, shape, runs, torch_shape, torch_offset))
    return results


def _refusals(world: int) -> dict[str, str]:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Partial, distribute_tensor

    mesh = init_device_mesh("cpu", (world,))
    refusals: dict[str, str] = {}

    def sharded() -> Any:
        return distribute_tensor(torch.zeros(8, 6), mesh, _placements("S0"), src_data_rank=None)

    checks = {
        "whole_limit": lambda: pt.init_(
            sharded(), paraminit.orthogonal_init, seed=0, whole_limit=47
        ),
        "partial": lambda: pt.init_(
            distribute_tensor(torch.zeros(4, 4), mesh, [Partial()], src_data_rank=None),
            paraminit.uniform_init,
            seed=0,
        ),
        "seed": lambda: pt.init_(sharded(), paraminit.uniform_init),
    }
    for name, check in checks.items():
        try:
            check()
        except (TypeError, ValueError) as err:
            refusals[name] = f"{type(err).__name__}: {err}"
    untouched = sharded()
    try:
        pt.init_(untouched, paraminit.orthogonal_init, seed=0, whole_limit=47)
    except ValueError:
        refusals["untouched"] = str(bool(torch.count_nonzero(untouched.to_local()) == 0))
    return refusals


def _without_communication(rank: int, world: int) -> bool:
    """Only the last rank initializes: a collective inside would wait for the others."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import distribute_tensor

    mesh = init_device_mesh("cpu", (world,))
    tensor = distribute_tensor(torch.zeros(11, 3), mesh, _placements("S0"), src_data_rank=None)
    if rank == world - 1:
        pt.init_(tensor, paraminit.he_normal_init, seed=SEED)
    dist.barrier()
    local = tensor.to_local()
    return bool(torch.count_nonzero(local) == local.numel()) == (rank == world - 1)


def _worker(rank: int, world: int, init_file: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    paraminit.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"file://{init_file}",
        rank=rank,
        world_size=world,
        timeout=datetime.timedelta(seconds=120),
    )
    try:
        results: dict[str, Any] = {"rank": rank}
        results["alone"] = _without_communication(rank, world)
        results.update(_fsdp(world))
        results.update(_tensor_parallel(world))
        results.update(_fsdp_over_tensor_parallel(world))
        results["refusals"] = _refusals(world)
        torch.save(results, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[int, list[dict[str, Any]]]:
    """Each world size's per-rank results (one spawn per world size)."""
    saved = {key: os.environ.get(key) for key in ("OMP_NUM_THREADS", "PARAMINIT_NUM_THREADS")}
    os.environ.update(OMP_NUM_THREADS="1", PARAMINIT_NUM_THREADS="1")
    try:
        results = {}
        for world in WORLD_SIZES:
            run = tmp_path_factory.mktemp(f"world{world}")
            mp.spawn(_worker, args=(world, str(run / "init"), str(run)), nprocs=world)
            results[world] = [
                torch.load(run / f"rank{r}.pt", weights_only=False) for r in range(world)
            ]
        return results
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def single_process_fsdp() -> dict[str, np.ndarray[Any, Any]]:
    model = Tiny()
    pt.initialize(model, rules(), seed=SEED)
    return {f"fsdp/{name}": values for name, values in numpy_params(model).items()}


def single_process_fsdp_tp() -> dict[str, np.ndarray[Any, Any]]:
    model = nn.Sequential(nn.Linear(6, 10), nn.Linear(10, 6))
    pt.initialize(model, _mlp_rules(), seed=SEED)
    return {f"fsdp_tp/{name}": values for name, values in numpy_params(model).items()}


@pytest.mark.parametrize("world", WORLD_SIZES)
def test_fsdp2_full_tensors_equal_the_single_process_model(
    worlds: dict[int, list[dict[str, Any]]], world: int
) -> None:
    expected = single_process_fsdp()
    assert expected.keys() <= worlds[world][0].keys()
    for key, values in expected.items():
        assert np.array_equal(worlds[world][0][key], values), key


@pytest.mark.parametrize("world", WORLD_SIZES)
def test_tensor_parallel_placements_equal_paraminit_on_numpy(
    worlds: dict[int, list[dict[str, Any]]], world: int
) -> None:
    for placement in PLACEMENTS:
        for shape in SHAPES:
            for init_name, init in INITS.items():
                key = f"tp/{placement}/{shape}/{init_name}"
                expected = init(np.empty(shape, np.float32), seed=SEED)
                assert np.array_equal(worlds[world][0][key], expected), key


@pytest.mark.parametrize("world", WORLD_SIZES)
def test_fsdp2_over_tensor_parallel_equals_the_single_process_model(
    worlds: dict[int, list[dict[str, Any]]], world: int
) -> None:
    for key, values in single_process_fsdp_tp().items():
        assert np.array_equal(worlds[world][0][key], values), key


def test_fsdp2_over_tensor_parallel_uses_strided_shards_on_four_ranks(
    worlds: dict[int, list[dict[str, Any]]],
) -> None:
    # The case a (local shape, first offset) pair cannot describe in general.
    assert "_StridedShard" in worlds[4][0]["fsdp_tp_placements"]["0.weight"]


def test_full_tensors_are_bit_identical_across_world_sizes(
    worlds: dict[int, list[dict[str, Any]]],
) -> None:
    reference = worlds[1][0]
    keys = [k for k in reference if k.startswith(("fsdp/", "tp/", "fsdp_tp/"))]
    assert len(keys) > 40
    for world in WORLD_SIZES[1:]:
        for rank_results in worlds[world]:
            for key in keys:
                assert np.array_equal(rank_results[key], reference[key]), (world, key)


@pytest.mark.parametrize("world", WORLD_SIZES)
def test_shard_layouts_agree_with_torchs_checkpoint_offsets(
    worlds: dict[int, list[dict[str, Any]]], world: int
) -> None:
    for rank_results in worlds[world]:
        for placement, shape, runs, torch_shape, torch_offset in rank_results["layouts"]:
            # Shard and Replicate give one run per axis (none for an empty axis).
            local_shape = tuple(sum(r[2] for r in axis) for axis in runs)
            assert local_shape == tuple(torch_shape), (placement, shape)
            for axis, axis_runs in enumerate(runs):
                assert len(axis_runs) <= 1
                if axis_runs and axis_runs[0][2]:
                    assert axis_runs[0][:2] == (0, torch_offset[axis]), (placement, shape)


@pytest.mark.parametrize("world", WORLD_SIZES)
def test_initializing_a_shard_needs_no_other_rank(
    worlds: dict[int, list[dict[str, Any]]], world: int
) -> None:
    assert all(rank_results["alone"] for rank_results in worlds[world])


def test_a_whole_tensor_initializer_above_the_limit_is_refused_on_every_rank(
    worlds: dict[int, list[dict[str, Any]]],
) -> None:
    for rank_results in worlds[4]:
        refusal = rank_results["refusals"]["whole_limit"]
        assert refusal.startswith("ValueError: init_: orthogonal_init needs the whole tensor")
        assert "(48 elements)" in refusal and "whole_limit=47" in refusal
        assert rank_results["refusals"]["untouched"] == "True"


def test_a_partial_placement_is_refused(worlds: dict[int, list[dict[str, Any]]]) -> None:
    refusal = worlds[2][0]["refusals"]["partial"]
    assert refusal.startswith("ValueError: init_: 'tensor' has a Partial placement")


def test_a_dtensor_needs_an_explicit_seed(worlds: dict[int, list[dict[str, Any]]]) -> None:
    refusal = worlds[2][1]["refusals"]["seed"]
    assert refusal.startswith("ValueError: init_: 'seed' must be given for a DTensor")
