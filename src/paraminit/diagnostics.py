"""Diagnostics: what initializers do to a signal, and what each one should produce.

* :func:`diagnose` feeds standard-normal input (random ids for an ``Embed`` first)
  through a built model and reports, per layer, the activation mean and std, the
  std's ratio to the input's, the share of dead ReLU units, and a flag when the
  ratio leaves ``[low, high]`` (default ``[0.5, 2]``).
* :func:`expected_density` says which distribution a configured initializer draws
  from for a given shape (its mean, std and, where it has a closed form, its
  density), in numpy only. Elementwise initializers report it themselves, through
  the engine; :func:`density_rule` adds a rule for any other (orthogonal, a
  plugin's), keyed on the function's name. Unknown initializers get ``None``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .engine import Normal, TruncatedNormal, Uniform, distribution_of, fill
from .layers import Embed, Layer, Linear

__all__ = [
    "Density",
    "Diagnosis",
    "LayerStats",
    "density_rule",
    "diagnose",
    "expected_density",
]

Array = npt.NDArray[np.float64]

# --------------------------------------------------------------------------- densities


@dataclass(frozen=True)
class Density:
    """The distribution of an initializer's values: ``kind`` with its parameters.

    ``kind`` is ``"uniform"`` (on ``[lo, hi)``), ``"normal"`` (``loc``, ``scale``),
    ``"truncated_normal"`` (``loc``, ``scale`` cut to ``[lo, hi]``), ``"constant"``
    (``loc``), or ``"moments"`` (only ``mean``/``std`` are known, no curve).
    """

    kind: str
    mean: float
    std: float
    loc: float = 0.0
    scale: float = 0.0
    lo: float = -math.inf
    hi: float = math.inf

    def pdf(self, x: npt.ArrayLike) -> Array | None:
        """The density at ``x``, or ``None`` when there is no curve to draw."""
        x = np.asarray(x, dtype=np.float64)
        inside = (x >= self.lo) & (x <= self.hi)
        if self.kind == "uniform":
            return np.where(inside, 1.0 / (self.hi - self.lo), 0.0)
        if self.kind in ("normal", "truncated_normal"):
            z = (x - self.loc) / self.scale
            phi = np.exp(-0.5 * z * z) / (math.sqrt(2 * math.pi) * self.scale)
            if self.kind == "normal":
                return phi
            mass = _normal_cdf((self.hi - self.loc) / self.scale) - _normal_cdf(
                (self.lo - self.loc) / self.scale
            )
            return np.where(inside, phi / mass, 0.0)
        return None


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _normal_pdf(z: float) -> float:
    return 0.0 if math.isinf(z) else math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def uniform(lo: float, hi: float) -> Density:
    return Density("uniform", (lo + hi) / 2, (hi - lo) / math.sqrt(12), lo=lo, hi=hi)


def normal(mean: float, std: float) -> Density:
    return Density("normal", mean, std, loc=mean, scale=std)


def truncated_normal(mean: float, std: float, lo: float, hi: float) -> Density:
    """N(mean, std) cut to ``[lo, hi]``; its own mean and std, in closed form."""
    alpha, beta = (lo - mean) / std, (hi - mean) / std
    mass = _normal_cdf(beta) - _normal_cdf(alpha)
    pa, pb = _normal_pdf(alpha), _normal_pdf(beta)
    a_pa = 0.0 if math.isinf(alpha) else alpha * pa
    b_pb = 0.0 if math.isinf(beta) else beta * pb
    shift = (pa - pb) / mass
    variance = std * std * (1 + (a_pa - b_pb) / mass - shift * shift)
    return Density(
        "truncated_normal",
        mean + std * shift,
        math.sqrt(max(variance, 0.0)),
        loc=mean,
        scale=std,
        lo=lo,
        hi=hi,
    )


def constant(value: float) -> Density:
    return Density("constant", value, 0.0, loc=value, lo=value, hi=value)


DensityRule = Callable[[Mapping[str, Any], tuple[int, ...]], Density | None]
_RULES: dict[str, DensityRule] = {}


def density_rule(func_name: str) -> Callable[[DensityRule], DensityRule]:
    """Register ``rule(arguments, shape) -> Density | None`` for initializers named ``func_name``.

    ``arguments`` holds every argument of the initializer: its signature's defaults
    updated with the configured values.
    """

    def decorator(rule: DensityRule) -> DensityRule:
        _RULES[func_name] = rule
        return rule

    return decorator


def initializer_arguments(init: Callable[..., Any]) -> tuple[str, dict[str, Any]]:
    """``(function name, every argument with its default or configured value)``."""
    func = getattr(init, "func", init)
    arguments: dict[str, Any] = {}
    try:
        for name, p in inspect.signature(func).parameters.items():
            if p.default is not inspect.Parameter.empty:
                arguments[name] = p.default
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        pass
    arguments.update(getattr(init, "keywords", {}) or {})
    return str(getattr(func, "__name__", "")), arguments


def expected_density(init: Callable[..., Any] | None, shape: tuple[int, ...]) -> Density | None:
    """The distribution ``init`` draws from for an array of ``shape``, or ``None`` if unknown.

    For an elementwise initializer (the uniform, normal and truncated families,
    variance scaling and its named forms, constants) the answer is the engine
    distribution the initializer itself asks for (:func:`engine.distribution_of`),
    so no scale rule is written twice. Other initializers need a rule registered
    with :func:`density_rule`. ``None`` for ``init`` means a constant fill handled
    by the layer, which callers describe themselves.
    """
    if init is None:
        return None
    try:
        dist = distribution_of(init, tuple(shape), dtype=np.float64)
    except (TypeError, ValueError):
        return None  # an initializer that refuses this shape or lacks an argument
    if dist is not None:
        return _density_of(dist)
    name, arguments = initializer_arguments(init)
    rule = _RULES.get(name)
    if rule is None:
        return None
    try:
        return rule(arguments, tuple(shape))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None  # arguments this rule does not understand: no curve rather than a wrong one


def _density_of(dist: Uniform | Normal | TruncatedNormal | float) -> Density:
    if isinstance(dist, Uniform):
        return uniform(dist.lo, dist.hi)
    if isinstance(dist, Normal):
        return normal(dist.mean, dist.std)
    if isinstance(dist, TruncatedNormal):
        return truncated_normal(dist.mean, dist.std, dist.a, dist.b)
    return constant(dist)


@density_rule("orthogonal_init")
def _orthogonal_rule(a: Mapping[str, Any], shape: tuple[int, ...]) -> Density:
    # A (semi-)orthogonal rows x cols matrix has min(rows, cols) unit singular values,
    # so the squares of its entries sum to gain**2 * min(rows, cols).
    if a.get("layout", "oi") != "oi":
        raise KeyError("layout")
    rows, cols = shape[0], math.prod(shape[1:])
    return Density("moments", 0.0, a.get("gain", 1.0) / math.sqrt(max(rows, cols)))


# --------------------------------------------------------------------------- signal


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
