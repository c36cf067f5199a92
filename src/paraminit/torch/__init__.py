"""The torch bridge: paraminit's values in torch tensors, nn.Modules and sharded DTensors.

* :func:`init_` fills one tensor in place with exactly the values paraminit gives
  a numpy array of the same shape and dtype (bfloat16: the float32 values, rounded
  to nearest even).
* :func:`initialize` applies ordered rules (from a ``.cfg`` block or a Python
  list) to a module's parameters and buffers: a glob on the qualified name,
  optionally module types, one initializer each, the first match wins. Every rule
  is checked against every tensor before any tensor is written, and each
  parameter's seed derives from (seed, its qualified name) as in
  :func:`paraminit.build`.
* A ``DTensor`` (FSDP2 ``fully_shard``, ``distribute_tensor``) is filled on each
  rank through :func:`paraminit.initialize_region` over the global indices of its
  local shard only, without communication: the full tensor is the same on any
  number of ranks and any placement.

The package's modules: ``tensors`` (one tensor: its target, the checked fill plan,
host chunks, ``init_``), ``rules`` (``Rule``, rules from config blocks,
``initialize`` and its report) and ``shards`` (a ``DTensor``'s local shard in
global indices). The public names are this package's.

Needs the ``torch`` extra (``pip install 'paraminit[torch]'``); ``import paraminit``
never imports this package.
"""

from __future__ import annotations

try:
    import torch  # noqa: F401  (before the modules that use it: the extra's message)
except ImportError as err:  # pragma: no cover - the test extra installs torch
    raise ImportError(
        "paraminit.torch needs torch; install it with: pip install 'paraminit[torch]'"
    ) from err

from .rules import InitReport, ParamRecord, Rule, initialize
from .shards import shard_runs
from .tensors import WHOLE_TENSOR_LIMIT, init_

__all__ = [
    "HOST_CHUNK_ELEMENTS",
    "WHOLE_TENSOR_LIMIT",
    "InitReport",
    "ParamRecord",
    "Rule",
    "init_",
    "initialize",
    "shard_runs",
]

# Elements per host buffer when a tensor is filled by copying (DTensor shards, CUDA,
# bfloat16): the host never holds more than this much of a large tensor at once.
# Read from here at each fill (tensors._boxes), so setting it takes effect.
HOST_CHUNK_ELEMENTS = 1 << 22
