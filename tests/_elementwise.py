"""Shared by the engine and region tests: the elementwise initializers and how to call them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from paraminit.regions import is_elementwise, takes_seed
from paraminit.registry import registry

DTYPES = ["float16", "float32", "float64"]
# Every registered initializer marked elementwise on this branch, whatever module added it.
ELEMENTWISE = sorted(
    {
        entry.func
        for entry in registry.initializers.get_all().values()
        if is_elementwise(entry.func)
    },
    key=lambda f: f.__name__,
)
# One shape per path: the small Philox path, and several blocks of the bulk path
# (3-D, with a partial last block).
SHAPES = [(24, 40), (3, 301, 240)]

# Arguments for marked initializers that have required ones (by function name).
REQUIRED_ARGS: dict[str, dict[str, Any]] = {"constant_init": {"value": 0.25}}


def with_args(init: Callable[..., Any]) -> Callable[..., Any]:
    """``init`` with the arguments it cannot do without (see ``REQUIRED_ARGS``)."""
    args = REQUIRED_ARGS.get(getattr(init, "__name__", ""), {})
    return functools.partial(init, **args) if args else init


def call(init: Callable[..., Any], data: np.ndarray[Any, Any], seed: int | None, **kw: Any) -> Any:
    """``init(data, seed=seed, **kw)``, leaving out ``seed`` for initializers without one."""
    if takes_seed(init):
        return with_args(init)(data, seed=seed, **kw)
    return with_args(init)(data, **kw)


def random_regions(shape: tuple[int, ...], rng: np.random.Generator) -> Iterator[Any]:
    """Rows, columns, strided, reversed, irregular and integer regions of ``shape``."""
    yield slice(1, 3)  # rows
    yield (slice(None), slice(2, 5))  # columns
    yield tuple(slice(None, None, 3) for _ in shape)  # strided everywhere
    yield tuple(slice(None, None, -2) for _ in shape)  # reversed
    yield (1,)  # an integer drops the axis
    for _ in range(4):  # irregular
        region = []
        for size in shape:
            a, b = sorted(int(x) for x in rng.integers(0, size + 1, 2))
            step = int(rng.integers(1, 5))
            region.append(slice(a, b, step) if rng.random() < 0.8 else slice(b, a, -step))
        yield tuple(region)
