"""The real `paraminit` console script, run in a subprocess: outputs, exit codes, files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import paraminit
from conftest import RunCli, RunPython

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

BAD = """
[model]
@layers = "Chain.v1"

[model.*.hidden]
@layers = "Linear.v1"
nI = 4
nO = -2
activation = "relux"

[model.*.hidden.init_W]
@initializers = "uniform_init.v1"
lo = 1.0
hi = 0.5
"""


# A small model that needs only the core initializers.
SMALL = """
[vars]
dim = 16

[model]
@layers = "Chain.v1"

[model.*.embed]
@layers = "Embed.v1"
nV = 500
nO = ${vars.dim}

[model.*.norm]
@layers = "LayerNorm.v1"

[model.*.hidden]
@layers = "Linear.v1"
nO = 32
activation = "relu"

[model.*.hidden.init_W]
@initializers = "normal_init.v1"

[model.*.output]
@layers = "Linear.v1"
nO = 4
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.cfg"
    path.write_text(SMALL)
    return path


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 5000
    # IHDR: a real image with a width and a height.
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 100 and height > 100


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("paraminit: ")
    return lines[0]


# --- list and show


def test_list_json_shows_every_initializer_layer_and_plugin(
    run_cli: RunCli, plugin_path: Path
) -> None:
    result = run_cli("list", "--json", plugin=plugin_path)
    assert result.returncode == 0, result.stderr
    entries = {e["name"]: e for e in json.loads(result.stdout)}
    for name in ("uniform_init.v1", "normal_init.v1", "xavier_uniform_init.v1", "zero_init.v1"):
        assert entries[name]["kind"] == "initializer"
    for name in ("Linear.v1", "Embed.v1", "LayerNorm.v1", "Chain.v1", "Clone.v1"):
        assert entries[name]["kind"] == "layer"
    plugin = entries["rademacher_init.v1"]
    assert plugin["function"] == "paraminit_rademacher:rademacher_init"
    lo = {a["name"]: a for a in entries["uniform_init.v1"]["arguments"]}["lo"]
    assert lo == {
        "name": "lo",
        "type": "float",
        "required": False,
        "default": -0.1,
        "constraints": ["finite"],
        "schema": {"type": "number"},
    }
    linear = {a["name"]: a for a in entries["Linear.v1"]["arguments"]}
    assert linear["nO"]["required"] and linear["nO"]["constraints"] == ["> 0"]
    assert linear["init_W"]["type"] == "initializer"
    assert linear["init_W"]["default"] == "xavier_uniform_init"
    assert "one of 'identity', 'relu'" in linear["activation"]["constraints"][0]
    assert {a["name"] for a in entries["Chain.v1"]["arguments"]} == {"*layers"}


def test_list_prints_a_table(run_cli: RunCli) -> None:
    result = run_cli("list")
    assert result.returncode == 0, result.stderr
    assert "initializers" in result.stdout and "layers" in result.stdout
    for text in ("uniform_init.v1", "finite", "Linear.v1", "activation", "required"):
        assert text in result.stdout


def test_show_prints_the_docs_and_arguments(run_cli: RunCli) -> None:
    result = run_cli("show", "uniform_init")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("uniform_init.v1  (initializer, paraminit.initializers")
    assert "Initialize values from a uniform distribution" in result.stdout
    assert "lo" in result.stdout and "finite" in result.stdout


def test_show_of_an_unknown_name_is_one_line_with_suggestions(run_cli: RunCli) -> None:
    line = _one_line_error(run_cli("show", "uniform_int"))
    assert "no initializer or layer named 'uniform_int'" in line
    assert "did you mean" in line and "uniform_init" in line


# --- build


