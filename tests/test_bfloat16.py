"""bfloat16 arrays: every initializer's float32 values, rounded to nearest even.

The rounding is computed here on the float32 bits with integer operations, not by
ml_dtypes' cast, so the test does not check paraminit against its own conversion.
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np
import pytest

import paraminit
import paraminit.foreign
import paraminit.regions
from _arguments import registered, required
from paraminit import registry

BF16 = np.dtype(ml_dtypes.bfloat16)
# A 3-D kernel and a matrix: the first one each initializer accepts is used.
SHAPES = [(40, 24, 3), (40, 60)]
NAMES = sorted(registered())


def round_to_bfloat16(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """float32 values rounded to nearest even bfloat16, on the bits (finite values)."""
    bits = np.ascontiguousarray(values, np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16).view(BF16)


def same_bits(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> bool:
    return a.dtype == b.dtype == BF16 and np.array_equal(a.view(np.uint16), b.view(np.uint16))


def configured(name: str) -> tuple[Any, tuple[int, ...]]:
    """``name`` configured with its required arguments, and a shape it accepts."""
    init = registry.initializers.get(name)(**required(registered()[name]))
    for shape in SHAPES:
        try:
            call(init, np.empty(shape, np.float32), seed=0)
        except ValueError:
            continue
        return init, shape
    raise AssertionError(f"{name} accepts none of {SHAPES}")


def _args(init: Any) -> dict[str, Any]:
    return registered()[init.name].parameters


def call(init: Any, data: np.ndarray[Any, Any], seed: int, **kwargs: Any) -> Any:
    return init(data, seed=seed, **kwargs) if "seed" in _args(init) else init(data, **kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_every_initializer_gives_float32_rounded_to_nearest_even(name: str) -> None:
    init, shape = configured(name)
    expected = round_to_bfloat16(call(init, np.empty(shape, np.float32), seed=11))
    assert same_bits(call(init, np.empty(shape, BF16), seed=11), expected)


@pytest.mark.parametrize("name", NAMES)
def test_in_place_into_a_strided_view(name: str) -> None:
    init, shape = configured(name)
    expected = round_to_bfloat16(call(init, np.empty(shape, np.float32), seed=5))
    backing = np.zeros((shape[0] * 2, *shape[1:]), BF16)
    view = backing[::2]
    returned = call(init, view, seed=5, inplace=True)
    assert returned is view
    assert same_bits(np.ascontiguousarray(view), expected)
    assert not backing[1::2].view(np.uint16).any()  # the rows between are untouched


@pytest.mark.parametrize(
    "name", ["uniform_init.v1", "he_normal_init.v1", "truncated_normal_init.v1"]
)
def test_many_blocks_in_many_chunks(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Chunks that cut rows and blocks at odd places, over several engine blocks and a tail.
    monkeypatch.setattr(paraminit.foreign, "BFLOAT16_CHUNK", 70_001)
    init = registry.initializers.get(name)()
    shape = (3, 101_113)
    expected = round_to_bfloat16(init(np.empty(shape, np.float32), seed=2))
    assert same_bits(init(np.empty(shape, BF16), seed=2), expected)


def test_seed_none_advances_the_seed_stream_as_float32_does() -> None:
    paraminit.set_seed(21)
    first = paraminit.uniform_init(np.empty(50, BF16))
    second = paraminit.uniform_init(np.empty(50, np.float32))
    paraminit.set_seed(21)
    assert same_bits(first, round_to_bfloat16(paraminit.uniform_init(np.empty(50, np.float32))))
    assert np.array_equal(second, paraminit.uniform_init(np.empty(50, np.float32)))


def test_subnormal_and_halfway_values_round_to_nearest_even() -> None:
    # A tiny std puts values among float32 subnormals, where bfloat16 rounds too.
    init = paraminit.random_normal_init
    expected = round_to_bfloat16(init(np.empty(5000, np.float32), std=1e-39, seed=4))
    assert same_bits(init(np.empty(5000, BF16), std=1e-39, seed=4), expected)


@pytest.mark.parametrize("name", ["uniform_init.v1", "orthogonal_init.v1", "zero_init.v1"])
@pytest.mark.parametrize("dtype", [BF16, "bfloat16"])
def test_regions(name: str, dtype: Any) -> None:
    init = registry.initializers.get(name)()
    shape, region = (30, 50), (slice(3, 29, 2), slice(None, None, -3))
    region_of = paraminit.initialize_region(init, shape, region, seed=8, dtype=dtype)
    full = call(init, np.empty(shape, BF16), seed=8)
    assert same_bits(region_of, np.ascontiguousarray(full[region]))


def test_distribution_of_is_the_float32_request() -> None:
    got = paraminit.regions.distribution_of(paraminit.he_normal_init, (8, 4), dtype=BF16)
    assert got == paraminit.regions.distribution_of(paraminit.he_normal_init, (8, 4))


def test_dask_chunks() -> None:
    import paraminit.dask as pdask

    array = pdask.initialize(paraminit.he_uniform_init, (90, 70), chunks=40, seed=3, dtype=BF16)
    expected = round_to_bfloat16(paraminit.he_uniform_init(np.empty((90, 70), "f"), seed=3))
    assert same_bits(array.compute(), expected)


OTHER_ML_DTYPES = ["float8_e4m3fn", "float8_e5m2", "int4", "float4_e2m1fn"]


@pytest.mark.parametrize("dtype", [d for d in OTHER_ML_DTYPES if hasattr(ml_dtypes, d)])
def test_other_ml_dtypes_are_a_type_error_naming_the_dtype(dtype: str) -> None:
    with pytest.raises(TypeError, match=rf"uniform_init: 'data' has dtype {dtype}; .*bfloat16"):
        paraminit.uniform_init(np.zeros(4, getattr(ml_dtypes, dtype)))
    with pytest.raises(TypeError, match=rf"initialize_region: 'dtype' must be .*{dtype}"):
        paraminit.initialize_region(
            paraminit.uniform_init, (4,), slice(None), seed=0, dtype=getattr(ml_dtypes, dtype)
        )


def test_read_only_bfloat16_in_place_is_refused() -> None:
    data = np.zeros(4, BF16)
    data.flags.writeable = False
    with pytest.raises(ValueError, match="uniform_init: inplace=True needs a writeable"):
        paraminit.uniform_init(data, inplace=True)


def test_bad_arguments_are_refused_as_for_float32() -> None:
    with pytest.raises(ValueError, match="uniform_init: 'hi' must be greater than lo"):
        paraminit.uniform_init(np.empty(4, BF16), lo=1.0, hi=0.0)


def test_import_paraminit_does_not_import_ml_dtypes(run_python: Any) -> None:
    result = run_python(
        """
        import sys, numpy as np, paraminit
        paraminit.uniform_init(np.empty(4, "f"), seed=0)
        print("ml_dtypes" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_bfloat16_wrapper_keeps_the_signature_and_any_parameter_names() -> None:
    import inspect

    from paraminit.foreign import accepts_bfloat16

    assert inspect.signature(paraminit.uniform_init) == inspect.signature(
        paraminit.uniform_init.__wrapped__
    )
    # Names the spelled-out wrapper cannot use, and *args, get the generic wrapper.
    odd = accepts_bfloat16(lambda data, type=1.0, *, _x=2.0, inplace=False: data * type + _x)
    star = accepts_bfloat16(lambda data, *args, inplace=False: data + sum(args))
    assert odd(np.zeros(2, "f"), 3.0, _x=1.0).tolist() == [1.0, 1.0]
    assert star(np.zeros(2, "f"), 1.0, 2.0).tolist() == [3.0, 3.0]
    with pytest.raises(TypeError, match="uniform_init"):
        paraminit.uniform_init(np.zeros(2, "f"), 0.0, 1.0, 2.0)  # too many positionals


# Arguments whose float32 values are finite but reach beyond bfloat16's largest number
# (3.3895e38; float32's is 3.4028e38): refused by name, the array left as it was.
BEYOND_BFLOAT16 = [
    ("uniform_init", {"lo": -3.4e38, "hi": 3.4e38, "seed": 0}),
    ("constant_init", {"value": 3.4e38}),
    ("random_normal_init", {"std": 2.425e37, "seed": 0}),  # mean +- 14 std reaches 3.395e38
    ("truncated_normal_init", {"std": 1.0, "a": -3.4e38, "b": 3.4e38, "seed": 0}),
]


@pytest.mark.parametrize(("name", "arguments"), BEYOND_BFLOAT16)
def test_values_that_overflow_bfloat16_are_refused_by_name(
    name: str, arguments: dict[str, Any]
) -> None:
    func = getattr(paraminit, name)
    func(np.empty((8, 8), "float32"), **arguments)  # float32 takes them
    data = np.full((8, 8), 0.5, BF16)
    with pytest.raises(ValueError, match=f"^{name}: .*overflows bfloat16"):
        func(data, inplace=True, **arguments)
    assert (data.astype("float32") == 0.5).all()
