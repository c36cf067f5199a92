"""The ``paraminit`` command: argument parsing around the commands of :mod:`.commands`.

Subcommands: ``list``, ``show NAME``, ``build CONFIG``, ``diagnose CONFIG`` and
``plot CONFIG``; ``paraminit COMMAND --help`` says more. Tables and the progress bar
use ``rich`` and plots use ``matplotlib`` (the ``cli`` extra); both are imported
only when needed, and without ``rich`` the output is plain text.

Exit status: 0 success; 1 the config is invalid or cannot be built (the error
lists every bad field with its path); 2 a usage problem (missing file, bad
override, unknown name, unwritable output, missing extra); 3 ``diagnose``
flagged a layer.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from confection import ConfigValidationError

from ..build import OverrideError, parse_override_value
from ..registry import PluginError
from .commands import cmd_build, cmd_diagnose, cmd_list, cmd_plot, cmd_show
from .output import EXIT_CONFIG, EXIT_USAGE, UsageError

__all__ = ["main", "make_parser"]


def _parse_overrides(extra: Sequence[str]) -> dict[str, Any]:
    """``--section.key=value`` or ``--section.key value`` pairs, as confection reads them."""
    overrides: dict[str, Any] = {}
    items = list(extra)
    while items:
        item = items.pop(0)
        if not item.startswith("--") or "." not in item.split("=", 1)[0]:
            raise UsageError(
                f"unrecognized argument {item!r} (overrides look like --section.key=value)"
            )
        key, sep, value = item[2:].partition("=")
        if not sep:
            if not items:
                raise UsageError(f"override --{key} has no value (write --{key}=value)")
            value = items.pop(0)
        overrides[key] = parse_override_value(value)
    return overrides


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paraminit",
        description="Neural-network parameter initializers for config-driven models.",
        epilog="Exit status: 0 ok, 1 invalid config, 2 usage error, 3 diagnose flagged a layer.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="every registered initializer and layer, plugins included")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("show", help="the documentation and arguments of one function")
    p.add_argument("name", help="a registered name, e.g. uniform_init.v1 or Linear")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_show)

    def config_command(name: str, help: str, handler: Callable[..., int]) -> Any:
        p = sub.add_parser(
            name,
            help=help,
            description=f"{help}. Settings of the config can be overridden with "
            "--section.key=value (e.g. --vars.width=64).",
        )
        p.add_argument("config", type=Path, help="a .cfg file with a [model] section")
        p.add_argument("--seed", type=_seed, default=None, help="build seed (default: random)")
        p.set_defaults(handler=handler)
        return p

    p = config_command("build", "build a config's model and summarize its parameters", cmd_build)
    p.add_argument("--output", type=Path, help="write the parameters to this .npz file")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = config_command("diagnose", "feed standard-normal input through a model", cmd_diagnose)
    p.add_argument("--batch", type=int, default=1024, help="rows of input (default 1024)")
    p.add_argument("--plot", type=Path, help="draw std against depth into this image")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = config_command("plot", "histogram every parameter with its expected density", cmd_plot)
    p.add_argument("--output", type=Path, required=True, help="the image to write (.png)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    try:
        if extra and args.command in ("list", "show"):
            raise UsageError(f"unrecognized arguments: {' '.join(extra)}")
        overrides = _parse_overrides(extra)
        status: int = args.handler(args, overrides)
        return status
    except ConfigValidationError as err:
        print(str(err).strip("\n"), file=sys.stderr)
        return EXIT_CONFIG
    except (UsageError, OverrideError, PluginError) as err:
        print(f"paraminit: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        where = f" {err.filename}" if err.filename else ""
        print(f"paraminit: cannot read{where}: {err.strerror or err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("paraminit: interrupted", file=sys.stderr)
        return 130
