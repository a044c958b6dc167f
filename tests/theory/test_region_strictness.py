"""Regions are strict where the activation's output jumps (issue 12, part 1): every witness is
re-evaluated with the activation's own ``active()``, and "unrealizable" is checked against random search.

The independent judge here is always ``activation.active`` on the pre-activations computed by hand
(``X W_pᵀ W_Eᵀ + b``), never the region's own inequalities."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from theory.activations import BatchTopK, JumpReLU, ReLU, TopK, TopKReLU
from theory.instance import Instance
from theory.patterns import ActivationPattern, realize, region
from theory.strategies import instances, seeds

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
ALL_FAMILIES = ("relu", "jumprelu", "topk", "topk_relu", "batchtopk", "gated")


def _mask_by_hand(inst, W_E, b_E):
    Z = np.eye(inst.n) @ inst.W_p.T @ np.asarray(W_E).T
    if b_E is not None:
        Z = Z + b_E
    return inst.activation.active(Z), Z


def _random_search(inst, mask, rng, tries=3000):
    """Random encoders (several scales, with a bias when the instance has one): any with this mask?"""
    n_pre = mask.shape[1] * inst.activation.pre_per_unit  # a Gated unit: gate and magnitude rows
    for scale in (0.3, 1.0, 3.0):
        W = scale * rng.normal(size=(tries, n_pre, inst.n_p))
        Z = np.einsum("dp,sqp->sdq", inst.W_p.T, W)
        if inst.encoder_bias:
            Z = Z + scale * rng.normal(size=(tries, 1, n_pre))
        for s in range(tries):
            if np.array_equal(inst.activation.active(Z[s]), mask):
                return W[s]
    return None


@settings(max_examples=60, **SETTINGS)
@given(st.data())
def test_witnesses_reproduce_the_pattern_and_unrealizable_means_unfindable(data):
    inst = data.draw(instances(max_n=4, max_dim=3, families=ALL_FAMILIES,
                               geometry=("gaussian", "orthonormal", "negative", "antipodal")))
    n_q = data.draw(st.integers(1, 3))
    rng = np.random.default_rng(data.draw(seeds))
    if data.draw(st.booleans()):  # a pattern some random encoder produces, so often realizable
        n_pre = n_q * inst.activation.pre_per_unit
        W = rng.normal(size=(n_pre, inst.n_p))
        b = rng.normal(size=n_pre) if inst.encoder_bias else None
        mask, _ = _mask_by_hand(inst, W, b)
    else:  # a random mask of the right shape for the family (TopK: exactly k on per feature), often tie-only
        mask = rng.random((inst.n, n_q)) < 0.5
        for _ in range(50):
            if inst.activation.mask_is_possible(mask) is None:
                break
            mask = rng.random((inst.n, n_q)) < rng.random()
    P = ActivationPattern.from_mask(mask)
    rz = realize(inst, P)
    event(rz.status)
    assert rz.status in ("realizable", "unrealizable")  # never undecided on these sizes
    if rz.realizable:
        got, Z = _mask_by_hand(inst, rz.W_E, rz.b_E)
        np.testing.assert_array_equal(got, mask)
        assert rz.margin > 0
    elif region(inst, P).impossible is None:
        # the certificate is checkable without the LP: y >= 0, Σy = 1, Aᵀy = 0, cᵀy <= 0
        R = region(inst, P)
        A, c = np.vstack([R.A_strict, R.A_weak]), np.concatenate([R.c_strict, R.c_weak])
        y = rz.certificate
        assert y is not None and np.all(y >= -1e-12) and abs(y.sum() - 1) < 1e-9
        assert np.abs(A.T @ y).max() <= 1e-8 and c @ y <= 1e-9
        assert _random_search(inst, mask, rng) is None
    else:
        assert _random_search(inst, mask, rng, tries=300) is None


def test_zero_encoder_lies_in_no_topk_region():
    # W_E = 0 ties every unit; the old non-strict z_off <= z_on accepted it in every TopK region
    inst = Instance(W_p=np.eye(2), activation=TopK(k=1))
    for sets in ([{0, 1}, set()], [set(), {0, 1}], [{0}, {1}]):
        R = region(inst, sets)
        assert not R.contains(np.zeros((2, 2)))
        assert realize(inst, sets).realizable  # all three are realizable off the tie


def test_antipodal_pairs_topk_pattern_is_unrealizable():
    # features ±e1, ±e2, TopK(1): "neuron 0 wins on ±e1, neuron 1 on ±e2" needs w0·e1 > w1·e1 and
    # −w0·e1 > −w1·e1 at once; only the tie w0·e1 = w1·e1 "realizes" it (issue 12's C6 example)
    W_p = np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]])
    for act in (TopK(k=1), TopKReLU(k=1)):
        inst = Instance(W_p=W_p, activation=act)
        rz = realize(inst, [{0, 1}, {2, 3}])
        assert rz.status == "unrealizable" and rz.certificate is not None and rz.W_E is None
        # the tie point that the non-strict region accepted evaluates to a different pattern
        W_tie = np.array([[1.0, 1.0], [1.0, 1.0]])
        got, _ = _mask_by_hand(inst, W_tie, None)
        assert not np.array_equal(got, region(inst, [{0, 1}, {2, 3}]).pattern.mask)
        assert not region(inst, [{0, 1}, {2, 3}]).contains(W_tie)


def test_jumprelu_threshold_is_no_witness():
    # z = θ exactly: off by the > convention, on by >=: not a point of either region
    inst = Instance(W_p=np.eye(1), activation=JumpReLU(theta=0.5))
    W = np.array([[0.5]])
    assert not region(inst, [set()]).contains(W) and not region(inst, [{0}]).contains(W)
    assert region(inst, [set()]).contains(np.array([[0.49]])) and region(inst, [{0}]).contains(np.array([[0.51]]))


def test_relu_dead_on_antipodes_is_boundary_only():
    # off on e and −e forces w = 0: realised only on the boundary, so not realizable (hand-checked)
    inst = Instance(W_p=np.array([[1.0, -1.0]]), activation=ReLU())
    rz = realize(inst, [set()])
    assert rz.status == "unrealizable" and rz.margin <= 1e-9
    assert realize(inst.replace(encoder_bias=True), [set()]).realizable  # b < 0 clears both


def test_batchtopk_competes_across_the_batch():
    # B = 2 single features, k = 1: budget 2 entries; both on neuron 0 needs z_00, z_10 above z_01, z_11
    inst = Instance(W_p=np.eye(2), activation=BatchTopK(k=1))
    rz = realize(inst, [{0, 1}, set()])
    assert rz.realizable
    got, _ = _mask_by_hand(inst, rz.W_E, None)
    np.testing.assert_array_equal(got, np.array([[True, False], [True, False]]))


def test_robust_margin_by_hand():
    from theory.patterns import robust_margin

    inst = Instance(W_p=np.eye(1), activation=JumpReLU(theta=1.0))
    assert robust_margin(inst, np.array([[0.87]])) == pytest.approx(0.13)           # z = 0.87 < θ
    assert robust_margin(inst, np.array([[0.87]]), X=[[2.0]]) == pytest.approx(0.74)  # z = 1.74 > θ
    assert robust_margin(inst, np.array([[1.0]])) == 0.0                             # on the threshold
    topk = Instance(W_p=np.eye(2), activation=TopK(k=1))
    assert robust_margin(topk, np.zeros((2, 2))) == 0.0                              # every unit tied
    assert robust_margin(topk, np.array([[1.0, 0.0], [0.0, 0.4]])) == pytest.approx(0.4)
