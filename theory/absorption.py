"""Feature absorption in closed form: clean vs absorbed configurations, and their thresholds (THEORY.md §7, C7).

Model (each assumption is a predicate in :func:`assumptions`):

- a parent direction ``p`` and children ``c_1..c_K``, **orthonormal** (SAE: ``W_r = W_p``);
- **single-child events**: a child event is ``x = m_P p + m_C c_j`` (the parent is on whenever a
  child is, THEORY.md §7), at most one family/child at a time (the extreme-sparsity regime of
  section 3); the parent may also fire alone (the bench does), which costs the same in both
  configurations below and cancels;
- magnitudes ``m_P``, ``m_C`` independent with moments ``μ1P = E m_P``, ``μ2P = E m_P²`` (same for C);
- ReLU + L1 on the unnormalised squared error, L1 weighted by decoder norms (so decoders are unit
  w.l.o.g.), no encoder bias.

Configurations, compared on the child-``j`` events only (they agree on every other event):

- **clean**: the parent latent reads ``p`` and decodes ``p``; child latent ``j`` reads ``c_j`` and decodes
  ``c_j``; each with its optimal shrinkage (:mod:`theory.shrinkage`). Loss per event
  ``f(λ; μ1P, μ2P) + f(λ; μ1C, μ2C)`` with ``f = λ μ1 − λ² μ1² / (4 μ2)``.
- **absorbed**: the parent latent is off on child-``j`` events (possible: see
  :func:`parent_switch_off`), child latent ``j`` reads ``c_j`` only (reading ``p`` positively would make
  it fire on every parent event) and decodes a vector ``v ∈ span(p, c_j)``:
  ``E||m_P p + m_C c_j − m_C v||² + λ μ1C ||v||``. Its minimiser lies along
  ``w = (μ1P μ1C / μ2C) p + c_j`` — the regression of the event on ``m_C`` — shrunk by ``λ μ1C/(2 μ2C)``.

Firing probabilities enter only as the common factor ``π_j`` (the probability of a child-``j`` event), so in
the single-event regime they cancel from the threshold; they matter through the regime predicate (how often
two families co-occur, ``p_multi`` in :func:`assumptions`). Geometry enters through the orthonormality
predicate: with ``<p, c_j> ≠ 0`` the parent latent's shrinkage couples across events and these closed forms
do not apply (reported as an unmet assumption, not approximated).

The threshold ``λ*`` solves ``clean(λ) = absorbed(λ)``; sympy gives the two roots of a quadratic.
With constant magnitudes the absorbed latent reconstructs exactly and saves L1 (``||x|| < m_P + m_C``),
so ``λ* = 0``: **absorption beats the clean dictionary for every λ > 0** in the approximate objective
evaluated at unit magnitudes (L̃). Only magnitude variation (the absorbed latent cannot track ``m_P``
independently of ``m_C``) makes ``λ*`` positive.

TopK (no penalty): a child event has 2 active features, so the exact budget threshold is
``k* = 2`` (in general the largest number of features active in one event: 1 + the depth of the
hierarchy). For ``k >= k*`` the clean dictionary has zero loss and the absorbed one loses
``μ2P − μ1P² μ1C² / μ2C`` (zero iff ``m_P`` is a deterministic multiple of ``m_C``: then the two tie and
nothing decides); for ``k < k*`` the clean dictionary keeps only the larger of the two codes.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from theory.distribution import Constant, MagnitudeLaw, ShiftedExponential
from theory.errors import SDLInputError
from theory.shrinkage import derive as derive_shrinkage
from theory.shrinkage import magnitude_moments

ORTHO_TOL = 1e-6


@dataclass(frozen=True)
class AbsorptionDerivation:
    symbols: dict
    clean_loss: sp.Expr            # per child event
    absorbed_objective: sp.Expr    # in (v_p, v_c), before minimisation
    absorbed_loss: sp.Expr         # minimised
    absorbed_decoder: tuple        # (v_p*, v_c*)
    gap: sp.Expr                   # clean − absorbed (> 0: absorption is the better optimum)
    thresholds: tuple              # roots of gap = 0 in λ
    topk_absorbed_error: sp.Expr   # absorbed loss with λ = 0

    def to_json(self) -> dict:
        out = {}
        for k, v in self.__dict__.items():
            if k == "symbols":
                continue
            out[k] = [str(e) for e in v] if isinstance(v, tuple) else str(v)
        return out


@lru_cache(maxsize=1)
def derive() -> AbsorptionDerivation:
    sh = derive_shrinkage()
    lam = sh.symbols["lam"]
    mu1P, mu2P, mu1C, mu2C = sp.symbols("mu1_P mu2_P mu1_C mu2_C", positive=True)
    vp, vc = sp.symbols("v_p v_c", real=True)
    r = sp.Symbol("r", nonnegative=True)

    def f(mu1, mu2):
        return sh.min_loss_no_bias.subs({sh.symbols["mu1"]: mu1, sh.symbols["mu2"]: mu2}, simultaneous=True)

    clean = sp.expand(f(mu1P, mu2P) + f(mu1C, mu2C))
    # E||m_P p + m_C c − m_C v||² with p ⟂ c unit, independent magnitudes, + λ E[m_C] ||v||
    quad = mu2P - 2 * mu1P * mu1C * vp + mu2C * vp**2 + mu2C * (1 - vc) ** 2
    objective = quad + lam * mu1C * sp.sqrt(vp**2 + vc**2)
    # quad = μ2C ||v − w||² + const with w = (κ, 1), κ = μ1P μ1C / μ2C (the regression of the event on m_C),
    # so the minimiser lies along w: v = r w/||w||, ||v|| = r
    kappa = mu1P * mu1C / mu2C
    W = sp.sqrt(kappa**2 + 1)
    completed = sp.simplify(sp.expand(quad - mu2C * ((vp - kappa) ** 2 + (vc - 1) ** 2)))
    assert not completed.free_symbols & {vp, vc}, completed  # the square really completes
    along = sp.expand(quad.subs({vp: r * kappa / W, vc: r / W}) + lam * mu1C * r)
    r_star = sp.solve(sp.diff(along, r), r)[0]
    absorbed = sp.simplify(along.subs(r, r_star))
    v_star = (sp.simplify(r_star * kappa / W), sp.simplify(r_star / W))
    gap = sp.simplify(sp.expand(clean - absorbed))
    poly = sp.Poly(gap, lam)  # quadratic in λ
    roots = tuple(sp.simplify(x) for x in sp.solve(poly.as_expr(), lam))
    topk_err = sp.simplify(absorbed.subs(lam, 0))
    syms = dict(lam=lam, mu1P=mu1P, mu2P=mu2P, mu1C=mu1C, mu2C=mu2C, v_p=vp, v_c=vc, r=r)
    return AbsorptionDerivation(syms, clean, objective, absorbed, v_star, gap, roots, topk_err)


@lru_cache(maxsize=1)
def _functions():
    dv = derive()
    s = dv.symbols
    args = (s["lam"], s["mu1P"], s["mu2P"], s["mu1C"], s["mu2C"])
    fns = {"clean": dv.clean_loss, "absorbed": dv.absorbed_loss, "gap": dv.gap,
           "v_p": dv.absorbed_decoder[0], "v_c": dv.absorbed_decoder[1], "topk_err": dv.topk_absorbed_error}
    out = {k: sp.lambdify(args, v, "numpy") for k, v in fns.items()}
    out["roots"] = [sp.lambdify(args[1:], root, "numpy") for root in dv.thresholds]
    out["objective"] = sp.lambdify((s["v_p"], s["v_c"]) + args, dv.absorbed_objective, "numpy")
    return out


# ------------------------------------------------------------------------------------------- L1
@dataclass(frozen=True)
class AbsorptionPrediction:
    lam: float
    clean_loss: float        # per child-j event
    absorbed_loss: float
    absorbed_decoder: tuple  # (along p, along c_j) of the absorbing latent's decoder (code = m_C)
    absorbed: bool           # absorbed strictly better
    threshold: float         # λ*: absorbed better for λ in (λ*, λ_max)
    valid_up_to: float       # λ_max: beyond it a latent switches off and the formulas no longer apply
    unmet: tuple[str, ...]

    def to_json(self) -> dict:
        return dict(self.__dict__, absorbed_decoder=list(self.absorbed_decoder), unmet=list(self.unmet))


def validity_limit(parent: MagnitudeLaw, child: MagnitudeLaw) -> float:
    """Largest λ where every latent of both configurations stays on: ``λ μ1 <= 2 μ2`` (each clean latent)
    and ``λ μ1C <= 2 μ2C ||w||`` (the absorbing latent)."""
    (m1P, m2P, _), (m1C, m2C, _) = magnitude_moments(parent), magnitude_moments(child)
    W = np.hypot(m1P * m1C / m2C, 1.0)
    return float(min(2 * m2P / m1P, 2 * m2C / m1C, 2 * m2C * W / m1C))


def l1_threshold(parent: MagnitudeLaw, child: MagnitudeLaw) -> float:
    """``λ*``: the smallest λ >= 0 from which absorption is the better configuration (within validity).

    ``nan`` if absorption never wins below the validity limit."""
    (m1P, m2P, _), (m1C, m2C, _) = magnitude_moments(parent), magnitude_moments(child)
    f = _functions()
    lim = validity_limit(parent, child)
    gap = lambda lam: float(f["gap"](lam, m1P, m2P, m1C, m2C))  # noqa: E731
    if gap(1e-12 * lim) > 0 or np.isclose(m2P * m2C, (m1P * m1C) ** 2, rtol=1e-12, atol=0):
        return 0.0  # constant magnitudes: absorbed wins from λ = 0+
    with np.errstate(invalid="ignore"):  # complex roots come out as nan from the real sqrt
        vals = [float(fn(m1P, m2P, m1C, m2C)) for fn in f["roots"]]
    roots = [v for v in vals if np.isfinite(v) and 0 <= v <= lim]
    return float(min(roots)) if roots else float("nan")


def assumptions(W_p=None, parent: int = 0, children=(1,), W_r=None, p_multi: float | None = None,
                tol: float = 0.05, unit_norm_decoder: bool = False,
                l1_weighted_by_decoder_norm: bool = True) -> list[str]:
    """Unmet assumptions of the derivation (empty = all hold): orthonormal parent/child directions, an SAE,
    rare co-occurrence of families, and an L1 term that decoder scaling cannot remove."""
    out = []
    if not (unit_norm_decoder or l1_weighted_by_decoder_norm):
        out.append("L1 on the codes with a free decoder norm: the penalty can be scaled away (a → a/c, d → c·d)")
    if W_p is not None:
        W_p = np.asarray(W_p, dtype=float)
        cols = [parent, *children]
        G = W_p[:, cols].T @ W_p[:, cols]
        err = float(np.abs(G - np.eye(len(cols))).max())
        if err > ORTHO_TOL:
            out.append(f"parent/child directions are not orthonormal (max |Gram − I| = {err:.3g})")
        if W_r is not None and not np.array_equal(np.asarray(W_r, dtype=float), W_p):
            out.append("not an SAE (W_r ≠ W_p): the derivation reconstructs the input")
    if p_multi is not None and p_multi > tol:
        out.append(f"events with two or more children/families are not rare: {p_multi:.3g} > {tol}")
    return out


def predict_l1(lam: float, parent: MagnitudeLaw, child: MagnitudeLaw, **assumption_kw) -> AbsorptionPrediction:
    """Clean and absorbed losses per child event at L1 coefficient ``λ`` (unnormalised squared error)."""
    if lam < 0:
        raise SDLInputError(f"the L1 coefficient λ must be >= 0, got {lam}")
    (m1P, m2P, _), (m1C, m2C, _) = magnitude_moments(parent), magnitude_moments(child)
    f = _functions()
    lim = validity_limit(parent, child)
    unmet = list(assumptions(**assumption_kw))
    if lam > lim:
        unmet.append(f"λ = {lam:.3g} beyond the validity limit {lim:.3g}: a latent switches off")
    clean = float(f["clean"](lam, m1P, m2P, m1C, m2C))
    absorbed = float(f["absorbed"](lam, m1P, m2P, m1C, m2C))
    v = (float(f["v_p"](lam, m1P, m2P, m1C, m2C)), float(f["v_c"](lam, m1P, m2P, m1C, m2C)))
    return AbsorptionPrediction(float(lam), clean, absorbed, v, absorbed < clean, l1_threshold(parent, child),
                                lim, tuple(unmet))


def absorbed_objective(v_p: float, v_c: float, lam: float, parent: MagnitudeLaw, child: MagnitudeLaw) -> float:
    """The absorbed configuration's per-event loss at a given decoder (for direct numerical minimisation)."""
    (m1P, m2P, _), (m1C, m2C, _) = magnitude_moments(parent), magnitude_moments(child)
    return float(_functions()["objective"](v_p, v_c, lam, m1P, m2P, m1C, m2C))


