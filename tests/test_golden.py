"""Golden values: every case of tests/golden/v<STREAM_VERSION>.json, recomputed here, on
other CPU dispatch targets, and with the oldest numpy that pyproject.toml allows."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

import _golden
import paraminit
from paraminit.engine import STREAM_VERSION

ROOT = Path(__file__).parent.parent
CACHE = Path(os.environ.get("PARAMINIT_CI_CACHE", Path.home() / ".cache" / "paraminit-ci"))
BF16_EXTRA = "ml_dtypes>=0.4"  # pyproject.toml's bf16 extra


def _assert_golden(found: dict[str, Any]) -> None:
    lines = _golden.differences(_golden.load()["cases"], found)
    assert not lines, f"{len(lines)} cases differ from the fixture:\n" + "\n".join(lines[:20])


def test_the_fixture_is_the_engines_stream_version() -> None:
    from paraminit import outputs

    assert _golden.load()["stream_version"] == STREAM_VERSION == outputs.STREAM_VERSION


def test_golden_values_match_the_fixture() -> None:
    _assert_golden(_golden.compute(threads=2))


def test_golden_values_on_one_thread() -> None:
    _assert_golden(_golden.compute(threads=1))


def test_the_fixture_covers_every_registered_initializer() -> None:
    cases = _golden.load()["cases"]
    for name in paraminit.registry.initializers.names():
        if name not in _golden.EXEMPT:
            assert any(key.startswith(f"{name}/float16/") for key in cases), name


# ------------------------------------------------------------- CPU dispatch


def _disable(pattern: str) -> list[str]:
    """The dispatch targets numpy has here whose names match ``pattern``, and are on."""
    targets, features = _golden.cpu_dispatch()
    return [t for t in targets if re.fullmatch(pattern, t) and features.get(t)]


# AVX-512 (numpy 2.4 names the level X86_V4, older numpy AVX512_SKX...); then
# AVX2/FMA too (X86_V3, or AVX2 and FMA3 on older numpy). Only names numpy
# dispatches to and this CPU has: numpy refuses to disable anything else.
SETTINGS = {
    "no-avx512": r"X86_V4|AVX512.*",
    "no-avx2-fma": r"X86_V4|X86_V3|AVX512.*|AVX2|FMA3",
}
_CHECK = """
import sys
sys.path.insert(0, {tests!r})
import _golden
_, features = _golden.cpu_dispatch()
assert not any(features[name] for name in {names!r}), "not disabled"
sys.exit(_golden.main(["--check"]))
"""


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_golden_values_with_cpu_features_disabled(setting: str) -> None:
    names = _disable(SETTINGS[setting])
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(names)}
    code = _CHECK.format(tests=str(ROOT / "tests"), names=names)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 differ" in done.stdout


# ------------------------------------------------------------- oldest numpy


def _runtime_requirements() -> list[str]:
    """``[project] dependencies`` of pyproject.toml (tomllib is Python 3.11+)."""
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M)
    assert block is not None
    return re.findall(r'"([^"]+)"', block.group(1))


def oldest_numpy() -> str:
    """The oldest numpy pyproject.toml allows, as a pip version: its floor's minor, last patch."""
    (floor,) = [r for r in _runtime_requirements() if r.startswith("numpy")]
    found = re.fullmatch(r"numpy>=(\d+\.\d+)(\.\d+)?", floor.replace(" ", ""))
    assert found is not None, floor
    return f"{found.group(1)}.*"


def _runtime_deps() -> list[str]:
    """The run-time deps but numpy, and the bf16 extra: the fixture has bfloat16 cases."""
    return [r for r in _runtime_requirements() if not r.startswith("numpy")] + [BF16_EXTRA]


@pytest.fixture(scope="session")
def oldest_numpy_python() -> Path:
    """A Python whose environment has the oldest allowed numpy and the run-time deps.

    Built once into a cache directory (``PARAMINIT_CI_CACHE``, default
    ``~/.cache/paraminit-ci``) named by its requirements, and reused; paraminit
    itself is not installed there but imported from ``src`` (so one cache serves
    every checkout). Built in a temporary directory and renamed, so an
    interrupted build leaves nothing half-made.
    """
    requirements = [f"numpy=={oldest_numpy()}", *_runtime_deps()]
    tag = re.sub(r"[^A-Za-z0-9.]+", "-", " ".join(requirements)).strip("-")
    version = f"py{sys.version_info.major}{sys.version_info.minor}"
    home = CACHE / f"{version}-{tag}"
    python = home / "bin" / "python"
    if python.exists():
        return python
    CACHE.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="building-", dir=CACHE))
    try:
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True)
        pip = [str(building / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), *requirements], check=True)
        building.rename(home)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    # The venv's scripts name the directory they were made in; python itself is a link.
    return python


def test_golden_values_with_the_oldest_numpy(oldest_numpy_python: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    done = subprocess.run(
        [str(oldest_numpy_python), str(ROOT / "tests" / "_golden.py"), "--check"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 differ" in done.stdout
    version = subprocess.run(
        [str(oldest_numpy_python), "-c", "import numpy; print(numpy.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert re.fullmatch(oldest_numpy().replace(".", r"\.").replace("*", r"\d+"), version)


# ------------------------------------------------------------- the writer


def _with_fixture(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, released: bool, change: str
) -> Path:
    fixture = json.loads(_golden.FIXTURE.read_text())
    fixture["released"] = released
    fixture["cases"][change]["sha256"] = "0" * 64
    path = tmp_path / "v.json"
    path.write_text(json.dumps(fixture))
    monkeypatch.setattr(_golden, "FIXTURE", path)
    return path


CHANGED = f"uniform_init.v1/float32/(24, 40)/{_golden.SEEDS[0]}"


def test_the_writer_refuses_to_change_a_released_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _with_fixture(monkeypatch, tmp_path, True, CHANGED)
    before = path.read_text()
    assert _golden.main([]) == 1
    assert path.read_text() == before


def test_the_writer_rewrites_an_unreleased_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _with_fixture(monkeypatch, tmp_path, False, CHANGED)
    assert _golden.main([]) == 0
    assert json.loads(path.read_text())["cases"] == _golden.load()["cases"]
    assert _golden.main(["--check"]) == 0


def test_the_writer_adds_new_cases_to_a_released_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _with_fixture(monkeypatch, tmp_path, True, CHANGED)
    fixture = json.loads(path.read_text())
    fixture["cases"][CHANGED] = _golden.compute()[CHANGED]
    del fixture["cases"]["seed_stream"]
    path.write_text(json.dumps(fixture))
    assert _golden.main([]) == 0
    assert "seed_stream" in json.loads(path.read_text())["cases"]
