"""TopK, TopK∘ReLU and BatchTopK (THEORY.md section 2).

- ``TopK(k)``: keep the ``k`` largest pre-activations of a sample, whatever their sign.
- ``TopKReLU(k)``: ``ReLU(TopK(z))``, the form used by Gao et al. (2024): the kept units that are
  not positive are off.
- ``BatchTopK(k)``: over a batch of ``B`` samples keep the ``k·B`` largest *positive* entries of the
  whole batch (Bussmann et al. 2024). Which units a sample switches on depends on the other samples,
  so there is no per-sample σ (``per_sample = False``); at inference a global threshold turns it into
  ``JumpReLU(threshold)`` (:meth:`BatchTopK.at_inference`). When the toolkit evaluates the
  approximate objective L̃ with BatchTopK, the batch is the ``n`` single-feature inputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterable

import numpy as np

from theory.activations.base import Activation, LinearConstraint, _as_2d, topk_mask
from theory.activations.relu import JumpReLU
from theory.errors import SDLInputError
from theory.options import option
from theory.registry import Family, register
from theory.validation import finite_float, integer, positive_int


def _check_k(k) -> int:
    return positive_int("k", k)


def _top_set_constraints(on: list, off: list, relu: bool, full: bool) -> list[LinearConstraint]:
    """Constraints that ``on`` cells are the top cells (and, with ``relu``, positive).

    ``full``: the top set is full (``|on| = k``) so every ``off`` cell is strictly below every ``on``
    cell; otherwise (only possible with ``relu``) every ``off`` cell is ``<= 0``.

    The competition is strict: at a tie ``z_off = z_on`` the evaluation breaks it by index, so a tie
    is not a point of the region (``W_E = 0`` ties every unit and lies in no TopK region).
    """
    out = []
    if relu:
        out += [LinearConstraint(((c, -1.0),), 0.0, True) for c in on]  # z_on > 0
    if full:
        out += [LinearConstraint(((j, 1.0), (i, -1.0)), 0.0, True) for i in on for j in off]  # z_off < z_on
    else:
        out += [LinearConstraint(((j, 1.0),), 0.0, False) for j in off]
    return out


def _cells(mask: np.ndarray, rows: Iterable[int] | None = None):
    on, off = [], []
    for (r, c), v in np.ndenumerate(mask):
        if rows is not None and r not in rows:
            continue
        (on if v else off).append((r, c))
    return on, off


@dataclass(frozen=True)
class TopK(Activation):
    """Keep the ``k`` largest pre-activations of each sample (no sign condition)."""

    k: int = 1
    name: ClassVar[str] = "topk"

    def __post_init__(self):
        object.__setattr__(self, "k", _check_k(self.k))

    def active(self, Z):
        return topk_mask(Z, self.k)

    def evaluate_torch(self, z):
        k = min(self.k, z.shape[-1])
        idx = z.topk(k, dim=-1).indices
        return z.new_zeros(z.shape).scatter(-1, idx, z.gather(-1, idx))

    @property
    def positively_homogeneous(self):
        return True

    def mask_is_possible(self, mask):
        mask, _ = _as_2d(mask)
        want = min(self.k, mask.shape[1])
        bad = np.flatnonzero(mask.sum(axis=1) != want)
        if bad.size:
            return f"TopK(k={self.k}) switches on exactly {want} units per sample; rows {bad.tolist()} do not"
        return None

    def region_constraints(self, mask):
        mask, _ = _as_2d(np.asarray(mask, dtype=bool))
        out = []
        for r in range(mask.shape[0]):
            on, off = _cells(mask, rows=[r])
            out += _top_set_constraints(on, off, relu=False, full=True)
        return out

    def describe(self):
        return f"TopK(k={self.k})"

    def params(self):
        return {"k": int(self.k)}


@dataclass(frozen=True)
class TopKReLU(TopK):
    """``ReLU(TopK_k(z))``: the top-k units that are positive."""

    k: int = 1
    name: ClassVar[str] = "topk_relu"

    def active(self, Z):
        Z = np.asarray(Z, dtype=float)
        return topk_mask(Z, self.k) & (Z > 0)

    def evaluate_torch(self, z):
        return super().evaluate_torch(z).clamp(min=0)

    def mask_is_possible(self, mask):
        mask, _ = _as_2d(mask)
        bad = np.flatnonzero(mask.sum(axis=1) > self.k)
        if bad.size:
            return f"TopKReLU(k={self.k}) switches on at most {self.k} units per sample; rows {bad.tolist()} have more"
        return None

    def region_constraints(self, mask):
        mask, _ = _as_2d(np.asarray(mask, dtype=bool))
        out = []
        for r in range(mask.shape[0]):
            on, off = _cells(mask, rows=[r])
            out += _top_set_constraints(on, off, relu=True, full=len(on) >= self.k)
        return out

    def describe(self):
        return f"TopK∘ReLU(k={self.k})"


@dataclass(frozen=True)
class BatchTopK(Activation):
    """Top ``k·B`` positive entries over a batch of ``B`` samples; ``threshold`` is for inference."""

    k: int = 1
    threshold: float | None = None
    name: ClassVar[str] = "batchtopk"
    per_sample: ClassVar[bool] = False

    def __post_init__(self):
        object.__setattr__(self, "k", _check_k(self.k))
        if self.threshold is not None:
            object.__setattr__(self, "threshold", finite_float("BatchTopK inference threshold", self.threshold, lo=0))

    def active(self, Z):
        Z2, squeeze = _as_2d(Z)
        budget = min(self.k * Z2.shape[0], Z2.size)
        flat = topk_mask(Z2.reshape(1, -1), budget).reshape(Z2.shape) & (Z2 > 0)
        return flat[0] if squeeze else flat

    def evaluate_torch(self, z):
        z2 = z.reshape(-1, z.shape[-1])
        budget = min(self.k * z2.shape[0], z2.numel())
        flat = z2.reshape(-1)
        idx = flat.topk(budget).indices
        out = flat.new_zeros(flat.shape).scatter(0, idx, flat.gather(0, idx)).clamp(min=0)
        return out.reshape(z.shape)

    def at_inference(self) -> JumpReLU:
        """The per-sample activation used after training: ``JumpReLU(threshold)``."""
        if self.threshold is None:
            raise SDLInputError("this BatchTopK has no inference threshold; pass threshold=... (estimated during training)")
        return JumpReLU(theta=float(self.threshold))

    @property
    def positively_homogeneous(self):
        # Scaling one sample changes which entries win the batch-wide competition.
        return False

    def mask_is_possible(self, mask):
        mask, _ = _as_2d(mask)
        if mask.sum() > self.k * mask.shape[0]:
            return f"BatchTopK(k={self.k}) switches on at most k·B = {self.k * mask.shape[0]} entries per batch; mask has {int(mask.sum())}"
        return None

    def region_constraints(self, mask):
        mask, _ = _as_2d(np.asarray(mask, dtype=bool))
        on, off = _cells(mask)
        return _top_set_constraints(on, off, relu=True, full=len(on) >= self.k * mask.shape[0])

    def describe(self):
        return f"BatchTopK(k={self.k})"

    def params(self):
        return {"k": int(self.k), "threshold": self.threshold}


# ------------------------------------------------------------------------------------------------
# The families: theory activation, printing, search strategy, torch model, training hyperparameters
# ------------------------------------------------------------------------------------------------


def _draw_k(cls):
    def draw_activation(draw, max_k: int):
        from hypothesis import strategies as st

        return cls(k=draw(st.integers(1, max_k)))

    return draw_activation


def _ranking_region(act, z_text: str, z_latex: str, bias: bool):
    """derive's region section for TopK and TopK∘ReLU: a per-sample ranking (and a sign for ∘ReLU)."""
    from theory.printing import Line

    k = int(act.k)
    z_t2 = z_text.replace("w_E^i", "w_E^j")
    z_l2 = z_latex.replace("w_E^i", "w_E^j")
    lines = [Line("neuron i on for feature d (ranking)",
                  f"{z_text} is among the k = {k} largest of the n_q values {z_text.replace('i', '·')}",
                  f"{z_latex} \\text{{ among the }} k = {k} \\text{{ largest over neurons}}", {"k": k}),
             Line("ranking condition, every on unit i and off unit j of feature d", f"{z_t2} < {z_text}",
                  f"{z_l2} < {z_latex}")]
    if act.name == "topk":
        notes = [f"TopK(k={k}) switches on exactly min(k, n_q) units per feature, with no sign condition "
                 "(negative codes are possible)."]
    else:
        lines.append(Line("and the on unit is positive", f"{z_text} > 0", f"{z_latex} > 0"))
        lines.append(Line("if fewer than k units are on for feature d: every off unit j", f"{z_t2} <= 0", f"{z_l2} \\le 0"))
        notes = [f"TopK∘ReLU(k={k}) keeps the top-k units that are positive: at most k on per feature."]
    notes.append("TopK is positively homogeneous (scaling a sample keeps its ranking); ties have measure zero: "
                 "evaluation breaks them by the lower index, and a tie lies in no region (the competition is strict).")
    return lines, notes


