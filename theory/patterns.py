"""Activation patterns and their regions (THEORY.md section 3).

A pattern ``P = (F_1, …, F_{n_q})`` lists, for each neuron ``i``, the features ``F_i`` that switch it
on when presented alone (at unit magnitude). Equivalently a boolean ``mask`` with
``mask[d, i] = d ∈ F_i`` — rows are the single-feature inputs, as in ``Instance.pre_activations``.

The region ``Ω_P`` is the set of encoders (and biases) producing ``P``. For every family here it is
cut out by linear inequalities on the pre-activations ``Z = W_p^T W_E^T + 1 b^T``, hence by linear
inequalities on ``(W_E, b)``: :func:`region` builds them, and :meth:`Region.find_point` decides
realizability with a linear program (scipy ``linprog``) that maximises the margin: a witness encoder
strictly inside every inequality, re-evaluated with the activation's own ``active()``, or a
certificate (the optimal margin is ``<= 0``, with its dual multipliers).
"""
from __future__ import annotations

from dataclasses import dataclass

from collections.abc import Sequence

import numpy as np

from theory.errors import SDLInputError
from theory import validation as V
from theory.instance import Instance


_LAZY_MIN_CELLS = 1 << 22   # masks from this many (feature, neuron) cells keep F_i as the mask's columns


class MaskFiring(Sequence):
    """The sets ``F_i`` of a large pattern, read from its features × neurons mask on access.

    A tuple of frozensets of a paper-size ReLU pattern (8 million indices) takes about 800 MB; the mask
    takes 16 MB (issue 9). Behaves as the tuple of frozensets would: indexing, iteration, ``len``,
    equality (with another pattern's sets, lazily or not) and hashing."""

    __slots__ = ("_m",)

    def __init__(self, mask: np.ndarray):
        self._m = mask

    def __len__(self) -> int:
        return self._m.shape[1]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self))))
        return frozenset(np.flatnonzero(self._m[:, i]).tolist())

    def __iter__(self):
        for col in self._m.T:
            yield frozenset(np.flatnonzero(col).tolist())

    def __eq__(self, other) -> bool:
        if isinstance(other, MaskFiring):
            return self._m.shape == other._m.shape and bool(np.array_equal(self._m, other._m))
        if isinstance(other, (tuple, list)):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"MaskFiring({len(self)} neurons over {self._m.shape[0]} features)"


