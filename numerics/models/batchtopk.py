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
        B, n_q = z.shape
        if self.training or float(self.threshold) < 0:
            flat = torch.relu(z).reshape(-1)
            top = flat.topk(min(self.k * B, flat.numel()), sorted=False)
            idx = top.indices[top.values > 0].sort().values  # sorted flat index = sorted by row
            if self.training and idx.numel():
                self._last_min = float(flat[idx].min())
        else:
            idx = (z.reshape(-1) > self.threshold).nonzero().squeeze(1)
        return idx // n_q, idx % n_q

    def after_step(self, code: Code) -> None:
        m = getattr(self, "_last_min", None)
        if m is None:
            return
        t = float(self.threshold)
        self.threshold.fill_(m if t < 0 else self.threshold_momentum * t + (1 - self.threshold_momentum) * m)

    def encode(self, x: torch.Tensor) -> Code:
        with torch.no_grad():
            z = self.preacts(x)
            rows, cols = self.select(z)
        return topk_code(self, x, z, rows, cols)
