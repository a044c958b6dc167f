"""Branches of proofs_check/ no other test executed (a coverage run of the suite, issue 12 part 5), each on a
small input, checked against values computed here by hand or by a different enumeration."""
import dataclasses
import math

import numpy as np
import pytest
import scipy.stats  # noqa: F401  imported here, once: the functions below import it (and numerics.recovery) lazily
import numerics.recovery  # noqa: F401

from proofs_check import bench_recovery as B
from proofs_check import c10_recovery as c10
from proofs_check import c11_anchoring as c11
from proofs_check import c6_spurious_minima as c6
from proofs_check import table1


def _set_partitions(items):
    """Every set partition of ``items`` (a different enumeration: insert the first item into each block of
    every partition of the rest, or give it a block of its own)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for p in _set_partitions(rest):
        for i in range(len(p)):
            yield p[:i] + [{first} | p[i]] + p[i + 1:]
        yield [{first}] + p


@pytest.mark.parametrize("n,n_q", [(2, 2), (3, 3), (4, 4), (4, 2), (3, 1), (5, 3)])
def test_c6_canonical_partitions_are_every_polysemantic_partition_once(n, n_q):
    got = list(c6._canonical_partitions(n, n_q))
    want = {frozenset(frozenset(b) for b in p) for p in _set_partitions(list(range(n)))
            if len(p) <= n_q and max(map(len, p)) >= 2}
    assert len(got) == len(want)
    assert {frozenset(frozenset(b) for b in p if b) for p in got} == want
    for p in got:   # n_q neurons, blocks in the order of their first feature, then the empty neurons
        assert len(p) == n_q
        blocks = [b for b in p if b]
        assert p[:len(blocks)] == blocks and [min(b) for b in blocks] == sorted(min(b) for b in blocks)
    # Bell numbers minus the all-singletons partition: B3 − 1 = 4, B4 − 1 = 14; Stirling numbers S(4, ≤2) = 1 + 7,
    # S(5, ≤3) = 1 + 15 + 25
    assert {(2, 2): 1, (3, 3): 4, (4, 4): 14, (4, 2): 8, (3, 1): 1, (5, 3): 1 + 15 + 25}[(n, n_q)] == len(got)


def test_c10_and_c11_hypotheses_on_bench_specs():
    micro = B.spec_for("micro")
    assert c10.hypotheses(micro) == [] and c11.hypotheses(micro) == []   # 0.1 · 12 rounds to 1 anchor
    tc = dataclasses.replace(micro, data={**micro.data, "kind": "transcoder"})
    assert c10.hypotheses(tc) == ["C10 is about SAEs; the bench kind is 'transcoder'"]
    assert c11.hypotheses(dataclasses.replace(micro, anchor_frac=0.04)) == [
        "anchoring needs at least one anchor (anchor_frac · n ≥ 1)"]      # 0.48 rounds to 0
    assert c11.hypotheses(dataclasses.replace(micro, anchor_frac=1.0)) == ["some features must stay non-anchored"]
    assert c11.hypotheses(dataclasses.replace(micro, anchor_frac=11 / 12)) == []
    with pytest.raises(Exception) as info:
        B.spec_for("huge")
    assert str(info.value) == "unknown bench size 'huge'; choose one of micro, tiny, small, scaled, paper"
    with pytest.raises(Exception) as info:
        B.resolve_size("C10", "huge", {})
    assert str(info.value) == "C10: the instance is a bench size, one of micro, tiny, small, scaled, paper; got 'huge'"
    assert B.resolve_size("C11", micro, {}) == "micro" and B.resolve_size("C10", "tiny", {}) == "tiny"


def test_bench_spec_seed_and_json():
    micro = B.spec_for("micro")
    s = B.with_seed(micro, 7)
    assert s.data["seed"] == 7 and micro.data["seed"] == 0 and s.train == micro.train
    j = micro.to_json()
    assert set(j) == {f.name for f in dataclasses.fields(micro)} | {"grids", "criterion"}
    assert j["size"] == "micro" and j["seeds"] == 2 and j["data"]["n_features"] == 12
    # the criterion as runs are judged: micro's fields and the trend test's constants (4 windows, 2 standard errors)
    assert j["criterion"] == {"eps": 2e-2, "window": 3, "eval_every": 20, "max_steps": 200, "heldout_samples": 256,
                              "plateau_windows": 4, "plateau_z": 2.0}
    assert set(j["grids"]) == set(micro.methods) and all(isinstance(g, list) and g for g in j["grids"].values())


def test_table1_anchoring_cell_by_hand():
    comps = {"topk_sae": {"pairs_used": 2, "pairs_total": 3, "per_reading": {
        "decoder": {"m_gt_without": [0.5, 0.7], "m_gt_with": [0.8, 0.9], "ci95": [0.05, "inf"]}}},
        "relu_sae": {"pairs_used": 0, "pairs_total": 2, "per_reading": {"decoder": {"m_gt_without": [], "m_gt_with": [],
                                                                                      "ci95": ["-inf", "inf"]}}}}
    cell = table1._fa(comps, "topk_sae", "decoder")
    # means 0.6 → 0.85; the CI in percentage points
    assert cell == "60.0% → 85.0% (Δ CI [+5.0, +inf] pts; 2 pairs)"   # written by hand, not with table1._pct
    assert table1._pct(0.123) == "12.3%" and table1._pct(None) == "—"
    assert table1._fa(comps, "relu_sae", "decoder") == "no converged pair (0/2)"
    assert table1._fa(comps, "topk_sae", "encoder") == "—" and table1._fa(comps, "jumprelu_sae", "decoder") == "—"
    assert table1._fa(None, "topk_sae", "decoder") == "—"


def test_c10_trend_parts_by_hand():
    assert c10.part_trend([{"converged": True}], "superposition", "n_features") == {
        "part": "recovery falls as superposition rises (TopK, k = target L0)", "status": "inconclusive", "rows": [],
        "why": "fewer than two instances"}
    arms = [{"n_features": 12, "converged": True}, {"n_features": 14, "converged": False}]
    assert c10.part_trend(arms, "superposition", "n_features") == {
        "part": "recovery falls as superposition rises (TopK, k = target L0)", "status": "inconclusive",
        "why": "a trend run did not converge", "rows": [{"n_features": 12, "converged": True},
                                                        {"n_features": 14, "converged": False}]}


def test_c11_t_interval_by_hand():
    m, lo, hi = c11.t_interval([0.1, 0.3])
    # mean 0.2, s = 0.1414, t_{0.975, 1} = 12.706: half-width 12.706 · 0.1414 / √2 = 1.2706
    assert m == pytest.approx(0.2) and hi - m == pytest.approx(12.7062 * 0.1, rel=1e-4) and m - lo == pytest.approx(hi - m)
    m1, lo1, hi1 = c11.t_interval([0.4])
    assert m1 == pytest.approx(0.4) and (lo1, hi1) == (-math.inf, math.inf)
    m0, lo0, hi0 = c11.t_interval([])
    assert math.isnan(m0) and (lo0, hi0) == (-math.inf, math.inf)


# --- inspect's text, JSON and inputs -------------------------------------------------------------------
from proofs_check import bridge  # noqa: E402
from theory.errors import SDLInputError  # noqa: E402
from theory.instance import Instance  # noqa: E402


def _monosemantic_plus_dead(n_dead):
    """W_E = [I; −1 …]: units 0, 1 fire on e_0, e_1 alone, every other unit is dead; W_D reads units 0, 1 only,
    so L̃ = 0 exactly."""
    W_E = np.vstack([np.eye(2), -np.ones((n_dead, 2))])
    W_D = np.hstack([np.eye(2), np.zeros((2, n_dead))])
    return W_D, W_E


@pytest.mark.parametrize("n_dead,line", [
    (11, "  dead neurons: " + ", ".join(map(str, range(2, 13)))),
    (23, "  dead neurons: " + ", ".join(map(str, range(2, 22))) + ", … (23 in all)"),
])
def test_inspect_text_of_a_wide_point_lists_its_dead_neurons_and_unmet_assumptions(n_dead, line):
    W_D, W_E = _monosemantic_plus_dead(n_dead)
    ins = bridge.inspect_point(Instance(W_p=np.eye(2)), W_D, W_E, acs=False, unmet=("an assumption",))
    text = ins.to_text().splitlines()
    assert line in text and not any(t.startswith("  P = (") for t in text)
    assert text[-1] == "unmet assumption: an assumption"
    assert ins.achieved_loss == 0.0 and ins.dead_neurons == list(range(2, 2 + n_dead))
    assert any(t.startswith("partial optimum of P: skipped (") and t.endswith("; L̃(W_D*, W_E) = 0 bounds it above")
               for t in text)
    j = ins.to_json()
    assert j["achieved_loss"] == 0.0 and j["unmet"] == ["an assumption"] and "pattern_mask" not in j
    assert j["sizes"] == {"n": 2, "n_p": 2, "n_r": 2, "n_q": 2 + n_dead}


def test_inspect_json_turns_non_finite_numbers_into_null():
    assert bridge._jsonable({1: float("inf"), "a": (np.int64(2), np.float64(-np.inf)), "b": np.array([1.0, np.nan]),
                             "c": [np.bool_(True), "x", None]}) == {"1": None, "a": [2, None], "b": [1.0, None],
                                                                    "c": [True, "x", None]}
    assert bridge._fmt(None) == "–" and bridge._fmt(0.123456) == "0.1235"


def test_stacked_feature_columns_are_inspected_with_unit_columns_and_weights_scaled_by_their_norms():
    W = 2 * np.eye(2)
    notes = []
    W_p, W_r, w = bridge._unit_features(W, W, np.array([1.0, 3.0]), notes)
    assert W_p.tolist() == np.eye(2).tolist() and W_r.tolist() == np.eye(2).tolist() and w.tolist() == [4.0, 12.0]
    assert notes == ["feature columns have norms up to 2 (stacked sources); inspected with unit columns and weights "
                     "M_d·||w^d||² (exact for positively homogeneous σ)"]
    same = []
    assert bridge._unit_features(np.eye(2), np.eye(2), np.ones(2), same)[2].tolist() == [1.0, 1.0] and same == []
    with pytest.raises(SDLInputError) as info:
        bridge._unit_features(W, 3 * np.eye(2), np.ones(2), [])
    assert str(info.value) == ("feature columns are not unit-norm and W_p, W_r norms differ; normalise them before "
                               "inspecting")


def test_instance_files_and_checkpoints_that_cannot_be_read_are_one_clear_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SDLInputError) as info:
        bridge._read_instance_file(bad)
    assert str(info.value).startswith(f"{bad} is not a valid instance file (JSON with W_p, optional W_r and weights): ")
    nokey = tmp_path / "nokey.json"
    nokey.write_text('{"W_r": [[1.0]]}')
    with pytest.raises(SDLInputError) as info:
        bridge._read_instance_file(nokey)
    assert str(info.value) == f"{nokey} is not a valid instance file (JSON with W_p, optional W_r and weights): 'W_p'"
    flat = tmp_path / "flat.json"
    flat.write_text('{"W_p": [1.0, 0.0]}')
    with pytest.raises(SDLInputError) as info:
        bridge._read_instance_file(flat)
    assert str(info.value) == f"{flat}: W_p must be a 2-d array (n_p × n), got shape (2,)"
    good = tmp_path / "good.json"
    good.write_text('{"W_p": [[1.0, 0.0], [0.0, 1.0]], "weights": [1.0, 2.0]}')
    W_p, W_r, w, how = bridge._read_instance_file(good)
    assert W_p.tolist() == [[1.0, 0.0], [0.0, 1.0]] and W_r is None and w.tolist() == [1.0, 2.0]
    assert how == f"instance file {good}"
    missing = tmp_path / "nowhere"
    with pytest.raises(SDLInputError) as info:
        bridge.load_checkpoint_instance(missing)
    assert str(info.value) == (f"checkpoint {missing} does not exist; pass a directory with cfg.json and model.safetensors "
                               "(or a SAELens, sparsify or dictionary_learning checkpoint)")


def test_c2_violations_name_each_failed_check_by_hand():
    from proofs_check import c2_biconvexity as c2

    eig = {"decoder": -1e-3, "encoder": -1e-8, "closed_form_gap": 2e-8}
    mids = {"decoder_gap": 1e-9, "encoder_gap": 5e-9, "region_midpoint_outside": True}
    assert c2._violations(eig, mids) == [
        "decoder Hessian block has eigenvalue -0.001 < 0",                 # −1e-8 is within TOL: not listed
        "theory.derivation's Hessian differs from the Kronecker form by 2e-08",
        "L̃ is not midpoint-convex along a encoder segment (gap 5e-09)",   # 1e-9 is not above 1e-9
        "the midpoint of two encoders in Ω_P lies outside Ω_P"]
    ok = {"decoder": 0.0, "encoder": 1.0, "closed_form_gap": 1e-8}
    assert c2._violations(ok, {"decoder_gap": 0.0, "encoder_gap": 1e-9, "region_midpoint_outside": False}) == []
    assert c2._violations({**ok, "encoder": -2e-8}, {"decoder_gap": 2e-9, "encoder_gap": 0.0,
                                                     "region_midpoint_outside": False}) == [
        "encoder Hessian block has eigenvalue -2e-08 < 0", "L̃ is not midpoint-convex along a decoder segment (gap 2e-09)"]


# --- C10 / C11 verdict logic: every field of the parts, not only their status ------------------------
def _run(method, gt_dec, gt_enc, *, converged=True, k=2, ip=None):
    return {"method": method, "setting": {"k": k}, "converged": converged, "steps": 500, "l0": 2.0, "explained_variance": 0.9,
            "m_gt_decoder": gt_dec, "m_gt_encoder": gt_enc, "m_ip_decoder": gt_dec if ip is None else ip,
            "m_ip_encoder": gt_enc if ip is None else ip}


def _described(method, gt_dec, gt_enc, k=2):
    return (f"{method} {{'k': {k}}} (converged in 500 steps, L0 2.00, EV 0.900): M_GT decoder {gt_dec:.2f}, "
            f"encoder {gt_enc:.2f}")


def test_c10_topk_part_every_row_by_hand():
    a, b, c = c10.TOPK_FAMILY
    methods = {a: {"selected": _run(a, 0.5, 0.25)}, b: {"selected": None}, c: {"selected": _run(c, 0.8, 0.249)}}
    assert c10.part_topk_family(methods) == {"part": "TopK family recovers most (selected setting)", "status": "fails", "rows": [
        # 0.5 >= MOST holds; 0.25 is neither >= 0.5 nor < 0.25: unresolved, so the method is inconclusive
        {"method": a, "outcome": "inconclusive", "per_reading": {"decoder": "holds", "encoder": "unresolved"},
         "run": _described(a, 0.5, 0.25)},
        {"method": b, "outcome": "inconclusive", "why": "no converged run in the sweep"},
        {"method": c, "outcome": "fails", "per_reading": {"decoder": "holds", "encoder": "fails"}, "run": _described(c, 0.8, 0.249)}]}
    only_none = c10.part_topk_family({b: {"selected": None}, "other": {"selected": None}})
    assert only_none["status"] == "inconclusive" and len(only_none["rows"]) == 1
    good = c10.part_topk_family({a: {"selected": _run(a, 0.9, 0.6)}})
    assert good["status"] == "holds" and good["rows"][0]["per_reading"] == {"decoder": "holds", "encoder": "holds"}
    assert c10.part_topk_family({})["status"] == "holds"    # no TopK method run: nothing fails (the caller guards it)


def test_c10_penalised_part_every_row_by_hand():
    r, j = c10.PENALISED
    ends = {"dense_end": True, "collapse_end": True, "both": True}
    fail_runs = [_run(r, 0.1, 0.3, k=1), _run(r, 0.5, 0.2, k=2, converged=False), _run(r, 0.26, 0.0, k=3)]
    out = c10.part_penalised({r: {"sweep": fail_runs, "ends": ends}})
    # the converged breaking runs are k=1 (0.3) and k=3 (0.26); the worst of them, k=1, is the counterexample
    assert out == {"part": "ReLU / JumpReLU recover almost none (whole sweep)", "status": "fails", "rows": [
        {"method": r, "outcome": "fails", "run": _described(r, 0.1, 0.3, k=1), "counterexample": fail_runs[0]}]}
    unconv = [_run(j, 0.05, 0.0, k=1), _run(j, 0.3, 0.0, k=2, converged=False)]
    assert c10.part_penalised({j: {"sweep": unconv, "ends": ends}})["rows"] == [
        {"method": j, "outcome": "inconclusive", "why": "1 of 2 sweep runs did not converge", "best": _described(j, 0.3, 0.0)}]
    half = {"dense_end": True, "collapse_end": False, "both": False}
    assert c10.part_penalised({j: {"sweep": [_run(j, 0.05, 0.0)], "ends": half}})["rows"][0]["why"] == (
        f"the sweep does not reach both ends ({half})")
    mid = c10.part_penalised({j: {"sweep": [_run(j, 0.15, 0.0), _run(j, 0.1, 0.02, k=4)], "ends": ends}})
    assert mid["status"] == "inconclusive" and mid["rows"][0]["why"] == (
        f"best run between 0.1 and 0.25: {_described(j, 0.15, 0.0)}")
    none = c10.part_penalised({r: {"sweep": [_run(r, 0.1, 0.05), _run(r, 0.0, 0.0, k=4)], "ends": ends}})
    assert none == {"part": "ReLU / JumpReLU recover almost none (whole sweep)", "status": "holds",
                    "rows": [{"method": r, "outcome": "holds", "best": _described(r, 0.1, 0.05)}]}


def test_c10_trend_directions_and_rows_by_hand():
    lo = dict(_run("topk_sae", 0.9, 0.8, k=3), n_over_n_p=1.2)
    hi = dict(_run("topk_sae", 0.84, 0.7, k=4), n_over_n_p=1.4)
    out = c10.part_trend([lo, hi], "superposition", "n_over_n_p")
    # decoder −0.06 and encoder −0.10 are beyond the 0.05 margin: both fall
    assert out == {"part": "recovery falls as superposition rises (TopK, k = target L0)", "status": "holds",
                   "per_reading": {"decoder": "falls", "encoder": "falls"},
                   "rows": [{"n_over_n_p": 1.2, "k": 3, "m_gt_decoder": 0.9, "m_gt_encoder": 0.8, "m_ip_decoder": 0.9,
                             "m_ip_encoder": 0.8, "l0": 2.0},
                            {"n_over_n_p": 1.4, "k": 4, "m_gt_decoder": 0.84, "m_gt_encoder": 0.7, "m_ip_decoder": 0.84,
                             "m_ip_encoder": 0.7, "l0": 2.0}]}
    # within the M_GT margin the M_IP change decides: −0.02 falls, +0.02 rises, ±0.005 is flat
    base = _run("m", 0.5, 0.5, ip=0.5)
    assert c10._direction(base, _run("m", 0.52, 0.5, ip=0.48), "decoder") == "falls"
    assert c10._direction(base, _run("m", 0.48, 0.5, ip=0.52), "decoder") == "rises"
    assert c10._direction(base, _run("m", 0.5, 0.5, ip=0.505), "decoder") == "flat"
    assert c10._direction(base, _run("m", 0.55, 0.5), "decoder") == "rises"
    assert c10._direction(base, _run("m", 0.5, 0.45), "encoder") == "falls"


def _pair(without, with_, ip_gain=0.0, converged=True):
    w = _run("m", without, without, converged=converged)
    a = _run("m", with_, with_, ip=with_ + ip_gain)
    return {"without": w, "with": a}


def test_c11_compare_every_field_by_hand():
    pairs = [_pair(0.3, 0.5), _pair(0.4, 0.61), _pair(0.35, 0.54), _pair(0.2, 0.9, converged=False)]
    c = c11.compare(pairs)
    assert (c["pairs_used"], c["pairs_total"], c["outcome"]) == (3, 4, "improves")
    # differences 0.20, 0.21, 0.19: mean 0.2, s = 0.01, t_{0.975, 2} = 4.3027, half-width 4.3027 · 0.01 / √3
    half = 4.3027 * 0.01 / np.sqrt(3)
    for r in c11.READINGS:
        pr = c["per_reading"][r]
        assert pr["outcome"] == "improves"
        assert pr["delta_m_gt"] == pytest.approx([0.2, 0.21, 0.19]) and pr["mean"] == pytest.approx(0.2)
        assert pr["ci95"] == pytest.approx([0.2 - half, 0.2 + half], rel=1e-4)
        assert pr["delta_m_ip"] == pytest.approx([0.2, 0.21, 0.19]) and pr["mean_ip"] == pytest.approx(0.2)
        assert pr["ci95_ip"] == pytest.approx([0.2 - half, 0.2 + half], rel=1e-4)
        assert pr["m_gt_without"] == [0.3, 0.4, 0.35] and pr["m_gt_with"] == [0.5, 0.61, 0.54]
    # every pair at the ceiling: that reading cannot decide, so the outcome rests on the others (none here)
    top = c11.compare([_pair(0.99, 0.99), _pair(0.985, 0.99)])
    assert [v["outcome"] for v in top["per_reading"].values()] == ["at ceiling"] * 2 and top["outcome"] == "unresolved"
    # no change at all, in M_GT and M_IP: does not improve
    flat = c11.compare([_pair(0.5, 0.5), _pair(0.6, 0.6), _pair(0.4, 0.4)])
    assert flat["outcome"] == "does not improve"
    # M_GT flat but M_IP up by 0.01 (above DELTA_IP 0.005): unresolved
    ip = c11.compare([_pair(0.5, 0.5, 0.01), _pair(0.6, 0.6, 0.01), _pair(0.4, 0.4, 0.01)])
    assert ip["outcome"] == "unresolved" and ip["per_reading"]["decoder"]["mean_ip"] == pytest.approx(0.01)
    line = c11._line("topk_sae", c)
    assert line == (f"topk_sae: improves (ΔM_GT decoder +0.200 CI [{0.2 - half:.3f}, {0.2 + half:.3f}], encoder +0.200 CI "
                    f"[{0.2 - half:.3f}, {0.2 + half:.3f}]; ΔM_IP enc +0.2000; 3/4 pairs)")


def test_a_tied_gated_model_point_moves_exp_r_into_the_decoder_by_hand():
    import torch

    from numerics.models import build_model

    m = build_model("gated", 3, 4, bias=True, l1_coeff=1e-3)
    G = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    D = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.2, 0.3, 0.4]])   # n_latents × d_out
    with torch.no_grad():
        m.W_enc.copy_(G)
        m.W_dec.copy_(D)
        m.r_mag.copy_(torch.log(torch.tensor([2.0, 4.0, 1.0, 0.5])))
        m.b_enc.copy_(torch.tensor([0.1, -0.2, 0.0, 0.3]))
        m.b_mag.copy_(torch.tensor([0.4, 0.8, -0.1, 0.2]))
        if m.b_dec is not None:
            m.b_dec.zero_()
    p = bridge.model_point(m)
    e_r = np.array([2.0, 4.0, 1.0, 0.5])
    # regions take [W_gate; W_gate]; the magnitude's scale e^r moves into the decoder, b_mag into b_mag / e^r
    assert np.allclose(p.W_E, np.vstack([G.numpy(), G.numpy()]))
    assert np.allclose(p.W_D, D.numpy().T * e_r[None, :])
    assert np.allclose(p.b_E, np.r_[[0.1, -0.2, 0.0, 0.3], np.array([0.4, 0.8, -0.1, 0.2]) / e_r])
    assert p.activation.name == "gated" and p.activation.tied
    assert any(u.startswith("trained with a sparsity penalty (l1_coeff = 0.001)") for u in p.unmet)


def test_bench_check_stops_at_unmet_hypotheses_before_any_training():
    v = B.bench_check(c10.CLAIM, lambda spec: ["first unmet", f"second for {spec.size}"], None, None, "micro",
                      seed=3, budget=7, kw={})
    assert (v.claim, v.status, v.evidence, v.seed, v.budget) == ("C10", "hypotheses_not_met",
                                                                "first unmet; second for micro", 3, 7)
    with pytest.raises(Exception) as info:
        B.bench_check(c10.CLAIM, lambda spec: [], None, None, "micro", seed=0, budget=1, kw={"x": 1})
    assert str(info.value) == "C10 takes a bench size, not ['x']"


def test_c6_on_a_point_whose_pattern_is_monosemantic_is_hypotheses_not_met_with_the_points_own_check():
    from proofs_check import c6_spurious_minima as c6
    from theory.partial_optimum import is_partial_minimum

    inst = Instance(W_p=np.eye(2))
    W_E, W_D = np.array([[1.0, -0.5], [-0.5, 1.0]]), np.eye(2)
    v = c6.check_instance(inst, W_E=W_E, W_D=W_D, seed=2, budget=3)
    assert (v.status, v.evidence, v.seed, v.budget) == (
        "hypotheses_not_met", "the pattern must be polysemantic (some neuron fires on >= 2 features)", 2, 3)
    assert v.numbers["patterns_checked"] == 0 and v.numbers["patterns_not_meeting_hypotheses"] == 1
    assert v.numbers["given_point"] == is_partial_minimum(inst, W_D, W_E, None, [{0}, {1}]).to_json()
    assert [s.name for s in v.steps] == [s.name for s in c6.proof_steps()]


def test_decoder_features_keep_small_and_unit_atoms_and_drop_only_numerically_zero_ones():
    import torch

    from numerics.models import build_model

    m = build_model("relu", 2, 4, seed=0)
    with torch.no_grad():   # norms 0.5, 1, 1e-13, 1e-6: only the 1e-13 atom is numerically zero
        m.W_dec.copy_(torch.tensor([[0.5, 0.0], [0.0, 1.0], [1e-13, 0.0], [0.0, -1e-6]], dtype=m.W_dec.dtype))
    W_p, W_r, how = bridge.decoder_features(m)
    assert W_r is None and np.allclose(W_p, np.array([[1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]).T)
    assert how == "the model's own 3 unit decoder atoms as features (weights 1)"
    t = build_model("relu", 2, 3, 3, seed=0)   # a transcoder: (unit encoder row, unit decoder atom) pairs
    with torch.no_grad():
        t.W_enc.copy_(torch.tensor([[0.5, 0.0], [0.0, 1e-13], [0.0, 0.25]], dtype=t.W_enc.dtype))
        t.W_dec.copy_(torch.tensor([[0.0, 0.5, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]], dtype=t.W_dec.dtype))
    W_p, W_r, how = bridge.decoder_features(t)   # the pair with a 1e-13 encoder row is dropped
    assert np.allclose(W_p, np.array([[1.0, 0.0], [0.0, 1.0]]).T) and np.allclose(W_r, np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).T)
    assert how == "the model's own 2 (unit encoder row, unit decoder atom) pairs as features (weights 1)"


def test_c4_consequence_fails_for_one_unit_per_input_and_for_a_one_dimensional_space():
    from proofs_check import c4_zero_loss as c4
    from theory.activations import TopK
    from theory.objective import approx_loss

    inst = Instance(W_p=np.eye(2), activation=TopK(k=1))
    v = c4.check_instance(inst, seed=1, budget=3)
    assert (v.claim, v.status, v.seed, v.budget) == ("C4", "fails", 1, 3)
    assert v.evidence == ("non-identifiability fails here: σ keeps one unit per input, so every zero-loss decoder column "
                          "used by feature d is parallel to w_r^d (step 'k = 1 forces alignment')")
    # the aligned solution W_E = W_p⁺ = I, W_D = W_r = I reconstructs exactly, its columns the features themselves
    assert approx_loss(inst, np.eye(2), np.eye(2)) == 0.0
    assert v.numbers["aligned_solution_loss"] == pytest.approx(0.0, abs=1e-12)
    assert np.allclose(v.numbers["aligned_solution_decoder_max_abs_cos"], 1.0)
    assert v.numbers["mixing_attempt_loss"] > 1e-6
    assert v.counterexample["activation"] == "TopK(k=1)" and v.counterexample["instance"] == inst.to_json()
    assert v.corrected_condition is not None and v.corrected_condition.kind == "necessary"
    line = Instance(W_p=np.array([[1.0, -1.0]]))
    w = c4.check_instance(line, seed=0, budget=2)
    assert (w.status, w.evidence) == ("fails", "non-identifiability fails here: the input space is one-dimensional, so "
                                                "every encoder row or decoder column is parallel to every feature (|cos| = 1)")
    assert w.numbers["n_p"] == 1 and w.numbers["n_r"] == 1 and list(w.numbers["aligned_solution_decoder_max_abs_cos"]) == [1.0, 1.0]
