"""Absorption as a curve: the stationary configurations of the hierarchy model, exactly (THEORY.md §7, C7).

:mod:`theory.absorption` compares two *rigid* configurations (clean, fully absorbed) and finds the λ* where they
cross. Neither is stationary for λ > 0 when magnitudes vary (:func:`theory.absorption.clean_stationarity`), so
trained SAEs sit somewhere else. This module finds where: the stationary points of the **exact** expected
objective of the hierarchy model (not L̃, not Monte Carlo), and which of them are local minima.

Model (:class:`Hierarchy`): a parent feature (column 0) and ``K`` children (columns 1..K) with input directions
``W_p`` and target directions ``W_r`` (``W_r = W_p``: an SAE; otherwise a transcoder). An event is the parent
alone (probability ``p_alone``) or one uniformly chosen child j together with its parent:
``x = m_P p + m_C c_j``, magnitudes independent, each :class:`~theory.distribution.Constant` or
:class:`~theory.distribution.ShiftedExponential`. The objective, in the studies' units, is

    L(W_E, W_D) = E ||y − W_D σ(W_E x)||² + λ E Σ_i a_i ||d_i||          (σ = ReLU or TopK∘ReLU)

with no biases. **Why it is exact:** without a bias every pre-activation on a child-j event is
``z_i = A_i m_P + B_i m_C``, so the active set depends only on the ratio ``ρ = m_C / m_P``. The ratio axis splits
into finitely many wedges with a fixed active set; on each, the per-event loss is a quadratic form in
``(m_P, m_C)``, and its expectation needs only the wedge moments ``E[m_P^a m_C^b 1{ρ1 < m_C/m_P < ρ2}]``
(``a + b <= 2``), which have a closed form for these laws (:func:`ratio_tail_moment`: the child's memoryless tail
turns the inner integral into an exponential, the outer one is a polynomial times an exponential).
The gradient is the expectation of the per-event gradient over the same wedges, plus, where the per-event loss
jumps across a moving wedge edge, jump × density × the edge's velocity (Leibniz). ReLU's per-event loss is
continuous across every edge, so its edges add nothing. TopK's jumps where the kept latent swaps (``z_i = z_j``
with different active sets on either side); that edge's term needs ``D_ab(ρ) = −dH_ab/dρ``, also in closed form
(:func:`_edge_density`), so the TopK gradient is exact too (tested against central differences of the exact loss
and against a Monte Carlo estimate through the bench model). The Hessian is central differences of the exact
gradient, which for TopK is continuous and smooth away from the parameters where two edges meet.

**The partially absorbed family** (THEORY.md §7): the parent latent's encoder reads ``p − γ_j c_j``, so on a
child-j event it fires only while ``m_C / m_P < 1/γ_j`` (the fraction ``Pr(m_P < γ_j m_C)`` of those events is
absorbed), and child j's decoder tilts towards ``p``. :func:`stationary_points` starts from members of this family
(every γ pattern of a grid, per child; every assignment of clean / partially / fully absorbed to the children
independently, :func:`mixed_start`) and from seeded random weights (:func:`random_start`: they reach what trained
runs reach and the family does not, e.g. minima with a dead latent), minimises the exact objective over *all* of ``(W_E, W_D)`` and polishes
``∇L = 0`` by Newton's method on the exact gradient, so what it returns is stationary in the full parameter space,
not only inside the family. Each point is classified by the eigenvalues of the Hessian (central differences of the
exact gradient; blocks ``(W_E, W_D)``), with the exact symmetries projected out: each live latent's rescaling
``(e_i, d_i) → (c e_i, d_i / c)`` leaves L unchanged (the L1 term is weighted by ``||d_i||``) — under TopK only the
common rescaling of latents that compete in the ranking (:func:`rescaling_groups`) — and a latent that is off on
every event is flat in all its parameters. A zero loss is a global minimum whatever the Hessian (L >= 0), and
:func:`check_type` confirms each kind by loss evaluations alone (random perturbations; a saddle's descent
direction). :func:`family_system` writes the family's stationarity system
symbolically (``sdl-theory derive --absorption K``).

**What TopK training follows.** Autograd of a sampled TopK loss never sees a swap edge, so it estimates the
gradient *without* the edges' terms (:func:`interior_field`, ``exact_objective(..., edges=False)``). That field
is not the gradient of L, and its zeros (:func:`training_fixed_points`, :func:`training_field_zero`, where SGD/Adam
on TopK SAEs stop) need not be stationary points of L: tested, and seen in the absorption study's TopK runs; read
off the conserved quantities of that flow, the zeros found are stable.

Encoder biases and JumpReLU thresholds make the active set depend on ``(m_P, m_C)`` and not only on their ratio
(the wedges become polygons): :mod:`theory.absorption_bias`. Two-level hierarchies (grandparent → parents →
children, three magnitudes in one event): :mod:`theory.absorption_two_level`, whose objective the search here
dispatches to.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from math import comb, factorial

import numpy as np

from theory.distribution import Constant, MagnitudeLaw, ShiftedExponential
from theory.errors import SDLInputError



# ------------------------------------------------------------------------------------ moments
def _law(m: MagnitudeLaw) -> tuple[float, float]:
    """``(c, b)`` with ``m = c + b X``, ``X ~ Exp(1)`` (``b = 0``: constant)."""
    if isinstance(m, Constant):
        return float(m.c), 0.0
    if isinstance(m, ShiftedExponential):
        return float(m.c_min), float(m.beta)
    raise SDLInputError(f"magnitude law must be Constant or ShiftedExponential for the exact hierarchy objective, got {m!r}")


def _moment(c: float, b: float, a: int) -> float:
    """``E[(c + b X)^a]``, ``X ~ Exp(1)``."""
    return float(sum(comb(a, n) * c ** (a - n) * b**n * factorial(n) for n in range(a + 1)))


def _poly_exp_tail(q: np.polynomial.Polynomial, k: float, x0: float) -> float:
    """``e^{k x0} ∫_{x0}^∞ q(X) e^{−k X} dX = Σ_n q^{(n)}(x0) / k^{n+1}``."""
    out, d = 0.0, q
    for n in range(q.degree() + 1):
        out += float(d(x0)) / k ** (n + 1)
        d = d.deriv()
    return out


def _upper(c: float, b: float, a: int, t: float) -> float:
    """``E[m^a 1{m > t}]`` (memoryless tail: ``m | m > t ~ t + b X``); strict, so a constant at ``t`` is not above."""
    if b == 0:
        return c**a if c > t else 0.0
    if t <= c:
        return _moment(c, b, a)
    return float(np.exp(-(t - c) / b)) * _moment(t, b, a)


def ratio_tail_moment(parent: tuple, child: tuple, a: int, b: int, rho: float) -> float:
    """``H_ab(ρ) = E[m_P^a m_C^b 1{m_C > ρ m_P}]`` in closed form (``ρ ∈ [0, ∞]``; ``H(0)`` = the full moment).

    ``m_P < c_C/ρ`` implies ``m_C >= c_C > ρ m_P``; above that, ``E[m_C^b 1{m_C > t}] = e^{−(t−c_C)/b_C}
    E[(t + b_C X)^b]`` at ``t = ρ m_P``, and the outer integral over ``m_P = c_P + b_P X`` is
    :func:`_poly_exp_tail` with rate ``1 + ρ b_P / b_C``."""
    cP, bP = parent
    cC, bC = child
    if rho <= 0:
        return _moment(cP, bP, a) * _moment(cC, bC, b)
    if not np.isfinite(rho):
        return 0.0
    if bP == 0:  # m_P = c_P: the child's tail above ρ c_P
        return cP**a * _upper(cC, bC, b, rho * cP)
    tau = cC / rho
    below = (_moment(cP, bP, a) - _upper(cP, bP, a, tau)) * _moment(cC, bC, b)  # m_P <= τ: always m_C > ρ m_P
    if bC == 0:
        return below  # m_C = c_C <= ρ m_P whenever m_P > τ
    x0 = max(0.0, (tau - cP) / bP)
    mP = np.polynomial.Polynomial([cP, bP])
    t = rho * mP
    tail = [np.polynomial.Polynomial([1.0]), t + bC, t * t + 2 * bC * t + 2 * bC * bC][b]
    k = 1.0 + rho * bP / bC
    expo = (cC - rho * cP) / bC - k * x0  # <= 0 (= −x0 when x0 > 0): no overflow
    return below + float(np.exp(expo)) * _poly_exp_tail(mP**a * tail, k, x0)


# ------------------------------------------------------------------------------------ model
@dataclass(frozen=True, eq=False)
class Hierarchy:
    """One parent (feature 0) with ``K`` children (features 1..K); see the module docstring."""

    n_children: int = 2
    parent_law: MagnitudeLaw = field(default_factory=lambda: ShiftedExponential(1.0, 1.0))
    child_law: MagnitudeLaw = field(default_factory=lambda: ShiftedExponential(1.0, 1.0))
    p_alone: float = 0.2
    W_p: np.ndarray | None = None   # n_p × (1+K), unit columns; default the identity
    W_r: np.ndarray | None = None   # n_r × (1+K); default W_p (an SAE)

    def __post_init__(self):
        K = self.n_children
        if not isinstance(K, (int, np.integer)) or K < 1:
            raise SDLInputError(f"n_children must be a positive integer, got {K!r}")
        if not 0 <= self.p_alone < 1:
            raise SDLInputError(f"p_alone must lie in [0, 1), got {self.p_alone}")
        _law(self.parent_law), _law(self.child_law)
        Wp = np.eye(1 + K) if self.W_p is None else np.asarray(self.W_p, dtype=float)
        Wr = Wp if self.W_r is None else np.asarray(self.W_r, dtype=float)
        for name, W in (("W_p", Wp), ("W_r", Wr)):
            if W.ndim != 2 or W.shape[1] != 1 + K:
                raise SDLInputError(f"{name} must have 1 + n_children = {1 + K} columns, got shape {W.shape}")
        object.__setattr__(self, "W_p", Wp)
        object.__setattr__(self, "W_r", Wr)

    @property
    def n_p(self) -> int:
        return self.W_p.shape[0]

    @property
    def n_r(self) -> int:
        return self.W_r.shape[0]

    @property
    def is_sae(self) -> bool:
        return self.W_r is self.W_p or np.array_equal(self.W_r, self.W_p)

    def events(self):
        """``(probability, input columns, target columns)`` per event type: the parent alone, then child j."""
        K = self.n_children
        out = [(self.p_alone, self.W_p[:, [0]], self.W_r[:, [0]])] if self.p_alone > 0 else []
        for j in range(1, K + 1):
            out.append(((1 - self.p_alone) / K, self.W_p[:, [0, j]], self.W_r[:, [0, j]]))
        return out

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` events drawn from the model as feature activations (``n × (1 + K)``, column 0 the parent): the
        parent alone with probability ``p_alone``, else the parent with one uniformly chosen child (Monte Carlo)."""
        K = self.n_children
        alone = rng.random(n) < self.p_alone
        ch = rng.integers(1, K + 1, n)
        x = np.zeros((n, 1 + K))
        x[:, 0] = self.parent_law.sample(rng, n)
        x[np.arange(n), ch] = np.where(alone, 0.0, self.child_law.sample(rng, n))
        return x

    def to_json(self) -> dict:
        return {"n_children": int(self.n_children), "parent_law": self.parent_law.to_json(),
                "child_law": self.child_law.to_json(), "p_alone": float(self.p_alone),
                "W_p": self.W_p.tolist(), "W_r": None if self.is_sae else self.W_r.tolist()}


