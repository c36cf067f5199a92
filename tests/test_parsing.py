"""The one-pass parser: confection's dict for every text it reads, ``None`` for the rest."""

from __future__ import annotations

import random
import warnings
from pathlib import Path
from typing import Any

import confection
import pytest

from paraminit import parsing
from paraminit.config import Config
from paraminit.parsing import parse_text

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.cfg"))

READ = {
    "values and types": '[a]\nx = 1\ny = "s"\nz = hello\nt = True\nn = null\nf = 1e400\ne =\n',
    "both delimiters": "[a]\nx: 1\ny=2\nz = a:b=c\n",
    "comments and blank lines": "[a]\nx = 1\n\n# c\n; d\ny = 2\n",
    "references": "[a]\nx = 1\ny = ${x}\nz = ${a:x}\n[a.b]\nw = ${a.x}\n",
    "a reference inside a string": (
        '[a]\nx = [1, 2]\ny = "s ${a.x} t"\nz = "${b.q}"\n[b]\nq = "v"\n'
    ),
    "section references": "[a]\nx = 1\n[b]\nr = ${a}\nl = [${a}]\n",
    "references through references": "[a]\nx = ${b}\n[b]\nq = ${c.z}\n[c]\nz = 3\n",
    "escaped dollars": "[a]\nx = $$1\n",
    "positional sections": (
        '[m]\n@layers = "Chain.v1"\n[m.*.a]\nn = 1\n[m.*.a.b]\n[m.*.a.b.c]\nk = 2\n'
    ),
    "carriage returns": "[a]\r\nx = 1\r\n[b]\r\ny = ${a.x}\r\n",
    "spaces in a header": "[ a ]\nx = 1\n",
    "no sections": "# only a comment\n",
}

LEFT_TO_CONFECTION = {
    "a continuation line": "[a]\nx = 1\n  continued\n",
    "a DEFAULT section": "[DEFAULT]\nx = 1\n[a]\ny = ${x}\n",
    "a single-quoted value": "[a]\nx = 'q'\n",
    "a duplicate section": "[a]\nx = 1\n[a]\ny = 2\n",
    "a duplicate key": "[a]\nx = 1\nx = 2\n",
    "a value before any section": "x = 1\n[a]\n",
    "a key without a value": "[a]\nnovalue\n",
    "a missing reference": "[a]\nx = ${nope.y}\n",
    "a circular reference": "[a]\nx = ${a.y}\ny = ${a.x}\n",
    "a lone dollar": "[a]\nx = $1\n",
    "a key shadowing a section": "[a]\nb = 1\n[a.b]\nc = 2\n",
    "an undeclared parent": "[a.b]\nc = 2\n",
    "a section inside a string": '[a]\nx = 1\n[b]\nr = "hi ${a}"\n',
    "a quoted section": '[a]\nx = 1\n[b]\nq = "${a}"\n',
}


def confection_parse(text: str, interpolate: bool) -> dict[str, Any] | Exception:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return dict(confection.Config().from_str(text, interpolate=interpolate))
    except Exception as err:  # each text's outcome, error or not, is compared
        return err


def picture(value: Any, above: tuple[int, ...] = ()) -> Any:
    """Keys in order, values with their types, and where a section contains itself."""
    if isinstance(value, dict):
        if id(value) in above:
            return ("cycle", above.index(id(value)))
        return [(k, picture(v, (*above, id(value)))) for k, v in value.items()]
    if isinstance(value, list):
        return ("list", [picture(v, above) for v in value])
    return (type(value).__name__, value)


def assert_same_as_confection(text: str, interpolate: bool) -> None:
    ours = parse_text(text, interpolate=interpolate)
    theirs = confection_parse(text, interpolate)
    if ours is not None:
        assert not isinstance(theirs, Exception), f"confection refuses {text!r}: {theirs}"
        assert picture(ours) == picture(theirs)


@pytest.mark.parametrize("interpolate", [True, False])
@pytest.mark.parametrize("text", [*READ.values(), *(p.read_text() for p in CONFIGS)])
def test_the_common_form_parses_as_confection_parses_it(text: str, interpolate: bool) -> None:
    assert parse_text(text, interpolate=interpolate) is not None
    assert_same_as_confection(text, interpolate)


