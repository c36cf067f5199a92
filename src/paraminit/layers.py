"""Reference layers: how a framework consumes initializers, with numpy forward passes.

A layer constructor registered in ``registry.layers`` (``Linear.v1``, ``Embed.v1``,
``LayerNorm.v1``, ``Chain.v1``, ``Clone.v1``) returns an *unbuilt* :class:`Layer`:
it records its sizes and its configured initializers and allocates nothing.
:func:`paraminit.build` later gives every layer its path (from the config's section
names), infers missing input widths, allocates each parameter and calls its
initializer with a seed derived from the parameter's path.

These layers have forward passes and no gradients: they exist to show and to
check what initializers do to a signal, not to train.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .arguments import PositiveInt
from .contract import FloatArray
from .initializers import uniform_init, xavier_uniform_init, zero_init
from .registry import register_layer

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Chain",
    "Clone",
    "Embed",
    "Initializer",
    "Layer",
    "LayerNorm",
    "Linear",
    "ParamSpec",
    "ShapeError",
    "activate",
]

# Not contract.Initializer: pydantic builds validators from layer signatures, and it
# cannot check instances of a Protocol that is not runtime-checkable.
Initializer = Callable[..., FloatArray]
Activation = Literal["identity", "relu", "leaky_relu", "tanh", "sigmoid", "gelu", "selu"]
Params = Mapping[str, FloatArray]
Array = npt.NDArray[Any]

LEAKY_RELU_SLOPE = 0.01
# Klambauer et al. (2017), the constants torch and jax use.
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def _gelu(x: Array) -> Array:
    # The tanh approximation (Hendrycks & Gimpel 2016): numpy has no vectorized erf.
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "identity": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu": lambda x: np.where(x > 0, x, LEAKY_RELU_SLOPE * x),
    "tanh": np.tanh,
    "sigmoid": lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)),
    "gelu": _gelu,
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
}


def activate(name: str, x: Array) -> Array:
    """Apply the activation ``name`` (one of :data:`ACTIVATIONS`) to ``x``."""
    try:
        function = ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"{activate.__name__}: unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}"
        ) from None
    return function(x)


class ShapeError(ValueError):
    """Layer sizes that do not fit together; ``path`` and ``field`` name the config setting."""

    def __init__(self, path: str, field: str, message: str) -> None:
        self.path, self.field, self.message = path, field, message
        super().__init__(f"{path}.{field}: {message}")


@dataclass(frozen=True)
class ParamSpec:
    """A parameter a layer needs: its name, shape, and how to initialize it.

    ``init`` is the configured initializer, or ``None`` for a constant ``fill``.
    ``init_key`` is the layer argument that configures it (for error messages).
    """

    name: str
    shape: tuple[int, ...]
    init: Initializer | None
    init_key: str
    fill: float = 0.0


class Layer:
    """An unbuilt layer: sizes, initializers and a forward pass over given parameters."""

    #: The registered name of the layer's constructor, e.g. ``"Linear.v1"``.
    kind: str = "Layer"
    #: Width of the output, once known.
    nO: int | None = None

    def __init__(self) -> None:
        self.path = ""

    # -- structure, filled in by build -------------------------------------

    def children(self) -> list[Layer]:
        return []

    def bind(self, block: Mapping[str, Any], path: str) -> None:
        """Record this layer's config path; layers with children bind them too."""
        self.path = path

    def infer(self, n_in: int | None) -> int | None:
        """Check or infer the input width; return the output width (``None`` if unknown)."""
        return self.nO

    def param_specs(self) -> list[ParamSpec]:
        return []

    def leaves(self) -> Iterator[Layer]:
        """The layers that compute, in forward order (a layer without children is a leaf)."""
        children = self.children()
        if not children:
            yield self
        for child in children:
            yield from child.leaves()

    # -- forward -------------------------------------------------------------

    def trace(self, params: Params, X: Array) -> Iterator[tuple[Layer, Array]]:
        """Yield ``(leaf layer, its output)`` for every leaf in forward order.

        A leaf yields itself once; a layer with children (:class:`Chain`) yields theirs.
        """
        yield self, self.forward(params, X)

    def forward(self, params: Params, X: Array) -> Array:
        """The layer's output for ``X``; every layer that computes defines it."""
        raise NotImplementedError(f"{type(self).__name__} defines no forward pass")

    def _input_width(
        self, field: str, declared: int | None, n_in: int | None, why: str = ""
    ) -> int:
        """``declared`` checked against ``n_in``, the width before; ``n_in`` if undeclared."""
        if declared is None:
            if n_in is None:
                raise ShapeError(
                    self.path, field, f"is not set and cannot be inferred{why}; set {field}"
                )
            return n_in
        if n_in is not None and n_in != declared:
            raise ShapeError(
                self.path, field, f"is {declared}, but the layer before outputs width {n_in}"
            )
        return declared

    def param(self, params: Params, name: str) -> FloatArray:
        return params[f"{self.path}.{name}"]

    def __repr__(self) -> str:
        return f"<{self.kind} {self.path or '(unbuilt)'}>"


