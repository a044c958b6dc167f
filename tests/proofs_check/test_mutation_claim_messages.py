"""proofs_check's refusals and unmet-hypothesis texts, each written here in full; the verdict pieces'
own checks and JSON read back key by key; the user-claim template's four outcomes (issue 12 part 5: the
mutation runs found refusals with no text, hypotheses no test read, and branches no test reached).
Every case is cheap (no search, no training)."""
import json
import re

import numpy as np
import pytest
from hypothesis import strategies as st

import proofs_check
from proofs_check import c1_loss_approximation as c1
from proofs_check import c2_biconvexity as c2
from proofs_check import c3_construction as c3
from proofs_check import c4_zero_loss as c4
from proofs_check import c5_example as c5
from proofs_check import c6_spurious_minima as c6
from proofs_check import c7_absorption as c7
from proofs_check import c8_dead_neurons as c8
from proofs_check import c9_resampling as c9
from proofs_check.claim import Claim, SearchClaim, get_claim, register_claim
from proofs_check.search import SKIP, SearchResult, find_counterexample
from proofs_check.verdict import (CorrectedCondition, Reading, StepCheck, Verdict, margin_note, merged_counts,
                                  to_jsonable, verification_gap, with_part)
from theory.activations import BatchTopK, JumpReLU, ReLU
from theory.distribution import FeatureDistribution, ShiftedExponential, Uniform
from theory.errors import SDLInputError
from theory.instance import Instance

I2 = Instance(W_p=np.eye(2))
I3 = Instance(W_p=np.eye(3))
BT = BatchTopK(k=1)


