"""Activation sources (in memory, lazily read safetensors shards, transformers hooks) and the
ground-truth-free evaluation (issue 9)."""
from __future__ import annotations

import pytest
import torch

from numerics.models import build_model
from numerics.sources import (SafetensorsShards, TensorSource, TransformersHooks, evaluate_without_ground_truth,
                              write_shards)
from theory.errors import SDLInputError


def _data(n=300, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g) + 0.5, torch.randn(n, 5, generator=g)


def test_shards_stream_the_same_batches_as_memory(tmp_path):
    x, y = _data()
    write_shards(tmp_path / "acts", x, y, rows_per_shard=70)       # 5 shards, batches straddle them
    shards = SafetensorsShards(tmp_path / "acts", y_key="y")
    mem = TensorSource(x, y)
    assert len(shards) == len(mem) == 300 and (shards.d_in, shards.d_out) == (8, 5)
    for (a, b), (c, d) in zip(shards.batches(64, start=10, stop=250), mem.batches(64, start=10, stop=250)):
        assert torch.equal(a, c) and torch.equal(b, d)
    assert sum(len(a) for a, _ in shards.batches(64, start=10, stop=250)) == 240


def test_shard_errors_are_clear(tmp_path):
    x, _ = _data()
    write_shards(tmp_path / "a", x, rows_per_shard=100)
    with pytest.raises(SDLInputError, match="no tensor 'y'"):
        SafetensorsShards(tmp_path / "a", y_key="y")
    with pytest.raises(SDLInputError, match="no .safetensors"):
        SafetensorsShards([], x_key="x")
    with pytest.raises(SDLInputError, match="sample range"):
        list(TensorSource(x).batches(10, start=5, stop=400))
    with pytest.raises(SDLInputError, match="batch_size"):
        list(TensorSource(x).batches(0))


def test_evaluation_without_ground_truth_matches_a_direct_computation():
    x, _ = _data(n=256, d=8)
    m = build_model("relu", 8, 16, seed=1, apply_b_dec_to_input=True)
    with torch.no_grad():
        m.b_enc.fill_(-0.5)
        m.b_dec.copy_(x.mean(0))
        m.W_dec.mul_(0.7)
        m.b_enc[3] = -100.0                     # latent 3 can never fire
    res = evaluate_without_ground_truth(m, TensorSource(x), batch_size=50)
    with torch.no_grad():
        y_hat = m(x)
        acts = m.encode(x).dense()
    ev = 1 - (x - y_hat).pow(2).sum() / (x - x.mean(0)).pow(2).sum()
    assert res["explained_variance"] == pytest.approx(float(ev), rel=1e-5)
    assert res["l0"] == pytest.approx(float((acts > 0).sum(1).float().mean()), rel=1e-6)
    assert 3 in res["dead"] and res["dead_latents"] == int(((acts > 0).sum(0) == 0).sum())
    yc, hc = x - m.b_dec, y_hat - m.b_dec
    assert res["shrinkage"] == pytest.approx(float((hc * yc).sum().detach() / yc.pow(2).sum().detach()), rel=1e-5)
    assert res["shrinkage"] < 1                 # a shrunk decoder shows as shrinkage below 1
    with pytest.raises(SDLInputError, match="dimensions"):
        evaluate_without_ground_truth(m, TensorSource(torch.zeros(4, 3)))


def test_transformers_hooks_on_a_tiny_offline_model():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=32)
    torch.manual_seed(0)
    model = transformers.BertModel(cfg).eval()

    class Tok:   # a whitespace tokenizer: no vocabulary files, nothing downloaded
        def __call__(self, texts, padding, truncation, max_length, return_tensors):
            ids = [[1 + (hash(w) % 40) for w in t.split()][:max_length] for t in texts]
            L = max(len(i) for i in ids)
            return {"input_ids": torch.tensor([i + [0] * (L - len(i)) for i in ids]),
                    "attention_mask": torch.tensor([[1] * len(i) + [0] * (L - len(i)) for i in ids])}

    hooks = TransformersHooks(model, Tok(), {"resid1": ("encoder.layer.1", "output"),
                                             "mlp_in0": ("encoder.layer.0.intermediate", "input"),
                                             "mlp_out0": ("encoder.layer.0.output.dense", "output")})
    texts = ["the cat sat", "a dog ran far away", "hi"]
    acts = hooks.harvest(texts, batch_size=2)
    assert {k: tuple(v.shape) for k, v in acts.items()} == {"resid1": (9, 16), "mlp_in0": (9, 16), "mlp_out0": (9, 16)}
    with torch.no_grad():
        enc = Tok()(texts, True, True, 64, "pt")
        ref = model(**enc, output_hidden_states=True).hidden_states[2][enc["attention_mask"].bool()]
    assert torch.allclose(acts["resid1"], ref, atol=1e-5)
    with pytest.raises(SDLInputError, match="no module"):
        TransformersHooks(model, Tok(), {"x": ("encoder.layer.9", "output")})
