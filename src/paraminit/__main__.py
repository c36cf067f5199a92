"""``python -m paraminit``: the command line (see :mod:`paraminit.cli`)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
