"""Training loop: Adam, progress bar, periodic evaluation, resumable checkpoints, and the recipes of
THEORY.md sections 6 and 8 (neuron resampling, aux-k loss, feature anchoring), each switchable.

The loss per step is
``fvu + penalties/extras (the model's own) + aux-k (TopK family) + anchoring``.
Batches come from :meth:`numerics.data.BenchData.batch`, a pure function of ``(seed, index)``, and
resampling draws from a generator seeded by ``(seed, step)``, so a run resumed from a checkpoint
continues exactly as the uninterrupted run would have.
"""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

import torch

from numerics.config import TrainConfig
from numerics.data import BenchData, _mix
from numerics.device import resolve_device
from numerics.io import latest_checkpoint
from numerics.models import SparseCoder, build_model
from numerics.metrics import unit_columns
from numerics.models.base import fvu, topk_code, total_variance
from numerics.optim import make_adam
from numerics.resample import resample_dead
from numerics.sparse_decode import sparse_decode


def make_model(cfg: TrainConfig, data: BenchData) -> SparseCoder:
    return build_model(cfg.arch, data.d_in, cfg.n_latents, data.d_out, **cfg.model_kwargs())


@dataclass
class TrainResult:
    model: SparseCoder
    history: list = field(default_factory=list)   # periodic evaluations
    steps: int = 0
    wall_s: float = 0.0
    resampled: int = 0                            # neurons resampled over the run


