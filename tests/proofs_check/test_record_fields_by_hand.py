"""Record fields that no other test reads, each checked against a value computed here by hand or by a second
algorithm (issue 12 part 5: the seed-3 sample's survivors and the targeted runs of results/mutation/m4)."""
import math

import numpy as np
import pytest

from proofs_check import bridge
from proofs_check.bridge import ModelPoint, inspect_point, instance_for_model
from theory.activations import ReLU
from theory.distribution import Constant, FeatureDistribution
from theory.errors import SDLInputError
from theory.instance import Instance

S = 1 / math.sqrt(2)


def _hand_ls_decoder(codes: np.ndarray, W_r: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """argmin_W Σ_d M_d ||w_r^d − W s_d||² by numpy's least squares (minimum norm), rows √M_d s_d."""
    sq = np.sqrt(weights)
    sol, *_ = np.linalg.lstsq(sq[:, None] * codes, sq[:, None] * W_r.T, rcond=None)
    return sol.T


def test_inspect_least_squares_record_against_a_hand_least_squares_decoder():
    # features e1, e2, e3 read; targets e1, −e1, e2 written. Unit 0 fires on features 0 and 1 (code 1 each), unit 1
    # on feature 2, unit 2 never: the least-squares column of unit 0 is (e1 − e1)/2 = 0, of unit 1 e2
    W_r = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]])
    inst = Instance(W_p=np.eye(3), W_r=W_r, weights=np.ones(3))
    W_E = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 2.0], [-1.0, -1.0, -1.0]])
    W_D = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    codes = np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 2.0, 0]])     # σ(W_E e_d), by hand
    Ls = _hand_ls_decoder(codes, W_r, np.ones(3))
    np.testing.assert_allclose(Ls, [[0, 0, 0], [0, 0.5, 0]], atol=1e-12)
    r = inspect_point(inst, W_D, W_E, acs=False)
    ls = r.ls_decoder
    # a live unit whose least-squares column is 0 has no cosine (None, not NaN); unit 1: (1,1)·(0, 1/2) / (√2 · 1/2)
    assert ls["cosine_per_live_column"] == {"0": None, "1": pytest.approx(S, abs=1e-12)}
    assert ls["cosine_min"] == pytest.approx(S, abs=1e-12) and ls["cosine_mean"] == pytest.approx(S, abs=1e-12)
    # L̃ at the least-squares decoder: ||e1||² + ||−e1||² + 0 = 2; at the point: 0 + ||(1,0) − (−1,0)||² + ||2·(1,1) − e2||² = 9
    assert ls["loss"] == pytest.approx(2.0, abs=1e-12) and r.achieved_loss == pytest.approx(9.0, abs=1e-12)
    assert ls["relative_error"] == pytest.approx(np.linalg.norm(W_D - Ls) / np.linalg.norm(Ls), rel=1e-12)


@pytest.mark.parametrize("n_q", [64, 65])
def test_inspect_keeps_per_column_cosines_only_up_to_64_units(n_q):
    # one feature, n_q identical units with code 1: the minimum-norm least-squares decoder is 1/n_q in every column,
    # the model's decoder the same, so every cosine is 1
    inst = Instance(W_p=np.array([[1.0]]), weights=np.ones(1))
    r = inspect_point(inst, np.full((1, n_q), 1.0 / n_q), np.ones((n_q, 1)), acs=False)
    per = r.ls_decoder["cosine_per_live_column"]
    if n_q <= 64:
        assert per == {str(i): pytest.approx(1.0, abs=1e-9) for i in range(n_q)}
    else:
        assert per is None
    assert r.ls_decoder["cosine_min"] == pytest.approx(1.0, abs=1e-9)


