"""Shared pieces of the studies: event samplers, training on the theory's own objective (the project's
one engine, :mod:`numerics.engine`), seeded everything, confidence intervals, outputs.

Why the theory's units rather than the bench's FVU objective: the bench minimises the *FVU* (squared
error divided by each batch's variance) plus ``l1_coeff ×`` L1, so its penalty is
``λ = l1_coeff · Var(batch)``, a random, data-dependent rescaling. The studies compare training
with closed forms in the theory's units, so they minimise exactly

    E ||x_r − x̂_r||² + λ E Σ_i a_i ||d_i||          (ReLU + L1; λ = 0 for TopK)

on the bench's own models (:func:`numerics.models.build_model`), with optional resampling of dead
neurons as in THEORY.md §8 (C9). Models are saved with :func:`numerics.io.save_model` so that
``sdl-theory inspect`` reads them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from numerics.models import build_model

Sampler = Callable[[torch.Generator, int], tuple[torch.Tensor, torch.Tensor]]


def seed_all(seed: int) -> torch.Generator:
    torch.manual_seed(int(seed))
    return torch.Generator().manual_seed(int(seed))


def shifted_exponential(gen: torch.Generator, size, c_min: float, beta: float) -> torch.Tensor:
    m = torch.empty(size, dtype=torch.float32).exponential_(1.0, generator=gen) * beta if beta > 0 else torch.zeros(size)
    return c_min + m


def independent_sampler(W_p: np.ndarray, p_active: float, c_min: float, beta: float, W_r: np.ndarray | None = None,
                        condition_on_event: bool = False) -> Sampler:
    """Independent features (THEORY.md §5): each on with probability ``p_active``, magnitude ``c_min + Exp(β)``.

    ``condition_on_event``: draw only samples with at least one active feature (a zero sample adds
    nothing to the squared error or the L1 term, so this rescales the objective by a constant and
    saves compute)."""
    Wp = torch.tensor(W_p, dtype=torch.float32)
    Wr = Wp if W_r is None else torch.tensor(W_r, dtype=torch.float32)
    n = Wp.shape[1]

    def sample(gen, B):
        on = torch.rand(B, n, generator=gen) < p_active
        if condition_on_event:
            empty = ~on.any(1)
            idx = torch.randint(0, n, (B,), generator=gen)
            on[empty, idx[empty]] = True
        x = on.float() * shifted_exponential(gen, (B, n), c_min, beta)
        return x @ Wp.T, x @ Wr.T

    return sample


def hierarchy_event_sampler(W_p: np.ndarray, parent: int, children: list[int], p_alone: float,
                            c_min: float, beta: float) -> Sampler:
    """Single-family events (THEORY.md §7): the parent alone with probability ``p_alone``, otherwise one
    uniformly chosen child together with its parent; independent magnitudes ``c_min + Exp(β)``."""
    Wp = torch.tensor(W_p, dtype=torch.float32)
    K = len(children)

    def sample(gen, B):
        alone = torch.rand(B, generator=gen) < p_alone
        child = torch.randint(0, K, (B,), generator=gen)
        mP = shifted_exponential(gen, (B,), c_min, beta)
        mC = shifted_exponential(gen, (B,), c_min, beta)
        x = torch.zeros(B, Wp.shape[1])
        x[:, parent] = mP
        ch = torch.tensor(children)[child]
        x[torch.arange(B), ch] = torch.where(alone, torch.zeros(B), mC)
        xp = x @ Wp.T
        return xp, xp

    return sample


def two_level_sampler(h) -> Sampler:
    """Events of a two-level hierarchy (:class:`theory.absorption_two_level.TwoLevel`) in torch: the event type by
    its probability (grandparent alone; with one parent; with a parent and one of its children), then each
    present feature's magnitude from its level's law (constant, or ``c_min + Exp(β)``)."""
    from theory.absorption_curve import _law

    types = h.event_features()
    probs = torch.tensor([p for p, _ in types], dtype=torch.float64)
    laws = [_law(m) for m in h.laws()]
    n = h.n_features

    def sample(gen, B):
        t = torch.multinomial(probs, B, replacement=True, generator=gen)
        x = torch.zeros(B, n)
        for level, (c, b) in enumerate(laws):
            mag = shifted_exponential(gen, (B,), c, b)
            col = torch.tensor([f[level] if len(f) > level else -1 for _, f in types])[t]
            rows = torch.nonzero(col >= 0).squeeze(1)
            x[rows, col[rows]] = mag[rows]
        return x, x

    return sample


def make_model(arch: str, d_in: int, n_latents: int, d_out: int | None = None, *, bias: bool = False,
               k: int = 0, seed: int = 0, **hyper):
    """A model of family ``arch`` without decoder normalisation; ``hyper``: the family's own hyperparameters
    (e.g. JumpReLU's ``threshold_init``)."""
    from theory import registry

    takes_k = "k" in registry.get(arch).hyper_kwargs()  # the TopK families: k active units per sample
    kw = {"k": k} if takes_k else {}
    return build_model(arch, d_in, n_latents, d_out, bias=bias, unit_norm_decoder=False, seed=seed, **kw, **hyper)


def code_of(model, x: torch.Tensor) -> torch.Tensor:
    return model.encode(x).dense()


def sampler_batches(sampler: Sampler, seed: int):
    """The engine's batches from a study's sampler: batch ``(index, size, stream)`` is drawn with a generator
    seeded by ``(seed, stream, index)`` — a pure function, so runs are reproducible and resumable."""
    from numerics.data import Batch, _mix

    def batches(index: int, size: int, stream: int) -> Batch:
        x_p, x_r = sampler(torch.Generator().manual_seed(_mix(seed, 5, stream, index)), size)
        return Batch(x=None, x_p=x_p, x_r=x_r)

    return batches


@dataclass
class TrainLog:
    resampled: int
    final_loss: float      # the objective on a held-out batch (stream 1) after training
    steps: int
    stop_reason: str


def train(model, sampler: Sampler, *, steps: int, batch: int, lr: float, l1: float = 0.0, seed: int = 0,
          l0: float = 0.0, resample_every: int = 0, resample_batch: int = 2048, eval_batch: int = 8192,
          resample_scale: float = 0.2) -> TrainLog:
    """Adam on the theory's units (:class:`numerics.engine.TheoryUnits`) with the project's one engine.
    ``resample_every > 0``: every that many steps, neurons that did not fire since the last check are
    re-initialised as in Bricken et al. 2023 (THEORY.md §8, C9; :class:`numerics.engine.Resample`):
    decoder ← a badly reconstructed input (probability ∝ loss²), normalised; encoder ← that direction
    × ``resample_scale`` (0.2 in the recipe) × mean live encoder norm; bias ← 0; Adam state of those
    rows reset. ``l0``: the JumpReLU family's L0 term instead of the L1 one (:class:`numerics.engine.TheoryUnits`)."""
    from numerics.engine import Engine, Resample, TheoryUnits, heldout_loss

    callbacks = [Resample(every=resample_every, until=steps - 1, scale=resample_scale, batch=resample_batch)] \
        if resample_every else []
    eng = Engine(model, TheoryUnits(l1, l0), sampler_batches(sampler, seed), steps=steps, batch_size=batch, lr=lr,
                 seed=seed, callbacks=callbacks)
    res = eng.run()
    return TrainLog(res.resampled, heldout_loss(eng, eval_batch), res.steps, res.stop_reason)


def set_params(model, W_E: np.ndarray, W_D: np.ndarray, b_E: np.ndarray | None = None) -> None:
    """Load the theory's ``W_E`` (n_q × n_p) and ``W_D`` (n_r × n_q) into a model."""
    with torch.no_grad():
        model.W_enc.copy_(torch.tensor(W_E, dtype=torch.float32))
        model.W_dec.copy_(torch.tensor(np.asarray(W_D).T, dtype=torch.float32))
        if model.b_enc is not None:
            model.b_enc.copy_(torch.tensor(np.zeros(model.n_latents) if b_E is None else b_E, dtype=torch.float32))
        if model.b_dec is not None:
            model.b_dec.zero_()


def mean_ci(values, confidence: float = 0.95) -> dict:
    """Mean and a t-interval (``n >= 2``; a single value has a zero-width interval and ``n = 1``)."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n == 0:
        return {"mean": None, "low": None, "high": None, "n": 0}
    m = float(v.mean())
    if n < 2:
        return {"mean": m, "low": m, "high": m, "n": 1}
    from scipy.stats import t

    h = float(t.ppf(0.5 + confidence / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return {"mean": m, "low": m - h, "high": m + h, "n": n}


def wilson(k: int, n: int, z: float = 1.96) -> dict:
    """Wilson interval for a proportion ``k / n``."""
    if n == 0:
        return {"rate": None, "low": None, "high": None, "n": 0}
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return {"rate": p, "low": max(0.0, c - h), "high": min(1.0, c + h), "n": n}


def md_table(header: list[str], rows: list[list]) -> str:
    """A markdown table (the README's "Result" section)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def fmt_ci(d: dict, spec: str = ".4f", key: str = "mean") -> str:
    """``mean [low, high]`` of a :func:`mean_ci` / :func:`wilson` dict."""
    if d.get(key) is None:
        return "–"
    return f"{d[key]:{spec}} [{d['low']:{spec}}, {d['high']:{spec}}]"


HAND_WRITTEN = "<!-- written by hand below this line; kept when the study is re-run -->"


def readme(study, result: dict, previous: str | None = None) -> str:
    """The study's README: what it compares, the command, wall time and seeds, the note and its tables;
    whatever followed :data:`HAND_WRITTEN` in ``previous`` (the discussion of the numbers) is kept."""
    name = study.name
    command = result.get("command") or f"sdl-theory study {name} --out DIR --seed {result['config']['seed']}"
    parts = [f"# Study: {name}", "", study.summary, "",
             "Made with (from the repository root, CPU, 2 shared cores):", "", "```", command, "```", "",
             f"Wall time: {result['wall_s']:.0f} s" + (f" (CPU time {result['cpu_s']:.0f} s)" if "cpu_s" in result else "")
             + f". Seeds: {result['seeds']}. Files: `{name}.json` (full config, "
             f"every run, predictions), `{name}.png`.", "", "## Result", "", result["note"], ""]
    if study.tables is not None:
        parts += [study.tables(result).strip(), ""]
    text = "\n".join(parts)
    if previous and HAND_WRITTEN in previous:
        text += "\n" + HAND_WRITTEN + previous.split(HAND_WRITTEN, 1)[1]
    return text


def write_outputs(out, study, result: dict) -> dict:
    """``OUT/<name>.json``, ``OUT/<name>.png`` and ``OUT/README.md``, each atomically; returns the paths."""
    from pathlib import Path

    import matplotlib.pyplot as plt

    from numerics.io import save_figure_atomic, write_json_atomic, write_text_atomic

    name = study.name
    out = Path(out)
    fig = study.figure(result)
    paths = {"json": out / f"{name}.json", "png": out / f"{name}.png", "readme": out / "README.md"}
    write_json_atomic(paths["json"], result)  # the result first: a failing figure must not lose it
    try:
        save_figure_atomic(paths["png"], fig, dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)
    previous = paths["readme"].read_text() if paths["readme"].is_file() else None
    write_text_atomic(paths["readme"], readme(study, result, previous))
    return {k: str(v) for k, v in paths.items()}
