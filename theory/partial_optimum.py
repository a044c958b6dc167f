"""Partial optima of L̃ inside an activation region Ω_P (THEORY.md section 3; C6, C8, C9).

A *partial minimum* with pattern P is ``(W_D*, W_E*)`` with ``W_E* ∈ Ω_P``, ``W_D*`` minimising
``L̃(·, W_E*)`` over all decoders and ``W_E*`` minimising ``L̃(W_D*, ·)`` over Ω_P. Inside Ω_P, L̃ is a
convex quadratic in ``v = (vec W_E, b)`` for fixed ``W_D`` (row-major ``vec``, as in
:class:`theory.patterns.Region`)::

    L̃(v) = vᵀ H v − 2 gᵀ v + const,   H = Σ_d M_d A_dᵀ A_d,   g = Σ_d M_d A_dᵀ w_r^d,

where ``A_d v = W_D S_d (W_E w_p^d + b)``. Ω_P is open in its strict inequalities, so a convex
minimum over it need not be attained: the infimum equals the minimum over the closure, and it is
attained iff the closure's set of minimisers (``v* + ker H`` cut by ``gᵀ Δ = 0``) meets the open
region — a linear program (:func:`encoder_minimum`).

Three tools:

- :func:`is_partial_minimum` — the KKT certificate at a given point: decoder gradient 0, encoder
  gradient balanced by non-negative multipliers of the *weak* inequalities that are active (strict
  ones cannot be active inside Ω_P); when it fails it says whether the encoder's infimum over Ω_P is
  attained at all.
- :func:`alternating_convex_search` — ACS: least-squares decoder
  (:func:`theory.derivation.least_squares_decoder`'s normal equations on the region's polynomial,
  :func:`decoder_for_pattern`), then the encoder QP over the region with the
  strict inequalities tightened by a small margin (scipy SLSQP with analytic gradients).
- :func:`stationary_partial_minima` — solve the stationarity conditions of a partition pattern
  directly. Per neuron ``i`` with features ``F = F_i`` the loss is ``Σ_{d∈F} M_d ||w_r^d − a_d u||²``
  with ``a = B̄ (w_E^i, b_i)`` ranging over ``A = range(B̄)``, ``B̄ = [W_{p,F}ᵀ, 1]`` (bias) or
  ``W_{p,F}ᵀ``. Eliminating ``u = W_{r,F} M a / aᵀ M a`` (the least-squares decoder) leaves the
  Rayleigh quotient ``aᵀ M W_rᵀ W_r M a / aᵀ M a`` on A, so the stationary points are the
  generalised eigenvectors ``P y = λ Q y`` with ``P = (W_r M B)ᵀ(W_r M B)``, ``Q = Bᵀ M B`` (B an
  orthonormal basis of A, a = B y), any scale and sign, any vector of an eigenspace. Whether one
  lies in Ω_P is an LP in the eigen-coordinates and the encoder. When the columns of ``W_p``
  (with a bias: of ``[W_p; 1ᵀ]``) are linearly independent, no weak inequality can carry a
  non-zero KKT multiplier, so these are *all* the partial minima with the pattern (``exact``).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from theory.errors import SDLInputError
from theory.instance import Instance
from theory.objective import approx_loss
from theory.patterns import ActivationPattern, Region, as_pattern, pattern_of, region

# --------------------------------------------------------------------------------------------
# The encoder sub-problem as a quadratic on v = (vec W_E, b)
# --------------------------------------------------------------------------------------------


def encoder_quadratic(inst: Instance, W_D: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(H, g, const)`` with ``L̃(v) = vᵀHv − 2gᵀv + const`` inside the region of ``mask`` (features × units);
    ``v`` is the region's variable vector (:class:`theory.patterns.Region`: the free parameters ``u`` of a
    tied family, ``v = T u``)."""
    W_D = np.asarray(W_D, dtype=float)
    act = inst.activation
    n_q, n_p = mask.shape[1], inst.n_p
    n_pre = n_q * act.pre_per_unit
    nv = n_pre * n_p + (n_pre if inst.encoder_bias else 0)
    C = act.output_matrix(mask)  # σ(z_d) = C_d z_d in the region
    H = np.zeros((nv, nv))
    g = np.zeros(nv)
    for d in range(inst.n):
        A = np.zeros((inst.n_r, nv))
        for i, e in zip(*np.nonzero(C[d])):
            A[:, e * n_p:(e + 1) * n_p] += C[d, i, e] * np.outer(W_D[:, i], inst.W_p[:, d])
            if inst.encoder_bias:
                A[:, n_pre * n_p + e] += C[d, i, e] * W_D[:, i]
        H += inst.weights[d] * A.T @ A
        g += inst.weights[d] * A.T @ inst.W_r[:, d]
    T = act.tie_basis(n_q, n_p, inst.encoder_bias)
    if T is not None:
        H, g = T.T @ H @ T, T.T @ g
    return H, g, float(inst.weights @ np.einsum("rd,rd->d", inst.W_r, inst.W_r))


