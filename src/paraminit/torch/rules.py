"""Rules over a torch module: ``Rule``, rules from a config block, ``initialize`` and its report."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from confection import Config, ConfigValidationError

from .. import registry
from ..regions import init_name, seed_for
from .tensors import WHOLE_TENSOR_LIMIT, Initializer, _Plan, _plan, _target

__all__ = ["InitReport", "ParamRecord", "Rule", "initialize"]

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
