"""Configured initializers back to config blocks: :func:`to_config`.

A model built in Python holds partials (``InitializerPartial`` from a config,
``functools.partial`` of an initializer); :func:`to_config` turns one into the
block that resolves to an equal partial, so the model can be written as a
config. The block names the registered, versioned function and lists every
argument whose value differs from the signature's default; its arguments are
validated exactly as the config would be.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .arguments import CALL_TIME
from .config import Config
from .registered import InitializerPartial, RegisteredFunction
from .resolver import registry

__all__ = ["to_config"]

_KEY = "@initializers"


def to_config(
    init: Callable[..., Any], /, *, section: str | None = None, **arguments: Any
) -> Config:
    """The config block of a configured initializer: ``{"@initializers": name, **arguments}``.

    ``init`` is an ``InitializerPartial`` (from a config), a ``functools.partial``
    of a registered initializer, or the initializer itself; ``arguments`` are
    added (and override the partial's, as a call would). The block holds the
    versioned name (``"uniform_init.v1"``; a partial from a config keeps the name
    it was resolved from, so ``glorot_uniform_init`` stays ``glorot_uniform_init``)
    and every argument whose value differs from the default, so
    ``registry.resolve({"init": block})["init"]`` is a partial of the same
    function with the same arguments. With ``section="model.init_W"`` the result
    is the whole config, the block nested under that path. ``.to_str()`` gives
    the ``.cfg`` text.

    Raises ``TypeError`` if ``init`` is not callable or binds positional
    arguments or ``inplace``, ``ValueError`` if its function is not a registered
    initializer, and ``ConfigValidationError`` (a ``ValueError``) if the
    arguments would not pass the config's validation.

    >>> import functools, paraminit
    >>> block = to_config(functools.partial(paraminit.uniform_init, lo=-0.05, hi=0.05))
    >>> dict(block)
    {'@initializers': 'uniform_init.v1', 'lo': -0.05, 'hi': 0.05}
    """
    if not callable(init):
        raise TypeError(f"to_config: 'init' must be an initializer or a partial, got {init!r}")
    func, name, bound = _unpack(init)
    bound.update(arguments)
    entry = _registered(func, name)
    values = {key: _plain(value) for key, value in bound.items()}
    _validate(entry, values)
    block: dict[str, Any] = {_KEY: entry.name}
    for key, parameter in entry.parameters.items():
        if key in values and not _is_default(values[key], parameter.default):
            block[key] = values[key]
    if section is None:
        return Config(block)
    if not isinstance(section, str):
        raise TypeError(f"to_config: 'section' must be a str, got {section!r}")
    if not all(section.split(".")):
        raise ValueError(
            f"to_config: 'section' must be a dotted path like 'model.init', got {section!r}"
        )
    nested: dict[str, Any] = block
    for part in reversed(section.split(".")):
        nested = {part: nested}
    return Config(nested)


def _unpack(init: Callable[..., Any]) -> tuple[Callable[..., Any], str | None, dict[str, Any]]:
    """The function under ``init``'s partials, the name a config gave it, and its keywords."""
    layers: list[functools.partial[Any]] = []
    func: Callable[..., Any] = init
    name = None
    while isinstance(func, functools.partial):
        layers.append(func)
        if name is None and isinstance(func, InitializerPartial):
            name = func.name
        func = func.func
    if isinstance(func, RegisteredFunction):
        name, func = name or func.name, func.func
    keywords: dict[str, Any] = {}
    for layer in reversed(layers):  # inner first: an outer partial's keywords win
        if layer.args:
            raise TypeError(
                f"to_config: {_label(func)} is partially applied with positional arguments "
                f"{layer.args!r}; a config block names its arguments (use keywords)"
            )
        keywords.update(layer.keywords)
    return func, name, keywords


def _label(func: Callable[..., Any]) -> str:
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None) or repr(func)
    return f"{module}.{qualname}" if module else qualname


def _registered(func: Callable[..., Any], name: str | None) -> RegisteredFunction:
    """The registration of ``func``: ``name`` if given, else its own name's newest version."""
    initializers = registry.initializers
    if name is not None:
        entry = initializers.get(name)
        if entry.func is func:
            return entry
    names = initializers.names_of(func)
    if not names:
        raise ValueError(
            f"to_config: {_label(func)} is not a registered initializer, so no config can "
            "name it; register it with @paraminit.register_initializer('my_init.v1')"
        )
    # Aliases (glorot_uniform_init for xavier_uniform_init): the function's own name first.
    own = [n for n in names if n.rsplit(".v", 1)[0] == getattr(func, "__name__", None)]
    return initializers.get(max(own or names, key=_version))


def _version(name: str) -> tuple[int, str]:
    base, _, version = name.rpartition(".v")
    return (int(version) if version.isdigit() else 0, base)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number of the same value (a config holds those)."""
    return value.item() if isinstance(value, np.generic) else value


def _validate(entry: RegisteredFunction, values: dict[str, Any]) -> None:
    call_time = sorted(CALL_TIME & set(values))
    if call_time:
        raise TypeError(
            f"to_config: {', '.join(map(repr, call_time))} is passed when an initializer is "
            "called, not written in its config block"
        )
    entry.validated(values, title=f"to_config: invalid arguments for {entry.name}")


def _is_default(value: Any, default: Any) -> bool:
    if default is inspect.Parameter.empty:
        return False
    # 1 == 1.0 == True and -0.0 == 0.0 in Python, but a config keeps them apart.
    if type(value) is not type(default) or value != default:
        return False
    return not isinstance(value, float) or math.copysign(1.0, value) == math.copysign(1.0, default)
