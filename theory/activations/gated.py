"""The Gated SAE unit (Rajamanoharan et al. 2024; THEORY.md section 2).

Each unit has two pre-activations, a *gate* ``z_g = <w_gate, x> + b_gate`` that decides whether it
fires and a *magnitude* ``z_m = <w_mag, x> + b_mag`` that it outputs::

    σ(z)_i = z_m,i · 1{z_g,i > 0}.

The output is not ``{0, z_i}`` of one pre-activation, so it uses the general protocol of
``theory.activations.base``: inside a region each unit's output is a fixed linear function of the
pre-activation vector (here: its magnitude, or 0).

Encoder layout: ``W_E`` stacks the gate rows over the magnitude rows, ``W_E = [W_gate; W_mag]``
(``2 n_q × n_p``), and the bias ``b = [b_gate; b_mag]``; the decoder has ``n_q`` columns.

``tied=True`` is the paper's weight tying ``W_mag = exp(r) ⊙ W_gate`` (row ``i`` of ``W_mag`` is
``e^{r_i}`` times row ``i`` of ``W_gate``), with separate biases. ``e^{r_i} > 0`` multiplies unit
``i``'s output only through the magnitude, so on L̃ and L it is exactly a rescaling of decoder
column ``i`` (``W_D diag(e^r)`` ranges over all decoders): :func:`tied_encoder` builds the stacked
encoder from ``(W_gate, r)``, and inside a region the tied family is the linear subspace
``W_mag = W_gate`` with the scale in the decoder (:meth:`Gated.tie_basis`). Without an encoder
bias a tied Gated unit is a ReLU unit with its output scaled by ``e^{r_i}``.

The paper's magnitude path also has a ReLU (``f = 1[π_gate > 0] ⊙ ReLU(π_mag)``, as the bench's
``numerics.models.gated`` trains). Tied and without a bias it is redundant (``π_mag = e^r π_gate > 0``
whenever the gate is open); otherwise "off" would be a union (gate closed, or magnitude <= 0) and no
longer one convex region, so this family models the magnitude path without it: a known gap.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import sympy as sp

from theory.activations.base import Activation, LinearConstraint, _as_2d
from theory.activations.relu import L1Training
from theory.errors import SDLInputError
from theory.registry import Family, register


@dataclass(frozen=True)
class Gated(Activation):
    """``σ(z)_i = z_mag,i · 1{z_gate,i > 0}``; ``tied``: ``W_mag = exp(r) ⊙ W_gate``."""

    tied: bool = False
    name: ClassVar[str] = "gated"
    pre_per_unit: ClassVar[int] = 2

    def __post_init__(self):
        if not isinstance(self.tied, (bool, np.bool_)):
            raise SDLInputError(f"Gated tied must be True or False, got {self.tied!r}")

    def _split(self, Z):
        Z2, squeeze = _as_2d(Z)
        if Z2.shape[1] % 2:
            raise SDLInputError(
                f"a Gated encoder stacks gate rows over magnitude rows (2 n_q pre-activations), got {Z2.shape[1]}")
        q = Z2.shape[1] // 2
        return Z2[:, :q], Z2[:, q:], squeeze

    def active(self, Z):
        gate, _, squeeze = self._split(Z)
        on = gate > 0
        return on[0] if squeeze else on

    def evaluate(self, Z):
        gate, mag, squeeze = self._split(Z)
        out = np.where(gate > 0, mag, 0.0)
        return out[0] if squeeze else out

    def evaluate_torch(self, z):
        q = z.shape[-1] // 2
        return z[..., q:] * (z[..., :q] > 0).to(z.dtype)

    def output_matrix(self, mask):
        mask, _ = _as_2d(np.asarray(mask, dtype=bool))
        s, q = mask.shape
        C = np.zeros((s, q, 2 * q))
        idx = np.arange(q)
        C[:, idx, q + idx] = mask
        return C

    def output_rows(self, unit: int, n_units: int) -> tuple[int, ...]:
        return (n_units + unit,)

    @property
    def positively_homogeneous(self) -> bool:
        # the gate's sign is scale-invariant and the magnitude scales: σ(c z) = c σ(z) for c > 0
        return True

    def region_constraints(self, mask):
        mask, _ = _as_2d(np.asarray(mask, dtype=bool))
        out = []
        for (row, col), on in np.ndenumerate(mask):
            # the output jumps from 0 to z_mag across z_gate = 0, so both sides are strict
            coeff = -1.0 if on else 1.0
            out.append(LinearConstraint((((row, col), coeff),), 0.0, True))
        return out

    def tie_basis(self, n_units: int, n_p: int, bias: bool) -> np.ndarray | None:
        """``T`` with ``v = T u``: the stacked encoder ``v = (vec W_E, b)`` of the tied family from its free
        parameters ``u = (vec W_gate, b_gate, b_mag)``, ``W_mag = W_gate`` (the scale ``e^r`` is in the
        decoder). None when untied (every ``v`` is allowed)."""
        if not self.tied:
            return None
        k = n_units * n_p
        nv = 2 * k + (2 * n_units if bias else 0)
        nu = k + (2 * n_units if bias else 0)
        T = np.zeros((nv, nu))
        T[:k, :k] = np.eye(k)
        T[k:2 * k, :k] = np.eye(k)
        if bias:
            T[2 * k:, k:] = np.eye(2 * n_units)
        return T

    def encoder_problem(self, W_E) -> str | None:
        W_E = np.asarray(W_E, dtype=float)
        if W_E.shape[0] % 2:
            return f"a Gated encoder stacks gate rows over magnitude rows: W_E needs 2 n_q rows, got {W_E.shape[0]}"
        if self.tied:
            q = W_E.shape[0] // 2
            G, Mg = W_E[:q], W_E[q:]
            norm2 = np.einsum("ij,ij->i", G, G)
            scale = np.where(norm2 > 0, np.einsum("ij,ij->i", Mg, G) / np.maximum(norm2, 1e-300), 1.0)
            if np.any(scale <= 0) or not np.allclose(Mg, scale[:, None] * G, rtol=1e-9, atol=1e-12):
                return ("a tied Gated encoder needs W_mag = exp(r) ⊙ W_gate (each magnitude row a positive multiple "
                        "of its gate row); build it with theory.activations.gated.tied_encoder(W_gate, r)")
        return None

    def symbolic(self, z):
        raise NotImplementedError("a Gated unit has two pre-activations (gate, magnitude); see symbolic_unit()")

    def symbolic_unit(self, z_gate: sp.Symbol, z_mag: sp.Symbol) -> sp.Expr:
        return sp.Piecewise((z_mag, z_gate > 0), (0, True))

    def describe(self):
        return f"Gated(tied={bool(self.tied)})"

    def params(self):
        return {"tied": bool(self.tied)}


def tied_encoder(W_gate, r, b_gate=None, b_mag=None):
    """The stacked encoder ``[W_gate; exp(r) ⊙ W_gate]`` (and bias ``[b_gate; b_mag]``) of a tied Gated SAE."""
    W_gate = np.asarray(W_gate, dtype=float)
    r = np.asarray(r, dtype=float)
    if r.shape != (W_gate.shape[0],):
        raise SDLInputError(f"r must have one entry per unit: shape ({W_gate.shape[0]},), got {r.shape}")
    W_E = np.vstack([W_gate, np.exp(r)[:, None] * W_gate])
    if b_gate is None and b_mag is None:
        return W_E, None
    q = W_gate.shape[0]
    b = np.concatenate([np.zeros(q) if b_gate is None else np.asarray(b_gate, float),
                        np.zeros(q) if b_mag is None else np.asarray(b_mag, float)])
    return W_E, b


def absorb_scale(W_D, W_E, b_E=None):
    """A tied Gated model ``(W_D, [W_gate; e^r ⊙ W_gate], [b_gate; b_mag])`` in the form regions use:
    ``(W_D diag(e^r), [W_gate; W_gate], [b_gate; b_mag / e^r])``, the same function of the input
    (unit ``i`` outputs ``e^{r_i}(<w_gate^i, x> + b_mag,i / e^{r_i})`` when its gate is open)."""
    W_D, W_E = np.asarray(W_D, dtype=float), np.asarray(W_E, dtype=float)
    problem = Gated(tied=True).encoder_problem(W_E)
    if problem:
        raise SDLInputError(problem)
    q = W_E.shape[0] // 2
    G = W_E[:q]
    c = np.einsum("ij,ij->i", W_E[q:], G) / np.maximum(np.einsum("ij,ij->i", G, G), 1e-300)
    c = np.where(np.einsum("ij,ij->i", G, G) > 0, c, 1.0)  # a zero row: any scale, keep 1
    W_E2 = np.vstack([G, G])
    b2 = None if b_E is None else np.concatenate([np.asarray(b_E, float)[:q], np.asarray(b_E, float)[q:] / c])
    return W_D * c[None, :], W_E2, b2


def _gated_region(act, z_text: str, z_latex: str, bias: bool):
    """derive's region section for Gated units: the gate decides, the magnitude is output."""
    from theory.printing import Line

    zg_t = "<w_gate^i, w_p^d>" + (" + b_gate,i" if bias else "")
    zm_t = "<w_mag^i, w_p^d>" + (" + b_mag,i" if bias else "")
    lines = [
        Line("encoder layout", "W_E = [W_gate; W_mag] (2 n_q × n_p)" + (", b = [b_gate; b_mag]" if bias else ""),
             r"W_E = \begin{bmatrix} W_{gate} \\ W_{mag} \end{bmatrix}"),
        Line("unit i on for feature d (gate open)", f"{zg_t} > 0", "", {"op": ">", "threshold": 0.0}),
        Line("unit i off for feature d", f"{zg_t} < 0", "", {"op": "<", "threshold": 0.0}),
        Line("output of unit i when on", zm_t, ""),
        Line("output matrix", "C_d = [0 | diag(1{gate i open for feature d})] (n_q × 2 n_q)",
             r"C_d = \left[0 \;\middle|\; \operatorname{diag}(\mathbb{1}\{\text{gate } i \text{ open}\})\right]"),
    ]
    notes = ["The output jumps from 0 to the magnitude across z_gate = 0, so both sides are strict: a point with a "
             "gate pre-activation exactly 0 belongs to no region."]
    if act.tied:
        notes.append("Tied (Rajamanoharan et al. 2024): W_mag = exp(r) ⊙ W_gate. exp(r_i) > 0 only rescales unit i's "
                     "output, which decoder column i absorbs, so inside a region the tied family is the subspace "
                     "W_mag = W_gate (separate biases); gradients in (W_gate, r): theory.derivation.tied_gated_gradients.")
    else:
        notes.append("Untied: the region constrains only the gate rows and L̃ depends only on the magnitude rows, so the "
                     "gate's gradient vanishes inside every region.")
    return lines, notes


def _draw_gated(draw, max_k: int):
    from hypothesis import strategies as st

    return Gated(tied=draw(st.booleans()))


# searched=False: the claims' default spaces keep their examples per seed; C1–C4 and C6–C8 search Gated apart
# (proofs_check.search.gated_apart). homogeneous: σ(c z) = c σ(z) for tied and untied units (C1's condition)
GATED = register(Family(
    "gated", Gated, "Gated SAE: a gate path decides firing, a magnitude path the value (tied: W_mag = exp(r) ⊙ W_gate)",
    draw_activation=_draw_gated, region_text=_gated_region, model="numerics.models.gated:GatedCoder",
    hyperparameters=L1Training, methods={"gated_sae": "sae"}, sweep={"l1_coeff": (0.003, 0.03, 0.3, 3.0)},
    searched=False, homogeneous=True))
