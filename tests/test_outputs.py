"""paraminit.outputs: .npz/.safetensors/.zarr round trips, provenance, verify, atomic writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("zarr", reason="the dask extra is not installed")
pytest.importorskip("dask.array", reason="the dask extra is not installed")
safetensors_numpy = pytest.importorskip(
    "safetensors.numpy", reason="the safetensors extra is not installed"
)

import zarr  # noqa: E402
from safetensors import safe_open  # noqa: E402

import paraminit  # noqa: E402
from _files import assert_same, load  # noqa: E402
from paraminit.build import plan as make_plan  # noqa: E402
from paraminit.outputs import (  # noqa: E402
    STREAM_VERSION,
    Provenance,
    verify,
    write_params,
)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

FORMATS = ["npz", "safetensors", "zarr"]
# Every kind of parameter: a multi-block table, constants, a whole-only initializer,
# a default initializer and a seed written in the config.
CONFIG = """
[model]
@layers = "Chain.v1"

[model.*.embed]
@layers = "Embed.v1"
nV = 700
nO = 96

[model.*.embed.init]
@initializers = "random_normal_init.v1"
std = 0.5

[model.*.norm]
@layers = "LayerNorm.v1"

[model.*.hidden]
@layers = "Linear.v1"
nO = 80
activation = "relu"

[model.*.hidden.init_W]
@initializers = "orthogonal_init.v1"

[model.*.out]
@layers = "Linear.v1"
nO = 10