@dataclass(frozen=True)
class ActivationPattern:
    """``firing[i] = F_i``, the features that switch neuron ``i`` on; ``n_features = n``."""

    firing: tuple[frozenset[int], ...]
    n_features: int

    def __post_init__(self):
        n = V.positive_int("n_features", self.n_features)
        if isinstance(self.firing, (str, bytes, dict)) or not isinstance(self.firing, (list, tuple)):
            raise SDLInputError("a pattern is a list of sets of feature indices, one set per neuron, e.g. "
                                f"[{{0, 1}}, set()]; got {V.got(self.firing)}")
        if not self.firing:
            raise SDLInputError("a pattern needs at least one neuron (one set F_i per neuron)")
        firing = tuple(_feature_set(i, F, n) for i, F in enumerate(self.firing))
        object.__setattr__(self, "firing", firing)
        object.__setattr__(self, "n_features", n)

    @classmethod
    def from_sets(cls, sets, n_features: int) -> "ActivationPattern":
        if isinstance(sets, np.ndarray):
            raise SDLInputError("a pattern given as an array must be a features × neurons boolean mask "
                                f"(pass mask.astype(bool)); got {V.got(sets)}, which reads equally well as indices")
        if isinstance(sets, (str, bytes, dict)) or not isinstance(sets, (list, tuple)):
            raise SDLInputError("a pattern is a list of sets of feature indices, one set per neuron, e.g. "
                                f"[{{0, 1}}, set()]; got {V.got(sets)}")
        return cls(tuple(sets), n_features)

    @classmethod
    def from_mask(cls, mask) -> "ActivationPattern":
        """From ``mask[d, i]`` (features × neurons)."""
        mask = V.bool_mask("pattern mask", mask, "features × neurons")
        if 0 in mask.shape:
            raise SDLInputError(f"a pattern mask is features × neurons with at least one of each, got shape {mask.shape}")
        # the sets come from the mask's own nonzeros, so they need no per-index validation (at paper size
        # that is 8 million Python-level checks, issue 9); the mask is kept for ``mask``
        m = mask.copy()
        m.flags.writeable = False
        p = object.__new__(cls)
        object.__setattr__(p, "firing", MaskFiring(m) if m.size >= _LAZY_MIN_CELLS else
                           tuple(frozenset(np.flatnonzero(c).tolist()) for c in m.T))
        object.__setattr__(p, "n_features", int(mask.shape[0]))
        object.__setattr__(p, "_mask", m)
        return p

    @property
    def n_neurons(self) -> int:
        return len(self.firing)

    @property
    def mask(self) -> np.ndarray:
        """``mask[d, i]``: feature ``d`` switches neuron ``i`` on (a fresh array)."""
        kept = self.__dict__.get("_mask")
        if kept is not None:
            return kept.copy()
        m = np.zeros((self.n_features, self.n_neurons), dtype=bool)
        for i, F in enumerate(self.firing):
            m[list(F), i] = True
        return m

    @property
    def n_cells(self) -> int:
        """How many (feature, neuron) pairs fire."""
        return int(self.neuron_counts().sum())

    def neuron_counts(self) -> np.ndarray:
        """``|F_i|`` per neuron."""
        kept = self.__dict__.get("_mask")
        return kept.sum(axis=0) if kept is not None else np.array([len(F) for F in self.firing], dtype=int)

    @property
    def dead_neurons(self) -> list[int]:
        return np.flatnonzero(self.neuron_counts() == 0).tolist()

    @property
    def polysemantic_neurons(self) -> list[int]:
        return np.flatnonzero(self.neuron_counts() >= 2).tolist()

    @property
    def is_polysemantic(self) -> bool:
        return bool(np.any(self.neuron_counts() >= 2))

    @property
    def is_partition(self) -> bool:
        """Every feature switches on exactly one neuron (dead neurons allowed)."""
        return bool(np.all(self._feature_counts() == 1))

    def partition_problem(self) -> str | None:
        """``None`` for a partition of ``[n]``; otherwise which features break it."""
        counts = self._feature_counts()
        missing = np.flatnonzero(counts == 0).tolist()
        repeated = np.flatnonzero(counts > 1).tolist()
        if not missing and not repeated:
            return None
        parts = []
        if missing:
            parts.append(f"features {missing} switch on no neuron")
        if repeated:
            parts.append(f"features {repeated} switch on more than one neuron")
        return "; ".join(parts)

    def _feature_counts(self) -> np.ndarray:
        kept = self.__dict__.get("_mask")
        return kept.sum(axis=1) if kept is not None else self.mask.sum(axis=1)

    def to_json(self) -> list[list[int]]:
        return [sorted(F) for F in self.firing]

    def __str__(self) -> str:
        return "(" + ", ".join("{" + ",".join(map(str, sorted(F))) + "}" if F else "∅" for F in self.firing) + ")"


def _feature_set(i: int, F, n: int) -> frozenset[int]:
    return V.index_set(f"the features F_{i} of neuron {i}", F, n)


def as_pattern(pattern, instance: Instance, n_neurons: int | None = None) -> ActivationPattern:
    """Accept an :class:`ActivationPattern`, a list of sets, or a features × neurons mask."""
    V.instance_of("instance", instance, Instance, "a theory.Instance")
    if isinstance(pattern, ActivationPattern):
        p = pattern
    elif isinstance(pattern, np.ndarray) and pattern.dtype == bool:
        p = ActivationPattern.from_mask(pattern)
    else:
        p = ActivationPattern.from_sets(pattern, instance.n)
    if p.n_features != instance.n:
        raise SDLInputError(f"pattern is over {p.n_features} features but the instance has n = {instance.n}")
    if n_neurons is not None and p.n_neurons != n_neurons:
        raise SDLInputError(f"pattern has {p.n_neurons} neurons but the encoder has n_q = {n_neurons} rows")
    return p


