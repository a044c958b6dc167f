"""When a run has converged: one stated criterion on held-out batches, checked inside a step budget.

C10/C11 compare methods by what they recover *at convergence*; a method stopped early is not
measured, only our budget is. The criterion (:class:`Convergence`, the one dataclass of it): every
``eval_every`` steps, evaluate the training objective (the engine's objective, plus the penalties of
callbacks that have one, e.g. the anchoring term when anchored) on a fixed held-out sample set
(``heldout_samples`` samples of stream ``HELDOUT_STREAM`` = 3, never trained on); the run has
converged when, over the last ``window`` evaluations after a first one, the held-out loss moved by
less than ``eps`` of its level,

    (max_w L − min_w L) / mean_w L < eps        (:meth:`Convergence.met`, on window + 1 evaluations)

and it stops there (``converged_by: "spread"``).

At a constant learning rate the optimizer's noise sets a floor under that spread: a run whose held-out
loss is flat but jitters by more than ``eps`` of a small level (BatchTopK at the scaled bench: loss 0.05,
spread 1 %, fitted trend 0.01 % per window) never meets it, while a smooth slow decline does. So a run
that reaches the budget is also judged by its **trend**: a least-squares line through the last
``PLATEAU_WINDOWS · window + 1`` held-out losses, its slope per window relative to their mean, ``t``, and
that slope's standard error ``s`` (from the fit's residuals); the run has converged on a plateau
(``converged_by: "plateau"``) when

    |t| + PLATEAU_Z · s < eps           (:meth:`Convergence.plateau`)

— the loss moves by less than ``eps`` of its level per window, the same statement as the spread test,
with the noise averaged out instead of counted, and with the fit's own uncertainty against it. The test
is applied only at the budget, so it never changes when a run stops (or what it trains): it reads the
held-out history every run record keeps, and a stored run is judged again by it when read back
(:func:`judge`). If neither test holds at the budget the run is recorded as *not converged*
(``converged: false``), and the claims treat its numbers as inconclusive, never as a result.

:class:`ConvergenceMonitor` is that criterion as a :class:`numerics.engine.Callback`: give it to any
engine (``Engine(..., callbacks=[ConvergenceMonitor(crit)])``, ``Trainer(cfg, data, callbacks=[...])``);
it stops the run with ``converged = True`` and its :meth:`~ConvergenceMonitor.record` is what a
run record keeps (``converged``, ``heldout_loss``, ``final_spread``, ``criterion``, ``heldout_history``).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import ClassVar

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
    # the trend test at the budget: class constants, not fields, because they do not change training
    # (a run's key is its fields) — a stored run is judged by the current test when read (:func:`judge`)
    PLATEAU_WINDOWS: ClassVar[int] = 4
    PLATEAU_Z: ClassVar[float] = 2.0

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

    def plateau(self, losses: list[float]) -> dict | None:
        """The trend test on the last ``PLATEAU_WINDOWS · window + 1`` losses: ``{"trend", "stderr", "met"}``
        (relative change per window of the least-squares line, its standard error, and
        ``|trend| + PLATEAU_Z · stderr < eps``), or None while there are fewer losses than that."""
        n = self.PLATEAU_WINDOWS * self.window + 1
        if len(losses) < n:
            return None
        y = [float(v) for v in losses[-n:]]
        mean = sum(y) / n
        if not all(math.isfinite(v) for v in y) or mean <= 0:
            return {"trend": float("nan"), "stderr": float("nan"), "met": False}
        xs = [i - (n - 1) / 2 for i in range(n)]
        sxx = sum(x * x for x in xs)
        slope = sum(x * v for x, v in zip(xs, y)) / sxx
        resid = sum((v - mean - slope * x) ** 2 for x, v in zip(xs, y))
        se = math.sqrt(resid / (n - 2) / sxx)
        trend, stderr = slope * self.window / mean, se * self.window / mean
        return {"trend": trend, "stderr": stderr, "met": abs(trend) + self.PLATEAU_Z * stderr < self.eps}

    def judge(self, losses: list[float], steps: int, stopped_converged: bool) -> str | None:
        """How a run converged: ``"spread"`` (it stopped on the spread test), ``"plateau"`` (it reached the
        budget and the trend test holds), or None (not converged)."""
        if stopped_converged:
            return "spread"
        if int(steps) >= self.max_steps:
            p = self.plateau(losses)
            if p is not None and p["met"]:
                return "plateau"
        return None

    def to_json(self) -> dict:
        return {**asdict(self), "plateau_windows": self.PLATEAU_WINDOWS, "plateau_z": self.PLATEAU_Z}


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
    converged_by: str | None = None                  # "spread" (stopped on it) or "plateau" (the trend test at the budget)
    steps: int = 0                                   # the step the run ended at
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
            self.converged, self.converged_by = True, "spread"
            engine.stop(f"converged: held-out loss spread {c.spread(losses):.3g} (< {c.eps:g}) over {c.window} "
                        f"evaluations {c.eval_every} steps apart", converged=True)

    def on_end(self, engine):
        self.steps = int(engine.step)
        if not self.converged:
            by = judge(self._as_record(), self.criterion)["converged_by"]
            if by is not None:    # reached the budget on a plateau (the trend test)
                self.converged, self.converged_by = True, by
                engine.converged = True
        if engine.converged is None:
            engine.converged = self.converged

    def _as_record(self) -> dict:
        return {"steps": self.steps, "heldout_history": [list(h) for h in self.history],
                "converged_by": self.converged_by}

    def record(self) -> dict:
        losses = [v for _, v in self.history]
        return {"heldout_loss": losses[-1] if losses else None, "final_spread": self.criterion.spread(losses),
                "criterion": self.criterion.to_json(), "heldout_history": [list(h) for h in self.history],
                **judge(self._as_record(), self.criterion)}

    def state(self):
        return {"history": [list(h) for h in self.history], "converged": self.converged,
                "converged_by": self.converged_by}

    def load_state(self, state):
        self.history = [tuple(h) for h in state.get("history", [])]
        self.converged = bool(state.get("converged", False))
        self.converged_by = state.get("converged_by", "spread" if self.converged else None)


def judge(record: dict, criterion: Convergence) -> dict:
    """A run record's convergence fields, judged by ``criterion`` from what the record keeps (``steps``,
    ``heldout_history`` and whether it stopped on the spread test): ``{"converged", "converged_by",
    "plateau"}``. Used on a run as it ends and on a stored run as it is read back, so both read alike.
    A record without ``converged_by`` (written before the trend test) stopped on the spread test iff its
    ``converged`` is true: the spread test was then the only one."""
    losses = [float(v) for _, v in record.get("heldout_history") or []]
    stopped = (record["converged_by"] == "spread") if "converged_by" in record else bool(record.get("converged"))
    by = criterion.judge(losses, int(record.get("steps", 0)), stopped)
    return {"converged": by is not None, "converged_by": by, "plateau": criterion.plateau(losses)}