[model.*.out.init_b]
@initializers = "uniform_init.v1"
seed = 99
"""
SMALL_CHUNKS = 4096  # bytes: many chunks per parameter, chunks that cut engine blocks


@pytest.fixture(scope="module")
def model() -> paraminit.Model:
    return paraminit.build(CONFIG, seed=2**90 + 3)


def provenance_text(path: Path) -> str:
    """The provenance JSON, read by the format's own library (no pickles)."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            return bytes(npz["__paraminit__"]).decode("utf8")
    if path.suffix == ".safetensors":
        with safe_open(str(path), framework="numpy") as handle:
            return str(handle.metadata()["paraminit"])
    return json.dumps(zarr.open_group(str(path), mode="r").attrs["paraminit"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_written_model_reads_back_bit_for_bit(
    model: paraminit.Model, tmp_path: Path, fmt: str
) -> None:
    path = write_params(tmp_path / f"m.{fmt}", model, chunk_bytes=SMALL_CHUNKS)
    assert path == tmp_path / f"m.{fmt}"
    assert_same(load(path), model.params)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_plan_writes_what_build_makes(model: paraminit.Model, tmp_path: Path, fmt: str) -> None:
    plan = make_plan(CONFIG, seed=model.seed)
    path = write_params(tmp_path / f"p.{fmt}", plan, chunk_bytes=SMALL_CHUNKS)
    assert_same(load(path), model.params)


@pytest.mark.parametrize("config", ["default.cfg", "embed_mlp.cfg", "deep_tanh.cfg"])
def test_plans_equal_builds(config: str) -> None:
    built = paraminit.build(CONFIGS / config, seed=5)
    plan = make_plan(CONFIGS / config, seed=5)
    assert [p.path for p in plan.params] == list(built.params)
    for param in plan.params:
        assert param.seed == built.info[param.path].seed
        assert np.array_equal(param.region(()), built.params[param.path])
        assert np.array_equal(param.region((slice(1, 3),)), built.params[param.path][1:3])


@pytest.mark.parametrize("fmt", FORMATS)
def test_provenance_is_in_the_formats_own_metadata(
    model: paraminit.Model, tmp_path: Path, fmt: str
) -> None:
    path = write_params(tmp_path / f"m.{fmt}", model)
    provenance = Provenance.from_json(provenance_text(path))
    assert provenance.seed == model.seed
    assert provenance.paraminit_version == paraminit.__version__
    assert provenance.stream_version == STREAM_VERSION
    rebuilt = paraminit.build(provenance.config, seed=provenance.seed)
    assert_same(rebuilt.params, model.params)


def test_provenance_keeps_overrides_and_variables(tmp_path: Path) -> None:
    model = paraminit.build(CONFIGS / "embed_mlp.cfg", seed=1, overrides={"vars.dim": 24})
    path = write_params(tmp_path / "m.npz", model)
    provenance = Provenance.from_json(provenance_text(path))
    assert paraminit.build(provenance.config, seed=1).params["model.*.embed.E"].shape[1] == 24
    assert verify(path).exit_code == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_verify_passes_on_a_good_file(model: paraminit.Model, tmp_path: Path, fmt: str) -> None:
    path = write_params(tmp_path / f"m.{fmt}", model, chunk_bytes=SMALL_CHUNKS)
    seen: list[tuple[int, int, str]] = []
    report = verify(path, chunk_bytes=SMALL_CHUNKS, progress=lambda *a: seen.append(a))
    assert report.error is None and report.exit_code == 0 and report.identical
    assert [c.name for c in report.params] == list(model.params)
    assert all(c.identical for c in report.params)
    total = sum(a.nbytes for a in model.params.values())
    assert max(s[0] for s in seen) == total and {s[1] for s in seen} == {total}


def alter_one_value(path: Path, name: str, index: tuple[int, ...]) -> None:
    """Change one stored value by one bit, keeping the file's provenance."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        arrays[name].view("u4")[index] ^= 1
        np.savez(path, **arrays)  # type: ignore[arg-type]
    elif path.suffix == ".safetensors":
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata()
        tensors = safetensors_numpy.load_file(path)
        tensors[name].view("u4")[index] ^= 1
        safetensors_numpy.save_file(tensors, path, metadata=metadata)
    else:
        array = zarr.open_array(str(path), path=name, mode="r+")
        value = np.array(array[index], dtype="f4")
        value.view("u4")[...] ^= 1
        array[index] = value


@pytest.mark.parametrize("fmt", FORMATS)
def test_verify_finds_one_altered_value(model: paraminit.Model, tmp_path: Path, fmt: str) -> None:
    path = write_params(tmp_path / f"m.{fmt}", model, chunk_bytes=SMALL_CHUNKS)
    alter_one_value(path, "model.*.embed.E", (345, 67))
    report = verify(path, chunk_bytes=SMALL_CHUNKS)
    assert report.exit_code == 4 and not report.identical
    different = [c for c in report.params if not c.identical]
    assert [(c.name, c.differing) for c in different] == [("model.*.embed.E", 1)]


def test_verify_needs_provenance(model: paraminit.Model, tmp_path: Path) -> None:
    plain = tmp_path / "plain.npz"
    np.savez(plain, **model.params)  # type: ignore[arg-type]
    report = verify(plain)
    assert report.exit_code == 1 and "no paraminit provenance" in str(report.error)
    garbled = tmp_path / "garbled.npz"
    np.savez(garbled, __paraminit__=np.frombuffer(b'{"seed": 1}', "u1"))
    report = verify(garbled)
    assert report.exit_code == 1 and "lacks or garbles config" in str(report.error)
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    assert verify(broken).exit_code == 1
    with pytest.raises(FileNotFoundError):
        verify(tmp_path / "missing.zarr")
    with pytest.raises(ValueError, match=r"unknown output format '\.pt'"):
        verify(tmp_path / "m.pt")


def test_verify_refuses_another_stream_version(model: paraminit.Model, tmp_path: Path) -> None:
    old = Provenance(model.config.to_str(), model.seed, "0.0.1", STREAM_VERSION + 1)
    path = write_params(tmp_path / "m.safetensors", dict(model.params), old)
    report = verify(path)
    assert report.exit_code == 1 and "stream version" in str(report.error)


def test_verify_reports_missing_and_extra_parameters(
    model: paraminit.Model, tmp_path: Path
) -> None:
    params = dict(model.params)
    params.pop("model.*.out.b")
    params["stray"] = np.zeros(3, "f4")
    provenance = Provenance.of(make_plan(CONFIG, seed=model.seed))
    report = verify(write_params(tmp_path / "m.npz", params, provenance))
    assert report.exit_code == 4
    notes = {c.name: c.note for c in report.params if not c.identical}
    assert notes == {
        "model.*.out.b": "missing from the file",
        "stray": "not a parameter of the config",
    }


def test_a_mapping_without_provenance_is_written_without(tmp_path: Path) -> None:
    path = write_params(tmp_path / "m.safetensors", {"w": np.ones((2, 3), "f8")})
    assert_same(load(path), {"w": np.ones((2, 3), "f8")})
    assert verify(path).exit_code == 1
    with pytest.raises(TypeError, match="mapping of names to arrays"):
        write_params(tmp_path / "m.npz", [np.ones(3)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float16, float32 or float64 arrays, got 'w': int64"):
        write_params(tmp_path / "m.npz", {"w": np.ones(3, "i8")})
    with pytest.raises(ValueError, match="'chunk_bytes' must be at least 1, got 0"):
        write_params(tmp_path / "m.npz", {"w": np.ones(3, "f4")}, chunk_bytes=0)
    assert list(tmp_path.iterdir()) == [path]


def test_write_reports_progress_in_bytes(model: paraminit.Model, tmp_path: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    write_params(
        tmp_path / "m.zarr", model, progress=lambda *a: seen.append(a), chunk_bytes=SMALL_CHUNKS
    )
    total = sum(a.nbytes for a in model.params.values())
    assert [s[0] for s in seen] == sorted(s[0] for s in seen) and seen[-1][:2] == (total, total)
    assert {s[2] for s in seen} == set(model.params)


def test_zarr_arrays_are_chunked_and_uncompressed(model: paraminit.Model, tmp_path: Path) -> None:
    path = write_params(tmp_path / "m.zarr", model, chunk_bytes=SMALL_CHUNKS)
    table = zarr.open_array(str(path), path="model.*.embed.E", mode="r")
    assert table.chunks == (10, 96) and table.compressors == ()
    assert table.metadata.zarr_format == 3


def test_zarr_through_a_distributed_cluster(
    cluster: Any, model: paraminit.Model, tmp_path: Path
) -> None:
    plan = make_plan(CONFIG, seed=model.seed)
    path = write_params(tmp_path / "m.zarr", plan, scheduler=cluster, chunk_bytes=SMALL_CHUNKS)
    assert_same(load(path), model.params)
    assert (
        verify(path, scheduler=cluster.scheduler.address, chunk_bytes=SMALL_CHUNKS).exit_code == 0
    )
    alter_one_value(path, "model.*.hidden.W", (0, 0))
    report = verify(path, scheduler=cluster, chunk_bytes=SMALL_CHUNKS)
    assert report.exit_code == 4
    assert [c.name for c in report.params if not c.identical] == ["model.*.hidden.W"]


# --------------------------------------------------------------------------- atomic writes


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_symlinked_output_is_written_through(
    model: paraminit.Model, tmp_path: Path, fmt: str
) -> None:
    real = tmp_path / "real" / f"m.{fmt}"
    real.parent.mkdir()
    link = tmp_path / f"link.{fmt}"
    link.symlink_to(real)
    assert write_params(link, model) == real
    assert link.is_symlink() and real.exists()
    assert_same(load(link), model.params)


@pytest.mark.parametrize("fmt", FORMATS)
def test_rewriting_replaces_the_output(model: paraminit.Model, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"m.{fmt}"
    write_params(path, {"old": np.ones(4, "f4")})
    write_params(path, model)
    assert_same(load(path), model.params)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_directory_that_is_not_a_store_is_never_replaced(tmp_path: Path) -> None:
    precious = tmp_path / "m.zarr"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"not a store \(no zarr.json inside\)"):
        write_params(precious, {"w": np.ones(3, "f4")})
    assert (precious / "notes.txt").read_text() == "mine"
    directory = tmp_path / "d.npz"
    directory.mkdir()
    with pytest.raises(IsADirectoryError):
        write_params(directory, {"w": np.ones(3, "f4")})


def table_config(rows: int, columns: int) -> str:
    """A model of one ``Embed`` table of ``rows`` x ``columns`` normal values."""
    return (
        f'[model]\n@layers = "Embed.v1"\nnV = {rows}\nnO = {columns}\n\n'
        '[model.init]\n@initializers = "normal_init.v1"\n'
    )


# A child process that plans a table (argv: config text, output), then runs its tail.
CHILD = """
import resource, sys
import paraminit.outputs as out
from paraminit.build import plan as make_plan

plan = make_plan(sys.argv[1], seed=3)
"""
WRITER = (
    CHILD
    + """
blocked = []

def progress(done, total, name):
    if not blocked:  # mid-write: tell the parent, then wait for its signal
        blocked.append(done)
        print("writing", flush=True)
        sys.stdin.readline()

out.write_params(sys.argv[2], plan, progress=progress, chunk_bytes=65536)
"""
)


def interrupt_a_write(path: Path, signum: int) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, table_config(4096, 256), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "writing\n"
    child.send_signal(signum)
    child.communicate()
    assert child.returncode != 0


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_interrupted_write_leaves_nothing(tmp_path: Path, fmt: str, signum: int) -> None:
    interrupt_a_write(tmp_path / f"m.{fmt}", signum)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["npz", "safetensors"])
def test_a_killed_file_write_leaves_no_name(tmp_path: Path, fmt: str) -> None:
    interrupt_a_write(tmp_path / f"m.{fmt}", signal.SIGKILL)
    if hasattr(os, "O_TMPFILE"):  # the data was never given a name
        assert list(tmp_path.iterdir()) == []
    write_params(tmp_path / f"m.{fmt}", {"w": np.ones(3, "f4")})
    assert [p.name for p in tmp_path.iterdir()] == [f"m.{fmt}"]


def test_a_killed_store_write_is_cleaned_by_the_next_write(tmp_path: Path) -> None:
    interrupt_a_write(tmp_path / "m.zarr", signal.SIGKILL)
    (left,) = tmp_path.iterdir()
    assert left.name.startswith(".m.zarr.paraminit-") and left.name.endswith(".tmp")
    write_params(tmp_path / "m.zarr", {"w": np.ones(3, "f4")})
    assert [p.name for p in tmp_path.iterdir()] == ["m.zarr"]


# --------------------------------------------------------------------------- memory

# Prints the child's peak RSS in bytes. Not ru_maxrss: Linux carries the forking
# parent's peak into it across exec (under a large pytest process it reports pytest's
# size); VmHWM belongs to the child's own address space.
BIG_TABLE = (
    CHILD
    + """
out.write_params(sys.argv[2], plan)
try:
    with open("/proc/self/status") as status:
        print(int(next(l for l in status if l.startswith("VmHWM:")).split()[1]) * 1024)
except OSError:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""
)


def test_a_large_table_goes_to_zarr_in_bounded_memory(tmp_path: Path) -> None:
    table_bytes = 2**27 * 4
    config = table_config(2**21, 64)
    done = subprocess.run(
        [sys.executable, "-c", BIG_TABLE, config, str(tmp_path / "big.zarr")],
        capture_output=True,
        text=True,
        check=True,
    )
    peak_bytes = int(done.stdout.split()[-1])
    assert peak_bytes < 0.4 * table_bytes, f"peak {peak_bytes / 2**20:.0f} MiB"
    array = zarr.open_array(str(tmp_path / "big.zarr"), path="model.E", mode="r")
    assert array.shape == (2097152, 64)
    (param,) = make_plan(config, seed=3).params
    assert np.array_equal(array[2_000_000:2_000_010], param.region(slice(2_000_000, 2_000_010)))


# --------------------------------------------------------------------------- docs and imports


@pytest.mark.parametrize("name", ["initialize", "write_params", "verify"])
def test_scale_doc_tables_list_the_signature(name: str) -> None:
    import paraminit.dask
    import paraminit.outputs
    from _docs import documented_arguments, function_sections, signature_arguments

    func = getattr(paraminit.dask, name, None) or getattr(paraminit.outputs, name)
    section = function_sections("scale.md")[name]
    assert documented_arguments(section) == signature_arguments(func)


def test_the_bridges_import_their_frameworks_only_when_used() -> None:
    code = (
        "import sys, paraminit, paraminit.dask, paraminit.outputs\n"
        "heavy = {'dask', 'distributed', 'zarr', 'safetensors'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_bad_scheduler_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="'scheduler' must be None, an address string"):
        write_params(tmp_path / "m.zarr", {"w": np.ones(3, "f4")}, scheduler=42)
    assert list(tmp_path.iterdir()) == []
