"""One clear refusal line naming the argument exactly, what it got and what is allowed: Instance.check_params'
W_D (with its decoder hint) and b_E, and FeatureDistribution's p_active."""
import numpy as np

from theory.activations import ReLU
from theory.distribution import FeatureDistribution
from theory.instance import Instance


def test_w_d_refusal_names_the_decoder_shape(refuses):
    inst = Instance(W_p=np.eye(2))
    refuses(lambda: inst.check_params(np.zeros(2), np.eye(2)),
            "W_D must be a non-empty 2-d array of real numbers (decoder, n_r × n_q), got shape (2,)")


def test_b_e_refusal_names_b_e(refuses):
    inst = Instance(W_p=np.eye(2), activation=ReLU(), encoder_bias=True)
    refuses(lambda: inst.check_params(np.eye(2), np.eye(2), [0.1, 0.2, 0.3]),
            "b_E must be a 1-d array of real numbers of length 2 (encoder bias, one entry per encoder row), "
            "got shape (3,)")


def test_p_active_refusal_names_p_active(refuses):
    refuses(lambda: FeatureDistribution(np.array([[0.1, 0.2]])),
            "p_active must be a number or a 1-d array of real numbers (the probability that each feature is on), "
            "got shape (1, 2)")
