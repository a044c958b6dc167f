"""Zeros of the straight-through field (theory.absorption_ste.ste_field_zero / ste_field_zeros): every field of the
returned record against a hand-computed value or an independent computation (the flow against a hand-rolled Adam or
gradient loop on ste_field, the exact gradient norm against central differences of the exact loss, the spectrum
against the Hessian of the closed-form reconstruction loss), the least-squares polish, the ε/2 guard, and the
starts and deduplication of the search (the zero finder stubbed)."""
import numpy as np
import pytest

import theory.absorption_ste as ste
from theory.absorption_bias import exact_objective_bias
from theory.absorption_curve import Hierarchy, random_start
from theory.absorption_ste import ste_field, ste_field_zero, ste_field_zeros

H1 = Hierarchy(1)  # parent alone (0.2) or parent + child (0.8), magnitudes 1 + Exp(1): E m = 2, E m^2 = 5


def test_identity_is_a_zero_with_every_field_by_hand(second_differences):
    """At W_E = W_D = I, θ = 0.5 every pre-activation is 0 or a magnitude >= 1: no event is in a band, the
    reconstruction is exact, so the field is exactly 0 (the flow stops at once). By hand: loss = λ E[#active]
    = 0.1 (0.2 · 1 + 0.8 · 2) = 0.18, reconstruction 0, parent gain 1, nothing absorbed, no tilt, the exact gradient
    0 (no threshold line carries mass); both log θ columns of the Jacobian are 0 (neutral), both latents live.
    The remaining spectrum is that of the Hessian of the closed-form reconstruction loss
    0.2 · 5 ||e_0 − d_0 W_E[0,0]||² + 0.8 tr(R M Rᵀ), R = I − W_D W_E, M = [[5, 4], [4, 5]], on the complement of the
    two rescalings (e_i, −d_i); it has a zero eigenvalue, so the zero is undecided."""
    z = ste_field_zero(H1, np.eye(2), np.eye(2), 0.1, np.full(2, 0.5), 0.05, schedule=((50, 1e-2),))
    assert z["W_E"] == [[1.0, 0.0], [0.0, 1.0]] and z["W_D"] == [[1.0, 0.0], [0.0, 1.0]]
    assert z["thresholds"] == pytest.approx([0.5, 0.5], abs=1e-15)
    assert z["loss"] == pytest.approx(0.18, abs=1e-12)
    assert z["field_norm"] == 0.0 and z["flow_field_norm"] == 0.0 and z["exact_grad_norm"] == pytest.approx(0.0, abs=1e-12)
    assert z["bandwidth"] == 0.05 and z["storage"] == "log"
    assert z["n_conserved"] == 2 and z["neutral"] == ["log θ[0]", "log θ[1]"]
    assert z["absorption_rate"] == 0.0 and list(z["per_child_rate"]) == [0.0]
    assert z["tilt"] == 0.0 and list(z["per_child_tilt"]) == [0.0]
    assert z["parent_gain"] == pytest.approx(1.0, abs=1e-12) and z["reconstruction_loss"] == pytest.approx(0.0, abs=1e-12)
    M = np.array([[5.0, 4.0], [4.0, 5.0]])

    def rec(v):
        WE, WD = v[:4].reshape(2, 2), v[4:].reshape(2, 2)
        R = np.eye(2) - WD @ WE
        return 0.2 * 5 * float(np.sum((np.eye(2)[:, 0] - WD[:, 0] * WE[0, 0]) ** 2)) + 0.8 * float(np.trace(R @ M @ R.T))

    Hs = second_differences(rec, np.r_[np.eye(2).ravel(), np.eye(2).ravel()], 1e-4)
    cons = np.array([[1, 0, 0, 0, -1, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0, -1]], float).T  # (e_i, −d_i) at the identity
    U = np.linalg.svd(cons, full_matrices=True)[0][:, 2:]
    ev = sorted(np.linalg.eigvalsh(U.T @ Hs @ U))
    assert z["eigenvalues_real"] == pytest.approx(ev, abs=1e-4)
    assert z["min_real_eigenvalue"] == pytest.approx(0.0, abs=1e-6) and z["kind"] == "undecided"


