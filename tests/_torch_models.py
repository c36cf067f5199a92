"""A tiny transformer and its rule config, shared by the torch bridge's tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

import paraminit
from paraminit.build import param_seed

RULES_CFG = """
[init]

[init.embeddings]
match = ["tok.weight", "pos.weight"]
modules = ["Embedding"]

[init.embeddings.init]
@initializers = "random_normal_init.v1"
std = 0.02

[init.norms]
match = "*.weight"
modules = ["LayerNorm"]

[init.norms.init]
@initializers = "ones_init.v1"

[init.out_projections]
match = ["*.o.weight", "*.proj.weight"]

[init.out_projections.init]
@initializers = "truncated_normal_init.v1"
std = 0.01

[init.linears]
match = "*.weight"
modules = ["Linear"]

[init.linears.init]
@initializers = "xavier_uniform_init.v1"

[init.biases]
match = "*.bias"

[init.biases.init]
@initializers = "zero_init.v1"
"""


def rules() -> Any:
    """The ``[init]`` block of :data:`RULES_CFG`."""
    return paraminit.Config().from_str(RULES_CFG)["init"]


class Block(nn.Module):
    """Pre-norm attention projections and an MLP (no forward needed to initialize)."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.fc, self.proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)


class Tiny(nn.Module):
    """Token and position embeddings, ``n_layers`` blocks, a final norm, a tied head."""

    def __init__(self, n_layers: int = 2, vocab: int = 37, d: int = 12) -> None:
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(9, d)
        self.blocks = nn.ModuleList(Block(d) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.tok.weight


def expected_rule(name: str) -> str:
    """The rule of :data:`RULES_CFG` that ``name`` of :class:`Tiny` falls under."""
    if name in ("tok.weight", "pos.weight"):
        return "embeddings"
    if name.endswith(".bias"):
        return "biases"
    if name.split(".")[-2].startswith("ln"):
        return "norms"
    if name.endswith((".o.weight", ".proj.weight")):
        return "out_projections"
    return "linears"


def expected_values(name: str, shape: tuple[int, ...], seed: int) -> np.ndarray[Any, Any]:
    """What the documented rule gives ``name``, computed with paraminit on numpy."""
    out = np.empty(shape, np.float32)
    s = param_seed(seed, name)
    rule = expected_rule(name)
    if rule == "embeddings":
        return paraminit.random_normal_init(out, std=0.02, seed=s)
    if rule == "norms":
        return paraminit.ones_init(out)
    if rule == "out_projections":
        return paraminit.truncated_normal_init(out, std=0.01, seed=s)
    if rule == "biases":
        return paraminit.zero_init(out)
    return paraminit.xavier_uniform_init(out, seed=s)


def numpy_params(module: nn.Module) -> dict[str, np.ndarray[Any, Any]]:
    """Every parameter of a plain (unsharded) module as a numpy copy, by first name."""
    return {name: p.detach().numpy().copy() for name, p in module.named_parameters()}
