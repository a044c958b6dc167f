"""Bench data: feature matrices (Welch bound, reached M), streamed sparse activations, kinds, hierarchy."""
import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

from numerics.config import DataConfig
from numerics.data import feature_matrix, make_bench, sample_features
from theory.errors import SDLInputError
from theory.geometry import coherence, interference, welch_bound


def test_feature_matrix_reaches_target_with_unit_columns():
    W, reached = feature_matrix(60, 40, 0.15, seed=3)
    assert W.shape == (40, 60)
    assert torch.allclose(W.norm(dim=0), torch.ones(60), atol=1e-5)
    assert reached <= 0.15
    assert coherence(W.double().numpy()) <= 0.15 + 1e-5
    assert abs(coherence(W.double().numpy()) - reached) < 1e-5


def test_signed_target_bounds_signed_interference_only():
    W, reached = feature_matrix(30, 10, 0.2, seed=1, signed=True)
    assert interference(W.double().numpy()) <= 0.2 + 1e-5
    assert abs(interference(W.double().numpy()) - reached) < 1e-5


def test_below_welch_bound_is_refused_with_the_bound():
    bound = welch_bound(1000, 768)
    with pytest.raises(SDLInputError, match=f"{bound:.6g}"):
        feature_matrix(1000, 768, 0.01)
    with pytest.raises(SDLInputError, match="Welch"):
        DataConfig(n_features=1000, d_in=768, interference=0.01).validate()


@settings(max_examples=15, deadline=None, derandomize=True)
@given(dim=st.integers(4, 30), ratio=st.floats(1.0, 2.0), slack=st.floats(0.15, 0.5))
def test_reachable_targets_are_reached(dim, ratio, slack):
    # Welch is a lower bound, not always attainable (15 lines in R^2 need cos(pi/15) = 0.978 > 0.68;
    # 8 lines in R^4 need about 0.447 > Welch + 0.0625 = 0.440, a case hypothesis found), so the property
    # is stated with a clear margin above it for moderately crowded instances, n <= 2 dim.
    n = max(3, int(ratio * dim))
    M = min(0.99, welch_bound(n, dim) + slack)
    W, reached = feature_matrix(n, dim, M, seed=n * 31 + dim, max_steps=4000)
    assert reached <= M
    assert coherence(W.double().numpy()) <= M + 1e-5


@pytest.mark.parametrize("bad", [
    dict(p_active=1.5), dict(p_active=-0.1), dict(kind="autoencoder"), dict(n_features=0),
    dict(n_parents=2, n_children=0), dict(n_parents=30, n_children=5), dict(c_min=-1.0)])
def test_bad_config_raises_clear_error(bad):
    cfg = DataConfig(**{**dict(n_features=50, d_in=40, interference=0.3), **bad})
    with pytest.raises(SDLInputError):
        cfg.validate()


def small(**kw):
    return DataConfig(**{**dict(n_features=50, d_in=30, interference=0.3, n_samples=5000, p_active=0.1), **kw})


def test_batches_are_a_pure_function_of_seed_and_index():
    d = make_bench(small())
    a, b, c = d.batch(3, 256), d.batch(3, 256), d.batch(4, 256)
    assert torch.equal(a.x_p, b.x_p)
    assert not torch.equal(a.x_p, c.x_p)
    other = make_bench(small(seed=1))
    assert not torch.equal(other.batch(3, 256).x_p, a.x_p)
    assert not torch.equal(d.batch(3, 256, stream=1).x_p, a.x_p)   # held-out stream differs


def test_activation_statistics_and_linear_representation():
    d = make_bench(small(c_min=0.5, beta=2.0))
    b = d.batch(0, 4000, stream=1)
    x = b.x.to_dense()
    on = x > 0
    assert abs(on.float().mean().item() - 0.1) < 0.01
    assert x[on].min() >= 0.5
    assert abs(x[on].mean().item() - 2.5) < 0.1            # c_min + E Exp(β) = 0.5 + 2
    assert torch.allclose(b.x_p, x @ d.W_p.T, atol=1e-4)
    assert b.x.is_sparse                                     # never a dense n_samples × n matrix


