"""paraminit.thinc: paraminit's initializers in thinc's registry and ``init(ops, shape)``."""

from __future__ import annotations

import copy
import importlib.metadata
import os
import pickle
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

import paraminit

thinc_api = pytest.importorskip("thinc.api", reason="thinc is not installed: pip install '.[test]'")
import thinc.initializers  # noqa: E402

from _bad_blocks import BAD_BLOCKS  # noqa: E402
from paraminit.thinc import (  # noqa: E402
    ThincFactory,
    ThincInitializer,
    factories,
    factory,
    initializer,
    seed_from_thinc,
)

ConfigValidationError = thinc_api.ConfigValidationError
registry = thinc_api.registry

MODEL = """
[model]
@layers = "chain.v1"

[model.*.embed]
@layers = "HashEmbed.v1"
nO = 16
nV = 500
column = 0

[model.*.embed.initializer]
@initializers = "paraminit.uniform_init.v1"
lo = -0.05
hi = 0.05
{embed_seed}

[model.*.hidden]
@layers = "Relu.v1"
nO = 12
nI = 16

[model.*.hidden.init_W]
@initializers = "paraminit.he_normal_init.v1"
{hidden_seed}

[model.*.out]
@layers = "Linear.v1"
nO = 4
nI = 12

[model.*.out.init_W]
@initializers = "paraminit.orthogonal_init"
gain = 2.0
"""


def resolve_model(embed_seed: int | None = None, hidden_seed: int | None = None) -> Any:
    text = MODEL.format(
        embed_seed="" if embed_seed is None else f"seed = {embed_seed}",
        hidden_seed="" if hidden_seed is None else f"seed = {hidden_seed}",
    )
    return registry.resolve(thinc_api.Config().from_str(text))["model"]


def weights(model: Any) -> dict[str, np.ndarray[Any, Any]]:
    return {
        f"{i}.{node.name}.{name}": node.get_param(name).copy()
        for i, node in enumerate(model.walk())
        for name in node.param_names
        if node.has_param(name)
    }


def node(model: Any, name: str) -> Any:
    return next(layer for layer in model.walk() if layer.name == name)


def initialized(embed_seed: int | None = None, hidden_seed: int | None = None, *, fix: int) -> Any:
    model = resolve_model(embed_seed, hidden_seed)
    thinc_api.fix_random_seed(fix)
    model.initialize()
    return model


def test_config_blocks_naming_paraminit_resolve_to_its_values() -> None:
    model = initialized(embed_seed=1, hidden_seed=2, fix=0)
    embed, hidden, out = (node(model, name) for name in ("hashembed", "relu", "linear"))
    E = embed.get_param("E")
    assert E.dtype == np.float32 and E.shape == (500, 16)
    expected = paraminit.uniform_init(np.empty((500, 16), "float32"), -0.05, 0.05, seed=1)
    assert np.array_equal(E, expected)
    W = hidden.get_param("W")
    assert W.dtype == np.float32
    assert np.array_equal(W, paraminit.he_normal_init(np.empty((12, 16), "float32"), seed=2))
    # The unversioned alias resolves to the newest version; thinc's zero bias is untouched.
    assert out.get_param("W").shape == (4, 12)
    assert np.allclose(out.get_param("W") @ out.get_param("W").T, 4 * np.eye(4), atol=1e-5)
    assert not out.get_param("b").any()


def test_fix_random_seed_makes_unseeded_blocks_reproducible_and_seed_dependent() -> None:
    first = weights(initialized(fix=7))
    again = weights(initialized(fix=7))
    other = weights(initialized(fix=8))
    assert first.keys() == again.keys() == other.keys()
    for name in first:
        assert np.array_equal(first[name], again[name]), name
        if first[name].any():
            assert not np.array_equal(first[name], other[name]), name