def _batch_region(act, z_text: str, z_latex: str, bias: bool):
    """derive's region section for BatchTopK: one ranking over the whole batch of single-feature inputs."""
    from theory.printing import Line

    k = int(act.k)
    other_t = "<w_E^j, w_p^e>" + (" + b_j" if bias else "")
    other_l = r"\langle w_E^j, w_p^e \rangle" + (" + b_j" if bias else "")
    lines = [
        Line("batch", "B = the n single-feature inputs w_p^1..w_p^n (the toolkit's convention for L̃)",
             r"B = \{w_p^1, \dots, w_p^n\}"),
        Line("entry (d, i) on", f"{z_text} > 0 and among the k·n = {k}·n largest entries of the whole n × n_q matrix",
             f"{z_latex} > 0 \\text{{ and among the }} k n \\text{{ largest entries of the batch}}", {"k": k}),
        Line("batch-wide ranking, every on entry (d, i) and off entry (e, j), across features",
             f"{other_t} < {z_text}", f"{other_l} < {z_latex}"),
        Line("if fewer than k·n entries are on: every off entry (e, j)", f"{other_t} <= 0", f"{other_l} \\le 0"),
    ]
    thr = getattr(act, "threshold", None)
    notes = ["BatchTopK has no per-sample σ: which units a feature switches on depends on the other features "
             "of the batch, so the region couples features; it is not positively homogeneous.",
             "The exact objective L uses the inference threshold, JumpReLU(θ = threshold)"
             + (f" = JumpReLU(θ={thr:g})." if thr is not None else " (none set on this activation).")]
    return lines, notes


