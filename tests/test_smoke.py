import numpy as np

import paraminit


def test_uniform_init_fills_within_bounds() -> None:
    W = paraminit.uniform_init(np.empty((4, 5), np.float32), -0.5, 0.5, seed=0)
    assert ((W >= -0.5) & (W < 0.5)).all()
