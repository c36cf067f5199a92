"""Config text: :class:`Config`, confection's ``Config`` whose parse errors name the line.

confection parses with :mod:`configparser`, whose errors (a duplicate section or
key, a circular or unterminated ``${...}``) escape its ``from_str`` as bare
``configparser`` exceptions, deep nesting as a ``RecursionError``, and a section
that refers to itself as a dict that contains itself. :class:`Config` turns each
into a :class:`ConfigValidationError` that names the problem and its line, and
reads a UTF-8 byte order mark at the start as nothing, as editors write it.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Mapping
from typing import Any

import confection
from confection import ConfigValidationError

from .parsing import parse_text

__all__ = ["Config", "ConfigValidationError"]

_BOM = "\ufeff"
_HEADER = re.compile(r"^\s*\[(?P<name>[^\]]*)\]")
_TITLE = "Cannot parse the config"


class Config(confection.Config):
    """confection's ``Config``; text errors are :class:`ConfigValidationError` with a line."""

    def from_str(
        self,
        text: str,
        *,
        interpolate: bool = True,
        overrides: dict[str, Any] | None = None,
        schema: Any = None,
    ) -> Config:
        """Load the config from ``text`` (see confection); a leading BOM is ignored.

        Text of the common form is parsed in one linear pass (:mod:`paraminit.parsing`),
        anything else by confection, with the same result.
        """
        text = text.removeprefix(_BOM)
        fast = None if schema is not None else self._from_common_text(text, interpolate, overrides)
        if fast is not None:
            return fast
        try:
            loaded: Config = super().from_str(
                text, interpolate=interpolate, overrides=dict(overrides or {}), schema=schema
            )
        except ConfigValidationError:
            raise
        except configparser.Error as err:
            raise _parse_error(text, err) from None
        except RecursionError:
            raise ConfigValidationError(title=_TITLE, desc=_too_deep(text)) from None
        _refuse_cycles(loaded, text)
        return loaded

    def _from_common_text(
        self, text: str, interpolate: bool, overrides: dict[str, Any] | None
    ) -> Config | None:
        """``from_str`` through :mod:`paraminit.parsing`, or ``None`` for confection's way."""
        parsed = parse_text(text, interpolate=interpolate, overrides=overrides)
        if parsed is None:
            return None
        self.clear()
        self.update(parsed)
        loaded = self
        if overrides and interpolate:
            # As confection does: the overridden values, written out and read again.
            try:
                loaded = self.interpolate()
            except Exception:  # its errors, and their wording, are confection's
                return None
        loaded.is_interpolated = interpolate
        _refuse_cycles(loaded, text)
        return loaded


def _parse_error(text: str, err: configparser.Error) -> ConfigValidationError:
    section = getattr(err, "section", None)
    option = getattr(err, "option", None)
    if isinstance(err, configparser.DuplicateSectionError):
        what = f"duplicate section [{section}]"
    elif isinstance(err, configparser.DuplicateOptionError):
        what = f"duplicate key {option!r} in section [{section}]"
    elif isinstance(err, configparser.InterpolationDepthError):
        what = f"[{section}] {option}: circular ${{...}} reference (it never resolves to a value)"
    elif isinstance(err, configparser.InterpolationSyntaxError):
        what = f"[{section}] {option}: unterminated or malformed ${{...}} ({err.message})"
    else:
        what = err.message if hasattr(err, "message") else str(err)
    line = getattr(err, "lineno", None) or _line_of(text, section, option)
    where = f"line {line}: " if line else ""
    return ConfigValidationError(title=_TITLE, desc=f"{where}{' '.join(what.split())}")


def _line_of(text: str, section: object, option: object) -> int | None:
    """The line of ``option`` in ``[section]`` (or of the section header), if found."""
    current = None
    found = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = header["name"].strip()
            if current == section and option is None:
                return number
            continue
        key = line.split("=", 1)[0].strip()
        if current == section and key and key == option:
            found = number
    return found


def _too_deep(text: str) -> str:
    depths = [
        (header["name"].count(".") + 1, number)
        for number, line in enumerate(text.splitlines(), start=1)
        if (header := _HEADER.match(line))
    ]
    if not depths:
        return "the config is nested too deeply to parse"
    depth, line = max(depths)
    return f"line {line}: sections nested {depth} deep are more than the parser can read"


def _refuse_cycles(config: Mapping[str, Any], text: str) -> None:
    """Raise if a section contains itself (``x = ${a}`` inside ``[a]``)."""
    stack: list[tuple[Mapping[str, Any], tuple[str, ...], frozenset[int]]] = [
        (config, (), frozenset({id(config)}))
    ]
    while stack:
        node, path, above = stack.pop()
        for key, value in node.items():
            if not isinstance(value, Mapping):
                continue
            here = (*path, str(key))
            if id(value) in above:
                section = ".".join(path)
                line = _line_of(text, section, key)
                where = f"line {line}: " if line else ""
                raise ConfigValidationError(
                    title=_TITLE,
                    desc=f"{where}[{section}] {key}: the section refers to itself or "
                    "a section above it",
                )
            stack.append((value, here, above | {id(value)}))
