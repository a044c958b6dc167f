"""The bench's training recipe on :mod:`numerics.engine`: Adam on the FVU objective (as in sparsify),
progress bar, periodic evaluation, resumable checkpoints, and the recipes of THEORY.md sections 6 and 8
(neuron resampling, aux-k loss, feature anchoring), each switchable from :class:`numerics.config.TrainConfig`.

The loss per step is ``fvu + penalties/extras (the model's own) + aux-k (TopK family) + anchoring``.
Batches come from :meth:`numerics.data.BenchData.batch`, a pure function of ``(seed, index)``, and
resampling draws from a generator seeded by ``(seed, step)``, so a run resumed from a checkpoint
continues exactly as the uninterrupted run would have.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence

import torch

from numerics.config import TrainConfig
from numerics.data import BenchData
from numerics.device import resolve_device
from numerics.engine import (FVU, Anchoring, AuxK, Callback, Checkpoint, DecoderNorm, Engine, Evaluate, Progress,
                             Resample, RunResult)
from numerics.metrics import unit_columns
from numerics.models import SparseCoder, build_model
from numerics.models.base import fvu, total_variance

TrainResult = RunResult  # the bench's name for the engine's result


def make_model(cfg: TrainConfig, data: BenchData) -> SparseCoder:
    return build_model(cfg.arch, data.d_in, cfg.n_latents, data.d_out, **cfg.model_kwargs())


class Trainer(Engine):
    """One bench run: the engine with the callbacks ``cfg`` asks for (plus any ``callbacks`` given, e.g. the
    convergence criterion :class:`numerics.convergence.ConvergenceMonitor`), run after the recipe's own and
    before the checkpoint."""

    def __init__(self, cfg: TrainConfig, data: BenchData, model: SparseCoder | None = None,
                 callbacks: Sequence[Callback] = ()):
        cfg.validate(data)
        self.cfg, self.data = cfg, data
        self.device = resolve_device(cfg.device)
        torch.manual_seed(cfg.seed)
        model = (model or make_model(cfg, data)).to(self.device)
        self.steps_per_epoch = data.n_batches(cfg.batch_size)
        total = int(round(cfg.epochs * self.steps_per_epoch))
        total_steps = min(total, cfg.max_steps) if cfg.max_steps else total
        cbs: list[Callback] = []
        if cfg.unit_norm_decoder:
            cbs.append(DecoderNorm())
        if cfg.anchor_k:
            # anchors are the normalised ground-truth columns ŵ_p, ŵ_r of the first k features (THEORY.md §6);
            # anchor_init: Adam moves each weight by about lr per step, so a penalty alone needs ~1/lr steps to
            # pull a random row onto its anchor; starting there makes short runs measure the anchors' effect
            # on the other features rather than how far the anchors got.
            k = cfg.anchor_k
            cbs.append(Anchoring(unit_columns(data.W_p[:, :k]).T.contiguous().to(self.device),
                                 unit_columns(data.W_r[:, :k]).T.contiguous().to(self.device),
                                 cfg.anchor_lambda, cfg.anchor_init))
        if cfg.aux_k:
            cbs.append(AuxK(cfg.k_aux, cfg.dead_window, cfg.aux_k_coeff))
        self.resampler = Resample(every=cfg.resample_every or max(1, total_steps // 4), until=total_steps - 1,
                                  batch=cfg.resample_batch)
        if cfg.resample:
            cbs.append(self.resampler)
        self.evaluator = Evaluate(cfg.eval_every or max(1, total_steps // 10), lambda eng: self.quick_eval(record=False))
        cbs.append(self.evaluator)
        cbs.extend(callbacks)
        if cfg.checkpoint_dir:
            from dataclasses import asdict

            cbs.append(Checkpoint(Path(cfg.checkpoint_dir), cfg.checkpoint_every, cfg.resume, config=asdict(cfg)))
        cbs.append(Progress(cfg.arch, enabled=not cfg.quiet, keys=("fvu", "l0", "gt_dec@0.9")))
        spe = self.steps_per_epoch
        super().__init__(model, FVU(), self._batch, steps=total_steps, batch_size=cfg.batch_size, lr=cfg.lr,
                         seed=cfg.seed, callbacks=cbs, batch_index=lambda i: i % spe)

    def _batch(self, index: int, size: int, stream: int):
        return self.data.batch(index, size, self.device, stream=stream)

    def resample_dead(self) -> int:
        """Bricken et al. 2023: re-initialise latents that did not fire over the last window (now)."""
        return self.resampler.resample(self)

    @torch.no_grad()
    def quick_eval(self, record: bool = False) -> dict:
        from numerics.metrics import recovery

        m = self.model
        m.eval()
        b = self.data.batch(0, self.cfg.eval_samples, self.device, stream=1)
        code = m.encode(b.x_p)
        y_hat = m.decode(code)
        rec = recovery(m.W_dec.T, self.data.W_r, taus=(0.9,), skip=self.cfg.anchor_k)
        m.train()
        return {"step": self.step, "fvu": float(fvu(b.x_r, y_hat, total_variance(b.x_r))), "l0": code.l0(),
                "dead_frac": 1.0 - float(code.fired().float().mean()), "gt_dec@0.9": rec["gt"][0.9],
                "mip_dec": rec["mip"]}

    def run(self, on_eval: Optional[Callable[[dict], None]] = None) -> RunResult:
        """Train up to the step budget (a callback, e.g. :class:`numerics.convergence.ConvergenceMonitor`,
        may end it earlier); ``on_eval(evaluation)`` is called with each periodic evaluation."""
        self.evaluator.on_eval = on_eval
        return super().run()


def train(cfg: TrainConfig, data: BenchData, model: SparseCoder | None = None) -> RunResult:
    """Train one model on ``data`` as ``cfg`` says (resuming from ``cfg.checkpoint_dir`` if possible)."""
    return Trainer(cfg, data, model).run()
