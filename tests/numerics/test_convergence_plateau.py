"""The trend test at the budget: a run whose held-out loss is flat but jitters by more than eps converges on a
plateau; a falling loss, a too-noisy one, or a run stopped before the budget does not. Values against
scipy's linear regression and hand-computed lines, the monitor on scripted losses, a stored run judged again."""
import json
import math

import pytest
from scipy.stats import linregress

from numerics.config import DataConfig, TrainConfig
from numerics.convergence import Convergence, ConvergenceMonitor, judge, window_spread

CRIT = Convergence(eps=2e-3, window=6, eval_every=1, max_steps=60, heldout_samples=128)
N = Convergence.PLATEAU_WINDOWS * CRIT.window + 1       # 25 losses in the trend fit


def _jitter(i: int) -> float:
    """A deterministic zero-trend jitter of about ±0.4 %: a sum of incommensurate cosines."""
    return 0.004 * math.cos(2.3 * i) + 0.002 * math.cos(5.1 * i + 0.7)


def test_trend_of_an_exact_line_by_hand():
    losses = [1.0 + 0.001 * i for i in range(N)]   # slope 0.001 per evaluation, mean 1.012, no residual
    p = CRIT.plateau(losses)
    assert p["trend"] == pytest.approx(0.001 * 6 / 1.012, rel=1e-12)
    assert p["stderr"] == pytest.approx(0.0, abs=1e-12)
    assert p["met"] is False                        # 0.59 % per window > eps = 0.2 %
    assert Convergence(eps=1e-2, window=6, eval_every=1, max_steps=60).plateau(losses)["met"] is True


def test_trend_and_its_error_match_scipy_linregress():
    losses = [0.05 * (1 + _jitter(i) - 0.0001 * i) for i in range(40)]
    tail = losses[-N:]
    ref = linregress(range(N), tail)
    mean = sum(tail) / N
    p = CRIT.plateau(losses)                       # only the last N losses count
    assert p["trend"] == pytest.approx(ref.slope * 6 / mean, rel=1e-9)
    assert p["stderr"] == pytest.approx(ref.stderr * 6 / mean, rel=1e-9)
    assert p["met"] is (abs(p["trend"]) + Convergence.PLATEAU_Z * p["stderr"] < CRIT.eps)


def test_flat_jittering_loss_is_a_plateau_that_the_spread_test_misses():
    losses = [0.05 * (1 + _jitter(i)) for i in range(60)]
    assert window_spread(CRIT.window_of(losses)) > CRIT.eps     # the spread test never holds on it
    assert not any(CRIT.met(losses[:m]) for m in range(1, 61))
    p = CRIT.plateau(losses)
    assert p["met"] and abs(p["trend"]) < 5e-4
    assert CRIT.judge(losses, 60, False) == "plateau"
    assert CRIT.judge(losses, 59, False) is None                # before the budget: the trend test is not asked
    assert CRIT.judge(losses, 60, True) == "spread"


def test_a_falling_or_too_noisy_loss_is_no_plateau():
    falling = [0.05 * (1 + 0.1 * _jitter(i)) * (1 - 0.004 / 6) ** i for i in range(60)]   # -0.4 % per window
    p = CRIT.plateau(falling)
    assert p["trend"] == pytest.approx(-0.004, rel=0.05) and not p["met"]
    assert CRIT.judge(falling, 60, False) is None
    noisy = [0.05 * (1 + 8 * _jitter(i)) for i in range(60)]     # ±5 %: the fit cannot tell a 0.2 % trend
    p = CRIT.plateau(noisy)
    assert Convergence.PLATEAU_Z * p["stderr"] > CRIT.eps and not p["met"]
    assert CRIT.plateau(falling[:N - 1]) is None                # too few evaluations for the fit
    assert CRIT.plateau([float("nan")] * N)["met"] is False


class _FakeEngine:
    def __init__(self, losses):
        self.losses, self.step, self.stopped, self.converged = list(losses), 0, None, None

    def stop(self, reason, converged=None):
        self.stopped, self.converged = reason, converged


