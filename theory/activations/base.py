"""The protocol every activation family implements (THEORY.md section 2).

All families covered by the paper satisfy ``σ(z)_i ∈ {0, z_i}``: an activation is fully described by
*which* units are on. So a family provides

- ``active(Z)``: a boolean mask of the units that are on, for a batch of pre-activations ``Z``
  (rows are samples); ``evaluate(Z) = Z * active(Z)``;
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

    # --- evaluation -------------------------------------------------------------------------
    def active(self, Z: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def evaluate(self, Z: np.ndarray) -> np.ndarray:
        """``σ(Z)`` row by row (a 1-d ``Z`` is one sample)."""
        Z = np.asarray(Z, dtype=float)
        return np.where(self.active(Z), Z, 0.0)

    def evaluate_torch(self, z):  # pragma: no cover - abstract
        raise NotImplementedError

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


def topk_mask(Z: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` largest entries of each row (ties: lower index first)."""
    Z2, squeeze = _as_2d(Z)
    k = min(k, Z2.shape[1])
    order = np.argsort(-Z2, axis=1, kind="stable")[:, :k]
    mask = np.zeros(Z2.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask[0] if squeeze else mask
