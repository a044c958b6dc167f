"""C6's records field by field against hand-computed values (issue 12: the corrected check's record, the corrected
condition's fields, the seed and budget handed on, ACS's iteration count and the failing search's evidence were
not read)."""
import numpy as np
import pytest

from proofs_check import check
from proofs_check import c6_spurious_minima as c6
from proofs_check.search import SearchResult
from theory.activations import ReLU, TopKReLU
from theory.instance import Instance
from theory.partial_optimum import interior_point
from theory.patterns import as_pattern, region

ORTHO_12 = Instance(W_p=np.eye(2), weights=[1.0, 2.0], activation=ReLU())
PAIR = [{0, 1}, set()]


def test_the_corrected_check_on_unequal_weights_is_a_record_of_every_field():
    """Orthonormal targets, M = (1, 2), pattern ({0, 1}, ∅): the corrected condition fails (unequal weights), so
    the realizing encoder with its least-squares decoder is no partial minimum. With activations a_d of the LP
    witness, u* = Σ M_d a_d e_d / S (S = Σ M_d a_d²) and L̃ = Σ M_d − Σ M_d² a_d² / S; the condition's loss would
    be M_1 (|F| − 1) = 1."""
    P = as_pattern(PAIR, ORTHO_12)
    rec = c6._check_corrected(ORTHO_12, P)
    W_E, _ = interior_point(region(ORTHO_12, P))
    a, M = W_E[0], np.array([1.0, 2.0])  # neuron 0's pre-activations on e_1, e_2 (positive: it fires on both)
    S = (M * a**2).sum()
    assert set(rec) == {"instance", "pattern", "loss", "expected_loss", "kkt"}
    assert rec["instance"] == {"W_p": [[1.0, 0.0], [0.0, 1.0]], "W_r": None, "weights": [1.0, 2.0],
                               "activation": {"name": "relu"}, "encoder_bias": False, "distribution": None,
                               "interference": 0.0}
    assert rec["pattern"] == [[0, 1], []]
    assert rec["loss"] == pytest.approx(3.0 - (M**2 * a**2).sum() / S, rel=1e-9)
    assert rec["expected_loss"] == 1.0
    assert rec["kkt"].startswith("encoder KKT residual")


def test_the_corrected_check_under_the_condition_returns_nothing():
    inst = ORTHO_12.replace(weights=[1.0, 1.0])
    assert c6._check_corrected(inst, as_pattern(PAIR, inst)) is None


def test_the_corrected_condition_record():
    counts = {"met": 120, "held": 120, "skipped": 0, "undecided": 0, "failed": 0, "superposition_met": 40}
    cc = c6._corrected_text(True, "some evidence", counts)
    assert cc.sympy == "Eq(M_d, M_e) & Eq(w_r_d.dot(w_r_e), KroneckerDelta(d, e)) for d, e in F_i"
    assert (cc.verified, cc.kind, cc.counts, cc.evidence) == (True, "sufficient", counts, "some evidence")
    assert cc.text.startswith("Within every F_i the feature weights M_d are equal and the target columns w_r^d are "
                              "orthonormal (true for an SAE with orthonormal features and equal weights). Then every "
                              "realizing encoder with its least-squares decoder is a partial minimum, "
                              "L̃ = Σ_i M_{F_i}(|F_i| − 1) > 0.")
    assert c6._corrected_text(False, "e").verified is False and c6._corrected_text(False, "e").counts is None