@dataclass(frozen=True)
class CleanStationarity:
    """Is the clean configuration stationary for the L1 objective? (It is the premise of a sharp switch.)

    ``encoder_slope``: ``∂ℓ/∂γ`` at ``γ = 0`` when the parent latent's encoder reads ``p + γ c_j``
    (``a_P = t_P m_P + γ m_C``): ``λ μ1C (1 − μ1P²/μ2P)``, positive whenever ``m_P`` varies, so
    ``γ < 0`` (switching the parent latent off on the larger child magnitudes) lowers the loss.
    ``decoder_tilt``: the parent component of child latent j's best decoder given the clean encoders,
    ``(1 − t_P) μ1P μ1C / μ2C`` with ``t_P = 1 − λ μ1P/(2 μ2P)``: the child decoder absorbs the part of
    the parent that shrinkage left unreconstructed, for every ``λ > 0`` (constant magnitudes too).
    """

    encoder_slope: sp.Expr
    decoder_tilt: sp.Expr
    decoder_parent_cosine: sp.Expr

    def to_json(self) -> dict:
        return {k: str(v) for k, v in self.__dict__.items()}


@lru_cache(maxsize=1)
def clean_stationarity() -> CleanStationarity:
    dv = derive()
    s = dv.symbols
    lam, mu1P, mu2P, mu1C, mu2C = (s[k] for k in ("lam", "mu1P", "mu2P", "mu1C", "mu2C"))
    g, t, u = sp.symbols("gamma t_P u", real=True)
    # E[(m_P − t m_P − γ m_C)²] + λ E[t m_P + γ m_C]  (a_P > 0 on all events to first order in γ)
    loss = sp.expand(mu2P * (1 - t) ** 2 - 2 * g * (1 - t) * mu1P * mu1C + g**2 * mu2C + lam * (t * mu1P + g * mu1C))
    t_star = sp.solve(sp.diff(loss.subs(g, 0), t), t)[0]
    slope = sp.factor(sp.simplify(sp.diff(loss, g).subs({g: 0, t: t_star})))
    # child decoder u·p + c_j-part given a_C = m_C: least squares of the leftover (1 − t_P) m_P p on m_C
    tilt = sp.simplify((1 - t_star) * mu1P * mu1C / mu2C)
    # with the child's own shrinkage the c_j-part is t_C-scaled; the direction's parent cosine only needs
    # the ratio: component along c_j of the LS decoder is E[m_C²](1)/E[m_C²] = 1 before shrinkage
    cosine = sp.simplify(tilt / sp.sqrt(tilt**2 + 1))
    return CleanStationarity(slope, tilt, cosine)


