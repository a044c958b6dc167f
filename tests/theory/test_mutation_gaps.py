"""Real gaps the mutation run found in theory/ and proofs_check/ (results/mutation/README.md), each
closed by a check against hand-written values."""
import numpy as np
import pytest

from proofs_check import c2_biconvexity as c2
from proofs_check import c5_example as c5
from theory.absorption_curve import Hierarchy, exact_objective
from theory.activations import ReLU
from theory.distribution import ShiftedExponential
from theory.errors import SDLInputError
from theory.instance import Instance


def test_hierarchy_json_names_every_field():
    h = Hierarchy(n_children=2, p_alone=0.25)
    out = h.to_json()
    assert set(out) == {"n_children", "parent_law", "child_law", "p_alone", "W_p", "W_r"}
    assert out["W_p"] == np.eye(3).tolist() and out["W_r"] is None and out["p_alone"] == 0.25


def test_a_negative_penalty_is_one_clear_error():
    h = Hierarchy()
    with pytest.raises(SDLInputError, match="λ must be >= 0, got -1"):
        exact_objective(h, np.eye(3), np.eye(3), -1.0)


def test_shifted_exponential_refuses_a_huge_minimum():
    with pytest.raises(SDLInputError, match="c_min"):
        ShiftedExponential(c_min=1e13, beta=1.0)


def test_c5_perturbations_move_the_blocks_they_name():
    for which, enc, dec in (("encoder", True, False), ("decoder", False, True), ("both", True, True)):
        point = c5._perturbation(3, 1e-3, which)
        assert point is not None
        W_D, W_E = point
        assert (not np.array_equal(W_E, c5.EXAMPLE_W_E)) == enc and (not np.array_equal(W_D, c5.EXAMPLE_W_D)) == dec


def test_c2_check_instance_records_its_seed_and_budget():
    v = c2.check_instance(Instance(W_p=np.eye(2), activation=ReLU()), seed=3, budget=7)
    assert (v.seed, v.budget) == (3, 7)


def test_c1_data_margin_measures_the_data_inputs_not_only_unit_features():
    from proofs_check.c1_loss_approximation import data_margin
    from theory.activations import JumpReLU
    from theory.distribution import Constant, FeatureDistribution

    # JumpReLU θ = 0.5, W_E = I: unit features sit 0.5 above θ, but the data's inputs 0.5·e_d sit exactly on it
    inst = Instance(W_p=np.eye(2), activation=JumpReLU(theta=0.5),
                    distribution=FeatureDistribution(np.full(2, 0.1), Constant(0.5)))
    assert data_margin(inst, np.eye(2)) == pytest.approx(0.0, abs=1e-9)
    unit = Instance(W_p=np.eye(2), activation=JumpReLU(theta=0.5),
                    distribution=FeatureDistribution(np.full(2, 0.1), Constant(1.0)))
    assert data_margin(unit, np.eye(2)) == pytest.approx(0.5, abs=1e-6)


def test_merged_start_rows_and_decoders_by_hand():
    from theory.absorption_curve import merged_start

    # W_p = I (parent e0, children e1, e2), child 1 merged, γ = 0.5; laws c_min + Exp(1) with c_min = 1:
    # μ1 = 2, μ2 = 1 + 2 + 2 = 5, so κ = μ1_P μ1_C / μ2_C = 0.8
    W_E, W_D = merged_start(Hierarchy(n_children=2), m=1, gamma=0.5)
    np.testing.assert_allclose(W_E, [[1.0, 1.0, -0.5], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], atol=1e-12)
    np.testing.assert_allclose(W_D, [[1.0, 0.0, 0.8], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]], atol=1e-12)
    # the merged child's own latent is off whenever the parent is on (every event of the hierarchy)
    x = np.array([1.5, 2.0, 0.0])  # parent and child 1
    assert (W_E @ x)[1] < 0 and (W_E @ np.array([1.0, 0.0, 0.0]))[1] < 0


