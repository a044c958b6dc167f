"""Feature distributions and the feature weights ``M_d`` they induce (THEORY.md sections 1, 3, 5).

Features are independent; feature ``d`` is active with probability ``p_active[d]`` (the paper's
``1 − S``: we name the probability of being *on* explicitly because the paper uses S both ways) and,
when active, has a magnitude drawn from a :class:`MagnitudeLaw`.

``M_d = Pr(only feature d is active) · E[x_d² | x_d > 0] = p_d Π_{j≠d}(1 − p_j) · E[m²]``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from theory.errors import SDLInputError
from theory.validation import MAX_ABS, finite_float, got, positive_int, probability, vector

# ``FeatureDistribution.uniform`` allocates ``p_active`` for its ``n`` features: beyond this (0.8 GB of float64) an
# ``n`` is refused by name rather than failing inside numpy's allocation
MAX_FEATURES = 10**8


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
        object.__setattr__(self, "c", finite_float("constant magnitude c", self.c, lo=0, hi=MAX_ABS, lo_open=True))

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
        object.__setattr__(self, "c_min", finite_float("c_min", self.c_min, lo=0, hi=MAX_ABS))
        object.__setattr__(self, "beta", finite_float("beta (the exponential's mean)", self.beta, lo=0, hi=MAX_ABS, lo_open=True))

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
        low = finite_float("Uniform low", self.low, lo=0, hi=MAX_ABS)
        high = finite_float("Uniform high", self.high, lo=0, hi=MAX_ABS)
        if not low < high:
            raise SDLInputError(f"Uniform magnitudes need 0 <= low < high, got [{low}, {high}]")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def second_moment(self):
        return (self.high**3 - self.low**3) / (3 * (self.high - self.low))

    def sample(self, rng, size):
        return rng.uniform(self.low, self.high, size)

    def to_json(self):
        return {"law": "uniform", "low": float(self.low), "high": float(self.high)}


def magnitude_from_json(d: dict) -> MagnitudeLaw:
    laws = {"constant": Constant, "shifted_exponential": ShiftedExponential, "uniform": Uniform}
    if not isinstance(d, dict) or d.get("law") not in laws:
        raise SDLInputError(f"a magnitude law JSON is an object with 'law' one of {sorted(laws)}; got {got(d)}")
    d = dict(d)
    cls = laws[d.pop("law")]
    names = {f.name for f in fields(cls)}
    if set(d) - names:
        raise SDLInputError(f"magnitude law {cls.__name__} takes {sorted(names)}, not {sorted(set(d) - names)}")
    return cls(**d)


@dataclass(frozen=True, eq=False)
class FeatureDistribution:
    """Independent features: ``p_active`` (scalar or one per feature) and a magnitude law."""

    p_active: np.ndarray
    magnitude: MagnitudeLaw = Constant(1.0)

    def __post_init__(self):
        p = vector("p_active", self.p_active, hint="the probability that each feature is on", scalar_ok=True).copy()
        if not isinstance(self.magnitude, MagnitudeLaw):
            raise SDLInputError(f"magnitude must be a theory.distribution magnitude law (Constant, ShiftedExponential, "
                                f"Uniform), got {got(self.magnitude)}")
        if np.any(p < 0) or np.any(p > 1):
            raise SDLInputError(
                f"p_active is the probability that a feature is ON and must lie in [0, 1]; got {p.tolist()[:8]}"
                " (if you meant the paper's sparsity S, pass p_active = 1 - S)"
            )
        p.setflags(write=False)
        object.__setattr__(self, "p_active", p)

    @classmethod
    def uniform(cls, n: int, p_active: float, magnitude: MagnitudeLaw | None = None) -> "FeatureDistribution":
        n = positive_int("the number of features n", n, MAX_FEATURES)
        if np.isscalar(p_active):
            p_active = np.full(n, probability("p_active", p_active))
        return cls(p_active, Constant(1.0) if magnitude is None else magnitude)

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
        if not isinstance(d, dict) or "p_active" not in d:
            raise SDLInputError(f"a distribution JSON is an object with 'p_active' and 'magnitude'; got {got(d)}")
        return cls(d["p_active"], magnitude_from_json(d.get("magnitude", {"law": "constant", "c": 1.0})))

