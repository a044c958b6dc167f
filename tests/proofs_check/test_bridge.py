"""proofs_check.bridge: inspection of points and trained models against the theory's predictions."""
import json

import numpy as np
import pytest
import torch

from proofs_check.bridge import (global_reference, inspect_model, inspect_point, load_checkpoint_instance, model_point,
                                 save_instance)
from theory.activations import TopKReLU
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.partial_optimum import stationary_partial_minima


def _inst(n=3, **kw):
    return Instance(W_p=np.eye(n), weights=np.ones(n), **kw)


def test_global_point_is_reported_global():
    inst = _inst()
    r = inspect_point(inst, np.eye(3), np.eye(3))
    assert r.global_optimum["status"] == "global" and r.global_optimum["exact"]
    assert r.residual["relative"] < 1e-12 and r.ls_decoder["relative_error"] < 1e-12
    assert r.partial_optimum["loss"] == pytest.approx(0, abs=1e-12)
    assert r.dead_neurons == [] and r.polysemantic_neurons == []


def test_spurious_partial_minimum_is_reported_spurious():
    inst = _inst()
    pm = stationary_partial_minima(inst, [{0, 1}, {2}, set()]).found[0]
    r = inspect_point(inst, pm.W_D, pm.W_E)
    assert r.global_optimum["status"] == "spurious"
    assert r.dead_neurons == [2] and r.polysemantic_neurons == [0]
    assert r.partial_optimum["point_is_partial_minimum"]
    assert r.partial_optimum["loss"] == pytest.approx(r.achieved_loss, rel=1e-9)
    assert r.achieved_loss == pytest.approx(1.0)  # Σ_{d∈{0,1}} ||w^d − (w^0+w^1)/2||² = 1/2 + 1/2
    assert "spurious" in r.to_text().lower()


def test_random_point_is_not_at_its_partial_optimum():
    inst = _inst()
    rng = np.random.default_rng(0)
    W_E = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, -1.0, -1.0]])
    r = inspect_point(inst, rng.normal(size=(3, 3)), W_E)
    assert r.global_optimum["status"] == "not_global"
    assert r.partial_optimum["loss"] < r.achieved_loss - 1e-3
    assert r.partial_optimum["gap"] == pytest.approx(r.achieved_loss - r.partial_optimum["loss"], rel=1e-12)
    assert r.residual["relative"] > 1e-3 and not r.partial_optimum["point_is_partial_minimum"]


def test_restarts_give_an_upper_bound_when_no_construction_applies():
    # n_q < n: C3 does not apply, the reference is the best ACS restart (not exact)
    inst = _inst()
    ref = global_reference(inst, 2, restarts=3, seed=1)
    assert not ref["exact"] and ref["reference_loss"] is not None and "upper bound" in ref["reference"]
    assert ref["reference_loss"] >= 1.0 - 1e-6  # two neurons cannot do better than dropping one of 3 features


def test_decoder_bias_and_encoder_bias_reported():
    inst = _inst(encoder_bias=True)
    r = inspect_point(inst, np.eye(3), np.eye(3), np.zeros(3), b_D=np.full(3, 0.1))
    assert any("decoder bias" in u for u in r.unmet)
    assert r.extra["loss_with_decoder_bias"] == pytest.approx(3 * 0.03)
    assert "bias" in r.residual["norms"]


def test_large_model_skips_acs_but_reports_residuals():
    inst = _inst(4)
    W_E = np.vstack([np.eye(4)] * 30)
    W_D = np.hstack([np.eye(4) / 30] * 30)
    r = inspect_point(inst, W_D, W_E, acs_max_vars=100)
    assert "skipped" in r.partial_optimum and r.global_optimum["status"] == "global"
    json.dumps(r.to_json())


def test_model_point_reads_bench_models():
    from numerics.models import build_model

    m = build_model("relu", 3, 4, bias=True, l1_coeff=1e-3)
    p = model_point(m)
    assert p.W_E.shape == (4, 3) and p.W_D.shape == (3, 4) and p.b_E is not None
    assert any("penalty" in u for u in p.unmet)
    t = build_model("topk_relu", 3, 4, bias=False, k=2)
    assert model_point(t).activation == TopKReLU(k=2)
    r = inspect_model(t, np.eye(3))
    assert r.sizes == {"n": 3, "n_p": 3, "n_r": 3, "n_q": 4}
    with pytest.raises(SDLInputError, match=r"the model reads 3 and writes 3 dimensions but the instance has n_p = 5, "
                                             r"n_r = 5: wrong instance for this model"):
        inspect_model(t, np.eye(5))  # wrong instance for the model


