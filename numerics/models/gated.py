"""Gated SAE (Rajamanoharan et al. 2024a): a gate path decides which latents fire, a magnitude path
how much.

``π_gate = W_gate x + b_gate``, ``f = H(π_gate) ⊙ relu(W_mag x + b_mag)`` with the tied magnitude
weights ``W_mag = exp(r_mag) ⊙ W_gate`` (row scaling). H blocks gradients, so the gate is trained by
``λ Σ_i relu(π_gate)_i ||d_i||`` plus an auxiliary reconstruction from ``relu(π_gate)`` through a
frozen (detached) decoder. ``W_enc``/``b_enc`` hold ``W_gate``/``b_gate``: the gate decides firing.
"""
from __future__ import annotations

import torch
from torch import nn

from numerics.models.base import Code, SparseCoder, fvu


class GatedCoder(SparseCoder):
    name = "gated"

    def __init__(self, *args, l1_coeff: float = 1e-3, **kw):
        super().__init__(*args, l1_coeff=l1_coeff, **kw)
        self.l1_coeff = l1_coeff
        self.r_mag = nn.Parameter(torch.zeros(self.n_latents))
        self.b_mag = nn.Parameter(torch.zeros(self.n_latents)) if self.bias else None

    def theory_activation(self):
        from theory.activations import ReLU

        return ReLU(), ["gated: the gate decides firing and a separate magnitude path the value, so σ(z)_i ∈ {0, z_i} "
                        "fails; inspected as a ReLU of the gate path"]

    def encode(self, x: torch.Tensor) -> Code:
        pi_gate = self.preacts(x)
        pi_mag = (x @ self.W_enc.T) * self.r_mag.exp()
        if self.b_mag is not None:
            pi_mag = pi_mag + self.b_mag
        acts = (pi_gate > 0).to(x.dtype) * torch.relu(pi_mag)
        return Code(pre=pi_gate, acts=acts)

    def penalty(self, code: Code) -> dict[str, torch.Tensor]:
        gate = torch.relu(code.pre)
        return {"l1": self.l1_coeff * (gate * self.W_dec.norm(dim=1)).sum(1).mean()}

    def extra_losses(self, x, y, code: Code, y_hat, total_var) -> dict[str, torch.Tensor]:
        gate_code = Code(pre=code.pre, acts=torch.relu(code.pre))
        y_gate = self.decode(gate_code, W_dec=self.W_dec.detach(),
                             b_dec=None if self.b_dec is None else self.b_dec.detach())
        return {"gate_aux": fvu(y, y_gate, total_var)}