def _adam(v, steps, lr, lam, th_eps, plain=False):
    """The flow by hand: Adam (0.9, 0.999, 1e-8) or plain steps on ste_field in (W_E, W_D, log θ)."""
    m, s = np.zeros_like(v), np.zeros_like(v)
    for t in range(1, steps + 1):
        g = ste_field(H1, v[:4].reshape(2, 2), v[4:8].reshape(2, 2), lam, np.exp(v[8:]), th_eps)
        if plain:
            v = v - lr * g
            continue
        m, s = 0.9 * m + 0.1 * g, 0.999 * s + 0.001 * g * g
        v = v - lr * (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
    return v


S_E, S_D, S_TH = np.array([[0.97, -0.41], [0.03, 1.06]]), np.array([[1.03, 0.39], [-0.02, 0.93]]), np.array([0.54, 0.92])


@pytest.mark.parametrize("adam", [True, False])
def test_flow_then_least_squares_reaches_a_zero_checked_independently(adam, central_gradient):
    """From near a zero at λ = 0.3 (a point the default flow passes from the identity at θ = 1, rounded): 5 flow
    steps (Adam, or plain steps),
    then the least-squares polish. The flow's end is the hand-rolled loop's; the zero's field, recomputed, is below
    the acceptance; its exact gradient norm is that of central differences of the exact loss (L0, with the
    threshold lines' edge terms) in (W_E, W_D, θ); its thresholds are positive and above ε/2."""
    lam, eps = 0.3, 0.05
    v0 = np.r_[S_E.ravel(), S_D.ravel(), np.log(S_TH)]
    z = ste_field_zero(H1, S_E, S_D, lam, S_TH, eps, schedule=((5, 1e-3),), adam=adam, max_nfev=30)
    assert z is not None
    v = _adam(v0, 5, 1e-3, lam, eps, plain=not adam)
    Fv = ste_field(H1, v[:4].reshape(2, 2), v[4:8].reshape(2, 2), lam, np.exp(v[8:]), eps)
    assert z["flow_field_norm"] == pytest.approx(float(np.linalg.norm(Fv)), rel=1e-9)
    assert z["flow_field_norm"] > 1e-6  # so the polish ran
    WE, WD, th = np.array(z["W_E"]), np.array(z["W_D"]), np.array(z["thresholds"])
    F = ste_field(H1, WE, WD, lam, th, eps)
    assert z["field_norm"] == pytest.approx(float(np.linalg.norm(F)), rel=1e-9, abs=1e-15) and z["field_norm"] <= 1e-6
    assert (th > eps / 2).all() and z["bandwidth"] == eps and z["storage"] == "log"
    x = np.r_[WE.ravel(), WD.ravel(), th]

    def loss(y):
        return exact_objective_bias(H1, y[:4].reshape(2, 2), np.zeros(2), y[4:8].reshape(2, 2), lam, theta=y[8:],
                                    penalty="l0")[0]

    fd = central_gradient(loss, x)
    assert z["exact_grad_norm"] == pytest.approx(float(np.linalg.norm(fd)), rel=1e-4)
    assert z["exact_grad_norm"] > 1e-3  # the ε-field's zero is not a stationary point of L
    assert z["loss"] == pytest.approx(loss(x), rel=1e-12)


def test_direct_storage_zero_is_a_zero_of_the_direct_field():
    """storage="direct": the record says so, and its field (θ itself, not log θ) vanishes there."""
    z = ste_field_zero(H1, S_E, S_D, 0.3, S_TH, 0.05, storage="direct", schedule=((5, 1e-3),), max_nfev=30)
    assert z is not None and z["storage"] == "direct" and z["neutral"][-1] == "θ[1]"
    F = ste_field(H1, np.array(z["W_E"]), np.array(z["W_D"]), 0.3, np.array(z["thresholds"]), 0.05, storage="direct")
    assert np.linalg.norm(F) <= 1e-6 and z["field_norm"] == pytest.approx(float(np.linalg.norm(F)), rel=1e-9)


def test_field_at_is_none_at_or_below_half_the_bandwidth():
    """The packed point's field is None once a threshold is <= ε/2 (ste_field would refuse), e.g. θ = 0.4 ε;
    just above, it is the field itself."""
    v = np.r_[np.eye(2).ravel(), np.eye(2).ravel(), np.log([0.02, 1.0])]
    assert ste._field_at(H1, 2, v, 0.3, 0.05, "log") is None
    assert ste._field_at(H1, 2, np.r_[v[:8], [0.02, 1.0]], 0.3, 0.05, "direct") is None
    w = np.r_[v[:8], np.log([0.03, 1.0])]
    assert np.array_equal(ste._field_at(H1, 2, w, 0.3, 0.05, "log"),
                          ste_field(H1, np.eye(2), np.eye(2), 0.3, np.array([0.03, 1.0]), 0.05))


def test_search_starts_defaults_and_dedupe(monkeypatch):
    """ste_field_zeros with the zero finder stubbed: its default starts are the mixed ones (mixed=True) plus four
    random starts of seed 0 (random_start with default_rng(0), by hand), each at θ0; a zero reached from two
    starts is kept once with n_starts = 2."""
    seen = []

    def stub(h, W_E, W_D, lam, th, eps, **kw):
        seen.append((np.array(W_E), np.array(W_D), np.array(th)))
        return None

    monkeypatch.setattr(ste, "ste_field_zero", stub)
    h = Hierarchy(2)
    assert ste_field_zeros(h, 0.7, 1.1, 0.05) == []
    default = list(seen)
    seen.clear()
    ste_field_zeros(h, 0.7, 1.1, 0.05, mixed=True, seed=0)
    assert len(seen) == len(default) and all(np.array_equal(a[0], b[0]) for a, b in zip(seen, default))
    seen.clear()
    ste_field_zeros(h, 0.7, 1.1, 0.05, mixed=False)
    assert len(seen) < len(default)
    rng = np.random.default_rng(0)
    for (WE, WD, th), (rE, rD) in zip(default[-4:], [random_start(h, rng) for _ in range(4)]):
        assert np.array_equal(WE, rE) and np.array_equal(WD, rD) and th.tolist() == [1.1, 1.1, 1.1]
    monkeypatch.undo()
    one = (np.eye(2), np.eye(2))
    pts = ste_field_zeros(H1, 0.1, 0.5, 0.05, starts=[(one, {"a": 1}), (one, {"a": 2})], schedule=((5, 1e-2),))
    assert len(pts) == 1 and pts[0]["n_starts"] == 2 and pts[0]["start"] == {"a": 1}
    assert pts[0]["loss"] == pytest.approx(0.18, abs=1e-12)
