"""The registries: named, versioned functions for configs, and their plugins.

* :class:`FunctionRegistry` is a catalogue registry that stores each function as
  a :class:`~paraminit.registered.RegisteredFunction` (which reads the config
  arguments off its signature), resolves unversioned names (``uniform_init``) to
  the newest version, loads plugins from entry points lazily, and refuses a
  plugin that would replace a name it already holds or take a built-in's name.
  Where each registration comes from is :mod:`paraminit.plugins`' :class:`Origin`.
* ``registry``, the confection registry whose ``initializers`` and ``layers`` are
  :data:`INITIALIZERS` and :data:`LAYERS`, is :mod:`paraminit.resolver`'s; it and
  ``ConfigValidationError`` load with confection (and so pydantic) on first use,
  not with ``import paraminit``.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import catalogue

from .plugins import (
    BUILTIN,
    Origin,
    PluginError,
    entry_points_of,
    plugin_origin,
    registering_as,
    seal_builtins,
    target,
)

# _rebuild_partial: partials pickled before registered.py existed name it here.
from .registered import InitializerPartial, RegisteredFunction, _rebuild_partial  # noqa: F401

if TYPE_CHECKING:
    from confection import ConfigValidationError

    from .resolver import registry

__all__ = [
    "INITIALIZERS",
    "LAYERS",
    "ConfigValidationError",
    "FunctionRegistry",
    "InitializerPartial",
    "Origin",
    "PluginError",
    "RegisteredFunction",
    "register_initializer",
    "register_layer",
    "registry",
    "seal_builtins",
]

F = TypeVar("F", bound=Callable[..., Any])

_VERSIONED = re.compile(r"^(?P<base>.+)\.v(?P<version>\d+)$")


def __getattr__(name: str) -> Any:
    # The confection registry and confection's error load with confection.
    if name == "registry":
        from .resolver import registry

        return registry
    if name == "ConfigValidationError":
        from confection import ConfigValidationError

        return ConfigValidationError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def close_matches(name: str, known: Iterable[str]) -> list[str]:
    """Names of ``known`` like ``name``: versioned ones for a versioned ``name``, else bases."""
    names = sorted(set(known))
    if not _VERSIONED.match(name):
        names = sorted({m["base"] for n in names if (m := _VERSIONED.match(n))})
    return difflib.get_close_matches(name, names, n=5, cutoff=0.6)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'a', 'b'?"`` for the names of ``known`` like ``name``, or ``""``."""
    hint = close_matches(name, known)
    return f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""


