"""Build a model from a config: resolve, give layers their paths, allocate and initialize.

:func:`plan` does everything but allocate (a :class:`BuildPlan`); :func:`build` is
a plan, allocated and filled. Each parameter's initializer is called with a seed
derived from the build seed and the parameter's path (``model.*.hidden1.W``), which
comes from the config's section names (:func:`paraminit.regions.seed_for`). A
parameter therefore gets the same values whatever else the model contains and in
whichever order it is built; a ``seed`` written in an initializer's block wins.
"""

from __future__ import annotations

import collections
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config, ConfigValidationError
from .contract import FloatArray, memory_limit
from .engine import check_seed, get_num_threads, next_seed
from .engine.seeds import param_seed  # re-exported: bridges import it from here
from .layers import Initializer, Layer, ParamSpec, ShapeError
from .regions import fill_in_place, initialize_region, seed_for
from .registry import registry

__all__ = [
    "BuildError",
    "BuildPlan",
    "Model",
    "OverrideError",
    "ParamInfo",
    "build",
    "load_config",
    "memory_limit",
    "param_seed",
    "plan",
    "summary_row",
]

PARAM_DTYPE = np.dtype(np.float32)
ProgressCallback = Callable[[int, int, str], None]


class OverrideError(ValueError):
    """An override names a section the config does not have, or is malformed."""


class BuildError(ConfigValidationError):
    """A config that validates but cannot be built (sizes that do not fit, a failing init)."""


@dataclass
class ParamInfo:
    """One parameter, planned or made: its path, layer, initializer, seed, shape and dtype.

    ``region(...)`` makes any part of it with the values :func:`build` gives it,
    without the whole array.
    """

    path: str
    layer: Layer
    spec: ParamSpec
    seed: int | None  # the seed used: the block's own or the path's; None if none is taken

    @property
    def init(self) -> Initializer | None:
        return self.spec.init

    @property
    def init_name(self) -> str:
        return initializer_name(self.spec.init, self.spec.fill)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.spec.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        return PARAM_DTYPE

    @property
    def nbytes(self) -> int:
        return math.prod(self.spec.shape) * PARAM_DTYPE.itemsize

    def region(self, region: Any) -> FloatArray:
        """The values :func:`build` gives this parameter, at ``region`` only."""
        if self.spec.init is None:
            constant = np.broadcast_to(PARAM_DTYPE.type(self.spec.fill), self.shape)  # no memory
            return np.array(constant[region], dtype=PARAM_DTYPE)
        return initialize_region(
            self.spec.init, self.shape, region, seed=self.seed, dtype=PARAM_DTYPE
        )


@dataclass(frozen=True)
class BuildPlan:
    """What :func:`build` makes, before anything is allocated (see :func:`plan`).

    ``params`` lists every parameter in build order; ``layer`` is the resolved
    ``[model]`` layer, bound to its paths, its widths inferred.
    """

    seed: int
    config: Config
    layer: Layer
    params: list[ParamInfo]

    @property
    def nbytes(self) -> int:
        return sum(info.nbytes for info in self.params)

    def summary(self) -> list[dict[str, Any]]:
        """:meth:`Model.summary`'s rows, with ``None`` for the statistics (nothing is made)."""
        return [summary_row(info) for info in self.params]


def initializer_name(init: Initializer | None, fill: float = 0.0) -> str:
    """A short name for ``init``: its registered name, else its function's name."""
    if init is None:
        return f"constant {fill:g}"
    name = getattr(init, "name", None)
    if isinstance(name, str):
        return name
    func = getattr(init, "func", init)
    return str(getattr(func, "__name__", repr(func)))


@dataclass
class Model:
    """A built model: parameters by dotted path and a numpy forward pass."""

    layer: Layer
    params: dict[str, FloatArray]
    seed: int
    config: Config
    info: dict[str, ParamInfo] = field(default_factory=dict)

    @property
    def layers(self) -> list[Layer]:
        """The leaf layers in forward order."""
        return list(self.layer.leaves())

    def forward(self, X: Any) -> Any:
        """Run the forward pass on ``X`` (floats, or integer ids for an ``Embed`` first)."""
        return self.layer.forward(self.params, np.asarray(X))

    def trace(self, X: Any) -> Iterator[tuple[Layer, Any]]:
        """Yield ``(leaf layer, its output)`` in forward order."""
        return self.layer.trace(self.params, np.asarray(X))

    def summary(self) -> list[dict[str, Any]]:
        """One row per parameter: path, shape, dtype, initializer, seed and statistics.

        ``expected_std`` is the std the initializer's distribution promises (``None``
        where it has no known density); ``seed`` is a string, as 128-bit seeds do not
        fit a JSON number.
        """
        return [summary_row(self.info[path], array) for path, array in self.params.items()]