def test_load_checkpoint_with_instance_file(tmp_path):
    from numerics.io import save_model
    from numerics.models import build_model

    m = build_model("relu", 3, 3, bias=False)
    with torch.no_grad():
        m.W_enc.copy_(torch.eye(3))
        m.W_dec.copy_(torch.eye(3))
    save_model(tmp_path / "ck", m)
    with pytest.raises(SDLInputError, match="no instance"):
        load_checkpoint_instance(tmp_path / "ck")
    save_instance(tmp_path / "ck", np.eye(3), weights=[1, 2, 3])
    model, W_p, W_r, w, how = load_checkpoint_instance(tmp_path / "ck")
    assert W_r is None and list(w) == [1, 2, 3] and "instance file" in how
    r = inspect_model(model, W_p, W_r, w)
    assert r.global_optimum["status"] == "global"


def test_bench_model_instance_is_regenerated_from_results(tmp_path):
    """A model saved by `sdl-theory bench` under OUT/models/<run> finds its instance via OUT/results.json."""
    import dataclasses

    from numerics.config import DataConfig
    from numerics.data import make_bench
    from numerics.io import save_model, write_json_atomic
    from numerics.models import build_model

    data = DataConfig(n_features=6, d_in=8, n_samples=64, interference=0.5, pgd_steps=200)
    write_json_atomic(tmp_path / "results.json", {"config": {"data": dataclasses.asdict(data)},
                                                  "runs": {"relu_sae": {"kind": "sae"}}})
    save_model(tmp_path / "models" / "relu_sae", build_model("relu", 8, 10, bias=True, l1_coeff=1e-3))
    model, W_p, W_r, w, how = load_checkpoint_instance(tmp_path / "models" / "relu_sae")
    assert "regenerated from bench config" in how and W_r is None
    assert np.allclose(W_p, make_bench(data).W_p.double().numpy())
    assert w.shape == (6,) and np.all(w > 0)
    r = inspect_model(model, W_p, W_r, w, acs_max_vars=0)
    assert r.sizes["n_q"] == 10 and any("decoder bias" in u or "penalty" in u for u in r.unmet)


def test_an_upper_bound_reference_keeps_its_loss():
    """One neuron reading feature 0 of two (no construction fits, no restarts): the only reference is the
    least-squares decoder's own L̃ = M_1 ||w^1||² = 1 (feature 1 is lost), an upper bound, not 0."""
    inst = _inst(2)
    r = inspect_point(inst, np.array([[1.0], [0.0]]), np.array([[1.0, 0.0]]), acs=False)
    g = r.global_optimum
    assert (g["reference_loss"], g["exact"]) == (pytest.approx(1.0), False)
    assert g["reference"] == "the least-squares decoder at this encoder (an upper bound)"
    assert g["status"] == "best_known" and r.achieved_loss == pytest.approx(1.0)


def test_global_reference_with_a_bias_reaches_what_only_a_biased_start_reaches():
    """Inputs ±1 in R¹ with the same target 1, one ReLU unit with a bias: w = 0, b = 1, W_D = 1 gives L̃ = 0 (the
    global minimum, L̃ ≥ 0). A unit fires on both inputs only when b > |w|, which no start with b = 0 has (from one
    on a single input, ACS inside its region stays at L̃ = 1); the seeded random starts (seed 0, 12 restarts) draw
    their bias too, and reach 0."""
    from theory.activations import ReLU
    from theory.objective import approx_loss

    inst = Instance(W_p=np.array([[1.0, -1.0]]), W_r=np.array([[1.0, 1.0]]), activation=ReLU(), encoder_bias=True)
    assert approx_loss(inst, np.array([[1.0]]), np.array([[0.0]]), np.array([1.0])) == 0.0
    ref = global_reference(inst, 1, restarts=12, seed=0)
    assert ref["restarts"] == 12 and not ref["exact"] and ref["reference_loss"] < 1e-20
