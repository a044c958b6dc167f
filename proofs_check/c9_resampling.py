"""C9: resampling dead neurons (Bricken et al. 2023) moves training out of spurious partial minima
and lowers the final loss.

A controlled experiment, decided by the numbers:

- start at a *spurious partial minimum with a dead neuron*: a polysemantic partition pattern
  (default ``({0,1}, {2}, …, ∅)``) realised by :func:`theory.partial_optimum.stationary_partial_minima`
  and certified by :func:`theory.partial_optimum.is_partial_minimum` (L̃ > 0);
- train on the exact objective L (mini-batches from the instance's feature distribution, Adam) twice
  from that start with the same seed — without and with resampling;
- resampling as commonly implemented: every ``window`` steps, a neuron that did not fire in the window
  is dead; score a batch of inputs by their loss, sample inputs ∝ loss², set the dead decoder column
  to the normalised target, the encoder row to the normalised input times ``encoder_scale`` × the mean
  norm of the live encoder rows (0.2 by default), its bias to 0, and reset its Adam moments;
- compare the final exact loss L (enumerated exactly for constant magnitudes) over seeds: paired
  differences ``L_without − L_with`` with a t confidence interval; also L̃, the final pattern and the
  mean max |cos| between decoder columns and the true features.

"holds": the interval lies above 0; "fails": its upper end is below 5 % of the loss without
resampling (no meaningful improvement); "inconclusive" otherwise.

The default search re-runs one seed per arm with :class:`numerics.train.Trainer` (the bench's recipe:
its own torch models of the family, the FVU objective in float32, l1 = 0, no biases, no decoder
normalisation) from the same start as a cross-check of the model code and objective, and reports whether
it agrees.

The arms run on the project's one training engine (:mod:`numerics.engine`) with the exact objective L in
float64 (:class:`numerics.engine.ExactLoss`, the family's exact σ, no L1 term, no decoder normalisation)
from the given partial minimum, with the resampled encoder scale that the corrected condition changes;
the cross-check uses the bench's torch models and FVU objective instead (float32).
Finding: with TopK-type σ the 0.2 × scale makes a resampled row lose the top-k competition on every
input, so it never fires, never gets a gradient and the run stays in the partial minimum. Corrected
condition: the resampled row must fire on the input it was resampled towards — for TopK families
scale it above the winners (the check uses 2 × the mean live norm).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from proofs_check.claim import Claim
from theory.partial_optimum import is_partial_minimum, stationary_partial_minima
from theory import registry
from proofs_check.verdict import CorrectedCondition, Reading, StepCheck, Verdict
from theory.activations import Gated, ReLU, TopKReLU
from theory.distribution import FeatureDistribution
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.objective import approx_loss, exact_loss
from theory.patterns import as_pattern, pattern_of

@dataclass(frozen=True)
class Options:
    """The options of ``check_instance`` (``check("C9", instance, **options)``)."""

    pattern: object = None  # the spurious pattern to start from
    encoder_scale: float = 0.2  # the recipe's encoder scale of a resampled row
    steps: object = None  # training steps (default: the claim's)


CLAIM = Claim(
    id="C9",
    title="Resampling dead neurons escapes spurious partial minima",
    paper_ref="Sec. 4 (resampling, Bricken et al. 2023)",
    statement=(
        "Re-initialising dead neurons toward badly reconstructed inputs moves training out of spurious partial "
        "minima and lowers the final loss."
    ),
)

DEFAULT_P_ACTIVE = 0.05
REL_TOL = 0.05
CORRECTED_SCALE = 2.0


@dataclass(frozen=True)
class RunConfig:
    """The training recipe of one arm (all fields recorded in the verdict)."""

    steps: int = 1200
    batch_size: int = 128
    lr: float = 0.01
    resample: bool = False
    window: int = 200  # steps without firing before a neuron counts as dead; also the resampling period
    resample_batch: int = 1024
    encoder_scale: float = 0.2  # × mean live encoder-row norm (Bricken et al.)
    stop_resampling_after: float = 0.75  # fraction of the run after which no resampling happens


def _per_sample(instance: Instance):
    act = instance.activation
    return act if act.per_sample else act.at_inference()


def train(instance: Instance, W_D, W_E, b_E, cfg: RunConfig, seed: int) -> dict:
    """Adam (float64) on mini-batches of the exact objective L from ``(W_D, W_E, b_E)``; resampling per ``cfg``.

    The project's one engine (:mod:`numerics.engine`): objective :class:`~numerics.engine.ExactLoss` (the
    instance's own σ through :mod:`numerics.objective`, autograd), batches drawn from the instance's feature
    distribution with a generator seeded by ``(seed, stream, step)``, :class:`~numerics.engine.Resample`
    every ``window`` steps up to ``stop_resampling_after × steps``."""
    import torch

    from numerics.data import Batch
    from numerics.engine import Engine, ExactLoss, Resample
    from numerics.models.theory_coder import TheoryCoder

    act = _per_sample(instance)
    dist = instance.distribution
    inst = instance.replace(activation=act)
    W_pT, W_rT = (torch.tensor(np.array(M.T), dtype=torch.float64) for M in (instance.W_p, instance.W_r))

    def batches(index: int, size: int, stream: int) -> Batch:
        X = torch.tensor(dist.sample(instance.n, size, np.random.default_rng([int(seed), stream, index])),
                         dtype=torch.float64)
        return Batch(x=X, x_p=X @ W_pT, x_r=X @ W_rT)

    model = TheoryCoder(act, W_E, W_D, b_E)
    callbacks = [Resample(every=cfg.window, until=int(cfg.stop_resampling_after * cfg.steps), scale=cfg.encoder_scale,
                          batch=cfg.resample_batch)] if cfg.resample else []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: extra threads only spin on a shared machine
    try:
        res = Engine(model, ExactLoss(inst), batches, steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr,
                     seed=seed, callbacks=callbacks).run()
    finally:
        torch.set_num_threads(threads)
    D, E = model.W_dec.detach().numpy().T.copy(), model.W_enc.detach().numpy().copy()
    b = None if model.b_enc is None else model.b_enc.detach().numpy().copy()
    cos = np.abs((D / np.maximum(np.linalg.norm(D, axis=0), 1e-12)).T @ instance.W_r)
    return {
        "W_D": D, "W_E": E, "b_E": b, "resampled": res.resampled,
        "exact_loss": exact_loss(instance, D, E, b, samples=20_000, seed=seed).value,
        "approx_loss": approx_loss(instance.replace(distribution=None, weights=instance.weights), D, E, b),
        "pattern": pattern_of(instance, E, b).to_json(),
        "mean_max_cos": float(cos.max(axis=0).mean()),
    }


def _with_distribution(instance: Instance) -> Instance:
    if instance.distribution is not None:
        return instance
    return instance.replace(weights=None, distribution=FeatureDistribution.uniform(instance.n, DEFAULT_P_ACTIVE))


def _default_pattern(instance: Instance):
    return [{0, 1}] + [{d} for d in range(2, instance.n)] + [set()]


def spurious_start(instance: Instance, pattern) -> dict | None:
    """A partial minimum with ``pattern`` and L̃ > 0 (the one with the lowest loss), or None."""
    P = as_pattern(pattern, instance)
    if P.partition_problem() is not None:
        return None
    found = [p for p in stationary_partial_minima(instance, P).found if p.loss > 1e-9]
    if not found:
        return None
    best = min(found, key=lambda p: p.loss)
    return {"W_D": best.W_D, "W_E": best.W_E, "b_E": best.b_E, "loss": best.loss, "pattern": P}


def hypotheses(instance: Instance, pattern=None) -> list[str]:
    unmet = []
    act = instance.activation
    if not act.per_sample and getattr(act, "threshold", None) is None:
        unmet.append(f"{act.describe()} needs an inference threshold for per-sample training")
    if instance.n < 2:
        unmet.append("n >= 2 (a polysemantic start needs two features)")
        return unmet
    pattern = _default_pattern(instance) if pattern is None else pattern
    P = as_pattern(pattern, instance)
    if not P.dead_neurons:
        unmet.append("the start pattern needs a dead neuron (resampling acts on dead neurons only)")
    if not P.is_polysemantic:
        unmet.append("the start pattern must be polysemantic (a spurious partial minimum)")
    if not unmet and spurious_start(instance, P) is None:
        unmet.append(f"no partial minimum with pattern {P} and L̃ > 0 exists on this instance (see C6)")
    return unmet


def _t_interval(d: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    from scipy.stats import t

    mean = float(d.mean())
    if len(d) < 2:
        return mean, -np.inf, np.inf
    half = float(t.ppf(0.5 + confidence / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d)))
    return mean, mean - half, mean + half


def experiment(instance: Instance, pattern=None, *, seeds: int = 4, seed: int = 0, cfg: RunConfig = RunConfig()) -> dict:
    """Both arms over ``seeds`` paired seeds from the spurious start; the numbers behind the verdict."""
    inst = _with_distribution(instance)
    pattern = _default_pattern(inst) if pattern is None else pattern
    start = spurious_start(inst, pattern)
    chk = is_partial_minimum(inst, start["W_D"], start["W_E"], start["b_E"], start["pattern"])
    without, with_ = [], []
    for s in range(seed, seed + seeds):
        base = dict(W_D=start["W_D"], W_E=start["W_E"], b_E=start["b_E"])
        without.append(train(inst, **base, cfg=RunConfig(**{**cfg.__dict__, "resample": False}), seed=s))
        with_.append(train(inst, **base, cfg=RunConfig(**{**cfg.__dict__, "resample": True}), seed=s))
    L0 = np.array([r["exact_loss"] for r in without])
    L1 = np.array([r["exact_loss"] for r in with_])
    mean, low, high = _t_interval(L0 - L1)
    start_L = exact_loss(inst, start["W_D"], start["W_E"], start["b_E"], samples=20_000, seed=seed).value
    if low > 0:
        outcome = "holds"
    elif high < REL_TOL * max(float(L0.mean()), 1e-12):
        outcome = "fails"
    else:
        outcome = "inconclusive"
    return {
        "outcome": outcome, "instance": inst.to_json(), "start_pattern": start["pattern"].to_json(),
        "start_approx_loss": start["loss"], "start_exact_loss": start_L, "start_is_partial_minimum": chk.is_partial_minimum,
        "config": cfg.__dict__, "seeds": list(range(seed, seed + seeds)),
        "final_exact_loss_without": L0.tolist(), "final_exact_loss_with": L1.tolist(),
        "improvement_mean": mean, "improvement_ci95": [low, high],
        "mean_max_cos_without": [r["mean_max_cos"] for r in without], "mean_max_cos_with": [r["mean_max_cos"] for r in with_],
        "final_pattern_without": without[0]["pattern"], "final_pattern_with": with_[0]["pattern"],
        "neurons_resampled": [r["resampled"] for r in with_],
    }


def numerics_trainer_losses(instance: Instance, start: dict, *, resample: bool, seeds, cfg: RunConfig = RunConfig()) -> list | None:
    """The same arm with :class:`numerics.train.Trainer` (the bench's models and FVU objective, float32; the
    same engine) from the same start: final exact losses, or None where the numerics layer has no
    matching model (family other than ReLU / TopK∘ReLU, an encoder bias, non-exponential magnitudes)."""
    import torch

    from theory.distribution import Constant, ShiftedExponential

    act, dist = instance.activation, instance.distribution
    # the trained σ must be the theory's own (fixed, not learned, thresholds): ReLU and TopK∘ReLU
    arch = registry.family_of(act).name if isinstance(act, (ReLU, TopKReLU)) else None
    mag = dist.magnitude
    if arch is None or instance.encoder_bias or len(set(np.round(dist.for_n(instance.n), 12))) != 1 \
            or not isinstance(mag, (Constant, ShiftedExponential)):
        return None
    c_min, beta = (mag.c, 0.0) if isinstance(mag, Constant) else (mag.c_min, mag.beta)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: extra threads only spin (10× slower on a shared 2-core machine)
    try:
        return _trainer_runs(instance, start, arch, act, dist, c_min, beta, resample, seeds, cfg)
    finally:
        torch.set_num_threads(threads)


def _trainer_runs(instance, start, arch, act, dist, c_min, beta, resample, seeds, cfg) -> list:
    import torch

    from numerics.config import DataConfig, TrainConfig
    from numerics.data import BenchData
    from numerics.models import build_model
    from numerics.train import Trainer

    losses = []
    for seed in seeds:
        dcfg = DataConfig(kind="sae" if instance.is_sae else "transcoder", n_features=instance.n, d_in=instance.n_p,
                          d_out=0 if instance.is_sae else instance.n_r, p_active=float(dist.for_n(instance.n)[0]),
                          c_min=float(c_min), beta=float(beta), n_samples=cfg.steps * cfg.batch_size, seed=int(seed))
        W_p = torch.tensor(instance.W_p, dtype=torch.float32)
        data = BenchData(config=dcfg, W_p=W_p, W_r=W_p if instance.is_sae else torch.tensor(instance.W_r, dtype=torch.float32))
        n_q = start["W_E"].shape[0]
        tcfg = TrainConfig(arch=arch, n_latents=n_q, hyper={"k": getattr(act, "k", 0), "l1_coeff": 0.0}, bias=False,
                           unit_norm_decoder=False, aux_k=False, lr=cfg.lr, batch_size=cfg.batch_size, max_steps=cfg.steps,
                           resample=resample, resample_every=cfg.window, resample_batch=cfg.resample_batch, quiet=True,
                           device="cpu", seed=int(seed), eval_every=10 * cfg.steps, eval_samples=256)
        model = build_model(arch, instance.n_p, n_q, instance.n_r, **tcfg.model_kwargs())
        with torch.no_grad():
            model.W_enc.copy_(torch.tensor(start["W_E"], dtype=torch.float32))
            model.W_dec.copy_(torch.tensor(start["W_D"].T, dtype=torch.float32))
        m = Trainer(tcfg, data, model).run().model
        W_E, W_D = m.W_enc.detach().double().numpy(), m.W_dec.detach().double().numpy().T
        losses.append(exact_loss(instance, W_D, W_E, samples=20_000, seed=int(seed)).value)
    return losses


def proof_steps() -> list[StepCheck]:
    """C9 is an empirical claim: its one checkable step is that the start is a spurious partial minimum."""
    inst = _with_distribution(Instance(W_p=np.eye(3), activation=ReLU()))
    start = spurious_start(inst, _default_pattern(inst))
    chk = is_partial_minimum(inst, start["W_D"], start["W_E"], start["b_E"], start["pattern"])
    return [StepCheck("spurious start", "the default start ({0,1}, {2}, ∅) is a partial minimum of L̃ with L̃ > 0 (KKT + attainment LP)",
                      chk.is_partial_minimum and chk.loss > 0, "0" if chk.is_partial_minimum else chk.reason, None,
                      f"L̃ = {chk.loss:.6g}")]


def _corrected_text(verified: bool, evidence: str, counts: dict | None = None) -> CorrectedCondition:
    return CorrectedCondition(
        text=("The resampled neuron must fire on the inputs it was resampled towards. For ReLU (no bias) the 0.2 × scale "
              "suffices; for TopK-type σ the resampled row loses the top-k competition on every input, never fires and "
              f"never gets a gradient: scale it above the winning rows (here {CORRECTED_SCALE} × the mean live norm), or use "
              "an auxiliary loss on dead latents (aux-k)."),
        sympy=None,
        verified=verified, kind="necessary", counts=counts,
        evidence=evidence,
    )


def _fixed_counts(fixed: list) -> dict:
    """A training comparison per setting is one instance: far below the bar for 'verified' (stated, not hidden)."""
    held = sum(f["outcome"] == "holds" for f in fixed)
    undecided = sum(f["outcome"] == "inconclusive" for f in fixed)
    return {"met": len(fixed), "held": held, "skipped": 0, "undecided": undecided,
            "failed": len(fixed) - held - undecided, "superposition_met": 0}


def _readings(runs: list, cfg: "RunConfig") -> tuple[Reading, ...]:
    """C9 says resampling "moves training out" of partial minima: weak (in some setting), strong (in every one)."""
    from theory.activations import activation_from_json

    def name(r):
        return activation_from_json(r["instance"]["activation"]).describe()

    helped = [r for r in runs if r["outcome"] == "holds"]
    failed = [r for r in runs if r["outcome"] == "fails"]
    ci = lambda r: f"paired improvement {r['improvement_mean']:.3g}, 95% CI [{r['improvement_ci95'][0]:.3g}, {r['improvement_ci95'][1]:.3g}]"  # noqa: E731
    weak = Reading("weak", "Resampling dead neurons (Bricken et al. recipe) can move training out of a spurious partial "
                           "minimum and lower the final exact loss (in some setting).",
                   "holds" if helped else ("fails" if len(failed) == len(runs) else "inconclusive"),
                   "; ".join(f"{name(r)}: {r['outcome']} ({ci(r)})" for r in runs))
    if failed:
        strong = Reading("strong", "It does so in every setting (every activation family), with the recipe as published.",
                         "fails", "; ".join(f"{name(r)}: {r['outcome']} ({ci(r)})" for r in failed),
                         scope=(f"fails for {', '.join(name(r) for r in failed)} with the recipe as published (resample each "
                                f"dead neuron towards a badly reconstructed input, its encoder row at "
                                f"{cfg.encoder_scale:g} × the mean norm of the live rows), at the scale checked: "
                                f"n = 3 orthonormal features in R³, p_active = 0.05, start ({{0,1}}, {{2}}, ∅), "
                                f"{len(runs[0]['seeds'])} seeds of {cfg.steps} steps; the resampled row never wins the top-k "
                                "competition, so it never fires"))
    else:
        strong = Reading("strong", "It does so in every setting (every activation family), with the recipe as published.",
                         "holds" if len(helped) == len(runs) else "inconclusive", "; ".join(f"{name(r)}: {ci(r)}" for r in runs))
    return weak, strong


def _verdict_from(r: dict, seed: int, budget: int, cc=None) -> Verdict:
    lo, hi = r["improvement_ci95"]
    nums = (f"final L without resampling {np.mean(r['final_exact_loss_without']):.4g}, with {np.mean(r['final_exact_loss_with']):.4g} "
            f"(start {r['start_exact_loss']:.4g}); paired improvement {r['improvement_mean']:.4g}, 95% CI [{lo:.3g}, {hi:.3g}] over "
            f"{len(r['seeds'])} seeds; mean max |cos| of decoder columns with the features {np.mean(r['mean_max_cos_without']):.3f} → "
            f"{np.mean(r['mean_max_cos_with']):.3f} (a resampled column points at an input even if its neuron never fires); "
            f"neurons resampled {r['neurons_resampled']}")
    from theory.activations import activation_from_json

    act = activation_from_json(r["instance"]["activation"]).describe()
    if r["outcome"] == "holds":
        return Verdict("C9", CLAIM.title, "holds", f"{act}: resampling lowers the final loss: {nums}", None, cc,
                       tuple(proof_steps()), r, seed, budget)
    if r["outcome"] == "fails":
        return Verdict("C9", CLAIM.title, "fails", f"{act}: resampling does not lower the final loss: {nums}", r, cc,
                       tuple(proof_steps()), r, seed, budget)
    return Verdict("C9", CLAIM.title, "inconclusive", f"{act}: the difference is not resolved: {nums}", None, cc,
                   tuple(proof_steps()), r, seed, budget)


def check_instance(instance: Instance, *, seed: int = 0, budget: int = 40, pattern=None, encoder_scale: float = 0.2,
                   steps: int | None = None, **kw) -> Verdict:
    """The experiment on one instance (``pattern``: the spurious start; ``budget // 10`` seeds, at least 3)."""
    if kw:
        raise SDLInputError(f"C9 takes pattern, encoder_scale, steps, not {sorted(kw)}")
    if instance.n > 12:
        raise SDLInputError("C9 evaluates the exact loss by enumeration; use n <= 12")
    inst = _with_distribution(instance)
    unmet = hypotheses(inst, pattern)
    if unmet:
        return Verdict("C9", CLAIM.title, "hypotheses_not_met", "; ".join(unmet), seed=seed, budget=budget)
    cfg = RunConfig(encoder_scale=float(encoder_scale), **({} if steps is None else {"steps": int(steps)}))
    r = experiment(inst, pattern, seeds=max(3, budget // 10), seed=seed, cfg=cfg)
    cc = None
    if r["outcome"] == "fails":
        fixed = experiment(inst, pattern, seeds=max(3, budget // 10), seed=seed, cfg=RunConfig(encoder_scale=CORRECTED_SCALE))
        cc = _corrected_text(fixed["outcome"] == "holds",
                             f"with encoder_scale = {CORRECTED_SCALE}: {fixed['outcome']}, improvement CI {fixed['improvement_ci95']}",
                             _fixed_counts([fixed]))
    return _verdict_from(r, seed, budget, cc)


@lru_cache(maxsize=8)
def _search(budget: int, seed: int):
    seeds = max(3, min(5, budget // 8))
    settings = [Instance(W_p=np.eye(3), activation=a) for a in SETTINGS]
    runs = [experiment(_with_distribution(s), seeds=seeds, seed=seed) for s in settings]
    for s, r in zip(settings, runs):  # cross-check one seed per arm with the bench's models and objective
        inst = _with_distribution(s)
        start = spurious_start(inst, _default_pattern(inst))
        without = numerics_trainer_losses(inst, start, resample=False, seeds=[seed])
        with_ = numerics_trainer_losses(inst, start, resample=True, seeds=[seed])
        if without is not None:
            helped = with_[0] < (1 - REL_TOL) * without[0]
            r["numerics_trainer"] = {"final_exact_loss_without": without, "final_exact_loss_with": with_,
                                     "agrees": helped == (r["outcome"] == "holds")}
        else:
            r["numerics_trainer"] = {"agrees": None, "skipped": "the bench has no model with this σ (its Gated SAE is "
                                                                "tied, with a ReLU on the magnitude path)"}
    fixed = [experiment(_with_distribution(s), seeds=seeds, seed=seed, cfg=RunConfig(encoder_scale=CORRECTED_SCALE))
             for s, r in zip(settings, runs) if r["outcome"] != "holds"]
    return runs, fixed


# The settings searched: the claim's recipe is stated for ReLU SAEs and applied to every family; the Gated unit
# (untied: gate and magnitude rows, the magnitude output of either sign) is trained by the same engine
# (TheoryCoder with two encoder rows per unit; resample_dead sets both rows of a dead unit)
SETTINGS = (ReLU(), TopKReLU(k=1), Gated())
FAMILIES_SEARCHED = {"default_space": ["relu", "topk_relu (k = 1)", "gated (untied)"],
                     "not_searched": {"gated (tied)": "reduces to relu here: without an encoder bias a tied Gated unit is "
                                                      "a ReLU unit whose output is scaled by e^r (theory.activations.gated), "
                                                      "and e^r is a rescaling of its decoder column"}}


def search(budget: int = 40, seed: int = 0) -> Verdict:
    """The controlled experiment for ReLU, Top-1∘ReLU and the untied Gated unit (orthonormal features,
    p_active = 0.05, start ({0,1}, {2}, ∅)); the corrected scale is rerun where the default recipe does not help."""
    runs, fixed = _search(int(budget), int(seed))
    bad = [r for r in runs if r["outcome"] != "holds"]
    from theory.activations import activation_from_json

    summary = "; ".join(f"{activation_from_json(r['instance']['activation']).describe()}: {r['outcome']} (paired improvement "
                        f"{r['improvement_mean']:.3g}, 95% CI [{r['improvement_ci95'][0]:.3g}, {r['improvement_ci95'][1]:.3g}])"
                        for r in runs)
    cc = None
    if fixed:
        cc = _corrected_text(all(f["outcome"] == "holds" for f in fixed),
                             "; ".join(f"{f['instance']['activation']['name']} with encoder_scale {CORRECTED_SCALE}: {f['outcome']}, "
                                       f"improvement CI {np.round(f['improvement_ci95'], 4).tolist()}" for f in fixed),
                             _fixed_counts(fixed))
    readings = _readings(runs, RunConfig())
    if not bad:
        v = _verdict_from(runs[0], seed, budget, cc)
        return Verdict("C9", CLAIM.title, "holds", f"Resampling lowers the final loss in every setting — {summary}. {v.evidence}", None, cc,
                       v.steps, {"settings": runs, "families_searched": FAMILIES_SEARCHED}, seed, budget, readings)
    worst = next((r for r in bad if r["outcome"] == "fails"), bad[0])
    v = _verdict_from(worst, seed, budget, cc)
    status = "fails" if worst["outcome"] == "fails" else "inconclusive"
    agree = [r.get("numerics_trainer", {}).get("agrees") for r in runs]
    cross = (" numerics.train (torch Trainer, one seed per arm) agrees in every setting it has a model for." if
             all(a is not False for a in agree) else
             f" numerics.train cross-check agreement per setting: {agree}.")
    return Verdict("C9", CLAIM.title, status, f"Resampling does not help in every setting — {summary}.{cross} {v.evidence}", worst if status == "fails" else None, cc,
                   v.steps, {"settings": runs, "corrected_runs": fixed, "families_searched": FAMILIES_SEARCHED}, seed, budget,
                   readings)


__all__ = ["CLAIM", "hypotheses", "proof_steps", "check_instance", "search", "experiment", "train", "RunConfig",
           "spurious_start", "numerics_trainer_losses"]
