"""The branches of C6, C7 and C9's verdict logic that their default searches do not reach (issue 12, part 5:
mutants there survived because no test ran them). Each search is given a search result of the other kind
(hand-written :class:`SearchResult`s and run records) and must build the verdict that result means."""
import numpy as np
import pytest

from proofs_check import c6_spurious_minima as c6
from proofs_check import c7_absorption as c7
from proofs_check import c9_resampling as c9
from proofs_check.search import SearchResult
from theory.activations import ReLU, TopKReLU
from theory.instance import Instance

NOTHING = SearchResult(tried=6, held=5, undecided=1, budget=8, seed=0)
NOTHING_TEXT = "no failure in 6 examples (seed 0, budget 8): 6 met the hypotheses: 5 held, 1 undecided; 0 were outside them"
CORRECTED = SearchResult(tried=120, held=120, budget=120, seed=1, superposed_met=40)


def test_no_failure_text_is_the_counts():
    assert NOTHING.summary() == NOTHING_TEXT


def test_c6_search_without_a_failure_says_holds(monkeypatch):
    monkeypatch.setattr(c6, "_search", lambda budget, seed: (NOTHING, CORRECTED))
    monkeypatch.setattr(c6, "_gated_search", lambda budget, seed: SearchResult(tried=5, held=5, budget=10, seed=7))
    v = c6.search(budget=8, seed=0)
    assert (v.claim, v.status, v.counterexample, v.seed, v.budget) == ("C6", "holds", None, 0, 8)
    assert v.evidence.startswith("a partial minimum with positive loss found (or not excluded) for every searched "
                                 f"pattern: {NOTHING_TEXT}.")
    assert v.numbers["search"] == NOTHING_TEXT and v.numbers["gated_counterexample"] is None
    assert "no failure in 5 examples (seed 7, budget 10)" in v.evidence
    assert v.corrected_condition.counts["met"] == 120 and v.corrected_condition.verified
    assert v.corrected_condition.evidence == f"same search restricted to the corrected condition: {CORRECTED.summary()}"
    assert [s.name for s in v.steps] == [s.name for s in c6.proof_steps()]
    # the hand instances are decided all the same: unequal weights have no partial minimum of positive loss
    assert v.numbers["hand_instances"]["orthonormal SAE, unequal weights"]["outcome"] != \
        v.numbers["hand_instances"]["orthonormal SAE, equal weights (the paper's setting)"]["outcome"]


def test_c7_search_without_a_failure_says_holds(monkeypatch):
    survey = {"relu, no bias": {"met": 3, "fails": 0}, "topk_relu, no bias": {"met": 2, "fails": 0}}
    monkeypatch.setattr(c7, "_search", lambda budget, seed: (
        NOTHING, (CORRECTED, "corrected: no failure", CORRECTED.counts()),
        SearchResult(tried=2, held=2, budget=4, seed=2), survey))
    monkeypatch.setattr(c7, "_gated_search", lambda budget, seed: (SearchResult(tried=5, held=5, budget=10, seed=7),
                                                                   SearchResult(tried=5, held=5, budget=10, seed=8)))
    monkeypatch.setattr(c7, "gated_apart", lambda: True)
    v = c7.search(budget=8, seed=0)
    assert (v.claim, v.status, v.counterexample, v.seed, v.budget) == ("C7", "holds", None, 0, 8)
    assert v.evidence.startswith("every searched hierarchy with a realizable pattern A has a splittable child for "
                                 f"every parent: {NOTHING_TEXT}.")
    assert " Gated units (tied and untied), searched apart: no failure in 5 examples (seed 7, budget 10): 5 met the " \
        "hypotheses: 5 held, 0 undecided; 0 were outside them. Families searched: " in v.evidence
    assert v.numbers["search"] == NOTHING_TEXT and v.numbers["family_survey"] == survey
    assert v.numbers["corrected_search"].startswith("corrected: no failure; Gated (searched apart), independent inputs: ")
    assert v.corrected_condition.counts["met"] == 125  # the Gated part's 5 added to the 120
    assert v.corrected_condition.evidence.startswith("same search restricted to the corrected condition: corrected: "
                                                     "no failure; Gated (searched apart), independent inputs: no failure")
    assert [s.name for s in v.steps] == [s.name for s in c7.proof_steps()]


