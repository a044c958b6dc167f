"""The convergence criterion (one dataclass, one engine callback), the sweep selection rule."""
import pytest
import torch

from numerics.config import DataConfig, TrainConfig
from numerics.convergence import Convergence, ConvergenceMonitor, window_spread
from numerics.data import make_bench
from numerics.recovery import covers_both_ends, select, train_run
from numerics.train import Trainer
from theory.errors import SDLInputError


class _FakeEngine:
    """Just what the monitor reads: a step counter, a loss sequence, and ``stop``."""

    def __init__(self, losses):
        self.losses, self.step, self.stopped, self.converged = list(losses), 0, None, None

    def stop(self, reason, converged=None):
        self.stopped, self.converged = reason, converged


def _monitor(losses, **kw):
    crit = Convergence(**{"eps": 1e-2, "window": 3, "eval_every": 1, "max_steps": 100, **kw})
    mon = ConvergenceMonitor(crit)
    mon.heldout_loss = lambda eng: eng.losses[eng.step - 1]
    eng = _FakeEngine(losses)
    stopped_at = None
    for s in range(1, len(losses) + 1):
        eng.step = s
        mon.after_step(eng, {})
        if eng.stopped:
            stopped_at = s
            break
    return mon, stopped_at


def test_window_spread():
    assert window_spread([1.0, 1.0, 1.0]) == 0.0
    assert window_spread([1.1, 0.9]) == pytest.approx(0.2)
    assert window_spread([]) == float("inf")


def test_flat_loss_converges_falling_loss_does_not():
    mon, at = _monitor([5, 3, 2, 1.5, 1.2, 1.0, 1.001, 1.002, 1.0, 1.001])
    assert mon.converged and at == 9          # window of 3+1 evaluations inside 1 %: steps 6..9
    rec = mon.record()
    assert rec["converged"] and rec["heldout_loss"] == 1.0 and rec["final_spread"] == pytest.approx(0.002 / 1.00075)
    assert rec["heldout_history"][-1] == [9, 1.0] and rec["criterion"]["window"] == 3
    mon, at = _monitor([2.0 * 0.97 ** i for i in range(40)])   # 3 % per evaluation: never flat
    assert not mon.converged and at is None


def test_criterion_validation_names_the_argument():
    with pytest.raises(SDLInputError, match="eps"):
        Convergence(eps=0).validate()
    with pytest.raises(SDLInputError, match="exceeds the budget"):
        Convergence(window=10, eval_every=100, max_steps=500).validate()
    with pytest.raises(SDLInputError, match="eps"):
        ConvergenceMonitor(Convergence(eps=-1))   # the engine callback validates its criterion too


@pytest.fixture(scope="module")
def data():
    return make_bench(DataConfig(n_features=8, d_in=8, n_samples=1024, interference=0.3, p_active=0.2, seed=0,
                                 pgd_steps=200))


def test_trainer_runs_the_callbacks_it_is_given_and_one_may_stop_it(data):
    from numerics.engine import Callback

    cfg = TrainConfig(arch="topk_relu", n_latents=16, hyper={"k": 2}, batch_size=64, lr=1e-2, epochs=100, max_steps=400, quiet=True,
                      eval_every=400, device="cpu")
    calls = []

    class StopAt37(Callback):
        def after_step(self, engine, out):
            calls.append(engine.step)
            if engine.step == 37:
                engine.stop("37")
    res = Trainer(cfg, data, callbacks=[StopAt37()]).run()
    assert res.steps == 37 and calls[-1] == 37 and calls[:3] == [1, 2, 3] and res.stop_reason == "37"


def test_run_record_says_not_converged_when_the_budget_is_too_small(data):
    base = TrainConfig(n_latents=16, batch_size=64, lr=1e-2, dead_window=20, k_aux=4, device="cpu")
    tight = Convergence(eps=1e-9, window=2, eval_every=10, max_steps=40, heldout_samples=128)
    r = train_run("topk_sae", {"k": 2}, data, base, tight, eval_samples=256)
    assert r["converged"] is False and r["steps"] == 40
    loose = Convergence(eps=10.0, window=2, eval_every=10, max_steps=400, heldout_samples=128)
    r = train_run("topk_sae", {"k": 2}, data, base, loose, eval_samples=256)
    assert r["converged"] is True and r["steps"] == 30   # first moment a full window exists
    assert [h[0] for h in r["heldout_history"]] == [10, 20, 30]
    for key in ("setting", "converged", "steps", "l0", "explained_variance", "m_gt_decoder", "m_gt_encoder",
                "m_ip_decoder", "m_ip_encoder"):
        assert key in r
    assert 0.0 <= r["m_gt_encoder"] <= 1.0 and 0.0 < r["m_ip_decoder"] <= 1.0
    assert r["device"] == "cpu"   # base.device "cpu": where it trained is recorded


