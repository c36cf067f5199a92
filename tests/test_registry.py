"""The registry: names, versions, validated partials and config errors."""

from __future__ import annotations

import functools
import math
from typing import Annotated, Any

import annotated_types as at
import numpy as np
import pytest
from confection import Config

import paraminit
from conftest import init_block
from paraminit import ConfigValidationError, InitializerPartial, registry
from paraminit.arguments import ArgumentError
from paraminit.registry import PluginError

SEED_NAMES = ["normal_init", "xavier_uniform_init", "zero_init", "uniform_init"]


def resolve(text: str) -> dict[str, Any]:
    return registry.resolve(Config().from_str(text))


@pytest.mark.parametrize("base", SEED_NAMES)
@pytest.mark.parametrize("suffix", ["", ".v1"])
def test_both_name_forms_resolve_to_a_partial_of_the_public_function(
    base: str, suffix: str
) -> None:
    init = resolve(init_block(base + suffix))["layer"]["init"]
    assert isinstance(init, functools.partial)
    assert isinstance(init, InitializerPartial)
    assert init.func is getattr(paraminit, base)
    assert init.name == f"{base}.v1"


def test_unversioned_name_resolves_to_the_newest_version() -> None:
    def newer_uniform_v99(data: Any, lo: float = 0.0, *, inplace: bool = False) -> Any:
        return data

    try:
        registry.initializers.register("uniform_init.v99", func=newer_uniform_v99)
        assert registry.initializers.get("uniform_init").func is newer_uniform_v99
        assert registry.initializers.get("uniform_init.v1").func is paraminit.uniform_init
    finally:
        import catalogue

        del catalogue.REGISTRY[("paraminit", "initializers", "uniform_init.v99")]


def test_partial_keywords_hold_the_validated_arguments() -> None:
    init = resolve(init_block("uniform_init.v1", lo=-1, hi=2, seed=3))["layer"]["init"]
    assert init.keywords == {"lo": -1.0, "hi": 2.0, "seed": 3}
    assert isinstance(init.keywords["lo"], float)


def test_partial_is_called_by_a_layer_at_build_time() -> None:
    init = resolve(init_block("uniform_init", lo=-0.5, hi=0.5, seed=9))["layer"]["init"]
    W = np.empty((20, 10), np.float32)
    assert init(W, inplace=True) is W
    np.testing.assert_array_equal(
        W, paraminit.uniform_init(np.empty((20, 10), "f"), -0.5, 0.5, seed=9)
    )


def test_normal_init_fan_in_from_config() -> None:
    init = resolve(init_block("normal_init", fan_in=16, seed=0))["layer"]["init"]
    assert init.keywords["fan_in"] == 16
    assert init(np.empty(5)).shape == (5,)


def test_config_without_seed_draws_from_the_package_stream() -> None:
    init = resolve(init_block("uniform_init"))["layer"]["init"]
    paraminit.set_seed(8)
    first = init(np.empty(10))
    paraminit.set_seed(8)
    np.testing.assert_array_equal(init(np.empty(10)), first)
    assert not np.array_equal(init(np.empty(10)), first)


# --- one ConfigValidationError for the whole config, every field with its path -------------

BAD_CONFIGS = [
    pytest.param(
        init_block("uniform_init.v1", lo=0.5, hi=-0.5),
        [("layer -> init -> hi", "greater than lo=0.5", "-0.5", "uniform_init.v1")],
        id="lo-not-below-hi",
    ),
    pytest.param(
        init_block("uniform_init", lo='"low"'),
        [("layer -> init -> lo", "valid number", "'low'", "uniform_init.v1")],
        id="string-for-float",
    ),
    pytest.param(
        init_block("uniform_init", hi="Infinity"),
        [("layer -> init -> hi", "finite", "inf", "uniform_init.v1")],
        id="infinite-bound",
    ),
    pytest.param(
        init_block("normal_init.v1", fan_in=0),
        [("layer -> init -> fan_in", "must be > 0", "0", "normal_init.v1")],
        id="zero-fan-in",
    ),
    pytest.param(
        init_block("normal_init", fan_in=2.5),
        [("layer -> init -> fan_in", "valid integer", "2.5", "normal_init.v1")],
        id="float-fan-in",
    ),
    pytest.param(
        init_block("uniform_init", seed=-4),
        [("layer -> init -> seed", "must be >= 0", "-4", "uniform_init.v1")],
        id="negative-seed",
    ),
    pytest.param(
        init_block("zero_init", value=1),
        [("layer -> init -> value", "unexpected argument", "1", "zero_init.v1")],
        id="unexpected-argument",
    ),
    pytest.param(
        init_block("unifrom_init"),
        [("layer -> init -> @initializers", "'unifrom_init'", "uniform_init", "did you mean")],
        id="unknown-name-with-close-matches",
    ),
    pytest.param(
        init_block("xavier_uniform_init", seed="true"),
        [("layer -> init -> seed", "valid integer", "True", "xavier_uniform_init.v1")],
        id="bool-seed",
    ),
    pytest.param(
        init_block("uniform_init.v7"),
        [("layer -> init -> @initializers", "unknown initializers function 'uniform_init.v7'")],
        id="unknown-version",
    ),
]


