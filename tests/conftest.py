"""Shared fixtures: thread count reset, the shipped configs, the console script, the plugin,
fresh interpreters, and the config blocks tests resolve."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import paraminit

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
PLUGIN_SOURCE = ROOT / "examples" / "paraminit-rademacher"

RunCli = Callable[..., subprocess.CompletedProcess[str]]
RunPython = Callable[..., subprocess.CompletedProcess[str]]


def init_block(name: str, section: str = "layer.init", **args: object) -> str:
    """Config text of one initializer block: ``[<section>]`` naming ``name``, with ``args``.

    Values are config text (``lo = -0.5``, ``colour = "red"``); parent sections are declared.
    """
    parts = section.split(".")
    lines = [f"[{'.'.join(parts[: i + 1])}]" for i in range(len(parts))]
    lines.append(f'@initializers = "{name}"')
    lines += [f"{key} = {value}" for key, value in args.items()]
    return "\n".join(lines)


@pytest.fixture(autouse=True)
def _restore_threads() -> object:
    """Tests that change the thread count get the default back afterwards."""
    yield
    paraminit.set_num_threads(None)


@pytest.fixture(scope="session")
def configs() -> Path:
    """The directory of the shipped configs (``configs/default.cfg``, ...)."""
    return CONFIGS


@pytest.fixture(scope="session")
def cluster() -> Iterator[Any]:
    """A ``distributed.Client`` of two worker processes on this machine, one thread each."""
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    with (
        # Loopback only, and a free port for the scheduler's HTTP server: its default
        # (8787) may be taken by another cluster on this machine, and the warning
        # that it moved is an error under this suite's filterwarnings.
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
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


def _run(
    argv: list[str], plugin: Path | None, env: dict[str, str] | None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, cwd=cwd, env=_env(plugin, env), timeout=120
    )


@pytest.fixture(scope="session")
def run_cli(paraminit_exe: str) -> RunCli:
    """Run the console script: ``run_cli(*args, plugin=path, env={...}, cwd=...)``."""

    def run(
        *args: str | Path,
        plugin: Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> subprocess.CompletedProcess[str]:
        return _run([paraminit_exe, *map(str, args)], plugin, env, cwd)

    return run


@pytest.fixture(scope="session")
def run_python() -> RunPython:
    """Run ``code`` in a fresh interpreter: ``run_python(code, *args, plugin=path, env=...)``.

    ``plugin`` goes first on ``PYTHONPATH``, so its entry points are found as after
    ``pip install``; ``code`` is dedented.
    """

    def run(
        code: str,
        *args: str,
        plugin: Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> subprocess.CompletedProcess[str]:
        return _run([sys.executable, "-c", textwrap.dedent(code), *args], plugin, env, cwd)

    return run
