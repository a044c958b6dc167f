"""C4 (Thm 3.4): the characterisation both ways, constructed non-identifying solutions, the k = 1 exception."""
import numpy as np

from proofs_check import check
from proofs_check import c4_zero_loss as c4
from theory import Instance
from theory.activations import JumpReLU, ReLU, TopKReLU
from theory.objective import approx_loss


def test_mixed_solution_has_zero_loss_at_45_degrees():
    inst = Instance(W_p=np.eye(2), activation=ReLU())
    v = check("C4", inst)
    assert v.status == "holds"
    assert v.numbers["loss"] < 1e-20 and v.numbers["n_q"] == 4
    assert np.allclose(v.numbers["decoder_max_abs_cos"], 1 / np.sqrt(2))
    assert np.allclose(v.numbers["encoder_max_abs_cos"], 1 / np.sqrt(2))


def test_construction_lifts_values_over_a_jumprelu_threshold():
    inst = Instance(W_p=np.eye(3), weights=[1.0, 2.0, 0.5], activation=JumpReLU(theta=0.9))
    W_D, W_E, _ = c4.non_identifying_solution(inst)
    assert approx_loss(inst, W_D, W_E) < 1e-20
    assert check("C4", inst).status == "holds"


def test_characterisation_on_a_point_both_ways():
    inst = Instance(W_p=np.eye(2), activation=ReLU())
    assert check("C4", inst, W_D=np.eye(2), W_E=np.eye(2)).status == "holds"  # L̃ = 0, residuals 0
    v = check("C4", inst, W_D=np.eye(2), W_E=np.diag([1.0, 0.0]))  # feature 2 lost: L̃ = 1, residual 1
    assert v.status == "holds" and np.isclose(v.numbers["loss"], 1.0)


def test_planted_false_characterisation_is_reported_failing(monkeypatch):
    # planted variant: "L̃ = 0 iff the FIRST feature is reconstructed"
    monkeypatch.setattr(c4, "characterisation_holds",
                        lambda loss, R: (loss <= c4.ZERO) == bool(np.linalg.norm(R[0]) <= 1e-5))
    v = check("C4", Instance(W_p=np.eye(2), activation=ReLU()), W_D=np.eye(2), W_E=np.diag([1.0, 0.0]))
    assert v.status == "fails"


def test_top1_makes_the_decoder_identifiable():
    v = check("C4", Instance(W_p=np.eye(2), activation=TopKReLU(k=1)))
    assert v.status == "fails"
    assert v.counterexample["aligned_solution_loss"] < 1e-20
    assert np.allclose(v.counterexample["aligned_solution_decoder_max_abs_cos"], 1.0)


def test_superposition_is_outside_the_construction():
    W = np.array([[1.0, 0.0, np.sqrt(0.5)], [0.0, 1.0, np.sqrt(0.5)]])
    assert check("C4", Instance(W_p=W, activation=ReLU())).status == "hypotheses_not_met"


def test_search_reports_the_k1_exception_and_verifies_the_correction():
    v = check("C4", budget=30, seed=0)
    assert all(s.holds for s in v.steps)
    assert v.status == "fails" and "k=1" in v.counterexample["activation"]
    assert v.corrected_condition.verified
