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

from theory import validation as V
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.objective import single_feature_codes, sparse_if_sparse

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


@lru_cache(maxsize=2)
def matrix_form(general: bool = False) -> MatrixForm:
    """The matrix form with ``S_d`` the diagonal selection (one pre-activation per unit), or with
    ``general=True`` a units × pre-activations output matrix ``C_d`` (``σ(z_d) = C_d z_d`` in the region,
    ``n_e`` encoder rows: e.g. ``C_d = [0 | diag(gate open)]`` for a Gated unit)."""
    n_p, n_r, n_q = sp.symbols("n_p n_r n_q", integer=True, positive=True)
    n_e = sp.Symbol("n_e", integer=True, positive=True) if general else n_q
    W_E = sp.MatrixSymbol("W_E", n_e, n_p)
    W_D = sp.MatrixSymbol("W_D", n_r, n_q)
    b = sp.MatrixSymbol("b", n_e, 1)
    S = sp.MatrixSymbol("C_d" if general else "S_d", n_q, n_e)
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
    syms = dict(n_p=n_p, n_r=n_r, n_q=n_q, n_e=n_e, W_E=W_E, W_D=W_D, b=b, S=S, w_p=w_p, w_r=w_r, M=M)
    return MatrixForm(syms, loss, r, grad_D, grad_E, grad_b, hess, G, B, identity)


@lru_cache(maxsize=16)
def _matrix_functions(n_p: int, n_r: int, n_q: int, n_e: int | None = None):
    """Lambdify the matrix form at concrete sizes (numpy cannot print ``Identity(n)`` of symbolic ``n``);
    ``n_e`` encoder rows when units read more than one pre-activation (the general form)."""
    general = n_e is not None and n_e != n_q
    mf = matrix_form(general)
    s = mf.symbols
    sizes = {s["n_p"]: n_p, s["n_r"]: n_r, s["n_q"]: n_q}
    if general:
        sizes[s["n_e"]] = n_e
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
    V.instance_of("instance", instance, Instance, "a theory.Instance")
    W_D, W_E, b = instance.check_params(W_D, W_E, b_E)
    mask = instance.activation.active(instance.pre_activations(W_E, b))
    return W_D, W_E, b, mask


def _functions(instance: Instance, W_D, W_E):
    return _matrix_functions(instance.n_p, instance.n_r, W_D.shape[1], W_E.shape[0])


def _choose(method: str, instance: Instance, n_q: int) -> str:
    if method == "auto":
        return "symbolic" if instance.n * n_q * n_q <= 200_000 else "vectorized"
    if method not in ("symbolic", "vectorized"):
        raise SDLInputError(f"method must be 'auto', 'symbolic' or 'vectorized', got {method!r}")
    return method


def _per_feature_args(instance: Instance, W_D, W_E, b, mask):
    C = instance.activation.output_matrix(mask)  # S_d = diag(mask_d), or C_d for multi-pre-activation units
    for d in range(instance.n):
        yield (W_D, W_E, b[:, None], C[d], instance.W_p[:, d:d + 1],
               instance.W_r[:, d:d + 1], float(instance.weights[d]))