def _scale(R: Region) -> float:
    A = np.vstack([R.A_strict, R.A_weak]) if R.A_strict.size + R.A_weak.size else np.ones((1, 1))
    return float(max(1.0, np.abs(A).max()))


def _margin_lp(R: Region, extra_eq: np.ndarray | None = None, n_extra: int = 0):
    """Homogenised LP for a point of Ω_P that is strictly inside the strict inequalities (margin
    ``t_s``) and, where the region allows it, strictly inside the weak ones too (margin ``t_w``).

    A witness on a weak boundary (``z = 0`` for a ReLU unit that is off) evaluates as *on* after
    one rounding error, so points used as partial-minimum candidates are kept off weak boundaries.
    Variables ``(v, extra, s, t_s, t_w)``; ``extra_eq`` rows act on ``(v, extra)`` (homogeneous).
    Returns ``x / s`` over ``(v, extra)`` or None when Ω_P (with the equalities) is empty."""
    from scipy.optimize import linprog

    nx = R.n_vars + n_extra
    ms, mw = len(R.c_strict), len(R.c_weak)
    rows, rhs = [], []
    if ms:
        rows.append(np.hstack([R.A_strict, np.zeros((ms, n_extra)), -R.c_strict[:, None], np.ones((ms, 1)), np.zeros((ms, 1))]))
        rhs.append(np.zeros(ms))
    if mw:
        rows.append(np.hstack([R.A_weak, np.zeros((mw, n_extra)), -R.c_weak[:, None], np.zeros((mw, 1)), np.ones((mw, 1))]))
        rhs.append(np.zeros(mw))
    rows.append(np.r_[np.zeros(nx), -1.0, 1.0, 0.0][None, :])  # t_s <= s
    rows.append(np.r_[np.zeros(nx), 0.0, -1.0, 1.0][None, :])  # t_w <= t_s
    rhs.append(np.zeros(2))
    c = np.zeros(nx + 3)
    c[-2], c[-1] = -1.0, -0.5
    A_eq = None if extra_eq is None or not len(extra_eq) else np.hstack([extra_eq, np.zeros((len(extra_eq), 3))])
    res = linprog(c, A_ub=np.vstack(rows), b_ub=np.concatenate(rhs), A_eq=A_eq,
                  b_eq=None if A_eq is None else np.zeros(len(A_eq)),
                  bounds=[(-1.0, 1.0)] * nx + [(0.0, 1.0), (None, 1.0), (0.0, 1.0)], method="highs")
    if res.status != 0 or res.x[nx + 1] <= 1e-9:
        return None
    return res.x[:nx] / res.x[nx]


def interior_point(R: Region):
    """``(W_E, b_E)`` strictly inside every inequality of Ω_P, re-evaluated with the activation
    (:meth:`Region.find_point`'s witness); None when no such point exists (ties or boundaries only)."""
    rz = R.find_point()
    if not rz.realizable:
        return None
    return rz.W_E.copy(), None if rz.b_E is None else rz.b_E.copy()


@dataclass(frozen=True)
class EncoderMinimum:
    """The encoder's convex problem over Ω_P for a fixed decoder.

    ``infimum`` is the minimum over the closure; ``attained`` says whether some minimiser lies in the
    open region (then ``v`` is one, with strict slack ``margin``); otherwise ``v`` is a closure
    minimiser on the boundary and ``boundary`` lists the strict inequalities it cannot leave.
    """

    infimum: float
    attained: bool
    v: np.ndarray
    margin: float
    boundary: tuple[int, ...]