def clean_tilt(lam: float, parent: MagnitudeLaw, child: MagnitudeLaw) -> dict:
    """Numbers of :func:`clean_stationarity` at ``λ``."""
    cs = clean_stationarity()
    s = derive().symbols
    (m1P, m2P, _), (m1C, m2C, _) = magnitude_moments(parent), magnitude_moments(child)
    sub = {s["lam"]: lam, s["mu1P"]: m1P, s["mu2P"]: m2P, s["mu1C"]: m1C, s["mu2C"]: m2C}
    return {"encoder_slope": float(cs.encoder_slope.subs(sub)), "decoder_tilt": float(cs.decoder_tilt.subs(sub)),
            "decoder_parent_cosine": float(cs.decoder_parent_cosine.subs(sub))}


# ---------------------------------------------------------------------------------------- TopK
def topk_threshold(event_sizes) -> int:
    """``k*``: the smallest budget at which the clean dictionary can keep every active feature of every
    event on (the largest number of features active in one event; 2 for a parent with one child on)."""
    sizes = [int(s) for s in event_sizes]
    if not sizes or min(sizes) < 1:
        raise SDLInputError("event_sizes lists how many features are active in each event type (each >= 1)")
    return max(sizes)


def expected_min_square(parent: MagnitudeLaw, child: MagnitudeLaw, samples: int = 400_000, seed: int = 0) -> float:
    """``E[min(m_P, m_C)²]``: what a clean top-1 dictionary loses per child event (it keeps the larger code).

    Closed form for two constants and for iid shifted exponentials (``min = c + Exp(β/2)``);
    Monte-Carlo (seeded) otherwise."""
    if isinstance(parent, Constant) and isinstance(child, Constant):
        return float(min(parent.c, child.c) ** 2)
    if isinstance(parent, ShiftedExponential) and parent == child:
        c, b = parent.c_min, parent.beta / 2
        return float(c * c + 2 * c * b + 2 * b * b)
    rng = np.random.default_rng(seed)
    return float(np.mean(np.minimum(parent.sample(rng, samples), child.sample(rng, samples)) ** 2))


