"""Config text to nested dicts in one linear pass, as confection parses it, or ``None``.

confection parses with :mod:`configparser` and then compares every section with
every other to find a key that is also a child section's name: at 500 sections
that is most of a build. :func:`parse_text` reads the common form of config text
(``[section]`` headers, one-line ``key = value`` options, ``#``/``;`` comments,
``${...}`` references) in one pass and makes the dict confection makes, with the
same interpolation, JSON values and section references. For anything else (a
continuation line, a ``[DEFAULT]`` section, a single-quoted value, which
confection warns about) and for every error, it returns ``None``: confection then
parses the text itself, so its semantics and its messages stay the reference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from confection.util import try_load_json

__all__ = ["SECTION_PREFIX", "VARIABLE_RE", "parse_text"]

# confection's markers (its top-level SECTION_PREFIX and VARIABLE_RE; tests compare them).
SECTION_PREFIX = "__SECTION__:"  # a ${section} reference, until the section replaces it
VARIABLE_RE = re.compile(r"\$\{[\w\.:]+\}")  # a value that holds a reference

_REFERENCE = re.compile(r"\$\{([^}]+)\}")  # configparser.ExtendedInterpolation._KEYCRE
_MAX_DEPTH = 10  # configparser.MAX_INTERPOLATION_DEPTH
_DEFAULT = "DEFAULT"  # configparser's default section, whose values every section inherits
_FALLBACK = "__FALLBACK__"

Sections = dict[str, dict[str, str]]


class _Defer(Exception):
    """The text is not of the form read here, or has an error: confection parses it."""


def parse_text(
    text: str, *, interpolate: bool = True, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The nested dict confection's parser makes of ``text``, or ``None``.

    ``None`` means confection must parse ``text`` (see the module's docstring).
    ``overrides`` (``{"section.key": value}``) are applied to the values as read,
    as confection applies them; it reads such text uninterpolated, then
    interpolates the result as a whole (``Config.interpolate``), which is the
    caller's step.
    """
    try:
        sections = _read(text, warn_quoted=interpolate and not overrides)
        _check_structure(sections)
        return _build(sections, interpolate and not overrides, overrides or {})
    except (_Defer, LookupError, ValueError, TypeError, RecursionError):
        return None


def _apply_overrides(
    result: dict[str, Any], sections: Sections, overrides: Mapping[str, Any]
) -> None:
    """confection's check and application of overrides (an unknown section: ``_Defer``)."""
    for key in overrides:
        section = key.rpartition(".")[0]
        if section not in sections:
            raise _Defer  # confection names the override it cannot apply
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        node = result
        for part in parents:
            node = node[part]
        node[leaf] = value


def _read(text: str, *, warn_quoted: bool) -> Sections:
    """The raw values of each section, as configparser reads them."""
    sections: Sections = {}
    current: dict[str, str] | None = None
    for line in text.split("\n"):  # configparser's lines end only at "\n"
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if line[0].isspace():
            raise _Defer  # an indented line may continue a value
        if stripped[0] == "[":
            name = stripped[1:-1]
            if not stripped.endswith("]") or "]" in name or not name or name == _DEFAULT:
                raise _Defer
            if name in sections:
                raise _Defer  # a duplicate section
            current = sections[name] = {}
            continue
        if current is None:
            raise _Defer  # a value before any section
        split = min((i for i in (stripped.find("="), stripped.find(":")) if i >= 0), default=-1)
        key = stripped[:split].rstrip()
        if split < 0 or not key or key in current:
            raise _Defer  # no delimiter, no key, or a duplicate key
        value = stripped[split + 1 :].strip()
        if warn_quoted and value and value[0] == value[-1] == "'":
            raise _Defer  # confection warns about single quotes
        current[key] = value
    return sections


def _check_structure(sections: Sections) -> None:
    """confection's checks of section names: parents declared, no key shadowing a child."""
    for name in sections:
        path = name.split(".")
        for i in range(1, len(path)):
            parent = ".".join(path[:i])
            if parent in sections:
                if path[i] in sections[parent]:
                    raise _Defer  # a key of the parent has the child's name
            elif "*" not in path[:i]:
                raise _Defer  # an undeclared parent ("*" sections need none)


