"""theory.absorption_curve's public pieces against values computed another way (issue 12 part 5)."""
import numpy as np
import pytest

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


def test_topk_latents_that_swap_rank_without_changing_the_active_set_rescale_alone():
    """TopK∘ReLU with k = 2 and two latents: latent 0 reads the parent (z_0 = m_P), latent 1 reads (1/2, 1)
    (z_1 = m_P/2 + m_C), so they swap rank at m_C/m_P = 1/2, inside the support — but both are in the top 2 on either
    side, the active set does not change, and each latent's own rescaling (c e_i, d_i / c) leaves L unchanged (checked
    on the exact objective): two groups of one, not one group of two."""
    from theory.absorption_curve import rescaling_groups

    h = Hierarchy(1)
    W_E, W_D = np.array([[1.0, 0.0], [0.5, 1.0]]), np.array([[0.9, 0.3], [0.1, 0.8]])
    assert rescaling_groups(h, W_E, W_D, "topk_relu", 2) == [[0], [1]]
    base = exact_objective(h, W_E, W_D, 0.3, activation="topk_relu", k=2, gradient=False)[0]
    for i in (0, 1):
        c = np.ones(2)
        c[i] = 1.7
        moved = exact_objective(h, c[:, None] * W_E, W_D / c[None, :], 0.3, activation="topk_relu", k=2, gradient=False)[0]
        assert moved == pytest.approx(base, rel=1e-12)


def test_family_start_by_hand():
    """K = 2 orthonormal children, γ = (0.3, 0.5), tilt 0.2: parent row p − 0.3 c_1 − 0.5 c_2, child rows c_j;
    decoders p and c_j + 0.2 p (the identity basis: rows and columns written out)."""
    from theory.absorption_curve import family_start

    W_E, W_D = family_start(Hierarchy(2), (0.3, 0.5), tilt=0.2)
    np.testing.assert_allclose(W_E, [[1.0, -0.3, -0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], atol=1e-12)
    np.testing.assert_allclose(W_D, [[1.0, 0.2, 0.2], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], atol=1e-12)


def test_polish_passes_only_options_its_optimizer_knows():
    import warnings

    from scipy.optimize import OptimizeWarning

    from theory.absorption_curve import polish

    with warnings.catch_warnings():
        warnings.simplefilter("error", OptimizeWarning)   # an unknown L-BFGS option is warned about, not used
        out = polish(Hierarchy(1), np.eye(2), np.eye(2), 0.3, max_iter=50, newton=2)
    assert np.isfinite(out[2])
