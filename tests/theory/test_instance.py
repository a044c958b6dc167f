"""theory.instance: validation, defaults, feature weights, parameters and JSON round trip."""
import json

import numpy as np
import pytest
from hypothesis import given, settings

from theory.activations import TopKReLU
from theory.distribution import Constant, FeatureDistribution
from theory.errors import SDLInputError
from theory.instance import Instance, normalize_columns
from theory.strategies import instances


def test_columns_must_have_unit_norm():
    with pytest.raises(SDLInputError, match="unit norm"):
        Instance(W_p=2 * np.eye(2))
    W = normalize_columns([[3.0, 0.0], [4.0, 1.0]])
    np.testing.assert_allclose(np.linalg.norm(W, axis=0), 1.0)
    with pytest.raises(SDLInputError, match="zero"):
        normalize_columns([[0.0, 1.0], [0.0, 0.0]])


def test_defaults_sae_and_unit_weights():
    inst = Instance(W_p=np.eye(3))
    assert inst.is_sae and inst.n == 3 and inst.n_p == inst.n_r == 3
    np.testing.assert_array_equal(inst.weights, np.ones(3))
    assert not inst.W_p.flags.writeable and not inst.weights.flags.writeable


def test_transcoder_shapes():
    W_r = normalize_columns(np.ones((2, 3)) + np.eye(2, 3))
    inst = Instance(W_p=np.eye(3), W_r=W_r)
    assert not inst.is_sae and inst.n_r == 2
    with pytest.raises(SDLInputError, match="one column per feature"):
        Instance(W_p=np.eye(3), W_r=np.eye(2))


def test_weights_from_distribution():
    dist = FeatureDistribution.uniform(3, 0.1, Constant(2.0))
    inst = Instance(W_p=np.eye(3), distribution=dist)
    # M_d = p (1 − p)^{n−1} E[m²] = 0.1 · 0.81 · 4
    np.testing.assert_allclose(inst.weights, 0.1 * 0.81 * 4.0)
    with pytest.raises(SDLInputError, match="disagree"):
        Instance(W_p=np.eye(3), weights=[1.0, 1.0, 1.0], distribution=dist)
    with pytest.raises(SDLInputError, match="> 0"):
        Instance(W_p=np.eye(2), weights=[1.0, 0.0])
    with pytest.raises(SDLInputError, match="one entry per feature"):
        Instance(W_p=np.eye(2), weights=[1.0])


def test_check_params_and_pre_activations():
    inst = Instance(W_p=np.eye(2), encoder_bias=True)
    W_E = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    W_D, W_E2, b = inst.check_params(np.zeros((2, 3)), W_E, [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(b, [0.1, 0.2, 0.3])
    # Z[d, i] = <w_E^i, w_p^d> + b_i
    np.testing.assert_allclose(inst.pre_activations(W_E, b), W_E.T + b)
    with pytest.raises(SDLInputError, match="W_D must be"):
        inst.check_params(np.zeros((2, 2)), W_E)
    with pytest.raises(SDLInputError, match="W_E must be"):
        inst.check_params(np.zeros((2, 3)), np.zeros((3, 5)))
    with pytest.raises(SDLInputError, match="encoder_bias=False"):
        Instance(W_p=np.eye(2)).check_params(np.zeros((2, 3)), W_E, np.zeros(3))
    with pytest.raises(SDLInputError, match="NaN"):
        inst.check_params(np.zeros((2, 3)), W_E * np.nan)


@settings(max_examples=25, deadline=None)
@given(instances(with_distribution=True))
def test_json_round_trip(inst):
    back = Instance.from_json(json.loads(json.dumps(inst.to_json())))
    np.testing.assert_array_equal(back.W_p, inst.W_p)
    np.testing.assert_array_equal(back.W_r, inst.W_r)
    np.testing.assert_allclose(back.weights, inst.weights, rtol=1e-12)
    assert back.activation == inst.activation and back.encoder_bias == inst.encoder_bias


def test_replace_keeps_validation():
    inst = Instance(W_p=np.eye(2), activation=TopKReLU(k=1))
    assert inst.replace(encoder_bias=True).encoder_bias
    with pytest.raises(SDLInputError, match="activation"):
        inst.replace(activation="relu")


def test_feature_weights_are_exact_at_p_active_one():
    from theory.distribution import FeatureDistribution

    # M_d = p_d Π_{j≠d}(1 − p_j): a feature that is always on leaves no single-feature inputs for the others
    w = FeatureDistribution(np.array([1.0, 0.5, 0.2])).feature_weights(3)
    assert np.allclose(w, [1.0 * 0.5 * 0.8, 0.0, 0.0])
    w = FeatureDistribution(np.array([0.1, 0.5, 0.2])).feature_weights(3)
    assert np.allclose(w, [0.1 * 0.5 * 0.8, 0.5 * 0.9 * 0.8, 0.2 * 0.9 * 0.5])
