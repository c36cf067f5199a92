"""Expected densities: what distribution each initializer's values follow, in numpy only.

:func:`expected_density` says which distribution a configured initializer draws
from for a given shape (its mean, std and, where it has a closed form, its
density). Elementwise initializers report it themselves: ``paraminit.regions``
records the engine distribution they ask for, and the distribution describes its
own law (``kind``, ``moments``, ``pdf``, ``parameters``), so no formula is
written here. :func:`density_rule` adds a rule for any other initializer
(orthogonal, a plugin's), keyed on the function's name. Unknown initializers get
``None``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .contract import Initializer
from .engine import Distribution, Normal, TruncatedNormal, Uniform
from .regions import distribution_of, unwrap

__all__ = [
    "Density",
    "constant",
    "density_rule",
    "expected_density",
    "from_distribution",
    "initializer_arguments",
    "normal",
    "truncated_normal",
    "uniform",
]

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Density:
    """The distribution of an initializer's values: ``kind`` with its parameters.

    ``kind`` is ``"uniform"`` (on ``[lo, hi)``), ``"normal"`` (``loc``, ``scale``),
    ``"truncated_normal"`` (``loc``, ``scale`` cut to ``[lo, hi]``), ``"constant"``
    (``loc``), or ``"moments"`` (only ``mean``/``std`` are known, no curve).
    ``law`` is the engine distribution behind it, which draws the curve.
    """

    kind: str
    mean: float
    std: float
    loc: float = 0.0
    scale: float = 0.0
    lo: float = -math.inf
    hi: float = math.inf
    law: Distribution | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.law is None and self.kind in _LAWS:  # written by hand, by a rule
            object.__setattr__(self, "law", _LAWS[self.kind](self))

    def pdf(self, x: npt.ArrayLike) -> Array | None:
        """The density at ``x``, or ``None`` when there is no curve to draw."""
        if self.law is None:
            return None
        return self.law.pdf(np.asarray(x, dtype=np.float64))


# The engine law of a Density a rule writes by hand, by its kind.
_LAWS: dict[str, Callable[[Density], Distribution]] = {
    Uniform.kind: lambda d: Uniform(d.lo, d.hi),
    Normal.kind: lambda d: Normal(d.loc, d.scale),
    TruncatedNormal.kind: lambda d: TruncatedNormal(d.loc, d.scale, d.lo, d.hi),
}


def from_distribution(dist: Distribution) -> Density:
    """The density of an engine distribution, as the distribution describes itself."""
    if not isinstance(dist, Distribution):
        raise TypeError(f"from_distribution: 'dist' must be an engine Distribution, got {dist!r}")
    mean, std = dist.moments()
    return Density(dist.kind, mean, std, **dist.parameters(), law=dist)


def uniform(lo: float, hi: float) -> Density:
    return from_distribution(Uniform(lo, hi))


def normal(mean: float, std: float) -> Density:
    return from_distribution(Normal(mean, std))


def truncated_normal(mean: float, std: float, lo: float, hi: float) -> Density:
    """N(mean, std) cut to ``[lo, hi]``; its own mean and std, in closed form."""
    return from_distribution(TruncatedNormal(mean, std, lo, hi))


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


def initializer_arguments(init: Initializer) -> tuple[str, dict[str, Any]]:
    """``(function name, every argument with its default or configured value)``."""
    func = unwrap(init)
    arguments: dict[str, Any] = {}
    try:
        for name, p in inspect.signature(func).parameters.items():
            if p.default is not inspect.Parameter.empty:
                arguments[name] = p.default
    except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
        pass
    arguments.update(getattr(init, "keywords", {}) or {})
    return str(getattr(func, "__name__", "")), arguments


def expected_density(init: Initializer | None, shape: tuple[int, ...]) -> Density | None:
    """The distribution ``init`` draws from for an array of ``shape``, or ``None`` if unknown.

    For an elementwise initializer (the uniform, normal and truncated families,
    variance scaling and its named forms, constants) the answer is the engine
    distribution the initializer itself asks for (:func:`regions.distribution_of`),
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
    if isinstance(dist, float):
        return constant(dist)
    if dist is not None:
        return from_distribution(dist)  # raises for what is not an engine distribution
    name, arguments = initializer_arguments(init)
    rule = _RULES.get(name)
    if rule is None:
        return None
    try:
        return rule(arguments, tuple(shape))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None  # arguments this rule does not understand: no curve rather than a wrong one


@density_rule("orthogonal_init")
def _orthogonal_rule(a: Mapping[str, Any], shape: tuple[int, ...]) -> Density:
    # A (semi-)orthogonal rows x cols matrix has min(rows, cols) unit singular values,
    # so the squares of its entries sum to gain**2 * min(rows, cols).
    if a.get("layout", "oi") != "oi":
        raise KeyError("layout")
    rows, cols = shape[0], math.prod(shape[1:])
    return Density("moments", 0.0, a.get("gain", 1.0) / math.sqrt(max(rows, cols)))
