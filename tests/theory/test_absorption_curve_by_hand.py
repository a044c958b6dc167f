"""theory.absorption_curve's public pieces against values computed another way (issue 12 part 5)."""
import numpy as np

from theory.absorption_curve import Hierarchy, exact_objective, hessian


def test_public_hessian_is_the_second_difference_of_the_loss():
    """hessian() (central differences of the exact gradient) against second central differences of the loss value
    itself, over (vec W_E, vec W_D) row-major, at a point with every latent switching away from the step."""
    rng = np.random.default_rng(2)
    h = Hierarchy(1)
    W_E, W_D = rng.normal(size=(2, 2)) + 1.0, rng.normal(size=(2, 2))
    H = hessian(h, W_E, W_D, 0.4)
    theta = np.concatenate([W_E.ravel(), W_D.ravel()])
    f = lambda t: exact_objective(h, t[:4].reshape(2, 2), t[4:].reshape(2, 2), 0.4, gradient=False)[0]  # noqa: E731
    e, step = np.eye(8), 1e-4
    want = np.array([[(f(theta + step * (e[i] + e[j])) - f(theta + step * (e[i] - e[j])) - f(theta - step * (e[i] - e[j]))
                       + f(theta - step * (e[i] + e[j]))) / (4 * step**2) for j in range(8)] for i in range(8)])
    assert H.shape == (8, 8)
    np.testing.assert_allclose(H, want, atol=1e-5 * max(1.0, np.abs(want).max()))
