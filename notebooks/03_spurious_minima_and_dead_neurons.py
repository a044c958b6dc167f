# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Spurious partial minima and dead neurons (claims C6, C8, C9)
#
# A **partial minimum** is a point where the decoder is optimal for the encoder and the encoder is optimal
# (within its activation region) for the decoder — where alternating between the two convex sub-problems of
# notebook 02 stops. The paper argues such points are everywhere:
#
# - **C6 (Thm 3.6)**: every realizable *polysemantic* pattern that partitions the features (some neuron fires on
#   two or more features; each feature on exactly one neuron; dead neurons allowed) has a partial minimum with
#   that pattern and positive loss — a *spurious* one, since the global minimum can be 0;
# - **C8**: dead neurons (firing on no feature) belong to such partial minima and gradient descent can stay there;
# - **C9**: resampling dead neurons toward badly reconstructed inputs (Bricken et al. 2023) escapes them and
#   lowers the final loss.

# %%
from sdl_theory.notebook import setup

setup()  # first: one thread, Agg backend, numpy print options
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, Math, display

from sdl_theory.notebook import say, show_figure, show_lines, show_steps, show_verdict

SEED, BUDGET = 0, 40  # every random choice takes SEED; BUDGET examples per search (verify's default)

# %% [markdown]
# ## C6 · The derivation (per-neuron block form)
#
# For a neuron `i` alone on its features $F_i = \{1..m\}$ with activations $a_d = \langle w_E^i, w_p^d\rangle$ and
# decoder column `u`, `theory.derivation` derives the block of $\tilde L$ with a symbolic number `m` of features.
# The proof sets `u` to the weighted least-squares column and claims the encoder gradient then vanishes:

# %%
from theory.activations import ReLU
from theory.derivation import derive

show_lines(derive(ReLU()), "block_form",
           labels=["loss of the block", "encoder-row gradient", "least-squares decoder column",
                   "encoder stationarity coefficient"])

# %% [markdown]
# The least-squares column makes $\sum_d M_d a_d \langle u^*, r_d\rangle = 0$ — one scalar equation — but the
# encoder gradient $-2\sum_d M_d\langle u^*, r_d\rangle w_p^d$ needs **every** $\langle u^*, r_d\rangle = 0$. With
# orthonormal targets $\langle u^*, r_1\rangle \propto M_1 - M_2$: zero only when the weights of the features
# sharing a neuron are equal. The step table shows which steps follow:

# %%
from proofs_check import check, claim_module

c6 = claim_module("C6")
show_steps(c6.proof_steps())
v6 = check("C6", budget=BUDGET, seed=SEED)
show_verdict(v6)

# %% [markdown]
# **The smallest instances**, decided exactly by `c6.decide` (stationary points as generalised eigenvectors, plus
# every face of the region for ReLU):

