"""BatchTopK SAE (Bussmann et al. 2024): keep the ``k·B`` largest activations over the whole batch.

The per-sample σ is then not a function of the sample alone (THEORY.md C2 asks about this); at
inference the model uses a single global threshold θ instead, estimated during training as the
running mean of the smallest kept activation of each batch, so that inference is per-sample:
``σ(z) = z·H(z − θ)``.

From step ``threshold_start`` on, ``θ ← m θ + (1 − m) min_kept`` with momentum ``m = threshold_momentum``,
started at the first such batch's value; before it the model (also at evaluation) keeps the batch's top
``k·B``. The default momentum is dictionary_learning's ``threshold_beta = 0.999`` (its
``threshold_start_step = 1000`` is what C10's sweeps use; the default here, 0, gives short runs a threshold
too). A short window (``m = 0.9``, this module's earlier default) leaves θ the noise of about ten
batches, and the held-out loss, evaluated at θ, inherits it: on C10's ``small`` bench, BatchTopK k = 2's
held-out loss over its last convergence window (steps 5,700–6,000) spreads by 4.9 % of its level at 0.9 and
1.0 % at 0.999 (same seed, same final loss 0.010).
"""
from __future__ import annotations

import torch

from numerics.models.base import Code, topk_code
from numerics.models.topk import TopKCoder


class BatchTopKCoder(TopKCoder):
    name = "batchtopk"

    def __init__(self, *args, threshold_momentum: float = 0.999, threshold_start: int = 0, **kw):
        super().__init__(*args, threshold_momentum=threshold_momentum, threshold_start=threshold_start, **kw)
        self.threshold_momentum = float(threshold_momentum)
        self.threshold_start = int(threshold_start)
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

    def after_step(self, code: Code, step: int) -> None:
        m = getattr(self, "_last_min", None)
        if m is None or step < self.threshold_start:
            return
        t = float(self.threshold)
        self.threshold.fill_(m if t < 0 else self.threshold_momentum * t + (1 - self.threshold_momentum) * m)

    def encode(self, x: torch.Tensor) -> Code:
        with torch.no_grad():
            z = self.preacts(x)
            rows, cols, z_sel = self._select(z)
        return topk_code(self, x, z, rows, cols, z_sel=z_sel)


def _kth_largest(v: torch.Tensor, n: int) -> torch.Tensor:
    """The ``n``-th largest entry of the 1-D ``v`` (``1 ≤ n ≤ v.numel()``), as a 0-d tensor."""
    return v.kthvalue(v.numel() - n + 1).values


def _batch_topk(z: torch.Tensor, kB: int, m: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ``kB`` largest positive entries of ``z`` as row-sorted COO ``(rows, cols, z[rows, cols])``, exactly.

    A flat ``topk`` over all ``B·n_q`` entries is ~5× slower than a per-row one on CPU, so:

    1. each row's top ``m`` entries are the candidates; ``cut`` is the ``kB``-th largest candidate,
       a lower bound of the batch's ``kB``-th largest entry ``T`` (the candidates are a subset);
    2. a row whose ``m``-th candidate is below ``cut`` has every entry ``≥ cut`` among its candidates;
       a row whose ``m``-th candidate reaches ``cut`` ("saturated") gets as many candidates as it has
       entries ``≥ cut`` (a wider top-k of those rows only);
    3. now every entry ``≥ cut`` is a candidate, so the ``kB``-th largest candidate is ``T`` itself,
       and the kept entries are the candidates ``≥ T`` (``> 0``: TopK∘ReLU), read off the ``B × m``
       candidate table in row-major order, so rows come out sorted without a sort.

    Ties at ``T`` keep the first ones in row-major order, so exactly ``min(kB, #positive)`` entries
    are kept. Within a row the entries are in candidate (not column) order.
    """
    B, n_q = z.shape
    kB = min(kB, z.numel())
    m = min(max(m, -(-kB // max(B, 1))), n_q)   # at least kB candidates in all
    top = z.topk(m, dim=1, sorted=False)
    vals, idx = top.values, top.indices
    if m < n_q and kB > 0:
        cut = _kth_largest(vals.reshape(-1), kB)
        sat = (vals.min(dim=1).values >= cut).nonzero().squeeze(1)
        if sat.numel():
            zs = z[sat]
            wide = zs.topk(int(torch.count_nonzero(zs >= cut, dim=1).max()), dim=1, sorted=False)
            M = wide.values.shape[1]
            V = vals.new_full((B, M), float("-inf"))
            I = idx.new_zeros((B, M))
            V[:, :m], I[:, :m] = vals, idx
            V[sat], I[sat] = wide.values, wide.indices
            vals, idx = V, I
    if kB == 0:
        keep = torch.zeros_like(vals, dtype=torch.bool)
    else:
        T = _kth_largest(vals.reshape(-1), kB)
        if bool(T > 0):
            keep = vals > T
            tied = vals == T
            need = kB - int(torch.count_nonzero(keep))
            if need < int(torch.count_nonzero(tied)):     # ties at T: the first `need` of them, in row-major order
                first = tied.reshape(-1).nonzero().squeeze(1)[:need]
                keep.view(-1)[first] = True
            else:
                keep |= tied
        else:                               # fewer than kB positive entries: all of them
            keep = vals > 0
    r, j = keep.nonzero(as_tuple=True)
    return r, idx[r, j], vals[r, j]
