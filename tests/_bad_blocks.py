"""Bad ``init_W`` blocks for thinc and spaCy configs, with what their one error must say.

A bad value's message must be paraminit's own registry's, so the expected text is
taken from that registry rather than written out a second time.
"""

from __future__ import annotations

from typing import Any

from confection import ConfigValidationError

import paraminit


def registry_message(name: str, **arguments: Any) -> str:
    """The line paraminit's own registry gives for ``name`` with bad ``arguments``."""
    try:
        paraminit.registry.initializers.get(name)(**arguments)
    except ConfigValidationError as err:
        [error] = err.errors
        return f"{error['loc'][-1]}\t{error['msg']}"
    raise AssertionError(f"{name} accepted {arguments}")


# case: (the block after "[<layer path>.", the parts its error must contain)
BAD_BLOCKS: dict[str, tuple[str, list[str]]] = {
    "negative std": (
        'init_W]\n@initializers = "paraminit.random_normal_init.v1"\nstd = -1.0',
        ["paraminit.random_normal_init.v1", registry_message("random_normal_init.v1", std=-1.0)],
    ),
    "lo >= hi": (
        'init_W]\n@initializers = "paraminit.uniform_init.v1"\nlo = 0.5\nhi = 0.5',
        ["paraminit.uniform_init.v1", registry_message("uniform_init.v1", lo=0.5, hi=0.5)],
    ),
    "unknown argument": (
        'init_W]\n@initializers = "paraminit.uniform_init.v1"\nlow = -0.5',
        ["paraminit.uniform_init.v1", "init_W -> low", "unexpected argument: 'low'"],
    ),
    "unknown name": (
        'init_W]\n@initializers = "paraminit.he_normol_init.v1"',
        # catalogue's words in thinc, spaCy's own in spaCy (which also lists the names)
        ["'paraminit.he_normol_init.v1'", "registry", "initializers"],
    ),
}