class FunctionRegistry(catalogue.Registry):  # type: ignore[misc]
    """A catalogue registry of :class:`RegisteredFunction` with versions and safe plugins.

    A built-in's base name (``uniform_init``) belongs to paraminit: no other
    registration, by decorator or entry point, may take any version of it. An entry
    point that cannot be loaded or used is reported (``plugin_problems``, and the
    :class:`PluginError` of ``get``) and leaves every other name working.
    """

    def __init__(self, namespace: tuple[str, ...], *, data_first: bool) -> None:
        super().__init__(namespace, entry_points=True)
        self.data_first = data_first
        # The same namespace without entry points: catalogue's public get/get_all on it
        # read what is registered without importing a plugin (those of `self` load them).
        self._stored = catalogue.Registry(namespace, entry_points=False)
        self._builtin_bases: set[str] = set()

    # -- registering ---------------------------------------------------------

    def register(self, name: str, *, func: Any = None, check: Any = None) -> Any:
        def do_registration(function: Any) -> Any:
            self._store(name, function, check=check)
            return function

        return do_registration(func) if func is not None else do_registration

    def _store(
        self, name: str, function: Callable[..., Any], *, check: Callable[..., None] | None = None
    ) -> RegisteredFunction:
        match = _VERSIONED.match(name)
        if not match:
            raise ValueError(
                f"{self._label}: register names carry a version, like 'my_init.v1', got {name!r}"
            )
        if isinstance(function, RegisteredFunction):
            check = check or function.check
            function = function.func
        entry = RegisteredFunction(name, function, data_first=self.data_first, check=check)
        origin = entry.origin
        if origin != BUILTIN and match["base"] in self._builtin_bases:
            raise PluginError(
                f"{self._label}: {origin} may not register {name!r}: {match['base']!r} is a "
                "built-in name of paraminit (publish a name of its own)"
            )
        existing = self._registered(name)
        if existing is not None and existing.func is not entry.func:
            # Only the same origin may register a name again (a module run twice).
            same = existing.origin == origin and target(existing.func) == target(entry.func)
            if not same or origin == BUILTIN:
                raise PluginError(
                    f"{self._label}: {name!r} is already registered by {existing.origin} to "
                    f"{target(existing.func)}; {origin} may not replace it "
                    "(register a new version instead)"
                )
        if origin == BUILTIN:
            self._builtin_bases.add(match["base"])
        self._stored.register(name, func=entry)
        return entry

    # -- looking up ------------------------------------------------------------

    @property
    def _label(self) -> str:
        return f"registry.{self.namespace[-1]}"

    def _registered(self, name: str) -> RegisteredFunction | None:
        if not catalogue.check_exists(*self.namespace, name):
            return None
        return self._stored.get(name)  # type: ignore[no-any-return]

    def _refusal(self, entry_point: importlib.metadata.EntryPoint) -> str | None:
        """Why ``entry_point`` is ignored without being imported, or ``None``."""
        match = _VERSIONED.match(entry_point.name)
        if not match:
            return "its name carries no version (write 'my_init.v1')"
        if match["base"] in self._builtin_bases:
            return f"{match['base']!r} is a built-in name of paraminit, which always wins"
        return None

    def _entry_points(self) -> dict[str, importlib.metadata.EntryPoint]:
        """The usable entry points by name (see :meth:`plugin_problems` for the others)."""
        return {
            ep.name: ep
            for ep in entry_points_of(self.entry_point_namespace)
            if self._refusal(ep) is None
        }

    def plugin_problems(self) -> dict[str, str]:
        """Entry points ignored without being imported, by name, with the reason."""
        return {
            ep.name: f"{self._label}: {plugin_origin(ep)} is ignored: {why}"
            for ep in entry_points_of(self.entry_point_namespace)
            if (why := self._refusal(ep)) is not None
        }

    def names(self) -> list[str]:
        """Every versioned name, registered or offered by a plugin (nothing is imported)."""
        return sorted(set(self._stored.get_all()) | set(self._entry_points()))

    def names_of(self, func: Callable[..., Any]) -> list[str]:
        """The versioned names ``func`` is registered under (no plugin is imported)."""
        stored = self._stored.get_all()
        return sorted(name for name, entry in stored.items() if entry.func is func)

    def resolve_name(self, name: str) -> str | None:
        """The versioned name ``name`` stands for, or ``None`` if there is none."""
        if catalogue.check_exists(*self.namespace, name):
            # Registered under exactly this name: one dict lookup. A build asks this
            # for every block, and names() walks catalogue's whole registry.
            return name
        names = set(self.names())
        if name in names:
            return name
        if _VERSIONED.match(name):
            return None
        versions = [
            (int(m["version"]), n)
            for n in names
            if (m := _VERSIONED.match(n)) and m["base"] == name
        ]
        return max(versions)[1] if versions else None

    def __contains__(self, name: str) -> bool:
        return self.resolve_name(name) is not None

    def close_matches(self, name: str) -> list[str]:
        """Known names like ``name``: versioned ones for a versioned ``name``, else bases."""
        return close_matches(name, self.names())

    def get(self, name: str) -> RegisteredFunction:
        versioned = self.resolve_name(name)
        if versioned is None:
            refused = self.plugin_problems().get(name)
            raise catalogue.RegistryError(
                refused
                or f"{self._label}: no function named {name!r}{did_you_mean(name, self.names())}"
            )
        registered = self._registered(versioned)
        entry_point = self._entry_points().get(versioned)
        if entry_point is None or (registered is not None and registered.origin == BUILTIN):
            assert registered is not None
            return registered
        origin = plugin_origin(entry_point)
        if registered is not None and registered.origin.distribution == origin.distribution:
            return registered  # registered while this plugin's package was imported
        loaded = self._load(entry_point, origin)
        registered = self._registered(versioned)  # the import may have registered it
        if registered is None:
            try:
                with registering_as(origin):
                    return self._store(versioned, loaded)
            except (TypeError, ValueError, PluginError) as err:
                raise PluginError(f"{self._label}: {origin} cannot be used: {err}") from None
        if registered.func is loaded or registered is loaded:
            return registered  # the entry point names the registered function, or re-exports it
        if registered.origin.distribution == origin.distribution:
            return registered
        raise PluginError(
            f"{self._label}: {origin} would replace {versioned!r}, which {registered.origin} "
            f"registered to {target(registered.func)}; a plugin must use a name of its own"
        )

    def _load(self, entry_point: importlib.metadata.EntryPoint, origin: Origin) -> Any:
        try:
            with registering_as(origin):
                return entry_point.load()
        except (Exception, SystemExit) as err:
            # SystemExit too: a plugin calling sys.exit() at import must not end the program.
            raise PluginError(
                f"{self._label}: could not load {origin} (group "
                f"{self.entry_point_namespace}): {type(err).__name__}: {err}"
            ) from None

    def lookup(self, name: object) -> RegisteredFunction | str:
        """The function a config block names, or why there is none (for validation)."""
        if not isinstance(name, str) or name not in self:
            refused = self.plugin_problems().get(name) if isinstance(name, str) else None
            if refused is not None:
                return refused
            hint = did_you_mean(name, self.names()) if isinstance(name, str) else ""
            return f"unknown {self.namespace[-1]} function {name!r}{hint}"
        try:
            return self.get(name)
        except PluginError as err:
            return str(err)

    def get_all(self) -> dict[str, RegisteredFunction]:
        return {name: self.get(name) for name in self.names()}

    def get_entry_points(self) -> dict[str, RegisteredFunction]:
        return {name: self.get(name) for name in self._entry_points()}

    def get_entry_point(self, name: str, default: Any = None) -> Any:
        return self.get(name) if name in self._entry_points() else default


