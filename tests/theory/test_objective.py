"""theory.objective: L̃ and the exact L (numpy), hand-checked values and the estimators' agreement (C1)."""
import numpy as np
import pytest

from theory.activations import BatchTopK, ReLU, TopKReLU
from theory.distribution import Constant, FeatureDistribution, Uniform
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.objective import approx_loss, approx_loss_terms, approx_residuals, exact_loss


def test_c5_approx_loss_is_one():
    inst = Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=TopKReLU(k=1))
    W_E, W_D = np.array([[1.0, 1.0], [0.0, 0.0]]), np.array([[0.5, 0.0], [0.5, 0.0]])
    np.testing.assert_allclose(approx_residuals(inst, W_D, W_E), [[0.5, -0.5], [-0.5, 0.5]])
    np.testing.assert_allclose(approx_loss_terms(inst, W_D, W_E), [0.5, 0.5])
    assert approx_loss(inst, W_D, W_E) == pytest.approx(1.0)


def test_identity_has_zero_loss_and_weights_scale_terms():
    inst = Instance(W_p=np.eye(3), weights=[1.0, 2.0, 3.0])
    assert approx_loss(inst, np.eye(3), np.eye(3)) == 0.0
    np.testing.assert_allclose(approx_loss_terms(inst, np.zeros((3, 3)), np.eye(3)), [1.0, 2.0, 3.0])


def test_exact_loss_hand_checked():
    # n = 1, zero decoder: L = E[x²] = p c²
    inst = Instance(W_p=np.eye(1), distribution=FeatureDistribution.uniform(1, 0.3, Constant(2.0)))
    est = exact_loss(inst, np.zeros((1, 1)), np.eye(1))
    assert est.method == "exact" and est.value == pytest.approx(0.3 * 4.0) and est.half_width == 0


def test_estimators_agree_within_their_intervals():
    rng = np.random.default_rng(0)
    inst = Instance(W_p=np.linalg.qr(rng.normal(size=(3, 3)))[0], activation=ReLU(),
                    distribution=FeatureDistribution.uniform(3, 0.3, Constant(1.0)))
    W_D, W_E = rng.normal(size=(3, 4)), rng.normal(size=(4, 3))
    exact = exact_loss(inst, W_D, W_E, method="exact").value
    sub = exact_loss(inst, W_D, W_E, method="subsets", samples=4000, seed=1)
    mc = exact_loss(inst, W_D, W_E, method="monte_carlo", samples=20000, seed=1)
    assert sub.value == pytest.approx(exact, rel=1e-12)  # constant magnitudes: subsets are exact too
    assert mc.low - 1e-9 <= exact <= mc.high + 1e-9
    assert exact_loss(inst, W_D, W_E, method="monte_carlo", samples=20000, seed=1).value == mc.value  # seeded


def test_random_magnitudes_subsets_interval_covers_monte_carlo():
    rng = np.random.default_rng(2)
    inst = Instance(W_p=np.eye(2), distribution=FeatureDistribution.uniform(2, 0.2, Uniform(0.5, 1.5)))
    W_D, W_E = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    a = exact_loss(inst, W_D, W_E, method="subsets", samples=8000, seed=3)
    b = exact_loss(inst, W_D, W_E, method="monte_carlo", samples=40000, seed=4)
    assert abs(a.value - b.value) <= 3 * (a.half_width + b.half_width)


def test_exact_loss_input_errors():
    inst = Instance(W_p=np.eye(2))
    with pytest.raises(SDLInputError, match="distribution"):
        exact_loss(inst, np.eye(2), np.eye(2))
    btk = Instance(W_p=np.eye(2), activation=BatchTopK(k=1), distribution=FeatureDistribution.uniform(2, 0.1))
    with pytest.raises(SDLInputError, match="per-sample"):
        exact_loss(btk, np.eye(2), np.eye(2))
    thr = btk.replace(activation=BatchTopK(k=1, threshold=0.5))
    assert exact_loss(thr, np.eye(2), np.eye(2)).value == pytest.approx(0.0)
    with pytest.raises(SDLInputError, match="method must be one of .auto., .exact., .subsets., .monte_carlo.; got .magic."):
        exact_loss(thr, np.eye(2), np.eye(2), method="magic")
