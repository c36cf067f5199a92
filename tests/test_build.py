"""build(): configs in every form, path-derived seeds, overrides, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from confection import Config

import paraminit
from paraminit.build import BuildError, OverrideError, param_seed

MLP = """
[vars]
width = 16

[model]
@layers = "Chain.v1"

[model.*.hidden1]
@layers = "Linear.v1"
nI = 8
nO = ${vars.width}
activation = "relu"

[model.*.hidden1.init_W]
@initializers = "normal_init.v1"

[model.*.hidden2]
@layers = "Linear.v1"
nO = ${vars.width}
activation = "relu"

[model.*.hidden2.init_b]
@initializers = "uniform_init.v1"
lo = -0.5
hi = 0.5

[model.*.output]
@layers = "Linear.v1"
nO = 4
"""

# The same model with one more layer, under a new section name, in the middle.
MIDDLE = """
[model.*.extra]
@layers = "Linear.v1"
nO = ${vars.width}
activation = "tanh"

"""
MLP_WITH_EXTRA = MLP.replace("[model.*.hidden2]\n", MIDDLE + "[model.*.hidden2]\n", 1)


def _equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_params_are_named_by_the_config_sections() -> None:
    model = paraminit.build(MLP, seed=0)
    assert list(model.params) == [
        "model.*.hidden1.W",
        "model.*.hidden1.b",
        "model.*.hidden2.W",
        "model.*.hidden2.b",
        "model.*.output.W",
        "model.*.output.b",
    ]
    assert model.forward(np.ones((3, 8), np.float32)).shape == (3, 4)


def test_config_text_path_and_config_object_build_the_same(tmp_path: Path) -> None:
    file = tmp_path / "mlp.cfg"
    file.write_text(MLP)
    expected = paraminit.build(MLP, seed=11).params
    for source in (file, str(file), Config().from_str(MLP), dict(Config().from_str(MLP))):
        assert _equal(paraminit.build(source, seed=11).params, expected)


def test_each_param_is_initialized_with_the_seed_derived_from_its_path() -> None:
    model = paraminit.build(MLP, seed=12345)
    path = "model.*.hidden1.W"
    assert model.info[path].seed == param_seed(12345, path)
    direct = paraminit.normal_init(np.empty((16, 8), np.float32), seed=param_seed(12345, path))
    assert np.array_equal(model.params[path], direct)
    assert model.info["model.*.hidden1.b"].seed is None  # zero_init takes no seed


def test_param_seed_is_a_stable_hash_of_build_seed_and_path() -> None:
    assert param_seed(0, "model.W") == param_seed(0, "model.W")
    assert param_seed(0, "model.W") != param_seed(1, "model.W")
    assert param_seed(0, "model.W") != param_seed(0, "model.b")
    assert 0 <= param_seed(2**128 - 1, "x") < 2**128


def test_adding_a_layer_in_the_middle_changes_no_other_parameter() -> None:
    before = paraminit.build(MLP, seed=7).params
    after = paraminit.build(MLP_WITH_EXTRA, seed=7).params
    assert set(after) - set(before) == {"model.*.extra.W", "model.*.extra.b"}
    for path, values in before.items():
        assert np.array_equal(after[path], values), path


def test_same_seed_same_values_other_seed_other_values() -> None:
    a = paraminit.build(MLP, seed=1).params
    assert _equal(a, paraminit.build(MLP, seed=1).params)
    b = paraminit.build(MLP, seed=2).params
    assert not np.array_equal(a["model.*.hidden1.W"], b["model.*.hidden1.W"])


def test_seed_none_follows_the_package_seed_stream() -> None:
    paraminit.set_seed(99)
    first = paraminit.build(MLP)
    paraminit.set_seed(99)
    again = paraminit.build(MLP)
    assert first.seed == again.seed
    assert _equal(first.params, again.params)
    third = paraminit.build(MLP)
    assert third.seed != first.seed


def test_a_seed_written_in_the_block_wins_over_the_path_seed() -> None:
    text = MLP.replace(
        '@initializers = "normal_init.v1"', '@initializers = "normal_init.v1"\nseed = 7'
    )
    a = paraminit.build(text, seed=1).params["model.*.hidden1.W"]
    b = paraminit.build(text, seed=2).params["model.*.hidden1.W"]
    assert np.array_equal(a, b)
    assert np.array_equal(a, paraminit.normal_init(np.empty((16, 8), np.float32), seed=7))
    assert paraminit.build(text, seed=1).info["model.*.hidden1.W"].seed == 7


def test_variables_interpolate_and_overrides_apply_before_interpolation() -> None:
    model = paraminit.build(MLP, seed=0, overrides={"vars.width": 32})
    assert model.params["model.*.hidden1.W"].shape == (32, 8)
    assert model.params["model.*.hidden2.W"].shape == (32, 32)
    assert model.params["model.*.output.W"].shape == (4, 32)
    lo = paraminit.build(MLP, seed=0, overrides={"model.*.hidden2.init_b.lo": -0.01})
    assert lo.params["model.*.hidden2.b"].min() >= -0.01


def test_override_of_a_missing_section_is_an_override_error() -> None:
    with pytest.raises(OverrideError, match=r"no section \[model.\*.nosuch\]"):
        paraminit.build(MLP, seed=0, overrides={"model.*.nosuch.nO": 3})


def test_invalid_initializer_arguments_are_listed_with_paths() -> None:
    text = MLP.replace("lo = -0.5", "lo = 0.9").replace(
        '"normal_init.v1"', '"normal_init.v1"\nfan_in = -3'
    )
    with pytest.raises(paraminit.ConfigValidationError) as caught:
        paraminit.build(text, seed=0)
    message = str(caught.value)
    assert "model -> * -> hidden1 -> init_W -> fan_in" in message
    assert "model -> * -> hidden2 -> init_b -> hi" in message


def test_an_initializer_failing_at_build_time_names_its_block() -> None:
    # normal_init cannot infer fan_in for a 1-D bias.
    text = MLP + '\n[model.*.output.init_b]\n@initializers = "normal_init.v1"\n'
    with pytest.raises(BuildError) as caught:
        paraminit.build(text, seed=0)
    message = str(caught.value)
    assert "model -> * -> output -> init_b" in message
    assert "cannot infer fan_in" in message


def test_a_config_without_a_model_section_cannot_be_built() -> None:
    with pytest.raises(BuildError, match="needs a \\[model\\] section"):
        paraminit.build("[vars]\nx = 1\n", seed=0)


def test_missing_config_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        paraminit.build(tmp_path / "nope.cfg", seed=0)


# default.cfg, deep_tanh.cfg and embed_mlp.cfg use the catalogue's he_normal_init and
# xavier_uniform_init(gain=...); plugin_example.cfg is built by tests/test_cli.py,
# which installs the plugin it needs.
@pytest.mark.parametrize("name", ["default", "mlp_relu_xavier", "deep_tanh", "embed_mlp"])
def test_every_shipped_config_builds(configs: Path, name: str) -> None:
    model = paraminit.build(configs / f"{name}.cfg", seed=0)
    assert model.params
    for path, values in model.params.items():
        assert values.dtype == np.float32 and np.all(np.isfinite(values)), path


def test_a_constructor_refusing_its_arguments_is_a_build_error() -> None:
    text = '[model]\n@layers = "Chain.v1"\n\n[model.*.a]\n@initializers = "zero_init.v1"\n'
    with pytest.raises(BuildError, match=r"Chain\.v1: every argument must be a layer"):
        paraminit.build(text, seed=0)


def test_a_config_file_that_is_not_text_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.cfg"
    path.write_bytes(b"\xff\xfe[model]")
    with pytest.raises(paraminit.ConfigValidationError, match="not UTF-8 text"):
        paraminit.build(path, seed=0)


def test_summary_has_one_row_per_parameter_with_its_statistics() -> None:
    model = paraminit.build(MLP, seed=3)
    rows = model.summary()
    assert [row["path"] for row in rows] == list(model.params)
    for row in rows:
        values = model.params[row["path"]].astype(np.float64)
        assert row["shape"] == list(values.shape)
        assert row["dtype"] == "float32"
        assert row["mean"] == float(values.mean())
        assert row["std"] == float(values.std())
        assert (row["min"], row["max"]) == (float(values.min()), float(values.max()))
    by_path = {row["path"]: row for row in rows}
    weights = by_path["model.*.hidden1.W"]
    assert weights["initializer"] == "normal_init.v1"
    assert weights["expected_std"] == pytest.approx((1 / 8) ** 0.5)
    assert weights["seed"] == str(param_seed(3, "model.*.hidden1.W"))
    assert by_path["model.*.hidden2.b"]["expected_std"] == pytest.approx(1 / 12**0.5)
