"""`sdl-theory study NAME --out DIR` at tiny sizes: each writes a JSON result and a PNG figure."""
import json

import pytest

from sdl_theory.cli import main

TINY = {
    "absorption": ["--set", "lams=0.3,2.5", "--set", "ks=1", "--set", "topk_steps=40", "--set", "eval_events=200",
                   "--set", "extra_lams=0.3", "--set", "extra_seeds=1", "--set", "extra_children=2",
                   "--set", "refine_steps=5", "--set", "refine_batch=256", "--set", "bias_seeds=0",
                   "--set", "mixed_starts=false", "--set", "random_starts=0",
                   "--set", "two_level_seeds=0", "--set", "jumprelu_seeds=0"],
    "shrinkage": ["--set", "lams=0.0,1.0", "--set", "biases=0", "--set", "eval_events=200"],
    "partial-minima": ["--set", "eps=0.0,0.1", "--set", "widths=3", "--set", "random_seeds=1", "--set", "gd_steps=50"],
    "resampling": ["--set", "resample_every=20", "--set", "topk_scales=2.0"],
    "identifiability": ["--set", "ratios=0.5", "--set", "widths=2.0", "--set", "l1s=0.0", "--set", "construction_ns=2,3",
                        "--set", "n_p=4"],
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_study_writes_json_and_png(name, tmp_path, capsys):
    seeds = "2" if name == "resampling" else "1"
    rc = main(["study", name, "--out", str(tmp_path), "--seed", "3", "--seeds", seeds, "--steps", "40"] + TINY[name])
    assert rc == 0
    stem = name
    data = json.loads((tmp_path / f"{stem}.json").read_text())
    assert data["study"] == name and data["config"]["seed"] == 3 and data["note"]
    assert "study " + name in data["command"]
    assert (tmp_path / f"{stem}.png").stat().st_size > 1000
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith(f"# Study: {name}") and data["command"] in readme and data["note"] in readme
    for f in (f"{stem}.json", f"{stem}.png", "README.md"):
        assert (tmp_path / f).stat().st_mode & 0o777 == 0o644


def test_rerun_keeps_the_hand_written_part_of_the_readme(tmp_path):
    from studies.common import HAND_WRITTEN

    args = ["study", "shrinkage", "--out", str(tmp_path), "--seeds", "1", "--steps", "20"] + TINY["shrinkage"]
    assert main(args) == 0
    first = (tmp_path / "README.md").read_text()
    (tmp_path / "README.md").write_text(first + "\n" + HAND_WRITTEN + "\n\nWhy the numbers are what they are.\n")
    # another configuration into the same --out: refused (issue 10), then replaced with --overwrite
    assert main(args + ["--set", "lams=0.0,2.0"]) == 2
    assert main(args + ["--set", "lams=0.0,2.0", "--overwrite"]) == 0
    again = (tmp_path / "README.md").read_text()
    assert again.endswith(HAND_WRITTEN + "\n\nWhy the numbers are what they are.\n")
    note = json.loads((tmp_path / "shrinkage.json").read_text())["note"]
    assert again.count(HAND_WRITTEN) == 1 and note in again.split(HAND_WRITTEN)[0] and note not in first


def test_study_api_refuses_a_foreign_config():
    import studies
    from theory.errors import SDLInputError

    with pytest.raises(SDLInputError, match="takes a ShrinkageConfig"):
        studies.get("shrinkage").run(studies.get("resampling").config())
    with pytest.raises(SDLInputError, match="unknown study"):
        studies.get("nope")


def test_absorption_result_has_both_thresholds(tmp_path, monkeypatch):
    import functools

    import theory.absorption_bias as ab

    # the encoder-bias arm at one λ from two starts only (its polygon objective is the slow part)
    monkeypatch.setattr(ab, "stationary_points_bias",
                        functools.partial(ab.stationary_points_bias, gammas=(0.0,), parent_biases=(0.0,)))
    main(["study", "absorption", "--out", str(tmp_path), "--seeds", "1", "--steps", "40"] + TINY["absorption"]
         + ["--set", "bias_seeds=1", "--set", "bias_lams=1.2"])
    data = json.loads((tmp_path / "absorption.json").read_text())
    assert data["l1"]["predicted_threshold"] == pytest.approx(1.6126, abs=1e-3)
    assert data["topk"]["predicted_k_threshold"] == 2
    assert "gap" in data["l1"]
    # the curve: per λ the predicted minima, and every run matched (or not) to one of them
    curve = data["predicted_curve"]
    assert [c["lam"] for c in curve] == [0.3, 2.5] and all(c["minima"] for c in curve)
    assert {"absorption_rate", "tilt", "loss"} <= set(curve[0]["minima"][0])
    for c in data["curves"]:
        for row in c["rows"]:
            for q in row["runs"]:
                assert {"converged", "predicted_minimum", "distance_to_prediction", "exact_loss"} <= set(q)
                assert q["predicted_minimum"] is None or q["distance_to_prediction"] <= data["config"]["match_tol"]
    assert {c["label"] for c in data["curves"]} == {"SAE, K = 2", "TopK∘ReLU, K = 2", "transcoder, K = 2",
                                                    "SAE with encoder bias, K = 1"}
    bias = next(c for c in data["curves"] if c.get("encoder_bias"))
    assert bias["rows"][0]["minima"] and all(len(q["b_E"]) == 2 for q in bias["rows"][0]["runs"])
    # the TopK curve in k: per k the predicted minima (k = 1: a partially absorbed one below the fully absorbed one)
    tk = data["topk"]["predicted_curve"]
    assert [c["k"] for c in tk] == [1] and len(tk[0]["minima"]) >= 2
    assert 0 < tk[0]["minima"][0]["absorption_rate"] < 1 and tk[0]["minima"][-1]["absorption_rate"] > 0.99
    # reuse_from: that result kept, only a (tiny) JumpReLU arm computed and appended; its search from the absorbed end only
    import studies
    from theory.absorption_curve import absorbed_start
    from theory.errors import SDLInputError

    search, zero = ab.stationary_points_jumprelu, ab.jumprelu_field_zero
    monkeypatch.setattr(ab, "stationary_points_jumprelu", lambda h, lam, theta, **kw: search(
        h, lam, theta, starts=[(absorbed_start(h, 0.0), {"absorbed_end": True})]))
    monkeypatch.setattr(ab, "jumprelu_field_zero", lambda *a, **kw: zero(*a, steps=20, newton=2))
    import theory.absorption_ste as ste

    zeros, one = ste.ste_field_zeros, ste.ste_field_zero  # the ε-field's zeros from the run's initialisation only
    monkeypatch.setattr(ste, "ste_field_zeros", lambda *a, **kw: zeros(*a, **{**kw, "starts": [], "max_nfev": 3}))
    monkeypatch.setattr(ste, "ste_field_zero", lambda *a, **kw: one(*a, **{**kw, "max_nfev": 3}))
    again = tmp_path / "again"
    main(["study", "absorption", "--out", str(again), "--set", f"reuse_from={tmp_path / 'absorption.json'}",
          "--set", "recompute=jumprelu", "--set", "jumprelu_lams=1.0", "--set", "jumprelu_thetas=0.5",
          "--set", "jumprelu_seeds=1", "--set", "jumprelu_bandwidth_scan=0.05", "--steps", "40",
          "--set", "refine_steps=5", "--set", "refine_batch=256"])
    new = json.loads((again / "absorption.json").read_text())
    assert new["curves"][:-1] == data["curves"] and new["l1"] == data["l1"] and new["topk"] == data["topk"]
    assert new["reused"]["recomputed"] == ["jumprelu"] and new["reused"]["kept_arms_made_with"]["config"] == data["config"]
    jr = new["curves"][-1]
    assert jr["activation"] == "jumprelu" and [(r["lam"], r["theta_init"]) for r in jr["rows"]] == [(1.0, 0.5)]
    q = jr["rows"][0]["runs"][0]
    assert len(q["thresholds"]) == 3 and q["interior_grad_norm"] >= 0
    assert {"converged", "predicted_minimum", "distance_to_prediction", "predicted_estimator_zero"} <= set(q)
    assert jr["rows"][0]["minima"] and "JumpReLU + L0" in new["note"] and "ε-estimator" in new["note"]
    assert isinstance(jr["rows"][0]["estimator_zeros"], list) and q["ste_field_norm"] >= 0
    scan = jr["bandwidth_scan"]
    assert [q["bandwidth"] for q in scan["runs"]] == [0.05] and scan["runs"][0]["distance"] >= 0 and "field_zero" in scan
    with pytest.raises(SDLInputError, match="recompute names arms"):
        studies.get("absorption").config(recompute="jumprelu").validate()
    # recompute=topk: the TopK curve replaced in place and the result's topk part rebuilt from it, the rest kept
    import theory.absorption_curve as ac

    sp, tz = ac.stationary_points, ac.training_field_zero  # the search from the absorbed end; the field's flow short
    monkeypatch.setattr(ac, "stationary_points", lambda h, lam, **kw: sp(
        h, lam, **{**kw, "starts": [(absorbed_start(h, 0.0), {"absorbed_end": True})]}))
    monkeypatch.setattr(ac, "training_field_zero", lambda *a, **kw: tz(*a, **{**kw, "steps": 20, "newton": 2}))
    third = tmp_path / "third"
    main(["study", "absorption", "--out", str(third), "--set", f"reuse_from={again / 'absorption.json'}",
          "--set", "recompute=topk", "--set", "ks=2", "--set", "topk_steps=20", "--set", "refine_steps=5",
          "--set", "refine_batch=256", "--set", "eval_events=200", "--set", "mixed_starts=false",
          "--set", "random_starts=0"])
    top = json.loads((third / "absorption.json").read_text())
    i = next(i for i, c in enumerate(new["curves"]) if c.get("activation") == "topk_relu")
    assert top["curves"][i]["activation"] == "topk_relu" and [r["k"] for r in top["curves"][i]["rows"]] == [2]
    assert top["curves"][:i] + top["curves"][i + 1:] == new["curves"][:i] + new["curves"][i + 1:]
    assert [r["k"] for r in top["topk"]["rows"]] == [2] and [c["k"] for c in top["topk"]["predicted_curve"]] == [2]
    assert top["l1"] == new["l1"] and top["reused"]["recomputed"] == ["topk"]


def test_study_bad_input(tmp_path, capsys):
    assert main(["study", "shrinkage", "--out", str(tmp_path), "--set", "nonsense=1"]) == 2
    assert "no setting 'nonsense'" in capsys.readouterr().err
    assert main(["study", "shrinkage", "--out", str(tmp_path), "--set", "lams=-1"]) == 2
    assert main(["study", "resampling", "--out", str(tmp_path), "--seeds", "1"]) == 2
    with pytest.raises(SystemExit):
        main(["study", "unknown", "--out", str(tmp_path)])
