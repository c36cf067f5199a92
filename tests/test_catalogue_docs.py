"""docs/initializers.md documents every initializer with its real arguments."""

from __future__ import annotations

import re

import pytest
from confection import Config

import paraminit
from _docs import documented_arguments, function_sections, signature_arguments
from paraminit import registry

SECTIONS = function_sections("initializers.md")
INITIALIZERS = sorted(
    {registry.initializers.get(n).func.__name__ for n in registry.initializers.names()}
)


def test_every_registered_initializer_has_a_section() -> None:
    assert set(INITIALIZERS) <= set(SECTIONS)


@pytest.mark.parametrize("name", INITIALIZERS)
def test_the_argument_table_lists_the_signature_in_order(name: str) -> None:
    assert documented_arguments(SECTIONS[name]) == signature_arguments(getattr(paraminit, name))


@pytest.mark.parametrize("name", INITIALIZERS)
def test_the_cfg_examples_resolve(name: str) -> None:
    blocks = re.findall(r"```ini\n\[([\w.]+)\]\n(.*?)```", SECTIONS[name], re.S)
    assert blocks
    for section, body in blocks:
        # The examples are blocks of a larger config: declare their parent sections.
        parts = section.split(".")
        parents = "".join(f"[{'.'.join(parts[:i])}]\n" for i in range(1, len(parts)))
        resolved = registry.resolve(Config().from_str(f"{parents}[{section}]\n{body}"))
        for part in parts:
            resolved = resolved[part]
        assert resolved.func is getattr(paraminit, name)
