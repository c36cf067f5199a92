"""Expected densities: asked of the engine distribution, never guessed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from paraminit.densities import Density, expected_density, from_distribution, normal
from paraminit.engine import Normal, TruncatedNormal, Uniform, fill
from paraminit.regions import elementwise


@pytest.mark.parametrize(
    "dist", [Uniform(-1.0, 3.0), Normal(0.5, 2.0), TruncatedNormal(0.0, 1.0, -1.0, 2.0)], ids=repr
)
def test_a_density_is_what_its_distribution_says(dist: Any) -> None:
    density = from_distribution(dist)
    assert density.kind == dist.kind
    assert (density.mean, density.std) == tuple(dist.moments())
    x = np.linspace(-3.0, 4.0, 71)
    assert np.array_equal(density.pdf(x), dist.pdf(x))


def test_a_density_written_by_hand_draws_the_same_curve() -> None:
    by_hand = Density("normal", 0.5, 2.0, loc=0.5, scale=2.0)
    assert by_hand == normal(0.5, 2.0)
    x = np.linspace(-3.0, 4.0, 9)
    assert np.array_equal(by_hand.pdf(x), normal(0.5, 2.0).pdf(x))
    assert Density("moments", 0.0, 1.0).pdf(x) is None


class _Duck:
    """Fills like a distribution but is none of the engine's."""

    def fill_block(self, g: Any, target: Any, scratch: Any) -> None:
        target[...] = 0.0


def test_an_unknown_distribution_is_an_error_not_a_constant() -> None:
    @elementwise
    def duck_init(data: Any, *, inplace: bool = False, seed: int | None = None) -> Any:
        return fill(data, _Duck(), 0)  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="engine Distribution"):
        expected_density(duck_init, (4, 4))
