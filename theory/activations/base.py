"""The protocol every activation family implements (THEORY.md section 2).

Inside an activation region each unit's output is a fixed linear function of the pre-activations:
``σ(z_s) = C_s z_s`` with ``C_s`` (units × pre-activations) constant on the region. A unit may read
one pre-activation (ReLU, JumpReLU, the TopK family: ``σ(z)_i ∈ {0, z_i}``, ``C_s = diag(mask_s)``)
or several (the Gated unit: a gate decides, a magnitude is output). With ``pre_per_unit = m`` the
encoder has ``m`` rows per unit, stacked in blocks (rows ``j·n_q … (j+1)·n_q − 1`` are every unit's
``j``-th pre-activation); the decoder has one column per unit. A family provides

- ``active(Z)``: a boolean mask of the units that are on, for a batch of pre-activations ``Z``
  (rows are samples; units as columns); ``evaluate(Z) = C(active(Z)) Z`` row by row;
- ``output_matrix(mask)``: the matrices ``C_s`` of the region (samples × units × pre-activations);
- ``output_rows(i, n_q)``: the encoder rows whose pre-activations unit ``i`` outputs;
- ``tie_basis(n_q, n_p, bias)``: ``T`` when the family ties encoder rows (``v = T u``), else None;
- ``evaluate_torch(z)``: the same on a torch tensor, using tensor methods only (this module never
  imports torch);
- ``region_constraints(mask)``: the linear inequalities on the pre-activations ``Z`` that hold
  exactly when ``active(Z) == mask``: the activation region ``Ω_P`` is their pull-back to ``W_E``;
- ``positively_homogeneous``: whether ``σ(c z) = c σ(z)`` for every ``c > 0`` and single sample ``z``;
- ``per_sample``: False when the units a sample switches on depend on the other samples in the batch.

Ties (two pre-activations equal at the top-k boundary) have measure zero; evaluation breaks them
by the lower index, and regions exclude them (the top-k competition is a strict inequality), so a
tie is never a point of a region. Every witness of a region is re-evaluated with ``active()``
(:meth:`theory.patterns.Region.contains`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import sympy as sp

from theory.validation import frozen


@dataclass(frozen=True)
class LinearConstraint:
    """``Σ coeff · Z[row, col]  (< or <=)  rhs`` on the pre-activation matrix ``Z``.

    ``terms`` is a tuple of ``((row, col), coeff)``; ``strict`` selects ``<``.
    """

    terms: tuple[tuple[tuple[int, int], float], ...]
    rhs: float
    strict: bool


class Activation:
    """Base class; see the module docstring for the protocol."""

    name: ClassVar[str] = "activation"
    per_sample: ClassVar[bool] = True
    pre_per_unit: ClassVar[int] = 1

    # --- evaluation -------------------------------------------------------------------------
    def active(self, Z: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def evaluate(self, Z: np.ndarray) -> np.ndarray:
        """``σ(Z)`` row by row (a 1-d ``Z`` is one sample)."""
        Z = np.asarray(Z, dtype=float)
        return np.where(self.active(Z), Z, 0.0)

    def evaluate_torch(self, z):  # pragma: no cover - abstract
        raise NotImplementedError

    # --- the unit outputs as linear maps (constant inside a region) ----------------------------
    def n_units(self, n_pre: int) -> int:
        """Units of an encoder with ``n_pre`` rows."""
        return n_pre // self.pre_per_unit

    def output_matrix(self, mask) -> np.ndarray:
        """``C[s]`` (units × pre-activations) with ``σ(z_s) = C[s] z_s`` inside the region of ``mask``."""
        mask, _ = _as_2d(np.asarray(mask, dtype=bool))
        C = np.zeros(mask.shape + (mask.shape[1],))
        idx = np.arange(mask.shape[1])
        C[:, idx, idx] = mask
        return C

    def output_rows(self, unit: int, n_units: int) -> tuple[int, ...]:
        """Encoder rows whose pre-activations unit ``unit`` outputs (when on)."""
        return (unit,)

    def tie_basis(self, n_units: int, n_p: int, bias: bool) -> np.ndarray | None:
        """``T`` with ``(vec W_E, b) = T u`` for the family's free parameters ``u``; None: no tying."""
        return None

    def unit_encoder(self, W, b=None) -> tuple[np.ndarray, np.ndarray | None]:
        """The encoder (and bias) of this family in which every pre-activation of unit ``i`` is row ``W[i]``
        (bias ``b[i]``): a construction written with one row per unit, lifted to the family. The identity for
        one pre-activation per unit; a Gated unit gets gate row = magnitude row (tied: ``r = 0``), so it
        outputs ``<w, x> + b`` exactly when that is ``> 0``."""
        W = np.asarray(W, dtype=float)
        m = self.pre_per_unit
        return np.vstack([W] * m), None if b is None else np.concatenate([np.asarray(b, dtype=float)] * m)

    def encoder_problem(self, W_E) -> str | None:
        """Why ``W_E`` is not an encoder of this family (None when it is)."""
        W_E = np.asarray(W_E)
        if W_E.shape[0] % self.pre_per_unit:
            return f"{self.describe()} needs {self.pre_per_unit} encoder rows per unit, got {W_E.shape[0]} rows"
        return None

    # --- geometry ---------------------------------------------------------------------------
    @property
    def positively_homogeneous(self) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def region_constraints(self, mask: np.ndarray) -> list[LinearConstraint]:  # pragma: no cover
        raise NotImplementedError

    def mask_is_possible(self, mask: np.ndarray) -> str | None:
        """``None`` if some ``Z`` can produce ``mask``; otherwise why not (e.g. wrong count)."""
        return None

    # --- symbolic ---------------------------------------------------------------------------
    def symbolic(self, z: sp.Symbol) -> sp.Expr:
        """The unit's output as a sympy expression of its own pre-activation ``z`` (where it has one)."""
        raise NotImplementedError(f"{self.name} has no closed per-unit form")

    def describe(self) -> str:
        return self.name

    def params(self) -> dict:
        return {}

    def to_json(self) -> dict:
        """``{"name": ..., **params}``; a family outside the package is named ``module:Class`` so that
        another process can import it (:func:`theory.registry.get`)."""
        from theory.registry import family_of

        try:
            name = family_of(self).ref
        except Exception:  # an activation with no registered family still prints
            name = self.name
        return {"name": name, **self.params()}


