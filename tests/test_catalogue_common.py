"""What every initializer of the catalogue promises: the data contract, seeds, names, configs.

One table lists each initializer with the arguments and a shape it needs; every
test runs over the whole table.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from confection import Config, ConfigValidationError

import paraminit
from conftest import init_block
from paraminit import registry


@dataclass(frozen=True)
class Case:
    func: Callable[..., Any]
    shape: tuple[int, ...]
    args: dict[str, Any] = field(default_factory=dict)
    names: tuple[str, ...] = ()  # registered names besides the function's own
    # a bad argument value and the field it is reported for
    bad: tuple[str, Any] | None = None

    @property
    def random(self) -> bool:
        return "seed" in inspect.signature(self.func).parameters

    @property
    def id(self) -> str:
        return self.func.__name__


CASES = [
    Case(paraminit.zero_init, (4, 3)),
    Case(paraminit.ones_init, (4, 3)),
    Case(paraminit.constant_init, (4, 3), {"value": 0.25}, bad=("value", float("nan"))),
    Case(paraminit.identity_init, (4, 6), {"gain": 2.0}, ("eye_init",), ("gain", -1.0)),
    Case(paraminit.dirac_init, (4, 2, 3, 3), {"groups": 2}, bad=("groups", 0)),
    Case(paraminit.uniform_init, (4, 3), {"lo": -0.5, "hi": 0.5}, bad=("hi", float("inf"))),
    Case(paraminit.random_normal_init, (4, 3), {"mean": 1.0, "std": 0.5}, bad=("std", -1.0)),
    Case(paraminit.truncated_normal_init, (4, 3), {"std": 0.5, "a": -0.5}, bad=("std", 0.0)),
    Case(paraminit.sparse_init, (8, 5), {"sparsity": 0.25}, bad=("sparsity", 1.5)),
    Case(
        paraminit.variance_scaling_init,
        (6, 4, 3),
        {"scale": 2.0, "mode": "fan_avg", "distribution": "uniform"},
        bad=("mode", "fan_sum"),
    ),
    Case(paraminit.normal_init, (6, 4), {"fan_in": 7}, bad=("fan_in", 0)),
    Case(
        paraminit.xavier_uniform_init,
        (6, 4),
        {"gain": 1.5},
        ("glorot_uniform_init",),
        ("gain", 0.0),
    ),
    Case(paraminit.xavier_normal_init, (6, 4), {"gain": 1.5}, bad=("layout", "ioo")),
    Case(paraminit.glorot_normal_init, (3, 3, 4, 6), {"layout": "io"}, bad=("layout", 1)),
    Case(
        paraminit.kaiming_uniform_init,
        (6, 4, 3),
        {"a": 0.2, "mode": "fan_out"},
        bad=("nonlinearity", "swish"),
    ),
    Case(
        paraminit.kaiming_normal_init,
        (6, 4),
        {"nonlinearity": "relu"},
        bad=("mode", "fan_avg"),
    ),
    Case(paraminit.he_uniform_init, (6, 4), bad=("layout", None)),
    Case(paraminit.he_normal_init, (6, 4, 2, 2)),
    Case(paraminit.lecun_uniform_init, (6, 4)),
    Case(paraminit.lecun_normal_init, (6, 4)),
    Case(paraminit.orthogonal_init, (6, 4, 2), {"gain": 2.0}, bad=("gain", float("nan"))),
    Case(paraminit.delta_orthogonal_init, (6, 4, 3), {"gain": 0.5}, bad=("gain", -0.5)),
]
RANDOM = [c for c in CASES if c.random]
ids = [c.id for c in CASES]
random_ids = [c.id for c in RANDOM]


def call(case: Case, data: Any, **kwargs: Any) -> Any:
    return case.func(data, **case.args, **kwargs)


def seeded(case: Case) -> dict[str, Any]:
    return {"seed": 7} if case.random else {}


@pytest.mark.parametrize("case", CASES, ids=ids)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_keeps_the_dtype_and_shape_and_leaves_data_alone(case: Case, dtype: Any) -> None:
    data = np.full(case.shape, 3.0, dtype=dtype)
    result = call(case, data, **seeded(case))
    assert result.dtype == dtype and result.shape == case.shape
    assert result is not data and (data == 3.0).all()
    assert np.isfinite(result).all() and not (result == 3.0).all()


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_inplace_writes_into_data_and_returns_it(case: Case) -> None:
    data = np.full(case.shape, 3.0, dtype=np.float32)
    result = call(case, data, inplace=True, **seeded(case))
    assert result is data
    np.testing.assert_array_equal(data, call(case, np.empty(case.shape, "f"), **seeded(case)))


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_inplace_on_a_fortran_array_gives_the_c_order_values(case: Case) -> None:
    fortran = np.asfortranarray(np.zeros(case.shape, dtype=np.float64))
    call(case, fortran, inplace=True, **seeded(case))
    np.testing.assert_array_equal(fortran, call(case, np.zeros(case.shape), **seeded(case)))


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_inplace_on_a_strided_view_writes_only_the_view(case: Case) -> None:
    shape = (case.shape[0], case.shape[1] * 2, *case.shape[2:])
    parent = np.full(shape, 3.0, dtype=np.float32)
    view = parent[:, ::2]
    call(case, view, inplace=True, **seeded(case))
    np.testing.assert_array_equal(view, call(case, np.empty(case.shape, "f"), **seeded(case)))
    assert (parent[:, 1::2] == 3.0).all()


@pytest.mark.parametrize("case", RANDOM, ids=random_ids)
def test_a_seed_fixes_the_values_and_another_seed_changes_them(case: Case) -> None:
    data = np.empty(case.shape, "f")
    first, again = call(case, data, seed=11), call(case, data, seed=11)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, call(case, data, seed=12))


@pytest.mark.parametrize("case", RANDOM, ids=random_ids)
def test_set_seed_makes_unseeded_calls_reproducible(case: Case) -> None:
    data = np.empty(case.shape, "f")
    paraminit.set_seed(5)
    first = [call(case, data) for _ in range(2)]
    paraminit.set_seed(5)
    second = [call(case, data) for _ in range(2)]
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], first[1])


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_size_zero_arrays_come_back_empty(case: Case) -> None:
    shape = (*case.shape[:-1], 0)
    result = call(case, np.empty(shape, "f"), **seeded(case))
    assert result.shape == shape and result.dtype == np.float32


@pytest.mark.parametrize("case", CASES, ids=ids)
@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        ([[0.0, 1.0], [2.0, 3.0]], TypeError, "numpy.ndarray"),
        (np.zeros((4, 3, 3), dtype=np.int32), TypeError, "int32"),
        (np.zeros((4, 3, 3), dtype=np.complex64), TypeError, "complex64"),
    ],
    ids=["list", "int32", "complex64"],
)
def test_rejects_what_is_not_a_float_array(
    case: Case, data: Any, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=f"{case.id}.*{words}"):
        call(case, data)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_rejects_writing_into_a_read_only_array(case: Case) -> None:
    data = np.zeros(case.shape, "f")
    data.flags.writeable = False
    with pytest.raises(ValueError, match=f"{case.id}.*read-only"):
        call(case, data, inplace=True, **seeded(case))


@pytest.mark.parametrize("case", [c for c in CASES if c.bad], ids=[c.id for c in CASES if c.bad])
def test_a_bad_argument_names_function_argument_and_value(case: Case) -> None:
    assert case.bad is not None
    name, value = case.bad
    kwargs = {**case.args, name: value}
    with pytest.raises((TypeError, ValueError), match=f"{case.id}: '{name}'") as info:
        case.func(np.empty(case.shape, "f"), **kwargs)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("case", RANDOM, ids=random_ids)
@pytest.mark.parametrize("seed", [-1, 2**128, 1.5, True])
def test_a_bad_seed_is_rejected(case: Case, seed: Any) -> None:
    with pytest.raises((TypeError, ValueError), match=f"{case.id}: 'seed'"):
        call(case, np.empty(case.shape, "f"), seed=seed)


def _config_text(case: Case, name: str) -> str:
    args = {key: repr(value).replace("'", '"') for key, value in case.args.items()}
    return init_block(name, "init", **args, **({"seed": 3} if case.random else {}))


def _names(case: Case) -> list[str]:
    bases = [case.id, *case.names]
    return [n for base in bases for n in (base, f"{base}.v1")]


@pytest.mark.parametrize(
    ("case", "name"),
    [(c, n) for c in CASES for n in _names(c)],
    ids=[n for c in CASES for n in _names(c)],
)
def test_every_name_resolves_from_a_config_to_the_function(case: Case, name: str) -> None:
    resolved = registry.resolve(Config().from_str(_config_text(case, name)))["init"]
    assert resolved.func is case.func
    given = {**case.args, **({"seed": 3} if case.random else {})}
    assert {k: resolved.keywords[k] for k in given} == given
    np.testing.assert_array_equal(
        resolved(np.empty(case.shape, "f")),
        call(case, np.empty(case.shape, "f"), **({"seed": 3} if case.random else {})),
    )


@pytest.mark.parametrize("case", [c for c in CASES if c.bad], ids=[c.id for c in CASES if c.bad])
def test_a_bad_config_argument_is_a_config_validation_error(case: Case) -> None:
    assert case.bad is not None
    name, value = case.bad
    config = {"model": {"init": {"@initializers": f"{case.id}.v1", **case.args, name: value}}}
    with pytest.raises(ConfigValidationError) as info:
        registry.resolve(config)
    assert f"model -> init -> {name}" in str(info.value)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_is_exported_under_every_name(case: Case) -> None:
    for name in (case.id, *case.names):
        assert name in paraminit.__all__
        assert getattr(paraminit, name) is case.func


def test_the_package_exports_every_registered_initializer_and_nothing_private() -> None:
    entries = paraminit.registry.initializers.get_all().values()
    registered = {e.func.__name__ for e in entries if e.func.__module__.startswith("paraminit.")}
    assert registered <= set(paraminit.__all__)
    assert set(paraminit.initializers.__all__) <= set(paraminit.__all__)
    private = [n for n in paraminit.__all__ if n.startswith("_") and n != "__version__"]
    assert private == []
    assert not hasattr(paraminit, "_begin") and not hasattr(paraminit, "_random_fill")