def test_live_latents_without_parent_alone_events():
    from theory.absorption_curve import _live, flat_directions

    # four latents reading p, c1, c2 and −p (never on) of a hierarchy whose parent never appears alone
    h = Hierarchy(n_children=2, p_alone=0.0)
    W_E = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [-1.0, 0, 0]])
    W_D = np.zeros((3, 4))
    assert _live(h, W_E, "relu", None).tolist() == [True, True, True, False]
    exact, one_sided = flat_directions(h, W_E, W_D)
    # live: one rescaling each (3); latents 1 and 2 are off on the other child's events (2 one-sided);
    # the dead latent: each of its 3 encoder and 3 decoder entries
    assert (len(exact), len(one_sided)) == (3 + 6, 2)


def test_a_minimum_at_a_kink_is_classified_with_its_transversal_derivatives():
    from theory.absorption_curve import _kinks, classify, exact_objective, family_start, polish, transversal_derivatives
    from theory.distribution import ShiftedExponential as SE

    h = Hierarchy(1, SE(1.0, 1.0), SE(1.0, 1.0), 0.2)
    W_E, W_D, _, grad_norm, kinks = polish(h, *family_start(h, (0.0,)), 1.0)
    assert grad_norm < 1e-8 and not kinks
    # a third latent reading −c (off on every event) with reading exactly 0 of the parent: a kink; its decoder −p
    # makes switching it on (a positive reading of p: it fires on parent-alone events) cost loss
    W_E3, W_D3 = np.vstack([W_E, [0.0, -1.0]]), np.hstack([W_D, [[-1.0], [0.0]]])
    assert _kinks(h, W_E3) == [(2, 0)]
    base = exact_objective(h, W_E3, W_D3, 1.0, gradient=False)[0]
    up, down = W_E3.copy(), W_E3.copy()
    up[2, 0], down[2, 0] = 1e-4, -1e-4
    rise = (exact_objective(h, up, W_D3, 1.0, gradient=False)[0] - base) / 1e-4   # the loss, evaluated directly
    assert rise > 0.5 and exact_objective(h, down, W_D3, 1.0, gradient=False)[0] == pytest.approx(base, abs=1e-14)
    trans = transversal_derivatives(h, W_E3, W_D3, 1.0, [(2, 0)])
    assert trans[0] == pytest.approx(rise, rel=1e-2) and trans[1] is None  # +e_p direction rises, −e_p is flat
    assert classify(h, W_E3, W_D3, 1.0, kinks=[(2, 0)])[0] == "minimum"


def test_searched_families_apply_their_filters():
    from theory.strategies import searched_families

    # BatchTopK couples the samples of a batch (not per-sample); JumpReLU's threshold makes it not homogeneous
    assert {"batchtopk", "jumprelu"} <= set(searched_families())
    assert "batchtopk" not in searched_families(per_sample=True)
    assert set(searched_families(per_sample=True, homogeneous=True)) == {"relu", "topk", "topk_relu"}


def test_feature_probabilities_may_be_zero_or_one_but_not_outside():
    from theory.distribution import Constant, FeatureDistribution

    d = FeatureDistribution(np.array([0.0, 1.0, 0.25]), Constant(1.0))   # the ends of [0, 1] are probabilities
    assert d.p_active.tolist() == [0.0, 1.0, 0.25]
    for bad in ([-0.01, 0.5], [0.5, 1.01]):
        with pytest.raises(SDLInputError, match=r"must lie in \[0, 1\]"):
            FeatureDistribution(np.array(bad), Constant(1.0))


def test_exact_method_names_its_limits():
    from theory.activations import ReLU
    from theory.distribution import FeatureDistribution
    from theory.objective import exact_loss

    inst = Instance(W_p=np.eye(2), activation=ReLU(),
                    distribution=FeatureDistribution(np.full(2, 0.1), ShiftedExponential(1.0, 1.0)))
    with pytest.raises(SDLInputError, match="method='exact' needs constant magnitudes and n <= 20"):
        exact_loss(inst, np.eye(2), np.eye(2), method="exact")