def _active(z: np.ndarray, activation: str, k: int | None) -> np.ndarray:
    on = z > 0
    if activation == "topk_relu" and on.sum() > k:
        keep = np.argsort(-z, kind="stable")[:k]
        on = np.zeros_like(on)
        on[keep] = True
    return on


def _breaks(A: np.ndarray, B: np.ndarray, activation: str, extra=()) -> list[float]:
    """Ratios ``ρ > 0`` where a pre-activation (or, for TopK, an ordering) changes."""
    rs = list(extra)
    with np.errstate(divide="ignore", invalid="ignore"):
        rs += list(-A / B)
        if activation == "topk_relu":
            dA, dB = A[:, None] - A[None, :], B[:, None] - B[None, :]
            rs += list((-dA / dB)[np.triu_indices(len(A), 1)])
    return sorted({float(r) for r in rs if np.isfinite(r) and r > 0})


def _wedges(breaks: list[float]):
    """``(lo, hi, interior ρ)`` for the intervals of ``(0, ∞)`` cut at ``breaks``."""
    edges = [0.0, *breaks, np.inf]
    for lo, hi in zip(edges[:-1], edges[1:]):
        mid = 2 * lo + 1.0 if not np.isfinite(hi) else (0.5 * hi if lo == 0 else 0.5 * (lo + hi))
        yield lo, hi, mid


_AB = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2))


def _tail_poly(t: float, b: float) -> tuple:
    """``E[(t + b X)^n]`` for ``n = 0, 1, 2``."""
    return (1.0, t + b, t * t + 2 * t * b + 2 * b * b)


@lru_cache(maxsize=65536)
def _edge(parent: tuple, child: tuple, rho: float) -> tuple:
    """All six ``H_ab(ρ)`` (order ``_AB``) at once, in plain floats (the hot path of the objective).

    Same closed form as :func:`ratio_tail_moment` (which tests compare against)."""
    cP, bP = parent
    cC, bC = child
    fullP, fullC = _tail_poly(cP, bP), _tail_poly(cC, bC)
    if rho <= 0:
        return tuple(fullP[a] * fullC[b] for a, b in _AB)
    if not np.isfinite(rho):
        return (0.0,) * 6
    if bP == 0:  # m_P = c_P: the child's tail above ρ c_P
        t = rho * cP
        if bC == 0:
            upC = fullC if cC > t else (0.0, 0.0, 0.0)
        elif t <= cC:
            upC = fullC
        else:
            e = float(np.exp(-(t - cC) / bC))
            upC = tuple(e * v for v in _tail_poly(t, bC))
        return tuple(cP**a * upC[b] for a, b in _AB)
    tau = cC / rho
    if tau <= cP:
        upP = fullP
    else:
        e = float(np.exp(-(tau - cP) / bP))
        upP = tuple(e * v for v in _tail_poly(tau, bP))
    out = [(fullP[a] - upP[a]) * fullC[b] for a, b in _AB]
    if bC == 0:
        return tuple(out)
    x0 = max(0.0, (tau - cP) / bP)
    y0 = cP + bP * x0
    k = 1.0 + rho * bP / bC
    e = float(np.exp((cC - rho * cP) / bC - k * x0))
    Tb = ((1.0,), (bC, rho), (2 * bC * bC, 2 * bC * rho, rho * rho))
    for n, (a, b) in enumerate(_AB):
        c = (0.0,) * a + Tb[b]  # ascending coefficients of y^a T_b(ρ y), degree <= 2
        c = c + (0.0,) * (3 - len(c))
        q0 = c[0] + c[1] * y0 + c[2] * y0 * y0
        q1 = (c[1] + 2 * c[2] * y0) * bP
        q2 = 2 * c[2] * bP * bP
        out[n] += e * (q0 / k + q1 / k**2 + q2 / k**3)
    return tuple(out)


def _edge_density(parent: tuple, child: tuple, rho: float) -> tuple:
    """``D_ab(ρ) = −dH_ab/dρ = E[m_P^a m_C^b δ(ρ − m_C/m_P)]`` (order ``_AB``), in closed form: the rate at which a
    wedge's moments grow when its upper edge moves (the boundary term of a discontinuous per-event loss).

    With ``m_C = ρ m_P`` on the edge, ``D_ab = E_{m_P}[m_P^{a+b+1} ρ^b f_C(ρ m_P)]``; for two shifted
    exponentials the integrand is ``y^n`` times an exponential above ``y_0 = max(c_P, c_C/ρ)``
    (``∫_{y0}^∞ y^n e^{−r y} dy = e^{−r y0} Σ_i n!/(n−i)! y0^{n−i} / r^{i+1}``); a constant parent puts the edge at
    ``m_C = ρ c_P``, a constant child at ``m_P = c_C/ρ``. Two constants: the ratio is a point mass, the objective is
    piecewise smooth with jumps, and ``D = 0`` off the point (returned for every ρ > 0)."""
    cP, bP = parent
    cC, bC = child
    if not (0 < rho < np.inf) or (bP == 0 and bC == 0):
        return (0.0,) * 6
    if bP == 0:
        t = rho * cP
        f = float(np.exp(-(t - cC) / bC)) / bC if t >= cC else 0.0
        return tuple(cP**a * t**b * f * cP for a, b in _AB)
    if bC == 0:
        y = cC / rho
        f = float(np.exp(-(y - cP) / bP)) / bP if y >= cP else 0.0
        return tuple(y**a * cC**b * f * y / rho for a, b in _AB)
    y0 = max(cP, cC / rho)
    r = rho / bC + 1.0 / bP
    pre = float(np.exp((cC - rho * y0) / bC + (cP - y0) / bP)) / (bC * bP)  # exponent <= 0
    out = []
    for a, b in _AB:
        n = a + b + 1
        s = sum(factorial(n) / factorial(n - i) * y0 ** (n - i) / r ** (i + 1) for i in range(n + 1))
        out.append(pre * rho**b * s)
    return tuple(out)


def _wedge_moments(h: Hierarchy, lo: float, hi: float):
    """``P, μ = E[m 1_W], M = E[m mᵀ 1_W]`` on the wedge ``lo < m_C/m_P < hi`` (``m = (m_P, m_C)``)."""
    P_, C_ = _law(h.parent_law), _law(h.child_law)
    Hl, Hh = _edge(P_, C_, float(lo)), _edge(P_, C_, float(hi))
    H = [x - y for x, y in zip(Hl, Hh)]
    return H[0], np.array([H[1], H[2]]), np.array([[H[3], H[4]], [H[4], H[5]]])


def _check(h: Hierarchy, W_E, W_D, activation, k):
    W_E, W_D = np.asarray(W_E, dtype=float), np.asarray(W_D, dtype=float)
    if W_E.ndim != 2 or W_E.shape[1] != h.n_p:
        raise SDLInputError(f"W_E must be n_q × n_p = ? × {h.n_p}, got shape {W_E.shape}")
    if W_D.shape != (h.n_r, W_E.shape[0]):
        raise SDLInputError(f"W_D must be n_r × n_q = {h.n_r} × {W_E.shape[0]}, got shape {W_D.shape}")
    # the wedge decomposition is written for these two families only (a bias or a threshold θ breaks it)
    if activation != "relu" and activation != "topk_relu":
        raise SDLInputError(f"activation must be 'relu' or 'topk_relu' for the exact hierarchy objective, got {activation!r}")
    if activation == "topk_relu" and (k is None or int(k) != k or k < 1):
        raise SDLInputError(f"TopK needs a positive integer k, got {k!r}")
    return W_E, W_D


def _swap_breaks(A: np.ndarray, B: np.ndarray) -> dict:
    """``{ρ: (i, j)}``: ratios where latents i and j tie (``z_i = z_j``), the only TopK breaks across which the
    per-event loss can jump (a latent crossing 0 leaves the reconstruction unchanged)."""
    out = {}
    for i in range(len(A)):
        for j in range(i + 1, len(A)):
            dB = B[i] - B[j]
            if dB != 0:
                r = float(-(A[i] - A[j]) / dB)
                if np.isfinite(r) and r > 0:
                    out.setdefault(r, (i, j))
    return out