class Trainer:
    """Holds the model, optimizer and dead-latent counters of one run."""

    def __init__(self, cfg: TrainConfig, data: BenchData, model: SparseCoder | None = None):
        cfg.validate(data)
        self.cfg, self.data = cfg, data
        self.device = resolve_device(cfg.device)
        torch.manual_seed(cfg.seed)
        self.model = (model or make_model(cfg, data)).to(self.device)
        if cfg.unit_norm_decoder:
            self.model.normalize_decoder()
        self.opt = make_adam(self.model.parameters(), cfg.lr)
        self.steps_per_epoch = data.n_batches(cfg.batch_size)
        total = int(round(cfg.epochs * self.steps_per_epoch))
        self.total_steps = min(total, cfg.max_steps) if cfg.max_steps else total
        self.last_fired = torch.zeros(self.model.n_latents, dtype=torch.long, device=self.device)
        self.step = 0
        self.resampled = 0
        self.history: list[dict] = []
        k = cfg.anchor_k
        if k:
            # anchors are the normalised ground-truth columns ŵ_p, ŵ_r of the first k features (THEORY.md §6)
            self.anchor_p = unit_columns(data.W_p[:, :k]).T.contiguous().to(self.device)
            self.anchor_r = unit_columns(data.W_r[:, :k]).T.contiguous().to(self.device)
            if cfg.anchor_init:
                # Adam moves each weight by about lr per step, so a penalty alone needs ~1/lr steps to
                # pull a random row onto its anchor; starting there makes short runs measure the
                # anchors' effect on the other features rather than how far the anchors got.
                with torch.no_grad():
                    self.model.encoder_directions()[:k] = self.anchor_p
                    self.model.W_dec[:k] = self.anchor_r
        ckdir = Path(cfg.checkpoint_dir) if cfg.checkpoint_dir else None
        if ckdir and cfg.resume and latest_checkpoint(ckdir) is not None:
            self._resume(ckdir)

    # ------------------------------------------------------------------ loss pieces
    def anchor_loss(self) -> torch.Tensor:
        k = self.cfg.anchor_k
        m = self.model
        return self.cfg.anchor_lambda * ((m.encoder_directions()[:k] - self.anchor_p).pow(2).sum()
                                         + (m.W_dec[:k] - self.anchor_r).pow(2).sum())

    def aux_k_loss(self, x, y, code, y_hat) -> torch.Tensor | None:
        """Gao et al. 2024: reconstruct the residual from the top ``k_aux`` pre-activations of dead latents."""
        dead = (self.step - self.last_fired) > self.cfg.dead_window
        n_dead = int(dead.sum())
        if n_dead == 0:
            return None
        k_aux = min(self.cfg.k_aux, max(1, self.model.n_latents // 2), n_dead)
        with torch.no_grad():
            z = code.pre.masked_fill(~dead, float("-inf"))
            top = z.topk(k_aux, dim=1, sorted=False)
            cols, z_sel = top.indices.reshape(-1), top.values.reshape(-1)
            rows = torch.arange(x.shape[0], device=x.device).repeat_interleave(k_aux)
        aux = topk_code(self.model, x, code.pre, rows, cols, z_sel=z_sel, per_row=k_aux)
        e = (y - y_hat).detach()
        e_hat = sparse_decode(aux.rows, aux.cols, aux.vals, self.model.W_dec, x.shape[0], layout=aux.layout)
        scale = min(n_dead / self.cfg.k_aux, 1.0)
        return self.cfg.aux_k_coeff * scale * fvu(e, e_hat, total_variance(y))

    # ------------------------------------------------------------------ one step
    def train_step(self, batch_index: int) -> dict[str, float]:
        b = self.data.batch(batch_index % self.steps_per_epoch, self.cfg.batch_size, self.device)
        x, y = b.x_p, b.x_r
        self.model.train()
        terms, code, y_hat = self.model.loss(x, y)
        if self.cfg.aux_k and self.model.sparse_code:
            aux = self.aux_k_loss(x, y, code, y_hat)
            if aux is not None:
                terms["aux_k"] = aux
        if self.cfg.anchor_k:
            terms["anchor"] = self.anchor_loss()
        loss = torch.stack(list(terms.values())).sum()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.unit_norm_decoder:
            self.model.remove_parallel_decoder_grad()
        self.opt.step()
        if self.cfg.unit_norm_decoder:
            self.model.normalize_decoder()
        self.model.after_step(code)
        self.last_fired[code.fired()] = self.step + 1
        self.step += 1
        out = {k: float(v.detach()) for k, v in terms.items()}
        out["loss"] = float(loss.detach())
        out["l0"] = code.l0()
        return out

    # ------------------------------------------------------------------ resampling (THEORY.md §8, C9)
    @torch.no_grad()
    def resample_dead(self) -> int:
        """Bricken et al. 2023: re-initialise latents that did not fire over the last window."""
        window = self.resample_every()
        dead = ((self.step - self.last_fired) >= window).nonzero().squeeze(1)
        if dead.numel() == 0:
            return 0
        b = self.data.batch(self.step, self.cfg.resample_batch, self.device, stream=2)
        gen = torch.Generator().manual_seed(_mix(self.cfg.seed, 7, self.step))
        n = resample_dead(self.model, self.opt, dead, b.x_p, b.x_r, gen, scale=0.2)
        if n:
            self.last_fired[dead] = self.step
        return n

    def resample_every(self) -> int:
        return self.cfg.resample_every or max(1, self.total_steps // 4)

    # ------------------------------------------------------------------ evaluation / checkpoints
    @torch.no_grad()
    def quick_eval(self) -> dict:
        from numerics.metrics import recovery

        m = self.model
        m.eval()
        b = self.data.batch(0, self.cfg.eval_samples, self.device, stream=1)
        code = m.encode(b.x_p)
        y_hat = m.decode(code)
        skip = self.cfg.anchor_k
        rec = recovery(m.W_dec.T, self.data.W_r, taus=(0.9,), skip=skip)
        return {"step": self.step, "fvu": float(fvu(b.x_r, y_hat, total_variance(b.x_r))), "l0": code.l0(),
                "dead_frac": 1.0 - float(code.fired().float().mean()), "gt_dec@0.9": rec["gt"][0.9],
                "mip_dec": rec["mip"]}

    def save(self, path: Path) -> None:
        from numerics.io import save_checkpoint

        save_checkpoint(path, self.model, self.opt,
                        {"step": self.step, "total_steps": self.total_steps, "resampled": self.resampled,
                         "history": self.history},
                        config=asdict(self.cfg), extra_tensors={"last_fired": self.last_fired})

    def _resume(self, path: Path) -> None:
        from numerics.io import load_checkpoint

        state, extra = load_checkpoint(path, self.model, self.opt)
        self.step = int(state["step"])
        self.resampled = int(state.get("resampled", 0))
        self.history = list(state.get("history", []))
        if "last_fired" in extra:
            self.last_fired = extra["last_fired"].to(self.device)

    # ------------------------------------------------------------------ the loop
    def run(self, on_eval: Optional[Callable[[dict], None]] = None,
            stop: Optional[Callable[["Trainer"], bool]] = None) -> TrainResult:
        """Train up to ``total_steps``; ``stop(trainer)`` after each step may end the run early (the
        convergence criterion, :class:`numerics.convergence.ConvergenceMonitor`)."""
        from tqdm.auto import tqdm

        cfg = self.cfg
        eval_every = cfg.eval_every or max(1, self.total_steps // 10)
        ckdir = Path(cfg.checkpoint_dir) if cfg.checkpoint_dir else None
        start = time.perf_counter()
        bar = tqdm(total=self.total_steps, initial=self.step, desc=cfg.arch, leave=False,
                   disable=cfg.quiet or not sys.stderr.isatty())
        while self.step < self.total_steps:
            self.train_step(self.step)
            bar.update(1)
            if cfg.resample and self.step % self.resample_every() == 0 and self.step < self.total_steps:
                self.resampled += self.resample_dead()
            if self.step % eval_every == 0 or self.step == self.total_steps:
                ev = self.quick_eval()
                self.history.append(ev)
                bar.set_postfix(fvu=f"{ev['fvu']:.3f}", l0=f"{ev['l0']:.1f}", gt=f"{ev['gt_dec@0.9']:.2f}")
                if on_eval:
                    on_eval(ev)
            if ckdir and cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                self.save(ckdir)
            if stop is not None and stop(self):
                break
        bar.close()
        if ckdir:
            self.save(ckdir)
        return TrainResult(model=self.model, history=self.history, steps=self.step,
                           wall_s=time.perf_counter() - start, resampled=self.resampled)


def train(cfg: TrainConfig, data: BenchData, model: SparseCoder | None = None) -> TrainResult:
    """Train one model on ``data`` as ``cfg`` says (resuming from ``cfg.checkpoint_dir`` if possible)."""
    return Trainer(cfg, data, model).run()