def test_a_huge_entry_is_named_with_its_magnitude():
    with pytest.raises(SDLInputError, match=r"W_p has an entry of magnitude 1e\+13; entries must satisfy"):
        Instance(W_p=np.array([[1e13, 0.0], [0.0, 1.0]]))


def test_a_confidence_of_one_is_refused():
    from theory.objective import exact_loss

    inst = Instance(W_p=np.eye(2), activation=ReLU())
    for c in (0.0, 1.0):
        with pytest.raises(SDLInputError, match="confidence"):
            exact_loss(inst, np.eye(2), np.eye(2), confidence=c)


def test_absorbed_start_rows_and_decoders_by_hand():
    from theory.absorption_curve import absorbed_start

    # W_p = I; the parent latent off on every event (row −p), child j reading c_j + 0.5 p and decoding κ p + c_j,
    # κ = μ1_P μ1_C / μ2_C = 2 · 2 / 5 (c_min + Exp(1) with c_min = 1)
    W_E, W_D = absorbed_start(Hierarchy(n_children=2), reading=0.5)
    np.testing.assert_allclose(W_E, [[-1.0, 0.0, 0.0], [0.5, 1.0, 0.0], [0.5, 0.0, 1.0]], atol=1e-12)
    np.testing.assert_allclose(W_D, [[1.0, 0.8, 0.8], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], atol=1e-12)


def test_topk_mask_with_nan_rows_by_hand():
    from theory.activations.base import topk_mask

    # NaN orders last (a stable sort of −Z): row 0's largest is 2 (index 2), row 1's is 3 (index 0)
    Z = np.array([[np.nan, 1.0, 2.0], [3.0, np.nan, 1.0]])
    assert topk_mask(Z, 1).tolist() == [[False, False, True], [True, False, False]]
    assert topk_mask(Z, 2).tolist() == [[False, True, True], [True, False, True]]


# --- survivors of the 14:00 measurement (results/mutation/README.md), each against a hand value ---------------

def test_a_pattern_stores_its_sets_normalised():
    from theory.patterns import ActivationPattern

    P = ActivationPattern([[2, 0, 2], (), {1}], 3)   # lists with repeats, a tuple, a set: one frozenset each
    assert P.firing == (frozenset({0, 2}), frozenset(), frozenset({1}))
    assert all(type(F) is frozenset for F in P.firing)


def test_derived_sweep_axes_skip_a_non_numeric_field_anywhere():
    from dataclasses import dataclass

    from theory import registry
    from theory.activations import TopKReLU

    @dataclass(frozen=True)
    class Hyper:
        name: str = "x"        # not a knob, and before the knobs
        flag: bool = False     # not a knob
        k: int = 4             # 2, 4, 8
        coeff: float = 0.5     # 0.05, 0.5, 5

    fam = registry.Family("derived_sweep_order_demo", TopKReLU, hyperparameters=Hyper)
    assert fam.sweep_axes() == {"k": (2, 4, 8), "coeff": (0.05, 0.5, 5.0)}


def test_sparse_gradient_path_gives_the_hand_bias_gradient():
    """n = n_q = 1000 (the codes a sparse matrix): ReLU, W_p = W_E = W_D = I, b = −½: feature d fires unit d alone at
    ½, its residual is ½ e_d, so ∂L̃/∂b_i = −2 M_i · ½ = −M_i, ∂L̃/∂W_E = −M_i on the diagonal (0 elsewhere) and
    ∂L̃/∂W_D = −M_i / 2 on the diagonal."""
    from theory.derivation import gradients
    from theory.objective import sparse_if_sparse

    n = 1000
    M = np.linspace(0.5, 1.5, n)
    inst = Instance(W_p=np.eye(n), weights=M, activation=ReLU(), encoder_bias=True)
    codes = np.maximum(np.eye(n) - 0.5, 0.0)
    assert sparse_if_sparse(codes) is not codes   # this size takes the sparse branch
    g = gradients(inst, np.eye(n), np.eye(n), np.full(n, -0.5), method="vectorized")
    assert np.allclose(g.b_E, -M, atol=1e-12)
    assert np.allclose(np.diag(g.W_E), -M, atol=1e-12) and np.count_nonzero(g.W_E - np.diag(np.diag(g.W_E))) == 0
    assert np.allclose(np.diag(g.W_D), -M / 2, atol=1e-12)   # −2 M_d r_d s_dᵀ = −2 M_d · ½ · ½


