"""Feature distributions and the feature weights ``M_d`` they induce (THEORY.md sections 1, 3, 5).

Features are independent; feature ``d`` is active with probability ``p_active[d]`` (the paper's
``1 − S``: we name the probability of being *on* explicitly because the paper uses S both ways) and,
when active, has a magnitude drawn from a :class:`MagnitudeLaw`.

``M_d = Pr(only feature d is active) · E[x_d² | x_d > 0] = p_d Π_{j≠d}(1 − p_j) · E[m²]``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.errors import SDLInputError


class MagnitudeLaw:
    """The law of an active feature's magnitude (positive)."""

    def second_moment(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def is_constant(self) -> bool:
        return False

    def to_json(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Constant(MagnitudeLaw):
    """Every active feature has magnitude ``c``."""

    c: float = 1.0

    def __post_init__(self):
        if not (np.isfinite(self.c) and self.c > 0):
            raise SDLInputError(f"constant magnitude must be > 0, got {self.c}")

    def second_moment(self):
        return float(self.c) ** 2

    def sample(self, rng, size):
        return np.full(size, float(self.c))

    @property
    def is_constant(self):
        return True

    def to_json(self):
        return {"law": "constant", "c": float(self.c)}


@dataclass(frozen=True)
class ShiftedExponential(MagnitudeLaw):
    """``c_min + Exp(β)`` with mean ``c_min + β`` (the bench's law, THEORY.md section 5)."""

    c_min: float = 0.0
    beta: float = 1.0

    def __post_init__(self):
        if not (np.isfinite(self.c_min) and self.c_min >= 0):
            raise SDLInputError(f"c_min must be >= 0, got {self.c_min}")
        if not (np.isfinite(self.beta) and self.beta > 0):
            raise SDLInputError(f"beta (the exponential's mean) must be > 0, got {self.beta}")

    def second_moment(self):
        # E[(c + E)^2] = c^2 + 2 c β + 2 β^2 for E ~ Exp(mean β)
        return self.c_min**2 + 2 * self.c_min * self.beta + 2 * self.beta**2

    def sample(self, rng, size):
        return self.c_min + rng.exponential(self.beta, size)

    def to_json(self):
        return {"law": "shifted_exponential", "c_min": float(self.c_min), "beta": float(self.beta)}


@dataclass(frozen=True)
class Uniform(MagnitudeLaw):
    """``U[low, high]`` with ``0 <= low < high`` (Toy Models of Superposition use U[0, 1])."""

    low: float = 0.0
    high: float = 1.0

    def __post_init__(self):
        if not (0 <= self.low < self.high and np.isfinite(self.high)):
            raise SDLInputError(f"Uniform magnitudes need 0 <= low < high, got [{self.low}, {self.high}]")

    def second_moment(self):
        return (self.high**3 - self.low**3) / (3 * (self.high - self.low))

    def sample(self, rng, size):
        return rng.uniform(self.low, self.high, size)

    def to_json(self):
        return {"law": "uniform", "low": float(self.low), "high": float(self.high)}


def magnitude_from_json(d: dict) -> MagnitudeLaw:
    d = dict(d)
    law = d.pop("law")
    return {"constant": Constant, "shifted_exponential": ShiftedExponential, "uniform": Uniform}[law](**d)


@dataclass(frozen=True, eq=False)
class FeatureDistribution:
    """Independent features: ``p_active`` (scalar or one per feature) and a magnitude law."""

    p_active: np.ndarray
    magnitude: MagnitudeLaw = Constant(1.0)

    def __post_init__(self):
        p = np.atleast_1d(np.asarray(self.p_active, dtype=float)).copy()
        if p.ndim != 1 or p.size == 0:
            raise SDLInputError(f"p_active must be a number or a 1-d array, got shape {p.shape}")
        if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
            raise SDLInputError(
                f"p_active is the probability that a feature is ON and must lie in [0, 1]; got {p.tolist()[:8]}"
                " (if you meant the paper's sparsity S, pass p_active = 1 - S)"
            )
        p.setflags(write=False)
        object.__setattr__(self, "p_active", p)

    @classmethod
    def uniform(cls, n: int, p_active: float, magnitude: MagnitudeLaw | None = None) -> "FeatureDistribution":
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise SDLInputError(f"the number of features n must be a positive integer, got {n!r}")
        return cls(np.full(int(n), float(p_active)) if np.isscalar(p_active) else p_active, magnitude or Constant(1.0))

    def for_n(self, n: int) -> np.ndarray:
        """``p_active`` broadcast to ``n`` features (a scalar distribution fits any n)."""
        if self.p_active.size == 1:
            return np.full(n, float(self.p_active[0]))
        if self.p_active.size != n:
            raise SDLInputError(f"the distribution has p_active for {self.p_active.size} features but the instance has n = {n}")
        return np.asarray(self.p_active)

    def feature_weights(self, n: int) -> np.ndarray:
        """``M_d = p_d Π_{j≠d}(1−p_j) E[m²]`` (C1's single-feature weights)."""
        p = self.for_n(n)
        off = 1.0 - p
        # Π_{j≠d}(1 − p_j) from prefix and suffix products: exact when some p_j = 1 (no division by 0)
        prefix = np.concatenate([[1.0], np.cumprod(off[:-1])])
        suffix = np.concatenate([np.cumprod(off[::-1][:-1])[::-1], [1.0]])
        return p * prefix * suffix * self.magnitude.second_moment()

    def sample(self, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size × n`` non-negative feature activations."""
        p = self.for_n(n)
        on = rng.random((size, n)) < p
        return np.where(on, self.magnitude.sample(rng, (size, n)), 0.0)

    def max_p(self, n: int) -> float:
        return float(self.for_n(n).max())

    def to_json(self) -> dict:
        p = self.p_active
        return {"p_active": float(p[0]) if p.size == 1 else p.tolist(), "magnitude": self.magnitude.to_json()}

    @classmethod
    def from_json(cls, d: dict) -> "FeatureDistribution":
        return cls(np.asarray(d["p_active"], dtype=float), magnitude_from_json(d["magnitude"]))

