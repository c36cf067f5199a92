"""Resolving configs whose every block is paraminit's: one walk, no per-block schema.

confection's ``registry.resolve`` fills each block from a schema it builds from
the function's signature and type-checks every value again, block by block: at
500 blocks that is most of a build. When every block of a config names a
function of a registry paraminit owns, whose arguments :mod:`paraminit.validation`
has just checked, :func:`resolve_owned` does what confection would do in one
walk, with the same result: defaults filled in signature order, the arguments
resolved before ``*`` positionals, each function called as confection calls it
(so a :class:`~paraminit.registry.RegisteredFunction` still validates what it
receives), and ``*`` sections turned into tuples. Anything else (another
package's registry, a schema, a block confection would refuse) returns ``None``
and goes to confection, so its semantics and its messages stay the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

__all__ = ["ResolvableFunction", "ResolvingRegistry", "resolve_owned"]

ARGS_FIELD = "*"  # confection's key of variable positional arguments


class ResolvableFunction(Protocol):
    """A registered function as the resolver sees it."""

    #: ``(name, default)`` of each argument with a default, in signature order.
    config_defaults: tuple[tuple[str, Any], ...]
    #: The name of the ``*args`` parameter, or ``None``.
    var_positional: str | None

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


class ResolvingRegistry(Protocol):
    """A registry whose blocks the resolver may call."""

    def lookup(self, name: object) -> ResolvableFunction | str:
        """The function ``name`` stands for, or a message saying why there is none."""
        ...


def _is_block(value: object) -> bool:
    # confection.util.is_promise: any string key starting with "@".
    return isinstance(value, Mapping) and any(
        isinstance(k, str) and k.startswith("@") for k in value
    )


def resolve_owned(
    owned: Mapping[str, ResolvingRegistry], config: Mapping[str, Any]
) -> dict[str, Any] | None:
    """``config`` resolved as confection resolves it, or ``None`` if confection must do it.

    ``config`` is interpolated and already validated (every error raised). The
    walk first finds every block's function; only if all are owned does it call any.
    """
    functions: dict[int, ResolvableFunction] = {}
    if not _find_functions(owned, config, functions):
        return None
    resolved = _resolve_section(config, functions)
    fixed: dict[str, Any] = _fix_positionals(resolved)
    return fixed


def _find_functions(
    owned: Mapping[str, ResolvingRegistry],
    node: Mapping[str, Any],
    found: dict[int, ResolvableFunction],
) -> bool:
    for value in node.values():
        if not isinstance(value, dict):
            continue
        if _is_block(value):
            refs = [k for k in value if isinstance(k, str) and k.startswith("@")]
            registry = owned.get(refs[0][1:]) if len(refs) == 1 else None
            function = None if registry is None else registry.lookup(value[refs[0]])
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


def _resolve_section(node: Mapping[str, Any], functions: dict[int, ResolvableFunction]) -> Any:
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


def _resolve_value(value: Any, functions: dict[int, ResolvableFunction]) -> Any:
    if isinstance(value, dict):
        if id(value) in functions:
            return _resolve_block(value, functions)
        return {k: _resolve_value(v, functions) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_value(v, functions) for v in value]
    return value


def _resolve_block(block: dict[str, Any], functions: dict[int, ResolvableFunction]) -> Any:
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
    call: Callable[..., Any] = function
    return call(*(args.values() if isinstance(args, dict) else args), **kwargs)


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
