"""C2 (piecewise biconvexity) by hand: the Hessian blocks against second differences of L̃, a failing and a
holding check_instance at a point whose blocks are computed here, and the default search's verdicts with its
two searches replaced by hand-written results (the predicate still run on hand-made points).

The running example: one feature, W_p = W_r = [[1]], M = 1, ReLU, one neuron, decoder D and encoder E > 0, so
L̃(D, E) = (1 − D E)². Its second derivatives: ∂²/∂D² = 2E², ∂²/∂E² = 2D², ∂²/∂D∂E = −2 + 4DE. At D = E = ½:
decoder block 0.5, encoder block 0.5, full Hessian [[0.5, −1], [−1, 0.5]] with eigenvalues −0.5 and 1.5; every entry
is at most 1 in size, so the relative scale max(1, max |H|) is 1.
"""
import numpy as np
import pytest

from proofs_check import c2_biconvexity as c2
from proofs_check.search import SearchResult
from proofs_check.verdict import StepCheck
from theory import Instance
from theory.activations import BatchTopK, ReLU
from theory.objective import approx_loss
from theory.strategies import searched_families

ONE = Instance(W_p=np.eye(1), activation=ReLU())
HALF = (np.array([[0.5]]), np.array([[0.5]]), None)


def test_closed_form_blocks_with_bias_and_two_neurons_match_second_differences(second_differences):
    # W_E = [[1], [−1]], b = (0.5, 0.2): pre-activations (1.5, −0.8), only neuron 0 on, s = (1.5, 0);
    # W_D = [[2, 3]]: DD = 2 (s sᵀ) = [[4.5, 0], [0, 0]]; J = W_D S [w_pᵀ ⊗ I | I] = [2, 0, 2, 0], Eb = 2 JᵀJ
    inst = Instance(W_p=np.eye(1), activation=ReLU(), encoder_bias=True)
    W_D, W_E, b = np.array([[2.0, 3.0]]), np.array([[1.0], [-1.0]]), np.array([0.5, 0.2])
    blocks = c2.closed_form_blocks(inst, W_D, W_E, b)
    assert np.allclose(blocks["DD"], [[4.5, 0.0], [0.0, 0.0]])
    J = np.array([2.0, 0.0, 2.0, 0.0])
    assert np.allclose(blocks["Eb_full"], 2 * np.outer(J, J)) and np.allclose(blocks["EE"], [[8.0, 0.0], [0.0, 0.0]])
    # the same blocks as second differences of the loss itself (vec row-major, encoder rows then the bias)
    dd = second_differences(lambda v: approx_loss(inst, v.reshape(1, 2), W_E, b), W_D.ravel())
    eb = second_differences(lambda v: approx_loss(inst, W_D, v[:2].reshape(2, 1), v[2:]), np.r_[W_E.ravel(), b])
    assert np.allclose(blocks["DD"], dd, atol=1e-5) and np.allclose(blocks["Eb_full"], eb, atol=1e-5)
    no_bias = c2.closed_form_blocks(Instance(W_p=np.eye(1), activation=ReLU()), W_D, W_E)   # s = (1, 0) now
    assert np.allclose(no_bias["DD"], [[2.0, 0.0], [0.0, 0.0]]) and no_bias["Eb_full"].shape == (2, 2)


def test_closed_form_blocks_of_a_transcoder_sum_over_features(second_differences):
    # two features, two neurons, W_E = [[1, −½], [−½, 1]] (each neuron on for its own feature only, every
    # pre-activation away from 0): s_0 = (1, 0), s_1 = (0, 1); M = (1, 3); one target row: DD = 2·1·(s_0 s_0ᵀ) + 2·3·(s_1 s_1ᵀ) = diag(2, 6)
    inst = Instance(W_p=np.eye(2), W_r=np.array([[1.0, 1.0]]), weights=[1.0, 3.0], activation=ReLU())
    W_D, W_E = np.array([[0.3, -0.4]]), np.array([[1.0, -0.5], [-0.5, 1.0]])
    blocks = c2.closed_form_blocks(inst, W_D, W_E)
    assert np.allclose(blocks["DD"], np.diag([2.0, 6.0]))
    ee = second_differences(lambda v: approx_loss(inst, W_D, v.reshape(2, 2)), W_E.ravel())
    assert np.allclose(blocks["EE"], ee, atol=1e-5)


