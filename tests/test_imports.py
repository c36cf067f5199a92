"""``import paraminit``: what it loads, and the names it loads on first use."""

from __future__ import annotations

import subprocess
import sys

import paraminit
from paraminit.registry import INITIALIZERS, LAYERS

# The names loaded on first use, by the module that defines (or re-exports) them.
LAZY = {
    "Config": "config",
    "ConfigValidationError": "config",
    "Model": "build",
    "build": "build",
    "registry": "resolver",
    "to_config": "serialize",
}


def run(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_import_paraminit_loads_neither_confection_nor_pydantic() -> None:
    code = (
        "import sys, paraminit\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'confection', 'pydantic'}))\n"
        "paraminit.registry\n"
        "print('confection' in sys.modules)\n"
    )
    assert run(code) == ["[]", "True"]


def test_the_config_names_load_on_first_use_and_are_the_modules_own() -> None:
    for name, owner in LAZY.items():
        code = (
            f"import importlib, paraminit\nvalue = paraminit.{name}\n"
            f"print(value is getattr(importlib.import_module('paraminit.{owner}'), {name!r}))\n"
        )
        assert run(code) == ["True"], name


def test_build_stays_the_function_when_its_module_loads_first() -> None:
    code = (
        "import paraminit, paraminit.cli, paraminit.build\n"
        "from paraminit.build import plan\n"
        "print(callable(paraminit.build), paraminit.build.__module__, plan.__name__)\n"
    )
    assert run(code) == ["True", "paraminit.build", "plan"]


def test_every_public_name_resolves() -> None:
    assert all(getattr(paraminit, name) is not None for name in paraminit.__all__)


def test_the_confection_registry_holds_paraminits_registries() -> None:
    assert paraminit.registry.initializers is INITIALIZERS
    assert paraminit.registry.layers is LAYERS
