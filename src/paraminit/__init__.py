"""paraminit: neural-network parameter initializers for config-driven model definitions."""

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from . import initializers, layers  # noqa: F401  (layers registers Linear.v1, ... in registry.layers)
from .engine import get_num_threads, set_num_threads, set_seed
from .fans import calculate_gain, compute_fans, layout_axes
from .initializers import *  # noqa: F403  (the initializers, listed in initializers.__all__)
from .regions import initialize_region
from .registry import (
    InitializerPartial,
    PluginError,
    register_initializer,
    register_layer,
    seal_builtins,
)

if TYPE_CHECKING:
    from .build import Model, build
    from .config import Config, ConfigValidationError
    from .diagnostics import diagnose
    from .resolver import registry
    from .serialize import to_config

# Loaded on first use: the names of configs and builds bring confection and pydantic
# (about half the import time), diagnostics its densities.
_LAZY = {
    "Config": "config",
    "ConfigValidationError": "config",
    "Model": "build",
    "build": "build",
    "diagnose": "diagnostics",
    "registry": "resolver",
    "to_config": "serialize",
}
# The import of the submodule paraminit.registry bound its name here; the public
# name is the confection registry, loaded by __getattr__.
globals().pop("registry", None)


class _Package(types.ModuleType):
    """paraminit's module type, so that ``paraminit.build`` stays the function.

    The import system binds a submodule's name in its package when it first loads
    it, and the submodule ``paraminit.build`` loads on first use, maybe by another
    module's import, after ``import paraminit``.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

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
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # once loaded, an ordinary attribute
    return value
