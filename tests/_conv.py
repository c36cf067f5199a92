"""A plain numpy convolution (torch's cross-correlation) for testing conv kernels."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv(x: Any, kernel: Any, padding: tuple[int, ...], groups: int = 1) -> Any:
    """Convolve ``x`` of shape ``(in, *spatial)`` with ``kernel`` ``(out, in // groups, *k)``.

    ``padding[i]`` zeros go before spatial axis ``i`` and ``k - 1 - padding[i]`` after it,
    so the output has the spatial shape of ``x``.
    """
    spatial = kernel.shape[2:]
    pads = [(0, 0)] + [(p, k - 1 - p) for p, k in zip(padding, spatial, strict=True)]
    padded = np.pad(x, pads)
    axes = tuple(range(1, 1 + len(spatial)))
    windows = sliding_window_view(padded, spatial, axis=axes)  # (in, *spatial, *k)
    in_per_group = kernel.shape[1]
    out_per_group = kernel.shape[0] // groups
    outputs = []
    for g in range(groups):
        w = kernel[g * out_per_group : (g + 1) * out_per_group]
        win = windows[g * in_per_group : (g + 1) * in_per_group]
        k_axes = list(range(1, kernel.ndim))
        win_axes = [0, *range(1 + len(spatial), win.ndim)]
        outputs.append(np.tensordot(w, win, axes=(k_axes, win_axes)))
    return np.concatenate(outputs, axis=0)
