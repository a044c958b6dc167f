"""C1's decision near a tie (the slack 1e-9·max(1, |D|) at large and small |D|, each branch), a holding C1
search's proof steps, and every field of C8's verdict records against hand-computed values."""
import numpy as np
import pytest

from proofs_check import check
from proofs_check import c1_loss_approximation as c1
from theory import FeatureDistribution, Instance
from theory.activations import JumpReLU, ReLU


def _r(D, P2, lo, hi, exact=False, nb=1.0):
    return {"D": D, "P2": P2, "bound_per_C": nb, "C_low": lo, "C_high": hi, "L2_exact": exact, "gap": abs(D)}


@pytest.mark.parametrize("D", [1e6, -1e6])
def test_status_slack_scales_with_large_D(D):
    # slack = 1e-9·1e6 = 1e-3: a bound 5e-4 below |D| is a tie (holds), one 2e-3 below is a failure
    a = abs(D)
    assert c1._status(_r(D, 0.0, a - 5e-4, a - 5e-4)) == "holds"
    assert c1._status(_r(D, 0.0, a - 2e-3, a - 2e-3)) == "fails"
    assert c1._status(_r(D, 0.0, a - 5e-4, a - 5e-4, exact=True)) == "holds"
    assert c1._status(_r(D, 0.0, a - 2e-3, a - 2e-3, exact=True)) == "fails"
    assert c1._status(_r(D, 0.0, a - 2e-3, a + 1.0, exact=True)) == "inconclusive"


def test_status_slack_floor_at_small_D():
    # |D| < 1: slack = 1e-9 + 1e-12
    assert c1._status(_r(0.5, 0.0, 0.5 - 5e-10, 0.5 - 5e-10)) == "holds"
    assert c1._status(_r(0.5, 0.0, 0.5 - 2e-9, 0.5 - 2e-9)) == "fails"
    assert c1._status(_r(0.5, 0.0, 0.5 - 5e-10, 0.5 - 5e-10, exact=True)) == "holds"
    assert c1._status(_r(0.5, 0.0, 0.5 - 2e-9, 0.5 - 2e-9, exact=True)) == "fails"


def test_status_bracketed_branches_by_hand():
    # D ≥ 0 holds only when D ≤ (n²p² − P2)·C_low: 0.5 ≤ 0.9·0.6 = 0.54 holds, 0.5 > 0.9·0.5 = 0.45 not
    assert c1._status(_r(0.5, 0.1, 0.6, 1.0)) == "holds"
    assert c1._status(_r(0.5, 0.1, 0.5, 1.0)) == "inconclusive"
    # D < 0 fails when −D − P2·C_high > n²p²·C_high: 2 − 0.6 = 1.4 > 1.2 fails; 2 − 0.75 = 1.25 ≤ 1.5 does not
    assert c1._status(_r(-2.0, 0.5, 1.2, 1.2)) == "fails"
    assert c1._status(_r(-2.0, 0.5, 1.5, 1.5)) == "inconclusive"
    assert c1._status(_r(-2.0, 0.5, 1.5, 1.5, nb=2.0)) == "holds"  # −D = 2 ≤ 2·1.5
    # D > n²p²·C_high fails outright
    assert c1._status(_r(1.3, 0.0, 1.0, 1.2)) == "fails"


def test_a_holding_c1_search_keeps_its_proof_steps(monkeypatch):
    # a bound no gap reaches makes every sub-search hold; the verdict still carries the symbolic steps
    monkeypatch.setattr(c1, "claimed_bound", lambda n, C, p: 1e9 + n**2 * C * p**2)
    monkeypatch.setattr(c1, "MIN_MET", 2)
    v = check("C1", budget=2, seed=0)
    assert v.status == "holds" and v.counterexample is None
    expected = c1.proof_steps()
    assert [s.name for s in v.steps] == [s.name for s in expected] and len(v.steps) == len(expected) > 0
    assert [s.holds for s in v.steps] == [s.holds for s in expected]
    assert v.numbers["search"].startswith("no failure")


def test_c8_failing_record_every_field_with_a_bias():
    # θ = 0.6, b = (0, 0, 0.05): neuron 2 has z = 0.55 on e_0 and e_2 alone and 0.05 on e_1 (dead on single
    # features), z = 1.05 on e_0 + e_2, where neuron 0 (polysemantic on e_0, e_1) leaves a residual
    inst = Instance(W_p=np.eye(3), weights=np.ones(3), activation=JumpReLU(theta=0.6), encoder_bias=True)
    W_E = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.5]])
    b = np.array([0.0, 0.0, 0.05])
    v = check("C8", inst, W_E=W_E, b_E=b, budget=1)  # budget: only the corrected search after a failure
    assert v.status == "fails"
    ce = v.counterexample
    assert sorted(ce) == ["W_E", "b_E", "dead_neuron", "exact_loss_dead_gradient", "fires_on", "gd_on_L", "instance"]
    assert ce["instance"] == inst.to_json()
    assert ce["W_E"] == W_E.tolist() and ce["b_E"] == [0.0, 0.0, 0.05]
    assert ce["dead_neuron"] == 2
    assert ce["fires_on"]["fires_on"] == [1.0, 0.0, 1.0]
    assert ce["fires_on"]["pre_activation"] == pytest.approx(1.05)
    assert ce["exact_loss_dead_gradient"] == v.numbers["exact_loss_dead_gradient"] > 1e-3
    assert ce["gd_on_L"] == v.numbers["gd_on_L"] and ce["gd_on_L"]["steps"] == 200
    assert v.numbers["W_E"] == W_E.tolist() and v.numbers["b_E"] == [0.0, 0.0, 0.05]
    assert v.numbers["dead_neurons"] == [2]
    # no distribution on the instance: p = 0.2, magnitude 1, 2³ active sets
    assert v.numbers["support_inputs"] == 8
    assert v.numbers["distribution"] == FeatureDistribution.uniform(3, 0.2).to_json()


def test_c8_holding_record_without_a_bias():
    inst = Instance(W_p=np.eye(2), weights=np.ones(2), activation=ReLU())
    W_E = np.array([[1.0, 0.0], [0.0, 1.0], [-0.3, -0.2]])
    v = check("C8", inst, W_E=W_E)
    assert v.status == "holds" and v.counterexample is None
    assert v.numbers["W_E"] == W_E.tolist() and v.numbers["b_E"] is None
    assert v.numbers["dead_neurons"] == [2] and v.numbers["fires_on_support"] == {}
    assert v.numbers["support_inputs"] == 4
    assert v.numbers["gd_on_L"]["revived_on_single_features"] == []
