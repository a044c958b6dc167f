"""theory.absorption_curve: the search's start records by hand, and polish's kink branch (issue 12, part 5: the
fourth session's seed-41 sample left ``_starts 25`` (a start record's key) and ``polish 184`` (an L-BFGS option
misspelt in the kink branch's call) open)."""
import warnings

import numpy as np
import pytest

import theory.absorption_curve as ac
from theory.absorption_curve import Hierarchy, exact_objective


def test_start_records_by_hand():
    """Two exchangeable children (orthonormal SAE, one law), γ grid (0, 0.5), tilt 0, absorbed reading 0.5, merged and
    mixed starts, two random starts at seed 7. Up to permuting children: γ patterns (0,0), (0,0.5), (0.5,0.5); one
    absorbed end (0.5, 0.5); one merged child (child 1 stands for both); the 6 unordered pairs of the three child
    states; two random starts drawn in turn from one generator seeded 7."""
    h = Hierarchy(2)
    got = ac._starts(h, (0.0, 0.5), (0.0,), (0.5,), merged=True, mixed=True, n_random=2, seed=7)
    states = [["clean", "clean"], ["clean", "partial"], ["clean", "absorbed"], ["partial", "partial"],
              ["partial", "absorbed"], ["absorbed", "absorbed"]]
    assert [d for _, d in got] == (
        [{"gammas": g, "tilt": 0.0} for g in ([0.0, 0.0], [0.0, 0.5], [0.5, 0.5])]
        + [{"absorbed_end": True, "child_readings_of_p": [0.5, 0.5]}, {"merged_child": 1}]
        + [{"child_states": s} for s in states]
        + [{"random_start": 0, "seed": 7}, {"random_start": 1, "seed": 7}])
    # the family member γ = (0, 0.5), tilt 0, in the identity basis: parent row p − 0.5 c_2, child rows c_j, decoders
    # the features themselves
    (W_E, W_D), _ = got[1]
    np.testing.assert_allclose(W_E, [[1.0, 0.0, -0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], atol=1e-12)
    np.testing.assert_allclose(W_D, np.eye(3), atol=1e-12)
    rng = np.random.default_rng(7)
    for (start, _), want in zip(got[-2:], (ac.random_start(h, rng), ac.random_start(h, rng))):
        np.testing.assert_array_equal(start[0], want[0])
        np.testing.assert_array_equal(start[1], want[1])


def test_polish_on_a_kink_keeps_the_kink_and_passes_only_options_lbfgs_knows(monkeypatch):
    """polish's kink branch, reached by pinning latent 1's reading of the parent (``_kinks`` stubbed) and giving
    Newton no steps: both L-BFGS calls must pass options L-BFGS-B knows (scipy warns about an unknown one, made an
    error here), the returned point keeps the pinned reading at exactly 0, and its loss is stationary along the kink:
    central differences of the exact loss along every direction that keeps the reading 0 vanish."""
    from scipy.optimize import OptimizeWarning

    monkeypatch.setattr(ac, "_kinks", lambda h, W_E, rel=3e-3: [(1, 0)])
    h = Hierarchy(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", OptimizeWarning)
        W_E, W_D, loss, g, kinks = ac.polish(h, np.array([[1.0, -0.2], [0.3, 1.0]]), np.eye(2), 0.3, max_iter=50, newton=0)
    assert kinks == [(1, 0)] and (W_E @ h.W_p)[1, 0] == 0.0
    assert loss == pytest.approx(exact_objective(h, W_E, W_D, 0.3, gradient=False)[0], rel=1e-12)
    theta = np.concatenate([W_E.ravel(), W_D.ravel()])
    f = lambda t: exact_objective(h, t[:4].reshape(2, 2), t[4:].reshape(2, 2), 0.3, gradient=False)[0]  # noqa: E731
    step = 1e-5
    for j in (0, 1, 3, 4, 5, 6, 7):   # every coordinate but W_E[1, 0] (latent 1's reading of p = e_0)
        e = np.zeros(8)
        e[j] = step
        assert abs(f(theta + e) - f(theta - e)) / (2 * step) < 1e-6
