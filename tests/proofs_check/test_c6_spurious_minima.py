import json

import numpy as np
import pytest

from proofs_check import check
from proofs_check.c6_spurious_minima import decide, proof_steps
from theory import Instance
from theory.activations import JumpReLU, ReLU, TopKReLU


def test_paper_example_pattern_holds():
    # Top-1∘ReLU, orthonormal, M = (1, 1), pattern ({0,1}, ∅): by hand u* = (a_1 w_1 + a_2 w_2)/Σa², every
    # <u*, r_d> = 0, so the realizing encoder is a partial minimum with L̃ = M (|F| − 1) = 1 (Example 3.5).
    v = check("C6", Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=TopKReLU(k=1)), pattern=[{0, 1}, set()])
    assert v.status == "holds"
    assert v.numbers["witness"]["loss"] == pytest.approx(1.0)
    json.dumps(v.to_json())


def test_unequal_weights_orthonormal_fails():
    # M = (1, 2): the encoder residual <u*, r_1> = M_2 a_1 a_2² (M_1 − M_2)/S² ≠ 0 for every a in Ω_P; the
    # stationary points are the axes (eigenvectors of diag(M)), which leave Ω_P (a_d > 0 for both d).
    inst = Instance(W_p=np.eye(2), weights=[1.0, 2.0], activation=ReLU())
    v = check("C6", inst, pattern=[{0, 1}, set()])
    assert v.status == "fails"
    assert "not attained" in v.counterexample["reason"]
    assert v.counterexample["acs"]["on_boundary"]
    assert v.counterexample["acs"]["loss"] == pytest.approx(1.0, abs=1e-5)


def test_parallel_transcoder_targets_give_only_zero_loss():
    inst = Instance(W_p=np.eye(2), W_r=np.array([[1.0, 1.0], [0.0, 0.0]]), weights=[1.0, 1.0], activation=ReLU())
    r = decide(inst, [{0, 1}, set()])
    assert r["outcome"] == "fails" and "zero-loss" in r["reason"]
    assert r["stationarity"]["losses"] == [pytest.approx(0.0, abs=1e-9)]


def test_jumprelu_with_bias_equal_weights_holds():
    inst = Instance(W_p=np.eye(3), weights=[0.5, 0.5, 2.0], activation=JumpReLU(theta=0.3), encoder_bias=True)
    v = check("C6", inst, pattern=[{0, 1}, {2}, set()])
    assert v.status == "holds"
    assert v.numbers["witness"]["loss"] == pytest.approx(0.5)


def test_monosemantic_pattern_does_not_meet_hypotheses():
    v = check("C6", Instance(W_p=np.eye(2), weights=[1.0, 1.0]), pattern=[{0}, {1}])
    assert v.status == "hypotheses_not_met"


def test_proof_steps_scalar_identity_holds_vector_step_fails():
    steps = {s.name: s for s in proof_steps()}
    assert steps["least-squares decoder"].holds
    assert steps["normal equation (scalar)"].holds
    assert not steps["encoder gradient vanishes"].holds
    assert steps["encoder gradient vanishes"].numeric_witness is not None
    assert not steps["… with orthonormal targets"].holds
    assert "M_1 - M_2" in steps["… with orthonormal targets"].residual
    assert steps["… corrected: orthonormal targets, equal weights"].holds
    assert steps["… corrected, three features"].holds
    assert not steps["positive loss"].holds


def test_default_search_finds_failure_and_verifies_correction():
    v = check("C6", budget=12, seed=0)
    assert v.status == "fails"
    assert v.counterexample["pattern"]
    assert v.corrected_condition.verified


def test_superposed_relu_is_decided_exactly_and_agrees_with_acs():
    # 2-d, three features: w0 = e_x, w1 = e_y, w2 ∝ (1, −0.2); M = (1, 2, 1) has no partial minimum with
    # ({0,1}, {2}, ∅) (the face e_y >= 5 e_x does not stop the encoder), M = (2, 1, 1) has one on that face.
    from theory.partial_optimum import alternating_convex_search
    from theory import normalize_columns

    W = normalize_columns(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, -0.2]]))
    bad = Instance(W_p=W, weights=[1.0, 2.0, 1.0], activation=ReLU())
    v = check("C6", bad, pattern=[{0, 1}, {2}, set()])
    assert v.status == "fails"
    acs = alternating_convex_search(bad, [{0, 1}, {2}, set()])
    assert not acs.check.is_partial_minimum and acs.on_boundary
    good = Instance(W_p=W, weights=[2.0, 1.0, 1.0], activation=ReLU())
    assert check("C6", good, pattern=[{0, 1}, {2}, set()]).status == "holds"


def test_decide_with_dependent_columns_and_no_stationary_minimum_runs_acs():
    """Three features at 120° in R² (dependent columns), JumpReLU θ = 0.1, one feature per neuron: no stationary
    point with positive loss, the enumeration is not exact, so decide runs ACS from the interior point (and its
    seeded rescalings): one feature per neuron reconstructs every feature exactly, so each ACS run ends at a partial
    minimum of loss 0, none of positive loss, and the outcome is inconclusive."""
    ang = np.array([0.0, 2 * np.pi / 3, 4 * np.pi / 3])
    inst = Instance(W_p=np.vstack([np.cos(ang), np.sin(ang)]), activation=JumpReLU(theta=0.1))
    out = decide(inst, [{0}, {1}, {2}], seed=0)
    assert out["outcome"] == "inconclusive" and "does not prove that none exists" in out["reason"]
    assert 1 <= len(out["acs"]) <= 2
    assert all(a["loss"] < 1e-20 and a["partial_minimum"] for a in out["acs"])


def test_decide_refuses_an_unrealizable_pattern_with_dependent_columns():
    """Features ±e₁, ±e₂ (dependent columns) with TopK(1): "neuron 0 wins on ±e₁, neuron 1 on ±e₂" is impossible
    (w₀·e₁ > w₁·e₁ and −w₀·e₁ > −w₁·e₁ contradict), so decide refuses it with the LP's reason, one line (it
    reached the ACS branch and failed unpacking a missing interior point)."""
    import numpy as np
    import pytest

    from proofs_check import c6_spurious_minima as c6
    from theory import Instance
    from theory.activations import TopK
    from theory.errors import SDLInputError

    inst = Instance(W_p=np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]]), activation=TopK(k=1))
    with pytest.raises(SDLInputError, match="not realizable for this instance"):
        c6.decide(inst, [{0, 1}, {2, 3}])
