"""ReLU ``max(0, z)`` and JumpReLU ``z·H(z − θ)`` (THEORY.md section 2)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import sympy as sp

from theory.activations.base import Activation, LinearConstraint
from theory.errors import SDLInputError
from theory.options import option
from theory.registry import Family, register
from theory.validation import finite_float, got


@dataclass(frozen=True)
class JumpReLU(Activation):
    """``σ(z)_i = z_i`` if ``z_i > θ`` else 0, with threshold ``θ >= 0``.

    Positively homogeneous only for ``θ = 0`` (then it is ReLU): a sample's magnitude decides
    whether it clears the threshold, which is why C1's reduction to unit magnitudes is in doubt here.
    """

    theta: float = 0.0
    name: ClassVar[str] = "jumprelu"

    def __post_init__(self):
        object.__setattr__(self, "theta", finite_float("JumpReLU threshold theta", self.theta, lo=0))

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
        if not (isinstance(self.theta, (int, float)) and not isinstance(self.theta, bool) and self.theta == 0):
            raise SDLInputError(f"ReLU has no threshold (got theta={got(self.theta)}); use JumpReLU(theta=...) for a non-zero one")
        object.__setattr__(self, "theta", 0.0)

    def evaluate_torch(self, z):
        return z.clamp(min=0)

    def describe(self):
        return "ReLU"

    def params(self):
        return {}


# ------------------------------------------------------------------------------------------------
# The families: theory activation, printing, search strategy, torch model, training hyperparameters
# ------------------------------------------------------------------------------------------------


def _threshold_region(act, z_text: str, z_latex: str, bias: bool):
    """derive's region section for ReLU / JumpReLU: one threshold per unit."""
    from theory.printing import Line

    jump = act.name == "jumprelu"
    theta = float(getattr(act, "theta", 0.0))
    th = f"{theta:g}"
    th_l = r"\theta" if jump else "0"
    lines = [
        Line("neuron i on for feature d", f"{z_text} > {th}", f"{z_latex} > {th_l}" + (f" = {th}" if jump else ""),
             {"op": ">", "threshold": theta}),
        # θ > 0: the output jumps across z = θ, so z = θ is in neither region (strict); ReLU keeps its kink z <= 0
        Line("neuron i off for feature d", f"{z_text} {'<' if theta > 0 else '<='} {th}",
             f"{z_latex} {'<' if theta > 0 else chr(92) + 'le'} {th_l}" + (f" = {th}" if jump else ""),
             {"op": "<" if theta > 0 else "<=", "threshold": theta}),
    ]
    if jump and theta > 0:
        notes = [f"JumpReLU(θ={th}) is not positively homogeneous: whether a unit clears θ = {th} depends on the "
                 "input's magnitude, so L̃ (unit magnitudes) need not approximate L as the activation "
                 "probability goes to 0 unless magnitudes are 1 (C1's reduction is in doubt here)."]
    elif jump:
        notes = ["With θ = 0 JumpReLU is ReLU (positively homogeneous)."]
    else:
        notes = ["ReLU is positively homogeneous: σ(c z) = c σ(z) for c > 0."]
    return lines, notes


def _draw_jumprelu(draw, max_k: int):
    from hypothesis import strategies as st

    return JumpReLU(theta=draw(st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0])))


@dataclass(frozen=True)
class L1Training:
    """ReLU / Gated SAE training (Bricken et al. 2023; Rajamanoharan et al. 2024a)."""

    l1_coeff: float = option(3e-3, "ReLU / Gated: L1 coefficient (on the FVU scale)")

    def validate(self, n_latents=None) -> None:
        finite_float("l1_coeff", self.l1_coeff, lo=0)


@dataclass(frozen=True)
class JumpReLUTraining:
    """JumpReLU SAE training (Rajamanoharan et al. 2024b): L0 penalty, straight-through θ."""

    l0_coeff: float = option(3e-3, "JumpReLU: L0 coefficient (on the FVU scale)")
    threshold_init: float = option(0.1, "JumpReLU: initial θ")
    bandwidth: float = option(0.05, "JumpReLU: rectangle-kernel width ε of the straight-through estimator")

    def validate(self, n_latents=None) -> None:
        finite_float("l0_coeff", self.l0_coeff, lo=0)
        finite_float("JumpReLU threshold_init", self.threshold_init, lo=0, lo_open=True)
        finite_float("JumpReLU bandwidth", self.bandwidth, lo=0, lo_open=True)


RELU = register(Family(
    "relu", ReLU, "ReLU max(0, z), trained with an L1 penalty", params=(), region_text=_threshold_region,
    model="numerics.models.relu:ReLUCoder", hyperparameters=L1Training, methods={"relu_sae": "sae"},
    paper_rows={"relu_sae": (0.00, 0.205, 0.00, 0.246)}, sweep={"l1_coeff": (0.003, 0.03, 0.3, 3.0)},
    homogeneous=True))
JUMPRELU = register(Family(
    "jumprelu", JumpReLU, "JumpReLU z·H(z − θ), trained with an L0 penalty", draw_activation=_draw_jumprelu,
    region_text=_threshold_region, model="numerics.models.jumprelu:JumpReLUCoder",
    hyperparameters=JumpReLUTraining, methods={"jumprelu_sae": "sae"},
    paper_rows={"jumprelu_sae": (0.00, 0.237, 0.00, 0.333)},
    sweep={"threshold_init": (0.1, 1.0), "l0_coeff": (0.003, 0.03, 0.3)}))
# the Gated family (its own two-pre-activation unit) is declared in theory/activations/gated.py