REFUSALS = [
    (lambda: proofs_check.check("C5", W_E=np.eye(2)), "C5: ['W_E'] apply to a given instance; pass instance=... too"),
    (lambda: proofs_check.check("C5", I2, b_E=[0.0, 0.0], W_E=np.eye(2), W_D=np.eye(2)),
     "b_E given but the instance has encoder_bias=False; use instance.replace(encoder_bias=True)"),
    (lambda: proofs_check.check("C5", I2.replace(encoder_bias=True), b_E=[0.0, 0.0]),
     "b_E given without W_E: the encoder bias belongs to an encoder, pass W_E too"),
    (lambda: proofs_check.check("C9", I2, encoder_scale=0.0), "encoder_scale must be a finite number > 0 and <= 1e+06, got 0.0"),
    (lambda: proofs_check.check("C9", I2, steps=0), "steps (gradient steps) must be a positive integer <= 1000000, got 0"),
    (lambda: proofs_check.check("C3", I2, n_q=0), "n_q (the number of neurons) must be a positive integer <= 10000, got 0"),
    (lambda: proofs_check.check("C5", I2, budget=0), "budget (search examples) must be a positive integer <= 100000, got 0"),
    (lambda: proofs_check.check("C5", I2, seed=-1), "seed must be a non-negative integer <= 9223372036854775807, got -1"),
    (lambda: proofs_check.check("C5", "I2"), "instance must be a theory.Instance (or None for the claim's own search), got 'I2'"),
    (lambda: proofs_check.check("C5", I2, pattern=[{0}]), "C5 takes ['W_D', 'W_E', 'b_E'], not ['pattern']"),
    (lambda: get_claim(5), "a claim is named by a string such as 'C6' (or 'module:Attr'), got 5"),
    (lambda: get_claim("C99"), re.compile(r"unknown claim 'C99'; choose from C1 C2 .* or name your own as module:Attr")),
    (lambda: get_claim("theory.errors:SDLInputError"), "'theory.errors:SDLInputError' does not implement the claim contract: it "
                                                        "needs CLAIM, Options, hypotheses, proof_steps, check_instance and search "
                                                        "(subclass proofs_check.claim.SearchClaim)"),
    (lambda: register_claim(3), "3 does not implement the claim contract (proofs_check.claim.ClaimCheck)"),
    (lambda: find_counterexample(st.just(1), lambda e: None, budget=0, seed=0),
     "the search budget must be a positive number of examples, got 0"),
    (lambda: c1.check_instance(I2, foo=1), "C1 takes W_D, W_E, b_E and p_active, not ['foo']"),
    (lambda: c1.check_instance(Instance(W_p=np.eye(2), distribution=FeatureDistribution.uniform(2, 0.1)), p_active=0.1),
     "give p_active or an instance with a distribution, not both"),
    (lambda: c2.check_instance(I2, foo=1), "C2 takes W_D, W_E, b_E or pattern, not ['foo']"),
    (lambda: c3.check_instance(I2, foo=1), "C3 takes n_q (the number of neurons), not ['foo']"),
    (lambda: c3.construction(I3, 2), "the construction needs n_q >= n = 3 neurons, got n_q = 2"),
    (lambda: c4.check_instance(I2, foo=1), "C4 takes W_D, W_E (and b_E), not ['foo']"),
    (lambda: c4.check_instance(I2, W_D=np.eye(2)), "give both W_D and W_E (or neither, to construct a zero-loss solution)"),
    (lambda: c4.check_instance(I2, W_E=np.eye(2)), "give both W_D and W_E (or neither, to construct a zero-loss solution)"),
    (lambda: c4.non_identifying_solution(Instance(W_p=np.eye(1))),
     "the construction mixes at least two features; n = 1 has none to mix"),
    (lambda: c4.non_identifying_solution(Instance(W_p=np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))),
     "the construction needs linearly independent input features (n = 3 ≤ n_p = 2 and rank n)"),
    (lambda: c5.check_instance(I2, foo=1), "C5 takes W_D, W_E (and b_E), not ['foo']"),
    (lambda: c6.check_instance(I2, foo=1), "C6 takes pattern, W_E (b_E) and W_D, not ['foo']"),
    (lambda: c7.check_instance(I3, foo=1), "C7 takes parents, W_E (b_E), not ['foo']"),
    (lambda: c7.hypotheses(I3, [0, 1]), "parents must be a dict {parent_index: [child_indices]}, e.g. {0: [1, 2]}; got [0, 1]"),
    (lambda: c7.hypotheses(I3, {0: 1}), "parents[0] must be a list of child indices, e.g. [1, 2]; got 1"),
    (lambda: c7.hypotheses(I3, {0: [1, 1]}), "each feature may appear once in the hierarchy (one level: parents and their children)"),
    (lambda: c7.hypotheses(I3, {0: [0, 1]}), "each feature may appear once in the hierarchy (one level: parents and their children)"),
    (lambda: c7.hypotheses(I3, {0: [1, 3]}), "a child of parent 0 must be an integer index, numbered 0..2; got 3"),
    (lambda: c7.hypotheses(I3, {3: [1, 2]}), "a parent index must be an integer index, numbered 0..2; got 3"),
    (lambda: c8.check_instance(I2, foo=1), "C8 takes W_E (b_E) and W_D, not ['foo']"),
    (lambda: c8.support_inputs(Instance(W_p=np.eye(11), distribution=FeatureDistribution.uniform(11, 0.05))),
     "C8 enumerates the 2^n active sets; use n <= 10 (got n = 11)"),
    (lambda: c9.check_instance(I2, foo=1), "C9 takes pattern, encoder_scale, steps, not ['foo']"),
    (lambda: c9.check_instance(Instance(W_p=np.eye(13))), "C9 evaluates the exact loss by enumeration; use n <= 12"),
]


@pytest.mark.parametrize("i", range(len(REFUSALS)))
def test_each_refusal_is_its_whole_one_line_message(i, refuses):
    refuses(*REFUSALS[i])


def test_c7_accepts_its_children_as_a_set_in_sorted_order():
    assert c7._normalise_parents(I3, {0: {2, 1}}) == {0: (1, 2)}
    assert c7._normalise_parents(I3, {np.int64(0): range(1, 3)}) == {0: (1, 2)}


