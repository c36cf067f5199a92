"""Argument types and their checks, written once for Python calls and configs alike.

An initializer's signature is the single source of its arguments. Constraints
are ``Annotated`` metadata from ``annotated_types`` (``Gt``, ``Ge``, ``Lt``,
``Le``) and :data:`FINITE` (pydantic's ``AllowInfNan(False)`` once
:func:`for_pydantic` spells it for pydantic, which ``import paraminit`` does not
load), so the registry builds a pydantic model from the signature for configs,
and :func:`check_arguments` applies the same metadata, without pydantic's
overhead, when the function is called from Python.
A config value pydantic rejects is described by the same :class:`Rule`, so both
paths say ``must be > 0``. :func:`rule_for` is the one reader of these annotations.
Relations between arguments (``lo < hi``) are a ``check`` function registered
beside the initializer and called on both paths.
"""

from __future__ import annotations

import inspect
import math
import numbers
import operator
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, NamedTuple

import annotated_types as at

from .engine import MAX_SEED

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "Bound",
    "Finite",
    "NonNegativeFinite",
    "PositiveFinite",
    "PositiveInt",
    "Rule",
    "Seed",
    "UnitInterval",
    "check_arguments",
    "check_call",
    "for_pydantic",
    "rule_for",
]


@dataclass(frozen=True)
class FiniteOnly:
    """``Annotated`` metadata: the value must be finite (no inf, no nan)."""


FINITE = FiniteOnly()

Finite = Annotated[float, FINITE]
PositiveFinite = Annotated[float, at.Gt(0), FINITE]
NonNegativeFinite = Annotated[float, at.Ge(0), FINITE]
PositiveInt = Annotated[int, at.Gt(0)]
UnitInterval = Annotated[float, at.Ge(0), at.Le(1), FINITE]
Seed = Annotated[int, at.Ge(0), at.Le(MAX_SEED)] | None

# The parameters a layer passes when it calls an initializer, never config arguments;
# contract.prepare_output checks them.
CALL_TIME = frozenset({"data", "inplace"})


class ArgumentError(ValueError):
    """A wrong argument value: names the function, the argument, the value and the rule."""

    def __init__(self, func_name: str, field: str, value: object, rule: str) -> None:
        self.func_name, self.field, self.value, self.rule = func_name, field, value, rule
        super().__init__(f"{func_name}: '{field}' {rule}, got {value!r}")


class ArgumentTypeError(TypeError):
    """A wrong kind of argument, with the same fields as :class:`ArgumentError`."""

    def __init__(self, func_name: str, field: str, value: object, rule: str) -> None:
        self.func_name, self.field, self.value, self.rule = func_name, field, value, rule
        super().__init__(f"{func_name}: '{field}' {rule}, got {value!r}")


class Bound(NamedTuple):
    """One bound of an argument: ``value <op> limit``, with the words of its error."""

    holds: Callable[[Any, Any], bool]
    limit: Any
    words: str  # ">", ">=", "<", "<="

    @property
    def rule(self) -> str:
        return f"must be {self.words} {self.limit}"


_BOUNDS: tuple[tuple[type, str, Callable[[Any, Any], bool], str], ...] = (
    (at.Gt, "gt", operator.gt, ">"),
    (at.Ge, "ge", operator.ge, ">="),
    (at.Lt, "lt", operator.lt, "<"),
    (at.Le, "le", operator.le, "<="),
)


@dataclass(frozen=True)
class Rule:
    """What one parameter accepts, read off its annotation by :func:`rule_for`."""

    plain: Any  # the annotation without its Annotated metadata (for confection, listings)
    kinds: tuple[type, ...]  # float, int, bool, str; empty means anything
    optional: bool
    choices: tuple[Any, ...] | None
    bounds: tuple[Bound, ...]
    finite: bool
    # Exact types that pass the kind check directly, without an ABC check.
    fast_types: frozenset[type] = frozenset()

    def check(self, func_name: str, name: str, value: object) -> None:
        """Raise :class:`ArgumentTypeError` or :class:`ArgumentError` if ``value`` breaks it."""
        kind = type(value)
        if kind not in self.fast_types:
            if value is None:
                if self.optional:
                    return
                raise ArgumentTypeError(func_name, name, value, "may not be None")
            if self.choices is not None:
                if value not in self.choices or isinstance(value, bool) != any(
                    isinstance(c, bool) for c in self.choices
                ):
                    options = ", ".join(repr(c) for c in self.choices)
                    raise ArgumentError(func_name, name, value, f"must be one of {options}")
                return
            if self.kinds and not _is_kind(value, self.kinds):
                kinds = " or ".join(k.__name__ for k in self.kinds)
                raise ArgumentTypeError(func_name, name, value, f"must be {kinds}{_hint(value)}")
        if kind is int and float in self.kinds and abs(value) > _FLOAT_MAX:  # type: ignore[arg-type]
            raise ArgumentError(func_name, name, value, "must be finite (it overflows a float)")
        if (
            self.finite
            # An int is finite (and math.isfinite overflows on a huge one).
            and (kind is float or (kind is not int and isinstance(value, numbers.Real)))
            and not math.isfinite(value)  # type: ignore[arg-type]
        ):
            raise ArgumentError(func_name, name, value, "must be finite")
        for bound in self.bounds:
            if not bound.holds(value, bound.limit):
                raise ArgumentError(func_name, name, value, bound.rule)

    def broken_constraint(self, value: object) -> str | None:
        """The constraint ``value`` breaks, in the words of :meth:`check`'s error, or ``None``.

        ``None`` too for a value of the wrong kind: that is a type error, not a constraint.
        """
        try:
            self.check("", "", value)
        except ArgumentError as err:
            return err.rule
        except ArgumentTypeError:
            return None
        return None


