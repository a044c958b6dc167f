"""The exact hierarchy objective with an encoder bias (and JumpReLU thresholds): polygons instead of wedges (THEORY.md §7, C7).

:mod:`theory.absorption_curve` computes the exact objective of the parent + K children model without biases: a
pre-activation ``A_i m_P + B_i m_C`` changes sign on a ray, so the active set depends on the ratio ``m_C/m_P`` only.
With an encoder bias ``b_i`` the pre-activation ``z_i = A_i m_P + B_i m_C + b_i`` changes sign on a *line* of the
``(m_P, m_C)`` quadrant ``[c_P, ∞) × [c_C, ∞)``, and the cells of constant active set are convex polygons (possibly
unbounded). This module integrates over them exactly:

- the ``m_P`` axis is cut at every abscissa where two lines cross, where a line meets the support's lower edge
  ``m_C = c_C``, and where a line is vertical; inside each slab the lines are ordered, so each cell is a trapezoid
  ``x0 < m_P < x1``, ``lo(m_P) < m_C < hi(m_P)`` with ``lo``, ``hi`` linear (or ``c_C``, or ∞);
- for a shifted-exponential child the inner integral is closed form: ``∫_lo^hi m_C^b f_C = U_b(lo) − U_b(hi)``,
  ``U_b(t) = e^{−(t−c_C)/β_C} E[(t + β_C X)^b]`` (memoryless tail), an exponential of a linear function of ``m_P``
  times a polynomial;
- the outer integral is then a polynomial times ``e^{−r m_P}`` on ``[x0, x1]``: closed form
  ``[−e^{−r x} Σ_n q^{(n)}(x) / r^{n+1}]`` when ``|r| (x1 − x0) >= 1`` or the slab is unbounded (then ``r > 0``: a
  line bounding a cell out to ``m_P → ∞`` rises), and 24-point Gauss–Legendre otherwise (the integrand is then a
  polynomial of degree <= 4 times an exponential that varies by less than ``e`` over the slab: relative error below
  1e-15, far under the closed form's cancellation there);
- constant magnitudes make one axis a point: the cells are intervals of the other (exact tail moments), or a
  point mass when both are constant.

The objective is ``E ||y − W_D σ(W_E x + b)||² + λ E Σ_i a_i ||d_i||`` with σ = ReLU or JumpReLU(θ) (``a_i = z_i``
where ``z_i > θ_i``, else 0), per event as in :func:`theory.absorption_curve.exact_objective` (which it equals at
``b = 0``, θ = 0; tested). ReLU's per-event loss is continuous where a latent switches (``a_i = 0`` on the line),
so the moving polygon edges add nothing to the gradient (Leibniz): the exact gradient ``(g_E, g_b, g_D)`` is the
expectation of the per-event gradient over the cells. JumpReLU's jumps by ``θ_i`` there, and each line adds
``∫ Δf (∂g/∂p) ρ ds / |∇g|``: a polynomial times an exponential along the line, closed form like the cells
(:func:`_line_moments`).

**θ is not a free hyperparameter here.** With the L1 term on ``a_i ||d_i||``, ``(θ, W_E, b, W_D)`` and
``(cθ, c W_E, c b, W_D / c)`` are the same model, so the stationary points for all θ > 0 are one set up to that
scaling: the curve in θ is flat (tested). The threshold matters only relative to each latent's scale, which
training chooses; what distinguishes JumpReLU from ReLU + bias is the jump itself.
"""
from __future__ import annotations

import numpy as np

from theory.absorption_curve import Hierarchy, _check, _law, _upper
from theory.errors import SDLInputError

_GL_X, _GL_W = np.polynomial.legendre.leggauss(24)


def _pval(c, x: float) -> float:
    """A polynomial (ascending coefficients, plain floats: numpy's Polynomial is 10× slower here) at ``x``."""
    out = 0.0
    for v in reversed(c):
        out = out * x + v
    return out


def _pderiv(c):
    return [n * v for n, v in enumerate(c)][1:]


def _poly_exp_integral(q, r: float, c0: float, x0: float, x1: float) -> float:
    """``∫_{x0}^{x1} q(x) e^{c0 − r x} dx`` (``x1`` may be ∞ when ``r > 0``)."""
    if not np.isfinite(x1):
        if r <= 0:
            raise SDLInputError("internal: an unbounded cell with a non-decaying density (r <= 0)")
        return _antideriv(q, r, c0, x0)
    if x1 <= x0:
        return 0.0
    if abs(r) * (x1 - x0) >= 1.0:
        return _antideriv(q, r, c0, x0) - _antideriv(q, r, c0, x1)
    half, mid = 0.5 * (x1 - x0), 0.5 * (x1 + x0)
    xs = mid + half * _GL_X
    qs = np.zeros_like(xs)
    for v in reversed(q):
        qs = qs * xs + v
    return float(half * np.sum(_GL_W * qs * np.exp(c0 - r * xs)))


def _antideriv(q, r, c0, x):
    """``∫_x^∞ q(t) e^{c0 − r t} dt = e^{c0 − r x} Σ_n q^{(n)}(x) / r^{n+1}`` (for r > 0; for any r ≠ 0 the
    difference of two of these is the finite integral)."""
    out, d, rn = 0.0, list(q), r
    while d:
        out += _pval(d, x) / rn
        d, rn = _pderiv(d), rn * r
    return float(np.exp(c0 - r * x)) * out


def _x_breaks(L: np.ndarray, cP: float, cC: float) -> list[float]:
    """Abscissae ``m_P > c_P`` where the order of the lines ``A x + B y + c = 0`` (rows of ``L``) over ``y >= c_C``
    can change: vertical lines, crossings with ``y = c_C``, pairwise crossings."""
    xs = []
    for i, (A, B, c) in enumerate(L):
        if A != 0:
            xs.append(-(B * cC + c) / A)  # meets the lower edge (or is vertical there when B = 0)
        for A2, B2, c2 in L[i + 1:]:
            det = A * B2 - A2 * B
            if det != 0:
                xs.append((B * c2 - B2 * c) / det)
    return sorted({float(x) for x in xs if np.isfinite(x) and x > cP})


def _slab_cells(L: np.ndarray, x0: float, x1: float, cC: float):
    """Cells of the slab ``x0 < m_P < x1`` above ``c_C``: ``(lo, hi, (xm, ym))`` with ``lo``, ``hi`` as
    ``(α, β)`` of ``y = α x + β`` (``hi = None``: ∞) and an interior point ``(xm, ym)``."""
    xm = x0 + 1.0 if not np.isfinite(x1) else 0.5 * (x0 + x1)
    lines = [(-A / B, -c / B) for A, B, c in L if B != 0]
    ys = sorted(((a * xm + b, (a, b)) for a, b in lines if a * xm + b > cC), key=lambda t: t[0])
    edges = [(cC, (0.0, cC)), *ys]
    out = []
    for n, (ylo, lo) in enumerate(edges):
        if n + 1 < len(edges):
            yhi, hi = edges[n + 1]
            if yhi - ylo <= 0:
                continue
            out.append((lo, hi, (xm, 0.5 * (ylo + yhi))))
        else:
            out.append((lo, None, (xm, ylo + 1.0)))
    return out


