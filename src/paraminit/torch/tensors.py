"""Filling one torch tensor: its target (dtype, device, shard), the checked plan, ``init_``.

A CPU tensor is written through a numpy view of its memory; other devices,
bfloat16 and ``DTensor`` shards by host chunks copied in, each chunk made by
:func:`paraminit.initialize_region` over its global indices. Whole-tensor
initializers are computed whole on the host, up to ``whole_limit`` elements.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .. import initialize_region
from ..engine import next_seed
from ..regions import boxes, distribution_of, fill_in_place, init_name, takes_seed, written_seed
from .shards import Runs, _is_dtensor, shard_runs

__all__ = ["WHOLE_TENSOR_LIMIT", "Initializer", "init_"]

Initializer = Callable[..., Any]

# Whole-tensor initializers (orthogonal, sparse, identity, dirac) on a shard or a
# non-CPU tensor are computed whole on the host; above this many elements they are
# refused rather than allocating a host copy of the full tensor on every rank.
WHOLE_TENSOR_LIMIT = 1 << 26

# bfloat16 has no numpy dtype: its values are float32's, rounded by torch's
# conversion (round to nearest even).
_NUMPY_DTYPES: dict[torch.dtype, np.dtype[Any]] = {
    torch.float16: np.dtype(np.float16),
    torch.float32: np.dtype(np.float32),
    torch.float64: np.dtype(np.float64),
    torch.bfloat16: np.dtype(np.float32),
}


@dataclass
class _Target:
    """A tensor to fill: the tensor written to, its global shape and its place in it."""

    local: torch.Tensor  # the tensor that is written (a DTensor's local tensor)
    shape: tuple[int, ...]  # the global shape
    dtype: np.dtype[Any]  # the numpy dtype paraminit computes in
    runs: Runs | None  # None: ``local`` is the whole tensor, filled through a numpy view
    sharded: bool

    @property
    def copies(self) -> bool:
        """Whether values reach the tensor by copy (not through a numpy view of it)."""
        return self.runs is not None


def _target(func_name: str, tensor: object, what: str) -> _Target:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{func_name}: {what} must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.dtype not in _NUMPY_DTYPES:
        raise TypeError(
            f"{func_name}: {what} must be float16, bfloat16, float32 or float64, got {tensor.dtype}"
        )
    if tensor.is_meta:
        raise ValueError(
            f"{func_name}: {what} is on the meta device and has no storage; "
            "materialize the module first with module.to_empty(device=...)"
        )
    shape = tuple(tensor.shape)
    dtype = _NUMPY_DTYPES[tensor.dtype]
    if _is_dtensor(tensor):
        placements = tuple(tensor.placements)  # type: ignore[attr-defined]
        if any(p.is_partial() for p in placements):
            raise ValueError(
                f"{func_name}: {what} has a Partial placement ({placements}); its full values "
                "are a reduction over ranks, so no rank can be given its share"
            )
        local = tensor.to_local()  # type: ignore[attr-defined]
        return _Target(local, shape, dtype, shard_runs(tensor), sharded=True)
    if tensor.device.type == "cpu" and tensor.dtype != torch.bfloat16:
        return _Target(tensor, shape, dtype, None, sharded=False)
    return _Target(tensor, shape, dtype, [[(0, 0, d)] if d else [] for d in shape], sharded=False)


def _boxes(runs: Runs) -> Iterator[tuple[tuple[slice, ...], tuple[slice, ...]]]:
    """The boxes of a layout, each at most ``paraminit.torch.HOST_CHUNK_ELEMENTS`` elements.

    Yields ``(local slices, global slices)`` of each box.
    """
    from . import HOST_CHUNK_ELEMENTS  # the package's public size, read when used: settable

    for combo in itertools.product(*runs):
        local = tuple(run[0] for run in combo)
        first = tuple(run[1] for run in combo)
        for box in boxes(tuple(run[2] for run in combo), HOST_CHUNK_ELEMENTS):
            yield _shifted(box, local), _shifted(box, first)


def _shifted(box: tuple[slice, ...], starts: tuple[int, ...]) -> tuple[slice, ...]:
    return tuple(slice(at + s.start, at + s.stop) for at, s in zip(starts, box, strict=True))


@dataclass
class _Plan:
    """A validated fill: the target, the initializer, its seed, and precomputed values if whole."""

    target: _Target
    init: Initializer
    seed: int | None
    whole: list[tuple[tuple[slice, ...], np.ndarray[Any, Any]]] | np.ndarray[Any, Any] | None

    def kwargs(self) -> dict[str, Any]:
        return {} if self.seed is None else {"seed": self.seed}

    def apply(self) -> None:
        target, local = self.target, self.target.local
        with torch.no_grad():
            if target.runs is None:
                view = local.detach().numpy()
                if self.whole is None:
                    fill_in_place(self.init, view, init_name(self.init), **self.kwargs())
                else:
                    view[...] = self.whole
            elif isinstance(self.whole, list):
                for local_box, values in self.whole:
                    local[local_box].copy_(torch.from_numpy(values))
            else:
                for local_box, global_box in _boxes(target.runs):
                    values = initialize_region(
                        self.init, target.shape, global_box, seed=self.seed, dtype=target.dtype
                    )
                    local[local_box].copy_(torch.from_numpy(values))


def _plan(
    func_name: str, target: _Target, init: Initializer, seed: int | None, whole_limit: int
) -> _Plan:
    """Check ``init`` against the target's shape and dtype; compute whole-tensor values now."""
    if not callable(init):
        raise TypeError(f"{func_name}: 'init' must be an initializer, got {init!r}")
    if distribution_of(init, target.shape, dtype=target.dtype) is not None:
        return _Plan(target, init, seed, None)
    size = math.prod(target.shape)
    if target.copies and size > whole_limit:
        raise ValueError(
            f"{func_name}: {init_name(init)} needs the whole tensor of shape {target.shape} "
            f"({size} elements) on the host, above whole_limit={whole_limit}; raise "
            "whole_limit or use an elementwise initializer"
        )
    kwargs = {} if seed is None else {"seed": seed}
    full = fill_in_place(
        init, np.empty(target.shape, dtype=target.dtype), init_name(init), **kwargs
    )
    if target.runs is None:
        return _Plan(target, init, seed, full)
    pieces = [(lb, np.ascontiguousarray(full[gb])) for lb, gb in _boxes(target.runs)]
    return _Plan(target, init, seed, pieces)


