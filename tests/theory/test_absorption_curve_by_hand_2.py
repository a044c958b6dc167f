"""theory.absorption_curve's classification records against values computed another way (issue 12, part 5: the
seed-89 sample of the sixth session, results/mutation/m6h_hcurve/). Points built by hand; no search."""
import numpy as np
import pytest

import theory.absorption_curve as ac
from theory.absorption_curve import Hierarchy, exact_objective
from theory.distribution import ShiftedExponential as SE


def _loss(h, theta, n_q, lam, **kw):
    return exact_objective(h, *ac._unpack(theta, n_q, h), lam, gradient=False, **kw)[0]


def _dead_latent_point():
    """W_p = I (parent e0, child e1); latent 0 reads p, latent 1 reads c, latent 2 reads −p − c (off on every event:
    m_P, m_C >= 1)."""
    h = Hierarchy(1, SE(1.0, 1.0), SE(1.0, 1.0), 0.2)
    W_E = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    W_D = np.array([[0.9, 0.1, 0.3], [0.2, 0.8, -0.4]])
    return h, W_E, W_D


def _unit(n_q, h, part, idx):
    dE, dD = np.zeros((n_q, h.n_p)), np.zeros((h.n_r, n_q))
    (dE if part == "E" else dD)[idx] = 1.0
    return ac._pack(dE, dD)


def test_a_dead_latents_parameters_are_flat_and_topk_moves_its_encoder_to_the_one_sided_list():
    """ReLU: the two live latents rescale alone ((e_i, −d_i) each), and each of the dead latent's 2 encoder and 2
    decoder entries is an exact flat direction (6 exact, none one-sided: each live latent fires on the child's events).
    TopK k = 1: latents 0 and 1 swap the single slot at m_C = m_P (inside the support) with different active sets, so
    they rescale together (one group); the dead latent's decoder entries stay exact, its encoder entries become
    one-sided (a latent that loses the ranking everywhere may win somewhere once moved). Vectors written out."""
    h, W_E, W_D = _dead_latent_point()
    resc = [ac._pack(np.where(np.arange(3)[:, None] == i, W_E, 0.0), np.where(np.arange(3)[None, :] == i, -W_D, 0.0))
            for i in (0, 1)]
    enc = [_unit(3, h, "E", (2, r)) for r in (0, 1)]
    dec = [_unit(3, h, "D", (r, 2)) for r in (0, 1)]

    exact, one_sided = ac.flat_directions(h, W_E, W_D)
    assert one_sided == []
    np.testing.assert_array_equal(np.array(exact), np.array(resc + enc + dec))

    exact, one_sided = ac.flat_directions(h, W_E, W_D, "topk_relu", 1)
    np.testing.assert_array_equal(np.array(exact), np.array([resc[0] + resc[1]] + dec))
    np.testing.assert_array_equal(np.array(one_sided), np.array(enc))
    # they are flat (evaluated directly, TopK k = 1, λ = 0.3): the group's common rescaling by c = 1.3, and moves
    # of the dead latent's decoder; latent 0's rescaling alone is not (the ranking at m_C = m_P moves)
    kw = dict(activation="topk_relu", k=1)
    theta = ac._pack(W_E, W_D)
    base = _loss(h, theta, 3, 0.3, **kw)
    c = np.array([1.3, 1.3, 1.0])
    assert exact_objective(h, c[:, None] * W_E, W_D / c, 0.3, gradient=False, **kw)[0] == pytest.approx(base, rel=1e-12)
    c[1] = 1.0
    assert exact_objective(h, c[:, None] * W_E, W_D / c, 0.3, gradient=False, **kw)[0] != pytest.approx(base, rel=1e-6)
    for v in dec:
        assert _loss(h, theta + 0.5 * v, 3, 0.3, **kw) == pytest.approx(base, rel=1e-12)


