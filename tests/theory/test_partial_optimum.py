import numpy as np
import pytest

from theory import Instance, pattern_of
from theory.activations import JumpReLU, ReLU, TopKReLU
from theory.derivation import gradients, least_squares_decoder
from theory.errors import SDLInputError
from theory.objective import approx_loss
from theory.partial_optimum import (
    alternating_convex_search,
    encoder_quadratic,
    is_partial_minimum,
    stationary_partial_minima,
    stationary_points_exhaust,
)


def test_example_3_5_point_is_a_partial_minimum():
    # C5 by hand: W_E = [[1,1],[0,0]], W_D = [[1/2,0],[1/2,0]], L̃ = 1, both gradients vanish
    inst = Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=TopKReLU(k=1))
    chk = is_partial_minimum(inst, [[0.5, 0], [0.5, 0]], [[1.0, 1.0], [0.0, 0.0]])
    assert chk.is_partial_minimum and chk.in_region
    assert chk.loss == pytest.approx(1.0)


def test_unequal_weights_encoder_can_still_improve_by_hand():
    # M = (1, 2), a = (1, 1): u = (1/3, 2/3); the encoder optimum for this u is a = c/q = (3/5, 6/5), L̃ = 1.2
    inst = Instance(W_p=np.eye(2), weights=[1.0, 2.0], activation=ReLU())
    W_E = np.array([[1.0, 1.0], [-1.0, -1.0]])
    W_D = least_squares_decoder(inst, W_E)
    assert W_D[:, 0] == pytest.approx([1 / 3, 2 / 3])
    chk = is_partial_minimum(inst, W_D, W_E)
    assert not chk.is_partial_minimum
    assert chk.encoder_infimum == pytest.approx(1.2)
    assert chk.infimum_attained


def test_acs_runs_to_the_boundary_when_no_partial_minimum_exists():
    inst = Instance(W_p=np.eye(2), weights=[1.0, 2.0], activation=ReLU())
    res = alternating_convex_search(inst, [{0, 1}, set()])
    assert res.on_boundary
    assert not res.check.is_partial_minimum and res.check.infimum_attained is False
    assert res.loss == pytest.approx(1.0, abs=1e-5)  # the limit drops the lighter feature: loss M_0 = 1


def test_acs_finds_the_interior_partial_minimum_with_equal_weights():
    inst = Instance(W_p=np.eye(3), weights=[1.0, 1.0, 1.0], activation=ReLU())
    res = alternating_convex_search(inst, [{0, 1}, {2}, set()])
    assert res.check.is_partial_minimum and not res.on_boundary
    assert res.loss == pytest.approx(1.0)


def test_stationary_solutions_equal_vs_unequal_weights():
    eq = Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=ReLU())
    found = stationary_partial_minima(eq, [{0, 1}, set()])
    assert found.exact and len(found.found) == 1 and found.found[0].loss == pytest.approx(1.0)
    uneq = Instance(W_p=np.eye(2), weights=[1.0, 2.0], activation=ReLU())
    none = stationary_partial_minima(uneq, [{0, 1}, set()])
    assert none.exact and none.found == ()
    assert stationary_points_exhaust(uneq)
    with pytest.raises(SDLInputError):
        stationary_partial_minima(eq, [{0, 1}, {1}])


def test_encoder_quadratic_matches_loss_and_gradient():
    rng = np.random.default_rng(3)
    W_p = rng.normal(size=(3, 4))
    W_p /= np.linalg.norm(W_p, axis=0)
    inst = Instance(W_p=W_p, weights=[1.0, 0.5, 2.0, 1.5], activation=JumpReLU(theta=0.1), encoder_bias=True)
    W_E, W_D, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), 0.2 * rng.normal(size=3)
    mask = inst.activation.active(inst.pre_activations(W_E, b))
    H, g, c = encoder_quadratic(inst, W_D, mask)
    v = np.concatenate([W_E.ravel(), b])
    assert v @ H @ v - 2 * g @ v + c == pytest.approx(approx_loss(inst, W_D, W_E, b))
    gr = gradients(inst, W_D, W_E, b, method="vectorized")
    assert 2 * H @ v - 2 * g == pytest.approx(np.concatenate([gr.W_E.ravel(), gr.b_E]), abs=1e-10)


def test_point_outside_the_given_pattern_is_rejected():
    inst = Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=ReLU())
    W_E = np.eye(2)
    chk = is_partial_minimum(inst, np.eye(2), W_E, pattern=[{0, 1}, set()])
    assert not chk.in_region and not chk.is_partial_minimum
    assert pattern_of(inst, W_E).to_json() == [[0], [1]]


def test_relu_partial_minimum_on_a_weak_face_by_hand():
    # w0 = e_x, w1 = e_y, w2 ∝ (1, −0.2): a ReLU neuron on {0, 1} must keep e_y >= 5 e_x (off on w2).
    # M = (2, 1): the encoder wants a_1 → 0 and is stopped by that face: partial minimum at a ∝ (0.2, 1) with
    # neuron loss ΣM − (0.2²·4 + 1)/(0.2²·2 + 1) = 3 − 1.16/1.08. M = (1, 2): it wants a_0 → 0, which the open
    # strict inequality a_0 > 0 never reaches: no partial minimum.
    from theory import normalize_columns

    W = normalize_columns(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, -0.2]]))
    held = Instance(W_p=W, weights=[2.0, 1.0, 1.0], activation=ReLU())
    res = stationary_partial_minima(held, [{0, 1}, {2}, set()])
    assert res.exact and res.found
    assert min(p.loss for p in res.found) == pytest.approx(3 - 1.16 / 1.08)
    assert res.found[0].check.active_weak  # the certificate uses a multiplier on the face
    failed = Instance(W_p=W, weights=[1.0, 2.0, 1.0], activation=ReLU())
    res = stationary_partial_minima(failed, [{0, 1}, {2}, set()])
    assert res.exact and res.found == ()


def test_pattern_gradient_matches_the_derivation_layer():
    rng = np.random.default_rng(5)
    W_p = rng.normal(size=(2, 4))
    W_p /= np.linalg.norm(W_p, axis=0)
    inst = Instance(W_p=W_p, weights=[1.0, 0.7, 1.3, 0.4], activation=TopKReLU(k=2), encoder_bias=True)
    W_E, W_D, b = rng.normal(size=(3, 2)), rng.normal(size=(2, 3)), 0.1 * rng.normal(size=3)
    chk = is_partial_minimum(inst, W_D, W_E, b)
    gr = gradients(inst, W_D, W_E, b, method="vectorized")
    assert chk.decoder_gradient == pytest.approx(np.linalg.norm(gr.W_D) / (1 + inst.weights.sum()))
    assert chk.loss == pytest.approx(approx_loss(inst, W_D, W_E, b))


def test_decoder_for_pattern_is_the_least_squares_decoder_inside_the_region():
    from theory.partial_optimum import decoder_for_pattern

    rng = np.random.default_rng(2)
    W_p = rng.normal(size=(3, 4))
    W_p /= np.linalg.norm(W_p, axis=0)
    inst = Instance(W_p=W_p, weights=[1.0, 0.5, 2.0, 1.5], activation=ReLU(), encoder_bias=True)
    W_E, b = rng.normal(size=(3, 3)), 0.1 * rng.normal(size=3)
    mask = inst.activation.active(inst.pre_activations(W_E, b))
    assert decoder_for_pattern(inst, W_E, b, mask) == pytest.approx(least_squares_decoder(inst, W_E, b))