# --- unmet hypotheses, the exact list each claim reports ---------------------------------------------
EXP = ShiftedExponential(1.0, 1.0)
HYPOTHESES = [
    (lambda: c1.hypotheses(I2), ["a feature distribution is needed (pass p_active=..., or Instance(distribution=...))"]),
    (lambda: c1.hypotheses(Instance(W_p=np.eye(2), distribution=FeatureDistribution.uniform(2, 0.6, EXP), activation=BT,
                                    encoder_bias=True)),
     ["p = 1−S = 0.6 > 1/n = 0.5", "magnitudes 1 + Exp(mean 1): unbounded, so C = sup loss is infinite unless every input "
      "is reconstructed exactly", "BatchTopK(k=1) has no per-sample σ, so L and L̃ use different activations",
      "the theorem's model has no encoder bias"]),
    (lambda: c1.hypotheses(Instance(W_p=np.eye(2), distribution=FeatureDistribution.uniform(2, 0.5, Uniform(0.5, 1.0)))), []),
    (lambda: c1.hypotheses(Instance(W_p=np.eye(2), distribution=FeatureDistribution.uniform(2, 0.5 + 1e-13))), []),
    (lambda: c1.hypotheses(Instance(W_p=np.eye(2), distribution=FeatureDistribution.uniform(2, 0.5 + 1e-6))),
     ["p = 1−S = 0.5 > 1/n = 0.5"]),
    (lambda: c2.hypotheses(Instance(W_p=np.eye(2), activation=BT)),
     ["BatchTopK(k=1) has no per-sample σ; L̃ is defined here only with the n single-feature inputs as one batch"]),
    (lambda: c3.hypotheses(I2, 1), ["n_q = 1 < n = 2: the construction needs at least one neuron per feature"]),
    (lambda: c5.hypotheses(I2), ["a point (W_D, W_E) is needed"]),
    (lambda: c5.hypotheses(I2, np.eye(2)), ["a point (W_D, W_E) is needed"]),
    (lambda: c5.hypotheses(Instance(W_p=np.eye(2), activation=BT), np.eye(2), np.eye(2)),
     ["BatchTopK(k=1) has no per-sample σ, so L̃'s region is batch-dependent"]),
    (lambda: c6.hypotheses(Instance(W_p=np.eye(1))), ["n >= 2 features (got n = 1)", "a pattern (one set F_i per neuron) is needed"]),
    (lambda: c6.hypotheses(I3, [{0, 1}]), ["n_q >= n (the pattern has 1 neurons, n = 3)",
                                           "the pattern must partition [n]: features [2] switch on no neuron"]),
    (lambda: c6.hypotheses(I3, [{0, 1}, {1}, set()]),
     ["the pattern must partition [n]: features [2] switch on no neuron; features [1] switch on more than one neuron"]),
    (lambda: c6.hypotheses(I3, [{0}, {1}, {2}]), ["the pattern must be polysemantic (some neuron fires on >= 2 features)"]),
    (lambda: c7.hypotheses(I3), ["a hierarchy parents={parent: [children]} is needed"]),
    (lambda: c7.hypotheses(I3, {0: [1]}), ["parent 0 needs at least two children (got [1])"]),
    (lambda: c7.hypotheses(I3, {}), ["the hierarchy has no parent"]),
    (lambda: c8.hypotheses(I2), ["an encoder W_E with a dead neuron is needed"]),
    (lambda: c8.hypotheses(Instance(W_p=np.eye(11), activation=BT), np.eye(11)),
     ["the encoder has no dead neuron (some F_i = ∅ is needed)", "BatchTopK(k=1) needs an inference threshold to define the "
      "per-sample σ of the exact loss", "n <= 10 (the support is enumerated)"]),
    (lambda: c8.hypotheses(Instance(W_p=np.eye(2), activation=BatchTopK(k=1, threshold=0.5)), np.array([[1.0, 0.0], [-1.0, -1.0]])), []),
    (lambda: c9.hypotheses(Instance(W_p=np.eye(1), activation=BT)),
     ["BatchTopK(k=1) needs an inference threshold for per-sample training", "n >= 2 (a polysemantic start needs two features)"]),
    (lambda: c9.hypotheses(I2, [{0}, {1}]), ["the start pattern needs a dead neuron (resampling acts on dead neurons only)",
                                              "the start pattern must be polysemantic (a spurious partial minimum)"]),
]


@pytest.mark.parametrize("i", range(len(HYPOTHESES)))
def test_each_claim_reports_exactly_its_unmet_hypotheses(i):
    fn, want = HYPOTHESES[i]
    assert fn() == want


def test_unmet_hypotheses_give_a_hypotheses_not_met_verdict_with_the_first_reason_and_no_numbers():
    v = c1.check_instance(I2, seed=4, budget=9)
    assert (v.status, v.evidence, v.seed, v.budget, v.counterexample) == (
        "hypotheses_not_met", "a feature distribution is needed (pass p_active=..., or Instance(distribution=...))", 4, 9, None)
    w = c8.check_instance(Instance(W_p=np.eye(2), activation=BT, distribution=FeatureDistribution.uniform(2, 0.2)),
                          W_E=np.array([[1.0, 0.0], [-1.0, -1.0]]), seed=2, budget=5)
    assert w.status == "hypotheses_not_met" and (w.seed, w.budget) == (2, 5)
    assert w.evidence == "BatchTopK(k=1) needs an inference threshold to define the per-sample σ of the exact loss"


