"""C7's verdicts, records and search predicates against hand-derived values (issue 12, part 5: the fifth session's
seed-53 sample of c7_absorption's mutants left these fields and branches unread: a verdict's seed and budget, the
predicates' three answers, the failing search's evidence). The expensive searches are replaced by hand-written
:class:`SearchResult`s; every instance is decided by the LP, and every expected value is worked out in the docstring."""
import numpy as np
import pytest

from proofs_check import c7_absorption as c7
from proofs_check.search import SKIP, SearchResult
from theory import Instance
from theory.activations import ReLU

# the superposed ReLU geometry of test_c7_absorption.py: parent 0, children 1, 2, feature 3; no child splittable
W_2D = np.array([[0.3566, 0.8787, 0.5241, -0.9133], [0.9343, 0.4774, -0.8517, 0.4073]])
W_2D = W_2D / np.linalg.norm(W_2D, axis=0)
FAILS = Instance(W_p=W_2D, weights=np.ones(4), activation=ReLU())
HOLDS = Instance(W_p=np.eye(4), weights=np.ones(4), activation=ReLU())
CORRECTED = SearchResult(tried=110, held=110, budget=110, seed=6, superposed_met=30)


@pytest.fixture
def corrected_search_stub(monkeypatch):
    """C7's restricted search (about 10 s) replaced by a fixed result; the arguments it was asked with are kept."""
    asked = []

    def stub(budget, seed):
        asked.append((budget, seed))
        return CORRECTED, "restricted: no failure", CORRECTED.counts()

    monkeypatch.setattr(c7, "_corrected_search", stub)
    return asked


def test_every_check_instance_branch_keeps_the_seed_and_budget_it_was_given(corrected_search_stub):
    """hypotheses_not_met (one child), holds (orthonormal: every child splits off) and fails (the superposed ReLU
    geometry), each asked with seed 5 and budget 7: the verdict records exactly those two numbers."""
    unmet = c7.check_instance(Instance(W_p=np.eye(3), weights=np.ones(3)), seed=5, budget=7, parents={0: [1]})
    holds = c7.check_instance(HOLDS, seed=5, budget=7, parents={0: [1, 2]})
    fails = c7.check_instance(FAILS, seed=5, budget=7, parents={0: [1, 2]})
    for v, status in ((unmet, "hypotheses_not_met"), (holds, "holds"), (fails, "fails")):
        assert (v.claim, v.title, v.status, v.seed, v.budget) == ("C7", c7.CLAIM.title, status, 5, 7)
        assert [s.name for s in v.steps] == [s.name for s in c7.proof_steps()]
    assert unmet.evidence == "parent 0 needs at least two children (got [1])"
    # the restricted search is asked with min(budget, 20) and the seed
    assert corrected_search_stub == [(7, 5)]
    c7.check_instance(FAILS, seed=3, budget=33, parents={0: [1, 2]})
    assert corrected_search_stub[-1] == (20, 3)


def test_a_failing_instance_records_its_hierarchy_and_the_restricted_search(corrected_search_stub):
    """The superposed geometry: no child of parent 0 can be split off, the corrected condition is not met (4 inputs
    in R², not independent; ReLU is not Top-1), and the corrected condition carries the restricted search's text,
    counts and verdict (verified: the stub found nothing)."""
    v = c7.check_instance(FAILS, seed=5, budget=7, parents={0: [1, 2]})
    assert v.counterexample["parents"] == {"0": [1, 2]} and v.counterexample["failing_parents"] == [0]
    assert v.counterexample["per_parent"]["0"]["splittable_children"] == []
    assert v.numbers["splittable_children"] == {"0": []} and v.numbers["corrected_condition_met"] is False
    assert v.evidence.startswith("pattern A is realizable but for parents [0] no child can be split off: the LP "
                                 "certifies B(p, c) empty for every child; ")
    cc = v.corrected_condition
    assert cc.evidence == "this instance does not meet the corrected condition; search restricted to it: restricted: no failure"
    assert cc.verified and cc.counts == CORRECTED.counts() and cc.kind == "sufficient"


