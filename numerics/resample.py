"""Neuron resampling (Bricken et al. 2023, as commonly implemented; THEORY.md section 8, claim C9).

One function, shared by the bench trainer and the studies: given the latents marked dead over a
window and a batch of inputs, sample inputs with probability ∝ (per-input loss)², set each dead
latent's decoder atom to the normalised target, its encoder row to the normalised input scaled to
``scale`` × the mean norm of the live encoder rows (0.2 in the recipe), its encoder bias to 0, and
reset its rows of the optimizer state. A unit with several encoder rows (a theory Gated unit: gate and
magnitude, :meth:`numerics.models.base.SparseCoder.encoder_rows`) gets that row in each; the live norm
is the mean over the live units' rows that decide firing.
"""
from __future__ import annotations

import torch


def _unit_rows(V: torch.Tensor) -> torch.Tensor:
    return V / V.norm(dim=1, keepdim=True).clamp_min(1e-12)


@torch.no_grad()
def resample_dead(model, opt: torch.optim.Optimizer, dead: torch.Tensor, x_p: torch.Tensor, x_r: torch.Tensor,
                  gen: torch.Generator, scale: float = 0.2) -> int:
    """Re-initialise the latents ``dead`` (indices) of ``model`` from the batch ``(x_p, x_r)``; returns how many.

    ``gen`` is a CPU generator (the sampling is reproducible from it). Nothing happens when the batch
    is reconstructed perfectly (no input to sample).
    """
    if dead.numel() == 0:
        return 0
    was_training = model.training
    model.eval()  # per-input losses as the model is used (BatchTopK: its inference threshold)
    per_input = (x_r - model(x_p)).pow(2).sum(1)
    model.train(was_training)
    weights = per_input.pow(2).cpu().double()
    if float(weights.sum()) <= 0:
        return 0
    pick = torch.multinomial(weights, dead.numel(), replacement=True, generator=gen).to(x_p.device)
    live = torch.ones(model.n_latents, dtype=torch.bool, device=x_p.device)
    live[dead] = False
    enc = model.encoder_directions()
    deciding = model.encoder_rows(live.nonzero().squeeze(1))[0]
    live_norm = enc[deciding].norm(dim=1).mean() if live.any() else torch.tensor(1.0, device=x_p.device)
    model.W_dec[dead] = _unit_rows(x_r[pick]).to(model.W_dec.dtype)
    blocks = model.encoder_rows(dead)          # the dead units' rows, one block per pre-activation of a unit
    rows = torch.cat(blocks)
    enc[rows] = (_unit_rows(x_p[pick]) * scale * live_norm).to(enc.dtype).repeat(len(blocks), 1)
    if model.b_enc is not None:                # one bias entry per encoder row
        model.b_enc[rows] = 0.0
    for p, idx in ((model.W_dec, dead), (enc, rows), (model.b_enc, rows)):
        if p is None:
            continue
        for v in opt.state.get(p, {}).values():
            if isinstance(v, torch.Tensor) and v.dim() > 0:
                v[idx] = 0.0
    return int(dead.numel())
