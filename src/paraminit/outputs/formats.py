"""The three file formats: .npz, .safetensors and .zarr, written and read chunk by chunk.

Each writer takes the parameters as :class:`Source` objects (a name, a shape, a
dtype and a way to make any region) and the provenance as one JSON text, kept in
the format's own metadata: a ``__paraminit__`` entry of UTF-8 bytes (``uint8``)
in ``.npz``, ``__metadata__["paraminit"]`` in ``.safetensors``, the group
attribute ``"paraminit"`` in ``.zarr``. safetensors, zarr and Dask are optional
extras, imported only when their format is used.
"""

from __future__ import annotations

import functools
import json
import math
import secrets
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..build import ParamInfo
from ..contract import FloatArray
from ..dask import DASK_EXTRA, ChunkDone, chunk_task, is_elementwise, run_chunk_tasks
from .atomic import atomic_directory, atomic_file

__all__ = [
    "CHUNK_BYTES",
    "PROVENANCE_ENTRY",
    "Source",
    "c_order_chunks",
    "chunk_regions",
    "differing",
    "file_format",
    "read_provenance",
    "stored_chunks",
    "verify_zarr",
    "write_npz",
    "write_safetensors",
    "write_zarr",
]

#: Bytes per chunk when writing and verifying (zarr chunks, npz/safetensors passes).
CHUNK_BYTES = 8 << 20
PROVENANCE_ENTRY = "__paraminit__"
ZARR_MARKER = "zarr.json"
SAFETENSORS_EXTRA = "pip install 'paraminit[safetensors]'"

