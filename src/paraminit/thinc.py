"""The thinc bridge: paraminit's initializers in thinc's registry and thinc's ``init(ops, shape)``.

thinc's layers take an initializer as ``init(ops, shape) -> array``, looked up by
name in ``thinc.api.registry.initializers``. This module adapts paraminit's
registered initializers to that convention:

* :func:`initializer` wraps a paraminit initializer, by name or function, with its
  arguments, for use in Python: ``Linear(init_W=initializer("he_normal_init", seed=0))``.
* :func:`factory` is what a thinc config block calls: it validates the block's
  arguments with paraminit's own rules and messages, at resolve time, and returns
  the :class:`ThincInitializer`. paraminit's distribution declares one per
  built-in under the entry-point group ``thinc_initializers``, named
  ``paraminit.<name>.vN`` and ``paraminit.<name>``, pointing into :data:`factories`;
  thinc finds them without importing anything first.
* Seeds: an explicit ``seed`` argument fixes the values. Without one, each call
  draws its seed from numpy's global random state, the state thinc's
  ``fix_random_seed(N)`` (and so spaCy's ``[training] seed``) sets, so runs are
  reproducible and depend on ``N``, as thinc's own initializers are.

thinc is an optional dependency: ``pip install 'paraminit[thinc]'``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import catalogue
import numpy as np

try:
    import thinc  # noqa: F401
except ImportError as err:
    raise ImportError(
        f"paraminit.thinc needs thinc 8.3 ({err}): pip install 'paraminit[thinc]'"
    ) from err

from confection import ConfigValidationError

from . import InitializerPartial, registry
from .regions import fill_in_place

if TYPE_CHECKING:
    from thinc.api import Ops
    from thinc.types import FloatsXd, Shape

__all__ = [
    "PREFIX",
    "ThincFactory",
    "ThincInitializer",
    "factories",
    "factory",
    "initializer",
    "seed_from_thinc",
]

PREFIX = "paraminit."
"""What every name paraminit puts in thinc's registry starts with."""

# An entry point names a Python attribute, so ``he_normal_init.v1`` is spelled
# ``he_normal_init_v1`` there.
_ATTRIBUTE_VERSION = re.compile(r"^(?P<base>.+)_v(?P<version>\d+)$")


def seed_from_thinc() -> int:
    """A seed in ``[0, 2**128)`` drawn from numpy's global random state.

    thinc and spaCy keep no seed of their own: ``fix_random_seed(N)`` seeds
    ``random``, ``numpy.random`` (and torch/cupy when present), and thinc's own
    initializers draw from ``numpy.random``. Drawing 16 bytes from the same state
    makes the bridge follow ``fix_random_seed`` the same way; the legacy global
    ``RandomState`` stream is frozen across numpy versions, so ``N`` keeps its values.
    """
    return int.from_bytes(np.random.bytes(16), "little")


class ThincInitializer:
    """A configured paraminit initializer in thinc's convention: ``init(ops, shape) -> array``.

    Allocates a float32 array of ``shape`` with ``ops`` and fills it in place; on
    an ops whose arrays are not numpy's (``CupyOps``), fills on the host and moves
    the result with ``ops.asarray_f``. Values equal
    ``initializer.func(numpy.empty(shape, "float32"), **initializer.keywords)``
    for the same seed, bit for bit.
    """

    __slots__ = ("draws_seed", "initializer", "name")

    def __init__(self, name: str, initializer: InitializerPartial, *, draws_seed: bool) -> None:
        self.name = name
        self.initializer = initializer
        # True for a random initializer configured without a seed: each call draws one.
        self.draws_seed = draws_seed

    def __call__(self, ops: Ops, shape: Shape) -> FloatsXd:
        keywords = {"seed": seed_from_thinc()} if self.draws_seed else {}
        if ops.xp is np:
            out = ops.alloc(shape, dtype="float32", zeros=False)
            return fill_in_place(self.initializer, out, self.name, **keywords)  # type: ignore[return-value]
        host = fill_in_place(self.initializer, np.empty(shape, np.float32), self.name, **keywords)
        return ops.asarray_f(cast("FloatsXd", host))

    def __repr__(self) -> str:
        return f"<thinc initializer {self.name}: {self.initializer!r}>"


