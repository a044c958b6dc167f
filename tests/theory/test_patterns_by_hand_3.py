"""theory.patterns by hand (issue 12, part 5: survivors of a seed-131 sample): a biased region's rows against the
pre-activations computed here, a witness that needs its bias, a region with no inequality, the refusals' texts,
Realizability.to_json, a pattern's text, from_mask's sizes, active_on_inputs against the activation itself."""
import re

import numpy as np
import pytest

from theory import Instance
from theory.activations import BatchTopK, ReLU, TopK
from theory.patterns import ActivationPattern, active_on_inputs, realize, region, region_on_inputs


def test_a_biased_relu_region_reads_each_cells_pre_activation():
    """W_p = I, bias on; W_E = [[2, −1], [−1, −3]], b = (0.5, 0.25): Z[d, i] = W_E[i, d] + b_i is 2.5, −0.5 (unit 0
    on features 0, 1) and −0.75, −2.75 (unit 1). Pattern ({0}, ∅): the strict inequality z > 0 of the one on cell
    has slack 2.5, the weak z <= 0 of the three off cells slacks 0.5, 0.75, 2.75."""
    inst = Instance(W_p=np.eye(2), encoder_bias=True)
    R = region(inst, [{0}, set()])
    strict, weak = R.slack(np.array([[2.0, -1.0], [-1.0, -3.0]]), [0.5, 0.25])
    assert sorted(strict.tolist()) == pytest.approx([2.5], abs=1e-12)
    assert sorted(weak.tolist()) == pytest.approx([0.5, 0.75, 2.75], abs=1e-12)
    # a bias alone moves each of its unit's cells by itself: b_0 += 1 raises unit 0's z by 1 on both features
    s2, w2 = R.slack(np.array([[2.0, -1.0], [-1.0, -3.0]]), [1.5, 0.25])
    assert sorted(s2.tolist()) == pytest.approx([3.5]) and sorted(w2.tolist()) == pytest.approx([-0.5, 0.75, 2.75])


def test_a_witness_that_needs_its_bias_keeps_it():
    """W_p = [1, −1] (features e and −e on one input dimension), bias on, one ReLU unit firing on both features:
    z = w + b > 0 and −w + b > 0, i.e. b > |w| — impossible without the bias. The witness found carries its bias,
    and the activation's own evaluation of its pre-activations fires on both features."""
    inst = Instance(W_p=np.array([[1.0, -1.0]]), encoder_bias=True)
    r = realize(inst, [{0, 1}])
    assert r.realizable is True and r.status == "realizable"
    assert r.b_E is not None and r.b_E.shape == (1,)
    w, b = float(r.W_E[0, 0]), float(r.b_E[0])
    assert b > abs(w)
    assert ReLU().active(np.array([[w + b], [-w + b]])).tolist() == [[True], [True]]
    js = r.to_json()
    assert js["b_E"] == [b] and js["W_E"] == [[w]] and js["margin"] == r.margin and js["realizable"] is True
    # without a bias the same pattern has no point off every boundary
    assert realize(Instance(W_p=np.array([[1.0, -1.0]])), [{0, 1}]).realizable is False


def test_realizability_to_json_fields():
    """An unrealizable pattern's record, field by field: TopK(1) cannot fire two units on one feature."""
    inst = Instance(W_p=np.eye(2), activation=TopK(k=1))
    r = realize(inst, [{0}, {0}])
    js = r.to_json()
    assert list(js) == ["realizable", "status", "margin", "reason", "W_E", "b_E", "certificate"]
    assert js["realizable"] is False and js["status"] == "unrealizable" and js["margin"] == -np.inf
    assert js["W_E"] is None and js["b_E"] is None and js["certificate"] is None
    assert js["reason"] == r.reason and "TopK(k=1)" in js["reason"]


def test_a_region_without_inequalities_has_infinite_margin():
    """The impossible mask of TopK(1) (feature 0 firing both units) keeps no inequality: every slack array is
    empty and the smallest slack over none is inf."""
    inst = Instance(W_p=np.eye(2), activation=TopK(k=1))
    R = region(inst, [{0}, {0}])
    assert R.impossible and R.A_strict.shape == (0, 4) and R.A_weak.shape == (0, 4)
    assert R.margin(np.eye(2)) == np.inf


def test_refusal_texts(refuses):
    R = region(Instance(W_p=np.eye(2)), [{0}, set()])
    refuses(lambda: R.pack(np.eye(2), [0.0, 0.0]), "b_E given but the instance has encoder_bias=False")
    refuses(lambda: region_on_inputs("x", np.eye(2), np.eye(2, dtype=bool)),
            re.compile(r"instance must be a theory\.Instance, got 'x'"))


def test_pattern_text_and_sizes_from_a_mask():
    """str: sets with their members sorted and comma-joined, ∅ for a dead neuron. from_mask of a 3 × 2
    (features × neurons) mask: 3 features, 2 neurons, F_0 = {0, 2}, F_1 = ∅."""
    assert str(ActivationPattern(({2, 0}, set(), {1}), 3)) == "({0,2}, ∅, {1})"
    p = ActivationPattern.from_mask(np.array([[True, False], [False, False], [True, False]]))
    assert p.n_features == 3 and p.n_neurons == 2 and p.firing == (frozenset({0, 2}), frozenset())
    assert p.neuron_counts().tolist() == [2, 0] and str(p) == "({0,2}, ∅)"


def test_active_on_inputs_is_the_activation_of_the_pre_activations():
    """W_p = I, W_E = [[1, −2], [0.5, 1]], b = (0, −1): on x = (1, 1) Z = (−1, 0.5); on x = (2, 0) Z = (2, 0).
    ReLU fires (F, T) and (T, F); BatchTopK(1) over the batch of two keeps the two largest positive cells, 2 and
    0.5 — the same mask."""
    X = np.array([[1.0, 1.0], [2.0, 0.0]])
    W_E, b = np.array([[1.0, -2.0], [0.5, 1.0]]), np.array([0.0, -1.0])
    want = [[False, True], [True, False]]
    assert active_on_inputs(Instance(W_p=np.eye(2), encoder_bias=True), X, W_E, b).tolist() == want
    got = active_on_inputs(Instance(W_p=np.eye(2), encoder_bias=True, activation=BatchTopK(k=1)), X, W_E, b)
    assert got.tolist() == want
    # without the bias: Z = (−1, 1.5) and (2, 1)
    assert active_on_inputs(Instance(W_p=np.eye(2)), X, W_E).tolist() == [[False, True], [True, True]]