_AB = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2))


def _trapezoid_moments(P_, C_, x0, x1, lo, hi, n: int = 6) -> np.ndarray:
    """``E[m_P^a m_C^b 1{cell}]`` (order ``_AB``; the first ``n`` of them) for two shifted exponentials; see the
    module docstring."""
    cP, bP = P_
    cC, bC = C_
    out = np.zeros(n)
    for bound, sign in ((lo, 1.0), (hi, -1.0)):
        if bound is None:
            continue
        al, be = bound
        # U_b(α x + β) = exp(−(α x + β − c_C)/β_C) · T_b(α x + β); times f_P(x) = exp(−(x − c_P)/β_P)/β_P
        r = 1.0 / bP + al / bC
        c0 = cP / bP - (be - cC) / bC
        T = ([1.0 / bP], [(be + bC) / bP, al / bP],
             [(be * be + 2 * bC * be + 2 * bC * bC) / bP, (2 * al * be + 2 * bC * al) / bP, al * al / bP])
        for n_, (a, b) in enumerate(_AB[:n]):
            out[n_] += sign * _poly_exp_integral([0.0] * a + T[b], r, c0, x0, x1)
    return out


def _interval_moment(c, b, a, t0, t1):
    """``E[m^a 1{t0 < m < t1}]`` for ``m = c + b X`` (or the constant ``c``)."""
    return _upper(c, b, a, t0) - (_upper(c, b, a, t1) if np.isfinite(t1) else 0.0)


