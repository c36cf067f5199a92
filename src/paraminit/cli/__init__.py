"""The ``paraminit`` command: argument parsing around the commands of :mod:`.commands`.

Subcommands: ``list``, ``show NAME``, ``build CONFIG``, ``verify FILE``,
``diagnose CONFIG`` and ``plot CONFIG``; ``paraminit COMMAND --help`` says more.
Tables and the progress bar use ``rich`` and plots use ``matplotlib`` (the ``cli``
extra); both are imported only when needed, and without ``rich`` the output is
plain text.

Exit status: 0 success; 1 the config is invalid or cannot be built (one line on
stderr per bad field or failing parameter, with its path), or ``verify``'s file
has no usable provenance; 2 a usage problem (missing file, bad override or
argument, unknown name, unwritable output, unknown output or image format,
unreachable scheduler, bad environment variable, missing extra), one line; 3
``diagnose`` flagged a layer; 4 ``verify`` found a parameter that differs. A
closed pipe on stdout ends the command quietly with status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from confection import ConfigValidationError

from ..build import OverrideError, parse_override_value
from ..engine import MAX_SEED
from ..registry import PluginError
from .commands import cmd_build, cmd_diagnose, cmd_list, cmd_plot, cmd_show, cmd_verify
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
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int in [0, 2**128), got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an int in [0, 2**128), got {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (argparse prints the usage above them)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="paraminit",
        description="Neural-network parameter initializers for config-driven models.",
        epilog="Exit status: 0 ok, 1 invalid config (verify: no usable provenance), 2 usage "
        "error, 3 diagnose flagged a layer, 4 verify found a difference.",
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
        quiet_flag(p)
        p.set_defaults(handler=handler)
        return p

    def quiet_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    def scheduler_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--scheduler",
            metavar="ADDRESS",
            help="a running Dask distributed scheduler (tcp://host:8786) to do .zarr work",
        )

    p = config_command("build", "build a config's model and summarize its parameters", cmd_build)
    p.add_argument(
        "--output",
        type=Path,
        help="write the parameters, with provenance, to this .npz, .safetensors or .zarr",
    )
    scheduler_flag(p)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser(
        "verify",
        help="recompute a written file's parameters from its provenance and compare the bits",
        description="Recompute every parameter of a .npz, .safetensors or .zarr file written "
        "by paraminit from the file's own provenance and compare the bits. Exit 0 when all "
        "are identical, 4 when any differs, 1 when the file has no usable provenance.",
    )
    p.add_argument("file", type=Path, help="a .npz, .safetensors or .zarr written by paraminit")
    scheduler_flag(p)
    quiet_flag(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_verify)

    p = config_command("diagnose", "feed standard-normal input through a model", cmd_diagnose)
    p.add_argument("--batch", type=int, default=1024, help="rows of input (default 1024)")
    p.add_argument("--plot", type=Path, help="draw std against depth into this image")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = config_command("plot", "histogram every parameter with its expected density", cmd_plot)
    p.add_argument("--output", type=Path, required=True, help="the image to write (.png)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if sys.stdout is None:  # started with stdout closed: the output is not wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (open for the process's life)
    try:
        status = _run(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`paraminit list | head -1`). As Python's docs advise
        # for SIGPIPE: stop quietly, and point stdout at devnull so the interpreter's
        # own flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return status


def _error_lines(err: ConfigValidationError) -> list[str]:
    """``err`` as one line per problem: ``section -> key: message``."""
    if err.errors:
        return [
            f"{' -> '.join(map(str, e.get('loc', [])))}: {_one_line(str(e.get('msg', '')))}"
            for e in err.errors
        ]
    parts = [_one_line(str(p)) for p in (err.title, err.desc) if p]
    return [": ".join(parts) or "invalid config"]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _run(argv: Sequence[str] | None) -> int:
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    try:
        if extra and args.command in ("list", "show", "verify"):
            raise UsageError(f"unrecognized arguments: {' '.join(extra)}")
        overrides = _parse_overrides(extra)
        status: int = args.handler(args, overrides)
        return status
    except ConfigValidationError as err:
        for line in _error_lines(err):
            print(f"paraminit: {line}", file=sys.stderr)
        return EXIT_CONFIG
    except (UsageError, OverrideError, PluginError) as err:
        print(f"paraminit: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        raise
    except OSError as err:
        where = f" {err.filename}" if err.filename else ""
        print(f"paraminit: cannot read{where}: {err.strerror or err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("paraminit: interrupted", file=sys.stderr)
        return 130
