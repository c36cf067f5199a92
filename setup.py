"""The optional compiled kernel; everything else about the package is in pyproject.toml."""

import sys

from setuptools import Extension, setup

# No FMA contraction and no fast-math: the kernel's values must round exactly as
# the numpy path's separate operations do (src/paraminit/_native.c). MSVC does
# not contract by default.
FLAGS = [] if sys.platform == "win32" else ["-O2", "-ffp-contract=off", "-fno-fast-math"]

setup(
    ext_modules=[
        Extension(
            "paraminit._native",
            ["src/paraminit/_native.c"],
            depends=[
                "src/paraminit/_ziggurat.h",
                "src/paraminit/_philox.h",
                "src/paraminit/_truncated.h",
            ],
            extra_compile_args=FLAGS,
            optional=True,
        )
    ]
)
