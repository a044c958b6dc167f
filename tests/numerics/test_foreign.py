"""Foreign checkpoints (issue 9): SAELens, sparsify and dictionary_learning layouts built here, with
each library's own forward pass written out beside it; ours must reconstruct like it (≤ 1e-5 relative)."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from numerics.foreign import (convert, detect_format, load_any, reconstruction_gap, save_saelens, save_sparsify)
from numerics.models import build_model
from theory.errors import SDLInputError

D, N = 12, 20


def rel(a, b):
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


def rand(*shape, seed=0, scale=1.0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * scale


def inputs(seed=5, d=D):
    return rand(64, d, seed=seed) + 0.3


def write_saelens(path, cfg, tensors):
    path.mkdir(parents=True, exist_ok=True)
    (path / "cfg.json").write_text(json.dumps(cfg))
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path / "sae_weights.safetensors"))


def saelens_cfg(arch, **kw):
    return {"architecture": arch, "d_in": D, "d_sae": N, "dtype": "float32", "device": "cpu",
            "apply_b_dec_to_input": True, "normalize_activations": "none", "reshape_activations": "none",
            "metadata": {"sae_lens_version": "6.54.12"}, **kw}


def saelens_weights(seed=0, d_out=D):
    return {"W_enc": rand(D, N, seed=seed), "b_enc": rand(N, seed=seed + 1, scale=0.2),
            "W_dec": rand(N, d_out, seed=seed + 2, scale=0.5), "b_dec": rand(d_out, seed=seed + 3, scale=0.3)}


# ------------------------------------------------------------------- SAELens (its encode/decode written out)
def test_saelens_standard_with_b_dec_subtracted(tmp_path):
    w = saelens_weights()
    write_saelens(tmp_path / "s", saelens_cfg("standard"), w)
    x = inputs()
    ref = torch.relu((x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]) @ w["W_dec"] + w["b_dec"]
    got = load_any(tmp_path / "s")
    assert got.format == "saelens" and got.model.spec()["name"] == "relu" and got.model.apply_b_dec_to_input
    with torch.no_grad():
        assert rel(got.model(x), ref) <= 1e-5
    # the option matters: without the subtraction the function is different
    write_saelens(tmp_path / "n", saelens_cfg("standard", apply_b_dec_to_input=False), w)
    with torch.no_grad():
        assert rel(load_any(tmp_path / "n").model(x), ref) > 1e-3


def test_saelens_jumprelu_threshold_stored_directly(tmp_path):
    w = saelens_weights(seed=3)
    theta = rand(N, seed=9).abs() * 0.5
    write_saelens(tmp_path / "j", saelens_cfg("jumprelu"), {**w, "threshold": theta})
    x = inputs()
    z = (x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]
    ref = (torch.relu(z) * (z > theta)) @ w["W_dec"] + w["b_dec"]
    m = load_any(tmp_path / "j").model
    assert m.threshold_storage == "direct" and "threshold" in m.state_dict() and "log_threshold" not in m.state_dict()
    assert torch.equal(m.threshold.detach(), theta)
    with torch.no_grad():
        assert rel(m(x), ref) <= 1e-5


def test_saelens_topk_decoder_norm_rescaling_is_folded(tmp_path):
    w = saelens_weights(seed=4)
    write_saelens(tmp_path / "t", saelens_cfg("topk", k=4, rescale_acts_by_decoder_norm=True), w)
    x = inputs()
    norms = w["W_dec"].norm(dim=1)
    z = ((x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]) * norms
    top = z.topk(4, dim=1)
    acts = torch.zeros_like(z).scatter_(1, top.indices, top.values.relu())
    ref = (acts / norms) @ w["W_dec"] + w["b_dec"]
    got = load_any(tmp_path / "t")
    assert any("rescale_acts_by_decoder_norm" in n for n in got.notes)
    with torch.no_grad():
        assert rel(got.model(x), ref) <= 1e-5
        assert torch.allclose(got.model.W_dec.norm(dim=1), torch.ones(N), atol=1e-5)


def test_saelens_gated_and_transcoder(tmp_path):
    w = saelens_weights(seed=6)
    g = {"W_enc": w["W_enc"], "b_gate": w["b_enc"], "r_mag": rand(N, seed=1, scale=0.3),
         "b_mag": rand(N, seed=2, scale=0.2), "W_dec": w["W_dec"], "b_dec": w["b_dec"]}
    write_saelens(tmp_path / "g", saelens_cfg("gated"), g)
    x = inputs()
    xin = x - g["b_dec"]
    ref = ((xin @ g["W_enc"] + g["b_gate"]) > 0).float() * torch.relu(xin @ (g["W_enc"] * g["r_mag"].exp()) + g["b_mag"])
    ref = ref @ g["W_dec"] + g["b_dec"]
    with torch.no_grad():
        assert rel(load_any(tmp_path / "g").model(x), ref) <= 1e-5
    t = saelens_weights(seed=7, d_out=7)
    write_saelens(tmp_path / "tc", saelens_cfg("transcoder", d_out=7, apply_b_dec_to_input=False), t)
    ref = torch.relu(x @ t["W_enc"] + t["b_enc"]) @ t["W_dec"] + t["b_dec"]
    m = load_any(tmp_path / "tc").model
    assert (m.d_in, m.d_out) == (D, 7)
    with torch.no_grad():
        assert rel(m(x), ref) <= 1e-5


def test_saelens_pre_6_topk_config(tmp_path):
    w = saelens_weights(seed=8)
    cfg = {"d_in": D, "d_sae": N, "activation_fn_str": "topk", "activation_fn_kwargs": {"k": 3}, "dtype": "float32"}
    write_saelens(tmp_path / "old", cfg, w)
    m = load_any(tmp_path / "old").model
    assert m.spec()["name"] == "topk_relu" and m.k == 3 and m.apply_b_dec_to_input  # SAELens's pre-6.0 default


def test_saelens_refusals_are_one_clear_line(tmp_path):
    w = saelens_weights()
    write_saelens(tmp_path / "ln", saelens_cfg("standard", normalize_activations="layer_norm"), w)
    with pytest.raises(SDLInputError, match="normalize_activations"):
        load_any(tmp_path / "ln")
    write_saelens(tmp_path / "sk", saelens_cfg("skip_transcoder"), w)
    with pytest.raises(SDLInputError, match="not supported"):
        load_any(tmp_path / "sk")
    bad = dict(w, W_enc=w["W_enc"].T.contiguous())  # transposed: d_sae × d_in is ours, not SAELens's
    write_saelens(tmp_path / "tr", saelens_cfg("standard"), bad)
    with pytest.raises(SDLInputError, match="W_enc has shape"):
        load_any(tmp_path / "tr")


# ------------------------------------------------------------------- sparsify
def write_sparsify(path, cfg, tensors):
    path.mkdir(parents=True, exist_ok=True)
    (path / "cfg.json").write_text(json.dumps(cfg))
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path / "sae.safetensors"))


@pytest.mark.parametrize("transcode", [False, True])
def test_sparsify_topk(tmp_path, transcode):
    cfg = {"activation": "topk", "expansion_factor": 2, "normalize_decoder": True, "num_latents": N, "k": 5,
           "multi_topk": False, "skip_connection": False, "transcode": transcode, "d_in": D}
    t = {"encoder.weight": rand(N, D, seed=1), "encoder.bias": rand(N, seed=2, scale=0.1),
         "W_dec": rand(N, D, seed=3), "b_dec": rand(D, seed=4, scale=0.5)}
    write_sparsify(tmp_path / "layers.3", cfg, t)
    assert detect_format(tmp_path / "layers.3") == "sparsify"
    x = inputs()
    xin = x if transcode else x - t["b_dec"]   # sparsify subtracts b_dec exactly when not transcoding
    pre = torch.relu(xin @ t["encoder.weight"].T + t["encoder.bias"])
    top = pre.topk(5, dim=1)
    ref = torch.zeros_like(pre).scatter_(1, top.indices, top.values) @ t["W_dec"] + t["b_dec"]
    m = load_any(tmp_path / "layers.3").model
    with torch.no_grad():
        assert rel(m(x), ref) <= 1e-5
    # the parent of several hookpoints names them instead of guessing
    with pytest.raises(SDLInputError, match="layers.3"):
        load_any(tmp_path)


def test_sparsify_skip_connection_refused(tmp_path):
    cfg = {"activation": "topk", "num_latents": N, "k": 5, "skip_connection": True, "d_in": D}
    write_sparsify(tmp_path / "s", cfg, {"encoder.weight": rand(N, D), "encoder.bias": rand(N), "W_dec": rand(N, D),
                                         "b_dec": rand(D), "W_skip": rand(D, D)})
    with pytest.raises(SDLInputError, match="skip_connection"):
        load_any(tmp_path / "s")


# ------------------------------------------------------------------- dictionary_learning (ae.pt, weights_only)
def write_dl(path, state, dict_class=None):
    path.mkdir(parents=True, exist_ok=True)
    torch.save(state, str(path / "ae.pt"))
    if dict_class:
        (path / "config.json").write_text(json.dumps({"trainer": {"dict_class": dict_class, "activation_dim": D,
                                                                  "dict_size": N}}))


def dl_cases():
    enc, b_enc, dec, b = rand(N, D, seed=1), rand(N, seed=2, scale=0.2), rand(D, N, seed=3), rand(D, seed=4, scale=0.4)
    theta = rand(N, seed=5).abs() * 0.3
    r_mag, b_mag = rand(N, seed=6, scale=0.3), rand(N, seed=7, scale=0.2)

    def topk(z, k):
        top = z.topk(k, dim=1)
        return torch.zeros_like(z).scatter_(1, top.indices, top.values)

    return {
        "AutoEncoder": ({"bias": b, "encoder.weight": enc, "encoder.bias": b_enc, "decoder.weight": dec}, None,
                        lambda x: torch.relu((x - b) @ enc.T + b_enc) @ dec.T + b),
        "AutoEncoderNew": ({"encoder.weight": enc, "encoder.bias": b_enc, "decoder.weight": dec, "decoder.bias": b}, None,
                           lambda x: torch.relu(x @ enc.T + b_enc) @ dec.T + b),
        "AutoEncoderTopK": ({"encoder.weight": enc, "encoder.bias": b_enc, "decoder.weight": dec, "b_dec": b,
                             "k": torch.tensor(4, dtype=torch.int), "threshold": torch.tensor(-1.0)}, "AutoEncoderTopK",
                            lambda x: topk(torch.relu((x - b) @ enc.T + b_enc), 4) @ dec.T + b),
        "BatchTopKSAE": ({"encoder.weight": enc, "encoder.bias": b_enc, "decoder.weight": dec, "b_dec": b,
                          "k": torch.tensor(4, dtype=torch.int), "threshold": torch.tensor(0.7)}, "BatchTopKSAE",
                         lambda x: (lambda p: p * (p > 0.7))(torch.relu((x - b) @ enc.T + b_enc)) @ dec.T + b),
        "JumpReluAutoEncoder": ({"W_enc": enc.T.contiguous(), "b_enc": b_enc, "W_dec": dec.T.contiguous(), "b_dec": b,
                                 "threshold": theta}, None,
                                # its codes are scaled by ||d_i|| in encode and unscaled in decode
                                lambda x: ((lambda z: torch.relu(z * (z > theta)) * dec.T.norm(dim=1))(x @ enc.T + b_enc)
                                           / dec.T.norm(dim=1)) @ dec.T + b),
        "GatedAutoEncoder": ({"decoder_bias": b, "encoder.weight": enc, "r_mag": r_mag, "gate_bias": b_enc,
                              "mag_bias": b_mag, "decoder.weight": dec}, None,
                             lambda x: ((((x - b) @ enc.T + b_enc) > 0).float()
                                        * torch.relu(r_mag.exp() * ((x - b) @ enc.T) + b_mag)) @ dec.T + b),
    }


@pytest.mark.parametrize("arch", list(dl_cases()))
def test_dictionary_learning_layouts(tmp_path, arch):
    state, dict_class, forward = dl_cases()[arch]
    write_dl(tmp_path / arch, state, dict_class)
    assert detect_format(tmp_path / arch) == detect_format(tmp_path / arch / "ae.pt") == "dictionary_learning"
    got = load_any(tmp_path / arch)
    assert got.source_config["architecture"] == arch
    x = inputs()
    with torch.no_grad():
        assert rel(got.model(x), forward(x)) <= 1e-5


def test_dictionary_learning_pickles_are_not_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("unpickled!",))

    (tmp_path / "e").mkdir()
    torch.save({"encoder.weight": Evil()}, str(tmp_path / "e" / "ae.pt"))
    with pytest.raises(SDLInputError, match="weights_only"):
        load_any(tmp_path / "e")


# ------------------------------------------------------------------- export and round trips
@pytest.mark.parametrize("name,kw,d_out", [
    ("relu", {"apply_b_dec_to_input": True}, None), ("relu", {}, 7),
    ("jumprelu", {}, None), ("jumprelu", {"threshold_storage": "direct"}, 7),
    ("topk_relu", {"k": 3, "apply_b_dec_to_input": True}, None), ("gated", {}, None), ("batchtopk", {"k": 3}, None)])
def test_saelens_export_loads_back_identically(tmp_path, name, kw, d_out):
    m = build_model(name, D, N, d_out, seed=2, **kw)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.1 * rand(*p.shape, seed=p.numel()))
        if name == "batchtopk":
            m.threshold.fill_(0.2)
    save_saelens(m, tmp_path / "out")
    cfg = json.loads((tmp_path / "out" / "cfg.json").read_text())
    for key in ("architecture", "d_in", "d_sae", "dtype", "device", "apply_b_dec_to_input", "normalize_activations"):
        assert key in cfg
    back = load_any(tmp_path / "out").model
    expected = "jumprelu" if name == "batchtopk" else name
    assert back.spec()["name"] == expected
    if name != "batchtopk":
        assert back.spec() == m.spec()
        for k, v in m.state_dict().items():
            assert torch.allclose(back.state_dict()[k], v, rtol=1e-6, atol=1e-7), k
    assert reconstruction_gap(m.eval(), back) <= 1e-5


def test_export_refusals(tmp_path):
    with pytest.raises(SDLInputError, match="no topk transcoder"):
        save_saelens(build_model("topk_relu", D, N, 7, k=2), tmp_path / "a")
    with pytest.raises(SDLInputError, match="no inference threshold"):
        save_saelens(build_model("batchtopk", D, N, k=2), tmp_path / "b")
    with pytest.raises(SDLInputError, match="TopK"):
        save_sparsify(build_model("relu", D, N), tmp_path / "c")


@pytest.mark.parametrize("sub", [False, True])
def test_sparsify_round_trip_and_convert(tmp_path, sub):
    m = build_model("topk_relu", D, N, k=4, seed=1, apply_b_dec_to_input=sub)
    with torch.no_grad():
        m.b_dec.add_(rand(D, seed=3))
        m.b_enc.add_(rand(N, seed=4, scale=0.1))
    save_sparsify(m, tmp_path / "sp")
    assert json.loads((tmp_path / "sp" / "cfg.json").read_text())["transcode"] is (not sub)
    back = load_any(tmp_path / "sp").model
    assert reconstruction_gap(m.eval(), back) <= 1e-6
    # sparsify → SAELens → ours, through the converter
    convert(tmp_path / "sp", tmp_path / "sl", to="saelens")
    assert reconstruction_gap(m, load_any(tmp_path / "sl").model) <= 1e-5
    with pytest.raises(SDLInputError, match="not empty"):
        convert(tmp_path / "sp", tmp_path / "sl", to="saelens")


def test_apply_b_dec_option_trains_and_is_the_folded_bias():
    m = build_model("relu", D, N, apply_b_dec_to_input=True, seed=0)
    with torch.no_grad():
        m.b_dec.copy_(rand(D, seed=1))
    x = inputs()
    z = m.preacts(x)
    assert torch.allclose(z, x @ m.W_enc.T + m.effective_encoder_bias(), atol=1e-5)
    terms, _, _ = m.loss(x, x)
    sum(terms.values()).backward()
    assert m.b_dec.grad is not None and m.b_dec.grad.abs().sum() > 0
    with pytest.raises(SDLInputError, match="apply_b_dec_to_input"):
        build_model("relu", D, N, 7, apply_b_dec_to_input=True)
    with pytest.raises(SDLInputError, match="threshold_storage"):
        build_model("jumprelu", D, N, threshold_storage="exp")


def test_direct_threshold_gets_the_ste_gradient():
    # d/dθ of the L0 term is −(1/ε) Σ K((z−θ)/ε) per latent, the same estimator as for log θ times dθ/dlogθ = θ
    x = inputs()
    grads = {}
    for storage in ("log", "direct"):
        m = build_model("jumprelu", D, N, seed=0, threshold_storage=storage, threshold_init=0.3, bandwidth=0.5)
        terms, _, _ = m.loss(x, x)
        terms["l0"].backward()
        grads[storage] = m.log_threshold.grad if storage == "log" else m.threshold.grad
    assert grads["direct"].abs().sum() > 0
    assert torch.allclose(grads["log"], grads["direct"] * 0.3, rtol=1e-4, atol=1e-7)


# ------------------------------------------------------------------- the real SAELens, where installed
def test_round_trip_through_sae_lens(tmp_path):
    sae_lens = pytest.importorskip("sae_lens")
    from sae_lens import SAE

    for name, kw in (("relu", {"apply_b_dec_to_input": True}), ("jumprelu", {}), ("topk_relu", {"k": 3}), ("gated", {})):
        m = build_model(name, D, N, seed=3, **kw)
        with torch.no_grad():
            for p in m.parameters():
                p.add_(0.1 * rand(*p.shape, seed=p.numel() + 1))
        save_saelens(m, tmp_path / name)
        sae = SAE.load_from_disk(str(tmp_path / name))     # their loader on our export
        x = inputs()
        with torch.no_grad():
            assert rel(sae(x), m(x)) <= 1e-5, name
        sae.save_model(str(tmp_path / f"{name}-theirs"))   # their writer, our loader
        back = load_any(tmp_path / f"{name}-theirs").model
        with torch.no_grad():
            assert rel(back(x), sae(x)) <= 1e-5, name
    assert sae_lens.__version__


@pytest.mark.parametrize("name", ["relu", "jumprelu", "gated"])
def test_b_dec_subtraction_on_the_sparse_and_dense_paths(name, monkeypatch):
    # the sparse code path (few active entries) must see x − b_dec exactly as the dense one, gradients included
    x = inputs()
    out = {}
    for below in (0.0, 1.0):
        m = build_model(name, D, N, seed=4, apply_b_dec_to_input=True)
        with torch.no_grad():
            m.b_dec.copy_(rand(D, seed=11))
            m.b_enc.copy_(rand(N, seed=12, scale=0.3))
        monkeypatch.setattr(type(m), "sparse_below", below)
        terms, code, y_hat = m.loss(x, x)
        sum(terms.values()).backward()
        out[below] = (y_hat.detach(), m.b_dec.grad.clone(), m.W_enc.grad.clone(), code.sparse)
    assert not out[0.0][3] and out[1.0][3]
    for a, b in zip(out[0.0][:3], out[1.0][:3]):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)
    assert out[0.0][1].abs().sum() > 0
