"""Hand-checked tests for mutants that survived the seventh measurement (results/mutation/m7/decisions.json):
C1's exact ray expectation across a TopK tie, C3's holding search evidence, the signs of C4's searched decoders,
C6's holding ACS outcome, the random targets of C8's just-dead rows, write_report's paths, check()'s pattern."""
import numpy as np
import pytest

from theory import Instance, normalize_columns
from theory.activations import ReLU, TopKReLU
from theory.distribution import FeatureDistribution, Uniform
from theory.objective import approx_loss, sample_losses


# --- C1: E_m ℓ_d(m) along a ray that crosses a TopK tie ------------------------------------------------------------


def _tie_instance():
    # one feature (W_p = W_r = [[1]]), p = ½, m ~ U[0, 2], Top-1∘ReLU, encoder bias; two neurons with
    # pre-activations m + ½ and 2m: they tie at m = ½ (neither crosses 0 inside (0, 2]); W_D = [[1, 0.3]]
    inst = Instance(W_p=np.eye(1), activation=TopKReLU(k=1), encoder_bias=True,
                    distribution=FeatureDistribution(0.5, Uniform(0.0, 2.0)))
    return inst, np.array([[1.0, 0.3]]), np.array([[1.0], [2.0]]), np.array([0.5, 0.0])


def test_c1_ray_expectation_is_exact_across_a_topk_tie():
    """m < ½: neuron 0 wins, reconstruction m + ½, loss ¼; m > ½: neuron 1 wins, reconstruction 0.3·2m = 0.6m, loss
    (0.4m)² = 0.16m². E over U[0, 2] = ½ (∫₀^½ ¼ dm + ∫_½^2 0.16 m² dm) = ½ (0.125 + 0.16·(8 − 0.125)/3) = 0.2725.
    At m = 0 (no feature): neuron 0 (½) wins, loss ¼. With one feature Pr(|A| ≥ 2) = 0, so
    L = Pr(∅)·¼ + Pr({0})·0.2725 = 0.5·0.25 + 0.5·0.2725 = 0.26125, exactly, with no bracket."""
    from proofs_check.c1_loss_approximation import evaluate

    inst, W_D, W_E, b_E = _tie_instance()
    r = evaluate(inst, W_D, W_E, b_E, seed=0)
    assert r["L_low"] == pytest.approx(0.26125, rel=1e-12) and r["L_high"] == pytest.approx(0.26125, rel=1e-12)
    assert r["L"] == pytest.approx(0.26125, rel=1e-12) and r["P2"] == pytest.approx(0.0, abs=1e-15)


def test_c1_ray_expectation_agrees_with_fine_quadrature_of_the_losses():
    """The same ray, by the midpoint rule on 200 000 cells of the loss evaluated by theory.objective (error ~1e-11
    on each smooth piece, one cell of size 1e-5 straddles the tie)."""
    from proofs_check.c1_loss_approximation import evaluate

    inst, W_D, W_E, b_E = _tie_instance()
    cells = 200_000
    m = (np.arange(cells) + 0.5) * (2.0 / cells)
    X = m[:, None]
    ray = float(sample_losses(inst, W_D, W_E, b_E, X).mean())
    assert ray == pytest.approx(0.2725, abs=1e-5)
    zero = float(sample_losses(inst, W_D, W_E, b_E, np.zeros((1, 1)))[0])
    assert evaluate(inst, W_D, W_E, b_E)["L"] == pytest.approx(0.5 * zero + 0.5 * ray, abs=1e-5)


# --- C3: a search that finds nothing holds, and says so ----------------------------------------------------------


def test_c3_search_that_finds_no_failure_holds_with_its_summary(stub_claim_search):
    from proofs_check import c3_construction as c3
    from proofs_check.search import SearchResult

    results = {s: SearchResult(tried=4 + s, held=4 + s, budget=20, seed=s) for s in (3, 8, 5)}
    repaired = SearchResult(tried=120, held=120, budget=120, seed=4, superposed_met=30)
    stub_claim_search(c3, results, repaired)
    v = c3.search(budget=20, seed=3)
    assert (v.claim, v.status, v.seed, v.budget, v.counterexample, v.corrected_condition) == ("C3", "holds", 3, 20, None, None)
    assert v.evidence.startswith(f"construction within the bound on every searched instance: {results[3].summary()}. "
                                 "Families searched: ")
    assert v.numbers["search"] == results[3].summary() and v.numbers["topk_search"] == results[5].summary()
    assert v.numbers["corrected_search"] == repaired.summary()


# --- C4: each decoder column is pulled towards its own signed target -----------------------------------------------


def test_c4_searched_decoders_draw_one_sign_per_column(monkeypatch):
    """searched_solution pulls each of the n_q decoder columns towards ± one of the good directions: the sign is
    drawn per column (an n_q × 1 draw), as recorded from the generator itself."""
    from proofs_check import c4_zero_loss as c4

    real = np.random.default_rng
    draws = []

    class Recording:
        def __init__(self, seed):
            self._g = real(seed)

        def choice(self, a, *args, **kw):
            out = self._g.choice(a, *args, **kw)
            draws.append(np.shape(out))
            return out

        def __getattr__(self, name):
            return getattr(self._g, name)

    monkeypatch.setattr(c4.np.random, "default_rng", Recording)
    ang = np.deg2rad([90.0, 210.0, 330.0])
    inst = Instance(W_p=np.vstack([np.cos(ang), np.sin(ang)]), activation=ReLU())
    widths = []
    for seed in range(6):
        got = c4.searched_solution(inst, seed=seed, tries=60)
        if got is not None:
            widths.append(got[1].shape[0])
    assert draws, "no decoder in the null space was tried"
    assert all(len(s) == 2 and s[1] == 1 and 4 <= s[0] <= 10 for s in draws), draws   # (n_q, 1), n + 1 ≤ n_q ≤ 3n + 1


