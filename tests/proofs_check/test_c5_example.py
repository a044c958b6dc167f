"""C5 (Example 3.5): reproduced exactly; a planted wrong value / wrong point is reported failing."""
import numpy as np
import sympy as sp

from proofs_check import check
from proofs_check import c5_example as c5
from theory import Instance
from theory.activations import TopKReLU

EXAMPLE = Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=TopKReLU(k=1))


def test_example_holds_with_zero_gradients_and_unit_loss():
    v = check("C5", budget=10, seed=0)
    assert v.status == "holds"
    assert v.numbers["loss_exact"] == "1"
    assert v.numbers["max_abs_grad_W_D"] == 0 and v.numbers["max_abs_grad_W_E"] == 0
    assert v.numbers["pattern"] == [[0, 1], []]
    assert all(s.holds for s in v.steps)


def test_instance_api_defaults_to_example_point():
    v = check("C5", EXAMPLE)
    assert v.status == "holds" and v.numbers["loss"] == 1.0


def test_non_stationary_point_fails():
    v = check("C5", EXAMPLE, W_D=np.array([[1.0, 0.0], [0.0, 0.0]]), W_E=np.array([[1.0, 1.0], [0.0, 0.0]]))
    assert v.status == "fails" and v.counterexample["max_abs_grad_W_D"] > 0


def test_planted_wrong_loss_value_fails(monkeypatch):
    monkeypatch.setattr(c5, "CLAIMED_LOSS", sp.Rational(1, 2))
    v = check("C5", budget=5)
    assert v.status == "fails"
    assert not next(s for s in v.steps if s.name == "loss value").holds


def test_boundary_point_does_not_meet_hypotheses():
    # second neuron ties with the first on feature 0: the point is on its region's boundary
    v = check("C5", EXAMPLE, W_D=np.eye(2), W_E=np.array([[1.0, 1.0], [1.0, 0.0]]))
    assert v.status == "hypotheses_not_met"


def test_the_search_really_moves_the_example():
    """The lower-L̃ search evaluates perturbed points (a search that evaluated the example itself could never fail)."""
    from proofs_check import c5_example as C5

    v = C5.search(budget=12, seed=3)
    assert v.numbers["search_max_displacement"] > 1e-4
    W_D, W_E = C5._perturbation(5, 0.01, "encoder") or (None, None)
    if W_E is not None:   # inside the region: only the named part moved
        assert np.array_equal(W_D, C5.EXAMPLE_W_D) and not np.array_equal(W_E, C5.EXAMPLE_W_E)