def test_near_equal_large_eigenvalues_form_one_group():
    """W_p = W_r = I, weights M: on F = {0, 1} (P = Bᵀ M² B, Q = Bᵀ M B) the generalised eigenvalues are the M_d,
    here 100 and 100 (1 + 1e-9), equal to the relative tolerance 1e-8: one eigenspace, of dimension 2."""
    from theory.partial_optimum import neuron_eigenspaces

    es = neuron_eigenspaces(Instance(W_p=np.eye(2), weights=[100.0, 100.0 * (1 + 1e-9)], activation=ReLU()), 0, {0, 1})
    assert len(es.eigenvalues) == 1 and es.eigenvalues[0] == pytest.approx(100.0, rel=1e-8)
    assert es.eigenspaces[0].shape == (2, 2)
    apart = neuron_eigenspaces(Instance(W_p=np.eye(2), weights=[100.0, 121.0], activation=ReLU()), 0, {0, 1})
    assert apart.eigenvalues == pytest.approx((100.0, 121.0), rel=1e-9)


def test_polish_where_newton_never_converges_and_no_kink_is_found():
    from theory.absorption_curve import family_start, gradient_fd, polish

    h = Hierarchy(1, ShiftedExponential(1.0, 1.0), ShiftedExponential(1.0, 1.0), 0.2)
    W_E0, W_D0 = family_start(h, (0.3,))
    start = exact_objective(h, W_E0, W_D0, 1.0, gradient=False)[0]
    W_E, W_D, loss, grad_norm, kinks = polish(h, W_E0, W_D0, 1.0, gtol=0.0)   # gtol 0: never "converged"
    assert kinks == [] and W_E.shape == W_E0.shape and W_D.shape == W_D0.shape
    assert loss == pytest.approx(exact_objective(h, W_E, W_D, 1.0, gradient=False)[0], rel=1e-12) and loss < start
    assert grad_norm == pytest.approx(np.linalg.norm(gradient_fd(h, W_E, W_D, 1.0)), abs=1e-5)


def test_transversal_derivatives_of_a_topk_loss_use_its_k():
    from theory.absorption_curve import family_start, polish, transversal_derivatives

    h = Hierarchy(1, ShiftedExponential(1.0, 1.0), ShiftedExponential(1.0, 1.0), 0.2)
    W_E, W_D, *_ = polish(h, *family_start(h, (0.0,)), 1.0)
    W_E3, W_D3 = np.vstack([W_E, [0.0, -1.0]]), np.hstack([W_D, [[-1.0], [0.0]]])
    kw = dict(activation="topk_relu", k=2)
    base = exact_objective(h, W_E3, W_D3, 1.0, gradient=False, **kw)[0]
    up = W_E3.copy()
    up[2, 0] = 1e-4
    rise = (exact_objective(h, up, W_D3, 1.0, gradient=False, **kw)[0] - base) / 1e-4   # evaluated directly
    trans = transversal_derivatives(h, W_E3, W_D3, 1.0, [(2, 0)], **kw)
    assert trans[0] == pytest.approx(rise, rel=1e-2) and trans[1] is None