def test_an_explicit_seed_wins_over_fix_random_seed() -> None:
    a = initialized(embed_seed=5, hidden_seed=6, fix=1)
    b = initialized(embed_seed=5, hidden_seed=6, fix=2)
    for layer, param in (("hashembed", "E"), ("relu", "W")):
        assert np.array_equal(node(a, layer).get_param(param), node(b, layer).get_param(param))
    # The unseeded orthogonal block still follows fix_random_seed.
    assert not np.array_equal(node(a, "linear").get_param("W"), node(b, "linear").get_param("W"))


def test_seed_from_thinc_follows_numpys_global_state() -> None:
    thinc_api.fix_random_seed(3)
    first = [seed_from_thinc(), seed_from_thinc()]
    thinc_api.fix_random_seed(3)
    assert [seed_from_thinc(), seed_from_thinc()] == first
    assert first[0] != first[1]
    assert all(0 <= s < 2**128 for s in first)


def test_a_non_random_initializer_leaves_numpys_random_state_alone() -> None:
    init = initializer("constant_init", value=0.5)
    before = np.random.get_state()[1].copy()
    out = init(thinc_api.NumpyOps(), (3, 4))
    assert np.array_equal(np.random.get_state()[1], before)
    assert np.array_equal(out, np.full((3, 4), 0.5, "float32"))


@pytest.mark.parametrize(
    ("name", "factory_name"),
    [
        ("uniform_init.v1", "configure_uniform_init"),
        ("glorot_uniform_init.v1", "configure_glorot_uniform_init"),
        ("normal_init.v1", "configure_normal_init"),
        ("zero_init.v1", "configure_zero_init"),
    ],
)
def test_thincs_own_names_still_resolve_to_thincs_functions(name: str, factory_name: str) -> None:
    assert registry.initializers.get(name) is getattr(thinc.initializers, factory_name)
    config = thinc_api.Config({"init": {"@initializers": name}})
    resolved = registry.resolve(config)["init"]
    assert resolved.func is getattr(thinc.initializers, name.removesuffix(".v1"))


@pytest.mark.parametrize(
    ("thinc_name", "paraminit_block"),
    [
        ("glorot_uniform_init.v1", {}),
        ("he_uniform_init.v1", {}),
        ("lecun_uniform_init.v1", {}),
        ("glorot_normal_init.v1", {"@initializers": "paraminit.xavier_normal_init.v1"}),
        (
            "he_normal_init.v1",
            {"@initializers": "paraminit.kaiming_normal_init.v1", "nonlinearity": "relu"},
        ),
        (
            "lecun_normal_init.v1",
            {"@initializers": "paraminit.variance_scaling_init.v1", "distribution": "normal"},
        ),
    ],
)
def test_the_docs_counterparts_of_thincs_names_draw_from_the_same_distribution(
    thinc_name: str, paraminit_block: dict[str, str]
) -> None:
    block = paraminit_block or {"@initializers": f"paraminit.{thinc_name}"}
    config = thinc_api.Config({"thinc": {"@initializers": thinc_name}, "ours": block})
    resolved = registry.resolve(config)
    ops = thinc_api.NumpyOps()
    thinc_api.fix_random_seed(0)
    theirs = resolved["thinc"](ops, (384, 256)).ravel()
    ours = resolved["ours"](ops, (384, 256)).ravel()
    assert stats.ks_2samp(theirs, ours).pvalue > 1e-3


def builtin_names() -> set[str]:
    """paraminit's own registered names (tests elsewhere may register more in-process)."""
    return {
        name
        for name in paraminit.registry.initializers.names()
        if paraminit.registry.initializers.get(name).func.__module__.startswith("paraminit.")
    }


def paraminit_entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    dist = importlib.metadata.distribution("paraminit")
    return {ep.name: ep for ep in dist.entry_points if ep.group == "thinc_initializers"}


def test_every_builtin_is_declared_in_thincs_group_under_the_prefix() -> None:
    declared = paraminit_entry_points()
    bases = {name.rsplit(".v", 1)[0] for name in builtin_names()}
    expected = {f"paraminit.{n}" for n in builtin_names() | bases}
    assert set(declared) == expected
    for name, entry_point in declared.items():
        loaded = entry_point.load()
        assert isinstance(loaded, ThincFactory)
        assert loaded.name == name
        assert loaded.registered is paraminit.registry.initializers.get(
            name.removeprefix("paraminit.")
        )
        assert registry.initializers.get(name) is loaded