def test_block_eigenvalues_at_the_running_example():
    eig = c2.block_eigenvalues(ONE, *HALF)
    assert eig["decoder"] == pytest.approx(0.5) and eig["encoder"] == pytest.approx(0.5)
    assert eig["joint"] == pytest.approx(-0.5) and eig["closed_form_gap"] == pytest.approx(0.0, abs=1e-12)


def test_midpoint_checks_of_a_convex_quadratic_have_no_gap():
    # L̃ is a convex quadratic in D (and in E > 0): the midpoint value never exceeds the mean of the ends; the gaps
    # start at 0 and stay there. Every encoder step (even at scale 0.03) keeps E > 0 but for a 16σ draw: 4 segments.
    out = c2.midpoint_checks(ONE, *HALF, np.random.default_rng(5))
    assert out == {"decoder_gap": 0.0, "encoder_gap": 0.0, "region_midpoint_outside": False, "segments": 4}


def test_planted_joint_block_makes_check_instance_fail_with_its_point_and_numbers(monkeypatch):
    monkeypatch.setattr(c2, "CLAIMED_BLOCKS", ("decoder", "encoder", "joint"))
    v = c2.check_instance(ONE, W_D=HALF[0], W_E=HALF[1], seed=3, budget=9)
    assert (v.claim, v.title, v.status, v.seed, v.budget) == ("C2", "Piecewise biconvexity", "fails", 3, 9)
    assert v.evidence == "joint Hessian block has eigenvalue -0.5 < 0"
    n = v.numbers
    assert n["pattern"] == [[0]] and n["joint"] == pytest.approx(-0.5) and n["decoder"] == pytest.approx(0.5)
    assert (n["decoder_gap"], n["encoder_gap"], n["region_midpoint_outside"], n["segments"]) == (0.0, 0.0, False, 4)
    ce = v.counterexample
    assert ce["instance"] == ONE.to_json() and ce["b_E"] is None
    assert np.allclose(ce["W_D"], [[0.5]]) and np.allclose(ce["W_E"], [[0.5]]) and ce["joint"] == pytest.approx(-0.5)
    assert v.corrected_condition is None and v.steps == ()


def test_holding_check_instance_says_what_was_checked_word_for_word():
    v = c2.check_instance(ONE, W_D=HALF[0], W_E=HALF[1], seed=3, budget=9)
    assert (v.status, v.counterexample, v.seed, v.budget) == ("holds", None, 3, 9)
    assert v.evidence == ("in region [[0]]: decoder block min eigenvalue 0.5, encoder block 0.5 (relative), equal to the "
                          "Kronecker forms; 4 encoder segments and 4 decoder segments midpoint-convex, midpoints stay in "
                          "Ω_P; not jointly convex (full Hessian eigenvalue -0.5; not claimed)")
    # at D = E = 1: H = [[2E², −2 + 4DE], [·, 2D²]] = [[2, 2], [2, 2]], eigenvalues 0 and 4: jointly convex
    w = c2.check_instance(ONE, W_D=np.array([[1.0]]), W_E=np.array([[1.0]]))
    assert w.status == "holds" and w.evidence.endswith("midpoints stay in Ω_P; jointly convex here")


def test_batchtopk_check_reports_the_batch_reading():
    inst = Instance(W_p=np.eye(2), activation=BatchTopK(k=1))
    v = c2.check_instance(inst, W_D=np.eye(2), W_E=np.eye(2))
    assert v.status == "hypotheses_not_met" and v.counterexample is None
    assert v.evidence == ("BatchTopK(k=1) has no per-sample σ; L̃ is defined here only with the n single-feature inputs "
                          "as one batch. Under the batch reading: both blocks PSD")


# --- the default search, its two searches replaced -----------------------------------------------------------------


def _fake_search(monkeypatch, main, gated, examples=(), gated_examples=()):
    """find_counterexample returns ``main`` then ``gated``, after running the claim's predicate on the examples."""
    calls = []

    def fake(strategy, predicate, budget, seed):
        first = not calls
        calls.append((budget, seed))
        for ex in (examples if first else gated_examples):
            predicate(ex)
        return main if first else gated

    monkeypatch.setattr(c2, "find_counterexample", fake)
    return calls