def _solve_qp(H, g, R: Region, v0: np.ndarray, margin: float) -> np.ndarray:
    """min vᵀHv − 2gᵀv over A_s v <= c_s − margin, A_w v <= c_w (SLSQP, analytic gradients)."""
    from scipy.optimize import LinearConstraint, minimize

    cons = []
    A = np.vstack([R.A_strict, R.A_weak])
    if A.shape[0]:
        ub = np.concatenate([R.c_strict - margin, R.c_weak])
        cons.append(LinearConstraint(A, -np.inf, ub))
    res = minimize(lambda v: v @ H @ v - 2 * g @ v, v0, jac=lambda v: 2 * H @ v - 2 * g,
                   constraints=cons, method="SLSQP", options={"maxiter": 500, "ftol": 1e-14})
    v = res.x
    if A.shape[0] and np.max(A @ v - ub) > 1e-7 * _scale(R):
        # SLSQP left the feasible set (rare, degenerate): fall back to the start, which is feasible
        return v0
    return v


def encoder_minimum(inst: Instance, R: Region, W_D, v0: np.ndarray, tol: float = 1e-7) -> EncoderMinimum:
    """Minimise ``L̃(W_D, ·)`` over Ω_P and decide whether the infimum is attained (an LP).

    ``v0`` must lie in the closure of the region (e.g. the current encoder)."""
    from scipy.optimize import linprog

    H, g, const = encoder_quadratic(inst, W_D, R.pattern.mask)
    v_star = _solve_qp(H, g, R, np.asarray(v0, dtype=float), 0.0)
    inf = float(v_star @ H @ v_star - 2 * g @ v_star + const)
    w, U = np.linalg.eigh(H)
    null = U[:, w <= 1e-9 * max(1.0, float(np.abs(w).max()))]
    k = null.shape[1]
    ms = len(R.c_strict)
    if ms == 0:
        return EncoderMinimum(inf, True, v_star, np.inf, ())
    # variables y (k), t: max t  s.t. A_s(v*+Ny) + t <= c_s, A_w(v*+Ny) <= c_w, gᵀNy = 0, |y| <= R
    box = 10.0 * (1.0 + float(np.abs(v_star).max()))
    A_ub = [np.hstack([R.A_strict @ null, np.ones((ms, 1))])]
    b_ub = [R.c_strict - R.A_strict @ v_star]
    if len(R.c_weak):
        A_ub.append(np.hstack([R.A_weak @ null, np.zeros((len(R.c_weak), 1))]))
        b_ub.append(R.c_weak - R.A_weak @ v_star + tol)
    A_eq = np.hstack([(g @ null)[None, :], [[0.0]]]) if k else None
    res = linprog(np.r_[np.zeros(k), -1.0], A_ub=np.vstack(A_ub), b_ub=np.concatenate(b_ub),
                  A_eq=A_eq, b_eq=[0.0] if k else None,
                  bounds=[(-box, box)] * k + [(None, 1.0)], method="highs")
    if res.status != 0:
        t, v = -np.inf, v_star
    else:
        t, v = float(-res.fun), v_star + null @ res.x[:k]
    strict_slack = R.c_strict - R.A_strict @ v_star
    boundary = tuple(int(j) for j in np.flatnonzero(strict_slack <= tol * _scale(R) * 10))
    attained = t > tol * _scale(R) * 10
    return EncoderMinimum(inf, attained, v if attained else v_star, t, () if attained else boundary)


# --------------------------------------------------------------------------------------------
# The KKT certificate at a point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartialMinimumCheck:
    """Outcome of :func:`is_partial_minimum` at one point (numbers relative to the loss scale)."""

    is_partial_minimum: bool
    in_region: bool
    loss: float
    decoder_gradient: float
    encoder_kkt_residual: float
    active_weak: tuple[int, ...]
    infimum_attained: bool | None  # encoder infimum over Ω_P attained (None when not computed)
    encoder_infimum: float | None
    reason: str

    def to_json(self) -> dict:
        return dict(self.__dict__)


def decoder_for_pattern(inst: Instance, W_E, b_E, mask) -> np.ndarray:
    """The least-squares decoder of L̃ inside Ω_P, with units switched on by ``mask`` (not by rounding):
    ``W_D = B G⁺``, ``G = Σ_d M_d s_d s_dᵀ``, ``B = Σ_d M_d w_r^d s_dᵀ`` — the normal equations of
    :func:`theory.derivation.least_squares_decoder`, evaluated on the region's polynomial, which
    matters for points on a weak boundary (a unit at z = θ exactly, a top-k tie)."""
    X_q = _codes(inst, W_E, b_E, mask)
    G = X_q.T @ (inst.weights[:, None] * X_q)
    B = inst.W_r @ (inst.weights[:, None] * X_q)
    return B @ np.linalg.pinv(G, rcond=1e-12, hermitian=True)


