"""proofs_check.bridge by hand, second part (issue 12 part 5, results/mutation/m6h_hbridge): inspect's whole printout
(what `sdl-theory inspect` shows) written out line by line for points whose every number is derived here by hand,
every field of the partial-optimum and global-optimum records, the global reference's texts on each of its branches,
the JSON's pattern cut-off, the status thresholds with inputs either side, and the refusals' exact texts."""
import json
import math

import numpy as np
import pytest

from proofs_check import bridge
from proofs_check.bridge import global_reference, inspect_point
from theory.activations import JumpReLU
from theory.errors import SDLInputError
from theory.instance import Instance

NOT_GLOBAL = ("is above the reference {ref} and the point is not at the partial optimum of its pattern (unfinished "
              "training, or a penalty that L̃ does not have)")
C3 = "C3 construction W_E = [W_pᵀ; 0], W_D = [W_r, 0] (L̃ = 0 is the global minimum)"


def _dropped():
    """Orthonormal features of weights 1, 2, 3 in R³; two ReLU units reading features 1 and 2 (feature 0 dropped)."""
    return Instance(W_p=np.eye(3), weights=np.array([1.0, 2.0, 3.0])), np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


# the dropped-feature point at W_D = W_Eᵀ/2, by hand. Codes: feature 1 → unit 0 (1), feature 2 → unit 1 (1), feature 0
# → nothing. Residuals r_1 = e_1 − e_1/2 = e_1/2, r_2 = e_2/2, r_0 = e_0: L̃ = 1 + 2/4 + 3/4 = 2.25; L̃ at W_D = 0:
# 1 + 2 + 3 = 6. ∇_{W_D} = −2 Σ M_d r_d s_dᵀ: entries −2 (row 1, col 0) and −3 (row 2, col 1), norm √13 = 3.61.
# ∇_{W_E} = −2 Σ M_d (W_Dᵀ r_d) w_p^dᵀ: W_Dᵀ r_d = e_unit/4, entries −1 and −1.5, norm √3.25 = 1.80; relative
# √(13 + 3.25)/6 = 0.672. Slack: the on cells have z = 1 (strict), the off cells z = 0 (weak, slack 0). The least-squares
# decoder is W_Eᵀ (relative error ||W_Eᵀ/2|| / ||W_Eᵀ|| = 0.5, cosines 1, L̃ = M_0 = 1).
HEAD = [
    "instance: n=3 features, n_p=3, n_r=3, n_q=2 neurons; σ = ReLU; encoder bias: False",
    "pattern on single-feature inputs: 2 live neurons, 0 dead, 0 polysemantic; features [0] switch on no neuron",
    "  P = ({1}, {2})",
    "achieved L̃ = 2.25  (L̃ at W_D = 0: 6)",
    "stationarity residual of L̃ in Ω_P: ||∇_decoder|| = 3.61, ||∇_encoder|| = 1.8  (relative 0.672)",
    "position in Ω_P: smallest slack 1 over the strict inequalities, 0 over the weak ones — strictly inside",
    "least-squares decoder W_D*: relative error of learned W_D 0.5; cosine per live column min 1.0000, mean 1.0000; "
    "L̃(W_D*, W_E) = 1",
]
TAIL = ("global optimum: reference 1 from the least-squares decoder at this encoder (an upper bound); status: NOT_GLOBAL — "
        "L̃ = 2.25 " + NOT_GLOBAL.format(ref=1))


