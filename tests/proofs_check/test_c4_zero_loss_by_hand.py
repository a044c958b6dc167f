"""C4 by hand: a biased point's L̃ and residuals, max_alignment's edge cases (zero columns), and the necessity
predicate where the mixing construction alone finds the witness (the random search stubbed to find none)."""
import numpy as np
import pytest

from proofs_check import c4_zero_loss as c4
from proofs_check.search import SKIP, SearchResult
from theory import Instance
from theory.activations import ReLU


def test_a_point_with_an_encoder_bias_is_evaluated_with_that_bias():
    """ReLU, W_p = I, W_E = W_D = I, b_E = (−2, 0): e1 gives pre-activations (1 − 2, 0) = (−1, 0) → codes (0, 0), so
    e1 is lost (residual 1); e2 gives (−2, 1) → (0, 1) → e2 (residual 0). L̃ = 1·1² + 0 = 1, consistent with the
    characterisation (L̃ > 0 and a residual is non-zero). Without the bias L̃ would be 0."""
    inst = Instance(W_p=np.eye(2), activation=ReLU(), encoder_bias=True)
    v = c4.check_instance(inst, W_D=np.eye(2), W_E=np.eye(2), b_E=[-2.0, 0.0], seed=3, budget=4)
    assert (v.status, v.seed, v.budget, v.counterexample) == ("holds", 3, 4, None)
    assert v.numbers["loss"] == pytest.approx(1.0)
    assert np.allclose(v.numbers["residual_norms"], [1.0, 0.0])
    assert v.evidence == ("L̃ = 1, largest residual ||w_r^d − W_D σ(W_E w_p^d)|| = 1: consistent with the "
                          "characterisation")
    # the decoder and encoder are the features themselves: |cos| = 1 for both, both recovered (τ = 0.9)
    assert np.allclose(v.numbers["decoder_max_abs_cos"], [1.0, 1.0]) and v.numbers["features_recovered_by_decoder"] == 2


def test_max_alignment_ignores_zero_columns_and_is_zero_without_any():
    """Columns (0, 0) and (3, 4): only (3, 4)/5 counts, |cos| 0.6 with e1 and 0.8 with e2; all-zero vectors give 0
    for each of the three features."""
    assert np.allclose(c4.max_alignment(np.array([[0.0, 3.0], [0.0, 4.0]]), np.eye(2)), [0.6, 0.8])
    out = c4.max_alignment(np.zeros((2, 4)), np.array([[1.0, 0.0, 0.6], [0.0, 1.0, 0.8]]))
    assert out.shape == (3,) and np.all(out == 0)


def test_identifiability_numbers_of_a_zero_decoder():
    """W_D = 0, W_E = I on orthonormal ReLU: every reconstruction is 0, L̃ = 1 + 1 = 2; the decoder has no non-zero
    column (|cos| 0, nothing recovered) while the encoder rows are the features (2 recovered)."""
    inst = Instance(W_p=np.eye(2), activation=ReLU())
    n = c4.identifiability_numbers(inst, np.zeros((2, 2)), np.eye(2))
    assert n["loss"] == pytest.approx(2.0) and n["n_q"] == 2
    assert list(n["decoder_max_abs_cos"]) == [0.0, 0.0] and n["features_recovered_by_decoder"] == 0
    assert n["features_recovered_by_encoder"] == 2


def test_necessity_counts_a_construction_witness_even_when_the_search_finds_none(monkeypatch):
    """Orthonormal ReLU: the mixing construction is a zero-loss solution at |cos| = 1/√2 < τ (hand: Q = Hadamard/√2
    entries), so the corrected condition is tested there (σ keeps ≥ 2 units, n_p = n_r = 2: met, None) even with
    the random search made to find nothing; with neither, the instance is skipped."""
    preds = {}
    monkeypatch.setattr(c4, "find_counterexample",
                        lambda strategy, predicate, budget, seed, superposed=None: SearchResult(tried=1, held=1, seed=seed))

    def condition(strategy, predicate, **kw):
        preds["nec"] = predicate
        return SearchResult(tried=1, held=1, seed=kw["seed"])

    monkeypatch.setattr(c4, "search_condition", condition)
    monkeypatch.setattr(c4, "gated_apart", lambda: False)
    monkeypatch.setattr(c4, "searched_solution", lambda inst, seed=0, tries=200: None)
    c4.search(budget=5, seed=0)
    ortho = Instance(W_p=np.eye(2), activation=ReLU())
    point = (np.eye(2), np.eye(2), None)
    assert preds["nec"]((ortho, point)) is None
    monkeypatch.setattr(c4, "construction_applies", lambda inst: False)
    assert preds["nec"]((ortho, point)) == SKIP


def test_the_construction_for_six_features_uses_the_natural_block_order():
    """n = 6 > 5: only the order (0, …, 5) is tried (7 angles). Orthonormal ReLU features: three 2×2 blocks, so
    n_q = 12 and L̃ = 0 (ReLU splits ±Q e_d into its positive and negative parts, W_D puts them back); every entry of
    a block is cos a or sin a with a ∈ [π/16, 7π/16], so every |cos| ≤ cos(π/16) ≈ 0.981 and the best angle, π/4,
    gives 1/√2 ≈ 0.7071 for every learned direction."""
    from theory.objective import approx_loss

    inst = Instance(W_p=np.eye(6), activation=ReLU())
    W_D, W_E, _ = c4.non_identifying_solution(inst)
    assert W_E.shape == (12, 6) and W_D.shape == (6, 12)
    assert approx_loss(inst, W_D, W_E) < 1e-20
    assert np.allclose(c4.max_alignment(W_E.T, inst.W_p), 1 / np.sqrt(2))
    assert np.allclose(c4.max_alignment(W_D, inst.W_r), 1 / np.sqrt(2))


def test_a_superposed_instance_is_decided_by_the_random_search_and_says_so():
    """Three unit features at 120° in R² (ReLU): not linearly independent, so the mixing construction does not
    apply and the witness comes from the random search, which the evidence and numbers name; its width is in the
    documented n + 1 = 4 … 3n + 1 = 10 and it recovers no feature."""
    ang = np.deg2rad([90.0, 210.0, 330.0])
    inst = Instance(W_p=np.vstack([np.cos(ang), np.sin(ang)]), activation=ReLU())
    assert not c4.construction_applies(inst)
    v = c4.check_instance(inst)
    assert v.status == "holds" and v.numbers["method"] == "random search (witness re-evaluated)"
    assert v.evidence.startswith("random search (witness re-evaluated): a zero-loss solution (L̃ = ")
    assert 4 <= v.numbers["n_q"] <= 10 and v.numbers["loss"] <= 1e-10
    assert v.numbers["features_recovered_by_decoder"] == v.numbers["features_recovered_by_encoder"] == 0
