"""docs/api.md documents the core functions with their real arguments."""

from __future__ import annotations

import pytest

import paraminit
from _docs import documented_arguments, function_sections, signature_arguments

API = function_sections("api.md")


def test_the_core_functions_have_sections() -> None:
    expected = {"set_seed", "set_num_threads", "initialize_region", "compute_fans"}
    assert expected | {"register_initializer"} <= set(API)


@pytest.mark.parametrize("name", sorted(API))
def test_api_argument_tables_list_the_signature_in_order(name: str) -> None:
    assert documented_arguments(API[name]) == signature_arguments(getattr(paraminit, name))
