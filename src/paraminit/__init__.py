"""paraminit: neural-network parameter initializers for config-driven model definitions."""

from confection import Config, ConfigValidationError

from . import layers  # noqa: F401  (registers Linear.v1, Embed.v1, ... in registry.layers)
from .build import Model, build
from .diagnostics import diagnose
from .engine import get_num_threads, initialize_region, set_num_threads, set_seed
from .fans import calculate_gain, compute_fans, layout_axes
from .initializers import (
    constant_init,
    delta_orthogonal_init,
    dirac_init,
    eye_init,
    glorot_normal_init,
    glorot_uniform_init,
    he_normal_init,
    he_uniform_init,
    identity_init,
    kaiming_normal_init,
    kaiming_uniform_init,
    lecun_normal_init,
    lecun_uniform_init,
    normal_init,
    ones_init,
    orthogonal_init,
    random_normal_init,
    sparse_init,
    truncated_normal_init,
    uniform_init,
    variance_scaling_init,
    xavier_normal_init,
    xavier_uniform_init,
    zero_init,
)
from .registry import (
    InitializerPartial,
    PluginError,
    register_initializer,
    register_layer,
    registry,
)

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigValidationError",
    "InitializerPartial",
    "Model",
    "PluginError",
    "__version__",
    "build",
    "calculate_gain",
    "compute_fans",
    "constant_init",
    "delta_orthogonal_init",
    "diagnose",
    "dirac_init",
    "eye_init",
    "get_num_threads",
    "glorot_normal_init",
    "glorot_uniform_init",
    "he_normal_init",
    "he_uniform_init",
    "identity_init",
    "initialize_region",
    "kaiming_normal_init",
    "kaiming_uniform_init",
    "layout_axes",
    "lecun_normal_init",
    "lecun_uniform_init",
    "normal_init",
    "ones_init",
    "orthogonal_init",
    "random_normal_init",
    "register_initializer",
    "register_layer",
    "registry",
    "set_num_threads",
    "set_seed",
    "sparse_init",
    "truncated_normal_init",
    "uniform_init",
    "variance_scaling_init",
    "xavier_normal_init",
    "xavier_uniform_init",
    "zero_init",
]
