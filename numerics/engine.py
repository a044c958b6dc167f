"""The one training engine: Adam (or another optimizer) on a chosen objective, with every extra as a callback.

Everything that trains in the project — the bench (:class:`numerics.train.Trainer`), the studies
(:func:`studies.common.train`; the partial-minima study's plain descent on L̃), C9's arms
(:mod:`proofs_check.c9_resampling`) and the throughput benchmark (``bench/train_throughput.py``) — runs
:meth:`Engine.train_step`; there is no other training loop. (Not training, and so not here: the exact
solvers of :mod:`theory` — L-BFGS / Newton polishing of closed-form objectives — C8's step-halving
descent on L over an enumerated support, and ``bench/step_compare.py``'s plain-torch and peer-library
reference steps, which exist to be compared with ours.)

- **Objective** (a choice): :class:`FVU` (the model's own loss: fraction of variance unexplained plus its
  penalties, as in sparsify), :class:`TheoryUnits` (``E||x_r − x̂_r||² + λ E Σ_i a_i ||d_i||``, the
  theory's units, THEORY.md §5), :class:`ExactLoss` (the exact loss L of an :class:`theory.instance.Instance`
  through :mod:`numerics.objective`, e.g. on float64, C1/C9), :class:`ApproxLoss` (its L̃, no data).
- **Optimizer**: Adam by default, or any ``optimizer(params, lr)`` (:func:`sgd`: plain gradient descent).
- **Batches**: ``batches(index, size, stream) -> numerics.data.Batch``, a pure function of its arguments
  (and the run's seed): stream 0 trains, 1 evaluates (held out), 2 feeds resampling. So a run resumed
  from a checkpoint continues exactly as the uninterrupted run would have.
- **Callbacks** (:class:`Callback`): extra loss terms (:class:`AuxK`, :class:`Anchoring`), gradient and
  weight constraints (:class:`DecoderNorm`), :class:`Resample` (THEORY.md §8, C9), :class:`Evaluate`,
  :class:`Checkpoint`, :class:`Progress`, and the one convergence criterion
  (:class:`numerics.convergence.ConvergenceMonitor`). Any callback may end the run with
  :meth:`Engine.stop`; the result records why (``stop_reason``) and, for a convergence criterion,
  whether it converged.

Per step: batch → objective terms (+ callbacks' terms) → backward → ``before_update`` → Adam →
``after_update`` → the model's ``after_step`` (BatchTopK's threshold) → firing record → ``after_step``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from numerics.data import Batch, _mix
from numerics.models.base import Code, PreactBuffer, fvu, topk_code, total_variance
from numerics.resample import resample_dead
from numerics.optim import make_adam
from numerics.sparse_decode import sparse_decode
from theory.errors import SDLInputError

Batches = Callable[[int, int, int], Batch]  # (index, size, stream) -> Batch; pure


# ============================================================================================ objectives
class FVU:
    """The model's own loss (:meth:`numerics.models.SparseCoder.loss`): FVU + penalties + extras (sparsify)."""

    name = "fvu"

    def __call__(self, model, batch: Batch):
        return model.loss(batch.x_p, batch.x_r)


@dataclass(frozen=True)
class TheoryUnits:
    """``mean ||x_r − x̂_r||² + λ mean Σ_i a_i ||d_i||`` on the batch (THEORY.md §5; λ = 0 for TopK). ``l0``: the
    JumpReLU family's own sparsity term instead, ``λ0 mean Σ_i H(z_i − θ_i)`` with its straight-through θ
    gradient (:meth:`numerics.models.jumprelu.JumpReLUCoder.l0_count`), on the same unnormalised squared error."""

    l1: float = 0.0
    l0: float = 0.0
    name = "theory_units"

    def __call__(self, model, batch: Batch):
        code = model.encode(batch.x_p)
        y_hat = model.decode(code)
        terms = {"mse": (batch.x_r - y_hat).pow(2).sum(1).mean()}
        if self.l1 > 0:
            acts = code.dense()
            terms["l1"] = self.l1 * (acts * model.W_dec.norm(dim=1)).sum(1).mean()
        if self.l0 > 0:
            if not hasattr(model, "l0_count"):
                raise SDLInputError(f"an L0 term needs a JumpReLU model (its straight-through step); got {model.name}")
            terms["l0"] = self.l0 * model.l0_count(code)
        return terms, code, y_hat


