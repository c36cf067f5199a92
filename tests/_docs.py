"""Reading the argument tables of the docs, written in the seed specification's format."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1] / "docs"


def function_sections(page: str) -> dict[str, str]:
    """``{name: text}`` of each ``### name {#... tag="function"}`` section of ``docs/page``."""
    text = (DOCS / page).read_text() + "\n##"
    pattern = r"^### (\w+) \{#\w+ tag=\"function\"\}\n(.*?)(?=^##)"
    return dict(re.findall(pattern, text, re.S | re.M))


def documented_arguments(section: str) -> list[str]:
    """The argument column of a section's table, ``_keyword-only_`` marker included."""
    rows = re.findall(r"^\| (`\w+`|_keyword-only_) ", section, re.M)
    return [row.strip("`") for row in rows]


def signature_arguments(func: Callable[..., Any]) -> list[str]:
    """What the table of ``func`` must list: its parameters in order, with the marker."""
    expected: list[str] = []
    for param in inspect.signature(func).parameters.values():
        if param.kind is inspect.Parameter.KEYWORD_ONLY and "_keyword-only_" not in expected:
            expected.append("_keyword-only_")
        expected.append(param.name)
    return expected
