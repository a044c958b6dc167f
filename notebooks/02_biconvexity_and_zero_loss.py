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
# # 02 · Piecewise biconvexity and the zero-loss set (claims C2–C5)
#
# Inside an **activation region** — the set $\Omega_P$ of encoders for which every single feature switches on
# the same neurons (the *pattern* `P`) — every unit is either on ($\sigma(z)_i = z_i$) or off (0), so
# $\tilde L$ is a polynomial. The paper builds four results on this:
#
# - **C2 (Thm 3.2)**: on $\mathbb{R}^{n_r\times n_q} \times \Omega_P$, $\tilde L$ is convex in the decoder for a
#   fixed encoder and convex in the encoder for a fixed decoder (*biconvex*), though not jointly convex;
# - **C3 (Thm 3.3)**: with at least as many neurons as features, the construction $W_E = [W_p^T; 0]$,
#   $W_D = [W_r, 0]$ has $\tilde L \le n^2 M^2 \sum_d M_d$, where `M` is the largest inner product between two
#   feature directions (the *interference*);
# - **C4 (Thm 3.4)**: $\tilde L = 0$ exactly when every single feature is reconstructed exactly; with more
#   neurons than features the zero-loss set contains solutions that recover **no** ground-truth feature;
# - **C5 (Example 3.5)**: a concrete stationary point with $\tilde L = 1$ while the global minimum is 0.

# %%
from sdl_theory.notebook import setup

setup()  # first: one thread, Agg backend, numpy print options

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, Math, display

from sdl_theory.notebook import say, show_figure, show_lines, show_steps, show_verdict

SEED, BUDGET = 0, 40  # every random choice takes SEED; BUDGET examples per search (verify's default)

# %% [markdown]
# ## C2 · The derivation: Hessian blocks
#
# With $S_d$ the diagonal on/off matrix of feature `d` (fixed inside a region) and $z_d = W_E w_p^d$,
# `theory.derivation` differentiates $\ell_d = M_d\|w_r^d - W_D S_d z_d\|^2$ with sympy's matrix calculus, in
# symbolic dimensions, and `theory.printing` lays the result out. The two diagonal Hessian blocks:

# %%
from theory.activations import JumpReLU, ReLU, TopKReLU
from theory.derivation import derive

relu_derivation = derive(ReLU())
show_lines(relu_derivation, "matrix_form", labels=["feature term", "Hessian block DD", "Hessian block EE"])

# %% [markdown]
# Both are sums of terms $2M_d\,X^T X$-like forms: $H_{DD}[\Delta] = \sum_d 2M_d\,\Delta\, s_d s_d^T$ (with
# $s_d = S_d z_d$) is $\sum_d 2M_d (I\otimes s_d s_d^T)$ on $\mathrm{vec}(W_D)$, and
# $\langle\Delta, H_{EE}[\Delta]\rangle = \sum_d 2M_d\|W_D S_d \Delta w_p^d\|^2 \ge 0$. Both are positive
# semi-definite, so each partial problem is a convex quadratic. The region itself is cut out by linear
# inequalities in the pre-activations — one family at a time:

# %%
for act in (ReLU(), JumpReLU(theta=0.5), TopKReLU(k=1)):
    display(Markdown(f"**{act.describe()}**"))
    show_lines(derive(act), "region")

# %%
from proofs_check import check, claim_module

c2 = claim_module("C2")
show_steps(c2.proof_steps())
v2 = check("C2", budget=BUDGET, seed=SEED)
show_verdict(v2)

# %% [markdown]
# **The numbers on one instance.** Three features in $\mathbb{R}^2$ (superposition), unequal weights, four ReLU
# neurons, a seeded random encoder and its least-squares decoder. Smallest eigenvalues of the decoder block,
# the encoder block and the full (joint) Hessian, from `theory.derivation.hessian`:

# %%
from theory import Instance, approx_loss, pattern_of, region
from theory.derivation import least_squares_decoder

