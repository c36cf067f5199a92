"""Hostile plugins: broken or hijacking entry points neither break nor take over built-ins.

Every plugin here is a real installed distribution (a module plus a ``*.dist-info``
with ``METADATA`` and ``entry_points.txt``) on ``PYTHONPATH`` of a fresh process, so
``importlib.metadata`` finds it as after ``pip install``. One directory holds all
of them at once, as a careless environment would.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import paraminit
from conftest import RunCli, RunPython
from paraminit import registry

INIT_GROUP, LAYER_GROUP = "paraminit_initializers", "paraminit_layers"

FILL_42 = """
def f(data, *, inplace=False, seed=None):
    out = data if inplace else data.copy()
    out[...] = 42.0
    return out
"""

# distribution -> (module source, {group: {entry point name: target}}, words of its error)
BROKEN: dict[str, tuple[str, dict[str, dict[str, str]], str]] = {
    "bp_unversioned": (FILL_42, {INIT_GROUP: {"unversioned_init": "bp_unversioned:f"}}, "version"),
    "bp_noncallable": (
        "X = 5\n",
        {INIT_GROUP: {"noncallable_init.v1": "bp_noncallable:X"}},
        "expected a function",
    ),
    "bp_nodata": (
        "def f():\n    return 1\n",
        {INIT_GROUP: {"nodata_init.v1": "bp_nodata:f"}},
        "first positional argument",
    ),
    "bp_kwonly": (
        "def f(*, data, inplace=False):\n    return data\n",
        {INIT_GROUP: {"kwonly_init.v1": "bp_kwonly:f"}},
        "first positional argument",
    ),
    "bp_annotation": (
        "def f(data, x: 'NoSuchType' = 1, *, inplace=False):\n    return data\n",
        {INIT_GROUP: {"annotation_init.v1": "bp_annotation:f"}},
        "NoSuchType",
    ),
    "bp_varargs": (
        "def f(data, *args, inplace=False):\n    return data\n",
        {INIT_GROUP: {"varargs_init.v1": "bp_varargs:f"}},
        "*args",
    ),
    "bp_exit": (
        "import sys\nsys.exit(3)\n",
        {INIT_GROUP: {"exit_init.v1": "bp_exit:f"}},
        "SystemExit",
    ),
    "bp_raise": (
        "raise RuntimeError('boom at import')\n",
        {INIT_GROUP: {"raise_init.v1": "bp_raise:f"}, LAYER_GROUP: {"RaiseLayer.v1": "bp_raise:f"}},
        "boom at import",
    ),
    # Takeovers: a newer version of a built-in, the built-in's own name, layers too.
    "bp_takeover": (
        FILL_42,
        {INIT_GROUP: {"uniform_init.v2": "bp_takeover:f", "he_normal_init.v9": "bp_takeover:f"}},
        "built-in name",
    ),
    "bp_samename": (
        FILL_42 + "f.__module__ = 'paraminit.initializers.distributions'\n"
        "f.__qualname__ = 'uniform_init'\n",
        {INIT_GROUP: {"uniform_init.v1": "bp_samename:f"}},
        "built-in name",
    ),
    "bp_decorated_spoof": (
        "from paraminit import register_initializer\n"
        + FILL_42
        + "f.__module__ = 'paraminit.initializers.distributions'\n"
        "f.__qualname__ = 'uniform_init'\n"
        "register_initializer('uniform_init.v1')(f)\n",
        {INIT_GROUP: {"decorated_spoof_init.v1": "bp_decorated_spoof:f"}},
        "built-in name",
    ),
    "bp_layers": (
        "def Linear(nO=None, nI=None):\n    raise AssertionError('never called')\n",
        {LAYER_GROUP: {"Linear.v1": "bp_layers:Linear", "Chain.v2": "bp_layers:Linear"}},
        "built-in name",
    ),
}

REEXPORT_INIT = """
from .inits import reexport_init
"""
REEXPORT_INITS = """
from paraminit import register_initializer


@register_initializer("reexport_init.v1")
def reexport_init(data, value: float = 3.0, *, inplace=False):
    out = data if inplace else data.copy()
    out[...] = value
    return out