def _codes(inst: Instance, W_E, b_E, mask) -> np.ndarray:
    """``σ(z_d) = C_d z_d`` with the units the region switches on (``mask``), not by rounding."""
    return np.einsum("dqe,de->dq", inst.activation.output_matrix(mask), inst.pre_activations(W_E, b_E))


def _pattern_gradient(inst: Instance, W_D, W_E, b, mask) -> tuple[np.ndarray, np.ndarray, float]:
    """Decoder gradient, encoder gradient on ``v`` and L̃, all on the polynomial of the pattern ``mask``
    (the same formulas as :func:`theory.derivation.gradients`, with the region's units)."""
    X_q = _codes(inst, W_E, b, mask)
    R = inst.W_r.T - X_q @ W_D.T
    gD = -2 * (inst.weights[:, None] * R).T @ X_q
    H, g, const = encoder_quadratic(inst, W_D, mask)
    v = region_vector(inst, W_E, b, mask.shape[1])
    return gD, 2 * H @ v - 2 * g, float(v @ H @ v - 2 * g @ v + const)


def region_vector(inst: Instance, W_E, b, n_units: int) -> np.ndarray:
    """``v = (vec W_E, b)``, or the free parameters ``u`` (``v = T u``) of a tied family."""
    v = np.asarray(W_E, dtype=float).reshape(-1)
    if b is not None:
        v = np.concatenate([v, np.asarray(b, dtype=float)])
    T = inst.activation.tie_basis(n_units, inst.n_p, inst.encoder_bias)
    return v if T is None else np.linalg.lstsq(T, v, rcond=None)[0]


def is_partial_minimum(inst: Instance, W_D, W_E, b_E=None, pattern=None, tol: float = 1e-6) -> PartialMinimumCheck:
    """KKT test of a partial minimum of L̃ with pattern P (default: the point's own pattern).

    Interior (strictly inside every strict inequality): decoder gradient ≈ 0 and encoder gradient
    ``= −Σ λ_j a_j`` over the active weak inequalities ``a_jᵀv <= c_j`` with ``λ >= 0`` (non-negative
    least squares). Both sub-problems are convex, so KKT is sufficient. When the encoder condition
    fails, the encoder problem is solved over the region to say whether its infimum is attained.
    """
    from scipy.optimize import nnls

    W_D, W_E, b = inst.check_params(W_D, W_E, b_E)
    bb = b if inst.encoder_bias else None
    P = pattern_of(inst, W_E, bb) if pattern is None else as_pattern(pattern, inst, W_D.shape[1])
    R = region(inst, P)
    scale = 1.0 + float(inst.weights.sum())
    if not R.contains(W_E, bb):
        return PartialMinimumCheck(False, False, approx_loss(inst, W_D, W_E, bb), np.nan, np.nan, (), None, None,
                                   f"the encoder is not in the region of {P} (its own pattern is {pattern_of(inst, W_E, bb)})")
    # L̃ on Ω_P is the polynomial of P: evaluate it with P's units, so that a point on a weak boundary
    # (where one rounding error flips a unit) is judged by the region it belongs to.
    gD, gv, loss = _pattern_gradient(inst, W_D, W_E, bb, P.mask)
    dec = float(np.linalg.norm(gD)) / scale
    _, weak_slack = R.slack(W_E, bb)
    act_tol = 1e-7 * _scale(R) * (1.0 + float(np.abs(R.pack(W_E, bb)).max()))
    active = tuple(int(j) for j in np.flatnonzero(weak_slack <= act_tol))
    if active:
        lam, res = nnls(R.A_weak[list(active)].T, -gv)
        kkt = float(res) / scale
    else:
        kkt = float(np.linalg.norm(gv)) / scale
    # Near a strict boundary the gradient of a minimising sequence tends to 0 (C6): a small KKT
    # residual alone cannot tell an interior minimum from a boundary limit, so the encoder problem
    # is also solved over the region and its infimum must be attained at this point's value.
    em = encoder_minimum(inst, R, W_D, R.pack(W_E, bb))
    at_value = loss <= em.infimum + tol * scale
    if dec <= tol and kkt <= tol and em.attained and at_value:
        return PartialMinimumCheck(True, True, loss, dec, kkt, active, True, em.infimum,
                                   f"KKT holds: decoder gradient {dec:.2g}, encoder KKT residual {kkt:.2g} "
                                   f"({len(active)} active weak inequalities); the encoder's minimum over Ω_P is attained")
    reason = []
    if dec > tol:
        reason.append(f"decoder gradient {dec:.3g} ≠ 0 (W_D is not the least-squares decoder)")
    if kkt > tol or not em.attained or not at_value:
        if em.attained:
            reason.append(f"encoder KKT residual {kkt:.3g}: the encoder can still lower L̃ inside Ω_P to {em.infimum:.6g}")
        else:
            reason.append(f"encoder KKT residual {kkt:.3g}: the encoder's infimum {em.infimum:.6g} over Ω_P is not attained "
                          f"(every minimiser lies on the boundary of strict inequalities {list(em.boundary)})")
    return PartialMinimumCheck(False, True, loss, dec, kkt, active, em.attained, em.infimum, "; ".join(reason))


