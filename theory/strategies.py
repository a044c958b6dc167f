"""Hypothesis strategies for instances, activations, parameters and patterns.

They live in the library (not only in the tests) so users can property-test their own claims::

    from hypothesis import given, settings
    from theory.strategies import instances, points_in_region

    @settings(max_examples=50, deadline=None)
    @given(instances(max_n=4))
    def test_mine(inst): ...

Everything is drawn from small integer-seeded numpy generators so that shrinking works on the
seed and the sizes, and every drawn example is reproducible from what hypothesis prints.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from theory import registry
from theory.activations import Activation, Gated, tied_encoder
from theory.errors import SDLInputError
from theory.distribution import Constant, FeatureDistribution, ShiftedExponential, Uniform
from theory.instance import Instance, normalize_columns

seeds = st.integers(min_value=0, max_value=2**31 - 1)


def searched_families(**filters) -> tuple[str, ...]:
    """The families the claims' searches draw by default (``theory.registry.families(searched=True)``,
    narrowed by ``registry.searching``), with the given properties (e.g. ``per_sample=True``)."""
    return registry.names(searched=True, **filters)


@st.composite
def activations(draw, families=None, max_k: int = 3) -> Activation:
    """One activation of the listed families (names, ``module:attr`` or :class:`theory.registry.Family`;
    default: :func:`searched_families`), its parameters drawn by the family's own strategy."""
    fams = [registry.get(f) for f in (searched_families() if families is None else families)]
    if not fams:
        raise SDLInputError("no activation family to draw from: the families searched (verify --activation …) "
                            "have none with the properties this search needs")
    # draw the name, not the Family object: hypothesis generates differently for non-literal elements,
    # and the same names keep every search's examples per seed what they were
    fam = registry.get(draw(st.sampled_from([f.ref for f in fams])))
    return fam.draw(draw, max_k)  # drawn in this composite, not a nested strategy: same examples per seed


