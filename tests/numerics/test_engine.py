"""numerics.engine: one loop, objectives as a choice, callbacks, a stop hook that records why, convergence,
checkpoints that resume bit-identically."""
import numpy as np
import pytest
import torch

from numerics.data import Batch
from numerics.convergence import Convergence, ConvergenceMonitor
from numerics.engine import Callback, Checkpoint, Engine, ExactLoss, Resample, TheoryUnits, heldout_loss
from numerics.models import build_model
from studies.common import independent_sampler, sampler_batches
from theory.errors import SDLInputError


def _batches(seed=0):
    return sampler_batches(independent_sampler(np.eye(4), 0.2, 1.0, 0.5), seed)


def _engine(steps=60, callbacks=(), seed=0, l1=0.1):
    torch.manual_seed(seed)
    model = build_model("relu", 4, 6, bias=False, unit_norm_decoder=False, seed=seed)
    return Engine(model, TheoryUnits(l1), _batches(seed), steps=steps, batch_size=64, lr=1e-2, seed=seed,
                  callbacks=callbacks)


def test_batches_are_a_pure_function_of_seed_stream_and_index():
    a, b = _batches(3), _batches(3)
    assert torch.equal(a(5, 32, 0).x_p, b(5, 32, 0).x_p)
    assert not torch.equal(a(5, 32, 0).x_p, a(6, 32, 0).x_p)
    assert not torch.equal(a(5, 32, 0).x_p, a(5, 32, 1).x_p)
    assert not torch.equal(a(5, 32, 0).x_p, _batches(4)(5, 32, 0).x_p)


def test_a_callback_can_stop_the_run_and_the_result_says_why():
    class StopAt(Callback):
        def after_step(self, engine, out):
            if engine.step == 7:
                engine.stop("seven is enough")

    res = _engine(callbacks=[StopAt()]).run()
    assert res.steps == 7 and res.stop_reason == "seven is enough" and res.converged is None
    res = _engine(steps=5).run()
    assert res.steps == 5 and res.stop_reason == "budget"


CRIT = Convergence(eps=2e-3, window=5, eval_every=20, max_steps=3000, heldout_samples=1024)


def test_convergence_stops_early_when_the_heldout_loss_is_flat_and_not_otherwise():
    mon = ConvergenceMonitor(CRIT)
    res = _engine(steps=3000, callbacks=[mon]).run()
    assert res.converged is True and res.steps < 3000 and res.stop_reason.startswith("converged")
    assert mon.record()["final_spread"] < CRIT.eps and mon.history[-1][0] == res.steps
    short = _engine(steps=40, callbacks=[ConvergenceMonitor(CRIT)]).run()
    assert short.converged is False and short.stop_reason == "budget"
    with pytest.raises(SDLInputError, match="exceeds the budget"):
        ConvergenceMonitor(Convergence(window=100, eval_every=30, max_steps=1000))


def test_checkpointed_run_resumes_bit_identically_with_resampling(tmp_path):
    def cbs(root, every):
        return [Resample(every=15, until=59, batch=256), Checkpoint(root, every=every)]

    full = _engine(callbacks=cbs(tmp_path / "a", 0))
    full.run()
    part = _engine(steps=25, callbacks=cbs(tmp_path / "b", 10))
    part.run()
    rest = _engine(callbacks=cbs(tmp_path / "b", 10))
    assert rest.step == 25
    rest.run()
    assert rest.resampled == full.resampled
    for (n, a), (_, b) in zip(full.model.state_dict().items(), rest.model.state_dict().items()):
        assert torch.equal(a, b), n


def test_a_converged_run_resumed_stays_converged(tmp_path):
    def cbs():
        return [ConvergenceMonitor(CRIT), Checkpoint(tmp_path)]

    first = _engine(steps=3000, callbacks=cbs()).run()
    assert first.converged
    again = _engine(steps=3000, callbacks=cbs())
    res = again.run()
    assert res.steps == first.steps and res.converged and res.stop_reason == first.stop_reason