@pytest.mark.parametrize("kw,line", [
    # ACS: the first step reaches the pattern's optimum 1 (W_D = W_Eᵀ, feature 0 still lost), the second lowers nothing:
    # converged after 2 iterations; with one iteration allowed it stops unconverged
    ({}, "partial optimum of P (ACS from this point, 2 iterations, converged): predicted L̃ = 1 vs achieved 2.25 "
         "(gap 1.25); point itself a partial minimum: False"),
    ({"acs_iters": 1}, "partial optimum of P (ACS from this point, 1 iterations, not converged): predicted L̃ = 1 vs "
                       "achieved 2.25 (gap 1.25); point itself a partial minimum: False"),
    ({"acs": False}, "partial optimum of P: skipped (disabled); L̃(W_D*, W_E) = 1 bounds it above"),
    # 2 × 3 encoder entries
    ({"acs_max_vars": 5}, "partial optimum of P: skipped (6 encoder variables > acs_max_vars = 5); L̃(W_D*, W_E) = 1 "
                          "bounds it above"),
])
def test_inspect_text_of_a_point_off_its_partial_optimum_line_by_hand(kw, line):
    inst, W_E = _dropped()
    r = inspect_point(inst, W_E.T / 2, W_E, restarts=0, **kw)
    assert r.to_text() == "\n".join(HEAD + [line, TAIL])


def test_inspect_partial_optimum_record_by_hand():
    """Every field of the ACS record at the dropped-feature point. The point's check (scale 1 + ΣM_d = 7): decoder
    gradient √13/7 = 0.515, encoder residual √3.25/7 = 0.258, and the encoder can still reach the pattern's 1."""
    inst, W_E = _dropped()
    po = inspect_point(inst, W_E.T / 2, W_E, restarts=0).partial_optimum
    assert po == {"loss": pytest.approx(1.0, abs=1e-12), "iterations": 2, "converged": True, "on_boundary": False,
                  "pattern_kept": True, "end_is_partial_minimum": True, "point_is_partial_minimum": False,
                  "point_check": "decoder gradient 0.515 ≠ 0 (W_D is not the least-squares decoder); encoder KKT "
                                 "residual 0.258: the encoder can still lower L̃ inside Ω_P to 1",
                  "gap": pytest.approx(1.25, abs=1e-12)}
    assert list(po) == ["loss", "iterations", "converged", "on_boundary", "pattern_kept", "end_is_partial_minimum",
                        "point_is_partial_minimum", "point_check", "gap"]
    # the residual record: the norms above, which method, and the slack of the point in its own region
    res = inspect_point(inst, W_E.T / 2, W_E, acs=False).residual
    assert res["norms"] == {"decoder": pytest.approx(math.sqrt(13), rel=1e-12),
                            "encoder": pytest.approx(math.sqrt(3.25), rel=1e-12)}
    assert res["relative"] == pytest.approx(math.sqrt(16.25) / 6, rel=1e-12) and res["method"] == "symbolic"
    assert res["region_slack"] == {"strict": 1.0, "weak": 0.0, "inside": True, "method": "per-neuron reduction"}


def test_inspect_text_and_records_of_a_spurious_partial_minimum_by_hand():
    """Unit 0 on features 0 and 1 with decoder column (e_0 + e_1)/2, unit 1 on feature 2 with e_2, unit 2 dead:
    L̃ = 1/2 + 1/2 = 1, every gradient 0 (the residuals of features 0, 1 are opposite and orthogonal to the column), the
    encoder value a = <e_d, u>/||u||² = 1 already optimal, so a partial minimum; C3 reaches 0 (3 units, 3 features)."""
    inst = Instance(W_p=np.eye(3), weights=np.ones(3))
    W_E = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, -1.0, -1.0]])
    W_D = np.array([[0.5, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 1.0, 0.0]])
    r = inspect_point(inst, W_D, W_E)
    assert r.to_text() == "\n".join([
        "instance: n=3 features, n_p=3, n_r=3, n_q=3 neurons; σ = ReLU; encoder bias: False",
        "pattern on single-feature inputs: 2 live neurons, 1 dead, 1 polysemantic; a partition of the features",
        "  P = ({0,1}, {2}, ∅)",
        "achieved L̃ = 1  (L̃ at W_D = 0: 3)",
        "stationarity residual of L̃ in Ω_P: ||∇_decoder|| = 0, ||∇_encoder|| = 0  (relative 0)",
        "position in Ω_P: smallest slack 1 over the strict inequalities, 0 over the weak ones — strictly inside",
        "least-squares decoder W_D*: relative error of learned W_D 0; cosine per live column min 1.0000, mean 1.0000; "
        "L̃(W_D*, W_E) = 1",
        "partial optimum of P (ACS from this point, 2 iterations, converged): predicted L̃ = 1 vs achieved 1 (gap 0); "
        "point itself a partial minimum: True",
        f"global optimum: reference 0 from {C3}; status: SPURIOUS — the point is (within tol) a partial optimum of its "
        "pattern but a configuration with L̃ = 0 < 1 exists",
    ])
    g = r.global_optimum
    assert g == {"reference": C3, "reference_loss": 0.0, "exact": True, "restarts": 0, "status": "spurious",
                 "why": "the point is (within tol) a partial optimum of its pattern but a configuration with L̃ = 0 < 1 "
                        "exists", "tol": 0.001}
    # the off cells of units 0 (feature 2) and 1 (features 0, 1) are at z = 0: three active weak inequalities
    assert r.partial_optimum["point_check"] == ("KKT holds: decoder gradient 0, encoder KKT residual 0 (3 active weak "
                                                "inequalities); the encoder's minimum over Ω_P is attained")
    assert r.partial_optimum["point_is_partial_minimum"] is True and r.partial_optimum["gap"] == 0.0


