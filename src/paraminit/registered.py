"""A function as config blocks see it: :class:`RegisteredFunction` and its partials.

:class:`RegisteredFunction` derives a pydantic validator for each config argument
from the function's signature, so the signature is the one source of the argument
list, the types, the constraints and the defaults; pydantic itself loads with the
first config validated. A data-first initializer's block resolves to an
:class:`InitializerPartial`.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .arguments import CALL_TIME, Rule, for_pydantic, rule_for
from .plugins import current_origin
from .validation import FieldError, format_field_error

if TYPE_CHECKING:
    from pydantic import TypeAdapter

__all__ = ["InitializerPartial", "RegisteredFunction"]


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
        who = f"{'register_initializer' if data_first else 'register_layer'}({name!r})"
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
        from pydantic import ConfigDict, TypeAdapter

        strict = ConfigDict(strict=True, arbitrary_types_allowed=True)
        return {
            name: TypeAdapter(for_pydantic(p.annotation), config=strict)
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
            fields[name] = (for_pydantic(p.annotation), default)
        from pydantic import ConfigDict, create_model

        model_name = re.sub(r"\W", "_", self.name)
        return create_model(  # type: ignore[no-any-return]
            model_name,
            __config__=ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=True),
            **fields,
        )

    def validate(
        self, args: Mapping[str, Any], deferred: frozenset[str] = frozenset()
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """Validate config arguments; return the validated values and every error.

        ``deferred`` names arguments whose value is another block, validated on its own.
        """
        from pydantic import ValidationError

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
            from confection import ConfigValidationError

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
