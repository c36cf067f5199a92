"""paraminit: neural-network parameter initializers for config-driven model definitions."""

from typing import TYPE_CHECKING, Any

from . import initializers, layers  # noqa: F401  (layers registers Linear.v1, ... in registry.layers)
from .build import Model, build
from .config import Config, ConfigValidationError
from .engine import get_num_threads, set_num_threads, set_seed
from .fans import calculate_gain, compute_fans, layout_axes
from .initializers import *  # noqa: F403  (the initializers, listed in initializers.__all__)
from .regions import initialize_region
from .registry import (
    InitializerPartial,
    PluginError,
    register_initializer,
    register_layer,
    registry,
    seal_builtins,
)
from .serialize import to_config

if TYPE_CHECKING:
    from .diagnostics import diagnose

# Everything registered from here on is a plugin's or the user's, never a built-in.
seal_builtins()

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
    "initialize_region",
    "layout_axes",
    "register_initializer",
    "register_layer",
    "registry",
    "set_num_threads",
    "set_seed",
    "to_config",
]
__all__ += initializers.__all__


def __getattr__(name: str) -> Any:
    # diagnostics (and its densities) load on first use, not with every import.
    if name == "diagnose":
        from .diagnostics import diagnose

        return diagnose
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
