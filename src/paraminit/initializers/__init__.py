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

from .constant import constant_init, dirac_init, eye_init, identity_init, ones_init, zero_init
from .distributions import check_truncation_bounds as check_truncation_bounds
from .distributions import check_uniform_bounds as check_uniform_bounds
from .distributions import (
    random_normal_init,
    sparse_init,
    truncated_normal_init,
    uniform_init,
)
from .orthogonal import delta_orthogonal_init, orthogonal_init
from .orthogonal import haar_orthogonal as haar_orthogonal
from .scaling import TRUNCATED_STD_FACTOR as TRUNCATED_STD_FACTOR
from .scaling import distribution_for_variance as distribution_for_variance
from .scaling import (
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

# What `paraminit` exports too (`from .initializers import *`): the initializers only;
# the helpers imported `as` themselves stay importable from here.
__all__ = [
    "constant_init",
    "delta_orthogonal_init",
    "dirac_init",
    "eye_init",
    "glorot_normal_init",
    "glorot_uniform_init",
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
