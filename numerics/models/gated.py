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
        from theory.activations import ReLU

        return ReLU(), ["gated: the gate decides firing and a separate magnitude path the value, so σ(z)_i ∈ {0, z_i} "
                        "fails; inspected as a ReLU of the gate path"]

    def encode(self, x: torch.Tensor) -> Code:
        z = self.preacts_nograd(x)                      # π_gate
        on = z > 0
        if self.use_sparse(int(on.sum()), z):
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
        return {"l1": self.l1_coeff * (gate * norms).sum(1).mean()}

    def extra_losses(self, x, y, code: Code, y_hat, total_var) -> dict[str, torch.Tensor]:
        if code.acts is None:
            gate_code = Code(pre=code.pre, rows=code.rows, cols=code.cols, vals=code.gate_vals,
                             offsets=code.offsets, layout=code.layout)
        else:
            gate_code = Code(pre=code.pre, acts=torch.relu(code.pre))
        y_gate = self.decode(gate_code, W_dec=self.W_dec.detach(),
                             b_dec=None if self.b_dec is None else self.b_dec.detach())
        return {"gate_aux": fvu(y, y_gate, total_var)}
