"""theory.absorption_curve.observables on a two-level hierarchy hands its thresholds to observables_two_level: at the
point of test_absorption_two_level_by_hand (one parent, one child, W_E = I, decoders d_0 = 0.6 g + 0.8 p,
d_1 = 0.6 p + 0.8 c, d_2 = c) every event is absorbed at the default pure_cos 0.9 (no decoder is a pure g or p).
With pure_cos = 0.5, by hand: d_0's g cosine 0.6 > 0.5 makes it a pure grandparent latent, and it contributes on the
grandparent + parent events (a_0 = m_G > 0.1 m_G), so the parent level is never absorbed; d_0's and d_1's p cosines
0.8, 0.6 > 0.5 make them pure parent latents, and both contribute on the child events, so the child is never
absorbed either. Tilts do not depend on pure_cos (0.6 and 0, as there)."""
import numpy as np
import pytest

import theory.absorption_two_level as tl
from theory.absorption_curve import observables

W_D = np.array([[0.6, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 0.8, 1.0]])


def test_pure_cos_reaches_the_two_level_observables():
    h = tl.TwoLevel(1, 1)
    at_default = observables(h, np.eye(3), W_D, 0.1)
    assert at_default["absorption_rate"] == pytest.approx(1.0, abs=1e-12)
    assert at_default["per_parent_rate"] == pytest.approx([1.0], abs=1e-12)
    low = observables(h, np.eye(3), W_D, 0.1, pure_cos=0.5)
    assert low["absorption_rate"] == 0.0 and low["per_child_rate"] == [0.0] and low["per_parent_rate"] == [0.0]
    assert low["per_parent_tilt"] == pytest.approx([0.6], abs=1e-12) and low["tilt"] == pytest.approx(0.0, abs=1e-12)
