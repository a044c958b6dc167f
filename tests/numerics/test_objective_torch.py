"""numerics.objective: torch L̃ / L against theory's numpy objectives and the symbolic derivation (C1, C2).

Property tests over random instances of every activation family, random points strictly inside their
activation region, float32 and float64: the symbolic (lambdified) gradient and Hessian blocks of L̃
equal torch autograd's, and the exact L approaches L̃ as the activation probability p → 0 at the rate
the hypotheses guarantee (|L − L̃| / p → 0), measured only where those hypotheses plainly hold.
"""
import itertools

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numerics.objective import approx_loss, approx_loss_terms, exact_loss, sample_losses
from theory import objective as np_objective
from theory.activations import JumpReLU
from theory.derivation import gradients, hessian
from theory.distribution import Constant, FeatureDistribution
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.strategies import instances, parameters, points_in_region

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


def _tensors(W_D, W_E, b_E, dtype, device="cpu", grad=True):
    t = lambda a: None if a is None else torch.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=grad)
    return t(W_D), t(W_E), t(b_E)


@settings(max_examples=30, **SETTINGS)
@given(st.data())
def test_torch_approx_loss_equals_numpy(data):
    inst = data.draw(instances())
    W_D, W_E, b_E = data.draw(parameters(inst))
    tD, tE, tb = _tensors(W_D, W_E, b_E, torch.float64, grad=False)
    want = np_objective.approx_loss_terms(inst, W_D, W_E, b_E)
    np.testing.assert_allclose(approx_loss_terms(inst, tD, tE, tb).numpy(), want, rtol=1e-10, atol=1e-12)


def _autograd(inst, W_D, W_E, b_E, dtype):
    tD, tE, tb = _tensors(W_D, W_E, b_E, dtype)
    loss = approx_loss(inst, tD, tE, tb)
    grads = torch.autograd.grad(loss, [tD, tE] + ([tb] if tb is not None else []))
    return loss, [g.double().numpy() for g in grads]


@settings(max_examples=35, **SETTINGS)
@given(st.data(), st.sampled_from([torch.float64, torch.float32]), st.sampled_from(["symbolic", "vectorized"]))
def test_symbolic_gradient_equals_autograd(data, dtype, method):
    inst = data.draw(instances())
    W_D, W_E, b_E = data.draw(points_in_region(inst, max_q=4, min_margin=1e-2))
    g = gradients(inst, W_D, W_E, b_E, method=method)
    loss, auto = _autograd(inst, W_D, W_E, b_E, dtype)
    assert loss.dtype == dtype
    want = [g.W_D, g.W_E] + ([g.b_E] if inst.encoder_bias else [])
    assert len(auto) == len(want)
    tol = 1e-9 if dtype == torch.float64 else 2e-4
    for a, w in zip(auto, want):
        scale = 1.0 + np.abs(w).max()
        np.testing.assert_allclose(a, w, rtol=tol, atol=tol * scale)


@settings(max_examples=25, **SETTINGS)
@given(st.data(), st.sampled_from([torch.float64, torch.float32]))
def test_symbolic_hessian_blocks_equal_autograd(data, dtype):
    inst = data.draw(instances(max_n=3, max_dim=3))
    W_D, W_E, b_E = data.draw(points_in_region(inst, max_q=3, min_margin=1e-2))
    H = hessian(inst, W_D, W_E, b_E)
    sizes = [W_D.size, W_E.size] + ([b_E.size] if b_E is not None else [])

    def f(v):
        parts = torch.split(v, sizes)
        tb = parts[2] if len(parts) == 3 else None
        return approx_loss(inst, parts[0].reshape(W_D.shape), parts[1].reshape(W_E.shape), tb)

    v = torch.tensor(np.concatenate([W_D.ravel(), W_E.ravel()] + ([b_E] if b_E is not None else [])), dtype=dtype)
    auto = torch.autograd.functional.hessian(f, v).double().numpy()
    nD, nE = sizes[0], sizes[1]
    tol = 1e-9 if dtype == torch.float64 else 2e-4 * (1 + np.abs(H.full()).max())
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    close(auto[:nD, :nD], H.DD)
    close(auto[nD:nD + nE, nD:nD + nE], H.EE)
    close(auto[:nD, nD:nD + nE], H.DE)
    if b_E is not None:
        close(auto[nD + nE:, nD + nE:], H.bb)
        close(auto[:nD, nD + nE:], H.Db)
        close(auto[nD:nD + nE, nD + nE:], H.Eb)
    close(auto, H.full())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    rng = np.random.default_rng(0)
    inst = Instance(W_p=np.eye(3), weights=[1.0, 2.0, 0.5], encoder_bias=True)
    W_D, W_E, b_E = rng.normal(size=(3, 4)), rng.normal(size=(4, 3)), 0.1 * rng.normal(size=4)
    for dtype, tol in ((torch.float32, 1e-4), (torch.float64, 1e-10)):
        tD, tE, tb = _tensors(W_D, W_E, b_E, dtype, device="cuda")
        loss = approx_loss(inst, tD, tE, tb)
        assert loss.device.type == "cuda" and loss.dtype == dtype
        loss.backward()
        g = gradients(inst, W_D, W_E, b_E)
        np.testing.assert_allclose(tE.grad.double().cpu().numpy(), g.W_E, rtol=tol, atol=tol)
        np.testing.assert_allclose(float(loss), np_objective.approx_loss(inst, W_D, W_E, b_E), rtol=tol)