class Linear(Layer):
    """``Y = activation(X @ W.T + b)`` with ``W`` of shape ``(nO, nI)`` and ``b`` of ``(nO,)``."""

    kind = "Linear.v1"
    nO: int

    def __init__(
        self,
        nO: int,
        nI: int | None,
        init_W: Initializer,
        init_b: Initializer,
        activation: str,
    ) -> None:
        super().__init__()
        self.nO, self.nI = nO, nI
        self.init_W, self.init_b = init_W, init_b
        self.activation = activation

    def infer(self, n_in: int | None) -> int:
        why = " (nothing before this layer gives an output width)"
        self.nI = self._input_width("nI", self.nI, n_in, why)
        return self.nO

    def param_specs(self) -> list[ParamSpec]:
        assert self.nI is not None, "infer() runs before param_specs()"
        return [
            ParamSpec("W", (self.nO, self.nI), self.init_W, "init_W"),
            ParamSpec("b", (self.nO,), self.init_b, "init_b"),
        ]

    def forward(self, params: Params, X: Array) -> Array:
        Y = X @ self.param(params, "W").T
        Y += self.param(params, "b")
        return activate(self.activation, Y)


class Embed(Layer):
    """A table ``E`` of shape ``(nV, nO)``; the input is integer ids, the output ``E[ids]``."""

    kind = "Embed.v1"
    nO: int

    def __init__(self, nV: int, nO: int, init: Initializer) -> None:
        super().__init__()
        self.nV, self.nO, self.init = nV, nO, init

    def infer(self, n_in: int | None) -> int:
        if n_in is not None:
            raise ShapeError(
                self.path,
                "nV",
                f"Embed takes integer ids, but the layer before outputs vectors of width {n_in}",
            )
        return self.nO

    def param_specs(self) -> list[ParamSpec]:
        return [ParamSpec("E", (self.nV, self.nO), self.init, "init")]

    def forward(self, params: Params, X: Array) -> Array:
        ids = np.asarray(X)
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"{self.path}: Embed takes integer ids, got an array of {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.nV):
            raise ValueError(
                f"{self.path}: ids must lie in [0, {self.nV}), got values from "
                f"{ids.min()} to {ids.max()}"
            )
        table: Array = self.param(params, "E")
        rows: Array = table[ids]
        return rows


class LayerNorm(Layer):
    """``(X - mean) / sqrt(var + eps) * scale + bias`` over the last axis."""

    kind = "LayerNorm.v1"
    eps = 1e-5

    def __init__(
        self, nO: int | None, init_scale: Initializer | None, init_bias: Initializer | None
    ) -> None:
        super().__init__()
        self.nO, self.init_scale, self.init_bias = nO, init_scale, init_bias

    def infer(self, n_in: int | None) -> int:
        self.nO = self._input_width("nO", self.nO, n_in)
        return self.nO

    def param_specs(self) -> list[ParamSpec]:
        assert self.nO is not None, "infer() runs before param_specs()"
        return [
            ParamSpec("scale", (self.nO,), self.init_scale, "init_scale", fill=1.0),
            ParamSpec("bias", (self.nO,), self.init_bias, "init_bias", fill=0.0),
        ]

    def forward(self, params: Params, X: Array) -> Array:
        centered = X - X.mean(axis=-1, keepdims=True)
        normed: Array = centered / np.sqrt((centered**2).mean(axis=-1, keepdims=True) + self.eps)
        return normed * self.param(params, "scale") + self.param(params, "bias")


