"""Golden values: the cases every stream version's fixture pins, and the script that writes it.

    python tests/_golden.py            # add missing cases to tests/golden/v<STREAM_VERSION>.json
    python tests/_golden.py --check    # compare with the fixture; exit 1 on any difference

A case is a registered initializer (minus :data:`EXEMPT`) x float16/32/64/bfloat16 x
shapes (one block, several blocks with an odd tail, a conv kernel) x two seeds,
the non-default arguments of :data:`EXTRA` (other engine paths, ``layout="io"``)
and regions of :data:`REGIONS`. Each entry is the SHA-256 of the values' bytes
plus the first few values (for a readable diff), or the name of the error type
when the initializer refuses the shape.

Writing adds missing entries only. An entry that exists and differs is never
overwritten once the fixture says ``"released": true``: a changed value of a
released ``.vN`` name is a bug, or a new version (docs/engine.md, "Stability").
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

import paraminit
from paraminit.engine import STREAM_VERSION

FIXTURE = Path(__file__).parent / "golden" / f"v{STREAM_VERSION}.json"

# Values that depend on the BLAS/LAPACK build (QR), tested for their properties
# instead (tests/test_catalogue_orthogonal.py); see docs/engine.md, "Exempt".
EXEMPT = frozenset({"orthogonal_init.v1", "delta_orthogonal_init.v1"})
DTYPES = ["float16", "float32", "float64", "bfloat16"]


def _dtype(name: str) -> np.dtype[Any]:
    """``name`` as a dtype; bfloat16 is ml_dtypes' (the bf16 extra), which numpy names only once
    ml_dtypes is imported."""
    if name == "bfloat16":
        import ml_dtypes

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


# One block (Philox); five blocks with an odd tail (SFC64, shared over threads); a conv kernel.
SHAPES = [(24, 40), (300, 1037), (16, 8, 3, 3)]
SEEDS = [0, 2**100 + 12345]
# Arguments an initializer cannot do without (by registered name).
REQUIRED: dict[str, dict[str, Any]] = {
    "constant_init.v1": {"value": 0.25},
    "sparse_init.v1": {"sparsity": 0.3},
}
# Non-default arguments: other engine paths (the truncated normal's uniform and
# exponential proposals, an off-centre cut), other scale rules, layout="io".
EXTRA: list[tuple[str, dict[str, Any]]] = [
    ("truncated_normal_init.v1", {"mean": 0.0, "std": 1.0, "a": 0.5, "b": 0.7}),
    ("truncated_normal_init.v1", {"mean": 0.0, "std": 1.0, "a": 4.0, "b": 9.0}),
    ("truncated_normal_init.v1", {"mean": 0.0, "std": 1.0, "a": -9.0, "b": -4.0}),
    ("truncated_normal_init.v1", {"mean": 1.0, "std": 2.0, "a": -1.0, "b": 9.0}),
    ("truncated_normal_init.v1", {"mean": 0.0, "std": 0.02, "a": -0.04, "b": 0.04}),
    ("uniform_init.v1", {"lo": -3.0, "hi": 7.3}),
    ("random_normal_init.v1", {"mean": 0.5, "std": 3.0}),
    ("sparse_init.v1", {"sparsity": 0.9, "std": 0.5}),
    ("variance_scaling_init.v1", {"scale": 2.0, "mode": "fan_out", "distribution": "normal"}),
    ("variance_scaling_init.v1", {"scale": 0.5, "mode": "fan_avg", "distribution": "uniform"}),
    ("variance_scaling_init.v1", {"in_axis": -2, "out_axis": -1}),
    ("he_normal_init.v1", {"layout": "io"}),
    ("xavier_uniform_init.v1", {"gain": 1.7, "layout": "io"}),
    ("kaiming_normal_init.v1", {"a": 0.1, "mode": "fan_out", "nonlinearity": "leaky_relu"}),
    ("kaiming_uniform_init.v1", {"layout": "io"}),
    ("normal_init.v1", {"fan_in": 7}),
    ("lecun_normal_init.v1", {"layout": "io"}),
]
REGIONS: list[tuple[tuple[int, ...], Any]] = [
    ((300, 1037), (slice(5, 260, 3), slice(None, None, -7))),
    ((300, 1037), 17),
    ((16, 8, 3, 3), (slice(2, 9), 1, slice(None), slice(0, 2))),
]
HEAD = 4  # values kept per case for a readable diff


def _entry(make: Any) -> dict[str, Any]:
    try:
        values = np.ascontiguousarray(make())
    except (TypeError, ValueError) as error:
        return {"error": type(error).__name__}
    return {
        "sha256": hashlib.sha256(values.tobytes()).hexdigest(),
        "head": [float(v) for v in values.reshape(-1)[:HEAD]],
    }


def _call(name: str, shape: tuple[int, ...], dtype: str, seed: int, **extra: Any) -> Any:
    func = paraminit.registry.initializers.get(name).func
    return lambda: func(np.empty(shape, dtype), **{**REQUIRED.get(name, {}), **extra}, seed=seed)


def _region(name: str, shape: tuple[int, ...], region: Any, dtype: str, seed: int) -> Any:
    func = paraminit.registry.initializers.get(name).func
    init = paraminit.InitializerPartial(name, func, **REQUIRED.get(name, {}))
    return lambda: paraminit.initialize_region(init, shape, region, seed=seed, dtype=dtype)


def _parameters(name: str) -> Any:
    return inspect.signature(paraminit.registry.initializers.get(name).func).parameters


def _takes_seed(name: str) -> bool:
    return "seed" in _parameters(name)


def cases() -> dict[str, Any]:
    """Every case by key: a function that makes its values."""
    out: dict[str, Any] = {}
    names = [n for n in paraminit.registry.initializers.names() if n not in EXEMPT]
    for name in names:
        seeds = SEEDS if _takes_seed(name) else SEEDS[:1]
        for dtype in map(_dtype, DTYPES):
            for shape in SHAPES:
                for seed in seeds:
                    if _takes_seed(name):
                        out[f"{name}/{dtype}/{shape}/{seed}"] = _call(name, shape, dtype, seed)
                    else:
                        func = paraminit.registry.initializers.get(name).func
                        args = REQUIRED.get(name, {})
                        out[f"{name}/{dtype}/{shape}"] = lambda f=func, s=shape, d=dtype, a=args: f(
                            np.empty(s, d), **a
                        )
            if _takes_seed(name):
                for i, (shape, region) in enumerate(REGIONS):
                    key = f"{name}/{dtype}/region{i}/{SEEDS[1]}"
                    out[key] = _region(name, shape, region, dtype, SEEDS[1])
    for name, extra in EXTRA:
        unknown = extra.keys() - _parameters(name).keys()
        assert not unknown, f"EXTRA: {name} takes no {sorted(unknown)}"
        args = ",".join(f"{k}={v!r}" for k, v in extra.items())
        for dtype in map(_dtype, DTYPES):
            for shape in SHAPES:
                key = f"{name}({args})/{dtype}/{shape}/{SEEDS[0]}"
                out[key] = _call(name, shape, dtype, SEEDS[0], **extra)
    return out


def stream_case() -> Any:
    """The package seed stream: five ``seed=None`` calls after ``set_seed(7)``."""

    def make() -> Any:
        paraminit.set_seed(7)
        return np.concatenate([paraminit.uniform_init(np.empty(100, "f")) for _ in range(5)])

    return make


def compute(threads: int = 2) -> dict[str, dict[str, Any]]:
    """Every case's entry, computed on ``threads`` threads."""
    paraminit.set_num_threads(threads)
    try:
        found = {key: _entry(make) for key, make in cases().items()}
        found["seed_stream"] = _entry(stream_case())
    finally:
        paraminit.set_num_threads(None)
    return found