def test_the_construction_record_of_a_relu_parent_by_hand():
    """ReLU, orthonormal features, parent 0 with children 1, 2, feature 3 apart; A's encoder given: the parent row
    (1, 1, 2, 0) has pre-activation 2 on child 1's input e0 + e1 and 3 on child 2's, so child 1 is the weakest.
    Shrinking a ReLU row never switches it off (dropped: False). The spare row is α·e1 with α = 2·max(0, 1)/1 = 2: it
    fires on child 1's input (2 > 0) and nowhere else, but the parent unit still fires there too, so exactly that
    input has the wrong pattern and B(0, 1) is not produced."""
    W_E = np.array([[1.0, 1.0, 2.0, 0.0], [0.0, 0.0, 0.0, 1.0], [-1.0, -1.0, -1.0, -1.0]])
    r = c7.decide(HOLDS, {0: [1, 2]}, W_E=W_E)
    c = r["per_parent"][0]["construction"]
    assert c == {"parent": 0, "weakest_child": 1, "weakest_dropped_out": False, "produces_B": False,
                 "inputs_with_wrong_pattern": [["child", 0, 1]]}
    assert r["construction_works"] is False and r["outcome"] == "holds" and r["per_parent"][0]["splittable_children"] == [1, 2]


def test_without_a_hierarchy_the_first_budget_one_parent_hierarchies_are_listed_in_order():
    """Orthonormal ReLU, n = 4: the one-parent hierarchies in the documented order are parent 0 with children
    (1,2), (1,3), (2,3), (1,2,3), then parent 1 with (0,2), (0,3), (2,3), ...; with budget 7 the first seven are
    checked. Their inputs are independent (orthonormal features), so every child of each splits off."""
    v = c7.check_instance(HOLDS, seed=5, budget=7)
    want = [{0: [1, 2]}, {0: [1, 3]}, {0: [2, 3]}, {0: [1, 2, 3]}, {1: [0, 2]}, {1: [0, 3]}, {1: [2, 3]}]
    assert (v.title, v.status, v.seed, v.budget) == (c7.CLAIM.title, "holds", 5, 7)
    assert v.numbers["hierarchies"] == [{"parents": h, "splittable": next(iter(h.values()))} for h in want]
    assert v.evidence == "all 7 one-parent hierarchies with a realizable pattern A have a splittable child"
    # n = 2: no parent has two children, so no hierarchy meets the hypotheses
    none = c7.check_instance(Instance(W_p=np.eye(2), weights=np.ones(2)), seed=5, budget=7)
    assert (none.title, none.status, none.seed, none.budget) == (c7.CLAIM.title, "hypotheses_not_met", 5, 7)
    assert none.evidence == "no one-parent hierarchy on this instance has a realizable pattern A (or n < 3)"


def test_without_a_hierarchy_the_first_failing_one_is_reported(corrected_search_stub):
    """The superposed geometry without a hierarchy: parent 0 with children (1, 2) is the first hierarchy in the
    order and already fails, so one hierarchy is checked and its verdict is passed on with the count."""
    v = c7.check_instance(FAILS, seed=5, budget=7)
    assert (v.claim, v.title, v.status, v.seed, v.budget) == ("C7", c7.CLAIM.title, "fails", 5, 7)
    assert v.numbers["hierarchies_checked"] == 1 and v.counterexample["parents"] == {"0": [1, 2]}
    assert v.evidence.startswith("1 hierarchies checked; hierarchy {0: [1, 2]}: pattern A is realizable but for parents [0]")
    assert v.corrected_condition.counts == CORRECTED.counts()