@pytest.mark.parametrize("text, expected", BAD_CONFIGS)
def test_bad_config_error_names_path_function_value_and_rule(
    text: str, expected: list[tuple[str, ...]]
) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        resolve(text)
    message = str(caught.value)
    lines = [line for line in message.splitlines() if "\t" in line]
    assert len(lines) == len(expected), message
    for line, parts in zip(lines, expected, strict=True):
        path, rest = line.split("\t", 1)
        assert path == parts[0]
        for part in parts[1:]:
            assert part in rest, (part, line)


NESTED = """
[model]
[model.layer1]
[model.layer1.init_W]
@initializers = "uniform_init.v1"
lo = 0.2
hi = 0.1
[model.layer1.init_b]
@initializers = "zero_init"
[model.layer2]
[model.layer2.init_W]
@initializers = "normal_init"
fan_in = -1
seed = "abc"
[model.layer3]
[model.layer3.init_W]
@initializers = "xavier_unform_init"
"""


def test_every_bad_field_of_the_whole_config_is_listed_at_once() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        resolve(NESTED)
    paths = [e["loc"] for e in caught.value.errors]
    assert paths == [
        ["model", "layer1", "init_W", "hi"],
        ["model", "layer2", "init_W", "fan_in"],
        ["model", "layer2", "init_W", "seed"],
        ["model", "layer3", "init_W", "@initializers"],
    ]
    assert "xavier_uniform_init" in str(caught.value)
    assert "4 problems" in str(caught.value)


def test_errors_follow_interpolated_variables() -> None:
    text = """
[vars]
width = -3
[layer]
[layer.init]
@initializers = "normal_init"
fan_in = ${vars.width}
"""
    with pytest.raises(ConfigValidationError, match=r"layer -> init -> fan_in\tmust be > 0"):
        resolve(text)


def test_overrides_are_validated_too() -> None:
    with pytest.raises(ConfigValidationError, match=r"layer -> init -> hi"):
        registry.resolve(
            Config().from_str(init_block("uniform_init", hi=1)), overrides={"layer.init.hi": -5.0}
        )


def test_override_of_a_value_the_config_lacks_is_an_error() -> None:
    with pytest.raises(ConfigValidationError, match=r"layer -> init -> hi\tnot a value"):
        registry.resolve(
            Config().from_str(init_block("uniform_init")), overrides={"layer.init.hi": 1}
        )


def test_valid_override_is_applied() -> None:
    cfg = Config().from_str(init_block("uniform_init", hi=1))
    init = registry.resolve(cfg, overrides={"layer.init.hi": 5.0})["layer"]["init"]
    assert init.keywords["hi"] == 5.0


def test_a_bad_config_changes_nothing() -> None:
    cfg = Config().from_str(NESTED)
    before = cfg.copy()
    with pytest.raises(ConfigValidationError):
        registry.resolve(cfg)
    assert cfg == before


def test_calling_a_registered_function_directly_validates_too() -> None:
    configure = registry.initializers.get("uniform_init.v1")
    with pytest.raises(ConfigValidationError, match=r"hi\tmust be greater than lo"):
        configure(lo=1.0, hi=0.0)
    assert configure(lo=0.0, hi=1.0).keywords == {"lo": 0.0, "hi": 1.0}


# --- register_initializer --------------------------------------------------------------------


@pytest.fixture
def scratch_names() -> Any:
    import catalogue

    before = set(catalogue.REGISTRY)
    yield
    for key in set(catalogue.REGISTRY) - before:
        del catalogue.REGISTRY[key]