def test_a_stationary_partial_minimum_with_a_small_margin_is_found():
    """JumpReLU θ = 0.17, features 0 and 1 nearly parallel (cos 0.98) in R²: neuron 0 on {0, 1} and off on feature 2
    leaves its pre-activations a margin well below 1 from θ (a margin LP that demands more finds nothing). The one
    partial minimum is re-checked by hand: its pattern with the activation's own evaluation, and L̃ with the weighted
    least-squares decoder solved here."""
    from theory.activations import JumpReLU
    from theory.instance import normalize_columns
    from theory.partial_optimum import stationary_partial_minima

    act = JumpReLU(theta=0.17)
    M = np.array([1.75, 0.52, 1.05])
    inst = Instance(W_p=normalize_columns(np.array([[0.664, 0.799, 0.719], [0.748, 0.602, -0.695]])), weights=M,
                    activation=act)
    found = stationary_partial_minima(inst, [{0, 1}, {2}]).found
    assert len(found) == 1
    p = found[0]
    Z = inst.W_p.T @ p.W_E.T                       # feature × neuron pre-activations
    X = act.evaluate(Z)
    assert [set(np.flatnonzero(X[:, i])) for i in range(2)] == [{0, 1}, {2}]
    assert 0 < np.abs(Z - 0.17).min() < 1
    sq = np.sqrt(M)[:, None]
    D = np.linalg.lstsq(sq * X, sq * inst.W_r.T, rcond=None)[0].T
    loss = float(np.sum(M * np.sum((inst.W_r.T - X @ D.T) ** 2, axis=1)))
    assert p.loss == pytest.approx(loss, rel=1e-9) and loss > 1e-3


def test_polish_on_a_kink_keeps_the_pinned_latent_off():
    """gtol 0: Newton never "converges" in the full space, so polish solves on the kink it finds (the third latent
    reading exactly 0 of the parent, off on every event). That latent adds nothing to L, so the loss is the
    two-latent minimum's, and its row stays pinned."""
    from theory.absorption_curve import family_start, polish

    h = Hierarchy(1, ShiftedExponential(1.0, 1.0), ShiftedExponential(1.0, 1.0), 0.2)
    W_E, W_D, loss2, *_ = polish(h, *family_start(h, (0.0,)), 1.0)
    W_E3, W_D3 = np.vstack([W_E, [0.0, -1.0]]), np.hstack([W_D, [[-1.0], [0.0]]])
    E, D, loss, _, kinks = polish(h, W_E3, W_D3, 1.0, gtol=0.0)
    assert kinks == [(2, 0)] and E.shape == (3, 2) and D.shape == (2, 3)
    assert E[2, 0] == 0.0 and E[2, 1] < 0
    assert loss == pytest.approx(loss2, rel=1e-9)
    assert exact_objective(h, E, D, 1.0, gradient=False)[0] == pytest.approx(loss, rel=1e-12)


def test_interior_field_with_k_equal_to_the_latents_is_the_relu_gradient():
    """TopK∘ReLU with k = n_q is ReLU, whose loss has no jumps; with every off latent reading strictly below 0
    (no kink) the interior field is the gradient of L: central differences of the ReLU loss."""
    from theory.absorption_curve import _pack, family_start, gradient_fd, interior_field

    h = Hierarchy(1, ShiftedExponential(1.0, 1.0), ShiftedExponential(1.0, 1.0), 0.2)
    W_E, W_D = family_start(h, (0.3,), tilt=0.1)
    W_E[1] -= 0.2 * W_E[0] / np.linalg.norm(W_E[0])   # the child row reads parent-alone events below 0
    field = interior_field(h, _pack(W_E, W_D), 2, 1.0, 2)
    assert field == pytest.approx(_pack(*gradient_fd(h, W_E, W_D, 1.0, activation="relu")), abs=1e-7)


def test_gated_block_form_names_the_magnitude_path():
    """A Gated unit outputs its magnitude path: its block's pre-activation is <w_mag^i, w_p^d> + b_mag,i (the section
    reads only the derivation's activation and bias, so a stand-in saves deriving the Gated forms)."""
    from types import SimpleNamespace

    from theory.activations import Gated
    from theory.printing import _block_section

    block = _block_section(SimpleNamespace(activation=Gated(tied=False), encoder_bias=True))
    assert block.lines[0].text.startswith("a_d = <w_mag^i, w_p^d> + b_mag,i,  u = W_D[:, i]")
    # the LaTeX names the same magnitude bias (it printed b_i beside the text's b_mag,i)
    assert block.lines[0].latex.startswith(r"a_d = \langle w_{mag}^i, w_p^d \rangle + b_{mag,i},")
    plain = _block_section(SimpleNamespace(activation=ReLU(), encoder_bias=True))
    assert plain.lines[0].text.startswith("a_d = <w_E^i, w_p^d> + b_i,  u = W_D[:, i]")


