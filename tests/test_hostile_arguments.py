"""Hostile arguments: every accepted argument ends with finite values of the array's dtype
inside the promised support; every refused one is a ValueError or TypeError naming the
initializer, the argument and the value, the same from Python and from a config."""

from __future__ import annotations

import decimal
import fractions
import inspect
import re
import threading
import typing
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paraminit
from conftest import init_block
from paraminit import Config, ConfigValidationError, registry
from paraminit.arguments import rule_for
from paraminit.build import BuildError
from paraminit.engine.distributions import NORMAL_REACH

DTYPES = ["float16", "float32", "float64"]
# Every registered initializer once (aliases share a function).
FUNCTIONS = sorted(
    {registry.initializers.get(name).func for name in registry.initializers.get_all()},
    key=lambda f: f.__name__,
)
# Magnitudes at the edges of the dtypes: subnormals, the largest finite numbers and
# just beyond them, and far beyond.
EDGES = [
    0.0, 5e-324, 1e-310, 1e-300, 1e-160, 1e-45, 1e-40, 6e-8, 1e-5, 0.1, 1.0, 2.0, 100.0,
    4000.0, 6e4, 65504.0, 65520.0, 7e4, 1e5, 1e37, 3e38, 3.4028234663852886e38, 3.5e38, 1e39,
    1e200, 1e307, 1.7e308, 1.7976931348623157e308,
]  # fmt: skip
EDGE_FLOATS = st.one_of(
    st.sampled_from(EDGES).flatmap(lambda x: st.sampled_from([x, -x])),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**400), max_value=10**400).filter(lambda n: abs(n) > 2**60),
)
SHAPES = [(5,), (4, 6), (6, 4, 3)]
# Words an error must never show: the engine's class names.
INTERNAL = re.compile(r"\b(TruncatedNormal|Uniform|Normal|Refusal|ArgumentError)\b")
# How long a call may run before the test calls it a hang: a detector, not a speed limit.
HANG = 60.0


def call_guarded(func: Callable[[], Any]) -> Any:
    """``func()`` in a worker thread; its result, or what it raised. Fails if it never ends."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = func()
        except BaseException as err:  # handed to the test thread
            outcome["error"] = err

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG)
    assert not worker.is_alive(), "the call did not end"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def config_arguments(func: Callable[..., Any]) -> dict[str, Any]:
    """The rules of ``func``'s config arguments (all but data, inplace and seed)."""
    hints = typing.get_type_hints(func, include_extras=True)
    return {
        name: rule_for(hints[name])
        for name in list(inspect.signature(func).parameters)[1:]
        if name not in {"inplace", "seed"}
    }


@st.composite
def arguments(draw: st.DrawFn, func: Callable[..., Any]) -> dict[str, Any]:
    """Arguments for ``func``: edge floats for its float arguments, its choices, small ints."""
    args: dict[str, Any] = {}
    for name, rule in config_arguments(func).items():
        param = inspect.signature(func).parameters[name]
        if param.default is not inspect.Parameter.empty and draw(st.booleans()):
            continue  # keep the default
        if rule.choices is not None:
            args[name] = draw(st.sampled_from(rule.choices))
        elif float in rule.kinds:
            args[name] = draw(EDGE_FLOATS if not rule.optional else st.none() | EDGE_FLOATS)
        elif int in rule.kinds:
            args[name] = draw(
                st.integers(1, 4) if not rule.optional else st.none() | st.integers(1, 4)
            )
    return args


def check_support(func: Callable[..., Any], args: dict[str, Any], out: np.ndarray) -> None:
    """The values each initializer with a stated support promises to stay in."""
    t = out.dtype.type
    if func is paraminit.uniform_init:
        lo, hi = args.get("lo", -0.1), args.get("hi", 0.1)
        # "values >= lo and < hi compared in the array's dtype"
        assert (out >= t(lo)).all() and (out < t(hi)).all()
    if func is paraminit.truncated_normal_init:
        mean, std = args.get("mean", 0.0), args.get("std", 1.0)
        a = args.get("a") if args.get("a") is not None else mean - 2 * std
        b = args.get("b") if args.get("b") is not None else mean + 2 * std
        values = out.astype(np.float64)
        assert (values >= a).all() and (values <= b).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("func", FUNCTIONS, ids=lambda f: f.__name__)
