"""Study: spurious partial minima and dead neurons under gradient descent (C6, C8).

Instance: ``n`` orthonormal features in ``R^n``, ReLU without bias, equal feature weights (the
setting where C6's construction is exact). Pattern ``P = ({0,1}, {2}, …, ∅)``: one polysemantic
neuron, one dead neuron. Its partial minima are solved exactly
(:func:`theory.partial_optimum.stationary_partial_minima`), loss ``L̃* > 0`` while the global
minimum is 0 (C3's construction).

1. **Start at / near the predicted partial minimum** (perturbation ``ε·N(0, 1)`` on every weight) and run
   (a) plain gradient descent on L̃ itself (symbolic gradients, :func:`theory.derivation.gradients`) and
   (b) Adam on sampled data (the exact objective L with sparse independent features). Does the point
   stay in ``P`` (same pattern, the dead neuron still dead) and at ``L̃*``?
   A pattern "stays" when every feature switches on the same neurons with a pre-activation above 0.02 (unit inputs)
   (:func:`firing`).
2. **Random initialisations**: train from seeded random inits at widths ``n_q``; classify each end point
   with :func:`proofs_check.bridge.inspect_point` (global / spurious / not at a partial optimum) and count
   dead neurons.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from studies import Study
from studies.common import (fmt_ci, independent_sampler, make_model, md_table, mean_ci, seed_all, set_params, train,
                            wilson)
from theory.options import option

NAME = "partial-minima"


@dataclass
class PartialMinimaConfig:
    n: int = option(3, "number of features")
    eps: tuple = option((0.0, 0.001, 0.01, 0.1, 0.3), "sizes of the perturbation away from the partial minimum")
    seeds: int = option(4, "number of seeds (runs per setting)")
    seed: int = option(0, "first seed")
    gd_steps: int = option(3000, "gradient-descent steps on L̃")
    gd_lr: float = option(0.05, "gradient-descent step size on L̃")
    steps: int = option(1500, "Adam on samples")
    batch: int = option(512, "samples per step")
    lr: float = option(3e-3, "Adam learning rate")
    p_active: float = option(0.05, "probability that a feature is on")
    c_min: float = option(1.0, "active magnitude = c_min + Exp(beta)")
    beta: float = option(0.0, "constant magnitudes: L̃ and L weigh features alike")
    widths: tuple = option((3, 4, 6), "numbers of neurons n_q of the random initialisations")
    random_seeds: int = option(8, "random initialisations per width")
    random_lr: float = option(1e-2, "Adam learning rate of the random initialisations")
    tol: float = option(1e-2, "relative, for global / spurious of trained points")

    def validate(self):
        from theory.errors import SDLInputError

        if self.n < 3:
            raise SDLInputError("the study's pattern ({0,1}, {2}, …, ∅) needs n >= 3")
        if self.seeds < 1 or self.random_seeds < 0 or self.steps < 1 or self.gd_steps < 1:
            raise SDLInputError("seeds and steps must be >= 1 (random_seeds >= 0)")
        if any(e < 0 for e in self.eps):
            raise SDLInputError("perturbation sizes eps must be >= 0")
        if any(w < 1 for w in self.widths):
            raise SDLInputError("widths n_q must be >= 1")


def study_instance(n: int, p_active: float = 0.05, c_min: float = 1.0, beta: float = 0.0):
    from theory.distribution import Constant, FeatureDistribution, ShiftedExponential
    from theory.instance import Instance

    mag = ShiftedExponential(c_min, beta) if beta > 0 else Constant(c_min)
    return Instance(W_p=np.eye(n), distribution=FeatureDistribution.uniform(n, p_active, mag))


def study_pattern(n: int) -> list:
    return [{0, 1}] + [{d} for d in range(2, n)] + [set()]


def firing(inst, W_E, delta: float = 0.02):
    """The pattern with a feature counted as switching a neuron on only when its pre-activation exceeds
    ``delta``: Adam on data drives off pre-activations to their weak boundary ``z → 0⁻`` (multi-feature
    events give them a gradient: with a neuron that reads −w^2, the event w^0 + w^2 pulls that weight to 0),
    where Adam's noise flips the strict pattern by ~1e-3 without changing L̃."""
    from theory.patterns import ActivationPattern

    return ActivationPattern.from_mask(inst.pre_activations(W_E) > delta)


def gd_on_approx(inst, W_D, W_E, steps: int, lr: float):
    """Plain gradient descent on L̃ (step ``lr / Σ_d M_d``) on the project's one engine: objective
    :class:`numerics.engine.ApproxLoss` (float64, autograd), optimizer :func:`numerics.engine.sgd`."""
    from numerics.engine import ApproxLoss, Engine, sgd
    from numerics.models.theory_coder import TheoryCoder

    model = TheoryCoder(inst.activation, W_E, W_D)
    scale = float(inst.weights.sum())
    Engine(model, ApproxLoss(inst), lambda index, size, stream: None, steps=steps, batch_size=1, lr=lr / scale,
           optimizer=sgd).run()
    return model.W_dec.detach().numpy().T.copy(), model.W_enc.detach().numpy().copy()