def test_inspect_text_of_a_point_on_a_tie_by_hand():
    """JumpReLU(θ = 0.5), W_E = diag(1, 0.5): unit 0 on feature 0 (z = 1 > θ), unit 1 exactly at θ on feature 1 — off,
    and a strict inequality z <= θ... of slack 0: on a boundary, so ACS is skipped; the least-squares decoder keeps
    column e_0 and drops the dead unit's (relative error ||e_1|| / ||e_0|| = 1), L̃ = M_1 = 1."""
    inst = Instance(W_p=np.eye(2), weights=np.ones(2), activation=JumpReLU(theta=0.5))
    r = inspect_point(inst, np.eye(2), np.diag([1.0, 0.5]))
    assert r.to_text() == "\n".join([
        "instance: n=2 features, n_p=2, n_r=2, n_q=2 neurons; σ = JumpReLU(θ=0.5); encoder bias: False",
        "pattern on single-feature inputs: 1 live neurons, 1 dead, 0 polysemantic; features [1] switch on no neuron",
        "  P = ({0}, ∅)",
        "achieved L̃ = 1  (L̃ at W_D = 0: 2)",
        "stationarity residual of L̃ in Ω_P: ||∇_decoder|| = 0, ||∇_encoder|| = 0  (relative 0)",
        "position in Ω_P: smallest slack 0 over the strict inequalities, inf over the weak ones — ON A BOUNDARY (a tie)",
        "least-squares decoder W_D*: relative error of learned W_D 1; cosine per live column min 1.0000, mean 1.0000; "
        "L̃(W_D*, W_E) = 1",
        "partial optimum of P: skipped (the point lies on a boundary of its region (ties); ACS needs an interior start); "
        "L̃(W_D*, W_E) = 1 bounds it above",
        f"global optimum: reference 0 from {C3}; status: NOT_GLOBAL — L̃ = 1 " + NOT_GLOBAL.format(ref=0),
    ])
    assert r.residual["region_slack"] == {"strict": 0.0, "weak": math.inf, "inside": False,
                                          "method": "per-neuron reduction"}


@pytest.mark.parametrize("n", [35, 36])
def test_inspect_text_cuts_a_long_partition_problem_at_150_characters(n):
    """One unit on feature 0 of n, the rest dead: 'features [1, …, n−1] switch on no neuron' is 156 characters for
    n = 35 (printed whole) and 160 for n = 36 (cut to its first 150 and ' …'). n_q = 13 > 12: no P line, the dead listed."""
    n_q = 13
    W_E = -np.ones((n_q, n))
    W_E[0] = 0.0
    W_E[0, 0] = 1.0
    W_D = np.zeros((n, n_q))
    W_D[0, 0] = 1.0
    problem = "features [" + ", ".join(str(i) for i in range(1, n)) + "] switch on no neuron"
    assert len(problem) == {35: 156, 36: 160}[n]
    shown = problem if n == 35 else problem[:150] + " …"
    lines = inspect_point(Instance(W_p=np.eye(n)), W_D, W_E, acs=False).to_text().splitlines()
    assert lines[1] == f"pattern on single-feature inputs: 1 live neurons, 12 dead, 0 polysemantic; {shown}"
    assert lines[2] == "  dead neurons: " + ", ".join(map(str, range(1, 13)))
    assert lines[3] == f"achieved L̃ = {n - 1}  (L̃ at W_D = 0: {n})"


