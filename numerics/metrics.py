"""Ground-truth metrics of a trained dictionary on the bench (THEORY.md sections 5 and 8).

Learned directions ``V`` are normalised columns: the decoder atoms (compared with ``W_r``) and,
separately, the encoder rows (compared with ``W_p``). With ``s_i = max_j |<v_j, w^i>|``:

* GT recovery ``M_GT(τ) = mean_i 1{s_i > τ}`` (at τ = 0.9 / 0.95 and as a curve over τ),
* mean max inner product ``M_IP = mean_i s_i``,
* MCC: mean |cos| of the Hungarian (``scipy.optimize.linear_sum_assignment``) one-to-one matching,
* per-latent precision / recall / F1 of firing against the best-matching feature,
* dead fraction, L0, explained variance, shrinkage, the single-feature activation pattern and ``L̃``,
* absorption rate per parent on hierarchical data.

Anchored features (the first ``skip``) are left out of the feature-side averages (THEORY.md §6).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from numerics.data import BenchData
from numerics.models.base import SparseCoder, total_variance

DEFAULT_TAUS = (0.9, 0.95)
CURVE_TAUS = tuple(round(t, 2) for t in np.linspace(0.0, 1.0, 21))


def unit_columns(V: torch.Tensor) -> torch.Tensor:
    V = V.detach().float()
    return V / V.norm(dim=0, keepdim=True).clamp_min(1e-12)


def abs_cosines(V: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """``|<v_j, w^i>|`` for normalised columns: ``n × n_q`` (features × latents)."""
    # clamp: rounding can put a perfect match at 1 + 1e-7, which would count as "above τ = 1"
    return (unit_columns(W).T @ unit_columns(V).to(W.device)).abs().clamp_max(1.0)


def recovery(V: torch.Tensor, W: torch.Tensor, taus=DEFAULT_TAUS, skip: int = 0, curve: bool = False) -> dict:
    """``M_GT`` at each τ, ``M_IP``, and (optionally) the ``M_GT`` curve, over features ``skip..n-1``."""
    s = abs_cosines(V, W).max(dim=1).values[skip:].cpu()
    out = {"gt": {float(t): float((s > t).float().mean()) for t in taus}, "mip": float(s.mean())}
    if curve:
        out["curve"] = [[float(t), float((s > t).float().mean())] for t in CURVE_TAUS]
    return out


def mcc(V: torch.Tensor, W: torch.Tensor, skip: int = 0) -> float:
    """Mean |cos| over the Hungarian matching of features to distinct latents (maximum total |cos|)."""
    C = abs_cosines(V, W)[skip:].cpu().double().numpy()
    if C.size == 0:
        return float("nan")
    if C.shape[1] > 4 * C.shape[0]:
        # An optimal matching only uses, per feature, latents among its top-n candidates (a feature
        # can lose at most n-1 latents to others), so this restriction is exact and much faster.
        keep = np.unique(np.argpartition(-C, C.shape[0] - 1, axis=1)[:, : C.shape[0]])
        C = C[:, keep]
    r, c = linear_sum_assignment(C, maximize=True)
    return float(C[r, c].sum() / C.shape[0])


def random_baseline(n_latents: int, W: torch.Tensor, taus=DEFAULT_TAUS, seed: int = 0, skip: int = 0) -> dict:
    """Recovery metrics of a random unit dictionary of ``n_latents`` atoms (what chance scores)."""
    gen = torch.Generator().manual_seed(int(seed))
    V = torch.randn(W.shape[0], n_latents, generator=gen)
    return recovery(V, W.cpu(), taus, skip=skip)


def firing_scores(acts: torch.Tensor, x_on: torch.Tensor, best_feature: torch.Tensor) -> dict:
    """Per-latent precision/recall/F1 of ``latent fires`` against ``its best-matching feature is on``.

    Averages over latents that fire at least once (dead latents have no precision).
    """
    fires = acts > 0
    truth = x_on[:, best_feature]
    tp = (fires & truth).sum(0).double()
    n_fire, n_true = fires.sum(0).double(), truth.sum(0).double()
    live = n_fire > 0
    prec = tp / n_fire.clamp_min(1)
    rec = tp / n_true.clamp_min(1)
    f1 = 2 * tp / (n_fire + n_true).clamp_min(1)
    if not live.any():
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    return {"precision": float(prec[live].mean()), "recall": float(rec[live].mean()), "f1": float(f1[live].mean())}


@torch.no_grad()
def activation_pattern(model: SparseCoder, data: BenchData) -> dict:
    """The pattern ``P = (F_1..F_{n_q})`` on single-feature unit inputs (THEORY.md §3) and ``L̃``.

    ``L̃`` here uses equal feature weights (mean over d of ``||w_r^d − x̂_r(w_p^d)||²``).
    """
    model.eval()
    dev = next(model.parameters()).device
    xp, xr = data.single_feature_inputs(dev)
    code = model.encode(xp)
    on = code.dense() > 0                      # n × n_q: feature d switches neuron i on
    sizes = on.sum(0)                          # |F_i|
    used = sizes > 0
    return {
        "neurons_per_feature": float(on.sum(1).float().mean()),
        "features_without_neuron": float((on.sum(1) == 0).float().mean()),
        "dead_in_pattern": float((~used).float().mean()),
        "polysemantic_frac": float((sizes[used] >= 2).float().mean()) if used.any() else 0.0,
        "max_features_per_neuron": int(sizes.max()) if sizes.numel() else 0,
        "approx_loss": float((xr - model.decode(code)).pow(2).sum(1).mean()),
    }


@torch.no_grad()
def absorption(acts: torch.Tensor, x_on: torch.Tensor, V: torch.Tensor, W: torch.Tensor, dec_dirs: torch.Tensor,
               n_parents: int = 0, n_children: int = 0, off_frac: float = 0.1, cos_min: float = 0.3, *,
               groups: list | None = None) -> dict:
    """Absorption rate per parent (Chanin et al. 2025; THEORY.md §8).

    A sample where a child of parent p is on counts as *absorbed* when p's best-matching latent (by
    ``V``, encoder rows or decoder atoms) is off or below ``off_frac`` of its mean value on parent-on
    samples, while another active latent's decoder atom has |cos| ≥ ``cos_min`` with ``w^p``.
    ``groups``: ``(parent, children)`` pairs (every internal node of a several-level hierarchy,
    :func:`numerics.data.hierarchy_groups`); default: parents ``0..P-1`` owning ``P + p·C …``.
    """
    P, C = n_parents, n_children
    if groups is None:
        groups = [(p, list(range(P + p * C, P + (p + 1) * C))) for p in range(P)]
    if not groups:
        return {}
    cos_v = abs_cosines(V, W)                       # n × n_q
    cos_d = abs_cosines(dec_dirs, W)
    rates = []
    for p, children in groups:
        j = int(cos_v[p].argmax())
        parent_on = x_on[:, p]
        typical = acts[parent_on, j].mean() if parent_on.any() else acts[:, j].max()
        child_on = x_on[:, children].any(1)
        if not child_on.any():
            continue
        weak = acts[child_on, j] <= off_frac * typical
        carriers = (cos_d[p] >= cos_min)
        carriers[j] = False
        other = ((acts[child_on] > 0) & carriers).any(1)
        rates.append(float((weak & other).float().mean()))
    return {"absorption_rate": float(np.mean(rates)) if rates else float("nan"),
            "absorption_per_parent": rates}


@torch.no_grad()
def evaluate(model: SparseCoder, data: BenchData, *, n_samples: int = 4096, taus=DEFAULT_TAUS, skip: int = 0,
             batch_size: int = 4096) -> dict:
    """All metrics of ``model`` on ``n_samples`` held-out samples (stream 1 of ``data``)."""
    model.eval()
    dev = next(model.parameters()).device
    W_p, W_r = data.W_p.to(dev), data.W_r.to(dev)
    enc_V, dec_V = model.encoder_directions().T, model.W_dec.T
    out: dict = {}
    for side, V, W in (("dec", dec_V, W_r), ("enc", enc_V, W_p)):
        rec = recovery(V, W, taus, skip=skip, curve=True)
        out[side] = {"gt": rec["gt"], "mip": rec["mip"], "curve": rec["curve"], "mcc": mcc(V, W, skip)}
    # sample-based metrics, accumulated over batches of the held-out stream
    sse = tv = l0 = shrink = 0.0
    n_seen = 0
    fired = torch.zeros(model.n_latents, dtype=torch.bool, device=dev)
    acts_all, on_all = [], []
    keep_dense = n_samples * model.n_latents <= 2e8      # firing scores need the dense acts
    for i in range(math.ceil(n_samples / batch_size)):
        B = min(batch_size, n_samples - i * batch_size)
        b = data.batch(i, B, dev, stream=1)
        code = model.encode(b.x_p)
        y_hat = model.decode(code)
        sse += float((b.x_r - y_hat).pow(2).sum())
        tv += float(total_variance(b.x_r))
        l0 += code.l0() * B
        nz = b.x_r.pow(2).sum(1) > 0
        shrink += float(((y_hat * b.x_r).sum(1)[nz] / b.x_r.pow(2).sum(1)[nz]).sum())
        n_seen += int(nz.sum())
        fired |= code.fired()
        if keep_dense:
            acts_all.append(code.dense())
            on_all.append(b.x.to_dense() > 0)
    out["explained_variance"] = 1.0 - sse / max(tv, 1e-12)
    out["l0"] = l0 / n_samples
    out["dead_frac"] = 1.0 - float(fired.float().mean())
    out["shrinkage"] = shrink / max(n_seen, 1)       # E <x̂, x> / ||x||²: 1 = no shrinkage
    if keep_dense:
        acts, on = torch.cat(acts_all), torch.cat(on_all)
        for side, V, W in (("dec", dec_V, W_r), ("enc", enc_V, W_p)):
            best = abs_cosines(V, W).argmax(0)
            out[side].update(firing_scores(acts, on, best))
            cfg = data.config
            if cfg.n_parents:
                from numerics.data import hierarchy_groups

                out[side].update(absorption(acts, on, V, W, dec_V, groups=hierarchy_groups(cfg)))
    out["pattern"] = activation_pattern(model, data)
    return out
