"""The one-walk resolver: the same result as confection's resolution, or confection's own."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import confection
import pytest

from paraminit import registry
from paraminit.config import Config
from paraminit.layers import Layer
from paraminit.resolver import resolve_owned

# plugin_example.cfg names a plugin's initializer, installed only by its own tests.
CONFIGS = sorted(
    path
    for path in (Path(__file__).parent.parent / "configs").glob("*.cfg")
    if path.name != "plugin_example.cfg"
)

TEXTS = {
    "defaults filled, positionals and keywords": """
[model]
@layers = "Chain.v1"

[model.*.a]
@layers = "Linear.v1"
nO = 3
nI = 2

[model.*.a.init_W]
@initializers = "uniform_init"
hi = 0.5

[model.*.b]
@layers = "LayerNorm.v1"
""",
    "plain sections beside blocks": """
[vars]
width = 4
names = ["a", "b"]

[train]
steps = 3

[train.*.x]
y = 1

[model]
@layers = "Embed.v1"
nV = 5
nO = ${vars.width}

[model.init]
@initializers = "random_normal_init.v1"
std = 0.5
""",
    "a block outside [model]": """
[init]
@initializers = "he_normal_init.v1"
layout = "io"
""",
}


def confection_resolve(config: Any) -> dict[str, Any]:
    """What confection's own ``registry.resolve`` makes of ``config``."""
    return confection.registry.resolve.__func__(registry, config)  # type: ignore[attr-defined,no-any-return]


def shape(value: Any) -> Any:
    """A comparable picture of a resolved value: types, layers' state and partials."""
    if isinstance(value, functools.partial):
        return (
            "partial",
            type(value),
            getattr(value, "name", None),
            value.func,
            shape(value.keywords),
        )
    if isinstance(value, Layer):
        return ("layer", type(value), shape(vars(value)))
    if isinstance(value, dict):
        return (type(value), [(k, shape(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value), [shape(v) for v in value])
    return value


def test_configs_resolve_as_confection_resolves_them() -> None:
    cases = [path.read_text(encoding="utf8") for path in CONFIGS] + list(TEXTS.values())
    for text in cases:
        config = Config().from_str(text)
        assert shape(registry.resolve(config)) == shape(confection_resolve(config)), text


@pytest.mark.parametrize("text", list(TEXTS.values()), ids=list(TEXTS))
def test_uninterpolated_configs_resolve_the_same(text: str) -> None:
    config = Config().from_str(text, interpolate=False)
    assert shape(registry.resolve(config)) == shape(confection_resolve(config))


def test_a_block_of_another_registry_is_left_to_confection() -> None:
    tree = {"model": {"@misc": "thing.v1"}}
    assert resolve_owned(registry.owned(), tree) is None


def test_a_section_shared_by_two_references_is_left_to_confection() -> None:
    block = {"@initializers": "zero_init.v1"}
    assert resolve_owned(registry.owned(), {"a": {"x": block}, "b": {"y": block}}) is None


def test_missing_positionals_keep_confections_error() -> None:
    with pytest.raises(confection.ConfigValidationError, match="layers"):
        registry.resolve(Config().from_str('[model]\n@layers = "Chain.v1"'))


def test_the_input_config_is_not_changed() -> None:
    config = Config().from_str(TEXTS["defaults filled, positionals and keywords"])
    before = config.to_str()
    registry.resolve(config)
    assert config.to_str() == before