def test_inspect_text_says_the_encoder_bias_and_the_decoder_bias_by_hand():
    """W_E = W_D = I with encoder bias 0 and decoder bias 0.1·(1, 1, 1): ||b_D|| = √0.03 = 0.173, and with it added
    every feature's residual is −b_D: L̃ = 3 · 0.03 = 0.09."""
    inst = Instance(W_p=np.eye(3), weights=np.ones(3), encoder_bias=True)
    r = inspect_point(inst, np.eye(3), np.eye(3), np.zeros(3), b_D=np.full(3, 0.1), acs=False, unmet=("first",))
    lines = r.to_text().splitlines()
    assert lines[0] == "instance: n=3 features, n_p=3, n_r=3, n_q=3 neurons; σ = ReLU; encoder bias: True"
    assert lines[-2:] == ["unmet assumption: first",
                          "unmet assumption: the model has a decoder bias (||b_D|| = 0.173); L̃ and every prediction here "
                          "have none (L̃ with it added: 0.09)"]
    assert r.extra == {"decoder_bias_norm": pytest.approx(math.sqrt(0.03), rel=1e-12),
                       "loss_with_decoder_bias": pytest.approx(0.09, rel=1e-12)}
    # a zero decoder bias is recorded but is no unmet assumption
    r0 = inspect_point(inst, np.eye(3), np.eye(3), np.zeros(3), b_D=np.zeros(3), acs=False)
    assert r0.unmet == () and r0.extra == {"decoder_bias_norm": 0.0, "loss_with_decoder_bias": 0.0}
    # no decoder bias given: nothing recorded, the extra passed in kept
    assert inspect_point(inst, np.eye(3), np.eye(3), np.zeros(3), acs=False, extra={"k": 1}).extra == {"k": 1}


@pytest.mark.parametrize("limit", [1, 2])
def test_inspect_json_leaves_out_a_pattern_above_its_cut_off(limit, monkeypatch):
    """Two firing (feature, neuron) pairs (units on features 0 and 1 of three; unit 2 dead): listed when the cut-off is
    2, left out (counts per neuron instead, and why; the printout says so too) when it is 1."""
    monkeypatch.setattr(bridge, "PATTERN_JSON_MAX", limit)
    W_E = np.array([[1.0, 0, 0], [0, 1.0, 0], [-1.0, -1, -1]])
    r = inspect_point(Instance(W_p=np.eye(3)), W_E.T.copy(), W_E, acs=False)
    if limit == 2:
        assert r.pattern == [[0], [1], []] and "pattern_omitted" not in r.extra
        assert r.to_text().splitlines()[2] == "  P = ({0}, {1}, ∅)"
    else:
        assert r.pattern is None and r.extra == {
            "pattern_omitted": "2 (feature, neuron) pairs fire, more than 1: the sets F_i are left out of the JSON "
                               "(sdl-theory inspect --pattern-out FILE writes the mask)",
            "pattern_counts": [1, 1, 0]}
        assert r.to_json()["extra"]["pattern_counts"] == [1, 1, 0]
        # the printout (3 units <= 12, where P is listed otherwise) says how many pairs fire and |F_i| per neuron (it
        # raised a TypeError before, iterating the pattern left out)
        assert r.to_text().splitlines()[2] == ("  P: 2 (feature, neuron) pairs fire, too many to list; |F_i| per "
                                               "neuron: 1, 1, 0")
    assert r.pattern_mask.tolist() == [[True, False, False], [False, True, False], [False, False, False]]


