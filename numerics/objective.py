"""The SDL objectives in torch, differentiable with autograd (THEORY.md sections 2–3; C1, C2).

The same formulas as :mod:`theory.objective` (numpy) on tensors:

- :func:`approx_loss` — ``L̃ = Σ_d M_d ||w_r^d − W_D σ(W_E w_p^d + b)||²``;
- :func:`sample_losses` / :func:`exact_loss` — ``||W_r x − W_D σ(W_E W_p x + b) − b_D||²`` per sample and
  its (optionally probability-weighted) mean over a batch of feature vectors ``x``.

The activation's ``evaluate_torch`` is used, so gradients are autograd's. Device and dtype follow the
parameters (CPU by default, CUDA when the tensors live there; float32 or float64): the instance's
matrices are moved to them. With BatchTopK, L̃ treats the ``n`` single-feature inputs as one batch
(the toolkit's convention); the per-sample losses use the inference threshold ``JumpReLU(threshold)``
unless ``batch_activation=True`` asks for the batch-wide rule over the given samples.
"""
from __future__ import annotations

import numpy as np
import torch

from theory.errors import SDLInputError
from theory.instance import Instance


def instance_tensors(instance: Instance, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(W_p, W_r, M)`` of the instance on ``like``'s device and dtype."""
    kw = dict(dtype=like.dtype, device=like.device)
    # np.array copies: the instance's arrays are read-only and torch warns about sharing them
    return tuple(torch.as_tensor(np.array(a), **kw) for a in (instance.W_p, instance.W_r, instance.weights))


def _check(instance: Instance, W_D: torch.Tensor, W_E: torch.Tensor, b_E: torch.Tensor | None) -> None:
    for name, t in (("W_D", W_D), ("W_E", W_E)) + ((("b_E", b_E),) if b_E is not None else ()):
        if not isinstance(t, torch.Tensor):
            raise SDLInputError(f"{name} must be a torch tensor (use theory.objective for numpy arrays)")
        if not t.is_floating_point():
            raise SDLInputError(f"{name} must be a floating-point tensor (float32 or float64), got {t.dtype}")
        if t.dtype != W_E.dtype or t.device != W_E.device:
            raise SDLInputError(f"{name} is {t.dtype} on {t.device} but W_E is {W_E.dtype} on {W_E.device}; "
                                "put all parameters on one device with one dtype")
    if W_E.ndim != 2 or W_E.shape[1] != instance.n_p:
        raise SDLInputError(f"W_E must be n_q × n_p = ? × {instance.n_p}, got shape {tuple(W_E.shape)}")
    # a unit may read several encoder rows (Gated: gate and magnitude); the decoder has one column per unit
    m = instance.activation.pre_per_unit
    if W_E.shape[0] % m:
        raise SDLInputError(f"W_E must have {m} rows per unit for {instance.activation.describe()}, got {W_E.shape[0]} rows")
    n_q = W_E.shape[0] // m
    if tuple(W_D.shape) != (instance.n_r, n_q):
        raise SDLInputError(f"W_D must be n_r × n_q = {instance.n_r} × {n_q}, got shape {tuple(W_D.shape)}")
    if b_E is not None:
        if not instance.encoder_bias:
            raise SDLInputError("b_E given but the instance has encoder_bias=False; use instance.replace(encoder_bias=True)")
        if tuple(b_E.shape) != (W_E.shape[0],):
            raise SDLInputError(f"b_E must have shape ({W_E.shape[0]},) (one entry per encoder row), got {tuple(b_E.shape)}")


def single_feature_codes(instance: Instance, W_E: torch.Tensor, b_E: torch.Tensor | None = None) -> torch.Tensor:
    """``X_q[d] = σ(W_E w_p^d + b)``: the codes of the batch of single-feature inputs (features × n_q)."""
    W_p, _, _ = instance_tensors(instance, W_E)
    Z = W_p.T @ W_E.T
    if b_E is not None:
        Z = Z + b_E
    return instance.activation.evaluate_torch(Z)


def approx_loss_terms(instance: Instance, W_D: torch.Tensor, W_E: torch.Tensor, b_E: torch.Tensor | None = None,
                      *, mats=None, return_codes: bool = False):
    """Per-feature terms ``M_d ||w_r^d − W_D σ(W_E w_p^d + b)||²`` of L̃ (``mats``: :func:`instance_tensors`
    computed once by a caller that evaluates many steps; ``return_codes``: also ``(Z, σ(Z))`` of the features)."""
    _check(instance, W_D, W_E, b_E)
    W_p, W_r, M = instance_tensors(instance, W_E) if mats is None else mats
    Z = W_p.T @ W_E.T
    if b_E is not None:
        Z = Z + b_E
    H = instance.activation.evaluate_torch(Z)
    R = W_r.T - H @ W_D.T
    terms = M * (R * R).sum(dim=1)
    return (terms, Z, H) if return_codes else terms


def approx_loss(instance: Instance, W_D: torch.Tensor, W_E: torch.Tensor, b_E: torch.Tensor | None = None) -> torch.Tensor:
    """The approximate objective ``L̃(W_D, W_E)`` as a 0-d tensor (C2–C8)."""
    return approx_loss_terms(instance, W_D, W_E, b_E).sum()


def _per_sample(instance: Instance, batch_activation: bool):
    act = instance.activation
    if act.per_sample or batch_activation:
        return act
    try:
        return act.at_inference()
    except SDLInputError as exc:
        raise SDLInputError(f"per-sample losses need a per-sample activation; {act.describe()} is batch-dependent "
                            f"({exc}); or pass batch_activation=True for the batch-wide rule") from None


def sample_losses(instance: Instance, W_D: torch.Tensor, W_E: torch.Tensor, b_E: torch.Tensor | None, X: torch.Tensor,
                  b_D: torch.Tensor | None = None, *, batch_activation: bool = False, mats=None,
                  return_codes: bool = False):
    """``||W_r x − (W_D σ(W_E W_p x + b) + b_D)||²`` for each row ``x`` of ``X`` (samples × n).

    ``mats``: :func:`instance_tensors` computed once by a caller that evaluates many batches (training);
    ``return_codes``: also return ``(Z, σ(Z))``, the pre-activations and codes of the batch."""
    _check(instance, W_D, W_E, b_E)
    if not isinstance(X, torch.Tensor) or X.ndim != 2 or X.shape[1] != instance.n:
        raise SDLInputError(f"X must be a samples × n = ? × {instance.n} tensor of feature activations")
    if X.dtype != W_E.dtype or X.device != W_E.device:
        raise SDLInputError(f"X is {X.dtype} on {X.device} but the parameters are {W_E.dtype} on {W_E.device}")
    act = _per_sample(instance, batch_activation)
    W_p, W_r, _ = instance_tensors(instance, W_E) if mats is None else mats
    Z = X @ (W_E @ W_p).T
    if b_E is not None:
        Z = Z + b_E
    H = act.evaluate_torch(Z)
    recon = H @ W_D.T
    if b_D is not None:
        if tuple(b_D.shape) != (instance.n_r,):
            raise SDLInputError(f"b_D must have shape ({instance.n_r},), got {tuple(b_D.shape)}")
        recon = recon + b_D
    R = X @ W_r.T - recon
    losses = (R * R).sum(dim=1)
    return (losses, Z, H) if return_codes else losses


def exact_loss(instance: Instance, W_D: torch.Tensor, W_E: torch.Tensor, b_E: torch.Tensor | None, X: torch.Tensor,
               probabilities: torch.Tensor | None = None, b_D: torch.Tensor | None = None, *,
               batch_activation: bool = False) -> torch.Tensor:
    """``L = E_x ||W_r x − W_D σ(W_E W_p x + b)||²`` over the batch ``X`` (C1).

    Without ``probabilities`` the plain mean over the samples (a Monte-Carlo estimate); with them
    ``Σ_s p_s loss_s``: exact when ``X`` enumerates every outcome (e.g. all active sets at constant
    magnitude) and ``p_s`` their probabilities.
    """
    losses = sample_losses(instance, W_D, W_E, b_E, X, b_D, batch_activation=batch_activation)
    if probabilities is None:
        return losses.mean()
    if tuple(probabilities.shape) != (X.shape[0],):
        raise SDLInputError(f"probabilities must have one entry per sample: shape ({X.shape[0]},), got {tuple(probabilities.shape)}")
    return (probabilities.to(losses) * losses).sum()
