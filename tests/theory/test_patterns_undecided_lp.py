"""Region.find_point when the max-margin LP and its dual disagree: the dual (Motzkin) LP fails, or reports a positive
minimum, while the primal's best margin is <= 0. find_point then says "undecided" rather than pick one: no witness,
no certificate, and the reason (a string) in the reason field. The dual LP is made to fail by stubbing scipy's
linprog for the dual call only (the one with equality constraints); the primal LP is the real one.

By hand: ReLU, no bias, antipodal features ±1 in R¹: firing on both needs w > 0 and −w > 0, so the homogenised
margin t <= −|w| is at best 0 (at w = 0)."""
import re
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.optimize

from theory.activations import ReLU
from theory.instance import Instance
from theory.patterns import ActivationPattern, region


@pytest.mark.parametrize("dual", ["fails", "positive"])
def test_lp_disagreement_is_undecided_with_its_reason_in_the_reason_field(monkeypatch, dual):
    inst = Instance(W_p=np.array([[1.0, -1.0]]), activation=ReLU())
    R = region(inst, ActivationPattern.from_sets([{0, 1}], 2))
    real = scipy.optimize.linprog

    def linprog(*args, **kw):
        if "A_eq" in kw:  # the dual certificate's LP
            if dual == "fails":
                return SimpleNamespace(status=2, message="infeasible (stub)", fun=None, x=None)
            return SimpleNamespace(status=0, message="ok (stub)", fun=0.5, x=np.array([0.5, 0.5]))
        return real(*args, **kw)

    monkeypatch.setattr(scipy.optimize, "linprog", linprog)
    rz = R.find_point()
    assert rz.realizable is False and rz.status == "undecided"
    assert rz.W_E is None and rz.b_E is None and rz.certificate is None
    assert rz.margin == 0.0
    assert isinstance(rz.reason, str)
    # the margin prints as "0" or "-0" (the undecided text does not normalise a negative zero; see the m8h_hH README)
    assert re.fullmatch(r"undecided: the LP's best margin is -?0 but no dual certificate was found", rz.reason), rz.reason
    js = rz.to_json()
    assert js["status"] == "undecided" and js["W_E"] is None and js["b_E"] is None and js["reason"] == rz.reason
