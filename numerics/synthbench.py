"""SynthSAEBench (``sae_lens.synthetic``) as ground truth for our metrics (issue 9).

SynthSAEBench draws feature activations (per-feature firing probabilities, e.g. Zipfian; per-feature
magnitudes; hierarchies where a child fires only with its parent) and maps them to hidden activations
``h = Σ_d a_d f_d + offset`` with a :class:`~sae_lens.synthetic.FeatureDictionary`. This module turns
one draw into what our evaluation needs — the features as columns ``W`` (``hidden × n``), the offset,
the samples and which features were on — and reports, on a model of ours:

- explained variance, L0, dead latents and shrinkage (:func:`numerics.sources.evaluate_without_ground_truth`);
- MCC between decoder atoms and features (:func:`numerics.metrics.mcc`, Hungarian matching);
- per-latent firing F1 against each latent's best-matching feature, averaged **over all latents**
  (SAELens's convention: a dead latent counts as F1 = 0) and **over live latents** (ours,
  :func:`numerics.metrics.firing_scores`). The two differ exactly by the dead fraction.

sae-lens is an optional extra: nothing here imports it at module load.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from numerics.metrics import abs_cosines, firing_scores, mcc
from numerics.sources import TensorSource, evaluate_without_ground_truth


@dataclass
class SynthDraw:
    """One seeded draw: features (columns), offset, feature activations and hidden activations."""

    W: torch.Tensor            # hidden × n, unit columns (the dictionary's feature vectors)
    offset: torch.Tensor       # hidden (zeros when the dictionary has no bias)
    features: torch.Tensor     # samples × n
    hidden: torch.Tensor       # samples × hidden
    seed: int

    @property
    def source(self) -> TensorSource:
        return TensorSource(self.hidden)


@torch.no_grad()
def draw(feature_dict, generator, n_samples: int, seed: int) -> SynthDraw:
    """``n_samples`` samples of ``generator`` mapped through ``feature_dict``; the draw uses torch's global
    generator seeded with ``seed`` (as ``eval_sae_on_synthetic_data`` does when seeded the same way)."""
    torch.manual_seed(int(seed))
    feats = generator.sample(int(n_samples))
    feats = feats.to_dense() if feats.is_sparse else feats
    hidden = feature_dict(feats)
    W = feature_dict.feature_vectors.detach().T.contiguous().float()
    bias = getattr(feature_dict, "bias", None)
    offset = bias.detach().float() if isinstance(bias, torch.Tensor) else torch.zeros(W.shape[0])
    return SynthDraw(W, offset, feats.float(), hidden.float(), int(seed))


@torch.no_grad()
def evaluate_on_draw(model, d: SynthDraw, batch_size: int = 4096) -> dict:
    """Ground-truth-free metrics plus MCC and firing F1 (all latents and live latents) on one draw."""
    out = evaluate_without_ground_truth(model, d.source, batch_size=batch_size)
    V = model.W_dec.detach().T.float().cpu()                  # hidden × n_q, decoder atoms as columns
    out["mcc"] = mcc(V, d.W)
    acts = torch.cat([model.encode(x).dense().cpu() for x, _ in d.source.batches(batch_size)])
    best = abs_cosines(V, d.W).argmax(0)                      # each latent's best-matching feature
    live = firing_scores(acts, d.features > 0, best)
    live_frac = 1.0 - out["dead_fraction"]
    out["f1_live"] = live["f1"]
    out["f1_all"] = live["f1"] * live_frac                     # dead latents count as F1 = 0
    out["precision_live"], out["recall_live"] = live["precision"], live["recall"]
    return out