def test_check_type_saddle_record_is_its_descent_evaluated_directly():
    """A classified saddle's record: the smallest change of L along its descent vectors, both signs (evaluated here
    on the exact loss), the largest descent vector's length, and ``confirmed`` exactly when that change is below
    −1e-12 max(1, L). A saddle decided without a descent vector (a one-sided derivative) is left unconfirmed (None)."""
    h, W_E, W_D = _dead_latent_point()
    theta, lam = ac._pack(W_E, W_D), 0.3
    v = np.zeros(theta.size)
    v[6] = 1.0                         # W_D[0, 0]: the parent's decoder entry, away from its optimum
    d = {"kind": "saddle", "descent": [1e-3 * v, 0.2 * v]}
    got = ac.check_type(h, W_E, W_D, lam, classified=d, seed=3)
    base = _loss(h, theta, 3, lam)
    want = min(_loss(h, theta + s * t * v, 3, lam) - base for t in (1e-3, 0.2) for s in (1, -1))
    assert set(got) == {"kind", "seed", "descent_change", "descent_step", "confirmed"}
    assert got["kind"] == "saddle" and got["seed"] == 3
    assert got["descent_change"] == pytest.approx(want, rel=1e-12) and want < 0
    assert got["descent_step"] == pytest.approx(0.2, rel=1e-15) and got["confirmed"] is True
    # along a dead latent's decoder entry L does not change at all: not confirmed
    flat = np.zeros(theta.size)
    flat[8] = 1.0                      # W_D[0, 2]
    got = ac.check_type(h, W_E, W_D, lam, classified={"kind": "saddle", "descent": [0.5 * flat]})
    assert got["descent_change"] == pytest.approx(0.0, abs=1e-12) and got["descent_step"] == 0.5
    assert got["confirmed"] is False
    assert ac.check_type(h, W_E, W_D, lam, classified={"kind": "saddle", "descent": None}) == {
        "kind": "saddle", "seed": 0, "descent_change": None, "confirmed": None}


def test_check_type_minimum_record_at_a_zero_loss_point():
    """λ = 0, W_E = W_D = I: every event is reconstructed exactly (z = (m_P, m_C) >= 0), L = 0, so no perturbation
    decreases it: largest decrease exactly 0, 24 random directions plus the given undecided ones, radii as given,
    ``confirmed`` only for a minimum (None for a degenerate point, whose ``no_descent_found`` still holds). At a
    non-stationary point (λ = 0.3) some direction decreases L, by no more than first order allows."""
    h = Hierarchy(1, SE(1.0, 1.0), SE(1.0, 1.0), 0.2)
    I = np.eye(2)
    assert exact_objective(h, I, I, 0.0, gradient=False)[0] == 0.0
    got = ac.check_type(h, I, I, 0.0, classified={"kind": "minimum", "undecided": []}, n_random=5, radii=(1e-3,))
    assert got == {"kind": "minimum", "seed": 0, "largest_decrease": 0.0, "n_directions": 5, "radii": [1e-3],
                   "confirmed": True, "no_descent_found": True}
    u = [np.ones(8)]
    got = ac.check_type(h, I, I, 0.0, classified={"kind": "degenerate", "undecided": u}, n_random=4)
    assert got["n_directions"] == 5 and got["radii"] == [1e-4, 1e-3]
    assert got["confirmed"] is None and got["no_descent_found"] is True and got["largest_decrease"] == 0.0
    # λ = 0.3 at the same point: not stationary (the L1 term pulls every weight down), so some direction descends
    got = ac.check_type(h, I, I, 0.3, classified={"kind": "minimum", "undecided": []}, radii=(1e-3,))
    g = np.linalg.norm(ac._pack(*exact_objective(h, I, I, 0.3)[1:]))
    r0 = max(1.0, np.linalg.norm(ac._pack(I, I)))
    assert got["confirmed"] is False and got["no_descent_found"] is False
    assert -1.01 * 1e-3 * r0 * g < got["largest_decrease"] < 0


