"""theory.absorption_two_level: the two-level hierarchy's exact objective (closed form with a constant
grandparent magnitude, 1-d quadrature with a varying one) against Monte Carlo and the one-level objective, its
gradient against central differences, and the stationary points the search finds (stationary, of their type)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import theory.absorption_two_level as tl
from theory.absorption_curve import (Hierarchy, _manifold, _pack, exact_objective, gradient_fd,
                                     random_start, stationary_points)
from theory.distribution import Constant, ShiftedExponential
from theory.errors import SDLInputError

PL, CL = ShiftedExponential(0.8, 1.2), ShiftedExponential(1.0, 0.7)


def _weights(h, seed, spread=0.4):
    rng = np.random.default_rng(seed)
    n = h.n_features
    return np.eye(n) + spread * rng.normal(size=(n, n)), np.eye(n) + 0.3 * rng.normal(size=(n, n))


def _monte_carlo(h, W_E, W_D, lam, n, seed):
    x = h.sample(n, np.random.default_rng(seed))
    z = np.maximum(x @ W_E.T, 0)
    per = ((x - z @ W_D.T) ** 2).sum(1) + lam * (z * np.linalg.norm(W_D, axis=0)).sum(1)
    return per.mean(), per.std() / np.sqrt(n)


@pytest.mark.parametrize("grandparent", [Constant(1.5), ShiftedExponential(1.0, 1.0)])
def test_two_level_objective_matches_monte_carlo(grandparent):
    """Three event types (grandparent alone, with the parent, with the parent and a child) in one objective; 4 σ of
    2^20 events (a varying grandparent: one child, so the quadrature's cells stay few)."""
    h = tl.TwoLevel(1, 2 if isinstance(grandparent, Constant) else 1, grandparent, PL, CL, 0.15, 0.25)
    W_E, W_D = _weights(h, 1)
    exact = exact_objective(h, W_E, W_D, 0.7, gradient=False)[0]
    mc, se = _monte_carlo(h, W_E, W_D, 0.7, 2**20, 3)
    assert abs(exact - mc) < 4 * se, (exact, mc, se)


def test_grandparent_with_parent_event_is_the_one_level_objective():
    """The grandparent + parent event is a two-magnitude event of the one-level model (the wedge objective)."""
    h = tl.TwoLevel(1, 2, ShiftedExponential(1.0, 1.0), PL, CL, 0.0, 1 - 1e-13)
    W_E, W_D = _weights(h, 2)
    one = Hierarchy(1, h.grandparent_law, PL, 0.0, W_p=np.eye(h.n_features)[:, :2])
    assert exact_objective(h, W_E, W_D, 0.7, gradient=False)[0] == pytest.approx(
        exact_objective(one, W_E, W_D, 0.7, gradient=False)[0], rel=1e-12)


def test_quadrature_over_the_grandparent_converges(monkeypatch):
    """12-point Gauss–Legendre on breakpoint-aligned pieces against 30 points on pieces 4× shorter: equal to 1e-11
    (relative); 3 points per piece are not (the comparison can fail)."""
    h = tl.TwoLevel(1, 1, ShiftedExponential(1.0, 1.0), PL, CL, 0.1, 0.2)
    W_E, W_D = _weights(h, 4, spread=0.6)
    base = exact_objective(h, W_E, W_D, 0.7, gradient=False)[0]
    orig = tl._g_nodes
    monkeypatch.setattr(tl, "_g_nodes", lambda Z, laws: orig(Z, laws, n_nodes=30, first=0.125))
    fine = exact_objective(h, W_E, W_D, 0.7, gradient=False)[0]
    assert abs(base - fine) < 1e-11 * fine
    monkeypatch.setattr(tl, "_g_nodes", lambda Z, laws: orig(Z, laws, n_nodes=3))
    assert abs(exact_objective(h, W_E, W_D, 0.7, gradient=False)[0] - fine) > 1e-9 * fine


def test_two_level_gradient_is_the_derivative_of_the_exact_loss():
    h = tl.TwoLevel(1, 1, Constant(2.0), PL, CL, 0.2, 0.2)
    W_E, W_D = _weights(h, 5)
    _, gE, gD = exact_objective(h, W_E, W_D, 0.9)
    fE, fD = gradient_fd(h, W_E, W_D, 0.9)
    assert np.abs(gE - fE).max() < 1e-6 and np.abs(gD - fD).max() < 1e-6


def test_two_level_bad_input_is_named():
    with pytest.raises(SDLInputError, match="n_parents"):
        tl.TwoLevel(0)
    with pytest.raises(SDLInputError, match="p_alone, p_parent"):
        tl.TwoLevel(1, 1, p_alone=0.5, p_parent=0.5)
    h = tl.TwoLevel(1, 1)
    with pytest.raises(SDLInputError, match="W_E must be"):
        exact_objective(h, np.eye(2), np.eye(2), 0.1)
    with pytest.raises(SDLInputError, match="ReLU only"):
        exact_objective(h, np.eye(3), np.eye(3), 0.0, activation="topk_relu", k=1)


@settings(max_examples=2, deadline=None)
@given(lam=st.floats(0.2, 2.5), c_g=st.floats(1.0, 2.5), p_alone=st.floats(0.05, 0.3), p_parent=st.floats(0.05, 0.3),
       seed=st.integers(0, 1000))
def test_two_level_stationary_points_are_stationary_and_of_their_type(lam, c_g, p_alone, p_parent, seed,
                                                                     of_its_kind):
    """Grandparent → parent → one child: every point the search reports has a vanishing central-difference
    gradient of the exact loss on its kink (<= 1e-5; independent of the analytic gradient), a minimum does not
    decrease under 16 seeded random perturbations on the kink (radii 1e-4, 1e-3 of the parameter norm, both
    signs), and a saddle's exhibited descent direction lowers L."""
    h = tl.TwoLevel(1, 1, Constant(c_g), ShiftedExponential(1.0, 1.0), ShiftedExponential(1.0, 1.0), p_alone,
                    p_parent)
    rng = np.random.default_rng(seed)
    starts = [(tl.two_level_start(h, ps, cs), {}) for ps, cs in (("clean", "partial"), ("absorbed", "absorbed"))]
    starts.append((random_start(h, rng, 3), {}))
    pts = stationary_points(h, lam, starts=starts)
    assert any(p.kind == "minimum" for p in pts)
    for p in pts:
        N = _manifold(h, 3, [tuple(k) for k in p.kinks])
        fE, fD = gradient_fd(h, p.W_E, p.W_D, lam)
        assert np.linalg.norm(N.T @ _pack(fE, fD)) < 1e-5
        assert {"per_parent_rate", "per_parent_tilt"} <= set(p.observables)
        of_its_kind(h, p, lam, N, rng)


def test_two_level_sampler_draws_the_model_events():
    """The study's torch sampler: event-type frequencies and the mean magnitude per level as the model says."""
    import torch

    from studies.common import two_level_sampler

    h = tl.TwoLevel(1, 2, Constant(2.0), ShiftedExponential(1.0, 1.0), ShiftedExponential(0.5, 0.5), 0.2, 0.3)
    x, y = two_level_sampler(h)(torch.Generator().manual_seed(0), 40000)
    assert torch.equal(x, y) and torch.all(x[:, 0] == 2.0)
    on = (x > 0).numpy()
    n_on = on.sum(1)
    assert abs((n_on == 1).mean() - 0.2) < 0.01 and abs((n_on == 2).mean() - 0.3) < 0.01
    assert on[n_on == 3][:, 2:].sum(1).max() == 1 and on[n_on >= 2][:, 1].all()  # one child, with its parent
    assert abs(float(x[:, 1][on[:, 1]].mean()) - 2.0) < 0.03 and abs(float(x[:, 2:][on[:, 2:]].mean()) - 1.0) < 0.02


@pytest.mark.parametrize("K", [1])  # K = 2 passes too, in 25 s: kept out of CI
def test_two_level_family_system_is_the_exact_objective_on_the_family(K, family_gradients_match):
    """derive --absorption K --two-level: the symbolic loss equals the exact two-level objective at a family point
    (region moments W, V from the wedge closed forms, D from the deep event's polygon cells; a constant
    grandparent, so all of it is closed form), and each ∂L/∂θ (the moments' own derivatives dropped) equals a
    central difference of the exact loss."""
    import sympy as sp

    from theory.absorption_curve import _law, ratio_tail_moment

    loss, grads, s = tl.family_system_two_level(K)
    h = tl.TwoLevel(1, K, Constant(1.7), PL, CL, 0.15, 0.25)
    G_, P_, C_ = (_law(m) for m in h.laws())
    fns = {}
    for a_, b_ in ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)):
        fns[f"W_{a_}{b_}"] = lambda r, ab=(a_, b_): (ratio_tail_moment(G_, P_, *ab, 0.0)
                                                     - ratio_tail_moment(G_, P_, *ab, float(r)))
        fns[f"V_{a_}{b_}"] = lambda r, ab=(a_, b_): (ratio_tail_moment(P_, C_, *ab, 0.0)
                                                     - ratio_tail_moment(P_, C_, *ab, float(r)))

    def deep(r1, r2, al):
        Z = np.array([[1.0, -1.0 / float(r1), 0.0], [0.0, 1.0, -1.0 / float(r2)]])
        P, mu, M, _ = next(c for c in tl._deep_cells(h, Z).values() if c[3].all())
        nz = [i for i in range(3) for _ in range(al[i])]
        return mu[nz[0]] if len(nz) == 1 else M[nz[0], nz[1]]

    for al in s["D"]:
        fns[f"D_{al[0]}{al[1]}{al[2]}"] = lambda r1, r2, al=al: deep(r1, r2, al)
    vals = dict(a=1.1, gamma=0.6, u=0.8, w=0.2, y=(0.05, -0.1)[:K], e=0.9, delta=(0.7, 1.4)[:K], s=0.1, r=0.85,
                q=(0.1, 0.05)[:K], b=(0.95, 1.2)[:K], t=(0.02, -0.03)[:K], o=(0.3, 0.2)[:K], v=(0.9, 0.8)[:K])
    lam = 0.7
    mu = s["mu"]
    sub = {s["lam"]: lam, s["p_alone"]: h.p_alone, s["p_parent"]: h.p_parent}
    for lvl, (c, bb) in zip("GPC", (G_, P_, C_)):
        sub[mu[lvl][1]] = ratio_tail_moment((c, bb), (1.0, 0.0), 1, 0, 0.0)
        sub[mu[lvl][2]] = ratio_tail_moment((c, bb), (1.0, 0.0), 2, 0, 0.0)
    scalars = ("a", "gamma", "u", "w", "e", "s", "r")
    for name in scalars:
        sub[s[name]] = vals[name]
    for name in ("y", "delta", "q", "b", "t", "o", "v"):
        sub.update(dict(zip(s[name], vals[name])))

    def to_weights(v):
        n = h.n_features
        W_E, W_D = np.zeros((n, n)), np.zeros((n, n))
        W_E[0, 0], W_E[0, 1] = v["a"], -v["a"] * v["gamma"]
        W_D[0, 0], W_D[1, 0] = v["u"], v["w"]
        W_E[1, 1] = v["e"]
        W_D[0, 1], W_D[1, 1] = v["s"], v["r"]
        for j, c in enumerate(h.children_of(1)):
            W_D[c, 0], W_D[c, 1] = v["y"][j], v["q"][j]
            W_E[1, c] = -v["e"] * v["delta"][j]
            W_E[c, c] = v["b"][j]
            W_D[0, c], W_D[1, c], W_D[c, c] = v["t"][j], v["o"][j], v["v"][j]
        return W_E, W_D

    num = lambda ex: float(sp.lambdify(list(sub), ex, modules=[fns, "numpy"])(*sub.values()))  # noqa: E731
    f = lambda v: exact_objective(h, *to_weights(v), lam, gradient=False)[0]  # noqa: E731
    assert num(loss) == pytest.approx(f(vals), rel=1e-10)
    family_gradients_match(grads, s, vals, num, f)


