"""Study: non-identifiability of zero-loss dictionaries (C4, THEORY.md section 4).

1. **Construction.** For orthonormal features (``n <= n_p``), ReLU without bias and ``n_q = n + 1``:
   neuron 0 reads ``s = Σ_d w^d`` and decodes ``u_0 = s/2``; neuron ``d`` reads ``w^d`` and decodes
   ``u_d = w^d − s/2``. On any input ``x = Σ m_d w^d`` (``m >= 0``) the codes are ``a_0 = Σ m_d``,
   ``a_d = m_d`` and the reconstruction is ``Σ m_d w^d`` exactly — zero loss for L̃ *and* L — while every
   decoder column has ``|cos|`` exactly ``1/√n`` with every feature: for ``n >= 2`` no feature is recovered
   at τ = 0.9 (``n >= 5`` keeps it below 1/2). Checked numerically (``theory.objective``) in the result.
2. **Training.** ReLU SAEs (no bias) trained on the squared error (λ = 0 by default, L1 optional) over a
   grid of ``n/n_p`` and ``n_q/n``: the fraction of features recovered (decoder ``|cos| > τ``), the loss
   (FVU), and how many runs reach (near) zero loss without recovering the features.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from studies import Study
from studies.common import independent_sampler, make_model, md_table, mean_ci, seed_all, train
from theory.options import option

NAME = "identifiability"


@dataclass
class IdentifiabilityConfig:
    n_p: int = option(8, "input dimension n_p")
    ratios: tuple = option((0.5, 1.0, 1.5, 2.0), "n / n_p")
    widths: tuple = option((1.0, 2.0, 4.0), "n_q / n")
    l1s: tuple = option((0.0, 0.1), "L1 coefficients of the trained SAEs")
    seeds: int = option(2, "number of seeds (runs per setting)")
    seed: int = option(0, "first seed")
    p_active: float = option(0.05, "probability that a feature is on")
    c_min: float = option(1.0, "active magnitude = c_min + Exp(beta)")
    beta: float = option(1.0, "mean of the exponential part of the magnitude")
    steps: int = option(1500, "Adam steps per training run")
    batch: int = option(512, "samples per step")
    lr: float = option(1e-2, "Adam learning rate")
    tau: float = option(0.9, "cosine threshold of recovering a feature")
    zero_loss_fvu: float = option(1e-3, "FVU below which a trained SAE counts as zero-loss")
    construction_ns: tuple = option((2, 3, 4, 8, 16), "numbers of features n of the zero-loss constructions")

    def validate(self):
        from theory.errors import SDLInputError

        if self.seeds < 1 or self.steps < 1 or self.n_p < 1:
            raise SDLInputError("seeds, steps and n_p must be >= 1")
        if any(r <= 0 for r in self.ratios) or any(w <= 0 for w in self.widths):
            raise SDLInputError("ratios n/n_p and widths n_q/n must be > 0")
        if not 0 < self.tau < 1:
            raise SDLInputError(f"tau must lie in (0, 1), got {self.tau}")


def construction(W_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(W_D, W_E)`` of the zero-loss, nothing-recovered solution (module docstring), ``n_q = n + 1``."""
    W_p = np.asarray(W_p, dtype=float)
    s = W_p.sum(axis=1)
    W_E = np.vstack([s[None, :], W_p.T])
    W_D = np.hstack([s[:, None] / 2, W_p - s[:, None] / 2])
    return W_D, W_E


