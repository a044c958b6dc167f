"""ReLU SAE with an L1 penalty (Bricken et al. 2023): ``σ(z) = max(0, z)``, penalty ``λ Σ_i a_i ||d_i||``.

The L1 term is weighted by each atom's norm (Anthropic's 2024 update) so that shrinking activations
while growing atoms cannot dodge it; with ``unit_norm_decoder`` it is the plain L1.
"""
from __future__ import annotations

import torch

from numerics.models.base import Code, SparseCoder


class ReLUCoder(SparseCoder):
    name = "relu"

    def __init__(self, *args, l1_coeff: float = 1e-3, **kw):
        super().__init__(*args, l1_coeff=l1_coeff, **kw)
        self.l1_coeff = l1_coeff

    def encode(self, x: torch.Tensor) -> Code:
        z = self.preacts(x)
        return Code(pre=z, acts=torch.relu(z))

    def penalty(self, code: Code) -> dict[str, torch.Tensor]:
        norms = self.W_dec.norm(dim=1)
        return {"l1": self.l1_coeff * (code.acts * norms).sum(1).mean()}
