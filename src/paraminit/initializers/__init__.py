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

from ._base import _begin, _random_fill
from .constant import constant_init, dirac_init, eye_init, identity_init, ones_init, zero_init
from .distributions import (
    check_truncation_bounds,
    check_uniform_bounds,
    random_normal_init,
    sparse_init,
    truncated_normal_init,
    uniform_init,
)
from .orthogonal import delta_orthogonal_init, haar_orthogonal, orthogonal_init
from .scaling import (
    TRUNCATED_STD_FACTOR,
    distribution_for_variance,
    glorot_normal_init,
    glorot_uniform_init,
    he_normal_init,
    he_uniform_init,
    kaiming_normal_init,
    kaiming_uniform_init,
    lecun_normal_init,
    lecun_uniform_init,
    normal_init,
    variance_scaling_init,
    xavier_normal_init,
    xavier_uniform_init,
)

__all__ = [
    "TRUNCATED_STD_FACTOR",
    "_begin",
    "_random_fill",
    "check_truncation_bounds",
    "check_uniform_bounds",
    "constant_init",
    "delta_orthogonal_init",
    "dirac_init",
    "distribution_for_variance",
    "eye_init",
    "glorot_normal_init",
    "glorot_uniform_init",
    "haar_orthogonal",
    "he_normal_init",
    "he_uniform_init",
    "identity_init",
    "kaiming_normal_init",
    "kaiming_uniform_init",
    "lecun_normal_init",
    "lecun_uniform_init",
    "normal_init",
    "ones_init",
    "orthogonal_init",
    "random_normal_init",
    "sparse_init",
    "truncated_normal_init",
    "uniform_init",
    "variance_scaling_init",
    "xavier_normal_init",
    "xavier_uniform_init",
    "zero_init",
]
