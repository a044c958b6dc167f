"""The features inspect uses when there is no instance file: the model's own atoms, or a bench run's config."""
import dataclasses
import json

import numpy as np
import torch

from numerics.config import DataConfig
from numerics.models import build_model
from proofs_check.bridge import _bench_instance, decoder_features


def test_decoder_features_are_the_unit_atoms_by_hand():
    m = build_model("relu", 3, 4, seed=0)
    atoms = torch.tensor([[2.0, 0, 0], [0, 3.0, 0], [0, 0, 0], [1.0, 1.0, 0]])
    with torch.no_grad():
        m.W_dec.copy_(atoms)
    W_p, W_r, how = decoder_features(m)
    want = np.array([[1.0, 0, 0], [0, 1.0, 0], [2 ** -0.5, 2 ** -0.5, 0]]).T      # the zero atom is left out
    assert W_r is None and np.allclose(W_p, want) and "3 unit decoder atoms" in how


def test_decoder_features_of_a_transcoder_pair_encoder_rows_with_atoms():
    m = build_model("relu", 2, 3, 4, seed=0)
    with torch.no_grad():
        m.W_enc.copy_(torch.tensor([[3.0, 0], [0, 0.5], [1.0, 1.0]]))
        m.W_dec.copy_(torch.tensor([[0, 0, 0, 5.0], [0, 2.0, 0, 0], [0, 0, 0, 0]]))
    W_p, W_r, _ = decoder_features(m)
    assert np.allclose(W_p, np.array([[1.0, 0], [0, 1.0]]).T)                       # unit rows, third pair dropped
    assert np.allclose(W_r, np.array([[0, 0, 0, 1.0], [0, 1.0, 0, 0]]).T)


def test_a_bench_run_is_regenerated_with_its_own_kind(tmp_path):
    """A bench mixes kinds: the run's own kind (results.json 'runs'), not the data default, decides W_r."""
    cfg = DataConfig(n_features=12, d_in=10, n_samples=256, interference=0.5, pgd_steps=50)
    (tmp_path / "models" / "tc").mkdir(parents=True)
    (tmp_path / "results.json").write_text(json.dumps({"config": {"data": dataclasses.asdict(cfg)},
                                                       "runs": {"tc": {"kind": "transcoder"}}}))
    W_p, W_r, _, how = _bench_instance(tmp_path / "models" / "tc")
    assert W_r is not None and W_r.shape == (10, 12) and not np.allclose(W_r, W_p) and "kind transcoder" in how
    (tmp_path / "models" / "sae").mkdir()
    assert _bench_instance(tmp_path / "models" / "sae")[1] is None                  # not in 'runs': the data's kind


def test_a_wrongly_assembled_verdict_fails_where_it_is_built():
    import pytest

    from proofs_check.verdict import Verdict

    ok = Verdict("C6", "t", "holds", "e", None, None, (), {"a": 1}, 0, 40)
    assert ok.claim == "C6"
    for args in ((None, "t", "holds", "e"),                                   # no claim id
                 ("C9", "t", "INCONCLUSIVE", "e"),                            # not a status
                 ("C7", "t", "fails", "e", None, None, {"a": 1}, 0, 40)):     # fields shifted: numbers as steps
        with pytest.raises(ValueError):
            Verdict(*args)