def gradients(instance: Instance, W_D, W_E, b_E=None, *, method: str = "auto") -> Gradients:
    """Gradients of L̃ at ``(W_D, W_E, b_E)`` inside its activation region (C2, C5, C6)."""
    W_D, W_E, b, mask = _point(instance, W_D, W_E, b_E)
    if _choose(method, instance, W_E.shape[0]) == "symbolic":
        fn = _functions(instance, W_D, W_E)
        gD, gE, gb = np.zeros_like(W_D), np.zeros_like(W_E), np.zeros((W_E.shape[0], 1))
        for args in _per_feature_args(instance, W_D, W_E, b, mask):
            gD += fn["grad_D"](*args)
            gE += fn["grad_E"](*args)
            gb += fn["grad_b"](*args)
        gb = gb[:, 0]
    else:
        if instance.activation.pre_per_unit == 1:
            # Σ_d −2 M_d r_d s_dᵀ, Σ_d −2 M_d (S_d W_Dᵀ r_d) w_p^dᵀ, Σ_d −2 M_d S_d W_Dᵀ r_d
            X_q = np.where(mask, instance.pre_activations(W_E, b), 0.0)
            S = sparse_if_sparse(X_q)
            R = instance.W_r.T - np.asarray(S @ W_D.T)
            MR = instance.weights[:, None] * R
            gD = -2 * np.asarray(S.T @ MR).T
            if S is X_q:
                back = mask * (MR @ W_D)  # row d: S_d W_Dᵀ M_d r_d
                gE = -2 * back.T @ instance.W_p.T
                gb = -2 * back.sum(axis=0)
            else:  # only the active cells of S_d W_Dᵀ M_d r_d are needed: nnz·n_r instead of n·n_q·n_r
                from scipy.sparse import csr_matrix

                rows, cols = np.nonzero(mask)
                back = csr_matrix((np.einsum("kr,kr->k", MR[rows], W_D.T[cols]), (rows, cols)), shape=mask.shape)
                gE = -2 * np.asarray(back.T @ instance.W_p.T)
                gb = -2 * np.asarray(back.sum(axis=0)).ravel()
        else:  # units reading several pre-activations (Gated): σ(z_d) = C_d z_d
            # Σ_d −2 M_d r_d s_dᵀ, Σ_d −2 M_d (S_dᵀ W_Dᵀ r_d) w_p^dᵀ, Σ_d −2 M_d S_dᵀ W_Dᵀ r_d
            C = instance.activation.output_matrix(mask)
            X_q = np.einsum("dqe,de->dq", C, instance.pre_activations(W_E, b))
            R = instance.W_r.T - X_q @ W_D.T
            MR = instance.weights[:, None] * R
            gD = -2 * MR.T @ X_q
            back = np.einsum("dqe,dq->de", C, MR @ W_D)  # row d: S_dᵀ W_Dᵀ M_d r_d
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
    fn = _functions(instance, W_D, W_E)
    shp = {"D": W_D.shape, "E": W_E.shape, "b": (W_E.shape[0], 1)}
    acc = {k: np.zeros((shp[k[0]][0] * shp[k[0]][1], shp[k[1]][0] * shp[k[1]][1])) for k in ("DD", "EE", "bb", "DE", "Db", "Eb")}
    for args in _per_feature_args(instance, W_D, W_E, b, mask):
        for k in acc:
            acc[k] += _to_matrix(fn[f"H_{k}"](*args), shp[k[0]], shp[k[1]])
    if instance.encoder_bias:
        return HessianBlocks(acc["DD"], acc["EE"], acc["DE"], acc["bb"], acc["Db"], acc["Eb"])
    return HessianBlocks(acc["DD"], acc["EE"], acc["DE"])


