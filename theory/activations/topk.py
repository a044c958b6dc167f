"""TopK, TopK∘ReLU and BatchTopK (THEORY.md section 2).

- ``TopK(k)``: keep the ``k`` largest pre-activations of a sample, whatever their sign.
- ``TopKReLU(k)``: ``ReLU(TopK(z))``, the form used by Gao et al. (2024): the kept units that are
  not positive are off.
- ``BatchTopK(k)``: over a batch of ``B`` samples keep the ``k·B`` largest *positive* entries of the
  whole batch (Bussmann et al. 2024). Which units a sample switches on depends on the other samples,
  so there is no per-sample σ (``per_sample = False``); at inference a global threshold turns it into
  ``JumpReLU(threshold)`` (:meth:`BatchTopK.at_inference`). When the toolkit evaluates the
  approximate objective L̃ with BatchTopK, the batch is the ``n`` single-feature inputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterable

import numpy as np

from theory.activations.base import Activation, LinearConstraint, _as_2d, topk_mask
from theory.activations.relu import JumpReLU
from theory.errors import SDLInputError


def _check_k(k) -> int:
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise SDLInputError(f"k must be a positive integer, got {k!r}")
    return int(k)


def _top_set_constraints(on: list, off: list, relu: bool, full: bool) -> list[LinearConstraint]:
    """Constraints that ``on`` cells are the top cells (and, with ``relu``, positive).

    ``full``: the top set is full (``|on| = k``) so every ``off`` cell is strictly below every ``on``
    cell; otherwise (only possible with ``relu``) every ``off`` cell is ``<= 0``.

    The competition is strict: at a tie ``z_off = z_on`` the evaluation breaks it by index, so a tie
    is not a point of the region (``W_E = 0`` ties every unit and lies in no TopK region).
    """
    out = []
    if relu:
        out += [LinearConstraint(((c, -1.0),), 0.0, True) for c in on]  # z_on > 0
    if full:
        out += [LinearConstraint(((j, 1.0), (i, -1.0)), 0.0, True) for i in on for j in off]  # z_off < z_on
    else:
        out += [LinearConstraint(((j, 1.0),), 0.0, False) for j in off]
    return out


def _cells(mask: np.ndarray, rows: Iterable[int] | None = None):
    on, off = [], []
    for (r, c), v in np.ndenumerate(mask):
        if rows is not None and r not in rows:
            continue
        (on if v else off).append((r, c))
    return on, off


@dataclass(frozen=True)
class TopK(Activation):
    """Keep the ``k`` largest pre-activations of each sample (no sign condition)."""

    k: int = 1
    name: ClassVar[str] = "topk"

    def __post_init__(self):
        _check_k(self.k)

    def active(self, Z):
        return topk_mask(Z, self.k)

    def evaluate_torch(self, z):
        k = min(self.k, z.shape[-1])
        idx = z.topk(k, dim=-1).indices
        return z.new_zeros(z.shape).scatter(-1, idx, z.gather(-1, idx))

    @property
    def positively_homogeneous(self):
        return True

    def mask_is_possible(self, mask):
        mask, _ = _as_2d(mask)
        want = min(self.k, mask.shape[1])
        bad = np.flatnonzero(mask.sum(axis=1) != want)
        if bad.size:
            return f"TopK(k={self.k}) switches on exactly {want} units per sample; rows {bad.tolist()} do not"
        return None

    def region_constraints(self, mask):
        mask, _ = _as_2d(np.asarray(mask, dtype=bool))
        out = []
        for r in range(mask.shape[0]):
            on, off = _cells(mask, rows=[r])
            out += _top_set_constraints(on, off, relu=False, full=True)
        return out

    def describe(self):
        return f"TopK(k={self.k})"

    def params(self):
        return {"k": int(self.k)}


@dataclass(frozen=True)
class TopKReLU(TopK):
    """``ReLU(TopK_k(z))``: the top-k units that are positive."""

    k: int = 1
    name: ClassVar[str] = "topk_relu"

    def active(self, Z):
        Z = np.asarray(Z, dtype=float)
        return topk_mask(Z, self.k) & (Z > 0)

    def evaluate_torch(self, z):
        return super().evaluate_torch(z).clamp(min=0)

    def mask_is_possible(self, mask):
        mask, _ = _as_2d(mask)
        bad = np.flatnonzero(mask.sum(axis=1) > self.k)
        if bad.size:
            return f"TopKReLU(k={self.k}) switches on at most {self.k} units per sample; rows {bad.tolist()} have more"
        return None

    def region_constraints(self, mask):
        mask, _ = _as_2d(np.asarray(mask, dtype=bool))
        out = []
        for r in range(mask.shape[0]):
            on, off = _cells(mask, rows=[r])
            out += _top_set_constraints(on, off, relu=True, full=len(on) >= self.k)
        return out

    def describe(self):
        return f"TopK∘ReLU(k={self.k})"


@dataclass(frozen=True)
class BatchTopK(Activation):
    """Top ``k·B`` positive entries over a batch of ``B`` samples; ``threshold`` is for inference."""

    k: int = 1
    threshold: float | None = None
    name: ClassVar[str] = "batchtopk"
    per_sample: ClassVar[bool] = False

    def __post_init__(self):
        _check_k(self.k)
        if self.threshold is not None and (not np.isfinite(self.threshold) or self.threshold < 0):
            raise SDLInputError(f"BatchTopK inference threshold must be >= 0, got {self.threshold}")

    def active(self, Z):
        Z2, squeeze = _as_2d(Z)
        budget = min(self.k * Z2.shape[0], Z2.size)
        flat = topk_mask(Z2.reshape(1, -1), budget).reshape(Z2.shape) & (Z2 > 0)
        return flat[0] if squeeze else flat

    def evaluate_torch(self, z):
        z2 = z.reshape(-1, z.shape[-1])
        budget = min(self.k * z2.shape[0], z2.numel())
        flat = z2.reshape(-1)
        idx = flat.topk(budget).indices
        out = flat.new_zeros(flat.shape).scatter(0, idx, flat.gather(0, idx)).clamp(min=0)
        return out.reshape(z.shape)

    def at_inference(self) -> JumpReLU:
        """The per-sample activation used after training: ``JumpReLU(threshold)``."""
        if self.threshold is None:
            raise SDLInputError("this BatchTopK has no inference threshold; pass threshold=... (estimated during training)")
        return JumpReLU(theta=float(self.threshold))

    @property
    def positively_homogeneous(self):
        # Scaling one sample changes which entries win the batch-wide competition.
        return False

    def mask_is_possible(self, mask):
        mask, _ = _as_2d(mask)
        if mask.sum() > self.k * mask.shape[0]:
            return f"BatchTopK(k={self.k}) switches on at most k·B = {self.k * mask.shape[0]} entries per batch; mask has {int(mask.sum())}"
        return None

    def region_constraints(self, mask):
        mask, _ = _as_2d(np.asarray(mask, dtype=bool))
        on, off = _cells(mask)
        return _top_set_constraints(on, off, relu=True, full=len(on) >= self.k * mask.shape[0])

    def describe(self):
        return f"BatchTopK(k={self.k})"

    def params(self):
        return {"k": int(self.k), "threshold": self.threshold}
