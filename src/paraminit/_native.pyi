"""Types of the optional compiled kernel (src/paraminit/_native.c)."""

from typing import Any

def configure(
    fast32: Any,
    fast64: Any,
    signed32: Any,
    signed64: Any,
    f: Any,
    f_step: Any,
    lg: Any,
    base32: float,
    base64: float,
    r: float,
    ln2_hi: float,
    ln2_lo: float,
    sqrt_half_bits: int,
    sfc64_probe: Any,
    probe_state: tuple[int, int, int, int],
    /,
) -> None: ...
def standard_normal(capsule: Any, out: Any, n: int, tries: int, /) -> None: ...
def log(x: Any, out: Any, /) -> None: ...
def inline_sfc64() -> bool: ...
def to_float16(src: Any, out: Any, /) -> bool: ...
def configure_small(capsule: Any, key: tuple[int, int], fail: float, /) -> bool: ...
def uniform(seed: int, out: Any, scale: float, lo: float, unit: bool, /) -> None: ...
def normal(seed: int, out: Any, std: float, mean: float, add_mean: bool, tries: int, /) -> None: ...
def truncated_small(
    seed: int,
    out: Any,
    z_lo: float,
    z_hi: float,
    std: float,
    mean: float,
    add_mean: bool,
    accept: float,
    sigmas: float,
    fail: float,
    tries: int,
    /,
) -> None: ...
def truncated(
    capsule: Any,
    out: Any,
    z: Any,
    z_lo: float,
    z_hi: float,
    std: float,
    mean: float,
    add_mean: bool,
    accept: float,
    sigmas: float,
    fail: float,
    tries: int,
    /,
) -> None: ...
