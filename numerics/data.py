"""The Linear Representation Bench: feature matrices and sparse feature activations (THEORY.md section 5).

* :func:`feature_matrix` draws unit columns and pushes their pairwise inner products below a target
  ``M`` by projected gradient descent, refusing targets no matrix can reach (Welch bound).
* :class:`BenchData` holds the ground truth of one bench instance: ``W_p`` (input side), ``W_r``
  (target side: ``W_p`` itself for an SAE, a second matrix for a transcoder, stacked sources for a
  crosscoder) and the firing model (independent features with probability ``p_active``, or
  SynthSAEBench-style: Zipfian per-feature firing probabilities, hierarchies of several levels where a
  child fires only with its parent, per-feature magnitudes, a data offset).
* :meth:`BenchData.batch` returns batch ``i`` of the stream, a pure function of ``(seed, i)``: a
  100,000 × 1000 sample matrix is never held densely, and any batch can be regenerated exactly.

``p_active`` is the probability that a feature is *on*. The paper writes ``S`` for this in some
places and for ``1 - p_active`` in others (THEORY.md section 5); we avoid the letter.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import torch

from numerics.config import DataConfig, check_interference_target, firing_probabilities, hierarchy_level_sizes
from theory.errors import SDLInputError

def _max_offdiag(G: torch.Tensor, signed: bool) -> float:
    off = G - torch.diag(torch.diag(G))
    off = off if signed else off.abs()
    off = off - torch.eye(G.shape[0], dtype=G.dtype) * 1e9  # diagonal never counts
    return float(off.max()) if G.shape[0] > 1 else 0.0


def feature_matrix(n: int, dim: int, M: float, *, seed: int = 0, signed: bool = False,
                   max_steps: int = 3000, lr: float = 0.05, margin: float = 1e-3, lam: float = 0.01
                   ) -> tuple[torch.Tensor, float]:
    """Unit-norm columns ``W ∈ R^{dim×n}`` with max off-diagonal inner product at most ``M``.

    Projected gradient descent of THEORY.md section 5: minimise
    ``Σ_{i≠j} relu(g_ij − (M − ε))² + λ Σ_{i≠j} relu(g_ij)²`` over ``g = W^T W`` (with ``|g_ij|`` in
    place of ``g_ij`` unless ``signed``), renormalising columns after each step, until the target
    holds. Returns ``(W, reached)`` where ``reached`` is the max (|·| unless signed) inner product
    actually attained (float64 check); it is above ``M`` only if ``max_steps`` ran out.
    """
    check_interference_target(n, dim, M, signed)
    gen = torch.Generator().manual_seed(int(seed))
    W = torch.randn(dim, n, generator=gen, dtype=torch.float64)
    W = W / W.norm(dim=0, keepdim=True)
    eye = torch.eye(n, dtype=torch.bool)
    target = M - margin
    reached = _max_offdiag(W.T @ W, signed)
    for _ in range(max_steps):
        if reached <= M:
            break
        G = W.T @ W
        g = G if signed else G.abs()
        sign = torch.ones_like(G) if signed else torch.sign(G)
        # d/dg of the two penalty terms (diagonal masked out), chained through |g| when unsigned
        dL = 2 * torch.relu(g - target) + lam * 2 * torch.relu(G if signed else g)
        dL = (dL * sign).masked_fill(eye, 0.0)
        grad = 2 * W @ dL  # d/dW Σ f(W^T W) with symmetric dL
        W = W - lr * grad / max(1.0, float(grad.norm(dim=0).max()))
        W = W / W.norm(dim=0, keepdim=True)
        reached = _max_offdiag(W.T @ W, signed)
    return W.float(), reached


@dataclass
class Batch:
    """One batch of the stream: ground-truth features ``x`` (sparse COO, ``B×n``), ``x_p``, ``x_r``."""

    x: torch.Tensor
    x_p: torch.Tensor
    x_r: torch.Tensor


@dataclass
class BenchData:
    """Ground truth of one bench instance. Build with :func:`make_bench`."""

    config: DataConfig
    W_p: torch.Tensor                 # n_p × n   (stacked over sources for a crosscoder)
    W_r: torch.Tensor                 # n_r × n   (W_p itself for SAE and crosscoder)
    reached: dict = field(default_factory=dict)   # interference actually reached per matrix
    offset_p: torch.Tensor | None = None          # data offset added to every x_p (--offset-norm)
    offset_r: torch.Tensor | None = None          # and to every x_r of a transcoder (an SAE's x_r is x_p)

    @property
    def d_in(self) -> int:
        return self.W_p.shape[0]

    @property
    def d_out(self) -> int:
        return self.W_r.shape[0]

    @property
    def n_features(self) -> int:
        return self.W_p.shape[1]

    def n_batches(self, batch_size: int) -> int:
        return math.ceil(self.config.n_samples / batch_size)

    def batch(self, index: int, batch_size: int, device: torch.device | str = "cpu",
              stream: int = 0) -> Batch:
        """Batch ``index`` of the stream: a pure function of ``(seed, stream, index, batch_size)``.

        ``stream`` separates independent sample sets drawn from the same instance (0 = training set,
        1 = evaluation set). The last training batch is shorter when ``n_samples`` is not a multiple.
        """
        cfg = self.config
        B = batch_size if stream else min(batch_size, cfg.n_samples - index * batch_size)
        if B <= 0:
            raise SDLInputError(f"batch {index} is past the end of {cfg.n_samples} samples")
        gen = torch.Generator().manual_seed(_mix(cfg.seed, stream, index, batch_size))
        x = sample_features(B, cfg, gen)   # drawn on CPU: the same seed gives the same data on any device
        W_pT, W_rT = self._transposed_on(torch.device(device))
        x_dev = x.to(device)
        x_p = torch.sparse.mm(x_dev, W_pT)
        x_r = None if W_rT is None else torch.sparse.mm(x_dev, W_rT)
        if self.offset_p is not None:
            x_p = x_p + self.offset_p.to(x_p.device)
            if x_r is not None:
                x_r = x_r + self.offset_r.to(x_r.device)
        return Batch(x=x_dev, x_p=x_p, x_r=x_p if x_r is None else x_r)

    def _transposed_on(self, device: torch.device):
        """``W_p^T`` and ``W_r^T`` (None for SAE/crosscoder) on ``device``, copied once per device."""
        cache = self.__dict__.setdefault("_device_cache", {})
        if device not in cache:
            W_rT = None if self.W_r is self.W_p else self.W_r.T.contiguous().to(device)
            cache[device] = (self.W_p.T.contiguous().to(device), W_rT)
        return cache[device]

    def single_feature_inputs(self, device="cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """Each feature alone at unit magnitude: rows are ``w_p^d`` and ``w_r^d`` (the L̃ inputs, section 3)."""
        return self.W_p.T.contiguous().to(device), self.W_r.T.contiguous().to(device)


def _mix(*parts: int) -> int:
    """Deterministic 63-bit seed from integers (no Python ``hash``: that is salted per process)."""
    h = 1469598103934665603
    for p in parts:
        h = ((h ^ (int(p) & 0xFFFFFFFFFFFFFFFF)) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h >> 1


@functools.lru_cache(maxsize=16)
def _firing_tensor(cfg: DataConfig) -> torch.Tensor:
    return torch.tensor(firing_probabilities(cfg), dtype=torch.float32)


@functools.lru_cache(maxsize=16)
def feature_scales(cfg: DataConfig) -> torch.Tensor | None:
    """Per-feature magnitude scales ``exp(σ z_d − σ²/2)`` (mean 1), drawn once from the data seed; None for σ = 0."""
    sigma = float(cfg.magnitude_spread)
    if sigma == 0:
        return None
    z = torch.randn(cfg.n_features, generator=torch.Generator().manual_seed(_mix(cfg.seed, 4)), dtype=torch.float64)
    return torch.exp(sigma * z - sigma * sigma / 2).float()


def _levels(cfg: DataConfig) -> tuple[list[int], list[int]]:
    """Sizes and first feature index of each hierarchy level (level 0: the parents)."""
    sizes = hierarchy_level_sizes(cfg)
    return sizes, [sum(sizes[:i]) for i in range(len(sizes))]


def hierarchy_groups(cfg: DataConfig) -> list[tuple[int, list[int]]]:
    """``(parent, children)`` of every internal node of the hierarchy, top level first (feature indices)."""
    sizes, offs = _levels(cfg)
    C = cfg.n_children
    return [(offs[lvl - 1] + j, list(range(offs[lvl] + j * C, offs[lvl] + (j + 1) * C)))
            for lvl in range(1, len(sizes)) for j in range(sizes[lvl - 1])]


def sample_features(B: int, cfg: DataConfig, gen: torch.Generator) -> torch.Tensor:
    """Sparse non-negative features ``x ∈ R^{B×n}_+`` as a coalesced COO tensor.

    Feature ``d`` is on independently with probability ``p_d`` (``p_active`` for every feature, or Zipfian
    with mean ``p_active``: :func:`numerics.config.firing_probabilities`) with magnitude
    ``s_d·(c_min + Exp(β))`` (``s_d = 1`` unless ``magnitude_spread > 0``: :func:`feature_scales`).
    Hierarchy: features ``0..P-1`` are parents, then ``P·C`` children (parent ``j`` owns children
    ``P + j·C … P + (j+1)·C − 1``), then with ``hierarchy_levels = 2`` their ``P·C²`` children in the same
    layout, and so on; a feature is forced on whenever one of its children is on (so a child only ever
    fires with its parent), and with ``exclusive_children`` only one (uniformly chosen) of the active
    children of a feature is kept (a dropped child takes its descendants with it).
    """
    n, C = cfg.n_features, cfg.n_children
    on = torch.rand(B, n, generator=gen) < (cfg.p_active if cfg.firing == "uniform" else _firing_tensor(cfg))
    sizes, offs = _levels(cfg)
    for lvl in range(len(sizes) - 1, 0, -1):          # deepest level first: a forced-on child forces its parent
        par, kid, n_par = offs[lvl - 1], offs[lvl], sizes[lvl - 1]
        kids = on[:, kid:kid + sizes[lvl]].view(B, n_par, C)
        if cfg.exclusive_children:
            # keep the active child with the largest random key: a uniform choice among the active ones
            key = torch.rand(B, n_par, C, generator=gen).masked_fill(~kids, -1.0)
            keep = torch.nn.functional.one_hot(key.argmax(-1), C).bool() & kids
            on[:, kid:kid + sizes[lvl]] = keep.view(B, n_par * C)
            kids = keep
            for d in range(lvl + 1, len(sizes)):      # descendants of a dropped child go off with it
                up = on[:, offs[d - 1]:offs[d - 1] + sizes[d - 1]].repeat_interleave(C, dim=1)
                on[:, offs[d]:offs[d] + sizes[d]] &= up
        on[:, par:par + n_par] |= kids.any(-1)
    idx = on.nonzero(as_tuple=False).T
    mags = cfg.c_min + torch.empty(idx.shape[1]).exponential_(1.0, generator=gen) * cfg.beta \
        if cfg.beta > 0 else torch.full((idx.shape[1],), float(cfg.c_min))
    scales = feature_scales(cfg)
    if scales is not None:
        mags = mags * scales[idx[1]]
    return torch.sparse_coo_tensor(idx, mags, (B, n), check_invariants=False).coalesce()


def _offset(dim: int, norm: float, seed: int) -> torch.Tensor:
    v = torch.randn(dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return (v * (norm / v.norm())).float()


def make_bench(cfg: DataConfig, *, quiet: bool = True) -> BenchData:
    """Draw the feature matrices of ``cfg`` (validated first, so bad input fails before any PGD)."""
    cfg.validate()
    n, M, s = cfg.n_features, cfg.interference, cfg.signed_interference
    reached: dict = {}
    W_p, reached["W_p"] = feature_matrix(n, cfg.d_in, M, seed=_mix(cfg.seed, 1), signed=s, max_steps=cfg.pgd_steps)
    W_r = W_p
    if cfg.kind == "transcoder":
        W_r, reached["W_r"] = feature_matrix(n, cfg.d_out or cfg.d_in, M, seed=_mix(cfg.seed, 2), signed=s,
                                             max_steps=cfg.pgd_steps)
    elif cfg.kind == "crosscoder":
        blocks = [W_p]
        for j in range(1, cfg.n_sources):
            Wj, reached[f"W_p[{j}]"] = feature_matrix(n, cfg.d_in, M, seed=_mix(cfg.seed, 3, j), signed=s,
                                                      max_steps=cfg.pgd_steps)
            blocks.append(Wj)
        # x_p = x_r = concatenation of the m sources; a feature's stacked column has norm sqrt(m)
        W_p = W_r = torch.cat(blocks, dim=0)
    for name, value in reached.items():
        if value > M + 1e-9 and not quiet:
            print(f"warning: {name} reached interference {value:.4f} > target {M} after {cfg.pgd_steps} steps")
    offset_p = offset_r = None
    if cfg.offset_norm > 0:
        offset_p = _offset(W_p.shape[0], cfg.offset_norm, _mix(cfg.seed, 5))
        if W_r is not W_p:
            offset_r = _offset(W_r.shape[0], cfg.offset_norm, _mix(cfg.seed, 6))
    return BenchData(config=cfg, W_p=W_p, W_r=W_r, reached=reached, offset_p=offset_p, offset_r=offset_r)