def _run_monitor(losses, crit=CRIT):
    mon = ConvergenceMonitor(crit)
    mon.heldout_loss = lambda eng: eng.losses[eng.step - 1]
    eng = _FakeEngine(losses)
    for s in range(1, crit.max_steps + 1):
        eng.step = s
        mon.after_step(eng, {})
        if eng.stopped:
            break
    mon.on_end(eng)
    return mon, eng


def test_the_monitor_calls_a_plateau_at_the_budget_converged():
    mon, eng = _run_monitor([0.05 * (1 + _jitter(i)) for i in range(60)])
    assert eng.stopped is None and eng.step == 60 and eng.converged is True
    rec = mon.record()
    assert rec["converged"] is True and rec["converged_by"] == "plateau" and rec["plateau"]["met"]
    mon, eng = _run_monitor([0.05 * (1 - 0.004 / 6) ** i for i in range(60)])
    assert eng.converged is False and mon.record()["converged_by"] is None
    assert mon.record()["converged"] is False


def test_the_monitor_still_stops_on_the_spread_test():
    losses = [1.0] * 10 + [5.0] * 50
    mon, eng = _run_monitor(losses)
    assert eng.stopped and eng.step == 7 and eng.converged is True
    rec = mon.record()
    assert rec["converged_by"] == "spread" and rec["plateau"] is None    # 7 evaluations: no trend fit yet
    assert rec["criterion"]["plateau_windows"] == Convergence.PLATEAU_WINDOWS


def test_judge_reads_records_written_before_the_trend_test():
    hist = [[i + 1, 0.05 * (1 + _jitter(i))] for i in range(60)]
    old = {"converged": False, "steps": 60, "heldout_history": hist}           # no converged_by key
    assert judge(old, CRIT)["converged_by"] == "plateau"
    assert judge({**old, "steps": 50}, CRIT)["converged"] is False              # stopped short of the budget
    assert judge({**old, "converged": True}, CRIT)["converged_by"] == "spread"
    assert judge({**old, "converged_by": None}, CRIT)["converged_by"] == "plateau"
    assert judge({"converged": False, "steps": 60, "heldout_history": []}, CRIT) == {
        "converged": False, "converged_by": None, "plateau": None}


def test_a_stored_budget_run_on_a_plateau_reads_back_converged(tmp_path, monkeypatch):
    """A run stored as 'not converged' by the spread test alone is judged again when read back; its key and
    its numbers are unchanged (the trend test changes no training)."""
    import numerics.recovery as R
    from numerics.data import make_bench

    data = make_bench(DataConfig(n_features=6, d_in=5, n_samples=256, interference=0.5, p_active=0.2, seed=0,
                                 pgd_steps=50))
    base = TrainConfig(n_latents=8, batch_size=32, lr=1e-2, dead_window=20, k_aux=2, device="cpu")
    hist = [[i + 1, 0.05 * (1 + _jitter(i))] for i in range(60)]
    legacy = {"method": "topk_sae", "setting": {"k": 2}, "converged": False, "steps": 60, "l0": 2.0,
              "explained_variance": 0.9, "heldout_history": hist}
    monkeypatch.setattr(R, "_train_run", lambda *a, **kw: dict(legacy))
    with R.run_store(tmp_path) as store:
        R.train_run("topk_sae", {"k": 2}, data, base, CRIT)
    (f,) = store.glob("*.json")
    assert json.loads(f.read_text())["record"]["converged"] is False             # as written
    monkeypatch.setattr(R, "_train_run", lambda *a, **kw: pytest.fail("a stored run was trained again"))
    with R.run_store(tmp_path, reuse=True):
        got = R.train_run("topk_sae", {"k": 2}, data, base, CRIT)
    assert got["resumed"] and got["converged"] is True and got["converged_by"] == "plateau"
    assert got["l0"] == 2.0 and got["steps"] == 60
    longer = Convergence(eps=2e-3, window=6, eval_every=1, max_steps=61, heldout_samples=128)
    monkeypatch.setattr(R, "_train_run", lambda *a, **kw: {**legacy, "steps": 61})
    with R.run_store(tmp_path, reuse=True):   # another criterion is another key: trained (here: stubbed) anew
        assert R.train_run("topk_sae", {"k": 2}, data, base, longer)["steps"] == 61