def init_(
    tensor: torch.Tensor,
    init: Initializer,
    *,
    seed: int | None = None,
    whole_limit: int = WHOLE_TENSOR_LIMIT,
) -> torch.Tensor:
    """Fill ``tensor`` in place with ``init``'s values and return it.

    The values are exactly ``init(numpy.empty(shape, dtype), seed=seed)``'s for
    float16/32/64, bit for bit, at each element's logical index (also for
    non-contiguous tensors); bfloat16 gets the float32 values rounded to nearest
    even. CPU tensors are written through a numpy view of their memory; other
    devices and bfloat16 through host chunks of bounded size. A ``DTensor`` has
    only its local shard written, with the values of its global indices.

    ``seed=None`` draws one seed from paraminit's package stream, except for a
    ``DTensor``, where every rank must use the same seed: pass one. Whole-tensor
    initializers (orthogonal, sparse, identity, dirac) on a ``DTensor`` or a
    non-CPU tensor are computed whole on the host, up to ``whole_limit`` elements.

    >>> import torch, paraminit, paraminit.torch as pt
    >>> W = pt.init_(torch.empty(4, 3), paraminit.xavier_uniform_init, seed=0)
    """
    target = _target("init_", tensor, "'tensor'")
    if not takes_seed(init):
        seed = None
    elif seed is None:
        seed = written_seed(init)  # a seed written in the config block
        if seed is None and target.sharded:
            raise ValueError(
                "init_: 'seed' must be given for a DTensor (each rank's own seed stream "
                "would give its shard different values), got None"
            )
        if seed is None:
            seed = next_seed()
    _plan("init_", target, init, seed, whole_limit).apply()
    return tensor