def summary_row(info: ParamInfo, array: FloatArray | None = None) -> dict[str, Any]:
    """A parameter's row of :meth:`Model.summary`; without ``array``, no statistics (``None``)."""
    if info.init is None:
        expected: float | None = 0.0
    else:
        from .diagnostics import expected_density  # not loaded by import paraminit

        density = expected_density(info.init, info.shape)
        expected = None if density is None else density.std
    stats: dict[str, float | None] = dict.fromkeys(("mean", "std", "min", "max"))
    if array is not None:
        values = array.astype(np.float64)
        stats = {
            "mean": float(values.mean()),
            "std": float(values.std()),
            "min": float(values.min()),
            "max": float(values.max()),
        }
    shape, dtype = (info.shape, info.dtype) if array is None else (array.shape, array.dtype)
    return {
        "path": info.path,
        "shape": list(shape),
        "dtype": str(dtype),
        "initializer": info.init_name,
        "seed": None if info.seed is None else str(info.seed),
        "mean": stats["mean"],
        "std": stats["std"],
        "expected_std": expected,
        "min": stats["min"],
        "max": stats["max"],
    }


def _parse_text(text: str, overrides: Mapping[str, Any]) -> Config:
    if not overrides:  # one parse: the check below needs the text uninterpolated
        return Config().from_str(text)
    raw = Config().from_str(text, interpolate=False)
    for dotted in overrides:
        section, sep, key = dotted.rpartition(".")
        node: Any = raw
        for part in section.split(".") if sep else []:
            node = node.get(part) if isinstance(node, Mapping) else None
        if not sep or not key or not isinstance(node, Mapping):
            where = f"section [{section}]" if sep else "a section"
            raise OverrideError(
                f"override {dotted!r}: the config has no {where} (write --section.key=value)"
            )
    return Config().from_str(text, overrides=dict(overrides))


