"""Whether the optional compiled kernel ``paraminit._native`` runs the engine's hot loops.

``PARAMINIT_NATIVE``, read once when a fill first needs it (so ``import paraminit``
never loads the extension): unset, the kernel when it was built, else numpy;
``0``, numpy; ``1``, the kernel, and an ``ImportError`` if it was not built. The
kernel gives the numpy path's values bit for bit (docs/engine.md, "The compiled
kernel"); only the speed differs.
"""

from __future__ import annotations

import os
import threading
from types import ModuleType
from typing import Any

__all__ = ["load", "native"]

_UNRESOLVED: Any = object()
_module: Any = _UNRESOLVED  # the module, None, or not decided yet
_lock = threading.Lock()


def native() -> ModuleType | None:
    """``paraminit._native`` if it is to be used, else ``None`` (decided once)."""
    global _module
    if _module is _UNRESOLVED:
        with _lock:
            if _module is _UNRESOLVED:
                _module = load(os.environ.get("PARAMINIT_NATIVE", "").strip())
    module: ModuleType | None = _module
    return module


def load(setting: str) -> ModuleType | None:
    """The module for a ``PARAMINIT_NATIVE`` value (``""`` when unset)."""
    if setting not in ("", "0", "1"):
        raise ValueError(f"PARAMINIT_NATIVE must be 0 or 1 (or unset), got {setting!r}")
    if setting == "0":
        return None
    try:
        from .. import _native
    except ImportError as error:
        if setting == "1":
            raise ImportError(
                "PARAMINIT_NATIVE=1 asks for the compiled kernel paraminit._native, which was "
                "not built: reinstall paraminit with a C compiler (pip install -e .)"
            ) from error
        return None
    return _native