def _run(l0, ev, converged=True, dead=0.0):
    return {"l0": l0, "explained_variance": ev, "converged": converged, "dead_frac": dead, "setting": {"l0": l0}}


def test_selection_is_l0_nearest_target_among_converged_runs():
    runs = [_run(1.0, 0.5), _run(2.2, 0.8), _run(1.8, 0.9), _run(2.0, 0.99, converged=False), _run(8.0, 0.99)]
    assert select(runs, 2.0)["l0"] == 2.2       # |log 1.1| < |log 0.9|; the unconverged exact match is ignored
    assert select([_run(1.0, 0.5, converged=False)], 2.0) is None
    tie = [_run(4.0, 0.6), _run(1.0, 0.7)]      # both a factor 2 away: the higher EV wins
    assert select(tie, 2.0)["l0"] == 1.0


def test_both_ends():
    assert covers_both_ends([_run(0.5, 0), _run(5.0, 1)], 2.0)["both"]
    assert not covers_both_ends([_run(1.5, 0), _run(5.0, 1)], 2.0)["both"]
    assert covers_both_ends([_run(1.5, 0, dead=0.6), _run(5.0, 1)], 2.0)["both"]


def test_heldout_loss_counts_the_anchoring_penalty(data):
    from numerics.engine import Anchoring, objective_total

    cfg = TrainConfig(arch="relu", n_latents=16, batch_size=64, lr=1e-2, epochs=1, max_steps=5, quiet=True, anchor_k=2,
                      anchor_init=False, device="cpu")
    tr = Trainer(cfg, data)
    mon = ConvergenceMonitor(Convergence(window=1, eval_every=1, max_steps=5, heldout_samples=128))
    batch = tr.batches(0, 128, 3)
    plain = objective_total(tr, batch)
    pen = float(tr.callback(Anchoring).penalty(tr).detach())
    assert pen > 0 and mon.heldout_loss(tr) == pytest.approx(plain + pen, rel=1e-12)


def test_run_store_keeps_every_run_and_reuses_only_the_same_configuration(data, tmp_path, monkeypatch):
    """Inside run_store a run is written as it ends; with reuse the same configuration is read back (not
    trained: training is made to fail), a changed setting, criterion or damaged file is trained again."""
    import json

    import numerics.recovery as R

    base = TrainConfig(n_latents=16, batch_size=64, lr=1e-2, dead_window=20, k_aux=4, device="cpu")
    crit = Convergence(eps=10.0, window=2, eval_every=10, max_steps=100, heldout_samples=128)
    with R.run_store(tmp_path) as store:
        first = train_run("topk_sae", {"k": 2}, data, base, crit, eval_samples=256)
    files = sorted(store.glob("*.json"))
    assert len(files) == 1 and "resumed" not in first
    doc = json.loads(files[0].read_text())
    assert doc["fields"]["method"] == "topk_sae" and doc["fields"]["setting"] == {"k": 2}
    assert doc["code_digest"] == R.code_digest() and doc["record"]["steps"] == first["steps"]

    trained = []
    real = R._train_run
    monkeypatch.setattr(R, "_train_run", lambda *a, **kw: trained.append(a[0]) or real(*a, **kw))
    with R.run_store(tmp_path, reuse=False):       # without reuse: trained again (and rewritten)
        train_run("topk_sae", {"k": 2}, data, base, crit, eval_samples=256)
    assert trained == ["topk_sae"]
    with R.run_store(tmp_path, reuse=True):
        again = train_run("topk_sae", {"k": 2}, data, base, crit, eval_samples=256)
        assert trained == ["topk_sae"]            # read back, not trained
        assert again.pop("resumed") is True and again.pop("code_digest") == R.code_digest()
        assert again.pop("train_s") > 0 and {**json.loads(json.dumps(first)), "train_s": None} == {**again, "train_s": None}
        train_run("topk_sae", {"k": 3}, data, base, crit, eval_samples=256)           # another setting
        train_run("topk_sae", {"k": 2}, data, base, Convergence(eps=10.0, window=2, eval_every=10, max_steps=90,
                                                                   heldout_samples=128), eval_samples=256)
        assert trained == ["topk_sae"] * 3
        files[0].write_text("{ not json")                                                 # damaged: trained again
        train_run("topk_sae", {"k": 2}, data, base, crit, eval_samples=256)
        assert trained == ["topk_sae"] * 4
    assert len(list(store.glob("*.json"))) == 3
    assert R.active_store() is None
