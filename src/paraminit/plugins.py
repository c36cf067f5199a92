"""Where registrations come from: origins, plugin entry points and their errors.

* :class:`Origin` records where each registration was made: while paraminit's own
  package was imported (a built-in), while the loader imported entry point X of
  distribution D (a plugin), or from other Python code. Clash checks compare
  origins and objects, never a function's spoofable ``__module__``/``__qualname__``.
* :func:`entry_points_of` lists a group's entry points once per process, without
  importing any; :class:`PluginError` is what a plugin that cannot be used raises.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib.metadata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BUILTIN",
    "PYTHON",
    "Origin",
    "PluginError",
    "current_origin",
    "entry_points_of",
    "plugin_origin",
    "registering_as",
    "seal_builtins",
    "target",
]


class PluginError(RuntimeError):
    """A plugin's entry point could not be loaded, or it clashes with a registered name."""


@dataclass(frozen=True)
class Origin:
    """Where a registration was made: ``builtin``, ``plugin`` (with its entry point), ``python``."""

    kind: str
    distribution: str | None = None
    entry_point: str | None = None

    def __str__(self) -> str:
        if self.kind == "builtin":
            return "paraminit"
        if self.kind == "plugin":
            return f"plugin distribution {self.distribution!r} (entry point '{self.entry_point}')"
        return "Python code"


BUILTIN = Origin("builtin")
PYTHON = Origin("python")
# Set by the loader while it imports an entry point; unset, a registration is a
# built-in until paraminit's package has finished importing, then Python code.
_loading: contextvars.ContextVar[Origin | None] = contextvars.ContextVar(
    "paraminit_registration_origin", default=None
)
_builtins_done = False


def seal_builtins() -> None:
    """Mark the end of paraminit's own registrations (called once by ``paraminit/__init__``)."""
    global _builtins_done
    _builtins_done = True


def current_origin() -> Origin:
    """The origin a registration made now gets."""
    loading = _loading.get()
    if loading is not None:
        return loading
    return PYTHON if _builtins_done else BUILTIN


@contextlib.contextmanager
def registering_as(origin: Origin) -> Iterator[None]:
    token = _loading.set(origin)
    try:
        yield
    finally:
        _loading.reset(token)


def plugin_origin(entry_point: importlib.metadata.EntryPoint) -> Origin:
    """The origin of what loading ``entry_point`` registers: its distribution and itself."""
    dist = getattr(entry_point, "dist", None)
    name = getattr(dist, "name", None) or "an unknown distribution"
    return Origin("plugin", str(name), f"{entry_point.name} = {entry_point.value}")


@functools.cache
def entry_points_of(group: str) -> tuple[importlib.metadata.EntryPoint, ...]:
    # catalogue lists entry points without importing them only through a private
    # method (its public ones import every plugin), so read them from the standard
    # library instead: once per process, as catalogue does at import.
    return tuple(importlib.metadata.entry_points(group=group))


def target(func: Callable[..., Any]) -> str:
    # For messages only: a function's own __module__ and __qualname__ can say anything.
    return f"{getattr(func, '__module__', '?')}:{getattr(func, '__qualname__', repr(func))}"
