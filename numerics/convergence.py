"""When a run has converged: one stated criterion on held-out batches, checked inside a step budget.

C10/C11 compare methods by what they recover *at convergence*; a method stopped early is not
measured, only our budget is. The criterion (:class:`Convergence`, the one dataclass of it): every
``eval_every`` steps, evaluate the training objective (the engine's objective, plus the penalties of
callbacks that have one, e.g. the anchoring term when anchored) on a fixed held-out sample set
(``heldout_samples`` samples of stream ``HELDOUT_STREAM`` = 3, never trained on); the run has
converged when, over the last ``window`` evaluations after a first one, the held-out loss moved by
less than ``eps`` of its level,

    (max_w L − min_w L) / mean_w L < eps        (:meth:`Convergence.met`, on window + 1 evaluations)

and it stops there. If the budget (``max_steps``; the engine's own step budget) runs out first the
run is recorded as *not converged* (``converged: false``), and the claims treat its numbers as
inconclusive, never as a result.

:class:`ConvergenceMonitor` is that criterion as a :class:`numerics.engine.Callback`: give it to any
engine (``Engine(..., callbacks=[ConvergenceMonitor(crit)])``, ``Trainer(cfg, data, callbacks=[...])``);
it stops the run with ``converged = True`` and its :meth:`~ConvergenceMonitor.record` is what a
run record keeps (``converged``, ``heldout_loss``, ``final_spread``, ``criterion``, ``heldout_history``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch

from numerics.engine import Callback, objective_total
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

    def window_of(self, losses: list[float]) -> list[float]:
        """The last ``window + 1`` held-out losses: the evaluations the test looks at."""
        return list(losses[-(self.window + 1):])

    def spread(self, losses: list[float]) -> float | None:
        """:func:`window_spread` of the window, or None while fewer than ``window + 1`` evaluations exist."""
        w = self.window_of(losses)
        return window_spread(w) if len(w) == self.window + 1 else None

    def met(self, losses: list[float]) -> bool:
        """The test itself: a full window whose relative spread is below ``eps``."""
        s = self.spread(losses)
        return s is not None and s < self.eps

    def to_json(self) -> dict:
        return asdict(self)


def window_spread(values: list[float]) -> float:
    """``(max − min) / |mean|`` of a window of losses (inf for an empty window or a zero mean)."""
    if not values:
        return float("inf")
    mean = sum(values) / len(values)
    return (max(values) - min(values)) / abs(mean) if mean != 0 else (0.0 if max(values) == min(values) else float("inf"))


@dataclass
class ConvergenceMonitor(Callback):
    """The criterion as an engine callback: held-out loss every ``eval_every`` steps, stop when it is met."""

    criterion: Convergence = field(default_factory=Convergence)
    stream: int = HELDOUT_STREAM
    history: list = field(default_factory=list)      # [(step, held-out loss)]
    converged: bool = False
    name = "convergence"

    def __post_init__(self):
        if not isinstance(self.criterion, Convergence):
            raise SDLInputError(f"ConvergenceMonitor takes a numerics.convergence.Convergence, got {self.criterion!r}")
        self.criterion.validate()
        self._batch = None

    @torch.no_grad()
    def heldout_loss(self, engine) -> float:
        """The objective (plus the callbacks' penalties) on the one held-out batch ``(0, heldout_samples, stream)``."""
        if self._batch is None:
            self._batch = engine.batches(0, self.criterion.heldout_samples, self.stream)
        return objective_total(engine, self._batch, penalties=True)

    def after_step(self, engine, out):
        c = self.criterion
        if engine.step % c.eval_every:
            return
        self.history.append((engine.step, self.heldout_loss(engine)))
        losses = [v for _, v in self.history]
        if c.met(losses):
            self.converged = True
            engine.stop(f"converged: held-out loss spread {c.spread(losses):.3g} (< {c.eps:g}) over {c.window} "
                        f"evaluations {c.eval_every} steps apart", converged=True)

    def on_end(self, engine):
        if engine.converged is None:
            engine.converged = self.converged

    def record(self) -> dict:
        losses = [v for _, v in self.history]
        return {"converged": self.converged, "heldout_loss": losses[-1] if losses else None,
                "final_spread": self.criterion.spread(losses), "criterion": self.criterion.to_json(),
                "heldout_history": [list(h) for h in self.history]}

    def state(self):
        return {"history": [list(h) for h in self.history], "converged": self.converged}

    def load_state(self, state):
        self.history = [tuple(h) for h in state.get("history", [])]
        self.converged = bool(state.get("converged", False))
