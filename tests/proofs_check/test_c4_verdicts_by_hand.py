"""C4's verdicts, its search's numbers and the search's predicates against hand-derived values (issue 12, part 5:
the fifth session's seed-53 sample of c4_zero_loss's mutants left these unread: the seed of an inconclusive verdict,
the Gated searches' numbers, the corrected condition's "verified" when only one of its two searches fails, the
coherence printed in an undecided instance's evidence). The searches are replaced by hand-written
:class:`SearchResult`s (each kept with the predicate it was given, so the predicates are decided on hand instances)."""
import re

import numpy as np
import pytest

from proofs_check import c4_zero_loss as c4
from proofs_check.search import SKIP, UNDECIDED, SearchResult
from theory import Instance
from theory.activations import ReLU, TopKReLU

ORTHO = Instance(W_p=np.eye(2), activation=ReLU())
TOP1 = Instance(W_p=np.eye(2), activation=TopKReLU(k=1))
ANG = np.deg2rad([90.0, 210.0, 330.0])
TRIANGLE = Instance(W_p=np.vstack([np.cos(ANG), np.sin(ANG)]), activation=ReLU())  # three unit features at 120° in R²


def test_every_check_instance_branch_keeps_the_seed_and_budget_it_was_given(monkeypatch):
    """A point (the characterisation), the consequence holding (the mixing construction on orthonormal features),
    failing (k = 1), and undecided (the triangle in R², the random search stubbed to find nothing): each asked with
    seed 5 and budget 7 records exactly those. The undecided evidence names the family and the feature coherence
    max |W_pᵀW_p − I| = |cos 120°| = 0.50."""
    point = c4.check_instance(ORTHO, seed=5, budget=7, W_D=np.eye(2), W_E=np.eye(2))
    holds = c4.check_instance(ORTHO, seed=5, budget=7)
    fails = c4.check_instance(TOP1, seed=5, budget=7)
    asked = []
    monkeypatch.setattr(c4, "searched_solution", lambda inst, seed=0, tries=200: asked.append(seed))
    undecided = c4.check_instance(TRIANGLE, seed=5, budget=7)
    for v, status in ((point, "holds"), (holds, "holds"), (fails, "fails"), (undecided, "inconclusive")):
        assert (v.claim, v.title, v.status, v.seed, v.budget) == ("C4", c4.CLAIM.title, status, 5, 7)
    assert asked == [5]   # the search is seeded with the check's seed
    assert undecided.evidence == ("neither the mixing construction nor the random search gives a zero-loss solution far "
                                  "from every feature here (ReLU, feature coherence 0.50); whether another one does is "
                                  "not decided")
    assert holds.numbers["loss"] < 1e-20 and re.fullmatch(
        r"mixing construction: a zero-loss solution \(L̃ = [0-9.e+-]+, n_q = 4 > n = 2\) whose decoder columns reach "
        r"\|cos\| ≤ 0\.707 and encoder rows \|cos\| ≤ 0\.707 with any feature \(recovery threshold 0\.9\)", holds.evidence)
    assert fails.corrected_condition is not None and fails.corrected_condition.kind == "necessary"
    assert fails.counterexample["activation"] == "TopK∘ReLU(k=1)" and fails.corrected_condition.counts is None


def test_the_random_search_makes_200_tries_by_default():
    """In R¹ (two features ±1) every unit row has |cos| = 1 with both features, so no try finds rows below τ and
    every try is one draw of a width and one of the candidates: the default budget is 200 tries, then None."""
    calls = {"integers": 0, "normal": 0}

    class Counting:
        def __init__(self, seed):
            self.g = real(seed)

        def integers(self, *a, **k):
            calls["integers"] += 1
            return self.g.integers(*a, **k)

        def normal(self, *a, **k):
            calls["normal"] += 1
            return self.g.normal(*a, **k)

    mp = pytest.MonkeyPatch()
    real = np.random.default_rng
    mp.setattr(c4.np.random, "default_rng", lambda seed=None: Counting(seed) if seed == 3 else real(seed))
    try:
        assert c4.searched_solution(Instance(W_p=np.array([[1.0, -1.0]])), seed=3) is None
    finally:
        mp.undo()
    assert calls == {"integers": 200, "normal": 200}


