"""A model whose σ is a theory activation (``theory.activations``): the paper's ``W_D σ(W_E x_p + b)`` with
the family's exact σ (``evaluate_torch``), no decoder bias, any dtype (float64 for the claim checks).

Used where training must follow the theory's objective exactly (C9's arms, via
:class:`numerics.engine.ExactLoss`), starting from given parameters. Not in the model registry: it has no
hyperparameters of its own to save; its σ is the instance's.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from numerics.models.base import Code, SparseCoder


class TheoryCoder(SparseCoder):
    name = "theory"
    sparse_code = False

    def __init__(self, activation, W_E, W_D, b_E=None, dtype: torch.dtype = torch.float64):
        """``W_E``: ``n_q × n_p``; ``W_D``: ``n_r × n_q`` (the paper's layout); ``b_E``: ``n_q`` or None."""
        W_E, W_D = np.asarray(W_E, dtype=float), np.asarray(W_D, dtype=float)
        # one decoder column per unit; a unit may read several encoder rows (Gated: gate and magnitude, stacked
        # in blocks of n_q rows, theory.activations.base)
        super().__init__(W_E.shape[1], W_D.shape[1], W_D.shape[0], bias=False)
        self.pre_per_unit = int(getattr(activation, "pre_per_unit", 1))
        self.activation = activation
        self.W_enc = nn.Parameter(torch.tensor(W_E, dtype=dtype))
        self.W_dec = nn.Parameter(torch.tensor(W_D.T.copy(), dtype=dtype))
        self.b_enc = None if b_E is None else nn.Parameter(torch.tensor(np.asarray(b_E, dtype=float), dtype=dtype))

    def encode(self, x: torch.Tensor) -> Code:
        z = self.preacts(x)
        acts = self.activation.evaluate_torch(z)
        # a unit of several pre-activations is on where its output is non-zero (its magnitude may be < 0)
        return Code(pre=z, acts=acts, on=(acts != 0) if self.pre_per_unit > 1 else None)

    def encoder_rows(self, units: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(units + j * self.n_latents for j in range(self.pre_per_unit))

    def spec(self) -> dict:
        return {"name": self.name, "activation": self.activation.describe(), "d_in": self.d_in,
                "n_latents": self.n_latents, "d_out": self.d_out}