def abs_cos(V: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``|cos|`` between the columns of ``W`` (features) and of ``V`` (atoms): ``n × n_q``."""
    Vn = V / np.linalg.norm(V, axis=0, keepdims=True).clip(1e-12)
    Wn = W / np.linalg.norm(W, axis=0, keepdims=True)
    return np.abs(Wn.T @ Vn)


def check_construction(n: int, seed: int = 0) -> dict:
    from theory.distribution import FeatureDistribution, ShiftedExponential
    from theory.instance import Instance
    from theory.objective import approx_loss, exact_loss

    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n + 2, n + 2)))
    W_p = Q[:, :n]
    W_D, W_E = construction(W_p)
    inst = Instance(W_p=W_p, distribution=FeatureDistribution.uniform(n, 0.2, ShiftedExponential(1.0, 1.0)))
    lt = approx_loss(inst, W_D, W_E)
    L = exact_loss(inst, W_D, W_E, samples=20_000, seed=seed, method="monte_carlo")
    C = abs_cos(W_D, W_p)
    s = C.max(axis=1)
    return {"n": n, "n_p": n + 2, "n_q": n + 1, "approx_loss": lt, "exact_loss": L.value, "exact_loss_ci": [L.low, L.high],
            "max_abs_cos_per_feature": s.tolist(), "predicted_max_abs_cos": 1 / np.sqrt(n),
            "recovered_at_0.9": float(np.mean(s > 0.9))}


def feature_matrix_np(n: int, n_p: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if n <= n_p:
        Q, _ = np.linalg.qr(rng.normal(size=(n_p, n_p)))
        return Q[:, :n]
    W = rng.normal(size=(n_p, n))
    return W / np.linalg.norm(W, axis=0, keepdims=True)


def compute(cfg: IdentifiabilityConfig, log=print) -> dict:
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    cons = [check_construction(n, cfg.seed) for n in cfg.construction_ns]
    for c in cons:
        log(f"construction n={c['n']}: L̃ = {c['approx_loss']:.2e}, L = {c['exact_loss']:.2e}, max |cos| "
            f"{max(c['max_abs_cos_per_feature']):.3f} (1/√n = {c['predicted_max_abs_cos']:.3f}), recovered {c['recovered_at_0.9']:.0%}")
    seeds = [cfg.seed + s for s in range(cfg.seeds)]
    rows = []
    for lam in cfg.l1s:
        for ratio in cfg.ratios:
            n = max(1, int(round(ratio * cfg.n_p)))
            for width in cfg.widths:
                n_q = max(1, int(round(width * n)))
                runs = []
                for s in seeds:
                    W_p = feature_matrix_np(n, cfg.n_p, 1000 + s)
                    sampler = independent_sampler(W_p, cfg.p_active, cfg.c_min, cfg.beta)
                    seed_all(s)
                    model = make_model("relu", cfg.n_p, n_q, seed=s)
                    tl = train(model, sampler, steps=cfg.steps, batch=cfg.batch, lr=cfg.lr, l1=lam, seed=s)
                    x, y = sampler(torch.Generator().manual_seed(90_000 + s), 8192)
                    with torch.no_grad():
                        err = float((y - model(x)).pow(2).sum(1).mean())
                        var = float((y - y.mean(0)).pow(2).sum(1).mean())
                    C = abs_cos(model.W_dec.detach().double().numpy().T, W_p)
                    smax = C.max(axis=1)
                    runs.append({"seed": s, "recovered": float(np.mean(smax > cfg.tau)), "mip": float(smax.mean()),
                                 "fvu": err / var, "final_objective": tl.final_loss})
                rec = [r["recovered"] for r in runs]
                zero_nonid = sum(1 for r in runs if r["fvu"] < cfg.zero_loss_fvu and r["recovered"] < 0.5)
                row = {"l1": lam, "n": n, "n_q": n_q, "ratio": ratio, "width": width, "runs": runs,
                       "recovered": mean_ci(rec), "fvu": mean_ci([r["fvu"] for r in runs]),
                       "zero_loss_not_recovered": zero_nonid}
                rows.append(row)
                log(f"λ={lam:<4g} n/n_p={ratio:<4g} n_q/n={width:<4g} recovered {np.mean(rec):.2f}  FVU "
                    f"{row['fvu']['mean']:.2e}  zero-loss & <50% recovered: {zero_nonid}/{len(runs)}")
    n_zero = sum(r["zero_loss_not_recovered"] for r in rows)
    result = {"study": NAME, "config": asdict(cfg), "seeds": seeds, "construction": cons, "rows": rows,
              "runs_zero_loss_not_recovered": n_zero, "runs_total": sum(len(r["runs"]) for r in rows),
              "wall_s": time.perf_counter() - t0}
    ok = all(c["approx_loss"] < 1e-20 and c["exact_loss"] < 1e-20 and c["recovered_at_0.9"] == 0 for c in cons if c["n"] >= 2)
    best = {lam: max((r for r in rows if r["l1"] == lam), key=lambda r: r["recovered"]["mean"]) for lam in cfg.l1s}
    result["note"] = (
        f"Construction: zero L̃ and zero L with every decoder at |cos| = 1/√n from every feature, for n in "
        f"{list(cfg.construction_ns)}: {'verified' if ok else 'NOT verified'}. Training: {n_zero} of {result['runs_total']} runs "
        f"reach FVU < {cfg.zero_loss_fvu} while recovering under half the features (whenever n_q >= 2 n_p a ReLU SAE "
        "can also represent the identity with ±basis rows, zero loss for any features, which is why superposed "
        "settings reach zero loss at λ = 0). "
        + " ".join(f"λ = {lam:g}: best recovery {b['recovered']['mean']:.2f} at n/n_p = {b['ratio']:g}, n_q/n = {b['width']:g}."
                   for lam, b in best.items()))
    return result


def figure(r: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    l1s = sorted({x["l1"] for x in r["rows"]})
    fig, axes = plt.subplots(1, len(l1s) + 1, figsize=(5 * (len(l1s) + 1), 4))
    axes = np.atleast_1d(axes)
    ax = axes[0]
    cons = r["construction"]
    ax.plot([c["n"] for c in cons], [max(c["max_abs_cos_per_feature"]) for c in cons], "o", label="construction: max |cos|")
    ns = np.linspace(2, max(c["n"] for c in cons), 100)
    ax.plot(ns, 1 / np.sqrt(ns), "-", label="1/√n")
    ax.axhline(r["config"]["tau"], color="k", ls=":", label=f"τ = {r['config']['tau']}")
    ax.set_xlabel("n (orthonormal features, n_q = n + 1)")
    ax.set_ylabel("best |cos| of a decoder with each feature")
    ax.set_title("zero-loss solutions that recover nothing (C4)")
    ax.legend(fontsize=7)
    for ax, lam in zip(axes[1:], l1s):
        rows = [x for x in r["rows"] if x["l1"] == lam]
        for w in sorted({x["width"] for x in rows}):
            sub = [x for x in rows if x["width"] == w]
            ax.errorbar([x["ratio"] for x in sub], [x["recovered"]["mean"] for x in sub],
                        yerr=[[x["recovered"]["mean"] - x["recovered"]["low"] for x in sub],
                              [x["recovered"]["high"] - x["recovered"]["mean"] for x in sub]], fmt="o-", label=f"n_q/n = {w:g}")
            for x in sub:
                if x["zero_loss_not_recovered"]:
                    ax.annotate(f"{x['zero_loss_not_recovered']}×0-loss", (x["ratio"], x["recovered"]["mean"]), fontsize=6)
        ax.set_xlabel("n / n_p (superposition)")
        ax.set_ylabel(f"features recovered (|cos| > {r['config']['tau']})")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(f"trained ReLU SAEs, λ = {lam:g}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def tables(r: dict) -> str:
    return md_table(["λ", "n/n_p", "n_q/n", "recovered (mean)", "FVU (mean)", "zero-loss & <50% recovered"],
                    [[f"{x['l1']:g}", f"{x['ratio']:g}", f"{x['width']:g}", f"{x['recovered']['mean']:.2f}",
                      f"{x['fvu']['mean']:.2e}", f"{x['zero_loss_not_recovered']}/{len(x['runs'])}"] for x in r["rows"]])


STUDY = Study(name=NAME, config=IdentifiabilityConfig, compute=compute, figure=figure, tables=tables,
              summary="Non-identifiability (C4): a zero-loss construction that recovers no feature, and recovery of trained ReLU SAEs over n/n_p and n_q/n (studies/identifiability.py).")