Region = tuple[slice, ...]
ProgressHook = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Source:
    """A parameter to write: from memory (``array``) or recomputed (``planned``)."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    array: FloatArray | None = None
    planned: ParamInfo | None = None
    chunk_bytes: int = CHUNK_BYTES

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    def chunks(self) -> tuple[tuple[int, ...], ...]:
        """How this parameter is cut for writing and checking (see :func:`c_order_chunks`)."""
        return c_order_chunks(self.shape, self.dtype.itemsize, self.chunk_bytes)

    @functools.cached_property
    def whole_only(self) -> bool:
        """Whether the values need the whole array (orthogonal, sparse, ...) to be made."""
        if self.planned is None or self.planned.init is None:
            return False
        return not is_elementwise(self.planned.init, self.shape, self.dtype)

    def regions(self, regions: Sequence[Region]) -> Iterator[FloatArray]:
        """The values at each of ``regions``; a whole-only parameter is made once."""
        if self.array is not None:
            yield from (self.array[r] for r in regions)
            return
        assert self.planned is not None
        if self.whole_only:
            whole = self.planned.region(())
            yield from (whole[r] for r in regions)
            return
        yield from (self.planned.region(r) for r in regions)


def _split(size: int, chunk: int) -> tuple[int, ...]:
    if size == 0:
        return (0,)
    full, rest = divmod(size, chunk)
    return (chunk,) * full + ((rest,) if rest else ())


def c_order_chunks(
    shape: tuple[int, ...], itemsize: int, target_bytes: int = CHUNK_BYTES
) -> tuple[tuple[int, ...], ...]:
    """A chunking (Dask's form) whose chunks are contiguous runs of the C-order index.

    Trailing axes stay whole while they fit in ``target_bytes``; the first axis
    that does not is split, and the axes before it are cut into single steps.
    Each chunk is then one range of the flat index, read or written in one pass.
    """
    chunk = list(shape)
    inner = itemsize
    for axis in reversed(range(len(shape))):
        if inner * shape[axis] <= target_bytes:
            inner *= shape[axis]
            continue
        chunk[axis] = max(1, target_bytes // inner)
        chunk[:axis] = [1] * axis
        break
    return tuple(_split(size, max(1, c)) for size, c in zip(shape, chunk, strict=True))


def chunk_regions(chunks: tuple[tuple[int, ...], ...]) -> list[Region]:
    """Every chunk's region, in C order."""
    starts = [np.cumsum((0, *c[:-1])).tolist() for c in chunks]
    return [
        tuple(slice(starts[a][i], starts[a][i] + chunks[a][i]) for a, i in enumerate(index))
        for index in np.ndindex(*(len(c) for c in chunks))
    ]


def differing(stored: np.ndarray[Any, Any], expected: np.ndarray[Any, Any]) -> int:
    """Elements whose bits differ (so -0.0 differs from 0.0, and a NaN equals its bits)."""
    if stored.shape != expected.shape or stored.dtype != expected.dtype:
        return max(stored.size, expected.size, 1)
    unsigned = np.dtype(f"u{stored.dtype.itemsize}")
    return int(np.count_nonzero(stored.view(unsigned) != expected.view(unsigned)))


# --------------------------------------------------------------------------- .npz


def _write_npy(handle: IO[bytes], source: Source, progress: Callable[[int], None]) -> None:
    header = {
        "descr": np.lib.format.dtype_to_descr(source.dtype),
        "fortran_order": False,
        "shape": source.shape,
    }
    np.lib.format.write_array_header_2_0(handle, header)
    regions = chunk_regions(source.chunks())
    for values in source.regions(regions):
        handle.write(np.ascontiguousarray(values, dtype=source.dtype).data)
        progress(values.nbytes)


def write_npz(
    path: Path, sources: Sequence[Source], provenance: str | None, progress: ProgressHook
) -> None:
    """An uncompressed ``.npz`` (as ``np.savez`` writes it), one chunk in memory at a time."""
    total = sum(s.nbytes for s in sources)
    done = 0
    with atomic_file(path) as temporary, zipfile.ZipFile(temporary.handle, "w") as archive:
        for source in sources:

            def advance(nbytes: int, name: str = source.name) -> None:
                nonlocal done
                done += nbytes
                progress(done, total, name)

            with archive.open(f"{source.name}.npy", "w", force_zip64=True) as member:
                _write_npy(member, source, advance)
        if provenance is not None:
            text = np.frombuffer(provenance.encode("utf8"), dtype=np.uint8)
            with archive.open(f"{PROVENANCE_ENTRY}.npy", "w") as member:
                np.lib.format.write_array(member, text, allow_pickle=False)


def _npy_header(member: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """Shape, Fortran order and dtype of the ``.npy`` stream ``member``, read up to its data."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(member)
    return np.lib.format.read_array_header_2_0(member)


def _npz_chunks(path: Path, name: str, regions: Sequence[Region]) -> Iterator[FloatArray]:
    with zipfile.ZipFile(path) as archive, archive.open(f"{name}.npy") as member:
        _, fortran, dtype = _npy_header(member)
        if fortran:  # not written by paraminit: read it whole
            whole = np.load(path, allow_pickle=False)[name]
            yield from (whole[r] for r in regions)
            return
        for region in regions:
            count = math.prod(s.stop - s.start for s in region)
            data = member.read(count * dtype.itemsize)
            values = np.frombuffer(data, dtype=dtype, count=len(data) // dtype.itemsize)
            yield (
                values.reshape([s.stop - s.start for s in region])
                if values.size == count
                else values
            )


# --------------------------------------------------------------------------- .safetensors


def _safetensors() -> Any:
    try:
        import safetensors
        import safetensors.numpy
    except ImportError:
        raise ImportError(f".safetensors files need safetensors: {SAFETENSORS_EXTRA}") from None
    return safetensors


_SAFETENSORS_DTYPES = {"float16": "F16", "float32": "F32", "float64": "F64"}


def write_safetensors(
    path: Path, sources: Sequence[Source], provenance: str | None, progress: ProgressHook
) -> None:
    """A ``.safetensors`` file, streamed one chunk at a time.

    Written here rather than by ``safetensors.numpy.save_file``, which takes every
    tensor whole and writes through a temporary of its own (not atomic against
    SIGKILL, not through links). The layout follows the format's specification:
    an 8-byte little-endian header length, the JSON header (offsets into the data,
    ``__metadata__`` of strings), padded with spaces to 8 bytes, then the data in
    header order. The tests read the files back with the ``safetensors`` package.
    """
    header: dict[str, Any] = {}
    if provenance is not None:
        header["__metadata__"] = {"paraminit": provenance}
    offset = 0
    for source in sources:
        header[source.name] = {
            "dtype": _SAFETENSORS_DTYPES[source.dtype.name],
            "shape": list(source.shape),
            "data_offsets": [offset, offset + source.nbytes],
        }
        offset += source.nbytes
    encoded = json.dumps(header, separators=(",", ":")).encode("utf8")
    encoded += b" " * (-len(encoded) % 8)
    done = 0
    with atomic_file(path) as temporary:
        temporary.handle.write(len(encoded).to_bytes(8, "little"))
        temporary.handle.write(encoded)
        for source in sources:
            regions = chunk_regions(source.chunks())
            for values in source.regions(regions):
                temporary.handle.write(
                    np.ascontiguousarray(values, dtype=source.dtype.newbyteorder("<")).data
                )
                done += values.nbytes
                progress(done, offset, source.name)


# --------------------------------------------------------------------------- .zarr


def _zarr() -> Any:
    try:
        import zarr
    except ImportError:
        raise ImportError(f".zarr stores need zarr: {DASK_EXTRA}") from None
    return zarr


def _write_regions(
    store: str, name: str, values: Source | FloatArray, regions: Sequence[Region]
) -> ChunkDone:
    """A task: write ``values`` (made from a source, or given) at ``regions`` of one array."""
    target = _zarr().open_array(store=store, path=name, mode="r+")
    nbytes = 0
    blocks = values.regions(regions) if isinstance(values, Source) else [values]
    for region, block in zip(regions, blocks, strict=True):
        target[region] = block
        nbytes += block.nbytes
    return ChunkDone(name, nbytes)


def _check_regions(store: str, source: Source, regions: Sequence[Region]) -> ChunkDone:
    """A task: compare the stored values at ``regions`` with the recomputed ones."""
    stored = _zarr().open_array(store=store, path=source.name, mode="r")
    nbytes = different = 0
    for region, expected in zip(regions, source.regions(regions), strict=True):
        different += differing(np.asarray(stored[region]), expected)
        nbytes += expected.nbytes
    return ChunkDone(source.name, nbytes, different)


def _task_groups(source: Source, regions: list[Region]) -> list[list[Region]]:
    """One task per chunk, or one per parameter for a whole-only one (made once)."""
    return [regions] if source.whole_only else [[r] for r in regions]


def write_zarr(
    path: Path,
    sources: Sequence[Source],
    provenance: str | None,
    progress: ProgressHook,
    scheduler: Any,
) -> None:
    """A zarr v3 group, one uncompressed chunked array per parameter, written through Dask.

    Every chunk is made and written by one task, so memory holds a few chunks per
    worker. With a ``distributed`` scheduler the workers write the files: the
    output directory must be on storage they share with the caller.
    """
    zarr = _zarr()
    attributes = {} if provenance is None else {"paraminit": json.loads(provenance)}
    with atomic_directory(path, marker=ZARR_MARKER) as temporary:
        group = zarr.create_group(str(temporary), zarr_format=3, attributes=attributes)
        tasks = []
        run = secrets.token_hex(4)  # keys unique to this write on a shared scheduler
        for source in sources:
            chunks = source.chunks()
            group.create_array(
                source.name,
                shape=source.shape,
                dtype=source.dtype,
                chunks=tuple(max(1, c[0]) for c in chunks),
                compressors=None,  # random floats do not compress
                fill_value=0.0,
            )
            regions = chunk_regions(chunks)
            for i, group_regions in enumerate(_task_groups(source, regions)):
                # In memory: hand each task its block (a view on threads), not the array.
                values: Source | FloatArray = (
                    source if source.array is None else source.array[group_regions[0]]
                )
                key = f"paraminit-write-{run}-{source.name}-{i}"
                tasks.append(
                    chunk_task(
                        _write_regions, str(temporary), source.name, values, group_regions, key=key
                    )
                )
        run_chunk_tasks(
            tasks, sum(s.nbytes for s in sources), progress=progress, scheduler=scheduler
        )


def verify_zarr(
    path: Path, sources: Sequence[Source], progress: ProgressHook, scheduler: Any
) -> dict[str, int]:
    """Elements that differ per parameter of a zarr store, recomputed through Dask."""
    tasks = []
    run = secrets.token_hex(4)
    for source in sources:
        for i, group_regions in enumerate(_task_groups(source, chunk_regions(source.chunks()))):
            key = f"paraminit-verify-{run}-{source.name}-{i}"
            tasks.append(chunk_task(_check_regions, str(path), source, group_regions, key=key))
    done = run_chunk_tasks(
        tasks, sum(s.nbytes for s in sources), progress=progress, scheduler=scheduler
    )
    counts = dict.fromkeys((s.name for s in sources), 0)
    for result in done:
        counts[result.name] += result.differing
    return counts


# --------------------------------------------------------------------------- reading


def file_format(path: Path) -> str:
    """``"npz"``, ``"safetensors"`` or ``"zarr"``, from the file extension."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("npz", "safetensors", "zarr"):
        raise ValueError(
            f"{path}: unknown output format {path.suffix or '(no extension)'!r}; "
            "use .npz, .safetensors or .zarr"
        )
    return suffix


def read_provenance(
    path: Path,
) -> tuple[str | None, dict[str, tuple[tuple[int, ...], np.dtype[Any]]]]:
    """The provenance text (``None`` if absent) and each stored array's shape and dtype."""
    kind = file_format(path)
    if kind == "npz":
        with np.load(path, allow_pickle=False) as npz:
            text = None
            arrays = {}
            for name in npz.files:
                if name == PROVENANCE_ENTRY:
                    text = npz[name].tobytes().decode("utf8")
                    continue
                with npz.zip.open(f"{name}.npy") as member:
                    shape, _, dtype = _npy_header(member)
                arrays[name] = (tuple(shape), np.dtype(dtype))
            return text, arrays
    if kind == "safetensors":
        safetensors = _safetensors()
        with safetensors.safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
            arrays = {}
            for name in handle.keys():  # noqa: SIM118 - a safe_open handle is not a dict
                sliced = handle.get_slice(name)
                arrays[name] = (tuple(sliced.get_shape()), _safetensors_dtype(sliced.get_dtype()))
            return metadata.get("paraminit"), arrays
    zarr = _zarr()
    group = zarr.open_group(str(path), mode="r")
    attribute = group.attrs.get("paraminit")
    arrays = {name: (tuple(a.shape), np.dtype(a.dtype)) for name, a in group.arrays()}
    return (None if attribute is None else json.dumps(attribute)), arrays


def _safetensors_dtype(name: str) -> np.dtype[Any]:
    names = {code: dtype for dtype, code in _SAFETENSORS_DTYPES.items()}
    return np.dtype(names.get(name, "V1"))  # V1: a kind paraminit never writes


def stored_chunks(path: Path, name: str, regions: Sequence[Region]) -> Iterator[FloatArray]:
    """The stored values of ``name`` at each of ``regions`` (C order), one at a time."""
    if file_format(path) == "npz":
        yield from _npz_chunks(path, name, regions)
        return
    safetensors = _safetensors()
    with safetensors.safe_open(str(path), framework="numpy") as handle:
        sliced = handle.get_slice(name)
        for region in regions:
            yield sliced[region] if region else sliced[:]