def _spd_solve(S: np.ndarray, B: np.ndarray, min_rcond: float = 1e-8) -> np.ndarray | None:
    """``S⁻¹ B`` by Cholesky for a symmetric positive definite ``S`` whose reciprocal condition number (LAPACK
    ``pocon`` estimate) is at least ``min_rcond``; None otherwise (singular or ill-conditioned: the caller's
    pseudo-inverse with its eigenvalue cut is the answer there). Equal to ``pinv(S) @ B`` when it returns:
    an invertible ``S`` has ``S⁺ = S⁻¹``; a factorisation instead of an eigendecomposition is ~10× cheaper
    at n = 1000 (paper-size inspect)."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve
    from scipy.linalg.lapack import dpocon

    try:
        c, low = cho_factor(S, lower=False, check_finite=False)
    except LinAlgError:
        return None
    rcond, info = dpocon(c, float(np.abs(S).sum(axis=0).max()))   # c is the upper factor (uplo "U")
    if info != 0 or not rcond >= min_rcond:
        return None
    return cho_solve((c, low), B, check_finite=False)


def least_squares_decoder(instance: Instance, W_E, b_E=None) -> np.ndarray:
    """The decoder minimising L̃(·, W_E): ``W_D* = B G⁺`` with ``G = Σ_d M_d s_d s_dᵀ``,
    ``B = Σ_d M_d w_r^d s_dᵀ``, ``s_d = σ(W_E w_p^d + b)`` (the normal equations of the matrix form;
    the minimum-norm solution when G is singular, e.g. with dead neurons). For a partition pattern
    column ``i`` reduces to the block form's ``u* = Σ_{d∈F_i} M_d a_d w_r^d / Σ_{d∈F_i} M_d a_d²``."""
    V.instance_of("instance", instance, Instance, "a theory.Instance")
    W_E = V.matrix("W_E", W_E, "encoder, n_q × n_p", shape=(None, instance.n_p))
    if b_E is not None and not instance.encoder_bias:
        raise SDLInputError("b_E given but the instance has encoder_bias=False")
    if b_E is not None:
        b_E = V.vector("b_E", b_E, W_E.shape[0], "encoder bias, one entry per neuron")
    X_q = single_feature_codes(instance, W_E, b_E)
    if X_q.shape[1] > X_q.shape[0]:
        # more neurons than features: with A = M^½ X_q (n × n_q), G = AᵀA and A(AᵀA)⁺ = (AAᵀ)⁺A, so
        # W_D* = W_r M^½ (AAᵀ)⁺ A needs the n × n Gram instead of the n_q × n_q one (same nonzero
        # spectrum, so the same rcond cut); n_q = 16000 would otherwise be a 2 GB pinv
        sq = np.sqrt(instance.weights)
        A = sparse_if_sparse(sq[:, None] * X_q)
        AAt = A @ A.T
        AAt = AAt.toarray() if hasattr(AAt, "toarray") else np.asarray(AAt)
        Y = _spd_solve(AAt, (instance.W_r * sq[None, :]).T)   # (AAᵀ)⁻¹ (W_r M^½)ᵀ when AAᵀ is well conditioned
        if Y is None:
            Y = np.linalg.pinv(AAt, rcond=1e-12, hermitian=True) @ (instance.W_r * sq[None, :]).T
        return np.asarray(Y.T @ A)
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
        V.instance_of("instance", instance, Instance, "a theory.Instance or None")
        activation = instance.activation if activation is None else activation
        encoder_bias = instance.encoder_bias if encoder_bias is None else encoder_bias
    activation = ReLU() if activation is None else activation
    if not isinstance(activation, Activation):
        raise SDLInputError(f"activation must be a theory.activations family, got {V.got(activation)}")
    encoder_bias = False if encoder_bias is None else V.bool_flag("encoder_bias", encoder_bias)
    if pattern is not None and instance is not None:
        pattern = as_pattern(pattern, instance)
    return Derivation(activation, bool(encoder_bias), pattern, instance)


# --------------------------------------------------------------------------------------------
# Hessian blocks as linear maps, and the block form at the least-squares decoder
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HessianActions:
    """The Hessian of one feature's term ``ℓ_d`` as linear maps on directions (C2).

    ``blocks["XY"] = D_Y(∇_X ℓ_d)[Δ_Y]`` for ``X, Y ∈ {D, E, b}`` (expanded, any dimension);
    ``compact[X] = Σ_Y blocks["XY"]`` written with ``z_d = W_E w_p^d + b``, ``r_d = w_r^d − W_D S_d z_d``
    and their first variations ``δz_d = Δ_E w_p^d + Δ_b``, ``δr_d = −Δ_D S_d z_d − W_D S_d δz_d``.
    """

    symbols: dict
    blocks: dict
    compact: dict
    variations: dict  # "z" -> δz_d, "r" -> δr_d in terms of the directions

    def block(self, X: str, Y: str) -> sp.MatrixExpr:
        """``D_Y(∇_X ℓ_d)[Δ_Y]`` in residual form (``z_d``, ``r_d``): the compact map with the other
        directions set to zero; equal to ``blocks[X + Y]`` (the test-suite checks it numerically)."""
        s = self.symbols
        e = self.compact[X].xreplace({s["deltar"]: self.variations["r"]}).xreplace({s["deltaz"]: self.variations["z"]})
        zero = {s[f"Delta_{Z}"]: sp.ZeroMatrix(*s[f"Delta_{Z}"].shape) for Z in "DEb" if Z != Y}
        e = e.xreplace(zero).doit()
        return e if s["n_e"] != s["n_q"] else e.xreplace({s["S"].T: s["S"]})  # S_d diagonal; C_d is not


