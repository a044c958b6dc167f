"""Every claim's search covers the Gated family (issue 12, part 2): the lift of one-row-per-unit
constructions, the Gated exact-loss gradients of C8, and the report's per-claim families — each checked
against independent values (a ReLU evaluation, finite differences by scipy, hand-written layouts)."""
import numpy as np
import pytest
from scipy.optimize import approx_fprime

from proofs_check import c4_zero_loss as c4
from proofs_check import c8_dead_neurons as c8
from proofs_check.report import ClaimOutcome, markdown
from proofs_check.search import GATED_NOTE, describe_families, families_searched
from proofs_check.verdict import Verdict
from theory import registry
from theory.activations import Gated, ReLU
from theory.distribution import Constant, FeatureDistribution
from theory.instance import Instance


@pytest.mark.parametrize("tied", [False, True])
def test_unit_encoder_makes_a_gated_unit_a_strict_relu_unit(tied):
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=3)
    W_E, b_E = Gated(tied=tied).unit_encoder(W, b)
    assert W_E.shape == (6, 4) and b_E.shape == (6,)
    assert np.array_equal(W_E[:3], W) and np.array_equal(W_E[3:], W) and np.array_equal(b_E, np.r_[b, b])
    assert Gated(tied=tied).encoder_problem(W_E) is None  # a valid tied encoder (r = 0)
    X = rng.normal(size=(50, 4))
    out = Gated(tied=tied).evaluate(X @ W_E.T + b_E)
    assert np.allclose(out, np.maximum(X @ W.T + b, 0.0))  # ReLU of the one row, written out by hand
    W1, b1 = ReLU().unit_encoder(W, b)
    assert W1 is not W and np.array_equal(W1, W) and np.array_equal(b1, b)  # one pre-activation per unit: unchanged


def test_c4_mixing_construction_lifted_to_gated_has_zero_loss_far_from_every_feature():
    inst = Instance(W_p=np.eye(3), activation=Gated(tied=True))
    W_D, W_E, b_E = c4.non_identifying_solution(inst)
    q = W_D.shape[1]
    assert W_E.shape == (2 * q, 3) and b_E is None
    Z = np.eye(3) @ W_E.T  # single features e_d at unit magnitude
    out = np.where(Z[:, :q] > 0, Z[:, q:], 0.0)  # gate open → magnitude, by hand
    assert np.allclose(out @ W_D.T, np.eye(3), atol=1e-12)  # every feature reconstructed exactly
    cos = np.abs(W_D / np.linalg.norm(W_D, axis=0)).max()
    assert cos < c4.RECOVERY_THRESHOLD  # no decoder column on a feature
    v = c4.check_instance(inst)
    assert v.status == "holds" and "zero-loss solution" in v.evidence


@pytest.mark.parametrize("tied", [False, True])
def test_c8_exact_gradients_for_gated_match_finite_differences(tied):
    rng = np.random.default_rng(3)
    inst = Instance(W_p=np.linalg.qr(rng.normal(size=(3, 3)))[0], activation=Gated(tied=tied), encoder_bias=True,
                    distribution=FeatureDistribution(np.full(3, 0.3), Constant(1.5)))
    X, probs = c8.support_inputs(inst)
    W_D, W_E, b = rng.normal(size=(3, 2)), rng.normal(size=(4, 3)), rng.normal(size=4)

    def loss(theta):
        D, E, bb = theta[:6].reshape(3, 2), theta[6:18].reshape(4, 3), theta[18:]
        Z = X @ (E @ inst.W_p).T + bb
        H = np.where(Z[:, :2] > 0, Z[:, 2:], 0.0)  # the Gated unit written out, not the library's evaluate
        R = X @ inst.W_r.T - H @ D.T
        return float(probs @ np.einsum("sr,sr->s", R, R))

    theta = np.concatenate([W_D.ravel(), W_E.ravel(), b])
    value, gD, gE, gb = c8.exact_gradients(inst, X, probs, W_D, W_E, b)
    fd = approx_fprime(theta, loss, 1e-7)
    assert value == pytest.approx(loss(theta), rel=1e-12)
    assert np.allclose(np.concatenate([gD.ravel(), gE.ravel(), gb]), fd, atol=1e-5)


def test_c8_descent_keeps_a_tied_gated_encoder_tied_and_a_dead_unit_dead_without_bias():
    inst = Instance(W_p=np.eye(2), activation=Gated(tied=True),
                    distribution=FeatureDistribution(np.full(2, 0.2), Constant(1.0)))
    W_gate = np.array([[1.0, 0.5], [-1.0, -0.2]])  # unit 1: gate closed on e_1 and e_2 (and every x >= 0)
    W_E = np.vstack([W_gate, W_gate])
    a = c8.analyse(inst, W_E, gd_steps=30)
    assert a["dead_neurons"] == [1] and a["outcome"] == "holds"
    assert a["gd_on_L"]["dead_rows_moved_by"] == 0.0 and a["exact_loss_dead_gradient"] == 0.0
    X, probs = c8.support_inputs(inst)
    _, W_E2, _, first, last = c8.gradient_descent_on_L(inst, X, probs, np.eye(2), W_E, None, steps=20)
    assert last <= first and Gated(tied=True).encoder_problem(W_E2) is None
    assert np.allclose(W_E2[:2], W_E2[2:])  # the tied subspace W_mag = W_gate (scale in the decoder)


def test_families_searched_says_gated_apart_unless_verify_narrows_the_families():
    fs = families_searched(("relu", "topk"))
    assert fs == {"default_space": ["relu", "topk"], "apart": [GATED_NOTE]}
    with registry.searching(("relu",)):
        assert families_searched(("relu",)) == {"default_space": ["relu"]}
    excluded = families_searched(("topk_relu",), "the example fixes σ")
    assert describe_families(excluded) == "topk_relu; gated not searched: the example fixes σ"


def test_report_lists_each_claims_families():
    v = Verdict("C1", "t", "holds", "fine.", numbers={"families_searched": families_searched(("relu",))})
    w = Verdict("C2", "t", "holds", "fine.", numbers={"families_searched": ["relu", "gated (untied)"]})
    md = markdown([ClaimOutcome("C1", v, None, "", ""), ClaimOutcome("C2", w, None, "", "")], seed=0, budget=5, figures={})
    assert "**Activation families searched.** relu; gated (tied and untied), searched apart." in md
    assert "**Activation families searched.** relu, gated (untied)." in md


@pytest.mark.parametrize("tied", [False, True])
def test_gated_is_declared_homogeneous_and_is(tied):
    # C1's corrected condition draws the families declared homogeneous (verify --activation gated needs it)
    assert registry.get("gated").homogeneous
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(20, 6))
    for c in (0.1, 2.0, 7.5):
        assert np.allclose(Gated(tied=tied).evaluate(c * Z), c * Gated(tied=tied).evaluate(Z))
