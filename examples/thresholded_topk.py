"""A family of your own, in one file, with no edit to the package: the thresholded Top-k.

``σ(z)_i = z_i`` when ``z_i`` is among the ``k`` largest pre-activations of its sample *and* above a
threshold ``θ >= 0``, else 0 (TopK∘ReLU is ``θ = 0``). With this directory on ``PYTHONPATH``::

    sdl-theory derive --activation thresholded_topk:ThresholdedTopK --k 1 --theta 0.5
    sdl-theory verify C2 C6 --activation thresholded_topk:ThresholdedTopK
    sdl-theory bench --methods thresholded_topk:ThresholdedTopK --k 2 --hyper theta=0.2
    sdl-theory inspect out/bench-small/models/thresholded_topk:ThresholdedTopK

The file declares what every layer needs: the theory activation (the protocol of
``theory.activations.base``: which units are on, the region's linear inequalities, homogeneity),
its hypothesis strategy (what ``verify`` searches), its torch model, its training
hyperparameters (whose fields become ``bench`` settings) and the sweep over them that a recovery
experiment trains (:mod:`numerics.recovery`), all in one :class:`theory.registry.Family`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from theory.activations.base import Activation, LinearConstraint, _as_2d, topk_mask
from theory.errors import SDLInputError
from theory.options import option
from theory.registry import Family, register


@dataclass(frozen=True)
class ThresholdedTopK(Activation):
    """The top-``k`` units of a sample that exceed ``θ``."""

    k: int = 1
    theta: float = 0.0
    name: ClassVar[str] = "thresholded_topk"

    def __post_init__(self):
        if isinstance(self.k, bool) or int(self.k) != self.k or self.k < 1:
            raise SDLInputError(f"k must be a positive integer, got {self.k!r}")
        if not (np.isfinite(self.theta) and self.theta >= 0):
            raise SDLInputError(f"theta must be a finite number >= 0, got {self.theta}")

    def active(self, Z):
        Z = np.asarray(Z, dtype=float)
        return topk_mask(Z, self.k) & (Z > self.theta)

    def evaluate_torch(self, z):
        k = min(self.k, z.shape[-1])
        idx = z.topk(k, dim=-1).indices
        kept = z.new_zeros(z.shape).scatter(-1, idx, z.gather(-1, idx))
        return kept * (kept > self.theta).to(z.dtype)

    @property
    def positively_homogeneous(self) -> bool:
        return self.theta == 0  # a sample's magnitude decides whether it clears θ > 0

    def mask_is_possible(self, mask):
        mask, _ = _as_2d(mask)
        bad = np.flatnonzero(mask.sum(axis=1) > self.k)
        return None if not bad.size else f"at most k = {self.k} units per sample are on; rows {bad.tolist()} have more"

    def region_constraints(self, mask):
        """Per sample: every on unit is above θ; with k units on every off unit ranks below every on unit,
        with fewer every off unit is at most θ (then the on units are the top ones)."""
        mask = np.atleast_2d(np.asarray(mask, dtype=bool))
        out = []
        for r in range(mask.shape[0]):
            on = [(r, c) for c in np.flatnonzero(mask[r])]
            off = [(r, c) for c in np.flatnonzero(~mask[r])]
            out += [LinearConstraint(((c, -1.0),), -float(self.theta), True) for c in on]  # z_on > θ
            if len(on) >= self.k:
                out += [LinearConstraint(((j, 1.0), (i, -1.0)), 0.0, False) for i in on for j in off]
            else:
                out += [LinearConstraint(((j, 1.0),), float(self.theta), False) for j in off]  # z_off <= θ
        return out

    def describe(self):
        return f"ThresholdedTopK(k={self.k}, θ={self.theta:g})"

    def params(self):
        return {"k": int(self.k), "theta": float(self.theta)}


def _draw(draw, max_k: int):
    """What verify's searches draw: k up to max_k, a few thresholds (0 is TopK∘ReLU)."""
    from hypothesis import strategies as st

    return ThresholdedTopK(k=draw(st.integers(1, max_k)), theta=draw(st.sampled_from([0.0, 0.25, 0.5])))


@dataclass(frozen=True)
class ThresholdedTopKTraining:
    k: int = option(0, "active latents per sample at most (0 = sqrt(n_q))")
    theta: float = option(0.1, "the threshold θ a kept latent must exceed")

    def validate(self, n_latents=None) -> None:
        if self.k < 0 or self.theta < 0:
            raise SDLInputError(f"k and theta must be >= 0, got k={self.k}, theta={self.theta}")


def _coder():
    """The torch model, built on first use (``Family.model`` below names it) so that ``derive`` and
    ``verify`` on this family never import torch."""
    from numerics.models.topk import TopKCoder

    class ThresholdedTopKCoder(TopKCoder):
        name = "thresholded_topk"

        def __init__(self, *args, theta: float = 0.1, **kw):
            super().__init__(*args, theta=theta, **kw)
            self.theta = float(theta)

        def encode(self, x):
            code = super().encode(x)  # the top-k of ReLU(z), sparse; zero those at or below θ
            code.vals = code.vals * (code.vals > self.theta).to(code.vals.dtype)
            return code

    return ThresholdedTopKCoder


def __getattr__(name):  # PEP 562: ``thresholded_topk:ThresholdedTopKCoder`` resolves lazily
    if name == "ThresholdedTopKCoder":
        cls = globals()[name] = _coder()
        return cls
    raise AttributeError(name)


FAMILY = register(Family(
    "thresholded_topk", ThresholdedTopK, "Top-k units above a threshold θ", draw_activation=_draw,
    model=f"{__name__}:ThresholdedTopKCoder", hyperparameters=ThresholdedTopKTraining,
    # what C10/C11-style sweeps try (the product, k outermost); without it a grid is derived from the defaults
    sweep={"k": (1, 2, 4, 8), "theta": (0.05, 0.2)}))
