"""The expected field of JumpReLU's straight-through estimator at finite bandwidth (theory.absorption_ste): its ε → 0
limit, the conservation law its zeros' classification relies on, its Jacobian, and the classification itself.
The engine's own autograd on sampled events is the independent check of the field
(tests/numerics/test_absorption_curve_autograd.py::test_ste_field_is_the_engines_mean_update_at_its_bandwidth)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.absorption_bias import threshold_gradient
from theory.absorption_curve import Hierarchy, family_start
from theory.absorption_ste import classify_zero, field_jacobian, ste_field, ste_theta_field
from theory.errors import SDLInputError

H = Hierarchy(2)


def _point(seed: int, spread: float = 0.2):
    rng = np.random.default_rng(seed)
    W_E, W_D = family_start(H, (1.0, 0.5))
    return (W_E + spread * rng.normal(size=W_E.shape), W_D + spread * rng.normal(size=W_D.shape),
            np.array([0.9, 1.3, 1.1]) * (1 + 0.1 * rng.random(3)))


def test_small_bandwidth_limit_is_thetas_exact_derivative():
    """As ε → 0 the band average of the jump tends to θ's exact derivative (the line moments of
    threshold_gradient, computed independently): the gap shrinks linearly in ε once ε is small (measured
    8.6e-3, 1.8e-3, 1.9e-4 at ε = 0.1, 0.01, 0.001 against entries of 0.18–0.50)."""
    W_E, W_D, th = _point(0)
    exact = threshold_gradient(H, W_E, np.zeros(3), W_D, 0.7, th, penalty="l0")
    gaps = [np.abs(ste_theta_field(H, W_E, W_D, 0.7, th, eps) - exact).max() for eps in (0.1, 0.01, 0.001)]
    assert gaps[2] < 1e-3 * np.abs(exact).max()
    assert gaps[0] > 3 * gaps[1] > 25 * gaps[2]


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.02, 0.05, 0.2]), st.sampled_from(["log", "direct"]))
def test_field_is_orthogonal_to_each_latents_rescaling(seed, eps, storage):
    """F · (e_i, −d_i, 0) = 0 everywhere (the per-event cells' gradient is orthogonal to it): ||e_i||² − ||d_i||² is
    conserved by the flow, the reason classify_zero reads the Jacobian off these directions. The θ entry is not
    orthogonal to anything in particular: nonzero here."""
    W_E, W_D, th = _point(seed, 0.4)
    F = ste_field(H, W_E, W_D, 0.7, th, eps, storage=storage)
    for i in range(3):
        dE, dD = np.zeros_like(W_E), np.zeros_like(W_D)
        dE[i], dD[:, i] = W_E[i], -W_D[:, i]
        v = np.concatenate([dE.ravel(), dD.ravel(), np.zeros(3)])
        assert abs(F @ v) < 1e-10 * np.linalg.norm(F) * np.linalg.norm(v)
    assert np.abs(F[18:]).max() > 1e-3


def test_jacobian_matches_directional_differences_and_log_storage():
    """field_jacobian (central differences, step 1e-6) against directional differences at step 1e-4 along random
    directions, and in log storage against direct storage by the chain rule (J_log = T J_direct T + diag(F_θ)
    on θ, T = diag(1, …, θ))."""
    W_E, W_D, th = _point(1)
    J = field_jacobian(H, W_E, W_D, 0.7, th, 0.05, storage="direct")
    v = np.concatenate([W_E.ravel(), W_D.ravel(), th])
    rng = np.random.default_rng(2)
    for _ in range(3):
        u = rng.normal(size=v.size)
        u /= np.linalg.norm(u)
        s = 1e-4
        up, um = v + s * u, v - s * u
        d = (ste_field(H, up[:9].reshape(3, 3), up[9:18].reshape(3, 3), 0.7, up[18:], 0.05, storage="direct")
             - ste_field(H, um[:9].reshape(3, 3), um[9:18].reshape(3, 3), 0.7, um[18:], 0.05, storage="direct")) / (2 * s)
        assert np.linalg.norm(d - J @ u) < 1e-4 * np.linalg.norm(d)
    Jl = field_jacobian(H, W_E, W_D, 0.7, th, 0.05, storage="log")
    T = np.diag(np.r_[np.ones(18), th])
    Fth = ste_field(H, W_E, W_D, 0.7, th, 0.05, storage="log")[18:]
    assert np.allclose(Jl, T @ J @ T + np.diag(np.r_[np.zeros(18), Fth]), atol=1e-6 * np.abs(Jl).max())


def test_classification_reads_the_spectrum_off_conserved_and_neutral_directions():
    """Given Jacobians: the identity is stable, its negative unstable; a Jacobian with one zero column has that
    coordinate neutral (the zero continues along it) and is decided by the rest; a zero Jacobian is undecided."""
    W_E, W_D, th = _point(0)
    n = 21
    assert classify_zero(H, W_E, W_D, 0.7, th, 0.05, J=np.eye(n))["kind"] == "stable"
    assert classify_zero(H, W_E, W_D, 0.7, th, 0.05, J=-np.eye(n))["kind"] == "unstable"
    J = np.eye(n)
    J[:, 18] = 0.0
    c = classify_zero(H, W_E, W_D, 0.7, th, 0.05, J=J)
    assert c["kind"] == "stable" and c["neutral"] == ["log θ[0]"] and c["n_conserved"] == 3
    assert classify_zero(H, W_E, W_D, 0.7, th, 0.05, J=np.zeros((n, n)))["kind"] == "undecided"


def test_a_band_outside_the_support_gives_exactly_zero():
    """A latent with z_i >= 0.5 on every event (every magnitude >= 1) and θ_i = 0.2: no event falls in its band,
    so its θ entry is exactly 0 (θ stays where it is, as in training)."""
    W_E, W_D, th = _point(0)
    W_E[0] = [0.3, 0.2, 0.25]
    th[0] = 0.2
    assert ste_theta_field(H, W_E, W_D, 0.7, th, 0.05)[0] == 0.0
    assert ste_theta_field(H, W_E, W_D, 0.7, th, 0.05)[1] != 0.0


def test_bad_input():
    W_E, W_D, th = _point(0)
    with pytest.raises(SDLInputError, match="exceed ε/2"):
        ste_field(H, W_E, W_D, 0.7, np.array([0.02, 1.0, 1.0]), 0.05)
    with pytest.raises(SDLInputError, match="bandwidth"):
        ste_field(H, W_E, W_D, 0.7, th, 0.0)
    with pytest.raises(SDLInputError, match="storage"):
        ste_field(H, W_E, W_D, 0.7, th, 0.05, storage="sqrt")
