"""The registries: named, versioned functions for configs, their partials and plugins.

* :class:`FunctionRegistry` is a catalogue registry that stores each function as
  a :class:`RegisteredFunction`, resolves unversioned names (``uniform_init``) to
  the newest version, loads plugins from entry points lazily, and refuses a
  plugin that would replace a name it already holds or take a built-in's name.
* :class:`Origin` records where each registration was made: while paraminit's own
  package was imported (a built-in), while the loader imported entry point X of
  distribution D (a plugin), or from other Python code. Clash checks compare
  origins and objects, never a function's spoofable ``__module__``/``__qualname__``.
* :class:`RegisteredFunction` derives a pydantic validator for each config
  argument from the function's signature, so the signature is the one source of
  the argument list, the types, the constraints and the defaults.
* :class:`registry` is the confection registry. Its :meth:`registry.fill` (which
  :meth:`registry.resolve` calls first) runs :mod:`paraminit.validation` over the
  whole config before anything is resolved.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import functools
import importlib.metadata
import inspect
import re
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import catalogue
import confection
from confection import Config, ConfigValidationError
from pydantic import ConfigDict, TypeAdapter, ValidationError, create_model

from .arguments import CALL_TIME, Rule, rule_for
from .resolver import resolve_owned
from .validation import (
    FieldError,
    format_field_error,
    interpolated,
    iter_config_errors,
    raise_config_errors,
)

__all__ = [
    "ConfigValidationError",
    "FunctionRegistry",
    "InitializerPartial",
    "Origin",
    "PluginError",
    "RegisteredFunction",
    "register_initializer",
    "register_layer",
    "registry",
]

F = TypeVar("F", bound=Callable[..., Any])

_VERSIONED = re.compile(r"^(?P<base>.+)\.v(?P<version>\d+)$")
_STRICT = ConfigDict(strict=True, arbitrary_types_allowed=True)


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
def _registering_as(origin: Origin) -> Iterator[None]:
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


class InitializerPartial(functools.partial):  # type: ignore[type-arg]
    """A configured initializer: ``init(data)`` or ``init(data, inplace=True)``.

    A :class:`functools.partial` whose ``.func`` is the public function and whose
    ``.keywords`` hold the validated config arguments. ``.name`` is the registered name.
    """

    name: str

    def __new__(cls, name: str, func: Callable[..., Any], /, **keywords: Any) -> InitializerPartial:
        self = super().__new__(cls, func, **keywords)
        self.name = name
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.keywords.items())
        return f"<{self.name}: {self.func.__name__}({args})>"

    def __reduce__(self) -> Any:
        return (_rebuild_partial, (self.name, self.func, dict(self.keywords)))


def _rebuild_partial(name: str, func: Callable[..., Any], keywords: dict[str, Any]) -> Any:
    return InitializerPartial(name, func, **keywords)


class RegisteredFunction:
    """A function as a config block sees it: its arguments, their validation, its result.

    Calling it with config arguments validates them and returns the block's value:
    for a data-first initializer, an :class:`InitializerPartial`; for anything
    else, the function's result.
    """

    def __init__(
        self,
        name: str,
        func: Callable[..., Any],
        *,
        data_first: bool,
        check: Callable[..., None] | None = None,
    ) -> None:
        self.name = name
        self.func = func
        self.data_first = data_first
        self.check = check
        self.origin = current_origin()
        who = f"{(register_initializer if data_first else register_layer).__name__}({name!r})"
        if not callable(func):
            raise TypeError(f"{who}: expected a function, got {type(func).__name__} {func!r}")
        self.__name__ = getattr(func, "__name__", name)
        self.__doc__ = func.__doc__
        signature = inspect.signature(func)
        try:
            hints = typing.get_type_hints(func, include_extras=True)
        except Exception as err:  # a forward reference to a name that does not exist
            raise TypeError(
                f"{who}: cannot read the annotations of {self.__name__}: "
                f"{type(err).__name__}: {err}"
            ) from None
        params = list(signature.parameters.values())
        if data_first:
            if not params or params[0].kind not in (
                inspect.Parameter.POSITIONAL_ONLY,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
            ):
                raise TypeError(
                    f"{who}: {self.__name__} must take "
                    "the array as its first positional argument, like uniform_init(data, lo, "
                    "hi, *, inplace=False, seed=None)"
                )
            params = [p for p in params[1:] if p.name not in CALL_TIME]
            if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
                raise TypeError(
                    f"{who}: {self.__name__} may not take *args: config arguments have names"
                )
        self.parameters: dict[str, inspect.Parameter] = {
            p.name: p.replace(annotation=hints.get(p.name, Any))
            for p in params
            if p.kind is not inspect.Parameter.VAR_KEYWORD
        }
        self._rules: dict[str, Rule] = {
            name: rule_for(p.annotation) for name, p in self.parameters.items()
        }
        # confection reads the config arguments from this signature; it gets the
        # plain types, the constraints are checked here before it runs.
        self.__signature__ = inspect.Signature(
            [p.replace(annotation=self._rules[p.name].plain) for p in self.parameters.values()]
        )
        # What confection's schema of that signature fills in (paraminit.resolver).
        self.config_defaults = tuple(
            (p.name, p.default)
            for p in self.parameters.values()
            if p.default is not inspect.Parameter.empty
            and p.kind is not inspect.Parameter.VAR_POSITIONAL
        )
        self.var_positional = next(
            (
                p.name
                for p in self.parameters.values()
                if p.kind is inspect.Parameter.VAR_POSITIONAL
            ),
            None,
        )

    @functools.cached_property
    def _adapters(self) -> dict[str, TypeAdapter[Any]]:
        return {
            name: TypeAdapter(p.annotation, config=_STRICT)
            for name, p in self.parameters.items()
            if p.kind is not inspect.Parameter.VAR_POSITIONAL
        }

    @functools.cached_property
    def model(self) -> type[Any]:
        """A pydantic model of the config arguments, for schemas and listings."""
        fields: dict[str, Any] = {}
        for name, p in self.parameters.items():
            if p.kind is inspect.Parameter.VAR_POSITIONAL:
                continue
            default = ... if p.default is inspect.Parameter.empty else p.default
            fields[name] = (p.annotation, default)
        model_name = re.sub(r"\W", "_", self.name)
        return create_model(  # type: ignore[no-any-return]
            model_name, __config__=ConfigDict(extra="forbid", **_STRICT), **fields
        )

    def validate(
        self, args: Mapping[str, Any], deferred: frozenset[str] = frozenset()
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """Validate config arguments; return the validated values and every error.

        ``deferred`` names arguments whose value is another block, validated on its own.
        """
        errors: list[FieldError] = []
        values: dict[str, Any] = {}
        for key, value in args.items():
            if key == "*" or key in deferred:
                continue
            adapter = self._adapters.get(key)
            if adapter is None:
                known = ", ".join(self._adapters) or "none"
                errors.append(
                    FieldError(key, f"unexpected argument for {self.name} (takes: {known})", value)
                )
                continue
            try:
                values[key] = adapter.validate_python(value)
            except ValidationError as err:
                # A broken constraint reads as in a Python call's error ("must be > 0");
                # a wrong type keeps pydantic's words.
                rule = self._rules[key].broken_constraint(value) or "; ".join(
                    e["msg"] for e in err.errors()
                )
                errors.append(FieldError(key, rule, value))
        for key, p in self.parameters.items():
            if (
                p.default is inspect.Parameter.empty
                and p.kind is not inspect.Parameter.VAR_POSITIONAL
                and key not in args
                and key not in deferred
            ):
                errors.append(FieldError(key, f"missing required argument of {self.name}"))
        if not errors and self.check is not None:
            errors.extend(self._check_relations(values, deferred))
        return values, errors

    def _check_relations(
        self, values: dict[str, Any], deferred: frozenset[str]
    ) -> list[FieldError]:
        assert self.check is not None
        wanted = inspect.signature(self.check).parameters
        if deferred & set(wanted):
            return []
        full = {
            name: values.get(name, self.parameters[name].default)
            for name in wanted
            if name in self.parameters
        }
        try:
            self.check(**full)
        except ValueError as err:
            field = getattr(err, "field", next(iter(wanted), "?"))
            return [FieldError(field, str(getattr(err, "rule", err)), full.get(field))]
        return []

    def validated(self, args: Mapping[str, Any], *, title: str | None = None) -> dict[str, Any]:
        """The validated ``args``, or one :class:`ConfigValidationError` listing every problem."""
        values, errors = self.validate(args)
        if errors:
            raise ConfigValidationError(
                errors=[
                    {"loc": [e.field], "msg": format_field_error(self.name, e)} for e in errors
                ],
                title=title or f"Invalid arguments for {self.name}",
            )
        return values

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.update(self.validated(kwargs))
        if self.data_first:
            return InitializerPartial(self.name, self.func, **kwargs)
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<registered {self.name}: {self.func.__module__}.{self.func.__qualname__}>"


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


@functools.cache
def _entry_points_of(group: str) -> tuple[importlib.metadata.EntryPoint, ...]:
    # catalogue lists entry points without importing them only through a private
    # method (its public ones import every plugin), so read them from the standard
    # library instead: once per process, as catalogue does at import.
    return tuple(importlib.metadata.entry_points(group=group))


def _target(func: Callable[..., Any]) -> str:
    # For messages only: a function's own __module__ and __qualname__ can say anything.
    return f"{getattr(func, '__module__', '?')}:{getattr(func, '__qualname__', repr(func))}"


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
            same = existing.origin == origin and _target(existing.func) == _target(entry.func)
            if not same or origin == BUILTIN:
                raise PluginError(
                    f"{self._label}: {name!r} is already registered by {existing.origin} to "
                    f"{_target(existing.func)}; {origin} may not replace it "
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
            for ep in _entry_points_of(self.entry_point_namespace)
            if self._refusal(ep) is None
        }

    def plugin_problems(self) -> dict[str, str]:
        """Entry points ignored without being imported, by name, with the reason."""
        return {
            ep.name: f"{self._label}: {plugin_origin(ep)} is ignored: {why}"
            for ep in _entry_points_of(self.entry_point_namespace)
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
                with _registering_as(origin):
                    return self._store(versioned, loaded)
            except (TypeError, ValueError, PluginError) as err:
                raise PluginError(f"{self._label}: {origin} cannot be used: {err}") from None
        if registered.func is loaded or registered is loaded:
            return registered  # the entry point names the registered function, or re-exports it
        if registered.origin.distribution == origin.distribution:
            return registered
        raise PluginError(
            f"{self._label}: {origin} would replace {versioned!r}, which {registered.origin} "
            f"registered to {_target(registered.func)}; a plugin must use a name of its own"
        )

    def _load(self, entry_point: importlib.metadata.EntryPoint, origin: Origin) -> Any:
        try:
            with _registering_as(origin):
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


class registry(confection.registry):
    """paraminit's confection registry: ``registry.initializers`` and its validation."""

    initializers = FunctionRegistry(("paraminit", "initializers"), data_first=True)
    layers = FunctionRegistry(("paraminit", "layers"), data_first=False)

    @classmethod
    def owned(cls) -> dict[str, FunctionRegistry]:
        """The registries whose blocks paraminit validates, by config name."""
        return {
            name: value
            for name in dir(cls)
            if isinstance(value := getattr(cls, name, None), FunctionRegistry)
        }

    @classmethod
    def validate(
        cls, config: Config | Mapping[str, Any], *, overrides: Mapping[str, Any] | None = None
    ) -> None:
        """Raise one :class:`ConfigValidationError` listing every bad field of ``config``."""
        raise_config_errors(config, list(cls.iter_errors(config, overrides=overrides)))

    @classmethod
    def iter_errors(
        cls, config: Config | Mapping[str, Any], *, overrides: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every problem of every block of the registries paraminit owns, with its path."""
        return iter_config_errors(cls.owned(), config, overrides or {})

    @classmethod
    def resolve(
        cls,
        config: Config | dict[str, dict[str, Any]],
        *,
        schema: Any = None,
        overrides: dict[str, Any] | None = None,
        validate: bool = True,
    ) -> dict[str, Any]:
        """Validate the whole config, then resolve it (see :mod:`paraminit.resolver`).

        A config whose every block is paraminit's is resolved in one walk, with
        confection's result; anything else is resolved by confection.
        """
        if schema is None and validate and not overrides and not cls.is_promise(config):
            cls.validate(config)
            resolved = resolve_owned(cls.owned(), interpolated(config))
            if resolved is not None:
                return resolved
        return super().resolve(
            config, schema=schema, overrides=dict(overrides or {}), validate=validate
        )

    @classmethod
    def fill(
        cls,
        config: Config | dict[str, dict[str, Any]],
        *,
        schema: Any = None,
        overrides: dict[str, Any] | None = None,
        interpolate: bool = False,
        validate: bool = True,
    ) -> Config:
        """Validate the whole config, then fill in defaults with confection.

        ``resolve`` fills first, so it validates here too, before anything is resolved.
        """
        overrides = dict(overrides or {})
        if validate:
            cls.validate(config, overrides=overrides)
        return super().fill(
            config,
            schema=schema,
            overrides=overrides,
            interpolate=interpolate,
            validate=validate,
        )


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
        registry.initializers.register(name, func=func, check=check)
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
        registry.layers.register(name, func=func)
        return func

    return decorator
