"""The confection registry of paraminit's configs: validation first, then one walk.

:class:`registry` is confection's registry with paraminit's own
(``registry.initializers``, ``registry.layers``). Its :meth:`registry.fill` and
:meth:`registry.resolve` run :mod:`paraminit.validation` over the whole config
before anything is resolved. This module loads with confection, on first use.

confection's ``registry.resolve`` fills each block from a schema it builds from
the function's signature and type-checks every value again, block by block: at
500 blocks that is most of a build. When every block of a config names a
function of a registry paraminit owns, whose arguments the validation has just
checked, :func:`resolve_owned` does what confection would do in one walk, with
the same result: defaults filled in signature order, the arguments resolved
before ``*`` positionals, each function called as confection calls it (so a
:class:`~paraminit.registered.RegisteredFunction` still validates what it
receives), and ``*`` sections turned into tuples. Anything else (another
package's registry, a schema, a block confection would refuse) returns ``None``
and goes to confection, so its semantics and its messages stay the reference.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import confection
from confection import Config

from .registered import RegisteredFunction
from .registry import INITIALIZERS, LAYERS, FunctionRegistry
from .validation import interpolated, iter_config_errors, raise_config_errors

__all__ = ["registry", "resolve_owned"]

ARGS_FIELD = "*"  # confection's key of variable positional arguments


class registry(confection.registry):
    """paraminit's confection registry: ``registry.initializers`` and its validation."""

    initializers = INITIALIZERS
    layers = LAYERS

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
        """Validate the whole config, then resolve it (see :func:`resolve_owned`).

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


def _is_block(value: object) -> bool:
    # confection.util.is_promise: any string key starting with "@".
    return isinstance(value, Mapping) and any(
        isinstance(k, str) and k.startswith("@") for k in value
    )


def resolve_owned(
    owned: Mapping[str, FunctionRegistry], config: Mapping[str, Any]
) -> dict[str, Any] | None:
    """``config`` resolved as confection resolves it, or ``None`` if confection must do it.

    ``config`` is interpolated and already validated (every error raised). The
    walk first finds every block's function; only if all are owned does it call any.
    """
    functions: dict[int, RegisteredFunction] = {}
    if not _find_functions(owned, config, functions):
        return None
    fixed: dict[str, Any] = _fix_positionals(_resolve_section(config, functions))
    return fixed


def _find_functions(
    owned: Mapping[str, FunctionRegistry],
    node: Mapping[str, Any],
    found: dict[int, RegisteredFunction],
) -> bool:
    for value in node.values():
        if not isinstance(value, dict):
            continue
        if _is_block(value):
            refs = [k for k in value if isinstance(k, str) and k.startswith("@")]
            owner = owned.get(refs[0][1:]) if len(refs) == 1 else None
            function = None if owner is None else owner.lookup(value[refs[0]])
            if function is None or isinstance(function, str) or id(value) in found:
                return False  # not ours, or a section shared by two references
            if (
                function.var_positional is not None
                and ARGS_FIELD not in value
                and function.var_positional not in value
            ):
                return False  # confection reports the missing positionals
            found[id(value)] = function
        if not _find_functions(owned, value, found):
            return False
    return True


def _resolve_section(node: Mapping[str, Any], functions: dict[int, RegisteredFunction]) -> Any:
    output: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            if id(value) in functions:
                output[key] = _resolve_block(value, functions)
            else:
                output[key] = _resolve_section(value, functions)
        else:
            output[key] = value
    return output


def _resolve_value(value: Any, functions: dict[int, RegisteredFunction]) -> Any:
    if isinstance(value, dict):
        if id(value) in functions:
            return _resolve_block(value, functions)
        return {k: _resolve_value(v, functions) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_value(v, functions) for v in value]
    return value


def _resolve_block(block: dict[str, Any], functions: dict[int, RegisteredFunction]) -> Any:
    function = functions[id(block)]
    filled = dict(block)
    for name, default in function.config_defaults:
        if name not in filled:
            filled[name] = default
    positional: Any = []
    kwargs: dict[str, Any] = {}
    for key, value in filled.items():
        if isinstance(key, str) and key.startswith("@"):
            continue
        if key == ARGS_FIELD:
            positional = value
        else:
            kwargs[key] = value
    kwargs = {k: _resolve_value(v, functions) for k, v in kwargs.items()}
    args = _resolve_value(positional, functions)
    return function(*(args.values() if isinstance(args, dict) else args), **kwargs)


def _fix_positionals(value: Any) -> Any:
    # confection.registry.resolve's last step, as it does it: "*" sections become
    # tuples, and every dict, list and tuple of the result is a new one.
    if isinstance(value, dict):
        output = {}
        for key, item in value.items():
            if key == ARGS_FIELD and isinstance(item, dict):
                item = tuple(item.values())
            output[key] = _fix_positionals(item)
        return output
    if isinstance(value, list):
        return [_fix_positionals(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_fix_positionals(v) for v in value)
    return value
