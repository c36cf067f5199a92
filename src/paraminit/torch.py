"""The torch bridge: paraminit's values in torch tensors, nn.Modules and sharded DTensors.

* :func:`init_` fills one tensor in place with exactly the values paraminit gives
  a numpy array of the same shape and dtype (bfloat16: the float32 values, rounded
  to nearest even).
* :func:`initialize` applies ordered rules (from a ``.cfg`` block or a Python
  list) to a module's parameters and buffers: a glob on the qualified name,
  optionally module types, one initializer each, the first match wins. Every rule
  is checked against every tensor before any tensor is written, and each
  parameter's seed derives from (seed, its qualified name) as in
  :func:`paraminit.build`.
* A ``DTensor`` (FSDP2 ``fully_shard``, ``distribute_tensor``) is filled on each
  rank through :func:`paraminit.initialize_region` over the global indices of its
  local shard only, without communication: the full tensor is the same on any
  number of ranks and any placement.

Needs the ``torch`` extra (``pip install 'paraminit[torch]'``); ``import paraminit``
never imports this module.
"""

from __future__ import annotations

import fnmatch
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

try:
    import torch
except ImportError as err:  # pragma: no cover - the test extra installs torch
    raise ImportError(
        "paraminit.torch needs torch; install it with: pip install 'paraminit[torch]'"
    ) from err

from confection import Config, ConfigValidationError

from . import initialize_region, registry
from .engine import next_seed
from .regions import (
    distribution_of,
    fill_in_place,
    init_name,
    seed_for,
    takes_seed,
    written_seed,
)

__all__ = [
    "HOST_CHUNK_ELEMENTS",
    "WHOLE_TENSOR_LIMIT",
    "InitReport",
    "ParamRecord",
    "Rule",
    "init_",
    "initialize",
    "shard_runs",
]

Initializer = Callable[..., Any]

# Whole-tensor initializers (orthogonal, sparse, identity, dirac) on a shard or a
# non-CPU tensor are computed whole on the host; above this many elements they are
# refused rather than allocating a host copy of the full tensor on every rank.
WHOLE_TENSOR_LIMIT = 1 << 26
# Elements per host buffer when a tensor is filled by copying (DTensor shards, CUDA,
# bfloat16): the host never holds more than this much of a large tensor at once.
HOST_CHUNK_ELEMENTS = 1 << 22

# bfloat16 has no numpy dtype: its values are float32's, rounded by torch's
# conversion (round to nearest even).
_NUMPY_DTYPES: dict[torch.dtype, np.dtype[Any]] = {
    torch.float16: np.dtype(np.float16),
    torch.float32: np.dtype(np.float32),
    torch.float64: np.dtype(np.float64),
    torch.bfloat16: np.dtype(np.float32),
}


# --------------------------------------------------------------------------- one tensor


def _dtensor_type() -> type | None:
    if not torch.distributed.is_available():  # pragma: no cover - builds without distributed
        return None
    from torch.distributed.tensor import DTensor

    return DTensor


def _is_dtensor(tensor: torch.Tensor) -> bool:
    dtensor = _dtensor_type()
    return dtensor is not None and isinstance(tensor, dtensor)


# Per axis: runs (local start, global start, length) that map the local tensor's
# indices onto the global tensor's.
Runs = list[list[tuple[int, int, int]]]


def _runs_of(indices: np.ndarray[Any, Any]) -> list[tuple[int, int, int]]:
    """Split global ``indices`` (in local order) into runs of consecutive indices."""
    if not indices.size:
        return []
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    starts = [0, *breaks.tolist()]
    ends = [*breaks.tolist(), int(indices.size)]
    return [(s, int(indices[s]), e - s) for s, e in zip(starts, ends, strict=True)]


