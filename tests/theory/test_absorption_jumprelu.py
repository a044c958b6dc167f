"""theory.absorption_bias for JumpReLU with the family's L0 term: the exact objective against Monte Carlo and central
differences (its gradient is all edge terms), the threshold's derivative, and the stationary points of the
no-bias JumpReLU search (stationary by central differences, of their type by perturbation, the same up to scale
for every θ)."""
import numpy as np
import pytest

from theory.absorption_bias import _pack3, _unpack3, exact_objective_bias, stationary_points_jumprelu, threshold_gradient
from theory.absorption_curve import Hierarchy
from theory.distribution import Constant, ShiftedExponential
from theory.errors import SDLInputError

SE = ShiftedExponential(1.0, 1.0)


def _mc_l0(h, W_E, b, W_D, lam, th, n=300_000, seed=1):
    x = h.sample(n, np.random.default_rng(seed))
    z = (x @ h.W_p.T) @ W_E.T + b
    on = z > th
    per = ((x @ h.W_r.T - np.where(on, z, 0.0) @ W_D.T) ** 2).sum(1) + lam * on.sum(1)
    return per.mean(), per.std() / np.sqrt(n)


@pytest.mark.parametrize("child", [SE, Constant(2.0)])
def test_l0_objective_and_gradient_are_exact(child, central_gradient):
    """λ E Σ 1{z_i > θ_i}: the objective matches Monte Carlo (5 standard errors); the gradient matches central
    differences (1e-6); its L0 part is all edge terms, so the cells alone (edges=False) miss it; the threshold's
    derivative matches central differences in θ."""
    rng = np.random.default_rng(3)
    h = Hierarchy(2, SE, child, 0.3)
    W_E, W_D = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    b, th = 0.3 * rng.normal(size=3), 0.2 + np.abs(rng.normal(size=3))
    lam = 0.8
    loss, gE, gb, gD = exact_objective_bias(h, W_E, b, W_D, lam, theta=th, penalty="l0")
    mc, se = _mc_l0(h, W_E, b, W_D, lam, th)
    assert loss == pytest.approx(mc, abs=5 * se)
    theta = _pack3(W_E, b, W_D)
    fd = central_gradient(lambda t: exact_objective_bias(h, *_unpack3(t, 3, h), lam, theta=th, penalty="l0", gradient=False)[0],
             theta)
    g = _pack3(gE, gb, gD)
    assert np.abs(fd - g).max() < 1e-6 * max(1.0, np.abs(g).max())
    _, gE0, gb0, gD0 = exact_objective_bias(h, W_E, b, W_D, lam, theta=th, penalty="l0", edges=False)
    assert np.abs(_pack3(gE0, gb0, gD0) - fd).max() > 1e-2
    fd_th = central_gradient(lambda t: exact_objective_bias(h, W_E, b, W_D, lam, theta=t, penalty="l0", gradient=False)[0], th)
    assert threshold_gradient(h, W_E, b, W_D, lam, th, penalty="l0") == pytest.approx(fd_th, abs=1e-6)


def test_l0_bad_input():
    with pytest.raises(SDLInputError, match="penalty must be 'l1' or 'l0'"):
        exact_objective_bias(Hierarchy(1), np.eye(2), np.zeros(2), np.eye(2), 1.0, theta=0.5, penalty="l2")


def test_jumprelu_stationary_points_are_stationary_and_typed(central_gradient):
    """The no-bias JumpReLU search (one child, family / absorbed / merged starts): every point has a vanishing
    central-difference gradient over (W_E, W_D) and in θ (a stationary point for fixed θ is one in θ too); a
    minimum does not decrease under seeded perturbations that its own check did not use, a saddle decreases along
    its direction; the search finds a partially absorbed minimum; scaled by 2 it is stationary at θ = 1 with the
    same loss and rates (θ only sets the scale)."""
    h = Hierarchy(1, SE, SE, 0.2)
    lam, th = 1.0, 0.5
    pts = stationary_points_jumprelu(h, lam, th, mixed=False, n_random=0)
    kinds = {p["kind"] for p in pts}
    assert "minimum" in kinds
    assert any(p["kind"] == "minimum" and 0.05 < p["absorption_rate"] < 0.95 for p in pts)
    rng = np.random.default_rng(11)
    for p in pts:
        W_E, W_D = np.asarray(p["W_E"]), np.asarray(p["W_D"])
        b = np.zeros(2)

        def f(t, thr=th):
            WE, _, WD = _unpack3(np.concatenate([t[:4], b, t[4:]]), 2, h)
            return exact_objective_bias(h, WE, b, WD, lam, theta=thr, penalty="l0", gradient=False)[0]
        t0 = np.concatenate([W_E.ravel(), W_D.ravel()])
        assert np.abs(central_gradient(f, t0)).max() < 1e-6
        assert abs((f(t0, th + 1e-6) - f(t0, th - 1e-6)) / 2e-6) < 1e-6
        if p["kind"] == "minimum":
            base = f(t0)
            for v in rng.normal(size=(12, t0.size)):
                assert f(t0 + 1e-3 * v / np.linalg.norm(v)) >= base - 1e-12
        if p["kind"] == "saddle":
            assert p["check"]["confirmed"]
    m = next(p for p in pts if p["kind"] == "minimum" and 0.05 < p["absorption_rate"] < 0.95)
    W_E, W_D = np.asarray(m["W_E"]), np.asarray(m["W_D"])
    loss2, gE2, _, gD2 = exact_objective_bias(h, 2 * W_E, np.zeros(2), W_D / 2, lam, theta=1.0, penalty="l0")
    assert loss2 == pytest.approx(m["loss"], rel=1e-12)
    assert np.sqrt((gE2**2).sum() + (gD2**2).sum()) < 1e-6
