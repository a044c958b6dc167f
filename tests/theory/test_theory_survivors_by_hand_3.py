"""By hand (issue 12, part 5: the named survivors of results/mutation/m7): BatchTopK's inference threshold refusal,
BatchTopK's slack as one competition over the batch, derivation._linear_part on a single product, exact_loss's
automatic method for a non-constant magnitude, encoder_minimum when L̃ has no flat direction."""
import numpy as np
import pytest
import sympy as sp

from theory import Instance
from theory.activations import BatchTopK, ReLU
from theory.distribution import FeatureDistribution, Uniform


def test_batchtopk_refuses_a_negative_inference_threshold(refuses):
    refuses(lambda: BatchTopK(k=1, threshold=-0.5),
            "BatchTopK inference threshold must be a finite number >= 0, got -0.5")
    assert BatchTopK(k=1, threshold=0.0).threshold == 0.0 and BatchTopK(k=2, threshold=0.3).threshold == 0.3


def test_batchtopk_slack_is_one_competition_over_the_batch():
    """W_p = I (2 features), W_E = [[3, 1], [2, −1]]: Z (inputs × neurons) = [[3, 2], [1, −1]]. BatchTopK(1) keeps
    the k·B = 2 largest positive cells of the whole batch: both of input 0 (3 and 2; the activation's own
    evaluation below). Its region: every on cell > 0 (3, 2) and, the budget being full, every on cell above every
    off cell (3 − 1, 3 + 1, 2 − 1, 2 + 1): strict slack min(2, 3, 2, 4, 1, 3) = 1; no weak inequality (inf). The
    dense region's own slack (theory.patterns) says the same."""
    from theory.margins import point_slack
    from theory.patterns import pattern_of, region

    inst = Instance(W_p=np.eye(2), activation=BatchTopK(k=1))
    W_E = np.array([[3.0, 1.0], [2.0, -1.0]])
    Z = inst.pre_activations(W_E, None)
    assert Z.tolist() == [[3.0, 2.0], [1.0, -1.0]]
    assert BatchTopK(k=1).active(Z).tolist() == [[True, True], [False, False]]
    s = point_slack(inst, W_E)
    assert s["strict"] == pytest.approx(1.0, abs=1e-12) and s["weak"] == np.inf and s["inside"] is True
    R = region(inst, pattern_of(inst, W_E, None))
    strict, weak = R.slack(W_E, None)
    assert float(np.min(strict)) == pytest.approx(1.0, abs=1e-12) and (weak.size == 0 or np.min(weak) >= 0)


def test_linear_part_of_a_single_product_and_of_sums():
    """The coefficient of t in a matrix polynomial: t·A·B → A·B (a single product, not a sum), t·A → A,
    3t·A·B + t²·A·C + A·C → 3·A·B, t·A·B + t²·A·C → A·B, t²·A·B → 0. (Each product carries one power of t here:
    sympy collects t·A·B + t²·A·B into (t² + t)·A·B, whose coefficient _linear_part does not split; the Hessian
    blocks never meet that, their directions being symbols of their own.)"""
    from theory.derivation import _linear_part

    t = sp.Symbol("t")
    A, B = sp.MatrixSymbol("A", 2, 3), sp.MatrixSymbol("B", 3, 2)
    assert _linear_part(t * A * B, t) == A * B
    assert _linear_part(t * A, t) == A
    C = sp.MatrixSymbol("C", 3, 2)
    assert _linear_part(3 * t * A * B + t**2 * A * C + A * C, t) == 3 * A * B
    assert _linear_part(t * A * B + t**2 * A * C, t) == A * B
    assert _linear_part(t**2 * A * B, t) == sp.ZeroMatrix(2, 2)


def test_exact_loss_picks_subsets_for_random_magnitudes_at_small_n():
    """One feature on with probability 1/2, magnitude U[0, 1], W_p = W_r = [1], one ReLU unit reading it with
    weight 1 and decoding 0.5: per active event the loss is (m − 0.5 m)² = m²/4, so L = 1/2 · 1/4 · E[m²] =
    1/2 · 1/4 · 1/3 = 1/24. method='auto' with a non-constant magnitude and n <= 10 enumerates the active sets
    ('subsets'), with Monte Carlo magnitudes (200 000 draws: within 1 % here)."""
    from theory.objective import exact_loss

    inst = Instance(W_p=np.eye(1), activation=ReLU(), distribution=FeatureDistribution.uniform(1, 0.5, Uniform(0.0, 1.0)))
    est = exact_loss(inst, np.array([[0.5]]), np.array([[1.0]]))
    assert est.method == "subsets"
    assert est.value == pytest.approx(1 / 24, rel=1e-2)


def test_encoder_minimum_without_a_flat_direction():
    """ReLU, W_p = I, every unit on every feature, W_D = [[8/3, −4/3], [−4/3, 8/3]] (the inverse of [[1/2, 1/4],
    [1/4, 1/2]]): L̃ is strictly convex in W_E (W_Dᵀ W_D is positive definite, per feature), no flat direction,
    minimised at the exact reconstruction a_d = W_D⁻¹ e_d, i.e. W_E = [[1/2, 1/4], [1/4, 1/2]], every entry > 0:
    attained, infimum 0, margin its smallest strict slack min(1/2, 1/4) = 1/4."""
    from theory.partial_optimum import encoder_minimum
    from theory.patterns import as_pattern, region

    inst = Instance(W_p=np.eye(2), weights=[1.0, 2.0], activation=ReLU())
    R = region(inst, as_pattern([{0, 1}, {0, 1}], inst))
    W_D = np.array([[8 / 3, -4 / 3], [-4 / 3, 8 / 3]])
    assert W_D @ np.array([[0.5, 0.25], [0.25, 0.5]]) == pytest.approx(np.eye(2), abs=1e-12)
    em = encoder_minimum(inst, R, W_D, R.pack(np.ones((2, 2)), None))
    assert em.infimum == pytest.approx(0.0, abs=1e-9) and em.attained is True and em.boundary == ()
    assert em.v == pytest.approx([0.5, 0.25, 0.25, 0.5], abs=1e-6)
    assert em.margin == pytest.approx(0.25, abs=1e-6)
