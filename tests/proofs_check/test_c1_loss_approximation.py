"""C1 (Thm 3.1): exact L vs L̃ on hand-computed instances, both directions, and the corrected bound."""
import numpy as np

from proofs_check import check
from proofs_check import c1_loss_approximation as c1
from theory import Constant, FeatureDistribution, Instance, ShiftedExponential
from theory.activations import JumpReLU, ReLU


def _one_feature(act, p, magnitude, bias=False):
    return Instance(W_p=np.eye(1), activation=act, encoder_bias=bias,
                    distribution=FeatureDistribution(np.array([p]), magnitude))


def test_relu_two_orthonormal_features_hand_computed():
    # identity model: every input reconstructed, L = L̃ = 0
    v = check("C1", Instance(W_p=np.eye(2), activation=ReLU()), p_active=0.1, W_D=np.eye(2), W_E=np.eye(2))
    assert v.status == "holds" and v.numbers["L"] == 0 and v.numbers["L_tilde"] == 0
    # W_E = W_D = [[1, 1]]ᵀ-ish mixing: x = e1 + e2 gives loss 2·... ; check L − L̃ = Pr(both)·loss(1,1) exactly
    inst = Instance(W_p=np.eye(2), activation=ReLU())
    W_E, W_D = np.array([[1.0, 1.0]]), np.array([[0.5], [0.5]])
    v = check("C1", inst, p_active=0.1, W_D=W_D, W_E=W_E)
    # single inputs: residual (1/2, −1/2) → 1/2 each; both on: z = 2, x̂ = (1, 1) → loss 0
    p = 0.1
    assert np.isclose(v.numbers["L_tilde"], 2 * p * (1 - p) * 0.5)
    assert np.isclose(v.numbers["L"], v.numbers["L_tilde"])
    assert v.status == "holds"


def test_jumprelu_magnitude_below_threshold_breaks_the_bound():
    # x = 0.5 never clears θ = 0.5: L = p·0.25, L̃ = 0 (unit input is reconstructed), bound = p²·0.25
    inst = _one_feature(JumpReLU(theta=0.5), 0.1, Constant(0.5))
    v = check("C1", inst, W_D=np.eye(1), W_E=np.eye(1))
    assert v.status == "fails"
    assert np.isclose(v.numbers["L"], 0.025) and v.numbers["L_tilde"] == 0
    assert np.isclose(v.numbers["bound_high"], 0.0025)
    # one instance never verifies a corrected condition (issue 12): it holds here, and says why it is not "verified"
    assert not v.corrected_condition.verified and "no search counts" in v.corrected_condition.evidence
    assert v.numbers["gap"] <= v.numbers["corrected_bound"] and np.isclose(v.numbers["homogeneity_defect_term"], 0.025)


def test_planted_tighter_bound_fails_on_a_relu_instance(monkeypatch):
    inst = Instance(W_p=np.eye(2), activation=ReLU())
    assert check("C1", inst, p_active=0.1).status == "holds"
    monkeypatch.setattr(c1, "claimed_bound", lambda n, C, p: 0.01 * n**2 * C * p**2)
    assert check("C1", inst, p_active=0.1).status == "fails"


def test_bias_and_unbounded_magnitudes_are_outside_the_hypotheses():
    v = check("C1", _one_feature(ReLU(), 0.1, Constant(1.0), bias=True), W_D=np.eye(1), W_E=np.eye(1), b_E=[0.5])
    assert v.status == "hypotheses_not_met" and np.isclose(v.numbers["zero_input_term"], 0.9 * 0.25)
    assert check("C1", _one_feature(ReLU(), 0.1, ShiftedExponential(0.5, 0.5))).status == "hypotheses_not_met"


def test_search_fails_with_minimal_jumprelu_example_and_verified_correction():
    v = check("C1", budget=15, seed=0)
    assert v.status == "fails" and v.counterexample["instance"]["activation"]["name"] == "jumprelu"
    assert v.corrected_condition.verified
    assert v.numbers["homogeneous_no_bias_search"].startswith("no failure")
    assert len(v.numbers["curve"]["p_active"]) == 12
