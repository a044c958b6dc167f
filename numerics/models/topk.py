"""TopK SAE (Gao et al. 2024): keep the k largest pre-activations of each sample, then ReLU (TopK∘ReLU).

The code is sparse COO (k entries per row) and is decoded with ``numerics.sparse_decode``; the
encoder gradient also only touches the k selected entries per sample.
"""
from __future__ import annotations

import torch

from numerics.models.base import Code, SparseCoder, default_k, topk_code


class TopKCoder(SparseCoder):
    name = "topk_relu"
    sparse_code = True

    def __init__(self, *args, k: int = 0, **kw):
        n_latents = args[1] if len(args) > 1 else kw["n_latents"]
        k = int(k) or default_k(n_latents)
        super().__init__(*args, k=k, **kw)
        self.k = min(k, self.n_latents)

    def select(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B = z.shape[0]
        cols = z.topk(self.k, dim=1, sorted=False).indices.reshape(-1)
        rows = torch.arange(B, device=z.device).repeat_interleave(self.k)
        return rows, cols

    def encode(self, x: torch.Tensor) -> Code:
        with torch.no_grad():
            z = self.preacts(x)
            # the top-k values are the selected pre-activations: no second gather from z
            top = z.topk(self.k, dim=1, sorted=False)
            cols, z_sel = top.indices.reshape(-1), top.values.reshape(-1)
            rows = torch.arange(z.shape[0], device=z.device).repeat_interleave(self.k)
        return topk_code(self, x, z, rows, cols, z_sel=z_sel, per_row=self.k)
