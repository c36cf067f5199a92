"""The random engine: every random value paraminit produces comes from here.

Its modules, bottom-up (each imports only those above it in this list):

* :mod:`.seeds`: seed checks, the package seed stream, path-derived seeds;
* :mod:`.threads`: the thread count and pool;
* :mod:`.streams`: the keyed bit generator of each block, scratch buffers;
* :mod:`.floats`: the work dtype, rounding to a dtype, searching by ulps;
* :mod:`.distributions`, :mod:`.truncated`: uniform, normal (Box-Muller) and
  truncated normal, each with its own law (``moments``, ``pdf``);
* :mod:`.blocks`: :func:`fill` and :func:`fill_region` over blocks of the
  logical index.

The engine knows nothing about initializers; ``paraminit.regions`` (above it)
turns an initializer's one request into a region. ``docs/engine.md`` has the
measurements behind the choices. Nothing here touches numpy's global RNG.
"""

from __future__ import annotations

from typing import Any

from .blocks import fill, fill_region
from .distributions import Distribution, Normal, Uniform
from .seeds import MAX_SEED, check_seed, next_seed, resolve_seed, set_seed
from .streams import BLOCK_SIZE, SMALL_SIZE
from .threads import get_num_threads, set_num_threads
from .truncated import TruncatedNormal

__all__ = [
    "BLOCK_SIZE",
    "MAX_SEED",
    "SMALL_SIZE",
    "Distribution",
    "Normal",
    "TruncatedNormal",
    "Uniform",
    "check_seed",
    "fill",
    "fill_region",
    "get_num_threads",
    "next_seed",
    "resolve_seed",
    "set_num_threads",
    "set_seed",
]

# Names that moved up to paraminit.regions; still importable from here so that
# code written against the single engine module keeps working.
_MOVED = frozenset({"distribution_of", "elementwise", "initialize_region"})


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        from .. import regions

        return getattr(regions, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
