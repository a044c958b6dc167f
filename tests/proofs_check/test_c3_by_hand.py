"""C3 by hand: every field of a failing verdict's record, the three `why` texts, the corrected statement's two
outcomes on one instance, and the search's branches that only a failing corrected / TopK / Gated search reaches
(reached by planting bounds no construction meets), each record checked against the construction rebuilt here."""
import numpy as np
import pytest

from proofs_check import check
from proofs_check import c3_construction as c3
from theory import Instance
from theory.activations import JumpReLU, ReLU, TopK
from theory.objective import approx_loss


def _opposed():  # w1·w2 = −0.99, w3 ⟂ both: Gram [[1, −.99, 0], [−.99, 1, 0], [0, 0, 1]], M = 0
    W = np.zeros((3, 3))
    W[:, 0], W[:2, 1], W[2, 2] = [1, 0, 0], [-0.99, np.sqrt(1 - 0.99**2)], 1
    return W


def test_topk_failure_record_every_field_by_hand():
    inst = Instance(W_p=_opposed(), weights=[1.0, 1.0, 1.0], activation=TopK(k=3))
    v = check("C3", inst)
    ce = v.counterexample
    gram = np.array([[1, -0.99, 0], [-0.99, 1, 0], [0, 0, 1]])
    assert set(ce) == {"instance", "activation", "gram_W_p", "interference_M", "n_q", "loss", "bound", "diagonal_kept",
                       "negative_entries_kept"}
    assert Instance.from_json(ce["instance"]).activation == TopK(k=3)
    assert np.allclose(Instance.from_json(ce["instance"]).W_p, _opposed())
    assert ce["activation"] == "TopK(k=3)"
    assert np.allclose(ce["gram_W_p"], gram) and ce["interference_M"] == pytest.approx(0.0, abs=1e-12)
    # TopK(3) keeps all three pre-activations (1, −0.99, 0) of features 1 and 2: residual of feature 1 is 0.99 w^2, of feature 2 0.99 w^1, of feature 3 zero → L̃ = 2 · 0.99²
    assert ce["n_q"] == 3 and ce["loss"] == pytest.approx(2 * 0.99**2) and ce["bound"] == pytest.approx(0.0, abs=1e-20)
    assert ce["diagonal_kept"] is True and ce["negative_entries_kept"] is True
    assert v.numbers == {k: ce[k] for k in ("loss", "bound", "diagonal_kept", "negative_entries_kept", "n_q")}
    assert v.evidence == "L̃ = 1.9602 > n² M² Σ M_d = 0 (σ keeps negative off-diagonal entries)"
    # corrected: scale 1, bound n² μ² Σ M_d = 9 · 0.99² · 3 = 26.4627 with the coherence μ = 0.99
    assert v.corrected_condition.evidence == "on this instance the corrected construction/bound gives L̃ = 1.9602 ≤ 26.4627 [not verified: no search counts]"


def test_jumprelu_failure_record_and_its_repair_by_hand():
    inst = Instance(W_p=np.eye(2), weights=[1.0, 2.0], activation=JumpReLU(theta=1.0))
    v = check("C3", inst, n_q=3)   # one extra (dead) neuron
    ce = v.counterexample
    # pre-activation 1 is not > θ = 1: every unit off, L̃ = M_1 + M_2 = 3 > 4 · 0² · 3 = 0
    assert ce["loss"] == pytest.approx(3.0) and ce["bound"] == 0.0 and ce["n_q"] == 3
    assert ce["diagonal_kept"] is False and ce["negative_entries_kept"] is False
    assert np.array_equal(ce["gram_W_p"], np.eye(2)) and ce["interference_M"] == 0.0
    assert v.evidence == "L̃ = 3 > n² M² Σ M_d = 0 (the diagonal unit is switched off)"
    # scaled by 2θ = 2 the diagonal unit is on, every residual 0
    assert v.corrected_condition.evidence == "on this instance the corrected construction/bound gives L̃ = 0 ≤ 0 [not verified: no search counts]"
    assert v.corrected_condition.verified is False   # one instance never verifies a statement