def _density_of(Q: np.ndarray, ell: np.ndarray, D: tuple) -> float:
    """``E[f(m) δ(ρ − m_C/m_P)]`` for ``f(m) = mᵀ Q m + ℓ·m`` from the six ``D_ab`` (order ``_AB``)."""
    return float(ell[0] * D[1] + ell[1] * D[2] + Q[0, 0] * D[3] + 2 * Q[0, 1] * D[4] + Q[1, 1] * D[5])


def exact_objective(h: Hierarchy, W_E, W_D, lam: float, *, activation: str = "relu", k: int | None = None,
                    gradient: bool = True, edges: bool = True):
    """The exact expected objective (per event) and its exact gradient ``(g_E, g_D)``.

    Returns ``(loss, g_E, g_D)`` (gradients ``None`` when ``gradient=False``). Inside each wedge the gradient is
    the expectation of the per-event gradient (Leibniz). ReLU adds nothing at the wedge edges (its per-event loss
    is continuous there). TopK's per-event loss jumps where the kept latent swaps (``z_i = z_j`` at ``ρ_b``, the
    active sets ``S_L ≠ S_R`` on either side): that edge adds ``(D_{f_L}(ρ_b) − D_{f_R}(ρ_b)) ∂ρ_b/∂θ``
    (:func:`_edge_density`), with ``ρ_b = −(A_i − A_j)/(B_i − B_j)`` moving only with the encoder rows i and j.

    ``edges=False``: the interior part only — the expectation of the per-event gradient, which is what autograd
    of a sampled TopK loss estimates (a sample never sits on a swap edge), so the field that training follows;
    it is not the gradient of L where an edge with a jump lies in the support."""
    if _two_level(h):
        if activation != "relu":
            raise SDLInputError(f"two-level hierarchies are written for ReLU only, got {activation!r}")
        from theory.absorption_two_level import exact_objective_two_level

        return exact_objective_two_level(h, W_E, W_D, lam, gradient=gradient)
    W_E, W_D = _check(h, W_E, W_D, activation, k)
    if lam < 0:
        raise SDLInputError(f"λ must be >= 0, got {lam}")
    grad = gradient
    topk = activation == "topk_relu"
    norms = np.linalg.norm(W_D, axis=0)
    unit = W_D / np.where(norms > 0, norms, 1.0)
    loss, gE, gD = 0.0, np.zeros_like(W_E), np.zeros_like(W_D)
    P_, C_ = _law(h.parent_law), _law(h.child_law)
    for prob, Xin, Xout in h.events():
        Z = W_E @ Xin  # n_q × (1 or 2)
        if Xin.shape[1] == 1:
            pieces = [(np.inf, np.array([_moment(*P_, 1)]), np.array([[_moment(*P_, 2)]]), Z[:, 0])]
        else:
            pieces = []
            for lo, hi, mid in _wedges(_breaks(Z[:, 0], Z[:, 1], activation)):
                _, mu, M = _wedge_moments(h, lo, hi)
                pieces.append((hi, mu, M, Z[:, 0] + mid * Z[:, 1]))
        forms = []
        for hi, mu, M, zmid in pieces:
            S = _active(zmid, activation, k)
            ZS, DS = Z[S], W_D[:, S]
            R = Xout - DS @ ZS  # residual = R m
            loss += prob * (float(np.trace(R @ M @ R.T)) + lam * float(norms[S] @ (ZS @ mu)))
            if grad:
                gD[:, S] += prob * (-2 * R @ M @ ZS.T + lam * unit[:, S] * (ZS @ mu)[None, :])
                gZ = -2 * DS.T @ R @ M + lam * np.outer(norms[S], mu)
                gE[S] += prob * gZ @ Xin.T
                forms.append((hi, S, R.T @ R, lam * (norms[S] @ ZS)))
        if grad and topk and edges and len(forms) > 1:
            swaps = _swap_breaks(Z[:, 0], Z[:, 1])
            for (rho, SL, QL, lL), (_, SR, QR, lR) in zip(forms[:-1], forms[1:]):
                if rho not in swaps or np.array_equal(SL, SR):
                    continue
                i, j = swaps[rho]
                D = _edge_density(P_, C_, rho)
                jump = _density_of(QL, lL, D) - _density_of(QR, lR, D)  # d loss / d ρ_b
                dB = Z[i, 1] - Z[j, 1]
                gZi = jump * np.array([-1.0, -rho]) / dB  # ∂ρ_b/∂(A_i, B_i); (A_j, B_j) the opposite
                gE[i] += prob * gZi @ Xin.T
                gE[j] -= prob * gZi @ Xin.T
    return (loss, gE, gD) if grad else (loss, None, None)


def _pack(W_E, W_D):
    return np.concatenate([np.ravel(W_E), np.ravel(W_D)])


def _unpack(theta, n_q, h):
    nE = n_q * h.n_p
    return theta[:nE].reshape(n_q, h.n_p), theta[nE:].reshape(h.n_r, n_q)


def gradient_fd(h, W_E, W_D, lam, *, activation="relu", k=None, step=1e-6):
    """Central differences of the exact loss (a check of the exact gradient)."""
    theta = _pack(W_E, W_D)
    n_q = np.asarray(W_E).shape[0]
    g = np.zeros_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = step
        lp = exact_objective(h, *_unpack(theta + e, n_q, h), lam, activation=activation, k=k, gradient=False)[0]
        lm = exact_objective(h, *_unpack(theta - e, n_q, h), lam, activation=activation, k=k, gradient=False)[0]
        g[i] = (lp - lm) / (2 * step)
    return _unpack(g, n_q, h)


def _grad_vec(h, theta, n_q, lam, activation, k):
    W_E, W_D = _unpack(theta, n_q, h)
    loss, gE, gD = exact_objective(h, W_E, W_D, lam, activation=activation, k=k)
    return loss, _pack(gE, gD)


def hessian(h: Hierarchy, W_E, W_D, lam: float, *, activation="relu", k=None, step=1e-5) -> np.ndarray:
    """Hessian over ``(vec W_E, vec W_D)`` (row-major), by central differences of the exact gradient."""
    theta = _pack(W_E, W_D)
    return _restricted_hessian(h, theta, np.eye(theta.size), np.asarray(W_E).shape[0], lam, activation, k, step)


# ------------------------------------------------------------------------------------ observables
def _child_event_region_prob(h: Hierarchy, j: int, W_E, W_D, activation, k, pred, off_fraction) -> float:
    """Exact ``Pr(pred(a ||d|| / m_P) | child-j event)``; ``pred`` sees the contributions at an interior ρ."""
    Xin = h.W_p[:, [0, j]]
    Z = W_E @ Xin
    norms = np.linalg.norm(W_D, axis=0)
    total = 0.0
    for lo, hi, mid in _wedges(_breaks(Z[:, 0], Z[:, 1], activation, extra=_contribution_breaks(Z, norms, off_fraction))):
        z = Z[:, 0] + mid * Z[:, 1]
        S = _active(z, activation, k)
        if pred(np.where(S, z, 0.0) * norms, mid):
            total += _wedge_moments(h, lo, hi)[0]
    return total / _wedge_moments(h, 0.0, np.inf)[0]


def _contribution_breaks(Z, norms, f):
    """Ratios where ``a_i ||d_i|| = f m_P`` (the study's "contributes" threshold)."""
    A, B = Z[:, 0] * norms - f, Z[:, 1] * norms
    with np.errstate(divide="ignore", invalid="ignore"):
        return [float(r) for r in -A / B if np.isfinite(r) and r > 0]


def observables(h: Hierarchy, W_E, W_D, lam: float, *, activation="relu", k=None, off_fraction: float = 0.1,
                pure_cos: float = 0.9, parent_cos: float = 0.3) -> dict:
    """What the absorption study measures, computed exactly at ``(W_E, W_D)``.

    A child-j event is *absorbed* when no contributing (``a_i ||d_i|| > off_fraction · m_P``) latent is a pure
    parent latent (decoder cosine with ``p`` above ``pure_cos``) while a contributing latent mixes parent and
    child (cosines with both above ``parent_cos``) — the definition of ``numerics.studies.absorption.measure``.
    ``tilt``: the parent cosine of the decoder that best matches child j among the latents that fire on child-j
    events. ``parent_gain``: on a parent-alone
    event, the fraction of ``m_P p`` that the latent firing on it with the most parent-like decoder reconstructs
    along ``p`` (1 − its shrinkage; 0 when no latent fires on the parent alone)."""
    if _two_level(h):
        from theory.absorption_two_level import observables_two_level

        return observables_two_level(h, W_E, W_D, lam, off_fraction=off_fraction, pure_cos=pure_cos,
                                     parent_cos=parent_cos)
    W_E, W_D = _check(h, W_E, W_D, activation, k)
    norms = np.linalg.norm(W_D, axis=0)
    unit_out = h.W_r / np.linalg.norm(h.W_r, axis=0)
    dec = (W_D / np.where(norms > 0, norms, 1.0)).T @ unit_out  # n_q × (1+K): cosines with target directions
    pure = dec[:, 0] > pure_cos
    rates, tilts = [], []
    for j in range(1, h.n_children + 1):
        mix = (dec[:, 0] > parent_cos) & (dec[:, j] > parent_cos)

        def absorbed(contrib_per_mP, _rho, mix=mix):
            c = contrib_per_mP > off_fraction
            return not (c & pure).any() and bool((c & mix).any())

        rates.append(_child_event_region_prob(h, j, W_E, W_D, activation, k, absorbed, off_fraction))
        # among the latents that fire on child-j events (a dead latent's decoder is whatever it was initialised to)
        on = _active_on_child(h, W_E, j, activation, k)
        tilts.append(float(dec[int(np.argmax(np.where(on, dec[:, j], -np.inf))), 0]) if on.any() else float("nan"))
    zP = W_E @ h.W_p[:, 0]
    SP = _active(zP, activation, k)  # the latents that fire on the parent alone
    iP = int(np.argmax(np.where(SP, dec[:, 0], -np.inf))) if SP.any() else None
    gain = float(zP[iP] * (W_D[:, iP] @ unit_out[:, 0])) if iP is not None else 0.0
    loss = exact_objective(h, W_E, W_D, lam, activation=activation, k=k, gradient=False)[0]
    return {"absorption_rate": float(np.mean(rates)), "per_child_rate": rates, "tilt": float(np.mean(tilts)),
            "per_child_tilt": tilts, "parent_gain": gain, "loss": float(loss)}