@pytest.mark.parametrize("text", LEFT_TO_CONFECTION.values(), ids=LEFT_TO_CONFECTION)
def test_other_text_and_every_error_is_left_to_confection(text: str) -> None:
    assert parse_text(text) is None


def test_a_section_reference_is_the_section_itself() -> None:
    parsed = parse_text("[a]\nx = 1\n[b]\nr = ${a}\nl = [${a}]\n")
    assert parsed is not None
    assert parsed["b"]["r"] is parsed["a"]
    assert parsed["b"]["l"][0] is parsed["a"]


def test_random_texts_parse_as_confection_parses_them() -> None:
    rng = random.Random(10)
    names = ["a", "b", "a.b", "a.*.c", "b.c", "x", "a.*.c.d", "*", "a.b.c"]
    keys = ["x", "y", "k", "b", "c", "@layers", "*"]
    values = [
        *("1", '"s"', "hi", "${a.x}", "${x}", "${a}", '"${b.y} z"', "[1, ${a.x}]", "$$"),
        *("True", "${a.*.c.k}", '{"q": 1}', "${b.c}", '"${a}"', "${a.b}", "1.5", "", "null"),
    ]
    for _ in range(1500):
        lines = []
        for _ in range(rng.randint(1, 4)):
            lines.append(f"[{rng.choice(names)}]")
            for _ in range(rng.randint(0, 3)):
                lines.append(f"{rng.choice(keys)} {rng.choice(['=', ':'])} {rng.choice(values)}")
            lines += [""] * (rng.random() < 0.2) + ["# c"] * (rng.random() < 0.1)
        text = "\n".join(lines)
        assert_same_as_confection(text, interpolate=True)
        assert_same_as_confection(text, interpolate=False)


def test_config_from_str_keeps_confections_errors_for_text_it_leaves() -> None:
    with pytest.raises(confection.ConfigValidationError, match="duplicate key 'x'"):
        Config().from_str(LEFT_TO_CONFECTION["a duplicate key"])


def test_the_markers_are_confections() -> None:
    assert parsing.SECTION_PREFIX == confection.SECTION_PREFIX
    assert parsing.VARIABLE_RE.pattern == confection.VARIABLE_RE.pattern


OVERRIDES = [
    ("[a]\nx = 1\ny = ${a.x}\n[b]\nz = 2\n", {"a.x": 5}),
    ("[a]\nx = 1\ny = ${a.x}\n[b]\nz = 2\n", {"b.z": {"k": [1, "s"]}, "a.new": "v"}),
    ('[m]\n@layers = "Chain.v1"\n[m.*.h]\nnO = ${v.w}\n[v]\nw = 3\n', {"v.w": 7}),
    ('[m]\n@layers = "Chain.v1"\n[m.*.h]\nnO = 1\n', {"m.*.h.nO": 9}),
    ("[a]\nx = 1\n", {"nosection": 1}),
    ("[a]\nx = 1\n", {"b.x": 1}),
    ("[a]\nx = 1\n", {"a.x": "$1"}),
    ("[a]\nx = 1\n", {"a.x": "${a.y}"}),
]


@pytest.mark.parametrize("interpolate", [True, False])
@pytest.mark.parametrize(("text", "overrides"), OVERRIDES)
def test_overrides_apply_as_confection_applies_them(
    text: str, overrides: dict[str, Any], interpolate: bool
) -> None:
    def load(config_type: type[confection.Config]) -> Any:
        try:
            loaded = config_type().from_str(text, interpolate=interpolate, overrides=overrides)
        except Exception as err:  # each outcome, error or not, is compared
            return type(err).__name__
        return (picture(dict(loaded)), loaded.is_interpolated)

    assert load(Config) == load(confection.Config)


@pytest.mark.parametrize(("text", "overrides"), OVERRIDES[:4])
def test_overrides_of_existing_sections_are_read_in_one_pass(
    text: str, overrides: dict[str, Any]
) -> None:
    assert parse_text(text, interpolate=False, overrides=overrides) is not None
