"""C2 (Thm 3.2): block convexity holds on hand-made and random instances; joint convexity (planted) fails."""
import numpy as np

from proofs_check import check
from proofs_check import c2_biconvexity as c2
from theory import Instance
from theory.activations import BatchTopK, ReLU, TopKReLU
from theory.instance import normalize_columns


def test_hand_example_blocks_match_closed_form():
    # one feature, one neuron, W_E = [[2]], W_D = [[3]]: ∂²/∂W_D² = 2·a² = 8, ∂²/∂W_E² = 2·u² = 18
    inst = Instance(W_p=np.eye(1), activation=ReLU())
    blocks = c2.closed_form_blocks(inst, np.array([[3.0]]), np.array([[2.0]]))
    assert np.isclose(blocks["DD"][0, 0], 8.0) and np.isclose(blocks["EE"][0, 0], 18.0)
    v = check("C2", inst, W_D=np.array([[3.0]]), W_E=np.array([[2.0]]))
    assert v.status == "holds"
    # (1 − u a)² at (u, a) = (3, 2): Hessian [[8, 2(2ua − 1)], [·, 18]] = [[8, 22], [22, 18]], det < 0
    assert v.numbers["joint"] < 0


def test_random_instances_hold_with_bias_and_transcoder():
    rng = np.random.default_rng(1)
    inst = Instance(W_p=normalize_columns(rng.normal(size=(3, 4))), W_r=normalize_columns(rng.normal(size=(2, 4))),
                    activation=TopKReLU(k=2), encoder_bias=True)
    v = check("C2", inst, seed=2)
    assert v.status == "holds"
    assert v.numbers["decoder"] > -1e-8 and v.numbers["encoder"] > -1e-8 and v.numbers["closed_form_gap"] < 1e-8


def test_pattern_argument_uses_lp_witness():
    v = check("C2", Instance(W_p=np.eye(2), activation=ReLU()), pattern=[{0, 1}, set()])
    assert v.status == "holds" and v.numbers["pattern"] == [[0, 1], []]


def test_batchtopk_is_outside_the_hypotheses():
    assert check("C2", Instance(W_p=np.eye(2), activation=BatchTopK(k=1))).status == "hypotheses_not_met"


def test_search_holds_and_all_steps_follow():
    v = check("C2", budget=15, seed=0)
    assert v.status == "holds" and all(s.holds for s in v.steps)


def test_planted_joint_convexity_is_reported_failing(monkeypatch):
    monkeypatch.setattr(c2, "CLAIMED_BLOCKS", ("decoder", "encoder", "joint"))
    v = check("C2", budget=30, seed=0)
    assert v.status == "fails" and any("joint" in s for s in v.counterexample["violations"])
