"""C3 with fewer neurons than features is outside Thm 3.3's construction (n_q < n): the verdict says so and
records the seed and budget it was given, and the one unmet hypothesis in words."""
import numpy as np

from proofs_check import c3_construction as c3
from theory import Instance
from theory.activations import ReLU


def test_too_few_neurons_is_hypotheses_not_met_with_the_given_seed_and_budget():
    inst = Instance(W_p=np.eye(3), activation=ReLU())
    v = c3.check_instance(inst, seed=7, budget=13, n_q=2)
    assert (v.claim, v.status, v.seed, v.budget) == ("C3", "hypotheses_not_met", 7, 13)
    assert v.evidence == "n_q = 2 < n = 3: the construction needs at least one neuron per feature"