def test_a_least_squares_decoder_at_zero_loss_makes_the_reference_exact():
    # features e1 and (e1 + e2)/√2: C3's construction W_E = W_pᵀ mixes them (L̃ > 0, only an upper bound), but at
    # W_E = I the codes (1, 0) and (1/√2, 1/√2) are independent, so a decoder reconstructs both exactly: L̃ = 0
    W_p = np.array([[1.0, S], [0.0, S]])
    inst = Instance(W_p=W_p, weights=np.ones(2))
    codes = np.array([[1.0, 0.0], [S, S]])
    W_D = np.linalg.solve(codes, W_p.T).T          # W_D codes_dᵀ = w^d for both features: here the identity
    np.testing.assert_allclose(W_D, np.eye(2), atol=1e-12)
    c3_D, c3_E, _ = bridge.c3_construction(inst, 2)
    c3_codes = np.maximum(W_p.T @ c3_E.T, 0)
    assert float(((W_p.T - c3_codes @ c3_D.T) ** 2).sum()) > 0.1     # the construction's L̃, by hand
    r = inspect_point(inst, W_D, np.eye(2), acs=False)
    g = r.global_optimum
    assert g["exact"] is True and g["reference_loss"] == 0.0 and g["status"] == "global"
    assert g["reference"] == "the least-squares decoder at this encoder (L̃ = 0 is the global minimum)"


def test_instance_for_model_normalises_stacked_columns_and_notes_it():
    # columns of norm √2 (two stacked sources): unit columns and weights M_d·||w^d||² = 2
    point = ModelPoint(W_D=np.eye(2), W_E=np.eye(2), b_E=None, b_D=None, activation=ReLU(), unmet=(), spec={})
    W = math.sqrt(2) * np.eye(2)
    inst = instance_for_model(point, W)       # notes not given: the note goes nowhere, nothing raises
    np.testing.assert_allclose(inst.W_p, np.eye(2)) and np.testing.assert_allclose(inst.weights, [2.0, 2.0])
    notes = ["earlier"]
    instance_for_model(point, W, notes=notes)
    assert notes[0] == "earlier" and len(notes) == 2 and notes[1].startswith("feature columns have norms up to 1.41 ")


def test_a_checkpoint_whose_loader_fails_without_a_message_is_one_clear_line(tmp_path, monkeypatch):
    import numerics.foreign

    def fail(path):
        raise ValueError()

    monkeypatch.setattr(numerics.foreign, "load_any", fail)
    with pytest.raises(SDLInputError) as e:
        bridge.load_checkpoint_instance(tmp_path)
    assert str(e.value) == f"cannot load the model in {tmp_path}: ValueError:"   # the empty message, one line


def test_c1_corrected_bound_terms_by_name_by_hand():
    from proofs_check.c1_loss_approximation import corrected_bound

    # ReLU, W_E = W_D = I, encoder bias 0.5, p = 0.3 each of 3 features, magnitude 1 always:
    # zero input: σ(b) = 0.5·1 decoded to 0.5·1, ||·||² = 0.75, times Pr(x = 0) = 0.7³;
    # a constant magnitude has no homogeneity defect (E_m ℓ_d(m) = ℓ_d(1) = E m² ℓ_d(1));
    # two or more on: C(3, 2)·0.3²·C
    inst = Instance(W_p=np.eye(3), distribution=FeatureDistribution(np.full(3, 0.3), Constant(1.0)), encoder_bias=True)
    total, terms = corrected_bound(inst, np.eye(3), np.eye(3), np.full(3, 0.5), 2.0)
    assert terms == {"zero_input_term": pytest.approx(0.7**3 * 0.75, rel=1e-12),
                     "homogeneity_defect_term": pytest.approx(0.0, abs=1e-12),
                     "two_or_more_term": pytest.approx(3 * 0.09 * 2.0, rel=1e-12)}
    assert total == pytest.approx(0.7**3 * 0.75 + 0.54, rel=1e-12)


