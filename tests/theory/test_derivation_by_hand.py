"""theory.derivation by hand: the general (C_d, units × pre-activations) Hessian actions in residual form against
finite differences of the gradients written here, tied Gated gradients with a bias left implicit, refusal texts."""
import numpy as np
import sympy as sp

from theory import Instance
from theory.activations import Gated
from theory.derivation import derive, hessian_actions, least_squares_decoder, tied_gated_gradients
from theory.objective import approx_loss


def _grads(W_D, W_E, b, C, w_p, w_r, M):
    """∇ of ℓ = M ||w_r − W_D C (W_E w_p + b)||² by hand: −2M r sᵀ, −2M Cᵀ W_Dᵀ r w_pᵀ, −2M Cᵀ W_Dᵀ r."""
    r = w_r - W_D @ C @ (W_E @ w_p + b)
    back = C.T @ W_D.T @ r
    return {"D": -2 * M * r @ (C @ (W_E @ w_p + b)).T, "E": -2 * M * back @ w_p.T, "b": -2 * M * back}


def test_general_hessian_actions_in_residual_form_match_finite_differences():
    ha = hessian_actions(general=True)
    s = ha.symbols
    n_p, n_r, n_q, n_e = 2, 3, 2, 4   # C_d is 2 × 4: not square, so C_dᵀ must stay a transpose
    sizes = {s["n_p"]: n_p, s["n_r"]: n_r, s["n_q"]: n_q, s["n_e"]: n_e}
    rng = np.random.default_rng(5)
    W_D, W_E, b = rng.normal(size=(n_r, n_q)), rng.normal(size=(n_e, n_p)), rng.normal(size=(n_e, 1))
    C, w_p, w_r, M = rng.normal(size=(n_q, n_e)), rng.normal(size=(n_p, 1)), rng.normal(size=(n_r, 1)), 1.7
    delta = {"D": rng.normal(size=W_D.shape), "E": rng.normal(size=W_E.shape), "b": rng.normal(size=b.shape)}
    z = W_E @ w_p + b
    r = w_r - W_D @ C @ z
    names = ["W_D", "W_E", "b", "S", "w_p", "w_r", "M", "Delta_D", "Delta_E", "Delta_b", "z", "r"]
    args = [s[k].subs(sizes) if hasattr(s[k], "subs") else s[k] for k in names]
    vals = [W_D, W_E, b, C, w_p, w_r, M, delta["D"], delta["E"], delta["b"], z, r]
    h = 1e-5
    point = {"D": W_D, "E": W_E, "b": b}
    for Y in "DEb":
        up, down = dict(point), dict(point)
        up[Y], down[Y] = point[Y] + h * delta[Y], point[Y] - h * delta[Y]
        g_up = _grads(up["D"], up["E"], up["b"], C, w_p, w_r, M)
        g_down = _grads(down["D"], down["E"], down["b"], C, w_p, w_r, M)
        for X in "DEb":
            want = (g_up[X] - g_down[X]) / (2 * h)
            got = np.asarray(sp.lambdify(args, ha.block(X, Y).subs(sizes), "numpy")(*vals), dtype=float)
            np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-6, atol=1e-6)


def test_tied_gated_gradients_with_a_bias_not_given_read_it_as_zero(central_gradient):
    inst = Instance(W_p=np.eye(2), weights=[1.0, 2.0], activation=Gated(tied=True), encoder_bias=True)
    W_gate = np.array([[1.0, 0.2], [-0.3, 0.8]])
    r = np.array([0.1, -0.2])
    W_D = np.array([[0.9, 0.1], [0.2, 0.7]])
    out = tied_gated_gradients(inst, W_D, W_gate, r)
    assert sorted(out) == ["W_D", "W_gate", "b_gate", "b_mag", "r"]
    W_E = np.vstack([W_gate, np.exp(r)[:, None] * W_gate])

    def loss(b):
        return approx_loss(inst, W_D, W_E, b)

    fd = central_gradient(loss, np.zeros(4))
    np.testing.assert_allclose(out["b_mag"], fd[2:], atol=1e-6)
    np.testing.assert_allclose(out["b_gate"], 0.0, atol=1e-12)   # the gate only selects the pattern


def test_refusals_name_their_arguments(refuses):
    inst = Instance(W_p=np.eye(2))
    refuses(lambda: derive(instance="x"), "instance must be a theory.Instance or None, got 'x'")
    refuses(lambda: least_squares_decoder(inst, np.zeros((2, 3))),
            "W_E must have shape ? × 2 (encoder, n_q × n_p), got (2, 3)")