# paraminit's registries; the confection registry (paraminit.resolver.registry)
# holds them as its ``initializers`` and ``layers``.
INITIALIZERS = FunctionRegistry(("paraminit", "initializers"), data_first=True)
LAYERS = FunctionRegistry(("paraminit", "layers"), data_first=False)


def register_initializer(
    name: str, *, check: Callable[..., None] | None = None
) -> Callable[[F], F]:
    """Register a data-first initializer under ``name`` (``"my_init.v1"``).

    The decorated function is returned unchanged. Its signature is the single source
    of its config arguments: each parameter after ``data`` (except ``inplace``)
    becomes a validated config argument, with its type, its ``Annotated``
    constraints and its default. ``check``, if given, validates relations between
    arguments (it receives them by name and raises ``ValueError``).

    >>> @register_initializer("scaled_ones_init.v1")
    ... def scaled_ones_init(data, value: float = 1.0, *, inplace=False, seed=None):
    ...     out = data if inplace else data.copy()
    ...     out[...] = value
    ...     return out
    """

    def decorator(func: F) -> F:
        INITIALIZERS.register(name, func=func, check=check)
        return func

    return decorator


def register_layer(name: str) -> Callable[[F], F]:
    """Register a layer constructor under ``name`` (``"MyLayer.v1"``) in ``registry.layers``.

    The decorated function is returned unchanged. Its signature is the config
    schema of the layer's block: every parameter is a validated config argument,
    and ``*args`` takes confection's variable positional section (``[model.*.name]``).
    A constructor returns an unbuilt :class:`paraminit.layers.Layer`; parameters are
    allocated and initialized later, by :func:`paraminit.build`.
    """

    def decorator(func: F) -> F:
        LAYERS.register(name, func=func)
        return func

    return decorator