class _Searches:
    """find_counterexample and search_condition replaced: each returns the result given for its seed (C4's search
    seeds its parts seed + 0 … + 9) and keeps the predicate it was given."""

    def __init__(self, monkeypatch, results: dict, nec: SearchResult, gated: bool):
        self.results, self.nec, self.predicates, self.strategies = results, nec, {}, {}
        monkeypatch.setattr(c4, "find_counterexample", self.find)
        monkeypatch.setattr(c4, "search_condition", self.condition)
        monkeypatch.setattr(c4, "gated_apart", lambda: gated)

    def find(self, strategy, predicate, budget, seed, superposed=None):
        self.predicates[seed] = predicate
        self.strategies[seed] = strategy
        return self.results[seed]

    def condition(self, strategy, predicate, **kw):
        self.predicates[kw["seed"]] = predicate
        self.condition_kw = kw
        return self.nec


def _clean(seed, tried=5):
    return SearchResult(tried=tried, held=tried, budget=30, seed=seed)


K1 = {"activation": "TopK∘ReLU(k=1)", "reason": "one unit on per input", "aligned_solution_decoder_max_abs_cos": [1.0, 1.0],
      "aligned_solution_loss": 0.0, "mixing_attempt_loss": 0.5}
NEC = SearchResult(tried=130, skipped=10, held=120, budget=130, seed=2, superposed_met=40)


def test_the_search_numbers_carry_every_part_and_the_gated_parts(monkeypatch):
    """Gated searched apart, the consequence failing (k = 1): numbers hold each search's summary (and two searches'
    counts) under its own key, the Gated ones too; the corrected condition's counts are the necessity search's plus
    the Gated necessity search's (130 + 6 tried, 120 + 6 held)."""
    found = SearchResult(example="ex", details=dict(K1), tried=4, held=3, budget=30, seed=1)
    r = {0: _clean(0), 1: found, 3: _clean(3, 6), 7: _clean(7), 8: _clean(8, 4), 9: _clean(9, 6)}
    s = _Searches(monkeypatch, r, NEC, gated=True)
    v = c4.search(budget=30, seed=0)
    assert (v.claim, v.title, v.status, v.seed, v.budget) == ("C4", c4.CLAIM.title, "fails", 0, 30)
    fams = v.numbers["families_searched"]
    assert {k: x for k, x in v.numbers.items() if k != "families_searched"} == {
        "characterisation_search": r[0].summary(), "consequence_search": found.summary(),
        "corrected_necessity_search": NEC.summary(), "corrected_necessity_counts": NEC.counts(),
        "corrected_sufficiency_search": r[3].summary(), "corrected_sufficiency_counts": r[3].counts(),
        "gated_characterisation_search": r[7].summary(), "gated_consequence_search": r[8].summary(),
        "gated_consequence_counts": r[8].counts(), "gated_necessity_search": r[9].summary(), "gated_counterexample": None}
    cc = v.corrected_condition
    assert cc.verified and (cc.counts["tried"], cc.counts["held"], cc.counts["met"]) == (136, 126, 126)
    assert cc.evidence.endswith(f"; Gated, necessary part: {r[9].summary()}")
    assert v.evidence.endswith(f" Gated units (tied and untied), searched apart: characterisation {r[7].summary()}; "
                               f"non-identifying zero-loss solutions {r[8].summary()}; corrected condition (necessary "
                               f"part) {r[9].summary()}. Families searched: {c4.describe_families(fams)}.")
    assert v.counterexample["summary"] == ("TopK∘ReLU(k=1) with n = 2 features: a zero-loss solution exists (L̃ = 0) but "
                                           "only one unit is on per input, so its decoder columns are the feature "
                                           "directions (|cos| = 1); the mixing construction reaches only L̃ = 0.5")
    assert sorted(s.predicates) == [0, 1, 2, 3, 7, 8, 9]