def test_failure_with_everything_kept_says_see_the_numbers_and_a_failing_correction(monkeypatch):
    # ReLU, <w1, w2> = 0.5: L̃ = 2 · 0.25 = 0.5 (by hand); planted bounds 0.1 and 0.2 are both below it
    monkeypatch.setattr(c3, "claimed_bound", lambda inst: 0.1)
    monkeypatch.setattr(c3, "corrected_bound", lambda inst: 0.2)
    v = check("C3", Instance(W_p=np.array([[1.0, 0.5], [0.0, np.sqrt(0.75)]]), weights=[1.0, 1.0], activation=ReLU()))
    assert v.status == "fails"
    assert v.evidence == "L̃ = 0.5 > n² M² Σ M_d = 0.1 (see the numbers)"
    assert v.corrected_condition.evidence == "corrected statement also fails here: 0.5 > 0.2"


def _rebuilt(rec: dict, scale: float) -> tuple[Instance, float, np.ndarray]:
    """The construction of a record's instance built here: W_E = [s W_pᵀ; 0], W_D = [W_r / s, 0]."""
    inst = Instance.from_json(rec["instance"])
    n, n_q = inst.n, rec["n_q"]
    W_E = np.zeros((n_q, inst.n_p))
    W_E[:n] = scale * inst.W_p.T
    W_D = np.zeros((inst.n_r, n_q))
    W_D[:, :n] = inst.W_r / scale
    W_E, b = inst.activation.unit_encoder(W_E, np.zeros(n_q) if inst.encoder_bias else None)
    return inst, approx_loss(inst, W_D, W_E, b), inst.activation.active(inst.pre_activations(W_E, b))


def _check_record(rec: dict, bound: float, corrected: bool):
    inst = Instance.from_json(rec["instance"])
    act = inst.activation
    scale = 2 * act.theta if corrected and isinstance(act, JumpReLU) and act.theta >= 1 else 1.0
    inst, loss, kept = _rebuilt(rec, scale)
    gram = inst.W_p.T @ inst.W_p
    off = gram[~np.eye(inst.n, dtype=bool)]
    assert rec["activation"] == act.describe() and rec["bound"] == bound
    assert np.allclose(rec["gram_W_p"], gram) and rec["interference_M"] == pytest.approx(off.max())
    assert rec["n_q"] >= inst.n and rec["loss"] == pytest.approx(loss, abs=1e-12)
    assert rec["diagonal_kept"] == bool(np.all(kept[np.arange(inst.n), np.arange(inst.n)]))


def test_search_where_every_bound_is_missed_reaches_every_failure_branch(monkeypatch):
    # claimed bound −1, corrected −2: every searched instance violates both, so the corrected, TopK and Gated
    # searches all report failures, and with an unreachable robust margin no robust counterexample exists
    monkeypatch.setattr(c3, "claimed_bound", lambda inst: -1.0)
    monkeypatch.setattr(c3, "corrected_bound", lambda inst: -2.0)
    monkeypatch.setattr(c3, "ROBUST_MARGIN", 1e9)
    v = check("C3", budget=10, seed=0)
    assert v.status == "fails"
    ex = v.counterexample
    _check_record(ex, -1.0, corrected=False)
    assert "robust_margin" not in ex and "minimal" not in ex
    cc = v.corrected_condition
    assert cc.verified is False and "; fails at {" in cc.evidence and "; Gated: failure found" in cc.evidence
    assert v.evidence.startswith("No counterexample with every pre-activation ≥ 1000000000.0 from every threshold and tie "
                                 "was found (no failure in ")
    t = v.numbers["topk_counterexample"]
    _check_record(t, -1.0, corrected=False)
    assert Instance.from_json(t["instance"]).activation.describe().startswith("TopK(")
    gram_text = str(np.round(np.asarray(t["gram_W_p"]), 3).tolist())
    assert (f" TopK without ReLU: {t['activation']}, Gram {gram_text}, L̃ = {t['loss']:.4g} > -1 "
            f"(negative entries kept: {t['negative_entries_kept']}).") in v.evidence
    g = v.numbers["gated_counterexample"]
    _check_record(g, -1.0, corrected=False)
    assert g["activation"].startswith("Gated")
    assert f" (L̃ = {g['loss']:.4g} > -1)" in v.evidence
    assert v.numbers["gated_search"].startswith("failure found")
    assert v.numbers["gated_corrected_search"].startswith("failure found")
    assert v.numbers["corrected_search"].startswith("failure found")
    assert v.numbers["topk_search"].startswith("failure found")


