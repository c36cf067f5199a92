"""Diagnostics: what initializers do to a signal as it passes through a built model.

:func:`diagnose` feeds standard-normal input (random ids for an ``Embed`` first)
through a built model and reports, per layer, the activation mean and std, the
std's ratio to the input's, the share of dead ReLU units, and a flag when the
ratio leaves ``[low, high]`` (default ``[0.5, 2]``). What each initializer should
produce is :mod:`paraminit.densities` (re-exported here).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .densities import (
    Density,
    density_rule,
    expected_density,
    initializer_arguments,
    truncated_normal,
)
from .engine import Normal, fill
from .layers import Embed, Layer, Linear

__all__ = [
    "Density",
    "Diagnosis",
    "LayerStats",
    "density_rule",
    "diagnose",
    "expected_density",
    "initializer_arguments",
    "truncated_normal",
]


@dataclass(frozen=True)
class LayerStats:
    """One layer's output statistics under :func:`diagnose`."""

    depth: int
    path: str
    kind: str
    activation: str | None
    width: int
    mean: float
    std: float
    ratio: float
    dead_share: float | None
    flagged: bool


@dataclass(frozen=True)
class Diagnosis:
    """The input's statistics, every layer's, and whether any layer is flagged."""

    input_kind: str
    input_mean: float
    input_std: float
    batch: int
    low: float
    high: float
    layers: list[LayerStats]

    @property
    def flagged(self) -> list[LayerStats]:
        return [layer for layer in self.layers if layer.flagged]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["flagged"] = [layer.path for layer in self.flagged]
        return data


def diagnose(
    model: Any,
    *,
    batch: int = 1024,
    seed: int = 0,
    low: float = 0.5,
    high: float = 2.0,
) -> Diagnosis:
    """Feed ``batch`` standard-normal rows through ``model``; report each layer's signal.

    The reference std is the input's; for a model that starts with an ``Embed``
    layer (its input is ids, drawn uniformly), it is the embedding's output std.
    A layer is flagged when its output std divided by the reference leaves
    ``[low, high]``. ``dead_share`` (ReLU layers only) is the share of units that
    output 0 for every row of the batch.
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 2:
        raise ValueError(f"diagnose: 'batch' must be an int >= 2, got {batch!r}")
    if not 0 < low < high:
        raise ValueError(f"diagnose: need 0 < low < high, got low={low!r}, high={high!r}")
    leaves = list(model.layer.leaves())
    first = leaves[0]
    X: Any
    if isinstance(first, Embed):
        X = np.random.default_rng(seed).integers(0, first.nV, size=batch)
        input_kind = "ids"
    else:
        width = first.nI if isinstance(first, Linear) else first.nO
        assert width is not None
        X = fill(np.empty((batch, width), dtype=np.float32), Normal(0.0, 1.0), seed)
        input_kind = "standard normal"
    rows: list[tuple[Layer, Any]] = list(model.trace(X))
    if input_kind == "ids":
        reference = np.asarray(rows[0][1], dtype=np.float64)
    else:
        reference = np.asarray(X, dtype=np.float64)
    ref_mean, ref_std = float(reference.mean()), float(reference.std())
    stats = []
    for depth, (layer, Y) in enumerate(rows, start=1):
        Y = np.asarray(Y, dtype=np.float64)
        std = float(Y.std())
        ratio = std / ref_std if ref_std > 0 else math.inf
        activation = getattr(layer, "activation", None)
        dead = None
        if activation == "relu":
            units = Y.reshape(-1, Y.shape[-1])
            dead = float(np.mean(np.all(units <= 0, axis=0)))
        stats.append(
            LayerStats(
                depth=depth,
                path=layer.path,
                kind=layer.kind,
                activation=activation,
                width=int(Y.shape[-1]),
                mean=float(Y.mean()),
                std=std,
                ratio=ratio,
                dead_share=dead,
                flagged=not low <= ratio <= high,
            )
        )
    return Diagnosis(input_kind, ref_mean, ref_std, batch, low, high, stats)
