"""C5 (Example 3.5) by hand: check_instance's numbers and verdict fields at points whose L̃, gradients and Hessian
eigenvalues are computed below in comments; search()'s branches and its perturbations, each by a spy.

Throughout: two orthonormal features e1, e2 of weight 1 (W_p = W_r = I), so L̃ = Σ_d ||e_d − W_D a_d||² with
a_d = Top-1∘ReLU(W_E e_d); on a fixed region with neuron 1 active on both features, L̃ is the polynomial
Σ_d ||e_d − D₀ (E₀·e_d)||² (D₀ the first decoder column, E₀ the first encoder row), whence
∂L̃/∂W_D = −2 Σ_d r_d a_dᵀ, ∂L̃/∂E₀ = −2 Σ_d (r_dᵀ D₀) e_dᵀ (r_d the residual), H_DD = 2 Σ_d a_d a_dᵀ ⊗ I and
H_E₀E₀ = 2 ||D₀||² Σ_d e_d e_dᵀ.
"""
import numpy as np
import pytest
import sympy as sp

from proofs_check import c5_example as c5
from proofs_check.search import SearchResult
from proofs_check.verdict import StepCheck, Verdict


def test_a_non_stationary_point_fails_with_its_numbers_by_hand():
    """W_D = [[1,0],[0,0]], W_E = [[1,1],[0,0]]: a = e1 for both features. r_1 = e1 − e1 = 0, r_2 = e2 − e1 = (−1, 1):
    L̃ = 0 + 2 = 2. ∂L̃/∂W_D = −2 (−1, 1)(1, 0)ᵀ = [[2, 0], [−2, 0]]: max 2. ∂L̃/∂E₀ = −2 (r_2·D₀) e2ᵀ = −2(−1) e2ᵀ
    = (0, 2): max 2. H_DD = 2·2 on D₀'s two entries, 0 on D₁'s: min 0. H_EE = 2·1·I on E₀, 0 on E₁: min 0."""
    W_D, W_E = np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [0.0, 0.0]])
    v = c5.check_instance(c5.EXAMPLE, W_D=W_D, W_E=W_E, seed=4, budget=9)
    assert (v.claim, v.status, v.seed, v.budget, v.steps, v.corrected_condition) == ("C5", "fails", 4, 9, (), None)
    n = v.numbers
    assert (n["pattern"], n["loss"], n["loss_exact"]) == ([[0, 1], []], 2.0, "2")
    assert (n["max_abs_grad_W_D"], n["max_abs_grad_W_E"]) == (2.0, 2.0)
    assert n["min_eig_hessian_W_D"] == pytest.approx(0.0, abs=1e-12)
    assert n["min_eig_hessian_W_E"] == pytest.approx(0.0, abs=1e-12)
    assert n["partial_minimum_certificate"] is False   # the decoder gradient is not 0
    assert v.evidence == ("at pattern ({0,1}, ∅) (point strictly inside its region): gradients do not vanish "
                          "(max |∂L̃/∂W_D| = 2, max |∂L̃/∂W_E| = 2)")
    ce = v.counterexample
    assert np.array_equal(ce["W_D"], W_D) and np.array_equal(ce["W_E"], W_E)
    assert ce["instance"] == c5.EXAMPLE.to_json()
    assert {k: ce[k] for k in n} == n


def test_a_one_neuron_stationary_point_holds_with_hessian_eigenvalues_by_hand():
    """W_E = [[1, 1]], W_D = [[1/2], [1/2]] (one neuron; not the example, whose W_E is 2×2): a = 1 on both features,
    r_1 = (1/2, −1/2), r_2 = (−1/2, 1/2): L̃ = 1/2 + 1/2 = 1. ∂L̃/∂W_D = −2 (r_1 + r_2) = 0; r_d·D₀ = 1/4 − 1/4 = 0, so
    ∂L̃/∂W_E = 0. H_DD = 2·2·I₂: min 4; H_EE = 2·(1/4 + 1/4)·I₂ = I₂: min 1."""
    v = c5.check_instance(c5.EXAMPLE, W_D=np.array([[0.5], [0.5]]), W_E=np.array([[1.0, 1.0]]), seed=2, budget=6)
    assert (v.status, v.seed, v.budget, v.counterexample) == ("holds", 2, 6, None)
    n = v.numbers
    assert (n["pattern"], n["loss"], n["loss_exact"], n["max_abs_grad_W_D"], n["max_abs_grad_W_E"]) == (
        [[0, 1]], 1.0, "1", 0.0, 0.0)
    assert n["min_eig_hessian_W_D"] == pytest.approx(4.0) and n["min_eig_hessian_W_E"] == pytest.approx(1.0)
    assert n["partial_minimum_certificate"] is True
    assert v.evidence.startswith("both gradients vanish exactly (max |∂L̃/∂W_D| = 0, max |∂L̃/∂W_E| = 0) at pattern "
                                 "({0,1}) (point strictly inside its region); L̃ = 1; Hessian blocks PSD (min "
                                 "eigenvalues 4, 1), so with the convex region this is a partial minimum (confirmed")


def test_the_example_itself_keeps_seed_and_budget():
    v = c5.check_instance(c5.EXAMPLE, seed=7, budget=13)
    assert (v.status, v.seed, v.budget) == ("holds", 7, 13)


