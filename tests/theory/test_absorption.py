"""theory.absorption: closed forms against Monte-Carlo evaluation and direct minimisation."""
import numpy as np
import pytest
from scipy.optimize import minimize

from theory.absorption import (absorbed_objective, assumptions, derive, expected_min_square, l1_threshold,
                               parent_switch_off, predict_l1, predict_topk, switch_off_leak, topk_threshold,
                               validity_limit)
from theory.distribution import Constant, ShiftedExponential, Uniform

SE = ShiftedExponential(1.0, 1.0)


def _mc_losses(lam, parent, child, n=400_000, seed=0):
    """Evaluate both configurations on sampled child events x = m_P p + m_C c (p, c = e_1, e_2)."""
    rng = np.random.default_rng(seed)
    mP, mC = parent.sample(rng, n), child.sample(rng, n)
    pred = predict_l1(lam, parent, child)
    # clean: a_P = t_P m_P on p, a_C = t_C m_C on c, with the shrinkage optimum t = 1 − λ μ1/(2 μ2)
    tP = 1 - lam * parent_mu(parent)[0] / (2 * parent_mu(parent)[1])
    tC = 1 - lam * parent_mu(child)[0] / (2 * parent_mu(child)[1])
    clean = np.mean((1 - tP) ** 2 * mP**2 + (1 - tC) ** 2 * mC**2 + lam * (tP * mP + tC * mC))
    vp, vc = pred.absorbed_decoder
    absorbed = np.mean((mP - mC * vp) ** 2 + (mC - mC * vc) ** 2 + lam * mC * np.hypot(vp, vc))
    return pred, clean, absorbed


def parent_mu(law):
    from theory.shrinkage import magnitude_moments
    return magnitude_moments(law)[:2]


@pytest.mark.parametrize("lam", [0.3, 1.6, 3.0])
def test_losses_match_monte_carlo(lam):
    pred, clean, absorbed = _mc_losses(lam, SE, SE)
    assert pred.clean_loss == pytest.approx(clean, rel=0.01)
    assert pred.absorbed_loss == pytest.approx(absorbed, rel=0.01)


@pytest.mark.parametrize("parent,child", [(SE, SE), (Uniform(0.5, 1.5), ShiftedExponential(0.5, 0.5)),
                                          (Constant(1.0), Constant(1.0))])
@pytest.mark.parametrize("lam", [0.2, 1.0])
def test_absorbed_decoder_is_the_global_minimiser(parent, child, lam):
    pred = predict_l1(lam, parent, child)
    best = min((minimize(lambda v: absorbed_objective(v[0], v[1], lam, parent, child), x0=x0, method="Nelder-Mead",
                         options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 5000}) for x0 in ([0, 0.1], [1, 1], [-1, 2])),
               key=lambda r: r.fun)
    assert best.fun == pytest.approx(pred.absorbed_loss, abs=1e-6)
    assert best.x == pytest.approx(pred.absorbed_decoder, abs=1e-3)


def test_threshold_is_where_the_gap_changes_sign():
    lam_star = l1_threshold(SE, SE)
    assert 0 < lam_star < validity_limit(SE, SE)
    below, above = predict_l1(0.9 * lam_star, SE, SE), predict_l1(1.1 * lam_star, SE, SE)
    assert not below.absorbed and above.absorbed
    at = predict_l1(lam_star, SE, SE)
    assert at.clean_loss == pytest.approx(at.absorbed_loss, abs=1e-9)


def test_constant_magnitudes_absorb_for_every_positive_penalty():
    c = Constant(1.0)
    assert l1_threshold(c, c) == 0.0
    for lam in (1e-3, 0.5, 1.5):
        assert predict_l1(lam, c, c).absorbed
    # with λ = 0 both configurations reconstruct exactly: a tie, not absorption
    p0 = predict_l1(0.0, c, c)
    assert p0.clean_loss == pytest.approx(0) and p0.absorbed_loss == pytest.approx(0) and not p0.absorbed