@dataclass(frozen=True)
class ExactLoss:
    """The exact loss ``L = E_x ||W_r x − W_D σ(W_E W_p x + b)||²`` of ``instance`` (C1) as a Monte-Carlo
    mean over the batch's feature vectors ``batch.x``, through :func:`numerics.objective.exact_loss`
    (the instance's own σ; the model's parameters' dtype, e.g. float64)."""

    instance: Any
    name = "exact_loss"

    def __call__(self, model, batch: Batch):
        from numerics.objective import instance_tensors, sample_losses

        key = (model.W_enc.dtype, model.W_enc.device)
        cache = self.__dict__.setdefault("_mats", {})  # the instance's matrices, converted once per dtype/device
        if key not in cache:
            cache[key] = instance_tensors(self.instance, model.W_enc)
        losses, Z, H = sample_losses(self.instance, model.W_dec.T, model.W_enc, model.b_enc, batch.x,
                                     mats=cache[key], return_codes=True)
        return {"exact_loss": losses.mean()}, Code(pre=Z.detach(), acts=H.detach()), None


@dataclass(frozen=True)
class ApproxLoss:
    """The approximate objective ``L̃ = Σ_d M_d ||w_r^d − W_D σ(W_E w_p^d + b)||²`` of ``instance`` (THEORY.md
    §3; single features at unit magnitude, no data: the batch is ignored) through
    :func:`numerics.objective.approx_loss`; the code is that of the single-feature inputs (rows = features)."""

    instance: Any
    name = "approx_loss"

    def __call__(self, model, batch):
        from numerics.objective import approx_loss_terms, instance_tensors

        key = (model.W_enc.dtype, model.W_enc.device)
        cache = self.__dict__.setdefault("_mats", {})  # the instance's matrices, converted once per dtype/device
        if key not in cache:
            cache[key] = instance_tensors(self.instance, model.W_enc)
        terms, Z, H = approx_loss_terms(self.instance, model.W_dec.T, model.W_enc, model.b_enc, mats=cache[key],
                                        return_codes=True)
        return {"approx_loss": terms.sum()}, Code(pre=Z.detach(), acts=H.detach()), None


def sgd(params, lr: float):
    """Plain gradient descent (no momentum) for :class:`Engine`'s ``optimizer``; e.g. descent on L̃ (C6/C8)."""
    return torch.optim.SGD(params, lr=lr)


@torch.no_grad()
def objective_total(engine: "Engine", batch: Batch, penalties: bool = False) -> float:
    """The objective's total on ``batch`` in eval mode; with ``penalties``, plus each callback's
    :meth:`Callback.penalty` (e.g. the anchoring term), as the convergence criterion measures it."""
    m = engine.model
    was = m.training
    m.eval()
    try:
        terms, _, _ = engine.objective(m, batch)
        total = float(torch.stack([t.detach() for t in terms.values()]).sum())
        if penalties:
            for cb in engine.callbacks:
                p = cb.penalty(engine)
                if p is not None:
                    total += float(p)
        return total
    finally:
        m.train(was)


def heldout_loss(engine: "Engine", size: int, index: int = 0) -> float:
    """The objective's total on the held-out batch ``(index, size, stream 1)`` (the same batch every call)."""
    return objective_total(engine, engine.batches(index, size, 1))


# ============================================================================================= engine
@dataclass
class RunResult:
    model: Any
    history: list = field(default_factory=list)  # evaluations (Evaluate)
    steps: int = 0
    wall_s: float = 0.0
    resampled: int = 0                            # neurons resampled over the run
    stop_reason: str = "budget"                   # "budget" or what the callback that stopped it said
    converged: bool | None = None                 # set by a convergence criterion; None: none was asked


class Callback:
    """Hooks of the engine; override the ones you need. ``name`` keys the callback's saved state."""

    name = ""

    def on_attach(self, engine: "Engine") -> None:
        """At construction (e.g. resume from a checkpoint, initialise rows)."""

    def on_start(self, engine: "Engine") -> None:
        """When :meth:`Engine.run` starts."""

    def loss_terms(self, engine: "Engine", batch: Batch, code: Code, y_hat) -> dict[str, torch.Tensor]:
        """Extra terms added to this step's loss."""
        return {}

    def before_update(self, engine: "Engine") -> None:
        """After backward, before the optimizer step (gradient constraints)."""

    def after_update(self, engine: "Engine", code: Code) -> None:
        """Right after the optimizer step (weight constraints)."""

    def after_step(self, engine: "Engine", out: dict) -> None:
        """After the step is complete (``engine.step`` counts it); may call :meth:`Engine.stop`."""

    def on_end(self, engine: "Engine") -> None:
        """When the run ends (budget or stop)."""

    def penalty(self, engine: "Engine") -> torch.Tensor | None:
        """A term of the objective that depends on the parameters only (anchoring), counted in the
        held-out loss of the convergence criterion; None: none."""
        return None

    def state(self) -> dict:
        """JSON state saved in checkpoints."""
        return {}

    def load_state(self, state: dict) -> None:
        pass