def _intervals(coef: np.ndarray, const: np.ndarray, lo_edge: float):
    """Pieces of ``(lo_edge, ∞)`` on which every ``coef_i t + const_i`` keeps its sign: ``(t0, t1, t_mid)``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        roots = -const / coef
    cuts = sorted({float(r) for r in roots if np.isfinite(r) and r > lo_edge})
    edges = [lo_edge, *cuts, np.inf]

    def mid(t0, t1):
        if np.isfinite(t0) and np.isfinite(t1):
            return 0.5 * (t0 + t1)
        return t0 + 1.0 if np.isfinite(t0) else (t1 - 1.0 if np.isfinite(t1) else 0.0)
    return [(t0, t1, mid(t0, t1)) for t0, t1 in zip(edges[:-1], edges[1:])]


def child_cells(h: Hierarchy, Z: np.ndarray, bias: np.ndarray):
    """The cells of one child event: ``(P, μ, M, S)`` with the cell's probability, ``E[m 1_cell]``,
    ``E[m mᵀ 1_cell]`` (``m = (m_P, m_C)``) and its active set ``S`` (``z_i = Z_i · m + b_i > 0``)."""
    P_, C_ = _law(h.parent_law), _law(h.child_law)
    (cP, bP), (cC, bC) = P_, C_
    out = []

    def add(H, pt):
        mu = np.array([H[1], H[2]])
        M = np.array([[H[3], H[4]], [H[4], H[5]]])
        S = Z @ np.asarray(pt) + bias > 0
        out.append((H[0], mu, M, S))

    if bP == 0 and bC == 0:
        add(np.array([cP**a * cC**b for a, b in _AB]), (cP, cC))
    elif bC == 0:  # m_C = c_C: intervals of m_P
        for t0, t1, tm in _intervals(Z[:, 0], Z[:, 1] * cC + bias, -np.inf):
            add(np.array([_interval_moment(cP, bP, a, t0, t1) * cC**b for a, b in _AB]), (tm, cC))
    elif bP == 0:  # m_P = c_P: intervals of m_C
        for t0, t1, tm in _intervals(Z[:, 1], Z[:, 0] * cP + bias, -np.inf):
            add(np.array([cP**a * _interval_moment(cC, bC, b, t0, t1) for a, b in _AB]), (cP, tm))
    else:
        L = np.column_stack([Z[:, 0], Z[:, 1], bias])
        edges = [cP, *_x_breaks(L, cP, cC), np.inf]
        for x0, x1 in zip(edges[:-1], edges[1:]):
            for lo, hi, pt in _slab_cells(L, x0, x1, cC):
                add(_trapezoid_moments(P_, C_, x0, x1, lo, hi), pt)
    return out


def parent_cells(h: Hierarchy, z: np.ndarray, bias: np.ndarray):
    """The cells of a parent-alone event (``z_i = z_i m_P + b_i``): ``(P, E[m_P 1], E[m_P² 1], S)``."""
    cP, bP = _law(h.parent_law)
    if bP == 0:
        return [(1.0, cP, cP * cP, z * cP + bias > 0)]
    return [(_interval_moment(cP, bP, 0, t0, t1), _interval_moment(cP, bP, 1, t0, t1),
             _interval_moment(cP, bP, 2, t0, t1), z * tm + bias > 0)
            for t0, t1, tm in _intervals(z, bias, -np.inf)]


def _line_moments(h: Hierarchy, A: float, B: float, off: float, others: tuple):
    """Segments of the line ``A m_P + B m_C + off = 0`` inside the support, cut where the other lines (rows
    ``(A_j, B_j, off_j)`` of ``others``) cross it: ``(point on the segment, L0, L1, L2)`` with
    ``L_ab = ∫_segment m_P^a m_C^b ρ(m) ds / |∇g|`` (the density of the event on the line, per unit of ``g``'s
    value: the weight of a Leibniz edge term)."""
    (cP, bP), (cC, bC) = _law(h.parent_law), _law(h.child_law)
    out = []

    def pack(H, pt):
        out.append((pt, H[0], np.array([H[1], H[2]]), np.array([[H[3], H[4]], [H[4], H[5]]])))

    def fdens(c, b, t):  # density of c + b X at t
        return float(np.exp(-(t - c) / b)) / b if t >= c else 0.0

    if bP == 0 and bC == 0:
        return out  # a point mass: the line carries no probability
    if bC == 0 or bP == 0:
        if bC == 0:  # m_C = c_C: a point m_P = x*
            if A == 0:
                return out
            x = -(B * cC + off) / A
            if x > cP:
                w = fdens(cP, bP, x) / abs(A)
                pack([w * x**a * cC**b for a, b in _AB], (x, cC))
        else:
            if B == 0:
                return out
            y = -(A * cP + off) / B
            if y > cC:
                w = fdens(cC, bC, y) / abs(B)
                pack([w * cP**a * y**b for a, b in _AB], (cP, y))
        return out
    if B == 0:  # vertical: m_P = x_v, m_C over (c_C, ∞) cut by the other lines
        if A == 0:
            return out
        xv = -off / A
        if xv <= cP:
            return out
        cuts = sorted({float(-(A2 * xv + o2) / B2) for A2, B2, o2 in others if B2 != 0} - {np.nan})
        cuts = [c for c in cuts if np.isfinite(c) and c > cC]
        edges = [cC, *cuts, np.inf]
        w = fdens(cP, bP, xv) / abs(A)
        for y0, y1 in zip(edges[:-1], edges[1:]):
            ym = y0 + 1.0 if not np.isfinite(y1) else 0.5 * (y0 + y1)
            pack([w * xv**a * _interval_moment(cC, bC, b, y0, y1) for a, b in _AB], (xv, ym))
        return out
    al, be = -A / B, -off / B
    L = np.array([(A, B, off), *others], dtype=float).reshape(-1, 3)
    edges = [cP, *_x_breaks(L, cP, cC), np.inf]
    r = 1.0 / bP + al / bC
    c0 = cP / bP - (be - cC) / bC
    scale = 1.0 / (bP * bC * abs(B))
    T = ([scale], [be * scale, al * scale], [be * be * scale, 2 * al * be * scale, al * al * scale])
    for x0, x1 in zip(edges[:-1], edges[1:]):
        xm = x0 + 1.0 if not np.isfinite(x1) else 0.5 * (x0 + x1)
        if al * xm + be <= cC:
            continue
        pack([_poly_exp_integral([0.0] * a + T[b], r, c0, x0, x1) for a, b in _AB], (xm, al * xm + be))
    return out


def _theta_vector(theta, n_q: int) -> np.ndarray:
    t = np.broadcast_to(np.asarray(0.0 if theta is None else theta, dtype=float), (n_q,)).copy()
    if not np.all(np.isfinite(t)) or (t < 0).any():
        raise SDLInputError(f"JumpReLU thresholds θ must be finite and >= 0, got {theta!r}")
    return t


def exact_objective_bias(h: Hierarchy, W_E, b_E, W_D, lam: float, *, theta=None, gradient: bool = True,
                         penalty: str = "l1", edges: bool = True):
    """``(loss, g_E, g_b, g_D)``: the exact expected objective with encoder bias ``b_E`` and its exact gradient
    (``None``s when ``gradient=False``). ``theta``: JumpReLU thresholds (one number or one per latent; ``None`` or
    0: ReLU), latent i active iff ``z_i > θ_i`` and then ``a_i = z_i``.

    ReLU's per-event loss is continuous where a latent switches, so only the cells' interiors count. JumpReLU's
    jumps there (``a_i`` goes from 0 to ``θ_i``): the line ``z_i = θ_i`` adds the Leibniz edge term
    ``∫_line Δf (∂g/∂p) ρ ds / |∇g|`` with ``Δf = ||r − θ_i d_i||² − ||r||² + λ θ_i ||d_i||`` (``r``: the residual
    of the other active latents, linear in m on the line) and ``∂g/∂p = m`` for the encoder row, 1 for the bias
    (:func:`_line_moments`; the threshold's own gradient is minus the bias's edge part: :func:`threshold_gradient`).

    ``penalty="l0"``: the JumpReLU family's own sparsity term ``λ E Σ_i 1{z_i > θ_i}`` (:mod:`numerics.models.jumprelu`)
    instead of ``λ E Σ_i a_i ||d_i||``: constant on every cell, so its gradient is only the lines' edge terms (the
    jump ``Δf`` gains ``λ`` instead of ``λ θ_i ||d_i||``), for every latent (also at θ_i = 0, where only the penalty
    jumps). ``edges=False``: the cells' terms alone, i.e. the expectation of the per-event gradient — what autograd of
    a sampled loss gives the encoder, the bias and the decoder (it never sees a jump; the engine's JumpReLU passes
    ``z`` the gradient ``1{z > θ}`` and the L0 step none)."""
    if penalty not in ("l1", "l0"):
        raise SDLInputError(f"penalty must be 'l1' or 'l0', got {penalty!r}")
    W_E, W_D = _check(h, W_E, W_D, "relu", None)
    b_E = np.asarray(b_E, dtype=float)
    if b_E.shape != (W_E.shape[0],):
        raise SDLInputError(f"b_E must have one entry per latent ({W_E.shape[0]}), got shape {b_E.shape}")
    if lam < 0:
        raise SDLInputError(f"λ must be >= 0, got {lam}")
    th = _theta_vector(theta, W_E.shape[0])
    off = b_E - th  # latent i is active on the positive side of Z_i · m + off_i
    norms = np.linalg.norm(W_D, axis=0)
    unit = W_D / np.where(norms > 0, norms, 1.0)
    loss, gE, gb, gD = 0.0, np.zeros_like(W_E), np.zeros_like(b_E), np.zeros_like(W_D)
    for prob, Xin, Xout in h.events():
        Z = W_E @ Xin
        if Xin.shape[1] == 1:
            cells = [(P, np.array([m1]), np.array([[m2]]), S) for P, m1, m2, S in parent_cells(h, Z[:, 0], off)]
        else:
            cells = child_cells(h, Z, off)
        for P, mu, M, S in cells:
            if P <= 0:
                continue
            ZS, DS, cS = Z[S], W_D[:, S], b_E[S]
            R, u = Xout - DS @ ZS, DS @ cS  # residual r(m) = R m − u
            Erm, Er = R @ M - np.outer(u, mu), R @ mu - u * P  # E[r mᵀ 1], E[r 1]
            Ea = ZS @ mu + cS * P  # E[a_S 1]
            l1 = lam if penalty == "l1" else 0.0
            loss += prob * (float(np.trace(R @ M @ R.T)) - 2 * float(u @ R @ mu) + float(u @ u) * P
                            + (lam * float(norms[S] @ Ea) if penalty == "l1" else lam * P * int(S.sum())))
            if gradient:
                gD[:, S] += prob * (-2 * (Erm @ ZS.T + np.outer(Er, cS)) + l1 * unit[:, S] * Ea[None, :])
                gE[S] += prob * (-2 * DS.T @ Erm + l1 * np.outer(norms[S], mu)) @ Xin.T
                gb[S] += prob * (-2 * DS.T @ Er + l1 * norms[S] * P)
        jumps = th > 0 if penalty == "l1" else np.ones(len(th), dtype=bool)
        if not gradient or not edges or not jumps.any():
            continue
        for i in np.flatnonzero(jumps):
            rows = [j for j in range(len(th)) if j != i]
            if Xin.shape[1] == 1:
                segs = _parent_point(h, Z[i, 0], off[i])
                others_at = lambda pt: Z[rows, 0] * pt[0] + off[rows] > 0  # noqa: E731
            else:
                segs = _line_moments(h, Z[i, 0], Z[i, 1], off[i], tuple(map(tuple, np.column_stack(
                    [Z[rows, 0], Z[rows, 1], off[rows]]))))
                others_at = lambda pt: Z[rows] @ np.asarray(pt) + off[rows] > 0  # noqa: E731
            for pt, L0, L1, L2 in segs:
                S = np.zeros(len(th), dtype=bool)
                S[rows] = others_at(pt)
                R, u = Xout - W_D[:, S] @ Z[S], W_D[:, S] @ b_E[S]
                d = W_D[:, i]
                alpha = -2 * th[i] * (R.T @ d)  # Δf(m) = α0 + α · m on the line
                alpha0 = (2 * th[i] * float(d @ u) + th[i] ** 2 * float(d @ d)
                          + (lam * norms[i] * th[i] if penalty == "l1" else lam))
                gE[i] += prob * (alpha0 * L1 + L2 @ alpha) @ Xin.T
                gb[i] += prob * (alpha0 * L0 + float(alpha @ L1))
    return (loss, gE, gb, gD) if gradient else (loss, None, None, None)


def threshold_gradient(h: Hierarchy, W_E, b_E, W_D, lam: float, theta, *, penalty: str = "l1") -> np.ndarray:
    """``∂L/∂θ_i`` of the exact objective: θ_i only moves the line ``z_i = θ_i`` (``a_i = z_i`` on its active side
    does not depend on it), so it is minus the bias gradient's edge part. In the limit of a small bandwidth this is
    what the JumpReLU family's straight-through estimator of θ estimates (Rajamanoharan et al. 2024b)."""
    full = exact_objective_bias(h, W_E, b_E, W_D, lam, theta=theta, penalty=penalty)[2]
    return -(full - exact_objective_bias(h, W_E, b_E, W_D, lam, theta=theta, penalty=penalty, edges=False)[2])