def test_classify_a_saddle_by_the_hessian_written_out():
    """λ = 0, W_E = [[1, 0], [0.5, 1]], W_D = 0: both latents fire on every event (a = W_E x > 0, no kink), nothing
    is reconstructed. The Hessian there is written out: L = E||x||² − 2 E[xᵀ W_D a] + E||W_D a||², so the W_E block
    is 0, the W_D block is 2 (W_E M W_Eᵀ) ⊗ I (M = E[x xᵀ]), and ∂²L/∂W_D[r,i]∂W_E[i,s] = −2 M[r,s]. Laws 1 + Exp(1)
    (μ1 = 2, μ2 = 5), p_alone 0.2: M = [[5, 3.2], [3.2, 4]]. Off the two rescaling directions (e_i, −d_i) = (row i of
    W_E, 0) the smallest eigenvalue is negative: a saddle, whose descent vectors are that eigenvector at steps 1e-3,
    1e-2."""
    h = Hierarchy(1, SE(1.0, 1.0), SE(1.0, 1.0), 0.2)
    W_E, W_D = np.array([[1.0, 0.0], [0.5, 1.0]]), np.zeros((2, 2))
    M = np.array([[5.0, 0.8 * 2 * 2], [0.8 * 2 * 2, 0.8 * 5]])
    A = W_E @ M @ W_E.T
    H = np.zeros((8, 8))          # θ = (W_E row-major: index 2i + s, W_D row-major: 4 + 2r + i)
    for r in range(2):
        for i in range(2):
            for i2 in range(2):
                H[4 + 2 * r + i, 4 + 2 * r + i2] = 2 * A[i, i2]
            for s in range(2):
                H[4 + 2 * r + i, 2 * i + s] = H[2 * i + s, 4 + 2 * r + i] = -2 * M[r, s]
    F = np.zeros((8, 2))
    F[0:2, 0], F[2:4, 1] = W_E[0], W_E[1]   # the rescalings (W_D = 0)
    comp = np.linalg.svd(F, full_matrices=True)[0][:, 2:]
    want = np.linalg.eigvalsh(comp.T @ H @ comp).min()
    d = ac._classify(h, W_E, W_D, 0.0)
    assert want < -1.0
    assert d["kind"] == "saddle" and d["n_flat"] == 2 and d["zero_loss"] is False
    assert d["min_eigenvalue"] == pytest.approx(want, rel=1e-5)
    assert [float(np.linalg.norm(v)) for v in d["descent"]] == pytest.approx([1e-3, 1e-2], rel=1e-9)
    theta, t = ac._pack(W_E, W_D), 1e-2
    v = d["descent"][1] / t
    curv = (_loss(h, theta + t * v, 2, 0.0) + _loss(h, theta - t * v, 2, 0.0) - 2 * _loss(h, theta, 2, 0.0)) / t**2
    assert curv == pytest.approx(want, rel=1e-3)
    assert ac.classify(h, W_E, W_D, 0.0) == (d["kind"], d["min_eigenvalue"], d["n_flat"])


def test_newton_returns_its_point_when_the_hessian_is_not_finite():
    """A NaN decoder entry makes the loss, the gradient and the Hessian NaN: Newton takes no step and returns the
    point it was given, with a NaN loss and gradient norm (polish's callers then drop the point)."""
    h = Hierarchy(1)
    theta = ac._pack(np.eye(2), np.array([[np.nan, 0.0], [0.0, 1.0]]))
    out = ac._newton(h, theta, np.eye(8), 2, 0.3, "relu", None, 5, 1e-10)
    assert isinstance(out, tuple) and len(out) == 3
    np.testing.assert_array_equal(out[0], theta)
    assert np.isnan(out[1]) and np.isnan(out[2])


def test_swap_breaks_by_hand():
    """Pre-activations z_i = A_i + ρ B_i with A = (1, 0, 0, 2), B = (0, 1, 3, −1): latents 0 and 1 tie at ρ = 1,
    0 and 2 at 1/3, 1 and 2 only at ρ = 0 (not a break), 2 and 3 at 1/2; latent 3 meets 0 and 1 at ρ = 1 too, where
    the first pair found (0, 1) is kept; 0 and 3 never tie on ρ > 0 except there (parallel B would give none)."""
    got = ac._swap_breaks(np.array([1.0, 0.0, 0.0, 2.0]), np.array([0.0, 1.0, 3.0, -1.0]))
    assert list(got.items()) == [(1.0, (0, 1)), (1.0 / 3.0, (0, 2)), (0.5, (2, 3))]
    assert ac._swap_breaks(np.array([1.0, 2.0]), np.array([1.0, 1.0])) == {}   # equal B: never tie


def test_sample_events_by_hand():
    """Constant magnitudes 2 (parent) and 3 (children), two children, p_alone 1/4: every row has the parent at 2 and at
    most one child, at 3; the parent appears alone in about a quarter of the rows (5 standard errors) and the two
    children share the rest evenly."""
    from theory.distribution import Constant

    n = 4000
    x = Hierarchy(2, Constant(2.0), Constant(3.0), 0.25).sample(n, np.random.default_rng(5))
    assert x.shape == (n, 3) and np.all(x[:, 0] == 2.0)
    kids = x[:, 1:]
    assert np.all((kids == 0.0) | (kids == 3.0)) and np.all((kids > 0).sum(axis=1) <= 1)
    alone = int((kids.sum(axis=1) == 0).sum())
    se = np.sqrt(n * 0.25 * 0.75)
    assert abs(alone - 0.25 * n) < 5 * se
    se2 = np.sqrt(n * 0.375 * 0.625)
    for j in (0, 1):
        assert abs(int((kids[:, j] > 0).sum()) - 0.375 * n) < 5 * se2


