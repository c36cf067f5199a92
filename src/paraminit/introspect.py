"""Describe registered functions for people: arguments, types, defaults, constraints.

Everything comes from the function's signature, through the same annotations the
registry validates with, read by :func:`paraminit.arguments.rule_for`: types,
constraints in the words of the errors ("> 0"), and each argument's JSON schema.
The command line's ``list`` and ``show`` print what :func:`describe` returns.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from typing import Any

from pydantic import ConfigDict, TypeAdapter

from .arguments import Rule, for_pydantic, rule_for
from .engine import MAX_SEED
from .registered import RegisteredFunction
from .registry import FunctionRegistry, PluginError
from .resolver import registry

__all__ = ["describe", "describe_all", "find"]

_ARBITRARY = ConfigDict(arbitrary_types_allowed=True)


def _type_name(annotation: Any) -> str:
    """``annotation`` (without ``Annotated`` metadata) as a word for people."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is typing.Literal:
        return "str"
    if annotation is type(None) or annotation is None:
        return "None"
    if origin is collections.abc.Callable or annotation is collections.abc.Callable:
        return "initializer"
    if inspect.isclass(annotation):
        from .layers import Layer  # layers sit above this module; import late

        return "layer" if issubclass(annotation, Layer) else annotation.__name__
    if annotation is inspect.Parameter.empty or annotation is Any:
        return "any"
    return str(annotation)


def _bound(value: Any) -> str:
    return "2**128 - 1" if value == MAX_SEED else repr(value)


def _constraints(rule: Rule) -> list[str]:
    """The constraints of ``rule`` in the words of its errors, without "must be"."""
    found = ["finite"] if rule.finite else []
    found += [f"{bound.words} {_bound(bound.limit)}" for bound in rule.bounds]
    if rule.choices is not None:
        found.append("one of " + ", ".join(repr(v) for v in rule.choices))
    return found


def _default(value: Any) -> Any:
    if value is inspect.Parameter.empty:
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    name = getattr(value, "name", None) or getattr(value, "__name__", None)
    return str(name) if name else repr(value)


def describe_argument(param: inspect.Parameter) -> dict[str, Any]:
    """One argument: name, type, required, default, constraints (and its JSON schema)."""
    annotation = param.annotation
    rule = rule_for(annotation)
    try:
        schema: dict[str, Any] | None = TypeAdapter(
            for_pydantic(annotation), config=_ARBITRARY
        ).json_schema()
    except Exception:  # callables and layers have no JSON schema
        schema = None
    constraints = _constraints(rule)
    variadic = param.kind is inspect.Parameter.VAR_POSITIONAL
    return {
        "name": f"*{param.name}" if variadic else param.name,
        "type": _type_name(rule.plain),
        "required": param.default is inspect.Parameter.empty and not variadic,
        "default": _default(param.default),
        "constraints": constraints,
        "schema": schema,
    }


def describe(entry: RegisteredFunction, kind: str) -> dict[str, Any]:
    """A registered function as a dict: name, kind, origin, target, summary, doc, arguments.

    ``origin`` is ``"paraminit"`` for a built-in, the plugin's distribution and entry
    point, or ``"Python code"``.
    """
    doc = inspect.cleandoc(entry.func.__doc__ or "")
    return {
        "name": entry.name,
        "kind": kind,
        "origin": str(entry.origin),
        "function": f"{entry.func.__module__}:{entry.func.__qualname__}",
        "summary": doc.split("\n\n")[0].replace("\n", " ") if doc else "",
        "doc": doc,
        "arguments": [describe_argument(p) for p in entry.parameters.values()],
    }


def _registries() -> dict[str, FunctionRegistry]:
    # "initializers" -> "initializer": the kind of one entry.
    return {name.rstrip("s"): reg for name, reg in sorted(registry.owned().items())}


def describe_all() -> list[dict[str, Any]]:
    """Every registered initializer and layer, plugins included (this loads them).

    A plugin that cannot be loaded or is ignored (an unversioned entry point, one
    offering a built-in's name) is listed with its ``error`` and no arguments, so
    one broken package does not hide the rest.
    """
    entries = []
    for kind, reg in _registries().items():
        for name in reg.names():
            entries.append(_describe_or_error(reg, name, kind))
        for name, problem in reg.plugin_problems().items():
            entries.append(_broken(name, kind, problem))
    return entries


def _broken(name: str, kind: str, error: str) -> dict[str, Any]:
    return {"name": name, "kind": kind, "error": error, "arguments": []}


def _describe_or_error(reg: FunctionRegistry, name: str, kind: str) -> dict[str, Any]:
    try:
        return describe(reg.get(name), kind)
    except PluginError as err:
        return _broken(name, kind, str(err))


def find(name: str) -> dict[str, Any] | None:
    """Describe ``name`` (versioned or not) from any registry, or ``None``.

    A plugin that cannot be used is described by its ``error``, as in :func:`describe_all`.
    """
    for kind, reg in _registries().items():
        if name in reg:
            return _describe_or_error(reg, name, kind)
    for kind, reg in _registries().items():
        problem = reg.plugin_problems().get(name)
        if problem is not None:
            return _broken(name, kind, problem)
    return None


def known_names() -> list[str]:
    """Every versioned name of every registry paraminit owns (nothing is imported)."""
    return [n for reg in registry.owned().values() for n in reg.names()]
