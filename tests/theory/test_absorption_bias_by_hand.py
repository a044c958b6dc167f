"""theory.absorption_bias's searches and records against hand-written expectations (issue 12 part 5: the survivors of
results/mutation/m6h_hbias). The searches' bookkeeping (which starts are polished and how, which points are dropped,
deduplicated, replaced, how they are recorded and sorted) is checked with polish_bias, observables_bias and
classify_bias replaced by scripted stubs, so every branch is reached by a constructed outcome in milliseconds."""
import numpy as np
import pytest

from theory import absorption_bias as ab
from theory.absorption_curve import Hierarchy
from theory.distribution import Constant, ShiftedExponential

SE = ShiftedExponential(1.0, 1.0)


def _point(tag: float, n_q: int, h: Hierarchy) -> np.ndarray:
    """A parameter vector whose first entry names the scripted outcome (W_E[0, 0] = tag)."""
    t = np.zeros(n_q * h.n_p + n_q + h.n_r * n_q)
    t[0] = tag
    t[n_q * h.n_p] = 0.25 * tag          # b_E[0]: a recognisable bias
    return t


def _obs(rate: float, tilt: float, gain: float = 0.5) -> dict:
    return {"absorption_rate": rate, "per_child_rate": [rate], "tilt": tilt, "per_child_tilt": [tilt],
            "parent_gain": gain, "reconstruction_loss": 0.0}


class _Script:
    """Scripted polish / observables / classify, keyed by the start (polish) and by W_E[0, 0] (the others)."""

    def __init__(self, h, polished, observed, kinds):
        self.h, self.polished, self.observed, self.kinds = h, list(polished), observed, kinds
        self.polish_calls, self.classify_calls = [], []

    def polish(self, h, W_E, b_E, W_D, lam, **kw):
        self.polish_calls.append((np.array(W_E), np.array(b_E), np.array(W_D), lam, kw))
        return self.polished.pop(0)

    def observables(self, h, W_E, b_E, W_D, **kw):
        return dict(self.observed[float(W_E[0, 0])])

    def classify(self, h, theta, n_q, lam, **kw):
        self.classify_calls.append((float(theta[0]), n_q, lam, kw))
        kinds = self.kinds[float(theta[0])]
        return dict(kinds.pop(0))

    def install(self, monkeypatch):
        monkeypatch.setattr(ab, "polish_bias", self.polish)
        monkeypatch.setattr(ab, "observables_bias", self.observables)
        monkeypatch.setattr(ab, "classify_bias", self.classify)