# --- the verdict's own pieces ------------------------------------------------------------------------
def test_a_verdict_refuses_fields_of_the_wrong_kind_where_it_is_built():
    ok = dict(claim="C0", title="t", status="holds", evidence="e")
    Verdict(**ok)
    for bad, text in ((dict(claim=""), "claim must be the claim's id (e.g. 'C6'), got ''"),
                      (dict(status="held"), "status must be one of ('holds', 'fails', 'hypotheses_not_met', 'inconclusive'), "
                                            "got 'held'"),
                      (dict(evidence=3), "evidence must be text, got int"),
                      (dict(counterexample=[1]), "counterexample must be a dict or None, got list"),
                      (dict(corrected_condition="x"), "corrected_condition must be a CorrectedCondition or None, got str"),
                      (dict(steps=("s",)), "steps must be a sequence of StepCheck, got tuple"),
                      (dict(numbers=[]), "numbers must be a dict, got list"),
                      (dict(readings=("r",)), "readings must be a sequence of Reading, got tuple")):
        with pytest.raises(ValueError) as info:
            Verdict(**{**ok, **bad})
        assert str(info.value) == text
    with pytest.raises(ValueError) as info:
        Reading("weak", "s", "maybe", "e")
    assert str(info.value) == "status must be one of ('holds', 'fails', 'hypotheses_not_met', 'inconclusive'), got 'maybe'"
    with pytest.raises(ValueError) as info:
        CorrectedCondition("c", kind="enough")
    assert str(info.value) == "kind must be one of ('sufficient', 'necessary', 'exact'), got 'enough'"


def test_a_verdict_json_names_every_field_and_its_summary_is_its_first_line():
    step = StepCheck("s1", "a = a", True)
    cc = CorrectedCondition("n <= n_p", "n - n_p <= 0", False, "searched", "necessary", {"met": 3})
    r = Reading("weak", "GD can stay", "holds", "it stays", "ReLU")
    v = Verdict("C0", "Title", "fails", "line one\nline two", {"x": np.float64(1.5)}, cc, (step,), {"k": {1, 0}}, 7, 11, (r,))
    j = json.loads(v.dumps())
    assert j == {"claim": "C0", "title": "Title", "status": "fails", "evidence": "line one\nline two",
                 "counterexample": {"x": 1.5},
                 "corrected_condition": {"text": "n <= n_p", "sympy": "n - n_p <= 0", "verified": False,
                                         "evidence": "searched", "kind": "necessary", "counts": {"met": 3}},
                 "steps": [{"name": "s1", "statement": "a = a", "holds": True, "residual": "0", "numeric_witness": None,
                            "note": ""}],
                 "numbers": {"k": [0, 1]}, "seed": 7, "budget": 11,
                 "readings": [{"name": "weak", "statement": "GD can stay", "status": "holds", "evidence": "it stays",
                               "scope": "ReLU"}]}
    assert v.dumps() == json.dumps(v.to_json(), indent=2)
    assert v.summary() == "C0 [fails] line one"
    assert Verdict("C0", "T", "holds", "").summary() == "C0 [holds] "


def test_to_jsonable_converts_every_kind_it_names():
    import sympy as sp

    class WithJson:
        def to_json(self):
            return {"a": np.int64(2)}

    x = sp.Symbol("x")
    out = to_jsonable({1: np.array([1.0, np.inf]), "s": frozenset({3, 1}), "t": (np.bool_(True), None), "e": x**2 + 1,
                       "o": WithJson(), "n": float("nan"), "i": 5, "obj": range(2)})
    assert out["1"] == [1.0, float("inf")] and out["s"] == [1, 3] and out["t"] == [True, None]
    assert out["e"] == "x**2 + 1" and out["o"] == {"a": 2} and np.isnan(out["n"]) and out["i"] == 5
    assert out["obj"] == "range(0, 2)"
    assert type(to_jsonable(np.int64(3))) is int and type(to_jsonable(np.float32(0.5))) is float