rng = np.random.default_rng(SEED)
W_p = rng.normal(size=(2, 3))
W_p /= np.linalg.norm(W_p, axis=0)
inst2 = Instance(W_p=W_p, weights=[1.0, 0.5, 0.8], activation=ReLU())
W_E = rng.normal(size=(4, 2))
W_D = least_squares_decoder(inst2, W_E)
P = pattern_of(inst2, W_E)
eig = c2.block_eigenvalues(inst2, W_D, W_E)
print(f"pattern P = {P}")
print(f"smallest eigenvalue / max |H|: decoder block {eig['decoder']:.2e}, encoder block {eig['encoder']:.2e} "
      f"(zero up to rounding), joint Hessian {eig['joint']:.3g}")
print(f"largest gap between theory.derivation's Hessian and the Kronecker/Gram closed form: {eig['closed_form_gap']:.1e}")
mid = c2.midpoint_checks(inst2, W_D, W_E, None, np.random.default_rng(SEED))
print(f"random segments: L̃(midpoint) − mean of the ends ≤ {max(mid['decoder_gap'], mid['encoder_gap']):.2e} "
      f"(≤ 0: convex along them); midpoint of two encoders in Ω_P left Ω_P: {mid['region_midpoint_outside']} "
      f"({mid['segments']} encoder segments)")

# %% [markdown]
# **Figure: three one-dimensional slices through that point.** Along a decoder direction and along an encoder
# direction (kept inside $\Omega_P$; the shaded part leaves the region) $\tilde L$ is a convex parabola; scaling
# encoder and decoder *together*, $(sW_D, sW_E)$, gives a quartic in `s` that is not convex — biconvex, not
# convex.

# %%
R = region(inst2, P)
dD, dE = rng.normal(size=W_D.shape), rng.normal(size=W_E.shape)
ts = np.linspace(-1.0, 1.0, 81)
ss = np.linspace(0.0, 1.6, 81)
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
axes[0].plot(ts, [approx_loss(inst2, W_D + t * dD, W_E) for t in ts])
axes[0].set_title("decoder slice  W_D + t Δ_D  (convex)")
inside = np.array([R.contains(W_E + t * dE) for t in ts])
loss_E = np.array([approx_loss(inst2, W_D, W_E + t * dE) for t in ts])
axes[1].plot(ts[inside], loss_E[inside], label="inside Ω_P")
axes[1].plot(ts[~inside], loss_E[~inside], ".", color="gray", ms=3, label="other patterns")
axes[1].set_title("encoder slice  W_E + t Δ_E  (convex on Ω_P)")
axes[1].legend(fontsize=8)
axes[2].plot(ss, [approx_loss(inst2, s * W_D, s * W_E) for s in ss])
axes[2].set_title("joint slice  (s W_D, s W_E)  (not convex)")
for ax, lab in zip(axes, ("t", "t", "s")):
    ax.set_xlabel(lab)
    ax.grid(True, alpha=0.3)
axes[0].set_ylabel("L̃")
fig.tight_layout()
show_figure(fig)
second = np.diff([approx_loss(inst2, s * W_D, s * W_E) for s in ss], 2)
print(f"joint slice: smallest second difference {second.min():.3g} (< 0 means not convex)")

# %% [markdown]
# ## C3 · The near-zero-loss construction vs its bound
#
# Give neuron `d` the encoder row $w_p^d$ and the decoder column $w_r^d$. On feature `d` the pre-activations are
# the Gram entries $G_{jd} = \langle w_p^j, w_p^d\rangle$; the proof assumes σ keeps unit `d` (value 1) and
# that every other kept value lies in $[0, M]$. Neither follows from σ(z)ᵢ ∈ {0, zᵢ} alone: JumpReLU with
# θ ≥ 1 drops unit `d`, TopK without ReLU keeps negative entries.

# %%
c3 = claim_module("C3")
show_steps(c3.proof_steps())
v3 = check("C3", budget=BUDGET, seed=SEED)
show_verdict(v3)

# %%
from theory.activations import TopK

