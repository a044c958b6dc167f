"""ReLU ``max(0, z)`` and JumpReLU ``z·H(z − θ)`` (THEORY.md section 2)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import sympy as sp

from theory.activations.base import Activation, LinearConstraint
from theory.errors import SDLInputError


@dataclass(frozen=True)
class JumpReLU(Activation):
    """``σ(z)_i = z_i`` if ``z_i > θ`` else 0, with threshold ``θ >= 0``.

    Positively homogeneous only for ``θ = 0`` (then it is ReLU): a sample's magnitude decides
    whether it clears the threshold, which is why C1's reduction to unit magnitudes is in doubt here.
    """

    theta: float = 0.0
    name: ClassVar[str] = "jumprelu"

    def __post_init__(self):
        if not np.isfinite(self.theta) or self.theta < 0:
            raise SDLInputError(f"JumpReLU threshold theta must be a finite number >= 0, got {self.theta}")

    def active(self, Z):
        return np.asarray(Z, dtype=float) > self.theta

    def evaluate_torch(self, z):
        return z * (z > self.theta).to(z.dtype)

    @property
    def positively_homogeneous(self) -> bool:
        return self.theta == 0

    def region_constraints(self, mask):
        mask = np.asarray(mask, dtype=bool)
        out = []
        for (row, col), on in np.ndenumerate(mask):
            if on:  # z > θ  <=>  -z < -θ
                out.append(LinearConstraint((((row, col), -1.0),), -float(self.theta), True))
            else:
                # z <= θ. With θ > 0 the output jumps from 0 to θ across z = θ, so the boundary belongs to
                # neither side (a verdict there would flip with > vs >=): strict. At θ = 0 (ReLU) σ is 0
                # on both sides of z = 0, so that face is kept (KKT points of L̃ may sit on it, C6).
                out.append(LinearConstraint((((row, col), 1.0),), float(self.theta), self.theta > 0))
        return out

    def symbolic(self, z):
        return sp.Piecewise((z, z > sp.nsimplify(self.theta)), (0, True))

    def describe(self):
        return f"JumpReLU(θ={self.theta:g})"

    def params(self):
        return {"theta": float(self.theta)}


@dataclass(frozen=True)
class ReLU(JumpReLU):
    """``σ(z) = max(0, z)``: JumpReLU with ``θ = 0``."""

    theta: float = 0.0
    name: ClassVar[str] = "relu"

    def __post_init__(self):
        if self.theta != 0:
            raise SDLInputError("ReLU has no threshold; use JumpReLU(theta=...) for a non-zero one")

    def evaluate_torch(self, z):
        return z.clamp(min=0)

    def describe(self):
        return "ReLU"

    def params(self):
        return {}