class ThincFactory:
    """The function thinc's registry holds for one paraminit initializer.

    Its signature is the initializer's config arguments, so confection fills the
    defaults and checks the types as for any thinc function; calling it checks the
    values with paraminit's own validation (confection 1.3 does not enforce
    constraints such as ``std >= 0``) and returns a :class:`ThincInitializer`.
    """

    def __init__(self, name: str) -> None:
        self.registered = registry.initializers.get(name)
        self.name = PREFIX + name
        self.__name__ = self.name
        self.__doc__ = self.registered.__doc__
        self.__signature__ = self.registered.__signature__

    def __call__(self, **arguments: Any) -> ThincInitializer:
        try:
            configured = self.registered(**arguments)
        except ConfigValidationError as err:
            raise ConfigValidationError(
                config={"@initializers": self.name, **arguments},
                errors=err.errors,
                title=f"Invalid arguments for {self.name} (an initializers block)",
            ) from None
        draws_seed = (
            "seed" in self.registered.parameters and configured.keywords.get("seed") is None
        )
        return ThincInitializer(self.name, configured, draws_seed=draws_seed)

    def __repr__(self) -> str:
        return f"<thinc factory {self.name}: {self.registered!r}>"


@functools.cache
def factory(name: str) -> ThincFactory:
    """The thinc factory of paraminit's initializer ``name`` (``"he_normal_init.v1"``).

    Register it under a prefixed name to make a plugin's initializer usable from
    thinc configs without an entry point::

        thinc.api.registry.initializers.register(
            "paraminit.my_init.v1", func=paraminit.thinc.factory("my_init.v1")
        )
    """
    return ThincFactory(name)


class _Factories:
    """Entry-point targets: ``factories.he_normal_init_v1`` is ``factory("he_normal_init.v1")``."""

    def __getattr__(self, attribute: str) -> ThincFactory:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        match = _ATTRIBUTE_VERSION.match(attribute)
        name = f"{match['base']}.v{match['version']}" if match else attribute
        try:
            return factory(name)
        except catalogue.RegistryError as err:
            # The attribute protocol (hasattr, entry-point loading) expects AttributeError.
            raise AttributeError(str(err)) from err


factories = _Factories()
"""What the ``thinc_initializers`` entry points name: ``paraminit.thinc:factories.<attribute>``."""


def initializer(
    name_or_function: str | Callable[..., Any], /, **arguments: Any
) -> ThincInitializer:
    """A paraminit initializer with ``arguments``, as thinc's ``init(ops, shape)`` callable.

    ``name_or_function`` is a registered name (``"he_normal_init"``,
    ``"he_normal_init.v1"``), a registered function (``paraminit.he_normal_init``
    or a plugin's), or an initializer resolved from a paraminit config (an
    :class:`~paraminit.InitializerPartial`, whose arguments ``arguments`` update).
    The arguments are validated now, as in a config block.

    >>> from thinc.api import Linear
    >>> layer = Linear(64, 32, init_W=initializer("he_normal_init", seed=0))
    """
    if isinstance(name_or_function, str):
        return factory(name_or_function)(**arguments)
    if isinstance(name_or_function, InitializerPartial):
        configured = {**name_or_function.keywords, **arguments}
        return factory(name_or_function.name)(**configured)
    if callable(name_or_function):
        return factory(_registered_name(name_or_function))(**arguments)
    raise TypeError(
        "initializer: 'name_or_function' must be a registered name or function, "
        f"got {name_or_function!r}"
    )


def _registered_name(function: Callable[..., Any]) -> str:
    """The newest name ``function`` is registered under (its own name first)."""
    initializers = registry.initializers
    own = getattr(function, "__name__", "")
    names = initializers.names()
    # A function is usually registered under its own name; look there before
    # loading every plugin.
    for candidates in ([n for n in names if n.rsplit(".v", 1)[0] == own], names):
        found = [n for n in candidates if initializers.get(n).func is function]
        if found:
            return max(found, key=lambda n: int(n.rsplit(".v", 1)[1]))
    raise TypeError(
        f"initializer: {function!r} is not a registered paraminit initializer; register it "
        "with paraminit.register_initializer('my_init.v1') or pass a registered name"
    )