def _parent_point(h: Hierarchy, A: float, off: float):
    """The parent-alone event's edge ``A m_P + off = 0``: ``[(point, L0, L1, L2)]`` (1-d moments) or none."""
    cP, bP = _law(h.parent_law)
    if bP == 0 or A == 0:
        return []
    x = -off / A
    if x <= cP:
        return []
    w = float(np.exp(-(x - cP) / bP)) / bP / abs(A)
    return [((x,), w, np.array([w * x]), np.array([[w * x * x]]))]


# ------------------------------------------------------------------------------------ stationary points with bias
def _pack3(W_E, b_E, W_D):
    return np.concatenate([np.ravel(W_E), np.ravel(b_E), np.ravel(W_D)])


def _unpack3(theta, n_q: int, h: Hierarchy):
    nE = n_q * h.n_p
    return theta[:nE].reshape(n_q, h.n_p), theta[nE:nE + n_q], theta[nE + n_q:].reshape(h.n_r, n_q)


def _bias_slice(n_q: int, h: Hierarchy) -> slice:
    return slice(n_q * h.n_p, n_q * h.n_p + n_q)


def _fg(h, theta, n_q, lam, thr=None, penalty="l1", bias=True):
    """Loss and gradient vector; ``bias=False``: the bias is held at its value (its gradient entries are 0, so
    L-BFGS and Newton never move it)."""
    loss, gE, gb, gD = exact_objective_bias(h, *_unpack3(theta, n_q, h), lam, theta=thr, penalty=penalty)
    return loss, _pack3(gE, gb if bias else np.zeros_like(gb), gD)


def _f(h, theta, n_q, lam, thr=None, penalty="l1"):
    return exact_objective_bias(h, *_unpack3(theta, n_q, h), lam, theta=thr, gradient=False, penalty=penalty)[0]


def hessian_bias(h, theta, n_q, lam, step=1e-5, thr=None, penalty="l1", bias=True) -> np.ndarray:
    """Central differences of the exact gradient (continuous, edge terms included for JumpReLU thresholds
    ``thr``; smooth away from the parameters where two edges meet). ``bias=False``: the bias's rows and columns
    are 0 (a fixed parameter)."""
    n = theta.size
    H = np.zeros((n, n))
    fixed = set(range(n)[_bias_slice(n_q, h)]) if not bias else set()
    for c in range(n):
        if c in fixed:
            continue
        e = np.zeros(n)
        e[c] = step
        H[:, c] = (_fg(h, theta + e, n_q, lam, thr, penalty, bias)[1]
                   - _fg(h, theta - e, n_q, lam, thr, penalty, bias)[1]) / (2 * step)
    return 0.5 * (H + H.T)


def polish_bias(h: Hierarchy, W_E, b_E, W_D, lam, *, thresholds=None, max_iter: int = 2000, newton: int = 20,
                gtol: float = 1e-10, penalty: str = "l1", bias: bool = True):
    """L-BFGS on the exact objective from ``(W_E, b_E, W_D)`` (JumpReLU ``thresholds`` θ fixed, or ReLU), then
    Newton on ``∇L = 0`` (least squares on the Hessian, so flat directions do not stop it). ``penalty``: ``"l1"``
    or ``"l0"`` (:func:`exact_objective_bias`); ``bias=False``: ``b_E`` held fixed (no encoder bias: pass zeros).
    Returns ``(parameter vector, loss, ||∇L||)`` (the gradient over the trained parameters)."""
    from scipy.optimize import minimize

    n_q = np.asarray(W_E).shape[0]
    thr = None if thresholds is None else _theta_vector(thresholds, n_q)
    theta = _pack3(W_E, b_E, W_D).astype(float)
    with np.errstate(over="ignore", invalid="ignore"):  # a start may run off to overflow: then it is dropped
        res = minimize(lambda t: _fg(h, t, n_q, lam, thr, penalty, bias), theta, jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "gtol": 1e-8, "ftol": 1e-15, "maxcor": 30})
        theta = res.x
        loss, g = _fg(h, theta, n_q, lam, thr, penalty, bias)
        for _ in range(newton):
            if not np.linalg.norm(g) >= gtol:
                break
            H = hessian_bias(h, theta, n_q, lam, thr=thr, penalty=penalty, bias=bias)
            if not np.all(np.isfinite(H)):
                break
            t_new = theta - np.linalg.lstsq(H, g, rcond=1e-10)[0]
            l_new, g_new = _fg(h, t_new, n_q, lam, thr, penalty, bias)
            if not np.isfinite(l_new) or not np.linalg.norm(g_new) < np.linalg.norm(g):
                break
            theta, loss, g = t_new, l_new, g_new
    return theta, float(loss), float(np.linalg.norm(g))


#: a line with less density than this (per unit of z) counts as outside the support: the curvature it gives a
#: rescaling is of that order, far below the Hessian's tolerance (the perturbation check still probes it)
_NO_MASS = 1e-9


def _line_mass(h: Hierarchy, W_E, off, i: int) -> np.ndarray:
    """Per event type (as :meth:`Hierarchy.events` lists them): the probability density (per unit of ``z_i``) on
    the line ``z_i + off_i = 0``; 0 where the line passes outside the event's support."""
    out = []
    for prob, Xin, _ in h.events():
        Z = W_E @ Xin
        segs = (_parent_point(h, Z[i, 0], off[i]) if Xin.shape[1] == 1
                else _line_moments(h, Z[i, 0], Z[i, 1], off[i], ()))
        out.append(prob * sum(L0 for _, L0, _, _ in segs))
    return np.array(out)


