"""BatchTopK's inference threshold: a running mean with a stated momentum, estimated from a stated step on
(dictionary_learning's BatchTopKTrainer recipe: threshold_beta 0.999, threshold_start_step 1000), and the
recipe C10's sweeps record in every setting, so that a stored run says which threshold estimate made it."""
import pytest
import torch

from numerics.models import build_model


def _batch(seed):
    return torch.randn(16, 6, generator=torch.Generator().manual_seed(seed)).abs()


def test_running_mean_by_hand_from_the_start_step():
    m = build_model("batchtopk", 6, 20, k=2, threshold_momentum=0.75, threshold_start=3)
    m.train()
    mins = []
    for step in range(6):
        x = _batch(step)
        code = m.encode(x)
        mins.append(float(code.vals.detach().min()))
        m.after_step(code, step)
        if step < 3:
            assert float(m.threshold) == -1.0            # not estimated before threshold_start
    # steps 3, 4, 5: started at step 3's minimum, then θ ← 0.75 θ + 0.25 min
    want = mins[3]
    want = 0.75 * want + 0.25 * mins[4]
    want = 0.75 * want + 0.25 * mins[5]
    assert float(m.threshold) == pytest.approx(want, rel=1e-6)


def test_before_the_start_step_evaluation_keeps_the_batch_top_k():
    m = build_model("batchtopk", 6, 20, k=2, threshold_start=10)
    m.train()
    m.after_step(m.encode(_batch(0)), 0)
    m.eval()
    code = m.encode(_batch(1))
    assert int((code.vals > 0).sum()) == 2 * 16           # k·B entries: no threshold yet


def test_default_momentum_is_dictionary_learnings():
    m = build_model("batchtopk", 6, 20, k=2)
    assert (m.threshold_momentum, m.threshold_start) == (0.999, 0)
    m.train()
    mins = []
    for step in range(2):
        code = m.encode(_batch(step))
        mins.append(float(code.vals.detach().min()))
        m.after_step(code, step)
    assert float(m.threshold) == pytest.approx(0.999 * mins[0] + 0.001 * mins[1], rel=1e-6)


@pytest.mark.parametrize("name", ["batchtopk", "matryoshka"])
@pytest.mark.parametrize("kw,text", [
    ({"threshold_momentum": 1.0}, "threshold_momentum must be a finite number >= 0 and < 1, got 1.0"),
    ({"threshold_momentum": -0.1}, "threshold_momentum must be a finite number >= 0 and < 1, got -0.1"),
    ({"threshold_start": -1}, "threshold_start must be a non-negative integer, got -1"),
    ({"threshold_start": 2.5}, "threshold_start must be a non-negative integer, got 2.5")])
def test_bad_recipes_are_refused(refuses, name, kw, text):
    refuses(lambda: build_model(name, 6, 20, k=2, **kw), text)


def test_c10_sweeps_record_the_recipe_and_the_trainer_passes_it_to_the_model():
    from numerics.config import DataConfig, TrainConfig
    from numerics.convergence import Convergence
    from numerics.data import make_bench
    from numerics.recovery import run_key
    from numerics.train import Trainer
    from proofs_check.bench_recovery import spec_for

    spec = spec_for("scaled")
    recipe = {"threshold_momentum": 0.999, "threshold_start": 1000}
    for method in ("batchtopk_sae", "matryoshka_sae"):
        assert spec.grid(method) == [{"k": k, **recipe} for k in (1, 2, 4, 8, 25)]
    # the recipe is not added to the other methods' settings (their stored runs keep their keys)
    assert spec.grid("topk_sae") == [{"k": k} for k in (1, 2, 4, 8, 25)]
    data = make_bench(DataConfig(n_features=6, d_in=5, n_samples=256, interference=0.3, p_active=0.2, seed=0, pgd_steps=50))
    t = Trainer(TrainConfig(arch="batchtopk", n_latents=12, batch_size=32, max_steps=1, hyper={"k": 2, **recipe}), data)
    assert (t.model.threshold_momentum, t.model.threshold_start) == (0.999, 1000)
    # a setting with the recipe is another stored run than one without it
    keys = {run_key("batchtopk_sae", s, data, TrainConfig(n_latents=12), Convergence(), seed=0, anchor_k=0, skip=0,
                    eval_samples=64)[0] for s in ({"k": 2}, {"k": 2, **recipe})}
    assert len(keys) == 2
