"""The optimizer every training loop uses: Adam, fused into one kernel per parameter where torch has one.

Unfused Adam makes about ten passes over each parameter (``lerp_``, ``mul_``, ``addcmul_``, ``sqrt``,
``div``, ``addcdiv_``…); at the paper's sizes that is ~0.14× of the encoder matmul per step on a
2-core CPU, the fused kernel ~0.03× (``bench/train_throughput.py`` measures the whole step). The
update rule is the same; only rounding order differs.
"""
from __future__ import annotations

import torch


def make_adam(params, lr: float) -> torch.optim.Adam:
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # old torch, or a device without a fused kernel
        return torch.optim.Adam(params, lr=lr)
