"""`sdl-theory inspect CHECKPOINT`: text and JSON output, clear errors for bad checkpoints."""
import json

import numpy as np
import pytest
import torch

from sdl_theory.cli import main


def _checkpoint(path, spurious=False):
    from numerics.io import save_model
    from numerics.models import build_model
    from proofs_check.bridge import save_instance

    m = build_model("relu", 3, 3, bias=False)
    W_E, W_D = np.eye(3), np.eye(3)
    if spurious:
        W_E = np.array([[1.0, 1.0, -1.0], [-1.0, -1.0, 1.0], [-1.0, -1.0, -1.0]])
        W_D = np.array([[0.5, 0, 0], [0.5, 0, 0], [0, 1.0, 0]])
    with torch.no_grad():
        m.W_enc.copy_(torch.tensor(W_E, dtype=torch.float32))
        m.W_dec.copy_(torch.tensor(W_D.T, dtype=torch.float32))
    save_model(path, m)
    save_instance(path, np.eye(3))
    return path


def test_inspect_text_and_json(tmp_path, capsys):
    ck = _checkpoint(tmp_path / "good")
    assert main(["inspect", str(ck)]) == 0
    text = capsys.readouterr().out
    assert "GLOBAL" in text and "pattern on single-feature inputs" in text
    ck2 = _checkpoint(tmp_path / "bad", spurious=True)
    assert main(["inspect", str(ck2), "--json", "--out", str(tmp_path / "r.json")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["global_optimum"]["status"] == "spurious" and out["dead_neurons"] == [2]
    assert json.loads((tmp_path / "r.json").read_text())["polysemantic_neurons"] == [0]


def test_inspect_errors_are_one_line(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    ck = _checkpoint(tmp_path / "ck")
    (ck / "model.safetensors").write_bytes(b"not a safetensors file")
    assert main(["inspect", str(ck)]) == 2
    err = capsys.readouterr().err
    assert "cannot load the model" in err and "Traceback" not in err
    ck = _checkpoint(tmp_path / "ck2")
    (ck / "instance.json").write_text("{broken")
    assert main(["inspect", str(ck)]) == 2
    assert "not a valid instance file" in capsys.readouterr().err
    (ck / "cfg.json").unlink()
    assert main(["inspect", str(ck)]) == 2


def test_a_large_pattern_goes_to_pattern_out_not_the_json(tmp_path, capsys, monkeypatch):
    import proofs_check.bridge as B
    from safetensors.numpy import load_file

    ck = _checkpoint(tmp_path / "ck", spurious=True)
    assert main(["inspect", str(ck), "--json"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert full["pattern"] == [[0, 1], [2], []]
    monkeypatch.setattr(B, "PATTERN_JSON_MAX", 2)
    assert main(["inspect", str(ck), "--json", "--pattern-out", str(tmp_path / "p.safetensors")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pattern"] is None and out["extra"]["pattern_counts"] == [2, 1, 0]
    assert "3 (feature, neuron) pairs fire" in out["extra"]["pattern_omitted"]
    mask = load_file(str(tmp_path / "p.safetensors"))["mask"]
    assert mask.tolist() == [[1, 0, 0], [1, 0, 0], [0, 1, 0]]
    assert main(["inspect", str(ck), "--pattern-out", str(tmp_path)]) == 2
    assert "--pattern-out" in capsys.readouterr().err


def test_a_gated_bench_model_is_inspected_as_gated_units(tmp_path, capsys):
    """The bench's Gated SAE is read as theory's tied Gated units ([W_gate; e^r ⊙ W_gate]); its L̃ is what the
    torch model itself reconstructs from single features (an independent evaluation) when every open gate's
    magnitude is positive, and the open gates where it is not are counted."""
    from numerics.io import save_model
    from numerics.models import build_model
    from proofs_check.bridge import save_instance

    rng = np.random.default_rng(3)
    W_p = rng.normal(size=(5, 4))
    W_p /= np.linalg.norm(W_p, axis=0)
    for b_mag, exact in ((0.5, True), (-3.0, False)):
        m = build_model("gated", 5, 6, seed=1)
        with torch.no_grad():
            m.W_enc.copy_(torch.tensor(rng.normal(size=(6, 5)), dtype=torch.float32))
            m.r_mag.copy_(torch.tensor(rng.normal(size=6) * 0.3, dtype=torch.float32))
            m.b_enc.fill_(0.1)
            m.b_mag.fill_(b_mag)
            m.b_dec.zero_()
        ck = tmp_path / f"g{b_mag}"
        save_model(ck, m)
        save_instance(ck, W_p)
        assert main(["inspect", str(ck), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["activation"] == "Gated(tied=True)" and out["sizes"]["n_q"] == 6
        g = out["extra"]["gated_magnitude_nonpositive"]
        assert g["exact_on_single_features"] is exact and (g["open_gates_with_magnitude_le_0"] > 0) is not exact
        with torch.no_grad():
            x = torch.tensor(W_p.T, dtype=torch.float32)
            rec = m.decode(m.encode(x)) - m.b_dec
            torch_loss = float(((x - rec) ** 2).sum())
        if exact:
            assert out["achieved_loss"] == pytest.approx(torch_loss, rel=1e-5)
        else:
            assert out["achieved_loss"] != pytest.approx(torch_loss, rel=1e-3)