def shard_runs(tensor: Any) -> Runs:
    """Per axis of a ``DTensor``: which global indices its local tensor on this rank holds.

    The global indices of one axis are found by sharding an ``arange`` of that axis
    with the tensor's own placements on that axis (the others replaced by
    ``Replicate``) through ``distribute_tensor(..., src_data_rank=None)``, which
    splits locally without communication. This is torch's public API and its own
    sharding rule, so uneven shards and FSDP2's strided shards (FSDP over tensor
    parallelism on the same axis) come out as torch lays them out.
    """
    from torch.distributed.tensor import Replicate, distribute_tensor

    mesh, placements = tensor.device_mesh, tuple(tensor.placements)
    shape = tuple(tensor.shape)
    if mesh.get_coordinate() is None:  # a rank outside the mesh holds nothing
        return [[] for _ in shape]
    runs: Runs = []
    for axis, size in enumerate(shape):
        kept = [
            p if getattr(p, "dim", None) in (axis, axis - len(shape)) else Replicate()
            for p in placements
        ]
        if all(isinstance(p, Replicate) for p in kept):
            runs.append([(0, 0, size)] if size else [])
            continue
        probe_shape = [1] * len(shape)
        probe_shape[axis] = size
        probe = torch.arange(size, dtype=torch.int64).reshape(probe_shape)
        local = distribute_tensor(probe, mesh, kept, src_data_rank=None).to_local()
        runs.append(_runs_of(local.reshape(-1).cpu().numpy()))
    local_shape = tuple(sum(length for _, _, length in axis_runs) for axis_runs in runs)
    if local_shape != tuple(tensor.to_local().shape):  # pragma: no cover - a torch change
        raise RuntimeError(
            f"paraminit.torch: the shard layout found for placements {placements} has shape "
            f"{local_shape}, but the local tensor has {tuple(tensor.to_local().shape)}"
        )
    return runs


@dataclass
class _Target:
    """A tensor to fill: the tensor written to, its global shape and its place in it."""

    local: torch.Tensor  # the tensor that is written (a DTensor's local tensor)
    shape: tuple[int, ...]  # the global shape
    dtype: np.dtype[Any]  # the numpy dtype paraminit computes in
    runs: Runs | None  # None: ``local`` is the whole tensor, filled through a numpy view
    sharded: bool

    @property
    def copies(self) -> bool:
        """Whether values reach the tensor by copy (not through a numpy view of it)."""
        return self.runs is not None


def _target(func_name: str, tensor: object, what: str) -> _Target:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{func_name}: {what} must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.dtype not in _NUMPY_DTYPES:
        raise TypeError(
            f"{func_name}: {what} must be float16, bfloat16, float32 or float64, got {tensor.dtype}"
        )
    if tensor.is_meta:
        raise ValueError(
            f"{func_name}: {what} is on the meta device and has no storage; "
            "materialize the module first with module.to_empty(device=...)"
        )
    shape = tuple(tensor.shape)
    dtype = _NUMPY_DTYPES[tensor.dtype]
    if _is_dtensor(tensor):
        placements = tuple(tensor.placements)  # type: ignore[attr-defined]
        if any(p.is_partial() for p in placements):
            raise ValueError(
                f"{func_name}: {what} has a Partial placement ({placements}); its full values "
                "are a reduction over ranks, so no rank can be given its share"
            )
        local = tensor.to_local()  # type: ignore[attr-defined]
        return _Target(local, shape, dtype, shard_runs(tensor), sharded=True)
    if tensor.device.type == "cpu" and tensor.dtype != torch.bfloat16:
        return _Target(tensor, shape, dtype, None, sharded=False)
    return _Target(tensor, shape, dtype, [[(0, 0, d)] if d else [] for d in shape], sharded=False)


