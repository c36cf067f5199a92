"""docs/initializers.md documents every initializer with its real arguments."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from confection import Config

import paraminit
from paraminit import registry

DOC = (Path(__file__).parent.parent / "docs" / "initializers.md").read_text()
SECTIONS = dict(
    re.findall(r"^### (\w+) \{#\w+ tag=\"function\"\}\n(.*?)(?=^##)", DOC + "\n##", re.S | re.M)
)
INITIALIZERS = sorted(
    {registry.initializers.get(n).func.__name__ for n in registry.initializers.names()}
)


def test_every_registered_initializer_has_a_section() -> None:
    assert set(INITIALIZERS) <= set(SECTIONS)


@pytest.mark.parametrize("name", INITIALIZERS)
def test_the_argument_table_lists_the_signature_in_order(name: str) -> None:
    rows = re.findall(r"^\| (`\w+`|_keyword-only_) ", SECTIONS[name], re.M)
    documented = [row.strip("`") for row in rows]
    params = inspect.signature(getattr(paraminit, name)).parameters.values()
    expected: list[str] = []
    for param in params:
        if param.kind is inspect.Parameter.KEYWORD_ONLY and "_keyword-only_" not in expected:
            expected.append("_keyword-only_")
        expected.append(param.name)
    assert documented == expected


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