def test_jumprelu_search_drops_deduplicates_and_replaces_by_hand(monkeypatch):
    """Seven explicit starts of stationary_points_jumprelu (one child, θ = 0.7, λ = 0.4, L1 penalty):
    A (saddle), A again (a confirmed minimum: it replaces the saddle), A a third time (the kept copy is a minimum:
    only counted, not classified), one start not stationary (1e-3 > 1e-6) and one that ran off (NaN): dropped,
    B (degenerate), B again (a minimum its check did not confirm: counted, not a replacement). The result, sorted
    by loss, is written out by hand."""
    h = Hierarchy(1, SE, SE, 0.2)
    n_q = 2
    A, B = _point(1.0, n_q, h), _point(2.0, n_q, h)
    polished = [(A, 0.30, 1e-9), (A, 0.30, 2e-9), (A, 0.30, 3e-9), (A, 0.1, 1e-3), (A, 0.1, float("nan")),
                (B, 0.20, 4e-9), (B, 0.20, 5e-9)]
    observed = {1.0: _obs(0.25, 0.1), 2.0: _obs(0.75, 0.3)}
    saddle = {"kind": "saddle", "min_eigenvalue": -1.0, "n_flat": 2, "check": {"descent_change": -0.1, "confirmed": True}}
    minimum = {"kind": "minimum", "min_eigenvalue": 0.5, "n_flat": 2, "check": {"confirmed": True}}
    degenerate = {"kind": "degenerate", "min_eigenvalue": 0.0, "n_flat": 2, "check": {"confirmed": None}}
    unconfirmed = {"kind": "minimum", "min_eigenvalue": 0.5, "n_flat": 2, "check": {"confirmed": False}}
    s = _Script(h, polished, observed, {1.0: [saddle, minimum], 2.0: [degenerate, unconfirmed]})
    s.install(monkeypatch)
    starts = [((np.full((2, 2), float(i)), np.full((2, 2), -float(i))), {"start": i}) for i in range(7)]
    pts = ab.stationary_points_jumprelu(h, 0.4, 0.7, penalty="l1", starts=starts[:5], extra_starts=starts[5:])
    # every start polished, in order, with its own weights, a zero bias held fixed, θ and the penalty passed on
    assert len(s.polish_calls) == 7
    for i, (W_E, b_E, W_D, lam, kw) in enumerate(s.polish_calls):
        assert W_E.tolist() == [[float(i)] * 2] * 2 and W_D.tolist() == [[-float(i)] * 2] * 2
        assert b_E.tolist() == [0.0, 0.0] and lam == 0.4
        assert kw == {"thresholds": 0.7, "penalty": "l1", "bias": False}
    # classified: A's first two copies (the third meets a minimum), B's two; never the dropped ones
    assert [c[0] for c in s.classify_calls] == [1.0, 1.0, 2.0, 2.0]
    assert all(c[1:] == (2, 0.4, {"thresholds": 0.7, "penalty": "l1", "bias": False}) for c in s.classify_calls)
    assert [p["loss"] for p in pts] == [0.20, 0.30]
    b_rec, a_rec = pts
    assert a_rec["kind"] == "minimum" and a_rec["check"] == {"confirmed": True}
    assert a_rec["n_starts"] == 3 and a_rec["replaced"] == "saddle" and a_rec["start"] == {"start": 1}
    assert a_rec["grad_norm"] == 2e-9 and a_rec["theta"] == 0.7 and a_rec["per_child_rate"] == [0.25]
    assert a_rec["W_E"] == [[1.0, 0.0], [0.0, 0.0]] and a_rec["W_D"] == [[0.0, 0.0], [0.0, 0.0]]
    assert b_rec["kind"] == "degenerate" and b_rec["n_starts"] == 2 and "replaced" not in b_rec
    assert b_rec["start"] == {"start": 5} and b_rec["grad_norm"] == 4e-9 and b_rec["tilt"] == 0.3
    assert b_rec["min_eigenvalue"] == 0.0 and b_rec["n_flat"] == 2


def test_jumprelu_search_default_starts_by_hand(monkeypatch):
    """Without explicit starts: the family / absorbed / merged starts of absorption_curve._starts (γ ∈ {0, 2},
    tilt 0, readings {0, 0.6}, no mixed states for mixed=False) and then n_random seeded random starts per scale,
    the encoder times c and the decoder over c, each described by its index, seed and scale."""
    from theory.absorption_curve import _starts, random_start

    h = Hierarchy(1, SE, SE, 0.2)
    n_q = 2
    fail = (_point(1.0, n_q, h), 0.0, 1.0)        # never stationary: only the polish calls are looked at
    s = _Script(h, [fail] * 100, {}, {})
    s.install(monkeypatch)
    assert ab.stationary_points_jumprelu(h, 0.4, 0.7, mixed=False, n_random=2, seed=5, random_scales=(1.0, 3.0)) == []
    fixed = _starts(h, (0.0, 2.0), (0.0,), (0.0, 0.6), mixed=False, n_random=0)
    rng = np.random.default_rng(5)
    rand = []
    for c in (1.0, 3.0):
        for _ in range(2):
            W_E, W_D = random_start(h, rng)
            rand.append((c * W_E, W_D / c))
    want = [w for w, _ in fixed] + rand
    assert len(s.polish_calls) == len(want) == len(fixed) + 4
    for (W_E, b_E, W_D, lam, kw), (wE, wD) in zip(s.polish_calls, want):
        np.testing.assert_array_equal(W_E, wE)
        np.testing.assert_array_equal(W_D, wD)
        assert kw == {"thresholds": 0.7, "penalty": "l0", "bias": False}
    # mixed=True adds the per-child clean / partial / absorbed states
    s2 = _Script(h, [fail] * 100, {}, {})
    s2.install(monkeypatch)
    ab.stationary_points_jumprelu(h, 0.4, 0.7, n_random=0)
    assert len(s2.polish_calls) == len(_starts(h, (0.0, 2.0), (0.0,), (0.0, 0.6), mixed=True, n_random=0)) > len(fixed)