def test_gamma_patterns_of_exchangeable_children_are_counted_once():
    from theory.absorption_curve import _gamma_patterns

    assert _gamma_patterns(2, (0.0, 1.0), exchangeable=True) == [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
    assert _gamma_patterns(2, (0.0, 1.0)) == [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
    assert _gamma_patterns(3, (0.0, 1.0)) == [(0.0,) * 3, (1.0,) * 3, (1.0, 0.0, 0.0), (0.0, 1.0, 1.0)]


def test_the_jumprelu_family_draws_its_five_thresholds():
    from theory import registry

    asked = []

    def draw(strategy):
        asked.append(list(strategy.elements))
        return asked[-1][-1]

    act = registry.get("jumprelu").draw(draw)
    assert asked == [[0.0, 0.1, 0.25, 0.5, 1.0]] and act.theta == 1.0


def test_region_constraints_print_as_text_and_latex():
    from theory.activations import TopKReLU
    from theory.patterns import ActivationPattern
    from theory.printing import _format_constraint

    P = ActivationPattern([{0}, {1}], 2)
    relu = [_format_constraint(c) for c in ReLU().region_constraints(P.mask)]
    assert relu[:2] == [("z[0,0] > 0", "z_{0,0} > 0"), ("z[0,1] <= 0", r"z_{0,1} \le 0")]
    top = [_format_constraint(c) for c in TopKReLU(k=1).region_constraints(P.mask)]
    assert ("z[0,1] < z[0,0]", "z_{0,1} < z_{0,0}") in top


def test_an_option_without_help_is_described_by_its_name():
    import dataclasses

    from theory.options import help_of

    @dataclasses.dataclass
    class Opts:
        l1_coeff: float = 0.1

    assert help_of(dataclasses.fields(Opts)[0]) == "l1 coeff"


def test_training_fixed_point_with_k_equal_to_the_latents_is_the_relu_minimum():
    """k = n_q: the interior field is the ReLU gradient, so the flow from the clean start ends at the ReLU minimum
    that polish (L-BFGS + Newton on the exact ReLU loss) reaches from there."""
    from theory.absorption_curve import family_start, polish, training_fixed_points

    h = Hierarchy(1, ShiftedExponential(1.0, 1.0), ShiftedExponential(1.0, 1.0), 0.2)
    pts = training_fixed_points(h, 1.0, 2, gammas=(0.0,), absorbed_readings=(), merged=False, steps=200)
    relu_min = polish(h, *family_start(h, (0.0,)), 1.0)[2]
    assert len(pts) == 1 and pts[0]["kind"] == "stable" and pts[0]["field_norm"] < 1e-9
    assert pts[0]["loss"] == pytest.approx(relu_min, rel=1e-9)


def test_shrinkage_prediction_passes_its_assumption_arguments():
    from theory.shrinkage import predict

    law = ShiftedExponential(1.0, 1.0)
    assert predict(0.5, law).unmet == ()
    free = predict(0.5, law, l1_weighted_by_decoder_norm=False).unmet
    assert len(free) == 1 and "free decoder norm" in free[0]
    skew = predict(0.5, law, W_p=np.array([[1.0, 0.6], [0.0, 0.8]])).unmet
    assert len(skew) == 1 and "orthonormal" in skew[0]


def test_an_unknown_gradient_method_is_one_clear_error():
    from theory.derivation import gradients

    with pytest.raises(SDLInputError, match=r"method must be 'auto', 'symbolic' or 'vectorized', got 'exact'"):
        gradients(Instance(W_p=np.eye(2), activation=ReLU()), np.eye(2), np.eye(2), method="exact")


def test_uniform_magnitudes_name_their_bad_interval():
    from theory.distribution import Uniform

    with pytest.raises(SDLInputError, match=r"Uniform magnitudes need 0 <= low < high, got \[2.0, 1.0\]"):
        Uniform(2.0, 1.0)