def test_c4_search_that_finds_no_failure_says_holds_with_both_searches(stub_claim_search):
    """C4's default search, its searches replaced by hand-written results that find nothing: the verdict is 'holds',
    built from the two searches' summaries, with the run's seed and budget."""
    from proofs_check import c4_zero_loss as c4
    from proofs_check.search import SearchResult

    results = {s: SearchResult(tried=5 + s, held=5 + s, budget=30, seed=s) for s in (4, 5, 7)}
    nec = SearchResult(tried=130, skipped=10, held=120, budget=130, seed=6, superposed_met=40)
    stub_claim_search(c4, results, nec)
    v = c4.search(budget=30, seed=4)
    assert (v.claim, v.status, v.seed, v.budget, v.counterexample, v.corrected_condition) == ("C4", "holds", 4, 30, None, None)
    assert v.evidence.startswith(f"L̃ = 0 ⇔ every residual is 0 ({results[4].summary()}); non-identifying zero-loss "
                                 f"solutions constructed: {results[5].summary()}. Families searched: ")
    assert v.numbers["characterisation_search"] == results[4].summary()
    assert v.numbers["corrected_sufficiency_search"] == results[7].summary()


def test_c5_search_that_finds_a_lower_point_fails_with_its_seed_and_budget(monkeypatch):
    from proofs_check import c5_example as c5
    from proofs_check.search import SearchResult

    lower = SearchResult(example="ex", details={"W_D": [[0.0]], "W_E": [[0.0]], "loss": 0.125, "moved": "decoder"},
                         tried=3, held=2, budget=20, seed=3)
    monkeypatch.setattr(c5, "find_counterexample", lambda strategy, predicate, budget, seed: lower)
    v = c5.search(budget=20, seed=3)
    assert (v.status, v.seed, v.budget) == ("fails", 3, 20)
    assert v.evidence == f"a point in the same region has lower L̃ = 0.125 ({lower.summary()})"
    assert v.counterexample == lower.details


def test_c5_hypotheses_refuse_an_encoder_bias_the_instance_does_not_have():
    from proofs_check import c5_example as c5

    assert c5.hypotheses(c5.EXAMPLE.replace(encoder_bias=True), c5.EXAMPLE_W_D, c5.EXAMPLE_W_E, np.array([0.1, -0.2])) == []
    with pytest.raises(SDLInputError) as e:
        c5.hypotheses(c5.EXAMPLE, c5.EXAMPLE_W_D, c5.EXAMPLE_W_E, np.zeros(2))
    assert str(e.value) == "b_E given but the instance has encoder_bias=False; use instance.replace(encoder_bias=True)"


def test_c7_construction_shrinks_the_parent_bias_with_its_row():
    """JumpReLU θ = 1/2, orthonormal features, parent 0 with children 1, 2, feature 3 apart. The parent unit has row
    5·(1, 1, 1.2, 0) and bias −9: pre-activations 1 (child 1's input) and 2 (child 2's). Shrinking row and bias by s
    gives s and 2s: on the grid s = 10^(−j/20) the first s < 1/2 is 10^(−0.35) ≈ 0.447, where child 2's 0.89 > 1/2
    still fires, so B(0, 1) is produced. Shrinking the row alone (bias kept out) would give 10s and 11s, whose first
    s below 1/20 (10^(−1.35) ≈ 0.0447) drops child 2 too (0.49 < 1/2)."""
    from theory.activations import JumpReLU
    from proofs_check.c7_absorption import decide

    inst = Instance(W_p=np.eye(4), weights=np.ones(4), activation=JumpReLU(theta=0.5), encoder_bias=True)
    W_E = np.array([[5.0, 5.0, 6.0, 0.0], [0.0, 0.0, 0.0, 1.0], [-1.0, -1.0, -1.0, -1.0]])
    b_E = np.array([-9.0, 0.0, 0.0])
    c = decide(inst, {0: [1, 2]}, W_E=W_E, b_E=b_E)["per_parent"][0]["construction"]
    assert (c["weakest_child"], c["weakest_dropped_out"], c["produces_B"], c["inputs_with_wrong_pattern"]) == (1, True, True, [])