def _linear_part(expr: sp.MatrixExpr, t: sp.Symbol) -> sp.MatrixExpr:
    """The coefficient of ``t`` in a matrix polynomial in ``t`` (avoids sympy's ``Transpose.diff`` bug,
    which drops the transpose of a direction when differentiating in a scalar)."""
    e = expr.doit().expand()
    terms = e.args if isinstance(e, sp.MatAdd) else (e,)
    keep = []
    for term in terms:
        if not isinstance(term, sp.MatMul):
            continue    # a matrix with no scalar factor has no t
        # sympy may collect several powers of t on one product, (1 + t)·A·B: take t's coefficient of the scalar
        c = sp.expand(sp.Mul(*[a for a in term.args if not a.is_Matrix])).coeff(t, 1)
        if c != 0:
            keep.append(sp.MatMul(c, *[a for a in term.args if a.is_Matrix]))
    shape = expr.shape
    return sp.MatAdd(*keep).doit() if keep else sp.ZeroMatrix(*shape)


@lru_cache(maxsize=2)
def hessian_actions(general: bool = False) -> HessianActions:
    mf = matrix_form(general)
    s = mf.symbols
    n_p, n_r, n_q, n_e = s["n_p"], s["n_r"], s["n_q"], s["n_e"]
    t = sp.Symbol("t")
    dirs = {"D": sp.MatrixSymbol("Delta_D", n_r, n_q), "E": sp.MatrixSymbol("Delta_E", n_e, n_p),
            "b": sp.MatrixSymbol("Delta_b", n_e, 1)}
    var = {"D": s["W_D"], "E": s["W_E"], "b": s["b"]}
    grads = {"D": mf.grad_D, "E": mf.grad_E, "b": mf.grad_b}
    blocks = {X + Y: _linear_part(g.xreplace({var[Y]: var[Y] + t * dirs[Y]}), t)
              for X, g in grads.items() for Y in "DEb"}
    z, r = sp.MatrixSymbol("z_d", n_e, 1), sp.MatrixSymbol("r_d", n_r, 1)
    dz, dr = sp.MatrixSymbol("deltaz_d", n_e, 1), sp.MatrixSymbol("deltar_d", n_r, 1)
    compact = {}
    for X, g in grads.items():
        g = _in_z_r(g, s, z, r)
        compact[X] = _linear_part(g.xreplace({s["W_D"]: s["W_D"] + t * dirs["D"], z: z + t * dz, r: r + t * dr}), t)
    variations = {"z": dirs["E"] * s["w_p"] + dirs["b"], "r": -dirs["D"] * s["S"] * z - s["W_D"] * s["S"] * dz}
    syms = dict(s, Delta_D=dirs["D"], Delta_E=dirs["E"], Delta_b=dirs["b"], z=z, r=r, deltaz=dz, deltar=dr)
    return HessianActions(syms, blocks, compact, variations)


def _in_z_r(expr, s: dict, z: sp.MatrixSymbol, r: sp.MatrixSymbol):
    """Rewrite a matrix-form expression with ``z_d = W_E w_p + b`` and ``r_d = w_r − W_D S_d z_d``."""
    z_expr = s["W_E"] * s["w_p"] + s["b"]
    expr = expr.xreplace({z_expr: z, z_expr.T.doit(): z.T})
    r_expr = s["w_r"] - s["W_D"] * s["S"] * z
    return expr.xreplace({r_expr: r, r_expr.T.doit(): r.T})


def in_residual_form(expr, general: bool = False):
    """A matrix-form expression rewritten with the pre-activations ``z_d`` and residual ``r_d``
    (symbols ``z_d``, ``r_d``; ``S_dᵀ = S_d`` since ``S_d`` is diagonal — not for the general ``C_d``),
    for reading and printing."""
    mf = matrix_form(general)
    s = mf.symbols
    z, r = sp.MatrixSymbol("z_d", s["n_e"], 1), sp.MatrixSymbol("r_d", s["n_r"], 1)
    out = _in_z_r(expr, s, z, r)
    return out if general else out.xreplace({s["S"].T: s["S"]})


