"""An example paraminit plugin: the Rademacher (random sign) initializer.

The package declares the entry point ``rademacher_init.v1`` in the group
``paraminit_initializers`` (see its ``pyproject.toml``); paraminit imports this
module the first time a config or the command line asks for that name.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from paraminit import compute_fans, uniform_init
from paraminit.arguments import PositiveFinite, Seed, check_arguments
from paraminit.diagnostics import Density, density_rule

__all__ = ["rademacher_init"]


def rademacher_init(
    data: np.ndarray[Any, Any],
    gain: PositiveFinite = 1.0,
    *,
    inplace: bool = False,
    seed: Seed = None,
) -> np.ndarray[Any, Any]:
    """Random signs: each value is ``+s`` or ``-s`` with equal odds, ``s = gain / sqrt(fan_in)``.

    The variance is LeCun's (``gain**2 / fan_in``) with the smallest possible spread
    of magnitudes.
    """
    check_arguments(rademacher_init, {"gain": gain, "seed": seed})
    out = uniform_init(data, -1.0, 1.0, inplace=inplace, seed=seed)
    fan_in, _ = compute_fans(out.shape, func_name="rademacher_init")
    np.copysign(gain / math.sqrt(fan_in), out, out=out)
    return out


@density_rule("rademacher_init")
def _rademacher_density(arguments: Any, shape: tuple[int, ...]) -> Density:
    # Two points, no curve: report the moments so `paraminit build` shows the expected std.
    fan_in, _ = compute_fans(shape)
    return Density("moments", 0.0, arguments.get("gain", 1.0) / math.sqrt(fan_in))