@st.composite
def feature_matrices(draw, n: int, dim: int, geometry=("gaussian", "orthonormal", "negative")) -> np.ndarray:
    """Unit-norm ``dim × n`` feature matrices.

    ``gaussian``: random directions (positive and negative interference); ``orthonormal``: needs
    ``n <= dim``; ``negative``: a regular simplex-like frame with all inner products ``< 0`` (``n <= dim + 1``);
    ``antipodal``: features in ``±`` pairs (``w_p^{2j+1} = −w_p^{2j}``, interference −1), where many
    patterns are realised only at ties (the hardest case for strict regions, issue 12).
    """
    allowed = [g for g in geometry if not (g == "orthonormal" and n > dim) and not (g == "negative" and n > dim + 1)]
    kind = draw(st.sampled_from(allowed or ["gaussian"]))
    rng = np.random.default_rng(draw(seeds))
    if kind == "antipodal" and n >= 2:
        W = normalize_columns(rng.normal(size=(dim, (n + 1) // 2)))
        return np.stack([W, -W], axis=2).reshape(dim, -1)[:, :n].copy()
    if kind == "orthonormal":
        Q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
        return Q[:, :n].copy()
    if kind == "negative" and n >= 2:
        # centred standard basis in R^n spans an (n-1)-dim space: pairwise <.,.> = -1/(n-1)
        E = np.eye(n) - 1.0 / n
        U, _, _ = np.linalg.svd(E)
        coords = U[:, : n - 1].T @ E  # (n-1) × n
        Q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
        W = Q[:, : n - 1] @ coords
        return normalize_columns(W)
    while True:
        W = rng.normal(size=(dim, n))
        if np.all(np.linalg.norm(W, axis=0) > 1e-3):
            return normalize_columns(W)


@st.composite
def distributions(draw, n: int, max_p: float = 0.3) -> FeatureDistribution:
    p = draw(st.lists(st.floats(1e-3, max_p), min_size=n, max_size=n))
    law = draw(st.sampled_from(["constant", "exp", "uniform"]))
    magnitude = {"constant": Constant(1.0), "exp": ShiftedExponential(0.5, 0.5), "uniform": Uniform(0.2, 1.5)}[law]
    return FeatureDistribution(np.array(p), magnitude)


@st.composite
def instances(
    draw,
    min_n: int = 2,
    max_n: int = 4,
    max_dim: int = 4,
    families=None,
    transcoder: bool | None = None,
    bias: bool | None = None,
    with_distribution: bool = False,
    superposition: bool | None = None,
    geometry=("gaussian", "orthonormal", "negative"),
) -> Instance:
    """Small random instances over the whole hypothesis space THEORY.md section 4 asks for:
    every searched family (``families``, as in :func:`activations`), with/without bias, unequal weights, non-orthogonal and negative interference,
    ``n > n_p`` (superposition) and transcoders with ``W_r ≠ W_p`` (``None`` = draw either)."""
    n = draw(st.integers(min_n, max_n))
    sup = draw(st.booleans()) if superposition is None else superposition
    n_p = draw(st.integers(max(1, min(2, n - 1)), max(1, n - 1))) if sup and n > 1 else draw(st.integers(n, max(n, max_dim)))
    W_p = draw(feature_matrices(n, n_p, geometry))
    is_tc = draw(st.booleans()) if transcoder is None else transcoder
    W_r = draw(feature_matrices(n, draw(st.integers(1, max_dim)))) if is_tc else None
    has_bias = draw(st.booleans()) if bias is None else bias
    act = draw(activations(families))
    if with_distribution:
        dist = draw(distributions(n))
        return Instance(W_p=W_p, W_r=W_r, activation=act, encoder_bias=has_bias, distribution=dist)
    weights = np.array(draw(st.lists(st.floats(0.1, 3.0), min_size=n, max_size=n)))
    return Instance(W_p=W_p, W_r=W_r, weights=weights, activation=act, encoder_bias=has_bias)


@st.composite
def parameters(draw, instance: Instance, min_q: int = 1, max_q: int = 5, scale: float = 1.0):
    """``(W_D, W_E, b_E)`` for an instance (``b_E`` None without a bias), Gaussian entries.

    ``n_q`` units: a family with several pre-activations per unit (Gated) gets that many encoder rows
    per unit; a tied Gated encoder is ``[W_gate; exp(r) ⊙ W_gate]``."""
    n_q = draw(st.integers(min_q, max_q))
    rng = np.random.default_rng(draw(seeds))
    act = instance.activation
    n_pre = n_q * act.pre_per_unit
    W_E = scale * rng.normal(size=(n_pre, instance.n_p))
    if isinstance(act, Gated) and act.tied:
        W_E, _ = tied_encoder(W_E[:n_q], 0.5 * rng.normal(size=n_q))
    W_D = scale * rng.normal(size=(instance.n_r, n_q))
    b_E = 0.3 * scale * rng.normal(size=n_pre) if instance.encoder_bias else None
    return W_D, W_E, b_E


@st.composite
def points_in_region(draw, instance: Instance, min_q: int = 1, max_q: int = 5, min_margin: float = 1e-3):
    """Parameters whose encoder is at least ``min_margin`` inside its activation region, so that
    L̃ is a polynomial in a neighbourhood (points too close to a region boundary are rejected)."""
    from hypothesis import assume

    from theory.patterns import pattern_of, region

    W_D, W_E, b_E = draw(parameters(instance, min_q, max_q))
    R = region(instance, pattern_of(instance, W_E, b_E))
    strict, weak = R.slack(W_E, b_E)
    assume(strict.size == 0 or strict.min() > min_margin)
    # weak constraints hold with equality only on measure-zero sets; demand a margin there too
    assume(weak.size == 0 or weak.min() > min_margin)
    return W_D, W_E, b_E
