"""SynthSAEBench as ground truth: our MCC, explained variance, L0, dead latents and all-latent F1 agree
with sae_lens's own evaluation on one model (skipped without sae-lens)."""
from __future__ import annotations

import pytest
import torch


def test_metrics_agree_with_sae_lens(tmp_path):
    pytest.importorskip("sae_lens")
    from sae_lens import SAE
    from sae_lens.saes.topk_sae import TopKSAE, TopKSAEConfig
    from sae_lens.synthetic import (ActivationGenerator, FeatureDictionary, eval_sae_on_synthetic_data,
                                    init_sae_to_match_feature_dict, zipfian_firing_probabilities)

    from numerics.foreign import load_any
    from numerics.synthbench import draw, evaluate_on_draw

    n, h, n_q = 24, 16, 32
    fd = FeatureDictionary(n, h, bias=0.5, seed=0)
    gen = ActivationGenerator(n, zipfian_firing_probabilities(n, exponent=1.0, max_prob=0.3, min_prob=0.02),
                              std_firing_magnitudes=0.2, mean_firing_magnitudes=1.0)
    torch.manual_seed(1)
    sae = TopKSAE(TopKSAEConfig(d_in=h, d_sae=n_q, k=4, apply_b_dec_to_input=True))
    init_sae_to_match_feature_dict(sae, fd, noise_level=0.1)
    with torch.no_grad():
        sae.b_dec.copy_(fd.bias)
        sae.W_enc[:, n:] = 0.0        # latents beyond the features never win top-k against the matched ones
        sae.b_enc[n:] = -10.0
        sae.W_dec.data = sae.W_dec.data.contiguous()
    sae.save_model(str(tmp_path / "sae"))
    ours = load_any(tmp_path / "sae").model

    torch.manual_seed(7)
    theirs = eval_sae_on_synthetic_data(sae, fd, gen, num_samples=3000, batch_size=3000)
    got = evaluate_on_draw(ours, draw(fd, gen, 3000, seed=7))
    assert got["mcc"] == pytest.approx(theirs.mcc, abs=1e-5)
    assert got["explained_variance"] == pytest.approx(theirs.explained_variance, abs=1e-5)
    assert got["l0"] == pytest.approx(theirs.sae_l0, abs=1e-6)
    assert got["dead_latents"] == theirs.dead_latents >= n_q - n
    assert got["f1_all"] == pytest.approx(theirs.classification.f1_score, abs=1e-5)
    # over live latents (ours) the dead ones no longer pull the mean down
    assert got["f1_live"] > got["f1_all"]