def compute(cfg: PartialMinimaConfig, log=print) -> dict:
    from proofs_check.bridge import inspect_point
    from theory.partial_optimum import stationary_partial_minima
    from theory.objective import approx_loss
    from theory.patterns import pattern_of

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    inst = study_instance(cfg.n, cfg.p_active, cfg.c_min, cfg.beta)
    P = study_pattern(cfg.n)
    search = stationary_partial_minima(inst, P)
    if not search.found:
        raise RuntimeError(f"no partial minimum found for {P}: {search.summary()}")
    pm = min(search.found, key=lambda p: p.loss)
    target = pattern_of(inst, pm.W_E).firing
    pred_loss = pm.loss
    log(f"predicted partial minimum of {P}: L̃* = {pred_loss:.6g} (exact: {search.exact}); global minimum 0 (C3)")
    W = np.eye(cfg.n)
    sampler = independent_sampler(W, cfg.p_active, cfg.c_min, cfg.beta, condition_on_event=True)
    seeds = [cfg.seed + s for s in range(cfg.seeds)]
    near_rows = []
    for eps in cfg.eps:
        gd, sgd = [], []
        for s in seeds:
            rng = np.random.default_rng(s)
            W_E0 = pm.W_E + eps * rng.normal(size=pm.W_E.shape)
            W_D0 = pm.W_D + eps * rng.normal(size=pm.W_D.shape)
            # (a) gradient descent on L̃
            W_D1, W_E1 = gd_on_approx(inst, W_D0, W_E0, cfg.gd_steps, cfg.gd_lr)
            pat = firing(inst, W_E1)
            gd.append({"seed": s, "stayed": pat.firing == target, "loss": approx_loss(inst, W_D1, W_E1),
                       "dead": pat.dead_neurons, "pattern": pat.to_json()})
            # (b) Adam on sampled data (exact objective L)
            seed_all(s)
            model = make_model("relu", cfg.n, len(P), seed=s)
            set_params(model, W_E0, W_D0)
            train(model, sampler, steps=cfg.steps, batch=cfg.batch, lr=cfg.lr, seed=s)
            W_E2 = model.W_enc.detach().double().numpy()
            W_D2 = model.W_dec.detach().double().numpy().T
            pat2 = firing(inst, W_E2)
            sgd.append({"seed": s, "stayed": pat2.firing == target, "loss": approx_loss(inst, W_D2, W_E2),
                        "dead": pat2.dead_neurons, "pattern": pat2.to_json()})
        row = {"eps": eps, "gd": gd, "adam": sgd,
               "gd_stayed": wilson(sum(r["stayed"] for r in gd), len(gd)),
               "adam_stayed": wilson(sum(r["stayed"] for r in sgd), len(sgd)),
               "gd_loss": mean_ci([r["loss"] for r in gd]), "adam_loss": mean_ci([r["loss"] for r in sgd])}
        near_rows.append(row)
        log(f"ε = {eps:<6g} GD on L̃ stayed {row['gd_stayed']['rate']:.2f} (L̃ {row['gd_loss']['mean']:.4f}); "
            f"Adam on data stayed {row['adam_stayed']['rate']:.2f} (L̃ {row['adam_loss']['mean']:.4f}); predicted L̃* = {pred_loss:.4f}")
    random_rows = []
    for n_q in cfg.widths:
        ends = []
        for s in range(cfg.seed, cfg.seed + cfg.random_seeds):
            seed_all(s)
            model = make_model("relu", cfg.n, n_q, seed=s)
            train(model, sampler, steps=cfg.steps, batch=cfg.batch, lr=cfg.random_lr, seed=s)
            W_E = model.W_enc.detach().double().numpy()
            W_D = model.W_dec.detach().double().numpy().T
            ins = inspect_point(inst, W_D, W_E, restarts=0, tol=cfg.tol)
            ends.append({"seed": s, "status": ins.global_optimum["status"], "loss": ins.achieved_loss,
                         "dead": len(ins.dead_neurons), "polysemantic": len(ins.polysemantic_neurons),
                         "pattern": ins.pattern, "partial_optimum_loss": ins.partial_optimum.get("loss")})
        counts = {k: sum(e["status"] == k for e in ends) for k in ("global", "spurious", "not_global")}
        row = {"n_q": n_q, "ends": ends, "counts": counts,
               "spurious_rate": wilson(counts["spurious"], len(ends)),
               "dead_per_model": mean_ci([e["dead"] for e in ends])}
        random_rows.append(row)
        log(f"n_q = {n_q}: from {len(ends)} random inits: {counts['global']} global, {counts['spurious']} spurious partial "
            f"optima, {counts['not_global']} other; dead neurons per model {row['dead_per_model']['mean']:.2f}")
    result = {"study": NAME, "config": asdict(cfg), "seeds": seeds,
              "predicted": {"pattern": [sorted(F) for F in P], "loss": pred_loss, "W_E": pm.W_E, "W_D": pm.W_D,
                            "exact": search.exact, "global_minimum": 0.0},
              "near": near_rows, "random": random_rows, "wall_s": time.perf_counter() - t0}
    stay = [(r["eps"], r["gd_stayed"]["rate"], r["adam_stayed"]["rate"]) for r in near_rows]
    result["note"] = (
        f"Predicted spurious partial minimum with pattern {P}: L̃* = {pred_loss:.4g} > 0 = global minimum. Stayed in the "
        "pattern (GD on L̃ / Adam on data) at ε = " + ", ".join(f"{e:g}: {a:.0%}/{b:.0%}" for e, a, b in stay) + ". "
        "From random inits: " + "; ".join(f"n_q = {r['n_q']}: {r['counts']['spurious']}/{len(r['ends'])} spurious, "
                                          f"{r['counts']['global']} global" for r in random_rows) + ".")
    return result


