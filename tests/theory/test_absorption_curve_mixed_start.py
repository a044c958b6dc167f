"""theory.absorption_curve.mixed_start: child j (1-based, feature j) in its own state, columns by hand.
Default hierarchy: W_p = W_r = I, parent and child magnitudes 1 + Exp(1): E m = 2, E m² = 1 + 4 = 5, so
κ = E m_P E m_C / E m_C² = 2 · 2 / 5 = 0.8. Parent encoder row e_0 − γ_1 e_1 − γ_2 e_2 with γ = 0 (clean),
2 (partial), 5 (absorbed); child rows e_j. Decoders: parent e_0; child j: e_j (clean), e_j + tilt e_0 (partial),
e_j + κ e_0 (absorbed)."""
import numpy as np
import pytest

from theory.absorption_curve import Hierarchy, mixed_start


def test_partial_then_absorbed_columns_by_hand():
    W_E, W_D = mixed_start(Hierarchy(2), ("partial", "absorbed"))
    assert W_E == pytest.approx(np.array([[1.0, -2.0, -5.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), abs=1e-12)
    assert W_D == pytest.approx(np.array([[1.0, 0.3, 0.8], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), abs=1e-12)


def test_absorbed_then_clean_keeps_the_second_child_clean():
    W_E, W_D = mixed_start(Hierarchy(2), ("absorbed", "clean"), tilt=0.7)
    assert W_E == pytest.approx(np.array([[1.0, -5.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), abs=1e-12)
    assert W_D == pytest.approx(np.array([[1.0, 0.8, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), abs=1e-12)


def test_last_child_partial_with_its_tilt():
    W_E, W_D = mixed_start(Hierarchy(3), ("clean", "clean", "partial"), tilt=0.25)
    expect_D = np.eye(4)
    expect_D[0, 3] = 0.25
    expect_E = np.eye(4)
    expect_E[0, 3] = -2.0
    assert W_D == pytest.approx(expect_D, abs=1e-12) and W_E == pytest.approx(expect_E, abs=1e-12)