def _build(sections: Sections, interpolate: bool, overrides: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    paths = {name: name.split(".") for name in sections}
    for parts in paths.values():
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if part == "*" else node[part]
        node.setdefault(parts[-1], {})
    for name in sorted(sections, key=lambda n: len(paths[n])):
        node = result
        for part in paths[name]:
            node = node[part]
        for key, raw in sections[name].items():
            value = _interpolated(sections, name, key) if interpolate else raw
            node[key] = _interpret(value)
    _apply_overrides(result, sections, overrides)
    _replace_section_refs(result, result)
    return result


def _interpret(value: str) -> Any:
    result = try_load_json(value)
    if isinstance(result, str) and VARIABLE_RE.search(value):
        return value  # keep the reference as written, not a JSON string of it
    return result


def _interpolated(sections: Sections, section: str, option: str) -> str:
    """The value of ``[section] option`` with its ``${...}``, as confection interpolates it."""
    pieces: list[str] = []
    raw = sections[section][option]
    _interpolate(sections, option, pieces, raw, section, sections[section], 1)
    if len(pieces) == 1:
        return pieces[0]
    return "".join(_coerce_for_string(piece) for piece in pieces)


def _interpolate(
    sections: Sections,
    option: str,
    pieces: list[str],
    rest: str,
    section: str,
    values: dict[str, str],
    depth: int,
) -> None:
    if depth > _MAX_DEPTH:
        raise _Defer  # a circular reference
    rawval = sections.get(section, {}).get(option, rest)
    while rest:
        p = rest.find("$")
        if p < 0:
            pieces.append(rest)
            return
        if p > 0:
            pieces.append(rest[:p])
            rest = rest[p:]
        c = rest[1:2]
        if c == "$":
            pieces.append("$")
            rest = rest[2:]
            continue
        match = _REFERENCE.match(rest) if c == "{" else None
        if match is None:
            raise _Defer  # a malformed reference
        path = match.group(1).replace(":", ".").rsplit(".", 1)
        rest = rest[match.end() :]
        sect, opt = section, option
        if len(path) == 1:
            opt = path[0]
            if opt in values and values[opt].strip() != rawval.strip():
                value = values[opt]
            else:
                value = _section_ref(sections, path[0])
        else:
            sect, opt = path
            value = sections.get(sect, {}).get(opt, _FALLBACK)
            if value == _FALLBACK:
                value = _section_ref(sections, f"{sect}.{opt}")
        if "$" in value:
            _interpolate(sections, opt, pieces, value, sect, dict(sections[sect]), depth + 1)
        else:
            pieces.append(value)


def _section_ref(sections: Sections, name: str) -> str:
    if name not in sections or "$" in name:
        raise _Defer  # a reference to nothing
    return f'"{SECTION_PREFIX}{name}"'


def _coerce_for_string(piece: str) -> str:
    if SECTION_PREFIX in piece:
        return piece
    try:
        parsed = json.loads(piece)
    except json.JSONDecodeError:
        return piece
    if isinstance(parsed, str):
        return parsed
    return json.dumps(parsed).replace('"', '\\"')


def _replace_section_refs(root: dict[str, Any], node: dict[str, Any]) -> None:
    for key, value in node.items():
        if isinstance(value, dict):
            _replace_section_refs(root, value)
        elif isinstance(value, list):
            node[key] = [_section_value(root, v) for v in value]
        else:
            node[key] = _section_value(root, value)


def _section_value(root: dict[str, Any], value: Any) -> Any:
    if isinstance(value, str) and value.startswith(f'"{SECTION_PREFIX}'):
        value = try_load_json(value)
    if not isinstance(value, str) or SECTION_PREFIX not in value or value == SECTION_PREFIX:
        return value
    if not value.startswith(SECTION_PREFIX):
        raise _Defer  # a section inside a string, which confection refuses
    result: Any = root
    for part in value.replace(SECTION_PREFIX, "", 1).split("."):
        result = result[part]
    return result
