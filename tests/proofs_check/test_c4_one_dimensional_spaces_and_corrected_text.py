"""C4 by hand: the consequence fails in a one-dimensional input space *or* a one-dimensional target space (each
alone, the other two-dimensional), the search's counterexample record for such a failure, and the corrected
condition as a reader sees it (kind, formula, text word for word)."""
import numpy as np

from proofs_check import c4_zero_loss as c4
from theory import Instance
from theory.activations import ReLU

ONE_D = "every encoder row or decoder column is parallel to every feature (|cos| = 1)"


def test_a_one_dimensional_input_space_alone_makes_the_consequence_fail():
    """n_p = 1, n_r = 2 (a transcoder, W_p = (1, −1), W_r = I), ReLU: every non-zero encoder row is a number, so
    its |cos| with w_p^d = ±1 is 1 for both features; the consequence is false, not undecided."""
    inst = Instance(W_p=np.array([[1.0, -1.0]]), W_r=np.eye(2), activation=ReLU())
    out = c4._consequence(inst)
    assert isinstance(out, dict) and out["fails"] is True
    assert (out["n_p"], out["n_r"]) == (1, 2)
    assert out["aligned_solution_decoder_max_abs_cos"].tolist() == [1.0, 1.0]
    assert out["reason"] == f"the input space is one-dimensional, so {ONE_D}"
    v = c4.check_instance(inst, seed=2, budget=3)
    assert (v.status, v.seed, v.budget) == ("fails", 2, 3)
    assert v.evidence == f"non-identifiability fails here: the input space is one-dimensional, so {ONE_D}"
    assert v.counterexample["activation"] == "ReLU" and v.counterexample["n_p"] == 1
    assert v.counterexample["instance"]["W_p"] == [[1.0, -1.0]]


def test_a_one_dimensional_target_space_alone_makes_the_consequence_fail():
    """n_p = 2 (W_p = I: the mixing construction applies), n_r = 1 (W_r = (1, −1)): the constructed zero-loss
    solution's decoder columns are numbers, at |cos| = 1 with w_r^d = ±1, so it is no witness and the consequence
    fails because the target space is one-dimensional."""
    inst = Instance(W_p=np.eye(2), W_r=np.array([[1.0, -1.0]]), activation=ReLU())
    assert c4.construction_applies(inst)
    out = c4._consequence(inst)
    assert isinstance(out, dict) and out["fails"] is True
    assert (out["n_p"], out["n_r"]) == (2, 1)
    assert out["reason"] == f"the target space is one-dimensional, so {ONE_D}"
    v = c4.check_instance(inst)
    assert v.status == "fails"
    assert v.evidence == f"non-identifiability fails here: the target space is one-dimensional, so {ONE_D}"


def test_a_search_failure_without_the_k1_record_is_summarised_by_its_reason(stub_claim_search):
    """The consequence search (stubbed) finds the one-dimensional failure's record (no 'aligned_solution_loss',
    so not the k = 1 exception): its summary is '<activation>: <reason>', and the evidence names it."""
    from proofs_check.search import SearchResult

    reason = f"the input space is one-dimensional, so {ONE_D}"
    details = {"instance": {"W_p": [[1.0, -1.0]]}, "activation": "ReLU", "n_p": 1, "n_r": 2,
               "aligned_solution_decoder_max_abs_cos": [1.0, 1.0], "reason": reason, "fails": True}
    found = SearchResult(example="ex", details=details, tried=2, held=1, budget=10, seed=1)
    results = {0: SearchResult(tried=10, held=10, budget=10, seed=0), 1: found,
               3: SearchResult(tried=10, held=10, budget=10, seed=3)}
    stub_claim_search(c4, results, SearchResult(tried=120, held=120, budget=120, seed=2))
    v = c4.search(budget=10, seed=0)
    assert v.status == "fails"
    assert v.counterexample["summary"] == f"ReLU: {reason}"
    assert set(v.counterexample) == {"instance", "activation", "n_p", "n_r", "aligned_solution_decoder_max_abs_cos",
                                     "reason", "fails", "summary"}
    assert v.evidence.startswith(f"The non-identifiability consequence fails for ReLU: {reason} (minimal example n = 2; ")


def test_the_corrected_condition_reads_as_a_necessary_condition_with_its_formula():
    cc = c4._corrected()
    assert cc.kind == "necessary" and cc.verified is False
    assert cc.sympy == "Implies(Eq(k, 1) | Eq(n_p, 1) | Eq(n_r, 1), Not(non_identifiable))"
    assert cc.text == (
        "The characterisation holds for every σ. Necessary for the non-identifiability consequence: σ keeps at least "
        "two units per input (ReLU, JumpReLU any θ, TopK / TopK∘ReLU / BatchTopK with k ≥ 2; with k = 1 every "
        "zero-loss decoder contains every target feature direction, only the encoder stays non-identifiable) and the "
        "input and target spaces have dimension ≥ 2 (in R¹ every direction is a feature's). Sufficient: that and "
        "linearly independent input features (the mixing construction). Linearly independent features are NOT "
        "necessary: with n > n_p (superposition) zero-loss solutions far from every feature exist too (found and "
        "re-evaluated by search; instances where none was found are undecided).")