def test_register_initializer_leaves_the_function_as_written(scratch_names: None) -> None:
    def filled_init(
        data: np.ndarray,
        value: Annotated[float, at.Ge(0)] = 1.0,
        *,
        inplace: bool = False,
        seed: int | None = None,
    ) -> np.ndarray:
        out = data if inplace else np.empty_like(data)
        out[...] = value
        return out

    decorated = paraminit.register_initializer("filled_init.v1")(filled_init)
    assert decorated is filled_init
    assert (filled_init(np.zeros(3), 2.0) == 2.0).all()
    init = resolve(init_block("filled_init", value=3.5))["layer"]["init"]
    assert init.func is filled_init
    assert (init(np.zeros(4)) == 3.5).all()
    with pytest.raises(ConfigValidationError, match=r"layer -> init -> value\tmust be >= 0"):
        resolve(init_block("filled_init.v1", value=-1))


def test_register_initializer_needs_a_versioned_name() -> None:
    with pytest.raises(ValueError, match="carry a version"):
        paraminit.register_initializer("unversioned")(paraminit.zero_init)


def test_register_initializer_needs_a_data_first_function(scratch_names: None) -> None:
    def no_data(*, value: float = 1.0) -> None:
        return None

    with pytest.raises(TypeError, match="must take the array as its first positional argument"):
        paraminit.register_initializer("no_data.v1")(no_data)


def test_registering_another_function_under_a_builtin_name_is_refused() -> None:
    def impostor(data: Any, *, inplace: bool = False) -> Any:
        return data

    with pytest.raises(
        PluginError,
        match=r"'uniform_init.v1' is already registered to "
        r"paraminit\.initializers\.distributions:uniform_init; .*impostor may not replace it",
    ):
        paraminit.register_initializer("uniform_init.v1")(impostor)
    assert registry.initializers.get("uniform_init.v1").func is paraminit.uniform_init


def test_unknown_name_lookup_suggests_close_matches() -> None:
    import catalogue

    with pytest.raises(catalogue.RegistryError, match=r"did you mean 'normal_init'"):
        registry.initializers.get("normal_int")


def test_close_matches_follow_the_form_of_the_name_given() -> None:
    unversioned = registry.initializers.close_matches("unifrom_init")
    assert unversioned[0] == "uniform_init"
    assert not any(".v" in name for name in unversioned)
    versioned = registry.initializers.close_matches("uniform_init.v7")
    assert versioned[0] == "uniform_init.v1"
    assert all(".v" in name for name in versioned)


def test_a_resolved_partial_pickles_for_process_pools() -> None:
    import pickle

    init = resolve(init_block("uniform_init", lo=-1, hi=1, seed=3))["layer"]["init"]
    again = pickle.loads(pickle.dumps(init))
    assert isinstance(again, InitializerPartial)
    assert (again.name, again.func, again.keywords) == (init.name, init.func, init.keywords)
    np.testing.assert_array_equal(again(np.empty(7)), init(np.empty(7)))


def test_fill_validates_the_whole_config_like_resolve() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        registry.fill(Config().from_str(NESTED))
    assert len(caught.value.errors) == 4


def test_fill_adds_the_defaults_of_valid_blocks() -> None:
    filled = registry.fill(Config().from_str(init_block("uniform_init", seed=1)))
    assert filled["layer"]["init"]["lo"] == -0.1
    assert filled["layer"]["init"]["hi"] == 0.1


@pytest.mark.parametrize(
    "name, argument, value, config_value, rule",
    [
        ("normal_init", "fan_in", 0, "0", "must be > 0"),
        ("normal_init", "seed", -4, "-4", "must be >= 0"),
        ("random_normal_init", "std", math.inf, "Infinity", "must be finite"),
    ],
)
def test_a_constraint_reads_the_same_from_python_and_from_a_config(
    name: str, argument: str, value: object, config_value: str, rule: str
) -> None:
    with pytest.raises(ArgumentError, match=f"'{argument}' {rule}, got"):
        getattr(paraminit, name)(np.zeros((2, 2), np.float32), **{argument: value})
    with pytest.raises(ConfigValidationError) as config:
        resolve(init_block(name, **{argument: config_value}))
    assert f"layer -> init -> {argument}\t{rule}, got" in str(config.value)