def test_corrected_condition_verification_needs_enough_decided_instances_and_superposition():
    full = {"met": 120, "held": 110, "undecided": 10, "superposition_met": 5, "failed": 0}
    assert verification_gap(full) is None
    assert verification_gap(None) == "no search counts"
    assert verification_gap({**full, "failed": 1}) == "the search found a failure"
    assert verification_gap({**full, "met": 99}) == "only 99 instances met it (need 100)"
    assert verification_gap({**full, "least_met_per_part": 40}) == "only 40 instances met it (in its weakest part) (need 100)"
    assert verification_gap({**full, "held": 99}) == ("only 99 of the 120 instances that met it were decided (held); "
                                                      "10 undecided (need 100 decided)")
    assert verification_gap({**full, "superposition_met": 0}) == "no instance with n > n_p (superposition) met it"
    assert verification_gap({**full, "met": 100, "held": 100}) is None
    c = CorrectedCondition("t", verified=True, evidence="ev", counts={**full, "held": 99})
    assert c.verified is False and c.evidence == ("ev [not verified: only 99 of the 120 instances that met it were decided "
                                                  "(held); 10 undecided (need 100 decided)]")
    ok = CorrectedCondition("t", verified=True, evidence="ev", kind="exact", counts=full)
    assert ok.verified is True and ok.evidence == "ev"
    assert ok.label() == "verified, exact; met 120 (n > n_p: 5), held 110, skipped 0, undecided 10"
    assert CorrectedCondition("t").label() == "NOT verified, sufficient; no search counts"
    assert margin_note(0.049) == "smallest distance of a pre-activation from a threshold or tie 0.049, so it flips with the > vs >= convention"
    assert margin_note(0.05) == "smallest distance of a pre-activation from a threshold or tie 0.05"


def test_merged_counts_sum_the_parts_and_keep_the_weakest_part():
    a = SearchResult(tried=10, skipped=2, held=7, undecided=1, superposed_met=3)
    b = SearchResult(tried=5, skipped=0, held=5, superposed_met=None)
    m = merged_counts(a, b)
    assert m == {"met": 13, "held": 12, "skipped": 2, "undecided": 1, "failed": 0, "tried": 15, "superposition_met": 3,
                 "least_met_per_part": 5}
    one = merged_counts(b)
    assert one == {"met": 5, "held": 5, "skipped": 0, "undecided": 0, "failed": 0, "tried": 5, "superposition_met": 0}
    assert with_part(one, a) == {"met": 13, "held": 12, "skipped": 2, "undecided": 1, "failed": 0, "tried": 15,
                                 "superposition_met": 3}


def test_search_result_summaries_give_every_count():
    r = SearchResult(tried=9, skipped=2, held=6, undecided=1, budget=9, seed=3, superposed_met=4)
    assert r.met == 7 and not r.found
    assert r.summary() == ("no failure in 9 examples (seed 3, budget 9): 7 met the hypotheses (4 of them with n > n_p): "
                           "6 held, 1 undecided; 2 were outside them")
    assert r.counts() == {"met": 7, "held": 6, "skipped": 2, "undecided": 1, "failed": 0, "tried": 9, "superposition_met": 4}
    f = SearchResult(example=1, details={}, tried=4, budget=9, seed=3, shrink_calls=5)
    assert f.found and f.summary() == "failure found after 4 examples (seed 3, budget 9); shrunk with 5 more evaluations"
    assert "superposition_met" not in f.counts() and f.counts()["failed"] == 1


# --- the user-claim template, its four outcomes ------------------------------------------------------
class _Small(SearchClaim):
    """Every integer in 0..30 is below LIMIT (a claim of the user's kind, decided by arithmetic)."""

    CLAIM = Claim("U1", "Integers are small", "every drawn integer is below the limit", "test")
    LIMIT = 100

    def space(self):
        return st.integers(0, 30)

    def hypotheses(self, example, **options):
        return [] if example % 2 == 0 else ["the integer must be even"]

    def check(self, example):
        if example % 3 == 0 and example > 0 and self.LIMIT == 0:
            return SKIP
        return None if example < self.LIMIT else {"value": example}


class _Big(_Small):
    LIMIT = 10


class _Undecided(_Small):
    LIMIT = 0

    def hypotheses(self, example, **options):
        return [] if example % 6 == 0 and example > 0 else ["a positive multiple of 6"]