def _run(activation, outcome: str, improvement: float, ci) -> dict:
    """A C9 run record as :func:`c9.experiment` writes it (three seeds, hand-written numbers)."""
    return {"outcome": outcome, "instance": Instance(W_p=np.eye(3), activation=activation).to_json(),
            "seeds": [0, 1, 2], "start_exact_loss": 0.05, "final_exact_loss_without": [0.04, 0.04, 0.04],
            "final_exact_loss_with": [0.04 - improvement] * 3, "improvement_mean": improvement,
            "improvement_ci95": list(ci), "mean_max_cos_without": [0.9] * 3, "mean_max_cos_with": [0.95] * 3,
            "neurons_resampled": [1, 1, 1]}


def test_c9_search_with_an_unresolved_setting_is_inconclusive(monkeypatch):
    runs = [_run(ReLU(), "holds", 0.02, (0.01, 0.03)), _run(TopKReLU(k=1), "inconclusive", 0.001, (-0.002, 0.004))]
    fixed = [_run(TopKReLU(k=1), "holds", 0.02, (0.01, 0.03))]
    monkeypatch.setattr(c9, "_search", lambda budget, seed: (runs, fixed))
    v = c9.search(budget=8, seed=0)
    assert (v.claim, v.status, v.counterexample, v.seed, v.budget) == ("C9", "inconclusive", None, 0, 8)
    assert v.evidence.startswith("Resampling does not help in every setting — ReLU: holds (paired improvement 0.02, "
                                 "95% CI [0.01, 0.03]); TopK∘ReLU(k=1): inconclusive (paired improvement 0.001, "
                                 "95% CI [-0.002, 0.004]).")
    assert "TopK∘ReLU(k=1): the difference is not resolved: final L without resampling 0.04, with 0.039" in v.evidence
    assert v.numbers["corrected_runs"] == fixed
    assert v.corrected_condition is not None and v.corrected_condition.verified is False  # 1 run, not 100
    weak, strong = v.readings
    assert (weak.name, weak.status, strong.name, strong.status) == ("weak", "holds", "strong", "inconclusive")


def test_c9_search_where_every_setting_helps_holds(monkeypatch):
    runs = [_run(ReLU(), "holds", 0.02, (0.01, 0.03)), _run(TopKReLU(k=1), "holds", 0.01, (0.005, 0.015))]
    monkeypatch.setattr(c9, "_search", lambda budget, seed: (runs, []))
    v = c9.search(budget=8, seed=0)
    assert (v.claim, v.status, v.counterexample, v.corrected_condition) == ("C9", "holds", None, None)
    assert v.evidence.startswith("Resampling lowers the final loss in every setting — ReLU: holds")
    assert "ReLU: resampling lowers the final loss: final L without resampling 0.04, with 0.02 (start 0.05)" in v.evidence
    assert [(r.name, r.status) for r in v.readings] == [("weak", "holds"), ("strong", "holds")]
    assert v.numbers["settings"] == runs


@pytest.mark.parametrize("outcome, status", [("holds", "holds"), ("fails", "fails"), ("inconclusive", "inconclusive")])
def test_c9_verdict_of_one_run(outcome, status):
    v = c9._verdict_from(_run(ReLU(), outcome, 0.0, (-0.001, 0.001)), 3, 9)
    assert (v.claim, v.status, v.seed, v.budget) == ("C9", status, 3, 9)
    assert (v.counterexample is not None) == (status == "fails")
    assert v.evidence.startswith("ReLU: " + {"holds": "resampling lowers the final loss",
                                             "fails": "resampling does not lower the final loss",
                                             "inconclusive": "the difference is not resolved"}[outcome])


