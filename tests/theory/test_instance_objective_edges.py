"""theory.instance / theory.objective: JSON defaults and round trips read field by field, the confidence's
open ends, and every field of a LossEstimate of each method against hand-computed values."""
import math

import numpy as np
import pytest

from theory.activations import JumpReLU, ReLU
from theory.distribution import Constant, FeatureDistribution
from theory.instance import Instance
from theory import objective
from theory.objective import exact_loss

Z90 = 1.6448536269514722   # Φ⁻¹(0.95): the two-sided 90 % normal quantile (tables)
Z95 = 1.959963984540054    # Φ⁻¹(0.975)


def test_from_json_defaults_field_by_field():
    inst = Instance.from_json({"W_p": [[1.0, 0.0], [0.0, 1.0]]})
    assert isinstance(inst.activation, ReLU) and inst.activation.to_json() == {"name": "relu"}
    assert inst.encoder_bias is False
    assert inst.distribution is None
    assert inst.is_sae and inst.W_r.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert inst.weights.tolist() == [1.0, 1.0]
    # weights are read when there is no distribution, and ignored (M_d from the distribution) when there is one
    assert Instance.from_json({"W_p": [[1.0]], "weights": [2.5]}).weights.tolist() == [2.5]
    with_dist = Instance.from_json({"W_p": [[1.0]], "weights": [7.0],
                                    "distribution": {"p_active": [0.5], "magnitude": {"law": "constant", "c": 1.0}}})
    assert with_dist.weights.tolist() == [0.5]  # n = 1: M_d = p_d·(empty product 1)·E[m²] = 0.5


def test_to_json_and_round_trip_field_by_field():
    W_r = np.array([[0.6, 0.0], [0.8, 1.0]])
    inst = Instance(W_p=np.eye(2), W_r=W_r, activation=JumpReLU(theta=0.5), encoder_bias=True,
                    distribution=FeatureDistribution.uniform(2, 0.25, Constant(2.0)))
    d = inst.to_json()
    assert sorted(d) == ["W_p", "W_r", "activation", "distribution", "encoder_bias", "weights"]
    assert d["W_p"] == [[1.0, 0.0], [0.0, 1.0]]
    assert d["W_r"] == [[0.6, 0.0], [0.8, 1.0]]
    assert d["weights"] == pytest.approx([0.25 * 0.75 * 4.0] * 2)  # M_d = p (1 − p) c²
    assert d["activation"] == {"name": "jumprelu", "theta": 0.5}
    assert d["encoder_bias"] is True
    assert d["distribution"] == {"p_active": [0.25, 0.25], "magnitude": {"law": "constant", "c": 2.0}}
    back = Instance.from_json(d)
    assert back.W_p.tolist() == d["W_p"] and back.W_r.tolist() == d["W_r"] and not back.is_sae
    assert back.weights.tolist() == d["weights"] and back.encoder_bias is True
    assert isinstance(back.activation, JumpReLU) and back.activation.theta == 0.5
    assert back.distribution.to_json() == d["distribution"]
    # an SAE writes W_r as None and no distribution as None; both read back as the defaults
    sae = Instance(W_p=np.eye(1), weights=[3.0]).to_json()
    assert sae["W_r"] is None and sae["distribution"] is None and sae["encoder_bias"] is False
    assert sae["activation"] == {"name": "relu"} and sae["weights"] == [3.0]


def test_encoder_bias_must_be_a_bool(refuses):
    refuses(lambda: Instance(W_p=np.eye(1), encoder_bias=1), "encoder_bias must be True or False, got 1")


@pytest.mark.parametrize("c", [0, 1, 0.0, 1.0])
def test_confidence_ends_are_open(refuses, c):
    inst = Instance(W_p=np.eye(1), distribution=FeatureDistribution.uniform(1, 0.3))
    text = f"confidence must be a finite number > 0 and < 1, got {c!r}"
    refuses(lambda: exact_loss(inst, np.zeros((1, 1)), np.eye(1), confidence=c), text)
    refuses(lambda: objective._z(c), text)


def test_z_is_the_two_sided_normal_quantile():
    assert objective._z(0.95) == pytest.approx(Z95, rel=1e-12)
    assert objective._z(0.9) == pytest.approx(Z90, rel=1e-12)
    assert objective._z(0.5) == pytest.approx(0.6744897501960817, rel=1e-12)


def _one_feature(p=0.3, c=2.0):
    # n = 1, zero decoder: the loss of a sample is x², i.e. 0 (feature off) or c² (on)
    return Instance(W_p=np.eye(1), distribution=FeatureDistribution.uniform(1, p, Constant(c)))


def test_exact_estimate_every_field():
    est = exact_loss(_one_feature(), np.zeros((1, 1)), np.eye(1))
    assert est.to_json() == {"value": pytest.approx(1.2), "low": pytest.approx(1.2), "high": pytest.approx(1.2),
                             "method": "exact", "samples": 0, "seed": None, "confidence": 0.95}
    assert est.half_width == 0


def test_subsets_estimate_every_field():
    # two active sets (∅ with 0.7, {0} with 0.3), samples // 2 = 5 draws each: 10 in all; constant
    # magnitude, so every draw of a set has the same loss, the variance is 0 and the interval has width 0
    est = exact_loss(_one_feature(), np.zeros((1, 1)), np.eye(1), method="subsets", samples=11, seed=4, confidence=0.9)
    assert (est.method, est.samples, est.seed, est.confidence) == ("subsets", 10, 4, 0.9)
    assert est.value == pytest.approx(0.3 * 4.0, rel=1e-12)
    assert est.low == pytest.approx(est.value, abs=1e-12) and est.high == pytest.approx(est.value, abs=1e-12)
    # at least 2 draws per set whatever samples says
    assert exact_loss(_one_feature(), np.zeros((1, 1)), np.eye(1), method="subsets", samples=2).samples == 4


def test_monte_carlo_estimate_every_field():
    # losses are 0 or 4: with q the fraction of draws on, the mean is 4q and the unbiased variance
    # 16 q (1 − q) N / (N − 1); the half-width is z·sqrt(var / N). Batches of 300 do not divide N = 1000.
    N = 1000
    est = exact_loss(_one_feature(), np.zeros((1, 1)), np.eye(1), method="monte_carlo", samples=N, seed=5,
                     confidence=0.9, batch=300)
    assert (est.method, est.samples, est.seed, est.confidence) == ("monte_carlo", N, 5, 0.9)
    q = est.value / 4.0
    assert abs(q * N - round(q * N)) < 1e-9 and 0 < q < 1
    half = Z90 * math.sqrt(16 * q * (1 - q) * N / (N - 1) / N)
    assert est.high - est.value == pytest.approx(half, rel=1e-9)
    assert est.value - est.low == pytest.approx(half, rel=1e-9)
    assert abs(est.value - 1.2) < 5 * math.sqrt(16 * 0.3 * 0.7 / N)  # the true L = p c² = 1.2
