"""The real-model study's logic on planted activations (no MiniLM needed: CI does not install the extra)."""
import dataclasses
import json

import pytest
import torch

from studies import real_model as R


def tiny(**kw):
    base = dict(source="synthetic", synthetic_dim=16, n_latents=24, k=3, steps=30, batch=64, seeds=2, revive=1,
                kinds=("sae", "transcoder", "crosscoder"), threads=1)
    base.update(kw)
    return R.RealModelConfig(**base)


@pytest.fixture(scope="module")
def acts():
    return R.synthetic_activations(tiny(), n_families=3, n_children=3, per_entity=6, background=0.5,
                                   log=lambda s: None)


def test_dead_latent_has_zero_gradient_a_strict_margin_and_a_revival_gain(acts):
    cfg = tiny()
    x, y = acts.data["sae"]
    m = R.build("sae_relu", cfg, x.shape[1], y.shape[1], seed=1)
    with torch.no_grad():
        m.b_enc[3] = -100.0                                      # latent 3 can never fire
        m.b_dec.copy_(x.mean(0))
    _, grads = R.data_objective_grad(m, x, y, acts.train_rows)
    d = R.dead_latents(m, grads, x, y, acts.train_rows, n_revive=1, revive_steps=20)
    fired, margin = R.firing_margins(m, x, acts.train_rows)
    assert not fired[3] and margin[3] > 50 and d["dead"] == int((~fired).sum()) >= 1
    assert d["dead_with_zero_gradient"] == d["dead"] and d["dead_with_strict_margin"] == d["dead"]
    assert d["live_gradient_median"] > 0                         # the live latents do get a gradient
    rev = d["revived"][0]
    assert rev["fires_after"] and rev["relative_gain"] > 0       # a lower objective exists in its own coordinates


def test_least_squares_decoder_gap_is_zero_only_at_the_least_squares_decoder(acts):
    cfg = tiny()
    x, _ = acts.data["sae"]
    m = R.build("sae", cfg, x.shape[1], x.shape[1], seed=2)
    with torch.no_grad():
        y = m.decode(m.encode(x))                                # a target this decoder reconstructs exactly
    exact = R.ls_decoder_gap(m, x, y, acts.train_rows)
    assert abs(exact["fvu_gap"]) < 1e-6 and exact["fvu_learned"] < 1e-6 and exact["atom_cosine_min"] > 0.999
    with torch.no_grad():
        m.W_dec[:5] = torch.roll(m.W_dec[:5], 1, dims=1)
    moved = R.ls_decoder_gap(m, x, y, acts.train_rows)
    assert moved["fvu_gap"] > 0.01 and moved["relative_gap"] > 0.5 and moved["atom_cosine_min"] < 0.99


def _hand_built(acts, absorbed: bool):
    """One parent latent per family reading/writing its parent direction and one latent per child; absorbed:
    the parent latent reads p − 2 Σ_j u_j (u_j: unit(child j's mean − the parent word's mean), so it is off on
    the children and on on the parent word) and each child latent writes unit(p + c_j)."""
    import numpy as np

    dirs = R.concept_directions(acts)
    x, _ = acts.data["sae"]
    E = x[acts.entity_rows]
    ent = np.asarray(acts.entity)
    rows, atoms = [], []
    for f in dirs.values():
        parent_mean = E[torch.tensor(ent == f["parent_word"])].mean(0)
        u = [R._unit(E[torch.tensor(ent == c)].mean(0) - parent_mean) for c in f["children"]]
        rows.append(f["parent"] - (2.0 * sum(u) if absorbed else 0.0))
        atoms.append(f["parent"])
        for c in f["children"].values():
            rows.append(c)
            atoms.append(R._unit(f["parent"] + c) if absorbed else c)
    m = R.build("sae_relu", tiny(n_latents=len(rows)), x.shape[1], x.shape[1], seed=0)
    with torch.no_grad():
        m.W_enc.copy_(torch.stack(rows))
        m.W_dec.copy_(torch.stack(atoms))
        m.b_enc.zero_()
        m.b_dec.zero_()
    return m


def test_absorption_measure_tells_a_clean_dictionary_from_an_absorbed_one(acts):
    cfg = tiny()
    clean = R.absorption(_hand_built(acts, False), acts, cfg, "sae")
    absorbed = R.absorption(_hand_built(acts, True), acts, cfg, "sae")
    assert clean["absorption_rate"]["mean"] < 0.2 < 0.8 < absorbed["absorption_rate"]["mean"]
    assert absorbed["parent_latent_on_parent_word"]["mean"] > 0.8     # the parent latent still reads the parent word
    assert absorbed["parent_latent_on_children"]["mean"] < 0.2


def test_study_runs_end_to_end_on_the_synthetic_source(tmp_path):
    from sdl_theory.cli import main

    cfg = tiny()
    args = ["study", "real-model", "--out", str(tmp_path / "out"), "--save-models", str(tmp_path / "models")]
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if v != getattr(R.RealModelConfig(), f.name):
            args += ["--" + f.name.replace("_", "-")] + ([str(x) for x in v] if isinstance(v, tuple) else [str(v)])
    assert main(args) == 0
    r = json.loads((tmp_path / "out" / "real-model.json").read_text())
    assert set(r["models"]) == {"sae", "transcoder", "crosscoder"} and r["config"]["seed"] == 0
    assert r["models"]["crosscoder"]["d_in"] == 32 and r["models"]["transcoder"]["theory"]["n"] >= 1
    an = r["anchoring"]
    assert len(an["runs"]) == 2 and all(x["anchored"]["anchored_classes_decoder"] > 0.95 for x in an["runs"])
    assert (tmp_path / "out" / "real-model.png").stat().st_size > 1000
    # the saved SAE is what `sdl-theory inspect --features decoder` reads
    assert main(["inspect", str(tmp_path / "models" / "sae"), "--features", "decoder", "--out",
                 str(tmp_path / "inspect.json")]) == 0
    ins = json.loads((tmp_path / "inspect.json").read_text())
    assert ins["sizes"]["n_p"] == 16 and ins["sizes"]["n_q"] == 24


def test_bad_settings_are_refused_in_one_line():
    from theory.errors import SDLInputError

    for bad in (dict(layer=6), dict(cross_layers=(2, 2)), dict(k=24), dict(kinds=("vae",)), dict(source="web")):
        with pytest.raises(SDLInputError):
            dataclasses.replace(tiny(), **bad).validate()


def test_inspect_reads_the_committed_minilm_sae():
    """The SAE the committed study trained on MiniLM (no extra needed to inspect it): `inspect --features decoder`
    gives the L̃ residual the study recorded for it."""
    from pathlib import Path

    from proofs_check.bridge import inspect_model, load_checkpoint_instance

    root = Path(__file__).resolve().parents[1] / "results" / "studies" / "real-model"
    if not (root / "models" / "sae" / "model.safetensors").is_file():
        pytest.skip("no committed MiniLM SAE")
    model, W_p, W_r, w, how = load_checkpoint_instance(root / "models" / "sae", features="decoder")
    r = inspect_model(model, W_p, W_r, w, restarts=0)
    recorded = json.loads((root / "real-model.json").read_text())["models"]["sae"]["theory"]
    assert (r.sizes["n_p"], r.sizes["n_q"]) == (384, recorded["n"])
    assert r.residual["relative"] == pytest.approx(recorded["residual_relative"], rel=1e-6)
    assert r.global_optimum["status"] == recorded["status"]