# --------------------------------------------------------------------------------------------
# Alternating convex search
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ACSResult:
    """The end point of :func:`alternating_convex_search` and how it got there."""

    W_D: np.ndarray
    W_E: np.ndarray
    b_E: np.ndarray | None
    loss: float
    iterations: int
    converged: bool
    on_boundary: bool  # the encoder step pressed against a strict inequality (the infimum may not be attained)
    history: tuple[float, ...] = field(default=())
    check: PartialMinimumCheck | None = None


def alternating_convex_search(inst: Instance, pattern, W_E0=None, b_E0=None, *, iters: int = 60,
                              margin: float = 1e-6, tol: float = 1e-11) -> ACSResult:
    """ACS inside Ω_P: least-squares decoder, then the encoder QP with strict inequalities tightened
    by ``margin``; stops when L̃ decreases by less than ``tol`` (relative). Starts from ``W_E0`` or, if
    None, from the LP witness of :meth:`Region.find_point`."""
    P = as_pattern(pattern, inst)
    R = region(inst, P)
    if W_E0 is None:
        point = interior_point(R)
        if point is None:
            raise SDLInputError(f"pattern {P} is not realizable on this instance: {R.find_point().reason}")
        W_E0, b_E0 = point
    W_E0 = np.asarray(W_E0, dtype=float)
    if not R.contains(W_E0, b_E0):
        raise SDLInputError(f"the starting encoder is not in the region of {P}")
    m = margin * _scale(R)
    v = R.pack(W_E0, b_E0)
    strict, _ = R.slack(W_E0, b_E0)
    if strict.size and strict.min() < m:  # start strictly inside the tightened region
        v = R.pack(*interior_point(R))
    history = []
    converged = False
    W_D = None
    for it in range(1, iters + 1):
        W_E, b = R.unpack(v)
        W_D = decoder_for_pattern(inst, W_E, b, P.mask)
        H, g, const = encoder_quadratic(inst, W_D, P.mask)
        v = _solve_qp(H, g, R, v, m)
        loss = float(v @ H @ v - 2 * g @ v + const)
        history.append(loss)
        if it > 1 and history[-2] - loss <= tol * max(1.0, abs(loss)):
            converged = True
            break
    W_E, b = R.unpack(v)
    W_D = decoder_for_pattern(inst, W_E, b, P.mask)
    strict, _ = R.slack(W_E, b)
    on_boundary = bool(strict.size and strict.min() <= 2 * m)
    chk = is_partial_minimum(inst, W_D, W_E, b, P)
    return ACSResult(W_D, W_E.copy(), None if b is None else b.copy(), approx_loss(inst, W_D, W_E, b), it,
                     converged, on_boundary, tuple(history), chk)


# --------------------------------------------------------------------------------------------
# Solving the stationarity conditions of a partition pattern directly
# --------------------------------------------------------------------------------------------


def _augmented_inputs(inst: Instance) -> np.ndarray:
    """``W̄_p``: the columns that the encoder row sees (``[W_p; 1ᵀ]`` with a bias)."""
    return np.vstack([inst.W_p, np.ones((1, inst.n))]) if inst.encoder_bias else inst.W_p


def stationary_points_exhaust(inst: Instance) -> bool:
    """True when the columns of ``W̄_p`` are linearly independent: then every partial minimum of a
    partition pattern has zero gradient, so :func:`stationary_partial_minima` finds all of them."""
    from theory.activations import Gated

    if isinstance(inst.activation, Gated) and not inst.activation.tied:
        # the region constrains only the gate rows and L̃ depends only on the (free) magnitude rows: the
        # encoder's minimum over Ω_P is unconstrained in what L̃ sees, so every partial minimum is stationary
        return True
    Wb = _augmented_inputs(inst)
    return bool(np.linalg.matrix_rank(Wb, tol=1e-9) == inst.n)


