"""JumpReLU SAE (Rajamanoharan et al. 2024b): ``σ(z) = z·H(z − θ)``, L0 penalty ``λ Σ_i H(z_i − θ_i)``.

H has zero derivative almost everywhere, so θ is trained with a straight-through estimator: the
pseudo-derivative replaces the Dirac delta by a rectangle kernel of width ``bandwidth`` ε,
``∂/∂θ JumpReLU(z) ≈ −(θ/ε) K((z−θ)/ε)`` and ``∂/∂θ H(z−θ) ≈ −(1/ε) K((z−θ)/ε)`` with
``K(u) = 1{|u| < 1/2}``. ``z`` gets the true gradient ``H(z−θ)``.

θ is stored as ``log θ`` (``threshold_storage="log"``, θ > 0 always) or directly as the parameter
``threshold`` (``"direct"``), as SAELens now does: Adam's steps are scale-free in the parameter, so a
log parametrisation moves a small θ by tiny absolute amounts and thresholds barely train. The
activation is ``relu(z)·H(z − θ)`` (SAELens's), equal to ``z·H(z − θ)`` whenever θ >= 0.

Only entries with ``z > θ − ε/2`` carry a value or a gradient (active, or inside the kernel's
band); when they are few (below ``sparse_below`` of the batch) the code is COO on exactly those
entries and is decoded sparsely, with the same loss and gradients as the dense path.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from numerics.models.base import Code, SparseCoder, entries_code


def _kernel(u: torch.Tensor) -> torch.Tensor:
    return (u.abs() < 0.5).to(u.dtype)


class _JumpReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, theta, eps):
        ctx.save_for_backward(z, theta)
        ctx.eps = eps
        return z * (z > theta).to(z.dtype)

    @staticmethod
    def backward(ctx, g):
        z, theta = ctx.saved_tensors
        gz = g * (z > theta).to(z.dtype)
        gtheta = g * -(theta / ctx.eps) * _kernel((z - theta) / ctx.eps)
        return gz, (gtheta.sum(0) if gtheta.shape != theta.shape else gtheta), None


class _Step(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, theta, eps):
        ctx.save_for_backward(z, theta)
        ctx.eps = eps
        return (z > theta).to(z.dtype)

    @staticmethod
    def backward(ctx, g):
        z, theta = ctx.saved_tensors
        gtheta = g * -(1.0 / ctx.eps) * _kernel((z - theta) / ctx.eps)
        return None, (gtheta.sum(0) if gtheta.shape != theta.shape else gtheta), None


class JumpReLUCoder(SparseCoder):
    name = "jumprelu"

    def __init__(self, *args, l0_coeff: float = 1e-3, threshold_init: float = 0.1, bandwidth: float = 0.05,
                 threshold_storage: str = "log", **kw):
        if threshold_storage not in ("log", "direct"):
            from theory.errors import SDLInputError

            raise SDLInputError(f"threshold_storage must be 'log' or 'direct', got {threshold_storage!r}")
        extra = {"threshold_storage": "direct"} if threshold_storage == "direct" else {}
        super().__init__(*args, l0_coeff=l0_coeff, threshold_init=threshold_init, bandwidth=bandwidth, **extra, **kw)
        self.l0_coeff, self.bandwidth, self.threshold_storage = l0_coeff, bandwidth, threshold_storage
        if threshold_storage == "log":
            self.log_threshold = nn.Parameter(torch.full((self.n_latents,), math.log(threshold_init)))
        else:
            self.threshold = nn.Parameter(torch.full((self.n_latents,), float(threshold_init)))

    def __getattr__(self, name):
        # ``threshold`` is the parameter itself when stored directly, exp(log_threshold) otherwise
        if name == "threshold" and "log_threshold" in self.__dict__.get("_parameters", {}):
            return self._parameters["log_threshold"].exp()
        return super().__getattr__(name)

    def theory_activation(self):
        import numpy as np

        from theory.activations import JumpReLU

        theta = self.threshold.detach().double().cpu().numpy()
        act = JumpReLU(theta=float(np.median(theta)))
        notes = []
        if np.ptp(theta) > 1e-6 * max(1.0, float(np.abs(theta).max())):
            notes.append(f"JumpReLU thresholds differ per neuron (θ in [{theta.min():.3g}, {theta.max():.3g}]); "
                         f"inspected with one θ = median = {act.theta:.3g}")
        return act, notes

    def encode(self, x: torch.Tensor) -> Code:
        z = self.preacts_nograd(x)
        theta = self.threshold
        live = z > theta.detach() - self.bandwidth / 2      # value or kernel gradient possible
        if self.use_sparse(live):
            code, pre = entries_code(self, x, z, live)
            code.gate_vals = pre                             # z at the entries, for the L0 term
            code.vals = _JumpReLU.apply(torch.relu(pre), theta[code.cols], self.bandwidth)
            return code
        zg = self.with_dense_grad(x, z)
        return Code(pre=zg, acts=_JumpReLU.apply(torch.relu(zg), theta, self.bandwidth))

    def l0_count(self, code: Code) -> torch.Tensor:
        """``mean Σ_i H(z_i − θ_i)`` over the batch, with the straight-through gradient of θ (none for ``z``)."""
        if code.gate_vals is not None:       # sparse path: the step is 0 with 0 gradient off the entries
            return _Step.apply(code.gate_vals, self.threshold[code.cols], self.bandwidth).sum() / code.batch_size
        return _Step.apply(code.pre, self.threshold, self.bandwidth).sum(1).mean()

    def penalty(self, code: Code) -> dict[str, torch.Tensor]:
        return {"l0": self.l0_coeff * self.l0_count(code)}
