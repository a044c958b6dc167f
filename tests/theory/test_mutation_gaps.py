"""Real gaps the mutation run found in theory/ and proofs_check/ (results/mutation/README.md), each
closed by a check against hand-written values."""
import numpy as np
import pytest

from proofs_check import c2_biconvexity as c2
from proofs_check import c5_example as c5
from theory.absorption_curve import Hierarchy, exact_objective
from theory.activations import ReLU
from theory.distribution import ShiftedExponential
from theory.errors import SDLInputError
from theory.instance import Instance


def test_hierarchy_json_names_every_field():
    h = Hierarchy(n_children=2, p_alone=0.25)
    out = h.to_json()
    assert set(out) == {"n_children", "parent_law", "child_law", "p_alone", "W_p", "W_r"}
    assert out["W_p"] == np.eye(3).tolist() and out["W_r"] is None and out["p_alone"] == 0.25


def test_a_negative_penalty_is_one_clear_error():
    h = Hierarchy()
    with pytest.raises(SDLInputError, match="λ must be >= 0, got -1"):
        exact_objective(h, np.eye(3), np.eye(3), -1.0)


def test_shifted_exponential_refuses_a_huge_minimum():
    with pytest.raises(SDLInputError, match="c_min"):
        ShiftedExponential(c_min=1e13, beta=1.0)


def test_c5_perturbations_move_the_blocks_they_name():
    for which, enc, dec in (("encoder", True, False), ("decoder", False, True), ("both", True, True)):
        point = c5._perturbation(3, 1e-3, which)
        assert point is not None
        W_D, W_E = point
        assert (not np.array_equal(W_E, c5.EXAMPLE_W_E)) == enc and (not np.array_equal(W_D, c5.EXAMPLE_W_D)) == dec


def test_c2_check_instance_records_its_seed_and_budget():
    v = c2.check_instance(Instance(W_p=np.eye(2), activation=ReLU()), seed=3, budget=7)
    assert (v.seed, v.budget) == (3, 7)


def test_c1_data_margin_measures_the_data_inputs_not_only_unit_features():
    from proofs_check.c1_loss_approximation import data_margin
    from theory.activations import JumpReLU
    from theory.distribution import Constant, FeatureDistribution

    # JumpReLU θ = 0.5, W_E = I: unit features sit 0.5 above θ, but the data's inputs 0.5·e_d sit exactly on it
    inst = Instance(W_p=np.eye(2), activation=JumpReLU(theta=0.5),
                    distribution=FeatureDistribution(np.full(2, 0.1), Constant(0.5)))
    assert data_margin(inst, np.eye(2)) == pytest.approx(0.0, abs=1e-9)
    unit = Instance(W_p=np.eye(2), activation=JumpReLU(theta=0.5),
                    distribution=FeatureDistribution(np.full(2, 0.1), Constant(1.0)))
    assert data_margin(unit, np.eye(2)) == pytest.approx(0.5, abs=1e-6)