def load_config(
    config: Config | Mapping[str, Any] | str | os.PathLike[str],
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Read ``config`` (a ``Config``, a dict, a path, or config text) and apply overrides.

    A ``str`` is config text if it contains a newline or starts with ``[``, else a
    path. Variables and ``${...}`` interpolation work as confection defines them;
    overrides (``{"model.*.hidden1.nO": 64}``) apply before interpolation.
    """
    overrides = dict(overrides or {})
    if isinstance(config, os.PathLike) or (
        isinstance(config, str) and "\n" not in config and not config.lstrip().startswith("[")
    ):
        try:
            text = Path(config).read_text(encoding="utf8")
        except UnicodeDecodeError as err:
            raise ConfigValidationError(
                title=f"Cannot read the config {config}",
                desc=f"it is not UTF-8 text ({err.reason} at byte {err.start})",
            ) from None
    elif isinstance(config, str):
        text = config
    else:
        text = Config(dict(config)).to_str(interpolate=False)
    return _parse_text(text, overrides)


def _call_init(info: ParamInfo, out: FloatArray) -> None:
    init = info.spec.init
    assert init is not None
    kwargs = {} if info.seed is None else {"seed": info.seed}
    fill_in_place(init, out, info.init_name, **kwargs)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{info.init_name} produced non-finite values")


def _error(path: str, message: str) -> BuildError:
    return _errors([(path, message)])


def _errors(problems: list[tuple[str, str]]) -> BuildError:
    return BuildError(
        errors=[{"loc": path.split("."), "msg": message} for path, message in problems],
        title="Cannot build the model",
    )


def build(
    config: Config | Mapping[str, Any] | str | os.PathLike[str],
    *,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    max_bytes: int | None = None,
) -> Model:
    """Build the model of ``config``'s ``[model]`` section.

    ``config`` is a ``Config``, a dict, a path or config text (see :func:`load_config`).
    ``seed=None`` draws the build seed from paraminit's seed stream, so
    ``paraminit.set_seed`` makes builds reproducible. ``progress(done, total, path)``
    is called after each parameter. ``max_bytes`` caps the bytes all parameters
    need together (default: :func:`memory_limit`, the machine's physical memory); a
    model over it is refused before anything is allocated.

    Raises :class:`ConfigValidationError` for an invalid config (every bad field with
    its path), :class:`BuildError` (a ``ConfigValidationError``) when sizes do not
    fit or initializers fail (every failing parameter, with its path),
    :class:`OverrideError` for an override to no section, ``OSError`` when a path
    cannot be read, and ``ValueError`` for a bad ``PARAMINIT_NUM_THREADS``.
    """
    get_num_threads()  # a bad PARAMINIT_NUM_THREADS is the environment's error, not a path's
    planned = _plan(build.__name__, config, seed, overrides)
    infos = planned.params
    _check_memory(infos, memory_limit() if max_bytes is None else max_bytes)
    params: dict[str, FloatArray] = {}
    problems: list[tuple[str, str]] = []
    for done, info in enumerate(infos, start=1):
        try:
            params[info.path] = _initialize(info)
        except _InitError as err:
            problems.append((err.path, err.message))
        if progress is not None:
            progress(done, len(infos), info.path)
    if problems:
        raise _errors(problems)
    return Model(planned.layer, params, planned.seed, planned.config, {i.path: i for i in infos})


def plan(
    config: Config | Mapping[str, Any] | str | os.PathLike[str],
    *,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> BuildPlan:
    """Every parameter ``build(config, seed=seed, overrides=overrides)`` makes, unmade.

    Resolves the config, binds the layers to their paths, infers their widths and
    derives each parameter's seed, as :func:`build` does, and allocates nothing:
    ``plan(...).params[i].region(r)`` makes any part of a parameter with the bits
    ``build`` gives it, so a writer never holds the whole model. Raises what
    ``build`` raises for a config that cannot be built, except for sizes over
    the memory limit (a plan has none).
    """
    return _plan(plan.__name__, config, seed, overrides)


def _plan(
    func_name: str,
    config: Config | Mapping[str, Any] | str | os.PathLike[str],
    seed: int | None,
    overrides: Mapping[str, Any] | None,
) -> BuildPlan:
    build_seed = next_seed() if seed is None else check_seed(func_name, seed)
    cfg = load_config(config, overrides)
    root = _resolve_root(cfg)
    return BuildPlan(build_seed, cfg, root, _param_infos(root, build_seed))


def _check_memory(infos: list[ParamInfo], limit: int | None) -> None:
    """Refuse parameters that need more than ``limit`` bytes, before allocating any."""
    if limit is None:
        return
    sizes = [(info, info.nbytes) for info in infos]
    rule = f"more than the limit of {limit:,} bytes (build(max_bytes=...))"
    problems = [
        (info.path, f"needs {size:,} bytes ({_shape(info.spec.shape)} {PARAM_DTYPE}), {rule}")
        for info, size in sizes
        if size > limit
    ]
    total = sum(size for _, size in sizes)
    if not problems and total > limit:
        problems.append(("model", f"the parameters need {total:,} bytes together, {rule}"))
    if problems:
        raise _errors(problems)


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "scalar"


class _InitError(Exception):
    """One parameter failed; build reports it with the others."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(path, message)
        self.path, self.message = path, message


def _resolve_root(cfg: Config) -> Layer:
    """The ``[model]`` layer of ``cfg``, resolved, bound to its paths, its widths inferred."""
    if not isinstance(cfg.get("model"), Mapping) or "@layers" not in cfg["model"]:
        raise BuildError(
            errors=[{"loc": ["model"], "msg": "build needs a [model] section with @layers"}],
            title="Cannot build the model",
        )
    try:
        resolved = registry.resolve(cfg)
    except ConfigValidationError:
        raise
    except (TypeError, ValueError, ArithmeticError) as err:  # a constructor refused its arguments
        raise _error("model", str(err) or type(err).__name__) from None
    root = resolved["model"]
    if not isinstance(root, Layer):
        raise _error("model", f"[model] must build a layer, got {type(root).__name__}")
    try:
        root.bind(cfg["model"], "model")
        root.infer(None)
    except ShapeError as err:
        raise _error(f"{err.path}.{err.field}", err.message) from None
    return root


def _param_infos(root: Layer, build_seed: int) -> list[ParamInfo]:
    """Every parameter of ``root``'s leaves with its path and seed; paths must be unique."""
    infos: list[ParamInfo] = []
    for layer in root.leaves():
        for spec in layer.param_specs():
            path = f"{layer.path}.{spec.name}"
            seed = None if spec.init is None else seed_for(spec.init, build_seed, path)
            infos.append(ParamInfo(path, layer, spec, seed))
    counts = collections.Counter(info.path for info in infos)
    duplicates = sorted(path for path, count in counts.items() if count > 1)
    if duplicates:
        raise _error(duplicates[0], "two parameters share this path; rename a section")
    return infos


def _initialize(info: ParamInfo) -> FloatArray:
    try:
        out = np.empty(info.shape, dtype=PARAM_DTYPE)
    except (MemoryError, ValueError) as err:
        raise _InitError(info.path, f"cannot allocate {info.nbytes:,} bytes: {err}") from None
    if info.spec.init is None:
        out.fill(info.spec.fill)
        return out
    try:
        _call_init(info, out)
    except (TypeError, ValueError, ArithmeticError) as err:
        # Any refusal of an initializer is the config's problem at this path.
        message = str(err)
        if isinstance(err, ArithmeticError):  # its own words name neither function nor value
            message = f"{info.init_name} cannot use these arguments ({type(err).__name__}: {err})"
        raise _InitError(f"{info.layer.path}.{info.spec.init_key}", message) from None
    return out


def parse_override_value(text: str) -> Any:
    """Read a command-line override value as confection reads config values (JSON, else text)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