@lru_cache(maxsize=1)
def block_stationarity_at_least_squares() -> dict:
    """The block form's encoder coefficient ``M_j (c_j − a_j q)`` at ``u = u*`` (C6's argument).

    With ``u* = Σ_d M_d a_d w_r^d / A``, ``A = Σ_d M_d a_d²`` and target Gram entries
    ``G_de = <w_r^d, w_r^e>``: ``c_j* = Σ_d M_d a_d G_dj / A`` and ``q* = Σ_{d,e} M_d M_e a_d a_e G_de / A²``.
    Encoder stationarity at u* is ``Σ_j M_j (c_j* − a_j q*) w_p^j = 0`` (and ``Σ_j M_j (c_j* − a_j q*) = 0``
    with a bias): the coefficients need not vanish one by one when the ``w_p^j`` are dependent.
    """
    bf = block_form()
    S = bf.symbols
    M, a, d, j, m = S["M"], S["a"], S["d"], S["j"], S["m"]
    e = sp.Symbol("e", integer=True, positive=True)
    G = sp.IndexedBase("G")
    A = sp.Sum(M[d] * a[d] ** 2, (d, 1, m))
    c_star = sp.Sum(M[d] * a[d] * G[d, j], (d, 1, m)) / A
    q_star = sp.Sum(sp.Sum(M[d] * M[e] * a[d] * a[e] * G[d, e], (e, 1, m)), (d, 1, m)) / A**2
    coefficient = M[j] * (c_star - a[j] * q_star)
    # consistency: the block's encoder_stationarity (= ∂L/∂a_j) is −2 × this coefficient at u*
    check = sp.simplify(bf.encoder_stationarity.subs({S["c"][j]: c_star, S["q"]: q_star}) + 2 * coefficient)
    return dict(G=G, e=e, c_star=c_star, q_star=q_star, coefficient=coefficient, check=check)


# --------------------------------------------------------------------------------------------
# Numeric specialisation of the block form at a point (per neuron)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NeuronBlock:
    """Block-form numbers for neuron ``i`` with ``F_i`` = ``features`` (m = len(features)) at a point.

    ``activations`` a_d, ``weights`` M_d, ``decoder`` u = W_D[:, i], ``target_gram`` c_d = <u, w_r^d>,
    ``decoder_norm_sq`` q = ||u||²; the gradients of the neuron's part of L̃ from the block formulas;
    ``ls_decoder`` u* and ``encoder_coefficients_at_ls`` M_d (c_d* − a_d q*) (None for a dead neuron).
    """

    neuron: int
    features: tuple[int, ...]
    activations: np.ndarray
    weights: np.ndarray
    decoder: np.ndarray
    target_gram: np.ndarray
    decoder_norm_sq: float
    grad_decoder: np.ndarray
    grad_encoder: np.ndarray
    grad_bias: float
    ls_decoder: np.ndarray | None
    encoder_coefficients_at_ls: np.ndarray | None
    grad_encoder_at_ls: np.ndarray | None


def block_form_problem(pattern) -> str | None:
    """Why the per-neuron block form does not describe L̃ for ``pattern`` (None when it does).

    L̃ splits into independent per-neuron blocks when no feature switches on two neurons;
    features switching on no neuron only add the constant ``M_d ||w_r^d||²``.
    """
    counts = pattern.mask.sum(axis=1)
    repeated = np.flatnonzero(counts > 1).tolist()
    if repeated:
        return (f"features {repeated} switch on more than one neuron, so neurons share residuals and "
                "L̃ does not split into per-neuron blocks: use the matrix form")
    return None


@lru_cache(maxsize=64)
def _block_function(expr: sp.Expr, names: tuple[str, ...]):
    bf = block_form()
    S = bf.symbols
    j = S["j"]
    args = [S[n][j] if n in ("M", "a", "c", "g") else S[n] for n in names]
    return sp.lambdify(args, expr, "numpy")


def _block_eval(expr: sp.Expr, arrays: dict) -> np.ndarray:
    """Evaluate a block-form expression (index ``j``, sums over ``d``) on arrays indexed by position."""
    bf = block_form()
    S = bf.symbols
    m = len(arrays["M"])

    def total(s: sp.Sum):
        summand = s.function.xreplace({s.variables[0]: S["j"]})
        return sp.Float(float(np.sum(_block_eval(summand, arrays))))

    expr = expr.replace(lambda e: isinstance(e, sp.Sum), total)
    names = ("M", "a", "c", "g", "q")
    f = _block_function(expr, names)
    return np.broadcast_to(np.asarray(f(*[arrays[n] for n in names]), dtype=float), (m,)).copy()