def test_observables_of_a_partially_absorbed_pair_by_hand():
    """Two children (W_p = I), laws 1 + Exp(1), p_alone 0.2. Parent latent reads p − 2 c_1 − 0.5 c_2 and decodes
    0.8 p (pure: cosine 1 with p); child latent j reads c_j and decodes c_j + t_j p, t = (1, 0.5) (parent cosines
    1/√2 and 1/√5, child cosines 1/√2 and 2/√5: both mixed). On a child-j event (ρ = m_C/m_P) the parent latent
    contributes (a ||d|| > 0.1 m_P) while 0.8 (1 − γ_j ρ) > 0.1, i.e. ρ < 0.875/γ_j, and child j's latent while
    ρ √(1 + t_j²) > 0.1 (always on the support): absorbed exactly when ρ >= 0.875/γ_j, so the rate is
    Pr(m_C >= (0.875/γ_j) m_P), integrated here by hand. The tilt is child j's latent's parent cosine (the
    latent that fires on child j with the most child-like decoder); the parent gain is 0.8 (the parent latent reads
    p at 1 and decodes 0.8 p)."""
    h = Hierarchy(2, SE(1.0, 1.0), SE(1.0, 1.0), 0.2)
    W_E = np.array([[1.0, -2.0, -0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    W_D = np.array([[0.8, 1.0, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

    def above(r):   # Pr(m_C > r m_P), m_P = 1 + X, m_C = 1 + Y: m_C > 1 >= r m_P while X <= x0 = 1/r − 1, then
        x0 = max(0.0, 1 / r - 1)   # ∫_{x0}^∞ e^{−x} e^{−(r(1+x) − 1)} dx = e^{1−r} e^{−(1+r) x0} / (1 + r)
        return 1 - np.exp(-x0) + np.exp(1 - r) * np.exp(-(1 + r) * x0) / (1 + r)

    rates = [above(0.875 / 2.0), above(0.875 / 0.5)]
    obs = ac.observables(h, W_E, W_D, 0.3)
    assert set(obs) == {"absorption_rate", "per_child_rate", "tilt", "per_child_tilt", "parent_gain", "loss"}
    assert obs["per_child_rate"] == pytest.approx(rates, rel=1e-9)
    assert obs["absorption_rate"] == pytest.approx(np.mean(rates), rel=1e-9)
    assert 0.5 < rates[0] < 0.99 and 0.01 < rates[1] < 0.5
    tilts = [1 / np.sqrt(2), 0.5 / np.sqrt(1.25)]
    assert obs["per_child_tilt"] == pytest.approx(tilts, rel=1e-12)
    assert obs["tilt"] == pytest.approx(np.mean(tilts), rel=1e-12)
    assert obs["parent_gain"] == pytest.approx(0.8, rel=1e-12)
    assert obs["loss"] == exact_objective(h, W_E, W_D, 0.3, gradient=False)[0]
    # a parent latent off on the parent alone (it reads −p): no latent fires there, gain 0
    W_E2 = W_E.copy()
    W_E2[0] = [-1.0, 0.0, 0.0]
    assert ac.observables(h, W_E2, W_D, 0.3)["parent_gain"] == 0.0


def test_hierarchy_refuses_direction_matrices_of_the_wrong_width_by_name(refuses):
    """W_p and W_r need 1 + n_children columns: each refusal names its matrix, the width wanted and the shape given."""
    refuses(lambda: Hierarchy(1, W_p=np.eye(3)), "W_p must have 1 + n_children = 2 columns, got shape (3, 3)")
    refuses(lambda: Hierarchy(2, W_r=np.ones((4, 2))), "W_r must have 1 + n_children = 3 columns, got shape (4, 2)")


def test_public_hessian_of_a_topk_loss_is_the_second_difference_of_that_loss(second_differences):
    """hessian() passes its k: TopK∘ReLU with k = 1 (latents 0 and 1 swap the single slot at m_C/m_P = 1/2, inside
    the support; the TopK gradient includes that edge's term and is continuous), against second central differences
    of the TopK loss value itself."""
    h = Hierarchy(1)
    W_E, W_D = np.array([[1.0, 0.0], [0.5, 1.0]]), np.array([[0.9, 0.3], [0.1, 0.8]])
    kw = dict(activation="topk_relu", k=1)
    H = ac.hessian(h, W_E, W_D, 0.3, **kw)
    theta = ac._pack(W_E, W_D)
    want = second_differences(lambda t: _loss(h, t, 2, 0.3, **kw), theta)
    np.testing.assert_allclose(H, want, atol=1e-5 * max(1.0, np.abs(want).max()))
    assert np.abs(H - ac.hessian(h, W_E, W_D, 0.3)).max() > 1e-3   # not the ReLU Hessian
