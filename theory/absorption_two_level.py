"""Two-level hierarchies, exactly: grandparent → parents → children (THEORY.md §7, C7; issue 11).

:mod:`theory.absorption_curve` covers one parent with K children: every event has at most two magnitudes, so
without a bias the active set depends only on their ratio (wedges, closed form). Here a child fires only with its
parent and a parent only with the grandparent, so the deepest event ``x = m_G g + m_P p_i + m_C c_ij`` has three
magnitudes. Its pre-activations ``z = A m_G + B m_P + C m_C`` are homogeneous, so the active set depends on the
direction of ``(m_G, m_P, m_C)``; conditional on ``m_G`` it is the polygon problem of
:mod:`theory.absorption_bias` with the bias ``A m_G`` (:func:`theory.absorption_bias.child_cells`: exact, closed
form in ``(m_P, m_C)``). The outer integral over ``m_G``:

- a **constant** grandparent magnitude: no integral, the objective is exact (closed form);
- ``c_G + Exp(β_G)``: exact 1-d quadrature. The cells' combinatorics change only at the ``m_G`` where a line
  ``z_i = 0`` passes through the support's corner ``(c_P, c_C)`` or where the crossing of two lines (which moves
  along a ray as ``m_G`` grows) crosses an edge of the support; between those breakpoints the integrand is
  analytic, so Gauss–Legendre on breakpoint-aligned pieces (lengths ``β_G/2, β_G/2, β_G, 2β_G, …``; 12 nodes
  each, cut at ``c_G + 40 β_G``, beyond which the law has mass ``e^{-40}``) converges geometrically: relative
  error below 1e-11 against twice the nodes (tested), and the objective agrees with Monte Carlo.

Events (:meth:`TwoLevel.event_features`): the grandparent alone (probability ``p_alone``), the grandparent with one
uniformly chosen parent and no child (``p_parent``), else the grandparent, a uniform parent and one of its children
(uniform). Orthonormal directions (an SAE), ReLU + L1 weighted by decoder norms, no bias:
``L = E ||x − W_D ReLU(W_E x)||² + λ E Σ a_i ||d_i||``. ReLU's per-event loss is continuous where a latent
switches, so the gradient is the expectation of the per-event gradient (no edge terms).

The stationary-point search, its kinks, the Hessian classification and the loss-evaluation check are
:func:`theory.absorption_curve.stationary_points` itself (it dispatches on the hierarchy); the starts are
:func:`two_level_starts`, the observables :func:`observables_two_level` (per child: absorption of its parent and
tilt ``⟨d_child, p⟩``; per parent: absorption of the grandparent and tilt ``⟨d_parent, g⟩``).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from theory.absorption_bias import child_cells
from theory.absorption_curve import _NEGLIGIBLE, Hierarchy, _active, _breaks, _edge, _law, _moment, _wedges
from theory.distribution import MagnitudeLaw, ShiftedExponential
from theory.errors import SDLInputError

_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)


@dataclass(frozen=True, eq=False)
class TwoLevel:
    """A grandparent (feature 0), ``n_parents`` parents (features ``1..n_parents``) and ``n_children`` children
    per parent (parent i's children: features ``n_parents + (i − 1) n_children + 1 …``); see the module docstring."""

    n_parents: int = 1
    n_children: int = 2
    grandparent_law: MagnitudeLaw = field(default_factory=lambda: ShiftedExponential(1.0, 1.0))
    parent_law: MagnitudeLaw = field(default_factory=lambda: ShiftedExponential(1.0, 1.0))
    child_law: MagnitudeLaw = field(default_factory=lambda: ShiftedExponential(1.0, 1.0))
    p_alone: float = 0.2
    p_parent: float = 0.2

    levels = 2

    def __post_init__(self):
        for name in ("n_parents", "n_children"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise SDLInputError(f"{name} must be a positive integer, got {v!r}")
        if not (0 <= self.p_alone and 0 <= self.p_parent and self.p_alone + self.p_parent < 1):
            raise SDLInputError(f"p_alone, p_parent must be >= 0 with p_alone + p_parent < 1, got "
                                f"{self.p_alone}, {self.p_parent}")
        for m in (self.grandparent_law, self.parent_law, self.child_law):
            _law(m)
        object.__setattr__(self, "W_p", np.eye(self.n_features))
        object.__setattr__(self, "W_r", self.W_p)

    @property
    def n_features(self) -> int:
        return 1 + self.n_parents * (1 + self.n_children)

    n_p = n_r = property(lambda self: self.n_features)
    is_sae = True

    def parents(self) -> list[int]:
        return list(range(1, self.n_parents + 1))

    def children_of(self, i: int) -> list[int]:
        start = self.n_parents + (i - 1) * self.n_children + 1
        return list(range(start, start + self.n_children))

    def children(self) -> list[int]:
        return [c for i in self.parents() for c in self.children_of(i)]

    def parent_of(self, c: int) -> int:
        return 1 + (c - self.n_parents - 1) // self.n_children

    def event_features(self) -> list[tuple[float, tuple]]:
        """``(probability, features on)`` per event type: the grandparent alone, grandparent + parent i, then
        grandparent + parent i + child c (a zero-probability type is left out)."""
        a, b = self.n_parents, self.n_children
        out = [(self.p_alone, (0,))] if self.p_alone > 0 else []
        out += [(self.p_parent / a, (0, i)) for i in self.parents()] if self.p_parent > 0 else []
        q = (1 - self.p_alone - self.p_parent) / (a * b)
        return out + [(q, (0, i, c)) for i in self.parents() for c in self.children_of(i)]

    def events(self):
        return [(p, self.W_p[:, list(f)], self.W_r[:, list(f)]) for p, f in self.event_features()]

    def laws(self) -> tuple:
        return self.grandparent_law, self.parent_law, self.child_law

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` events as feature activations (``n × n_features``), by the event probabilities (Monte Carlo)."""
        types = self.event_features()
        idx = rng.choice(len(types), size=n, p=np.array([p for p, _ in types]) / sum(p for p, _ in types))
        x = np.zeros((n, self.n_features))
        for t, (_, feats) in enumerate(types):
            rows = np.flatnonzero(idx == t)
            for level, f in enumerate(feats):
                x[rows, f] = self.laws()[level].sample(rng, rows.size)
        return x

    def to_json(self) -> dict:
        return {"levels": 2, "n_parents": int(self.n_parents), "n_children": int(self.n_children),
                "grandparent_law": self.grandparent_law.to_json(), "parent_law": self.parent_law.to_json(),
                "child_law": self.child_law.to_json(), "p_alone": float(self.p_alone),
                "p_parent": float(self.p_parent)}


# ------------------------------------------------------------------------------------ the deepest event's cells
def _g_breaks(Z: np.ndarray, cP: float, cC: float) -> list[float]:
    """Grandparent magnitudes where the (m_P, m_C) cells of ``z = Z · (m_G, m_P, m_C)`` change combinatorics: a line
    through the support's corner, or the crossing of two lines (``m_G`` times a fixed point) on an edge."""
    A, B, C = Z[:, 0], Z[:, 1], Z[:, 2]
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        out += list(-(B * cP + C * cC) / A)
        for i, j in itertools.combinations(range(len(A)), 2):
            det = B[i] * C[j] - B[j] * C[i]
            if det != 0:
                x = (-A[i] * C[j] + A[j] * C[i]) / det  # the crossing at m_G = 1
                y = (-B[i] * A[j] + B[j] * A[i]) / det
                if x > 0 and y * cP >= cC * x:  # crosses m_P = c_P above the lower edge
                    out.append(cP / x)
                if y > 0 and x * cC >= cP * y:  # crosses m_C = c_C right of the left edge
                    out.append(cC / y)
    return sorted({float(g) for g in out if np.isfinite(g) and g > 0})


def _g_nodes(Z: np.ndarray, laws, n_nodes: int = 12, first: float = 0.5) -> list[tuple[float, float]]:
    """``(m_G, weight)``: the quadrature of ``E_{m_G}[·]`` (see the module docstring); one node for a constant.
    The pieces: the grid ``c_G + β_G (0, first, 2 first, 4 first, …)`` up to ``c_G + 40 β_G`` merged with the
    breakpoints (:func:`_g_breaks`), ``n_nodes``-point Gauss–Legendre on each."""
    (cG, bG), (cP, _), (cC, _) = (_law(m) for m in laws)
    if bG == 0:
        return [(cG, 1.0)]
    top = cG + 40.0 * bG
    grid, t = [cG, top], first
    while t < 40.0:
        grid.append(cG + t * bG)
        t *= 2
    cuts = sorted(set(grid) | {g for g in _g_breaks(Z, cP, cC) if cG < g < top})
    x, w = (_GL_X, _GL_W) if n_nodes == 12 else np.polynomial.legendre.leggauss(n_nodes)
    nodes = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        half, mid = 0.5 * (b - a), 0.5 * (a + b)
        g = mid + half * x
        nodes += list(zip(g.tolist(), (half * w * np.exp(-(g - cG) / bG) / bG).tolist()))
    return nodes


def _deep_cells(h: TwoLevel, Z: np.ndarray, extra: np.ndarray | None = None) -> dict:
    """``{active pattern: (P, μ, M)}`` of the three-magnitude event with pre-activations ``Z · (m_G, m_P, m_C)``
    (``Z``: rows × 3), ``μ = E[m 1]``, ``M = E[m mᵀ 1]`` over ``m = (m_G, m_P, m_C)``, grouped by the sign pattern
    of the rows (``extra`` rows, if given, join the pattern: the observables' "contributes" lines)."""
    rows = np.array(Z if extra is None else np.vstack([Z, extra]), dtype=float)
    # a reading 1e-12 times below the row's largest is 0: a line of slope ~1e40 in the (m_P, m_C) plane would
    # overflow the cells' closed forms, and the objective moves by less than rounding
    rows[np.abs(rows) <= 1e-12 * np.abs(rows).max(axis=1, keepdims=True)] = 0.0
    inner = Hierarchy(1, h.parent_law, h.child_law, 0.0)  # child_cells reads only these two laws
    acc: dict = {}
    for g, w in _g_nodes(rows, h.laws()):
        for P, mu2, M2, S in child_cells(inner, rows[:, 1:], rows[:, 0] * g):
            if P <= 0:
                continue
            mu = np.array([g * P, *mu2])
            M = np.empty((3, 3))
            M[0, 0] = g * g * P
            M[0, 1:] = M[1:, 0] = g * mu2
            M[1:, 1:] = M2
            key = S.tobytes()
            if key in acc:
                p0, m0, M0, _ = acc[key]
                acc[key] = (p0 + w * P, m0 + w * mu, M0 + w * M, S)
            else:
                acc[key] = (w * P, w * mu, w * M, S)
    return acc


def _event_pieces(h: TwoLevel, feats: tuple, Z: np.ndarray):
    """``[(P, μ, M, S)]`` of one event type: its pieces of constant active set (``S``) with probability, first and
    second moments of the magnitudes of ``feats`` (``Z = W_E[:, feats]``)."""
    laws = h.laws()
    if len(feats) == 1:
        cG, bG = _law(laws[0])
        return [(1.0, np.array([_moment(cG, bG, 1)]), np.array([[_moment(cG, bG, 2)]]), Z[:, 0] > 0)]
    if len(feats) == 2:
        G_, P_ = _law(laws[0]), _law(laws[1])
        out = []
        for lo, hi, mid in _wedges(_breaks(Z[:, 0], Z[:, 1], "relu")):
            H = [x - y for x, y in zip(_edge(G_, P_, float(lo)), _edge(G_, P_, float(hi)))]
            out.append((H[0], np.array([H[1], H[2]]), np.array([[H[3], H[4]], [H[4], H[5]]]),
                        _active(Z[:, 0] + mid * Z[:, 1], "relu", None)))
        return out
    return list(_deep_cells(h, Z).values())


def exact_objective_two_level(h: TwoLevel, W_E, W_D, lam: float, *, gradient: bool = True):
    """``(loss, g_E, g_D)`` of the two-level hierarchy (``None`` gradients when ``gradient=False``): ReLU + L1, no
    bias, exact (closed form per piece; the 1-d quadrature over ``m_G`` when the grandparent's magnitude varies)."""
    W_E, W_D = np.asarray(W_E, dtype=float), np.asarray(W_D, dtype=float)
    n = h.n_features
    if W_E.ndim != 2 or W_E.shape[1] != n or W_D.shape != (n, W_E.shape[0]):
        raise SDLInputError(f"W_E must be n_q × {n} and W_D {n} × n_q, got shapes {W_E.shape}, {W_D.shape}")
    if lam < 0:
        raise SDLInputError(f"λ must be >= 0, got {lam}")
    norms = np.linalg.norm(W_D, axis=0)
    unit = W_D / np.where(norms > 0, norms, 1.0)
    loss, gE, gD = 0.0, np.zeros_like(W_E), np.zeros_like(W_D)
    for prob, feats in h.event_features():
        Xin = h.W_p[:, list(feats)]
        Z = W_E @ Xin
        for P, mu, M, S in _event_pieces(h, feats, Z):
            if P <= 0:
                continue
            ZS, DS = Z[S], W_D[:, S]
            R = Xin - DS @ ZS
            loss += prob * (float(np.trace(R @ M @ R.T)) + lam * float(norms[S] @ (ZS @ mu)))
            if gradient:
                gD[:, S] += prob * (-2 * R @ M @ ZS.T + lam * unit[:, S] * (ZS @ mu)[None, :])
                gE[S] += prob * (-2 * DS.T @ R @ M + lam * np.outer(norms[S], mu)) @ Xin.T
    return (loss, gE, gD) if gradient else (loss, None, None)


# ------------------------------------------------------------------------------------ observables
def active_on_event(h: TwoLevel, W_E, feats: tuple) -> np.ndarray:
    """Latents active on a part of probability above ``1e-12`` of the event type ``feats`` (the one-level
    hierarchy's rule, :data:`theory.absorption_curve._NEGLIGIBLE`). The pre-activation ``z = Σ_l Z_l m_l`` is linear:
    positive at the support's corner ``m_l = c_l``, or else reached only in the magnitudes' exponential tails, where
    ``Pr(z > 0) <= Pr(Σ_{Z_l > 0} Z_l E_l > −z_corner) <= Σ_l exp(−(−z_corner) / (n Z_l β_l))`` over the ``n`` rising
    terms (``E_l ~ Exp(β_l)``; a term with a negative reading only lowers z). A latent whose reading of a varying
    magnitude is barely positive (an exp(−60) tail) is dead, as it is for every purpose of the loss."""
    Z = np.asarray(W_E, dtype=float) @ h.W_p[:, list(feats)]
    laws = [_law(m) for m in h.laws()[:len(feats)]]
    corner = Z @ np.array([c for c, _ in laws])
    rate = np.array([[Z[i, lv] * b if b > 0 and Z[i, lv] > 0 else 0.0 for lv, (_, b) in enumerate(laws)]
                     for i in range(Z.shape[0])])  # scale of each rising exponential term
    n = (rate > 0).sum(axis=1)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        tail = np.where(rate > 0, np.exp(corner[:, None] / (np.maximum(n, 1)[:, None] * rate)), 0.0).sum(axis=1)
    return (corner > 0) | (tail > _NEGLIGIBLE)


def observables_two_level(h: TwoLevel, W_E, W_D, lam: float, *, off_fraction: float = 0.1, pure_cos: float = 0.9,
                          parent_cos: float = 0.3) -> dict:
    """The absorption study's observables, exactly, one level at a time. Per child c of parent i: on its events,
    *absorbed* when no contributing latent (``a_k ||d_k|| > off_fraction · m_P``) is a pure parent-i latent (decoder
    cosine with ``p_i`` above ``pure_cos``) while a contributing latent mixes ``p_i`` and ``c`` (both above
    ``parent_cos``); its tilt is the ``p_i`` cosine of the decoder that best matches ``c`` among the latents active
    on its events. Per parent i the same one level up, on the grandparent + parent i events (contributions relative
    to ``m_G``). ``parent_gain``: the grandparent's, as :func:`theory.absorption_curve.observables` defines it."""
    W_E, W_D = np.asarray(W_E, dtype=float), np.asarray(W_D, dtype=float)
    norms = np.linalg.norm(W_D, axis=0)
    dec = (W_D / np.where(norms > 0, norms, 1.0)).T  # n_q × n_features (orthonormal directions)
    G_, P_ = _law(h.grandparent_law), _law(h.parent_law)
    child_rate, child_tilt, parent_rate, parent_tilt = [], [], [], []
    for i in h.parents():
        Z = W_E @ h.W_p[:, [0, i]]
        pure, mix = dec[:, 0] > pure_cos, (dec[:, 0] > parent_cos) & (dec[:, i] > parent_cos)
        contrib = Z * norms[:, None] - np.array([off_fraction, 0.0])  # a_k ||d_k|| − f m_G
        extra = [float(r) for r in -contrib[:, 0] / np.where(contrib[:, 1] != 0, contrib[:, 1], np.nan)
                 if np.isfinite(r) and r > 0]
        total = absorbed = 0.0
        for lo, hi, mid in _wedges(_breaks(Z[:, 0], Z[:, 1], "relu", extra=extra)):
            P = _edge(G_, P_, float(lo))[0] - _edge(G_, P_, float(hi))[0]
            z = Z[:, 0] + mid * Z[:, 1]
            c = (z > 0) & (z * norms > off_fraction)
            total += P
            if not (c & pure).any() and (c & mix).any():
                absorbed += P
        parent_rate.append(absorbed / total)
        on = active_on_event(h, W_E, (0, i))
        parent_tilt.append(float(dec[int(np.argmax(np.where(on, dec[:, i], -np.inf))), 0]) if on.any() else np.nan)
        for c_ in h.children_of(i):
            Z3 = W_E @ h.W_p[:, [0, i, c_]]
            extra3 = Z3 * norms[:, None] - np.array([0.0, off_fraction, 0.0])  # a_k ||d_k|| − f m_P
            pure_i, mix_c = dec[:, i] > pure_cos, (dec[:, i] > parent_cos) & (dec[:, c_] > parent_cos)
            total = absorbed = 0.0
            n_q = W_E.shape[0]
            for P, _, _, S in _deep_cells(h, Z3, extra3).values():
                act, big = S[:n_q], S[n_q:]
                cc = act & big
                total += P
                if not (cc & pure_i).any() and (cc & mix_c).any():
                    absorbed += P
            child_rate.append(absorbed / total)
            on = active_on_event(h, W_E, (0, i, c_))
            child_tilt.append(float(dec[int(np.argmax(np.where(on, dec[:, c_], -np.inf))), i]) if on.any() else np.nan)
    zG = W_E[:, 0]
    SG = zG > 0
    iG = int(np.argmax(np.where(SG, dec[:, 0], -np.inf))) if SG.any() else None
    gain = float(zG[iG] * W_D[0, iG]) if iG is not None else 0.0
    loss = exact_objective_two_level(h, W_E, W_D, lam, gradient=False)[0]
    return {"absorption_rate": float(np.mean(child_rate)), "per_child_rate": child_rate,
            "tilt": float(np.mean(child_tilt)), "per_child_tilt": child_tilt,
            "per_parent_rate": parent_rate, "per_parent_tilt": parent_tilt, "parent_gain": gain, "loss": float(loss)}


# ------------------------------------------------------------------------------------ starts
_STATES = {"clean": 0.0, "partial": 2.0, "absorbed": 5.0}


def two_level_start(h: TwoLevel, parent_state: str, child_state: str, tilt: float = 0.3):
    """A member of the partially absorbed family one level at a time: each ancestor latent reads its own feature
    minus ``γ`` times each descendant's one level down (``γ`` = 0, 2, 5 for ``clean``, ``partial``, ``absorbed``),
    each latent reads its own feature; a partially absorbed latent's decoder tilts ``tilt`` towards its ancestor,
    an absorbed one decodes ``κ ancestor + own`` (``κ = μ1 μ1' / μ2'``, the regression of the event on its
    magnitude)."""
    from theory.shrinkage import magnitude_moments

    if parent_state not in _STATES or child_state not in _STATES:
        raise SDLInputError(f"states must be among {tuple(_STATES)}, got {parent_state!r}, {child_state!r}")
    n = h.n_features
    W_E, W_D = np.eye(n), np.eye(n)

    def kappa(up, down):
        (m1u, _, _), (m1d, m2d, _) = magnitude_moments(up), magnitude_moments(down)
        return m1u * m1d / m2d

    for i in h.parents():
        W_E[0, i] = -_STATES[parent_state]
        if parent_state != "clean":
            W_D[0, i] = tilt if parent_state == "partial" else kappa(h.grandparent_law, h.parent_law)
        for c in h.children_of(i):
            W_E[i, c] = -_STATES[child_state]
            if child_state != "clean":
                W_D[i, c] = tilt if child_state == "partial" else kappa(h.parent_law, h.child_law)
    return W_E, W_D


def two_level_starts(h: TwoLevel, n_random: int = 0, seed: int = 0) -> list:
    """``[((W_E, W_D), description)]``: :func:`two_level_start` for every pair of (parent level, child level)
    states, and ``n_random`` seeded Gaussian starts (:func:`theory.absorption_curve.random_start`)."""
    from theory.absorption_curve import random_start

    starts = [(two_level_start(h, ps, cs), {"parent_state": ps, "child_state": cs})
              for ps in _STATES for cs in _STATES]
    rng = np.random.default_rng(seed)
    starts += [(random_start(h, rng, h.n_features), {"random_start": i, "seed": int(seed)}) for i in range(n_random)]
    return starts


def family_system_two_level(n_children: int = 1):
    """The stationarity system of the two-level partially absorbed family, symbolically (``sdl-theory derive
    --absorption K --two-level``): grandparent g → one parent p → K children c_j, orthonormal SAE, ReLU + L1, no bias.

    Grandparent latent: encoder ``a (g − γ p)``, decoder ``u g + w p + Σ y_j c_j``; parent latent: encoder
    ``e (p − Σ δ_j c_j)``, decoder ``s g + r p + Σ q_j c_j``; child latent j: encoder ``b_j c_j``, decoder
    ``t_j g + o_j p + v_j c_j``. The grandparent latent fires iff ``m_P < m_G / γ``, the parent latent (on child-j
    events) iff ``m_C < m_P / δ_j``, on the grandparent alone only the grandparent latent fires (the parent
    latent's pre-activation is 0 there: the family sits on that kink). Region moments enter as functions:
    ``W_ab(ρ) = E[m_G^a m_P^b 1{m_P < ρ m_G}]``, ``V_bc(ρ) = E[m_P^b m_C^c 1{m_C < ρ m_P}]`` and
    ``D_abc(ρ_1, ρ_2) = E[m_G^a m_P^b m_C^c 1{m_P < ρ_1 m_G, m_C < ρ_2 m_P}]`` (``a + b + c = 1, 2``), the other
    regions by inclusion–exclusion (closed forms: :func:`theory.absorption_curve.ratio_tail_moment` and the
    polygon cells of :func:`_deep_cells`). Returns ``(loss, {parameter: ∂loss/∂parameter}, symbols)``; the moments'
    own derivatives are dropped (the per-event loss is continuous where a latent switches)."""
    import sympy as sp

    K = int(n_children)
    lam, pa, pp = sp.symbols("lambda p_alone p_parent", nonnegative=True)
    a, u, w, gam, e, s, r = sp.symbols("a u w gamma e s r", real=True)
    y = sp.symbols(f"y_1:{K + 1}", real=True)
    q = sp.symbols(f"q_1:{K + 1}", real=True)
    dl = sp.symbols(f"delta_1:{K + 1}", positive=True)
    b = sp.symbols(f"b_1:{K + 1}", positive=True)
    t = sp.symbols(f"t_1:{K + 1}", real=True)
    o = sp.symbols(f"o_1:{K + 1}", real=True)
    v = sp.symbols(f"v_1:{K + 1}", real=True)
    mom = {lvl: {1: sp.Symbol(f"mu1_{lvl}", positive=True), 2: sp.Symbol(f"mu2_{lvl}", positive=True), 0: 1}
           for lvl in "GPC"}
    pairs = ((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2))
    Wf = {ab: sp.Function(f"W_{ab[0]}{ab[1]}") for ab in pairs}
    Vf = {bc: sp.Function(f"V_{bc[0]}{bc[1]}") for bc in pairs}
    idx3 = [al for al in itertools.product(range(3), repeat=3) if 1 <= sum(al) <= 2]
    Df = {al: sp.Function(f"D_{al[0]}{al[1]}{al[2]}") for al in idx3}
    rho1 = 1 / gam
    nG = sp.sqrt(u**2 + w**2 + sum(x**2 for x in y))
    nP = sp.sqrt(s**2 + r**2 + sum(x**2 for x in q))

    def quad3(forms, Mo):
        """``E[Σ (α · m)² 1_R]``, ``m = (m_G, m_P, m_C)``, from the region's moments ``Mo[(a, b, c)]``."""
        unit = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
        return sum(f[i] * f[k] * Mo[tuple(x + z for x, z in zip(unit[i], unit[k]))]
                   for f in forms for i in range(3) for k in range(3))

    # grandparent alone: x = m_G g, the grandparent latent outputs a m_G
    loss = pa * (mom["G"][2] * ((1 - a * u) ** 2 + (a * w) ** 2 + sum((a * x) ** 2 for x in y)) + lam * a * nG * mom["G"][1])
    # grandparent + parent: G on where m_P < m_G/γ (output a (m_G − γ m_P)), P always (output e m_P)
    full2 = {(2, 0): mom["G"][2], (1, 1): mom["G"][1] * mom["P"][1], (0, 2): mom["P"][2], (1, 0): mom["G"][1],
             (0, 1): mom["P"][1]}
    on = {ab: Wf[ab](rho1) for ab in full2}
    off = {ab: full2[ab] - on[ab] for ab in full2}
    for Mo, g_on in ((on, 1), (off, 0)):
        zG = (g_on * a, -g_on * a * gam)   # (m_G, m_P) coefficients
        zP = (0, e)
        forms = [(1 - zG[0] * u - zP[0] * s, -zG[1] * u - zP[1] * s),
                 (-zG[0] * w - zP[0] * r, 1 - zG[1] * w - zP[1] * r)]
        forms += [(-zG[0] * y[j] - zP[0] * q[j], -zG[1] * y[j] - zP[1] * q[j]) for j in range(K)]
        ev = sum(f[0] ** 2 * Mo[2, 0] + 2 * f[0] * f[1] * Mo[1, 1] + f[1] ** 2 * Mo[0, 2] for f in forms)
        ev += lam * (nG * (zG[0] * Mo[1, 0] + zG[1] * Mo[0, 1]) + nP * (zP[0] * Mo[1, 0] + zP[1] * Mo[0, 1]))
        loss += pp * ev
    # grandparent + parent + child j: four regions (G on/off × P on/off), child j always on
    def full3(al):
        return mom["G"][al[0]] * mom["P"][al[1]] * mom["C"][al[2]]

    for j in range(K):
        rho2 = 1 / dl[j]
        D = {al: Df[al](rho1, rho2) for al in idx3}
        Gon = {al: Wf[al[:2]](rho1) * mom["C"][al[2]] for al in idx3}   # G on (m_C independent)
        Pon = {al: Vf[al[1:]](rho2) * mom["G"][al[0]] for al in idx3}   # P on (m_G independent)
        regions = {(1, 1): D, (1, 0): {al: Gon[al] - D[al] for al in idx3},
                   (0, 1): {al: Pon[al] - D[al] for al in idx3},
                   (0, 0): {al: full3(al) - Gon[al] - Pon[al] + D[al] for al in idx3}}
        nC = sp.sqrt(t[j] ** 2 + o[j] ** 2 + v[j] ** 2)
        ev = 0
        for (g_on, p_on), Mo in regions.items():
            zG = (g_on * a, -g_on * a * gam, 0)
            zP = (0, p_on * e, -p_on * e * dl[j])
            zC = (0, 0, b[j])
            forms = [[(1 if c == 0 else 0) - zG[c] * u - zP[c] * s - zC[c] * t[j] for c in range(3)],
                     [(1 if c == 1 else 0) - zG[c] * w - zP[c] * r - zC[c] * o[j] for c in range(3)],
                     [(1 if c == 2 else 0) - zG[c] * y[j] - zP[c] * q[j] - zC[c] * v[j] for c in range(3)]]
            forms += [[-zG[c] * y[k] - zP[c] * q[k] for c in range(3)] for k in range(K) if k != j]
            ev += quad3(forms, Mo)
            first = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
            ev += lam * sum(n_ * sum(z[c] * Mo[first[c]] for c in range(3))
                            for n_, z in ((nG, zG), (nP, zP), (nC, zC)))
        loss += (1 - pa - pp) / K * ev
    from theory.absorption_curve import stationarity

    grads = stationarity(loss, [a, gam, u, w, *y, e, *dl, s, r, *q, *b, *t, *o, *v])
    syms = dict(lam=lam, p_alone=pa, p_parent=pp, a=a, gamma=gam, u=u, w=w, y=y, e=e, delta=dl, s=s, r=r, q=q, b=b,
                t=t, o=o, v=v, mu=mom, W=Wf, V=Vf, D=Df)
    return loss, grads, syms
