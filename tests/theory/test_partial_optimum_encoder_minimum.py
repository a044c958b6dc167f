"""theory.partial_optimum.encoder_minimum by hand on both sides of the strict boundary: ReLU, W_p = I, weights
(1, 2), pattern ({0, 1}, ∅), decoder column u for unit 0 (unit 1 decodes nothing). Per feature the encoder reading
a_d = W_E[0, d] > 0 (strict) minimises M_d ||e_d − a_d u||², at a_d = u_d / ||u||² when that is positive."""
import numpy as np
import pytest

from theory import Instance
from theory.activations import ReLU
from theory.partial_optimum import encoder_minimum
from theory.patterns import as_pattern, region

INST = Instance(W_p=np.eye(2), weights=[1.0, 2.0], activation=ReLU())
R = region(INST, as_pattern([{0, 1}, set()], INST))
V0 = R.pack(np.array([[1.0, 1.0], [-1.0, -1.0]]), None)


def _strict_row_of(coord: int) -> int:
    """The strict inequality that bounds only v[coord] (unit 0's reading of one feature, z > 0), found from the
    region's rows, not from encoder_minimum."""
    (j,) = [j for j, a in enumerate(R.A_strict) if a[coord] != 0 and np.count_nonzero(a) == 1]
    return j


def test_unattained_minimum_reports_exactly_the_binding_strict_inequality():
    """u = (1, −1): a_0* = 1/2 > 0 but a_1* = −1/2 is outside, so the infimum sits at a_1 = 0, not attained:
    (1 − u_0²/||u||²) M_0 + ||e_1||² M_1 = 0.5 + 2 = 2.5; the one binding strict inequality is a_1's (a_0's has
    slack 1/2), the margin (largest strict slack the minimisers reach) 0."""
    em = encoder_minimum(INST, R, np.array([[1.0, 0.0], [-1.0, 0.0]]), V0)
    assert em.infimum == pytest.approx(2.5, abs=1e-9) and em.attained is False
    assert em.boundary == (_strict_row_of(1),)
    assert em.v[:2] == pytest.approx([0.5, 0.0], abs=1e-7)
    assert em.margin == pytest.approx(0.0, abs=1e-9)


def test_attained_minimum_has_no_boundary_and_its_strict_margin():
    """u = (1/3, 2/3) (the least-squares decoder of a = (1, 1)): a* = (3/5, 6/5), both inside: attained, infimum
    M_0 (1 − 1/5) + M_1 (1 − 4/5) = 0.8 + 0.4 = 1.2, no boundary, margin min(3/5, 6/5) = 3/5."""
    em = encoder_minimum(INST, R, np.array([[1 / 3, 0.0], [2 / 3, 0.0]]), V0)
    assert em.infimum == pytest.approx(1.2, abs=1e-9) and em.attained is True and em.boundary == ()
    assert em.v[:2] == pytest.approx([0.6, 1.2], abs=1e-6)
    assert em.margin == pytest.approx(0.6, abs=1e-6)
    assert (R.A_weak @ em.v <= R.c_weak + 1e-7 + 1e-12).all()


def test_no_strict_inequality_is_attained_with_infinite_margin():
    """Every unit off on every feature: only weak inequalities, L̃ = Σ M_d = 3 wherever, attained, margin ∞."""
    R0 = region(INST, as_pattern([set(), set()], INST))
    assert R0.A_strict.shape[0] == 0
    em = encoder_minimum(INST, R0, np.eye(2), R0.pack(-np.eye(2), None))
    assert em.infimum == pytest.approx(3.0, abs=1e-12) and em.attained is True
    assert em.margin == np.inf and em.boundary == ()
    assert em.v == pytest.approx(R0.pack(-np.eye(2), None), abs=1e-9)