def test_holding_search_counts_joint_and_batch_points_and_keeps_the_first_joint_example(monkeypatch):
    main = SearchResult(tried=3, held=2, skipped=1, budget=12, seed=5)
    gated = SearchResult(tried=10, held=10, budget=10, seed=12)
    batch = Instance(W_p=np.eye(2), activation=BatchTopK(k=1))
    # second point D = E = ¼: H = [[0.125, −1.75], [−1.75, 0.125]], relative minimum (0.125 − 1.75) / 1.75 ≈ −0.93
    examples = [(ONE, HALF, 1), (batch, (np.eye(2), np.eye(2), None), 2),
                (ONE, (np.array([[0.25]]), np.array([[0.25]]), None), 3)]
    calls = _fake_search(monkeypatch, main, gated, examples)
    v = c2.search(budget=12, seed=5)
    assert calls == [(12, 5), (10, 12)]   # the Gated search: max(10, 12 // 2) examples, seed + 7
    assert (v.status, v.counterexample, v.seed, v.budget) == ("holds", None, 5, 12)
    n = v.numbers
    assert (n["checked"], n["joint_nonconvex"], n["batch_checked"], n["batch_bad"]) == (2, 2, 1, 0)
    assert n["joint_nonconvex_example"]["instance"] == "Instance(SAE, n=1, n_p=1, n_r=1, activation=ReLU, " \
                                                       "interference=0, encoder_bias=False)"
    assert n["joint_nonconvex_example"]["joint_min_eigenvalue"] == pytest.approx(-0.5)
    fams = list(searched_families()) + ["gated (untied)"]
    assert n["families_searched"] == fams and n["search"] == main.summary() and n["gated_search"] == gated.summary()
    assert len(v.steps) == 6 and all(s.holds for s in v.steps)
    assert v.evidence == (
        f"all 6 symbolic steps follow (Hessian blocks are 2 M_d (I ⊗ s_d s_dᵀ) and 2 M_d J_dᵀ J_d); {main.summary()}; "
        f"BatchTopK under the batch reading: 1 of 1 convex in both blocks. Joint convexity (not claimed) failed at "
        f"2 of 2 points. Gated (untied, stacked encoder): {gated.summary()}. Families searched: {', '.join(fams)}.")


def test_holding_search_without_points_reports_zero_counts(monkeypatch):
    main, gated = SearchResult(tried=0, budget=1, seed=0), SearchResult(tried=0, budget=10, seed=7)
    calls = _fake_search(monkeypatch, main, gated)
    monkeypatch.setattr(c2, "proof_steps", lambda: [StepCheck("a", "b", True)])
    v = c2.search(budget=1, seed=0)
    assert calls == [(1, 0), (10, 7)]
    assert v.numbers["joint_nonconvex_example"] is None and v.numbers["batch_bad"] == 0
    assert "BatchTopK under the batch reading: 0 of 0 convex in both blocks. Joint convexity (not claimed) failed at " \
           "0 of 0 points." in v.evidence and v.evidence.startswith("all 1 symbolic steps follow")


def test_search_that_finds_a_violation_reports_it(monkeypatch):
    details = {"violations": ["v one", "v two"], "activation": "ReLU", "W_D": [[1.0]]}
    main = SearchResult(example="ex", details=details, tried=4, held=3, budget=8, seed=2)
    calls = _fake_search(monkeypatch, main, None)
    monkeypatch.setattr(c2, "proof_steps", lambda: [StepCheck("a", "b", True)])
    v = c2.search(budget=8, seed=2)
    assert calls == [(8, 2)]   # a failure found: the Gated search is not run
    assert (v.status, v.counterexample, v.seed, v.budget) == ("fails", details, 2, 8)
    assert v.evidence == f"counterexample: ['v one', 'v two'] (ReLU); {main.summary()}"
    assert "gated_search" not in v.numbers


def test_search_with_a_failed_step_and_no_counterexample_names_the_step(monkeypatch):
    main, gated = SearchResult(tried=4, held=4, budget=8, seed=2), SearchResult(tried=10, held=10, budget=10, seed=9)
    _fake_search(monkeypatch, main, gated)
    monkeypatch.setattr(c2, "proof_steps", lambda: [StepCheck("a", "b", True), StepCheck("bad step", "c", False, "r")])
    v = c2.search(budget=8, seed=2)
    assert (v.status, v.counterexample) == ("fails", None)
    assert v.evidence == f"counterexample: steps ['bad step']; {main.summary()}"
    assert [s.name for s in v.steps] == ["a", "bad step"]


def test_search_whose_gated_part_fails_reports_the_gated_counterexample(monkeypatch):
    details = {"violations": ["g"], "activation": "Gated"}
    main = SearchResult(tried=4, held=4, budget=30, seed=1)
    gated = SearchResult(example="g", details=details, tried=2, held=1, budget=15, seed=8)
    calls = _fake_search(monkeypatch, main, gated)
    monkeypatch.setattr(c2, "proof_steps", lambda: [StepCheck("a", "b", True)])
    v = c2.search(budget=30, seed=1)
    assert calls == [(30, 1), (15, 8)]   # 30 // 2 = 15 > 10
    assert (v.status, v.counterexample) == ("fails", details)
    assert v.evidence == f"counterexample: ['g'] (Gated); {gated.summary()}"
    assert v.numbers["search"] == gated.summary() and v.numbers["gated_search"] == gated.summary()