def test_last_training_batch_is_short_and_stream_ends():
    d = make_bench(small(n_samples=1000))
    assert d.n_batches(300) == 4
    assert d.batch(3, 300).x_p.shape[0] == 100
    with pytest.raises(SDLInputError):
        d.batch(4, 300)


def test_transcoder_and_crosscoder_targets():
    t = make_bench(small(kind="transcoder", d_out=20))
    assert t.W_p.shape == (30, 50) and t.W_r.shape == (20, 50)
    assert t.reached["W_r"] <= 0.3
    b = t.batch(0, 64)
    assert torch.allclose(b.x_r, b.x.to_dense() @ t.W_r.T, atol=1e-4)
    c = make_bench(small(kind="crosscoder", n_sources=3))
    assert c.W_p.shape == (90, 50) and c.W_r is c.W_p
    assert torch.allclose(c.W_p.norm(dim=0), torch.full((50,), math.sqrt(3)), atol=1e-4)


@pytest.mark.parametrize("exclusive", [False, True])
def test_hierarchy_parent_on_whenever_a_child_is(exclusive):
    cfg = small(n_parents=4, n_children=3, exclusive_children=exclusive, p_active=0.3)
    x = sample_features(3000, cfg, torch.Generator().manual_seed(0)).to_dense() > 0
    kids = x[:, 4:16].view(-1, 4, 3)
    assert (x[:, :4] | ~kids.any(-1)).all()          # child on ⇒ parent on
    if exclusive:
        assert kids.sum(-1).max() == 1
        assert kids.sum(-1).eq(1).any()
    else:
        assert kids.sum(-1).max() >= 2                # independent children do co-occur


# --- SynthSAEBench-style features: Zipfian firing, several levels, per-feature magnitudes, offset ---


def test_the_default_streams_are_unchanged_by_the_new_options():
    """Digests of the streams as drawn before Zipf/levels/scales/offset existed (same seeds): a committed
    result made with the old options regenerates bit for bit."""
    import hashlib

    want = {(): "ed968470890ac6c3", (("n_parents", 4), ("n_children", 3), ("p_active", 0.3)): "a863b2d55f927ba0",
            (("n_parents", 4), ("n_children", 3), ("exclusive_children", True), ("p_active", 0.3)): "2b9f3ca8a140d0b3",
            (("beta", 0.0),): "9dd0018957a0dc62"}
    for kw, digest in want.items():
        cfg = DataConfig(n_features=40, d_in=32, n_samples=1000, pgd_steps=50, **dict(kw))
        x = sample_features(300, cfg, torch.Generator().manual_seed(7)).to_dense()
        assert hashlib.sha256(x.numpy().tobytes()).hexdigest()[:16] == digest, kw
    d = make_bench(DataConfig(n_features=40, d_in=32, n_samples=1000, pgd_steps=50, kind="transcoder"))
    b = d.batch(2, 64, stream=1)
    assert hashlib.sha256(b.x_p.numpy().tobytes() + b.x_r.numpy().tobytes()).hexdigest()[:16] == "c53f2a71f72e898d"


def test_zipf_firing_has_the_requested_law_and_mean():
    from numerics.config import firing_probabilities

    cfg = small(firing="zipf", zipf_exponent=1.2, p_active=0.05)
    p = firing_probabilities(cfg)
    assert p.mean() == pytest.approx(0.05, rel=1e-12)
    assert p[0] / p[3] == pytest.approx(4 ** 1.2, rel=1e-12)       # (d+1)^(-s), by hand
    x = sample_features(20000, cfg, torch.Generator().manual_seed(1)).to_dense() > 0
    rate = x.float().mean(0).double().numpy()
    se = (p * (1 - p) / 20000) ** 0.5
    assert (abs(rate - p) <= 5 * se + 1e-9).all()                   # every feature at its own rate
    with pytest.raises(SDLInputError, match="zipf_exponent.*> 1"):
        small(firing="zipf", zipf_exponent=3.0, p_active=0.5).validate()
    with pytest.raises(SDLInputError, match="firing"):
        small(firing="zipfian").validate()