def test_gap_is_a_quadratic_in_lambda():
    d = derive()
    import sympy as sp
    assert sp.Poly(d.gap, d.symbols["lam"]).degree() == 2
    assert len(d.thresholds) == 2


def test_topk_threshold_and_decider():
    assert topk_threshold([2]) == 2 and topk_threshold([1, 3, 2]) == 3
    k1, k2 = predict_topk(1, SE, SE), predict_topk(2, SE, SE)
    assert k1.preferred == "absorbed" and k2.preferred == "clean"
    assert k2.absorbed_loss == pytest.approx(5 - 16 / 5)  # μ2P − μ1P² μ1C² / μ2C with μ1 = 2, μ2 = 5
    assert predict_topk(3, Constant(1.0), Constant(2.0)).preferred == "tie"  # deterministic magnitudes
    rng_est = expected_min_square(Uniform(0, 1), Uniform(0, 1))
    assert rng_est == pytest.approx(1 / 6, abs=3e-3)  # E[min(U,V)²] = 1/6
    assert expected_min_square(SE, SE) == pytest.approx(
        expected_min_square(SE, ShiftedExponential(1.0, 1.0 + 1e-12)), rel=5e-3)


def test_switch_off_feasible_for_independent_directions_not_for_repeated_events():
    W = np.eye(4)
    s = parent_switch_off(W, 0, [1, 2, 3], 1)
    assert s.possible
    x_off, x_on = W[:, 0] + W[:, 1], W[:, 0] + W[:, 2]
    assert s.encoder_row @ x_off <= 1e-9 and s.encoder_row @ x_on > 0
    # child 1 and child 2 share a direction: their events coincide, no row can tell them apart
    W2 = np.eye(4)
    W2[:, 2] = W2[:, 1]
    assert not parent_switch_off(W2, 0, [1, 2], 1).possible
    assert not parent_switch_off(W2, 0, [1, 2], 1, encoder_bias=True).possible
    assert switch_off_leak(1.0, SE, SE) == pytest.approx(0.5, abs=0.01)
    assert switch_off_leak(20.0, SE, SE) < 0.01


def test_assumption_predicates():
    assert assumptions(np.eye(3), 0, [1, 2]) == []
    W = np.eye(3)
    W[:, 1] = [0.6, 0.8, 0]
    assert assumptions(W, 0, [1, 2])
    assert assumptions(p_multi=0.2)


def test_clean_configuration_is_not_stationary_slope_matches_finite_difference():
    """clean_stationarity's slope against a finite difference of the sampled per-event objective."""
    from theory.absorption import clean_tilt

    rng = np.random.default_rng(3)
    mP, mC = SE.sample(rng, 400_000), SE.sample(rng, 400_000)
    lam = 0.8
    t = 1 - lam * np.mean(mP) / (2 * np.mean(mP**2))

    def loss(g):
        a = np.maximum(t * mP + g * mC, 0.0)
        return np.mean((mP - a) ** 2 + lam * a)

    h = 1e-4
    fd = (loss(h) - loss(-h)) / (2 * h)
    sample_slope = lam * np.mean(mC) * (1 - np.mean(mP) ** 2 / np.mean(mP**2))
    assert fd == pytest.approx(sample_slope, rel=5e-3)  # the sample covariance of m_P, m_C is not exactly 0
    assert clean_tilt(lam, SE, SE)["encoder_slope"] == pytest.approx(sample_slope, rel=0.02)
    assert loss(-0.05) < loss(0.0)  # moving the encoder towards −c_j lowers the loss: not a minimum
    # constant magnitudes: no encoder slope, but the decoder still tilts (shrinkage leaves part of p)
    c = clean_tilt(lam, Constant(1.0), Constant(1.0))
    assert c["encoder_slope"] == pytest.approx(0.0) and c["decoder_tilt"] == pytest.approx(lam / 2)