@pytest.mark.parametrize("nec_fails, fixed_fails", [(True, False), (False, True), (True, True)])
def test_the_corrected_condition_is_verified_only_when_both_of_its_searches_hold(monkeypatch, nec_fails, fixed_fails):
    """Necessary part (whole space) and sufficient part (independent features): a failure in either one leaves the
    corrected condition unverified."""
    found = SearchResult(example="ex", details=dict(K1), tried=4, held=3, budget=30, seed=1)
    bad = SearchResult(example="ex", details={"instance": "x", "activation": "ReLU", "reason": "r",
                                              "aligned_solution_decoder_max_abs_cos": [1.0]}, tried=6, held=5, budget=30, seed=3)
    nec = SearchResult(example="ex", details={}, tried=130, held=119, budget=130, seed=2) if nec_fails else NEC
    _Searches(monkeypatch, {0: _clean(0), 1: found, 3: bad if fixed_fails else _clean(3)}, nec, gated=False)
    v = c4.search(budget=30, seed=0)
    assert (v.title, v.status) == (c4.CLAIM.title, "fails") and not v.corrected_condition.verified


def test_a_gated_failure_stands_in_for_a_clean_default_search(monkeypatch):
    """Default space clean, Gated part failing: its necessity failure unverifies the corrected condition, its
    consequence failure is the reported one, and a Gated characterisation failure makes the whole claim fail there."""
    g_fail = SearchResult(example="g", details=dict(K1, activation="Gated(untied)"), tried=3, held=2, budget=15, seed=8)
    g_nec = SearchResult(example="g", details={"gated": 1}, tried=6, held=5, budget=15, seed=9)
    r = {0: _clean(0), 1: _clean(1), 3: _clean(3), 7: _clean(7), 8: g_fail, 9: g_nec}
    _Searches(monkeypatch, r, NEC, gated=True)
    v = c4.search(budget=30, seed=0)
    assert v.status == "fails" and v.counterexample["activation"] == "Gated(untied)"
    assert not v.corrected_condition.verified and v.numbers["gated_counterexample"]["activation"] == "Gated(untied)"
    g_char = SearchResult(example="g", details={"instance": "i", "loss": 0.0}, tried=2, held=1, budget=15, seed=7)
    _Searches(monkeypatch, r | {7: g_char, 8: _clean(8), 9: _clean(9)}, NEC, gated=True)
    v = c4.search(budget=30, seed=0)
    assert (v.title, v.status) == (c4.CLAIM.title, "fails") and v.counterexample == {"instance": "i", "loss": 0.0}
    assert v.evidence == f"the characterisation itself fails: {g_char.summary()}" and v.corrected_condition is None


def test_a_search_without_a_failure_says_holds(monkeypatch):
    r = {0: _clean(0), 1: _clean(1, 7), 3: _clean(3)}
    _Searches(monkeypatch, r, NEC, gated=False)
    v = c4.search(budget=30, seed=0)
    fams = v.numbers["families_searched"]
    assert (v.title, v.status, v.counterexample, v.corrected_condition, v.seed, v.budget) == (
        c4.CLAIM.title, "holds", None, None, 0, 30)
    assert v.evidence == (f"L̃ = 0 ⇔ every residual is 0 ({r[0].summary()}); non-identifying zero-loss solutions "
                          f"constructed: {r[1].summary()}. Families searched: {c4.describe_families(fams)}.")


