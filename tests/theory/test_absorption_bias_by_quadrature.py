"""theory.absorption_bias's pieces against values computed another way: slab breaks by hand, the Leibniz line weights
by scipy quadrature along the line (and by a finite difference of a half-plane's moment), the reconstruction loss
by the no-bias wedge objective (issue 12 part 5: the survivors of results/mutation/m3 and m4)."""
import math

import numpy as np
import pytest
from scipy import integrate

from theory import absorption_bias as ab
from theory.absorption_curve import Hierarchy, exact_objective
from theory.distribution import Constant, ShiftedExponential

AB = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2))


def _dens(c, b, t):
    return math.exp(-(t - c) / b) / b if t >= c else 0.0


def _totals(segments):
    """Σ over a line's segments of (L0, L1, L2) as the six moments (0,0), (1,0), (0,1), (2,0), (1,1), (0,2)."""
    tot = np.zeros(6)
    for _, L0, L1, L2 in segments:
        tot += [L0, L1[0], L1[1], L2[0, 0], L2[0, 1], L2[1, 1]]
    return tot


def test_slab_breaks_by_hand():
    # y = x meets the lower edge y = 1/2 at x = 1/2 and the line y = 2 at x = 2; y = 2 itself (A = 0) meets no edge
    L = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -2.0]])
    assert ab._x_breaks(L, 0.0, 0.5) == [0.5, 2.0]
    assert ab._x_breaks(L, 1.0, 0.5) == [2.0]          # only abscissae past c_P
    # 2x − y − 1 = 0 meets y = 1/2 at x = 3/4; it crosses y = x at x = 1
    assert ab._x_breaks(np.array([[2.0, -1.0, -1.0], [1.0, -1.0, 0.0]]), 0.0, 0.5) == [0.5, 0.75, 1.0]


@pytest.mark.parametrize("A,B,off,others", [
    (1.0, -1.0, -0.5, ((1.0, 1.0, -4.0),)),      # m_C = m_P − 1/2, cut by m_P + m_C = 4
    (-0.5, 1.0, -0.2, ((0.0, 1.0, -2.0), (2.0, -1.0, -1.0))),
])
def test_line_weights_of_a_slanted_line_by_quadrature(A, B, off, others):
    """L_ab = ∫ m_P^a m_C^b ρ ds / |∇g| = ∫ x^a y(x)^b f_P(x) f_C(y(x)) dx / |B| along y(x) = −(A x + off)/B."""
    cP, bP, cC, bC = 0.5, 1.3, 0.8, 0.7
    h = Hierarchy(1, ShiftedExponential(cP, bP), ShiftedExponential(cC, bC))
    segs = ab._line_moments(h, A, B, off, others)
    for pt, *_ in segs:
        assert A * pt[0] + B * pt[1] + off == pytest.approx(0.0, abs=1e-12) and pt[0] > cP and pt[1] > cC
    y = lambda x: -(A * x + off) / B  # noqa: E731
    want = []
    for a, b in AB:
        f = lambda x: x**a * y(x) ** b * _dens(cP, bP, x) * _dens(cC, bC, y(x)) / abs(B)  # noqa: E731
        kinks = sorted({-(B * cC + off) / A} if A else set())
        pts = [cP] + [k for k in kinks if k > cP]
        val = sum(integrate.quad(f, x0, x1, epsabs=1e-13, epsrel=1e-11, limit=200)[0]
                  for x0, x1 in zip(pts, pts[1:] + [np.inf]))
        want.append(val)
    np.testing.assert_allclose(_totals(segs), want, rtol=1e-8, atol=1e-12)


def test_line_weights_of_a_vertical_line_cut_by_others():
    """m_P = x_v: L_ab = x_v^a f_P(x_v)/|A| · E[m_C^b] (m_C = c + β X: E m = c + β, E m² = c² + 2cβ + 2β²), summed over
    the segments the other lines cut it into."""
    cP, bP, cC, bC = 1.0, 1.0, 0.5, 2.0
    h = Hierarchy(1, ShiftedExponential(cP, bP), ShiftedExponential(cC, bC))
    A, off = 2.0, -3.0                         # x_v = 1.5
    segs = ab._line_moments(h, A, 0.0, off, ((1.0, 1.0, -4.0), (-1.0, 1.0, 0.0)))   # cuts at m_C = 2.5 and 1.5
    assert len(segs) == 3 and all(pt[0] == 1.5 for pt, *_ in segs)
    w = _dens(cP, bP, 1.5) / 2.0
    Em = {0: 1.0, 1: cC + bC, 2: cC**2 + 2 * cC * bC + 2 * bC**2}
    np.testing.assert_allclose(_totals(segs), [w * 1.5**a * Em[b] for a, b in AB], rtol=1e-12)


