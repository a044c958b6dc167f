"""C3 (Thm 3.3): hand-checked instances both ways, the TopK / JumpReLU gaps, the corrected statement."""
import numpy as np

from proofs_check import check
from proofs_check import c3_construction as c3
from theory import Instance
from theory.activations import JumpReLU, ReLU, TopK


def _pair(c):  # two unit features with <w_1, w_2> = c
    return np.array([[1.0, c], [0.0, np.sqrt(1 - c**2)]])


def test_relu_holds_with_hand_computed_loss():
    # residual of each feature is 0.5 w^other: L̃ = 2 · 0.25 = 0.5 <= n² M² Σ M_d = 4 · 0.25 · 2 = 2
    v = check("C3", Instance(W_p=_pair(0.5), weights=[1.0, 1.0], activation=ReLU()))
    assert v.status == "holds"
    assert np.isclose(v.numbers["loss"], 0.5) and np.isclose(v.numbers["bound"], 2.0)


def _repaired_here(v, inst):
    """On one instance the corrected statement holds (recomputed here), but one instance never *verifies* it."""
    from theory.objective import approx_loss

    assert approx_loss(inst, *c3.construction(inst, scale=c3.corrected_scale(inst))) <= c3.corrected_bound(inst) + 1e-12
    assert not v.corrected_condition.verified and "no search counts" in v.corrected_condition.evidence


def test_topk_with_negative_interference_fails_and_coherence_repairs_it():
    # w1·w2 = −0.99, w3 ⟂ both: M = 0, TopK(k=3) keeps the −0.99 entry → L̃ = 2·0.99² > 0
    W = np.zeros((3, 3))
    W[:, 0], W[:2, 1], W[2, 2] = [1, 0, 0], [-0.99, np.sqrt(1 - 0.99**2)], 1
    v = check("C3", Instance(W_p=W, weights=[1.0, 1.0, 1.0], activation=TopK(k=3)))
    assert v.status == "fails"
    assert np.isclose(v.numbers["loss"], 2 * 0.99**2) and v.numbers["bound"] < 1e-20
    assert v.counterexample["negative_entries_kept"]
    _repaired_here(v, Instance(W_p=W, weights=[1.0, 1.0, 1.0], activation=TopK(k=3)))


def test_jumprelu_threshold_one_switches_off_the_diagonal():
    v = check("C3", Instance(W_p=np.eye(2), weights=[1.0, 2.0], activation=JumpReLU(theta=1.0)))
    assert v.status == "fails" and np.isclose(v.numbers["loss"], 3.0)
    assert not v.counterexample["diagonal_kept"]
    _repaired_here(v, Instance(W_p=np.eye(2), weights=[1.0, 2.0], activation=JumpReLU(theta=1.0)))


def test_planted_tighter_bound_is_reported_failing(monkeypatch):
    monkeypatch.setattr(c3, "claimed_bound", lambda inst: 0.1 * inst.n**2 * inst.interference**2 * inst.weights.sum())
    v = check("C3", Instance(W_p=_pair(0.5), weights=[1.0, 1.0], activation=ReLU()))
    assert v.status == "fails"


def test_search_finds_both_gaps_and_verifies_correction():
    v = check("C3", budget=30, seed=0)
    assert v.status == "fails" and v.counterexample is not None
    assert v.corrected_condition.verified
    assert {s.name for s in v.steps if not s.holds} == {"unit d is kept", "kept entries are at most M in size"}


def test_too_few_neurons_is_not_in_the_hypotheses():
    v = check("C3", Instance(W_p=np.eye(2), activation=ReLU()), n_q=1)
    assert v.status == "hypotheses_not_met"
