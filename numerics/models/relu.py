"""ReLU SAE with an L1 penalty (Bricken et al. 2023): ``σ(z) = max(0, z)``, penalty ``λ Σ_i a_i ||d_i||``.

The L1 term is weighted by each atom's norm (Anthropic's 2024 update) so that shrinking activations
while growing atoms cannot dodge it; with ``unit_norm_decoder`` it is the plain L1.

When few pre-activations are positive (below ``sparse_below`` of the batch's entries) the code is
built as COO on the positive entries and decoded sparsely; values, loss and gradients are those of
the dense path (tests/numerics compare them).
"""
from __future__ import annotations

import torch

from numerics.models.base import Code, SparseCoder, entries_code


class ReLUCoder(SparseCoder):
    name = "relu"

    def __init__(self, *args, l1_coeff: float = 1e-3, **kw):
        super().__init__(*args, l1_coeff=l1_coeff, **kw)
        self.l1_coeff = l1_coeff

    def encode(self, x: torch.Tensor) -> Code:
        z = self.preacts_nograd(x)
        on = z > 0
        if self.use_sparse(on):
            code, pre = entries_code(self, x, z, on)
            code.vals = torch.relu(pre)
            return code
        return Code(pre=z, acts=torch.relu(self.with_dense_grad(x, z)))

    def penalty(self, code: Code) -> dict[str, torch.Tensor]:
        norms = self.W_dec.norm(dim=1)
        if code.acts is None:
            return {"l1": self.l1_coeff * (code.vals * norms[code.cols]).sum() / code.batch_size}
        return {"l1": self.l1_coeff * (code.acts @ norms).mean()}   # a matvec: no B×n_q temporary
