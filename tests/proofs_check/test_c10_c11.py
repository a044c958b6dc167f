"""C10 / C11: the verdict logic on hand-made run records (each rule can fail), and one end-to-end
run of both claims on the micro bench."""
import numpy as np
import pytest

from proofs_check import c10_recovery as c10
from proofs_check import c11_anchoring as c11


def _run(method, setting, gt_dec, gt_enc, *, converged=True, l0=2.0, ip=None, dead=0.0):
    return {"method": method, "setting": setting, "converged": converged, "steps": 500, "l0": l0,
            "explained_variance": 0.9, "dead_frac": dead, "m_gt_decoder": gt_dec, "m_gt_encoder": gt_enc,
            "m_ip_decoder": gt_dec if ip is None else ip, "m_ip_encoder": gt_enc if ip is None else ip}


def _sweep(runs, selected=None, both=True):
    return {"sweep": runs, "selected": selected, "target_l0": 2.0, "all_converged": all(r["converged"] for r in runs),
            "ends": {"dense_end": both, "collapse_end": both, "both": both}}


def test_penalised_part_fails_on_one_converged_recovering_run():
    runs = [_run("relu_sae", {"l1_coeff": c}, g, 0.0, l0=l0) for c, g, l0 in ((0.01, 0.0, 9), (0.1, 0.6, 2), (1, 0.0, 0.1))]
    p = c10.part_penalised({"relu_sae": _sweep(runs)})
    assert p["status"] == "fails" and p["rows"][0]["counterexample"]["setting"] == {"l1_coeff": 0.1}


def test_penalised_part_is_inconclusive_when_the_recovering_run_did_not_converge():
    runs = [_run("relu_sae", {"l1_coeff": 0.1}, 0.6, 0.0, converged=False), _run("relu_sae", {"l1_coeff": 1}, 0.0, 0.0)]
    assert c10.part_penalised({"relu_sae": _sweep(runs)})["status"] == "inconclusive"


def test_penalised_part_holds_only_over_a_full_converged_sweep_reaching_both_ends():
    runs = [_run("relu_sae", {"l1_coeff": c}, 0.02, 0.05) for c in (0.01, 1.0)]
    assert c10.part_penalised({"relu_sae": _sweep(runs)})["status"] == "holds"
    assert c10.part_penalised({"relu_sae": _sweep(runs, both=False)})["status"] == "inconclusive"
    runs[0]["m_gt_encoder"] = 0.15            # between 'almost none' (0.10) and a failure (0.25)
    assert c10.part_penalised({"relu_sae": _sweep(runs)})["status"] == "inconclusive"


def test_topk_part_reads_both_readings():
    good = _run("topk_sae", {"k": 2}, 0.9, 0.8)
    assert c10.part_topk_family({"topk_sae": _sweep([good], good)})["status"] == "holds"
    enc_bad = _run("topk_sae", {"k": 2}, 0.9, 0.1)
    assert c10.part_topk_family({"topk_sae": _sweep([enc_bad], enc_bad)})["status"] == "fails"
    assert c10.part_topk_family({"topk_sae": _sweep([enc_bad], None)})["status"] == "inconclusive"


def test_trend_part_directions():
    lo = {**_run("topk_sae", {"k": 2}, 0.9, 0.9), "n_over_n_p": 1.0}
    hi = {**_run("topk_sae", {"k": 2}, 0.5, 0.6), "n_over_n_p": 1.5}
    assert c10.part_trend([lo, hi], "superposition", "n_over_n_p")["status"] == "holds"
    assert c10.part_trend([hi, lo], "superposition", "n_over_n_p")["status"] == "fails"
    flat = {**_run("topk_sae", {"k": 2}, 0.9, 0.9, ip=0.95), "n_over_n_p": 1.5}
    lo_ip = {**lo, "m_ip_decoder": 0.952, "m_ip_encoder": 0.951}
    assert c10.part_trend([lo_ip, flat], "superposition", "n_over_n_p")["status"] == "inconclusive"
    hi["converged"] = False
    assert c10.part_trend([lo, hi], "superposition", "n_over_n_p")["status"] == "inconclusive"


def _pair(seed, without, with_, ip_gain=0.0, converged=True):
    w = _run("m", {}, without, without, converged=converged)
    a = _run("m", {}, with_, with_)
    a["m_ip_decoder"] += ip_gain
    a["m_ip_encoder"] += ip_gain
    return {"seed": seed, "without": w, "with": a}