def test_corrected_search_failure_record_is_the_corrected_construction(monkeypatch):
    # the corrected search's record itself: read through the corrected condition's counts and the verdict's
    # text; its bound must be the corrected one (−2) and its loss the corrected (scaled) construction's
    seen = []
    real = c3._record

    def spy(inst, r):
        out = real(inst, r)
        seen.append(out)
        return out

    monkeypatch.setattr(c3, "_record", spy)
    monkeypatch.setattr(c3, "corrected_bound", lambda inst: -2.0)
    v = check("C3", budget=10, seed=0)
    corrected = [rec for rec in seen if rec["bound"] == -2.0]
    assert corrected and v.corrected_condition.verified is False
    for rec in corrected:
        _check_record(rec, -2.0, corrected=True)
    assert "; fails at {'instance': " in v.corrected_condition.evidence


def test_search_robust_and_minimal_counterexamples_by_hand():
    # seed 0: the robust failure is JumpReLU(θ = 1.5) on 2 features, the minimal one JumpReLU(θ = 1) (on its threshold)
    v = check("C3", budget=30, seed=0)
    rb = v.counterexample
    inst = Instance.from_json(rb["instance"])
    G = inst.W_p.T @ inst.W_p
    M = G[0, 1]
    # every pre-activation (1 on the diagonal, M off it) is below θ = 1.5: all units off, L̃ = Σ M_d ||w_r^d||²
    assert rb["activation"] == "JumpReLU(θ=1.5)" and rb["n_q"] == 2
    assert rb["loss"] == pytest.approx(float(inst.weights @ (inst.W_r**2).sum(axis=0)))
    assert rb["bound"] == pytest.approx(4 * M**2 * inst.weights.sum()) and rb["interference_M"] == pytest.approx(M)
    assert rb["robust_margin"] == pytest.approx(min(1.5 - 1.0, 1.5 - M))   # slack of z < θ, the nearest being z = 1
    assert rb["diagonal_kept"] is False and rb["negative_entries_kept"] is False
    mn = rb["minimal"]
    assert mn["activation"] == "JumpReLU(θ=1)" and mn["margin_from_thresholds"] == 0.0   # z = 1 = θ
    m_inst = Instance.from_json(mn["instance"])
    Gm = m_inst.W_p.T @ m_inst.W_p
    assert mn["summary"] == (f"JumpReLU(θ=1), n = 2, n_q = 2, Gram {np.round(Gm, 3).tolist()}: "
                             f"L̃ = {mn['loss']:.4g} > n² M² Σ M_d = {mn['bound']:.4g}")
    assert rb["summary"] == (f"robust: JumpReLU(θ=1.5), n = 2, n_q = 2, margin 0.5: L̃ = {rb['loss']:.4g} > "
                             f"n² M² Σ M_d = {rb['bound']:.4g}; minimal (on a threshold): {mn['summary']}")
    assert v.evidence.startswith("Robust counterexample (every pre-activation at least 0.5 from every threshold and tie): "
                                 f"JumpReLU(θ=1.5), n = 2, n_q = 2, M = {M:.3g}: L̃ = {rb['loss']:.6g} > bound "
                                 f"{rb['bound']:.6g} (diagonal unit switched off; failure found after ")
    assert (f"Beside it, the minimal counterexample: JumpReLU(θ=1), n = 2, n_q = 2, M = {Gm[0, 1]:.3g}: "
            f"L̃ = {mn['loss']:.6g} > bound {mn['bound']:.6g} (diagonal unit switched off; ") in v.evidence
    assert v.numbers["figure"]["series"]["claimed bound n² M² Σ M_d"] == [0.0] * 12


def test_a_failing_verdict_keeps_its_seed_and_budget():
    v = check("C3", Instance(W_p=np.eye(2), activation=JumpReLU(theta=1.0)), seed=3, budget=7)
    assert v.status == "fails" and (v.seed, v.budget) == (3, 7)


def test_the_topk_search_draws_k_from_2_to_4(monkeypatch):
    # the search space's docstring: every family with k up to 4; the TopK-only search draws TopK(k) for k in 2..4
    seen = []
    real = c3._space

    def spy(families=None):
        seen.append(families)
        return real(families)

    monkeypatch.setattr(c3, "_space", spy)
    check("C3", budget=2, seed=0)
    drawn = [repr(f) for f in seen if f is not None and not isinstance(f, tuple)]
    assert drawn == ["builds(TopK, k=integers(min_value=2, max_value=4))"]