cs = np.linspace(0.0, 0.95, 20)
series = {"ReLU": [], "TopK(k=3)": [], "claimed n² M² ΣM_d": [], "corrected (TopK: coherence)": []}
for c in cs:  # three features, <w_1, w_2> = −c, w_3 ⟂ both: the interference M is 0
    W = np.eye(3)
    W[:2, 1] = [-c, np.sqrt(1 - c**2)]
    for act, key in ((ReLU(), "ReLU"), (TopK(k=3), "TopK(k=3)")):
        i3 = Instance(W_p=W, activation=act)
        series[key].append(approx_loss(i3, *c3.construction(i3)))
    i3 = Instance(W_p=W, activation=TopK(k=3))
    series["claimed n² M² ΣM_d"].append(c3.claimed_bound(i3))
    series["corrected (TopK: coherence)"].append(c3.corrected_bound(i3))

thetas = np.linspace(0.0, 2.0, 81)
W45 = np.array([[1.0, 0.3], [0.0, np.sqrt(1 - 0.3**2)]])  # two features with <w_1, w_2> = M = 0.3
jr = {"scale 1 (the paper's construction)": [], "scale 2θ (corrected)": [], "claimed bound": []}
for th in thetas:
    ij = Instance(W_p=W45, activation=JumpReLU(theta=th))
    jr["scale 1 (the paper's construction)"].append(approx_loss(ij, *c3.construction(ij)))
    jr["scale 2θ (corrected)"].append(approx_loss(ij, *c3.construction(ij, scale=c3.corrected_scale(ij))))
    jr["claimed bound"].append(c3.claimed_bound(ij))

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for (label, ys), st in zip(series.items(), ("-", "-", "--", ":")):
    axes[0].plot(cs, ys, st, label=label)
axes[0].set_xlabel("c  (<w_1, w_2> = −c, so M = 0)")
axes[0].set_title("construction loss L̃: negative interference")
for (label, ys), st in zip(jr.items(), ("-", "-", "--")):
    axes[1].plot(thetas, ys, st, label=label)
axes[1].set_xlabel("JumpReLU threshold θ  (two features, M = 0.3)")
axes[1].set_title("construction loss L̃: thresholds")
for ax in axes:
    ax.set_ylabel("L̃")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
fig.tight_layout()
show_figure(fig)

# %% [markdown]
# ## C4 · The zero-loss set and non-identifiability
#
# $\tilde L = \sum_d M_d\|r_d\|^2$ is a sum of non-negative terms, so it is 0 exactly when every residual is 0
# (the characterisation). The consequence the paper draws — zero-loss solutions need not recover any feature —
# the toolkit makes concrete: with $E = W_p^+$ and an orthogonal mixing `Q` (45° rotations of feature pairs),
# $W_E = c\,[QE; -QE]$, $W_D = [W_rQ^T, -W_rQ^T]/c$ reconstructs every single feature exactly with ReLU
# ($\sigma([z;-z]) = [z^+; z^-]$), using $2n$ neurons whose directions are all at 45° to every feature.

# %%
c4 = claim_module("C4")
show_steps(c4.proof_steps())
v4 = check("C4", budget=BUDGET, seed=SEED)
show_verdict(v4)

# %%
inst4 = Instance(W_p=np.eye(4), activation=ReLU())
D4, E4, b4 = c4.non_identifying_solution(inst4)
nums = c4.identifiability_numbers(inst4, D4, E4, b4)
print(f"n = 4 orthonormal features, n_q = {nums['n_q']} ReLU neurons: L̃ = {nums['loss']:.2e}")
print("largest |cos| of any decoder column with each feature:", np.round(nums["decoder_max_abs_cos"], 4))
print("largest |cos| of any encoder row with each feature:   ", np.round(nums["encoder_max_abs_cos"], 4))
print(f"features recovered (|cos| ≥ 0.9): decoder {nums['features_recovered_by_decoder']}, "
      f"encoder {nums['features_recovered_by_encoder']}")

