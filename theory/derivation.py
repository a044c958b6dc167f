"""Symbolic derivation of the approximate objective L̃ inside an activation region (C2–C8).

Inside a region ``Ω_P`` every unit is either on (``σ(z)_i = z_i``) or off (``σ(z)_i = 0``), so with
the diagonal selection matrix ``S_d = diag(1{unit i on for feature d})``

    ℓ_d = M_d ||w_r^d − W_D S_d (W_E w_p^d + b)||²,        L̃ = Σ_d ℓ_d,

a polynomial. Two symbolic forms are derived once (and cached):

- :func:`matrix_form` — sympy matrix calculus on ``MatrixSymbol`` s of *symbolic* size
  (``n_p``, ``n_r``, ``n_q``): gradients, Hessian blocks (as array expressions), stationarity
  conditions and the least-squares decoder, valid for every dimension and every pattern.
- :func:`block_form` — the per-neuron block form for a neuron ``i`` that is the only one on for its
  features ``F_i = {1, …, m}`` (a partition pattern), with a symbolic number ``m`` of features:
  activations ``a_d = <w_E^i, w_p^d> + b_i``, decoder column ``u``, weights ``M_d`` and Gram
  entries ``c_d = <u, w_r^d>``, ``q = ||u||²``, ``g_d = ||w_r^d||²``. Vector gradients follow by the
  chain rule through the Gram entries: ``∇_u = Σ_d ∂L/∂c_d w_r^d + 2 ∂L/∂q u``,
  ``∇_{w_E} = Σ_d ∂L/∂a_d w_p^d``, ``∂L/∂b = Σ_d ∂L/∂a_d``.

Both are lambdified to numpy and specialised to numbers afterwards: :func:`gradients`,
:func:`hessian`, :func:`least_squares_decoder`, :func:`stationarity_residual`. The vectorised
evaluators (``method="vectorized"``) are the same formulas written with numpy broadcasting for large
models; the test-suite checks them against the lambdified symbolic ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from theory.errors import SDLInputError
from theory.instance import Instance
from theory.objective import single_feature_codes

# --------------------------------------------------------------------------------------------
# Matrix form (any dimension)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixForm:
    """Symbolic per-feature loss term and its derivatives; sum over features ``d`` for L̃."""

    symbols: dict
    loss_term: sp.Expr
    residual: sp.MatrixExpr
    grad_D: sp.MatrixExpr
    grad_E: sp.MatrixExpr
    grad_b: sp.MatrixExpr
    hessian: dict  # name -> array expression: "DD", "EE", "bb", "DE", "Db", "Eb"
    gram_G: sp.MatrixExpr  # G_d = M_d s_d s_d^T
    rhs_B: sp.MatrixExpr  # B_d = M_d w_r s_d^T
    decoder_gradient_identity: sp.MatrixExpr  # grad_D − 2 (W_D G_d − B_d): simplifies to 0


@lru_cache(maxsize=1)
def matrix_form() -> MatrixForm:
    n_p, n_r, n_q = sp.symbols("n_p n_r n_q", integer=True, positive=True)
    W_E = sp.MatrixSymbol("W_E", n_q, n_p)
    W_D = sp.MatrixSymbol("W_D", n_r, n_q)
    b = sp.MatrixSymbol("b", n_q, 1)
    S = sp.MatrixSymbol("S_d", n_q, n_q)
    # feature d's columns; plain identifiers so that lambdify can name its arguments
    w_p = sp.MatrixSymbol("w_p", n_p, 1)
    w_r = sp.MatrixSymbol("w_r", n_r, 1)
    M = sp.Symbol("M_d", positive=True)
    s = S * (W_E * w_p + b)  # σ(W_E w_p^d + b) inside the region
    r = w_r - W_D * s
    # Trace of a 1×1 product keeps sympy's matrix calculus in matrix (not array) form.
    loss = M * sp.Trace(r.T * r)
    grad_D, grad_E, grad_b = loss.diff(W_D), loss.diff(W_E), loss.diff(b)
    hess = {
        "DD": grad_D.diff(W_D),
        "EE": grad_E.diff(W_E),
        "bb": grad_b.diff(b),
        "DE": grad_D.diff(W_E),
        "Db": grad_D.diff(b),
        "Eb": grad_E.diff(b),
    }
    G = M * s * s.T
    B = M * w_r * s.T
    identity = (grad_D - 2 * (W_D * G - B)).expand().doit()
    syms = dict(n_p=n_p, n_r=n_r, n_q=n_q, W_E=W_E, W_D=W_D, b=b, S=S, w_p=w_p, w_r=w_r, M=M)
    return MatrixForm(syms, loss, r, grad_D, grad_E, grad_b, hess, G, B, identity)


@lru_cache(maxsize=16)
def _matrix_functions(n_p: int, n_r: int, n_q: int):
    """Lambdify the matrix form at concrete sizes (numpy cannot print ``Identity(n)`` of symbolic ``n``)."""
    mf = matrix_form()
    s = mf.symbols
    sizes = {s["n_p"]: n_p, s["n_r"]: n_r, s["n_q"]: n_q}
    args = [s[k].subs(sizes) for k in ("W_D", "W_E", "b", "S", "w_p", "w_r")] + [s["M"]]
    exprs = {"grad_D": mf.grad_D, "grad_E": mf.grad_E, "grad_b": mf.grad_b}
    exprs.update({f"H_{k}": v for k, v in mf.hessian.items()})
    return {name: sp.lambdify(args, expr.subs(sizes), "numpy") for name, expr in exprs.items()}


# --------------------------------------------------------------------------------------------
# Per-neuron block form (symbolic number of features m)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockForm:
    """Neuron ``i`` alone on its features ``d = 1..m`` (partition pattern), in Gram coordinates.

    ``loss = Σ_d M_d (g_d − 2 a_d c_d + a_d² q)`` = ``Σ_d M_d ||w_r^d − a_d u||²``.
    Vector results are stored as coefficients on the vectors they multiply:
    ``grad_u = Σ_d grad_u_coef_w[d]·w_r^d + grad_u_coef_u·u`` and ``grad_e = Σ_d grad_e_coef[d]·w_p^d``.
    """

    symbols: dict
    loss: sp.Expr
    dL_da: sp.Expr  # ∂L/∂a_j (j a symbolic index in 1..m)
    dL_dc: sp.Expr  # ∂L/∂c_j
    dL_dq: sp.Expr
    grad_u_coef_w: sp.Expr  # coefficient of w_r^j in ∇_u L
    grad_u_coef_u: sp.Expr  # coefficient of u in ∇_u L
    grad_e_coef: sp.Expr  # coefficient of w_p^j in ∇_{w_E} L  (and the summand of ∂L/∂b)
    hess_uu: sp.Expr  # ∇²_u L = hess_uu · I (no c–c or q–c second derivatives)
    hess_ee_coef: sp.Expr  # ∇²_e L = Σ_{j} hess_ee_coef(j) w_p^j w_p^jᵀ
    hess_ue_coef_w: sp.Expr  # ∇_u∇_e L = Σ_j (hess_ue_coef_w(j) w_r^j + hess_ue_coef_u(j) u) w_p^jᵀ
    hess_ue_coef_u: sp.Expr
    ls_decoder: sp.Expr  # u* = Σ_d ls_decoder_coef(d) w_r^d, as the coefficient of w_r^j
    ls_decoder_check: sp.Expr  # ∇_u at u* projected on w_r^j, simplified (0 when the solve is right)
    encoder_stationarity: sp.Expr  # coefficient of w_p^j in ∇_e at u = u*: M_j (c_j − a_j q), must vanish as a vector sum


def _pick(expr: sp.Expr, j: sp.Symbol) -> sp.Expr:
    """Evaluate ``Sum(f(d) δ_{d j}, (d, 1, m))`` to ``f(j)`` (``j`` is assumed to lie in ``1..m``)."""
    expr = expr.doit()
    return sp.piecewise_fold(expr).replace(
        lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0][0]
    ).simplify()


@lru_cache(maxsize=1)
def block_form() -> BlockForm:
    m = sp.Symbol("m", integer=True, positive=True)
    d, j = sp.symbols("d j", integer=True, positive=True)
    M, a, c, g = (sp.IndexedBase(s) for s in ("M", "a", "c", "g"))
    q = sp.Symbol("q", nonnegative=True)
    loss = sp.Sum(M[d] * (g[d] - 2 * a[d] * c[d] + a[d] ** 2 * q), (d, 1, m))
    dL_da = _pick(loss.diff(a[j]), j)
    dL_dc = _pick(loss.diff(c[j]), j)
    dL_dq = loss.diff(q)
    hess_uu = 2 * dL_dq  # ∂²L/∂c² = 0 and ∂²L/∂q∂c = 0, ∂²L/∂q² = 0
    hess_ee = _pick(sp.diff(dL_da, a[j]), j)
    hess_ue_w = sp.diff(dL_da, c[j])  # through c_j = <u, w_r^j>
    hess_ue_u = 2 * sp.diff(dL_da, q)  # through q = ||u||²
    # least squares: ∇_u = Σ_d (−2 M_d a_d) w_r^d + 2 (Σ M_d a_d²) u = 0  ⇒  u* = Σ_d M_d a_d w_r^d / Σ M_d a_d²
    denom = sp.Sum(M[d] * a[d] ** 2, (d, 1, m))
    ls_coef = M[j] * a[j] / denom
    check = sp.simplify(dL_dc + 2 * dL_dq * ls_coef)  # coefficient of w_r^j in ∇_u(u*)
    enc = sp.factor(dL_da)  # = 2 M_j (a_j q − c_j)
    syms = dict(m=m, d=d, j=j, M=M, a=a, c=c, g=g, q=q)
    return BlockForm(syms, loss, dL_da, dL_dc, dL_dq, dL_dc, 2 * dL_dq, dL_da, hess_uu, hess_ee,
                     hess_ue_w, hess_ue_u, ls_coef, check, enc)


# --------------------------------------------------------------------------------------------
# Numeric specialisation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gradients:
    """∂L̃/∂W_D, ∂L̃/∂W_E and (with an encoder bias) ∂L̃/∂b at a point, inside its region."""

    W_D: np.ndarray
    W_E: np.ndarray
    b_E: np.ndarray | None


@dataclass(frozen=True)
class HessianBlocks:
    """Hessian blocks of L̃ on row-major ``vec(W_D)``, ``vec(W_E)`` and ``b``."""

    DD: np.ndarray
    EE: np.ndarray
    DE: np.ndarray
    bb: np.ndarray | None = None
    Db: np.ndarray | None = None
    Eb: np.ndarray | None = None

    def full(self) -> np.ndarray:
        """The symmetric Hessian over ``(vec W_D, vec W_E[, b])``."""
        if self.bb is None:
            return np.block([[self.DD, self.DE], [self.DE.T, self.EE]])
        return np.block([[self.DD, self.DE, self.Db], [self.DE.T, self.EE, self.Eb], [self.Db.T, self.Eb.T, self.bb]])


def _point(instance: Instance, W_D, W_E, b_E):
    W_D, W_E, b = instance.check_params(W_D, W_E, b_E)
    mask = instance.activation.active(instance.pre_activations(W_E, b))
    return W_D, W_E, b, mask


def _choose(method: str, instance: Instance, n_q: int) -> str:
    if method == "auto":
        return "symbolic" if instance.n * n_q * n_q <= 200_000 else "vectorized"
    if method not in ("symbolic", "vectorized"):
        raise SDLInputError(f"method must be 'auto', 'symbolic' or 'vectorized', got {method!r}")
    return method


def _per_feature_args(instance: Instance, W_D, W_E, b, mask):
    for d in range(instance.n):
        yield (W_D, W_E, b[:, None], np.diag(mask[d].astype(float)), instance.W_p[:, d:d + 1],
               instance.W_r[:, d:d + 1], float(instance.weights[d]))


def gradients(instance: Instance, W_D, W_E, b_E=None, *, method: str = "auto") -> Gradients:
    """Gradients of L̃ at ``(W_D, W_E, b_E)`` inside its activation region (C2, C5, C6)."""
    W_D, W_E, b, mask = _point(instance, W_D, W_E, b_E)
    if _choose(method, instance, W_E.shape[0]) == "symbolic":
        fn = _matrix_functions(instance.n_p, instance.n_r, W_E.shape[0])
        gD, gE, gb = np.zeros_like(W_D), np.zeros_like(W_E), np.zeros((W_E.shape[0], 1))
        for args in _per_feature_args(instance, W_D, W_E, b, mask):
            gD += fn["grad_D"](*args)
            gE += fn["grad_E"](*args)
            gb += fn["grad_b"](*args)
        gb = gb[:, 0]
    else:
        # Σ_d −2 M_d r_d s_dᵀ, Σ_d −2 M_d (S_d W_Dᵀ r_d) w_p^dᵀ, Σ_d −2 M_d S_d W_Dᵀ r_d
        X_q = np.where(mask, instance.pre_activations(W_E, b), 0.0)
        R = instance.W_r.T - X_q @ W_D.T
        MR = instance.weights[:, None] * R
        gD = -2 * MR.T @ X_q
        back = mask * (MR @ W_D)  # row d: S_d W_Dᵀ M_d r_d
        gE = -2 * back.T @ instance.W_p.T
        gb = -2 * back.sum(axis=0)
    return Gradients(gD, gE, gb if instance.encoder_bias else None)


def _to_matrix(arr: np.ndarray, rows: tuple[int, int], cols: tuple[int, int]) -> np.ndarray:
    """Reshape sympy's 4-index derivative ``∂(∂L/∂X)/∂Y`` (Y indices first, then X) to ``[vec X, vec Y]``."""
    arr = np.asarray(arr, dtype=float).reshape(cols + rows)
    return arr.reshape(cols[0] * cols[1], rows[0] * rows[1]).T