# ------------------------------------------------------------------------------------ stationary points
@dataclass
class StationaryPoint:
    W_E: np.ndarray
    W_D: np.ndarray
    loss: float
    grad_norm: float
    kind: str                     # "minimum" | "saddle" | "degenerate"
    min_eigenvalue: float         # smallest Hessian eigenvalue off the symmetry directions
    n_flat: int                   # directions projected out (rescalings of live latents, off latents)
    observables: dict
    start: dict                   # the family member it was started from
    kinks: list = field(default_factory=list)  # (latent, feature) readings pinned at 0 (see _kinks)
    check: dict = field(default_factory=dict)  # check_type: the kind confirmed by loss evaluations alone
    n_starts: int = 1             # how many starts reached it
    replaced: str | None = None   # the kind of a copy this confirmed minimum replaced (see stationary_points)

    def to_json(self) -> dict:
        return {"W_E": self.W_E.tolist(), "W_D": self.W_D.tolist(), "loss": self.loss, "grad_norm": self.grad_norm,
                "kind": self.kind, "min_eigenvalue": self.min_eigenvalue, "n_flat": self.n_flat,
                **{k: v for k, v in self.observables.items() if k != "loss"}, "start": self.start,
                "kinks": self.kinks, "check": self.check, "n_starts": self.n_starts, "replaced": self.replaced}


def _two_level(h) -> bool:
    return getattr(h, "levels", 1) == 2


def _event_types(h) -> list[tuple[float, tuple]]:
    """``(probability, features on)`` per event type: the parent alone, then parent + child j (a two-level
    hierarchy: :meth:`theory.absorption_two_level.TwoLevel.event_features`)."""
    if _two_level(h):
        return h.event_features()
    K = h.n_children
    return ([(h.p_alone, (0,))] if h.p_alone > 0 else []) + [((1 - h.p_alone) / K, (0, j)) for j in range(1, K + 1)]


def _active_on_event(h, W_E, feats: tuple, activation, k) -> np.ndarray:
    if _two_level(h):
        from theory.absorption_two_level import active_on_event

        return active_on_event(h, W_E, feats)
    if len(feats) == 1:
        return _active(W_E @ h.W_p[:, 0], activation, k)
    return _active_on_child(h, W_E, feats[1], activation, k)


def _live(h: Hierarchy, W_E, activation, k) -> np.ndarray:
    """Latents active on a set of events of positive probability."""
    live = np.zeros(W_E.shape[0], dtype=bool)
    for prob, feats in _event_types(h):
        if prob > 0:
            live |= _active_on_event(h, W_E, feats, activation, k)
    return live


_NEGLIGIBLE = 1e-12  # a wedge of smaller probability does not make a latent "active" on an event type


def _active_on_child(h: Hierarchy, W_E, j: int, activation, k) -> np.ndarray:
    Z = W_E @ h.W_p[:, [0, j]]
    on = np.zeros(W_E.shape[0], dtype=bool)
    for lo, hi, mid in _wedges(_breaks(Z[:, 0], Z[:, 1], activation)):
        if _wedge_moments(h, lo, hi)[0] > _NEGLIGIBLE:
            on |= _active(Z[:, 0] + mid * Z[:, 1], activation, k)
    return on


def rescaling_groups(h: Hierarchy, W_E, W_D, activation="relu", k=None) -> list[list[int]]:
    """Groups of live latents whose *common* rescaling ``(c e_i, d_i / c)`` leaves L unchanged.

    ReLU: every live latent alone (its output ``a_i d_i`` and L1 term ``a_i ||d_i||`` are invariant). TopK: the
    ranking is not invariant under one latent's rescaling, so latents i and j that meet at a swap break
    (``z_i = z_j`` at some ρ inside the ratio's support, with different active sets on either side) must be
    rescaled together; the groups are the connected components of that relation (union-find)."""
    live = np.flatnonzero(_live(h, W_E, activation, k))
    if activation != "topk_relu":
        return [[int(i)] for i in live]
    parent = {int(i): int(i) for i in live}

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for j in range(1, h.n_children + 1):
        Z = W_E @ h.W_p[:, [0, j]]
        swaps = _swap_breaks(Z[:, 0], Z[:, 1])
        wedges = list(_wedges(_breaks(Z[:, 0], Z[:, 1], activation)))
        for (lo, hi, mid), (lo2, hi2, mid2) in zip(wedges[:-1], wedges[1:]):
            if hi not in swaps or min(_wedge_moments(h, lo, hi)[0], _wedge_moments(h, lo2, hi2)[0]) <= _NEGLIGIBLE:
                continue
            if not np.array_equal(_active(Z[:, 0] + mid * Z[:, 1], activation, k),
                                  _active(Z[:, 0] + mid2 * Z[:, 1], activation, k)):
                a, b = swaps[hi]
                if a in parent and b in parent:
                    parent[find(a)] = find(b)
    groups: dict = {}
    for i in parent:
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values())


def flat_directions(h: Hierarchy, W_E, W_D, activation="relu", k=None):
    """Directions along which L is flat at ``(W_E, W_D)``: ``(exact, one_sided)`` lists of vectors.

    Exact: each :func:`rescaling_groups` group's common rescaling ``(e_i, −d_i)_{i ∈ group}`` (L1 weighted by
    ``||d_i||``), and every parameter of a latent that is off on every event (TopK: its decoder; its encoder rows
    go to the one-sided list, since a latent that loses the ranking everywhere may win somewhere once moved).
    One-sided: a latent off on every child-j event does not see its reading of child j's (dual) input direction
    until that reading grows enough to switch it on somewhere — flat to second order, so the Hessian cannot
    decide; :func:`classify` evaluates the loss along them instead."""
    n_q = W_E.shape[0]
    live = _live(h, W_E, activation, k)
    dual = np.linalg.pinv(h.W_p)
    exact, one_sided = [], []
    for grp in rescaling_groups(h, W_E, W_D, activation, k):
        dE, dD = np.zeros_like(W_E), np.zeros_like(W_D)
        dE[grp], dD[:, grp] = W_E[grp], -W_D[:, grp]
        exact.append(_pack(dE, dD))
    types = [feats for _, feats in _event_types(h)]
    on = {feats: _active_on_event(h, W_E, feats, activation, k) for feats in types}
    for i in range(n_q):
        if live[i]:
            for j in range(1, h.W_p.shape[1]):  # every feature below the root: its events are those naming it
                if not any(on[feats][i] for feats in types if j in feats):
                    dE = np.zeros_like(W_E)
                    dE[i] = dual[j] / np.linalg.norm(dual[j])
                    one_sided.append(_pack(dE, np.zeros_like(W_D)))
        else:  # off everywhere (and stays off nearby): every parameter of the latent is flat
            for r in range(h.n_p):
                dE = np.zeros_like(W_E)
                dE[i, r] = 1.0
                (one_sided if activation == "topk_relu" else exact).append(_pack(dE, np.zeros_like(W_D)))
            for r in range(h.n_r):
                dD = np.zeros_like(W_D)
                dD[r, i] = 1.0
                exact.append(_pack(np.zeros_like(W_E), dD))
    return exact, one_sided


def classify(h: Hierarchy, W_E, W_D, lam, *, activation="relu", k=None, tol: float = 1e-6,
             probe=(1e-3, 1e-2, 1e-1), kinks=()):
    """``(kind, smallest eigenvalue off the flat directions, number of flat directions)``.

    ``minimum``: the Hessian is positive definite off the flat directions and the loss does not decrease along
    any one-sided flat direction (probed at the steps ``probe``, both signs, but none past the plateau's edge
    :func:`one_sided_extent` when the point lies inside it: L is exactly constant up to there, a weak minimum
    whatever lies beyond; at the edge itself every step), or the loss is 0 (``<= 1e-12
    E||y||²``: the objective is >= 0, so a global minimum whatever the Hessian); ``saddle``: a negative eigenvalue
    or a decrease; ``degenerate``: neither decided. At a kink (``kinks`` from :func:`polish`) the Hessian is the one
    of L restricted to the kink, and every :func:`transversal_derivatives` must be positive too. The Hessian is
    central differences of the exact gradient (step 1e-5); for TopK that gradient includes the swap boundaries'
    terms and is continuous, smooth away from the ratios where two breaks meet."""
    d = _classify(h, W_E, W_D, lam, activation=activation, k=k, tol=tol, probe=probe, kinks=kinks)
    return d["kind"], d["min_eigenvalue"], d["n_flat"]


