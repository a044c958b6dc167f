"""Matryoshka SAE (Bussmann et al. 2025; Nabeshima 2024): BatchTopK whose loss also asks every nested
prefix ``[0, m)`` of the dictionary to reconstruct the input on its own.

Loss = sum over prefixes ``m_1 < … < m_P = n_q`` of the prefix FVU (the full-dictionary term is the
usual ``fvu``, the strict prefixes are the ``matryoshka`` term). Prefix sizes default to ``n_q/16, n_q/8, n_q/4, n_q/2, n_q``. Each prefix decode is one
more sparse decode with the entries outside the prefix zeroed, so it stays O(nnz·n_r).
"""
from __future__ import annotations

import torch

from numerics.models.base import Code, fvu
from numerics.models.batchtopk import BatchTopKCoder


class MatryoshkaCoder(BatchTopKCoder):
    name = "matryoshka"

    def __init__(self, *args, prefixes: tuple[int, ...] | list[int] = (), **kw):
        n_latents = args[1] if len(args) > 1 else kw["n_latents"]
        prefixes = sorted({int(p) for p in prefixes if 0 < int(p) < n_latents}) or \
            [n_latents // d for d in (16, 8, 4, 2) if n_latents // d > 0]
        super().__init__(*args, prefixes=list(prefixes), **kw)
        self.prefixes = list(prefixes)

    def extra_losses(self, x, y, code: Code, y_hat, total_var) -> dict[str, torch.Tensor]:
        terms = []
        for m in self.prefixes:
            part = Code(pre=code.pre, rows=code.rows, cols=code.cols, offsets=code.offsets,
                        vals=code.vals * (code.cols < m).to(code.vals.dtype))
            terms.append(fvu(y, self.decode(part), total_var))
        if not terms:
            return {}
        return {"matryoshka": torch.stack(terms).sum()}
