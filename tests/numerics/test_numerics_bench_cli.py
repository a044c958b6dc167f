"""``sdl-theory bench``: the small preset end to end, with metrics checks that could fail."""
import json

import pytest

from numerics import bench as bench_mod
from numerics.bench import PAPER_TABLE1, preset_config, run_bench
from sdl_theory.cli import main


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    rc = main(["bench", "--preset", "small", "--out", str(out), "--quiet"])
    return rc, out, json.loads((out / "results.json").read_text())


def test_small_preset_writes_results_table_and_models(small_run):
    rc, out, res = small_run
    assert rc == 0
    assert not res["errors"]
    assert len(res["runs"]) == 14                               # 7 methods × with/without anchoring
    assert (out / "runs" / "topk_sae+fa.json").is_file()
    assert (out / "models" / "topk_sae" / "model.safetensors").is_file()
    assert res["config"]["data"]["seed"] == 0 and res["config"]["preset"] == "small"
    table = (out / "table.md").read_text()
    assert "| topk_sae |" in table and f"{PAPER_TABLE1['topk_sae'][0]:.2f}%" in table
    assert "random dictionary" in table


def test_topk_recovers_easy_instance_and_beats_random(small_run):
    _, _, res = small_run
    topk = res["runs"]["topk_sae"]["metrics"]["dec"]
    assert topk["gt"]["0.9"] > 0.9
    assert topk["mcc"] > 0.9
    rb = res["random_baseline"]
    assert rb["gt"]["0.9"] == 0.0
    assert rb["mip"] < 0.6 < topk["mip"]
    # anchored runs are scored on the non-anchored features only
    assert res["runs"]["topk_sae+fa"]["anchor_k"] == 4


def test_bad_input_is_one_clear_line(capsys, tmp_path):
    assert main(["bench", "--p-active", "1.5", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "p_active" in err and "Traceback" not in err
    assert main(["bench", "--interference", "0.001", "--out", str(tmp_path)]) == 2
    assert "Welch bound" in capsys.readouterr().err
    assert main(["bench", "--methods", "softmax_sae", "--out", str(tmp_path)]) == 2


def test_a_failing_method_keeps_the_others(tmp_path, monkeypatch):
    real = bench_mod.run_one

    def flaky(cfg, method, anchored, *a, **kw):
        if method == "relu_sae":
            raise RuntimeError("boom")
        return real(cfg, method, anchored, *a, **kw)

    monkeypatch.setattr(bench_mod, "run_one", flaky)
    cfg = preset_config("small", methods=("relu_sae", "topk_sae"), anchoring="without",
                        train=dict(epochs=1, quiet=True))
    res = run_bench(cfg, tmp_path, log=lambda s: None, save_models=False)
    assert "relu_sae" in res["errors"] and "boom" in res["errors"]["relu_sae"]
    assert "topk_sae" in res["runs"]
    assert "Failed runs: relu_sae" in (tmp_path / "table.md").read_text()


def test_paper_preset_has_the_papers_sizes():
    cfg = preset_config("paper-table1")
    assert (cfg.data.n_features, cfg.data.d_in, cfg.train.n_latents, cfg.data.n_samples) == (1000, 768, 16000, 100_000)
    assert cfg.data.interference == 0.1 and cfg.data.p_active == 0.01 and cfg.table_tau == 0.95
    assert cfg.anchor_k == 100 and cfg.train.anchor_lambda == 0.1
    assert len(cfg.methods) == 7 and cfg.anchoring == "both"
    scaled = preset_config("table1-scaled")
    assert abs(scaled.data.n_features / scaled.data.d_in - 1000 / 768) < 0.02
    assert scaled.train.n_latents / scaled.data.n_features == 16


def test_any_kind_arch_pair_runs(tmp_path):
    cfg = preset_config("small", methods=("transcoder:gated", "crosscoder:batchtopk", "transcoder:jumprelu"),
                        anchoring="with", train=dict(epochs=1, quiet=True), data=dict(d_out=36))
    res = run_bench(cfg, tmp_path, log=lambda s: None, save_models=False)
    assert not res["errors"]
    tc = res["runs"]["transcoder:gated+fa"]
    assert (tc["kind"], tc["arch"]) == ("transcoder", "gated")
    assert len(tc["metrics"]["dec"]["curve"]) == 21
    assert res["runs"]["crosscoder:batchtopk+fa"]["metrics"]["explained_variance"] > 0