def test_c7_record_keys_each_parent_by_its_index():
    from proofs_check import c7_absorption as c7

    W = np.array([[0.3566, 0.8787, 0.5241, -0.9133], [0.9343, 0.4774, -0.8517, 0.4073]])
    inst = Instance(W_p=W / np.linalg.norm(W, axis=0), weights=np.ones(4))
    h = {0: [1, 2]}
    r = c7.decide(inst, h)
    rec = c7._record(inst, h, r)
    assert rec["parents"] == {"0": [1, 2]} and rec["failing_parents"] == [0]
    assert list(rec["per_parent"]) == ["0"] and rec["per_parent"]["0"]["splittable_children"] == []


def test_c7_family_survey_keeps_each_rows_first_failure(monkeypatch):
    """hypotheses and decide stubbed: every drawn hierarchy meets them and fails, so every row counts every draw and
    keeps the first draw's record (the first instance drawn, not a later one)."""
    from proofs_check import c7_absorption as c7

    seen = []

    def fails(inst, h):
        seen.append(inst.to_json())
        return {"outcome": "fails", "failing_parents": [0], "per_parent": {0: {"splittable_children": []}}}

    monkeypatch.setattr(c7, "hypotheses", lambda inst, h: [])
    monkeypatch.setattr(c7, "decide", fails)
    out = c7.family_survey(2, seed=1)
    assert len(out) == 10 and len(seen) == 20
    for j, row in enumerate(out.values()):
        assert (row["met"], row["fails"]) == (2, 2)
        assert row["first_failure"]["instance"] == seen[j] and row["first_failure"]["per_parent"] == {"0": {"splittable_children": []}}


def test_c9_numerics_trainer_cross_check_of_a_transcoder_at_a_negligible_learning_rate():
    """As the SAE test in test_c9_resampling: 4 steps at learning rate 1e-12 leave the start where it is, here for a
    transcoder (3 features read from R³, written to R²), so the final exact loss is the start's."""
    from proofs_check.c9_resampling import RunConfig, _with_distribution, numerics_trainer_losses, spurious_start
    from theory.objective import exact_loss

    W_r = np.array([[1.0, 0.0, S], [0.0, 1.0, S]])
    inst = _with_distribution(Instance(W_p=np.eye(3), W_r=W_r, activation=ReLU()))
    start = spurious_start(inst, [{0, 1}, {2}, set()])
    got = numerics_trainer_losses(inst, start, resample=False, seeds=[0], cfg=RunConfig(steps=4, batch_size=8, lr=1e-12))
    want = exact_loss(inst, start["W_D"], start["W_E"], None, samples=20_000, seed=0).value
    assert len(got) == 1 and got[0] == pytest.approx(want, rel=1e-5)


def test_inspect_reports_a_dropped_feature_by_hand_with_its_texts():
    """Orthonormal features of weights 1, 2, 3 and two units on features 1 and 2 (feature 0 dropped). At W_D = W_Eᵀ
    L̃ = M_0 = 1 and no lower L̃ is found; at W_D/2 the point is off its partial optimum: L̃ = 1 + (1/4)(2 + 3) = 2.25,
    the pattern's optimum 1 (the gap printed is 2.25 − 1)."""
    inst = Instance(W_p=np.eye(3), weights=np.array([1.0, 2.0, 3.0]))
    W_E = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    r = inspect_point(inst, W_E.T, W_E)
    g = r.global_optimum
    assert (g["status"], g["exact"], g["reference_loss"]) == ("best_known", False, pytest.approx(1.0, abs=1e-12))
    assert g["why"] == "no lower L̃ was found; the reference is only an upper bound"
    assert g["restarts"] == 4    # inspect's default: four restarts, every one started inside its region here
    r2 = inspect_point(inst, W_E.T / 2, W_E)
    assert r2.achieved_loss == pytest.approx(2.25, abs=1e-12) and r2.partial_optimum["loss"] == pytest.approx(1.0, abs=1e-9)
    gap = [ln for ln in r2.to_text().splitlines() if ln.startswith("partial optimum of P")]
    assert len(gap) == 1 and "predicted L̃ = 1 vs achieved 2.25 (gap 1.25); point itself a partial minimum: False" in gap[0]