def pattern_of(instance: Instance, W_E, b_E=None) -> ActivationPattern:
    """The activation pattern of an encoder on the single-feature inputs (C2–C8)."""
    V.instance_of("instance", instance, Instance, "a theory.Instance")
    W_E = V.matrix("W_E", W_E, "encoder, n_q × n_p", shape=(None, instance.n_p))
    if b_E is not None:
        b_E = V.vector("b_E", b_E, W_E.shape[0], "encoder bias, one entry per encoder row")
    problem = instance.activation.encoder_problem(W_E)
    if problem:
        raise SDLInputError(f"W_E: {problem}")
    Z = instance.pre_activations(W_E, b_E)
    return ActivationPattern.from_mask(instance.activation.active(Z))


@dataclass(frozen=True)
class Realizability:
    """Outcome of :meth:`Region.find_point`.

    ``status`` is ``"realizable"`` (a witness at a strictly positive margin from every inequality,
    re-evaluated with the activation's own ``active()``), ``"unrealizable"`` (the LP's best margin is
    ``<= 0``, with a Motzkin certificate ``y >= 0``, ``Σ y = 1``, ``Aᵀy = 0``, ``cᵀy <= 0`` on the
    stacked inequalities ``A v <= c`` that shows no point clears them all with a margin) or
    ``"undecided"`` (numerical trouble: the LP reports a margin its witness does not reproduce).
    """

    realizable: bool
    margin: float  # optimal margin of the homogenised LP; > 0 iff realizable
    W_E: np.ndarray | None  # a witness encoder when realizable
    b_E: np.ndarray | None
    reason: str
    status: str = ""
    certificate: np.ndarray | None = None  # Motzkin multipliers y when unrealizable

    def __post_init__(self):
        if not self.status:
            object.__setattr__(self, "status", "realizable" if self.realizable else "unrealizable")

    def to_json(self) -> dict:
        return {
            "realizable": self.realizable,
            "status": self.status,
            "margin": self.margin,
            "reason": self.reason,
            "W_E": None if self.W_E is None else self.W_E.tolist(),
            "b_E": None if self.b_E is None else self.b_E.tolist(),
            "certificate": None if self.certificate is None else self.certificate.tolist(),
        }