def _chunks(
    local: tuple[int, ...], first: tuple[int, ...], lengths: tuple[int, ...], limit: int
) -> Iterator[tuple[tuple[slice, ...], tuple[slice, ...]]]:
    """Split a box (local starts, global starts, lengths) into boxes of at most ``limit`` elements.

    Yields ``(local slices, global slices)``: single indices of the leading axes,
    a range of one axis, and the trailing axes whole.
    """
    if not lengths:
        yield (), ()
        return
    axis = next(a for a in range(len(lengths)) if math.prod(lengths[a + 1 :]) <= limit)
    step = max(1, limit // math.prod(lengths[axis + 1 :]))
    for head in itertools.product(*(range(n) for n in lengths[:axis])):
        for start in range(0, lengths[axis], step):
            spans = [(h, h + 1) for h in head]
            spans.append((start, min(start + step, lengths[axis])))
            spans.extend((0, n) for n in lengths[axis + 1 :])
            yield (
                tuple(slice(at + lo, at + hi) for at, (lo, hi) in zip(local, spans, strict=True)),
                tuple(slice(at + lo, at + hi) for at, (lo, hi) in zip(first, spans, strict=True)),
            )


def _boxes(runs: Runs) -> Iterator[tuple[tuple[slice, ...], tuple[slice, ...]]]:
    """The boxes of a layout, each at most :data:`HOST_CHUNK_ELEMENTS` elements."""
    for combo in itertools.product(*runs):
        local = tuple(run[0] for run in combo)
        first = tuple(run[1] for run in combo)
        lengths = tuple(run[2] for run in combo)
        yield from _chunks(local, first, lengths, HOST_CHUNK_ELEMENTS)


@dataclass
class _Plan:
    """A validated fill: the target, the initializer, its seed, and precomputed values if whole."""

    target: _Target
    init: Initializer
    seed: int | None
    whole: list[tuple[tuple[slice, ...], np.ndarray[Any, Any]]] | np.ndarray[Any, Any] | None

    def kwargs(self) -> dict[str, Any]:
        return {} if self.seed is None else {"seed": self.seed}

    def apply(self) -> None:
        target, local = self.target, self.target.local
        with torch.no_grad():
            if target.runs is None:
                view = local.detach().numpy()
                if self.whole is None:
                    fill_in_place(self.init, view, init_name(self.init), **self.kwargs())
                else:
                    view[...] = self.whole
            elif isinstance(self.whole, list):
                for local_box, values in self.whole:
                    local[local_box].copy_(torch.from_numpy(values))
            else:
                for local_box, global_box in _boxes(target.runs):
                    values = initialize_region(
                        self.init, target.shape, global_box, seed=self.seed, dtype=target.dtype
                    )
                    local[local_box].copy_(torch.from_numpy(values))


def _plan(
    func_name: str, target: _Target, init: Initializer, seed: int | None, whole_limit: int
) -> _Plan:
    """Check ``init`` against the target's shape and dtype; compute whole-tensor values now."""
    if not callable(init):
        raise TypeError(f"{func_name}: 'init' must be an initializer, got {init!r}")
    if distribution_of(init, target.shape, dtype=target.dtype) is not None:
        return _Plan(target, init, seed, None)
    size = math.prod(target.shape)
    if target.copies and size > whole_limit:
        raise ValueError(
            f"{func_name}: {init_name(init)} needs the whole tensor of shape {target.shape} "
            f"({size} elements) on the host, above whole_limit={whole_limit}; raise "
            "whole_limit or use an elementwise initializer"
        )
    kwargs = {} if seed is None else {"seed": seed}
    full = fill_in_place(
        init, np.empty(target.shape, dtype=target.dtype), init_name(init), **kwargs
    )
    if target.runs is None:
        return _Plan(target, init, seed, full)
    pieces = [(lb, np.ascontiguousarray(full[gb])) for lb, gb in _boxes(target.runs)]
    return _Plan(target, init, seed, pieces)


def init_(
    tensor: torch.Tensor,
    init: Initializer,
    *,
    seed: int | None = None,
    whole_limit: int = WHOLE_TENSOR_LIMIT,
) -> torch.Tensor:
    """Fill ``tensor`` in place with ``init``'s values and return it.

    The values are exactly ``init(numpy.empty(shape, dtype), seed=seed)``'s for
    float16/32/64, bit for bit, at each element's logical index (also for
    non-contiguous tensors); bfloat16 gets the float32 values rounded to nearest
    even. CPU tensors are written through a numpy view of their memory; other
    devices and bfloat16 through host chunks of bounded size. A ``DTensor`` has
    only its local shard written, with the values of its global indices.

    ``seed=None`` draws one seed from paraminit's package stream, except for a
    ``DTensor``, where every rank must use the same seed: pass one. Whole-tensor
    initializers (orthogonal, sparse, identity, dirac) on a ``DTensor`` or a
    non-CPU tensor are computed whole on the host, up to ``whole_limit`` elements.

    >>> import torch, paraminit, paraminit.torch as pt
    >>> W = pt.init_(torch.empty(4, 3), paraminit.xavier_uniform_init, seed=0)
    """
    target = _target("init_", tensor, "'tensor'")
    if not takes_seed(init):
        seed = None
    elif seed is None:
        seed = written_seed(init)  # a seed written in the config block
        if seed is None and target.sharded:
            raise ValueError(
                "init_: 'seed' must be given for a DTensor (each rank's own seed stream "
                "would give its shard different values), got None"
            )
        if seed is None:
            seed = next_seed()
    _plan("init_", target, init, seed, whole_limit).apply()
    return tensor


# --------------------------------------------------------------------------- rules

_RULE_FIELDS = ("match", "modules", "init")


@dataclass(frozen=True)
class Rule:
    """One rule: tensors whose qualified name matches a glob (and whose module type fits).

    ``match`` holds globs on the fully qualified name (``fnmatch``: ``*`` also
    crosses dots); ``modules`` holds class names (``"Linear"``, matched against the
    owning module's class and its bases) or classes, empty for any module.
    """

    name: str
    match: tuple[str, ...]
    init: Initializer
    modules: tuple[str | type, ...] = ()

    def __post_init__(self) -> None:
        # A lone string is one glob (one class name), not a sequence of characters.
        match, modules = _strings(self.match), _strings(self.modules, allow_types=True)
        if not match:
            raise TypeError(
                f"Rule {self.name!r}: 'match' must be a glob or globs, got {self.match!r}"
            )
        if modules is None:
            raise TypeError(
                f"Rule {self.name!r}: 'modules' must be class names or classes, "
                f"got {self.modules!r}"
            )
        object.__setattr__(self, "match", match)
        object.__setattr__(self, "modules", modules)

    def matches(self, qualname: str, owner: torch.nn.Module) -> bool:
        if not any(fnmatch.fnmatchcase(qualname, pattern) for pattern in self.match):
            return False
        if not self.modules:
            return True
        bases = {cls.__name__ for cls in type(owner).__mro__}
        return any(m in bases if isinstance(m, str) else isinstance(owner, m) for m in self.modules)


def _strings(value: object, *, allow_types: bool = False) -> tuple[Any, ...] | None:
    """``value`` as a tuple of strings (or classes), or ``None`` if it is not one."""
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        return None
    kinds = (str, type) if allow_types else (str,)
    return tuple(items) if all(isinstance(item, kinds) for item in items) else None


def _unresolved(data: Any, **kwargs: Any) -> Any:  # pragma: no cover - never called
    """Stands in for an initializer block that failed to resolve (its error is reported)."""
    raise AssertionError("an unresolved rule was applied")


def _parse_rules(rules: object) -> tuple[list[Rule], list[dict[str, Any]]]:
    """Rules from a config block (name -> rule) or a list, and every problem found in them.

    A rule whose initializer block is bad still matches (with a stand-in
    initializer), so that the rules that match nothing are reported with it.
    """
    if isinstance(rules, Mapping):
        named = [(str(name), body) for name, body in rules.items()]
        allowed: tuple[str, ...] = _RULE_FIELDS
    elif isinstance(rules, (list, tuple)):
        named = []
        for i, body in enumerate(rules):
            if isinstance(body, Rule):
                named.append((body.name, body))
            elif isinstance(body, Mapping):
                named.append((str(body.get("name", f"rules[{i}]")), body))
            else:
                named.append((f"rules[{i}]", body))
        allowed = (*_RULE_FIELDS, "name")
    else:
        raise TypeError(
            "initialize: 'rules' must be a config block (a mapping of rule names to rules) "
            f"or a list of rules, got {type(rules).__name__}"
        )
    errors: list[dict[str, Any]] = []
    if len({name for name, _ in named}) != len(named):
        errors.append({"loc": ["rules"], "msg": "two rules share a name"})
    parsed: list[Rule] = []
    for name, body in named:
        if isinstance(body, Rule):
            parsed.append(body)
            continue
        if not isinstance(body, Mapping):
            errors.append({"loc": [name], "msg": f"a rule must be a mapping, got {body!r}"})
            continue
        before = len(errors)
        for key in body:
            if key not in allowed:
                errors.append({"loc": [name, key], "msg": f"unknown field (fields: {allowed})"})
        match = _strings(body.get("match"))
        if not match:
            errors.append(
                {"loc": [name, "match"], "msg": "needs a glob or a non-empty list of globs"}
            )
        modules = _strings(body.get("modules", ()), allow_types=True)
        if modules is None:
            errors.append({"loc": [name, "modules"], "msg": "must be a list of class names"})
        init = body.get("init")
        if isinstance(init, Mapping):
            try:
                init = registry.resolve(Config({name: {"init": dict(init)}}))[name]["init"]
            except ConfigValidationError as err:
                errors.extend(err.errors or [{"loc": [name, "init"], "msg": str(err)}])
                init = _unresolved
        elif not callable(init):
            errors.append(
                {"loc": [name, "init"], "msg": f"needs an initializer block, got {init!r}"}
            )
            init = _unresolved
        if match and modules is not None:
            parsed.append(Rule(name, match, init, modules))
        elif len(errors) == before:  # pragma: no cover - each branch above adds one
            raise AssertionError(name)
    return parsed, errors


# --------------------------------------------------------------------------- modules


@dataclass
class _Entry:
    """A tensor of a module: its names (a tied tensor has several) and owners."""

    tensor: torch.Tensor
    parameter: bool
    names: list[tuple[str, torch.nn.Module]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.names[0][0]


def _entries(module: torch.nn.Module) -> list[_Entry]:
    entries: dict[int, _Entry] = {}
    for prefix, owner in module.named_modules(remove_duplicate=False):
        for kind, tensors in (
            (True, owner.named_parameters(recurse=False)),
            (False, owner.named_buffers(recurse=False)),
        ):
            for local_name, tensor in tensors:
                entry = entries.setdefault(id(tensor), _Entry(tensor, kind))
                entry.names.append((f"{prefix}.{local_name}" if prefix else local_name, owner))
    return list(entries.values())


@dataclass(frozen=True)
class ParamRecord:
    """How one tensor was initialized."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    rule: str
    initializer: str
    seed: int | None
    aliases: tuple[str, ...] = ()  # other names of a tied tensor
    sharded: bool = False


@dataclass(frozen=True)
class InitReport:
    """What :func:`initialize` did: one record per tensor, and the parameters left alone."""

    records: tuple[ParamRecord, ...]
    unmatched: tuple[str, ...]

    def __getitem__(self, name: str) -> ParamRecord:
        for record in self.records:
            if name == record.name or name in record.aliases:
                return record
        raise KeyError(name)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[ParamRecord]:
        return iter(self.records)

    def __str__(self) -> str:
        header = ("parameter", "shape", "dtype", "rule", "initializer", "seed")
        rows = [header] + [
            (
                r.name
                + "".join(f" = {a}" for a in r.aliases)
                + (" (sharded)" if r.sharded else ""),
                "x".join(map(str, r.shape)) or "()",
                r.dtype,
                r.rule,
                r.initializer,
                "-" if r.seed is None else str(r.seed),
            )
            for r in self.records
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        if self.unmatched:
            lines.append(f"unmatched (kept): {', '.join(self.unmatched)}")
        return "\n".join(lines)


def initialize(
    module: torch.nn.Module,
    rules: Mapping[str, Any] | Sequence[Rule | Mapping[str, Any]],
    *,
    seed: int,
    unmatched: Literal["keep", "error"] = "keep",
    whole_limit: int = WHOLE_TENSOR_LIMIT,
) -> InitReport:
    """Initialize ``module``'s parameters and buffers by ordered rules; return a report.

    ``rules`` is a config block (``config["init"]``: each section a rule with
    ``match``, optional ``modules`` and an ``init`` initializer block, in file
    order) or a list of :class:`Rule` or mappings with the same fields (``init``
    may then be an initializer callable). For each tensor the first rule that
    matches one of its qualified names wins. Its seed is
    ``paraminit.build.param_seed(seed, name)`` (a ``seed`` written in the
    initializer's block wins), so its values depend on neither the other tensors
    nor the order of visits. Tied tensors are filled once, under their first name.

    Everything is checked before any tensor is written: unknown initializers, bad
    arguments, rules that match nothing, tensors that are not floating point or
    still on the meta device, initializers that refuse a shape, and (with
    ``unmatched="error"``) parameters no rule matches, all in one
    :class:`ConfigValidationError`. Unmatched parameters otherwise keep their
    values and are listed in the report; unmatched buffers are left alone.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"initialize: 'module' must be a torch.nn.Module, got {module!r}")
    if unmatched not in ("keep", "error"):
        raise ValueError(f"initialize: 'unmatched' must be 'keep' or 'error', got {unmatched!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"initialize: 'seed' must be an int in [0, 2**128), got {seed!r}")
    if not 0 <= seed < 1 << 128:
        raise ValueError(f"initialize: 'seed' must be in [0, 2**128), got {seed}")
    parsed, errors = _parse_rules(rules)
    used: set[str] = set()
    plans: list[tuple[_Plan, ParamRecord]] = []
    left: list[str] = []
    for entry in _entries(module):
        rule = next(
            (r for r in parsed if any(r.matches(n, owner) for n, owner in entry.names)), None
        )
        if rule is None:
            if entry.parameter:
                left.append(entry.name)
            continue
        used.add(rule.name)
        if rule.init is _unresolved:
            continue
        try:
            target = _target("initialize", entry.tensor, f"{entry.name!r}")
            tensor_seed = seed_for(rule.init, seed, entry.name)
            plan = _plan("initialize", target, rule.init, tensor_seed, whole_limit)
        except (TypeError, ValueError) as err:
            errors.append({"loc": [rule.name, entry.name], "msg": str(err)})
            continue
        record = ParamRecord(
            entry.name,
            target.shape,
            str(entry.tensor.dtype).removeprefix("torch."),
            rule.name,
            init_name(rule.init),
            tensor_seed,
            tuple(n for n, _ in entry.names[1:]),
            target.sharded,
        )
        plans.append((plan, record))
    for rule in parsed:
        if rule.name not in used:
            errors.append({"loc": [rule.name], "msg": "matches no parameter or buffer"})
    if unmatched == "error":
        errors.extend({"loc": [name], "msg": "no rule matches this parameter"} for name in left)
    if errors:
        raise ConfigValidationError(
            errors=errors, title=f"Cannot initialize {type(module).__name__}"
        )
    for plan, _ in plans:
        plan.apply()
    return InitReport(tuple(record for _, record in plans), tuple(left))
