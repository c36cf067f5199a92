"""The validation of whole configs: every bad field of every owned block, with its path.

confection 1.3 validates one block at a time and stops at the first error. This
pass runs before it: it interpolates the config, applies the overrides to a copy,
walks every block that names a function of a registry paraminit owns, and collects
every problem with its full section path (``model -> *.hidden1 -> init_W -> lo``),
so the user fixes everything in one pass and nothing is resolved half-way.

The registries themselves live in :mod:`paraminit.registry`; the confection
registry (:mod:`paraminit.resolver`) calls this pass from ``registry.fill`` and
``registry.resolve``. This module knows them only through :class:`OwnedRegistry`,
and loads confection only when a config is checked (``import paraminit`` needs
:class:`FieldError`, not confection).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from confection import Config

__all__ = [
    "ConfigFunction",
    "FieldError",
    "OwnedRegistry",
    "format_field_error",
    "interpolated",
    "iter_config_errors",
    "raise_config_errors",
]


@dataclass(frozen=True)
class FieldError:
    """One bad argument of one config block."""

    field: str
    message: str
    value: Any = None


class ConfigFunction(Protocol):
    """A registered function as the validation pass sees it."""

    name: str

    def validate(
        self, args: Mapping[str, Any], deferred: frozenset[str] = frozenset()
    ) -> tuple[dict[str, Any], list[FieldError]]: ...


class OwnedRegistry(Protocol):
    """A registry whose blocks paraminit validates."""

    def lookup(self, name: object) -> ConfigFunction | str:
        """The function ``name`` stands for, or a message saying why there is none."""
        ...


def format_field_error(function_name: str, error: FieldError) -> str:
    """``error`` as one line: the rule, the value given and the function's name."""
    got = "" if error.value is None else f", got {error.value!r}"
    return f"{error.message}{got} [{function_name}]"


def raise_config_errors(config: Any, errors: list[dict[str, Any]]) -> None:
    """Raise one :class:`ConfigValidationError` listing ``errors``, if there are any."""
    if errors:
        from confection import ConfigValidationError  # loads with the first config

        raise ConfigValidationError(
            config=config,
            errors=errors,
            title=f"Config validation error: {len(errors)} "
            f"problem{'s' if len(errors) != 1 else ''}",
        )


def iter_config_errors(
    owned: Mapping[str, OwnedRegistry],
    config: Config | Mapping[str, Any],
    overrides: Mapping[str, Any],
) -> Iterator[dict[str, Any]]:
    """Every problem of every block naming a function of ``owned``, with its path."""
    tree = _overridden(interpolated(config), overrides)
    yield from _walk(owned, tree, [])


def interpolated(config: Config | Mapping[str, Any]) -> Mapping[str, Any]:
    """``config`` with its ``${...}`` resolved: ``config`` itself if it has nothing to resolve."""
    from confection import Config

    from .config import Config as ParsedConfig

    if isinstance(config, Config) and not config.is_interpolated:
        return ParsedConfig(config).interpolate()
    return config


def _overridden(tree: Mapping[str, Any], overrides: Mapping[str, Any]) -> Mapping[str, Any]:
    if not overrides:
        return tree  # the walk only reads
    tree = copy.deepcopy(dict(tree))
    for dotted, value in overrides.items():
        node: Any = tree
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or leaf not in node:
            from confection import ConfigValidationError

            # confection only overrides values the config has; say so before it does.
            raise ConfigValidationError(
                errors=[{"loc": dotted.split("."), "msg": "not a value of the config to override"}],
                title="Error parsing config overrides",
            )
        node[leaf] = value
    return tree


def _walk(
    owned: Mapping[str, OwnedRegistry], node: Mapping[str, Any], path: list[str]
) -> Iterator[dict[str, Any]]:
    for key, value in node.items():
        if not isinstance(value, dict):
            continue
        here = [*path, str(key)]
        refs = [k for k in value if isinstance(k, str) and k.startswith("@")]
        if refs:
            yield from _check_block(owned, value, refs, here)
        yield from _walk(owned, {k: v for k, v in value.items() if k not in refs}, here)


def _check_block(
    owned: Mapping[str, OwnedRegistry],
    block: Mapping[str, Any],
    refs: list[str],
    path: list[str],
) -> Iterator[dict[str, Any]]:
    if len(refs) != 1:
        yield {"loc": path, "msg": f"a block names one function, this one names {refs}"}
        return
    reg = owned.get(refs[0][1:])
    if reg is None:
        return  # another package's registry: confection checks it
    function = reg.lookup(block[refs[0]])
    if isinstance(function, str):
        yield {"loc": [*path, refs[0]], "msg": function}
        return
    args = {k: v for k, v in block.items() if k not in refs}
    deferred = frozenset(
        k for k, v in args.items() if isinstance(v, dict) and any(str(x).startswith("@") for x in v)
    )
    _, errors = function.validate(args, deferred)
    for error in errors:
        yield {"loc": [*path, error.field], "msg": format_field_error(function.name, error)}