# An LP margin this small (rows are O(max |coefficient|), variables in [-1, 1]) is not evidence of a
# point: realizability needs a margin above it, and the witness must then reproduce the pattern.
MARGIN_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class Region:
    """``Ω_P = {(W_E, b): A_strict v < c_strict, A_weak v <= c_weak}`` with ``v = (vec W_E, b)``.

    ``vec`` is row-major: entry ``(i, j)`` of ``W_E`` is ``v[i * n_p + j]``; biases follow (only
    when the instance has an encoder bias). An intersection of half-spaces, so always convex.
    ``inputs`` are the inputs (rows, feature coordinates) whose pattern ``pattern.mask`` is; None
    means the single features (``X = I``).
    """

    instance: Instance
    pattern: ActivationPattern
    A_strict: np.ndarray
    c_strict: np.ndarray
    A_weak: np.ndarray
    c_weak: np.ndarray
    impossible: str | None  # set when the activation cannot produce this mask for any Z
    inputs: np.ndarray | None = None

    @property
    def n_q(self) -> int:
        return self.pattern.n_neurons

    @property
    def n_pre(self) -> int:
        """Encoder rows: ``pre_per_unit`` per unit (a Gated unit has a gate and a magnitude row)."""
        return self.n_q * self.instance.activation.pre_per_unit

    @property
    def tie(self) -> np.ndarray | None:
        """``T`` with ``(vec W_E, b) = T u`` when the family ties encoder rows (tied Gated); the region's
        variables are then ``u`` (its inequalities are ``A T u < c``)."""
        return self.instance.activation.tie_basis(self.n_q, self.instance.n_p, self.instance.encoder_bias)

    @property
    def n_full(self) -> int:
        return self.n_pre * self.instance.n_p + (self.n_pre if self.instance.encoder_bias else 0)

    @property
    def n_vars(self) -> int:
        T = self.tie
        return self.n_full if T is None else T.shape[1]

    @property
    def X(self) -> np.ndarray:
        return np.eye(self.instance.n) if self.inputs is None else self.inputs

    def pack(self, W_E, b_E=None) -> np.ndarray:
        v = V.matrix("W_E", W_E, "encoder, one row per encoder row × n_p", shape=(self.n_pre, self.instance.n_p)).reshape(-1)
        if b_E is not None and not self.instance.encoder_bias:
            raise SDLInputError("b_E given but the instance has encoder_bias=False")
        if self.instance.encoder_bias:
            b = np.zeros(self.n_pre) if b_E is None else V.vector("b_E", b_E, self.n_pre, "encoder bias, one entry per encoder row")
            v = np.concatenate([v, b])
        T = self.tie
        if T is None:
            return v
        u = np.linalg.lstsq(T, v, rcond=None)[0]
        if not np.allclose(T @ u, v, rtol=1e-9, atol=1e-12):
            raise SDLInputError(
                f"{self.instance.activation.describe()}: this encoder is not of the tied form the region uses "
                "(W_mag = W_gate, the scale exp(r) folded into the decoder: theory.activations.gated.absorb_scale)")
        return u

    def unpack(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        T = self.tie
        v = np.asarray(v, dtype=float) if T is None else T @ np.asarray(v, dtype=float)
        k = self.n_pre * self.instance.n_p
        W_E = v[:k].reshape(self.n_pre, self.instance.n_p)
        return W_E, (v[k:] if self.instance.encoder_bias else None)

    def slack(self, W_E, b_E=None) -> tuple[np.ndarray, np.ndarray]:
        """``(c_strict − A_strict v, c_weak − A_weak v)``: inside iff first > 0 and second >= 0."""
        v = self.pack(W_E, b_E)
        return self.c_strict - self.A_strict @ v, self.c_weak - self.A_weak @ v

    def margin(self, W_E, b_E=None) -> float:
        """The smallest slack over every inequality (strict and weak); ``inf`` with none."""
        s, w = self.slack(W_E, b_E)
        both = np.concatenate([s, w])
        return float(both.min()) if both.size else float("inf")

    def reproduces(self, W_E, b_E=None) -> bool:
        """The activation's own ``active()`` on the region's inputs gives exactly the pattern's mask.

        Pre-activations within round-off of 0 are read as 0 first: the only inequalities a region keeps
        weak are ReLU kinks ``z <= 0``, where σ is 0 on both sides, and a point the LP put on such a face
        must not be switched on by a rounding error; every other boundary is strict (positive slack)."""
        Z = pre_activations_on_inputs(self.instance, self.X, W_E, b_E)
        Z = np.where(np.abs(Z) <= 1e-12 * (1.0 + np.abs(Z).max(initial=0.0)), 0.0, Z)
        return bool(np.array_equal(self.instance.activation.active(Z), self.pattern.mask))

    def contains(self, W_E, b_E=None) -> bool:
        """In Ω_P: every strict inequality with positive slack, every weak one satisfied, and the
        activation's own evaluation reproduces the pattern (the inequalities are never the only judge)."""
        if self.impossible:
            return False
        s, w = self.slack(W_E, b_E)
        return bool(np.all(s > 0) and np.all(w >= -1e-12)) and self.reproduces(W_E, b_E)

    def is_witness(self, W_E, b_E=None, min_margin: float = 0.0) -> bool:
        """Strictly inside every inequality (margin > ``min_margin``) and reproducing the pattern:
        the only points accepted as evidence that the pattern is realizable (no tie, no boundary)."""
        return (not self.impossible) and self.margin(W_E, b_E) > min_margin and self.reproduces(W_E, b_E)

    def _stacked(self) -> tuple[np.ndarray, np.ndarray]:
        A = np.vstack([self.A_strict, self.A_weak]).reshape(-1, self.n_vars)
        return A, np.concatenate([self.c_strict, self.c_weak])

    def _max_margin(self) -> tuple[float, np.ndarray]:
        """Maximise the common margin ``t`` of the homogenised system (see :meth:`find_point`)."""
        from scipy.optimize import linprog

        nv = self.n_vars
        A, c = self._stacked()
        # variables: x (nv), s, t
        rows = [np.hstack([A, -c[:, None], np.ones((len(A), 1))])] if len(A) else []
        rows.append(np.hstack([np.zeros((1, nv)), [[-1.0, 1.0]]]))  # t <= s
        A_ub = np.vstack(rows)
        cost = np.zeros(nv + 2)
        cost[-1] = -1.0  # maximise t
        bounds = [(-1.0, 1.0)] * nv + [(0.0, 1.0), (None, 1.0)]
        res = linprog(cost, A_ub=A_ub, b_ub=np.zeros(len(A_ub)), bounds=bounds, method="highs")
        if res.status != 0:
            raise RuntimeError(f"linprog failed unexpectedly: {res.message}")
        return float(-res.fun), res.x

    def certificate(self) -> tuple[float, np.ndarray | None]:
        """Motzkin's alternative for ``A v < c`` (all inequalities strict): ``min cᵀy`` over
        ``y >= 0, Σ y = 1, Aᵀy = 0``. A minimum ``<= 0`` proves that no ``v`` clears every inequality
        with a positive margin (it is the LP dual of the max-margin problem ``max t: A v + t <= c``);
        returns ``(min cᵀy, y)``, or ``(inf, None)`` when that system is infeasible."""
        from scipy.optimize import linprog

        A, c = self._stacked()
        if not len(A):
            return float("inf"), None
        res = linprog(c, A_eq=np.vstack([A.T, np.ones((1, len(A)))]), b_eq=np.r_[np.zeros(self.n_vars), 1.0],
                      bounds=[(0, None)] * len(A), method="highs")
        if res.status != 0:
            return float("inf"), None
        return float(res.fun), res.x

    def find_point(self) -> Realizability:
        """Decide whether Ω_P has a point strictly inside every inequality (a linear program).

        Homogenise ``v = x / s`` with ``s > 0``: such a point exists iff the cone
        ``A x − c s + t <= 0, t <= s`` (``A v <= c`` all inequalities stacked) has a point with ``t > 0``.
        The cone is scale-invariant, so maximising ``t`` in the box ``[-1, 1]`` decides it: the witness
        ``x / s`` is re-evaluated with the activation's ``active()`` and must reproduce the pattern; an
        optimum ``t* <= 0`` comes with the dual (Motzkin) certificate of :meth:`certificate`.

        A region whose closure is met only on its boundary (ties forced, e.g. a ReLU unit off on
        both ``e`` and ``−e``, so ``z = 0`` on both) is not realizable: a boundary point flips with the
        ``>`` vs ``>=`` convention, so it is never evidence.
        """
        if self.impossible:
            return Realizability(False, -np.inf, None, None, self.impossible)
        nv = self.n_vars
        t, x = self._max_margin()
        if t > MARGIN_TOL:
            W_E, b_E = self.unpack(x[:nv] / x[nv])
            if self.is_witness(W_E, b_E):
                return Realizability(True, t, W_E.copy(), None if b_E is None else b_E.copy(),
                                     f"witness encoder strictly inside every inequality, margin {t:.3g}, "
                                     "re-evaluated with the activation")
            return Realizability(False, t, None, None,
                                 f"undecided: the LP reports margin {t:.3g} but its witness does not reproduce "
                                 f"{self.pattern} when evaluated (numerically degenerate)", status="undecided")
        value, y = self.certificate()
        if y is None or value > MARGIN_TOL:  # the two LPs disagree: say so rather than pick one
            return Realizability(False, t, None, None,
                                 f"undecided: the LP's best margin is {t:.3g} but no dual certificate was found",
                                 status="undecided")
        return Realizability(False, t, None, None,
                             f"the LP's best margin is {t + 0.0:.3g} <= 0 (certificate: y >= 0, Aᵀy = 0, cᵀy = {value + 0.0:.3g}): "
                             f"no encoder produces {self.pattern} off every boundary", certificate=y)


def region(instance: Instance, pattern) -> Region:
    """The linear inequalities on ``(W_E, b)`` that define ``Ω_P`` (C2): the single-feature inputs."""
    P = as_pattern(pattern, instance)
    return region_on_inputs(instance, np.eye(instance.n), P.mask)


def region_on_inputs(instance: Instance, X, mask) -> Region:
    """Ω for ``mask[s, i]`` (inputs × neurons) on arbitrary inputs ``X`` (inputs × n, feature coordinates).

    Absorption (C7) and dead neurons under the exact loss (C8) need regions for inputs other than
    the single features — a child together with its parent, sums of features. The pre-activations are
    ``Z[s, i] = <w_E^i, W_p x_s> + b_i`` and the region is the pull-back of
    ``activation.region_constraints(mask)`` to ``v = (vec W_E, b)``; :func:`region` is ``X = I``.
    """
    V.instance_of("instance", instance, Instance, "a theory.Instance")
    X = V.matrix("X", np.atleast_2d(X) if isinstance(X, np.ndarray) else X, "inputs × n, in feature coordinates")
    mask = V.bool_mask("mask", np.atleast_2d(mask) if isinstance(mask, np.ndarray) else mask, "inputs × neurons")
    if X.shape[1] != instance.n:
        raise SDLInputError(f"inputs must be given in feature coordinates (rows of length n = {instance.n}), got shape {X.shape}")
    if mask.ndim != 2 or mask.shape[0] != X.shape[0]:
        raise SDLInputError(f"mask must be inputs × neurons with {X.shape[0]} rows, got shape {mask.shape}")
    from theory.margins import check_dense_region

    check_dense_region(instance, X.shape[0], mask.shape[1])  # refuse before allocating (issue 9)
    P = ActivationPattern.from_mask(mask)
    act = instance.activation
    n_q, n_p = mask.shape[1], instance.n_p
    n_pre = n_q * act.pre_per_unit  # constraint terms name pre-activation columns (gate rows for Gated)
    nv = n_pre * n_p + (n_pre if instance.encoder_bias else 0)
    inputs = instance.W_p @ X.T  # n_p × inputs
    impossible = act.mask_is_possible(mask)
    strict_rows, strict_rhs, weak_rows, weak_rhs = [], [], [], []
    if impossible is None:
        for con in act.region_constraints(mask):
            row = np.zeros(nv)
            for (s, i), coeff in con.terms:
                row[i * n_p:(i + 1) * n_p] += coeff * inputs[:, s]
                if instance.encoder_bias:
                    row[n_pre * n_p + i] += coeff
            (strict_rows if con.strict else weak_rows).append(row)
            (strict_rhs if con.strict else weak_rhs).append(con.rhs)

    T = act.tie_basis(n_q, n_p, instance.encoder_bias)

    def stack(rows):
        A = np.array(rows, dtype=float).reshape(len(rows), nv)
        return A if T is None else A @ T  # inequalities on the free parameters of a tied family

    return Region(instance, P, stack(strict_rows), np.array(strict_rhs, dtype=float), stack(weak_rows),
                  np.array(weak_rhs, dtype=float), impossible, X)


def pre_activations_on_inputs(instance: Instance, X, W_E, b_E=None) -> np.ndarray:
    """``Z[s, i] = <w_E^i, W_p x_s> + b_i`` for the rows ``x_s`` of ``X`` (feature coordinates)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    Z = X @ (np.asarray(W_E, dtype=float) @ instance.W_p).T
    if b_E is not None:
        Z = Z + np.asarray(b_E, dtype=float)
    return Z


def active_on_inputs(instance: Instance, X, W_E, b_E=None) -> np.ndarray:
    """``mask[s, i]``: neuron i on for input ``x_s`` (a batch, so BatchTopK competes across the rows)."""
    return instance.activation.active(pre_activations_on_inputs(instance, X, W_E, b_E))


def realize(instance: Instance, pattern) -> Realizability:
    """Shorthand for ``region(instance, pattern).find_point()``."""
    return region(instance, pattern).find_point()


def robust_margin(instance: Instance, W_E, b_E=None, X=None) -> float:
    """How far a point is from every boundary of its own region on the inputs ``X`` (rows, feature
    coordinates; default the single features): the smallest slack of the region's inequalities, i.e. the
    distance of every pre-activation from every threshold and every top-k tie. A counterexample whose
    margin is 0 sits on a boundary, so its verdict could flip with the ``>`` vs ``>=`` convention."""
    X = np.eye(instance.n) if X is None else np.atleast_2d(np.asarray(X, dtype=float))
    mask = active_on_inputs(instance, X, W_E, b_E)
    R = region_on_inputs(instance, X, mask)
    if R.impossible:
        return 0.0
    return max(0.0, R.margin(W_E, b_E))