def test_no_entry_point_takes_an_unprefixed_name() -> None:
    for entry_point in importlib.metadata.entry_points(group="thinc_initializers"):
        if entry_point.value.startswith("paraminit."):
            assert entry_point.name.startswith("paraminit."), entry_point


@pytest.mark.parametrize("case", BAD_BLOCKS, ids=list(BAD_BLOCKS))
def test_a_bad_block_fails_once_at_resolve_time(case: str) -> None:
    block, expected = BAD_BLOCKS[case]
    text = f'[model]\n@layers = "Linear.v1"\nnO = 3\nnI = 4\n\n[model.{block}\n'
    with pytest.raises(ValueError) as info:
        registry.resolve(thinc_api.Config().from_str(text))
    for part in expected:
        assert part in str(info.value), (part, str(info.value))


def test_the_python_adapter_takes_a_name_or_a_function() -> None:
    ops = thinc_api.NumpyOps()
    expected = paraminit.he_normal_init(np.empty((8, 4), "float32"), seed=0)
    for name_or_function in ("he_normal_init", "he_normal_init.v1", paraminit.he_normal_init):
        init = initializer(name_or_function, seed=0)
        assert isinstance(init, ThincInitializer)
        assert np.array_equal(init(ops, (8, 4)), expected)
    # A function registered under two names (glorot and xavier) wraps either way.
    glorot = initializer(paraminit.glorot_uniform_init, seed=1)(ops, (8, 4))
    assert np.array_equal(
        glorot, paraminit.glorot_uniform_init(np.empty((8, 4), "float32"), seed=1)
    )


def test_the_python_adapter_takes_an_initializer_resolved_from_a_paraminit_config() -> None:
    config = paraminit.Config({"init": {"@initializers": "uniform_init.v1", "lo": -0.2, "hi": 0.2}})
    resolved = paraminit.registry.resolve(config)["init"]
    out = initializer(resolved, seed=3)(thinc_api.NumpyOps(), (6, 2))
    assert np.array_equal(
        out, paraminit.uniform_init(np.empty((6, 2), "float32"), -0.2, 0.2, seed=3)
    )


def test_a_thinc_layer_built_in_python_uses_the_adapter() -> None:
    layer = thinc_api.Linear(6, 5, init_W=initializer("lecun_uniform_init", seed=4))
    layer.initialize()
    assert np.array_equal(
        layer.get_param("W"), paraminit.lecun_uniform_init(np.empty((6, 5), "float32"), seed=4)
    )


def test_the_python_adapter_validates_its_arguments_now() -> None:
    with pytest.raises(ConfigValidationError, match=r"hi\s+must be greater than lo=1\.0, got 0\.0"):
        initializer("uniform_init", lo=1.0, hi=0.0)
    with pytest.raises(ConfigValidationError, match=r"unexpected argument for uniform_init\.v1"):
        initializer("uniform_init", low=1.0)
    with pytest.raises(ValueError, match="did you mean 'he_normal_init'"):
        initializer("he_normol_init")


def test_the_python_adapter_refuses_an_unregistered_function() -> None:
    def my_init(data: Any, *, inplace: bool = False) -> Any:
        return data

    with pytest.raises(TypeError, match="is not a registered paraminit initializer"):
        initializer(my_init)
    with pytest.raises(TypeError, match="must be a registered name or function"):
        initializer(42)  # type: ignore[arg-type]


def test_on_numpy_ops_the_array_is_filled_where_ops_allocated_it() -> None:
    allocated: list[np.ndarray[Any, Any]] = []

    class RecordingOps(thinc_api.NumpyOps):  # type: ignore[misc]
        def alloc(self, shape: Any, **kwargs: Any) -> Any:
            allocated.append(super().alloc(shape, **kwargs))
            return allocated[-1]

    out = initializer("uniform_init", seed=2)(RecordingOps(), (5, 3))
    assert len(allocated) == 1 and out is allocated[0]
    assert np.array_equal(out, paraminit.uniform_init(np.empty((5, 3), "float32"), seed=2))