class Chain(Layer):
    """Layers applied one after the other; the output of each is the input of the next."""

    kind = "Chain.v1"

    def __init__(self, layers: tuple[Layer, ...]) -> None:
        super().__init__()
        self.layers = layers

    def children(self) -> list[Layer]:
        return list(self.layers)

    def bind(self, block: Mapping[str, Any], path: str) -> None:
        self.path = path
        sections = block.get("*", {})
        names = [name for name, value in sections.items() if isinstance(value, Mapping)]
        if len(names) != len(self.layers):
            raise ShapeError(
                path,
                "*",
                f"Chain got {len(self.layers)} layers but its config has {len(names)} "
                "[*.name] sections; give each layer its own section",
            )
        for name, layer in zip(names, self.layers, strict=True):
            layer.bind(sections[name], f"{path}.*.{name}")

    def infer(self, n_in: int | None) -> int | None:
        for layer in self.layers:
            n_in = layer.infer(n_in)
        self.nO = n_in
        return n_in

    def trace(self, params: Params, X: Array) -> Iterator[tuple[Layer, Array]]:
        for layer in self.layers:
            for leaf, output in layer.trace(params, X):
                yield leaf, output
            X = output

    def forward(self, params: Params, X: Array) -> Array:
        output = X
        for _, output in self.trace(params, X):  # noqa: B007 - the last output is the result
            pass
        return output


class Clone(Chain):
    """``n`` copies of one layer in a chain, each with parameters of its own.

    The copies' paths are ``<path>.0``, ``<path>.1``, …, so each copy gets its own
    path-derived seed and so its own values.
    """

    kind = "Clone.v1"

    def __init__(self, layer: Layer, n: int) -> None:
        super().__init__(tuple(copy.deepcopy(layer) for _ in range(n)))

    def bind(self, block: Mapping[str, Any], path: str) -> None:
        self.path = path
        for i, layer in enumerate(self.layers):
            layer.bind(block.get("layer", {}), f"{path}.{i}")


# --------------------------------------------------------------------------- registered


@register_layer("Linear.v1")
def make_linear(
    nO: PositiveInt,
    nI: PositiveInt | None = None,
    init_W: Initializer = xavier_uniform_init,
    init_b: Initializer = zero_init,
    activation: Activation = "identity",
) -> Linear:
    """A dense layer ``activation(X @ W.T + b)``; ``W`` is ``(nO, nI)``, ``b`` is ``(nO,)``.

    ``nI`` may be left out inside a chain: it is inferred from the layer before.
    Defaults follow thinc: ``init_W`` Glorot/Xavier uniform, ``init_b`` zeros.
    """
    return Linear(nO, nI, init_W, init_b, activation)


@register_layer("Embed.v1")
def make_embed(nV: PositiveInt, nO: PositiveInt, init: Initializer = uniform_init) -> Embed:
    """An embedding table ``E`` of shape ``(nV, nO)`` looked up by integer ids.

    The default ``init`` is ``uniform_init`` with its defaults, ``U[-0.1, 0.1)``, as in thinc.
    """
    return Embed(nV, nO, init)


@register_layer("LayerNorm.v1")
def make_layer_norm(
    nO: PositiveInt | None = None,
    init_scale: Initializer | None = None,
    init_bias: Initializer | None = zero_init,
) -> LayerNorm:
    """Layer normalization over the last axis, with parameters ``scale`` and ``bias`` of ``(nO,)``.

    ``nO`` may be left out inside a chain. ``init_scale`` defaults to ones (``None``
    means a constant 1), ``init_bias`` to zeros.
    """
    return LayerNorm(nO, init_scale, init_bias)


@register_layer("Chain.v1")
def make_chain(*layers: Layer) -> Chain:
    """Apply ``layers`` in order, given as confection's variable positional section.

    Each layer is a section ``[<chain>.*.<name>]``; ``<name>`` becomes part of the
    paths of the layer's parameters (``model.*.hidden1.W``).
    """
    if not layers:
        raise ValueError(f"{Chain.kind}: needs at least one layer ([<chain>.*.<name>] sections)")
    bad = [type(layer).__name__ for layer in layers if not isinstance(layer, Layer)]
    if bad:
        raise TypeError(f"{Chain.kind}: every argument must be a layer, got {', '.join(bad)}")
    return Chain(layers)


@register_layer("Clone.v1")
def make_clone(layer: Layer, n: PositiveInt) -> Clone:
    """``n`` copies of ``layer`` chained, each with its own parameters (``<path>.0``, …)."""
    if not isinstance(layer, Layer):
        raise TypeError(f"{Clone.kind}: 'layer' must be a layer, got {type(layer).__name__}")
    return Clone(layer, n)
