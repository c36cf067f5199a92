"""Hostile building: an initializer that returns what it was not given, through every caller.

Issue 14, class 4 (its writing half, SIGTERM, kills and symlinks, is tested in
test_outputs.py): ``build()``, ``initialize_region``, the torch bridge and the thinc
bridge all call an initializer in place through ``regions.fill_in_place``, so a new
array it returns is used, and anything else fails naming it, never leaving memory
as it was.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import catalogue
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from thinc.api import NumpyOps

import paraminit
import paraminit.thinc
import paraminit.torch
from paraminit.build import BuildError

CONFIG = """
[model]
@layers = "Linear.v1"
nI = {cols}
nO = {rows}

[model.init_W]
@initializers = "{name}"
"""

# What the initializer hands back, given the float32 array it was called on:
# (name, make, value the caller then holds or None, words of the refusal).
RETURNS: list[tuple[str, Callable[[np.ndarray], Any], float | None, str]] = [
    ("the array, filled", lambda data: _filled(data, 5.0), 5.0, ""),
    ("a new array", lambda data: np.full(data.shape, 7.0, data.dtype), 7.0, ""),
    ("None", lambda data: None, None, "None"),
    ("a list", lambda data: np.zeros(data.shape).tolist(), None, "a list"),
    ("a wrong shape", lambda data: np.zeros((5,), data.dtype), None, "shape (5,)"),
    ("a wrong dtype", lambda data: np.zeros(data.shape, "f8"), None, "dtype float64"),
]


def _filled(data: np.ndarray, value: float) -> np.ndarray:
    data[...] = value
    return data


_names = (f"returning_{i}_test_init.v1" for i in itertools.count())


@contextlib.contextmanager
def registered(make: Callable[[np.ndarray], Any]) -> Iterator[str]:
    """An initializer (not elementwise) returning ``make(data)``, registered while inside."""
    name = next(_names)

    def returning_init(data: Any, *, inplace: bool = False, seed: Any = None) -> Any:
        return make(data)

    paraminit.register_initializer(name)(returning_init)
    try:
        yield name
    finally:
        del catalogue.REGISTRY[("paraminit", "initializers", name)]


def _through_build(name: str, shape: tuple[int, int]) -> np.ndarray:
    cfg = CONFIG.format(name=name, rows=shape[0], cols=shape[1])
    try:
        params: dict[str, np.ndarray] = paraminit.build(cfg, seed=0).params
    except BuildError as err:
        assert err.errors[0]["loc"] == ["model", "init_W"]
        raise ValueError(err.errors[0]["msg"]) from None
    return params["model.W"]


def _through_region(name: str, shape: tuple[int, int]) -> np.ndarray:
    init = paraminit.registry.initializers.get(name)()  # as a config resolves it
    return paraminit.initialize_region(init, shape, (slice(None),), seed=0)


def _through_torch(name: str, shape: tuple[int, int]) -> np.ndarray:
    tensor = torch.full(shape, -1.0)
    paraminit.torch.init_(tensor, paraminit.registry.initializers.get(name)(), seed=0)
    return tensor.numpy()


def _through_thinc(name: str, shape: tuple[int, int]) -> np.ndarray:
    values = paraminit.thinc.initializer(name, seed=0)(NumpyOps(), shape)
    return np.asarray(values)


CALLERS = [_through_build, _through_region, _through_torch, _through_thinc]


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    caller=st.sampled_from(CALLERS),
    returns=st.sampled_from(RETURNS),
    shape=st.tuples(st.integers(1, 9), st.integers(1, 9)),
)
def test_a_returned_array_is_used_and_anything_else_fails_naming_the_initializer(
    caller: Callable[[str, tuple[int, int]], np.ndarray],
    returns: tuple[str, Callable[[np.ndarray], Any], float | None, str],
    shape: tuple[int, int],
) -> None:
    _, make, value, words = returns
    with registered(make) as name:
        if value is None:  # thinc's bridge names it by its thinc name, "paraminit.<name>"
            pattern = rf"^(paraminit\.)?{re.escape(name)} returned .*{re.escape(words)}.*; it must"
            with pytest.raises(ValueError, match=pattern):
                caller(name, shape)
            return
        got = caller(name, shape)
    assert got.shape == shape and got.dtype == np.float32
    assert (got == value).all()