@pytest.mark.parametrize("tol,status", [(0.2, "not_global"), (0.21, "best_known")])
def test_inspect_status_threshold_is_tol_times_the_loss_scale(tol, status):
    """The dropped-feature point: achieved 2.25, reference 1 (the least-squares decoder), scale 6 — within tol·6 of the
    reference when tol·6 >= 1.25 (tol = 0.21: 1.26), not when 1.2 (tol = 0.2; nor is it within 1.2 of its pattern's
    optimum 1)."""
    inst, W_E = _dropped()
    g = inspect_point(inst, W_E.T / 2, W_E, restarts=0, tol=tol).global_optimum
    assert g["status"] == status and g["tol"] == tol


@pytest.mark.parametrize("eps,status", [(0.05, "spurious"), (0.06, "not_global")])
def test_inspect_a_point_near_its_partial_optimum_is_spurious_within_tol(eps, status):
    """The spurious point with unit 1's column shrunk to (1 − ε) e_2: L̃ = 1 + ε² (not a partial minimum: the decoder
    gradient is not 0), its pattern's optimum 1, the global minimum 0, tol·scale = 0.003: spurious for ε² = 0.0025,
    not global for ε² = 0.0036."""
    inst = Instance(W_p=np.eye(3), weights=np.ones(3))
    W_E = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, -1.0, -1.0]])
    W_D = np.array([[0.5, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 1.0 - eps, 0.0]])
    r = inspect_point(inst, W_D, W_E)
    assert r.achieved_loss == pytest.approx(1 + eps * eps, rel=1e-12)
    assert r.partial_optimum["point_is_partial_minimum"] is False
    assert r.partial_optimum["loss"] == pytest.approx(1.0, abs=1e-9)
    assert r.global_optimum["status"] == status


# --- the global reference on each branch ------------------------------------------------------------------------------

def test_global_reference_when_restarts_cannot_be_afforded_or_are_not_asked():
    inst = Instance(W_p=np.eye(3), weights=np.ones(3))      # 2 units < 3 features: no construction
    assert global_reference(inst, 2, restarts=4, max_vars=5) == {
        "reference": "none affordable; ACS restarts skipped (6 encoder variables > 5)", "reference_loss": None,
        "exact": False, "restarts": 0}
    assert global_reference(inst, 2, restarts=0, max_vars=5) == {
        "reference": "none affordable", "reference_loss": None, "exact": False, "restarts": 0}
    # exactly max_vars = 6 variables: the restarts run (two units cannot keep three features: L̃ >= 1)
    ref = global_reference(inst, 2, restarts=1, max_vars=6)
    assert ref["restarts"] == 1 and ref["reference_loss"] >= 1.0 - 1e-9
    biased = Instance(W_p=np.eye(3), weights=np.ones(3), encoder_bias=True)   # 6 entries + 2 biases
    assert global_reference(biased, 2, restarts=4, max_vars=7)["reference"] == (
        "none affordable; ACS restarts skipped (8 encoder variables > 7)")


S = 1 / math.sqrt(2)


def _skewed():
    """Features e_1 and (e_1 + e_2)/√2, two units: C3's W_E = W_pᵀ gives codes relu(Gram) = [[1, S], [S, 1]] and, with
    W_D = W_p, reconstructions (1.5, 0.5) of (1, 0) and (2S, S) of (S, S): L̃ = 0.5 + 0.5 = 1 > 0, only an upper bound."""
    return Instance(W_p=np.array([[1.0, S], [0.0, S]]), weights=np.ones(2))