def test_search_predicate_returns_the_violating_point(monkeypatch):
    """The predicate itself, on the planted joint claim at D = E = ½: a record with the point and its eigenvalues."""
    monkeypatch.setattr(c2, "CLAIMED_BLOCKS", ("decoder", "encoder", "joint"))
    seen = []

    def fake(strategy, predicate, budget, seed):
        seen.append(predicate((ONE, HALF, 4)))
        return SearchResult(tried=1, held=1, budget=budget, seed=seed)

    monkeypatch.setattr(c2, "find_counterexample", fake)
    monkeypatch.setattr(c2, "proof_steps", lambda: [StepCheck("a", "b", True)])
    c2.search(budget=1, seed=0)
    rec = seen[0]
    assert rec["instance"] == ONE.to_json() and rec["activation"] == "ReLU" and rec["b_E"] is None
    assert rec["violations"] == ["joint Hessian block has eigenvalue -0.5 < 0"]
    assert rec["joint"] == pytest.approx(-0.5) and rec["decoder"] == pytest.approx(0.5)
    assert np.allclose(rec["W_D"], [[0.5]]) and np.allclose(rec["W_E"], [[0.5]])
    assert len(seen) == 2 and seen[1]["violations"] == rec["violations"]   # the Gated search's call: the same point


# --- the point a check starts from, and the spaces the search draws --------------------------------------------------


def _planted_point(monkeypatch, inst, **kw):
    """check_instance's starting point, read from its failing record (the planted joint claim fails everywhere but
    at jointly convex points)."""
    monkeypatch.setattr(c2, "CLAIMED_BLOCKS", ("decoder", "encoder", "joint"))
    monkeypatch.setattr(c2, "_violations", lambda eig, mids: ["planted"])
    v = c2.check_instance(inst, **kw)
    assert v.status == "fails" and v.evidence == "planted"
    return v.counterexample


def test_random_starting_point_is_drawn_as_documented(monkeypatch):
    # no encoder given: W_E ~ N(0, 1) of n + 1 rows, then (with a bias) b_E = 0.3·N(0, 1), then W_D ~ N(0, 1),
    # all from default_rng(seed)
    inst = Instance(W_p=np.eye(2), W_r=np.array([[1.0, 1.0]]), activation=ReLU(), encoder_bias=True)
    ce = _planted_point(monkeypatch, inst, seed=6)
    rng = np.random.default_rng(6)
    W_E = rng.normal(size=(3, 2))
    b_E = 0.3 * rng.normal(size=3)
    W_D = rng.normal(size=(1, 3))
    assert np.allclose(ce["W_E"], W_E) and np.allclose(ce["b_E"], b_E) and np.allclose(ce["W_D"], W_D)
    no_bias = _planted_point(monkeypatch, inst.replace(encoder_bias=False), seed=6)
    rng = np.random.default_rng(6)
    W_E = rng.normal(size=(3, 2))
    assert np.allclose(no_bias["W_E"], W_E) and no_bias["b_E"] is None
    assert np.allclose(no_bias["W_D"], rng.normal(size=(1, 3)))   # no bias draw in between


def test_starting_point_from_a_pattern_is_the_lp_witness(monkeypatch):
    from theory.patterns import as_pattern, region

    inst = Instance(W_p=np.eye(2), activation=ReLU())
    ce = _planted_point(monkeypatch, inst, pattern=[{0, 1}, set()], seed=2)
    found = region(inst, as_pattern([{0, 1}, set()], inst)).find_point()
    assert np.allclose(ce["W_E"], found.W_E) and ce["b_E"] is None
    assert np.allclose(ce["W_D"], np.random.default_rng(2).normal(size=(2, 2)))   # the decoder: the first draw
    given = _planted_point(monkeypatch, inst, W_E=np.eye(2), W_D=2 * np.eye(2))
    assert np.allclose(given["W_E"], np.eye(2)) and np.allclose(given["W_D"], 2 * np.eye(2))


