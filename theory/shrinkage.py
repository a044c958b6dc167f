"""Closed-form shrinkage of feature magnitudes at the optimum of a ReLU + L1 dictionary (issue 5).

Setting (the extreme-sparsity regime of THEORY.md section 3, with the L1 term of section 2): a
feature ``d`` with unit direction ``w^d`` fires alone with magnitude ``m`` (law with moments
``μ1 = E m``, ``μ2 = E m²``). A monosemantic latent with unit decoder ``w^d`` codes it as
``a(m) = relu(t·m + b)``; the per-event objective is

    ℓ(t, b) = E[(m − a(m))²] + λ E[a(m)]

(``λ`` is the L1 coefficient on the *unnormalised* squared error; the bench's FVU-normalised
``l1_coeff`` corresponds to ``λ = l1_coeff · E||x_r − E x_r||²``). The L1 term of the bench is
weighted by the decoder norm, so a unit decoder loses no generality.

- No encoder bias (the paper's model): ``t* = 1 − λ μ1 / (2 μ2)`` (0 when negative), so the learned
  magnitude is the true one times ``t*``, with loss ``λ μ1 − λ² μ1² / (4 μ2)``.
- With an encoder bias: ``t* = 1``, ``b* = −λ/2``, i.e. soft-thresholding ``a = relu(m − λ/2)``, which is
  the pointwise minimiser of ``(m − a)² + λ a`` over ``a >= 0`` and hence optimal for every law. When
  ``λ/2 <= c_min`` (no clipping) the mean shrinkage is ``E a / E m = 1 − λ/(2 μ1)`` and the loss
  ``λ μ1 − λ²/4`` (never worse than without a bias, since ``μ1² <= μ2``); otherwise both are Monte-Carlo.

Every formula is derived with sympy from ``ℓ`` (not typed in), and :func:`assumptions` states the
predicates under which it is the optimum; the tests minimise ``ℓ`` directly with scipy.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from theory.distribution import Constant, MagnitudeLaw, ShiftedExponential, Uniform
from theory.errors import SDLInputError

ORTHO_TOL = 1e-6


def magnitude_moments(law: MagnitudeLaw) -> tuple[float, float, float]:
    """``(μ1, μ2, c_min)``: mean, second moment and smallest magnitude of a law."""
    if isinstance(law, Constant):
        return float(law.c), float(law.c) ** 2, float(law.c)
    if isinstance(law, ShiftedExponential):
        return float(law.c_min + law.beta), float(law.second_moment()), float(law.c_min)
    if isinstance(law, Uniform):
        return (law.low + law.high) / 2, float(law.second_moment()), float(law.low)
    raise SDLInputError(f"no moments known for magnitude law {law!r}; use Constant, ShiftedExponential or Uniform")


@dataclass(frozen=True)
class ShrinkageDerivation:
    """Symbols, per-event loss and its minimisers (sympy expressions)."""

    symbols: dict
    loss_no_bias: sp.Expr        # μ2 (1 − t)² + λ μ1 t
    t_no_bias: sp.Expr           # argmin_t
    min_loss_no_bias: sp.Expr
    loss_bias: sp.Expr           # E[(m − t m − b)²] + λ E[t m + b], all codes positive
    t_bias: sp.Expr
    b_bias: sp.Expr
    min_loss_bias: sp.Expr
    mean_ratio_bias: sp.Expr     # E[a]/E[m] at the optimum with a bias

    def to_json(self) -> dict:
        return {k: str(v) for k, v in self.__dict__.items() if isinstance(v, sp.Basic)}


@lru_cache(maxsize=1)
def derive() -> ShrinkageDerivation:
    lam, mu1, mu2 = sp.symbols("lambda mu1 mu2", positive=True)
    t, b = sp.symbols("t b", real=True)
    # E[(m − t m)²] + λ E[t m] with a = t m >= 0
    loss0 = sp.expand(mu2 * (1 - t) ** 2 + lam * mu1 * t)
    t0 = sp.solve(sp.diff(loss0, t), t)[0]
    min0 = sp.simplify(loss0.subs(t, t0))
    # with a bias, on the event where every code is positive: E[(m(1−t) − b)²] + λ (t μ1 + b)
    loss1 = sp.expand(mu2 * (1 - t) ** 2 - 2 * b * mu1 * (1 - t) + b**2 + lam * (t * mu1 + b))
    sol = sp.solve([sp.diff(loss1, t), sp.diff(loss1, b)], [t, b], dict=True)[0]
    t1, b1 = sp.simplify(sol[t]), sp.simplify(sol[b])
    min1 = sp.simplify(loss1.subs({t: t1, b: b1}))
    ratio1 = sp.simplify((t1 * mu1 + b1) / mu1)
    return ShrinkageDerivation(dict(lam=lam, mu1=mu1, mu2=mu2, t=t, b=b), loss0, t0, min0, loss1, t1, b1, min1, ratio1)


@lru_cache(maxsize=1)
def _functions():
    dv = derive()
    s = dv.symbols
    args = (s["lam"], s["mu1"], s["mu2"])
    return {name: sp.lambdify(args, getattr(dv, name), "numpy")
            for name in ("t_no_bias", "min_loss_no_bias", "t_bias", "b_bias", "min_loss_bias", "mean_ratio_bias")}


@dataclass(frozen=True)
class ShrinkagePrediction:
    """Predicted code ``a(m) = relu(scale·m + bias)`` of a monosemantic latent and its consequences."""

    lam: float
    encoder_bias: bool
    scale: float           # t*
    bias: float            # b* (0 without an encoder bias)
    mean_ratio: float      # E[a(m)] / E[m]: the "shrinkage" metric (learned / true magnitude)
    event_loss: float      # ℓ at the optimum, per single-feature event
    unmet: tuple[str, ...]  # assumptions that fail (empty: the prediction is the exact optimum)

    def to_json(self) -> dict:
        return dict(self.__dict__, unmet=list(self.unmet))


def assumptions(lam: float, law: MagnitudeLaw, encoder_bias: bool, W_p=None, W_r=None,
                p_multi: float | None = None, tol: float = 0.05, unit_norm_decoder: bool = False,
                l1_weighted_by_decoder_norm: bool = True) -> list[str]:
    """Unmet assumptions of the shrinkage formula (empty list = all hold).

    - the L1 term cannot be scaled away: unit-norm decoders or L1 weighted by the decoder norms;
    - the features' input directions are orthonormal (no interference shifts the codes),
      and target directions have unit norm;
    - single-feature events dominate: ``p_multi`` (probability of two or more active features given
      at least one) below ``tol``;
    - no bias: ``t* >= 0``, i.e. ``λ μ1 <= 2 μ2`` (otherwise the latent is off: ``t* = 0``);
    - bias: ``λ/2 <= c_min`` (every code stays positive, so relu is the identity on the support).
    """
    mu1, mu2, c_min = magnitude_moments(law)
    out = []
    if lam > 0 and not (unit_norm_decoder or l1_weighted_by_decoder_norm):
        out.append("L1 on the codes with a free decoder norm: a → a/c, d → c·d scales the penalty away, so there is "
                   "no finite optimum (use unit-norm decoders or weight the L1 by ||d_i||)")
    if lam < 0:
        raise SDLInputError(f"the L1 coefficient λ must be >= 0, got {lam}")
    if W_p is not None:
        W_p = np.asarray(W_p, dtype=float)
        G = W_p.T @ W_p
        err = float(np.abs(G - np.eye(G.shape[0])).max())
        if err > ORTHO_TOL:
            out.append(f"input directions are not orthonormal (max |W_pᵀW_p − I| = {err:.3g})")
    if W_r is not None:
        norms = np.linalg.norm(np.asarray(W_r, dtype=float), axis=0)
        if np.abs(norms - 1).max() > ORTHO_TOL:
            out.append("target directions w_r^d do not have unit norm")
    if p_multi is not None and p_multi > tol:
        out.append(f"multi-feature events are not rare: P(>=2 active | >=1 active) = {p_multi:.3g} > {tol}")
    if encoder_bias:
        if lam / 2 > c_min:
            out.append(f"λ/2 = {lam / 2:.3g} exceeds the smallest magnitude c_min = {c_min:.3g}: small events are "
                       "clipped; relu(m − λ/2) is still the optimum but its mean and loss are Monte-Carlo, not closed form")
    elif lam * mu1 > 2 * mu2:
        out.append(f"λ μ1 = {lam * mu1:.3g} > 2 μ2 = {2 * mu2:.3g}: the latent switches off (t* = 0)")
    return out


def predict(lam: float, law: MagnitudeLaw, encoder_bias: bool = False, **assumption_kw) -> ShrinkagePrediction:
    """The optimum of ``ℓ`` for one monosemantic latent (see the module docstring)."""
    mu1, mu2, c_min = magnitude_moments(law)
    f = _functions()
    unmet = tuple(assumptions(lam, law, encoder_bias, **assumption_kw))
    if encoder_bias:
        t, b = float(f["t_bias"](lam, mu1, mu2)), float(f["b_bias"](lam, mu1, mu2))
        if lam / 2 <= c_min:
            return ShrinkagePrediction(lam, True, t, b, float(f["mean_ratio_bias"](lam, mu1, mu2)),
                                       float(f["min_loss_bias"](lam, mu1, mu2)), unmet)
        # relu(m − λ/2) is still the pointwise optimum of (m − a)² + λ a over a >= 0, but its mean
        # and loss have no closed form here: seeded Monte-Carlo (stated in `unmet`)
        m = law.sample(np.random.default_rng(0), 400_000)
        a = np.maximum(m - lam / 2, 0.0)
        return ShrinkagePrediction(lam, True, t, b, float(a.mean() / mu1), event_loss(t, b, lam, m), unmet)
    t = float(f["t_no_bias"](lam, mu1, mu2))
    if t < 0:  # the latent is off: a = 0, ℓ = μ2
        return ShrinkagePrediction(lam, False, 0.0, 0.0, 0.0, mu2, unmet)
    return ShrinkagePrediction(lam, False, t, 0.0, t, float(f["min_loss_no_bias"](lam, mu1, mu2)), unmet)


def event_loss(scale: float, bias: float, lam: float, magnitudes: np.ndarray) -> float:
    """``ℓ`` estimated on given magnitudes (for numerical checks): mean of ``(m − a)² + λ a``."""
    a = np.maximum(scale * magnitudes + bias, 0.0)
    return float(np.mean((magnitudes - a) ** 2 + lam * a))