cos = np.abs((D4 / np.linalg.norm(D4, axis=0)).T @ inst4.W_r)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"width_ratios": [1.4, 1]})
im = axes[0].imshow(cos.T, vmin=0, vmax=1, cmap="viridis")
axes[0].set_xlabel("decoder column (neuron)")
axes[0].set_ylabel("feature")
axes[0].set_title("|cos(decoder column, feature)| of a zero-loss solution")
fig.colorbar(im, ax=axes[0])
# two features in the plane: the directions of the zero-loss solution vs the features
inst_2 = Instance(W_p=np.eye(2), activation=ReLU())
D2, E2, _ = c4.non_identifying_solution(inst_2)
for d in range(2):
    axes[1].annotate("", xy=inst_2.W_p[:, d], xytext=(0, 0), arrowprops=dict(color="k", width=2))
    axes[1].text(*(1.08 * inst_2.W_p[:, d]), f"feature {d}")
for i in range(D2.shape[1]):
    col = D2[:, i] / np.linalg.norm(D2[:, i])
    axes[1].annotate("", xy=col, xytext=(0, 0), arrowprops=dict(color="C1", width=1, alpha=0.8))
axes[1].plot([], [], color="C1", label="decoder columns")
axes[1].set_xlim(-1.3, 1.3)
axes[1].set_ylim(-1.3, 1.3)
axes[1].set_aspect("equal")
axes[1].legend(fontsize=8, loc="lower left")
axes[1].set_title(f"n = 2: L̃ = {approx_loss(inst_2, D2, E2):.1e}")
fig.tight_layout()
show_figure(fig)

# %% [markdown]
# ## C5 · Example 3.5: a stationary point with $\tilde L = 1$
#
# Two orthonormal features of weight 1, two neurons, σ = Top-1∘ReLU, $W_E = [[1,1],[0,0]]$,
# $W_D = [[\tfrac12,0],[\tfrac12,0]]$. Neuron 1 fires on both features, neuron 2 on none. The toolkit checks the
# claim in exact rational arithmetic, and `theory.printing` specialises the derivation to the point:

# %%
from theory.printing import Point

c5 = claim_module("C5")
v5 = check("C5", budget=BUDGET, seed=SEED)
show_verdict(v5)
show_steps(v5.steps)
d5 = derive(instance=c5.EXAMPLE, pattern=pattern_of(c5.EXAMPLE, c5.EXAMPLE_W_E))
show_lines(d5, "point", point=Point(c5.EXAMPLE_W_E, c5.EXAMPLE_W_D, source="Example 3.5"))

# %% [markdown]
# **Figure: the straight line from the example to a global minimum** ($W_E = W_D = I$, $\tilde L = 0$). Inside the
# example's region $\tilde L$ first *rises* (the point is a partial minimum there: with the best decoder for each
# encoder it stays at 1, the Eckart–Young value), and drops only after the pattern changes — an optimiser that
# stays in the region never leaves it downhill.

# %%
ts = np.linspace(0.0, 1.0, 101)
E0, D0 = c5.EXAMPLE_W_E, c5.EXAMPLE_W_D
line, best, same = [], [], []
for t in ts:
    E, D = (1 - t) * E0 + t * np.eye(2), (1 - t) * D0 + t * np.eye(2)
    line.append(approx_loss(c5.EXAMPLE, D, E))
    best.append(approx_loss(c5.EXAMPLE, least_squares_decoder(c5.EXAMPLE, E), E))
    same.append(pattern_of(c5.EXAMPLE, E).firing == pattern_of(c5.EXAMPLE, E0).firing)
same = np.array(same)
fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.plot(ts, line, label="L̃ on the line (W_D and W_E interpolated)")
ax.plot(ts, best, "--", label="L̃ with the least-squares decoder for each W_E")
ax.axvspan(ts[same].min(), ts[same].max(), color="C2", alpha=0.12, label=f"pattern {pattern_of(c5.EXAMPLE, E0)}")
ax.set_xlabel("t  (0 = Example 3.5, 1 = identity)")
ax.set_ylabel("L̃")
ax.legend(fontsize=8, loc="upper right")
ax.grid(True, alpha=0.3)
show_figure(fig)
print(f"max L̃ on the line inside the region: {max(np.array(line)[same]):.4f} (start {line[0]:.4f}); "
      f"first t outside the region: {ts[~same].min():.2f}")
