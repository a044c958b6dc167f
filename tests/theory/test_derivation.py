"""theory.derivation: symbolic vs vectorised vs finite differences; block form vs matrix form (C2, C5, C6)."""
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from theory.activations import ReLU, TopKReLU
from theory.derivation import (block_form, block_form_problem, block_stationarity_at_least_squares, derive,
                               gradients, hessian, hessian_actions, least_squares_decoder, matrix_form,
                               neuron_blocks, stationarity_residual)
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.objective import approx_loss, single_feature_codes
from theory.patterns import ActivationPattern, pattern_of
from theory.strategies import instances, points_in_region

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


def _finite_difference(f, X, h=1e-6):
    G = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        E = np.zeros_like(X)
        E[idx] = h
        G[idx] = (f(X + E) - f(X - E)) / (2 * h)
    return G


@settings(max_examples=30, **SETTINGS)
@given(st.data())
def test_symbolic_vectorized_and_finite_differences_agree(data):
    inst = data.draw(instances())
    W_D, W_E, b_E = data.draw(points_in_region(inst, max_q=4, min_margin=1e-2))
    sym = gradients(inst, W_D, W_E, b_E, method="symbolic")
    vec = gradients(inst, W_D, W_E, b_E, method="vectorized")
    np.testing.assert_allclose(sym.W_D, vec.W_D, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(sym.W_E, vec.W_E, rtol=1e-10, atol=1e-10)
    # central differences with h = 1e-6 stay inside the region (margin 1e-2 on pre-activations)
    fd_D = _finite_difference(lambda X: approx_loss(inst, X, W_E, b_E), W_D)
    fd_E = _finite_difference(lambda X: approx_loss(inst, W_D, X, b_E), W_E)
    tol = 1e-5 * (1 + np.abs(sym.W_E).max() + np.abs(sym.W_D).max())
    np.testing.assert_allclose(sym.W_D, fd_D, atol=tol)
    np.testing.assert_allclose(sym.W_E, fd_E, atol=tol)
    if inst.encoder_bias:
        np.testing.assert_allclose(sym.b_E, vec.b_E, rtol=1e-10, atol=1e-10)
        fd_b = _finite_difference(lambda x: approx_loss(inst, W_D, W_E, x), b_E)
        np.testing.assert_allclose(sym.b_E, fd_b, atol=tol)
    else:
        assert sym.b_E is None and vec.b_E is None


@settings(max_examples=30, **SETTINGS)
@given(st.data())
def test_block_form_equals_matrix_form_on_partition_patterns(data):
    # TopK∘ReLU(1) switches on at most one neuron per feature; ReLU points are kept when they happen to
    inst = data.draw(instances(families=("topk_relu", "relu")))
    if inst.activation.name == "topk_relu":
        inst = inst.replace(activation=TopKReLU(k=1))
    W_D, W_E, b_E = data.draw(points_in_region(inst, max_q=4, min_margin=1e-2))
    P = pattern_of(inst, W_E, b_E)
    assume(block_form_problem(P) is None)
    blocks = neuron_blocks(inst, W_D, W_E, b_E)
    g = gradients(inst, W_D, W_E, b_E)
    W_ls = least_squares_decoder(inst, W_E, b_E)
    assert [b.features for b in blocks] == [tuple(sorted(F)) for F in P.firing]
    for blk in blocks:
        i = blk.neuron
        np.testing.assert_allclose(blk.grad_decoder, g.W_D[:, i], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(blk.grad_encoder, g.W_E[i], rtol=1e-9, atol=1e-9)
        if inst.encoder_bias:
            assert blk.grad_bias == pytest.approx(g.b_E[i], rel=1e-9, abs=1e-9)
        if blk.features:
            np.testing.assert_allclose(blk.ls_decoder, W_ls[:, i], rtol=1e-7, atol=1e-9)
            # encoder gradient at u* from the block form equals the matrix form at W_D = W_ls
            g_ls = gradients(inst, W_ls, W_E, b_E)
            np.testing.assert_allclose(blk.grad_encoder_at_ls, g_ls.W_E[i], rtol=1e-7, atol=1e-8)
        else:
            assert blk.ls_decoder is None
            np.testing.assert_allclose(W_ls[:, i], 0.0, atol=1e-12)  # min-norm: dead column is 0


@settings(max_examples=30, **SETTINGS)
@given(st.data())
def test_least_squares_decoder_satisfies_normal_equations(data):
    inst = data.draw(instances())
    W_D, W_E, b_E = data.draw(points_in_region(inst, max_q=5))
    X_q = single_feature_codes(inst, W_E, b_E)
    G = X_q.T @ (inst.weights[:, None] * X_q)
    B = inst.W_r @ (inst.weights[:, None] * X_q)
    W_ls = least_squares_decoder(inst, W_E, b_E)
    scale = 1 + np.abs(B).max()
    np.testing.assert_allclose(W_ls @ G, B, atol=1e-8 * scale)
    assert stationarity_residual(inst, W_ls, W_E, b_E)["decoder"] < 1e-7 * scale
    # minimum norm: no component in the null space of G
    null = np.linalg.svd(G)[2][np.linalg.svd(G)[1] < 1e-10 * max(1.0, np.abs(G).max())]
    if null.size:
        np.testing.assert_allclose(W_ls @ null.T, 0.0, atol=1e-8)
    # no other decoder does better
    assert approx_loss(inst, W_ls, W_E, b_E) <= approx_loss(inst, W_D, W_E, b_E) + 1e-9


@settings(max_examples=20, **SETTINGS)
@given(st.data(), st.integers(0, 2**31 - 1))
def test_hessian_actions_equal_numeric_blocks(data, seed):
    inst = data.draw(instances(max_n=3, max_dim=3, bias=True))
    W_D, W_E, b_E = data.draw(points_in_region(inst, max_q=3, min_margin=1e-2))
    H = hessian(inst, W_D, W_E, b_E)
    ha = hessian_actions()
    s = ha.symbols
    n_q = W_E.shape[0]
    sizes = {s["n_p"]: inst.n_p, s["n_r"]: inst.n_r, s["n_q"]: n_q}
    rng = np.random.default_rng(seed)
    delta = {"D": rng.normal(size=W_D.shape), "E": rng.normal(size=W_E.shape), "b": rng.normal(size=(n_q, 1))}
    mask = inst.activation.active(inst.pre_activations(W_E, b_E))
    names = ["W_D", "W_E", "b", "S", "w_p", "w_r", "M", "Delta_D", "Delta_E", "Delta_b", "z", "r"]
    args_sym = [s[k].subs(sizes) if hasattr(s[k], "subs") else s[k] for k in names]
    numeric = {"DD": H.DD, "DE": H.DE, "Db": H.Db, "ED": H.DE.T, "EE": H.EE, "Eb": H.Eb,
               "bD": H.Db.T, "bE": H.Eb.T, "bb": H.bb}
    shapes = {"D": W_D.shape, "E": W_E.shape, "b": (n_q, 1)}
    for X in "DEb":
        for Y in "DEb":
            f_exp = sp.lambdify(args_sym, ha.blocks[X + Y].subs(sizes), "numpy")
            f_res = sp.lambdify(args_sym, ha.block(X, Y).subs(sizes), "numpy")
            tot_exp, tot_res = np.zeros(shapes[X]), np.zeros(shapes[X])
            for d in range(inst.n):
                S = np.diag(mask[d].astype(float))
                z = W_E @ inst.W_p[:, d:d + 1] + b_E[:, None]
                r = inst.W_r[:, d:d + 1] - W_D @ S @ z
                vals = [W_D, W_E, b_E[:, None], S, inst.W_p[:, d:d + 1], inst.W_r[:, d:d + 1], float(inst.weights[d]),
                        delta["D"], delta["E"], delta["b"], z, r]
                tot_exp += np.asarray(f_exp(*vals), dtype=float).reshape(shapes[X])
                tot_res += np.asarray(f_res(*vals), dtype=float).reshape(shapes[X])
            want = (numeric[X + Y] @ delta[Y].reshape(-1)).reshape(shapes[X])
            np.testing.assert_allclose(tot_exp, want, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(tot_res, want, rtol=1e-9, atol=1e-9)


def test_symbolic_identities_hold():
    assert matrix_form().decoder_gradient_identity == 0 or isinstance(matrix_form().decoder_gradient_identity, sp.ZeroMatrix)
    bf = block_form()
    assert bf.ls_decoder_check == 0
    assert block_stationarity_at_least_squares()["check"] == 0
    M, a, c, q, j = bf.symbols["M"], bf.symbols["a"], bf.symbols["c"], bf.symbols["q"], bf.symbols["j"]
    assert sp.simplify(bf.dL_da - 2 * M[j] * (a[j] * q - c[j])) == 0
    assert sp.simplify(bf.hess_ee_coef - 2 * q * M[j]) == 0


def test_c5_example_is_stationary_with_unit_loss():
    # C5 (Example 3.5): hand-checked — both gradients vanish in the region and L̃ = 1
    inst = Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=TopKReLU(k=1))
    W_E = np.array([[1.0, 1.0], [0.0, 0.0]])
    W_D = np.array([[0.5, 0.0], [0.5, 0.0]])
    res = stationarity_residual(inst, W_D, W_E)
    assert res["decoder"] < 1e-12 and res["encoder"] < 1e-12
    assert approx_loss(inst, W_D, W_E) == pytest.approx(1.0)


def test_block_form_rejects_overlapping_patterns():
    inst = Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=ReLU())
    P = ActivationPattern.from_sets([{0, 1}, {1}], 2)
    assert "more than one neuron" in block_form_problem(P)
    with pytest.raises(SDLInputError, match="block form"):
        neuron_blocks(inst, np.eye(2), np.array([[1.0, 1.0], [0.0, 1.0]]))


def test_unequal_weights_break_encoder_stationarity_at_ls_decoder():
    # C6's proof step "the encoder gradient vanishes at the least-squares decoder" checked on a hand
    # instance: orthonormal features, M = (1, 2), one neuron on both with a_1 = a_2 = 1. Then
    # u* = (w_1 + 2 w_2)/3, c* = (1/3, 2/3), q* = 5/9 and M_j (c_j* − a_j q*) = (−2/9, +2/9) ≠ 0.
    inst = Instance(W_p=np.eye(2), weights=[1.0, 2.0])
    W_E = np.array([[1.0, 1.0]])
    (blk,) = neuron_blocks(inst, least_squares_decoder(inst, W_E), W_E)
    np.testing.assert_allclose(blk.encoder_coefficients_at_ls, [-2 / 9, 2 / 9], atol=1e-12)
    assert np.linalg.norm(blk.grad_encoder_at_ls) > 0.1


def test_derive_validates_and_keeps_inputs():
    inst = Instance(W_p=np.eye(2), weights=[1.0, 1.0])
    d = derive(instance=inst, pattern=[{0}, {1}])
    assert isinstance(d.pattern, ActivationPattern) and d.activation == inst.activation
    with pytest.raises(SDLInputError):
        derive("relu")
    with pytest.raises(SDLInputError, match="features"):
        derive(instance=inst, pattern=[{0, 5}])


def test_importing_theory_does_not_import_torch():
    code = ("import sys, theory, theory.derivation, theory.printing, theory.strategies, theory.patterns; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