def hessian(instance: Instance, W_D, W_E, b_E=None) -> HessianBlocks:
    """Hessian blocks of L̃ at a point inside its region, from the lambdified symbolic forms (C2)."""
    W_D, W_E, b, mask = _point(instance, W_D, W_E, b_E)
    fn = _matrix_functions(instance.n_p, instance.n_r, W_E.shape[0])
    shp = {"D": W_D.shape, "E": W_E.shape, "b": (W_E.shape[0], 1)}
    acc = {k: np.zeros((shp[k[0]][0] * shp[k[0]][1], shp[k[1]][0] * shp[k[1]][1])) for k in ("DD", "EE", "bb", "DE", "Db", "Eb")}
    for args in _per_feature_args(instance, W_D, W_E, b, mask):
        for k in acc:
            acc[k] += _to_matrix(fn[f"H_{k}"](*args), shp[k[0]], shp[k[1]])
    if instance.encoder_bias:
        return HessianBlocks(acc["DD"], acc["EE"], acc["DE"], acc["bb"], acc["Db"], acc["Eb"])
    return HessianBlocks(acc["DD"], acc["EE"], acc["DE"])


def least_squares_decoder(instance: Instance, W_E, b_E=None) -> np.ndarray:
    """The decoder minimising L̃(·, W_E): ``W_D* = B G⁺`` with ``G = Σ_d M_d s_d s_dᵀ``,
    ``B = Σ_d M_d w_r^d s_dᵀ``, ``s_d = σ(W_E w_p^d + b)`` (the normal equations of the matrix form;
    the minimum-norm solution when G is singular, e.g. with dead neurons). For a partition pattern
    column ``i`` reduces to the block form's ``u* = Σ_{d∈F_i} M_d a_d w_r^d / Σ_{d∈F_i} M_d a_d²``."""
    W_E = np.asarray(W_E, dtype=float)
    if W_E.ndim != 2 or W_E.shape[1] != instance.n_p:
        raise SDLInputError(f"W_E must be n_q × n_p = ? × {instance.n_p}, got shape {W_E.shape}")
    if b_E is not None and not instance.encoder_bias:
        raise SDLInputError("b_E given but the instance has encoder_bias=False")
    X_q = single_feature_codes(instance, W_E, b_E)
    G = X_q.T @ (instance.weights[:, None] * X_q)
    B = instance.W_r @ (instance.weights[:, None] * X_q)
    return B @ np.linalg.pinv(G, rcond=1e-12, hermitian=True)


