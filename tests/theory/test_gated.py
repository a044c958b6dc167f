"""The Gated family (issue 12, part 2), against hand-computed numbers and finite differences."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from theory.partial_optimum import stationary_partial_minima, stationary_points_exhaust
from theory.activations import Gated, make_activation, tied_encoder
from theory.activations.gated import absorb_scale
from theory.derivation import gradients, tied_gated_gradients
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.objective import approx_loss
from theory.patterns import pattern_of, realize, region

# gates e1, e2 (rows 0, 1); magnitudes 2 e1, 3 e2 (rows 2, 3)
W_E = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 3.0]])


def test_gate_decides_magnitude_outputs():
    act = Gated()
    Z = np.array([[1.0, -1.0, 3.0, 5.0], [0.0, 2.0, 7.0, -4.0]])
    np.testing.assert_array_equal(act.evaluate(Z), [[3.0, 0.0], [0.0, -4.0]])  # gate 0 is closed at exactly 0
    np.testing.assert_array_equal(act.active(Z), [[True, False], [False, True]])
    np.testing.assert_array_equal(act.evaluate_torch(torch.tensor(Z)).numpy(), act.evaluate(Z))


def test_loss_by_hand_untied_and_tied():
    # feature 0: unit 0 opens, outputs 2 → residual e1 − 2e1; feature 1: unit 1 outputs 3 → e2 − 3e2: L̃ = 1 + 4
    inst = Instance(W_p=np.eye(2), activation=Gated())
    assert approx_loss(inst, np.eye(2), W_E) == pytest.approx(5.0)
    tied = inst.replace(activation=Gated(tied=True))
    W_t, _ = tied_encoder(np.eye(2), np.log([2.0, 3.0]))
    np.testing.assert_allclose(W_t, W_E)
    assert approx_loss(tied, np.eye(2), W_t) == pytest.approx(5.0)
    # the tying's scale folds into the decoder exactly
    W_D2, W_E2, _ = absorb_scale(np.eye(2), W_t)
    np.testing.assert_allclose(W_D2, np.diag([2.0, 3.0]))
    assert approx_loss(tied, W_D2, W_E2) == pytest.approx(5.0)
    with pytest.raises(SDLInputError, match="W_mag = exp"):
        approx_loss(tied, np.eye(2), np.array([[1.0, 0.0], [0.0, 1.0], [-2.0, 0.0], [0.0, 3.0]]))
    with pytest.raises(SDLInputError, match="W_D must be n_r × n_q = 2 × 2"):
        approx_loss(inst, np.eye(4)[:2], W_E)
    assert make_activation("gated", tied=True) == Gated(tied=True)


def _fd(f, x, eps=1e-7):
    """Finite differences by scipy (another algorithm than the symbolic and vectorised gradients)."""
    from scipy.optimize import approx_fprime

    return approx_fprime(x.ravel(), lambda v: f(v.reshape(x.shape)), eps).reshape(x.shape)


@pytest.mark.parametrize("bias", [False, True])
def test_gradients_match_finite_differences(bias):
    rng = np.random.default_rng(3)
    W_p = rng.normal(size=(3, 4))
    inst = Instance(W_p=W_p / np.linalg.norm(W_p, axis=0), weights=[1.0, 2.0, 0.5, 1.5], activation=Gated(),
                    encoder_bias=bias)
    W, W_D = rng.normal(size=(6, 3)), rng.normal(size=(3, 3))
    b = rng.normal(size=6) if bias else None
    for method in ("symbolic", "vectorized"):
        g = gradients(inst, W_D, W, b, method=method)
        np.testing.assert_allclose(g.W_E, _fd(lambda E: approx_loss(inst, W_D, E, b), W), atol=2e-5)
        np.testing.assert_allclose(g.W_D, _fd(lambda D: approx_loss(inst, D, W, b), W_D), atol=2e-5)
        assert np.abs(g.W_E[:3]).max() == 0  # the gate's gradient vanishes inside a region
    tied = inst.replace(activation=Gated(tied=True))
    G, r = W[:3], 0.4 * rng.normal(size=3)
    bg, bm = (rng.normal(size=3), rng.normal(size=3)) if bias else (None, None)

    def loss(G_, r_):
        E, bb = tied_encoder(G_, r_, bg, bm)
        return approx_loss(tied, W_D, E, bb)

    gt = tied_gated_gradients(tied, W_D, G, r, bg, bm)
    np.testing.assert_allclose(gt["W_gate"], _fd(lambda x: loss(x, r), G), atol=2e-5)
    np.testing.assert_allclose(gt["r"], _fd(lambda x: loss(G, x), r), atol=2e-5)


def test_regions_strict_at_the_gate_and_certificates():
    inst = Instance(W_p=np.array([[1.0, -1.0]]), activation=Gated())
    # open on e and −e needs <w_gate, e> > 0 and < 0: unrealizable without a bias, realizable with one
    rz = realize(inst, [{0, 1}])
    assert rz.status == "unrealizable" and rz.certificate is not None
    rb = realize(inst.replace(encoder_bias=True), [{0, 1}])
    assert rb.realizable and pattern_of(inst.replace(encoder_bias=True), rb.W_E, rb.b_E).firing == (frozenset({0, 1}),)
    # a gate exactly 0 is in no region
    W0 = np.array([[0.0], [1.0]])
    assert not region(inst, [set()]).contains(W0) and not region(inst, [{0}]).contains(W0)
    for tied in (False, True):
        i2 = Instance(W_p=np.eye(3), activation=Gated(tied=tied))
        rz = realize(i2, [{0, 1}, {2}])
        assert rz.realizable and pattern_of(i2, rz.W_E).firing == (frozenset({0, 1}), frozenset({2}))


def test_untied_partial_minima_by_hand():
    # orthonormal features, equal weights: unit 0 on {0, 1} outputs a free magnitude (a_0, a_1); the best
    # single column reconstructs one direction of span{e0, e1}: L̃ = 2 − 1 = 1 (C6's corrected value)
    inst = Instance(W_p=np.eye(3), activation=Gated())
    assert stationary_points_exhaust(inst)
    st = stationary_partial_minima(inst, [{0, 1}, {2}, set()])
    assert st.exact and st.found
    np.testing.assert_allclose([p.loss for p in st.found], 1.0, atol=1e-9)


def test_derive_cli_prints_the_gated_derivation():
    out = subprocess.run([sys.executable, "-m", "sdl_theory", "derive", "--activation", "gated", "--tied", "true", "--bias",
                          "--pattern", "0,1|2"], capture_output=True, text=True, check=True).stdout
    assert "Gated(tied=True)" in out and "C_d" in out and "W_mag = exp(r)" in out
    bad = subprocess.run([sys.executable, "-m", "sdl_theory", "derive", "--activation", "relu", "--tied", "true"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "--tied applies to gated" in bad.stderr
