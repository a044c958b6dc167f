"""theory.absorption, theory.absorption_curve and theory.absorption_ste by hand, Monte Carlo and finite differences
(issue 12, part 5: the named survivors of results/mutation/m7): the closed forms of expected_min_square and
validity_limit at laws no other test computes them at; which latents a TopK observable reads; the transversal
directions at a kink of two readings; a start reached twice; Newton on the training field; an exact-rational encoder."""
from fractions import Fraction

import numpy as np
import pytest

from theory.absorption import expected_min_square, validity_limit
from theory.absorption_curve import (Hierarchy, _pack, _unpack, exact_objective, family_start, interior_field,
                                     observables, same_point, stationary_points, training_field_zero,
                                     training_fixed_points, transversal_derivatives)
from theory.distribution import Constant, ShiftedExponential, Uniform

SE11 = ShiftedExponential(1.0, 1.0)


# ------------------------------------------------------------------------------- theory.absorption closed forms
def test_expected_min_square_of_shifted_exponentials_off_c_equal_one():
    """c_min = 2, β = 2: min of two iid 2 + Exp(mean 2) is 2 + Exp(mean 1) (the minimum of two exponentials of
    rate 1/2 has rate 1), so E[min²] = 2² + 2·2·1 + 2·1² = 4 + 4 + 2 = 10. Also a Monte Carlo of the minimum drawn
    here (seed 131, 400 000 pairs; the standard error of the mean of (2 + E)² is about 0.02)."""
    law = ShiftedExponential(2.0, 2.0)
    assert expected_min_square(law, law) == pytest.approx(10.0, rel=1e-12)
    rng = np.random.default_rng(131)
    a, b = 2.0 + rng.exponential(2.0, 400_000), 2.0 + rng.exponential(2.0, 400_000)
    assert expected_min_square(law, law) == pytest.approx(float(np.mean(np.minimum(a, b) ** 2)), rel=1e-2)
    # c_min = 0.5, β = 3: min = 0.5 + Exp(mean 1.5): 0.25 + 2·0.5·1.5 + 2·2.25 = 0.25 + 1.5 + 4.5 = 6.25
    law2 = ShiftedExponential(0.5, 3.0)
    assert expected_min_square(law2, law2) == pytest.approx(6.25, rel=1e-12)


def test_validity_limit_is_the_smallest_of_the_clean_latents_bounds():
    """λ μ1 <= 2 μ2 per clean latent, λ μ1C <= 2 μ2C W with W = hypot(μ1P μ1C / μ2C, 1) >= 1 (never tighter than
    the clean child's bound).

    Constants 1 and 0.5: 2·1/1 = 2; 2·0.25/0.5 = 1; W = hypot(1·0.5/0.25, 1) = √5, 2·0.25·√5/0.5 = √5: the limit 1.
    Parent 1 + Exp(1) (μ1 = 2, μ2 = 5), child Exp(0.5) (μ1 = 0.5, μ2 = 2·0.25 = 0.5): 2·5/2 = 5; 2·0.5/0.5 = 2;
    W = hypot(2·0.5/0.5, 1) = √5, third 2·0.5·√5/0.5 = 2√5: the limit 2."""
    assert validity_limit(Constant(1.0), Constant(0.5)) == pytest.approx(1.0, rel=1e-12)
    assert validity_limit(SE11, ShiftedExponential(0.0, 0.5)) == pytest.approx(2.0, rel=1e-12)
    # both constant 0.4: 2·0.16/0.4 = 0.8 twice; W = hypot(1, 1) = √2, 0.8√2 > 0.8: the limit 0.8
    assert validity_limit(Constant(0.4), Constant(0.4)) == pytest.approx(0.8, rel=1e-12)
    # the third bound is the absorbing latent's: it stays on while λ <= 2 μ2C W / μ1C; at the limit each clean
    # latent's shrinkage optimum t = 1 − λ μ1 / (2 μ2) is still >= 0 (here: 1 − 1·0.5/(2·0.25) = 0 for the child)
    assert 1 - validity_limit(Constant(1.0), Constant(0.5)) * 0.5 / (2 * 0.25) == pytest.approx(0.0, abs=1e-12)


