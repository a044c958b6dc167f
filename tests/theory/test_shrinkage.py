"""theory.shrinkage: the sympy optimum against direct minimisation of the same per-event objective."""
import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize, minimize_scalar

from theory.distribution import Constant, ShiftedExponential, Uniform
from theory.errors import SDLInputError
from theory.shrinkage import assumptions, derive, event_loss, magnitude_moments, predict


def test_derivation_is_the_stationary_point():
    d = derive()
    s = d.symbols
    assert sp.simplify(sp.diff(d.loss_no_bias, s["t"]).subs(s["t"], d.t_no_bias)) == 0
    assert sp.simplify(sp.diff(d.loss_no_bias, s["t"], 2)) != 0  # strictly convex in t
    assert d.t_bias == 1 and sp.simplify(d.b_bias + s["lam"] / 2) == 0


@pytest.mark.parametrize("law", [ShiftedExponential(1.0, 1.0), Uniform(0.5, 1.5), Constant(2.0)])
@pytest.mark.parametrize("lam", [0.1, 0.6])
def test_no_bias_matches_direct_minimisation(law, lam):
    m = law.sample(np.random.default_rng(0), 200_000)
    # replace the sample moments by the law's so both sides minimise the same objective
    res = minimize_scalar(lambda t: event_loss(t, 0.0, lam, m), bounds=(0, 2), method="bounded",
                          options={"xatol": 1e-8})
    pred = predict(lam, law)
    mu1, mu2, _ = magnitude_moments(law)
    t_sample = 1 - lam * m.mean() / (2 * np.mean(m**2))  # the formula on the sample's own moments
    assert res.x == pytest.approx(t_sample, abs=1e-5)
    assert pred.scale == pytest.approx(t_sample, abs=0.01)  # sampling error of the moments
    assert pred.event_loss == pytest.approx(res.fun, rel=0.02)
    assert pred.unmet == ()


def test_bias_soft_threshold_matches_direct_minimisation():
    law, lam = ShiftedExponential(1.0, 1.0), 0.8
    m = law.sample(np.random.default_rng(1), 100_000)
    res = minimize(lambda v: event_loss(v[0], v[1], lam, m), x0=[0.7, 0.0], method="Nelder-Mead",
                   options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 4000})
    pred = predict(lam, law, encoder_bias=True)
    assert pred.scale == 1.0 and pred.bias == pytest.approx(-0.4)
    assert res.x == pytest.approx([1.0, -0.4], abs=2e-3)
    assert pred.mean_ratio == pytest.approx(1 - 0.4 / 2.0)
    # a bias never does worse than no bias (μ1² <= μ2)
    assert pred.event_loss <= predict(lam, law).event_loss


def test_unmet_assumptions_are_reported_and_matter():
    law, lam = ShiftedExponential(0.1, 1.0), 1.0  # λ/2 > c_min: the relu clips small magnitudes
    pred = predict(lam, law, encoder_bias=True)
    assert any("c_min" in u for u in pred.unmet)
    m = law.sample(np.random.default_rng(2), 100_000)
    res = minimize(lambda v: event_loss(v[0], v[1], lam, m), x0=[0.8, -0.2], method="Nelder-Mead",
                   options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 4000})
    # soft-thresholding stays the optimum (pointwise), but the no-clipping closed-form loss is wrong here
    assert res.x == pytest.approx([1.0, -0.5], abs=3e-3)
    from theory.shrinkage import _functions
    mu1, mu2, _ = magnitude_moments(law)
    closed = float(_functions()["min_loss_bias"](lam, mu1, mu2))
    assert abs(closed - res.fun) > 0.01  # the unmet assumption matters
    assert pred.event_loss == pytest.approx(res.fun, rel=0.01)  # the reported (Monte-Carlo) value is right
    W = np.array([[1.0, 0.6], [0.0, 0.8]])
    assert any("orthonormal" in u for u in assumptions(0.1, law, False, W_p=W))
    assert assumptions(0.1, law, False, W_p=np.eye(2)) == []
    with pytest.raises(SDLInputError):
        predict(-1.0, law)


def test_latent_switches_off_beyond_limit():
    law = Constant(1.0)
    pred = predict(3.0, law)  # λ μ1 = 3 > 2 μ2 = 2
    assert pred.scale == 0.0 and pred.event_loss == 1.0 and pred.unmet


def test_l1_without_decoder_norm_control_is_flagged():
    law = Constant(1.0)
    assert any("penalty away" in u for u in assumptions(0.5, law, False, l1_weighted_by_decoder_norm=False))
    assert not assumptions(0.5, law, False, unit_norm_decoder=True, l1_weighted_by_decoder_norm=False)
    from theory.absorption import assumptions as abs_assumptions
    assert abs_assumptions(l1_weighted_by_decoder_norm=False)