class _BadStep(_Small):
    def proof_steps(self):
        return [StepCheck("ok", "1 = 1", True), StepCheck("wrong", "1 = 2", False, "1")]


def test_a_user_claim_checks_one_instance_with_each_of_its_four_outcomes():
    assert _Small().check_instance(4, seed=1, budget=2).to_json() == Verdict(
        "U1", "Integers are small", "holds", "the check passes on this instance", seed=1, budget=2).to_json()
    v = _Small().check_instance(3)
    assert (v.status, v.evidence) == ("hypotheses_not_met", "the integer must be even")
    w = _Big().check_instance(12, seed=5)
    assert (w.status, w.evidence, w.counterexample, w.numbers, w.seed) == (
        "fails", "the check fails on this instance", {"example": 12, "value": 12}, {"value": 12}, 5)
    u = _Undecided().check_instance(6)
    assert (u.status, u.evidence) == ("inconclusive", "the check could not decide this instance")


def test_a_user_claim_search_holds_fails_at_the_smallest_example_or_is_inconclusive():
    h = _Small().search(budget=20, seed=0)
    assert h.status == "holds" and h.numbers["tried"] == 20
    assert h.numbers["met_and_held"] + h.numbers["skipped_or_undecided"] == 20 and h.numbers["met_and_held"] > 0
    assert h.evidence == h.numbers["search"] and h.evidence.startswith("no failure in 20 examples (seed 0, budget 20)")
    f = _Big().search(budget=30, seed=0)
    assert f.status == "fails" and f.counterexample == {"example": 10, "value": 10}   # 10: the smallest even >= LIMIT
    assert f.evidence.startswith("fails on the minimal example the search found (failure found after ")
    i = _Undecided().search(budget=15, seed=0)
    assert i.status == "inconclusive" and i.numbers["met_and_held"] == 0
    assert i.evidence.startswith("no drawn example met the hypotheses and was decided (no failure in 15 examples")
    assert i.evidence.endswith("): widen the search space")
    b = _BadStep().search(budget=10, seed=0)
    assert (b.status, b.evidence) == ("fails", "symbolic steps that do not follow: ['wrong']")
    assert [s.name for s in b.steps] == ["ok", "wrong"]
    s = type("WithSteps", (_Small,), {"proof_steps": lambda self: [StepCheck("ok", "1 = 1", True)]})().search(budget=10, seed=0)
    assert s.status == "holds" and s.evidence.startswith("all 1 symbolic steps follow; no failure in 10 examples")