_FLOAT_MAX = sys.float_info.max


def _is_kind(value: object, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in kinds
    # A float argument takes what is exactly a Python float or int: other numbers
    # (Fraction, Decimal, numpy.float32, numpy.int64, ...) would be rounded, or computed
    # with in their own arithmetic, silently.
    if float in kinds and isinstance(value, (float, int)):
        return True
    if int in kinds and isinstance(value, numbers.Integral):
        return True
    return isinstance(value, tuple(k for k in kinds if k not in (float, int)))


def _hint(value: object) -> str:
    """How to pass a number of a kind that is not taken as it is."""
    if isinstance(value, numbers.Number):  # a bool is refused before: never here
        kind = type(value)
        return f" (a {kind.__module__}.{kind.__qualname__} is not converted: pass float(value))"
    return ""


def _strip_annotated(annotation: Any) -> Any:
    if typing.get_origin(annotation) is Annotated:
        return typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        stripped = tuple(_strip_annotated(a) for a in typing.get_args(annotation))
        return typing.Union[stripped]  # noqa: UP007
    return annotation


def _bounds(metadata: list[Any]) -> tuple[Bound, ...]:
    return tuple(
        Bound(holds, getattr(m, attr), words)
        for m in metadata
        for cls, attr, holds, words in _BOUNDS
        if isinstance(m, cls)
    )


def rule_for(annotation: Any) -> Rule:
    """The one reader of argument annotations: what ``annotation`` accepts.

    ``Annotated`` metadata gives the bounds (``Gt``, ``Ge``, ``Lt``, ``Le``) and
    finiteness (:data:`FINITE`, or pydantic's ``AllowInfNan(False)``); ``X | None``
    makes an argument optional.
    """
    plain = _strip_annotated(annotation)
    optional = False
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata.extend(extra)
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                kinds = tuple(a for a in args if isinstance(a, type))
                return Rule(plain, kinds, optional, None, (), False)
            annotation = args[0]
        else:
            break
    choices = (
        tuple(typing.get_args(annotation)) if typing.get_origin(annotation) is Literal else None
    )
    kinds = (
        (annotation,) if isinstance(annotation, type) and annotation not in (object, Any) else ()
    )
    finite = any(_is_finite_only(m) for m in metadata)
    return Rule(
        plain, kinds, optional, choices, _bounds(metadata), finite, _fast_types(kinds, choices)
    )


def _is_finite_only(metadata: object) -> bool:
    if isinstance(metadata, FiniteOnly):
        return True
    # A plugin may write pydantic's own marker; without pydantic loaded there is none.
    allow = getattr(sys.modules.get("pydantic.types"), "AllowInfNan", None)
    return allow is not None and isinstance(metadata, allow) and not metadata.allow_inf_nan


def for_pydantic(annotation: Any) -> Any:
    """``annotation`` with :data:`FINITE` spelled as pydantic's ``AllowInfNan(False)``."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        from pydantic import AllowInfNan

        base, *metadata = typing.get_args(annotation)
        spelled = [AllowInfNan(False) if isinstance(m, FiniteOnly) else m for m in metadata]
        return Annotated[tuple([for_pydantic(base), *spelled])]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(for_pydantic(a) for a in typing.get_args(annotation))]  # noqa: UP007
    return annotation


def _fast_types(kinds: tuple[type, ...], choices: tuple[Any, ...] | None) -> frozenset[type]:
    """Exact types that ``_is_kind`` accepts for ``kinds`` without an ABC check."""
    if choices is not None or not kinds:
        return frozenset()
    fast = set(kinds) - {float, int, bool}
    if bool in kinds:
        fast.add(bool)
    if int in kinds or float in kinds:
        fast.add(int)
    if float in kinds:
        fast.add(float)
    return frozenset(fast)


@cache
def _rules(func: Callable[..., Any]) -> Mapping[str, Rule]:
    hints = typing.get_type_hints(func, include_extras=True)
    params = inspect.signature(func).parameters
    return {name: rule_for(hints[name]) for name in params if name in hints}


@cache
def _call_rules(func: Callable[..., Any]) -> tuple[tuple[str, Rule], ...]:
    return tuple((name, rule) for name, rule in _rules(func).items() if name not in CALL_TIME)


def check_call(func: Callable[..., Any], args: Mapping[str, object]) -> None:
    """Check every parameter of ``func`` except ``data`` and ``inplace`` in ``args``.

    ``args`` is the function's ``locals()``; the same checks and errors as
    :func:`check_arguments`, for every parameter at once.
    """
    checker = _CHECKERS.get(func)
    if checker is None:
        checker = _CHECKERS[func] = _compile_checker(func)
    checker(args)


_CHECKERS: dict[Callable[..., Any], Callable[[Mapping[str, object]], None]] = {}
_OPS = {operator.gt: ">", operator.ge: ">=", operator.lt: "<", operator.le: "<="}


def _fast_test(rule: Rule, slot: int, namespace: dict[str, Any]) -> str | None:
    """A Python expression in ``v`` true only for values ``rule.check`` accepts, or ``None``.

    It covers the common cases (an exact ``float``, ``int`` or ``None``); anything
    else goes to ``rule.check``, which decides and words the error.
    """
    if rule.choices is not None or not rule.kinds:
        return None
    limits = []
    for i, bound in enumerate(rule.bounds):
        op = _OPS.get(bound.holds)
        if op is None:  # pragma: no cover - _BOUNDS holds only these four
            return None
        namespace[f"_b{slot}_{i}"] = bound.limit
        limits.append(f"v {op} _b{slot}_{i}")
    tests = []
    if float in rule.kinds:
        finite = ["_NINF < v < _INF"] if rule.finite else []
        tests.append(" and ".join(["type(v) is float", *finite, *limits]))
    if int in rule.kinds or float in rule.kinds:
        # An int for a float argument must convert to a finite float (10**400 does not).
        fits = ["-_FMAX <= v <= _FMAX"] if float in rule.kinds else []
        tests.append(" and ".join(["type(v) is int", *fits, *limits]))
    if not tests:
        return None
    if rule.optional:
        tests.append("v is None")
    return " or ".join(f"({t})" for t in tests)


def _compile_checker(func: Callable[..., Any]) -> Callable[[Mapping[str, object]], None]:
    """:func:`check_call` for ``func``, spelled out once per function.

    An initializer on a (64,) array spends longer checking its arguments through
    :meth:`Rule.check` than filling, so each parameter gets an inline test of the
    common cases; a value it does not pass goes to :meth:`Rule.check`.
    """
    name = func.__name__
    namespace: dict[str, Any] = {
        "_MISSING": _MISSING,
        "_INF": math.inf,
        "_NINF": -math.inf,
        "_FMAX": _FLOAT_MAX,
        "_name": name,
    }
    lines = ["def check(args):", "    get = args.get"]
    for slot, (param, rule) in enumerate(_call_rules(func)):
        namespace[f"_r{slot}"] = rule
        test = _fast_test(rule, slot, namespace)
        lines.append(f"    v = get({param!r}, _MISSING)")
        slow = f"_r{slot}.check(_name, {param!r}, v)"
        if test is None:
            lines.append(f"    if v is not _MISSING: {slow}")
        else:
            lines.append(f"    if not ({test}) and v is not _MISSING: {slow}")
    lines.append("    return None")
    exec("\n".join(lines), namespace)  # names are func's own parameters; limits by reference
    checker: Callable[[Mapping[str, object]], None] = namespace["check"]
    return checker


_MISSING: Any = object()


def check_arguments(func: Callable[..., Any], values: Mapping[str, object]) -> None:
    """Check ``values`` against the annotations of ``func``'s parameters.

    Raises :class:`ArgumentTypeError` or :class:`ArgumentError` naming the function,
    the argument, the value and the rule.
    """
    rules = _rules(func)
    name = func.__name__
    for param, value in values.items():
        rule = rules.get(param)
        if rule is not None:
            rule.check(name, param, value)