def test_global_reference_keeps_a_positive_construction_when_no_restart_is_lower(monkeypatch):
    inst = _skewed()
    assert global_reference(inst, 2, restarts=0) == {
        "reference": "C3 construction (upper bound; its L̃ > 0 here)", "reference_loss": pytest.approx(1.0, rel=1e-12),
        "exact": False, "restarts": 0}
    assert global_reference(inst, 2, restarts=2, max_vars=3)["reference"] == (
        "C3 construction (upper bound; its L̃ > 0 here); ACS restarts skipped (4 encoder variables > 3)")

    class High:
        loss = 5.0
    monkeypatch.setattr(bridge, "_acs", lambda *a: High())
    ref = global_reference(inst, 2, restarts=3, seed=2)
    assert ref == {"reference": "C3 construction (upper bound; its L̃ > 0 here); 3 ACS restarts found nothing lower",
                   "reference_loss": pytest.approx(1.0, rel=1e-12), "exact": False, "restarts": 3}

    class Low:
        loss = 0.25
    monkeypatch.setattr(bridge, "_acs", lambda *a: Low())
    ref = global_reference(inst, 2, restarts=3, seed=2)
    assert ref == {"reference": "best of 3 ACS restarts from seeded random encoders (seed 2; an upper bound on the "
                                "global minimum)", "reference_loss": 0.25, "exact": False, "restarts": 3}

    def refuse(*a):
        raise SDLInputError("no")
    monkeypatch.setattr(bridge, "_acs", refuse)   # a restart ACS refuses is not counted
    assert global_reference(inst, 2, restarts=3)["restarts"] == 0


def test_global_reference_hands_acs_the_restart_iterations_and_start(monkeypatch):
    """Each restart runs ACS from its own seeded start inside its own pattern's region, with the iterations asked."""
    from theory.patterns import pattern_of, region

    inst = Instance(W_p=np.eye(3), weights=np.ones(3))
    seen = []

    class Res:
        loss = 2.0

    def acs(inst_, P, W_E, b, iters):
        seen.append((P.firing, W_E.copy(), b, iters))
        return Res()
    monkeypatch.setattr(bridge, "_acs", acs)
    global_reference(inst, 2, restarts=2, seed=7, iters=11)
    rng = np.random.default_rng(7)
    starts = [rng.normal(size=(2, 3)) for _ in range(2)]
    want = [s for s in starts if region(inst, pattern_of(inst, s)).contains(s, None)]
    assert len(seen) == len(want) >= 1
    for (firing, W_E, b, iters), s in zip(seen, want):
        np.testing.assert_array_equal(W_E, s)
        assert b is None and iters == 11 and firing == pattern_of(inst, s).firing


# --- refusals and texts of the checkpoint side --------------------------------------------------------------------

def test_a_checkpoint_without_an_instance_is_refused_with_every_way_out(tmp_path, monkeypatch, refuses):
    import types

    import numerics.foreign

    monkeypatch.setattr(numerics.foreign, "load_any", lambda path: types.SimpleNamespace(model=object()))
    refuses(lambda: bridge.load_checkpoint_instance(tmp_path),
            f"no instance for {tmp_path}: put instance.json (W_p, W_r, weights) beside the model, pass "
            "--instance FILE, pass --features decoder (the model's own atoms as features), or inspect a "
            "bench model inside its OUT/models/ directory")
    refuses(lambda: bridge.load_checkpoint_instance(tmp_path, instance_path=tmp_path / "x.json", features="decoder"),
            "--features decoder and --instance exclude each other: pick one source of features")
    # features="instance" reads the instance file (beside the model, or the one passed)
    bridge.save_instance(tmp_path, np.eye(2), weights=[1.0, 4.0], provenance={"by": "hand"})
    model, W_p, W_r, w, how = bridge.load_checkpoint_instance(tmp_path, features="instance")
    assert W_p.tolist() == [[1.0, 0.0], [0.0, 1.0]] and W_r is None and w.tolist() == [1.0, 4.0]
    assert how == f"instance file {tmp_path / 'instance.json'}"
    assert json.loads((tmp_path / "instance.json").read_text()) == {
        "W_p": [[1.0, 0.0], [0.0, 1.0]], "W_r": None, "weights": [1.0, 4.0], "provenance": {"by": "hand"}}
    (tmp_path / "sub").mkdir()
    other = bridge.save_instance(tmp_path / "sub", np.eye(2), W_r=2 * np.eye(2))
    assert other == tmp_path / "sub" / "instance.json"
    *_, how2 = bridge.load_checkpoint_instance(tmp_path, instance_path=other)
    assert how2 == f"instance file {other}"
    assert json.loads(other.read_text())["W_r"] == [[2.0, 0.0], [0.0, 2.0]]
    assert json.loads(other.read_text())["provenance"] == {}


