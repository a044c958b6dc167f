"""When a run has converged: a stated criterion on held-out batches, checked inside a step budget.

C10/C11 compare methods by what they recover *at convergence*; a method stopped early is not
measured, only our budget is. The criterion (``Convergence``): every ``eval_every`` steps, evaluate
the training objective (the model's own loss terms, plus the anchoring term when anchored) on a
fixed held-out sample set (stream 3 of the bench, never trained on); the run has converged when,
over the last ``window`` evaluations, the held-out loss moved by less than ``eps`` of its level,

    (max_w L − min_w L) / mean_w L < eps,

and it stops there. If ``max_steps`` runs out first the run is recorded as *not converged*
(``converged: false``), and the claims treat its numbers as inconclusive, never as a result.

:class:`ConvergenceMonitor` is the stopping hook: ``Trainer.run(stop=monitor)`` calls it after every
step with the trainer and stops when it returns True.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch

from theory.errors import SDLInputError

HELDOUT_STREAM = 3   # bench stream of the convergence batches (0 train, 1 evaluation, 2 resampling)


@dataclass(frozen=True)
class Convergence:
    eps: float = 2e-3          # relative spread of the held-out loss over the window
    window: int = 6            # evaluations in the window (window · eval_every steps)
    eval_every: int = 50       # steps between held-out evaluations
    max_steps: int = 6000      # step budget
    heldout_samples: int = 2048

    def validate(self) -> None:
        if not self.eps > 0:
            raise SDLInputError(f"convergence eps must be > 0, got {self.eps}")
        for name in ("window", "eval_every", "max_steps", "heldout_samples"):
            if int(getattr(self, name)) < 1:
                raise SDLInputError(f"convergence {name} must be a positive integer, got {getattr(self, name)}")
        if self.window * self.eval_every > self.max_steps:
            raise SDLInputError(f"convergence window ({self.window} × {self.eval_every} steps) exceeds the budget "
                                f"max_steps = {self.max_steps}; raise max_steps or shrink the window")

    def to_json(self) -> dict:
        return asdict(self)


def window_spread(values: list[float]) -> float:
    """``(max − min) / |mean|`` of a window of losses (inf for an empty window or a zero mean)."""
    if not values:
        return float("inf")
    mean = sum(values) / len(values)
    return (max(values) - min(values)) / abs(mean) if mean != 0 else (0.0 if max(values) == min(values) else float("inf"))


@dataclass
class ConvergenceMonitor:
    """Stopping hook for :meth:`numerics.train.Trainer.run`: held-out loss every ``eval_every`` steps."""

    criterion: Convergence = field(default_factory=Convergence)
    history: list = field(default_factory=list)      # [(step, held-out loss)]
    converged: bool = False
    _batch: object = None

    def heldout_loss(self, trainer) -> float:
        m = trainer.model
        if self._batch is None:
            self._batch = trainer.data.batch(0, self.criterion.heldout_samples, trainer.device, stream=HELDOUT_STREAM)
        b = self._batch
        was_training = m.training
        m.eval()
        try:
            with torch.no_grad():
                terms, _, _ = m.loss(b.x_p, b.x_r)
                total = float(torch.stack(list(terms.values())).sum())
                if trainer.cfg.anchor_k:
                    total += float(trainer.anchor_loss())
        finally:
            m.train(was_training)
        return total

    def __call__(self, trainer) -> bool:
        c = self.criterion
        if trainer.step % c.eval_every:
            return False
        self.history.append((trainer.step, self.heldout_loss(trainer)))
        recent = [v for _, v in self.history[-(c.window + 1):]]
        if len(recent) == c.window + 1 and window_spread(recent) < c.eps:
            self.converged = True
        return self.converged

    def record(self) -> dict:
        last = self.history[-1][1] if self.history else None
        spread = window_spread([v for _, v in self.history[-(self.criterion.window + 1):]]) \
            if len(self.history) > self.criterion.window else None
        return {"converged": self.converged, "heldout_loss": last, "final_spread": spread,
                "criterion": self.criterion.to_json(), "heldout_history": [list(h) for h in self.history]}
