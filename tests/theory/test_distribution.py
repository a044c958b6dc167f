"""theory.distribution: every magnitude law stores its parameters as Python floats, whatever number type it is given
(issue 12, part 5: the fifth session's seed-53 sample kept Uniform's ``low`` as passed — a numpy float32 then makes
the second moment a float32 computation). Expected moments by hand: E[m²] = (h³ − l³) / (3 (h − l)) for U[l, h],
c² + 2cβ + 2β² for c + Exp(β), c² for a constant."""
import numpy as np
import pytest

from theory.distribution import Constant, ShiftedExponential, Uniform


@pytest.mark.parametrize("kind", [np.float32, np.float64, int, np.int64])
def test_magnitude_laws_store_python_floats_and_compute_in_float64(kind):
    one, three = kind(1), kind(3)
    u, e, c = Uniform(one, three), ShiftedExponential(one, three), Constant(three)
    for law, fields in ((u, ("low", "high")), (e, ("c_min", "beta")), (c, ("c",))):
        for f in fields:
            assert type(getattr(law, f)) is float, (law, f)
    assert (u.low, u.high, e.c_min, e.beta, c.c) == (1.0, 3.0, 1.0, 3.0, 3.0)
    assert u.second_moment() == pytest.approx(26 / 6, rel=1e-15)          # (27 − 1) / (3 · 2)
    assert e.second_moment() == pytest.approx(1 + 6 + 18, rel=1e-15)      # 1 + 2·1·3 + 2·9
    assert c.second_moment() == 9.0


def test_a_float32_low_end_is_widened_before_the_moment():
    """low = float32(0.1) is 0.100000001490116…: the second moment of U[low, 1] is computed from that number in
    float64, (1 − low³) / (3 (1 − low)), to the last digits."""
    low = float(np.float32(0.1))
    want = (1.0 - low**3) / (3.0 * (1.0 - low))
    got = Uniform(np.float32(0.1), 1.0).second_moment()
    assert type(got) is float and got == pytest.approx(want, rel=1e-15)