def test_a_vanishing_reading_does_not_overflow_the_deep_cells():
    """A weight of 1e-40 where the search's Newton step put it (a nearly vertical line in the (m_P, m_C) plane)
    gives the same finite objective and gradient as an exact 0 (it overflowed the polygon closed forms: NaN)."""
    h = tl.TwoLevel(1, 2, Constant(2.0))
    W_E = np.array([[0.708, -2.0, 0.0, 0.0], [-0.0427, 1.115, -1.923, -1.923],
                    [-0.0421, 0.0289, 0.929, -1.9e-40], [-0.0421, 0.0289, -1.9e-40, 0.929]])
    W_D = np.eye(4)
    loss, gE, gD = exact_objective(h, W_E, W_D, 2.5)
    W0 = np.where(np.abs(W_E) < 1e-30, 0.0, W_E)
    l0, gE0, gD0 = exact_objective(h, W0, W_D, 2.5)
    assert np.isfinite(loss) and loss == pytest.approx(l0, rel=1e-12)
    assert np.allclose(gE, gE0, atol=1e-12) and np.allclose(gD, gD0, atol=1e-12)


def test_a_weak_minimum_at_a_plateau_is_a_minimum_not_a_saddle():
    """The two-level arm's λ = 1.2 seed-0 run ends at loss 4.3813 (child tilts 0.61, 0.65), which the search's
    random start 22 (seed 0) reaches too. There the grandparent latent never fires on one child's events; raising
    its reading of that child keeps L exactly constant up to the plateau's edge (about 0.049), past which L falls:
    a probe at step 0.1 had made the point a saddle. Classified with the probes kept inside the extent it is a
    minimum, confirmed by random perturbations on its kink; the descent at 0.1 is still there (the check can fail)."""
    from theory.absorption_curve import (_classify, _pack, _unpack, check_type, flat_directions, observables,
                                         one_sided_extent, polish)

    h = tl.TwoLevel(1, 2, Constant(2.0), ShiftedExponential(1.0, 1.0), ShiftedExponential(1.0, 1.0), 0.2, 0.2)
    lam = 1.2
    (W_E, W_D), _ = tl.two_level_starts(h, 23, 0)[-1]
    W_E, W_D, loss, gn, kinks = polish(h, W_E, W_D, lam)
    assert gn < 1e-9 and loss == pytest.approx(4.3813, abs=1e-4)
    assert sorted(observables(h, W_E, W_D, lam)["per_child_tilt"]) == pytest.approx([0.6105, 0.6496], abs=1e-3)
    d = _classify(h, W_E, W_D, lam, kinks=kinks)
    assert d["kind"] == "minimum" and d["min_eigenvalue"] > 0.05
    assert check_type(h, W_E, W_D, lam, kinks=kinks, classified=d)["confirmed"]
    theta, n_q = _pack(W_E, W_D), W_E.shape[0]
    f = lambda t: tl.exact_objective_two_level(h, *_unpack(t, n_q, h), lam, gradient=False)[0]  # noqa: E731
    edges = []
    for v in flat_directions(h, W_E, W_D)[1]:
        ext = one_sided_extent(h, theta, v, 1, 0.1)
        if ext < 0.1:
            edges.append(ext)
            assert f(theta + 0.99 * ext * v) == pytest.approx(loss, abs=1e-13)
            assert f(theta + 0.1 * v) < loss - 1e-5  # past the edge: lower, but not in the point's neighbourhood
    assert len(edges) == 1 and 0.03 < edges[0] < 0.07


def test_a_barely_positive_reading_of_a_varying_magnitude_is_dead():
    """A latent reading ``−0.13 g + 0.004 p − 0.16 c − 0.19 c'`` fires only where m_P > 60 or so (probability about
    e^-60): dead, as the one-level hierarchy's 1e-12 rule makes it; reading 0.5 p it is active."""
    h = tl.TwoLevel(1, 2, Constant(2.0), ShiftedExponential(1.0, 1.0), ShiftedExponential(1.0, 1.0), 0.2, 0.2)
    W_E = np.array([[-0.128, 0.004, -0.161, -0.194], [-0.128, 0.5, -0.161, -0.194]])
    for feats in ((0, 1), (0, 1, 2)):
        assert list(tl.active_on_event(h, W_E, feats)) == [False, True]


def test_sibling_children_are_exchangeable_in_a_one_parent_hierarchy():
    from theory.absorption_curve import children_exchangeable

    law = ShiftedExponential(1.0, 1.0)
    assert children_exchangeable(tl.TwoLevel(1, 2, Constant(2.0), law, law))
    assert not children_exchangeable(tl.TwoLevel(2, 2, Constant(2.0), law, law))
