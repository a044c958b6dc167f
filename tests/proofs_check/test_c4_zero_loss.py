"""C4 (Thm 3.4): the characterisation both ways, constructed non-identifying solutions, the k = 1 exception."""
import numpy as np

from proofs_check import check
from proofs_check import c4_zero_loss as c4
from theory import Instance
from theory.activations import JumpReLU, ReLU, TopKReLU
from theory.objective import approx_loss


def test_mixed_solution_has_zero_loss_at_45_degrees():
    inst = Instance(W_p=np.eye(2), activation=ReLU())
    v = check("C4", inst)
    assert v.status == "holds"
    assert v.numbers["loss"] < 1e-20 and v.numbers["n_q"] == 4
    assert np.allclose(v.numbers["decoder_max_abs_cos"], 1 / np.sqrt(2))
    assert np.allclose(v.numbers["encoder_max_abs_cos"], 1 / np.sqrt(2))


def test_construction_lifts_values_over_a_jumprelu_threshold():
    inst = Instance(W_p=np.eye(3), weights=[1.0, 2.0, 0.5], activation=JumpReLU(theta=0.9))
    W_D, W_E, _ = c4.non_identifying_solution(inst)
    assert approx_loss(inst, W_D, W_E) < 1e-20
    assert check("C4", inst).status == "holds"


def test_characterisation_on_a_point_both_ways():
    inst = Instance(W_p=np.eye(2), activation=ReLU())
    assert check("C4", inst, W_D=np.eye(2), W_E=np.eye(2)).status == "holds"  # L̃ = 0, residuals 0
    v = check("C4", inst, W_D=np.eye(2), W_E=np.diag([1.0, 0.0]))  # feature 2 lost: L̃ = 1, residual 1
    assert v.status == "holds" and np.isclose(v.numbers["loss"], 1.0)


def test_planted_false_characterisation_is_reported_failing(monkeypatch):
    # planted variant: "L̃ = 0 iff the FIRST feature is reconstructed"
    monkeypatch.setattr(c4, "characterisation_holds",
                        lambda loss, R: (loss <= c4.ZERO) == bool(np.linalg.norm(R[0]) <= 1e-5))
    v = check("C4", Instance(W_p=np.eye(2), activation=ReLU()), W_D=np.eye(2), W_E=np.diag([1.0, 0.0]))
    assert v.status == "fails"


def test_top1_makes_the_decoder_identifiable():
    v = check("C4", Instance(W_p=np.eye(2), activation=TopKReLU(k=1)))
    assert v.status == "fails"
    assert v.counterexample["aligned_solution_loss"] < 1e-20
    assert np.allclose(v.counterexample["aligned_solution_decoder_max_abs_cos"], 1.0)


def test_superposition_is_decided_not_declared_outside_the_hypotheses():
    # was "hypotheses_not_met": superposition is a limit of the mixing construction, not of the claim
    W = np.array([[1.0, 0.0, np.sqrt(0.5)], [0.0, 1.0, np.sqrt(0.5)]])
    assert check("C4", Instance(W_p=W, activation=ReLU())).status in ("holds", "inconclusive")


def test_search_reports_the_k1_exception_and_verifies_the_correction():
    v = check("C4", budget=30, seed=0)
    assert all(s.holds for s in v.steps)
    assert v.status == "fails" and "k=1" in v.counterexample["activation"]
    assert v.corrected_condition.verified


def test_superposition_is_not_an_unmet_hypothesis_and_has_non_identifying_solutions():
    """Issue 12 part 3: 'linearly independent features' was a [verified] necessary condition, tested only
    where the mixing construction applies. Three features at 120° in R² (n > n_p), ReLU: a zero-loss
    solution with every direction below τ = 0.9 exists; the witness is re-checked here by hand."""
    import numpy as np

    from proofs_check.c4_zero_loss import check_instance, hypotheses, searched_solution
    from theory.instance import Instance

    ang = np.deg2rad([90.0, 210.0, 330.0])
    inst = Instance(W_p=np.vstack([np.cos(ang), np.sin(ang)]))
    assert hypotheses(inst) == []
    W_D, W_E, b_E, _ = searched_solution(inst)
    codes = np.maximum(inst.W_p.T @ W_E.T, 0.0)  # ReLU by hand, one row per feature
    assert np.abs(codes @ W_D.T - inst.W_p.T).max() < 1e-9
    unit = lambda V: V / np.linalg.norm(V, axis=0)  # noqa: E731
    used = np.linalg.norm(W_D, axis=0) > 1e-12
    assert np.abs(inst.W_p.T @ unit(W_D[:, used])).max() < 0.9 and np.abs(inst.W_p.T @ unit(W_E.T)).max() < 0.9
    assert check_instance(inst).status == "holds"
    # in R¹ every direction is a feature's: the consequence fails there (proved, not a construction limit)
    one = Instance(W_p=np.array([[1.0, -1.0]]))
    assert check_instance(one).status == "fails"


