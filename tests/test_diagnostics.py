"""diagnose() on real numbers, and the expected densities of the initializers."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import paraminit
from paraminit.diagnostics import (
    Density,
    expected_density,
    initializer_arguments,
    truncated_normal,
)
from paraminit.registry import InitializerPartial, registry

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _ratios(name: str, **overrides: object) -> paraminit.diagnostics.Diagnosis:
    model = paraminit.build(CONFIGS / f"{name}.cfg", seed=0, overrides=overrides)
    return paraminit.diagnose(model, batch=1024, seed=0)


# --- the seed's point: the initializer decides whether the signal survives depth


def test_relu_mlp_with_he_init_keeps_its_std_over_20_layers() -> None:
    diagnosis = _ratios("default")
    assert len(diagnosis.layers) == 20
    assert diagnosis.input_std == pytest.approx(1.0, abs=0.01)
    assert 0.5 <= diagnosis.layers[-1].ratio <= 2.0
    assert diagnosis.flagged == []


def test_relu_mlp_with_xavier_init_shrinks_below_a_hundredth_and_is_flagged() -> None:
    diagnosis = _ratios("mlp_relu_xavier")
    assert len(diagnosis.layers) == 20
    assert diagnosis.layers[-1].ratio < 0.01
    assert diagnosis.layers[-1].flagged
    # The shrinking is steady: every hidden layer loses signal (about sqrt(2) each).
    hidden = [layer.std for layer in diagnosis.layers[:-1]]
    assert all(b < a for a, b in itertools.pairwise(hidden))


def test_tanh_mlp_with_xavier_init_stays_stable() -> None:
    diagnosis = _ratios("deep_tanh")
    assert len(diagnosis.layers) == 20
    assert diagnosis.flagged == []
    assert all(layer.activation in ("tanh", "identity") for layer in diagnosis.layers)


EMBED_FIRST = """
[model]
@layers = "Chain.v1"

[model.*.embed]
@layers = "Embed.v1"
nV = 1000
nO = 32

[model.*.norm]
@layers = "LayerNorm.v1"

[model.*.dense]
@layers = "Linear.v1"
nO = 32
"""


def test_embed_first_models_are_measured_against_the_embedding_output() -> None:
    model = paraminit.build(EMBED_FIRST, seed=0)
    diagnosis = paraminit.diagnose(model)
    assert diagnosis.input_kind == "ids"
    embedded = diagnosis.layers[0]
    assert embedded.ratio == 1.0
    assert diagnosis.input_std == embedded.std
    # thinc's default U[-0.1, 0.1) table has std 0.058; layer norm scales it to 1.
    assert embedded.std == pytest.approx(0.2 / np.sqrt(12), rel=0.05)
    assert diagnosis.layers[1].ratio == pytest.approx(1 / embedded.std, rel=0.01)
    assert [layer.path for layer in diagnosis.flagged] == ["model.*.norm", "model.*.dense"]


DEAD = """
[model]
@layers = "Linear.v1"
nI = 32
nO = 64
activation = "relu"

[model.init_b]
@initializers = "uniform_init.v1"
lo = {lo}
hi = {hi}
"""


def test_dead_relu_share_counts_units_that_never_fire() -> None:
    dead = paraminit.build(DEAD.format(lo=-101, hi=-100), seed=0)
    assert paraminit.diagnose(dead).layers[0].dead_share == 1.0
    alive = paraminit.build(DEAD.format(lo=-0.01, hi=0.01), seed=0)
    assert paraminit.diagnose(alive).layers[0].dead_share == 0.0


def test_layers_without_relu_have_no_dead_share() -> None:
    diagnosis = _ratios("mlp_relu_xavier")
    assert diagnosis.layers[-1].activation == "identity"
    assert diagnosis.layers[-1].dead_share is None


def test_diagnose_is_deterministic_and_checks_its_arguments() -> None:
    model = paraminit.build(DEAD.format(lo=-0.1, hi=0.1), seed=0)
    assert paraminit.diagnose(model, seed=3) == paraminit.diagnose(model, seed=3)
    with pytest.raises(ValueError, match="'batch' must be an int >= 2"):
        paraminit.diagnose(model, batch=1)
    with pytest.raises(ValueError, match="0 < low < high"):
        paraminit.diagnose(model, low=2.0, high=1.0)


# --- expected densities, checked against what the initializers really draw

SHAPES = [(256, 128), (64, 32, 3, 3)]


# Registered initializers with no curve for SHAPES[0]: constants, those computed whole
# without a density rule, and constant_init (its required value is not configured).
NO_CURVE = {
    "constant_init.v1",
    "delta_orthogonal_init.v1",
    "dirac_init.v1",
    "eye_init.v1",
    "identity_init.v1",
    "ones_init.v1",
    "sparse_init.v1",
    "zero_init.v1",
}


def _densities() -> dict[str, Density | None]:
    """Every registered initializer's density for SHAPES[0]; a rule that raises fails here."""
    return {
        name: expected_density(InitializerPartial(name, entry.func), SHAPES[0])
        for name, entry in registry.initializers.get_all().items()
    }