# %%
rows = ["| instance | pattern | outcome | loss / reason |", "|---|---|---|---|"]
for name, (inst, pattern) in c6.hand_instances().items():
    r = c6.decide(inst, pattern, seed=SEED)
    detail = f"L̃ = {r['loss']:.4g}" if r["outcome"] == "holds" else r.get("reason", "")
    rows.append(f"| {name} | {r['pattern']} | **{r['outcome']}** | {detail} |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# **Figure.** Left: the encoder-gradient norm at the proof's point (a fixed realizing encoder with the
# least-squares decoder) for two orthonormal features sharing one ReLU neuron, as the weight ratio $M_2/M_1$
# varies — zero only at 1. Right: alternating convex search (ACS) inside the region of that pattern. With equal
# weights it stops at once, at a partial minimum with $\tilde L = 1$; with $M_2 = 2M_1$ the loss keeps
# decreasing while the encoder walks to the boundary of the region (the lighter feature 0 about to drop out): the
# infimum over the open region is not attained, so no partial minimum with this pattern exists.

# %%
from theory.partial_optimum import alternating_convex_search
from theory import Instance, approx_loss, pattern_of
from theory.derivation import least_squares_decoder, stationarity_residual

W_E = np.array([[1.0, 0.6], [-1.0, -1.0]])   # neuron 0 fires on both features, neuron 1 is dead
ratios = np.geomspace(0.25, 4.0, 33)
grad = []
for r in ratios:
    inst = Instance(W_p=np.eye(2), weights=[1.0, r], activation=ReLU())
    grad.append(stationarity_residual(inst, least_squares_decoder(inst, W_E), W_E)["encoder"])
acs = {}
for r in (1.0, 2.0):
    inst = Instance(W_p=np.eye(2), weights=[1.0, r], activation=ReLU())
    res = alternating_convex_search(inst, [{0, 1}, set()], iters=40)
    acs[r] = res
    print(f"M_2/M_1 = {r:g}: ACS L̃ = {res.loss:.6f} after {len(res.history)} iterations, "
          f"on the region's boundary: {res.on_boundary}, partial minimum: {res.check.is_partial_minimum}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
axes[0].semilogx(ratios, grad, "o-", ms=3)
axes[0].axvline(1.0, color="k", ls=":")
axes[0].set_xticks([0.25, 0.5, 1, 2, 4], ["1/4", "1/2", "1", "2", "4"])
axes[0].minorticks_off()
axes[0].set_xlabel("weight ratio M_2 / M_1")
axes[0].set_ylabel("‖∇_{W_E} L̃‖ at the proof's point")
axes[0].set_title("the proof's point is stationary only for equal weights")
for r, res in acs.items():
    axes[1].plot(range(1, len(res.history) + 1), res.history, "o-", ms=3, label=f"M_2/M_1 = {r:g}")
axes[1].set_xlabel("ACS iteration")
axes[1].set_ylabel("L̃")
axes[1].set_title("alternating convex search in the region of ({0,1}, ∅)")
axes[1].legend(fontsize=8)
for ax in axes:
    ax.grid(True, alpha=0.3)
fig.tight_layout()
show_figure(fig)

# %% [markdown]
# ## C8 · Dead neurons
#
# For $\tilde L$ a dead neuron is invisible: every term of its gradients carries a factor $(S_d)_{ii} = 0$, so
# both vanish symbolically and gradient descent on $\tilde L$ never moves it. But training follows the true loss
# `L`, whose inputs include sums of features and other magnitudes. A neuron dead on every *single unit-size*
# feature can fire on those (JumpReLU threshold crossed by a sum, TopK competition won by a sum, an encoder bias),
# get a gradient, and move. Only ReLU without bias (and non-negative features) keeps it dead on the whole support.

# %%
c8 = claim_module("C8")
show_steps(c8.proof_steps())
v8 = check("C8", budget=BUDGET, seed=SEED)
show_verdict(v8)

# %%
analyses = {name: c8.analyse(inst, W_E8, b8, seed=SEED) for name, (inst, W_E8, b8) in c8.hand_instances().items()}
rows = ["| mechanism | dead neurons | L̃-gradient of dead rows | L-gradient of dead rows | fires on | outcome |",
        "|---|---|---|---|---|---|"]
for name, a in analyses.items():
    fires = "; ".join(f"neuron {k}: x = {v['fires_on']}" for k, v in a["fires_on_support"].items()) or "—"
    rows.append(f"| {name} | {a['dead_neurons']} | {a['approx_loss_dead_gradient']:.2g} | "
                f"{a['exact_loss_dead_gradient']:.3g} | {fires} | **{a['outcome']}** |")
display(Markdown("\n".join(rows)))

names = list(analyses)
x = np.arange(len(names))
fig, ax = plt.subplots(figsize=(9, 3.6))
for shift, key, label in ((-0.2, "gd_on_approx_loss", "gradient descent on L̃"), (0.2, "gd_on_L", "gradient descent on L (exact)")):
    heights = [analyses[k][key]["dead_rows_moved_by"] for k in names]
    bars = ax.bar(x + shift, heights, 0.4, label=label)
    ax.bar_label(bars, fmt="%.3g", fontsize=7)
ax.set_xticks(x, [textwrap.fill(k, 22) for k in names], fontsize=8)
ax.set_ylabel(f"max |Δ dead encoder row|\nafter {analyses[names[0]]['gd_on_L']['steps']} steps")
ax.set_title("does a neuron dead on single features stay dead?")
ax.legend(fontsize=8)
ax.grid(True, axis="y", alpha=0.3)
show_figure(fig)

# %% [markdown]
# ## C9 · Resampling dead neurons
#
# A controlled experiment: start at a certified spurious partial minimum with a dead neuron (pattern
# `({0,1}, {2}, ∅)`), train on `L` twice from the same seed — without and with resampling as commonly implemented
# (dead neuron's decoder ← a badly reconstructed input, encoder ← that direction × 0.2 × the mean live row norm) —
# and compare the final losses over paired seeds.

# %%
v9 = check("C9", budget=BUDGET, seed=SEED)
show_verdict(v9)

# %%
from theory.activations import activation_from_json

runs = [(s, f"encoder scale {s['config']['encoder_scale']:g}") for s in v9.numbers["settings"]]
runs += [(s, f"encoder scale {s['config']['encoder_scale']:g} (corrected)") for s in v9.numbers.get("corrected_runs", [])]
fig, ax = plt.subplots(figsize=(9, 3.8))
for k, (s, how) in enumerate(runs):
    act = activation_from_json(s["instance"]["activation"]).describe()
    without, with_ = np.array(s["final_exact_loss_without"]), np.array(s["final_exact_loss_with"])
    for a, b in zip(without, with_):
        ax.plot([k - 0.15, k + 0.15], [a, b], "-", color="gray", alpha=0.6)
    ax.plot(np.full(len(without), k - 0.15), without, "o", color="C3", label="without resampling" if k == 0 else None)
    ax.plot(np.full(len(with_), k + 0.15), with_, "o", color="C0", label="with resampling" if k == 0 else None)
    ax.axhline(s["start_exact_loss"], xmin=(k + 0.1) / len(runs), xmax=(k + 0.9) / len(runs), color="k", ls=":")
    lo, hi = s["improvement_ci95"]
    print(f"{act}, {how}: paired improvement {s['improvement_mean']:.4g}, 95% CI [{lo:.3g}, {hi:.3g}] → {s['outcome']}")
ax.set_xticks(range(len(runs)), [textwrap.fill(activation_from_json(s["instance"]["activation"]).describe() + ", " + how, 24)
                                 for s, how in runs], fontsize=8)
ax.set_xlim(-0.5, len(runs) - 0.5)
ax.set_ylabel("final exact loss L (per seed)")
ax.set_title("from a spurious partial minimum (dotted: loss at the start)")
ax.legend(fontsize=8)
ax.grid(True, axis="y", alpha=0.3)
show_figure(fig)

# %% [markdown]
# **How to read it.** Lines join the two arms of the same seed. Where resampling works the right-hand dots sit
# near 0. Where the resampled row is too small to ever win a TopK competition, it never fires, never receives a
# gradient, and the run ends where it started; scaling the resampled row above the winners (the corrected
# condition) lets it fire. Reproduce with `sdl-theory verify C6 C8 C9 --seed 0`; the larger torch study is in
# `study_resampling.ipynb`.
