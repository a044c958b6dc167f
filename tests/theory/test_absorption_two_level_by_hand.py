"""theory.absorption_two_level by hand and by scipy.integrate: the grandparent quadrature at scales β_G != 1 (where a
density written with β in place of 1/β would agree at β = 1 only), the deep event's cells' total probability and
first moments, and the starts' matrices and labels."""
import numpy as np
import pytest
from scipy.integrate import quad

import theory.absorption_two_level as tl
from theory.distribution import ShiftedExponential


@pytest.mark.parametrize("cG, bG", [(1.0, 2.5), (0.5, 0.4)])
def test_grandparent_nodes_integrate_against_scipy_quad(cG, bG):
    """Σ w f(m_G) over _g_nodes is E f(m_G) for m_G = c_G + Exp(β_G): the weights sum to 1, the first two moments are
    c + β and c² + 2cβ + 2β² (by hand), and a smooth f's expectation is scipy.integrate.quad's of f times the density
    e^{−(g − c)/β}/β; with breakpoints inside (a Z whose lines cross the support's edges)."""
    laws = (ShiftedExponential(cG, bG), ShiftedExponential(1.0, 1.0), ShiftedExponential(1.0, 1.0))
    Z = np.array([[1.0, -0.7, 0.2], [-0.5, 1.0, -0.3], [0.3, 0.4, -1.0]])
    nodes = tl._g_nodes(Z, laws)
    g, w = np.array(nodes).T
    assert w.sum() == pytest.approx(1.0, abs=1e-11)
    assert w @ g == pytest.approx(cG + bG, rel=1e-11)
    assert w @ g**2 == pytest.approx(cG**2 + 2 * cG * bG + 2 * bG**2, rel=1e-11)
    f = lambda x: np.sin(x) * np.exp(-0.3 * x)  # noqa: E731
    ref = quad(lambda x: f(x) * np.exp(-(x - cG) / bG) / bG, cG, np.inf, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
    assert w @ f(g) == pytest.approx(ref, abs=1e-10)
    assert tl._g_nodes(Z, (ShiftedExponential(cG, bG), *laws[1:]), n_nodes=5)[0][0] > cG


def test_deep_cells_carry_the_whole_law_at_a_grandparent_scale_not_one():
    """The cells of the three-magnitude event partition the support: their probabilities sum to 1 and their E[m 1]
    to the means (c_G + β_G, c_P + β_P, c_C + β_C) = (1.3, 2.5, 1.2) and E[m_G²] to 1.69 + 0.18 = 1.87 (β_G = 0.3,
    β_P = 0.5, β_C = 0.7)."""
    h = tl.TwoLevel(1, 1, ShiftedExponential(1.0, 0.3), ShiftedExponential(2.0, 0.5), ShiftedExponential(0.5, 0.7))
    Z = np.array([[1.0, -0.7, 0.2], [-0.5, 1.0, -0.3], [0.3, 0.4, -1.0]])
    cells = list(tl._deep_cells(h, Z).values())
    assert sum(c[0] for c in cells) == pytest.approx(1.0, abs=1e-10)
    assert sum(c[1] for c in cells) == pytest.approx([1.3, 2.5, 1.2], abs=1e-10)
    assert sum(c[2][0, 0] for c in cells) == pytest.approx(1.0 + 0.6 + 2 * 0.09, abs=1e-10)


def test_two_level_start_matrices_by_hand():
    """One parent, one child (features g, p, c): parent state partial (γ = 2, decoder tilt 0.3 towards g), child
    absorbed (γ = 5, decoder κ p + c with κ = μ1_P μ1_C / μ2_C = 2 · 2 / 5 = 0.8 for magnitudes 1 + Exp(1))."""
    h = tl.TwoLevel(1, 1)
    W_E, W_D = tl.two_level_start(h, "partial", "absorbed")
    assert W_E.tolist() == [[1.0, -2.0, 0.0], [0.0, 1.0, -5.0], [0.0, 0.0, 1.0]]
    assert W_D == pytest.approx(np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.8], [0.0, 0.0, 1.0]]), abs=1e-12)
    W_E, W_D = tl.two_level_start(h, "absorbed", "clean", tilt=0.1)
    assert W_E.tolist() == [[1.0, -5.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert W_D == pytest.approx(np.array([[1.0, 0.8, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), abs=1e-12)


def test_two_level_starts_labels_and_random_starts():
    """Nine labelled pairs of states, parent level outer, in the order clean, partial, absorbed, each the matrices of
    two_level_start; then the seeded random starts labelled by index and seed."""
    from theory.absorption_curve import random_start

    h = tl.TwoLevel(1, 1)
    starts = tl.two_level_starts(h, n_random=2, seed=5)
    states = ["clean", "partial", "absorbed"]
    assert [s[1] for s in starts[:9]] == [{"parent_state": p, "child_state": c} for p in states for c in states]
    for (W, lab) in starts[:9]:
        ref = tl.two_level_start(h, lab["parent_state"], lab["child_state"])
        assert np.array_equal(W[0], ref[0]) and np.array_equal(W[1], ref[1])
    assert [s[1] for s in starts[9:]] == [{"random_start": 0, "seed": 5}, {"random_start": 1, "seed": 5}]
    rng = np.random.default_rng(5)
    for (W, _), ref in zip(starts[9:], [random_start(h, rng, 3) for _ in range(2)]):
        assert np.array_equal(W[0], ref[0]) and np.array_equal(W[1], ref[1])
    assert len(tl.two_level_starts(h)) == 9


def test_observables_every_field_by_hand():
    """One parent, one child, W_E = I (each latent reads its own feature, so it fires exactly when its feature is on,
    a_k = m_k), decoders d_0 = 0.6 g + 0.8 p, d_1 = 0.6 p + 0.8 c, d_2 = c (unit norms). On grandparent + parent
    events the latents on are 0 and 1; the best p match is d_0 (0.8 > 0.6), so the parent's tilt is d_0's g cosine
    0.6; d_0 contributes (a_0 = m_G > 0.1 m_G), mixes g and p (both > 0.3) and no latent is a pure g (> 0.9): the
    parent is absorbed on every event (rate 1). On child events the best c match is d_2 (p cosine 0: tilt 0); d_1
    contributes and mixes p and c, no latent is a pure p: rate 1. Parent gain: z_G = (1, 0, 0), latent 0, 1 · 0.6."""
    h = tl.TwoLevel(1, 1)
    W_D = np.array([[0.6, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, 0.8, 1.0]])
    obs = tl.observables_two_level(h, np.eye(3), W_D, 0.1)
    assert set(obs) == {"absorption_rate", "per_child_rate", "tilt", "per_child_tilt", "per_parent_rate",
                        "per_parent_tilt", "parent_gain", "loss"}
    assert obs["absorption_rate"] == pytest.approx(1.0, abs=1e-12) and obs["per_child_rate"] == pytest.approx([1.0])
    assert obs["per_parent_rate"] == pytest.approx([1.0], abs=1e-12)
    assert obs["per_parent_tilt"] == pytest.approx([0.6], abs=1e-12)
    assert obs["tilt"] == pytest.approx(0.0, abs=1e-12) and obs["per_child_tilt"] == pytest.approx([0.0], abs=1e-12)
    assert obs["parent_gain"] == pytest.approx(0.6, abs=1e-12)
    clean = tl.observables_two_level(h, np.eye(3), np.eye(3), 0.1)
    # the identity: nothing absorbed, no tilt, gain 1, loss λ E Σ a_k = 0.1 (E m_G + 0.8 E m_P + 0.6 E m_C) = 0.48
    assert clean["absorption_rate"] == 0.0 and clean["per_parent_rate"] == [0.0] and clean["per_parent_tilt"] == [0.0]
    assert clean["parent_gain"] == pytest.approx(1.0) and clean["loss"] == pytest.approx(0.48, abs=1e-10)
