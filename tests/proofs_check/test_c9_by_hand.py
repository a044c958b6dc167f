"""C9 pieces by hand (issue 12 part 5, results/mutation/m6h_hbridge): a batch-dependent σ is trained per sample, as its
inference form JumpReLU(threshold), which the hypotheses promise ("needs an inference threshold for per-sample
training")."""
import numpy as np
import pytest

from proofs_check import c9_resampling as c9
from theory.activations import BatchTopK, JumpReLU, ReLU
from theory.instance import Instance


def test_a_batch_dependent_activation_is_trained_as_its_inference_jumprelu(monkeypatch):
    import numerics.engine

    inst = c9._with_distribution(Instance(W_p=np.eye(3), activation=BatchTopK(k=1, threshold=0.3)))
    assert c9._per_sample(inst) == JumpReLU(theta=0.3)
    assert c9._per_sample(Instance(W_p=np.eye(2), activation=ReLU())) == ReLU()
    seen = []

    class Stop(Exception):
        pass

    def objective(instance):
        seen.append(instance.activation)
        raise Stop
    monkeypatch.setattr(numerics.engine, "ExactLoss", objective)
    start = c9.spurious_start(c9._with_distribution(Instance(W_p=np.eye(3), activation=JumpReLU(theta=0.3))),
                              [{0, 1}, {2}, set()])
    with pytest.raises(Stop):
        c9.train(inst, start["W_D"], start["W_E"], None, c9.RunConfig(steps=2), seed=0)
    assert seen == [JumpReLU(theta=0.3)]
