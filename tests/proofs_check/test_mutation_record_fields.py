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
    W_E = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, -1.0, -1.0]])
    W_D = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    codes = np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]])     # σ(W_E e_d), by hand
    Ls = _hand_ls_decoder(codes, W_r, np.ones(3))
    np.testing.assert_allclose(Ls, [[0, 0, 0], [0, 1, 0]], atol=1e-12)
    r = inspect_point(inst, W_D, W_E, acs=False)
    ls = r.ls_decoder
    # a live unit whose least-squares column is 0 has no cosine (None, not NaN); unit 1: (1,1)·e2 / √2
    assert ls["cosine_per_live_column"] == {"0": None, "1": pytest.approx(S, abs=1e-12)}
    assert ls["cosine_min"] == pytest.approx(S, abs=1e-12) and ls["cosine_mean"] == pytest.approx(S, abs=1e-12)
    # L̃ at the least-squares decoder: ||e1||² + ||−e1||² + 0 = 2; at the point: 0 + ||(1,0) − (−1,0)||² + ||(1,1) − e2||² = 5
    assert ls["loss"] == pytest.approx(2.0, abs=1e-12) and r.achieved_loss == pytest.approx(5.0, abs=1e-12)
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
