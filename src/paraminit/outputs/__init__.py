"""Parameter files with provenance: write .npz, .safetensors or .zarr, and verify them.

``write_params(path, model)`` picks the format from the extension and writes
atomically (see :mod:`paraminit.outputs.atomic`); every file carries how it was
made (:class:`Provenance`: the resolved config text, the build seed, paraminit's
version and the engine's stream version) in its format's own metadata.
``verify(path)`` rebuilds every parameter from that provenance, chunk by chunk,
and reports per parameter whether the file holds the same bits.

``.npz`` needs nothing beyond numpy; ``.safetensors`` the ``safetensors`` extra;
``.zarr`` the ``dask`` extra (Dask, ``distributed`` and zarr).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..build import BuildPlan, Model, plan
from ..engine import STREAM_VERSION
from .formats import (
    CHUNK_BYTES,
    Source,
    chunk_regions,
    differing,
    file_format,
    read_provenance,
    stored_chunks,
    verify_zarr,
    write_npz,
    write_safetensors,
    write_zarr,
)

__all__ = [
    "EXIT_DIFFERENT",
    "EXIT_IDENTICAL",
    "EXIT_NO_PROVENANCE",
    "STREAM_VERSION",
    "BuildPlan",
    "ParamCheck",
    "Provenance",
    "VerifyReport",
    "verify",
    "write_params",
]


EXIT_IDENTICAL, EXIT_NO_PROVENANCE, EXIT_DIFFERENT = 0, 1, 4
FLOAT_DTYPES = ("float16", "float32", "float64")

ProgressHook = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, name: str) -> None:
    pass


@dataclass(frozen=True)
class Provenance:
    """How a parameter file was made; stored as one JSON object in the file."""

    config: str
    seed: int
    paraminit_version: str
    stream_version: int = STREAM_VERSION

    @classmethod
    def of(cls, made: BuildPlan | Model) -> Provenance:
        """The provenance of a plan or a built model: its config, its build seed."""
        from .. import __version__

        return cls(made.config.to_str(), made.seed, __version__)

    def to_json(self) -> str:
        # The seed is a string: 128-bit integers do not survive every JSON reader.
        return json.dumps(
            {
                "config": self.config,
                "seed": str(self.seed),
                "paraminit_version": self.paraminit_version,
                "stream_version": self.stream_version,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Provenance:
        """Read :meth:`to_json`'s text; ``ValueError`` naming what is missing or wrong."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"the provenance is not JSON ({err.msg})") from None
        if not isinstance(data, dict):
            raise ValueError("the provenance is not a JSON object")
        kinds = {"config": str, "seed": str, "paraminit_version": str, "stream_version": int}
        bad = [k for k, kind in kinds.items() if not isinstance(data.get(k), kind)]
        if bad or not str(data["seed"]).isdigit():
            raise ValueError(f"the provenance lacks or garbles {', '.join(bad) or 'seed'}")
        return cls(
            data["config"], int(data["seed"]), data["paraminit_version"], data["stream_version"]
        )


def _sources(
    source: Model | BuildPlan | Mapping[str, Any], chunk_bytes: int
) -> tuple[list[Source], BuildPlan | Model | None]:
    if isinstance(source, Model):
        return [
            Source(path, array.shape, array.dtype, array=array, chunk_bytes=chunk_bytes)
            for path, array in source.params.items()
        ], source
    if isinstance(source, BuildPlan):
        return [
            Source(p.path, p.shape, p.dtype, planned=p, chunk_bytes=chunk_bytes)
            for p in source.params
        ], source
    if isinstance(source, Mapping):
        sources = []
        for name, value in source.items():
            array = np.asarray(value)
            if not isinstance(name, str) or array.dtype.name not in FLOAT_DTYPES:
                raise TypeError(
                    "write_params: parameters must map names to float16, float32 or float64 "
                    f"arrays, got {name!r}: {array.dtype}"
                )
            sources.append(
                Source(name, array.shape, array.dtype, array=array, chunk_bytes=chunk_bytes)
            )
        return sources, None
    raise TypeError(
        "write_params: 'source' must be a Model, a BuildPlan or a mapping of names to arrays, "
        f"got {type(source).__name__}"
    )


def _check_chunk_bytes(func_name: str, chunk_bytes: object) -> None:
    if not isinstance(chunk_bytes, int) or isinstance(chunk_bytes, bool):
        raise TypeError(f"{func_name}: 'chunk_bytes' must be an int, got {chunk_bytes!r}")
    if chunk_bytes < 1:
        raise ValueError(f"{func_name}: 'chunk_bytes' must be at least 1, got {chunk_bytes}")


