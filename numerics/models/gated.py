"""Gated SAE (Rajamanoharan et al. 2024a): a gate path decides which latents fire, a magnitude path
how much.

``π_gate = W_gate x + b_gate``, ``f = H(π_gate) ⊙ relu(W_mag x + b_mag)`` with the tied magnitude
weights ``W_mag = exp(r_mag) ⊙ W_gate`` (row scaling). H blocks gradients, so the gate is trained by
``λ Σ_i relu(π_gate)_i ||d_i||`` plus an auxiliary reconstruction from ``relu(π_gate)`` through a
frozen (detached) decoder. ``W_enc``/``b_enc`` hold ``W_gate``/``b_gate``: the gate decides firing.

Every term lives on the entries with ``π_gate > 0``; when they are few (below ``sparse_below``)
the code is COO on them and all three decodes are sparse, with the dense path's loss and gradients.
"""
from __future__ import annotations

import torch
from torch import nn

from numerics.models.base import Code, SparseCoder, entries_code, fvu


class GatedCoder(SparseCoder):
    name = "gated"

    def __init__(self, *args, l1_coeff: float = 1e-3, **kw):
        super().__init__(*args, l1_coeff=l1_coeff, **kw)
        self.l1_coeff = l1_coeff
        self.r_mag = nn.Parameter(torch.zeros(self.n_latents))
        self.b_mag = nn.Parameter(torch.zeros(self.n_latents)) if self.bias else None

    def theory_activation(self):
        from theory.activations import Gated

        notes = []
        if self.b_mag is not None:
            notes.append("gated: the magnitude path's ReLU (f = 1[π_gate > 0] · relu(π_mag)) is not in theory's Gated unit "
                         "(σ = 1[z_gate > 0] · z_mag); the reading is exact on the inputs where every open gate has "
                         "π_mag > 0 (counted on the single-feature inputs under 'gated_magnitude_nonpositive')")
        return Gated(tied=True), notes

    def theory_encoder(self):
        """``[W_gate; exp(r) ⊙ W_gate]`` and ``[b_gate; b_mag]`` (the theory's tied Gated layout), with a decoder
        bias subtracted before encoding folded into both biases."""
        W_gate = self.W_enc.double()   # float64: each magnitude row an exact multiple of its gate row
        W_mag = self.r_mag.double().exp()[:, None] * W_gate
        W_E = torch.cat([W_gate, W_mag])
        if self.b_enc is None:
            return W_E, None
        b_mag = self.b_mag if self.b_mag is not None else torch.zeros_like(self.b_enc)
        b = torch.cat([self.b_enc, b_mag]).double()
        if self.apply_b_dec_to_input:
            b = b - W_E @ self.b_dec.double()
        return W_E, b

    def encode(self, x: torch.Tensor) -> Code:
        z = self.preacts_nograd(x)                      # π_gate
        on = z > 0
        if self.use_sparse(on):
            code, xw = entries_code(self, x, z, on, bias=False)     # (x W_gateᵀ) at the entries
            c = code.cols
            pi_gate = xw + self.b_enc[c] if self.b_enc is not None else xw
            pi_mag = xw * self.r_mag.exp()[c] + (self.b_mag[c] if self.b_mag is not None else 0.0)
            code.gate_vals, code.vals = torch.relu(pi_gate), torch.relu(pi_mag)
            return code
        xw = self.with_dense_grad(x, z - self.b_enc.detach() if self.b_enc is not None else z, bias=False)
        pi_gate = xw + self.b_enc if self.b_enc is not None else xw
        pi_mag = xw * self.r_mag.exp()
        if self.b_mag is not None:
            pi_mag = pi_mag + self.b_mag
        acts = on.to(x.dtype) * torch.relu(pi_mag)
        return Code(pre=pi_gate, acts=acts)

    def penalty(self, code: Code) -> dict[str, torch.Tensor]:
        norms = self.W_dec.norm(dim=1)
        if code.acts is None:
            return {"l1": self.l1_coeff * (code.gate_vals * norms[code.cols]).sum() / code.batch_size}
        gate = torch.relu(code.pre)
        return {"l1": self.l1_coeff * (gate @ norms).mean()}       # a matvec: no B×n_q temporary

    def extra_losses(self, x, y, code: Code, y_hat, total_var) -> dict[str, torch.Tensor]:
        if code.acts is None:
            gate_code = Code(pre=code.pre, rows=code.rows, cols=code.cols, vals=code.gate_vals,
                             offsets=code.offsets, layout=code.layout)
        else:
            gate_code = Code(pre=code.pre, acts=torch.relu(code.pre))
        y_gate = self.decode(gate_code, W_dec=self.W_dec.detach(),
                             b_dec=None if self.b_dec is None else self.b_dec.detach())
        return {"gate_aux": fvu(y, y_gate, total_var)}