# ------------------------------------------------------------------------------- theory.absorption_curve
def test_a_topk_tilt_reads_only_the_latents_topk_keeps():
    """One child, W_p = I, TopK∘ReLU k = 1. Latent 0 reads the parent (row (1, 0)), latent 1 half of it (row
    (0.5, 0)): on a child event z = (m_P, m_P/2), both positive, and TopK(1) keeps latent 0 only (the activation's
    own evaluation, checked below). Latent 1's decoder (0.6, 0.8) matches the child better than latent 0's (1, 0),
    but it never fires, so the tilt (parent cosine of the best child-matching decoder among the firing latents) is
    latent 0's: 1. Under ReLU both fire and the tilt is latent 1's parent cosine 0.6."""
    from theory.activations import TopKReLU

    h = Hierarchy(1, SE11, SE11, 0.2)
    W_E = np.array([[1.0, 0.0], [0.5, 0.0]])
    W_D = np.array([[1.0, 0.6], [0.0, 0.8]])
    for mP, mC in ((1.0, 1.0), (3.0, 1.5), (1.2, 7.0)):
        assert TopKReLU(k=1).active(W_E @ np.array([mP, mC])).tolist() == [True, False]
    obs = observables(h, W_E, W_D, 0.0, activation="topk_relu", k=1)
    assert obs["per_child_tilt"] == pytest.approx([1.0], abs=1e-12)
    assert observables(h, W_E, W_D, 0.0)["per_child_tilt"] == pytest.approx([0.6], abs=1e-12)


def test_two_zero_loss_points_are_the_same_whatever_their_other_scalars():
    """same_point: both losses <= 1e-10 (the zero-loss set, reported once) decides it, even when the parent gains
    (0.5 and 0.9) and the child rows differ by far more than tol; one loss above 1e-10 compares the rest."""
    a = (np.array([0.0, 0.5]), np.array([[1.0], [0.2]]))
    b = (np.array([1e-11, 0.9]), np.array([[0.0], [0.7]]))
    assert same_point(a, b, False, 1e-4) and same_point(b, a, False, 1e-4)
    c = (np.array([1e-3, 0.5]), np.array([[1.0], [0.2]]))
    assert not same_point(a, c, False, 1e-4) and not same_point(c, a, False, 1e-4)


def test_a_start_given_twice_is_one_point_reached_by_two_starts():
    """The same explicit start twice (polish is deterministic): one stationary point, n_starts = 2 (the number of
    starts given), described by the first start."""
    h = Hierarchy(1, SE11, SE11, 0.2)
    s = family_start(h, (0.0,))
    pts = stationary_points(h, 1.0, starts=[(s, {"a": 1}), (s, {"a": 2})])
    assert len(pts) == 1 and pts[0].n_starts == 2 and pts[0].start == {"a": 1}


def test_transversal_derivatives_of_a_latent_pinned_on_two_readings():
    """Latent 0 with both readings pinned at 0 (row (0, 0)), decoder −p; latent 1 row (1, 1). The directions are,
    in order, ±e_p, ±e_c, then the four sign combinations (1, 1), (1, −1), (−1, 1), (−1, −1) (n_random = 0): 8.
    Every magnitude is >= 1 > 0, so latent 0 stays off (the loss unchanged: None) along −e_p, −e_c (it reads
    −m_C < 0 or 0) and (−1, −1); along the others it fires on events of positive probability and the one-sided
    derivative is the loss difference at a step of 1e-5, evaluated here."""
    h = Hierarchy(1, SE11, SE11, 0.2)
    W_E = np.array([[0.0, 0.0], [1.0, 1.0]])
    W_D = np.array([[-1.0, 0.5], [0.0, 0.5]])
    base = exact_objective(h, W_E, W_D, 1.0, gradient=False)[0]
    dirs = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)]
    want = []
    for c in dirs:
        d = np.array(c, dtype=float) / np.linalg.norm(c)
        up = W_E.copy()
        up[0] = 1e-5 * d
        want.append((exact_objective(h, up, W_D, 1.0, gradient=False)[0] - base) / 1e-5)
    got = transversal_derivatives(h, W_E, W_D, 1.0, [(0, 0), (0, 1)], n_random=0)
    assert len(got) == 8
    assert [g is None for g in got] == [False, True, False, True, False, False, False, True]
    for g, w in zip(got, want):
        if g is not None:
            assert abs(w) > 0.1 and g == pytest.approx(w, rel=1e-2)
        else:
            assert w == pytest.approx(0.0, abs=1e-8)


