"""theory.absorption_bias: the exact hierarchy objective with an encoder bias (polygon cells), against the wedge
objective at b = 0, Monte Carlo, central differences, and its stationary points (type checked by perturbation)."""
import numpy as np
import pytest

from theory.absorption_bias import _unpack3, exact_objective_bias
from theory.absorption_curve import Hierarchy, exact_objective
from theory.distribution import Constant, ShiftedExponential

SE = ShiftedExponential(1.0, 1.0)
LAWS = [(SE, SE), (ShiftedExponential(0.5, 2.0), ShiftedExponential(1.5, 0.3)), (Constant(1.0), SE),
        (SE, Constant(2.0)), (Constant(1.0), Constant(2.0))]


def _mc(h, W_E, b, W_D, lam, th=0.0, n=300_000, seed=1):
    """Monte Carlo of the objective with encoder bias b and JumpReLU thresholds th (0: ReLU)."""
    x = h.sample(n, np.random.default_rng(seed))
    z = (x @ h.W_p.T) @ W_E.T + b
    a = np.where(z > th, z, 0.0)
    per = ((x @ h.W_r.T - a @ W_D.T) ** 2).sum(1) + lam * (a * np.linalg.norm(W_D, axis=0)).sum(1)
    return per.mean(), per.std() / np.sqrt(n)


@pytest.mark.parametrize("parent,child", LAWS)
def test_bias_objective_is_exact(parent, child, central_gradient):
    """At b = 0 it is the wedge objective (to rounding); at a random bias it matches Monte Carlo (5 standard
    errors); its gradient matches central differences of itself (1e-6)."""
    rng = np.random.default_rng(0)
    K = 2 if parent is SE else 1  # one 3-latent case; the rest with 2 latents (fewer lines, same cell logic)
    h = Hierarchy(K, parent, child, 0.3, W_r=np.linalg.qr(rng.normal(size=(1 + K, 1 + K)))[0])
    W_E, W_D, b = rng.normal(size=(1 + K, 1 + K)), rng.normal(size=(1 + K, 1 + K)), rng.normal(size=1 + K)
    assert exact_objective_bias(h, W_E, np.zeros(1 + K), W_D, 0.7, gradient=False)[0] == pytest.approx(
        exact_objective(h, W_E, W_D, 0.7, gradient=False)[0], rel=1e-12, abs=1e-12)
    loss, gE, gb, gD = exact_objective_bias(h, W_E, b, W_D, 0.7)
    mc, se = _mc(h, W_E, b, W_D, 0.7)
    assert loss == pytest.approx(mc, abs=5 * se + 1e-12)
    theta = np.concatenate([W_E.ravel(), b, W_D.ravel()])
    g = np.concatenate([gE.ravel(), gb, gD.ravel()])
    f = lambda t: exact_objective_bias(h, *_unpack3(t, 1 + K, h), 0.7, gradient=False)[0]  # noqa: E731
    fd = central_gradient(f, theta)
    assert np.abs(fd - g).max() < 1e-6 * max(1.0, np.abs(g).max())


def test_bias_bad_input():
    from theory.errors import SDLInputError

    h = Hierarchy(1)
    with pytest.raises(SDLInputError, match="b_E must have one entry per latent"):
        exact_objective_bias(h, np.eye(2), np.zeros(3), np.eye(2), 1.0)


@pytest.mark.parametrize("parent,child,vertical", [(SE, SE, False), (SE, SE, True), (Constant(1.0), SE, False),
                                                   (SE, Constant(2.0), False)])
