"""Seeds: their checks, the package seed stream, and seeds derived from a parameter's path.

A seed is an int in ``[0, 2**128)``. A call with ``seed=None`` takes the next seed
of the package stream (:func:`next_seed`), which :func:`set_seed` restarts; a built
model's parameters get :func:`param_seed` of the build seed and their path.
"""

from __future__ import annotations

import hashlib
import itertools
import os

import numpy as np

__all__ = ["MAX_SEED", "check_seed", "next_seed", "param_seed", "resolve_seed", "set_seed"]

MAX_SEED = (1 << 128) - 1
_MASK64 = (1 << 64) - 1


def check_seed(func_name: str, seed: object, *, none_allowed: bool = True) -> int:
    """Return ``seed`` if it is an int in ``[0, 2**128)``, else raise.

    ``none_allowed`` only words the error: the caller of ``func_name`` may pass ``None``.
    """
    if type(seed) is int and 0 <= seed <= MAX_SEED:  # the common case, fast
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        kinds = "a non-negative int or None" if none_allowed else "a non-negative int"
        raise TypeError(f"{func_name}: 'seed' must be {kinds}, got {seed!r}")
    value = int(seed)
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"{func_name}: 'seed' must be in [0, 2**128), got {value}")
    return value


def _mix64(x: int) -> int:
    """SplitMix64 finalizer: a cheap bijective scramble of a 64-bit integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


# An odd 128-bit constant (the golden ratio's fraction bits): a Weyl step.
_WEYL128 = 0x9E3779B97F4A7C15F39CC0605CEDC835


class _SeedStream:
    """The package-level stream of seeds used when a call passes ``seed=None``.

    Seed ``i`` after a reset to ``base`` is ``spread(base) + i * WEYL (mod 2**128)``:
    distinct for 2**128 draws, far from the small seeds people type, and cheap
    (Philox, keyed by the seed, does the mixing). ``next()`` on
    ``itertools.count`` is atomic under the GIL, so concurrent callers each get
    a distinct seed without a lock.
    """

    def __init__(self, base: int) -> None:
        self.reset(base)

    def reset(self, base: int) -> None:
        lo, hi = base & _MASK64, base >> 64
        a = _mix64(lo ^ _mix64(hi))
        spread = (a << 64) | _mix64(a ^ hi ^ 0x5851F42D4C957F2D)
        # Swapped in one assignment so a concurrent draw sees the old or the new state.
        self._state = (spread, itertools.count())

    def draw(self) -> int:
        base, counter = self._state
        return (base + next(counter) * _WEYL128) & MAX_SEED


_STREAM = _SeedStream(int.from_bytes(os.urandom(16), "little"))


def set_seed(seed: int) -> None:
    """Restart the package seed stream so later ``seed=None`` calls are reproducible.

    After ``set_seed(n)``, a script that initializes the same arrays in the same
    order gets bit-identical values on every run. ``seed`` is an int (``None``,
    which would not be reproducible, is refused).
    """
    _STREAM.reset(check_seed(set_seed.__name__, seed, none_allowed=False))


def next_seed() -> int:
    """Draw the next seed from the package stream (thread-safe)."""
    return _STREAM.draw()


def resolve_seed(func_name: str, seed: object) -> int:
    """The seed a call uses: ``seed`` itself, or the next one from the stream if ``None``."""
    return _STREAM.draw() if seed is None else check_seed(func_name, seed)


def param_seed(build_seed: int, path: str) -> int:
    """The seed of the parameter at ``path`` in a build seeded with ``build_seed``.

    A stable hash (BLAKE2b, 128 bits) of both, the same on every platform and run.
    """
    key = check_seed(param_seed.__name__, build_seed, none_allowed=False).to_bytes(16, "little")
    digest = hashlib.blake2b(path.encode("utf8"), digest_size=16, key=key).digest()
    return int.from_bytes(digest, "little")