def test_the_search_predicates_answer_skip_none_or_the_record(monkeypatch):
    """The three predicates on decided instances: an unmet hypothesis (one child) is SKIP; the orthonormal hierarchy
    holds (None); the superposed one fails (its record). The corrected predicate skips the superposed instance (the
    condition is not met there) and, on an instance that meets it but fails (decide stubbed to fail: the theorem says
    none exists), returns the record. The construction predicate: ReLU's construction does not produce B on the
    orthonormal hierarchy (see the record test above), so its record is returned."""
    one_child = (Instance(W_p=np.eye(3), weights=np.ones(3)), {0: [1]})
    for pred in (c7._predicate, c7._corrected_predicate, c7._construction_predicate):
        assert pred(one_child) == SKIP
    assert c7._predicate((HOLDS, {0: [1, 2]})) is None
    rec = c7._predicate((FAILS, {0: [1, 2]}))
    assert rec["failing_parents"] == [0] and rec["parents"] == {"0": [1, 2]}
    assert c7._corrected_predicate((FAILS, {0: [1, 2]})) == SKIP
    assert c7._corrected_predicate((HOLDS, {0: [1, 2]})) is None
    cons = c7._construction_predicate((HOLDS, {0: [1, 2]}))
    assert cons["failing_parents"] == [] and cons["per_parent"]["0"]["construction"]["produces_B"] is False
    monkeypatch.setattr(c7, "decide", lambda inst, h: {"outcome": "fails", "failing_parents": [0], "construction_works": True,
                                                        "per_parent": {0: {"splittable_children": []}}})
    got = c7._corrected_predicate((HOLDS, {0: [1, 2]}))
    assert got["failing_parents"] == [0] and got["per_parent"] == {"0": {"splittable_children": []}}
    assert c7._construction_predicate((HOLDS, {0: [1, 2]})) is None   # the construction "works" here


def test_a_failing_search_reports_its_counterexample_and_the_corrected_conditions_failure(monkeypatch):
    """C7's search with hand-written results: the claim fails on the superposed ReLU record, the restricted search
    fails too (so the corrected condition is not verified and its evidence ends with the failing details), the
    construction fails on a record, the survey has one failing row; Gated is searched apart and its restricted
    search's counts are added to the corrected condition's."""
    rec = c7._record(FAILS, {0: [1, 2]}, c7.decide(FAILS, {0: [1, 2]}))
    found = SearchResult(example="ex", details=rec, tried=9, held=6, budget=8, seed=0, shrink_calls=3)
    cons_rec = c7._record(HOLDS, {0: [1, 2]}, c7.decide(HOLDS, {0: [1, 2]}, W_E=np.array(
        [[1.0, 1.0, 2.0, 0.0], [0.0, 0.0, 0.0, 1.0], [-1.0, -1.0, -1.0, -1.0]])))
    construction = SearchResult(example="ex", details=cons_rec, tried=2, held=1, budget=4, seed=2)
    repaired = SearchResult(example="ex", details={"bad": 1}, tried=40, held=39, budget=100, seed=1)
    survey = {"ReLU, bias=False": {"met": 3, "fails": 2}, "TopK(k=1), bias=False": {"met": 2, "fails": 0},
              "TopK(k=2), bias=True": {"met": 0, "fails": 0}}
    monkeypatch.setattr(c7, "_search", lambda budget, seed: (found, (repaired, "restricted: failed", repaired.counts()),
                                                             construction, survey))
    g_rep = SearchResult(tried=5, held=5, budget=10, seed=8)
    monkeypatch.setattr(c7, "_gated_search", lambda budget, seed: (SearchResult(tried=5, held=5, budget=10, seed=7), g_rep))
    monkeypatch.setattr(c7, "gated_apart", lambda: True)
    v = c7.search(budget=8, seed=0)
    assert (v.claim, v.title, v.status, v.seed, v.budget) == ("C7", c7.CLAIM.title, "fails", 0, 8)
    assert v.counterexample == rec
    W = np.round(W_2D, 4).tolist()
    assert v.evidence.startswith(
        "Pattern A is realizable but no child of parent(s) [0] can be split off (LP certificates): "
        f"{ReLU().describe()}, bias False, n = 4 features in n_p = 2, hierarchy {{'0': [1, 2]}}. "
        f"Minimal counterexample W_p = {W}. {found.summary()}. The published construction (shrink the parent row, add a "
        f"row aligned with the weakest child) fails on {ReLU().describe()} (bias False), hierarchy {{'0': [1, 2]}}: "
        "weakest child 1 dropped out: False, inputs with the wrong pattern [['child', 0, 1]]. "
        "Survey of random hierarchies: fails for ['ReLU, bias=False (2/3)']; no failure for ['TopK(k=1), bias=False']. "
        "Gated units (tied and untied), searched apart: no failure in 5 examples")
    cc = v.corrected_condition
    assert not cc.verified
    assert cc.evidence == ("same search restricted to the corrected condition: restricted: failed; Gated (searched apart), "
                           f"independent inputs: {g_rep.summary()}; fails at {{'bad': 1}}")
    assert cc.counts["met"] == 45 and cc.counts["held"] == 44 and cc.counts["tried"] == 45
    assert v.numbers["construction_counterexample"] == cons_rec and v.numbers["family_survey"] == survey
    assert v.numbers["search"] == found.summary() and v.numbers["construction_search"] == construction.summary()