def test_jumprelu_objective_and_gradient_are_exact(parent, child, vertical, monkeypatch, central_gradient):
    """JumpReLU thresholds θ: the objective matches Monte Carlo; the gradient (cells + the edge terms of the lines
    z_i = θ_i, where a_i jumps by θ_i) matches central differences, including a vertical line (a latent that reads
    child 1 as exactly 0); without the edge terms it does not."""
    import theory.absorption_bias as ab

    rng = np.random.default_rng(0)
    h = Hierarchy(2, parent, child, 0.3)
    W_E, W_D = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    b, th = 0.5 * rng.normal(size=3), np.abs(rng.normal(size=3))
    if vertical:
        W_E[2, 1] = 0.0
    loss, gE, gb, gD = exact_objective_bias(h, W_E, b, W_D, 0.7, theta=th)
    mc, se = _mc(h, W_E, b, W_D, 0.7, th)
    assert loss == pytest.approx(mc, abs=5 * se)
    theta = np.concatenate([W_E.ravel(), b, W_D.ravel()])
    f = lambda t: exact_objective_bias(h, *_unpack3(t, 3, h), 0.7, theta=th, gradient=False)[0]  # noqa: E731
    fd = central_gradient(f, theta)
    g = np.concatenate([gE.ravel(), gb, gD.ravel()])
    assert np.abs(fd - g).max() < 1e-6 * max(1.0, np.abs(g).max())
    monkeypatch.setattr(ab, "_line_moments", lambda *a: [])
    monkeypatch.setattr(ab, "_parent_point", lambda *a: [])
    _, gE0, gb0, _ = exact_objective_bias(h, W_E, b, W_D, 0.7, theta=th)
    assert np.abs(np.concatenate([gE0.ravel(), gb0]) - fd[:12]).max() > 1e-2


def test_jumprelu_threshold_is_a_reparametrisation(central_gradient):
    """With the L1 term on a_i ||d_i||, (θ, W_E, b, W_D) and (cθ, c W_E, c b, W_D / c) are the same model, so the
    stationary points for every θ > 0 are one set up to that scaling (the curve in θ is flat). Checked on the exact
    objective at random parameters, and at a stationary point for θ = 0.5 (stationary by central differences,
    partially absorbed) that the scaling carries to θ = 1 with the same loss and a vanishing gradient there."""
    from theory.absorption_bias import _pack3, observables_bias, stationary_points_bias

    rng = np.random.default_rng(1)
    h = Hierarchy(2, SE, SE, 0.2)
    W_E, W_D, b, th = rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=3), np.abs(rng.normal(size=3))
    c = 1.7
    assert exact_objective_bias(h, c * W_E, c * b, W_D / c, 0.9, theta=c * th, gradient=False)[0] == pytest.approx(
        exact_objective_bias(h, W_E, b, W_D, 0.9, theta=th, gradient=False)[0], rel=1e-12)
    h1 = Hierarchy(1, SE, SE, 0.2)
    pts = stationary_points_bias(h1, 1.0, thresholds=0.5, gammas=(0.0,), parent_biases=(0.0,), absorbed=False)
    assert pts and pts[0]["grad_norm"] < 1e-6 and 0 < pts[0]["absorption_rate"] < 1
    W_E, b, W_D = (np.asarray(pts[0][k]) for k in ("W_E", "b_E", "W_D"))
    theta = _pack3(W_E, b, W_D)
    f = lambda t, th: exact_objective_bias(h1, *_unpack3(t, 2, h1), 1.0, theta=th, gradient=False)[0]  # noqa: E731
    fd = central_gradient(lambda t: f(t, 0.5), theta)
    assert np.linalg.norm(fd) < 1e-5
    loss2, *g2 = exact_objective_bias(h1, 2 * W_E, 2 * b, W_D / 2, 1.0, theta=1.0)
    assert loss2 == pytest.approx(pts[0]["loss"], rel=1e-12)
    assert np.sqrt(sum((x**2).sum() for x in g2)) < 1e-6
    assert observables_bias(h1, 2 * W_E, 2 * b, W_D / 2, thresholds=1.0)["per_child_rate"] == pytest.approx(
        pts[0]["per_child_rate"], abs=1e-12)


