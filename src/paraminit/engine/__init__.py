"""The random engine: every random value paraminit produces comes from here.

Its modules, bottom-up (each imports only those above it in this list):

* :mod:`.seeds`: seed checks, the package seed stream, path-derived seeds;
* :mod:`.native`: whether the optional compiled kernel runs the hot loops;
* :mod:`.threads`: the thread count and pool;
* :mod:`.streams`: the keyed bit generator of each block, scratch buffers;
* :mod:`.floats`: the work dtype, rounding to a dtype, searching by ulps;
* :mod:`.portable`: uniforms from raw words, ``log`` from correctly rounded
  operations only, so values are the same on every CPU;
* :mod:`.ziggurat`: the standard normal by a vectorized ziggurat (tables in
  :mod:`._ziggurat`);
* :mod:`.distributions`, :mod:`.truncated`: uniform, normal (the ziggurat) and
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

#: Which values a (seed, distribution, shape, dtype) gives. Golden digests
#: (tests/golden/) pin every version's values; a change of values is a new
#: version, and the registered ``.vN`` names keep the values they had.
STREAM_VERSION = 1

__all__ = [
    "BLOCK_SIZE",
    "MAX_SEED",
    "SMALL_SIZE",
    "STREAM_VERSION",
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