def _classify(h, W_E, W_D, lam, *, activation="relu", k=None, tol=1e-6, probe=(1e-3, 1e-2, 1e-1), kinks=()):
    n_q = W_E.shape[0]
    N = _manifold(h, n_q, list(kinks))
    Hm = _restricted_hessian(h, _pack(W_E, W_D), N, n_q, lam, activation, k)
    exact, one_sided = flat_directions(h, W_E, W_D, activation, k)
    one_sided = [v for v in one_sided if np.linalg.norm(N.T @ v) > 1e-9]
    flat = [N.T @ v for v in exact + one_sided]
    flat = [v for v in flat if np.linalg.norm(v) > 1e-9]
    n = Hm.shape[0]
    if flat:
        F = np.array(flat).T
        U, sv, _ = np.linalg.svd(F, full_matrices=True)
        rank = int((sv > 1e-9 * sv.max()).sum())
        comp = U[:, rank:]
    else:
        rank, comp = 0, np.eye(n)
    ev, evec = np.linalg.eigh(comp.T @ Hm @ comp) if comp.shape[1] else (np.array([np.inf]), None)
    scale = max(1.0, float(np.abs(ev[np.isfinite(ev)]).max(initial=0.0)))
    lo = float(ev.min())
    theta = _pack(W_E, W_D)
    f = lambda t: exact_objective(h, *_unpack(t, n_q, h), lam, activation=activation, k=k, gradient=False)[0]  # noqa: E731
    base = f(theta)
    # a probe counts only inside the neighbourhood it tests: past the plateau's edge (where the latent first switches
    # on, one_sided_extent) the loss can fall although it is exactly constant around the point (a weak minimum)
    drops = [(f(theta + s * t * v) - base, s * t * v) for v in one_sided for s in (1, -1)
             for t in _local_steps(probe, one_sided_extent(h, theta, v, s, max(probe), activation, k))]
    floor = 1e-12 * max(1.0, abs(base))
    decrease = min((x for x, _ in drops), default=0.0) < -floor
    trans = [t for t in (transversal_derivatives(h, W_E, W_D, lam, kinks, activation=activation, k=k)
                         if kinks else []) if t is not None]
    descent = None
    zero = base <= 1e-12 * max(1.0, f(np.zeros_like(theta)))
    if zero:
        kind = "minimum"
    elif lo < -tol * scale or decrease or min(trans, default=1.0) < -tol:
        kind = "saddle"
        if lo < -tol * scale:
            descent = [t * N @ comp @ evec[:, 0] for t in (1e-3, 1e-2)]  # unit eigenvector, two steps
        elif decrease:
            descent = [min(drops, key=lambda x: x[0])[1]]  # the one-sided probe that decreased, at its step
    elif lo > tol * scale and min(trans, default=1.0) > tol:
        kind = "minimum"
    else:
        kind = "degenerate"
    undecided = [N @ comp @ evec[:, c] for c in range(len(ev)) if abs(ev[c]) <= tol * scale] if evec is not None else []
    return {"kind": kind, "min_eigenvalue": lo, "n_flat": rank, "descent": descent, "undecided": undecided,
            "zero_loss": bool(zero)}


def _activity(h, W_E, activation, k) -> np.ndarray:
    """Which latents are active on (a part of positive probability of) each event type: types × latents."""
    return np.array([_active_on_event(h, W_E, feats, activation, k) for _, feats in _event_types(h)])


def one_sided_extent(h, theta, v, sign: int, t_max: float, activation="relu", k=None, iters: int = 40) -> float:
    """How far ``θ + sign · t · v`` keeps every latent's activity on every event type (``t`` in ``[0, t_max]``;
    ``t_max`` when it never changes there): along a one-sided flat direction of :func:`flat_directions` (a latent's
    reading of a feature on whose events it never fires, or a dead latent's encoder) the loss is **exactly** constant
    up to it — the latent stays off on every event the move touches — so the point is a weak local minimum along
    that sign when the extent is positive, whatever the loss does past it. Bisection on the first change (the
    activity changes once along the move: a pre-activation is linear in ``t``)."""
    n_q = np.asarray(theta).size // (h.n_p + h.n_r)
    W_E = _unpack(theta, n_q, h)[0]
    ref = _activity(h, W_E, activation, k)
    same = lambda t: np.array_equal(_activity(h, _unpack(theta + sign * t * v, n_q, h)[0], activation, k), ref)  # noqa: E731
    if same(t_max):
        return float(t_max)
    lo, hi = 0.0, float(t_max)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if same(mid) else (lo, mid)
    return lo


def _local_steps(probe, extent: float) -> list:
    """The probe steps that test the point's own neighbourhood: all of them when the point sits at the plateau's
    edge (the extent below the smallest step: a decrease there is a descent from the point), else none past the
    extent (inside it the loss is exactly constant; past it the probe has left the neighbourhood)."""
    return list(probe) if extent < min(probe) else [t for t in probe if t <= extent]


def check_type(h: Hierarchy, W_E, W_D, lam, *, activation="relu", k=None, kinks=(), n_random: int = 24,
               radii=(1e-4, 1e-3), seed: int = 0, classified: dict | None = None) -> dict:
    """An independent check of :func:`classify`, by evaluating the exact loss only (no Hessian).

    ``minimum``/``degenerate``: ``n_random`` seeded random unit directions (on the kink when the point sits on one;
    for ``degenerate`` also the Hessian's undecided eigenvectors), each at the ``radii`` (relative to the parameter
    norm), both signs: ``largest_decrease`` is the most negative change of L found (a minimum must have none below
    ``-1e-12 · max(1, L)``). ``saddle``: the descent direction it exhibits (the eigenvector of the negative
    eigenvalue at steps 1e-3 and 1e-2, or the one-sided probe that decreased, at its step) and the smallest change
    of L along it, both signs (``descent_change``; < 0 confirms the saddle). ``confirmed``: the check agrees with the kind."""
    d = classified or _classify(h, W_E, W_D, lam, activation=activation, k=k, kinks=kinks)
    n_q = W_E.shape[0]
    theta = _pack(W_E, W_D)
    f = lambda t: exact_objective(h, *_unpack(t, n_q, h), lam, activation=activation, k=k, gradient=False)[0]  # noqa: E731
    base = f(theta)
    floor = 1e-12 * max(1.0, abs(base))
    out = {"kind": d["kind"], "seed": seed}
    if d["kind"] == "saddle":
        if d["descent"] is None:  # decided by a negative one-sided derivative off a kink
            out.update(descent_change=None, confirmed=None)
            return out
        ch = min(f(theta + s * v) - base for v in d["descent"] for s in (1, -1))
        out.update(descent_change=float(ch), descent_step=float(max(np.linalg.norm(v) for v in d["descent"])),
                   confirmed=bool(ch < -floor))
        return out
    rng = np.random.default_rng(seed)
    N = _manifold(h, n_q, list(kinks))
    dirs = [N @ y for y in rng.normal(size=(n_random, N.shape[1]))] + list(d["undecided"])
    r0 = max(1.0, float(np.linalg.norm(theta)))
    worst = min(f(theta + s * r * r0 * v / np.linalg.norm(v)) - base for v in dirs for r in radii for s in (1, -1))
    out.update(largest_decrease=float(min(worst, 0.0)), n_directions=len(dirs), radii=list(radii),
               confirmed=bool(worst >= -floor) if d["kind"] == "minimum" else None,
               no_descent_found=bool(worst >= -floor))
    return out


def family_start(h: Hierarchy, gammas, tilt: float = 0.0, scale: float = 1.0):
    """A member of the partially absorbed family: parent row ``p − Σ γ_j c_j`` (dual basis of ``W_p``), child j
    row ``c_j``; decoders ``p`` and ``c_j + tilt · p`` (in ``W_r``). ``n_q = 1 + K``."""
    K = h.n_children
    dual = np.linalg.pinv(h.W_p)  # (1+K) × n_p: row f reads feature f
    W_E = scale * dual.copy()
    W_E[0] = scale * (dual[0] - sum(g * dual[j + 1] for j, g in enumerate(gammas)))
    W_D = h.W_r.copy()
    for j in range(1, K + 1):
        W_D[:, j] = h.W_r[:, j] + tilt * h.W_r[:, 0]
    return W_E, W_D


def _kinks(h: Hierarchy, W_E, rel: float = 3e-3) -> list[tuple[int, int]]:
    """``(latent, feature)`` pairs to pin at zero reading: a latent whose pre-activation is (nearly) identically 0
    on an event type (the parent alone: its reading of ``p``; child j: its readings of ``p`` and ``c_j``).

    There the per-event loss has a kink (the latent is about to switch on for a whole event type at once), the
    gradient need not vanish, and a minimum is a minimum of the loss restricted to the kink plus non-negative
    one-sided derivatives across it (:func:`transversal_derivatives`)."""
    out = set()
    R = W_E @ h.W_p  # readings of every feature
    types = [(0,)] + [feats for _, feats in _event_types(h)]
    for i in range(W_E.shape[0]):
        s = rel * max(1e-12, float(np.linalg.norm(R[i])))
        for feats in types:  # identically 0 on an event type: every feature it names is read (nearly) 0
            if all(abs(R[i, f]) < s for f in feats):
                out.update((i, f) for f in feats)
    return sorted(out)


def _manifold(h: Hierarchy, n_q: int, kinks) -> np.ndarray:
    """Orthonormal basis (columns) of the parameter directions that keep every pinned reading at 0."""
    n = n_q * h.n_p + h.n_r * n_q
    if not kinks:
        return np.eye(n)
    C = np.zeros((len(kinks), n))
    for r, (i, f) in enumerate(kinks):
        dE = np.zeros((n_q, h.n_p))
        dE[i] = h.W_p[:, f]
        C[r] = _pack(dE, np.zeros((h.n_r, n_q)))
    _, sv, Vt = np.linalg.svd(C)
    rank = int((sv > 1e-12).sum())
    return Vt[rank:].T