@dataclass(frozen=True)
class NeuronEigenspaces:
    """The stationary activation vectors of one neuron: ``a = basis @ Y_k @ η`` for eigenvalue ``λ_k``."""

    neuron: int
    features: tuple[int, ...]
    basis: np.ndarray  # |F| × r, orthonormal basis of A = range(B̄)
    eigenvalues: tuple[float, ...]
    eigenspaces: tuple[np.ndarray, ...]  # r × m_k each


def neuron_eigenspaces(inst: Instance, neuron: int, features) -> NeuronEigenspaces:
    """Generalised eigenspaces of ``P y = λ Q y`` for neuron ``i`` on features F (C6's stationarity)."""
    from scipy.linalg import eigh

    F = sorted(features)
    Bbar = _augmented_inputs(inst)[:, F].T  # |F| × (n_p [+1])
    U, s, _ = np.linalg.svd(Bbar, full_matrices=False)
    B = U[:, s > 1e-9 * max(1.0, s.max())]
    Mw = inst.weights[F]
    WMB = inst.W_r[:, F] @ (Mw[:, None] * B)
    Pm = WMB.T @ WMB
    Qm = B.T @ (Mw[:, None] * B)
    lam, Y = eigh(Pm, Qm)
    groups, spaces = [], []
    order = np.argsort(lam)
    i = 0
    tol = 1e-8 * max(1.0, float(np.abs(lam).max()))
    while i < len(order):
        j = i
        while j + 1 < len(order) and lam[order[j + 1]] - lam[order[i]] <= tol:
            j += 1
        idx = order[i:j + 1]
        groups.append(float(lam[idx].mean()))
        spaces.append(Y[:, idx])
        i = j + 1
    return NeuronEigenspaces(neuron, tuple(F), B, tuple(groups), tuple(spaces))


@dataclass(frozen=True)
class StationaryPartialMinimum:
    W_D: np.ndarray
    W_E: np.ndarray
    b_E: np.ndarray | None
    loss: float
    eigenvalues: tuple[float, ...]  # chosen λ per non-dead neuron
    check: PartialMinimumCheck


@dataclass(frozen=True)
class StationarySearch:
    """All eigen-choices tried for a partition pattern, and the partial minima found."""

    pattern: ActivationPattern
    exact: bool  # the found points are all partial minima with the pattern (W̄_p has independent columns)
    combinations: int
    truncated: bool
    found: tuple[StationaryPartialMinimum, ...]
    neurons: tuple[NeuronEigenspaces, ...]

    def summary(self) -> dict:
        return {
            "pattern": self.pattern.to_json(),
            "exact": self.exact,
            "eigen_combinations_tried": self.combinations,
            "truncated": self.truncated,
            "partial_minima_found": len(self.found),
            "losses": sorted(round(p.loss, 12) for p in self.found),
            "eigenvalues_per_neuron": {str(n.neuron): list(n.eigenvalues) for n in self.neurons},
        }


def _eigen_lp(inst: Instance, R: Region, neurons, spaces):
    """LP: a point of Ω_P whose active neurons' activations lie in the chosen eigenspaces."""
    nv, n_p, n_q, n_pre = R.n_vars, inst.n_p, R.n_q, R.n_pre
    T = R.tie
    sizes = [S.shape[1] for S in spaces]
    nx = nv + sum(sizes)
    eq_rows = []
    off = nv
    for nb, S, k in zip(neurons, spaces, sizes):
        i, F = nb.neuron, list(nb.features)
        (e,) = inst.activation.output_rows(i, n_q)  # the row unit i outputs (a Gated unit's magnitude row)
        G = nb.basis @ S  # |F| × k: a_F = G η
        for row_f, d in enumerate(F):  # <w_E^e, w_p^d> + b_e − (G η)_d = 0
            full = np.zeros(R.n_full)
            full[e * n_p:(e + 1) * n_p] = inst.W_p[:, d]
            if inst.encoder_bias:
                full[n_pre * n_p + e] = 1.0
            r = np.zeros(nx)
            r[:nv] = full if T is None else full @ T
            r[off:off + k] = -G[row_f]
            eq_rows.append(r)
        off += k
    x = _margin_lp(R, np.array(eq_rows) if eq_rows else None, nx - nv)
    return None if x is None else R.unpack(x[:nv])


