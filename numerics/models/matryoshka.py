"""Matryoshka SAE (Bussmann et al. 2025; Nabeshima 2024): BatchTopK whose loss also asks every nested
prefix ``[0, m)`` of the dictionary to reconstruct the input on its own.

Loss = sum over prefixes ``m_1 < … < m_P = n_q`` of the prefix FVU (the full-dictionary term is the
usual ``fvu``, the strict prefixes are the ``matryoshka`` term). Prefix sizes default to ``n_q/16, n_q/8, n_q/4, n_q/2, n_q``.

The prefixes are nested, so the code is split once into the disjoint groups ``[m_{j-1}, m_j)``,
each group is decoded on its own entries, and prefix ``j``'s reconstruction is the running sum of
the first ``j`` group decodes: all prefix losses together cost one sparse decode (O(nnz·n_r)), not
one per prefix.
"""
from __future__ import annotations

import torch

from numerics.models.base import Code, fvu, total_variance
from numerics.sparse_decode import sparse_decode
from numerics.models.batchtopk import BatchTopKCoder


class MatryoshkaCoder(BatchTopKCoder):
    name = "matryoshka"

    def __init__(self, *args, prefixes: tuple[int, ...] | list[int] = (), **kw):
        n_latents = args[1] if len(args) > 1 else kw["n_latents"]
        prefixes = sorted({int(p) for p in prefixes if 0 < int(p) < n_latents}) or \
            [n_latents // d for d in (16, 8, 4, 2) if n_latents // d > 0]
        super().__init__(*args, prefixes=list(prefixes), **kw)
        self.prefixes = list(prefixes)

    def _group_decodes(self, code: Code) -> list[torch.Tensor]:
        """``W_D``-decodes (no bias) of the entries in each group ``[m_{j-1}, m_j)``, last group up to n_q."""
        bounds = [0] + self.prefixes + [self.n_latents]
        out = []
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            sel = ((code.cols >= lo) & (code.cols < hi)).nonzero().squeeze(1)   # keeps rows sorted
            out.append(sparse_decode(code.rows[sel], code.cols[sel], code.vals[sel], self.W_dec,
                                     code.batch_size))
        return out

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[dict[str, torch.Tensor], Code, torch.Tensor]:
        code = self.encode(x)
        tv = total_variance(y)
        recon = self.b_dec if self.b_dec is not None else torch.zeros((), dtype=y.dtype, device=y.device)
        prefix_terms = []
        groups = self._group_decodes(code)
        for j, part in enumerate(groups):
            recon = recon + part
            if j < len(groups) - 1:
                prefix_terms.append(fvu(y, recon, tv))
        y_hat = recon.expand_as(y) if recon.dim() < 2 else recon
        terms = {"fvu": fvu(y, y_hat, tv)}
        if prefix_terms:
            terms["matryoshka"] = torch.stack(prefix_terms).sum()
        return terms, code, y_hat

    def extra_losses(self, x, y, code: Code, y_hat, total_var) -> dict[str, torch.Tensor]:
        """The strict-prefix term alone (``loss`` computes it together with the full decode)."""
        terms = []
        for m in self.prefixes:
            part = Code(pre=code.pre, rows=code.rows, cols=code.cols, offsets=code.offsets, layout=code.layout,
                        vals=code.vals * (code.cols < m).to(code.vals.dtype))
            terms.append(fvu(y, self.decode(part), total_var))
        if not terms:
            return {}
        return {"matryoshka": torch.stack(terms).sum()}