def test_exact_loss_gradients_are_the_closed_form_ones_in_float64():
    """C9's arms used hand-written gradients of L on a batch; the engine's autograd must give the same."""
    from numerics.models.theory_coder import TheoryCoder
    from theory import Instance
    from theory.activations import ReLU
    from theory.distribution import FeatureDistribution

    rng = np.random.default_rng(0)
    from theory.instance import normalize_columns

    inst = Instance(W_p=normalize_columns(rng.normal(size=(3, 4))), activation=ReLU(),
                    distribution=FeatureDistribution.uniform(4, 0.3))
    W_E, W_D = rng.normal(size=(5, 3)), rng.normal(size=(3, 5))
    X = inst.distribution.sample(4, 64, rng)
    model = TheoryCoder(inst.activation, W_E, W_D)
    Xt = torch.tensor(X)
    batch = Batch(x=Xt, x_p=Xt @ torch.tensor(inst.W_p.T), x_r=Xt @ torch.tensor(inst.W_r.T))
    terms, _, _ = ExactLoss(inst)(model, batch)
    terms["exact_loss"].backward()
    Xp, Xr = X @ inst.W_p.T, X @ inst.W_r.T
    Z = Xp @ W_E.T
    on = Z > 0
    H = np.where(on, Z, 0.0)
    R = Xr - H @ W_D.T
    w = 1.0 / len(X)
    back = on * (R @ W_D) * w
    assert model.W_enc.dtype == torch.float64
    np.testing.assert_allclose(model.W_dec.grad.numpy().T, -2 * w * R.T @ H, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.W_enc.grad.numpy(), -2 * back.T @ Xp, rtol=1e-12, atol=1e-12)
    assert float(terms["exact_loss"].detach()) == pytest.approx(float((R ** 2).sum(1).mean()), rel=1e-12)


def test_heldout_loss_uses_one_fixed_batch():
    eng = _engine()
    assert heldout_loss(eng, 512) == heldout_loss(eng, 512)
    eng.train_step()
    assert heldout_loss(eng, 512) != heldout_loss(_engine(), 512)


def test_plain_descent_on_the_approximate_loss_is_the_symbolic_gradient_step():
    """ApproxLoss + sgd on the engine (the partial-minima study's descent on L̃) takes exactly the steps
    W ← W − lr ∇L̃ of the theory's symbolic gradients."""
    from numerics.engine import ApproxLoss, sgd
    from numerics.models.theory_coder import TheoryCoder
    from theory import Instance
    from theory.activations import ReLU
    from theory.derivation import gradients
    from theory.instance import normalize_columns

    rng = np.random.default_rng(1)
    inst = Instance(W_p=normalize_columns(rng.normal(size=(3, 4))), activation=ReLU(), weights=np.array([1.0, 0.5, 2.0, 1.5]))
    W_E, W_D = rng.normal(size=(5, 3)), rng.normal(size=(3, 5))
    model = TheoryCoder(inst.activation, W_E, W_D)
    res = Engine(model, ApproxLoss(inst), lambda i, size, stream: None, steps=7, batch_size=1, lr=0.05,
                 optimizer=sgd).run()
    for _ in range(7):
        g = gradients(inst, W_D, W_E, method="vectorized")
        W_D, W_E = W_D - 0.05 * g.W_D, W_E - 0.05 * g.W_E
    assert res.steps == 7
    np.testing.assert_allclose(model.W_enc.detach().numpy(), W_E, rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.W_dec.detach().numpy().T, W_D, rtol=0, atol=1e-12)


def test_theory_units_l0_term_is_the_jumprelu_count():
    """TheoryUnits(l0=λ): λ times the mean number of latents past their threshold (the JumpReLU family's own step,
    whose straight-through gradient reaches θ only); refused for a model without that step."""
    model = build_model("jumprelu", 4, 6, bias=False, unit_norm_decoder=False, seed=0, threshold_init=0.3)
    batch = _batches(0)(0, 256, 0)
    terms, code, _ = TheoryUnits(l0=0.7)(model, batch)
    count = (model.preacts_nograd(batch.x_p) > model.threshold.detach()).double().sum(1).mean()
    assert float(terms["l0"].detach()) == pytest.approx(0.7 * float(count), rel=1e-6) and "l1" not in terms
    terms["l0"].backward()
    assert model.W_enc.grad is None or float(model.W_enc.grad.abs().max()) == 0.0
    assert model.log_threshold.grad is not None  # the straight-through estimator
    with pytest.raises(SDLInputError, match="needs a JumpReLU model"):
        TheoryUnits(l0=0.7)(build_model("relu", 4, 6, bias=False, unit_norm_decoder=False, seed=0), batch)
