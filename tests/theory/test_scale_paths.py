"""The paths that make inspect scale (issue 9) agree with the small exact ones they replace:
top-k by partition vs a stable sort, sparse codes vs dense, the n × n least-squares Gram vs the
n_q × n_q one, the point's slack from Z vs the dense region, the cached product vs a fresh one."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import theory.derivation as Dv
import theory.objective as Obj
from theory import Instance
from theory.activations import BatchTopK, JumpReLU, ReLU, TopK, TopKReLU
from theory.activations.base import topk_mask
from theory.errors import SDLInputError
from theory.instance import normalize_columns
from theory.margins import MAX_DENSE_REGION_BYTES, check_dense_region, point_slack
from theory.patterns import pattern_of, region


def _stable_topk(Z, k):
    Z2 = np.atleast_2d(Z)
    k = min(k, Z2.shape[1])
    order = np.argsort(-Z2, axis=1, kind="stable")[:, :k]
    m = np.zeros(Z2.shape, dtype=bool)
    np.put_along_axis(m, order, True, axis=1)
    return m if np.ndim(Z) == 2 else m[0]


def _assert_slack_is_the_dense_regions(inst, W_E, b):
    got = point_slack(inst, W_E, b)
    R = region(inst, pattern_of(inst, W_E, b))
    s, w = R.slack(W_E, b)
    assert got["strict"] == pytest.approx(s.min() if s.size else np.inf, abs=1e-12)
    assert got["weak"] == pytest.approx(w.min() if w.size else np.inf, abs=1e-12)
    assert got["inside"] == bool(R.contains(W_E, b))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5), st.integers(1, 8), st.integers(1, 9), st.integers(0, 2**31 - 1), st.booleans())
def test_topk_mask_matches_the_stable_sort(rows, cols, k, seed, ties):
    rng = np.random.default_rng(seed)
    Z = rng.integers(-2, 3, size=(rows, cols)).astype(float) if ties else rng.normal(size=(rows, cols))
    assert np.array_equal(topk_mask(Z, k), _stable_topk(Z, k))
    assert np.array_equal(topk_mask(Z[0], k), _stable_topk(Z[0], k))


def _instance(act, seed, n=6, n_p=5, bias=True):
    rng = np.random.default_rng(seed)
    return Instance(W_p=normalize_columns(rng.normal(size=(n_p, n))), weights=rng.uniform(0.5, 2.0, size=n),
                    activation=act, encoder_bias=bias)


FAMILIES = [ReLU(), JumpReLU(theta=0.3), TopK(k=2), TopKReLU(k=2), BatchTopK(k=2)]


@pytest.mark.parametrize("act", FAMILIES, ids=lambda a: a.describe())
def test_sparse_codes_give_the_dense_results(act, monkeypatch):
    inst = _instance(act, 1, n=9, n_p=7)
    rng = np.random.default_rng(2)
    W_E, b, W_D = rng.normal(size=(30, 7)), rng.normal(size=30) * 0.5 - 0.4, rng.normal(size=(7, 30))
    dense = (Dv.gradients(inst, W_D, W_E, b, method="vectorized"), Obj.approx_loss(inst, W_D, W_E, b),
             Dv.least_squares_decoder(inst, W_E, b))
    real = Obj.sparse_if_sparse
    always = lambda X, min_size=0, max_density=1.0: real(X, 0, 1.0)  # noqa: E731
    monkeypatch.setattr(Obj, "sparse_if_sparse", always)
    monkeypatch.setattr(Dv, "sparse_if_sparse", always)
    assert not isinstance(always(np.eye(2)), np.ndarray)   # the sparse path is really taken
    g = Dv.gradients(inst, W_D, W_E, b, method="vectorized")
    for a, c in ((g.W_D, dense[0].W_D), (g.W_E, dense[0].W_E), (g.b_E, dense[0].b_E)):
        assert np.allclose(a, c, atol=1e-10)
    assert Obj.approx_loss(inst, W_D, W_E, b) == pytest.approx(dense[1], rel=1e-12)
    assert np.allclose(Dv.least_squares_decoder(inst, W_E, b), dense[2], atol=1e-10)


def test_least_squares_dual_form_is_the_normal_equations():
    # n_q > n takes the n × n Gram; it must be the min-norm solution B G⁺ of the n_q × n_q one
    for act in (ReLU(), TopKReLU(k=2)):
        inst = _instance(act, 3, n=5, n_p=4)
        rng = np.random.default_rng(4)
        W_E, b = rng.normal(size=(12, 4)), rng.normal(size=12) * 0.3
        X = Obj.single_feature_codes(inst, W_E, b)
        G = X.T @ (inst.weights[:, None] * X)
        B = inst.W_r @ (inst.weights[:, None] * X)
        assert np.allclose(Dv.least_squares_decoder(inst, W_E, b), B @ np.linalg.pinv(G, rcond=1e-12, hermitian=True),
                           atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(FAMILIES), st.integers(0, 2**31 - 1), st.integers(2, 7), st.booleans())
def test_point_slack_is_the_dense_regions(act, seed, n_q, rounded):
    inst = _instance(act, seed % 1000, n=4, n_p=3)
    rng = np.random.default_rng(seed)
    W_E = rng.normal(size=(n_q, 3))
    b = rng.normal(size=n_q) * 0.5
    if rounded:  # coarse values make ties and zeros: boundaries must be seen
        W_E, b = np.round(W_E), np.round(b)
    _assert_slack_is_the_dense_regions(inst, W_E, b)


def test_dense_region_refused_before_allocation():
    big = _instance(ReLU(), 0, n=1000, n_p=768)
    with pytest.raises(SDLInputError, match="too large for an exact LP"):
        check_dense_region(big, 1000, 16000)
    with pytest.raises(SDLInputError, match="GiB"):
        region(big, [set()] * 16000)
    check_dense_region(big, 2, 3)   # small is fine
    assert MAX_DENSE_REGION_BYTES <= 2**30


def test_cached_product_is_the_fresh_one(monkeypatch):
    import theory.instance as I

    monkeypatch.setattr(I, "_Z_CACHE_MIN_FLOPS", 0)
    inst = _instance(ReLU(), 5)
    rng = np.random.default_rng(6)
    W_E = rng.normal(size=(8, 5))
    Z1 = inst.pre_activations(W_E)
    with pytest.raises(ValueError, match="read-only"):
        Z1[:] = 0.0                  # the shared result cannot be scribbled on
    assert inst.pre_activations(W_E) is Z1 and np.allclose(Z1, inst.W_p.T @ W_E.T)
    W_E[0, 0] += 1.0                 # a changed encoder is a different key
    assert np.allclose(inst.pre_activations(W_E), inst.W_p.T @ W_E.T)


def test_cached_product_keys_on_the_bias(monkeypatch):
    import theory.instance as I

    monkeypatch.setattr(I, "_Z_CACHE_MIN_FLOPS", 0)
    inst = _instance(ReLU(), 7)
    rng = np.random.default_rng(8)
    W_E, b = rng.normal(size=(8, 5)), rng.normal(size=8)
    for bias in (b, b + 1.0, None, b):
        want = inst.W_p.T @ W_E.T + (0.0 if bias is None else bias[None, :])
        assert np.allclose(inst.pre_activations(W_E, bias), want)


# --- paper-size inspect: no per-call rework, a pattern that fits in memory (issue 9) ----------


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 9), st.integers(0, 2**31 - 1), st.floats(0.0, 1.0))
def test_a_mask_backed_pattern_is_the_tuple_of_sets(n, n_q, seed, density):
    import theory.patterns as TP

    mask = np.random.default_rng(seed).random((n, n_q)) < density
    eager = TP.ActivationPattern.from_sets([set(np.flatnonzero(mask[:, i]).tolist()) for i in range(n_q)], n)
    old = TP._LAZY_MIN_CELLS
    TP._LAZY_MIN_CELLS = 1
    try:
        lazy = TP.ActivationPattern.from_mask(mask)
    finally:
        TP._LAZY_MIN_CELLS = old
    assert isinstance(lazy.firing, TP.MaskFiring)
    assert lazy == eager and eager == lazy and hash(lazy) == hash(eager)
    assert lazy.firing == eager.firing and list(lazy.firing) == list(eager.firing)
    assert [lazy.firing[i] for i in range(n_q)] == list(eager.firing) and lazy.firing[1:] == eager.firing[1:]
    counts = mask.sum(axis=0)
    assert lazy.dead_neurons == eager.dead_neurons == [i for i in range(n_q) if counts[i] == 0]
    assert lazy.polysemantic_neurons == eager.polysemantic_neurons == [i for i in range(n_q) if counts[i] >= 2]
    assert lazy.n_cells == eager.n_cells == int(mask.sum())
    assert lazy.partition_problem() == eager.partition_problem() and lazy.to_json() == eager.to_json()
    assert np.array_equal(lazy.mask, mask) and np.array_equal(eager.mask, mask)
    m = lazy.mask
    m[:] = ~m   # the returned mask is the caller's copy
    assert np.array_equal(lazy.mask, mask)
    if mask.any():  # a different pattern is not equal
        other = mask.copy()
        other[np.argwhere(mask)[0][0], np.argwhere(mask)[0][1]] = False
        assert TP.ActivationPattern.from_mask(other) != lazy


def test_a_checked_matrix_is_not_rechecked_unless_it_could_have_changed():
    from theory import validation as V

    big = np.random.default_rng(0).normal(size=(300, 300))
    a = V.matrix("W", big)
    assert a is not big and not a.flags.writeable
    assert V.matrix("W", a) is a                    # handed back: the same checked array
    big[0, 0] = np.nan                              # the caller's own array was copied, not kept
    with pytest.raises(SDLInputError, match="NaN"):
        V.matrix("W", big)
    a.flags.writeable = True                        # re-opened for writing: checked again
    a[1, 1] = np.inf
    with pytest.raises(SDLInputError, match="NaN or infinite"):
        V.matrix("W", a)
    c = V.matrix("W", np.full((300, 300), 5.0))
    with pytest.raises(SDLInputError, match="magnitude"):
        V.matrix("W", c, max_abs=1.0)               # a tighter bound than it was checked against


def test_the_topk_mask_of_a_shared_product_is_computed_once(monkeypatch):
    import theory.activations.base as AB

    Z = np.random.default_rng(1).normal(size=(64, 1 << 15))
    Z.flags.writeable = False
    calls = []
    real = AB._topk_mask
    monkeypatch.setattr(AB, "_topk_mask", lambda z, k: calls.append(k) or real(z, k))
    m1 = AB.topk_mask(Z, 3)
    m2 = AB.topk_mask(Z, 3)
    assert m1 is m2 and not m1.flags.writeable and calls == [3]
    assert np.array_equal(AB.topk_mask(Z, 5), real(Z, 5)) and calls == [3, 5]   # another k: computed
    base = Z.copy()                                  # a read-only view of a writable array may change too
    view = base.view()
    view.flags.writeable = False
    AB.topk_mask(view, 5)
    base[:, 1] = 100.0
    assert AB.topk_mask(view, 5)[:, 1].all()
    W = Z.copy()                                     # a writeable array may change: never memoised
    AB.topk_mask(W, 5)
    W[:, 0] = 100.0
    assert AB.topk_mask(W, 5)[:, 0].all()


def test_cached_product_by_identity_only_for_arrays_that_cannot_change(monkeypatch):
    import hashlib

    import theory.instance as I

    monkeypatch.setattr(I, "_Z_CACHE_MIN_FLOPS", 0)
    inst = _instance(ReLU(), 9)
    W_E = np.random.default_rng(10).normal(size=(8, 5))
    W_E.flags.writeable = False
    b = np.zeros(8)
    Z1 = inst.pre_activations(W_E, b)
    digests = []
    real = hashlib.blake2b
    monkeypatch.setattr(hashlib, "blake2b", lambda *a, **k: digests.append(1) or real(*a, **k))
    assert inst.pre_activations(W_E, b.copy()) is Z1 and digests == []      # same frozen encoder, equal bias
    b[0] = 1.0                                                                  # the caller's bias changed
    assert np.allclose(inst.pre_activations(W_E, b), inst.W_p.T @ W_E.T + b) and digests == [1]
    W_E.flags.writeable = True                                                  # re-opened and written
    W_E[0, 0] += 1.0
    assert np.allclose(inst.pre_activations(W_E, b), inst.W_p.T @ W_E.T + b) and len(digests) == 2


@settings(max_examples=40, deadline=None)
@given(st.booleans(), st.integers(0, 2**31 - 1), st.integers(1, 5), st.booleans())
def test_point_slack_of_gated_units_is_the_dense_regions(tied, seed, n_q, rounded):
    from theory.activations import Gated
    from theory.activations.gated import tied_encoder

    inst = _instance(Gated(tied=tied), seed % 1000, n=4, n_p=3)
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(n_q, 3))
    if rounded:
        G = np.round(G)
    # tied: the form regions take, W_mag = W_gate (the scale e^r folded into the decoder: absorb_scale)
    W_E = tied_encoder(G, np.zeros(n_q))[0] if tied else np.vstack([G, rng.normal(size=(n_q, 3))])
    b = rng.normal(size=2 * n_q) * 0.5
    _assert_slack_is_the_dense_regions(inst, W_E, b)


def test_cached_product_skips_zero_rows_exactly(monkeypatch):
    import theory.instance as I

    monkeypatch.setattr(I, "_Z_CACHE_MIN_FLOPS", 0)
    inst = _instance(ReLU(), 11)
    rng = np.random.default_rng(12)
    W_E = np.zeros((20, 5))
    W_E[[2, 7, 11]] = rng.normal(size=(3, 5))           # 17 of 20 rows zero: the sparse-row path
    b = rng.normal(size=20)
    assert np.array_equal(inst.pre_activations(W_E, b), inst.W_p.T @ W_E.T + b[None, :])


def test_spd_solve_is_the_pseudo_inverse_or_declines():
    rng = np.random.default_rng(13)
    A = rng.normal(size=(30, 50))
    B = rng.normal(size=(30, 4))
    S = A @ A.T
    assert np.allclose(Dv._spd_solve(S, B), np.linalg.pinv(S) @ B, rtol=1e-9, atol=1e-12)
    assert Dv._spd_solve(A[:, :20] @ A[:, :20].T, B) is None           # rank 20 < 30: singular
    assert Dv._spd_solve(np.diag([1.0, 1e-11, 1.0]), B[:3]) is None    # ill-conditioned: the pinv's cut decides
    # a feature no neuron fires on makes the n × n Gram singular: the LS decoder still equals the normal equations
    inst = _instance(ReLU(), 14, n=5, n_p=4)
    W_E = rng.normal(size=(12, 4))
    b = np.full(12, -5.0)
    b[:3] = 5.0                                                           # 3 always-on rows, 9 dead rows
    X = Obj.single_feature_codes(inst.replace(encoder_bias=True), W_E, b)
    G, Bm = X.T @ (inst.weights[:, None] * X), inst.W_r @ (inst.weights[:, None] * X)
    assert np.allclose(Dv.least_squares_decoder(inst.replace(encoder_bias=True), W_E, b),
                       Bm @ np.linalg.pinv(G, rcond=1e-12, hermitian=True), atol=1e-9)


def test_topk_mask_with_many_zeros_is_the_stable_sorts():
    rng = np.random.default_rng(15)
    Z = np.zeros((16, 1 << 16))
    Z[:, :40] = np.round(rng.normal(size=(16, 40)), 1)       # a few values (ties among them), then zeros
    for k in (1, 5, 39, 60):                                   # k = 60 reaches into the zeros: ties by index
        assert np.array_equal(topk_mask(Z, k), _stable_topk(Z, k)), k