def test_construction_without_a_threshold_is_the_unscaled_mixing():
    """Without a threshold (ReLU, TopK∘ReLU, TopK) the construction needs no lift: c = max(1, 2·0/…) = 1, so each
    encoder row is a row of ±Q E (Q a rotation, E = W_p⁻¹ = I: unit rows) and each decoder column a column of
    ±W_r Qᵀ (unit columns); TopK without ReLU adds k zero rows (and columns)."""
    from theory.activations import TopK

    for act, zero in ((ReLU(), 0), (TopKReLU(k=2), 0), (TopK(k=2), 2)):
        inst = Instance(W_p=np.eye(2), activation=act)
        W_D, W_E, _ = c4.non_identifying_solution(inst)
        assert np.allclose(np.linalg.norm(W_E, axis=1), [1.0] * 4 + [0.0] * zero)
        assert np.allclose(np.linalg.norm(W_D, axis=0), [1.0] * 4 + [0.0] * zero)
        assert approx_loss(inst, W_D, W_E) < 1e-20


def test_searched_solutions_draw_their_widths_and_scales_as_documented():
    """Without a threshold (ReLU, TopK): unit encoder rows scaled by one factor in [1, 4] (the JumpReLU lift
    1 + 4θ is 1), and n + 1 ≤ n_q ≤ 3n + 1 units; over 40 seeds the ranges are reached (to within 0.2) and never left."""
    from theory.activations import TopK

    ang = np.deg2rad([90.0, 210.0, 330.0])
    for act in (ReLU(), TopK(k=2)):
        inst = Instance(W_p=np.vstack([np.cos(ang), np.sin(ang)]), activation=act)
        widths, norms = set(), []
        for seed in range(40):
            got = c4.searched_solution(inst, seed=seed, tries=60)
            if got is None:
                continue
            W_E = got[1]
            widths.add(W_E.shape[0])
            row = np.linalg.norm(W_E, axis=1)
            assert np.allclose(row, row[0])   # one factor per solution
            norms.append(row[0])
        assert widths <= set(range(4, 11)) and max(widths) == 10
        assert 1.0 <= min(norms) < 1.2 and 3.8 < max(norms) <= 4.0


def test_search_with_the_k1_exception_keeps_the_corrected_conditions_evidence(stub_claim_search):
    """C4's default search, its searches replaced by hand-written results: the consequence fails (the k = 1
    exception), so the corrected condition is reported with the two searches behind it, word for word."""
    from proofs_check.search import SearchResult

    found = SearchResult(example="ex", details={"activation": "TopK∘ReLU(k=1)", "reason": "one unit on per input",
                                                "aligned_solution_decoder_max_abs_cos": [1.0, 1.0],
                                                "aligned_solution_loss": 0.0, "mixing_attempt_loss": 0.5},
                         tried=4, held=3, budget=30, seed=1)
    results = {0: SearchResult(tried=5, held=5, budget=30, seed=0), 1: found,
               3: SearchResult(tried=6, held=6, budget=30, seed=3)}
    nec = SearchResult(tried=130, skipped=10, held=120, budget=130, seed=2, superposed_met=40)
    stub_claim_search(c4, results, nec)
    v = c4.search(budget=30, seed=0)
    assert (v.status, v.seed, v.budget) == ("fails", 0, 30)
    cc = v.corrected_condition
    assert cc.evidence == (f"necessary part, whole space (superposition included): {nec.summary()}; sufficient part "
                           f"(independent features, the mixing construction): {results[3].summary()}")
    assert cc.verified and cc.counts["met"] == 120 and cc.counts["held"] == 120
