"""Where a point sits in its own activation region, at any size (issue 9; THEORY.md section 3, C2).

:func:`theory.patterns.region` writes ``Ω_P`` as a dense system ``A v < c`` in ``v = (vec W_E, b)``:
one row per inequality, ``n_q·n_p (+ n_q)`` columns. At paper size (n = 1000 features, n_p = 768,
n_q = 16000 latents) a ReLU region has 16 million rows of 12 million columns — an exact LP or
alternating convex search over it cannot be run, and building it must be refused before anything is
allocated (:func:`check_dense_region`).

What *can* be decided at that size is where the current point sits: every inequality of every family
here is linear in the pre-activation matrix ``Z = W_pᵀ W_Eᵀ + 1 bᵀ`` and touches one cell (ReLU,
JumpReLU: per neuron and feature) or one pair of cells of a row (TopK competition), so the smallest
slack over all of them is a reduction over ``Z`` in ``O(n·n_q)`` memory and time
(:func:`point_slack`): per neuron ``z − θ`` on / ``θ − z`` off; per TopK row ``min_on − max_off``.
For a family without such a reduction the dense constraints are used when they are small, and a clear
error is raised when they are not.
"""
from __future__ import annotations

import numpy as np

from theory.activations import BatchTopK, JumpReLU, TopK, TopKReLU
from theory.errors import SDLInputError
from theory.instance import Instance

# the dense region (rows × vars float64) allowed before refusing; 256 MiB keeps inspect under 2 GB
MAX_DENSE_REGION_BYTES = 256 * 2**20


def dense_region_bytes(n_inputs: int, n_q: int, n_p: int, encoder_bias: bool) -> int:
    """A lower bound on the dense region's size: every family has at least one inequality per
    (input, neuron) cell (ReLU/JumpReLU exactly one; TopK's competition more), each a row of
    ``n_q·n_p (+ n_q)`` float64 entries."""
    n_vars = n_q * n_p + (n_q if encoder_bias else 0)
    return int(n_inputs) * int(n_q) * n_vars * 8


def check_dense_region(instance: Instance, n_inputs: int, n_q: int, what: str = "this region") -> None:
    """Refuse, before allocating, a dense region larger than :data:`MAX_DENSE_REGION_BYTES`."""
    need = dense_region_bytes(n_inputs, n_q, instance.n_p, instance.encoder_bias)
    if need > MAX_DENSE_REGION_BYTES:
        n_vars = n_q * instance.n_p + (n_q if instance.encoder_bias else 0)
        raise SDLInputError(
            f"{what} would be a dense system of at least {n_inputs * n_q:,} inequalities in {n_vars:,} encoder "
            f"variables ({need / 2**30:.3g} GiB > {MAX_DENSE_REGION_BYTES / 2**30:.3g} GiB): too large for an exact "
            "LP or alternating convex search; decide it on a smaller instance (fewer neurons or features)")


def point_slack(instance: Instance, W_E, b_E=None, Z: np.ndarray | None = None) -> dict:
    """The smallest slack of ``(W_E, b_E)`` over the strict and the weak inequalities of its own
    region on the single-feature inputs (its pattern ``pattern_of(instance, W_E, b_E)``).

    Returns ``{"strict": s, "weak": w, "inside": s > 0 and w >= 0, "method": ...}`` with ``inf`` where
    a kind has no inequality. Agrees with :meth:`theory.patterns.Region.slack` (tested); ``Z`` may be
    passed when already computed."""
    act = instance.activation
    if Z is None:
        Z = instance.pre_activations(W_E, b_E)
    Z = np.asarray(Z, dtype=float)
    if isinstance(act, (TopK, BatchTopK)):
        strict, weak = _topk_slack(act, Z)
        method = "per-row top-k reduction"
    elif isinstance(act, JumpReLU):   # ReLU is JumpReLU(θ = 0)
        on = act.active(Z)
        theta = float(act.theta)
        s_on = (Z - theta)[on]
        s_off = (theta - Z)[~on]
        strict = _min(s_on)
        if theta > 0:
            strict, weak = min(strict, _min(s_off)), float("inf")
        else:
            weak = _min(s_off)
        method = "per-neuron reduction"
    elif getattr(act, "name", None) == "gated":   # the gate decides, strictly on both sides (z_gate ≠ 0)
        strict, weak = _min(np.abs(Z[:, :Z.shape[1] // 2]).ravel()), float("inf")
        method = "per-neuron reduction (gate pre-activations)"
    else:
        strict, weak = _dense_slack(instance, W_E, b_E)
        method = "dense region (small instance)"
    return {"strict": strict, "weak": weak, "inside": bool(strict > 0 and weak >= -1e-12), "method": method}


def _min(a: np.ndarray) -> float:
    return float(a.min()) if a.size else float("inf")


def _topk_slack(act, Z: np.ndarray) -> tuple[float, float]:
    """TopK(k) (no sign condition), TopK∘ReLU(k) and BatchTopK(k) (one competition over the batch)."""
    batch = isinstance(act, BatchTopK)
    rows = Z.reshape(1, -1) if batch else Z
    on = act.active(Z).reshape(rows.shape)
    budget = min(act.k * Z.shape[0], Z.size) if batch else min(act.k, Z.shape[1])
    relu = batch or isinstance(act, TopKReLU)
    n_on = on.sum(axis=1)
    z_on_min = np.where(on, rows, np.inf).min(axis=1)
    z_off_max = np.where(on, -np.inf, rows).max(axis=1)
    strict, weak = float("inf"), float("inf")
    if relu:
        strict = min(strict, float(z_on_min.min()))          # z_on > 0
    full = n_on >= budget
    has_off = np.isfinite(z_off_max)
    if np.any(full & has_off):                                # z_off < z_on for every pair: min_on − max_off
        strict = min(strict, float((z_on_min - z_off_max)[full & has_off].min()))
    if relu and np.any(~full & has_off):                      # not full: every off cell <= 0
        weak = min(weak, float((-z_off_max)[~full & has_off].min()))
    return strict, weak


def _dense_slack(instance: Instance, W_E, b_E) -> tuple[float, float]:
    from theory.patterns import pattern_of, region

    n_q = np.asarray(W_E).shape[0]
    check_dense_region(instance, instance.n, n_q, what=f"the region of this {instance.activation.describe()} point")
    R = region(instance, pattern_of(instance, W_E, b_E))
    s, w = R.slack(W_E, b_E)
    return _min(s), _min(w)
