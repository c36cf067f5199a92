"""Tables of initializers that several test modules parametrize over."""

from __future__ import annotations

import paraminit

# The named forms of variance scaling: every initializer whose scale comes from the fans.
NAMED_SCALING = [
    paraminit.xavier_uniform_init,
    paraminit.xavier_normal_init,
    paraminit.glorot_normal_init,
    paraminit.kaiming_uniform_init,
    paraminit.kaiming_normal_init,
    paraminit.he_uniform_init,
    paraminit.he_normal_init,
    paraminit.lecun_uniform_init,
    paraminit.lecun_normal_init,
]