@pytest.mark.parametrize("constant", ["child", "parent"])
def test_line_weights_with_one_constant_magnitude_by_a_finite_difference(constant):
    """One magnitude constant: the line meets the support in a point. Its weight is d/dt E[m^ab 1{g(m) < t}] at t = 0
    (a central difference of the half-line's moment, by quadrature)."""
    SE = ShiftedExponential(0.5, 1.5)
    if constant == "child":
        h, (c, b), fixed = Hierarchy(1, SE, Constant(2.0)), (0.5, 1.5), 2.0
        A, B, off = 1.5, -1.0, -1.0            # g = 1.5 m_P − m_C − 1 = 0 at m_P = 2
    else:
        h, (c, b), fixed = Hierarchy(1, Constant(2.0), SE), (0.5, 1.5), 2.0
        A, B, off = -1.0, 2.0, -1.0            # g = −m_P + 2 m_C − 1 = 0 at m_C = 1.5
    segs = ab._line_moments(h, A, B, off, ())
    assert len(segs) == 1
    coef = A if constant == "child" else B     # g along the free axis
    g0 = (B * fixed + off) if constant == "child" else (A * fixed + off)

    def moment(t, a, bb):
        # E[m_P^a m_C^b 1{g < t}] over the free magnitude m (the other fixed)
        f = (lambda m: m**a * fixed**bb) if constant == "child" else (lambda m: fixed**a * m**bb)
        lim = (t - g0) / coef                  # g < t ⇔ m < lim (coef > 0) or m > lim (coef < 0)
        lo, hi = (c, lim) if coef > 0 else (max(c, lim), np.inf)
        return integrate.quad(lambda m: f(m) * _dens(c, b, m), lo, hi, epsabs=1e-14, epsrel=1e-12)[0] if hi > lo else 0.0

    eps = 1e-5
    want = [abs(moment(eps, a, bb) - moment(-eps, a, bb)) / (2 * eps) for a, bb in AB]
    np.testing.assert_allclose(_totals(segs), want, rtol=1e-6)


def test_observables_bias_reconstruction_loss_is_the_wedge_objective_at_zero_bias():
    # at b = 0 and θ = 0 the biased module's reconstruction loss is the no-bias module's exact objective at λ = 0
    rng = np.random.default_rng(4)
    h = Hierarchy(1, ShiftedExponential(1.0, 1.0), ShiftedExponential(0.5, 2.0), 0.3)
    W_E, W_D = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    obs = ab.observables_bias(h, W_E, np.zeros(2), W_D)
    assert obs["reconstruction_loss"] == pytest.approx(exact_objective(h, W_E, W_D, 0.0, gradient=False)[0], rel=1e-10)


def test_hessian_bias_is_the_second_difference_of_the_loss(second_differences):
    rng = np.random.default_rng(3)
    h = Hierarchy(1, ShiftedExponential(1.0, 1.0), ShiftedExponential(0.5, 1.5), 0.3)
    W_E, b, W_D = rng.normal(size=(2, 2)) + 0.5, 0.3 * rng.normal(size=2), rng.normal(size=(2, 2))
    theta = ab._pack3(W_E, b, W_D)
    H = ab.hessian_bias(h, theta, 2, 0.5)
    want = second_differences(lambda t: ab._f(h, t, 2, 0.5), theta)
    np.testing.assert_allclose(H, want, atol=1e-5 * max(1.0, np.abs(want).max()))


def test_jumprelu_field_is_the_mean_sampled_gradient():
    """The training field (no edges, L0 penalty: no gradient in W_E, W_D from the penalty) is the expectation of the
    per-event gradient with the active set held: g_D = −2 r aᵀ, g_E = −2 (W_Dᵀ r ⊙ 1{z > θ}) x_pᵀ, r = y − W_D a.
    Monte Carlo over 200,000 events, within 5 standard errors per entry."""
    h = Hierarchy(1, ShiftedExponential(1.0, 1.0), ShiftedExponential(1.0, 1.0), 0.3)
    rng = np.random.default_rng(5)
    W_E, W_D, th = rng.normal(size=(2, 2)), rng.normal(size=(2, 2)), np.array([0.4, 0.7])
    F = ab.jumprelu_field(h, W_E, W_D, 0.3, th)
    x = h.sample(200_000, np.random.default_rng(6))
    xp, y = x @ h.W_p.T, x @ h.W_r.T
    z = xp @ W_E.T
    on = z > th
    a = np.where(on, z, 0.0)
    r = y - a @ W_D.T
    gD = -2 * np.einsum("nr,ni->nri", r, a).reshape(len(x), -1)
    gE = -2 * np.einsum("ni,np->nip", (r @ W_D) * on, xp).reshape(len(x), -1)
    per = np.hstack([gE, gD])
    mean, se = per.mean(0), per.std(0) / np.sqrt(len(x))
    assert F.shape == (8,)
    assert np.all(np.abs(F - mean) <= 5 * se + 1e-9), (F, mean, se)


