"""Seeds: the package seed stream and explicit ``seed=`` arguments."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import paraminit
from conftest import RunPython
from paraminit import engine


def _script_values() -> list[np.ndarray]:
    return [
        paraminit.uniform_init(np.empty((50, 40), np.float32)),
        paraminit.normal_init(np.empty((30, 20), np.float64)),
        paraminit.xavier_uniform_init(np.empty((8, 8, 3), np.float16)),
    ]


def test_set_seed_makes_a_script_bit_identical() -> None:
    paraminit.set_seed(1234)
    first = _script_values()
    paraminit.set_seed(1234)
    second = _script_values()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_set_seed_values_repeat_in_a_new_process(run_python: RunPython) -> None:
    code = (
        "import numpy as np, paraminit; paraminit.set_seed(99); "
        "print(paraminit.uniform_init(np.empty(6, np.float64)).tobytes().hex())"
    )
    results = [run_python(code) for _ in range(2)]
    assert all(r.returncode == 0 for r in results), results[0].stderr
    runs = {r.stdout for r in results}
    paraminit.set_seed(99)
    here = paraminit.uniform_init(np.empty(6, np.float64)).tobytes().hex()
    assert runs == {here + "\n"}


def test_different_set_seed_gives_different_values() -> None:
    paraminit.set_seed(1)
    a = paraminit.uniform_init(np.empty(100))
    paraminit.set_seed(2)
    b = paraminit.uniform_init(np.empty(100))
    assert not np.array_equal(a, b)


def test_unseeded_calls_draw_fresh_seeds() -> None:
    a = paraminit.uniform_init(np.empty(100))
    b = paraminit.uniform_init(np.empty(100))
    assert not np.array_equal(a, b)


def test_explicit_seed_ignores_global_state_and_call_order() -> None:
    reference = paraminit.normal_init(np.empty((20, 10)), seed=7)
    paraminit.set_seed(5)
    paraminit.uniform_init(np.empty(1000))
    np.random.seed(0)
    np.random.random(10)
    again = paraminit.normal_init(np.empty((20, 10)), seed=7)
    np.testing.assert_array_equal(reference, again)


def test_explicit_seed_does_not_advance_the_stream() -> None:
    paraminit.set_seed(3)
    expected = paraminit.uniform_init(np.empty(10))
    paraminit.set_seed(3)
    paraminit.uniform_init(np.empty(10), seed=42)
    np.testing.assert_array_equal(paraminit.uniform_init(np.empty(10)), expected)


def test_numpy_global_rng_is_left_alone() -> None:
    np.random.seed(17)
    expected = np.random.random(5)
    np.random.seed(17)
    paraminit.uniform_init(np.empty((100, 100)), seed=1)
    paraminit.normal_init(np.empty((100, 100)))
    np.testing.assert_array_equal(np.random.random(5), expected)


def test_seed_stream_is_thread_safe() -> None:
    seeds: list[int] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [engine.next_seed() for _ in range(2000)]
        with lock:
            seeds.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seeds)) == len(seeds) == 8000


@pytest.mark.parametrize("seed", [-1, 2**128, 1.0, "1", None])
def test_set_seed_rejects_bad_seeds(seed: object) -> None:
    with pytest.raises((TypeError, ValueError), match="set_seed: 'seed'"):
        paraminit.set_seed(seed)  # type: ignore[arg-type]
