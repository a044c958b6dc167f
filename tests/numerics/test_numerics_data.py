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
