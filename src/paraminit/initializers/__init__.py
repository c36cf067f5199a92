"""The initializers: each is data contract, then scale rule, then the engine.

Every function here is data-first, ``fn(data, ..., *, inplace=False, seed=None)``
(deterministic ones take no ``seed``), returns the initialized array, and registers
itself as ``<name>.v1`` (also reachable as ``<name>``, the newest version). Where
two communities name one thing twice, both names are registered for one function
(``glorot_uniform_init`` is ``xavier_uniform_init``, ``eye_init`` is ``identity_init``).

Families, one module each: :mod:`.constant` (deterministic values),
:mod:`.distributions` (fixed distribution parameters), :mod:`.scaling` (variance
scaling from the fans: glorot/xavier, he/kaiming, lecun) and :mod:`.orthogonal`.
"""

from . import constant, distributions, orthogonal, scaling
from .constant import *  # noqa: F403
from .distributions import *  # noqa: F403
from .orthogonal import *  # noqa: F403
from .scaling import *  # noqa: F403

# What `paraminit` exports too (`from .initializers import *`): the initializers of
# every family's __all__; the family's helpers stay importable from here. A new
# initializer touches only its family module.
__all__ = sorted(
    name
    for family in (constant, distributions, orthogonal, scaling)
    for name in family.__all__
    if name.endswith("_init")
)