@dataclass(frozen=True)
class TopKTraining:
    """TopK-family SAE training (Gao et al. 2024; Bussmann et al. 2024)."""

    k: int = option(0, "TopK family: active latents per sample (0 = sqrt(n_q))")

    def validate(self, n_latents=None) -> None:
        k = integer("k", self.k)
        if k < 0 or (n_latents is not None and k > n_latents):
            raise SDLInputError(f"k = {self.k} must be an integer in [0, n_latents = {n_latents}] (0 = sqrt(n_latents))")


@dataclass(frozen=True)
class BatchTopKTraining(TopKTraining):
    """BatchTopK's inference threshold: a running mean of each batch's smallest kept activation
    (Bussmann et al. 2024; numerics.models.batchtopk)."""

    threshold_momentum: float = option(0.999, "BatchTopK: momentum of the inference threshold's running mean (window "
                                              "≈ 1/(1 − momentum) steps; dictionary_learning's threshold_beta)")
    threshold_start: int = option(0, "BatchTopK: training steps before the inference threshold is estimated "
                                     "(dictionary_learning's threshold_start_step)")

    def validate(self, n_latents=None) -> None:
        super().validate(n_latents)
        finite_float("threshold_momentum", self.threshold_momentum, 0.0, 1.0, hi_open=True)
        integer("threshold_start", self.threshold_start, 0)


# The inference threshold C10/C11's sweeps train BatchTopK with: dictionary_learning's BatchTopKTrainer
# (threshold_beta 0.999, threshold_start_step 1000), recorded in every setting (a stored run says which made it)
BATCHTOPK_RECIPE = {"threshold_momentum": (0.999,), "threshold_start": (1000,)}

TOPK = register(Family(
    "topk", TopK, "TopK: the k largest pre-activations, any sign (theory only; the trained TopK SAE is topk_relu)",
    draw_activation=_draw_k(TopK), region_text=_ranking_region, homogeneous=True))
TOPK_RELU = register(Family(
    "topk_relu", TopKReLU, "TopK∘ReLU: the k largest pre-activations that are positive (Gao et al. 2024)",
    draw_activation=_draw_k(TopKReLU), region_text=_ranking_region, model="numerics.models.topk:TopKCoder",
    hyperparameters=TopKTraining, methods={"topk_sae": "sae", "transcoder": "transcoder", "crosscoder": "crosscoder"},
    paper_rows={"topk_sae": (84.90, 0.983, 87.63, 0.986), "transcoder": (23.60, 0.838, 25.05, 0.838),
                "crosscoder": (56.42, 0.940, 57.71, 0.941)},
    sweep={"k": (1, 2, 4, 8, 16)}, aliases=("topkrelu",), homogeneous=True))
BATCHTOPK = register(Family(
    "batchtopk", BatchTopK, "BatchTopK: the k·B largest positive entries of a batch (Bussmann et al. 2024)",
    params=("k", "threshold"), draw_activation=_draw_k(BatchTopK), region_text=_batch_region,
    model="numerics.models.batchtopk:BatchTopKCoder", hyperparameters=BatchTopKTraining,
    methods={"batchtopk_sae": "sae"}, paper_rows={"batchtopk_sae": (84.80, 0.981, 89.38, 0.988)},
    sweep={"k": (1, 2, 4, 8), **BATCHTOPK_RECIPE}, aliases=("batch_topk",)))