def test_an_unrealizable_pattern_is_refused_with_the_lps_reason(refuses):
    import re

    # two features on one line (w_1 = −w_0): a neuron on for both would need u·w_0 > 0 and −u·w_0 > 0
    inst = Instance(W_p=np.array([[1.0, -1.0]]), activation=ReLU())
    refuses(lambda: c2.check_instance(inst, pattern=[{0, 1}]),
            re.compile(r"pattern \[\{0, 1\}\] is not realizable for this instance: .+"))


def test_the_search_spaces_draw_what_the_docstrings_say(monkeypatch):
    """_space: instances with 1..4 features in at most 4 dimensions, a point with at most 4 neurons, a seed in
    [0, 2³¹); _gated_space: ReLU instances made untied Gated, at most 3 units."""
    from proofs_check.search import find_counterexample
    from theory import strategies as S
    from theory.activations import Gated

    asked = []
    real_inst, real_pts = S.instances, S.points_in_region
    monkeypatch.setattr(c2, "instances", lambda **kw: asked.append(("instances", kw)) or real_inst(**kw))
    monkeypatch.setattr(c2, "points_in_region", lambda inst, **kw: asked.append(("points", kw)) or real_pts(inst, **kw))
    drawn = []
    find_counterexample(c2._space(), lambda ex: drawn.append(ex) and None, budget=3, seed=0)
    assert ("instances", {"min_n": 1, "max_n": 4, "max_dim": 4, "families": None}) in asked
    assert ("points", {"max_q": 4}) in asked
    assert drawn and all(0 <= ex[2] < 2**31 and 1 <= ex[0].n <= 4 and ex[1][1].shape[0] <= 4 for ex in drawn)
    asked.clear()
    drawn.clear()
    find_counterexample(c2._gated_space(), lambda ex: drawn.append(ex) and None, budget=3, seed=0)
    assert ("instances", {"min_n": 1, "max_n": 4, "max_dim": 4, "families": ("relu",)}) in asked
    assert ("points", {"max_q": 3}) in asked
    assert drawn and all(isinstance(ex[0].activation, Gated) and not ex[0].activation.tied for ex in drawn)


def test_block_eigenvalues_with_a_bias_are_relative_to_the_largest_hessian_entry(second_differences):
    """The two-neuron bias point of the first test: the full Hessian over (W_D, W_E, b) by second differences of L̃;
    each reported eigenvalue is the smallest eigenvalue of its block divided by max(1, max |H|)."""
    inst = Instance(W_p=np.eye(1), activation=ReLU(), encoder_bias=True)
    W_D, W_E, b = np.array([[2.0, 3.0]]), np.array([[1.0], [-1.0]]), np.array([0.5, 0.2])
    H = second_differences(lambda v: approx_loss(inst, v[:2].reshape(1, 2), v[2:4].reshape(2, 1), v[4:]),
                           np.r_[W_D.ravel(), W_E.ravel(), b])
    scale = max(1.0, np.abs(H).max())
    assert scale > 8   # the encoder entries 2·2² = 8 and more: the scale is not 1 here
    eig = c2.block_eigenvalues(inst, W_D, W_E, b)
    assert eig["decoder"] == pytest.approx(np.linalg.eigvalsh(H[:2, :2]).min() / scale, abs=1e-6)
    assert eig["encoder"] == pytest.approx(np.linalg.eigvalsh(H[2:, 2:]).min() / scale, abs=1e-6)
    assert eig["joint"] == pytest.approx(np.linalg.eigvalsh(H).min() / scale, abs=1e-6)
    assert eig["joint"] < -1e-3 and eig["closed_form_gap"] < 1e-12


def test_midpoint_checks_go_on_after_a_round_without_an_encoder_segment():
    """At E = 10⁻³ (just inside E > 0) a second encoder E + s·N(0, 1) often leaves the region even at s = 0.03.
    Replaying the documented draws (per round: a decoder step N(0, 1), then an encoder step at s = 0.3, 0.1, 0.03
    until one stays inside): with seed 2 the first round finds no encoder segment and the other three each find one,
    so 3 segments of 4 rounds."""
    rng = np.random.default_rng(2)
    rounds = []
    for _ in range(4):
        rng.normal(size=(1, 1))
        rounds.append(any(1e-3 + s * rng.normal(size=(1, 1))[0, 0] > 0 for s in (0.3, 0.1, 0.03)))
    assert rounds == [False, True, True, True]
    out = c2.midpoint_checks(ONE, np.array([[0.5]]), np.array([[1e-3]]), None, np.random.default_rng(2))
    assert out["segments"] == 3 and out["decoder_gap"] == 0.0 and not out["region_midpoint_outside"]