def test_global_reference_text_of_the_restarts():
    # three orthonormal features, two units: no construction; the reference is the best restart (text exact)
    ref = bridge.global_reference(Instance(W_p=np.eye(3), weights=np.ones(3)), 2, restarts=3, seed=1)
    assert ref["reference"] == "best of 3 ACS restarts from seeded random encoders (seed 1; an upper bound on the global minimum)"
    assert ref["restarts"] <= 3 and ref["reference_loss"] >= 1.0 - 1e-9   # two units cannot keep three features


def test_inspect_stationarity_residual_uses_the_encoder_bias():
    # W_E = I, b = −0.1: codes 0.9·e_d, decoded exactly by W_D = I/0.9, so L̃ = 0 and every gradient block is 0
    # (without the bias the codes would be e_d and the decoder's residual e_d/9 would not vanish)
    inst = Instance(W_p=np.eye(2), weights=np.ones(2), encoder_bias=True)
    r = inspect_point(inst, np.eye(2) / 0.9, np.eye(2), np.full(2, -0.1), acs=False)
    assert r.achieved_loss == pytest.approx(0.0, abs=1e-24)
    assert r.residual["relative"] < 1e-12 and max(r.residual["norms"].values()) < 1e-12
    assert r.ls_decoder["loss"] == pytest.approx(0.0, abs=1e-20)   # the least-squares decoder at the biased codes: exact


def test_inspect_model_counts_open_gates_with_a_nonpositive_magnitude_by_hand():
    """A tied Gated model on orthonormal features, W_gate = I, r = 0 (W_mag = W_gate), gate bias 0.1, magnitude bias
    −0.5: on input e_d both gates are open (1.1 and 0.1); the magnitude is 0.5 on unit d and −0.5 on the other, so
    2 of the 4 open gates have a magnitude <= 0."""
    import torch

    from numerics.models import build_model

    m = build_model("gated", 2, 2, seed=0)
    with torch.no_grad():
        m.W_enc.copy_(torch.eye(2))
        m.r_mag.zero_()
        m.b_enc.fill_(0.1)
        m.b_mag.fill_(-0.5)
        m.b_dec.zero_()
    r = bridge.inspect_model(m, np.eye(2), acs=False)
    assert r.extra["gated_magnitude_nonpositive"] == {"open_gates_with_magnitude_le_0": 2, "open_gates": 4,
                                                     "exact_on_single_features": False}


def test_an_unknown_features_source_is_refused_by_name(tmp_path, monkeypatch):
    import types

    import numerics.foreign

    monkeypatch.setattr(numerics.foreign, "load_any", lambda path: types.SimpleNamespace(model=object()))
    with pytest.raises(SDLInputError) as e:
        bridge.load_checkpoint_instance(tmp_path, features="atoms")
    assert str(e.value) == "--features must be 'instance' or 'decoder', got 'atoms'"


@pytest.mark.parametrize("n_q,method", [(63, "symbolic"), (64, "vectorized")])
def test_inspect_picks_the_vectorized_residual_above_200000_cells(n_q, method, monkeypatch):
    # n = 50 features: n·n_q² = 198,450 (63 units) <= 200,000 < 204,800 (64 units)
    calls = []

    def residual(inst, W_D, W_E, b, method):
        calls.append(method)
        return {"W_D": 0.0, "W_E": 0.0}

    monkeypatch.setattr(bridge, "stationarity_residual", residual)
    W_E = np.zeros((n_q, 50))
    W_E[:50] = np.eye(50)
    r = inspect_point(Instance(W_p=np.eye(50), weights=np.ones(50)), W_E.T.copy(), W_E, acs=False)
    assert calls == [method] and r.residual["method"] == method


