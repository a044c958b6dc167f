"""proofs_check.verdict's pieces on counts with keys missing, and the checks a verdict is built with (issue 12, part 5:
the fifth session's seed-53 sample of verdict's mutants changed the defaults read for a missing count and the
validation of a verdict's parts; every expected text below is written by hand)."""
import json

import pytest

from proofs_check.verdict import CorrectedCondition, Reading, Verdict, merged_counts, verification_gap, with_part
from proofs_check.search import SearchResult


def test_a_missing_count_reads_as_zero():
    assert verification_gap({"held": 120}) == "only 0 instances met it (need 100)"
    assert verification_gap({"met": 150}) == ("only 0 of the 150 instances that met it were decided (held); 0 undecided "
                                              "(need 100 decided)")
    assert verification_gap({"met": 120, "held": 120}) == "no instance with n > n_p (superposition) met it"
    assert verification_gap({"met": 120, "held": 120, "superposition_met": 3}) is None
    # the weakest part's count bounds met only when it is given
    assert verification_gap({"met": 120, "held": 120, "superposition_met": 3, "least_met_per_part": 99}) == (
        "only 99 instances met it (in its weakest part) (need 100)")
    cc = CorrectedCondition("c", counts={"met": 3})
    assert cc.label() == "NOT verified, sufficient; met 3 (n > n_p: 0), held 0, skipped 0, undecided 0"
    assert CorrectedCondition("c").label() == "NOT verified, sufficient; no search counts"
    ok = CorrectedCondition("c", verified=True, kind="necessary", counts={"met": 100, "held": 100, "superposition_met": 1})
    assert ok.verified and ok.label() == "verified, necessary; met 100 (n > n_p: 1), held 100, skipped 0, undecided 0"
    demoted = CorrectedCondition("c", verified=True, evidence="e", counts={"met": 100, "held": 100})
    assert not demoted.verified and demoted.evidence == "e [not verified: no instance with n > n_p (superposition) met it]"


def test_counts_of_several_searches_add_up():
    a = SearchResult(tried=10, skipped=2, held=7, undecided=1, budget=10, seed=0, superposed_met=3)
    b = SearchResult(tried=5, skipped=1, held=4, budget=5, seed=1)
    m = merged_counts(a, b)
    assert m == {"met": 12, "held": 11, "skipped": 3, "undecided": 1, "failed": 0, "tried": 15, "superposition_met": 3,
                 "least_met_per_part": 4}
    assert with_part({"met": 1, "held": 1}, b) == {"met": 5, "held": 5, "skipped": 1, "undecided": 0, "failed": 0, "tried": 5}


def test_a_verdicts_parts_are_checked_where_it_is_built():
    Verdict("C1", "t", "holds", "e", readings=(Reading("weak", "s", "holds", "e"),))
    for bad, text in ((dict(numbers=[1]), "numbers must be a dict, got list"),
                      (dict(readings="weak"), "readings must be a sequence of Reading, got str"),
                      (dict(readings=("weak",)), "readings must be a sequence of Reading, got tuple")):
        with pytest.raises(ValueError) as e:
            Verdict("C1", "t", "holds", "e", **bad)
        assert str(e.value) == text
    with pytest.raises(ValueError) as e:
        Reading("weak", "s", "maybe", "e")
    assert str(e.value) == "status must be one of ('holds', 'fails', 'hypotheses_not_met', 'inconclusive'), got 'maybe'"


def test_a_verdicts_text_forms():
    v = Verdict("C2", "t", "fails", "first line\nsecond line", numbers={"x": 1}, seed=3, budget=9)
    assert v.summary() == "C2 [fails] first line"
    assert Verdict("C2", "t", "holds", "").summary() == "C2 [holds] "
    text = v.dumps()
    assert text.splitlines()[:3] == ["{", '  "claim": "C2",', '  "title": "t",']    # two-space indentation
    assert json.loads(text)["numbers"] == {"x": 1} and json.loads(text)["seed"] == 3
