"""Build plans: every parameter of a config's model as (initializer, seed, shape, dtype), unmade.

A plan is what :func:`paraminit.build` computes before it allocates anything, so
any region of any parameter can be made alone (``PlannedParam.region``) and a
writer never holds the whole model. The values are those of ``build`` bit for bit.

``plan_build`` repeats the first half of ``build`` (resolve, bind, infer, list the
parameters with their path-derived seeds): build.py is being refactored in
parallel, and the intended home of this step is ``build.plan()``, with ``build()``
becoming ``plan()`` plus allocation.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from confection import Config, ConfigValidationError

from ..build import PARAM_DTYPE, BuildError, Model, ParamInfo, _seed_for, load_config
from ..contract import FloatArray
from ..engine import check_seed, next_seed
from ..layers import Layer, ShapeError
from ..regions import initialize_region
from ..registry import registry

__all__ = ["BuildPlan", "PlannedParam", "plan_build", "plan_of_model"]


@dataclass(frozen=True)
class PlannedParam:
    """One parameter, not yet made: ``region(...)`` makes any part of it."""

    path: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    info: ParamInfo

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def region(self, region: Any) -> FloatArray:
        """The values ``build`` gives this parameter, at ``region`` only."""
        spec = self.info.spec
        if spec.init is None:
            constant = np.broadcast_to(self.dtype.type(spec.fill), self.shape)  # no memory
            return np.array(constant[region], dtype=self.dtype)
        return initialize_region(
            spec.init, self.shape, region, seed=self.info.seed, dtype=self.dtype
        )


@dataclass(frozen=True)
class BuildPlan:
    """A model's parameters in build order, its build seed and its resolved config."""

    seed: int
    config: Config
    params: list[PlannedParam]


def _error(path: str, message: str) -> BuildError:
    return BuildError(
        errors=[{"loc": path.split("."), "msg": message}], title="Cannot build the model"
    )


def plan_build(
    config: Config | Mapping[str, Any] | str | os.PathLike[str],
    *,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> BuildPlan:
    """The parameters ``build(config, seed=seed, overrides=overrides)`` would make.

    Raises what :func:`paraminit.build` raises for the same arguments, before any
    parameter is allocated.
    """
    build_seed = next_seed() if seed is None else check_seed("plan_build", seed)
    cfg = load_config(config, overrides)
    if not isinstance(cfg.get("model"), Mapping) or "@layers" not in cfg["model"]:
        raise _error("model", "build needs a [model] section with @layers")
    try:
        resolved = registry.resolve(cfg)
    except ConfigValidationError:
        raise
    except (TypeError, ValueError) as err:
        raise _error("model", str(err)) from None
    root = resolved["model"]
    if not isinstance(root, Layer):
        raise _error("model", f"[model] must build a layer, got {type(root).__name__}")
    try:
        root.bind(cfg["model"], "model")
        root.infer(None)
    except ShapeError as err:
        raise _error(f"{err.path}.{err.field}", err.message) from None
    params = []
    for layer in root.leaves():
        for spec in layer.param_specs():
            path = f"{layer.path}.{spec.name}"
            info = ParamInfo(path, layer, spec, _seed_for(spec, build_seed, path))
            params.append(PlannedParam(path, tuple(spec.shape), PARAM_DTYPE, info))
    counts = collections.Counter(p.path for p in params)
    duplicates = sorted(path for path, count in counts.items() if count > 1)
    if duplicates:
        raise _error(duplicates[0], "two parameters share this path; rename a section")
    return BuildPlan(build_seed, cfg, params)


def plan_of_model(model: Model) -> BuildPlan:
    """The plan of a built model (its parameters' initializers, seeds and shapes)."""
    params = [
        PlannedParam(path, tuple(array.shape), np.dtype(array.dtype), model.info[path])
        for path, array in model.params.items()
    ]
    return BuildPlan(model.seed, model.config, params)