def test_build_writes_the_params_it_reports(configs: Path, run_cli: RunCli, tmp_path: Path) -> None:
    output = tmp_path / "params.npz"
    config = configs / "mlp_relu_xavier.cfg"
    result = run_cli("build", config, "--seed", "5", "--output", output, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["seed"] == "5"
    expected = paraminit.build(config, seed=5).params
    with np.load(output, allow_pickle=False) as saved:
        assert sorted(saved.files) == sorted([*expected, "__paraminit__"])  # + provenance
        assert json.loads(saved["__paraminit__"].tobytes())["seed"] == "5"
        for path, values in expected.items():
            assert saved[path].dtype == np.float32
            assert np.array_equal(saved[path], values), path
    rows = {row["path"]: row for row in report["params"]}
    assert list(rows) == list(expected)
    W = expected["model.*.input.W"]
    row = rows["model.*.input.W"]
    assert row["shape"] == [256, 256] and row["dtype"] == "float32"
    assert row["initializer"] == "xavier_uniform_init.v1"
    assert row["std"] == pytest.approx(float(W.astype(np.float64).std()))
    assert row["min"] == float(W.min()) and row["max"] == float(W.max())
    assert row["expected_std"] == pytest.approx(np.sqrt(6 / 512) / np.sqrt(3))
    assert rows["model.*.input.b"]["expected_std"] == 0.0
    assert [p.name for p in tmp_path.iterdir()] == ["params.npz"]  # no temporary left


def test_build_prints_one_row_per_parameter(run_cli: RunCli, small: Path) -> None:
    result = run_cli("build", small, "--seed", "1")
    assert result.returncode == 0, result.stderr
    for column in ("path", "shape", "dtype", "initializer", "mean", "std", "expected std"):
        assert column in result.stdout
    for path in ("model.*.embed.E", "model.*.norm.scale", "model.*.output.W"):
        assert path in result.stdout
    assert "500x16" in result.stdout and "build seed 1" in result.stdout


def test_build_applies_overrides(configs: Path, run_cli: RunCli) -> None:
    result = run_cli(
        "build", configs / "mlp_relu_xavier.cfg", "--json", "--vars.width=32", "--vars.depth", "2"
    )
    assert result.returncode == 0, result.stderr
    shapes = {r["path"]: r["shape"] for r in json.loads(result.stdout)["params"]}
    assert shapes["model.*.input.W"] == [32, 256]
    assert shapes["model.*.hidden.1.W"] == [32, 32]
    assert "model.*.hidden.2.W" not in shapes


def test_plugin_config_builds_with_the_installed_plugin(
    configs: Path, run_cli: RunCli, plugin_path: Path
) -> None:
    result = run_cli(
        "build", configs / "plugin_example.cfg", "--seed", "0", "--json", plugin=plugin_path
    )
    assert result.returncode == 0, result.stderr
    rows = {r["path"]: r for r in json.loads(result.stdout)["params"]}
    row = rows["model.*.hidden1.W"]
    assert row["initializer"] == "rademacher_init.v1"
    expected = np.sqrt(2) / np.sqrt(64)
    assert row["max"] == pytest.approx(expected) and row["min"] == pytest.approx(-expected)
    assert row["expected_std"] == pytest.approx(expected)
    diagnosed = run_cli("diagnose", configs / "plugin_example.cfg", "--json", plugin=plugin_path)
    assert diagnosed.returncode == 0, diagnosed.stdout
    without = run_cli("build", configs / "plugin_example.cfg")
    assert without.returncode == 1
    assert "unknown initializers function 'rademacher_init.v1'" in without.stderr


def test_a_bad_config_prints_every_error_and_exits_1(run_cli: RunCli, tmp_path: Path) -> None:
    config = tmp_path / "bad.cfg"
    config.write_text(BAD)
    output = tmp_path / "params.npz"
    result = run_cli("build", config, "--output", output)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for where in (
        "model -> * -> hidden -> nO",
        "model -> * -> hidden -> activation",
        "model -> * -> hidden -> init_W -> hi",
    ):
        assert where in result.stderr
    assert list(tmp_path.iterdir()) == [config]  # nothing written


def test_a_missing_config_is_one_line_and_exit_2(run_cli: RunCli, tmp_path: Path) -> None:
    line = _one_line_error(run_cli("build", tmp_path / "nope.cfg"))
    assert "cannot read config" in line and "nope.cfg" in line


def test_a_bad_override_is_one_line_and_exit_2(run_cli: RunCli, small: Path) -> None:
    line = _one_line_error(run_cli("build", small, "--nosuch.width=3"))
    assert "override 'nosuch.width'" in line
    line = _one_line_error(run_cli("build", small, "stray"))
    assert "unrecognized argument 'stray'" in line


def test_an_unwritable_output_is_one_line_exit_2_and_writes_nothing(
    run_cli: RunCli, small: Path, tmp_path: Path
) -> None:
    output = tmp_path / "missing" / "params.npz"
    line = _one_line_error(run_cli("build", small, "--output", output))
    assert f"directory {output.parent} does not exist" in line
    directory = tmp_path / "params.npz"
    directory.mkdir()
    line = _one_line_error(run_cli("build", small, "--output", directory))
    assert "is a directory" in line
    assert sorted(tmp_path.iterdir()) == [directory, small]
    assert list(directory.iterdir()) == []


def test_progress_writes_nothing_off_a_terminal(run_cli: RunCli, small: Path) -> None:
    result = run_cli("build", small, "--json", env={"PARAMINIT_PROGRESS_DELAY": "0"})
    assert (result.returncode, result.stderr) == (0, "")
    json.loads(result.stdout)  # stdout stays clean


# --- diagnose and plot


def test_diagnose_flags_the_shrinking_xavier_relu_mlp_with_exit_3(
    configs: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    plot = tmp_path / "std.png"
    result = run_cli(
        "diagnose",
        configs / "mlp_relu_xavier.cfg",
        "--seed",
        "0",
        "--batch",
        "256",
        "--plot",
        plot,
        "--json",
    )
    assert result.returncode == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["batch"] == 256 and len(report["layers"]) == 20
    assert report["layers"][-1]["ratio"] < 0.01
    assert "model.*.output" in report["flagged"]
    _assert_png(plot)


def test_diagnose_passes_the_he_relu_mlp_with_exit_0(configs: Path, run_cli: RunCli) -> None:
    result = run_cli("diagnose", configs / "default.cfg", "--seed", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every layer keeps its std within [0.5, 2]x input" in result.stdout
    assert "model.*.hidden.17" in result.stdout


def test_plot_draws_a_histogram_per_parameter(run_cli: RunCli, small: Path, tmp_path: Path) -> None:
    output = tmp_path / "params.png"
    result = run_cli("plot", small, "--seed", "0", "--output", output)
    assert result.returncode == 0, result.stderr
    assert "histograms of 7 parameters" in result.stdout
    _assert_png(output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.png", "small.cfg"]


# --- entry points and fallbacks


def test_python_dash_m_runs_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "paraminit", "show", "Linear.v1", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "Linear.v1"


def test_without_rich_the_tables_are_plain_text(small: Path, run_python: RunPython) -> None:
    code = (
        "import sys; sys.modules['rich'] = None\n"
        "from paraminit.cli import main\n"
        f"raise SystemExit(main(['build', {str(small)!r}, '--seed', '1']))"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{small}: 7 parameters")
    assert lines[1].split()[:4] == ["path", "shape", "dtype", "initializer"]
    assert lines[2].split()[:4] == ["model.*.embed.E", "500x16", "float32", "uniform_init"]
    assert "━" not in result.stdout and "│" not in result.stdout


def test_list_shows_a_broken_plugin_and_everything_else(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "brokenplug.py").write_text("import not_a_module_anywhere\n")
    dist = tmp_path / "brokenplug-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplug\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[paraminit_initializers]\nbroken_init.v1 = brokenplug:f\n"
    )
    result = run_cli("list", "--json", plugin=tmp_path)
    assert result.returncode == 0, result.stderr
    entries = {e["name"]: e for e in json.loads(result.stdout)}
    assert "uniform_init.v1" in entries
    assert "No module named 'not_a_module_anywhere'" in entries["broken_init.v1"]["error"]
    table = run_cli("list", plugin=tmp_path)
    assert table.returncode == 0
    assert "uniform_init.v1" in table.stdout
    assert "'broken_init.v1 = brokenplug:f'" in table.stderr
