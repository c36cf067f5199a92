"""paraminit: neural-network parameter initializers for config-driven model definitions."""

from confection import Config, ConfigValidationError

from . import layers  # noqa: F401  (registers Linear.v1, Embed.v1, ... in registry.layers)
from .build import Model, build
from .diagnostics import diagnose
from .engine import get_num_threads, set_num_threads, set_seed
from .fans import calculate_gain, compute_fans
from .initializers import normal_init, uniform_init, xavier_uniform_init, zero_init
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
    "diagnose",
    "get_num_threads",
    "normal_init",
    "register_initializer",
    "register_layer",
    "registry",
    "set_num_threads",
    "set_seed",
    "uniform_init",
    "xavier_uniform_init",
    "zero_init",
]
