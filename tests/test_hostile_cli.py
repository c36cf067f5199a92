"""Hostile command lines: every user error is one line per problem on stderr, exit 1 or 2.

A corpus of bad configs and invocations runs through ``paraminit.cli.main`` in
this process (an escaping exception fails the test, as a traceback would); what
depends on the process itself (environment variables read once, closed pipes,
closed stdout) runs the real console script in a subprocess. Generated cases
(hypothesis, derandomized) cover seeds, sizes and config text.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import RunCli
from paraminit.cli import main

OK = '[model]\n@layers = "Linear.v1"\nnI = 4\nnO = 3\n'
INIT = '[model.init_W]\n@initializers = "{name}"\n{args}\n'


def linear(n_in: int = 4, n_out: int = 3, init: str = "", **args: object) -> str:
    text = f'[model]\n@layers = "Linear.v1"\nnI = {n_in}\nnO = {n_out}\n'
    if init:
        text += INIT.format(name=init, args="\n".join(f"{k} = {v}" for k, v in args.items()))
    return text


TWO_BAD_INITS = (
    '[model]\n@layers = "Chain.v1"\n'
    '[model.*.a]\n@layers = "Linear.v1"\nnI = 4\nnO = 4\n'
    '[model.*.a.init_W]\n@initializers = "xavier_uniform_init.v1"\ngain = 1e200\n'
    '[model.*.b]\n@layers = "Linear.v1"\nnO = 4\n'
    '[model.*.b.init_W]\n@initializers = "variance_scaling_init.v1"\nscale = 5e-324\n'
)

# name -> (config text, extra arguments, exit status, lines on stderr, words in stderr)
CORPUS: dict[str, tuple[str | bytes, list[str], int, int, str]] = {
    "invalid-field": (linear(n_out=-2), [], 1, 1, "must be > 0"),
    "three-invalid-fields": (
        linear(n_out=-2, init="uniform_init.v1", lo=1.0, hi=0.5).replace(
            "nO = -2", 'nO = -2\nactivation = "relux"'
        ),
        [],
        1,
        3,
        "relux",
    ),
    "overflowing-gain": (
        linear(init="xavier_uniform_init.v1", gain=1e200),
        [],
        1,
        1,
        "xavier_uniform_init",
    ),
    "two-failing-parameters": (TWO_BAD_INITS, [], 1, 2, "model -> * -> b -> init_W"),
    "10**12-elements": (linear(10**6, 10**6), [], 1, 1, "4,000,000,000,000 bytes"),
    "duplicate-section": (OK + "[model]\nnO = 2\n", [], 1, 1, "duplicate section [model]"),
    "duplicate-key": (OK + "nO = 5\n", [], 1, 1, "line 5: duplicate key 'nO'"),
    "circular-reference": (
        "[vars]\na = ${vars.b}\nb = ${vars.a}\n" + OK,
        [],
        1,
        1,
        "circular",
    ),
    "unterminated-reference": ("[vars]\na = ${vars.b\nb = 1\n" + OK, [], 1, 1, "unterminated"),
    "self-referring-section": (OK + "extra = ${model}\n", [], 1, 1, "refers to itself"),
    "1000-nested-sections": (
        OK + "".join(f"[model.{'.'.join(['s'] * i)}]\nx = 1\n" for i in range(1, 1001)),
        [],
        1,
        1,
        "nested 1001 deep",
    ),
    "no-section-header": ("nO = 3\n" + OK, [], 1, 1, "no section headers"),
    "not-utf8": (b'[model]\n@layers = "Linear.v1"\nnI = \xff\n', [], 1, 1, "not UTF-8"),
    "no-model": ("[vars]\nx = 1\n", [], 1, 1, "[model] section"),
    "seed-2**128": (OK, ["--seed", str(2**128)], 2, 1, "[0, 2**128)"),
    "seed-expression": (OK, ["--seed", "2**128"], 2, 1, "'2**128'"),
    "seed-negative": (OK, ["--seed=-1"], 2, 1, "[0, 2**128)"),
    "seed-float": (OK, ["--seed", "1e3"], 2, 1, "'1e3'"),
    "override-to-no-section": (OK, ["--nowhere.key=1"], 2, 1, "no section [nowhere]"),
    "override-without-value": (OK, ["--model.nO"], 2, 1, "has no value"),
    "stray-argument": (OK, ["stray"], 2, 1, "unrecognized argument 'stray'"),
    "unknown-option": (OK, ["--frobnicate"], 2, 1, "unrecognized argument"),
}


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """``paraminit ARGV`` in this process: its exit status and its stderr lines."""
    try:
        status = main(argv)
    except SystemExit as exit:  # argparse's own errors
        status = exit.code if isinstance(exit.code, int) else 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err.strip().splitlines()


@pytest.fixture(autouse=True)
def _no_progress_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow parse would show the progress line; these tests count error lines only."""
    monkeypatch.setenv("PARAMINIT_PROGRESS_DELAY", "1e9")