def _as_2d(Z: np.ndarray) -> tuple[np.ndarray, bool]:
    Z = np.asarray(Z, dtype=float)
    if Z.ndim == 1:
        return Z[None, :], True
    return Z, False


# The last large top-k mask, for a frozen Z (read-only and owning its data: the shared pre-activations of
# :meth:`theory.instance.Instance.pre_activations`): one inspection asks for the pattern of the same
# 1000 × 16000 Z from L̃, its gradients, the LS decoder and the region slack (issue 9).
_TOPK_MEMO: list = [None]
_TOPK_MEMO_MIN_SIZE = 1 << 20


def topk_mask(Z: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` largest entries of each row (ties: lower index first)."""
    memo = frozen(Z) and Z.size >= _TOPK_MEMO_MIN_SIZE and Z.dtype == np.float64
    if memo:
        hit = _TOPK_MEMO[0]
        if hit is not None and hit[0] is Z and hit[1] == k:
            return hit[2]
    mask = _topk_mask(Z, k)
    if memo:
        mask.flags.writeable = False
        _TOPK_MEMO[0] = (Z, k, mask)
    return mask


def _topk_mask(Z: np.ndarray, k: int) -> np.ndarray:
    Z2, squeeze = _as_2d(Z)
    k = min(k, Z2.shape[1])
    if k <= 0:
        mask = np.zeros(Z2.shape, dtype=bool)
    elif np.isnan(Z2).any():  # NaN order as in a stable sort of −Z (last): the general path
        order = np.argsort(-Z2, axis=1, kind="stable")[:, :k]
        mask = np.zeros(Z2.shape, dtype=bool)
        np.put_along_axis(mask, order, True, axis=1)
    else:
        # O(n_q) per row instead of a sort (paper-size inspect, issue 9): everything above the k-th largest
        # value, then the lowest-index entries equal to it until k are on — what the stable sort keeps
        if Z2.size >= _TOPK_MEMO_MIN_SIZE and 4 * np.count_nonzero(Z2) < 3 * Z2.size:
            # many exact zeros (e.g. a construction's zero rows): introselect is slow on a long run of equal
            # values around a large kth; the same k-th largest value as the k-th smallest of −Z (10× faster)
            kth = -np.partition(-Z2, k - 1, axis=1)[:, k - 1][:, None]
        else:
            kth = np.partition(Z2, Z2.shape[1] - k, axis=1)[:, Z2.shape[1] - k][:, None]
        mask = Z2 >= kth
        over = np.flatnonzero(mask.sum(axis=1) > k)   # rows where ties at the k-th value overflow k
        if over.size:
            sub, kk = Z2[over], kth[over]
            tie = sub == kk
            need = k - (sub > kk).sum(axis=1, keepdims=True)
            mask[over] = (sub > kk) | (tie & (np.cumsum(tie, axis=1) <= need))
    return mask[0] if squeeze else mask