def is_plain_relu(inst: Instance) -> bool:
    from theory.activations import JumpReLU

    return isinstance(inst.activation, JumpReLU) and inst.activation.theta == 0


def _null_basis(A: np.ndarray, dim: int) -> np.ndarray:
    """Orthonormal basis of ``{x : A x = 0}`` (``A`` has ``dim`` columns)."""
    if A.size == 0:
        return np.eye(dim)
    _, s, Vt = np.linalg.svd(A)
    rank = int((s > 1e-9 * max(1.0, s.max())).sum())
    return Vt[rank:].T


def relu_face_options(inst: Instance, neuron: int, features) -> list[dict]:
    """Every KKT configuration of one ReLU neuron with on-set F (θ = 0, bias or not), face by face.

    On the face where the off-features S sit exactly at z = 0, the activations range over the
    subspace ``A_S = B̄_F {ē : <ē, w̄_d> = 0, d ∈ S}``; the stationary points there are generalised
    eigenvectors on A_S, where ``∇_a = (2/s) M (λ I − W_rᵀ W_r M) a`` is linear in the eigen-coordinates,
    so the KKT multipliers ``B̄_Fᵀ ∇_a + Σ_{d∈S} λ_d w̄_d = 0, λ >= 0`` and the region are one LP.
    Returns ``{"loss", "eigenvalue", "face", "row"}`` per feasible (face, eigenspace)."""
    from scipy.linalg import eigh
    from scipy.optimize import linprog

    F = sorted(features)
    off = [d for d in range(inst.n) if d not in F]
    Wb = _augmented_inputs(inst)  # (n_p[+1]) × n
    dim = Wb.shape[0]
    Bbar = Wb[:, F].T  # |F| × dim
    Mw = inst.weights[F]
    W = inst.W_r[:, F]
    trace = float(Mw @ np.einsum("rd,rd->d", W, W))
    out = []
    for size in range(0, min(len(off), dim) + 1):
        for S in itertools.combinations(off, size):
            T = _null_basis(Wb[:, list(S)].T, dim)  # ē = T ξ on the face
            if T.shape[1] == 0:
                continue
            U, sv, _ = np.linalg.svd(Bbar @ T, full_matrices=False)
            B = U[:, sv > 1e-9 * max(1.0, sv.max())] if sv.size else np.zeros((len(F), 0))
            if B.shape[1] == 0:
                continue
            WMB = W @ (Mw[:, None] * B)
            lam, Y = eigh(WMB.T @ WMB, B.T @ (Mw[:, None] * B))
            groups = []
            for k in np.argsort(lam):
                if groups and lam[k] - groups[-1][0] <= 1e-8 * max(1.0, abs(lam).max()):
                    groups[-1][1].append(k)
                else:
                    groups.append((lam[k], [k]))
            rest = [d for d in off if d not in S]
            for lam_e, idx in groups:
                G = B @ Y[:, idx]
                K = Mw[:, None] * (lam_e * np.eye(len(F)) - W.T @ W * Mw[None, :])
                nx, ne, nl = T.shape[1], G.shape[1], len(S)
                nv = nx + ne + nl + 2  # ξ, η, λ', t, t_w
                A_eq = np.vstack([
                    np.hstack([Bbar @ T, -G, np.zeros((len(F), nl + 2))]),  # a = B̄_F T ξ = G η
                    np.hstack([np.zeros((dim, nx)), Bbar.T @ K @ G, Wb[:, list(S)], np.zeros((dim, 2))]),  # KKT
                ])
                rows = [np.hstack([-(Bbar @ T), np.zeros((len(F), ne + nl)), np.ones((len(F), 1)), np.zeros((len(F), 1))])]
                if rest:
                    rows.append(np.hstack([Wb[:, rest].T @ T, np.zeros((len(rest), ne + nl + 1)), np.ones((len(rest), 1))]))
                rows.append(np.r_[np.zeros(nv - 2), -1.0, 1.0][None, :])  # t_w <= t
                c = np.zeros(nv)
                c[-2], c[-1] = -1.0, -0.5
                res = linprog(c, A_ub=np.vstack(rows), b_ub=np.zeros(sum(len(r) for r in rows)), A_eq=A_eq,
                              b_eq=np.zeros(len(A_eq)),
                              bounds=[(-1, 1)] * (nx + ne) + [(0, None)] * nl + [(None, 1.0), (0.0, 1.0)], method="highs")
                if res.status == 0 and res.x[nv - 2] > 1e-9:
                    out.append({"loss": trace - float(lam_e), "eigenvalue": float(lam_e), "face": list(S),
                                "row": T @ res.x[:nx]})
    return out