# --- C6: a positive-loss partial minimum found by ACS is "holds" ---------------------------------------------------


def test_c6_decide_holds_on_the_acs_path_with_a_checked_witness(central_gradient):
    """Three features in R² (w0 = e_x, w1 = e_y, w2 ∝ (1, −0.2): dependent columns), Top-2∘ReLU, M = (2, 1, 1),
    pattern ({0, 1}, {2}, ∅): no stationary point has positive loss, so decide runs ACS, which ends on a weak face.
    Its witness is re-checked here: the pattern of its encoder (the activation's own evaluation), a positive L̃
    equal to the reported loss, and a decoder gradient of L̃ that vanishes by central differences."""
    from proofs_check.c6_spurious_minima import decide
    W = normalize_columns(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, -0.2]]))
    inst = Instance(W_p=W, weights=[2.0, 1.0, 1.0], activation=TopKReLU(k=2))
    out = decide(inst, [{0, 1}, {2}, set()], seed=0)
    assert out["outcome"] == "holds"
    assert out["method"] == "alternating convex search (KKT with active weak inequalities)"
    assert out["acs"] and out["acs"][-1]["partial_minimum"] is True
    W_E, W_D = np.asarray(out["W_E"]), np.asarray(out["W_D"])
    # the codes σ(W_E w_p^d) (rows: features) by the activation itself: neuron 0 codes features 0 and 1, neuron 1
    # feature 2, neuron 2 none; the witness sits on a weak face (neuron 0's pre-activation on feature 2 is 0 to
    # rounding, ~1e-16, so its code there is 0 to rounding too)
    pre = inst.pre_activations(W_E, out["b_E"])
    codes = inst.activation.evaluate(pre)
    assert [sorted(int(d) for d in np.flatnonzero(codes[:, i] > 1e-12)) for i in range(3)] == [[0, 1], [2], []]
    assert abs(pre[2, 0]) < 1e-12 and np.all(pre[[0, 1], 0] > 0.1) and pre[2, 1] > 0.05
    loss = approx_loss(inst, W_D, W_E, out["b_E"])
    assert loss == pytest.approx(out["loss"], rel=1e-9) and loss > 0.1
    g = central_gradient(lambda v: approx_loss(inst, v.reshape(W_D.shape), W_E, out["b_E"]), W_D.ravel())
    assert np.abs(g).max() < 1e-6


# --- C8: each just-dead row moves towards its own random target ----------------------------------------------------


@pytest.mark.parametrize("bias", [False, True])
def test_c8_just_dead_rows_move_towards_their_own_seeded_targets(bias):
    """Two features, ReLU, two firing neurons and two dead ones. From the LP's interior point each dead row moves
    along the segment towards a target 2·N(0, I) drawn in turn from default_rng(seed) (with a bias, a bias target
    N(0, 1) after each); the returned row is on that segment, strictly inside it, and still dead on every feature."""
    from proofs_check.c8_dead_neurons import near_boundary_dead_point
    from theory.partial_optimum import interior_point
    from theory.patterns import ActivationPattern, region

    inst = Instance(W_p=np.eye(2), activation=ReLU(), encoder_bias=bias)
    firing = [{0}, {1}, set(), set()]
    W0, b0 = interior_point(region(inst, ActivationPattern.from_sets(firing, 2)))
    W_E, b_E = near_boundary_dead_point(inst, firing, seed=11)
    rng = np.random.default_rng(11)
    for unit in (2, 3):
        target = rng.normal(size=2) * 2.0
        tb = float(rng.normal()) if bias else None
        step = W_E[unit] - W0[unit]
        # W_E[unit] = W0 + t (target − W0) with one t in (0, 1)
        t = float(step @ (target - W0[unit]) / np.sum((target - W0[unit]) ** 2))
        assert 0 < t < 1 and np.allclose(step, t * (target - W0[unit]), atol=1e-12), unit
        if bias:
            assert b_E[unit] == pytest.approx(b0[unit] + t * (tb - b0[unit]), abs=1e-12)
        pre = W_E[unit] @ inst.W_p + (0.0 if b_E is None else b_E[unit])
        assert np.all(pre <= 0), unit                  # still dead on both features
    assert np.allclose(W_E[:2], W0[:2])               # the firing rows are not moved


# --- report.write_report and check(): what they hand back ---------------------------------------------------------


def test_write_report_markdown_path_is_the_file_written(tmp_path):
    from proofs_check.report import ClaimOutcome, write_report
    from proofs_check.verdict import Verdict

    paths = write_report(tmp_path, [ClaimOutcome("C5", Verdict("C5", "t", "holds", "e."))], seed=0, budget=1)
    assert paths["markdown"] == str(tmp_path / "report.md") and paths["json"] == str(tmp_path / "report.json")
    assert open(paths["markdown"]).read().startswith("# sdl-theory verify: report")


def test_check_passes_the_given_pattern_to_the_claim():
    """check("C2", ..., pattern=...) checks that pattern's region: the point it reports has the pattern given
    (here ({0}, {1}) rather than the default random encoder's)."""
    from proofs_check import check

    v = check("C2", Instance(W_p=np.eye(2), activation=ReLU()), pattern=[{1}, {0}])
    assert v.status == "holds" and v.numbers["pattern"] == [[1], [0]]
