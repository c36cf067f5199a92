"""Reading parameter files back with each format's own library (no pickles)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def load(path: Path) -> dict[str, np.ndarray[Any, Any]]:
    """A file's parameters, read by the format's own library (no pickles)."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files if k != "__paraminit__"}
    if path.suffix == ".safetensors":
        import safetensors.numpy

        loaded: dict[str, np.ndarray[Any, Any]] = safetensors.numpy.load_file(path)
        return loaded
    import zarr

    group = zarr.open_group(str(path), mode="r")
    return {name: array[...] for name, array in group.arrays()}


def assert_same(found: dict[str, Any], expected: dict[str, Any]) -> None:
    """The same parameters, each with the same shape, dtype and bits."""
    assert sorted(found) == sorted(expected)
    for name, values in expected.items():
        assert found[name].dtype == values.dtype and found[name].shape == values.shape, name
        assert np.array_equal(found[name].view("u4"), values.view("u4")), name