def test_a_bench_results_file_that_cannot_be_read_is_one_clear_line(tmp_path, refuses):
    (tmp_path / "models" / "r").mkdir(parents=True)
    assert bridge._bench_instance(tmp_path / "models" / "r") is None          # no results.json: not a bench model
    (tmp_path / "results.json").write_text('{"runs": {}}')
    refuses(lambda: bridge._bench_instance(tmp_path / "models" / "r"),
            f"{tmp_path / 'results.json'} is not a bench results file: 'config'")


def test_model_point_names_each_sparsity_penalty_and_keeps_the_spec():
    from numerics.models import build_model

    m = build_model("relu", 3, 4, bias=True, l1_coeff=1e-3)
    p = bridge.model_point(m)
    assert p.unmet == ("trained with a sparsity penalty (l1_coeff = 0.001); L̃ has none, so the point is not expected "
                       "to be stationary for L̃ (shrinkage shows as a residual)",)
    assert p.spec == dict(m.spec()) and p.spec["l1_coeff"] == 1e-3
    np.testing.assert_array_equal(p.W_D, m.W_dec.detach().double().numpy().T)
    assert p.b_D is not None and p.b_D.shape == (3,)
    q = bridge.model_point(build_model("relu", 3, 4, bias=False, l1_coeff=0.0))
    assert q.unmet == () and q.b_E is None
    r = bridge.inspect_model(m, np.eye(3), acs=False)
    assert r.extra["model"] == dict(m.spec())


def test_inspect_trusts_the_partial_minimum_certificate_for_spurious(monkeypatch):
    """The status reads 'spurious' when the point's KKT certificate says partial minimum, even where its L̃ is above
    the ACS optimum by more than tol (here a stubbed certificate at the dropped-feature point: achieved 2.25, ACS 1,
    reference 0.5 from a stubbed global reference); without the certificate it is 'not_global'."""
    import types

    import theory.partial_optimum as po_mod

    inst, W_E = _dropped()
    monkeypatch.setattr(bridge, "global_reference", lambda *a, **k: {
        "reference": "by hand", "reference_loss": 0.5, "exact": False, "restarts": 0})
    for certified, status in ((True, "spurious"), (False, "not_global")):
        monkeypatch.setattr(po_mod, "is_partial_minimum", lambda *a, c=certified, **k: types.SimpleNamespace(
            is_partial_minimum=c, reason="stub"))
        g = inspect_point(inst, W_E.T / 2, W_E).global_optimum
        assert g["status"] == status and g["reference_loss"] == 0.5


def test_inspect_without_a_column_to_compare_has_no_cosine():
    """One unit firing on both inputs e_0, e_1 (code 1 each) whose targets are +1 and −1 in R¹: its least-squares
    column is (1 − 1)/2 = 0, so no live column has a cosine — min and mean are None (printed –), not NaN."""
    inst = Instance(W_p=np.eye(2), W_r=np.array([[1.0, -1.0]]), weights=np.ones(2))
    r = inspect_point(inst, np.array([[1.0]]), np.array([[1.0, 1.0]]), acs=False)
    ls = r.ls_decoder
    assert ls["cosine_per_live_column"] == {"0": None} and ls["cosine_min"] is None and ls["cosine_mean"] is None
    assert ls["loss"] == pytest.approx(2.0, abs=1e-12)     # the zero column reconstructs nothing: 1 + 1
    assert "cosine per live column min –, mean –; L̃(W_D*, W_E) = 2" in r.to_text()