def write_params(
    path: str | os.PathLike[str],
    source: Model | BuildPlan | Mapping[str, Any],
    provenance: Provenance | None = None,
    *,
    progress: ProgressHook | None = None,
    scheduler: Any = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Path:
    """Write parameters to ``path`` (``.npz``, ``.safetensors`` or ``.zarr``) atomically.

    ``source`` is a built :class:`~paraminit.Model`, a :class:`BuildPlan` (from
    :func:`paraminit.build.plan`: parameters are made chunk by chunk while writing, so a
    model larger than memory can go to ``.zarr``), or a mapping of names to float
    arrays. ``provenance`` defaults to the model's or plan's own; a plain mapping
    has none unless given. ``progress(done_bytes, total_bytes, name)`` is called
    as data is written. ``scheduler`` (``.zarr`` only): ``None`` for Dask's local
    threads, or a ``distributed`` address or ``Client``. Returns the path written
    (the target of a symbolic link, which is written through).

    Memory: every format is written in chunks of about ``chunk_bytes`` (8 MiB;
    for ``.zarr`` also the store's chunk size), a few at a time per worker
    thread. A parameter of orthogonal, sparse, identity or dirac initialization
    is made whole, once.
    """
    target = Path(path)
    kind = file_format(target)
    _check_chunk_bytes("write_params", chunk_bytes)
    sources, made = _sources(source, chunk_bytes)
    if provenance is None and made is not None:
        provenance = Provenance.of(made)
    text = None if provenance is None else provenance.to_json()
    report = progress or _no_progress
    if kind == "npz":
        write_npz(target, sources, text, report)
    elif kind == "safetensors":
        write_safetensors(target, sources, text, report)
    else:
        write_zarr(target, sources, text, report, scheduler)
    return Path(os.path.realpath(target))


@dataclass(frozen=True)
class ParamCheck:
    """One parameter's verdict: the stored bits equal the recomputed ones, or not."""

    name: str
    shape: tuple[int, ...]
    differing: int  # elements whose bits differ (all of them for a wrong shape or dtype)
    note: str = ""  # why the parameter could not be compared element by element

    @property
    def identical(self) -> bool:
        return self.differing == 0 and not self.note


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify` found; ``exit_code`` is 0 identical, 4 different, 1 unverifiable."""

    path: Path
    provenance: Provenance | None
    params: list[ParamCheck] = field(default_factory=list)
    error: str | None = None  # why the file could not be verified at all

    @property
    def identical(self) -> bool:
        return self.error is None and all(p.identical for p in self.params)

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return EXIT_NO_PROVENANCE
        return EXIT_IDENTICAL if self.identical else EXIT_DIFFERENT


def _compare_file(path: Path, sources: Sequence[Source], progress: ProgressHook) -> dict[str, int]:
    """Elements that differ per parameter of a .npz or .safetensors file, chunk by chunk."""
    total = sum(s.nbytes for s in sources)
    done = 0
    counts = {}
    for source in sources:
        regions = chunk_regions(source.chunks())
        count = 0
        stored = stored_chunks(path, source.name, regions)
        for values, expected in zip(stored, source.regions(regions), strict=True):
            count += differing(np.asarray(values), expected)
            done += expected.nbytes
            progress(done, total, source.name)
        counts[source.name] = count
    return counts


def verify(
    path: str | os.PathLike[str],
    *,
    scheduler: Any = None,
    progress: ProgressHook | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> VerifyReport:
    """Rebuild every parameter of ``path`` from its provenance and compare the bits.

    Chunk by chunk with bounded memory; a ``.zarr`` store in parallel through
    Dask (``scheduler`` as for :func:`write_params`). The report's ``exit_code``
    is 0 when every parameter is bit-identical, 4 when any differs (or is missing
    or extra), 1 when the file has no or unreadable provenance or the provenance
    cannot be rebuilt. Raises ``FileNotFoundError`` for a missing path and
    ``ValueError`` for an unknown extension.
    """
    _check_chunk_bytes("verify", chunk_bytes)
    target = Path(path)
    file_format(target)
    if not target.exists():
        raise FileNotFoundError(2, "no such file or directory", str(target))
    try:
        text, stored = read_provenance(target)
    except Exception as err:  # a damaged file raises whatever its reader raises
        return VerifyReport(target, None, error=f"cannot read {target}: {err}")
    if text is None:
        return VerifyReport(target, None, error=f"{target} has no paraminit provenance")
    try:
        provenance = Provenance.from_json(text)
    except ValueError as err:
        return VerifyReport(target, None, error=f"{target}: {err}")
    if provenance.stream_version != STREAM_VERSION:
        return VerifyReport(
            target,
            provenance,
            error=f"{target} was made with engine stream version {provenance.stream_version}; "
            f"this paraminit makes version {STREAM_VERSION}",
        )
    try:
        planned = plan(provenance.config, seed=provenance.seed)
    except Exception as err:  # an invalid config, a missing plugin: unverifiable here
        return VerifyReport(target, provenance, error=f"cannot rebuild {target}: {err}")
    checks: list[ParamCheck] = []
    comparable: list[Source] = []
    for param in planned.params:
        found = stored.get(param.path)
        if found is None:
            checks.append(ParamCheck(param.path, param.shape, 1, "missing from the file"))
        elif found != (param.shape, param.dtype):
            note = f"stored as {found[0]} {found[1]}, built as {param.shape} {param.dtype}"
            checks.append(ParamCheck(param.path, param.shape, 1, note))
        else:
            comparable.append(
                Source(param.path, param.shape, param.dtype, planned=param, chunk_bytes=chunk_bytes)
            )
    for name in stored.keys() - {p.path for p in planned.params}:
        checks.append(ParamCheck(name, stored[name][0], 1, "not a parameter of the config"))
    report = progress or _no_progress
    if file_format(target) == "zarr":
        counts = verify_zarr(target, comparable, report, scheduler)
    else:
        counts = _compare_file(target, comparable, report)
    checks.extend(ParamCheck(s.name, s.shape, counts[s.name]) for s in comparable)
    order = {p.path: i for i, p in enumerate(planned.params)}
    checks.sort(key=lambda c: order.get(c.name, len(order)))
    return VerifyReport(target, provenance, checks)