def _events_cells(h: Hierarchy, W_E, off):
    """Per event type ``(probability, [(P, S), ...])``: the probability and active set of every cell."""
    out = []
    for prob, Xin, _ in h.events():
        Z = W_E @ Xin
        if Xin.shape[1] == 1:
            out.append((prob, [(P, S) for P, _, _, S in parent_cells(h, Z[:, 0], off)]))
        else:
            out.append((prob, [(P, S) for P, _, _, S in child_cells(h, Z, off)]))
    return out


def classify_bias(h: Hierarchy, theta, n_q: int, lam: float, *, thresholds=None, tol: float = 1e-6,
                  n_random: int = 24, radii=(1e-4, 1e-3), seed: int = 0, penalty: str = "l1", bias: bool = True) -> dict:
    """The Hessian off the exact symmetries — each live latent's rescaling ``(c e_i, c b_i, d_i / c)`` and every
    parameter of a latent that fires on no cell of positive probability — then the same independent check as
    :func:`theory.absorption_curve.check_type`: a ``minimum`` must not decrease under ``n_random`` seeded random
    perturbations (both signs, at the ``radii`` of the parameter norm); a ``saddle`` must decrease along the
    eigenvector of its negative eigenvalue. A dead latent's encoder directions are probed the same way (it may
    switch on once moved), not trusted to be flat. JumpReLU ``thresholds``: a latent with ``θ_i > 0`` has no
    rescaling symmetry (``z_i > θ_i`` is not scale-invariant) unless its line carries no probability on any event
    (it passes outside the support: then the active set does not move, and the rescaling is a local symmetry). ``bias=False``: the bias is fixed, so its directions
    are neither in the Hessian nor perturbed."""
    W_E, b_E, W_D = _unpack3(theta, n_q, h)
    thr = _theta_vector(thresholds, n_q)
    live = np.zeros(n_q, dtype=bool)
    for _, cells in _events_cells(h, W_E, b_E - thr):
        for P, S in cells:
            if P > 1e-12:
                live |= S
    zE, zb, zD = np.zeros_like(W_E), np.zeros_like(b_E), np.zeros_like(W_D)
    flat, probe = [], []
    for i in np.flatnonzero(live):
        # a live latent's reading of inputs that occur only in events where it never fires (and its line carries
        # no probability): flat to second order (it may switch on in a far tail once moved), so also probed
        mass = _line_mass(h, W_E, b_E - thr, i)
        cols = [Xin for (_, Xin, _), (_, cells), m in zip(h.events(), _events_cells(h, W_E, b_E - thr), mass)
                if any(P > 1e-12 and S[i] for P, S in cells) or m > _NO_MASS]
        U, sv, _ = np.linalg.svd(np.hstack(cols), full_matrices=True)
        for v in U[:, int((sv > 1e-12).sum()):].T:
            dE = zE.copy()
            dE[i] = v
            flat.append(_pack3(dE, zb, zD))
            probe.append(flat[-1])
    for i in range(n_q):
        if live[i] and thr[i] > 0 and _line_mass(h, W_E, b_E - thr, i).sum() > _NO_MASS:
            continue  # the rescaling moves the line z_i = θ_i through the support: not a symmetry
        if live[i]:
            dE, db, dD = zE.copy(), zb.copy(), zD.copy()
            dE[i], db[i], dD[:, i] = W_E[i], b_E[i], -W_D[:, i]
            flat.append(_pack3(dE, db, dD))
        else:
            for r in range(h.n_r):
                dD = zD.copy()
                dD[r, i] = 1.0
                flat.append(_pack3(zE, zb, dD))
            for r in range(h.n_p + (1 if bias else 0)):
                dE, db = zE.copy(), zb.copy()
                if r < h.n_p:
                    dE[i, r] = 1.0
                else:
                    db[i] = 1.0
                flat.append(_pack3(dE, db, zD))
                probe.append(flat[-1])
    H = hessian_bias(h, theta, n_q, lam, thr=thr, penalty=penalty, bias=bias)
    if not np.all(np.isfinite(H)):
        return {"min_eigenvalue": float("nan"), "n_flat": len(flat), "kind": "not finite", "check": {}}
    n = theta.size
    if not bias:  # a fixed parameter: off the Hessian's domain, like a symmetry
        flat += [np.eye(n)[c] for c in range(n)[_bias_slice(n_q, h)]]
    if flat:
        U, sv, _ = np.linalg.svd(np.array(flat).T, full_matrices=True)
        rank = int((sv > 1e-9 * sv.max()).sum())
        comp = U[:, rank:]
    else:
        rank, comp = 0, np.eye(n)
    ev, V = np.linalg.eigh(comp.T @ H @ comp)
    scale = max(1.0, float(np.abs(ev).max(initial=0.0)))
    f = lambda t: _f(h, t, n_q, lam, thr, penalty)  # noqa: E731
    base = f(theta)
    floor = 1e-12 * max(1.0, abs(base))
    if base <= 1e-12 * max(1.0, f(np.zeros_like(theta))):  # L >= 0: zero is the global minimum
        return {"min_eigenvalue": float(np.linalg.eigvalsh(H).min()), "n_flat": len(flat), "kind": "minimum",
                "check": {"zero_loss": True, "confirmed": True}}
    drops = [f(theta + s * t * v) - base for v in probe for t in (1e-3, 1e-2) for s in (1, -1)]
    if ev.size == 0:  # every direction flat (every latent dead, the bias fixed): L is locally constant but for probes
        worst = min(drops, default=0.0)
        return {"min_eigenvalue": 0.0, "n_flat": rank, "kind": "minimum" if worst >= -floor else "saddle",
                "check": {"largest_decrease": float(min(worst, 0.0)), "no_descent_found": bool(worst >= -floor),
                          "confirmed": bool(worst >= -floor) if worst >= -floor else bool(worst < -floor)}}
    out = {"min_eigenvalue": float(ev.min()), "n_flat": rank}
    if ev.min() < -tol * scale or min(drops, default=0.0) < -floor:
        d = comp @ V[:, 0]
        ch = min(f(theta + s * t * d) - base for t in (1e-3, 1e-2) for s in (1, -1))
        out.update(kind="saddle", check={"descent_change": float(ch), "confirmed": bool(ch < -floor)
                                         if ev.min() < -tol * scale else None})
        return out
    rng = np.random.default_rng(seed)
    r0 = max(1.0, float(np.linalg.norm(theta)))
    dirs = list(rng.normal(size=(n_random, n))) + [comp @ V[:, c] for c in range(len(ev)) if abs(ev[c]) <= tol * scale]
    if not bias:
        for v in dirs:
            v[_bias_slice(n_q, h)] = 0.0
    worst = min(f(theta + s * r * r0 * v / np.linalg.norm(v)) - base
                for v in dirs for r in radii for s in (1, -1))
    kind = "minimum" if ev.min() > tol * scale else "degenerate"
    out.update(kind=kind, check={"largest_decrease": float(min(worst, 0.0)), "n_directions": len(dirs),
                                 "radii": list(radii), "no_descent_found": bool(worst >= -floor),
                                 "confirmed": bool(worst >= -floor) if kind == "minimum" else None})
    return out