def test_on_device_ops_the_array_is_filled_on_the_host_and_moved_with_asarray() -> None:
    moved: list[np.ndarray[Any, Any]] = []

    class DeviceArray:
        def __init__(self, host: np.ndarray[Any, Any]) -> None:
            self.host = host

    class DeviceOps(thinc_api.Ops):  # type: ignore[misc]
        """Stands in for CupyOps: arrays that are not numpy's, reached through asarray."""

        name = "device"
        xp = types.SimpleNamespace()

        def alloc(self, shape: Any, **kwargs: Any) -> Any:
            raise AssertionError("a device array must not be allocated for the fill")

        def asarray(self, data: Any, dtype: Any = None) -> Any:
            moved.append(data)
            return DeviceArray(np.asarray(data, dtype=dtype))

    result = initializer("truncated_normal_init", std=0.02, seed=9)(DeviceOps(), (4, 6))
    assert isinstance(result, DeviceArray)
    assert len(moved) == 1 and moved[0].dtype == np.float32
    expected = paraminit.truncated_normal_init(np.empty((4, 6), "float32"), std=0.02, seed=9)
    assert np.array_equal(result.host, expected)


def test_a_configured_initializer_survives_pickle_and_deepcopy() -> None:
    init = initializer("he_uniform_init", seed=3)
    ops = thinc_api.NumpyOps()
    for clone in (pickle.loads(pickle.dumps(init)), copy.deepcopy(init)):
        assert np.array_equal(clone(ops, (4, 4)), init(ops, (4, 4)))
    assert "paraminit.he_uniform_init" in repr(init)


def test_entry_point_attributes_map_to_registry_names() -> None:
    assert factories.he_normal_init_v1 is factory("he_normal_init.v1")
    assert factories.he_normal_init.registered is factory("he_normal_init.v1").registered
    with pytest.raises(AttributeError):
        factories.__wrapped__  # noqa: B018
    with pytest.raises(AttributeError, match=r"did you mean 'he_normal_init\.v1'"):
        factories.he_normol_init_v1  # noqa: B018


def test_a_plugin_declaring_the_thinc_entry_point_resolves_in_thinc(plugin_path: Path) -> None:
    code = textwrap.dedent(
        """
        import numpy as np
        from thinc.api import Config, registry
        import paraminit

        config = Config().from_str('''
        [model]
        @layers = "Linear.v1"
        nO = 6
        nI = 4

        [model.init_W]
        @initializers = "paraminit.rademacher_init.v1"
        gain = 2.0
        seed = 5
        ''')
        model = registry.resolve(config)["model"]
        model.initialize()
        from paraminit_rademacher import rademacher_init
        expected = rademacher_init(np.empty((6, 4), "float32"), 2.0, seed=5)
        assert np.array_equal(model.get_param("W"), expected)
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), *sys.path])},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_without_thinc_the_bridge_names_the_extra_and_paraminit_imports_alone() -> None:
    code = (
        "import sys; sys.modules['thinc'] = None\n"
        "import paraminit\n"
        "try:\n"
        "    import paraminit.thinc\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "pip install 'paraminit[thinc]'" in result.stdout
    imported = subprocess.run(
        [sys.executable, "-c", "import sys, paraminit; print('thinc' in sys.modules)"],
        capture_output=True,
        text=True,
    )
    assert imported.stdout.strip() == "False"


DOCS = Path(__file__).resolve().parents[1] / "docs" / "thinc.md"


def test_the_docs_name_every_builtin_and_their_python_example_runs() -> None:
    text = DOCS.read_text()
    for base in {name.rsplit(".v", 1)[0] for name in builtin_names()}:
        assert f"`{base}`" in text, base
    blocks = re.findall(r"```python\n(.*?)```", text.split("## In Python", 1)[1], re.S)
    assert blocks
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, str(DOCS), "exec"), namespace)