def _random_initializers() -> list[str]:
    """Every registered initializer with a known, non-constant density."""
    return [name for name, d in _densities().items() if d is not None and d.std > 0]


def test_only_the_known_initializers_have_no_curve() -> None:
    densities = _densities()
    assert {name for name in densities if name not in _random_initializers()} == NO_CURVE


def test_the_seed_initializers_have_densities() -> None:
    names = set(_random_initializers())
    assert {"uniform_init.v1", "normal_init.v1", "xavier_uniform_init.v1"} <= names


@pytest.mark.parametrize("name", _random_initializers())
@pytest.mark.parametrize("shape", SHAPES)
def test_expected_density_matches_the_values_drawn(name: str, shape: tuple[int, ...]) -> None:
    init = InitializerPartial(name, registry.initializers.get(name).func)
    values = init(np.empty(shape, np.float64), seed=20240601).ravel()
    density = expected_density(init, shape)
    assert density is not None
    assert values.std() == pytest.approx(density.std, rel=0.03)
    assert values.mean() == pytest.approx(density.mean, abs=0.03 * density.std)
    if density.kind == "uniform":
        cdf = stats.uniform(density.lo, density.hi - density.lo).cdf
    elif density.kind == "normal":
        cdf = stats.norm(density.loc, density.scale).cdf
    elif density.kind == "truncated_normal":
        a, b = (
            (density.lo - density.loc) / density.scale,
            (density.hi - density.loc) / density.scale,
        )
        cdf = stats.truncnorm(a, b, density.loc, density.scale).cdf
    else:
        return  # moments only: no curve to test
    assert stats.kstest(values, cdf).pvalue > 1e-4
    # The curve drawn by `paraminit plot` integrates to 1 over the values' range.
    x = np.linspace(values.min(), values.max(), 20001)
    assert np.trapezoid(density.pdf(x), x) == pytest.approx(1.0, abs=0.01)


def test_truncated_normal_moments_match_scipy() -> None:
    d = truncated_normal(0.5, 2.0, -1.0, 4.0)
    ref = stats.truncnorm((-1.0 - 0.5) / 2.0, (4.0 - 0.5) / 2.0, 0.5, 2.0)
    assert d.mean == pytest.approx(ref.mean(), rel=1e-9)
    assert d.std == pytest.approx(ref.std(), rel=1e-9)
    x = np.linspace(-2, 5, 50)
    assert np.allclose(d.pdf(x), ref.pdf(x))


def test_constants_report_zero_std_and_draw_no_curve() -> None:
    density = expected_density(paraminit.zero_init, (3, 4))
    assert density == Density("constant", 0.0, 0.0, loc=0.0, lo=0.0, hi=0.0)
    assert density.pdf(np.zeros(2)) is None


def test_unknown_initializers_get_no_density() -> None:
    def my_init(data: np.ndarray, *, inplace: bool = False, seed: int | None = None) -> None:
        raise AssertionError("never called")

    assert expected_density(my_init, (4, 4)) is None
    assert expected_density(None, (4, 4)) is None


def test_arguments_combine_signature_defaults_with_configured_values() -> None:
    init = registry.initializers.get("uniform_init.v1")(hi=0.3)
    name, arguments = initializer_arguments(init)
    assert name == "uniform_init"
    assert arguments["lo"] == -0.1 and arguments["hi"] == 0.3
    density = expected_density(init, (2, 2))
    assert density is not None and density.kind == "uniform"
    assert (density.lo, density.hi) == (-0.1, 0.3)
    assert density.mean == pytest.approx(0.1)
    assert density.std == pytest.approx(0.4 / math.sqrt(12))


def test_import_paraminit_loads_no_diagnostics_and_no_cli() -> None:
    code = (
        "import sys, paraminit; "
        "print(sorted(m for m in ('paraminit.diagnostics', 'paraminit.densities', "
        "'paraminit.cli') if m in sys.modules)); "
        "paraminit.diagnose; print('paraminit.diagnostics' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split("\n")[:2] == ["[]", "True"]