class Engine:
    """Holds the model, the Adam optimizer, the firing record and the callbacks of one run.

    ``steps`` is the step budget; ``batch_size`` the training batch; ``seed`` seeds everything the callbacks
    draw (resampling) — the batches are the caller's pure function; ``optimizer(params, lr)`` builds the
    optimizer (default Adam, :func:`numerics.optim.make_adam`; :func:`sgd` for plain gradient descent)."""

    def __init__(self, model, objective, batches: Batches, *, steps: int, batch_size: int, lr: float, seed: int = 0,
                 callbacks: Sequence[Callback] = (), batch_index: Callable[[int], int] | None = None,
                 optimizer: Callable | None = None):
        if int(steps) < 0 or int(batch_size) < 1 or not lr > 0:
            raise SDLInputError(f"need steps >= 0, batch_size >= 1, lr > 0; got {steps}, {batch_size}, {lr}")
        self.model, self.objective, self.batches = model, objective, batches
        self.total_steps, self.batch_size, self.lr, self.seed = int(steps), int(batch_size), float(lr), int(seed)
        self.batch_index = batch_index or (lambda i: i)   # e.g. epochs over a finite data set
        self.callbacks = list(callbacks)
        self.opt = (optimizer or make_adam)(model.parameters(), lr)
        self._params = [p for g in self.opt.param_groups for p in g["params"]]
        self._preacts = PreactBuffer()
        device = next(model.parameters()).device
        self.last_fired = torch.zeros(model.n_latents, dtype=torch.long, device=device)  # 1-based step of last firing
        self.step = 0
        self.resampled = 0
        self.history: list[dict] = []
        self.stop_reason: str | None = None
        self.converged: bool | None = None
        self.wall_s = 0.0
        for cb in self.callbacks:
            cb.on_attach(self)

    def callback(self, kind: type) -> Any:
        return next((cb for cb in self.callbacks if isinstance(cb, kind)), None)

    def stop(self, reason: str, converged: bool | None = None) -> None:
        """End the run after the current step; ``reason`` is recorded in the result."""
        self.stop_reason = reason
        if converged is not None:
            self.converged = converged

    # ------------------------------------------------------------------------------ one step
    def train_step(self, index: int | None = None) -> dict[str, float]:
        """One Adam step on batch ``index`` (default: the step counter); returns the loss terms."""
        batch = self.batches(self.batch_index(self.step if index is None else index), self.batch_size, 0)
        self.model.train()
        with self.model.reusing_preacts(self._preacts):   # one B×n_q pre-activation tensor for every step
            terms, code, y_hat = self.objective(self.model, batch)
        for cb in self.callbacks:
            terms.update(cb.loss_terms(self, batch, code, y_hat))
        loss = torch.stack(list(terms.values())).sum()
        for p in self._params:  # = opt.zero_grad(set_to_none=True), without its per-call profiler overhead
            p.grad = None
        loss.backward()
        for cb in self.callbacks:
            cb.before_update(self)
        self.opt.step()
        for cb in self.callbacks:
            cb.after_update(self, code)
        self.model.after_step(code, self.step)
        self.last_fired[code.fired()] = self.step + 1
        self.step += 1
        out = {k: float(v.detach()) for k, v in terms.items()}
        out["loss"] = float(loss.detach())
        out["l0"] = code.l0()
        return out

    def dead(self, window: int) -> torch.Tensor:
        """Latents that did not fire in the last ``window`` steps (indices)."""
        return ((self.step - self.last_fired) >= window).nonzero().squeeze(1)

    # ------------------------------------------------------------------------------ the loop
    def run(self) -> RunResult:
        start = time.perf_counter() - self.wall_s
        for cb in self.callbacks:
            cb.on_start(self)
        while self.step < self.total_steps and self.stop_reason is None:
            out = self.train_step()
            for cb in self.callbacks:
                cb.after_step(self, out)
        if self.stop_reason is None:
            self.stop_reason = "budget"
        self.wall_s = time.perf_counter() - start
        for cb in self.callbacks:
            cb.on_end(self)
        return RunResult(model=self.model, history=self.history, steps=self.step, wall_s=self.wall_s,
                         resampled=self.resampled, stop_reason=self.stop_reason, converged=self.converged)


