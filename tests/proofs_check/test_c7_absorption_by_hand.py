"""C7 by hand: the family survey's rows (names of the documented families, nothing counted where nothing meets the
hypotheses) and the corrected condition's independence test at its documented tolerance 1e-9."""
import numpy as np

from proofs_check import c7_absorption as c7
from theory import Instance


def test_family_survey_rows_are_the_documented_families_and_count_nothing_unmet(monkeypatch):
    """ReLU, JumpReLU(θ = 1/2), TopK(k=1), TopK∘ReLU(k=1), TopK∘ReLU(k=2), each without and with a bias: ten rows in
    that order; with every hypothesis unmet (stubbed) no row counts a draw or keeps a failure."""
    monkeypatch.setattr(c7, "hypotheses", lambda inst, h: ["stubbed: unmet"])
    out = c7.family_survey(3, seed=2)
    names = ["ReLU", "JumpReLU(θ=0.5)", "TopK(k=1)", "TopK∘ReLU(k=1)", "TopK∘ReLU(k=2)"]
    assert list(out) == [f"{a}, bias={b}" for a in names for b in (False, True)]
    assert all(row == {"met": 0, "fails": 0, "first_failure": None} for row in out.values())


def test_independent_inputs_uses_the_tolerance_1e_9():
    """Features w0 = (0, 1), w1 = (1, 0), w2 = (1, 1e-12)/||·||; hierarchy 0 → {1, 2}: inputs w0 + w1 = (1, 1) and
    w0 + w2 ≈ (1, 1 + 1e-12). Their 2×2 matrix has determinant ≈ 1e-12, singular values ≈ 2 and 1e-12/2 = 5e-13,
    below 1e-9: dependent (a default numpy tolerance, ~2·2·2.2e-16 ≈ 9e-16, would call them independent). With
    1e-6 in place of 1e-12 the small singular value is ≈ 5e-7 > 1e-9: independent."""
    W = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1e-12]])
    assert c7.independent_inputs(Instance(W_p=W / np.linalg.norm(W, axis=0), weights=np.ones(3)), {0: [1, 2]}) is False
    W = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1e-6]])
    assert c7.independent_inputs(Instance(W_p=W / np.linalg.norm(W, axis=0), weights=np.ones(3)), {0: [1, 2]}) is True


def test_independent_inputs_appends_the_bias_row():
    """Features w0 = (1, 0), w1 = (0, 1), w2 = (−1, 0), w3 = (0, −1); hierarchy 0 → {1, 2}, feature 3 apart: inputs
    w0 + w1 = (1, 1), w0 + w2 = (0, 0), w3 = (0, −1). Three vectors in R² (one of them 0) are dependent. With the
    bias's row of ones appended the columns are (1, 1, 1), (0, 0, 1), (0, −1, 1), whose determinant is
    1·(0·1 − (−1)·1) − 0 + 0 = 1 ≠ 0: independent."""
    W = np.array([[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 0.0, -1.0]])
    assert c7.independent_inputs(Instance(W_p=W, weights=np.ones(4)), {0: [1, 2]}) is False
    assert c7.independent_inputs(Instance(W_p=W, weights=np.ones(4), encoder_bias=True), {0: [1, 2]}) is True


def test_the_construction_shrinks_the_parent_row_on_a_fine_grid():
    """JumpReLU θ = 1/2, orthonormal features, parent 0 with children 1, 2, feature 3 apart, no bias. The parent row
    (1/2, 1/2, 0.65, 0) has pre-activation 1 on child 1's input e0 + e1 and 1.15 on child 2's: child 1 is the
    weakest. On the documented grid s = 10^(−j/20) (121 points from 1 to 1e−6) the first s with s·1 ≤ 1/2 is
    10^(−7/20) ≈ 0.4467, where child 2's 1.15·0.4467 ≈ 0.514 > 1/2 still fires; the spare row α e1, α = 2·max(θ, 1)/1
    = 2, fires on child 1's input only (2 > 1/2): B(0, 1) is produced. (A coarser grid, e.g. 50 points, whose step
    below 0.569 is 0.429, would drop child 2 too: 1.15·0.429 ≈ 0.49 < 1/2.)"""
    from theory.activations import JumpReLU

    inst = Instance(W_p=np.eye(4), weights=np.ones(4), activation=JumpReLU(theta=0.5))
    W_E = np.array([[0.5, 0.5, 0.65, 0.0], [0.0, 0.0, 0.0, 1.0], [-1.0, -1.0, -1.0, -1.0]])
    c = c7.decide(inst, {0: [1, 2]}, W_E=W_E)["per_parent"][0]["construction"]
    assert c == {"parent": 0, "weakest_child": 1, "weakest_dropped_out": True, "produces_B": True,
                 "inputs_with_wrong_pattern": []}


def test_the_construction_shrinks_until_the_weakest_child_not_the_first_drops_out():
    """As above with the children's roles swapped: the parent row (1/2, 0.65, 1/2, 0) gives 1.15 on child 1's input
    and 1 on child 2's, so child 2 is the weakest; at s = 10^(−7/20) ≈ 0.4467 child 2's input drops out (0.4467 ≤ 1/2)
    and child 1's stays (0.514); the spare row 2·e2 fires on child 2's input only: B(0, 2). (Shrinking until the
    first child, 1.15·s ≤ 1/2, would stop at s = 10^(−8/20) ≈ 0.398, where child 2's 0.398 is off as well.)"""
    from theory.activations import JumpReLU

    inst = Instance(W_p=np.eye(4), weights=np.ones(4), activation=JumpReLU(theta=0.5))
    W_E = np.array([[0.5, 0.65, 0.5, 0.0], [0.0, 0.0, 0.0, 1.0], [-1.0, -1.0, -1.0, -1.0]])
    c = c7.decide(inst, {0: [1, 2]}, W_E=W_E)["per_parent"][0]["construction"]
    assert c == {"parent": 0, "weakest_child": 2, "weakest_dropped_out": True, "produces_B": True,
                 "inputs_with_wrong_pattern": []}


def test_a_failure_on_an_instance_meeting_the_corrected_condition_says_it_meets_it(monkeypatch):
    """Orthonormal features, hierarchy 0 → {1, 2}: inputs e0 + e1, e0 + e2 (and e3) are independent, so the corrected
    condition is met. The theorem says such an instance never fails; decide is stubbed to fail there (and the
    restricted search stubbed) so that the corrected condition's evidence of that branch is read."""
    from proofs_check.search import SearchResult

    inst = Instance(W_p=np.eye(4), weights=np.ones(4))
    real = c7.decide
    monkeypatch.setattr(c7, "decide", lambda *a, **k: {**real(*a, **k), "outcome": "fails", "failing_parents": [0]})
    monkeypatch.setattr(c7, "_corrected_search", lambda budget, seed: (SearchResult(tried=1, held=1), "stub", {}))
    v = c7.check_instance(inst, parents={0: [1, 2]})
    assert v.status == "fails" and v.numbers["corrected_condition_met"] is True
    assert v.corrected_condition.evidence.startswith("this instance meets the corrected condition; search restricted to it: stub")