@pytest.mark.parametrize("case", sorted(CORPUS))
@pytest.mark.parametrize("command", ["build", "diagnose"])
def test_each_bad_config_or_invocation_is_one_line_per_problem(
    case: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, extra, status, count, words = CORPUS[case]
    config = tmp_path / "bad.cfg"
    if isinstance(text, bytes):
        config.write_bytes(text)
    else:
        config.write_text(text, encoding="utf8")
    got, lines = run_main([command, str(config), *extra], capsys)
    assert (got, len(lines)) == (status, count), lines
    assert words in "\n".join(lines)
    assert all(line.startswith("paraminit") for line in lines), lines


@pytest.mark.parametrize(
    "argv, words",
    [
        (["show", "no_such_init"], "no initializer or layer named"),
        (["list", "extra"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
        (["build", "{tmp}/missing.cfg"], "no such file"),
        (["build", "{tmp}"], "it is a directory"),
        (["build", "{ok}", "--output", "{tmp}/no/dir/p.npz"], "does not exist"),
        (["build", "{bad}", "--output", "{tmp}/p.h5"], "unknown output format '.h5'"),
        (["build", "{bad}", "--output", "{tmp}/p"], "unknown output format '(no extension)'"),
        (["build", "{bad}", "--output", "{tmp}/ok.cfg.zarr"], "it exists and is not a zarr"),
        (["build", "{bad}", "--output", "{tmp}/p.npz", "--scheduler", "x"], ".zarr stores only"),
        (["build", "{bad}", "--scheduler", "tcp://127.0.0.1:1"], ".zarr stores only"),
        (["build", "{ok}", "--output", "{tmp}/p.zarr", "--scheduler", "nope://x"], "scheduler"),
        (["verify", "{tmp}/missing.npz"], "no such file"),
        (["verify", "{ok}"], "unknown format '.cfg'"),
        (["verify", "{tmp}/ok.cfg.zarr", "--scheduler", "nope://x"], "scheduler"),
        (["verify", "{tmp}/p.npz", "--frobnicate"], "unrecognized arguments"),
        (["diagnose", "{ok}", "--batch", "1"], "--batch must be at least 2"),
        (["plot", "{bad}", "--output", "{tmp}/p.xyz"], "unsupported image format '.xyz'"),
        (["diagnose", "{bad}", "--plot", "{tmp}/x.xyz"], "unsupported image format '.xyz'"),
    ],
)
def test_each_usage_error_is_one_line_and_exit_2(
    argv: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ok, bad = tmp_path / "ok.cfg", tmp_path / "bad.cfg"
    ok.write_text(OK)
    bad.write_text(linear(10**6, 10**6))  # an output format is refused before this is built
    (tmp_path / "ok.cfg.zarr").write_text("not a store")
    args = [a.format(tmp=tmp_path, ok=ok, bad=bad) for a in argv]
    status, lines = run_main(args, capsys)
    assert (status, len(lines)) == (2, 1), lines
    assert words in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.cfg", "ok.cfg", "ok.cfg.zarr"]


def test_a_byte_order_mark_is_read_as_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bom.cfg"
    config.write_text("\ufeff" + OK, encoding="utf8")
    status, lines = run_main(["build", str(config), "--seed", "1"], capsys)
    assert status == 0, lines


# --- generated cases --------------------------------------------------------------------

_FUNCTION_SCOPED = [HealthCheck.function_scoped_fixture]


@settings(derandomize=True, max_examples=30, deadline=None, suppress_health_check=_FUNCTION_SCOPED)
@given(seed=st.one_of(st.integers(max_value=-1), st.integers(min_value=2**128)))
def test_any_out_of_range_seed_is_one_line_and_exit_2(
    seed: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ok.cfg"
    config.write_text(OK)
    status, lines = run_main(["build", str(config), f"--seed={seed}"], capsys)
    assert (status, len(lines)) == (2, 1), lines
    assert "--seed" in lines[0]


@settings(derandomize=True, max_examples=20, deadline=None, suppress_health_check=_FUNCTION_SCOPED)
@given(n_in=st.integers(10**6, 10**12), n_out=st.integers(10**6, 10**12))
def test_any_layer_too_big_for_memory_is_refused_with_its_bytes(
    n_in: int, n_out: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "big.cfg"
    config.write_text(linear(n_in, n_out))
    status, lines = run_main(["build", str(config)], capsys)
    assert status == 1
    # The weights, and the bias too when it alone is over the limit: one line each.
    assert lines[0].startswith("paraminit: model -> W: ")
    assert f"needs {n_in * n_out * 4:,} bytes" in lines[0]
    assert [line.split(":")[1] for line in lines[1:]] in ([], [" model -> b"])


CONFIG_CHARS = st.sampled_from(
    [
        *["[", "]", "model", "vars", ".", "*", "${", "}", "=", "\n", " ", "@layers"],
        *['"Linear.v1"', "nI", "nO", "4", "-1", "x", "#", ";", "\ufeff", "\\", "'", "%", "$"],
        "init_W",
    ]
)


@settings(derandomize=True, max_examples=60, deadline=None, suppress_health_check=_FUNCTION_SCOPED)
@given(parts=st.lists(CONFIG_CHARS, max_size=40))
def test_any_config_text_ends_in_a_result_or_one_line_per_problem(
    parts: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "fuzz.cfg"
    config.write_text("".join(parts), encoding="utf8")
    status, lines = run_main(["build", str(config), "--seed", "0", "--json"], capsys)
    assert status in (0, 1, 2)
    if status:
        assert lines and all(line.startswith("paraminit: ") for line in lines), lines


# --- the process itself: environment, pipes, closed stdout -----------------------------


@pytest.mark.parametrize(
    "variable, value, rule",
    [
        ("PARAMINIT_PROGRESS_DELAY", "abc", "a finite number of seconds >= 0"),
        ("PARAMINIT_PROGRESS_DELAY", "nan", "a finite number of seconds >= 0"),
        ("PARAMINIT_PROGRESS_DELAY", "-1", "a finite number of seconds >= 0"),
        ("PARAMINIT_NUM_THREADS", "abc", "a positive int"),
        ("PARAMINIT_NUM_THREADS", "0", "a positive int"),
        ("PARAMINIT_NATIVE", "abc", "must be 0 or 1"),
    ],
)
def test_a_bad_environment_variable_is_one_line_naming_it(
    variable: str, value: str, rule: str, run_cli: RunCli, tmp_path: Path
) -> None:
    config = tmp_path / "ok.cfg"
    config.write_text(OK)
    result = run_cli("build", config, env={variable: value})
    lines = result.stderr.strip().splitlines()
    assert (result.returncode, len(lines)) == (2, 1), result.stderr
    assert variable in lines[0] and repr(value) in lines[0] and rule in lines[0]
    assert "model" not in lines[0]  # the environment's error, not a config path's


def test_a_closed_pipe_ends_quietly(paraminit_exe: str) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        result = subprocess.run(
            [paraminit_exe, "list"], stdout=write, stderr=subprocess.PIPE, text=True, timeout=120
        )
    finally:
        os.close(write)
    assert result.returncode == 1
    assert result.stderr == ""


def test_list_into_head_prints_one_line_and_no_error(paraminit_exe: str) -> None:
    result = subprocess.run(
        ["bash", "-c", f"'{paraminit_exe}' list --json | head -1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout == "[\n"
    assert result.stderr == ""


def test_a_closed_stdout_builds_quietly(paraminit_exe: str, tmp_path: Path) -> None:
    config = tmp_path / "ok.cfg"
    config.write_text(OK)
    output = tmp_path / "params.npz"
    result = subprocess.run(
        ["bash", "-c", f"'{paraminit_exe}' build '{config}' --output '{output}' >&-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert output.is_file()


# --- the same rules from Python ---------------------------------------------------------

PARSE_ERRORS = {
    "duplicate section [model]": OK + "[model]\nnO = 2\n",
    "line 5: duplicate key 'nO'": OK + "nO = 5\n",
    "circular": "[vars]\na = ${vars.b}\nb = ${vars.a}\n",
    "unterminated": "[vars]\na = ${vars.b\n",
    "refers to itself": "[a]\n[a.b]\nx = ${a}\n",
    "nested 1000 deep": "".join(f"[{'.'.join(['s'] * i)}]\nx = 1\n" for i in range(1, 1001)),
}


@pytest.mark.parametrize("words", sorted(PARSE_ERRORS))
def test_config_from_str_errors_are_config_validation_errors_naming_the_problem(
    words: str,
) -> None:
    import paraminit

    with pytest.raises(paraminit.ConfigValidationError) as caught:
        paraminit.Config().from_str(PARSE_ERRORS[words])
    assert words in str(caught.value)


def test_config_from_str_reads_a_byte_order_mark_as_nothing() -> None:
    import paraminit

    assert paraminit.Config().from_str("\ufeff" + OK)["model"]["nO"] == 3


def test_build_reports_every_failing_parameter_from_python() -> None:
    import paraminit
    from paraminit.build import BuildError

    with pytest.raises(BuildError) as caught:
        paraminit.build(TWO_BAD_INITS, seed=0)
    assert [e["loc"] for e in caught.value.errors] == [
        ["model", "*", "a", "init_W"],
        ["model", "*", "b", "init_W"],
    ]


def test_max_bytes_refuses_a_model_before_allocating() -> None:
    import paraminit
    from paraminit.build import BuildError

    with pytest.raises(BuildError, match="needs 48 bytes") as caught:
        paraminit.build(OK, seed=0, max_bytes=40)
    assert "limit of 40 bytes" in str(caught.value)
    assert paraminit.build(OK, seed=0, max_bytes=60).params["model.W"].shape == (3, 4)
