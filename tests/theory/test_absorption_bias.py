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


def _mc(h, W_E, b, W_D, lam, n=300_000, seed=1):
    rng = np.random.default_rng(seed)
    K = h.n_children
    alone = rng.random(n) < h.p_alone
    ch = rng.integers(1, K + 1, n)
    x = np.zeros((n, 1 + K))
    x[:, 0] = h.parent_law.sample(rng, n)
    x[np.arange(n), ch] = np.where(alone, 0.0, h.child_law.sample(rng, n))
    a = np.maximum((x @ h.W_p.T) @ W_E.T + b, 0)
    per = ((x @ h.W_r.T - a @ W_D.T) ** 2).sum(1) + lam * (a * np.linalg.norm(W_D, axis=0)).sum(1)
    return per.mean(), per.std() / np.sqrt(n)


@pytest.mark.parametrize("parent,child", LAWS)
def test_bias_objective_is_exact(parent, child):
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
    fd = np.array([(f(theta + e) - f(theta - e)) / 2e-6 for e in np.eye(theta.size) * 1e-6])
    assert np.abs(fd - g).max() < 1e-6 * max(1.0, np.abs(g).max())


def test_bias_bad_input():
    from theory.errors import SDLInputError

    h = Hierarchy(1)
    with pytest.raises(SDLInputError, match="b_E must have one entry per latent"):
        exact_objective_bias(h, np.eye(2), np.zeros(3), np.eye(2), 1.0)
