"""Study: resampling dead neurons out of a spurious partial minimum (C9), on the bench's torch models.

Controlled setting: ``n`` orthonormal features, constant magnitudes, ``n_q = n`` neurons, training
started (with a small seeded perturbation ``ε``) at the exactly solved spurious partial minimum with
pattern ``({0,1}, {2}, …, {n−1}, ∅)`` — one polysemantic neuron, one dead neuron, ``L̃* > 0`` while the
global minimum is 0 (:func:`theory.partial_optimum.stationary_partial_minima`).

Arms, each over the same seeds (paired): ReLU without / with resampling (Bricken et al. 2023 as in
THEORY.md §8: scale 0.2 × the mean live encoder norm), and TopK∘ReLU (k = 1) without / with resampling
at the recipe's scale 0.2 and at 2.0 (proofs_check.c9_resampling's corrected condition: a resampled row
must win the top-k competition on the input it was resampled towards). Reported per arm: final
objective, L̃, features recovered (decoder |cos| > 0.9), dead neurons, and the paired difference of the
final objective against the arm without resampling, with 95% t-intervals.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from studies import Study
from studies.common import fmt_ci, independent_sampler, make_model, md_table, mean_ci, seed_all, set_params, train
from theory.options import option

NAME = "resampling"


@dataclass
class ResamplingConfig:
    n: int = option(4, "number of orthonormal features")
    seeds: int = option(5, "number of seeds (runs per setting)")
    seed: int = option(0, "first seed")
    eps: float = option(0.01, "size of the perturbation of the start")
    steps: int = option(1500, "Adam steps per training run")
    batch: int = option(512, "samples per step")
    lr: float = option(3e-3, "Adam learning rate")
    resample_every: int = option(300, "steps between resamplings")
    p_active: float = option(0.05, "probability that a feature is on")
    c_min: float = option(1.0, "active magnitude = c_min + Exp(beta)")
    topk_scales: tuple = option((0.2, 2.0), "encoder scales of a resampled TopK row (the recipe's 0.2 and larger)")
    tau: float = option(0.9, "cosine threshold of recovering a feature")

    def validate(self):
        from theory.errors import SDLInputError

        if self.n < 3:
            raise SDLInputError("the pattern ({0,1}, {2}, …, ∅) needs n >= 3")
        if self.seeds < 2:
            raise SDLInputError("confidence intervals need --seeds >= 2")
        if self.steps < 1 or self.resample_every < 1 or self.resample_every >= self.steps:
            raise SDLInputError("need 1 <= resample_every < steps")


def _evaluate(model, inst, W_p, sampler, seed, tau):
    from studies.partial_minima import firing
    from theory.objective import approx_loss

    W_E = model.W_enc.detach().double().numpy()
    W_D = model.W_dec.detach().double().numpy().T
    x, y = sampler(torch.Generator().manual_seed(123_000 + seed), 8192)
    with torch.no_grad():
        obj = float((y - model(x)).pow(2).sum(1).mean())
    Dn = W_D / np.linalg.norm(W_D, axis=0, keepdims=True).clip(1e-12)
    rec = float(np.mean(np.abs(W_p.T @ Dn).max(axis=1) > tau))
    pat = firing(inst, W_E)
    from theory.activations import ReLU

    lt = approx_loss(inst.replace(activation=ReLU()), W_D, W_E) if model.name == "relu" else approx_loss(inst, W_D, W_E)
    return {"objective": obj, "approx_loss": lt, "recovered": rec, "dead": len(pat.dead_neurons),
            "pattern": pat.to_json()}


def compute(cfg: ResamplingConfig, log=print) -> dict:
    from theory.partial_optimum import stationary_partial_minima
    from studies.partial_minima import study_instance, study_pattern
    from theory.activations import TopKReLU

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    inst = study_instance(cfg.n, cfg.p_active, cfg.c_min, 0.0)
    P = study_pattern(cfg.n)
    pm = min(stationary_partial_minima(inst, P).found, key=lambda p: p.loss)
    log(f"start: spurious partial minimum {P}, L̃* = {pm.loss:.6g} (global minimum 0)")
    W_p = np.eye(cfg.n)
    sampler = independent_sampler(W_p, cfg.p_active, cfg.c_min, 0.0, condition_on_event=True)
    seeds = [cfg.seed + s for s in range(cfg.seeds)]
    arms = [("relu", "none", 0.2), ("relu", "resample", 0.2), ("topk_relu", "none", 0.2)]
    arms += [("topk_relu", "resample", s) for s in cfg.topk_scales]
    results = {}
    for arch, mode, scale in arms:
        key = f"{arch}/{mode}" + (f"@{scale:g}" if mode == "resample" else "")
        runs = []
        for s in seeds:
            rng = np.random.default_rng(s)
            seed_all(s)
            model = make_model(arch, cfg.n, cfg.n, k=1, seed=s)
            set_params(model, pm.W_E + cfg.eps * rng.normal(size=pm.W_E.shape), pm.W_D + cfg.eps * rng.normal(size=pm.W_D.shape))
            tl = train(model, sampler, steps=cfg.steps, batch=cfg.batch, lr=cfg.lr, seed=s,
                       resample_every=cfg.resample_every if mode == "resample" else 0, resample_scale=scale)
            ev = _evaluate(model, inst if arch == "relu" else inst.replace(activation=TopKReLU(k=1)), W_p, sampler, s, cfg.tau)
            ev.update(seed=s, resampled=tl.resampled)
            runs.append(ev)
        results[key] = {"arch": arch, "resampling": mode, "scale": scale if mode == "resample" else None, "runs": runs,
                        "objective": mean_ci([r["objective"] for r in runs]),
                        "recovered": mean_ci([r["recovered"] for r in runs]),
                        "dead": mean_ci([r["dead"] for r in runs]),
                        "escaped": sum(r["dead"] == 0 and r["recovered"] == 1.0 for r in runs)}
        log(f"{key:22s} objective {results[key]['objective']['mean']:.4f} [{results[key]['objective']['low']:.4f}, "
            f"{results[key]['objective']['high']:.4f}]  recovered {results[key]['recovered']['mean']:.2f}  "
            f"escaped {results[key]['escaped']}/{len(runs)}  resampled {sum(r['resampled'] for r in runs)}")
    paired = {}
    for key, arm in results.items():
        if arm["resampling"] != "resample":
            continue
        base = results[f"{arm['arch']}/none"]["runs"]
        diff = [b["objective"] - r["objective"] for b, r in zip(base, arm["runs"])]
        paired[key] = mean_ci(diff)
    result = {"study": NAME, "config": asdict(cfg), "seeds": seeds,
              "start": {"pattern": [sorted(F) for F in P], "approx_loss": pm.loss, "W_E": pm.W_E, "W_D": pm.W_D},
              "arms": results, "paired_improvement": paired, "wall_s": time.perf_counter() - t0}
    result["note"] = "Final objective without − with resampling (paired over seeds, 95% t-interval): " + "; ".join(
        f"{k}: {v['mean']:.4f} [{v['low']:.4f}, {v['high']:.4f}], escaped {results[k]['escaped']}/{len(seeds)}"
        for k, v in paired.items()) + "."
    return result


def figure(r: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arms = r["arms"]
    keys = list(arms)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, metric, label in ((axes[0], "objective", "final E||x − x̂||²"), (axes[1], "recovered", "features recovered (|cos| > τ)")):
        for i, k in enumerate(keys):
            a = arms[k]
            m = a[metric]
            ax.errorbar([i], [m["mean"]], yerr=[[m["mean"] - m["low"]], [m["high"] - m["mean"]]], fmt="o",
                        color="C3" if a["resampling"] == "resample" else "C0", capsize=4)
            ax.scatter([i] * len(a["runs"]), [q[metric] for q in a["runs"]], s=10, color="gray", alpha=0.6)
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels(keys, rotation=20, fontsize=7)
        ax.set_ylabel(label)
    axes[0].set_title(f"C9: from a spurious partial minimum (L̃* = {r['start']['approx_loss']:.3g})")
    axes[1].set_ylim(-0.05, 1.05)
    fig.tight_layout()
    return fig


def tables(r: dict) -> str:
    return md_table(["arm", "final objective (mean [95% CI])", "recovered", "escaped"],
                    [[k, fmt_ci(a["objective"]), f"{a['recovered']['mean']:.2f}", f"{a['escaped']}/{len(a['runs'])}"]
                     for k, a in r["arms"].items()])


STUDY = Study(name=NAME, config=ResamplingConfig, compute=compute, figure=figure, tables=tables,
              summary="Resampling (C9): training started at a spurious partial minimum with a dead neuron, with and without resampling, paired over seeds (studies/resampling.py).")