def test_the_search_predicates_decide_hand_instances(monkeypatch):
    """The predicates C4's search hands to its searches, on hand instances: the characterisation holds on a point
    (None) and, with characterisation_holds made to answer False, reports the point's loss and residual norms; the
    consequence holds on orthonormal ReLU (None), fails for k = 1 (its record), is skipped in R¹; the corrected
    condition's necessary part holds where the construction works with σ keeping two units (None), is skipped where
    nothing is found (k = 1), and reports an instance where a solution is found but the condition is not met."""
    r = {i: _clean(i) for i in (0, 1, 3)}
    s = _Searches(monkeypatch, r, NEC, gated=False)
    c4.search(budget=30, seed=0)
    char, cons, nec, fixed = s.predicates[0], s.predicates[1], s.predicates[2], s.predicates[3]
    point = (np.eye(2), np.diag([1.0, 0.0]), None)   # feature 2 lost: L̃ = 1, residual norms (0, 1)
    assert char((ORTHO, point)) is None
    assert cons((ORTHO, point)) is None and fixed((ORTHO, None)) is None
    got = cons((TOP1, point))
    assert got["instance"] == TOP1.to_json() and got["activation"] == "TopK∘ReLU(k=1)" and got["fails"] is True
    assert fixed((TOP1, None)) == SKIP   # k = 1: outside the sufficient part's condition
    assert cons((Instance(W_p=np.array([[1.0, -1.0]])), point)) == SKIP   # in R¹: reported apart
    assert nec((ORTHO, point)) is None and nec((TOP1, point)) == SKIP
    monkeypatch.setattr(c4, "condition_met", lambda inst: False)
    refuted = nec((ORTHO, point))
    assert refuted["instance"] == ORTHO.to_json() and refuted["activation"] == "ReLU" and refuted["loss"] < 1e-20
    monkeypatch.setattr(c4, "characterisation_holds", lambda loss, R: False)
    bad = char((ORTHO, point))
    assert bad["instance"] == ORTHO.to_json() and bad["loss"] == pytest.approx(1.0)
    assert np.allclose(bad["residual_norms"], [0.0, 1.0])
    monkeypatch.setattr(c4, "_consequence", lambda inst, seed=0: UNDECIDED)
    assert cons((ORTHO, point)) == UNDECIDED


def test_the_sufficient_parts_space_draws_families_keeping_two_to_four_units(monkeypatch):
    """The corrected condition's sufficient part is searched over independent features with ReLU, JumpReLU, and TopK /
    BatchTopK / TopK∘ReLU at k = 2, 3, 4 (σ keeping at least two units): 150 draws of the space C4's search hands to
    that search never give k = 1 or k > 4, another family, or superposition."""
    from hypothesis import HealthCheck, given, settings

    s = _Searches(monkeypatch, {i: _clean(i) for i in (0, 1, 3)}, NEC, gated=False)
    c4.search(budget=30, seed=0)
    seen = set()

    @settings(max_examples=150, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(s.strategies[3])
    def draw(example):
        inst, point = example
        assert point is None and inst.n <= inst.n_p
        act = inst.activation
        seen.add((act.name, getattr(act, "k", None)))

    draw()
    assert {name for name, _ in seen} <= {"relu", "jumprelu", "topk", "batchtopk", "topk_relu"}
    assert all(2 <= k <= 4 for _, k in seen if k is not None) and any(k is not None for _, k in seen)


@pytest.mark.parametrize("budget, first", [(30, 100), (250, 250)])
def test_the_necessity_search_starts_with_the_budget_but_at_least_min_met(monkeypatch, budget, first):
    """The corrected condition's necessary part must meet 100 instances (MIN_MET); its first round draws the user's
    budget when that is larger (250), else 100; seeded seed + 2 (here 3 + 2)."""
    s = _Searches(monkeypatch, {i: _clean(i) for i in (3, 4, 6)}, NEC, gated=False)
    c4.search(budget=budget, seed=3)
    kw = s.condition_kw
    assert (kw["seed"], kw["min_met"], kw["first_budget"]) == (5, 100, first)


def test_the_searched_families_say_whether_gated_was_searched_apart(monkeypatch):
    """numbers["families_searched"] lists the default space's families and, when Gated is searched apart, the note
    "gated (tied and untied), searched apart" (and the evidence's last sentence ends with it); without: no such entry."""
    r = {0: _clean(0), 1: _clean(1), 3: _clean(3), 7: _clean(7), 8: _clean(8), 9: _clean(9)}
    _Searches(monkeypatch, r, NEC, gated=True)
    v = c4.search(budget=30, seed=0)
    fams = v.numbers["families_searched"]
    assert fams["apart"] == ["gated (tied and untied), searched apart"] and "gated" not in fams["default_space"]
    assert v.evidence.endswith("; gated (tied and untied), searched apart.")
    _Searches(monkeypatch, r, NEC, gated=False)
    assert "apart" not in c4.search(budget=30, seed=0).numbers["families_searched"]


def test_a_direct_check_has_the_defaults_of_check():
    """check_instance called directly records the seed and budget that proofs_check.check gives by default."""
    from proofs_check import check

    want = check("C4", ORTHO)
    got = c4.check_instance(ORTHO)
    assert (got.seed, got.budget) == (want.seed, want.budget) and got.status == want.status == "holds"