def test_c11_compare_outcomes():
    assert c11.compare([_pair(s, 0.3 + 0.01 * s, 0.6 + 0.02 * s) for s in range(3)])["outcome"] == "improves"
    assert c11.compare([_pair(s, 0.0, 0.0) for s in range(3)])["outcome"] == "does not improve"
    # a clear M_IP gain keeps 'no M_GT change' from counting as 'does not improve'
    assert c11.compare([_pair(s, 0.0, 0.0, ip_gain=0.05 + 0.01 * s) for s in range(3)])["outcome"] == "unresolved"
    assert c11.compare([_pair(s, 1.0, 1.0) for s in range(3)])["outcome"] == "unresolved"   # ceiling decides nothing
    noisy = [_pair(0, 0.3, 0.9), _pair(1, 0.6, 0.2), _pair(2, 0.4, 0.5)]
    assert c11.compare(noisy)["outcome"] == "unresolved"
    dropped = c11.compare([_pair(0, 0.3, 0.6), _pair(1, 0.3, 0.6, converged=False)])
    assert dropped["pairs_used"] == 1 and dropped["outcome"] == "unresolved"


def test_t_interval_matches_scipy():
    from scipy import stats

    d = [0.1, 0.3, 0.2, 0.25]
    m, lo, hi = c11.t_interval(d)
    ref = stats.t.interval(0.95, len(d) - 1, loc=sum(d) / 4, scale=stats.sem(d))
    assert (lo, hi) == pytest.approx(ref)


@pytest.mark.slow
def test_micro_bench_end_to_end(tmp_path):
    from sdl_theory.cli import main
    import json

    assert main(["verify", "C10", "C11", "--bench-size", "micro", "--out", str(tmp_path)]) == 0
    data = {c["claim"]: c for c in json.loads((tmp_path / "report.json").read_text())["claims"]}
    assert data["C10"]["status"] in ("holds", "fails", "inconclusive")
    methods = data["C10"]["numbers"]["methods"]
    assert set(methods) == {"relu_sae", "topk_sae"}
    for m in methods.values():
        assert len(m["sweep"]) == 2
        for r in m["sweep"]:
            for key in ("setting", "converged", "steps", "l0", "explained_variance", "m_gt_decoder", "m_gt_encoder",
                        "m_ip_decoder", "m_ip_encoder"):
                assert key in r
            assert r["steps"] <= 200 and (r["converged"] or r["steps"] == 200)
        assert m["selected"] is None or m["selected"]["converged"]
    assert (tmp_path / "figures" / "C10.png").exists()
    table = (tmp_path / "table1.md").read_text()
    assert "| relu_sae |" in table and "| topk_sae |" in table and "84.90% / 0.983" in table
    comps = data["C11"]["numbers"]["comparisons"]
    assert set(comps) == {"relu_sae", "topk_sae"}
    for c in comps.values():
        assert set(c["per_reading"]) == {"decoder", "encoder"}
    # the statuses follow from the recorded parts / comparisons
    parts = [p["status"] for p in data["C10"]["numbers"]["parts"]]
    expect = "fails" if "fails" in parts else "holds" if set(parts) == {"holds"} else "inconclusive"
    assert data["C10"]["status"] == expect
    assert data["C10"]["numbers"]["provenance"]["resumed"] == 0 < data["C10"]["numbers"]["provenance"]["runs"]
    assert len(list((tmp_path / "bench-runs").glob("*.json"))) > 0

    # --resume: every run is read back from bench-runs/ (none trained), and the verdicts are the same
    import numerics.recovery as R

    def no_training(*a, **kw):
        raise AssertionError("a stored run was trained again")
    real, R._train_run = R._train_run, no_training
    try:
        assert main(["verify", "C10", "C11", "--bench-size", "micro", "--out", str(tmp_path), "--resume",
                     "--no-figures"]) == 0
    finally:
        R._train_run = real
    again = {c["claim"]: c for c in json.loads((tmp_path / "report.json").read_text())["claims"]}
    for cid in ("C10", "C11"):
        prov = again[cid]["numbers"]["provenance"]
        assert prov["resumed"] == prov["runs"] > 0 and prov["resumed_code_digests"] == [prov["code_digest"]]
        assert again[cid]["status"] == data[cid]["status"] and again[cid]["evidence"] == data[cid]["evidence"]


def test_unknown_bench_size_is_one_clear_input_error():
    from proofs_check import check
    from theory.errors import SDLInputError

    for cid in ("C10", "C11"):
        with pytest.raises(SDLInputError, match="bench size, one of micro, tiny, small, scaled, paper; got 'huge'"):
            check(cid, "huge")


