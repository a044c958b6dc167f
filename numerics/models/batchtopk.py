"""BatchTopK SAE (Bussmann et al. 2024): keep the ``k·B`` largest activations over the whole batch.

The per-sample σ is then not a function of the sample alone (THEORY.md C2 asks about this); at
inference the model uses a single global threshold θ instead, estimated during training as the
running mean of the smallest kept activation of each batch, so that inference is per-sample:
``σ(z) = z·H(z − θ)``.
"""
from __future__ import annotations

import torch

from numerics.models.base import Code, topk_code
from numerics.models.topk import TopKCoder


class BatchTopKCoder(TopKCoder):
    name = "batchtopk"

    def __init__(self, *args, threshold_momentum: float = 0.9, **kw):
        super().__init__(*args, threshold_momentum=threshold_momentum, **kw)
        self.threshold_momentum = threshold_momentum
        # -1 marks "not estimated yet"; saved with the model so inference after loading matches
        self.register_buffer("threshold", torch.tensor(-1.0))

    def theory_activation(self):
        from theory.activations import JumpReLU, TopKReLU

        thr = float(self.threshold)
        if thr >= 0:
            return JumpReLU(theta=thr), [f"{self.name}: inspected at inference, as JumpReLU with the learned global "
                                         f"threshold {thr:.3g}"]
        return TopKReLU(k=int(self.k)), [f"{self.name}: no inference threshold learned yet; inspected as "
                                         f"TopK∘ReLU(k={self.k})"]

    def select(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._select(z)[:2]

    def _select(self, z: torch.Tensor):
        """Row-sorted ``(rows, cols, z[rows, cols])`` of the kept entries."""
        B, n_q = z.shape
        if self.training or float(self.threshold) < 0:
            rows, cols, vals = _batch_topk(z, min(self.k * B, z.numel()), min(2 * self.k, n_q))
            if self.training and vals.numel():
                self._last_min = float(vals.min())
            return rows, cols, vals
        idx = (z.reshape(-1) > self.threshold).nonzero().squeeze(1)
        rows, cols = idx // n_q, idx % n_q
        return rows, cols, z[rows, cols]

    def after_step(self, code: Code) -> None:
        m = getattr(self, "_last_min", None)
        if m is None:
            return
        t = float(self.threshold)
        self.threshold.fill_(m if t < 0 else self.threshold_momentum * t + (1 - self.threshold_momentum) * m)

    def encode(self, x: torch.Tensor) -> Code:
        with torch.no_grad():
            z = self.preacts(x)
            rows, cols, z_sel = self._select(z)
        return topk_code(self, x, z, rows, cols, z_sel=z_sel)


def _batch_topk(z: torch.Tensor, kB: int, m: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ``kB`` largest positive entries of ``z`` (row-sorted COO), exactly.

    A flat ``topk`` over all ``B·n_q`` entries is ~10× slower than a per-row one on CPU. So take
    each row's top ``m`` (candidates), then the ``kB`` largest candidates. That is the exact batch
    top-kB unless some row has more than ``m`` entries above the resulting cut: then its ``m``-th
    largest value reaches the cut, and we fall back to the flat ``topk``.
    """
    B, n_q = z.shape
    top = z.topk(m, dim=1, sorted=False)
    cand = top.values.reshape(-1)
    best = cand.topk(min(kB, cand.numel()), sorted=False)
    cut = best.values.min()
    if bool((top.values.min(dim=1).values >= cut).any()) and m < n_q:
        flat = z.reshape(-1)
        best = flat.topk(kB, sorted=False)
        idx = best.indices
    else:
        idx = top.indices.reshape(-1)[best.indices] + torch.div(best.indices, m, rounding_mode="floor") * n_q
    keep = best.values > 0                                # TopK∘ReLU: only positive entries fire
    idx = idx[keep].sort().values                         # sorted flat index = sorted by row
    rows, cols = torch.div(idx, n_q, rounding_mode="floor"), idx % n_q
    return rows, cols, z.reshape(-1)[idx]