def observables_bias(h: Hierarchy, W_E, b_E, W_D, *, thresholds=None, off_fraction: float = 0.1,
                     pure_cos: float = 0.9, parent_cos: float = 0.3) -> dict:
    """The absorption rate and tilt of :func:`theory.absorption_curve.observables`, with a bias: per child, the
    probability of the cells (active lines and the "contributes" lines ``a_i ||d_i|| = off_fraction · m_P`` together)
    where no contributing latent is a pure parent latent while a contributing latent mixes parent and child.
    ``parent_gain``: on a parent-alone event, ``E[x̂ · p] / E[m_P]`` (with a bias the reconstruction is affine in
    ``m_P``, so this replaces the no-bias module's per-unit gain; they agree when one latent fires, without bias)."""
    n_q = W_E.shape[0]
    thr = _theta_vector(thresholds, n_q)
    norms = np.linalg.norm(W_D, axis=0)
    unit_out = h.W_r / np.linalg.norm(h.W_r, axis=0)
    dec = (W_D / np.where(norms > 0, norms, 1.0)).T @ unit_out
    pure = dec[:, 0] > pure_cos
    rates, tilts = [], []
    for j in range(1, h.n_children + 1):
        Z = W_E @ h.W_p[:, [0, j]]
        # contributes: a_i ||d_i|| − f m_P > 0 with a_i > 0, i.e. both lines on the positive side
        Zc = np.vstack([Z, Z * norms[:, None] - np.array([off_fraction, 0.0])])
        bc = np.concatenate([b_E - thr, b_E * norms])  # active past the threshold; a_i = z_i
        mix = (dec[:, 0] > parent_cos) & (dec[:, j] > parent_cos)
        total = absorbed = 0.0
        on = np.zeros(n_q, dtype=bool)
        for P, _, _, S in child_cells(h, Zc, bc):
            act, big = S[:n_q], S[n_q:]
            c = act & big
            total += P
            if P > 1e-12:
                on |= act
            if not (c & pure).any() and (c & mix).any():
                absorbed += P
        rates.append(absorbed / total)
        tilts.append(float(dec[int(np.argmax(np.where(on, dec[:, j], -np.inf))), 0]) if on.any() else float("nan"))
    # parent gain: on a parent-alone event, E[x̂ · p] / E[m_P] (the fraction of the parent reconstructed along p)
    along = 0.0
    for P, m1, _, S in parent_cells(h, W_E @ h.W_p[:, 0], b_E - thr):
        along += float(((W_D[:, S].T @ unit_out[:, 0]) * ((W_E @ h.W_p[:, 0])[S] * m1 + b_E[S] * P)).sum())
    cP, bP = _law(h.parent_law)
    loss = exact_objective_bias(h, W_E, b_E, W_D, 0.0, theta=thr, gradient=False)[0]
    return {"absorption_rate": float(np.mean(rates)), "per_child_rate": rates, "tilt": float(np.mean(tilts)),
            "per_child_tilt": tilts, "parent_gain": along / (cP + bP), "reconstruction_loss": float(loss)}


def stationary_points_bias(h: Hierarchy, lam: float, *, thresholds=None, gammas=(0.0, 2.0),
                           parent_biases=(0.0, -0.5), absorbed: bool = True, stationary_tol: float = 1e-6,
                           dedupe_tol: float = 1e-4) -> list[dict]:
    """Stationary points of the exact objective with an encoder bias, from the partially absorbed family
    (:func:`theory.absorption_curve.family_start`, every γ pattern) with the parent latent's bias from
    ``parent_biases`` and the children's at 0, and from the fully absorbed end; polished and classified
    (:func:`classify_bias`), sorted by loss. Each is a dict (weights, loss, gradient norm, kind, check,
    observables, start). ``thresholds``: JumpReLU θ (fixed; one number or one per latent), the curve in θ."""
    from theory.absorption_curve import _gamma_patterns, absorbed_start, children_exchangeable, family_start

    n_q = 1 + h.n_children
    ex = children_exchangeable(h)
    starts = [((*family_start(h, gam), bP), {"gammas": [float(g) for g in gam], "parent_bias": float(bP)})
              for gam in _gamma_patterns(h.n_children, gammas, ex) for bP in parent_biases]
    starts += [((*absorbed_start(h, 0.0), 0.0), {"absorbed_end": True})] if absorbed else []
    pts = []
    for (W_E, W_D, bP), start in starts:
        b = np.zeros(n_q)
        b[0] = bP
        theta, loss, gn = polish_bias(h, W_E, b, W_D, lam, thresholds=thresholds)
        if gn > stationary_tol:
            continue
        WE, bE, WD = _unpack3(theta, n_q, h)
        obs = observables_bias(h, WE, bE, WD, thresholds=thresholds)
        key = np.array([loss, *obs["per_child_rate"], *obs["per_child_tilt"]])
        if any(np.abs(key - np.array([p["loss"], *p["per_child_rate"], *p["per_child_tilt"]])).max() < dedupe_tol
               for p in pts):
            continue
        c = classify_bias(h, theta, n_q, lam, thresholds=thresholds)
        pts.append({"W_E": WE.tolist(), "b_E": bE.tolist(), "W_D": WD.tolist(), "loss": loss, "grad_norm": gn,
                    **c, **obs, "start": start})
    return sorted(pts, key=lambda p: p["loss"])


