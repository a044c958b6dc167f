"""The SDL objectives (THEORY.md sections 2–3), in numpy.

- :func:`approx_loss` — the extreme-sparsity objective ``L̃ = Σ_d M_d ||w_r^d − W_D σ(W_E w_p^d + b)||²``.
- :func:`exact_loss` — ``L = E_x ||W_r x − W_D σ(W_E W_p x + b)||²`` under the instance's feature
  distribution: exact by enumeration when magnitudes are constant and ``n`` is small, by enumeration
  of the active sets with Monte-Carlo magnitudes for small ``n``, and by plain Monte-Carlo otherwise;
  every estimate carries a confidence interval (zero-width when exact).

With BatchTopK there is no per-sample σ: L̃ treats the ``n`` single-feature inputs as one batch (see
``theory.activations.topk``); L uses the inference threshold (``BatchTopK(threshold=...)``).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from theory.errors import SDLInputError
from theory import validation as V
from theory.instance import Instance

MAX_SAMPLES = 10**8  # Monte-Carlo draws per estimate: beyond this a call runs for hours


def single_feature_codes(instance: Instance, W_E, b_E=None) -> np.ndarray:
    """``X_q[d] = σ(W_E w_p^d + b)``, one row per feature (the batch of single-feature inputs)."""
    return instance.activation.evaluate(instance.pre_activations(W_E, b_E))


def sparse_if_sparse(X: np.ndarray, min_size: int = 1_000_000, max_density: float = 0.05):
    """``X`` as a scipy CSR matrix when it is large and mostly zeros (a TopK model's single-feature
    codes: k of n_q per row), else ``X`` itself. Products ``X @ A`` give the same dense result either
    way; the sparse one costs ``nnz·cols`` instead of ``rows·n_q·cols`` (issue 9: paper-size inspect)."""
    if X.size >= min_size and np.count_nonzero(X) <= max_density * X.size:
        from scipy.sparse import csr_matrix

        return csr_matrix(X)
    return X


def approx_residuals(instance: Instance, W_D, W_E, b_E=None) -> np.ndarray:
    """``R[d] = w_r^d − W_D σ(W_E w_p^d + b)`` (features × n_r)."""
    V.instance_of("instance", instance, Instance, "a theory.Instance")
    W_D, W_E, b = instance.check_params(W_D, W_E, b_E)
    X_q = sparse_if_sparse(single_feature_codes(instance, W_E, b if instance.encoder_bias else None))
    return instance.W_r.T - np.asarray(X_q @ W_D.T)


def approx_loss_terms(instance: Instance, W_D, W_E, b_E=None) -> np.ndarray:
    """Per-feature terms ``M_d ||w_r^d − W_D σ(W_E w_p^d + b)||²`` of L̃."""
    R = approx_residuals(instance, W_D, W_E, b_E)
    return instance.weights * np.einsum("dr,dr->d", R, R)


def approx_loss(instance: Instance, W_D, W_E, b_E=None) -> float:
    """The approximate objective ``L̃(W_D, W_E)`` (THEORY.md section 3)."""
    return float(approx_loss_terms(instance, W_D, W_E, b_E).sum())


@dataclass(frozen=True)
class LossEstimate:
    """An estimate of the exact objective with a confidence interval ``[low, high]``."""

    value: float
    low: float
    high: float
    method: str  # "exact" | "subsets" | "monte_carlo"
    samples: int
    seed: int | None
    confidence: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _per_sample_activation(instance: Instance):
    act = instance.activation
    if act.per_sample:
        return act
    try:
        return act.at_inference()
    except SDLInputError as exc:
        raise SDLInputError(
            f"the exact objective needs a per-sample activation; {act.describe()} is batch-dependent ({exc})"
        ) from None


def sample_losses(instance: Instance, W_D, W_E, b_E, X: np.ndarray, b_D=None) -> np.ndarray:
    """``||W_r x − (W_D σ(W_E W_p x + b) + b_D)||²`` for each row ``x`` of ``X`` (samples × n)."""
    act = _per_sample_activation(instance)
    Z = X @ (W_E @ instance.W_p).T
    if b_E is not None:
        Z = Z + b_E
    recon = act.evaluate(Z) @ W_D.T
    if b_D is not None:
        recon = recon + b_D
    R = X @ instance.W_r.T - recon
    return np.einsum("sr,sr->s", R, R)


def _z(confidence: float) -> float:
    from scipy.stats import norm

    confidence = V.probability("confidence", confidence, open_low=True, open_high=True)
    return float(norm.ppf(0.5 + confidence / 2))


def exact_loss(
    instance: Instance,
    W_D,
    W_E,
    b_E=None,
    *,
    b_D=None,
    method: str = "auto",
    samples: int = 200_000,
    seed: int = 0,
    confidence: float = 0.95,
    batch: int = 20_000,
) -> LossEstimate:
    """The exact objective ``L`` under ``instance.distribution`` (C1).

    ``method``: ``"exact"`` (enumerate all ``2^n`` active sets; constant magnitudes, ``n <= 20``),
    ``"subsets"`` (enumerate active sets with their exact probabilities, Monte-Carlo magnitudes:
    ``samples`` draws in all, ``n <= 14``), ``"monte_carlo"`` or ``"auto"`` (the first that applies).
    """
    V.instance_of("instance", instance, Instance, "a theory.Instance")
    method = V.one_of("method", method, ("auto", "exact", "subsets", "monte_carlo"))
    samples = V.integer("samples", samples, 2, MAX_SAMPLES)
    batch = V.positive_int("batch", batch)
    seed = V.seed("seed", seed)
    confidence = V.probability("confidence", confidence, open_low=True, open_high=True)
    dist = instance.distribution
    if dist is None:
        raise SDLInputError(
            "the exact objective needs a feature distribution: Instance(..., distribution=FeatureDistribution.uniform(n, p_active))"
        )
    W_D, W_E, b = instance.check_params(W_D, W_E, b_E)
    b = b if instance.encoder_bias else None
    if b_D is not None:
        b_D = V.vector("b_D", b_D, instance.n_r, "decoder bias, one entry per output dimension n_r")
    n = instance.n
    if method == "auto":
        method = "exact" if dist.magnitude.is_constant and n <= 16 else ("subsets" if n <= 10 else "monte_carlo")
    p = dist.for_n(n)
    zq = _z(confidence)
    if method == "exact":
        if not dist.magnitude.is_constant or n > 20:
            raise SDLInputError("method='exact' needs constant magnitudes and n <= 20; use 'subsets' or 'monte_carlo'")
        c = dist.magnitude.sample(None, 1)[0]
        masks = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
        probs = np.prod(np.where(masks > 0, p, 1 - p), axis=1)
        value = float(probs @ sample_losses(instance, W_D, W_E, b, c * masks, b_D))
        return LossEstimate(value, value, value, "exact", 0, None, confidence)
    rng = np.random.default_rng(seed)
    if method == "subsets":
        if n > 14:
            raise SDLInputError("method='subsets' enumerates 2^n active sets; use it for n <= 14")
        masks = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
        probs = np.prod(np.where(masks > 0, p, 1 - p), axis=1)
        keep = probs > 0
        masks, probs = masks[keep], probs[keep]
        per = max(2, samples // len(masks))
        means, variances = np.empty(len(masks)), np.empty(len(masks))
        for s, mask in enumerate(masks):
            X = mask * dist.magnitude.sample(rng, (per, n))
            losses = sample_losses(instance, W_D, W_E, b, X, b_D)
            means[s] = losses.mean()
            variances[s] = losses.var(ddof=1) / per
        value = float(probs @ means)
        half = zq * math.sqrt(float((probs**2) @ variances))
        return LossEstimate(value, value - half, value + half, "subsets", per * len(masks), seed, confidence)
    if method == "monte_carlo":
        total, total_sq, done = 0.0, 0.0, 0
        while done < samples:
            m = min(batch, samples - done)
            losses = sample_losses(instance, W_D, W_E, b, dist.sample(n, m, rng), b_D)
            total += losses.sum()
            total_sq += (losses**2).sum()
            done += m
        mean = total / done
        var = max(total_sq / done - mean**2, 0.0) * done / (done - 1)
        half = zq * math.sqrt(var / done)
        return LossEstimate(float(mean), float(mean - half), float(mean + half), "monte_carlo", done, seed, confidence)
    raise SDLInputError(f"unknown method {method!r}; choose 'auto', 'exact', 'subsets' or 'monte_carlo'")