@settings(
    derandomize=True,
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_any_argument_ends_in_finite_values_of_the_dtype_or_an_error_naming_it(
    func: Callable[..., Any], dtype: str, data: st.DataObject
) -> None:
    args = data.draw(arguments(func))
    shape = data.draw(st.sampled_from(SHAPES))
    seed = {"seed": 0} if "seed" in inspect.signature(func).parameters else {}
    try:
        out = call_guarded(lambda: func(np.zeros(shape, dtype), **args, **seed))
    except (TypeError, ValueError) as err:
        message = str(err)
        assert message.startswith(f"{func.__name__}: "), message
        assert "\n" not in message
        assert not INTERNAL.search(message), message
        return
    assert out.dtype == np.dtype(dtype) and out.shape == shape
    assert np.isfinite(out).all(), (args, out)
    check_support(func, args, out)


# The examples of the issue, each with the argument its error must name.
REFUSED: list[tuple[Callable[..., Any], str, dict[str, Any], str]] = [
    (paraminit.truncated_normal_init, "float32", {"std": 1e308}, "std"),
    (paraminit.truncated_normal_init, "float16", {"std": 1e39}, "std"),
    (paraminit.truncated_normal_init, "float32", {"mean": 1e39, "std": 1e38}, "mean"),
    (paraminit.random_normal_init, "float16", {"std": 1e5}, "std"),
    (paraminit.uniform_init, "float16", {"lo": 7e4, "hi": 8e4}, "lo"),
    (paraminit.uniform_init, "float64", {"lo": -1.7e308, "hi": 1.7e308}, "hi"),
    (paraminit.uniform_init, "float32", {"lo": 1.0, "hi": 1.0 + 1e-10}, "hi"),
    (paraminit.orthogonal_init, "float16", {"gain": 1e5}, "gain"),
    (paraminit.sparse_init, "float16", {"sparsity": 0.5, "std": 1e5}, "std"),
    (paraminit.xavier_uniform_init, "float16", {"gain": 1e5}, "gain"),
    (paraminit.xavier_normal_init, "float32", {"gain": 1e38}, "gain"),
    (paraminit.xavier_uniform_init, "float32", {"gain": 1e200}, "gain"),
    (paraminit.variance_scaling_init, "float32", {"scale": 5e-324}, "scale"),
    (paraminit.kaiming_uniform_init, "float32", {"a": 1e200}, "a"),
    (paraminit.uniform_init, "float32", {"hi": 10**400}, "hi"),
    # Found by the generated test: cut-offs 1e300 sigmas out, and +-2 sigma beyond float16.
    (paraminit.truncated_normal_init, "float64", {"std": 1e-300, "a": 1.0, "b": 2.0}, "std"),
    (paraminit.variance_scaling_init, "float16", {"scale": 4982356709.0}, "scale"),
]

# Edge arguments that are accepted: each must end with finite values in its support.
ACCEPTED: list[tuple[Callable[..., Any], str, dict[str, Any]]] = [
    (paraminit.truncated_normal_init, "float16", {"mean": 70000.0, "a": 0.0}),
    (paraminit.truncated_normal_init, "float64", {"a": -1.157920892373162e77}),
    (paraminit.truncated_normal_init, "float32", {"a": 40.0, "b": 41.0}),
    (paraminit.truncated_normal_init, "float16", {"std": 1e5}),
    (paraminit.uniform_init, "float32", {"lo": -3e38, "hi": 3e38}),
    (paraminit.uniform_init, "float16", {"lo": 0.1, "hi": 0.2}),
]


@pytest.mark.parametrize(
    ("func", "dtype", "args"), ACCEPTED, ids=lambda v: getattr(v, "__name__", None)
)
def test_edge_arguments_that_are_accepted_give_finite_values_in_their_support(
    func: Callable[..., Any], dtype: str, args: dict[str, Any]
) -> None:
    out = call_guarded(lambda: func(np.zeros(1000, dtype), **args, seed=0))
    assert out.dtype == np.dtype(dtype) and np.isfinite(out).all()
    check_support(func, args, out)


@pytest.mark.parametrize(
    ("func", "dtype", "args", "field"), REFUSED, ids=lambda v: getattr(v, "__name__", None)
)
def test_the_issues_examples_are_refused_naming_the_argument_and_its_value(
    func: Callable[..., Any], dtype: str, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError) as caught:
        call_guarded(lambda: func(np.zeros((4, 4), dtype), **args, seed=0))
    message = str(caught.value)
    assert message.startswith(f"{func.__name__}: '{field}' ")
    assert f"got {args[field]!r}" in message
    assert not INTERNAL.search(message)


def test_a_normal_refusal_says_the_dtype_it_overflows() -> None:
    with pytest.raises(
        ValueError, match=r"random_normal_init: 'std' overflows float16.*got 100000.0"
    ):
        paraminit.random_normal_init(np.zeros(3, "f2"), std=1e5, seed=0)


def test_a_normal_within_its_reach_of_the_largest_number_is_accepted() -> None:
    std = float(np.finfo(np.float16).max) / NORMAL_REACH * 0.99
    out = paraminit.random_normal_init(np.zeros(10_000, "f2"), std=std, seed=0)
    assert np.isfinite(out).all()


@pytest.mark.parametrize(
    "value",
    [
        fractions.Fraction(1, 3),
        decimal.Decimal("0.3"),
        np.float32(0.25),
        np.longdouble(0.25),
        np.int64(1),
    ],
    ids=lambda v: type(v).__name__,
)
def test_numbers_that_are_not_int_or_float_are_refused_by_their_type(value: object) -> None:
    kind = type(value)
    with pytest.raises(
        TypeError, match=rf"uniform_init: 'hi' .*{kind.__module__}\.{kind.__qualname__}"
    ):
        paraminit.uniform_init(np.zeros(3, "f4"), hi=value, seed=0)


def test_a_numpy_float64_is_a_float_and_gives_the_floats_values() -> None:
    plain = paraminit.uniform_init(np.zeros(50, "f4"), hi=0.25, seed=3)
    numpy = paraminit.uniform_init(np.zeros(50, "f4"), hi=np.float64(0.25), seed=3)
    assert plain.tobytes() == numpy.tobytes()


def resolve(text: str) -> Any:
    return registry.resolve(Config().from_str(text))


@pytest.mark.parametrize(
    ("name", "args", "field"),
    [
        ("truncated_normal_init", {"std": 1e308}, "std"),
        ("uniform_init", {"lo": -1.7e308, "hi": 1.7e308}, "hi"),
    ],
)
def test_a_dtype_free_refusal_is_a_validation_error_at_the_arguments_section_path(
    name: str, args: dict[str, float], field: str
) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        resolve(init_block(name, section="model.layer.init_W", **args))
    assert [e["loc"] for e in caught.value.errors] == [["model", "layer", "init_W", field]]
    with pytest.raises(ValueError) as python:
        getattr(paraminit, name)(np.zeros(3, "f8"), **args, seed=0)
    # The same rule and value, in the config's "[function]" form.
    rule = str(python.value).split(f"'{field}' ", 1)[1].rsplit(", got", 1)[0]
    assert rule in caught.value.errors[0]["msg"]


@pytest.mark.parametrize(
    ("name", "args", "field"),
    [
        ("random_normal_init", {"std": 1e38}, "std"),
        ("xavier_uniform_init", {"gain": 1e39}, "gain"),
        ("truncated_normal_init", {"std": 1e-50, "a": 1e-40, "b": 2e-40}, "std"),
    ],
)
def test_a_float32_refusal_at_build_time_names_the_parameter_path_and_the_python_message(
    name: str, args: dict[str, float], field: str
) -> None:
    text = (
        '[model]\n@layers = "Linear.v1"\nnI = 4\nnO = 3\n'
        + init_block(name, section="model.init_W", **args).split("\n", 1)[1]
    )
    with pytest.raises(BuildError) as caught:
        paraminit.build(text, seed=0)
    (error,) = caught.value.errors
    assert error["loc"] == ["model", "init_W"]
    with pytest.raises(ValueError) as python:
        getattr(paraminit, name)(np.zeros((3, 4), "f4"), **args, seed=0)
    assert error["msg"] == str(python.value)
    assert f"{name}: '{field}' " in error["msg"]
