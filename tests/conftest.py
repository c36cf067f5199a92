from __future__ import annotations

import pytest

import paraminit


@pytest.fixture(autouse=True)
def _restore_threads() -> object:
    """Tests that change the thread count get the default back afterwards."""
    yield
    paraminit.set_num_threads(None)