def _sampled_field(h, theta, n_q, k, n=400_000, seed=131):
    """The mean per-event gradient of the TopK∘ReLU(k) loss ||x_r − W_D a||² (λ = 0) over n events drawn by
    h.sample: per event, with the active set S fixed, ∂/∂W_D = −2 r aᵀ and ∂/∂W_E = (−2 W_Dᵀ r)_S x_pᵀ."""
    W_E, W_D = _unpack(theta, n_q, h)
    f = h.sample(n, np.random.default_rng(seed))
    X, Y = f @ h.W_p.T, f @ h.W_r.T
    Z = X @ W_E.T
    keep = np.argsort(-Z, axis=1, kind="stable")[:, :k]
    on = np.zeros_like(Z, dtype=bool)
    np.put_along_axis(on, keep, True, axis=1)
    A = np.where(on & (Z > 0), Z, 0.0)
    R = Y - A @ W_D.T
    gD = -2 * R.T @ A / n
    gZ = np.where(A > 0, -2 * R @ W_D, 0.0)
    gE = gZ.T @ X / n
    return _pack(gE, gD)


def test_newton_alone_reaches_the_training_fields_zero():
    """steps = 0: no gradient descent, only Newton on the field (tolerance 1e-9) from a point 0.01 off a zero
    (the field's norm there about 0.23): it reaches a zero (field norm < 1e-8). The field is checked against the
    mean per-event gradient of sampled events (computed here): large at the start, near 0 (Monte Carlo noise)
    at the zero found."""
    h = Hierarchy(1, SE11, SE11, 0.2)
    z0 = training_fixed_points(h, 0.0, 1, gammas=(0.0,), absorbed_readings=(), merged=False)[0]
    W_E0, W_D = np.asarray(z0["W_E"]) + 0.01, np.asarray(z0["W_D"])
    start = _pack(W_E0, W_D)
    z = training_field_zero(h, W_E0, W_D, 0.0, 1, steps=0)
    assert z is not None and z["field_norm"] < 1e-8
    at_start = np.linalg.norm(_sampled_field(h, start, 2, 1))
    theta = _pack(np.asarray(z["W_E"]), np.asarray(z["W_D"]))
    assert at_start > 0.15 and np.linalg.norm(_sampled_field(h, theta, 2, 1)) < 0.1 * at_start
    assert np.linalg.norm(interior_field(h, start, 2, 0.0, 1)) == pytest.approx(at_start, rel=0.1)


# ------------------------------------------------------------------------------- theory.absorption_ste
def test_classify_zero_reads_an_exact_rational_or_integer_encoder_as_floats():
    """W_E given as Python Fractions (exact rationals) or integers is read as the float encoder of the same
    values: the same classification, eigenvalues, conserved count and neutral coordinates as the float input."""
    from theory.absorption_ste import classify_zero

    h = Hierarchy(2)
    W_E = np.array([[1.0, -0.5, -0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    W_D = h.W_r.copy()
    th = np.array([0.9, 1.3, 1.1])
    n = 21
    J = np.eye(n)
    J[:, 18] = 0.0
    want = classify_zero(h, W_E, W_D, 0.7, th, 0.05, J=J)
    assert want["kind"] == "stable" and want["neutral"] == ["log θ[0]"]
    frac = [[Fraction(x).limit_denominator(4) for x in row] for row in W_E.tolist()]
    got = classify_zero(h, frac, W_D, 0.7, th, 0.05, J=J)
    assert got == want
    ints = np.eye(3, dtype=int)
    assert classify_zero(h, ints, W_D, 0.7, th, 0.05, J=J) == classify_zero(h, np.eye(3), W_D, 0.7, th, 0.05, J=J)