def stationary_points_jumprelu(h: Hierarchy, lam: float, theta: float = 1.0, *, penalty: str = "l0",
                               mixed: bool = True, n_random: int = 8, seed: int = 0, random_scales=(1.0,),
                               starts: list | None = None, extra_starts=(), stationary_tol: float = 1e-6,
                               dedupe_tol: float = 1e-4) -> list[dict]:
    """Stationary points of the exact JumpReLU objective **without an encoder bias** (``z_i = e_i · x``, active iff
    ``z_i > θ``; the JumpReLU family's L0 term by default), from the starts of
    :func:`theory.absorption_curve.stationary_points` (the partially absorbed family, the fully absorbed ends, the
    merged children, every per-child clean / partial / absorbed assignment, ``n_random`` seeded random starts at
    each of ``random_scales`` — the encoder times c, the decoder over c: a random initialisation at threshold θ / c
    carried to θ by the scaling — or the explicit ``starts``, ``[((W_E, W_D), description)]``; and ``extra_starts``
    in the same form),
    polished with the bias held at 0 (:func:`polish_bias`), classified (:func:`classify_bias`) and deduplicated up
    to permuting exchangeable children (:func:`theory.absorption_curve.same_point`; a confirmed minimum replaces a
    saddle / degenerate copy), sorted by loss.

    The threshold lines ``e_i · m = θ`` cut the magnitude quadrant into polygons, as a bias does, so the active set
    depends on the magnitudes and not only on their ratio. **θ sets only the scale**: ``(W_E, W_D, θ)`` and
    ``(c W_E, W_D / c, c θ)`` are the same model (the L0 term does not see the scale; the L1 term ``a_i ||d_i||``
    does not either), so the points for every θ > 0 are these up to that scaling, and rate, tilt, parent gain and
    loss do not depend on θ. At a stationary point for a fixed θ the threshold's own derivative vanishes too
    (along the scaling, ``Σ e_i ∂_{e_i} L + θ_i ∂_{θ_i} L − Σ d_i ∂_{d_i} L = 0``), so these are the stationary
    points with θ trained as well."""
    from theory.absorption_curve import _observed_key, _starts, children_exchangeable, same_point

    n_q = 1 + h.n_children
    ex = children_exchangeable(h)
    pts, keys = [], []
    if starts is None:
        from theory.absorption_curve import random_start

        starts = _starts(h, (0.0, 2.0), (0.0,), (0.0, 0.6), mixed=mixed, n_random=0)
        rng = np.random.default_rng(seed)
        for c in random_scales:
            for i in range(n_random):
                W_E, W_D = random_start(h, rng)
                starts.append(((c * W_E, W_D / c), {"random_start": i, "seed": int(seed), "scale": float(c)}))
    for (W_E, W_D), start in [*starts, *extra_starts]:
        t, loss, gn = polish_bias(h, W_E, np.zeros(n_q), W_D, lam, thresholds=theta, penalty=penalty, bias=False)
        if not gn <= stationary_tol:  # also NaN (a start that ran off to overflow)
            continue
        WE, bE, WD = _unpack3(t, n_q, h)
        obs = observables_bias(h, WE, bE, WD, thresholds=theta)
        key = _observed_key(loss, obs)
        dup = next((n for n, kk in enumerate(keys) if same_point(key, kk, ex, dedupe_tol)), None)
        if dup is not None:
            pts[dup]["n_starts"] += 1
            if pts[dup]["kind"] == "minimum":
                continue
        c = classify_bias(h, t, n_q, lam, thresholds=theta, penalty=penalty, bias=False)
        if dup is not None and not (c["kind"] == "minimum" and c["check"].get("confirmed")):
            continue
        pt = {"W_E": WE.tolist(), "W_D": WD.tolist(), "theta": float(theta), "loss": loss, "grad_norm": gn, **c,
              **obs, "start": start, "n_starts": 1}
        if dup is not None:
            pt.update(n_starts=pts[dup]["n_starts"], replaced=pts[dup]["kind"])
            pts[dup], keys[dup] = pt, key
        else:
            pts.append(pt)
            keys.append(key)
    return sorted(pts, key=lambda p: p["loss"])


def jumprelu_field(h: Hierarchy, W_E, W_D, lam: float, theta, *, penalty: str = "l0",
                   train_theta: bool = False) -> np.ndarray:
    """The field the engine's JumpReLU training follows in expectation (no encoder bias): the cells' gradient of
    ``(W_E, W_D)`` (``exact_objective_bias(..., edges=False)``: autograd of a sampled loss passes ``z`` the gradient
    ``1{z > θ}`` and sees no jump) and, with ``train_theta``, the threshold's exact derivative
    (:func:`threshold_gradient`, what the straight-through estimator estimates as its bandwidth goes to 0), packed
    ``(W_E, W_D[, θ])``. Where a threshold line crosses the support it is not ``∇L``: the lines' edge terms of the
    encoder rows are missing, so training's fixed points need not be stationary points of L."""
    n_q = np.asarray(W_E).shape[0]
    b = np.zeros(n_q)
    _, gE, _, gD = exact_objective_bias(h, W_E, b, W_D, lam, theta=theta, penalty=penalty, edges=False)
    out = [np.ravel(gE), np.ravel(gD)]
    if train_theta:
        out.append(threshold_gradient(h, W_E, b, W_D, lam, theta, penalty=penalty))
    return np.concatenate(out)


def jumprelu_field_zero(h: Hierarchy, W_E, W_D, lam: float, theta, *, penalty: str = "l0", lr: float = 0.02,
                        steps: int = 600, newton: int = 5, accept: float = 1e-5, step: float = 1e-6) -> dict | None:
    """Where the flow training follows in expectation (:func:`jumprelu_field`, θ trained) goes from ``(W_E, W_D, θ)``:
    ``steps`` steps of ``lr`` along the field, then Newton on the field with its central-difference Jacobian (least
    squares, singular values below 1e-6 of the largest dropped: each latent's scaling ``(c e_i, c θ_i, d_i / c)``
    maps zeros to zeros, so the Jacobian is singular along it). The field need not vanish exactly there: along
    that scaling it is ``θ_i ∂L/∂θ_i``, tiny near a zero, and the flow creeps along it (measured: 2.5e-6 after
    Newton, from 0.03, the observables fixed to 1e-5); a point where the field is at most ``accept`` is returned,
    ``None`` otherwise (or when a threshold leaves θ > 0). With its field norm, its loss, the exact gradient norm
    of L there (``> 0``: not a stationary point of L) and its observables. Its stability is not classified."""
    n_q = np.asarray(W_E).shape[0]
    nE, nD = n_q * h.n_p, h.n_r * n_q

    def split(v):
        return v[:nE].reshape(n_q, h.n_p), v[nE:nE + nD].reshape(h.n_r, n_q), v[nE + nD:]

    def field(v):
        WE, WD, th = split(v)
        if (th <= 0).any():
            return None
        return jumprelu_field(h, WE, WD, lam, th, penalty=penalty, train_theta=True)

    v = np.concatenate([np.ravel(W_E), np.ravel(W_D), np.broadcast_to(np.asarray(theta, float), (n_q,))])
    with np.errstate(over="ignore", invalid="ignore"):
        g = field(v)
        for _ in range(steps):
            if g is None or not np.linalg.norm(g) >= 1e-9:
                break
            v = v - lr * g
            g = field(v)
        for _ in range(newton):
            if g is None or not np.linalg.norm(g) >= 1e-9:
                break
            J = np.zeros((v.size, v.size))
            for c in range(v.size):
                e = np.zeros(v.size)
                e[c] = step
                gp, gm = field(v + e), field(v - e)
                if gp is None or gm is None:
                    return None
                J[:, c] = (gp - gm) / (2 * step)
            v_new = v - np.linalg.lstsq(J, g, rcond=1e-6)[0]
            g_new = field(v_new)
            if g_new is None or not np.linalg.norm(g_new) < np.linalg.norm(g):
                break
            v, g = v_new, g_new
    if g is None or not np.linalg.norm(g) <= accept:
        return None
    WE, WD, th = split(v)
    b = np.zeros(n_q)
    loss, gE, _, gD = exact_objective_bias(h, WE, b, WD, lam, theta=th, penalty=penalty)
    gt = threshold_gradient(h, WE, b, WD, lam, th, penalty=penalty)
    obs = observables_bias(h, WE, b, WD, thresholds=th)
    return {"W_E": WE.tolist(), "W_D": WD.tolist(), "thresholds": th.tolist(), "loss": float(loss),
            "field_norm": float(np.linalg.norm(g)),
            "exact_grad_norm": float(np.sqrt((gE**2).sum() + (gD**2).sum() + (gt**2).sum())),
            **{k: v for k, v in obs.items() if k != "loss"}}


