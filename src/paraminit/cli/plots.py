"""The command line's plots: matplotlib figures written atomically (the ``cli`` extra).

matplotlib is imported only inside these functions, so ``paraminit build`` and
``paraminit list`` never load it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..build import Model
from ..diagnostics import Diagnosis, expected_density
from ..outputs.atomic import atomic_file
from .output import CLI_EXTRA, UsageError, writing

__all__ = ["check_image_format", "plot_diagnosis", "plot_params"]


def _image_format(path: Path) -> str:
    return path.suffix.lstrip(".").lower() or "png"


def check_image_format(path: Path) -> None:
    """Fail early (before any work) when matplotlib cannot write ``path``'s format.

    The formats are those of matplotlib's Agg canvas, the one the plots draw on.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        raise UsageError(f"plotting needs matplotlib: {CLI_EXTRA}") from None
    supported = FigureCanvasAgg.get_supported_filetypes()
    if _image_format(path) not in supported:
        raise UsageError(
            f"cannot write {path}: unsupported image format {path.suffix!r} "
            f"(supported: {', '.join(sorted(supported))})"
        )


def _pyplot_figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(f"plotting needs matplotlib: {CLI_EXTRA}") from None
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save_figure(figure: Any, path: Path) -> None:
    with writing(path), atomic_file(path) as temporary:
        figure.savefig(temporary.handle, format=_image_format(path), dpi=100)


def plot_diagnosis(diagnosis: Diagnosis, title: str, path: Path) -> None:
    figure = _pyplot_figure(7.0, 4.0)
    axes = figure.add_subplot()
    depth = [0] + [layer.depth for layer in diagnosis.layers]
    ratio = [1.0] + [max(layer.ratio, 1e-30) for layer in diagnosis.layers]
    axes.axhspan(diagnosis.low, diagnosis.high, color="tab:green", alpha=0.12, label="kept")
    axes.plot(depth, ratio, marker="o", color="tab:blue", label="std / input std")
    for layer in diagnosis.flagged:
        axes.plot(layer.depth, max(layer.ratio, 1e-30), marker="o", color="tab:red")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axes.set_yscale("log")
    low = min(min(ratio), diagnosis.low) / 1.5
    high = max(max(ratio), diagnosis.high) * 1.5
    axes.set_ylim(low, high)
    axes.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("layer depth")
    axes.set_ylabel("activation std / input std")
    axes.set_title(title)
    axes.legend(loc="best")
    _save_figure(figure, path)


def plot_params(model: Model, title: str, path: Path) -> None:
    """Histogram every parameter of ``model`` with its expected density, into ``path``."""
    paths = list(model.params)
    columns = min(4, len(paths))
    rows = math.ceil(len(paths) / columns)
    figure = _pyplot_figure(3.4 * columns, 2.6 * rows)
    for i, param in enumerate(paths):
        axes = figure.add_subplot(rows, columns, i + 1)
        _plot_param(axes, param, model)
    figure.suptitle(title)
    _save_figure(figure, path)


def _plot_param(axes: Any, path: str, model: Model) -> None:
    values = model.params[path].astype(np.float64).ravel()
    info = model.info[path]
    axes.set_title(f"{path}\n{info.init_name}", fontsize=8)
    axes.tick_params(labelsize=7)
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        axes.axvline(lo, color="tab:blue", linewidth=3)
        axes.set_xlim(lo - 1, hi + 1)
        axes.set_yticks([])
        return
    axes.hist(values, bins=min(60, max(10, values.size // 20)), density=True, color="tab:blue")
    density = expected_density(info.init, model.params[path].shape)
    if density is None:
        return
    pad = (hi - lo) * 0.05
    x = np.linspace(lo - pad, hi + pad, 400)
    y = density.pdf(x)
    if y is not None:
        axes.plot(x, y, color="tab:red", linewidth=1.5, label="expected")