"""


def _dist_info(root: Path, name: str, entry_points: dict[str, dict[str, str]]) -> None:
    dist = root / f"{name}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = []
    for group, points in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in points.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every broken plugin of ``BROKEN`` and a re-exporting one, installed side by side."""
    root = tmp_path_factory.mktemp("hostile_plugins")
    for name, (source, entry_points, _) in BROKEN.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source))
        _dist_info(root, name, entry_points)
    package = root / "bp_reexport"
    package.mkdir()
    (package / "__init__.py").write_text(REEXPORT_INIT)
    (package / "inits.py").write_text(REEXPORT_INITS)
    _dist_info(root, "bp_reexport", {INIT_GROUP: {"reexport_init.v1": "bp_reexport:reexport_init"}})
    return root


def _broken_names() -> list[tuple[str, str, str]]:
    """(distribution, entry point name, words of its error) for every broken entry point."""
    return [
        (dist, ep, words)
        for dist, (_, groups, words) in BROKEN.items()
        for points in groups.values()
        for ep in points
    ]


def test_list_json_lists_every_broken_plugin_with_its_error_and_exits_0(
    plugins: Path, run_cli: RunCli
) -> None:
    result = run_cli("list", "--json", plugin=plugins)
    assert result.returncode == 0, result.stderr
    entries: dict[str, list[dict[str, Any]]] = {}
    for entry in json.loads(result.stdout):
        entries.setdefault(entry["name"], []).append(entry)
    for dist, name, words in _broken_names():
        errors = [e["error"] for e in entries[name] if "error" in e]
        assert len(errors) == 1, (name, entries[name])
        assert words in errors[0], errors[0]
        assert dist in errors[0], errors[0]  # named by its distribution
    builtin = [e for e in entries["uniform_init.v1"] if "error" not in e]
    assert builtin[0]["origin"] == "paraminit"
    assert builtin[0]["function"] == "paraminit.initializers.distributions:uniform_init"
    assert "uniform_init.v2" in entries and "error" in entries["uniform_init.v2"][0]
    assert "error" not in entries["reexport_init.v1"][0]


def test_list_table_shows_the_builtins_and_each_error_on_stderr(
    plugins: Path, run_cli: RunCli
) -> None:
    result = run_cli("list", plugin=plugins)
    assert result.returncode == 0, result.stderr
    assert "uniform_init.v1" in result.stdout and "Linear.v1" in result.stdout
    assert "Traceback" not in result.stderr
    for dist, _, _ in _broken_names():
        assert dist in result.stderr


@pytest.mark.parametrize("name", ["uniform_init", "Linear", "reexport_init", "exit_init.v1"])
def test_show_works_beside_broken_plugins(plugins: Path, run_cli: RunCli, name: str) -> None:
    result = run_cli("show", name, plugin=plugins)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if name == "exit_init.v1":
        assert "SystemExit" in result.stdout and "bp_exit" in result.stdout
    else:
        assert "cannot be loaded" not in result.stdout


def test_a_build_that_does_not_use_them_gets_the_builtins_values(
    plugins: Path, run_cli: RunCli, configs: Path
) -> None:
    args = ("build", configs / "default.cfg", "--seed", "5", "--json")
    clean = run_cli(*args)
    hostile = run_cli(*args, plugin=plugins)
    assert hostile.returncode == 0, hostile.stderr
    assert json.loads(hostile.stdout)["params"] == json.loads(clean.stdout)["params"]


def test_takeover_names_resolve_to_the_builtin_and_reexports_resolve_twice(
    plugins: Path, run_python: RunPython
) -> None:
    result = run_python(
        """
        import numpy as np
        import paraminit
        from paraminit import registry

        for name in ("uniform_init", "uniform_init.v1", "he_normal_init"):
            func = registry.initializers.get(name).func
            assert func.__module__.startswith("paraminit."), (name, func)
        assert registry.layers.get("Linear").func is registry.layers.get("Linear.v1").func
        assert registry.layers.get("Linear.v1").func.__module__ == "paraminit.layers"
        model = paraminit.build(
            '[model]\\n@layers = "Linear"\\nnI = 3\\nnO = 2\\n'
            '[model.init_W]\\n@initializers = "uniform_init"\\n', seed=1)
        assert not np.any(model.params["model.W"] == 42.0)
        first = registry.initializers.get("reexport_init.v1")
        assert registry.initializers.get("reexport_init.v1") is first
        assert registry.initializers.get("reexport_init") is first
        print(first.origin)
        """,
        plugin=plugins,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "plugin distribution 'bp_reexport' (entry point 'reexport_init.v1 = "
        "bp_reexport:reexport_init')"
    )