@pytest.mark.parametrize("exclusive", [False, True])
def test_two_level_hierarchy_a_child_fires_only_with_its_parent(exclusive):
    from numerics.data import hierarchy_groups

    cfg = small(n_parents=2, n_children=3, hierarchy_levels=2, exclusive_children=exclusive, p_active=0.25)
    assert cfg.hierarchy_features() == 2 * (1 + 3 + 9)
    groups = hierarchy_groups(cfg)
    assert groups[0] == (0, [2, 3, 4]) and groups[2] == (2, [8, 9, 10]) and groups[-1] == (7, [23, 24, 25])
    assert len(groups) == 2 + 6
    x = sample_features(4000, cfg, torch.Generator().manual_seed(2)).to_dense() > 0
    for parent, kids in groups:
        assert (x[:, parent] | ~x[:, kids].any(1)).all()           # child (or grandchild) on ⇒ parent on
        if exclusive:
            assert x[:, kids].sum(1).max() == 1
    grandkids = x[:, 8:26]
    assert grandkids.any() and (x[:, 0] | ~grandkids[:, :9].any(1)).all()   # grandchild on ⇒ grandparent on
    with pytest.raises(SDLInputError, match="hierarchy needs"):
        small(n_parents=2, n_children=3, hierarchy_levels=3).validate()


def test_per_feature_magnitudes_and_offset():
    from numerics.data import feature_scales

    cfg = small(magnitude_spread=0.8, beta=0.0, c_min=2.0, offset_norm=3.0, p_active=0.2)
    s = feature_scales(cfg)
    assert s.shape == (cfg.n_features,) and s.std() > 0.3
    x = sample_features(500, cfg, torch.Generator().manual_seed(3)).to_dense()
    on = x > 0
    assert torch.allclose(x[on], (2.0 * s.expand_as(x))[on], rtol=1e-6)   # constant magnitude 2, times s_d
    d = make_bench(cfg)
    b = d.batch(0, 256, stream=1)
    off = b.x_p - torch.sparse.mm(b.x, d.W_p.T)
    assert torch.allclose(off, d.offset_p.expand_as(off), atol=1e-5)
    assert d.offset_p.norm() == pytest.approx(3.0, rel=1e-5) and b.x_r is b.x_p
    t = make_bench(small(kind="transcoder", offset_norm=1.0))
    bt = t.batch(0, 16, stream=1)
    assert torch.allclose(bt.x_r - torch.sparse.mm(bt.x, t.W_r.T), t.offset_r.expand(16, -1), atol=1e-5)
    assert not torch.allclose(t.offset_p[: t.offset_r.numel()], t.offset_r)


def test_a_bench_checkpoints_instance_weights_follow_its_firing_law(tmp_path):
    """inspect of a bench model regenerates the instance: M_d = p_d Π_{j≠d}(1 − p_j) E[m²] s_d², by hand."""
    import dataclasses
    import json

    import numpy as np

    from numerics.data import feature_scales
    from proofs_check.bridge import _bench_instance

    cfg = small(firing="zipf", zipf_exponent=1.0, p_active=0.05, magnitude_spread=0.5, beta=0.0, c_min=2.0)
    (tmp_path / "models" / "run").mkdir(parents=True)
    (tmp_path / "results.json").write_text(json.dumps({"config": {"data": dataclasses.asdict(cfg)}, "runs": {}}))
    _, _, w, _ = _bench_instance(tmp_path / "models" / "run")
    n = cfg.n_features
    h = 1.0 / np.arange(1, n + 1)
    p = h * 0.05 * n / h.sum()
    only = np.array([p[d] * np.prod(np.delete(1 - p, d)) for d in range(n)])
    assert np.allclose(w, only * 4.0 * feature_scales(cfg).double().numpy() ** 2, rtol=1e-6)