def _snap(h: Hierarchy, W_E, kinks):
    """Project each pinned latent's encoder row onto the kink (readings of its pinned features = 0)."""
    W_E = W_E.copy()
    for i in {i for i, _ in kinks}:
        F = h.W_p[:, [f for ii, f in kinks if ii == i]]
        W_E[i] = W_E[i] - F @ np.linalg.lstsq(F, W_E[i], rcond=None)[0]
    return W_E


def _restricted_hessian(h, theta, N, n_q, lam, activation, k, step=1e-5):
    Hm = np.zeros((N.shape[1], N.shape[1]))
    for c in range(N.shape[1]):
        gp = _grad_vec(h, theta + step * N[:, c], n_q, lam, activation, k)[1]
        gm = _grad_vec(h, theta - step * N[:, c], n_q, lam, activation, k)[1]
        Hm[:, c] = N.T @ (gp - gm) / (2 * step)
    return 0.5 * (Hm + Hm.T)


def _newton(h, theta, N, n_q, lam, activation, k, iters, gtol):
    loss, g = _grad_vec(h, theta, n_q, lam, activation, k)
    gr = N.T @ g
    for _ in range(iters):
        if np.linalg.norm(gr) < gtol:
            break
        Hr = _restricted_hessian(h, theta, N, n_q, lam, activation, k)
        if not np.all(np.isfinite(Hr)):
            break
        t_new = theta - N @ np.linalg.lstsq(Hr, gr, rcond=1e-10)[0]
        l_new, g_new = _grad_vec(h, t_new, n_q, lam, activation, k)
        if np.linalg.norm(N.T @ g_new) >= np.linalg.norm(gr):
            break
        theta, loss, g, gr = t_new, l_new, g_new, N.T @ g_new
    return theta, float(loss), float(np.linalg.norm(gr))


def polish(h: Hierarchy, W_E, W_D, lam, *, activation="relu", k=None, max_iter: int = 3000, newton: int = 30,
           gtol: float = 1e-10):
    """Minimise the exact objective from ``(W_E, W_D)`` (L-BFGS), then Newton on ``∇L = 0`` — in the full
    space, or, if that does not converge, on the kink the point sits at (:func:`_kinks`).

    Returns ``(W_E, W_D, loss, ||restricted ∇L||, kinks)``."""
    from scipy.optimize import minimize

    n_q = np.asarray(W_E).shape[0]
    theta = _pack(W_E, W_D).astype(float)
    fun = lambda t: _grad_vec(h, t, n_q, lam, activation, k)  # noqa: E731
    res = minimize(fun, theta, jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "gtol": 1e-7, "ftol": 1e-15, "maxcor": 30})
    n = theta.size
    t_full, l_full, g_full = _newton(h, res.x, np.eye(n), n_q, lam, activation, k,
                                     newton, gtol)
    if g_full < gtol:
        return (*_unpack(t_full, n_q, h), l_full, g_full, [])
    kinks = _kinks(h, _unpack(res.x, n_q, h)[0])
    if not kinks:
        return (*_unpack(t_full, n_q, h), l_full, g_full, [])
    W_E0, W_D0 = _unpack(res.x, n_q, h)
    theta = _pack(_snap(h, W_E0, kinks), W_D0)
    N = _manifold(h, n_q, kinks)
    t_k, l_k, g_k = _newton(h, theta, N, n_q, lam, activation, k, newton, gtol)
    if g_k >= gtol:  # Newton from the snapped point stalled: minimise on the kink first (L-BFGS in its coordinates)
        def on_kink(y):
            loss, g = _grad_vec(h, theta + N @ y, n_q, lam, activation, k)
            return loss, N.T @ g
        r2 = minimize(on_kink, np.zeros(N.shape[1]), jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iter, "gtol": 1e-12, "ftol": 1e-16, "maxcor": 30})
        t2, l2, g2 = _newton(h, theta + N @ r2.x, N, n_q, lam, activation, k, newton, gtol)
        if g2 < g_k:
            t_k, l_k, g_k = t2, l2, g2
    return (*_unpack(t_k, n_q, h), l_k, g_k, kinks)