@pytest.mark.parametrize("size", ["micro", "tiny", "small", "scaled", "paper"])
def test_every_bench_size_is_reachable(size):
    """Every instance of every size (main and trend arms) passes the generator's checks (Welch bound)."""
    from numerics.config import DataConfig
    from proofs_check.bench_recovery import spec_for, trend_configs

    spec = spec_for(size)
    DataConfig(**spec.data).validate()
    for cfg in trend_configs(spec):
        cfg.validate()


def test_table1_reads_the_selected_best_and_anchored_runs():
    """table1_markdown from hand-made verdict numbers: the selected run as given, the best converged run by M_GT
    (an unconverged one with a higher score is not it), C11's means, and no row invented for unconverged sweeps."""
    from proofs_check.table1 import best_run, table1_markdown

    a = _run("topk_sae", {"k": 1}, 0.2, 0.5)
    b = _run("topk_sae", {"k": 4}, 0.9, 0.6)
    c = _run("topk_sae", {"k": 8}, 1.0, 1.0, converged=False)
    assert best_run([a, b, c]) is b and best_run([c]) is None
    # both at 100% in one reading: the one recovering more in the other reading is the best
    d, e = _run("topk_sae", {"k": 2}, 1.0, 0.95), _run("topk_sae", {"k": 3}, 1.0, 0.975, ip=0.5)
    assert best_run([d, e]) is e
    c10 = {"size": "micro", "tau": 0.95,
           "spec": {"data": {"n_features": 12, "d_in": 10, "n_samples": 99, "interference": 0.3, "p_active": 0.1,
                             "seed": 0}, "train": {"n_latents": 24}, "convergence": {"eps": 0.02}},
           "instance": {"reached_interference": {"W_p": 0.3}, "target_l0": 1.2,
                        "random_baseline": {"gt": {"0.95": 0.0}, "mip": 0.6}},
           "methods": {"topk_sae": {"sweep": [a, b, c], "selected": a},
                       "relu_sae": {"sweep": [_run("relu_sae", {"l1_coeff": 1.0}, 0.0, 0.0, converged=False)],
                                    "selected": None}}}
    c11 = {"comparisons": {"topk_sae": {"pairs_used": 2, "pairs_total": 3, "per_reading": {
        "encoder": {"m_gt_without": [0.2, 0.4], "m_gt_with": [0.5, 0.7], "ci95": [0.1, 0.5]},
        "decoder": {"m_gt_without": [0.5, 0.5], "m_gt_with": [0.5, 0.5], "ci95": ["-inf", "inf"]}}}}}
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in table1_markdown(c10, c11).splitlines()
            if line.startswith("| ") and "_sae" in line}
    topk, relu = rows["topk_sae"], rows["relu_sae"]
    assert topk[1] == "2/3" and topk[2] == "k=1" and topk[3] == "50.0% / 20.0%"
    assert topk[7] == "k=4" and topk[8] == "60.0% / 90.0%"
    assert topk[9] == "30.0% → 60.0% (Δ CI [+10.0, +50.0] pts; 2 pairs)"
    assert topk[10].startswith("50.0% → 50.0% (Δ CI [-inf, +inf]")
    assert topk[11] == "84.90% / 0.983"
    assert relu[1] == "0/1" and relu[2] == "—" and relu[7] == "—" and relu[9] == "—"


def _anchoring_record(**methods):
    """An :func:`proofs_check.bench_recovery.anchoring` record: per method its selected setting and pairs (each
    anchored run with its anchors held at |cos| 0.99)."""
    for m in methods.values():
        for p in m["pairs"]:
            p["with"]["anchor_cos_min"] = 0.99
    return {"anchor_k": 1, "spec": {"data": {"n_features": 12}}, "methods": methods}


