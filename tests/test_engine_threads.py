"""Threads of the engine: the count, its default, and when the pool is used."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

import paraminit
from paraminit.engine import BLOCK_SIZE, threads


def test_set_num_threads_validates_and_resets(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="positive int"):
        paraminit.set_num_threads(0)
    with pytest.raises(TypeError, match="positive int"):
        paraminit.set_num_threads("2")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="positive int"):
        paraminit.set_num_threads(True)
    paraminit.set_num_threads(3)
    assert paraminit.get_num_threads() == 3
    monkeypatch.setenv("PARAMINIT_NUM_THREADS", "5")
    paraminit.set_num_threads(None)
    assert paraminit.get_num_threads() == 5
    monkeypatch.delenv("PARAMINIT_NUM_THREADS")
    paraminit.set_num_threads(None)
    assert paraminit.get_num_threads() == len(os.sched_getaffinity(0))
    for bad in ("zero", "0", "-2", "1.5"):
        monkeypatch.setenv("PARAMINIT_NUM_THREADS", bad)
        paraminit.set_num_threads(None)
        with pytest.raises(ValueError, match="PARAMINIT_NUM_THREADS"):
            paraminit.get_num_threads()
    monkeypatch.delenv("PARAMINIT_NUM_THREADS")


def test_small_arrays_stay_on_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(workers: int, task: Any) -> Any:
        raise AssertionError("a small fill asked for the thread pool")

    monkeypatch.setattr(threads, "submit", no_pool)
    paraminit.set_num_threads(4)
    paraminit.uniform_init(np.empty((256, 256), "f"), seed=0)  # one block
    paraminit.uniform_init(np.empty(3 * BLOCK_SIZE, "f"), seed=0)
    with pytest.raises(AssertionError, match="thread pool"):  # large ones do use it
        paraminit.uniform_init(np.empty(8 * BLOCK_SIZE, "f"), seed=0)


def test_run_parallel_covers_every_item_once() -> None:
    paraminit.set_num_threads(3)
    seen: list[int] = []
    threads.run_parallel(lambda items: seen.extend(items), 101)
    assert sorted(seen) == list(range(101))