def test_jumprelu_search_records_its_random_starts(monkeypatch):
    # one random start at scale 2, stationary: its description is {"random_start": 0, "seed": 3, "scale": 2.0}
    h = Hierarchy(1, SE, SE, 0.2)
    A = _point(1.0, 2, h)
    minimum = {"kind": "minimum", "min_eigenvalue": 0.5, "n_flat": 2, "check": {"confirmed": True}}
    s = _Script(h, [(A, 0.3, 1e-9)], {1.0: _obs(0.5, 0.2)}, {1.0: [minimum]})
    s.install(monkeypatch)
    monkeypatch.setattr("theory.absorption_curve._starts", lambda *a, **k: [])
    pts = ab.stationary_points_jumprelu(h, 0.4, 0.7, n_random=1, seed=3, random_scales=(2.0,))
    assert len(pts) == 1 and pts[0]["start"] == {"random_start": 0, "seed": 3, "scale": 2.0}
    assert isinstance(pts[0]["start"]["seed"], int) and pts[0]["n_starts"] == 1


def test_bias_search_starts_dedupe_and_records_by_hand(monkeypatch):
    """stationary_points_bias (one child, γ ∈ {0, 2}, parent biases {0, −0.5}, the absorbed end): five starts, the
    parent latent's bias set from the grid and the children's at 0. Scripted: A, A again (same loss, rates and
    tilts: dropped before classification), one not stationary (dropped), B, and the absorbed end C with the
    lowest loss. Records (weights, bias, loss, kind, observables, start) by hand, sorted by loss."""
    from theory.absorption_curve import absorbed_start, family_start

    h = Hierarchy(1, SE, SE, 0.2)
    n_q = 2
    A, B, C = _point(1.0, n_q, h), _point(2.0, n_q, h), _point(3.0, n_q, h)
    polished = [(A, 0.30, 1e-9), (A, 0.30 + 1e-6, 1e-9), (B, 0.1, 2e-6), (B, 0.20, 2e-9), (C, 0.10, 3e-9)]
    observed = {1.0: _obs(0.25, 0.1), 2.0: _obs(0.75, 0.3), 3.0: _obs(1.0, 0.9)}
    kind = lambda k: {"kind": k, "min_eigenvalue": 0.1, "n_flat": 2, "check": {"confirmed": True}}  # noqa: E731
    s = _Script(h, polished, observed, {1.0: [kind("minimum")], 2.0: [kind("saddle")], 3.0: [kind("degenerate")]})
    s.install(monkeypatch)
    pts = ab.stationary_points_bias(h, 0.6, thresholds=0.4)
    assert len(s.polish_calls) == 5
    want_starts = [(family_start(h, (0.0,)), 0.0), (family_start(h, (0.0,)), -0.5), (family_start(h, (2.0,)), 0.0),
                   (family_start(h, (2.0,)), -0.5), (absorbed_start(h, 0.0), 0.0)]
    for (W_E, b_E, W_D, lam, kw), ((wE, wD), bP) in zip(s.polish_calls, want_starts):
        np.testing.assert_array_equal(W_E, wE)
        np.testing.assert_array_equal(W_D, wD)
        assert b_E.tolist() == [bP, 0.0] and lam == 0.6 and kw == {"thresholds": 0.4}
    assert [c[0] for c in s.classify_calls] == [1.0, 2.0, 3.0]
    assert all(c[1:] == (2, 0.6, {"thresholds": 0.4}) for c in s.classify_calls)
    assert [p["loss"] for p in pts] == [0.10, 0.20, 0.30]
    c_rec, b_rec, a_rec = pts
    assert c_rec["start"] == {"absorbed_end": True} and c_rec["kind"] == "degenerate" and c_rec["tilt"] == 0.9
    assert b_rec["start"] == {"gammas": [2.0], "parent_bias": -0.5} and b_rec["kind"] == "saddle"
    assert a_rec["start"] == {"gammas": [0.0], "parent_bias": 0.0} and a_rec["kind"] == "minimum"
    assert a_rec["b_E"] == [0.25, 0.0] and a_rec["W_E"] == [[1.0, 0.0], [0.0, 0.0]]
    assert a_rec["grad_norm"] == 1e-9 and a_rec["per_child_rate"] == [0.25] and a_rec["check"] == {"confirmed": True}
    assert b_rec["b_E"] == [0.5, 0.0] and b_rec["grad_norm"] == 2e-9
    # without the absorbed end, four starts; a point that differs by more than dedupe_tol in its tilt is kept
    polished = [(A, 0.30, 1e-9), (B, 0.30, 1e-9), (A, 0.4, 1.0), (A, 0.4, 1.0)]
    observed = {1.0: _obs(0.25, 0.1), 2.0: _obs(0.25, 0.1 + 2e-4)}
    s = _Script(h, polished, observed, {1.0: [kind("minimum")], 2.0: [kind("minimum")]})
    s.install(monkeypatch)
    pts = ab.stationary_points_bias(h, 0.6, absorbed=False)
    assert len(s.polish_calls) == 4 and len(pts) == 2 and s.polish_calls[0][4] == {"thresholds": None}


