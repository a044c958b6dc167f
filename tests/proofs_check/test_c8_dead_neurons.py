import json

import numpy as np
import pytest

from proofs_check import check
from proofs_check.c8_dead_neurons import exact_gradients, proof_steps, support_inputs
from theory import FeatureDistribution, Instance
from theory.activations import JumpReLU, ReLU, TopKReLU


def test_relu_without_bias_dead_neuron_stays_dead():
    inst = Instance(W_p=np.eye(2), weights=np.ones(2), activation=ReLU())
    W_E = np.array([[1.0, 0.0], [0.0, 1.0], [-0.3, -0.2]])
    v = check("C8", inst, W_E=W_E)
    assert v.status == "holds"
    assert v.numbers["approx_loss_dead_gradient"] == 0.0
    assert v.numbers["exact_loss_dead_gradient"] == 0.0
    assert v.numbers["partial_minimum_with_dead_neurons"]
    json.dumps(v.to_json())


def test_jumprelu_dead_neuron_fires_on_a_sum_and_gd_on_L_moves_it():
    # θ = 0.6: neuron 2 has z = 0.5 on features 0 and 2 alone (dead), z = 1 on x = e_0 + e_2, where the
    # polysemantic neuron 0 leaves the residual (1/2, −1/2, 0) ≠ 0, so its L-gradient is non-zero.
    inst = Instance(W_p=np.eye(3), weights=np.ones(3), activation=JumpReLU(theta=0.6))
    W_E = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.5]])
    v = check("C8", inst, W_E=W_E)
    assert v.status == "fails"
    assert v.counterexample["fires_on"]["fires_on"] == [1.0, 0.0, 1.0]
    assert v.counterexample["exact_loss_dead_gradient"] > 1e-3
    assert v.counterexample["gd_on_L"]["dead_rows_moved_by"] > 1e-3
    assert v.numbers["approx_loss_dead_gradient"] == 0.0  # the L̃ part holds
    assert v.numbers["gd_on_approx_loss"]["dead_rows_moved_by"] == 0.0  # descent on L̃ leaves the row where it is


def test_topk_dead_neuron_wins_on_a_sum():
    inst = Instance(W_p=np.eye(2), weights=np.ones(2), activation=TopKReLU(k=1))
    W_E = np.array([[1.0, -1.0], [-1.0, 1.0], [0.4, 0.4]])  # e_0 + e_1 gives z = (0, 0, 0.8): neuron 2 wins
    v = check("C8", inst, W_E=W_E)
    assert v.status == "fails"
    assert v.counterexample["fires_on"]["fires_on"] == [1.0, 1.0]


def test_firing_without_residual_leaves_the_neuron_in_place():
    # monosemantic orthonormal neurons reconstruct every input exactly: the dead neuron fires on e_0 + e_1
    # but its decoder column is 0 and the residual is 0, so the L-gradient vanishes
    inst = Instance(W_p=np.eye(2), weights=np.ones(2), activation=JumpReLU(theta=0.6))
    v = check("C8", inst, W_E=np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]))
    assert v.status == "holds"
    assert v.numbers["fires_on_support"]["2"]["fires_on"] == [1.0, 1.0]


def test_exact_gradient_matches_finite_differences():
    inst = Instance(W_p=np.eye(2), activation=ReLU(), encoder_bias=True,
                    distribution=FeatureDistribution.uniform(2, 0.3))
    X, probs = support_inputs(inst)
    assert probs.sum() == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    W_D, W_E, b = rng.normal(size=(2, 2)), rng.normal(size=(2, 2)), 0.1 * rng.normal(size=2)
    loss, gD, gE, gb = exact_gradients(inst, X, probs, W_D, W_E, b)
    eps = 1e-6
    W2 = W_E.copy()
    W2[0, 1] += eps
    assert (exact_gradients(inst, X, probs, W_D, W2, b)[0] - loss) / eps == pytest.approx(gE[0, 1], abs=1e-4)


def test_steps():
    steps = {s.name: s for s in proof_steps()}
    assert steps["dead neuron gradients vanish"].holds
    assert steps["ReLU without bias: dead on singles ⇒ dead on all x >= 0"].holds
    assert not steps["threshold or bias: dead on singles ⇒ dead on sums"].holds


def test_default_search_fails_and_relu_without_bias_verified():
    v = check("C8", budget=10, seed=0)
    assert v.status == "fails"
    assert v.corrected_condition.verified


def test_exact_gradient_of_a_dead_unit_includes_its_bias():
    """ReLU with bias, features 0.3·e_d (p = 1/4 each): unit 2 (row (−1, −1), bias 0.1) is dead on unit features but
    fires at x = 0, where only its bias gets a gradient. The largest exact-loss gradient of its parameters, by central
    differences of L summed by hand over the four inputs, is the bias's: 2 · (9/16) · 0.1 · ‖(1, 1)‖² = 0.225."""
    from proofs_check.c8_dead_neurons import analyse
    from theory.distribution import Constant

    inst = Instance(W_p=np.eye(2), activation=ReLU(), encoder_bias=True,
                    distribution=FeatureDistribution(np.full(2, 0.25), Constant(0.3)))
    W_E = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    b = np.array([0.0, 0.0, 0.1])
    W_D = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])

    def L(W_D, W_E, b):
        out = 0.0
        for m in ((0, 0), (1, 0), (0, 1), (1, 1)):
            x = 0.3 * np.array(m, dtype=float)
            r = x - W_D @ np.maximum(W_E @ x + b, 0.0)
            out += np.prod([0.25 if a else 0.75 for a in m]) * (r @ r)
        return out

    fd = []
    for which, idx in ((0, (0, 2)), (0, (1, 2)), (1, (2, 0)), (1, (2, 1)), (2, (2,))):
        up, down = [W_D.copy(), W_E.copy(), b.copy()], [W_D.copy(), W_E.copy(), b.copy()]
        up[which][idx] += 1e-6
        down[which][idx] -= 1e-6
        fd.append(abs(L(*up) - L(*down)) / 2e-6)
    assert max(fd) == pytest.approx(0.225, rel=1e-6) and max(fd[:4]) < 0.02   # the bias's, by far
    out = analyse(inst, W_E, b, W_D, gd_steps=5)
    assert out["dead_neurons"] == [2] and out["exact_loss_dead_gradient"] == pytest.approx(max(fd), rel=1e-6)