def _relu_partial_minima(inst: Instance, P: ActivationPattern, R: Region, tol: float) -> StationarySearch:
    """Exact search for a ReLU partition pattern: neurons decouple, so combine per-neuron face options."""
    neurons = tuple(neuron_eigenspaces(inst, i, F) for i, F in enumerate(P.firing) if F)
    base = interior_point(R)
    if base is None:
        return StationarySearch(P, True, 0, False, (), neurons)
    options = {i: relu_face_options(inst, i, F) for i, F in enumerate(P.firing) if F}
    tried = sum(len(v) for v in options.values())
    if any(not v for v in options.values()):
        return StationarySearch(P, True, tried, False, (), neurons)
    found = []
    picks = [max, min]  # the largest- and the smallest-loss partial minimum
    for pick in picks:
        W_E, b = base[0].copy(), None if base[1] is None else base[1].copy()
        lams = []
        for i, opts in options.items():
            o = pick(opts, key=lambda o: o["loss"])
            W_E[i] = o["row"][:inst.n_p]
            if b is not None:
                b[i] = o["row"][inst.n_p]
            lams.append(o["eigenvalue"])
        W_D = decoder_for_pattern(inst, W_E, b, P.mask)
        chk = is_partial_minimum(inst, W_D, W_E, b, P, tol=tol)
        if chk.is_partial_minimum and not any(abs(f.loss - chk.loss) <= 1e-12 for f in found):
            found.append(StationaryPartialMinimum(W_D, W_E, b, chk.loss, tuple(lams), chk))
    # Every option is an LP-certified KKT point; if the assembled point still fails the numeric re-check
    # (ill-conditioning), the search is reported as not exact instead of claiming anything.
    return StationarySearch(P, bool(found), tried, False, tuple(found), neurons)


def stationary_partial_minima(inst: Instance, pattern, *, max_combinations: int = 256, tol: float = 1e-6) -> StationarySearch:
    """Partial minima with a partition pattern from the stationarity conditions (module docstring).

    ReLU (θ = 0, with or without bias): exact in every geometry — every face of the region's weak
    inequalities is enumerated per neuron (:func:`relu_face_options`). Other families: the
    zero-gradient points, one per feasible choice of eigenspace per neuron, exact when the columns of
    ``W̄_p`` are independent. Each point is re-checked by :func:`is_partial_minimum`."""
    P = as_pattern(pattern, inst)
    problem = P.partition_problem()
    if problem is not None:
        raise SDLInputError(f"stationary_partial_minima needs a partition pattern (every feature on exactly one neuron): {problem}")
    R = region(inst, P)
    if is_plain_relu(inst) and not R.impossible:
        return _relu_partial_minima(inst, P, R, tol)
    neurons = tuple(neuron_eigenspaces(inst, i, F) for i, F in enumerate(P.firing) if F)
    exact = stationary_points_exhaust(inst)
    if R.impossible:
        return StationarySearch(P, exact, 0, False, (), neurons)
    choices = list(itertools.product(*[range(len(nb.eigenvalues)) for nb in neurons]))
    truncated = len(choices) > max_combinations
    found = []
    for combo in choices[:max_combinations]:
        spaces = [nb.eigenspaces[k] for nb, k in zip(neurons, combo)]
        point = _eigen_lp(inst, R, neurons, spaces)
        if point is None:
            continue
        W_E, b = point
        W_D = decoder_for_pattern(inst, W_E, b, P.mask)
        chk = is_partial_minimum(inst, W_D, W_E, b, P, tol=tol)
        if chk.is_partial_minimum:
            found.append(StationaryPartialMinimum(W_D, W_E.copy(), None if b is None else b.copy(), chk.loss,
                                                  tuple(nb.eigenvalues[k] for nb, k in zip(neurons, combo)), chk))
    return StationarySearch(P, exact and not truncated, min(len(choices), max_combinations), truncated, tuple(found), neurons)


__all__ = [
    "encoder_quadratic", "decoder_for_pattern", "interior_point", "EncoderMinimum", "encoder_minimum", "PartialMinimumCheck", "is_partial_minimum",
    "ACSResult", "alternating_convex_search", "stationary_points_exhaust", "NeuronEigenspaces",
    "neuron_eigenspaces", "relu_face_options", "StationaryPartialMinimum", "StationarySearch", "stationary_partial_minima",
]
