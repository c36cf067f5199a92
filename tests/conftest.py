"""Shared fixtures: thread count reset, the shipped configs, the console script, the plugin."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import paraminit

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
PLUGIN_SOURCE = ROOT / "examples" / "paraminit-rademacher"

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(autouse=True)
def _restore_threads() -> object:
    """Tests that change the thread count get the default back afterwards."""
    yield
    paraminit.set_num_threads(None)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Any]:
    """A ``distributed.Client`` of two worker processes on this machine, one thread each."""
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


@pytest.fixture(scope="session")
def paraminit_exe() -> str:
    """The ``paraminit`` console script of the environment running the tests."""
    found = shutil.which("paraminit", path=str(Path(sys.executable).parent))
    assert found is not None, f"no paraminit script beside {sys.executable}; pip install -e ."
    return found


@pytest.fixture(scope="session")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plugin, installed by pip (offline) into a directory of its own."""
    target = tmp_path_factory.mktemp("plugin")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(PLUGIN_SOURCE),
        ],
        check=True,
        capture_output=True,
    )
    assert (target / "paraminit_rademacher-0.1.0.dist-info" / "entry_points.txt").is_file()
    return target


def _env(extra_path: Path | None, env: dict[str, str] | None) -> dict[str, str]:
    result = dict(os.environ)
    if extra_path is not None:
        paths = [str(extra_path), *filter(None, [result.get("PYTHONPATH")])]
        result["PYTHONPATH"] = os.pathsep.join(paths)
    result.update(env or {})
    return result


@pytest.fixture(scope="session")
def run_cli(paraminit_exe: str) -> RunCli:
    """Run the console script: ``run_cli(*args, plugin=path, env={...}, cwd=...)``."""

    def run(
        *args: str | Path,
        plugin: Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [paraminit_exe, *map(str, args)],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=_env(plugin, env),
            timeout=120,
        )

    return run
