"""The immutable problem instance (THEORY.md sections 1–3).

An :class:`Instance` fixes everything the objectives depend on except the parameters:
the input feature matrix ``W_p`` (``n_p × n``), the target feature matrix ``W_r`` (``n_r × n``,
``W_r = W_p`` for an SAE), the feature weights ``M_d`` of the approximate objective, the activation,
and whether the model has an encoder bias. A feature distribution may be attached: it is needed by
the exact objective L and, when ``weights`` is not given, it defines ``M_d``.

Parameters are passed separately: ``W_E`` (``n_q × n_p``), ``W_D`` (``n_r × n_q``) and, for a model
with an encoder bias, ``b_E`` (``n_q``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from theory.activations import Activation, ReLU, activation_from_json
from theory.distribution import FeatureDistribution
from theory.errors import SDLInputError
from theory.geometry import column_norm_error, interference
from theory import validation as V

UNIT_NORM_TOL = 1e-6
REPR_MAX_N = 2048  # repr shows the interference only up to this many features
_Z_CACHE_MIN_FLOPS = 5e8


_matrix = V.matrix


def normalize_columns(W) -> np.ndarray:
    """``W`` with every column scaled to unit norm (zero columns are an error)."""
    W = np.array(V.matrix("W", W, "features as columns"))
    norms = np.linalg.norm(W, axis=0)
    if np.any(norms == 0):
        raise SDLInputError(f"columns {np.flatnonzero(norms == 0).tolist()} are zero and cannot be normalised")
    return W / norms


@dataclass(frozen=True, eq=False)
class Instance:
    """``(W_p, W_r, M_d, σ, bias)``: see the module docstring.

    >>> Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=TopKReLU(k=1))
    """

    W_p: np.ndarray
    W_r: np.ndarray | None = None
    weights: np.ndarray | None = None
    activation: Activation = field(default_factory=ReLU)
    encoder_bias: bool = False
    distribution: FeatureDistribution | None = None

    def __post_init__(self):
        W_p = _matrix("W_p", self.W_p, "input features as columns, n_p × n")
        W_r = W_p if self.W_r is None else _matrix("W_r", self.W_r, "target features as columns, n_r × n")
        n = W_p.shape[1]
        if W_r.shape[1] != n:
            raise SDLInputError(
                f"W_p has {n} feature columns but W_r has {W_r.shape[1]}; both must have one column per feature (n)"
            )
        for name, W in (("W_p", W_p), ("W_r", W_r)):
            err = column_norm_error(W)
            if err > UNIT_NORM_TOL:
                raise SDLInputError(
                    f"the columns of {name} must have unit norm (off by up to {err:.3g}); "
                    "pass theory.instance.normalize_columns(W) instead"
                )
        if not isinstance(self.activation, Activation):
            raise SDLInputError(
                f"activation must be one of theory.activations (ReLU(), JumpReLU(theta=...), TopK(k=...), ...), got {V.got(self.activation)}"
            )
        if self.distribution is not None and not isinstance(self.distribution, FeatureDistribution):
            raise SDLInputError(f"distribution must be a theory.distribution.FeatureDistribution, got {V.got(self.distribution)}")
        encoder_bias = V.bool_flag("encoder_bias", self.encoder_bias)
        if self.weights is None:
            weights = self.distribution.feature_weights(n) if self.distribution is not None else np.ones(n)
            if not np.all(weights > 0):
                raise SDLInputError(
                    f"the distribution gives feature weights M_d = p_d Π(1-p_j) E[m²] = 0 for features "
                    f"{np.flatnonzero(~(weights > 0)).tolist()[:8]} (p_active 0, or another feature always on): "
                    "L̃ would ignore them; every M_d must be > 0, so use p_active strictly between 0 and 1")
        else:
            weights = V.vector("weights", self.weights, n, "the feature weights M_d, one entry per feature", scalar_ok=n == 1)
            if np.any(weights <= 0):
                raise SDLInputError(f"feature weights M_d must be finite and > 0, got {weights.tolist()[:8]}")
            if self.distribution is not None:
                implied = self.distribution.feature_weights(n)
                if not np.allclose(weights, implied, rtol=1e-9, atol=0):
                    raise SDLInputError(
                        "weights disagree with the distribution's M_d = p_d Π(1-p_j) E[m²]; give one or the other"
                    )
        weights = np.array(weights, dtype=float)
        weights.setflags(write=False)
        object.__setattr__(self, "W_p", W_p)
        object.__setattr__(self, "W_r", W_r)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "encoder_bias", encoder_bias)

    # --- sizes and geometry -----------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.W_p.shape[1]

    @property
    def n_p(self) -> int:
        return self.W_p.shape[0]

    @property
    def n_r(self) -> int:
        return self.W_r.shape[0]

    @property
    def is_sae(self) -> bool:
        return self.W_r.shape == self.W_p.shape and np.array_equal(self.W_r, self.W_p)

    @property
    def interference(self) -> float:
        """``M = max_{i≠j} <w_p^i, w_p^j>`` (not the feature weights: those are ``weights``)."""
        return interference(self.W_p)

    def replace(self, **changes) -> "Instance":
        return dataclasses.replace(self, **changes)

    # --- parameters ---------------------------------------------------------------------------
    def check_params(self, W_D, W_E, b_E=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validate and return ``(W_D, W_E, b_E)`` as float arrays (``b_E`` zeros without a bias)."""
        W_E = _matrix("W_E", W_E, "encoder, n_q × n_p")
        W_D = _matrix("W_D", W_D, "decoder, n_r × n_q")
        if W_E.shape[1] != self.n_p:
            raise SDLInputError(f"W_E must be n_q × n_p = ? × {self.n_p} to read inputs of dimension n_p; got {W_E.shape}")
        problem = self.activation.encoder_problem(W_E)
        if problem:
            raise SDLInputError(f"W_E: {problem}")
        n_pre = W_E.shape[0]
        n_q = self.activation.n_units(n_pre)  # units (a Gated unit has a gate row and a magnitude row)
        if W_D.shape != (self.n_r, n_q):
            raise SDLInputError(
                f"W_D must be n_r × n_q = {self.n_r} × {n_q} (n_q units from W_E's {n_pre} rows); got {W_D.shape}"
            )
        if b_E is None:
            b = np.zeros(n_pre)
        else:
            if not self.encoder_bias:
                raise SDLInputError("b_E given but the instance has encoder_bias=False; use instance.replace(encoder_bias=True)")
            b = V.vector("b_E", b_E, n_pre, "encoder bias, one entry per encoder row", scalar_ok=n_pre == 1)
        return W_D, W_E, b

    def pre_activations(self, W_E, b_E=None) -> np.ndarray:
        """``Z[d, i] = <w_E^i, w_p^d> + b_i``: the neurons' inputs on the single-feature inputs ``w_p^d``.

        A large product (``n·n_p·n_q >= 5·10⁸``; paper size is 1.2·10¹⁰) is kept for the last encoder,
        keyed by the encoder array itself when it is read-only and owns its data (what the validators
        return), else by a digest of its bytes (and of ``b_E``): one inspection evaluates L̃, its gradients, the
        least-squares decoder and the region slack at the same encoder, each of which would redo it
        (issue 9). Such a large result is returned read-only (it is shared); copy it to write into it."""
        W_E = np.asarray(W_E, dtype=float)
        b = None if b_E is None else np.asarray(b_E, dtype=float)
        if not (W_E.ndim == 2 and self.n * W_E.size >= _Z_CACHE_MIN_FLOPS):
            Z = self.W_p.T @ W_E.T
            return Z if b is None else Z + b[None, :]
        hit = self.__dict__.get("_z_cache")
        if hit is not None and hit[2] is W_E and V.frozen(W_E) and (
                (b is None and hit[3] is None) or (b is not None and hit[3] is not None and np.array_equal(b, hit[3]))):
            return hit[1]   # the very encoder of the last call (read-only, owning its data: unchanged), same bias
        import hashlib

        h = hashlib.blake2b(np.ascontiguousarray(W_E).view(np.uint8).data, digest_size=20)
        if b is not None:
            h.update(np.ascontiguousarray(b).view(np.uint8).data)
        key = (W_E.shape, b is None, h.digest())
        if hit is None or hit[0] != key:
            live = np.flatnonzero(np.any(W_E != 0, axis=1))
            if live.size < 0.75 * W_E.shape[0]:   # many zero rows (a padded construction, e.g. C3's): skip them
                Z = np.zeros((self.n, W_E.shape[0]))
                Z[:, live] = self.W_p.T @ W_E[live].T
            else:
                Z = self.W_p.T @ W_E.T
            if b is not None:
                Z += b[None, :]
            Z.flags.writeable = False   # shared: writing into it raises instead of corrupting the cache
        hit = (key, hit[1] if hit is not None and hit[0] == key else Z, W_E, None if b is None else b.copy())
        object.__setattr__(self, "_z_cache", hit)
        return hit[1]

    # --- serialisation -------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "W_p": self.W_p.tolist(),
            "W_r": None if self.is_sae else self.W_r.tolist(),
            "weights": self.weights.tolist(),
            "activation": self.activation.to_json(),
            "encoder_bias": self.encoder_bias,
            "distribution": None if self.distribution is None else self.distribution.to_json(),
        }

    @classmethod
    def from_json(cls, d: dict) -> "Instance":
        if not isinstance(d, dict) or "W_p" not in d or not isinstance(d.get("activation", {}), dict):
            raise SDLInputError(f"an instance JSON is an object with 'W_p' (and optionally W_r, weights, activation, "
                                f"encoder_bias, distribution) as written by Instance.to_json(); got {V.got(d)}")
        dist = d.get("distribution")
        return cls(
            W_p=d["W_p"],
            W_r=d.get("W_r"),
            weights=None if dist is not None else d.get("weights"),
            activation=activation_from_json(d.get("activation", {"name": "relu"})),
            encoder_bias=d.get("encoder_bias", False),
            distribution=None if dist is None else FeatureDistribution.from_json(dist),
        )

    def __repr__(self) -> str:
        kind = "SAE" if self.is_sae else "transcoder"
        # The interference needs the n × n Gram matrix: fine for small n, gigabytes for a wide instance.
        M = f"interference={self.interference:.3g}, " if self.n <= REPR_MAX_N else ""
        return (
            f"Instance({kind}, n={self.n}, n_p={self.n_p}, n_r={self.n_r}, activation={self.activation.describe()}, "
            f"{M}encoder_bias={self.encoder_bias})"
        )
