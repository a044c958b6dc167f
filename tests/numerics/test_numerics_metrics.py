"""Ground-truth metrics: planted dictionaries score 100%, random ones score the random baseline."""
import math

import pytest
import torch
from hypothesis import given, settings, strategies as st
from scipy.optimize import linear_sum_assignment

from numerics.config import DataConfig
from numerics.data import make_bench
from numerics.metrics import (abs_cosines, absorption, evaluate, firing_scores, mcc, random_baseline,
                              recovery)
from numerics.models import build_model


def planted_topk(data, k):
    """A TopK model whose encoder rows are ŵ_p and whose atoms are ŵ_r (the C3 construction)."""
    n = data.n_features
    m = build_model("topk_relu", data.d_in, n, data.d_out, k=k, bias=False)
    with torch.no_grad():
        m.W_enc.copy_((data.W_p / data.W_p.norm(dim=0)).T)
        m.W_dec.copy_(data.W_r.T)
    return m


def test_planted_dictionary_scores_perfectly():
    data = make_bench(DataConfig(n_features=40, d_in=36, interference=0.1, p_active=0.05, n_samples=2000))
    m = planted_topk(data, k=6)
    ev = evaluate(m, data, n_samples=2000)
    for side in ("dec", "enc"):
        assert ev[side]["gt"][0.95] == 1.0
        assert ev[side]["mip"] == pytest.approx(1.0, abs=1e-5)
        assert ev[side]["mcc"] == pytest.approx(1.0, abs=1e-5)
        assert ev[side]["curve"][-1] == [1.0, 0.0]              # nothing exceeds |cos| = 1
    assert ev["explained_variance"] > 0.9
    assert ev["dead_frac"] == 0.0
    assert ev["dec"]["recall"] > 0.95                            # a feature that is on makes its latent fire
    assert ev["pattern"]["features_without_neuron"] == 0.0


def test_random_dictionary_scores_the_random_baseline():
    torch.manual_seed(0)
    W = torch.randn(64, 200)
    V = torch.randn(64, 400)
    rec = recovery(V, W)
    base = random_baseline(400, W, seed=5)
    assert rec["gt"][0.9] == 0.0 and base["gt"][0.9] == 0.0
    assert rec["mip"] == pytest.approx(base["mip"], abs=0.03)
    # extreme-value estimate of E max_j |<v_j, w>| for 400 random unit vectors in R^64
    assert 0.3 < rec["mip"] < math.sqrt(2 * math.log(2 * 400) / 64) + 0.05


def test_anchored_features_are_skipped():
    W = torch.eye(5)
    V = torch.eye(5)[:, :2]                                      # recovers features 0 and 1 only
    assert recovery(V, W)["gt"][0.9] == pytest.approx(0.4)
    assert recovery(V, W, skip=2)["gt"][0.9] == 0.0


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 8), extra=st.integers(5, 60), seed=st.integers(0, 10_000))
def test_mcc_candidate_restriction_matches_full_hungarian(n, extra, seed):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(6, n, generator=g)
    V = torch.randn(6, 4 * n + extra, generator=g)
    C = abs_cosines(V, W).double().numpy()
    r, c = linear_sum_assignment(C, maximize=True)
    assert mcc(V, W) == pytest.approx(C[r, c].mean(), abs=1e-9)


def test_firing_scores_counts():
    acts = torch.tensor([[1.0, 0.0], [1.0, 2.0], [0.0, 0.0], [0.0, 1.0]])
    on = torch.tensor([[True, False], [False, True], [True, False], [False, True]])
    s = firing_scores(acts, on, torch.tensor([0, 1]))
    # latent 0: fires on samples 0,1, feature 0 on in 0,2 → P = R = 1/2; latent 1: perfect
    assert s["precision"] == pytest.approx(0.75)
    assert s["recall"] == pytest.approx(0.75)
    assert s["f1"] == pytest.approx(0.75)


def test_absorption_detects_a_child_latent_carrying_the_parent():
    # features: parent 0, children 1, 2. Latent 0 = parent, latent 1 = child 1 with parent mixed in,
    # latent 2 = child 2 (clean). Parent latent goes silent whenever child 1 fires.
    W = torch.eye(3)
    dec = torch.tensor([[1.0, 0, 0], [0.6, 0.8, 0], [0, 0, 1.0]]).T
    on = torch.tensor([[1, 1, 0], [1, 0, 1], [1, 1, 0], [1, 0, 1]], dtype=torch.bool)
    acts = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    out = absorption(acts, on, dec, W, dec, n_parents=1, n_children=2)
    assert out["absorption_rate"] == pytest.approx(0.5)          # absorbed on child-1 samples only
    clean = acts.clone()
    clean[:, 0] = 1.0
    assert absorption(clean, on, dec, W, dec, 1, 2)["absorption_rate"] == 0.0


