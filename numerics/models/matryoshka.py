"""Matryoshka SAE (Bussmann et al. 2025; Nabeshima 2024): BatchTopK whose loss also asks every nested
prefix ``[0, m)`` of the dictionary to reconstruct the input on its own.

Loss = sum over prefixes ``m_1 < … < m_P = n_q`` of the prefix FVU (the full-dictionary term is the
usual ``fvu``, the strict prefixes are the ``matryoshka`` term). Prefix sizes default to ``n_q/16, n_q/8, n_q/4, n_q/2, n_q``.

The prefixes are nested, so the code's entries are split once into the disjoint groups
``[m_{j-1}, m_j)`` and decoded by one ``embedding_bag`` with one bag per (group, sample) — a
``P × B × n_r`` stack of group decodes; prefix ``j``'s reconstruction is its cumulative sum over
groups. All prefix losses together cost one sparse decode (O(nnz·n_r)) and one backward through
it (the bag layout shares the code's column sort), not one per prefix.
"""
from __future__ import annotations

import torch

from numerics.models.base import Code, fvu, total_variance
from numerics.sparse_decode import Layout, sparse_decode
from numerics.models.batchtopk import BatchTopKCoder


class MatryoshkaCoder(BatchTopKCoder):
    name = "matryoshka"

    def __init__(self, *args, prefixes: tuple[int, ...] | list[int] = (), **kw):
        n_latents = args[1] if len(args) > 1 else kw["n_latents"]
        prefixes = sorted({int(p) for p in prefixes if 0 < int(p) < n_latents}) or \
            [n_latents // d for d in (16, 8, 4, 2) if n_latents // d > 0]
        super().__init__(*args, prefixes=list(prefixes), **kw)
        self.prefixes = list(prefixes)

    def _group_decodes(self, code: Code) -> torch.Tensor:
        """``P × B × n_r``: the ``W_D``-decode (no bias) of the entries in each group ``[m_{j-1}, m_j)``
        (the last group up to ``n_q``), one sparse decode for all groups."""
        bounds = torch.tensor(self.prefixes, dtype=code.cols.dtype, device=code.cols.device)
        group = torch.bucketize(code.cols, bounds, right=True)          # group of each entry: 0..P-1
        P, B = len(self.prefixes) + 1, code.batch_size
        # group-major, row-sorted within a group: bag = group·B + row is non-decreasing
        perm = torch.argsort(group.to(torch.int32), stable=True)
        bags = group[perm] * B + code.rows[perm]
        if code.layout is None:
            code.layout = Layout.build(code.rows, code.cols, B, self.n_latents)
        layout = code.layout.regroup(perm, bags, P * B)
        out = sparse_decode(bags, layout.cols, code.vals[perm], self.W_dec, P * B, layout=layout)
        return out.view(P, B, -1)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[dict[str, torch.Tensor], Code, torch.Tensor]:
        code = self.encode(x)
        tv = total_variance(y)
        groups = self._group_decodes(code)
        if y.requires_grad or tv.requires_grad:    # a target with a gradient: plain autograd
            recon = groups.cumsum(0)                                    # prefix j's decode, j = 0..P-1
            if self.b_dec is not None:
                recon = recon + self.b_dec
            per_prefix = (recon - y).square().sum(dim=(1, 2)) / tv      # the FVU of each prefix
            y_hat = recon[-1]
        else:
            b = self.b_dec if self.b_dec is not None else torch.zeros(y.shape[1], dtype=y.dtype, device=y.device)
            per_prefix, y_hat = _PrefixFVU.apply(groups, b, y, tv)
        terms = {"fvu": per_prefix[-1]}
        if self.prefixes:
            terms["matryoshka"] = per_prefix[:-1].sum()
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


class _PrefixFVU(torch.autograd.Function):
    """``FVU_j = ||y − b − Σ_{i≤j} D_i||² / tv`` for every prefix ``j`` of the ``P × B × n_r`` group decodes
    ``D``, and ``ŷ = b + Σ_i D_i``, in about three passes over ``D`` forward and two backward (autograd
    through ``cumsum``, ``+ b``, ``− y``, ``square`` and ``sum`` makes about a dozen). ``y`` and ``tv`` are
    constants here (the caller uses plain autograd when they have a gradient)."""

    @staticmethod
    def forward(ctx, D, b, y, tv):
        E = D.detach().clone()
        for j in range(1, E.shape[0]):            # running prefix sums, in place: E_j = Σ_{i≤j} D_i
            E[j] += E[j - 1]
        E.sub_(y - b.detach())                    # E_j = S_j + b − y, the residual of prefix j (negated)
        flat = E.view(E.shape[0], 1, -1)
        per = torch.bmm(flat, flat.transpose(1, 2)).view(-1) / tv
        y_hat = E[-1] + y
        ctx.save_for_backward(E, tv)
        return per, y_hat

    @staticmethod
    def backward(ctx, g_per, g_yhat):
        E, tv = ctx.saved_tensors
        dS = E * (2 * g_per / tv).view(-1, 1, 1)   # d/dS_j of the prefix losses
        if g_yhat is not None:
            dS[-1] += g_yhat
        for j in range(dS.shape[0] - 2, -1, -1):   # D_i enters every prefix j ≥ i: reverse running sums
            dS[j] += dS[j + 1]
        gb = dS[0].sum(0) if ctx.needs_input_grad[1] else None
        return dS, gb, None, None