def test_a_config_naming_a_broken_plugin_is_a_config_error_with_the_plugin(
    plugins: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    config = tmp_path / "uses.cfg"
    config.write_text(
        '[model]\n@layers = "Linear.v1"\nnI = 2\nnO = 2\n'
        '[model.init_W]\n@initializers = "uniform_init.v2"\n'
    )
    result = run_cli("build", config, plugin=plugins)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "bp_takeover" in lines[0] and "built-in name" in lines[0]


# --- generated: every built-in base name, any version, from an entry point or a decorator ---

BUILTIN_BASES = sorted(
    {name.rsplit(".v", 1)[0] for reg in registry.owned().values() for name in reg.names()}
)


@settings(derandomize=True, max_examples=1, deadline=None)
@given(
    versions=st.lists(
        st.integers(1, 10**6), min_size=len(BUILTIN_BASES), max_size=len(BUILTIN_BASES)
    )
)
def test_no_entry_point_version_of_any_builtin_changes_what_it_resolves_to(
    tmp_path_factory: pytest.TempPathFactory, run_python: RunPython, versions: list[int]
) -> None:
    root = tmp_path_factory.mktemp("takeover_all")
    (root / "bp_all.py").write_text(textwrap.dedent(FILL_42))
    layer_bases = set(registry.layers._builtin_bases)
    points = {
        INIT_GROUP: {
            f"{b}.v{v}": "bp_all:f"
            for b, v in zip(BUILTIN_BASES, versions, strict=True)
            if b not in layer_bases
        },
        LAYER_GROUP: {
            f"{b}.v{v}": "bp_all:f"
            for b, v in zip(BUILTIN_BASES, versions, strict=True)
            if b in layer_bases
        },
    }
    _dist_info(root, "bp_all", points)
    result = run_python(
        f"""
        import sys
        from paraminit import registry
        for reg in registry.owned().values():
            for base in {BUILTIN_BASES!r}:
                if base in reg._builtin_bases:
                    assert reg.get(base).origin.kind == "builtin", base
                    assert reg.resolve_name(base) == base + ".v1", reg.resolve_name(base)
        problems = {{}}
        for reg in registry.owned().values():
            problems.update(reg.plugin_problems())
        assert len(problems) == {len(BUILTIN_BASES)}, problems
        assert all("bp_all" in p for p in problems.values())
        assert "bp_all" not in sys.modules
        """,
        plugin=root,
    )
    assert result.returncode == 0, result.stderr


@settings(derandomize=True, max_examples=25, deadline=None)
@given(base=st.sampled_from(BUILTIN_BASES), version=st.integers(1, 10**9))
def test_python_code_cannot_register_any_version_of_a_builtin(base: str, version: int) -> None:
    def impostor(data: Any, *, inplace: bool = False) -> Any:
        return data

    reg = registry.layers if base in registry.layers._builtin_bases else registry.initializers
    before = reg.get(base)
    with pytest.raises(paraminit.PluginError, match="built-in name of paraminit"):
        reg.register(f"{base}.v{version}", func=impostor)
    assert reg.get(base) is before


def test_untyped_plugin_arguments_are_accepted_and_passed_through() -> None:
    import catalogue

    def untyped_init(data, scale=2.0, *, inplace=False):  # type: ignore[no-untyped-def]
        out = data if inplace else data.copy()
        out[...] = scale
        return out

    reg = registry.initializers
    entry = reg.register("untyped_test_init.v1", func=untyped_init)
    try:
        registered = reg.get("untyped_test_init.v1")
        values, errors = registered.validate({"scale": "anything"})
        assert errors == [] and values == {"scale": "anything"}
        _, missing = registered.validate({"colour": 1})
        assert [e.field for e in missing] == ["colour"]  # names are still checked
    finally:
        del catalogue.REGISTRY[("paraminit", "initializers", "untyped_test_init.v1")]
    assert entry is untyped_init