@dataclass(frozen=True)
class TopKPrediction:
    k: int
    k_threshold: int
    clean_loss: float      # per child event
    absorbed_loss: float
    preferred: str         # "clean" | "absorbed" | "tie"

    def to_json(self) -> dict:
        return dict(self.__dict__)


def predict_topk(k: int, parent: MagnitudeLaw, child: MagnitudeLaw, depth: int = 1) -> TopKPrediction:
    """Clean vs absorbed per child event under TopK(k) with no penalty (restricted families as above)."""
    if int(k) != k or k < 1:
        raise SDLInputError(f"k must be a positive integer, got {k!r}")
    (m1P, m2P, _), (m1C, m2C, _) = magnitude_moments(parent), magnitude_moments(child)
    k_star = topk_threshold([depth + 1])
    absorbed = float(_functions()["topk_err"](0.0, m1P, m2P, m1C, m2C))
    clean = 0.0 if k >= k_star else expected_min_square(parent, child)
    tol = 1e-12 * max(1.0, m2P)
    preferred = "tie" if abs(clean - absorbed) <= tol else ("clean" if clean < absorbed else "absorbed")
    return TopKPrediction(int(k), k_star, clean, absorbed, preferred)


# ----------------------------------------------------------------------------- switching off
@dataclass(frozen=True)
class SwitchOff:
    possible: bool
    margin: float
    encoder_row: np.ndarray | None
    bias: float | None
    note: str

    def to_json(self) -> dict:
        return {"possible": self.possible, "margin": self.margin, "note": self.note,
                "encoder_row": None if self.encoder_row is None else self.encoder_row.tolist(), "bias": self.bias}


