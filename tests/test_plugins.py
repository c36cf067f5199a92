"""Plugins: initializers other packages declare under the ``paraminit_initializers`` group.

Each test writes a real installed distribution (a module plus a ``*.dist-info``
with ``METADATA`` and ``entry_points.txt``) into a temporary directory, puts it on
``PYTHONPATH`` and runs a fresh interpreter, so ``importlib.metadata`` finds the
entry points exactly as it would after ``pip install``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import RunPython

PLUGIN_MODULE = '''
from typing import Annotated
import annotated_types as at
import numpy as np


def scaled_init(
    data,
    value: Annotated[float, at.Gt(0)] = 1.0,
    *,
    inplace: bool = False,
    seed: int | None = None,
):
    """Fill with ``value``."""
    out = data if inplace else np.empty_like(data)
    out[...] = value
    return out
'''

DECORATED_MODULE = """
import numpy as np
from paraminit import register_initializer


@register_initializer("twos_init.v1")
def twos_init(data, *, inplace: bool = False):
    out = data if inplace else np.empty_like(data)
    out[...] = 2.0
    return out
"""


def install(root: Path, name: str, module: str, entry_points: dict[str, str]) -> None:
    """Lay out an installed distribution ``name`` with ``module`` and ``entry_points``."""
    (root / f"{name}.py").write_text(textwrap.dedent(module))
    dist = root / f"{name}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = ["[paraminit_initializers]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")


RESOLVE = """
import sys
import numpy as np
from confection import Config
from paraminit import registry, ConfigValidationError

def resolve(name, **args):
    lines = ["[layer]", "[layer.init]", f'@initializers = "{name}"']
    lines += [f"{k} = {v}" for k, v in args.items()]
    return registry.resolve(Config().from_str("\\n".join(lines)))["layer"]["init"]
"""


def test_entry_point_plugin_resolves_without_being_imported_first(
    tmp_path: Path, run_python: RunPython
) -> None:
    install(tmp_path, "myplug", PLUGIN_MODULE, {"scaled_init.v1": "myplug:scaled_init"})
    result = run_python(
        RESOLVE
        + """
assert "myplug" not in sys.modules
init = resolve("scaled_init.v1", value=3.0)
assert "myplug" in sys.modules
print(init.func.__module__, init.keywords, init(np.zeros(2)).tolist())
print(resolve("scaled_init").func.__name__)
""",
        plugin=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "myplug {'value': 3.0, 'seed': None} [3.0, 3.0]",
        "scaled_init",
    ]


def test_entry_point_plugin_arguments_are_validated_with_paths(
    tmp_path: Path, run_python: RunPython
) -> None:
    install(tmp_path, "myplug", PLUGIN_MODULE, {"scaled_init.v1": "myplug:scaled_init"})
    result = run_python(
        RESOLVE
        + """
try:
    resolve("scaled_init.v1", value=-2.0, colour='"red"')
except ConfigValidationError as err:
    print(err)
""",
        plugin=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "layer -> init -> value\tmust be > 0, got -2.0 [scaled_init.v1]" in (result.stdout)
    assert "layer -> init -> colour\tunexpected argument for scaled_init.v1" in result.stdout


def test_decorated_plugin_with_its_own_entry_point_resolves(
    tmp_path: Path, run_python: RunPython
) -> None:
    install(tmp_path, "twoplug", DECORATED_MODULE, {"twos_init.v1": "twoplug:twos_init"})
    result = run_python(
        RESOLVE + 'print(resolve("twos_init")(np.zeros(2)).tolist())', plugin=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[2.0, 2.0]"


def test_plugin_whose_import_fails_is_named_and_builtins_keep_working(
    tmp_path: Path, run_python: RunPython
) -> None:
    install(
        tmp_path, "brokenplug", "import not_a_module_anywhere\n", {"broken_init.v1": "brokenplug:f"}
    )
    result = run_python(
        RESOLVE
        + """
try:
    resolve("broken_init.v1")
except ConfigValidationError as err:
    print(err)
print(resolve("uniform_init", seed=1)(np.zeros(3)).shape)
""",
        plugin=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "layer -> init -> @initializers" in out
    assert "'broken_init.v1 = brokenplug:f'" in out
    assert "ModuleNotFoundError: No module named 'not_a_module_anywhere'" in out
    assert out.strip().endswith("(3,)")


def test_plugin_may_not_replace_a_builtin_name(tmp_path: Path, run_python: RunPython) -> None:
    install(tmp_path, "evilplug", PLUGIN_MODULE, {"uniform_init.v1": "evilplug:scaled_init"})
    result = run_python(
        RESOLVE
        + """
try:
    resolve("uniform_init.v1")
except ConfigValidationError as err:
    print(err)
""",
        plugin=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "'uniform_init.v1 = evilplug:scaled_init'" in result.stdout
    assert "registered to paraminit.initializers.distributions:uniform_init" in result.stdout


@pytest.mark.parametrize("name", ["scaled_init", "scaled_init.v1"])
def test_plugin_names_are_listed_without_importing_them(
    tmp_path: Path, run_python: RunPython, name: str
) -> None:
    install(tmp_path, "myplug", PLUGIN_MODULE, {"scaled_init.v1": "myplug:scaled_init"})
    result = run_python(
        f"""
import sys
from paraminit import registry
print({name!r} in registry.initializers, "scaled_init.v1" in registry.initializers.names())
print("myplug" in sys.modules)
""",
        plugin=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "False"]