def family_system_bias(n_children: int = 1):
    """The stationarity system of the partially absorbed family **with an encoder bias**, symbolically (the bias
    arm of ``sdl-theory derive --absorption K --bias``).

    Parent latent: encoder ``a (p − Σ γ_j c_j)``, bias ``β_0``, decoder ``u p + Σ w_j c_j``; child latent j: encoder
    ``b_j c_j``, bias ``β_j <= 0`` (so it is off on every event without child j), decoder ``s_j p + v_j c_j``;
    orthonormal SAE, ReLU + L1. The parent latent fires iff ``m_P − γ_j m_C > t_0 = −β_0/a`` (on the parent alone:
    ``m_P > t_0``), child j iff ``m_C > t_j = −β_j/b_j``. The region moments enter as functions:
    ``J_ab(γ, t_0, t_j) = E[m_P^a m_C^b 1{m_P − γ m_C > t_0, m_C > t_j}]`` (both on), ``Q_ab(γ, t_0)`` (parent on),
    ``T_b(t_j) = E[m_C^b 1{m_C > t_j}]`` (child on) and ``F_a(t_0) = E[m_P^a 1{m_P > t_0}]`` (parent alone), with
    ``a + b <= 2`` including ``a = b = 0`` (the bias makes every form affine); the other regions by
    inclusion–exclusion. Closed forms: the polygon cells of :func:`child_cells`. Returns
    ``(loss, {parameter: ∂loss/∂parameter}, symbols)``; no boundary terms (the per-event loss is continuous where
    a latent switches, so the moving edges' terms cancel)."""
    import sympy as sp

    K = int(n_children)
    lam, pa = sp.symbols("lambda p_alone", nonnegative=True)
    a, u, b0 = sp.symbols("a u beta_0", real=True)
    g = sp.symbols(f"gamma_1:{K + 1}", positive=True)
    w = sp.symbols(f"w_1:{K + 1}", real=True)
    b = sp.symbols(f"b_1:{K + 1}", positive=True)
    bc = sp.symbols(f"beta_1:{K + 1}", nonpositive=True)
    s = sp.symbols(f"s_1:{K + 1}", real=True)
    v = sp.symbols(f"v_1:{K + 1}", real=True)
    mu = {(0, 0): sp.Integer(1)}
    mu.update({(1, 0): sp.Symbol("mu1_P", positive=True), (2, 0): sp.Symbol("mu2_P", positive=True),
               (0, 1): sp.Symbol("mu1_C", positive=True), (0, 2): sp.Symbol("mu2_C", positive=True)})
    mu[1, 1] = mu[1, 0] * mu[0, 1]
    AB = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2))
    J = {ab: sp.Function(f"J_{ab[0]}{ab[1]}") for ab in AB}
    Q = {ab: sp.Function(f"Q_{ab[0]}{ab[1]}") for ab in AB}
    T = {n: sp.Function(f"T_{n}") for n in range(3)}
    F = {n: sp.Function(f"F_{n}") for n in range(3)}
    t0 = -b0 / a
    nP = sp.sqrt(u**2 + sum(wi**2 for wi in w))

    def quad(forms, Mo):
        """``E[Σ_k (α_k · (1, m_P, m_C))² 1_R]`` from the region's moments ``Mo[(a, b)]``."""
        idx = ((0, 0), (1, 0), (0, 1))
        return sum(f[i] * f[k] * Mo[tuple(x + y for x, y in zip(idx[i], idx[k]))]
                   for f in forms for i in range(3) for k in range(3))

    # parent alone: x = m_P p; the parent latent's output a m_P + β_0 where m_P > t_0
    Fm = {n: F[n](t0) for n in range(3)}
    zP = (b0, a)  # (constant, m_P coefficient)
    loss = pa * (mu[2, 0] - Fm[2]
                 + sum(c0 * c1 * Fm[n0 + n1] for c0, c1, n0, n1 in
                       [(x, y, i, k) for i, x in enumerate((-zP[0] * u, 1 - zP[1] * u))
                        for k, y in enumerate((-zP[0] * u, 1 - zP[1] * u))])
                 + sum(sum(c0 * c1 * Fm[i + k] for i, c0 in enumerate((zP[0] * wi, zP[1] * wi))
                           for k, c1 in enumerate((zP[0] * wi, zP[1] * wi))) for wi in w)
                 + lam * nP * (b0 * Fm[0] + a * Fm[1]))
    for j in range(K):
        tj = -bc[j] / b[j]
        Jm = {ab: J[ab](g[j], t0, tj) for ab in AB}
        Qm = {ab: Q[ab](g[j], t0) for ab in AB}
        Cm = {ab: mu[ab[0], 0] * T[ab[1]](tj) for ab in AB}
        regions = {(1, 1): Jm, (1, 0): {ab: Qm[ab] - Jm[ab] for ab in AB},
                   (0, 1): {ab: Cm[ab] - Jm[ab] for ab in AB},
                   (0, 0): {ab: mu[ab] - Qm[ab] - Cm[ab] + Jm[ab] for ab in AB}}
        zp = (b0, a, -a * g[j])            # the parent latent's pre-activation: (1, m_P, m_C) coefficients
        zc = (bc[j], 0, b[j])              # child j's
        nC = sp.sqrt(s[j] ** 2 + v[j] ** 2)
        ev = 0
        for (on_p, on_c), Mo in regions.items():
            ZP = [on_p * x for x in zp]
            ZC = [on_c * x for x in zc]
            forms = [[-ZP[0] * u - ZC[0] * s[j], 1 - ZP[1] * u - ZC[1] * s[j], -ZP[2] * u - ZC[2] * s[j]],  # along p
                     [-ZP[0] * w[j] - ZC[0] * v[j], -ZP[1] * w[j] - ZC[1] * v[j],
                      1 - ZP[2] * w[j] - ZC[2] * v[j]]]  # along c_j
            forms += [[-ZP[0] * w[k], -ZP[1] * w[k], -ZP[2] * w[k]] for k in range(K) if k != j]
            ev += quad(forms, Mo)
            ev += lam * (nP * sum(ZP[i] * Mo[ab] for i, ab in enumerate(((0, 0), (1, 0), (0, 1))))
                         + nC * sum(ZC[i] * Mo[ab] for i, ab in enumerate(((0, 0), (1, 0), (0, 1)))))
        loss += (1 - pa) / K * ev
    from theory.absorption_curve import stationarity

    grads = stationarity(loss, [a, u, b0, *g, *w, *b, *bc, *s, *v])
    syms = dict(lam=lam, p_alone=pa, a=a, u=u, beta_0=b0, gamma=g, w=w, b=b, beta=bc, s=s, v=v, mu=mu,
                J=J, Q=Q, T=T, F=F)
    return loss, grads, syms