def test_check_instance_compares_the_example_loss_with_the_claimed_value(monkeypatch):
    """With the paper's value planted as 1/2, the example point itself (L̃ = 1/2 + 1/2 = 1 by hand, the module
    docstring's arithmetic) must fail in check_instance, not only in the symbolic steps; a non-example point is not
    compared with it (the one-neuron point above, L̃ = 1, still holds)."""
    monkeypatch.setattr(c5, "CLAIMED_LOSS", sp.Rational(1, 2))
    v = c5.check_instance(c5.EXAMPLE)
    assert v.status == "fails"
    assert v.evidence == "at pattern ({0,1}, ∅) (point strictly inside its region): L̃ = 1, not the claimed 1/2"
    assert v.counterexample["loss_exact"] == "1"
    w = c5.check_instance(c5.EXAMPLE, W_D=np.array([[0.5], [0.5]]), W_E=np.array([[1.0, 1.0]]))
    assert w.status == "holds"


def test_exact_analysis_with_an_encoder_bias_defaults_to_a_zero_bias():
    """b_E omitted on an instance with an encoder bias means b_E = 0: the same L̃ = 1 and zero gradients (the bias
    gradient −2 Σ_d r_d·D₀ = 0 too, as in the one-neuron arithmetic: r_1 + r_2 = 0)."""
    inst = c5.EXAMPLE.replace(encoder_bias=True)
    a = c5._exact_analysis(inst, c5.EXAMPLE_W_D, c5.EXAMPLE_W_E)
    assert a["loss"] == 1
    assert all(x == 0 for x in a["grad_D"]) and all(x == 0 for x in a["grad_E"])
    assert len(a["grad_E"]) == 6   # 4 encoder entries + 2 bias entries


def test_search_fails_when_a_symbolic_step_fails_even_if_the_point_holds(monkeypatch):
    bad = StepCheck("planted", "a step that does not follow", False, "1")
    monkeypatch.setattr(c5, "proof_steps", lambda: [bad])
    v = c5.search(budget=5, seed=1)
    assert (v.status, v.seed, v.budget) == ("fails", 1, 5)
    assert v.evidence == "symbolic steps that do not follow: ['planted']"
    assert v.counterexample is None


def test_search_fails_when_the_point_fails_even_if_every_step_follows(monkeypatch):
    base = Verdict("C5", c5.CLAIM.title, "fails", "planted base failure", {"planted": True})
    monkeypatch.setattr(c5, "check_instance", lambda instance, seed, budget: base)
    v = c5.search(budget=5, seed=1)
    assert (v.status, v.evidence, v.counterexample) == ("fails", "planted base failure", {"planted": True})


def test_search_perturbs_each_part_the_strategy_names(monkeypatch):
    """The search's examples name 'decoder', 'encoder' and 'both' (40 examples: each appears), nothing else."""
    seen = []
    real = c5._perturbation

    def spy(s, scale, which):
        seen.append(which)
        return real(s, scale, which)

    monkeypatch.setattr(c5, "_perturbation", spy)
    assert c5.search(budget=40, seed=0).status == "holds"
    assert set(seen) == {"decoder", "encoder", "both"}


def test_perturbation_moves_exactly_the_named_parts():
    """scale 1e-3 keeps W_E inside the example's region (neuron 1's pre-activations 1 ± O(1e-3) beat neuron 2's
    O(1e-3)); 'both' moves both matrices, each by at most a few 1e-3."""
    for s in range(5):
        W_D, W_E = c5._perturbation(s, 1e-3, "both")
        assert not np.array_equal(W_D, c5.EXAMPLE_W_D) and not np.array_equal(W_E, c5.EXAMPLE_W_E)
        assert np.abs(W_D - c5.EXAMPLE_W_D).max() < 1e-2 and np.abs(W_E - c5.EXAMPLE_W_E).max() < 1e-2
        W_D, W_E = c5._perturbation(s, 1e-3, "decoder")
        assert not np.array_equal(W_D, c5.EXAMPLE_W_D) and np.array_equal(W_E, c5.EXAMPLE_W_E)


def test_search_displacement_is_of_the_points_it_evaluated(monkeypatch):
    """A search whose only example moves the decoder by 1e-3 × a standard normal draw reports a displacement below
    1e-2 (W_E minus the example's W_D would be ≥ 1: entry (0, 1) is 1 − 0)."""
    def one_example(strategy, predicate, budget, seed):
        assert predicate((5, 1e-3, "decoder")) is None   # L̃ ≥ 1 on the region (Eckart–Young): no lower point
        return SearchResult(tried=1, held=1, budget=budget, seed=seed)

    monkeypatch.setattr(c5, "find_counterexample", one_example)
    v = c5.search(budget=3, seed=2)
    assert v.status == "holds"
    d = v.numbers["search_max_displacement"]
    W_D, _ = c5._perturbation(5, 1e-3, "decoder")
    assert d == pytest.approx(np.abs(W_D - c5.EXAMPLE_W_D).max()) and 0 < d < 1e-2


def test_a_lower_point_is_reported_with_both_matrices(monkeypatch):
    """With the claimed value planted at 2, every in-region point (L̃ ≥ 1, Eckart–Young) is 'lower': the predicate
    returns the perturbed point itself, W_D and W_E under their names, with its L̃ and the part moved."""
    got = {}

    def one_example(strategy, predicate, budget, seed):
        got["out"] = predicate((5, 1e-3, "both"))
        return SearchResult(tried=1, held=0, budget=budget, seed=seed)

    monkeypatch.setattr(c5, "CLAIMED_LOSS", sp.Integer(2))
    monkeypatch.setattr(c5, "find_counterexample", one_example)
    c5.search(budget=3, seed=2)
    W_D, W_E = c5._perturbation(5, 1e-3, "both")
    out = got["out"]
    assert sorted(out) == ["W_D", "W_E", "loss", "moved"] and out["moved"] == "both"
    assert np.array_equal(out["W_D"], W_D) and np.array_equal(out["W_E"], W_E)
    assert 1.0 <= out["loss"] < 1.01   # within 1e-3 of the example's L̃ = 1, never below the region's minimum 1