def neuron_blocks(instance: Instance, W_D, W_E, b_E=None) -> tuple[NeuronBlock, ...]:
    """The block form specialised to numbers, neuron by neuron, at ``(W_D, W_E, b_E)`` (C6).

    Raises :class:`SDLInputError` when the point's pattern does not split into blocks
    (see :func:`block_form_problem`)."""
    from theory.patterns import ActivationPattern

    W_D, W_E, b, mask = _point(instance, W_D, W_E, b_E)
    pattern = ActivationPattern.from_mask(mask)
    problem = block_form_problem(pattern)
    if problem:
        raise SDLInputError(f"the block form does not apply at this point: {problem}")
    bf = block_form()
    Z = instance.pre_activations(W_E, b)
    out = []
    for i, F in enumerate(pattern.firing):
        feats = tuple(sorted(F))
        idx = list(feats)
        u = W_D[:, i].copy()
        Wp, Wr = instance.W_p[:, idx], instance.W_r[:, idx]
        # a_d: the pre-activation unit i outputs (its own; a Gated unit's magnitude row), the block's encoder row
        (row,) = instance.activation.output_rows(i, W_D.shape[1])
        arr = {"M": instance.weights[idx], "a": Z[idx, row], "c": Wr.T @ u, "g": np.sum(Wr**2, axis=0), "q": float(u @ u)}
        if not feats:
            zero_e = np.zeros(instance.n_p)
            out.append(NeuronBlock(i, feats, arr["a"], arr["M"], u, arr["c"], arr["q"], np.zeros_like(u), zero_e, 0.0,
                                   None, None, None))
            continue
        coef_w = _block_eval(bf.grad_u_coef_w, arr)
        coef_u = _block_eval(bf.grad_u_coef_u, arr)[0]
        coef_e = _block_eval(bf.grad_e_coef, arr)
        ls = Wr @ _block_eval(bf.ls_decoder, arr)
        at_ls = dict(arr, c=Wr.T @ ls, q=float(ls @ ls))
        enc_ls = _block_eval(bf.encoder_stationarity, at_ls)  # ∂L/∂a_j = 2 M_j (q a_j − c_j)
        out.append(NeuronBlock(
            i, feats, arr["a"], arr["M"], u, arr["c"], arr["q"],
            grad_decoder=Wr @ coef_w + coef_u * u,
            grad_encoder=Wp @ coef_e,
            grad_bias=float(coef_e.sum()) if instance.encoder_bias else 0.0,
            ls_decoder=ls,
            encoder_coefficients_at_ls=-enc_ls / 2,
            grad_encoder_at_ls=Wp @ enc_ls,
        ))
    return tuple(out)


def tied_gated_gradients(instance: Instance, W_D, W_gate, r, b_gate=None, b_mag=None) -> dict:
    """Gradients of L̃ in the paper's tied Gated parameters (``W_mag = exp(r) ⊙ W_gate``), by the chain rule
    from the stacked encoder's gradient ``(G_gate, G_mag)``: ``∇_{W_gate} = G_gate + diag(e^r) G_mag``,
    ``∂/∂r_i = e^{r_i} <G_mag^i, w_gate^i>``, ``∇_{b_gate} = g_gate``, ``∇_{b_mag} = g_mag``, ``∇_{W_D}`` as is.
    Inside a region ``G_gate = 0`` and ``g_gate = 0`` (the gate only selects the pattern)."""
    from theory.activations.gated import Gated, tied_encoder

    if not (isinstance(instance.activation, Gated) and instance.activation.tied):
        raise SDLInputError(f"tied_gated_gradients needs a Gated(tied=True) instance, got {instance.activation.describe()}")
    W_gate = np.asarray(W_gate, dtype=float)
    r = np.asarray(r, dtype=float)
    W_E, b = tied_encoder(W_gate, r, b_gate, b_mag)
    if instance.encoder_bias and b is None:
        b = np.zeros(W_E.shape[0])
    g = gradients(instance, W_D, W_E, b if instance.encoder_bias else None)
    q = W_gate.shape[0]
    c = np.exp(r)
    out = {"W_D": g.W_D, "W_gate": g.W_E[:q] + c[:, None] * g.W_E[q:],
           "r": c * np.einsum("ij,ij->i", g.W_E[q:], W_gate)}
    if g.b_E is not None:
        out["b_gate"], out["b_mag"] = g.b_E[:q], g.b_E[q:]
    return out
