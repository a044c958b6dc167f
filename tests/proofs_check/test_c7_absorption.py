import json

import numpy as np

from proofs_check import check
from proofs_check.c7_absorption import corrected_condition_met, decide, pattern_A, pattern_B, proof_steps
from theory.patterns import region_on_inputs
from theory import Instance
from theory.activations import JumpReLU, ReLU, TopKReLU

# 2-d superposition, ReLU without bias: parent 0, children 1, 2, one other feature 3.
# Inputs x1 = w1 + w0 at ≈ 48.8°, x2 = w2 + w0 at ≈ 5.4°, x3 = w3 at ≈ 156°: x1 lies in cone(x2, x3), so no
# neuron fires on x1 alone (B for child 1 is empty) and the parent neuron cannot keep x1 without x2 (B for child 2).
W_2D = np.array([[0.3566, 0.8787, 0.5241, -0.9133], [0.9343, 0.4774, -0.8517, 0.4073]])
W_2D = W_2D / np.linalg.norm(W_2D, axis=0)


def test_orthonormal_hierarchy_holds_but_relu_construction_does_not_drop_a_child():
    inst = Instance(W_p=np.eye(4), weights=np.ones(4), activation=ReLU())
    v = check("C7", inst, parents={0: [1, 2]})
    assert v.status == "holds"
    assert v.numbers["splittable_children"]["0"] == [1, 2]
    # scaling a ReLU row never switches a child off (the proof's first step)
    assert v.numbers["construction"]["0"]["weakest_dropped_out"] is False
    json.dumps(v.to_json())


def test_threshold_lets_the_weakest_child_drop_out():
    inst = Instance(W_p=np.eye(4), weights=np.ones(4), activation=JumpReLU(theta=0.5))
    W_E = np.array([[1.0, 1.0, 2.0, 0.0], [0.0, 0.0, 0.0, 1.0], [-1.0, -1.0, -1.0, -1.0]])  # A: child 1 weaker (z = 2 vs 3)
    r = decide(inst, {0: [1, 2]}, W_E=W_E)
    c = r["per_parent"][0]["construction"]
    assert c["weakest_child"] == 1 and c["weakest_dropped_out"] and c["produces_B"]


def test_superposed_relu_hierarchy_fails_and_bias_repairs_it():
    inst = Instance(W_p=W_2D, weights=np.ones(4), activation=ReLU())
    v = check("C7", inst, parents={0: [1, 2]})
    assert v.status == "fails"
    assert v.counterexample["failing_parents"] == [0]
    assert not corrected_condition_met(inst, {0: [1, 2]})
    with_bias = check("C7", inst.replace(encoder_bias=True), parents={0: [1, 2]})
    assert with_bias.status == "holds"


def test_patterns_and_region_on_inputs_by_hand():
    inst = Instance(W_p=np.eye(3), weights=np.ones(3), activation=TopKReLU(k=1))
    X, A, info = pattern_A(inst, {0: [1, 2]})
    assert X.tolist() == [[1, 1, 0], [1, 0, 1]]
    assert A.tolist() == [[True, False], [True, False]]
    assert pattern_B(inst, {0: [1, 2]}, 0, 2).tolist() == [[True, False], [False, True]]
    R = region_on_inputs(inst, X, A)
    assert R.contains(np.array([[1.0, 0, 0], [-1.0, 0, 0]]))
    assert not R.contains(np.array([[-1.0, 0, 0], [1.0, 0, 0]]))


def test_hypotheses_and_steps():
    inst = Instance(W_p=np.eye(3), weights=np.ones(3))
    assert check("C7", inst, parents={0: [1]}).status == "hypotheses_not_met"
    steps = {s.name: s for s in proof_steps()}
    assert not steps["shrinking drops the weakest child (θ = 0)"].holds
    assert steps["shrinking with a threshold θ > 0"].holds
    assert not steps["aligned neuron silent on siblings"].holds


def test_default_search_fails_and_corrected_condition_verified():
    v = check("C7", budget=12, seed=0)
    assert v.status == "fails"
    assert v.corrected_condition.verified


def test_top1_on_the_same_superposed_geometry_holds():
    # corrected condition (ii): with Top-1 the children's inputs lie in <x, w_p^0> > 0, their cone is pointed and
    # the extreme child is taken by a spare row P + εd, so the geometry that breaks ReLU is fine for Top-1
    from proofs_check.c7_absorption import top1_pointed

    inst = Instance(W_p=W_2D, weights=np.ones(4), activation=TopKReLU(k=1))
    assert top1_pointed(inst, {0: [1, 2]})
    v = check("C7", inst, parents={0: [1, 2]})
    assert v.status == "holds"
    assert not top1_pointed(Instance(W_p=W_2D, weights=np.ones(4), activation=ReLU()), {0: [1, 2]})


def test_without_a_hierarchy_every_one_parent_hierarchy_is_checked():
    assert check("C7", Instance(W_p=np.eye(4), weights=np.ones(4), activation=ReLU())).status == "holds"
    v = check("C7", Instance(W_p=W_2D, weights=np.ones(4), activation=ReLU()))
    assert v.status == "fails" and v.counterexample["failing_parents"]


def test_family_survey_draws_the_hierarchies_its_docstring_names(monkeypatch):
    """2–3 children and 0–3 other features, so n = 3..7 features, n_p = 2–3, Gaussian unit columns; over 60 draws
    every n and n_p in range is drawn and none outside (the hypotheses are stubbed out: only the draws are looked at)."""
    from proofs_check import c7_absorption as c7

    seen = []

    def record(inst, h):
        seen.append((inst.n, inst.n_p, len(h[0])))
        return ["not decided here"]

    monkeypatch.setattr(c7, "hypotheses", record)
    out = c7.family_survey(60, seed=0)
    assert all(row["met"] == 0 for row in out.values()) and len(out) == 10   # 5 activations × bias or not
    assert {n for n, _, _ in seen} == {3, 4, 5, 6, 7} and {n_p for _, n_p, _ in seen} == {2, 3}
    assert {k for _, _, k in seen} == {2, 3} and all(n >= 1 + k for n, _, k in seen)