def test_evaluate_reports_absorption_on_hierarchical_data():
    cfg = DataConfig(n_features=30, d_in=28, interference=0.15, p_active=0.1, n_samples=2000, n_parents=3,
                     n_children=2, exclusive_children=True)
    data = make_bench(cfg)
    ev = evaluate(planted_topk(data, k=5), data, n_samples=1000)
    for side in ("dec", "enc"):
        assert len(ev[side]["absorption_per_parent"]) == 3
        assert 0.0 <= ev[side]["absorption_rate"] <= 0.2          # the planted dictionary does not absorb


def test_firing_scores_by_hand_with_dead_single_firing_and_all_dead_latents():
    # latent 0 dead, latent 1 fires once (on a sample where its feature is on), latent 2 fires twice (once right)
    acts = torch.tensor([[0.0, 3.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    on = torch.tensor([[True, True], [False, False], [False, True]])
    s = firing_scores(acts, on, torch.tensor([0, 0, 1]))
    # latent 1 fires once, where feature 0 is on (its only time): P = R = F1 = 1; latent 2 fires in samples 0, 1,
    # feature 1 is on in 0, 2: tp 1, P = R = 1/2, F1 = 2·1/(2 + 2); the dead latent 0 is not averaged
    assert s == pytest.approx({"precision": 0.75, "recall": 0.75, "f1": 0.75})
    dead = firing_scores(torch.zeros(3, 2), on, torch.tensor([0, 1]))
    assert dead == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_mcc_of_one_feature_and_of_none():
    W = torch.tensor([[1.0], [0.0]])
    assert mcc(torch.tensor([[0.6], [0.8]]), W) == pytest.approx(0.6)  # one feature, one latent: |cos| itself
    assert math.isnan(mcc(torch.eye(2), W, skip=1))  # every feature skipped: no matching


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_mcc_needs_each_features_n_th_best_latent(n):
    """n features with the same n best latents (in the same order): the matching must give some feature its
    n-th best latent, so a candidate set smaller than each feature's top n loses it. Against scipy's full
    Hungarian on all latents."""
    g = torch.Generator().manual_seed(n)
    d = 3 * n + 8
    W = torch.eye(d)[:, :n]
    shared = torch.zeros(d, n)
    shared[:n] = 1.0
    shared[n] = 0.1 * torch.arange(n, dtype=torch.float32)  # off every feature: one ranking of them for all features
    # the shared latents last: a candidate set that is not each feature's top n tends to keep the first columns
    V = torch.cat([0.05 * torch.randn(d, 4 * n + 8, generator=g) + torch.eye(d)[:, n + 1:n + 2], shared], dim=1)
    C = abs_cosines(V, W).double().numpy()
    r, c = linear_sum_assignment(C, maximize=True)
    assert V.shape[1] > 4 * n and mcc(V, W) == pytest.approx(C[r, c].mean(), abs=1e-9)


def test_random_baseline_is_the_recovery_of_a_seeded_gaussian_dictionary():
    W = torch.randn(8, 5, generator=torch.Generator().manual_seed(1))
    V = torch.randn(8, 30, generator=torch.Generator().manual_seed(0))  # seed 0 is the default
    assert random_baseline(30, W) == recovery(V, W)
    V3 = torch.randn(8, 30, generator=torch.Generator().manual_seed(3))
    assert random_baseline(30, W, taus=(0.5,), seed=3, skip=2) == recovery(V3, W, (0.5,), skip=2)
    assert random_baseline(30, W, seed=3) != random_baseline(30, W, seed=4)


def test_recovery_is_strict_at_tau_and_cosines_normalise_short_columns():
    W = torch.eye(3)
    out = recovery(torch.eye(3), W, taus=(0.5, 1.0))
    assert set(out) == {"gt", "mip"}  # no curve unless asked for
    assert out["gt"] == {0.5: 1.0, 1.0: 0.0}  # M_GT counts |cos| > τ: a perfect atom is not above τ = 1
    assert torch.equal(abs_cosines(0.5 * torch.eye(3), W), torch.eye(3))  # columns of norm 1/2 are normalised


@pytest.mark.parametrize("n", [1, 2, 3])
def test_mcc_restriction_is_exact_with_many_latents(n):
    """With hundreds of latents (not a handful: numpy partitions short rows by sorting them) the candidate set
    must be each feature's own top n; against scipy's Hungarian over every latent."""
    g = torch.Generator().manual_seed(n)
    W, V = torch.randn(6, n, generator=g), torch.randn(6, 300, generator=g)
    C = abs_cosines(V, W).double().numpy()
    r, c = linear_sum_assignment(C, maximize=True)
    assert mcc(V, W) == pytest.approx(C[r, c].mean(), abs=1e-12)


def test_mcc_with_fewer_latents_than_features():
    # two latents equal to features 0 and 1 of five: two matched at |cos| 1, three features unmatched → 2/5
    assert mcc(torch.eye(5)[:, :2], torch.eye(5)) == pytest.approx(0.4)
