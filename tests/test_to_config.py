"""to_config: a configured initializer back to the config block that resolves to it."""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import paraminit
from _arguments import registered, rules, strategy
from paraminit import Config, ConfigValidationError, registry, to_config
from paraminit.registry import RegisteredFunction

NAMES = sorted(registered())
SHAPES = [(12, 8, 3), (12, 20)]


@st.composite
def arguments(draw: st.DrawFn, entry: RegisteredFunction) -> dict[str, Any]:
    """Valid arguments of ``entry`` by the registry's rules; optional ones given or left out."""
    values = {}
    for name, rule in rules(entry).items():
        if entry.parameters[name].default is inspect.Parameter.empty or draw(st.booleans()):
            values[name] = draw(strategy(rule))
    return values


def effective(init: Any) -> dict[str, Any]:
    """Every argument a partial calls its function with, the defaults filled in."""
    entry = registry.initializers.names_of(paraminit.regions.unwrap(init))
    parameters = registry.initializers.get(entry[0]).parameters
    return {
        name: init.keywords.get(name, p.default)
        for name, p in parameters.items()
        if name in init.keywords or p.default is not inspect.Parameter.empty
    }


def round_trip(init: Any) -> Any:
    """``init`` through to_config, the .cfg text, and registry.resolve."""
    text = to_config(init, section="model.init").to_str()
    return registry.resolve(Config().from_str(text))["model"]["init"]


def outcome(init: Any, shape: tuple[int, ...]) -> tuple[str, Any]:
    """The values ``init`` gives an array of ``shape`` (seed 3 unless it has one), or its error."""
    kwargs = (
        {"seed": 3}
        if "seed" in inspect.signature(init).parameters and init.keywords.get("seed") is None
        else {}
    )
    try:
        return "values", init(np.empty(shape, np.float32), **kwargs).tobytes()
    except (ValueError, ArithmeticError) as err:
        # ArithmeticError: a scale so small its std underflows to 0 (variance_scaling_init
        # with scale=5e-324) divides by zero in the engine; the same for both partials.
        return type(err).__name__, str(err)


@pytest.mark.parametrize("name", NAMES)
@settings(derandomize=True, max_examples=25, deadline=None)
@given(data=st.data())
def test_round_trip_through_resolve(name: str, data: st.DataObject) -> None:
    entry = registered()[name]
    values = data.draw(arguments(entry))
    _, errors = entry.validate(values)
    if errors:  # a relation between arguments (lo < hi) is broken: not a valid block
        with pytest.raises(ConfigValidationError):
            to_config(entry.func, **values)
        return
    original = entry(**values)
    resolved = round_trip(original)
    assert resolved.func is original.func
    assert resolved.name == name
    assert effective(resolved) == effective(original)
    for shape in SHAPES:
        assert outcome(resolved, shape) == outcome(original, shape)


def test_the_block_holds_the_name_and_every_non_default_argument() -> None:
    block = to_config(paraminit.uniform_init, lo=-0.05, hi=0.1, seed=7)  # hi is the default
    assert dict(block) == {"@initializers": "uniform_init.v1", "lo": -0.05, "seed": 7}
    assert dict(to_config(paraminit.uniform_init, lo=-0.1)) == {"@initializers": "uniform_init.v1"}


def test_a_functools_partial_and_nested_partials() -> None:
    inner = functools.partial(paraminit.truncated_normal_init, std=0.02, a=-0.04)
    outer = functools.partial(inner, b=0.04)
    assert dict(to_config(outer, seed=1)) == {
        "@initializers": "truncated_normal_init.v1",
        "std": 0.02,
        "a": -0.04,
        "b": 0.04,
        "seed": 1,
    }


def test_a_config_partial_keeps_its_alias_and_a_function_its_own_name() -> None:
    from_config = registry.initializers.get("glorot_uniform_init")(gain=2.0)
    assert to_config(from_config)["@initializers"] == "glorot_uniform_init.v1"
    assert to_config(paraminit.glorot_uniform_init)["@initializers"] == "xavier_uniform_init.v1"
    assert to_config(paraminit.eye_init)["@initializers"] == "identity_init.v1"


def test_section_nests_the_block_and_writes_cfg_text() -> None:
    config = to_config(paraminit.he_normal_init, section="model.hidden.init_W", layout="io")
    assert config.to_str().splitlines()[-2:] == [
        '@initializers = "he_normal_init.v1"',
        'layout = "io"',
    ]
    assert dict(config["model"]["hidden"]["init_W"]) == {
        "@initializers": "he_normal_init.v1",
        "layout": "io",
    }


def test_bad_sections_are_refused() -> None:
    with pytest.raises(ValueError, match="'section' must be a dotted path"):
        to_config(paraminit.zero_init, section="model..init")
    with pytest.raises(TypeError, match="'section' must be a str"):
        to_config(paraminit.zero_init, section=3)  # type: ignore[arg-type]


def test_negative_zero_and_ints_keep_their_type_and_sign() -> None:
    block = to_config(paraminit.random_normal_init, mean=-0.0, std=1)
    assert repr(block["mean"]) == "-0.0"
    assert block["std"] == 1 and type(block["std"]) is int


def test_numpy_scalars_become_python_numbers() -> None:
    block = to_config(paraminit.uniform_init, lo=np.float32(-0.5), hi=np.float64(0.25))
    assert dict(block) == {"@initializers": "uniform_init.v1", "lo": -0.5, "hi": 0.25}
    assert all(type(v) in (str, float) for v in block.values())


def test_unregistered_functions_are_a_value_error_naming_them() -> None:
    def my_init(data: Any, *, inplace: bool = False) -> Any:
        return data

    with pytest.raises(ValueError, match=r"to_config: .*my_init is not a registered initializer"):
        to_config(functools.partial(my_init))
    with pytest.raises(ValueError, match=r"numpy\.zeros is not a registered initializer"):
        to_config(np.zeros)


def test_invalid_arguments_are_a_config_validation_error() -> None:
    with pytest.raises(ConfigValidationError, match=r"hi\tmust be greater than lo=1\.0") as info:
        to_config(paraminit.uniform_init, lo=1.0, hi=0.0)
    assert "to_config: invalid arguments for uniform_init.v1" in str(info.value)
    with pytest.raises(ConfigValidationError, match="unexpected argument"):
        to_config(paraminit.zero_init, colour="red")


def test_call_time_and_positional_arguments_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="'inplace' is passed when an initializer is called"):
        to_config(functools.partial(paraminit.zero_init, inplace=True))
    with pytest.raises(TypeError, match="positional arguments"):
        to_config(functools.partial(paraminit.zero_init, np.empty(3)))
    with pytest.raises(TypeError, match="must be an initializer or a partial"):
        to_config("uniform_init")  # type: ignore[arg-type]