def test_c9_search_with_a_failing_setting_fails_on_it(monkeypatch):
    runs = [_run(ReLU(), "inconclusive", 0.001, (-0.002, 0.004)), _run(TopKReLU(k=1), "fails", 0.0, (-0.001, 0.0001))]
    monkeypatch.setattr(c9, "_search", lambda budget, seed: (runs, []))
    v = c9.search(budget=8, seed=0)
    assert (v.claim, v.status, v.counterexample) == ("C9", "fails", runs[1])   # the failing run, not the first bad one
    assert "TopK∘ReLU(k=1): resampling does not lower the final loss" in v.evidence
    assert [(r.name, r.status) for r in v.readings] == [("weak", "inconclusive"), ("strong", "fails")]
    assert v.readings[1].scope.startswith("fails for TopK∘ReLU(k=1) with the recipe as published")


def test_c5_a_non_convex_step_reports_its_eigenvalue(monkeypatch):
    from proofs_check import c5_example as c5

    real = c5._exact_analysis
    monkeypatch.setattr(c5, "_exact_analysis", lambda *a, **k: {**real(*a, **k), "min_eig_DD": -0.25, "min_eig_EE": -0.5})
    steps = {s.name: s for s in c5.proof_steps()}
    assert (steps["convex in W_D"].holds, steps["convex in W_D"].residual) == (False, "-0.25")
    assert (steps["convex in W_E"].holds, steps["convex in W_E"].residual) == (False, "-0.5")
    assert steps["loss value"].holds and steps["decoder gradient"].holds


def test_corrected_condition_label_prints_each_count():
    from proofs_check.verdict import CorrectedCondition

    counts = {"met": 120, "superposition_met": 30, "held": 117, "skipped": 5, "undecided": 3, "failed": 0}
    assert CorrectedCondition("θ < 1", verified=True, counts=counts).label() == (
        "verified, sufficient; met 120 (n > n_p: 30), held 117, skipped 5, undecided 3")
    assert CorrectedCondition("θ < 1").label() == "NOT verified, sufficient; no search counts"


def test_c8_readings_from_hand_outcomes():
    from proofs_check import c8_dead_neurons as c8

    hand = {"relu, no bias": {"outcome": "holds"}, "jumprelu θ = 0.5": {"outcome": "fails"}}
    weak, strong = c8._readings(SearchResult(example=(1,), details={}, tried=3, budget=8, seed=0),
                                SearchResult(tried=4, held=4, budget=8, seed=1), hand)
    assert (weak.status, strong.status) == ("holds", "fails")
    assert weak.evidence.startswith("witnesses: ['relu, no bias'] (dead on every input of the support")
    assert strong.evidence.endswith("mechanisms that revive: ['jumprelu θ = 0.5']")
    none = c8._readings(NOTHING, SearchResult(tried=4, held=0, budget=8, seed=1), {"a": {"outcome": "fails"}})
    assert [(r.name, r.status) for r in none] == [("weak", "inconclusive"), ("strong", "holds")]


def test_counts_without_superposition_do_not_verify():
    from proofs_check.verdict import CorrectedCondition, verification_gap

    counts = {"met": 150, "held": 150, "skipped": 0, "undecided": 0, "failed": 0}   # no superposition_met at all
    assert verification_gap(counts) == "no instance with n > n_p (superposition) met it"
    assert not CorrectedCondition("x", verified=True, counts=counts).verified


def test_undecided_instances_do_not_verify():
    """150 met but 60 of them undecided: 90 decided is below the 100 a verified condition needs."""
    from proofs_check.verdict import MIN_MET, CorrectedCondition, verification_gap

    assert MIN_MET == 100
    counts = {"met": 150, "held": 90, "skipped": 0, "undecided": 60, "failed": 0, "superposition_met": 20}
    assert verification_gap(counts) == ("only 90 of the 150 instances that met it were decided (held); 60 undecided "
                                        "(need 100 decided)")
    cc = CorrectedCondition("x", verified=True, counts=counts)
    assert not cc.verified and "60 undecided" in cc.evidence
    assert verification_gap({**counts, "held": 100, "undecided": 50}) is None