@pytest.mark.parametrize("second, status", [("flat", "fails"), ("gain", "holds"), ("noisy", "inconclusive")])
def test_c11_verdict_follows_the_comparisons(monkeypatch, second, status):
    gain = {"pairs": [_pair(s, 0.3 + 0.01 * s, 0.6 + 0.02 * s) for s in range(3)], "selected_setting": {"l1_coeff": 0.1}}
    other = {"flat": [_pair(s, 0.0, 0.0) for s in range(3)],        # ΔM_GT = ΔM_IP = 0 on every seed: does not improve
             "gain": [_pair(s, 0.2, 0.5 + 0.01 * s) for s in range(3)],
             "noisy": [_pair(0, 0.3, 0.9), _pair(1, 0.6, 0.2), _pair(2, 0.4, 0.5)]}[second]
    r = _anchoring_record(relu_sae=gain, topk_sae={"pairs": other, "selected_setting": {"k": 2}})
    monkeypatch.setattr(c11, "anchoring", lambda size, seed: r)   # proof_steps reads the same record
    v = c11.verdict_from(r, 0, 8, "micro")
    assert (v.claim, v.status, v.seed, v.budget) == ("C11", status, 0, 8)
    assert v.evidence.startswith("anchoring 1 of 12 features, paired over seeds at each method's selected setting: "
                                 "relu_sae: improves (ΔM_GT decoder +0.310 CI [")
    assert [s.holds for s in v.steps] == [True]
    assert v.numbers["figure"]["series"]["decoder reading"][0] == pytest.approx(0.31)
    if status == "fails":
        ce = v.counterexample
        assert (ce["method"], ce["setting"]) == ("topk_sae", {"k": 2})
        assert ce["summary"] == ("topk_sae: does not improve (ΔM_GT decoder +0.000 CI [0.000, 0.000], encoder +0.000 "
                                 "CI [0.000, 0.000]; ΔM_IP enc +0.0000; 3/3 pairs)")
    else:
        assert v.counterexample is None


def test_c11_anchors_that_did_not_hold_fail_the_step(monkeypatch):
    r = _anchoring_record(relu_sae={"pairs": [_pair(s, 0.0, 0.0) for s in range(2)], "selected_setting": {}})
    r["methods"]["relu_sae"]["pairs"][1]["with"]["anchor_cos_min"] = 0.5
    monkeypatch.setattr(c11, "anchoring", lambda size, seed: r)
    (step,) = c11.proof_steps("micro", 0)
    assert (step.holds, step.residual) == (False, "0.5")
    assert step.note == "smallest anchor |cos| over all anchored runs: 0.5"


def test_c11_two_converged_pairs_decide():
    # d = (0.3, 0.31): mean 0.305, t interval ± t(0.975, 1) · sd / √2 = ± 12.71 · 0.00707 / 1.414 ≈ ± 0.064 > 0
    c = c11.compare([_pair(0, 0.3, 0.6), _pair(1, 0.3, 0.61)])
    assert c["pairs_used"] == 2 and c["outcome"] == "improves"
    assert c["per_reading"]["decoder"]["ci95"][0] == pytest.approx(0.305 - 12.7062 * 0.0070711 / 2 ** 0.5, abs=1e-3)


def test_anchoring_defaults_to_the_tiny_bench_seed_0_and_the_active_run_store(monkeypatch):
    """anchoring() without arguments is C11's tiny bench at seed 0, trained through the active run store (the
    training itself is stubbed: only what it is asked for is looked at)."""
    from numerics.recovery import active_store
    from proofs_check import bench_recovery

    asked = []
    monkeypatch.setattr(bench_recovery, "_anchoring", lambda *a: asked.append(a) or {"methods": {}})
    assert bench_recovery.anchoring() == {"methods": {}}
    assert bench_recovery.anchoring("small", 3) == {"methods": {}}
    assert asked == [("tiny", 0, active_store()), ("small", 3, active_store())]


def test_c11_with_fewer_than_two_pairs_leaves_every_reading_unresolved():
    one = c11.compare([_pair(0, 0.3, 0.6)])
    assert one["pairs_used"] == 1 and one["outcome"] == "unresolved"
    assert [v["outcome"] for v in one["per_reading"].values()] == ["unresolved"] * len(c11.READINGS)


def test_t_interval_with_fewer_than_two_differences_is_unbounded():
    m, lo, hi = c11.t_interval([])
    assert np.isnan(m) and (lo, hi) == (-np.inf, np.inf)
    assert c11.t_interval([0.25]) == (0.25, -np.inf, np.inf)


def test_table1_reads_the_anchoring_comparison_of_a_method():
    from proofs_check.table1 import _fa

    c = c11.compare([_pair(0, 0.3, 0.6), _pair(1, 0.3, 0.61)])   # M_GT 30 % → 60.5 %, two pairs
    cell = _fa({"m": c}, "m", "decoder")
    assert cell.startswith("30.0% → 60.5% (Δ CI [") and cell.endswith("pts; 2 pairs)")
    assert _fa({"m": c}, "other", "decoder") == "—"


def test_a_bench_claim_with_extra_arguments_names_them():
    from proofs_check.bench_recovery import resolve_size
    from theory.errors import SDLInputError

    with pytest.raises(SDLInputError, match=r"C10 takes a bench size, not \['pattern'\]"):
        resolve_size("C10", "tiny", {"pattern": [{0}]})