def test_a_gated_failure_of_the_restricted_search_replaces_a_clean_one(monkeypatch):
    """The default families' restricted search finds nothing but the Gated one fails: the corrected condition is then
    not verified and its evidence ends with the Gated failure's details; the claim's own Gated failure is the
    reported counterexample when the default space has none."""
    nothing = SearchResult(tried=6, held=6, budget=8, seed=0)
    g_found = SearchResult(example="g", details=c7._record(FAILS, {0: [1, 2]}, c7.decide(FAILS, {0: [1, 2]})),
                           tried=3, held=2, budget=10, seed=7)
    g_rep = SearchResult(example="g", details={"gated": 1}, tried=5, held=4, budget=10, seed=8)
    monkeypatch.setattr(c7, "_search", lambda budget, seed: (nothing, (nothing, "restricted: clean", nothing.counts()),
                                                             SearchResult(tried=2, held=2, budget=4, seed=2), {}))
    monkeypatch.setattr(c7, "_gated_search", lambda budget, seed: (g_found, g_rep))
    monkeypatch.setattr(c7, "gated_apart", lambda: True)
    v = c7.search(budget=8, seed=0)
    assert v.status == "fails" and v.counterexample == g_found.details
    assert not v.corrected_condition.verified
    assert v.corrected_condition.evidence.endswith("; fails at {'gated': 1}")
    assert v.numbers["gated_counterexample"] == g_found.details
    assert " — fails for parent(s) [0]." in v.evidence


def test_the_corrected_conditions_two_branches_by_hand():
    """(i) independent inputs: orthonormal features give e0+e1, e0+e2, e3 (independent); in R² four inputs cannot be.
    (ii) Top-1 and a pointed cone: children 1 and 2 with equal columns have parallel inputs (not pointed: False);
    rotating child 2's column off child 1's makes them non-parallel with <w_c, w_p> = 0 > −1 (True); a child
    column −w_p has <w_c, w_p> = −1 and the zero input (False); any family other than Top-1 is False."""
    from theory.activations import TopK

    assert c7.independent_inputs(HOLDS, {0: [1, 2]}) and not c7.independent_inputs(FAILS, {0: [1, 2]})
    top1 = TopK(k=1)
    a = np.deg2rad(20.0)
    cases = [(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]), False),      # parallel children
             (np.array([[1.0, 0.0, 0.0], [0.0, 1.0, np.cos(a)], [0.0, 0.0, np.sin(a)]]), True),
             (np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]), False)]     # child 2 = −parent
    for W, want in cases:
        inst = Instance(W_p=W, weights=np.ones(3), activation=top1)
        assert c7.top1_pointed(inst, {0: [1, 2]}) is want, W
    assert not c7.top1_pointed(Instance(W_p=cases[1][0], weights=np.ones(3), activation=TopK(k=2)), {0: [1, 2]})


def test_a_direct_check_has_the_defaults_of_check():
    """check_instance called directly records the seed and budget that proofs_check.check gives by default."""
    from proofs_check import check

    want = check("C7", HOLDS, parents={0: [1, 2]})
    got = c7.check_instance(HOLDS, parents={0: [1, 2]})
    assert (got.seed, got.budget) == (want.seed, want.budget) and got.status == want.status == "holds"