# --------------------------------------------------- one constant magnitude: the objective by 1-d quadrature
def _per_event(Xin, Xout, m, W_E, b, W_D, lam, th, penalty):
    x, y = Xin @ m, Xout @ m
    z = W_E @ x + b
    on = z > th
    a = np.where(on, z, 0.0)
    pen = lam * float(a @ np.linalg.norm(W_D, axis=0)) if penalty == "l1" else lam * int(on.sum())
    return float(((y - W_D @ a) ** 2).sum()) + pen


def _quad_objective(h, W_E, b, W_D, lam, th, penalty="l1"):
    """The objective with at most one random magnitude per event, by adaptive quadrature over it (scipy's quad,
    the switch points of every latent as breakpoints), or a point evaluation when both are constant."""
    from scipy import integrate

    from theory.absorption_curve import _law

    laws = [_law(h.parent_law), _law(h.child_law)]
    total = 0.0
    for prob, Xin, Xout in h.events():
        k = Xin.shape[1]
        cs = np.array([laws[n][0] for n in range(k)])
        free = [n for n in range(k) if laws[n][1] > 0]
        if not free:
            total += prob * _per_event(Xin, Xout, cs, W_E, b, W_D, lam, th, penalty)
            continue
        (n,) = free
        c, beta = laws[n]
        Z = W_E @ Xin                     # z_i = Z_i · m + b_i; along the free axis: slope Z[i, n]
        rest = Z @ cs - Z[:, n] * c + b   # z_i at m_n = 0 with the other magnitude fixed
        with np.errstate(divide="ignore"):
            cuts = sorted({float(t) for t in (th - rest) / Z[:, n] if np.isfinite(t) and t > c})
        edges = [c, *cuts, np.inf]

        def f(t, n=n, c=c, beta=beta):
            m = cs.copy()
            m[n] = t
            return _per_event(Xin, Xout, m, W_E, b, W_D, lam, th, penalty) * np.exp(-(t - c) / beta) / beta
        total += prob * sum(integrate.quad(f, t0, t1, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
                            for t0, t1 in zip(edges[:-1], edges[1:]))
    return total


@pytest.mark.parametrize("parent,child", [(Constant(1.5), ShiftedExponential(0.5, 2.0)),
                                          (ShiftedExponential(0.5, 2.0), Constant(1.5)),
                                          (Constant(1.5), Constant(0.7))])
@pytest.mark.parametrize("th,penalty", [(0.0, "l1"), (0.4, "l1"), (0.4, "l0")])
def test_objective_with_a_constant_magnitude_is_its_quadrature(parent, child, th, penalty):
    """One (or both) magnitudes constant, an encoder bias, ReLU or JumpReLU (L1 or L0): the cells are intervals of
    the other magnitude (or a point). The loss equals adaptive quadrature of the per-event loss to 1e-9, and its
    gradient (cells and edge terms) equals central differences of that quadrature along three random directions."""
    rng = np.random.default_rng(8)
    h = Hierarchy(1, parent, child, 0.3, W_r=np.linalg.qr(rng.normal(size=(2, 2)))[0])
    W_E, W_D, b = rng.normal(size=(3, 2)), rng.normal(size=(2, 3)), 0.8 * rng.normal(size=3)
    lam = 0.6
    loss, gE, gb, gD = ab.exact_objective_bias(h, W_E, b, W_D, lam, theta=th, penalty=penalty)
    assert loss == pytest.approx(_quad_objective(h, W_E, b, W_D, lam, th, penalty), rel=1e-9, abs=1e-12)
    theta = ab._pack3(W_E, b, W_D)
    g = ab._pack3(gE, gb, gD)
    step = 1e-5
    q = lambda t: _quad_objective(h, *ab._unpack3(t, 3, h), lam, th, penalty)  # noqa: E731
    both_constant = isinstance(parent, Constant) and isinstance(child, Constant)
    for v in np.random.default_rng(2).normal(size=(3, theta.size)):   # directional: any wrong entry shows
        fd = (q(theta + step * v) - q(theta - step * v)) / (2 * step)
        assert float(g @ v) == pytest.approx(fd, abs=1e-6 * max(1.0, abs(fd)))
    if both_constant:      # a point mass: no line carries probability, so no edge term in any latent
        _, gE0, gb0, gD0 = ab.exact_objective_bias(h, W_E, b, W_D, lam, theta=th, penalty=penalty, edges=False)
        np.testing.assert_array_equal(ab._pack3(gE0, gb0, gD0), g)


# --------------------------------------------------------------- observables_bias against Monte Carlo by definition
def test_observables_bias_is_its_definition_by_monte_carlo():
    """Two children, a parent latent p − γ_j c_j with a negative bias (γ = 0.8, 1.5), child latents c_j with
    decoders c_j + 0.8 p (mixed: cosines 0.62 with p, 0.78 with c_j), JumpReLU thresholds. Per child, the absorbed
    probability (no contributing pure-parent latent, a contributing mixed one; contributing: active and
    a_i ||d_i|| > 0.1 m_P), the parent gain E[x̂ · p] / E[m_P] on the parent alone and the reconstruction loss, each
    within 5 standard errors of 300,000 sampled events; the tilts by hand (the child latent has the largest cosine
    with c_j among the latents that fire: its decoder's cosine with p, 0.8 / √1.64)."""
    h = Hierarchy(2, ShiftedExponential(1.0, 1.0), ShiftedExponential(0.5, 1.5), 0.25)
    W_E = np.array([[1.0, -0.8, -1.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    b = np.array([-0.5, -0.3, -0.2])
    W_D = np.array([[1.1, 0.8, 0.8], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    th = np.array([0.2, 0.3, 0.1])
    obs = ab.observables_bias(h, W_E, b, W_D, thresholds=th)
    n = 300_000
    rng = np.random.default_rng(12)
    mP = 1.0 + rng.exponential(1.0, n)
    mC = 0.5 + 1.5 * rng.exponential(1.0, n)
    norms = np.linalg.norm(W_D, axis=0)
    cos_p = W_D[0] / norms
    pure = cos_p > 0.9
    assert pure.tolist() == [True, False, False]
    rates, losses = [], []
    for j in (1, 2):
        x = np.zeros((n, 3))
        x[:, 0], x[:, j] = mP, mC
        mix = (cos_p > 0.3) & (W_D[j] / norms > 0.3)   # mixes the parent and child j
        assert mix.tolist() == [False, j == 1, j == 2]
        z = x @ W_E.T + b
        a = np.where(z > th, z, 0.0)
        contrib = (z > th) & (a * norms > 0.1 * mP[:, None])
        absorbed = ~(contrib & pure).any(1) & (contrib & mix).any(1)
        rates.append((absorbed.mean(), absorbed.std() / np.sqrt(n)))
        losses.append(((x - a @ W_D.T) ** 2).sum(1))
    for (want, se), got in zip(rates, obs["per_child_rate"]):
        assert 0.05 < want < 0.95 and got == pytest.approx(want, abs=5 * se)
    assert obs["absorption_rate"] == pytest.approx(np.mean(obs["per_child_rate"]), rel=1e-12)
    assert obs["per_child_tilt"] == pytest.approx([0.8 / np.sqrt(1.64)] * 2, rel=1e-12)
    assert obs["tilt"] == pytest.approx(0.8 / np.sqrt(1.64), rel=1e-12)
    xa = np.zeros((n, 3))
    xa[:, 0] = mP
    za = xa @ W_E.T + b
    aa = np.where(za > th, za, 0.0)
    along = (aa @ W_D.T)[:, 0]
    assert obs["parent_gain"] == pytest.approx(along.mean() / 2.0, abs=5 * along.std() / np.sqrt(n) / 2.0)
    per = np.concatenate([0.25 * ((xa - aa @ W_D.T) ** 2).sum(1)[None], 0.375 * np.array(losses)]).sum(0)
    assert obs["reconstruction_loss"] == pytest.approx(per.mean(), abs=5 * per.std() / np.sqrt(n))


def test_family_system_bias_declares_its_symbols_as_documented():
    """derive --absorption 1 --bias: the symbols carry the signs the docstring gives them (λ, p_alone >= 0; γ_j, b_j
    > 0; β_j <= 0; a, u, β_0, w_j, s_j, v_j real; the magnitudes' moments positive, E[m_P m_C] = μ1_P μ1_C), and the
    system has one equation per parameter."""
    import sympy as sp

    _, grads, s = ab.family_system_bias(1)
    names = {k: [str(x) for x in (v if isinstance(v, tuple) else (v,))] for k, v in s.items()
             if k in ("lam", "p_alone", "a", "u", "beta_0", "gamma", "w", "b", "beta", "s", "v")}
    assert names == {"lam": ["lambda"], "p_alone": ["p_alone"], "a": ["a"], "u": ["u"], "beta_0": ["beta_0"],
                     "gamma": ["gamma_1"], "w": ["w_1"], "b": ["b_1"], "beta": ["beta_1"], "s": ["s_1"], "v": ["v_1"]}
    for k in ("lam", "p_alone"):
        assert s[k].is_nonnegative and s[k].is_positive is None
    for k in ("a", "u", "beta_0"):
        assert s[k].is_real and s[k].is_positive is None and s[k].is_negative is None
    for k in ("w", "s", "v"):
        assert s[k][0].is_real and s[k][0].is_positive is None and s[k][0].is_negative is None
    for k in ("gamma", "b"):
        assert s[k][0].is_positive
    assert s["beta"][0].is_nonpositive and s["beta"][0].is_negative is None
    mu = s["mu"]
    assert mu[0, 0] == 1 and [str(mu[k]) for k in ((1, 0), (2, 0), (0, 1), (0, 2))] == ["mu1_P", "mu2_P", "mu1_C", "mu2_C"]
    assert all(mu[k].is_positive for k in ((1, 0), (2, 0), (0, 1), (0, 2)))
    assert sp.simplify(mu[1, 1] - mu[1, 0] * mu[0, 1]) == 0
    assert set(grads) == {s["a"], s["u"], s["beta_0"], *s["gamma"], *s["w"], *s["b"], *s["beta"], *s["s"], *s["v"]}
    assert sorted(s["J"]) == sorted(s["Q"]) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0)]
    assert [str(s["J"][ab_]) for ab_ in ((0, 0), (1, 1))] == ["J_00", "J_11"] and sorted(s["T"]) == sorted(s["F"]) == [0, 1, 2]


@pytest.mark.parametrize("bias0", [-1.0, -0.005])
def test_classify_bias_with_every_latent_dead_and_the_bias_fixed(bias0):
    """W_E = 0 and a negative bias held fixed (bias=False): no latent fires on any event, so every direction is flat
    (each dead latent's decoder and encoder entries, the fixed bias): no Hessian direction is left and the answer is
    the probes' (each encoder entry moved by ±1e-3, ±1e-2). At b = −1 no probe wakes a latent: a minimum with no
    decrease. At b = −0.005 a probe of 1e-2 lifts z = 0.01 m − 0.005 above 0 on the whole support (m >= 1), the
    decoder I then reconstructs part of the event: a saddle whose largest decrease is the best probe's, evaluated
    here with exact_objective_bias."""
    h = Hierarchy(1, SE, SE, 0.3)
    W_E, b, W_D = np.zeros((2, 2)), np.full(2, bias0), np.eye(2)
    theta = ab._pack3(W_E, b, W_D)
    c = ab.classify_bias(h, theta, 2, 0.1, bias=False)
    assert c["min_eigenvalue"] == 0.0 and c["n_flat"] == theta.size == 10
    loss = lambda WE: ab.exact_objective_bias(h, WE, b, W_D, 0.1, gradient=False)[0]  # noqa: E731
    base = loss(W_E)
    drops = []
    for i in range(2):
        for r in range(2):
            for t in (1e-3, 1e-2, -1e-3, -1e-2):
                WE = W_E.copy()
                WE[i, r] = t
                drops.append(loss(WE) - base)
    worst = min(drops)
    if bias0 == -1.0:
        assert worst == 0.0
        assert c["kind"] == "minimum" and c["check"] == {"largest_decrease": 0.0, "no_descent_found": True,
                                                         "confirmed": True}
    else:
        assert worst < -1e-3
        assert c["kind"] == "saddle" and c["check"]["no_descent_found"] is False and c["check"]["confirmed"] is True
        assert c["check"]["largest_decrease"] == pytest.approx(worst, rel=1e-9)


def test_jumprelu_field_zero_records_by_hand(central_gradient):
    """No Newton step and a loose acceptance: with no flow step the start itself comes back; with one step it is the
    start minus lr times the field (by hand). Its record: the loss, the field norm, the exact gradient norm of L over
    (W_E, W_D, θ) (central differences of the loss) and the observables; a threshold at 0 gives
    None."""
    h = Hierarchy(1, SE, SE, 0.2)
    W_E, W_D, th = np.array([[1.0, 0.2], [0.1, 1.0]]), np.array([[0.9, 0.1], [0.0, 0.8]]), np.array([0.5, 0.6])
    lam = 0.7
    g0 = ab.jumprelu_field(h, W_E, W_D, lam, th, train_theta=True)
    for steps, lr in ((0, 0.02), (1, 0.05)):
        z = ab.jumprelu_field_zero(h, W_E, W_D, lam, th, steps=steps, lr=lr, newton=0, accept=100.0)
        v = np.concatenate([W_E.ravel(), W_D.ravel(), th]) - steps * lr * g0
        np.testing.assert_allclose(z["W_E"], v[:4].reshape(2, 2), rtol=1e-12, atol=0)
        np.testing.assert_allclose(z["W_D"], v[4:8].reshape(2, 2), rtol=1e-12, atol=0)
        assert z["thresholds"] == pytest.approx(v[8:].tolist(), rel=1e-12)
        WE, WD, t = v[:4].reshape(2, 2), v[4:8].reshape(2, 2), v[8:]
        f = lambda p: ab.exact_objective_bias(h, p[:4].reshape(2, 2), np.zeros(2), p[4:8].reshape(2, 2), lam,  # noqa: E731
                                              theta=p[8:], penalty="l0", gradient=False)[0]
        fd = central_gradient(f, v)
        assert z["loss"] == pytest.approx(f(v), rel=1e-12)
        assert z["exact_grad_norm"] == pytest.approx(float(np.linalg.norm(fd)), rel=1e-6)
        g = ab.jumprelu_field(h, WE, WD, lam, t, train_theta=True)
        assert z["field_norm"] == pytest.approx(float(np.linalg.norm(g)), rel=1e-12)
        obs = ab.observables_bias(h, WE, np.zeros(2), WD, thresholds=t)
        assert all(z[k] == obs[k] for k in obs) and set(z) == {"W_E", "W_D", "thresholds", "loss", "field_norm",
                                                               "exact_grad_norm", *obs}
    assert ab.jumprelu_field_zero(h, W_E, W_D, lam, np.array([0.5, 0.0]), steps=0, newton=0, accept=100.0) is None
    # a field above the acceptance: None
    assert ab.jumprelu_field_zero(h, W_E, W_D, lam, th, steps=0, newton=0, accept=0.5 * float(np.linalg.norm(g0))) is None


# a minimum polished from W_E = W_D = I (λ = 0.3, bias trained; the point of the previous file's polished-minimum test),
# written out as an input so the tests below need no polish
_H_MIN = Hierarchy(1, ShiftedExponential(1.0, 1.0), ShiftedExponential(0.5, 1.0), 0.3)
_T_MIN = np.array([0.9725709668444414, -0.3800703628146862, -0.042614087196181163, 1.0120869473377532,
                   -0.14621187763546045, -0.0556002207463268, 1.038416931326854, 0.41548775329263027,
                   0.0530733819128062, 0.9633557011097733])


def test_classify_bias_perturbation_check_off_a_stationary_point():
    """3e-3 off the minimum: the Hessian (off the two rescalings) is still positive definite, but the gradient no
    longer vanishes, so the seeded random perturbations (24, at ±1e-4 and ±1e-3 of max(1, ||θ||)) find a decrease:
    a "minimum" by its spectrum whose check is not confirmed; its largest decrease is the best of those 96 moves,
    evaluated here with exact_objective_bias. With tol = 1 every eigenvalue is within tol · scale: "degenerate",
    confirmed None, and the 8 eigenvector directions are probed too."""
    h = _H_MIN
    d = np.random.default_rng(4).normal(size=_T_MIN.size)
    t = _T_MIN + 3e-3 * d / np.linalg.norm(d)
    c = ab.classify_bias(h, t, 2, 0.3)
    assert c["kind"] == "minimum" and c["min_eigenvalue"] > 0.1 and c["n_flat"] == 2
    f = lambda p: ab.exact_objective_bias(h, *ab._unpack3(p, 2, h), 0.3, gradient=False)[0]  # noqa: E731
    base, r0 = f(t), max(1.0, float(np.linalg.norm(t)))
    assert r0 > 1.5
    worst = min(f(t + s * r * r0 * v / np.linalg.norm(v)) - base
                for v in np.random.default_rng(0).normal(size=(24, t.size)) for r in (1e-4, 1e-3) for s in (1, -1))
    assert worst < -1e-6
    assert c["check"] == {"largest_decrease": pytest.approx(worst, rel=1e-9), "n_directions": 24,
                          "radii": [1e-4, 1e-3], "no_descent_found": False, "confirmed": False}
    c = ab.classify_bias(h, t, 2, 0.3, tol=1.0, seed=3, n_random=5)
    assert c["kind"] == "degenerate" and c["check"]["confirmed"] is None and c["check"]["n_directions"] == 5 + 8
    assert c["check"]["no_descent_found"] is False and c["check"]["largest_decrease"] < -1e-6