def test_bias_family_system_is_the_exact_objective_on_the_family(family_gradients_match):
    """derive --absorption K --bias: the symbolic loss equals exact_objective_bias at a family point (the region
    moments J, Q, T, F evaluated from the polygon cells), and each ∂L/∂θ (the moments' own derivatives dropped, as
    the docstring argues) equals a central difference of the exact loss."""
    import sympy as sp

    from theory.absorption_bias import child_cells, family_system_bias
    from theory.absorption_curve import _AB, _law, _upper

    K = 1  # K = 2 (the cross-child terms w_k) passes too, in 18 s: kept out of CI
    loss, grads, s = family_system_bias(K)
    h = Hierarchy(K, SE, ShiftedExponential(0.5, 1.5), 0.25)
    one = Hierarchy(1, h.parent_law, h.child_law, 0.0)
    (cP, bP), (cC, bC) = _law(h.parent_law), _law(h.child_law)

    def region(gam, t0, tj, need):
        out = np.zeros(6)
        for P, mu, M, S in child_cells(one, np.array([[1.0, -float(gam)], [0.0, 1.0]]), np.array([-float(t0), -float(tj)])):
            if all(S[i] for i in need):
                out += [P, mu[0], mu[1], M[0, 0], M[0, 1], M[1, 1]]
        return out

    fns = {}
    for n, ab in enumerate(_AB):
        fns[f"J_{ab[0]}{ab[1]}"] = lambda gam, t0, tj, n=n: region(gam, t0, tj, (0, 1))[n]
        fns[f"Q_{ab[0]}{ab[1]}"] = lambda gam, t0, n=n: region(gam, t0, -1e300, (0,))[n]
    for n in range(3):
        fns[f"T_{n}"] = lambda t, n=n: _upper(cC, bC, n, float(t))
        fns[f"F_{n}"] = lambda t, n=n: _upper(cP, bP, n, float(t))
    vals = dict(a=1.1, u=0.9, beta_0=-0.4, gamma=(0.8, 1.7)[:K], w=(0.1, -0.05)[:K], b=(0.95, 1.2)[:K],
                beta=(-0.3, -0.1)[:K], s=(0.3, 0.2)[:K], v=(0.9, 0.8)[:K])
    lam = 0.7
    mu = s["mu"]
    sub = {s["lam"]: lam, s["p_alone"]: h.p_alone, mu[1, 0]: cP + bP, mu[2, 0]: _upper(cP, bP, 2, -1.0),
           mu[0, 1]: cC + bC, mu[0, 2]: _upper(cC, bC, 2, -1.0)}
    for name in ("a", "u", "beta_0"):
        sub[s[name]] = vals[name]
    for name in ("gamma", "w", "b", "beta", "s", "v"):
        sub.update(dict(zip(s[name], vals[name])))

    def to_weights(v):
        W_E, W_D, bias = np.zeros((1 + K, 1 + K)), np.zeros((1 + K, 1 + K)), np.zeros(1 + K)
        W_E[0, 0], W_E[0, 1:], bias[0] = v["a"], [-v["a"] * g for g in v["gamma"]], v["beta_0"]
        W_D[0, 0], W_D[1:, 0] = v["u"], v["w"]
        for j in range(K):
            W_E[1 + j, 1 + j], bias[1 + j] = v["b"][j], v["beta"][j]
            W_D[0, 1 + j], W_D[1 + j, 1 + j] = v["s"][j], v["v"][j]
        return W_E, bias, W_D

    num = lambda e: float(sp.lambdify(list(sub), e, modules=[fns, "numpy"])(*sub.values()))  # noqa: E731
    f = lambda v: exact_objective_bias(h, *to_weights(v), lam, gradient=False)[0]  # noqa: E731
    assert num(loss) == pytest.approx(f(vals), rel=1e-10)
    family_gradients_match(grads, s, vals, num, f)
    # a parent threshold t_0 = −β_0/a = 1.45 above c_P = 1: the parent alone is off below it (F_0 < 1)
    vals["beta_0"] = sub[s["beta_0"]] = -1.6
    assert num(loss) == pytest.approx(f(vals), rel=1e-10)
    family_gradients_match(grads, s, vals, num, f)