def transversal_derivatives(h: Hierarchy, W_E, W_D, lam, kinks, *, activation="relu", k=None, step=1e-7,
                            n_random: int = 8, seed: int = 0) -> list[float]:
    """One-sided derivatives of L off the kink, along each pinned reading (both signs), each pinned latent's
    pair of readings (the four sign combinations) and ``n_random`` seeded mixtures: all >= 0 at a minimum.

    A direction in which the latent stays off leaves L unchanged (the difference is rounding, below
    ``1e-13 |L|``): it is reported as ``None`` (flat, decided), not as a zero derivative."""
    rng = np.random.default_rng(seed)
    n_q = W_E.shape[0]
    theta = _pack(W_E, W_D)
    base = exact_objective(h, W_E, W_D, lam, activation=activation, k=k, gradient=False)[0]
    dual = np.linalg.pinv(h.W_p)
    dirs = []
    for i in sorted({i for i, _ in kinks}):
        F = [f for ii, f in kinks if ii == i]
        combos = [np.eye(len(F))[r] * s for r in range(len(F)) for s in (1, -1)]
        if len(F) >= 2:
            combos += [np.array(c, dtype=float) for c in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
            combos = [np.pad(c, (0, len(F) - len(c))) for c in combos]
        combos += list(rng.normal(size=(n_random, len(F))))
        for c in combos:
            dE = np.zeros_like(W_E)
            dE[i] = sum(cf * dual[f] for cf, f in zip(c, F))
            dirs.append(_pack(dE, np.zeros_like(W_D)) / np.linalg.norm(dE))
    out = []
    for d in dirs:
        diff = exact_objective(h, *_unpack(theta + step * d, n_q, h), lam, activation=activation, k=k,
                               gradient=False)[0] - base
        out.append(None if abs(diff) <= 1e-13 * max(1.0, abs(base)) else diff / step)
    return out


def absorbed_start(h: Hierarchy, reading=0.5):
    """The fully absorbed end of the family, as :mod:`theory.absorption` describes it: the parent latent off on
    every event (row ``−p``), child latent j reading ``c_j + reading_j · p`` and decoding ``κ p + c_j`` with
    ``κ = μ1P μ1C / μ2C`` (the regression of the event on ``m_C``), so the parent is carried by the children.
    ``reading``: one number, or one per child (a child latent that reads ``p`` also fires on the parent alone,
    and then carries the parent-alone events too)."""
    readings = np.broadcast_to(np.asarray(reading, dtype=float), (h.n_children,))
    from theory.shrinkage import magnitude_moments

    (m1P, _, _), (m1C, m2C, _) = magnitude_moments(h.parent_law), magnitude_moments(h.child_law)
    kappa = m1P * m1C / m2C
    W_E, W_D = family_start(h, [0.0] * h.n_children)
    dual = np.linalg.pinv(h.W_p)
    W_E[0] = -dual[0]
    for j in range(1, h.n_children + 1):
        W_E[j] = dual[j] + readings[j - 1] * dual[0]
        W_D[:, j] = h.W_r[:, j] + kappa * h.W_r[:, 0]
    return W_E, W_D


def merged_start(h: Hierarchy, m: int, gamma: float = 0.5):
    """Child ``m`` merged into the parent latent (row ``p + c_m − γ Σ_{j≠m} c_j``, decoder ``p + c_m``; child m's
    own latent off, row ``−p``), every other child j absorbing the parent (row ``c_j``, decoder ``κ p + c_j``):
    full absorption without a dead parent latent — the parent latent carries the parent-alone events."""
    from theory.shrinkage import magnitude_moments

    (m1P, _, _), (m1C, m2C, _) = magnitude_moments(h.parent_law), magnitude_moments(h.child_law)
    kappa = m1P * m1C / m2C
    W_E, W_D = family_start(h, [0.0] * h.n_children)
    dual = np.linalg.pinv(h.W_p)
    W_E[0] = dual[0] + dual[m] - gamma * sum(dual[j] for j in range(1, h.n_children + 1) if j != m)
    W_D[:, 0] = h.W_r[:, 0] + h.W_r[:, m]
    W_E[m] = -dual[0]
    for j in range(1, h.n_children + 1):
        if j != m:
            W_D[:, j] = h.W_r[:, j] + kappa * h.W_r[:, 0]
    return W_E, W_D


def children_exchangeable(h: Hierarchy) -> bool:
    """An orthonormal SAE with one law for all children: permuting children is a symmetry of L. A two-level
    hierarchy with one parent too (its children are siblings with one law, W_p = I); with several parents only
    permutations within a parent would be, so its points are compared child by child."""
    if _two_level(h):
        return h.n_parents == 1
    return h.is_sae and np.allclose(h.W_p.T @ h.W_p, np.eye(1 + h.n_children), atol=1e-12)


def _gamma_patterns(K: int, grid, exchangeable: bool = False) -> list[tuple]:
    """Per-child values from ``grid``: every pattern when K <= 2 (up to permuting children if they are
    exchangeable); for K >= 3 the all-equal patterns and "one child differs"."""
    import itertools

    if K <= 2:
        pats = itertools.combinations_with_replacement(grid, K) if exchangeable else itertools.product(grid, repeat=K)
        return [tuple(p) for p in pats]
    out = [tuple([g] * K) for g in grid]
    out += [tuple([g2] + [g] * (K - 1)) for g in grid for g2 in grid if g2 != g]
    return out


_CHILD_STATES = ("clean", "partial", "absorbed")


def mixed_start(h: Hierarchy, states, tilt: float = 0.3):
    """Each child in its own state (an asymmetric member of the family when the states differ): ``clean`` (the
    parent latent reads none of ``c_j``, child j's latent decodes ``c_j``), ``partial`` (the parent latent reads
    ``−2 c_j``, child j's decoder is ``c_j + tilt · p``) or ``absorbed`` (the parent latent reads ``−5 c_j``, off on
    most child-j events, and child j's latent decodes ``κ p + c_j`` as in :func:`absorbed_start`). The parent latent
    stays on the parent-alone events in every state."""
    from theory.shrinkage import magnitude_moments

    if len(states) != h.n_children or any(s not in _CHILD_STATES for s in states):
        raise SDLInputError(f"states must be {h.n_children} of {_CHILD_STATES}, got {states!r}")
    (m1P, _, _), (m1C, m2C, _) = magnitude_moments(h.parent_law), magnitude_moments(h.child_law)
    kappa = m1P * m1C / m2C
    W_E, W_D = family_start(h, [{"clean": 0.0, "partial": 2.0, "absorbed": 5.0}[s] for s in states])
    for j, s in enumerate(states, 1):
        if s != "clean":
            W_D[:, j] = h.W_r[:, j] + (tilt if s == "partial" else kappa) * h.W_r[:, 0]
    return W_E, W_D


def random_start(h: Hierarchy, rng: np.random.Generator, n_q: int | None = None):
    """Seeded Gaussian weights (entries ``N(0, 1/n_p)`` and ``N(0, 1/n_r)``), as a training run's initialisation
    is: starts that reach what a trained run can reach and none of the structured starts does (latents that die,
    one latent serving two children)."""
    n_q = 1 + h.n_children if n_q is None else n_q
    return (rng.normal(size=(n_q, h.n_p)) / np.sqrt(h.n_p), rng.normal(size=(h.n_r, n_q)) / np.sqrt(h.n_r))


def _state_patterns(K: int, exchangeable: bool) -> list[tuple]:
    """Every assignment of :data:`_CHILD_STATES` to the children (up to permuting them if they are exchangeable;
    when not, all ``3^K`` up to K = 3 and the ``C(K+2, 2)`` sorted ones beyond)."""
    import itertools

    if exchangeable or K > 3:
        return [tuple(p) for p in itertools.combinations_with_replacement(_CHILD_STATES, K)]
    return [tuple(p) for p in itertools.product(_CHILD_STATES, repeat=K)]


def _starts(h: Hierarchy, gammas, tilts, absorbed_readings, merged: bool = True, mixed: bool = False,
            n_random: int = 0, seed: int = 0) -> list:
    """``[((W_E, W_D), description)]``: the family members, the absorbed ends, the merged children, the per-child
    mixed states and ``n_random`` seeded random starts (:func:`stationary_points` describes them)."""
    if _two_level(h):
        from theory.absorption_two_level import two_level_starts

        return two_level_starts(h, n_random, seed)
    ex = children_exchangeable(h)
    starts = [(family_start(h, gam, tilt), {"gammas": [float(g) for g in gam], "tilt": float(tilt)})
              for gam in _gamma_patterns(h.n_children, gammas, ex) for tilt in tilts]
    starts += [(absorbed_start(h, r), {"absorbed_end": True, "child_readings_of_p": [float(x) for x in r]})
               for r in _gamma_patterns(h.n_children, absorbed_readings, ex)]
    if merged:
        starts += [(merged_start(h, m), {"merged_child": m})
                   for m in (range(1, 2) if ex else range(1, h.n_children + 1))]
    if mixed:
        starts += [(mixed_start(h, st), {"child_states": list(st)}) for st in _state_patterns(h.n_children, ex)]
    rng = np.random.default_rng(seed)
    starts += [(random_start(h, rng), {"random_start": i, "seed": int(seed)}) for i in range(n_random)]
    return starts


def _observed_key(loss: float, obs: dict) -> tuple:
    """``(scalars, per-child rows)``: loss, parent gain (and a two-level hierarchy's per-parent rates and tilts);
    every child's absorption rate and tilt."""
    scal = [loss, obs["parent_gain"], *obs.get("per_parent_rate", ()), *obs.get("per_parent_tilt", ())]
    return np.array(scal), np.array([obs["per_child_rate"], obs["per_child_tilt"]])


_ZERO_LOSS = 1e-10  # a polished zero-loss point's loss is L-BFGS's residual (seen: 1.5e-12), O(1) losses elsewhere


def same_point(a: tuple, b: tuple, exchangeable: bool, tol: float) -> bool:
    """Two stationary points are the same when their losses and parent gains agree within ``tol`` and so do every
    child's absorption rate and tilt — under some permutation of the children when they are exchangeable (a
    permuted copy is the same point up to a symmetry of L) — or when both losses are 0 (``<= 1e-10``: the global
    minimum set, reported once)."""
    import itertools

    (sa, ca), (sb, cb) = a, b
    if max(sa[0], sb[0]) <= _ZERO_LOSS:
        return True  # the zero-loss set (a global minimum, a continuum under TopK at k > K): one representative
    if np.nan_to_num(np.abs(sa - sb), nan=0.0).max() >= tol:
        return False
    K = ca.shape[1]
    perms = itertools.permutations(range(K)) if exchangeable else [tuple(range(K))]
    return any(np.nan_to_num(np.abs(ca - cb[:, list(pm)]), nan=0.0).max() < tol for pm in perms)


def stationary_points(h: Hierarchy, lam: float, *, activation: str = "relu", k: int | None = None,
                      gammas=(0.0, 2.0), tilts=(0.0,), absorbed_readings=(0.0, 0.6), mixed: bool = True,
                      n_random: int = 8, seed: int = 0, starts: list | None = None, stationary_tol: float = 1e-6,
                      dedupe_tol: float = 1e-4) -> list[StationaryPoint]:
    """The stationary points reached from the partially absorbed family and from random starts, classified,
    sorted by loss.

    Starts: every pattern of per-child ``gammas`` (:func:`family_start`) at each decoder tilt, and the fully
    absorbed end (:func:`absorbed_start`) at every pattern of per-child readings of ``p`` from
    ``absorbed_readings`` (the asymmetric ones reach minima where one child's latent also carries the parent-alone
    events), and each child merged into the parent latent (:func:`merged_start`); ``mixed``: every assignment of
    clean / partially absorbed / absorbed to the children independently (:func:`mixed_start`, asymmetric minima:
    one child absorbed, the others not); ``n_random`` seeded Gaussian starts (:func:`random_start`, seed ``seed``;
    they reach minima with dead latents, which training reaches too). Only points with ``||∇L|| <=
    stationary_tol`` (the exact gradient, restricted to the kink if the point sits on one) are kept; two points are
    the same when :func:`same_point` says so (children permuted when they are exchangeable). When starts reach the
    same point with different kinds (a dead latent's free parameters can sit where the Hessian cannot decide), a
    confirmed minimum replaces a saddle or degenerate copy: that loss and those observables are then a local
    minimum's. ``n_starts`` on each point counts the starts that reached it. Each point carries
    :func:`check_type`'s confirmation of its kind. ``activation="topk_relu"`` with a budget ``k``: the TopK∘ReLU
    curve in k (usually λ = 0). A two-level hierarchy (:class:`theory.absorption_two_level.TwoLevel`, ReLU):
    its own family starts (:func:`theory.absorption_two_level.two_level_starts`) and the random ones. ``starts``:
    explicit ``[((W_E, W_D), description)]`` instead of all of these."""
    ex = children_exchangeable(h)
    pts: list[StationaryPoint] = []
    keys: list = []
    if starts is None:
        starts = _starts(h, gammas, tilts, absorbed_readings, mixed=mixed, n_random=n_random, seed=seed)
    for (W_E, W_D), start in starts:
        W_E, W_D, loss, gn, kinks = polish(h, W_E, W_D, lam, activation=activation, k=k)
        if gn > stationary_tol:
            continue
        obs = observables(h, W_E, W_D, lam, activation=activation, k=k)
        key = _observed_key(loss, obs)
        dup = next((n for n, kk in enumerate(keys) if same_point(key, kk, ex, dedupe_tol)), None)
        if dup is not None:
            pts[dup].n_starts += 1
            if pts[dup].kind == "minimum":
                continue
        d = _classify(h, W_E, W_D, lam, activation=activation, k=k, kinks=kinks)
        if dup is not None and not (d["kind"] == "minimum"):
            continue
        chk = check_type(h, W_E, W_D, lam, activation=activation, k=k, kinks=kinks, classified=d)
        if dup is not None and not chk.get("confirmed"):
            continue
        pt = StationaryPoint(W_E, W_D, loss, gn, d["kind"], d["min_eigenvalue"], d["n_flat"], obs, start,
                             [list(map(int, kk)) for kk in kinks], chk)
        if dup is not None:
            pt.n_starts, pt.replaced = pts[dup].n_starts, pts[dup].kind
            pts[dup], keys[dup] = pt, key
        else:
            pts.append(pt)
            keys.append(key)
    return sorted(pts, key=lambda p: p.loss)


def stationarity(loss, params) -> dict:
    """``{parameter: ∂loss/∂parameter}`` of a family's symbolic loss whose region moments enter as functions of the
    parameters: their own derivatives (sympy ``Derivative``/``Subs`` terms) are the moving region edges' Leibniz
    terms, which cancel where the per-event loss is continuous across the edge (ReLU), so they are dropped.
    Unsimplified: sympy's simplify takes seconds per equation and changes nothing checked."""
    import sympy as sp

    return {prm: sp.diff(loss, prm).replace(lambda e: isinstance(e, (sp.Subs, sp.Derivative)), lambda e: 0)
            for prm in params}


@lru_cache(maxsize=8)
def family_system(n_children: int = 1):
    """The stationarity system of the partially absorbed family, symbolically (THEORY.md §7).

    Parent latent: encoder ``a (p − Σ γ_j c_j)``, decoder ``u p + Σ w_j c_j``; child latent j: encoder
    ``b_j c_j`` (reading ``p`` neither way), decoder ``s_j p + v_j c_j``; orthonormal SAE, no bias, ReLU + L1.
    On a child-j event the parent fires iff ``m_C/m_P < ρ_j = 1/γ_j`` and child j always; the wedge moments
    ``G_ab(ρ) = E[m_P^a m_C^b 1{m_C < ρ m_P}]`` enter as functions (closed forms: :func:`ratio_tail_moment`).
    Returns ``(loss, {parameter: ∂loss/∂parameter}, symbols)``; ``∂/∂γ_j`` includes no boundary term (the
    per-event loss is continuous where the parent switches off)."""
    import sympy as sp

    K = int(n_children)
    lam, pa = sp.symbols("lambda p_alone", nonnegative=True)
    a, u = sp.symbols("a u", real=True)
    g = sp.symbols(f"gamma_1:{K + 1}", positive=True)
    w = sp.symbols(f"w_1:{K + 1}", real=True)
    b = sp.symbols(f"b_1:{K + 1}", positive=True)
    s = sp.symbols(f"s_1:{K + 1}", real=True)
    v = sp.symbols(f"v_1:{K + 1}", real=True)
    mu1P, mu2P, mu1C, mu2C = sp.symbols("mu1_P mu2_P mu1_C mu2_C", positive=True)
    G = {ab: sp.Function(f"G_{ab[0]}{ab[1]}") for ab in ((1, 0), (0, 1), (2, 0), (1, 1), (0, 2))}
    nP = sp.sqrt(u**2 + sum(wi**2 for wi in w))
    loss = pa * (mu2P * ((1 - a * u) ** 2 + sum((a * wi) ** 2 for wi in w)) + lam * a * nP * mu1P)
    for j in range(K):
        rho = 1 / g[j]
        nC = sp.sqrt(s[j] ** 2 + v[j] ** 2)
        mom = {ab: f(rho) for ab, f in G.items()}
        mom_all = {(2, 0): mu2P, (1, 1): mu1P * mu1C, (0, 2): mu2C}
        # residual coefficients on (m_P, m_C) along p, c_j, c_k (k != j): child j on, parent on/off
        # parent on: a_P = a (m_P − γ_j m_C)
        on = [(1 - a * u - 0, a * g[j] * u - b[j] * s[j]),          # along p:   (coef m_P, coef m_C)
              (-a * w[j], 1 + a * g[j] * w[j] - b[j] * v[j])]        # along c_j
        on += [(-a * w[k], a * g[j] * w[k]) for k in range(K) if k != j]
        off = [(1, -b[j] * s[j]), (0, 1 - b[j] * v[j])]

        def quad(coefs, M):
            return sum(cp**2 * M[2, 0] + 2 * cp * cc * M[1, 1] + cc**2 * M[0, 2] for cp, cc in coefs)

        M_on = mom
        M_off = {ab: mom_all[ab] - mom[ab] for ab in mom_all}
        l1 = lam * (a * nP * (mom[1, 0] - g[j] * mom[0, 1]) + b[j] * nC * mu1C)
        loss += (1 - pa) / K * (quad(on, M_on) + quad(off, M_off) + l1)
    # G_ab(ρ) enter through ρ = 1/γ; the chain rule through them is Leibniz on the wedge, which cancels for ReLU
    grads = stationarity(loss, [a, u, *g, *w, *b, *s, *v])
    syms = dict(lam=lam, p_alone=pa, a=a, u=u, gamma=g, w=w, b=b, s=s, v=v, mu=(mu1P, mu2P, mu1C, mu2C), G=G)
    return loss, grads, syms


# ------------------------------------------------------------------------------------ TopK: what training follows
def interior_field(h: Hierarchy, theta, n_q: int, lam: float, k: int) -> np.ndarray:
    """The TopK gradient without the swap edges' terms (``exact_objective(..., edges=False)``), as one vector:
    the expectation of the per-event gradient, i.e. what autograd of sampled batches estimates. Where an edge with
    a jump lies in the support it is not the gradient of L, so training's fixed points (its zeros) need not be
    stationary points of L."""
    _, gE, gD = exact_objective(h, *_unpack(theta, n_q, h), lam, activation="topk_relu", k=k, edges=False)
    return _pack(gE, gD)


def _field_jacobian(h, theta, n_q, lam, k, step=1e-5):
    n = theta.size
    J = np.zeros((n, n))
    for c in range(n):
        e = np.zeros(n)
        e[c] = step
        J[:, c] = (interior_field(h, theta + e, n_q, lam, k) - interior_field(h, theta - e, n_q, lam, k)) / (2 * step)
    return J


def training_field_zero(h: Hierarchy, W_E, W_D, lam: float, k: int, *, lr: float = 0.05, steps: int = 4000,
                        newton: int = 20, tol: float = 1e-9, conserved: bool = True) -> dict | None:
    """The zero of :func:`interior_field` that the flow training follows in expectation reaches from ``(W_E, W_D)``
    (gradient descent on the field, step ``lr``, up to ``steps`` steps, then Newton on the field with its
    finite-difference Jacobian), classified; ``None`` when no zero (field norm > 1e-6) is reached.

    The kind comes from the eigenvalues of the field's Jacobian ``J`` (not symmetric) off the exact symmetries
    (:func:`flat_directions`) and off each live latent's own rescaling ``v_i = (e_i, −d_i)`` (``conserved``): the
    per-event loss of a fixed active set is invariant under it, so the field is orthogonal to ``v_i`` everywhere —
    ``||e_i||² − ||d_i||²`` is conserved by the flow — and at a zero ``v_iᵀ J = 0``, a zero eigenvalue per latent
    that says nothing about stability; the flow stays on the level set of these conserved quantities, so ``J`` is
    read on ``v^⊥`` (its image lies there). ``stable`` when every real part is positive there (the flow returns to
    it), ``unstable`` when one is negative, ``undecided`` otherwise. With its loss, its exact gradient norm (``> 0``:
    not a stationary point of L) and observables."""
    n_q = np.asarray(W_E).shape[0]
    theta = _pack(W_E, W_D)
    for _ in range(steps):
        g = interior_field(h, theta, n_q, lam, k)
        if np.linalg.norm(g) < 1e-7:
            break
        theta = theta - lr * g
    g = interior_field(h, theta, n_q, lam, k)
    for _ in range(newton):
        if np.linalg.norm(g) < tol:
            break
        t_new = theta - np.linalg.lstsq(_field_jacobian(h, theta, n_q, lam, k), g, rcond=1e-10)[0]
        g_new = interior_field(h, t_new, n_q, lam, k)
        if np.linalg.norm(g_new) >= np.linalg.norm(g):
            break
        theta, g = t_new, g_new
    if np.linalg.norm(g) > 1e-6:
        return None
    W_E, W_D = _unpack(theta, n_q, h)
    loss, gE, gD = exact_objective(h, W_E, W_D, lam, activation="topk_relu", k=k)
    obs = observables(h, W_E, W_D, lam, activation="topk_relu", k=k)
    exact, one_sided = flat_directions(h, W_E, W_D, "topk_relu", k)
    cons = []
    for i in np.flatnonzero(_live(h, W_E, "topk_relu", k)):
        dE, dD = np.zeros_like(W_E), np.zeros_like(W_D)
        dE[i], dD[:, i] = W_E[i], -W_D[:, i]
        cons.append(_pack(dE, dD))
    flat = [v for v in exact + one_sided + (cons if conserved else []) if np.linalg.norm(v) > 1e-9]
    if flat:
        U, sv, _ = np.linalg.svd(np.array(flat).T, full_matrices=True)
        comp = U[:, int((sv > 1e-9 * sv.max()).sum()):]
    else:
        comp = np.eye(theta.size)
    ev = np.linalg.eigvals(comp.T @ _field_jacobian(h, theta, n_q, lam, k) @ comp)
    scale = max(1.0, float(np.abs(ev).max()))
    lo = float(ev.real.min())
    kind = "stable" if lo > 1e-6 * scale else ("unstable" if lo < -1e-6 * scale else "undecided")
    return {"W_E": W_E.tolist(), "W_D": W_D.tolist(), "loss": float(loss), "field_norm": float(np.linalg.norm(g)),
            "exact_grad_norm": float(np.sqrt((gE**2).sum() + (gD**2).sum())), "kind": kind,
            "min_real_eigenvalue": lo, **{kk: v for kk, v in obs.items() if kk != "loss"}}


def training_fixed_points(h: Hierarchy, lam: float, k: int, *, gammas=(0.0, 2.0), tilts=(0.0,),
                          absorbed_readings=(0.0, 0.6), merged: bool = True, lr: float = 0.05, steps: int = 4000,
                          newton: int = 20, tol: float = 1e-9, dedupe_tol: float = 1e-4,
                          conserved: bool = True) -> list[dict]:
    """Zeros of :func:`interior_field` reached from the same starts as :func:`stationary_points`
    (:func:`training_field_zero` from each, which classifies them), deduped, sorted by loss. Measured (two
    children, k = 1, λ = 0): every zero found is ``stable`` once the conserved quantities are read off; without
    that (``conserved=False``) every one has a zero eigenvalue (``undecided``)."""
    out = []
    for (W_E, W_D), start in _starts(h, gammas, tilts, absorbed_readings, merged):
        z = training_field_zero(h, W_E, W_D, lam, k, lr=lr, steps=steps, newton=newton, tol=tol, conserved=conserved)
        if z is None:
            continue
        key = np.array([z["loss"], *z["per_child_rate"], *z["per_child_tilt"]])
        if any(np.abs(key - np.array([p["loss"], *p["per_child_rate"], *p["per_child_tilt"]])).max() < dedupe_tol
               for p in out):
            continue
        out.append({**z, "start": start})
    return sorted(out, key=lambda p: p["loss"])
