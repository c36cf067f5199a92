"""`paraminit build --output` in each format, `paraminit verify`, `--scheduler` and progress.

The console script runs in a subprocess; progress on a terminal is checked under a
pseudo-terminal (the ``pty`` module), so rich sees a real TTY.
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("zarr", reason="the dask extra is not installed")
pytest.importorskip("safetensors", reason="the safetensors extra is not installed")
pytest.importorskip("rich", reason="the cli extra is not installed")

import paraminit
from _files import assert_same, load
from conftest import RunCli
from paraminit.outputs import Provenance, write_params
from paraminit.outputs.formats import read_provenance

FORMATS = ["npz", "safetensors", "zarr"]

CONFIG = """
[model]
@layers = "Chain.v1"

[model.*.embed]
@layers = "Embed.v1"
nV = 300
nO = 16

[model.*.hidden]
@layers = "Linear.v1"
nO = 24
activation = "relu"

[model.*.hidden.init_W]
@initializers = "orthogonal_init.v1"

[model.*.out]
@layers = "Linear.v1"
nO = 4
"""
SEED = 11
# The progress bar appears at once (it waits a second by default).
NOW = {"PARAMINIT_PROGRESS_DELAY": "0"}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "model.cfg"
    path.write_text(CONFIG)
    return path


@pytest.fixture(scope="module")
def expected() -> dict[str, np.ndarray[Any, Any]]:
    return paraminit.build(CONFIG, seed=SEED).params


def alter_one_value(path: Path) -> str:
    """Rewrite ``path`` with one value of one parameter changed; return that parameter."""
    text, _ = read_provenance(path)
    assert text is not None
    params = load(path)
    name = sorted(params)[0]
    params[name] = params[name].copy()
    params[name].flat[3] += 1.0
    write_params(path, params, Provenance.from_json(text))
    return name


# --- build --output


@pytest.mark.parametrize("fmt", FORMATS)
def test_build_output_writes_the_in_memory_build_in_each_format(
    fmt: str, config: Path, expected: dict[str, Any], run_cli: RunCli, tmp_path: Path
) -> None:
    output = tmp_path / f"params.{fmt}"
    result = run_cli("build", config, "--seed", SEED, "--output", output, "--json")
    assert result.returncode == 0, result.stderr
    assert_same(load(output), expected)
    report = json.loads(result.stdout)
    assert [row["path"] for row in report["params"]] == list(expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.cfg", f"params.{fmt}"]


def test_a_zarr_build_prints_no_statistics_it_never_held(
    config: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    result = run_cli("build", config, "--seed", SEED, "--output", tmp_path / "p.zarr", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["params"]
    assert all(row["mean"] is None and row["std"] is None for row in rows)
    assert rows[0]["expected_std"] is not None
    table = run_cli("build", config, "--seed", SEED, "--output", tmp_path / "p.zarr")
    assert table.returncode == 0, table.stderr
    assert "expected std" in table.stdout and "mean" not in table.stdout


def test_an_unknown_output_format_is_refused_before_building(
    run_cli: RunCli, tmp_path: Path
) -> None:
    config = tmp_path / "huge.cfg"  # would be refused with exit 1 if it were built
    config.write_text('[model]\n@layers = "Linear.v1"\nnI = 1000000\nnO = 1000000\n')
    result = run_cli("build", config, "--output", tmp_path / "params.h5")
    lines = result.stderr.strip().splitlines()
    assert (result.returncode, len(lines)) == (2, 1), result.stderr
    assert "unknown output format '.h5'" in lines[0]
    assert ".npz, .safetensors or .zarr" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.cfg"]


# --- verify


@pytest.mark.parametrize("fmt", FORMATS)
def test_verify_exits_0_for_a_written_file_and_4_after_one_value_changed(
    fmt: str, config: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    output = tmp_path / f"params.{fmt}"
    assert run_cli("build", config, "--output", output).returncode == 0
    good = run_cli("verify", output)
    assert good.returncode == 0, good.stderr
    assert "every one of 5 parameters is bit-identical" in good.stdout
    name = alter_one_value(output)
    bad = run_cli("verify", output, "--json")
    assert bad.returncode == 4, bad.stderr
    checks = {c["path"]: c for c in json.loads(bad.stdout)["params"]}
    assert checks[name]["differing"] == 1 and not checks[name]["identical"]
    assert all(c["identical"] for path, c in checks.items() if path != name)
    table = run_cli("verify", output)
    assert table.returncode == 4
    assert "differs: 1 of" in table.stdout and "1 of 5 parameters do not match" in table.stdout


def test_verify_says_which_parameter_could_not_be_compared(
    config: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    output = tmp_path / "params.npz"
    assert run_cli("build", config, "--output", output).returncode == 0
    text, _ = read_provenance(output)
    assert text is not None
    params = load(output)
    del params["model.*.out.b"]
    write_params(output, params, Provenance.from_json(text))
    result = run_cli("verify", output)
    assert result.returncode == 4, result.stderr
    assert "could not compare: missing from the file" in result.stdout


def test_verify_exits_1_with_one_line_for_a_file_without_provenance(
    run_cli: RunCli, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.npz"
    np.savez(plain, W=np.zeros((2, 2), dtype=np.float32))
    result = run_cli("verify", plain)
    lines = result.stderr.strip().splitlines()
    assert (result.returncode, len(lines)) == (1, 1), result.stderr
    assert lines[0] == f"paraminit: {plain} has no paraminit provenance"
    assert result.stdout == ""


# --- progress


def test_progress_is_silent_off_a_terminal_and_with_quiet(
    config: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    for quiet in ([], ["--quiet"]):
        output = tmp_path / "params.safetensors"
        result = run_cli("build", config, "--output", output, *quiet, env=NOW)
        assert (result.returncode, result.stderr) == (0, ""), quiet
        verified = run_cli("verify", output, *quiet, env=NOW)
        assert (verified.returncode, verified.stderr) == (0, ""), quiet


def run_in_pty(argv: list[str | Path], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run ``argv`` with its stderr on a pseudo-terminal: status, stdout, terminal output."""
    master, slave = os.openpty()
    stdout = cwd / "stdout.txt"
    with stdout.open("w") as out:
        process = subprocess.Popen(
            [str(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=slave,
            env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", **env},
            cwd=cwd,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError as err:  # EIO: every writer to the terminal has closed it
                assert err.errno == errno.EIO
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        status = process.wait(timeout=120)
    text = stdout.read_text()
    stdout.unlink()
    terminal = b"".join(chunks).decode("utf8", "replace")
    return status, text, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal)  # no colours


@pytest.mark.parametrize("fmt", ["npz", "zarr"])
def test_a_terminal_shows_progress_by_parameters_and_bytes(
    fmt: str, config: Path, expected: dict[str, Any], paraminit_exe: str, tmp_path: Path
) -> None:
    output = tmp_path / f"params.{fmt}"
    argv: list[str | Path] = [paraminit_exe, "build", config, "--output", output, "--json"]
    status, stdout, terminal = run_in_pty(argv, NOW, tmp_path)
    assert status == 0, terminal
    json.loads(stdout)  # the bar is on stderr only
    if fmt == "npz":  # built in memory first, parameter by parameter
        assert re.search(r"building .* 5/5 +model\.\*\.out\.b", terminal), terminal
    total = sum(values.nbytes for values in expected.values()) / 1024
    assert re.search(rf"writing .* {total:.1f}/{total:.1f} KiB", terminal), terminal
    status, _, terminal = run_in_pty([paraminit_exe, "verify", output], NOW, tmp_path)
    assert status == 0 and "verifying" in terminal
    status, _, terminal = run_in_pty([*argv, "--quiet"], NOW, tmp_path)
    assert (status, terminal) == (0, "")


# --- a distributed scheduler


def test_scheduler_builds_and_verifies_a_zarr_store_on_a_cluster(
    cluster: Any, config: Path, expected: dict[str, Any], run_cli: RunCli, tmp_path: Path
) -> None:
    address = cluster.scheduler.address
    output = tmp_path / "params.zarr"
    result = run_cli("build", config, "--seed", SEED, "--output", output, "--scheduler", address)
    assert result.returncode == 0, result.stderr
    assert_same(load(output), expected)
    verified = run_cli("verify", output, "--scheduler", address)
    assert verified.returncode == 0, verified.stderr
    alter_one_value(output)
    assert run_cli("verify", output, "--scheduler", address).returncode == 4
