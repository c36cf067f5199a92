"""paraminit: neural-network parameter initializers for config-driven model definitions."""

from confection import Config, ConfigValidationError

from .engine import get_num_threads, initialize_region, set_num_threads, set_seed
from .fans import calculate_gain, compute_fans
from .initializers import normal_init, uniform_init, xavier_uniform_init, zero_init
from .registry import InitializerPartial, PluginError, register_initializer, registry

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigValidationError",
    "InitializerPartial",
    "PluginError",
    "__version__",
    "calculate_gain",
    "compute_fans",
    "get_num_threads",
    "initialize_region",
    "normal_init",
    "register_initializer",
    "registry",
    "set_num_threads",
    "set_seed",
    "uniform_init",
    "xavier_uniform_init",
    "zero_init",
]