def test_check_instance_hands_its_seed_to_decide_and_decide_runs_acs_40_iterations(monkeypatch):
    """Three features at 120° (dependent columns), JumpReLU: decide reaches ACS (see test_c6_spurious_minima)."""
    from theory.activations import JumpReLU

    seeds, iters, real_decide, real_acs = [], [], c6.decide, c6.alternating_convex_search
    monkeypatch.setattr(c6, "decide", lambda *a, **kw: seeds.append(kw.get("seed")) or real_decide(*a, **kw))
    monkeypatch.setattr(c6, "alternating_convex_search", lambda *a, **kw: iters.append(kw.get("iters")) or real_acs(*a, **kw))
    ang = np.array([0.0, 2 * np.pi / 3, 4 * np.pi / 3])
    inst = Instance(W_p=np.vstack([np.cos(ang), np.sin(ang)]), activation=JumpReLU(theta=0.1))
    v = check("C6", inst, pattern=[{0, 1}, {2}, set()], seed=7)
    assert seeds == [7] and v.seed == 7 and v.budget == 40
    assert c6.decide(inst, [{0}, {1}, {2}], seed=0)["outcome"] == "inconclusive"  # one ACS run per start
    assert iters and set(iters) == {40}


def test_without_a_pattern_check_instance_checks_every_polysemantic_partition_up_to_the_budget():
    """n = 3: the partitions of [3] with a block of >= 2 are {012}, {01|2}, {02|1}, {0|12}: 4; budget 2 checks 2."""
    inst = Instance(W_p=np.eye(3), weights=[1.0, 1.0, 1.0], activation=TopKReLU(k=1))
    v = check("C6", inst, budget=2)
    assert v.numbers["patterns_checked"] + v.numbers["patterns_not_meeting_hypotheses"] == 2
    v = check("C6", inst, budget=10)
    assert v.numbers["patterns_checked"] + v.numbers["patterns_not_meeting_hypotheses"] == 4


def test_one_feature_has_no_polysemantic_pattern(refuses):
    v = check("C6", Instance(W_p=np.eye(1)))
    assert (v.status, v.evidence, v.numbers) == ("hypotheses_not_met", "no pattern",
                                                 {"patterns_checked": 0, "patterns_not_meeting_hypotheses": 0})


def test_the_default_failing_search_keeps_its_budget_and_seed_and_names_the_smallest_instances():
    v = check("C6", budget=12, seed=0)
    assert (v.status, v.budget, v.seed) == ("fails", 12, 0)
    kind = "SAE" if v.counterexample["instance"]["W_r"] is None else "transcoder"
    assert f" {kind}, n = " in v.evidence
    # the three smallest instances, decided by hand in test_c6_spurious_minima: unequal weights fail, equal hold,
    # parallel transcoder targets give only zero loss
    assert ("Smallest instances: orthonormal SAE, unequal weights: fails; orthonormal SAE, equal weights (the "
            "paper's setting): holds; transcoder with parallel targets: fails.") in v.evidence


def test_a_failing_transcoder_search_prints_its_targets_to_four_places_and_the_gated_reason(monkeypatch):
    inst = Instance(W_p=np.eye(2), W_r=np.array([[np.cos(0.3), np.cos(1.1)], [np.sin(0.3), np.sin(1.1)]]), weights=[1.0, 1.0], activation=ReLU())
    ex = {"instance": c6._instance_record(inst), "pattern": [[0, 1], []], "reason": "R"}
    found = SearchResult(example=(inst, PAIR), details=ex, tried=3, held=2, budget=5, seed=1)
    corrected = SearchResult(tried=30, held=30, budget=30, seed=2)
    gated = SearchResult(example=1, details={"reason": "the gated reason"}, tried=2, budget=4, seed=8)
    monkeypatch.setattr(c6, "_search", lambda budget, seed: (found, corrected))
    monkeypatch.setattr(c6, "_gated_search", lambda budget, seed: gated)
    v = c6.search(budget=5, seed=1)
    assert (v.status, v.budget, v.seed, v.counterexample) == ("fails", 5, 1, ex)
    assert "ReLU transcoder, n = 2, n_p = 2, bias False, pattern [[0, 1], []] — R." in v.evidence
    assert "W_r = [[0.9553, 0.4536], [0.2955, 0.8912]],"  # cos/sin 0.3 and 1.1 to four places in v.evidence
    assert v.evidence.endswith(f"searched apart: {gated.summary()} — the gated reason.")