def figure(r: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    near = r["near"]
    x = np.arange(len(near))
    ax = axes[0]
    for key, label, off in (("gd_stayed", "GD on L̃", -0.15), ("adam_stayed", "Adam on data", 0.15)):
        rate = [q[key]["rate"] for q in near]
        err = [[q[key]["rate"] - q[key]["low"] for q in near], [q[key]["high"] - q[key]["rate"] for q in near]]
        ax.errorbar(x + off, rate, yerr=err, fmt="o", label=label)
    ax.set_xticks(x)
    ax.set_xticklabels([f"{q['eps']:g}" for q in near])
    ax.set_xlabel("perturbation ε of the predicted partial minimum")
    ax.set_ylabel("fraction that stays in the pattern (Wilson 95%)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(f"C6/C8: pattern {r['predicted']['pattern']}")
    ax.legend(fontsize=7)
    ax = axes[1]
    for key, label, off in (("gd", "GD on L̃", -0.15), ("adam", "Adam on data", 0.15)):
        for i, q in enumerate(near):
            ax.scatter([i + off] * len(q[key]), [e["loss"] for e in q[key]], s=14,
                       color="C0" if key == "gd" else "C1", label=label if i == 0 else None)
    ax.axhline(r["predicted"]["loss"], color="k", ls=":", label=f"predicted L̃* = {r['predicted']['loss']:.3g}")
    ax.axhline(0, color="g", ls=":", label="global minimum 0")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{q['eps']:g}" for q in near])
    ax.set_xlabel("ε")
    ax.set_ylabel("final L̃")
    ax.legend(fontsize=7)
    ax = axes[2]
    rr = r["random"]
    xs = np.arange(len(rr))
    bottom = np.zeros(len(rr))
    for key, c in (("global", "C2"), ("spurious", "C3"), ("not_global", "C7")):
        v = np.array([q["counts"][key] for q in rr], dtype=float)
        ax.bar(xs, v, bottom=bottom, color=c, label=key)
        bottom += v
    ax.set_xticks(xs)
    ax.set_xticklabels([f"n_q = {q['n_q']}" for q in rr])
    ax.set_ylabel("random initialisations")
    ax.set_title("where training from random inits ends")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def tables(r: dict) -> str:
    near = md_table(["ε", "stayed, GD on L̃", "stayed, Adam on data", "final L̃ (GD / Adam)"],
                    [[f"{x['eps']:g}", fmt_ci(x["gd_stayed"], ".2f", "rate"), fmt_ci(x["adam_stayed"], ".2f", "rate"),
                      f"{x['gd_loss']['mean']:.4f} / {x['adam_loss']['mean']:.4f}"] for x in r["near"]])
    rand = md_table(["n_q", "global", "spurious", "other", "dead neurons per model"],
                    [[x["n_q"], x["counts"]["global"], x["counts"]["spurious"], x["counts"]["not_global"],
                      f"{x['dead_per_model']['mean']:.2f}"] for x in r["random"]])
    return near + "\n\n" + rand


STUDY = Study(name=NAME, config=PartialMinimaConfig, compute=compute, figure=figure, tables=tables,
              summary="Spurious partial minima and dead neurons (C6, C8): gradient descent started at / near the exactly solved partial minimum of a polysemantic pattern with a dead neuron, and where random initialisations end (studies/partial_minima.py).")
