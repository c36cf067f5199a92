"""DTensor shard layouts: which global indices a ``DTensor``'s local tensor holds on this rank."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

__all__ = ["Runs", "shard_runs"]


def _dtensor_type() -> type | None:
    if not torch.distributed.is_available():  # pragma: no cover - builds without distributed
        return None
    from torch.distributed.tensor import DTensor

    return DTensor


def _is_dtensor(tensor: torch.Tensor) -> bool:
    dtensor = _dtensor_type()
    return dtensor is not None and isinstance(tensor, dtensor)


# Per axis: runs (local start, global start, length) that map the local tensor's
# indices onto the global tensor's.
Runs = list[list[tuple[int, int, int]]]


def _runs_of(indices: np.ndarray[Any, Any]) -> list[tuple[int, int, int]]:
    """Split global ``indices`` (in local order) into runs of consecutive indices."""
    if not indices.size:
        return []
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    starts = [0, *breaks.tolist()]
    ends = [*breaks.tolist(), int(indices.size)]
    return [(s, int(indices[s]), e - s) for s, e in zip(starts, ends, strict=True)]


# A model's parameters repeat a few shapes (GPT-2: 148 tensors, 10 shapes), and one
# distribute_tensor call costs about a millisecond of Python, more than filling the
# shard: each (mesh, placements, axis) is laid out once per process.
@functools.lru_cache(maxsize=1024)
def _axis_runs(
    mesh: Any,
    coordinate: tuple[int, ...],
    placements: tuple[Any, ...],
    axis: int,
    size: int,
    ndim: int,
) -> tuple[tuple[int, int, int], ...]:
    """The runs of one axis of ``size`` sharded by ``placements`` (others ``Replicate``) on
    the rank at ``coordinate`` of ``mesh`` (part of the key: equal meshes of two process
    groups may put this process at different coordinates)."""
    from torch.distributed.tensor import distribute_tensor

    probe_shape = [1] * ndim
    probe_shape[axis] = size
    probe = torch.arange(size, dtype=torch.int64).reshape(probe_shape)
    local = distribute_tensor(probe, mesh, list(placements), src_data_rank=None).to_local()
    return tuple(_runs_of(local.reshape(-1).cpu().numpy()))


def shard_runs(tensor: Any) -> Runs:
    """Per axis of a ``DTensor``: which global indices its local tensor on this rank holds.

    The global indices of one axis are found by sharding an ``arange`` of that axis
    with the tensor's own placements on that axis (the others replaced by
    ``Replicate``) through ``distribute_tensor(..., src_data_rank=None)``, which
    splits locally without communication. This is torch's public API and its own
    sharding rule, so uneven shards and FSDP2's strided shards (FSDP over tensor
    parallelism on the same axis) come out as torch lays them out.
    """
    from torch.distributed.tensor import Replicate

    mesh, placements = tensor.device_mesh, tuple(tensor.placements)
    shape = tuple(tensor.shape)
    coordinate = mesh.get_coordinate()
    if coordinate is None:  # a rank outside the mesh holds nothing
        return [[] for _ in shape]
    runs: Runs = []
    for axis, size in enumerate(shape):
        kept = [
            p if getattr(p, "dim", None) in (axis, axis - len(shape)) else Replicate()
            for p in placements
        ]
        if all(isinstance(p, Replicate) for p in kept):
            runs.append([(0, 0, size)] if size else [])
            continue
        runs.append(list(_axis_runs(mesh, tuple(coordinate), tuple(kept), axis, size, len(shape))))
    local_shape = tuple(sum(length for _, _, length in axis_runs) for axis_runs in runs)
    if local_shape != tuple(tensor.to_local().shape):  # pragma: no cover - a torch change
        raise RuntimeError(
            f"paraminit.torch: the shard layout found for placements {placements} has shape "
            f"{local_shape}, but the local tensor has {tuple(tensor.to_local().shape)}"
        )
    return runs