def test_dtype_and_device_follow_the_inputs():
    inst = Instance(W_p=np.eye(2), weights=[1.0, 1.0])
    tD, tE, _ = _tensors(np.eye(2), np.eye(2), None, torch.float32)
    assert approx_loss(inst, tD, tE).dtype == torch.float32
    X = torch.eye(2, dtype=torch.float32)
    assert sample_losses(inst, tD, tE, None, X).dtype == torch.float32


def test_bad_inputs_are_clear_errors():
    inst = Instance(W_p=np.eye(2), weights=[1.0, 1.0])
    tD64, tE64, _ = _tensors(np.eye(2), np.eye(2), None, torch.float64)
    tD32, tE32, _ = _tensors(np.eye(2), np.eye(2), None, torch.float32)
    with pytest.raises(SDLInputError, match="dtype|float"):
        approx_loss(inst, tD32, tE64)
    with pytest.raises(SDLInputError, match="W_D must be"):
        approx_loss(inst, torch.zeros(2, 3, dtype=torch.float64), tE64)
    with pytest.raises(SDLInputError, match="encoder_bias"):
        approx_loss(inst, tD64, tE64, torch.zeros(2, dtype=torch.float64))
    with pytest.raises(SDLInputError, match="samples"):
        sample_losses(inst, tD64, tE64, None, torch.zeros(3, 5, dtype=torch.float64))
    with pytest.raises(SDLInputError, match="numpy"):
        approx_loss(inst, np.eye(2), np.eye(2))


def test_sample_losses_equal_numpy():
    rng = np.random.default_rng(3)
    inst = Instance(W_p=np.linalg.qr(rng.normal(size=(4, 4)))[0][:, :3], weights=[1.0, 1.0, 1.0])
    W_D, W_E = rng.normal(size=(4, 5)), rng.normal(size=(5, 4))
    X = rng.exponential(size=(50, 3)) * (rng.random((50, 3)) < 0.4)
    tD, tE, _ = _tensors(W_D, W_E, None, torch.float64, grad=False)
    got = sample_losses(inst, tD, tE, None, torch.tensor(X))
    np.testing.assert_allclose(got.numpy(), np_objective.sample_losses(inst, W_D, W_E, None, X), rtol=1e-12)


# --- exact L against L̃ as p → 0 (C1) -----------------------------------------------------------------

def _exact_L(inst, W_D, W_E, p, c):
    """L by enumerating all 2^n active sets at constant magnitude c (exact, no sampling)."""
    n = inst.n
    masks = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    probs = np.prod(np.where(masks > 0, p, 1 - p), axis=1)
    tD, tE, _ = _tensors(W_D, W_E, None, torch.float64, grad=False)
    return float(exact_loss(inst, tD, tE, None, torch.tensor(c * masks), torch.tensor(probs)))


def _gap_ratios(inst0, W_D, W_E, c, ps):
    out = []
    for p in ps:
        inst = Instance(W_p=inst0.W_p, W_r=None if inst0.is_sae else inst0.W_r, activation=inst0.activation,
                        distribution=FeatureDistribution.uniform(inst0.n, p, Constant(c)))
        tD, tE, _ = _tensors(W_D, W_E, None, torch.float64, grad=False)
        L_tilde = float(approx_loss(inst, tD, tE))
        out.append(abs(_exact_L(inst, W_D, W_E, p, c) - L_tilde) / p)
    return out


@settings(max_examples=25, **SETTINGS)
@given(st.data(), st.floats(0.5, 2.0))
def test_exact_loss_approaches_approx_loss_where_hypotheses_hold(data, c):
    # Hypotheses that plainly hold here: positively homogeneous σ (ReLU, TopK, TopK∘ReLU), no encoder
    # bias, bounded (constant) magnitudes, independent features. Then single-feature inputs contribute
    # exactly L̃ and the rest is O(p²), so |L − L̃| / p must shrink ~linearly in p. We measure the rate;
    # we do not assume C1's constant n² C (1−S)².
    inst = data.draw(instances(max_n=5, families=("relu", "topk", "topk_relu"), bias=False))
    W_D, W_E, _ = data.draw(parameters(inst, max_q=4))
    ps = [1e-1, 1e-2, 1e-3]
    r = _gap_ratios(inst, W_D, W_E, c, ps)
    assert all(np.isfinite(r))
    assert r[2] <= 0.05 * r[0] + 1e-12, f"|L − L̃|/p did not shrink with p: {r}"
    assert r[1] <= 0.2 * r[0] + 1e-12, f"|L − L̃|/p did not shrink with p: {r}"


def test_exact_loss_gap_does_not_vanish_for_jumprelu_below_threshold():
    # JumpReLU(θ=0.5) is not positively homogeneous: with magnitude c = 0.4 a feature alone never
    # clears θ, while L̃ evaluates it at unit magnitude. Hand check: W_E = W_D = I, orthonormal features
    # ⇒ L̃ = 0 and the single-feature part of L is Σ_d p(1−p) c² ⇒ |L − L̃|/p → n c² = 0.32.
    inst = Instance(W_p=np.eye(2), activation=JumpReLU(theta=0.5), distribution=FeatureDistribution.uniform(2, 0.1))
    r = _gap_ratios(inst, np.eye(2), np.eye(2), 0.4, [1e-1, 1e-2, 1e-3])
    assert r[2] == pytest.approx(0.32, rel=1e-2)