def test_decoder_features_of_a_checkpoint_are_its_unit_atoms(tmp_path, monkeypatch):
    import types

    import torch

    import numerics.foreign
    from numerics.models import build_model

    m = build_model("relu", 3, 4, seed=0)
    with torch.no_grad():
        m.W_dec.copy_(torch.tensor([[2.0, 0, 0], [0, 0.5, 0], [0, 0, 0], [1.0, 1.0, 0]]))
    monkeypatch.setattr(numerics.foreign, "load_any", lambda path: types.SimpleNamespace(model=m))
    model, W_p, W_r, w, how = bridge.load_checkpoint_instance(tmp_path, features="decoder")
    # atoms of norm 2, 0.5, 0 (left out) and √2, made unit: columns e1, e2, (e1 + e2)/√2
    np.testing.assert_allclose(W_p, [[1, 0, S], [0, 1, S], [0, 0, 0]], atol=1e-7)
    assert model is m and W_r is None and w is None and how == "the model's own 3 unit decoder atoms as features (weights 1)"


def test_bench_instance_weights_carry_the_feature_scales_squared(tmp_path):
    """A bench model in OUT/models/<run>: M_d = p (1 − p)^(n−1) c² s_d² (constant magnitude c, independent features,
    the bench's per-feature scales s_d)."""
    import json

    from numerics.config import DataConfig
    from numerics.data import feature_scales

    data = {"kind": "sae", "n_features": 4, "d_in": 4, "p_active": 0.2, "c_min": 1.5, "beta": 0.0,
            "magnitude_spread": 0.8, "n_samples": 64, "pgd_steps": 50, "seed": 5}
    (tmp_path / "results.json").write_text(json.dumps({"config": {"data": data}, "runs": {"r0": {"kind": "sae"}}}))
    (tmp_path / "models" / "r0").mkdir(parents=True)
    W_p, W_r, weights, how = bridge._bench_instance(tmp_path / "models" / "r0")
    s = feature_scales(DataConfig(**data)).double().numpy()
    assert not np.allclose(s, 1.0)
    np.testing.assert_allclose(weights, 0.2 * 0.8**3 * 1.5**2 * s**2, rtol=1e-6)
    assert W_p.shape == (4, 4) and W_r is None and "data seed 5, kind sae" in how


def test_an_acs_optimum_below_the_least_squares_decoder_becomes_the_reference():
    """Features e1, (e1 + e2)/√2, e2 in R², two units, no restarts. At W_E = [[1, −0.3], [0.1, 1]] unit 0 is off on e2,
    so no decoder reconstructs all three (least squares, by numpy here: L̃ > 0.01); ACS moves the encoder within the
    pattern to L̃ → 0 (two units reconstruct R² exactly), and that is the reference, exact since L̃ >= 0."""
    W_p = np.array([[1.0, S, 0.0], [0.0, S, 1.0]])
    inst = Instance(W_p=W_p, weights=np.ones(3))
    W_E = np.array([[1.0, -0.3], [0.1, 1.0]])
    codes = np.maximum(W_p.T @ W_E.T, 0.0)
    Ls = _hand_ls_decoder(codes, W_p, np.ones(3))
    ls_loss = float(((W_p.T - codes @ Ls.T) ** 2).sum())
    assert ls_loss > 0.01
    r = inspect_point(inst, np.eye(2), W_E, restarts=0)
    assert r.ls_decoder["loss"] == pytest.approx(ls_loss, rel=1e-9)
    g = r.global_optimum
    assert g["reference"] == "the ACS partial optimum from this point (L̃ = 0 is the global minimum)"
    assert (g["reference_loss"], g["exact"]) == (0.0, True) and r.partial_optimum["loss"] < 1e-9