def test_jumprelu_field_zero_newton_step_record_is_its_own_field():
    """No flow steps, one Newton step, a loose acceptance: the returned point's recorded field norm is the field
    re-evaluated there, and Newton only accepts a step that lowers it (else the start comes back)."""
    h = Hierarchy(1, ShiftedExponential(1.0, 1.0), ShiftedExponential(1.0, 1.0), 0.2)
    for W_E, W_D, newton_helps in ((np.array([[1.0, 0.2], [0.1, 1.0]]), np.array([[0.9, 0.1], [0.0, 0.8]]), False),
                                   (np.diag([1.2, 1.1]), np.diag([0.8, 0.85]), True)):   # a start near W_E = W_D = I
        th = np.array([0.5, 0.5])
        start = np.linalg.norm(ab.jumprelu_field(h, W_E, W_D, 1.0, th, train_theta=True))
        z = ab.jumprelu_field_zero(h, W_E, W_D, 1.0, th, steps=0, newton=1, accept=10.0)
        assert z is not None
        g = ab.jumprelu_field(h, np.asarray(z["W_E"]), np.asarray(z["W_D"]), 1.0, np.asarray(z["thresholds"]),
                              train_theta=True)
        assert z["field_norm"] == pytest.approx(float(np.linalg.norm(g)), rel=1e-9) and z["field_norm"] <= start
        if newton_helps:   # the step was taken: the field dropped by more than 10×
            assert z["field_norm"] < 0.1 * start


def test_classify_bias_at_zero_loss_reports_the_hessians_smallest_eigenvalue(second_differences):
    # λ = 0, W_E = W_D = I, b = 0: every event is reconstructed exactly (L = 0, the global minimum); the Hessian there
    # is that of a sum of squares, positive semidefinite, its eigenvalues those of the loss's second differences
    h = Hierarchy(1, ShiftedExponential(1.0, 1.0), ShiftedExponential(0.5, 1.0), 0.3)
    theta = ab._pack3(np.eye(2), np.zeros(2), np.eye(2))
    c = ab.classify_bias(h, theta, 2, 0.0)
    assert c["kind"] == "minimum" and c["check"] == {"zero_loss": True, "confirmed": True}
    want = np.linalg.eigvalsh(second_differences(lambda t: ab._f(h, t, 2, 0.0), theta)).min()
    assert c["min_eigenvalue"] == pytest.approx(want, abs=1e-5) and c["min_eigenvalue"] > -1e-6


def test_classify_bias_of_a_polished_minimum_records_its_check():
    """A minimum polished from W_E = W_D = I (λ = 0.3, bias trained): classify_bias calls it a minimum with the two
    live latents' rescalings (c e_i, c b_i, d_i / c) as its flat directions and records the radii it was probed at;
    30 perturbations drawn here, at both radii and both signs, find no lower loss either."""
    h = Hierarchy(1, ShiftedExponential(1.0, 1.0), ShiftedExponential(0.5, 1.0), 0.3)
    t, loss, gn = ab.polish_bias(h, np.eye(2), np.zeros(2), np.eye(2), 0.3)
    assert gn < 1e-8
    c = ab.classify_bias(h, t, 2, 0.3, radii=(1e-3, 1e-2))
    assert (c["kind"], c["n_flat"]) == ("minimum", 2) and c["min_eigenvalue"] > 0
    assert c["check"]["radii"] == [1e-3, 1e-2] and c["check"]["n_directions"] >= 24 and c["check"]["confirmed"]
    base = ab._f(h, t, 2, 0.3)
    assert base == pytest.approx(loss, rel=1e-12)
    r0 = max(1.0, float(np.linalg.norm(t)))
    for v in np.random.default_rng(9).normal(size=(30, t.size)):
        for r in (1e-3, 1e-2):
            for sg in (1, -1):
                assert ab._f(h, t + sg * r * r0 * v / np.linalg.norm(v), 2, 0.3) >= base - 1e-12