def stationarity_residual(instance: Instance, W_D, W_E, b_E=None, *, method: str = "auto") -> dict:
    """Frobenius norms of the gradient blocks (0 at a stationary point of L̃ in its region)."""
    g = gradients(instance, W_D, W_E, b_E, method=method)
    out = {"decoder": float(np.linalg.norm(g.W_D)), "encoder": float(np.linalg.norm(g.W_E))}
    if g.b_E is not None:
        out["bias"] = float(np.linalg.norm(g.b_E))
    return out


# --------------------------------------------------------------------------------------------
# A derivation for a family / pattern / instance, and its printing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Derivation:
    """Everything derived for one activation family (and optionally one pattern/instance)."""

    activation: object
    encoder_bias: bool = False
    pattern: object | None = None
    instance: Instance | None = None
    matrix: MatrixForm = field(default_factory=matrix_form)
    block: BlockForm = field(default_factory=block_form)


def derive(activation=None, *, pattern=None, instance: Instance | None = None, encoder_bias: bool | None = None) -> Derivation:
    """Derive gradients, Hessian blocks and stationarity conditions of L̃ for a family/pattern/instance."""
    from theory.activations import Activation, ReLU
    from theory.patterns import as_pattern

    if instance is not None:
        activation = activation or instance.activation
        encoder_bias = instance.encoder_bias if encoder_bias is None else encoder_bias
    activation = activation or ReLU()
    if not isinstance(activation, Activation):
        raise SDLInputError(f"activation must be a theory.activations family, got {activation!r}")
    if pattern is not None and instance is not None:
        pattern = as_pattern(pattern, instance)
    return Derivation(activation, bool(encoder_bias), pattern, instance)
