"""theory.patterns: activation patterns, regions Ω_P and realizability by linear programming."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theory.activations import ReLU, TopK, TopKReLU
from theory.errors import SDLInputError
from theory.instance import Instance, normalize_columns
from theory.patterns import ActivationPattern, as_pattern, pattern_of, realize, region
from theory.strategies import instances, parameters, points_in_region

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


def test_pattern_bookkeeping():
    P = ActivationPattern.from_sets([{0, 1}, {2}, set()], 3)
    assert P.dead_neurons == [2] and P.is_polysemantic and P.is_partition
    assert ActivationPattern.from_mask(P.mask) == P and str(P) == "({0,1}, {2}, ∅)"
    Q = ActivationPattern.from_sets([{0, 1}, {1}], 3)
    assert not Q.is_partition
    assert Q.partition_problem() == "features [2] switch on no neuron; features [1] switch on more than one neuron"
    with pytest.raises(SDLInputError, match="numbered 0..2"):
        ActivationPattern.from_sets([{3}], 3)
    with pytest.raises(SDLInputError, match="n = 2"):
        as_pattern(P, Instance(W_p=np.eye(2)))


@settings(max_examples=30, **SETTINGS)
@given(st.data())
def test_point_lies_in_its_own_region_only(data):
    inst = data.draw(instances())
    W_D, W_E, b_E = data.draw(points_in_region(inst))
    P = pattern_of(inst, W_E, b_E)
    np.testing.assert_array_equal(P.mask, inst.activation.active(inst.pre_activations(W_E, b_E)))
    assert region(inst, P).contains(W_E, b_E)
    flipped = P.mask.copy()
    flipped[0, 0] = not flipped[0, 0]
    assert not region(inst, ActivationPattern.from_mask(flipped)).contains(W_E, b_E)


@settings(max_examples=25, **SETTINGS)
@given(st.data())
def test_witness_lies_in_the_region(data):
    # any pattern read off a random encoder is realizable; the LP's witness must satisfy Ω_P's constraints
    inst = data.draw(instances(max_n=4))
    _, W_E, b_E = data.draw(parameters(inst, max_q=3))
    P = pattern_of(inst, W_E, b_E)
    rz = realize(inst, P)
    if region(inst, P).contains(W_E, b_E):
        assert rz.realizable
    if rz.realizable:
        assert region(inst, P).contains(rz.W_E, rz.b_E) and rz.margin > 0


BOUNDARY_W_P = [[-0.586, 0.928, 0.384, -0.708], [-0.017, -0.348, 0.087, -0.693], [0.81, 0.131, 0.919, 0.137]]


def test_witness_reproduces_the_pattern_on_weak_boundaries():
    # one dead ReLU neuron (F = ∅) over 4 features in R³, no bias: realizable (W_E = 0 is in Ω_P)
    inst = Instance(W_p=normalize_columns(BOUNDARY_W_P))
    P = ActivationPattern.from_sets([set()], 4)
    assert region(inst, P).contains(np.zeros((1, 3)))
    rz = realize(inst, P)
    assert rz.realizable and region(inst, P).contains(rz.W_E, rz.b_E)
    assert pattern_of(inst, rz.W_E, rz.b_E) == P


def test_unrealizable_patterns_get_a_certificate():
    # hand-checked: with antipodal features no ReLU neuron without bias fires on both
    inst = Instance(W_p=np.array([[1.0, -1.0]]), activation=ReLU())
    rz = realize(inst, [{0, 1}])
    assert not rz.realizable and rz.margin <= 0 and rz.W_E is None
    assert "-0 " not in rz.reason and "= -0)" not in rz.reason  # a zero margin prints as 0, not -0
    # but with a bias it can: b > 1 works
    assert realize(inst.replace(encoder_bias=True), [{0, 1}]).realizable
    # TopK(1) must switch on exactly one neuron per feature
    topk = Instance(W_p=np.eye(2), activation=TopK(k=1))
    assert "exactly 1" in realize(topk, [{0}, set()]).reason


def test_c5_pattern_is_realizable():
    inst = Instance(W_p=np.eye(2), activation=TopKReLU(k=1))
    assert pattern_of(inst, np.array([[1.0, 1.0], [0.0, 0.0]])) == ActivationPattern.from_sets([{0, 1}, set()], 2)
    assert realize(inst, [{0, 1}, set()]).realizable
