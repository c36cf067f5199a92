"""The reference layers: forward passes, activations, shapes, and their config schemas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from confection import Config

import paraminit
from paraminit.build import BuildError
from paraminit.layers import (
    ACTIVATIONS,
    SELU_ALPHA,
    SELU_SCALE,
    Chain,
    Embed,
    LayerNorm,
    Linear,
    activate,
)
from paraminit.registry import registry

CHAIN = """
[model]
@layers = "Chain.v1"

[model.*.first]
@layers = "Linear.v1"
nI = 6
nO = 5
activation = "relu"

[model.*.second]
@layers = "Linear.v1"
nO = 3
"""


def test_activations_match_their_formulas() -> None:
    x = np.linspace(-4, 4, 81)
    assert np.array_equal(activate("identity", x), x)
    assert np.array_equal(activate("relu", x), np.where(x > 0, x, 0))
    assert np.allclose(activate("leaky_relu", x), np.where(x > 0, x, 0.01 * x))
    assert np.allclose(activate("tanh", x), np.tanh(x))
    assert np.allclose(activate("sigmoid", x), 1 / (1 + np.exp(-x)))
    exact_gelu = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    assert np.allclose(activate("gelu", x), exact_gelu, atol=1e-3)
    selu = activate("selu", x)
    assert np.allclose(selu[x > 0], SELU_SCALE * x[x > 0])
    assert np.allclose(selu[x <= 0], SELU_SCALE * SELU_ALPHA * np.expm1(x[x <= 0]))
    assert set(ACTIVATIONS) == {
        "identity",
        "relu",
        "leaky_relu",
        "tanh",
        "sigmoid",
        "gelu",
        "selu",
    }


def test_unknown_activation_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown activation 'relux'"):
        activate("relux", np.zeros(2))


def test_constructors_allocate_nothing_until_build() -> None:
    calls: list[tuple[int, ...]] = []

    def counting_init(data: np.ndarray, *, inplace: bool = False, seed: int | None = None):
        calls.append(data.shape)
        data[...] = 0.5
        return data

    layer = registry.layers.get("Linear.v1")(nO=4, nI=3, init_W=counting_init)
    assert isinstance(layer, Linear)
    assert calls == []
    assert not any(isinstance(v, np.ndarray) for v in vars(layer).values())
    resolved = registry.resolve(Config().from_str(CHAIN))
    assert isinstance(resolved["model"], Chain)
    assert not any(isinstance(v, np.ndarray) for v in vars(resolved["model"].layers[0]).values())


def test_linear_forward_is_affine_then_activation() -> None:
    model = paraminit.build(CHAIN, seed=1)
    X = np.random.default_rng(0).standard_normal((7, 6)).astype(np.float32)
    W1, b1 = model.params["model.*.first.W"], model.params["model.*.first.b"]
    W2, b2 = model.params["model.*.second.W"], model.params["model.*.second.b"]
    expected = np.maximum(X @ W1.T + b1, 0) @ W2.T + b2
    assert np.allclose(model.forward(X), expected, atol=1e-6)


def test_linear_defaults_follow_thinc_xavier_weights_zero_bias() -> None:
    model = paraminit.build(CHAIN, seed=2)
    W, b = model.params["model.*.first.W"], model.params["model.*.first.b"]
    limit = math.sqrt(6 / (5 + 6))
    assert W.shape == (5, 6) and W.dtype == np.float32
    assert np.all(np.abs(W) <= limit) and W.std() > 0
    assert np.array_equal(b, np.zeros(5, np.float32))
    assert model.info["model.*.first.W"].init_name == "xavier_uniform_init"


def test_chain_infers_input_width_from_the_layer_before() -> None:
    model = paraminit.build(CHAIN, seed=0)
    assert model.params["model.*.second.W"].shape == (3, 5)


def test_chain_rejects_widths_that_do_not_fit_naming_the_setting() -> None:
    text = CHAIN.replace("nO = 3", "nO = 3\nnI = 4")
    with pytest.raises(BuildError) as caught:
        paraminit.build(text, seed=0)
    message = str(caught.value)
    assert "model -> * -> second -> nI" in message
    assert "is 4, but the layer before outputs width 5" in message


def test_first_linear_without_nI_cannot_be_built() -> None:
    text = CHAIN.replace("nI = 6\n", "")
    with pytest.raises(BuildError, match="nI"):
        paraminit.build(text, seed=0)


def test_embed_looks_up_rows_by_id() -> None:
    text = """
    [model]
    @layers = "Embed.v1"
    nV = 10
    nO = 4
    """
    model = paraminit.build(text, seed=3)
    E = model.params["model.E"]
    assert E.shape == (10, 4)
    assert np.all((E >= -0.1) & (E < 0.1))  # thinc's default, uniform_init's defaults
    ids = np.array([[0, 9], [3, 3]])
    assert np.array_equal(model.forward(ids), E[ids])


def test_embed_rejects_float_input_and_ids_out_of_range() -> None:
    embed = Embed(5, 2, paraminit.uniform_init)
    embed.path = "model"
    params = {"model.E": np.zeros((5, 2), np.float32)}
    with pytest.raises(TypeError, match="integer ids"):
        embed.forward(params, np.zeros(3))
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 5\)"):
        embed.forward(params, np.array([0, 5]))


def test_layer_norm_normalizes_each_row_with_ones_and_zeros_by_default() -> None:
    text = """
    [model]
    @layers = "Chain.v1"

    [model.*.dense]
    @layers = "Linear.v1"
    nI = 8
    nO = 16

    [model.*.norm]
    @layers = "LayerNorm.v1"
    """
    model = paraminit.build(text, seed=4)
    assert np.array_equal(model.params["model.*.norm.scale"], np.ones(16, np.float32))
    assert np.array_equal(model.params["model.*.norm.bias"], np.zeros(16, np.float32))
    X = np.random.default_rng(1).standard_normal((32, 8)) * 5 + 3
    Y = model.forward(X)
    assert np.allclose(Y.mean(axis=1), 0, atol=1e-6)
    assert np.allclose(Y.std(axis=1), 1, atol=1e-3)
    norm = model.layers[-1]
    assert isinstance(norm, LayerNorm) and norm.nO == 16


def test_clone_makes_independent_copies_with_their_own_paths() -> None:
    text = """
    [model]
    @layers = "Clone.v1"
    n = 3

    [model.layer]
    @layers = "Linear.v1"
    nI = 4
    nO = 4
    """
    model = paraminit.build(text, seed=5)
    paths = [layer.path for layer in model.layers]
    assert paths == ["model.0", "model.1", "model.2"]
    W0, W1 = model.params["model.0.W"], model.params["model.1.W"]
    assert not np.array_equal(W0, W1)


def test_layer_blocks_are_validated_with_every_error_and_its_path() -> None:
    text = CHAIN.replace('activation = "relu"', 'activation = "relux"').replace("nO = 3", "nO = 0")
    with pytest.raises(paraminit.ConfigValidationError) as caught:
        paraminit.build(text, seed=0)
    message = str(caught.value)
    assert "model -> * -> first -> activation" in message
    assert "model -> * -> second -> nO" in message
    assert "2 problems" in message


class _NoForward(paraminit.layers.Layer):
    kind = "NoForward.v1"


class _ForwardOnly(paraminit.layers.Layer):
    kind = "ForwardOnly.v1"

    def forward(self, params: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
        return X * 2


def test_a_layer_without_a_forward_pass_says_so_instead_of_recursing() -> None:
    X = np.ones((2, 3))
    with pytest.raises(NotImplementedError, match="_NoForward defines no forward pass"):
        _NoForward().forward({}, X)
    with pytest.raises(NotImplementedError, match="_NoForward defines no forward pass"):
        list(_NoForward().trace({}, X))


def test_a_layer_with_only_a_forward_pass_traces_itself_and_chains() -> None:
    layer = _ForwardOnly()
    X = np.ones((2, 3))
    [(leaf, output)] = list(layer.trace({}, X))
    assert leaf is layer and np.array_equal(output, X * 2)
    assert np.array_equal(Chain((layer, _ForwardOnly())).forward({}, X), X * 4)


@pytest.mark.parametrize("declared, before, expected", [(None, 7, 7), (7, None, 7), (7, 7, 7)])
def test_linear_and_layer_norm_infer_their_input_width_alike(
    declared: int | None, before: int | None, expected: int
) -> None:
    linear = Linear(3, declared, paraminit.zero_init, paraminit.zero_init, "identity")
    norm = LayerNorm(declared, None, None)
    assert linear.infer(before) == 3 and linear.nI == expected
    assert norm.infer(before) == expected and norm.nO == expected


def test_a_width_that_does_not_fit_names_the_field_of_each_layer() -> None:
    linear = Linear(3, 5, paraminit.zero_init, paraminit.zero_init, "identity")
    norm = LayerNorm(5, None, None)
    with pytest.raises(paraminit.layers.ShapeError, match="nI: is 5, but the layer before"):
        linear.infer(4)
    with pytest.raises(paraminit.layers.ShapeError, match="nO: is 5, but the layer before"):
        norm.infer(4)
    with pytest.raises(paraminit.layers.ShapeError, match=r"nI: is not set .*\); set nI"):
        Linear(3, None, paraminit.zero_init, paraminit.zero_init, "identity").infer(None)
    with pytest.raises(
        paraminit.layers.ShapeError, match="nO: is not set and cannot be inferred; set nO"
    ):
        LayerNorm(None, None, None).infer(None)