# --- the report's one-line pieces ------------------------------------------------------------------
def test_counterexample_summary_by_hand():
    from proofs_check.report import _first_sentence, counterexample_summary

    inst = {"activation": {"name": "jumprelu", "theta": 0.5, "extra": None}, "W_p": [[1.0, 0.0, 0.6], [0.0, 1.0, 0.8]],
            "encoder_bias": True, "W_r": [[1.0]]}
    ce = {"instance": inst, "loss": 0.123456, "count": 3, "flag": True, "name": "x", "gap": np.float64(2.5)}
    assert counterexample_summary(ce) == "jumprelu(theta=0.5); n=3, n_p=2; bias; transcoder; loss=0.1235; count=3; gap=2.5"
    plain = {"instance": {"activation": {"name": "relu"}, "W_p": [[1.0]], "encoder_bias": False, "W_r": None}}
    assert counterexample_summary(plain) == "relu; n=1, n_p=1"
    assert counterexample_summary({"activation": "TopK(k=1)", "a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7}) == \
        "TopK(k=1); a=1; b=2; c=3; d=4; e=5; f=6"                   # at most seven parts
    assert counterexample_summary({"why": "text only"}) == '{"why": "text only"}'
    assert counterexample_summary({}) == "—" and counterexample_summary({"summary": "own"}) == "own"
    assert _first_sentence("One. Two three.", 40) == "One."
    assert _first_sentence("  a   b  ", 40) == "a b"
    assert _first_sentence("word " * 20, 22) == "word word word word …"
    assert _first_sentence("Short. x", 7) == "Short."          # the first sentence fits
    assert _first_sentence("Short. xy", 5) == "…"                # the cut is not inside the limit: shortened


def test_claim_outcome_status_line_and_json():
    from proofs_check.report import ClaimOutcome

    r1, r2 = Reading("weak", "s1", "holds", "e1"), Reading("strong", "s2", "fails", "e2", "TopK")
    v = Verdict("C8", "T", "fails", "ev", readings=(r1, r2))
    o = ClaimOutcome("C8", v, statement="st", paper_ref="ref", ref="C8")
    assert o.status == "fails" and o.status_line == "weak holds; strong fails"
    j = o.to_json()
    assert (j["claim"], j["status"], j["statement"], j["paper_ref"], j["ref"], j["evidence"]) == ("C8", "fails", "st", "ref", "C8", "ev")
    assert [x["name"] for x in j["readings"]] == ["weak", "strong"]
    err = ClaimOutcome("C3", None, error="boom")
    assert err.status == "error" and err.status_line == "error"
    assert err.to_json() == {"claim": "C3", "status": "error", "statement": "", "paper_ref": "", "error": "boom"}
    assert ClaimOutcome("C5", Verdict("C5", "T", "holds", "e")).status_line == "holds"


def test_find_counterexample_counts_skipped_undecided_held_and_superposed_apart():
    from proofs_check.search import UNDECIDED

    def predicate(x):   # x in 0..11: odd skipped, multiples of 4 undecided, the rest held; none fails
        return SKIP if x % 2 else UNDECIDED if x % 4 == 0 else None

    r = find_counterexample(st.sampled_from(range(12)), predicate, budget=30, seed=1, superposed=lambda x: x >= 6)
    # hypothesis stops once the 12 values are exhausted: 6 odd (skipped), 0, 4, 8 undecided, 2, 6, 10 held;
    # of the 6 met, 6, 8 and 10 are "superposed"
    assert not r.found and (r.tried, r.skipped, r.undecided, r.held, r.superposed_met, r.met) == (12, 6, 3, 3, 3, 6)
    with pytest.raises(ValueError) as info:
        find_counterexample(st.just(1), lambda x: "maybe", budget=2, seed=0)
    assert str(info.value) == "a search predicate returns None, SKIP, UNDECIDED or a dict, got 'maybe'"
    f = find_counterexample(st.integers(0, 50), lambda x: {"x": x} if x >= 7 else None, budget=40, seed=0)
    assert f.found and f.example == 7 and f.details == {"x": 7} and f.first_details["x"] >= 7
    assert f.summary().startswith("failure found after ")


def test_report_markdown_prints_readings_corrected_conditions_and_failing_steps():
    from proofs_check.report import ClaimOutcome, markdown

    cc = CorrectedCondition("n <= n_p", "n - n_p <= 0", False, "searched 5", "necessary", {"met": 5, "held": 5})
    step = StepCheck("s2", "a = b", False, "a - b", {"a": 1, "b": 0}, "by hand")
    v = Verdict("C8", "Dead neurons", "fails", "It fails. More text.", {"summary": "one line"}, cc, (step,), {}, 0, 5,
                (Reading("weak", "GD can stay", "holds", "it stays"), Reading("strong", "GD stays", "fails", "it moves", "ReLU, bias")))
    md = markdown([ClaimOutcome("C8", v, statement="plain words", paper_ref="Sec. 4"), ClaimOutcome("C3", None, error="boom")],
                  seed=3, budget=5, figures={})
    lines = md.splitlines()
    assert "| C8 | Sec. 4 | **weak holds; strong fails** | It fails. |" in lines
    assert "| C3 |  | **error** | boom |" in lines
    assert "Summary: 1 error, 1 fails." in lines
    assert "**Weak reading: holds.** GD can stay — it stays" in lines
    assert "**Strong reading: fails.** GD stays — it moves Scope of the failure: ReLU, bias" in lines
    assert "**Counterexample.** one line (full numbers in report.json)" in lines
    assert f"**Corrected condition** ({cc.label()}). n <= n_p" in lines and "In symbols: `n - n_p <= 0`" in lines
    assert "How it was checked: searched 5" in lines
    assert '| s2: a = b | **no** | residual `a - b` ≠ 0 at {"a": 1, "b": 0}; by hand |' in lines
    assert "The check raised an error (a bug in the check or a missing module, not a verdict on the claim):" in lines
    assert "## C3: (could not run)" in lines and "## C8: Dead neurons (Sec. 4)" in lines
    assert "**The claim, in plain words.** plain words" in lines
    assert "rerun `sdl-theory verify C8 C3 --budget 5 --seed 3` to reproduce this file)." in md