# ========================================================================================== callbacks
class DecoderNorm(Callback):
    """Unit-norm decoder atoms (Gao et al. 2024): drop the gradient along each atom, renormalise after Adam."""

    name = "decoder_norm"

    def on_attach(self, engine):
        engine.model.normalize_decoder()

    def before_update(self, engine):
        engine.model.remove_parallel_decoder_grad()

    def after_update(self, engine, code):
        engine.model.normalize_decoder()


@dataclass
class AuxK(Callback):
    """Gao et al. 2024: reconstruct the residual from the top ``k_aux`` pre-activations of dead latents
    (no firing in ``dead_window`` steps); weight ``coeff × min(n_dead / k_aux, 1)``. Sparse-code models only."""

    k_aux: int
    dead_window: int
    coeff: float
    name = "aux_k"

    def loss_terms(self, engine, batch, code, y_hat):
        m = engine.model
        if not m.sparse_code:
            return {}
        x, y = batch.x_p, batch.x_r
        dead = (engine.step - engine.last_fired) > self.dead_window
        n_dead = int(dead.sum())
        if n_dead == 0:
            return {}
        k_aux = min(self.k_aux, max(1, m.n_latents // 2), n_dead)
        with torch.no_grad():
            z = code.pre.masked_fill(~dead, float("-inf"))
            top = z.topk(k_aux, dim=1, sorted=False)
            cols, z_sel = top.indices.reshape(-1), top.values.reshape(-1)
            rows = torch.arange(x.shape[0], device=x.device).repeat_interleave(k_aux)
        aux = topk_code(m, x, code.pre, rows, cols, z_sel=z_sel, per_row=k_aux)
        e = (y - y_hat).detach()
        e_hat = sparse_decode(aux.rows, aux.cols, aux.vals, m.W_dec, x.shape[0], layout=aux.layout)
        scale = min(n_dead / self.k_aux, 1.0)
        return {"aux_k": self.coeff * scale * fvu(e, e_hat, total_variance(y))}


class Anchoring(Callback):
    """Feature anchoring (THEORY.md §6, C11): pull the first ``k`` encoder rows and decoder atoms to given
    unit directions with weight ``lam``; ``init`` starts them there (a penalty alone needs ~1/lr steps)."""

    name = "anchoring"

    def __init__(self, anchor_p: torch.Tensor, anchor_r: torch.Tensor, lam: float, init: bool):
        self.anchor_p, self.anchor_r, self.lam, self.init = anchor_p, anchor_r, float(lam), bool(init)
        self.k = anchor_p.shape[0]

    def on_attach(self, engine):
        if self.init:
            with torch.no_grad():
                engine.model.encoder_directions()[:self.k] = self.anchor_p
                engine.model.W_dec[:self.k] = self.anchor_r

    def penalty(self, engine) -> torch.Tensor:
        m, k = engine.model, self.k
        return self.lam * ((m.encoder_directions()[:k] - self.anchor_p).pow(2).sum()
                           + (m.W_dec[:k] - self.anchor_r).pow(2).sum())

    def loss_terms(self, engine, batch, code, y_hat):
        return {"anchor": self.penalty(engine)}


@dataclass
class Resample(Callback):
    """Bricken et al. 2023 (THEORY.md §8, C9): every ``every`` steps up to step ``until`` (inclusive), latents
    that did not fire in the last ``window`` steps (default ``every``) are re-initialised from a batch of
    ``batch`` inputs (stream 2, a pure function of the step) by :func:`numerics.resample.resample_dead`
    with encoder scale ``scale`` × the mean live encoder norm."""

    every: int
    until: int
    window: int = 0
    scale: float = 0.2
    batch: int = 1024
    name = "resample"

    def __post_init__(self):
        if self.every < 1:
            raise SDLInputError(f"resampling needs every >= 1, got {self.every}")

    @torch.no_grad()
    def resample(self, engine) -> int:
        dead = engine.dead(self.window or self.every)
        if dead.numel() == 0:
            return 0
        b = engine.batches(engine.step, self.batch, 2)
        gen = torch.Generator().manual_seed(_mix(engine.seed, 7, engine.step))
        n = resample_dead(engine.model, engine.opt, dead, b.x_p, b.x_r, gen, scale=self.scale)
        if n:
            engine.last_fired[dead] = engine.step
        engine.resampled += n
        return n

    def after_step(self, engine, out):
        if engine.step % self.every == 0 and engine.step <= self.until:
            self.resample(engine)


class Evaluate(Callback):
    """Every ``every`` steps and at the end: ``fn(engine) -> dict`` appended (with the step) to the history."""

    name = "evaluate"

    def __init__(self, every: int, fn: Callable[["Engine"], dict], on_eval: Callable[[dict], None] | None = None):
        self.every, self.fn, self.on_eval = max(1, int(every)), fn, on_eval

    def _eval(self, engine):
        ev = {"step": engine.step, **self.fn(engine)}
        engine.history.append(ev)
        if self.on_eval:
            self.on_eval(ev)

    def after_step(self, engine, out):
        if engine.step % self.every == 0 or engine.step == engine.total_steps:
            self._eval(engine)

    def on_end(self, engine):
        if not engine.history or engine.history[-1]["step"] != engine.step:
            self._eval(engine)


class Checkpoint(Callback):
    """Every ``every`` steps (0: only at the end) and at the end, the whole run state into ``root``
    (:func:`numerics.io.save_checkpoint`: one ``step-<n>/`` directory swapped in by one rename). With
    ``resume``, a run constructed on a ``root`` that holds a checkpoint continues from it."""

    name = "checkpoint"

    def __init__(self, root: str | Path, every: int = 0, resume: bool = True, config: Any = None):
        self.root, self.every, self.resume, self.config = Path(root), int(every), bool(resume), config
        self.saved_step: int | None = None

    def on_attach(self, engine):
        from numerics.io import clean_stale, latest_checkpoint, load_checkpoint

        clean_stale(self.root)
        if not (self.resume and latest_checkpoint(self.root) is not None):
            return
        state, extra = load_checkpoint(self.root, engine.model, engine.opt)
        engine.step = int(state["step"])
        engine.resampled = int(state.get("resampled", 0))
        engine.history = list(state.get("history", []))
        engine.wall_s = float(state.get("wall_s", 0.0))
        if "last_fired" in extra:
            engine.last_fired = extra["last_fired"].to(engine.last_fired.device)
        for cb in engine.callbacks:
            if cb.name in state.get("callbacks", {}):
                cb.load_state(state["callbacks"][cb.name])
        if state.get("stop_reason") not in (None, "budget"):  # stopped by a callback (e.g. converged): stays so
            engine.stop_reason = state["stop_reason"]
            engine.converged = state.get("converged")
        self.saved_step = engine.step

    def save(self, engine) -> Path:
        from numerics.io import save_checkpoint

        state = {"step": engine.step, "total_steps": engine.total_steps, "resampled": engine.resampled,
                 "history": engine.history, "wall_s": engine.wall_s,
                 "stop_reason": engine.stop_reason, "converged": engine.converged,
                 "callbacks": {cb.name: cb.state() for cb in engine.callbacks if cb.state()}}
        path = save_checkpoint(self.root, engine.model, engine.opt, state, config=self.config,
                               extra_tensors={"last_fired": engine.last_fired})
        self.saved_step = engine.step
        return path

    def after_step(self, engine, out):
        if self.every and engine.step % self.every == 0:
            self.save(engine)

    def on_end(self, engine):
        self.save(engine)  # also when this step was saved: the state now says why the run ended


class Progress(Callback):
    """A tqdm bar (on a terminal only) with the last evaluation's numbers."""

    name = "progress"

    def __init__(self, desc: str = "", enabled: bool = True, keys: Sequence[str] = ()):
        self.desc, self.enabled, self.keys, self.bar = desc, enabled, tuple(keys), None

    def on_start(self, engine):
        import sys

        from tqdm.auto import tqdm

        self.bar = tqdm(total=engine.total_steps, initial=engine.step, desc=self.desc, leave=False,
                        disable=not self.enabled or not sys.stderr.isatty())
        self._seen = len(engine.history)

    def after_step(self, engine, out):
        self.bar.update(1)
        if len(engine.history) > self._seen:
            self._seen = len(engine.history)
            ev = engine.history[-1]
            self.bar.set_postfix({k: f"{ev[k]:.3f}" for k in self.keys if k in ev})

    def on_end(self, engine):
        if self.bar is not None:
            self.bar.close()
