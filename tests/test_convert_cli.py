"""`sdl-theory inspect` on SAELens, sparsify and dictionary_learning checkpoints, and `sdl-theory convert`."""
import json

import numpy as np
import torch
from safetensors.torch import save_file

from sdl_theory.cli import main


def _W(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _foreign(tmp_path):
    """One checkpoint of each library: 5 features in R^6, 8 latents."""
    d, n = 6, 8
    sl = tmp_path / "saelens"
    sl.mkdir()
    (sl / "cfg.json").write_text(json.dumps({"architecture": "jumprelu", "d_in": d, "d_sae": n, "dtype": "float32",
                                             "device": "cpu", "apply_b_dec_to_input": True,
                                             "normalize_activations": "none", "metadata": {"sae_lens_version": "6.5.0"}}))
    save_file({"W_enc": _W(d, n), "b_enc": 0.1 * _W(n, seed=1), "W_dec": _W(n, d, seed=2), "b_dec": 0.1 * _W(d, seed=3),
               "threshold": 0.2 * torch.ones(n)}, str(sl / "sae_weights.safetensors"))
    sp = tmp_path / "sparsify" / "layers.2"
    sp.mkdir(parents=True)
    (sp / "cfg.json").write_text(json.dumps({"activation": "topk", "num_latents": n, "k": 2, "transcode": False, "d_in": d}))
    save_file({"encoder.weight": _W(n, d, seed=4), "encoder.bias": torch.zeros(n), "W_dec": _W(n, d, seed=5),
               "b_dec": torch.zeros(d)}, str(sp / "sae.safetensors"))
    dl = tmp_path / "dl"
    dl.mkdir()
    torch.save({"bias": torch.zeros(d), "encoder.weight": _W(n, d, seed=6), "encoder.bias": torch.zeros(n),
                "decoder.weight": _W(d, n, seed=7)}, str(dl / "ae.pt"))
    inst = tmp_path / "instance.json"
    inst.write_text(json.dumps({"W_p": np.eye(d)[:, :5].tolist()}))
    return {"saelens": sl, "sparsify": sp, "dictionary_learning": dl}, inst


def test_inspect_reads_every_library(tmp_path, capsys):
    cks, inst = _foreign(tmp_path)
    for fmt, ck in cks.items():
        assert main(["inspect", str(ck), "--instance", str(inst), "--json"]) == 0, fmt
        out = json.loads(capsys.readouterr().out)
        assert out["checkpoint_format"] == fmt and out["sizes"] == {"n": 5, "n_p": 6, "n_r": 6, "n_q": 8}
        assert main(["inspect", str(ck), "--features", "decoder", "--acs-max-vars", "0"]) == 0, fmt
        text = capsys.readouterr().out
        assert f"({fmt} format)" in text and "unit decoder atoms as features" in text and "n=8 features" in text
    assert main(["inspect", str(cks["saelens"])]) == 2
    assert "--features decoder" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path / "sparsify")]) == 2       # several hookpoints: name them
    assert "layers.2" in capsys.readouterr().err


def test_convert_both_ways(tmp_path, capsys):
    cks, inst = _foreign(tmp_path)
    assert main(["convert", str(cks["dictionary_learning"]), str(tmp_path / "to_sl"), "--to", "saelens"]) == 0
    text = capsys.readouterr().out
    gap = float(text.split("relative reconstruction difference ")[1].split()[0])
    assert gap <= 1e-5
    cfg = json.loads((tmp_path / "to_sl" / "cfg.json").read_text())
    assert cfg["architecture"] == "standard" and cfg["apply_b_dec_to_input"] is True and cfg["d_sae"] == 8
    assert main(["convert", str(tmp_path / "to_sl"), str(tmp_path / "ours"), "--to", "sdl"]) == 0
    assert (tmp_path / "ours" / "model.safetensors").is_file()
    assert main(["convert", str(cks["saelens"]), str(tmp_path / "x"), "--to", "sparsify"]) == 2
    assert "TopK" in capsys.readouterr().err
    assert main(["convert", str(cks["sparsify"]), str(tmp_path / "to_sl"), "--to", "saelens"]) == 2
    assert "not empty" in capsys.readouterr().err
