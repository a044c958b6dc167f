"""theory.activations: the protocol every family implements (evaluate, torch, regions, homogeneity)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import registry
from theory.activations import (BatchTopK, Gated, JumpReLU, ReLU, TopK, TopKReLU, activation_from_json,
                                make_activation, topk_mask)
from theory.errors import SDLInputError
from theory.strategies import activations, seeds


def _Z(seed, rows=4, cols=5):
    return np.random.default_rng(seed).normal(size=(rows, cols))


@settings(max_examples=40, deadline=None)
@given(activations(), seeds)
def test_output_is_zero_or_the_input(act, seed):
    Z = _Z(seed)
    out = act.evaluate(Z)
    on = act.active(Z)
    np.testing.assert_array_equal(out, np.where(on, Z, 0.0))  # σ(z)_i ∈ {0, z_i}


@settings(max_examples=40, deadline=None)
@given(activations(), seeds)
def test_torch_evaluation_equals_numpy(act, seed):
    Z = _Z(seed)
    np.testing.assert_allclose(act.evaluate_torch(torch.tensor(Z)).numpy(), act.evaluate(Z), rtol=0, atol=0)


@settings(max_examples=40, deadline=None)
@given(activations(), seeds, seeds)
def test_region_constraints_characterise_the_mask(act, seed, other):
    Z = _Z(seed)
    mask = act.active(Z)

    def holds(cons, Z):
        return all((sum(c * Z[cell] for cell, c in con.terms) < con.rhs) if con.strict
                   else (sum(c * Z[cell] for cell, c in con.terms) <= con.rhs) for con in cons)

    assert act.mask_is_possible(mask) is None
    assert holds(act.region_constraints(mask), Z)
    wrong = act.active(_Z(other))
    if not np.array_equal(wrong, mask) and act.mask_is_possible(wrong) is None:
        assert not holds(act.region_constraints(wrong), Z)


@settings(max_examples=30, deadline=None)
@given(activations(families=("relu", "topk", "topk_relu")), seeds, st.floats(0.01, 100.0))
def test_positively_homogeneous_families_scale(act, seed, c):
    assert act.positively_homogeneous
    Z = _Z(seed)
    np.testing.assert_allclose(act.evaluate(c * Z), c * act.evaluate(Z), rtol=1e-12)


def test_jumprelu_is_not_positively_homogeneous():
    act = JumpReLU(theta=0.5)
    assert not act.positively_homogeneous and JumpReLU(theta=0.0).positively_homogeneous
    z = np.array([0.6])
    assert act.evaluate(0.5 * z)[0] == 0.0 and 0.5 * act.evaluate(z)[0] == pytest.approx(0.3)


def test_jumprelu_threshold_is_strict():
    np.testing.assert_array_equal(JumpReLU(theta=0.5).evaluate(np.array([0.5, 0.50001, -1.0])), [0.0, 0.50001, 0.0])


def test_topk_keeps_negative_codes_and_topk_relu_does_not():
    z = np.array([[-1.0, -2.0, -3.0]])
    np.testing.assert_array_equal(TopK(k=1).evaluate(z), [[-1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(TopKReLU(k=1).evaluate(z), [[0.0, 0.0, 0.0]])


def test_topk_ties_break_to_the_lower_index():
    np.testing.assert_array_equal(topk_mask(np.array([1.0, 1.0, 0.0]), 1), [True, False, False])


def test_batchtopk_budget_is_batch_wide():
    # k = 1, B = 2 samples: budget 2 entries for the whole batch, both taken by sample 0
    Z = np.array([[3.0, 2.0], [-1.0, 1.0]])
    np.testing.assert_array_equal(BatchTopK(k=1).active(Z), [[True, True], [False, False]])
    assert not BatchTopK(k=1).per_sample and not BatchTopK(k=1).positively_homogeneous
    assert BatchTopK(k=1, threshold=0.3).at_inference() == JumpReLU(theta=0.3)
    with pytest.raises(SDLInputError, match="threshold"):
        BatchTopK(k=1).at_inference()


def test_mask_is_possible_counts():
    assert "exactly 2" in TopK(k=2).mask_is_possible(np.array([[True, False, False]]))
    assert "at most 1" in TopKReLU(k=1).mask_is_possible(np.array([[True, True]]))
    assert BatchTopK(k=1).mask_is_possible(np.array([[True, True], [False, False]])) is None
    assert "at most" in BatchTopK(k=1).mask_is_possible(np.array([[True, True], [True, False]]))


def test_construction_errors_and_json_roundtrip():
    with pytest.raises(SDLInputError, match=">= 0"):
        JumpReLU(theta=-0.1)
    with pytest.raises(SDLInputError, match="no threshold"):
        ReLU(theta=0.5)
    with pytest.raises(SDLInputError, match="positive integer"):
        TopK(k=0)
    with pytest.raises(SDLInputError, match="unknown activation"):
        make_activation("gelu")
    with pytest.raises(SDLInputError, match="not \\['theta'\\]"):
        make_activation("relu", theta=0.5)
    assert make_activation("TopK-ReLU".replace("-", ""), k=2) == TopKReLU(k=2)
    for act in (ReLU(), JumpReLU(theta=0.25), TopK(k=2), TopKReLU(k=3), BatchTopK(k=2, threshold=0.1),
                Gated(), Gated(tied=True)):
        assert activation_from_json(act.to_json()) == act
    # the claims' default search space: every per-sample and batch family of the paper, once each
    assert registry.names(searched=True) == ("relu", "jumprelu", "topk", "topk_relu", "batchtopk")
    assert registry.get("gated").activation is Gated  # the Gated unit itself, drawn where a claim takes it
