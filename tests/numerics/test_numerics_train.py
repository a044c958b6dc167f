"""Training: loss goes down, resume is exact, resampling / aux-k / anchoring / unit norm do their job."""

import pytest
import torch

from numerics.config import DataConfig, TrainConfig
from numerics.data import make_bench
from numerics.io import latest_checkpoint, load_tensors
from numerics.train import Trainer, train
from theory.errors import SDLInputError


DATA = DataConfig(n_features=24, d_in=20, interference=0.2, p_active=0.08, n_samples=2048)


@pytest.fixture(scope="module")
def data():
    return make_bench(DATA)


def cfg(**kw):
    base = dict(arch="topk_relu", n_latents=48, hyper={"k": 3}, batch_size=128, epochs=2, lr=3e-3, quiet=True, eval_every=8,
                eval_samples=512, dead_window=5, k_aux=8)
    return TrainConfig(**{**base, **kw})


def test_training_reduces_fvu_and_records_history(data):
    t = Trainer(cfg(epochs=4), data)
    before = t.quick_eval()["fvu"]
    res = t.run()
    assert res.steps == 64 and len(res.history) == 8
    assert res.history[-1]["fvu"] < 0.6 * before


def test_resume_from_checkpoint_continues_exactly(data, tmp_path):
    full = Trainer(cfg(arch="batchtopk", resample=True, resample_every=6), data)
    full.run()
    ck = tmp_path / "ck"
    half = Trainer(cfg(arch="batchtopk", resample=True, resample_every=6, max_steps=10,
                       checkpoint_dir=str(ck), checkpoint_every=5), data)
    half.run()
    assert [p.name for p in ck.iterdir()] == ["step-000000010"]  # one complete checkpoint, the newest
    opt = load_tensors(latest_checkpoint(ck) / "optimizer.safetensors")
    assert any(k.endswith(".exp_avg_sq") for k in opt) and "extra.last_fired" in opt
    # a new trainer with the full budget picks the run up at step 10
    rest = Trainer(cfg(arch="batchtopk", resample=True, resample_every=6, checkpoint_dir=str(ck)), data)
    assert rest.step == 10
    rest.run()
    for (n, a), (_, b) in zip(full.model.state_dict().items(), rest.model.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-6), n


def test_resampling_revives_dead_neurons_and_resets_adam(data):
    t = Trainer(cfg(arch="relu", hyper={"l1_coeff": 1e-3}, resample=True, resample_every=4, dead_window=4), data)
    with torch.no_grad():
        t.model.b_enc[:10] = -100.0                      # neurons 0..9 can never fire
    for s in range(4):
        t.train_step(s)
    n = t.resample_dead()
    assert n >= 10
    assert torch.all(t.model.b_enc[:10] == 0)
    st = t.opt.state[t.model.W_enc]
    assert torch.all(st["exp_avg"][:10] == 0) and torch.all(st["exp_avg_sq"][:10] == 0)
    live = torch.ones(48, dtype=torch.bool)
    live[:10] = False
    # encoder rows: 0.2 × mean live norm (live set measured before the reset, so compare loosely)
    ratio = t.model.W_enc[:10].norm(dim=1) / t.model.W_enc[live].norm(dim=1).mean()
    assert torch.allclose(ratio, torch.full((10,), 0.2), atol=0.05)
    x = data.batch(0, 512, stream=1).x_p
    assert (t.model.encode(x).acts[:, :10] > 0).any()   # they fire again


def test_aux_k_term_appears_only_with_dead_latents(data):
    t = Trainer(cfg(dead_window=2), data)
    first = t.train_step(0)
    assert "aux_k" not in first                          # nothing is dead at step 0
    with torch.no_grad():
        t.model.b_enc[:20] = -100.0
    for s in range(1, 5):
        out = t.train_step(s)
    assert "aux_k" in out and out["aux_k"] > 0
    off = Trainer(cfg(dead_window=2, aux_k=False), data)
    for s in range(5):
        out = off.train_step(s)
    assert "aux_k" not in out


@pytest.mark.parametrize("init", [True, False])
def test_anchoring_pins_anchor_rows(data, init):
    k = 4
    res = train(cfg(anchor_k=k, anchor_lambda=10.0, epochs=3 if init else 12, lr=3e-3 if init else 2e-2,
                    anchor_init=init), data)
    m = res.model
    Wp = data.W_p[:, :k] / data.W_p[:, :k].norm(dim=0)
    cos = (torch.nn.functional.normalize(m.W_dec[:k], dim=1) * Wp.T).sum(1)
    assert cos.min() > 0.95
    free = train(cfg(epochs=3 if init else 12, lr=3e-3 if init else 2e-2), data).model
    cos_free = (torch.nn.functional.normalize(free.W_dec[:k], dim=1) * Wp.T).sum(1)
    assert cos.mean() > cos_free.mean()


@pytest.mark.parametrize("unit", [True, False])
def test_unit_norm_decoder_option(data, unit):
    m = train(cfg(arch="relu", unit_norm_decoder=unit, epochs=1), data).model
    norms = m.W_dec.norm(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5) == unit


def test_bad_train_config_is_refused_before_work(data):
    with pytest.raises(SDLInputError, match="anchor_k"):
        Trainer(cfg(anchor_k=1000), data)
    with pytest.raises(SDLInputError, match="k = 99"):
        Trainer(cfg(hyper={"k": 99}), data)
    with pytest.raises(SDLInputError, match="unknown activation family"):
        TrainConfig(arch="softplus").validate()