def parent_switch_off(W_p, parent: int, children, j: int, *, encoder_bias: bool = False,
                      parent_alone: bool = True, magnitudes=(1.0, 1.0)) -> SwitchOff:
    """Can the parent latent (ReLU) stay on for every parent event except child ``j``'s?

    A linear feasibility problem at the given magnitudes ``(m_P, m_C)``: find ``e`` (and ``b``) with
    ``<e, m_P p + m_C c_k> + b > 0`` for ``k ≠ j`` (and ``<e, m_P p> + b > 0`` if the parent fires alone),
    ``<e, m_P p + m_C c_j> + b <= 0``. With linearly independent directions it is feasible without a
    bias (``e = p − γ c_j``, ``γ >= m_P/m_C``); with random magnitudes the ratio ``m_P/m_C`` is unbounded for
    the bench's law, so no fixed ``γ`` switches the latent off on *every* child-j event — only on all but
    a fraction ``Pr(m_P > γ m_C) → 0``, and a bias does not change that."""
    from scipy.optimize import linprog

    W_p = np.asarray(W_p, dtype=float)
    mP, mC = magnitudes
    p = W_p[:, parent]
    on = [mP * p + mC * W_p[:, c] for c in children if c != j] + ([mP * p] if parent_alone else [])
    off = [mP * p + mC * W_p[:, j]]
    nb = 1 if encoder_bias else 0
    dim = W_p.shape[0] + nb
    # variables (e, b, s): maximise s with −(<e,x> + b) + s <= 0 (on), <e,x> + b <= 0 (off), box [-1, 1]
    rows, rhs = [], []
    for x in on:
        rows.append(np.concatenate([-x, -np.ones(nb), [1.0]]))
        rhs.append(0.0)
    for x in off:
        rows.append(np.concatenate([x, np.ones(nb), [0.0]]))
        rhs.append(0.0)
    c = np.zeros(dim + 1)
    c[-1] = -1.0
    res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=[(-1, 1)] * dim + [(None, 1)], method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    s = float(-res.fun)
    if s <= 1e-9:
        return SwitchOff(False, s, None, None, "no encoder row separates child j's event from the other parent events")
    e = res.x[:W_p.shape[0]]
    b = float(res.x[W_p.shape[0]]) if nb else None
    return SwitchOff(True, s, e, b, f"separating row with margin {s:.3g} at magnitudes (m_P, m_C) = {magnitudes}")


def switch_off_leak(gamma: float, parent: MagnitudeLaw, child: MagnitudeLaw, samples: int = 200_000,
                    seed: int = 0) -> float:
    """``Pr(m_P > γ m_C)``: the fraction of child-j events on which ``e = p − γ c_j`` still fires (seeded MC)."""
    rng = np.random.default_rng(seed)
    return float(np.mean(parent.sample(rng, samples) > gamma * child.sample(rng, samples)))