def cpu_dispatch() -> tuple[list[str], dict[str, bool]]:
    """numpy's dispatch targets, and which CPU features are on (what NPY_DISABLE_CPU_FEATURES
    turns off)."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # numpy < 2
        from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
    return list(umath.__cpu_dispatch__), dict(umath.__cpu_features__)


def load() -> dict[str, Any]:
    fixture: dict[str, Any] = json.loads(FIXTURE.read_text())
    return fixture


def differences(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """One line per case that differs, is missing or is new."""
    lines = []
    for key in sorted(expected.keys() | found.keys()):
        want, got = expected.get(key), found.get(key)
        if want != got:
            lines.append(f"{key}: fixture {want}, now {got}")
    return lines


def main(argv: list[str]) -> int:
    found = compute()
    fixture = load() if FIXTURE.exists() else None
    expected = fixture["cases"] if fixture else {}
    if "--check" in argv:
        if fixture is None:
            print(f"no fixture at {FIXTURE}")
            return 1
        lines = differences(expected, found)
        print("\n".join(lines[:50]))
        print(f"{len(found)} cases computed, {len(lines)} differ from {FIXTURE.name}")
        return 1 if lines else 0
    changed = [key for key in expected if key in found and expected[key] != found[key]]
    released = bool(fixture and fixture["released"])
    if changed and released:
        print("\n".join(differences({k: expected[k] for k in changed}, found)[:50]))
        print(
            f"refusing to change {len(changed)} entries of released stream version "
            f"{STREAM_VERSION}: a .vN name's values never change (make a new version)"
        )
        return 1
    # Unreleased: the fixture is what this code makes. Released: new cases join,
    # and cases no longer made stay pinned.
    merged = {**expected, **found} if released else found
    FIXTURE.parent.mkdir(exist_ok=True)
    head = {
        "stream_version": STREAM_VERSION,
        "released": released or "--release" in argv,
        "numpy": np.__version__,
    }
    lines = [f" {json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()]
    entries = [f"  {json.dumps(k)}: {json.dumps(merged[k])}" for k in sorted(merged)]
    lines.append(' "cases": {\n' + ",\n".join(entries) + "\n }")
    text = "{\n" + ",\n".join(lines) + "\n}\n"  # one case per line: readable diffs
    partial = FIXTURE.with_suffix(".json.tmp")
    partial.write_text(text)
    partial.replace(FIXTURE)
    added = len(merged) - len(expected)
    print(f"{FIXTURE}: {added} cases added, {len(changed)} changed, {len(merged)} in all")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
