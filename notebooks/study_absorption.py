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
# # Study · Absorption as a curve: predicted minima vs trained
#
# `theory.absorption_curve` finds the local minima of the exact hierarchy objective (no sampling): how much a
# ReLU SAE absorbs the parent into its child latents (the *absorption rate*), how far the child decoders tilt
# towards the parent, and the loss, as functions of the L1 penalty λ — often two minima at one λ (partial
# and full absorption), so where seeds split is predicted. This study trains small SAEs to convergence across λ
# and seeds and says which predicted minimum each run reached; the same for TopK∘ReLU SAEs as a function of the
# budget k (λ = 0), and for ReLU SAEs with an encoder bias (`theory.absorption_bias`: the active sets are then
# polygons of the two magnitudes, integrated exactly), for a two-level hierarchy, and for JumpReLU SAEs with the
# family's L0 term (θ trained by its straight-through estimator; `theory.absorption_bias.stationary_points_jumprelu`:
# the threshold lines cut the magnitudes into polygons too). The closed-form λ* of `theory.absorption` (notebook 04) is
# kept as what it is: the crossing of two rigid configurations, neither of them stationary.
#
# The study is `studies.get("absorption")` (defined in `studies.absorption`): a config dataclass and
# `run(config, out) -> result`; `sdl-theory study absorption --out DIR` runs it at full size and writes
# `absorption.json`, `absorption.png` and `README.md`. Here it runs at a **tiny size** (few seeds, few steps) so
# that the notebook finishes in seconds: the numbers are noisy and only show the machinery. The committed
# full-size result, when present in `results/studies/absorption/`, is shown at the end.

# %%
from sdl_theory.notebook import run_study_tiny, setup, show_committed_study

setup()  # one thread, Agg backend

SEED = 0  # every random choice of the study is seeded from config.seed

# %% [markdown]
# ## Run at a tiny size
#
# Every random choice of the study is seeded from `config.seed`; the log lines are the study's own.

# %%
result = run_study_tiny("absorption", SEED, lams=(0.3, 1.6), ks=(1,), seeds=2, steps=300, topk_steps=300, eval_events=500,
                        extra_lams=(1.0,), extra_seeds=1, extra_children=2, refine_steps=20, refine_batch=512,
                        bias_lams=(1.2,), bias_seeds=1, mixed_starts=False, random_starts=0, two_level_lams=(1.2,),
                        two_level_seeds=1, two_level_children=1, jumprelu_lams=(1.0,), jumprelu_thetas=(0.5,),
                        jumprelu_seeds=1, jumprelu_random_starts=0, jumprelu_bandwidth_scan=())

# %% [markdown]
# ## The committed full-size result
#
# Produced by the command recorded in the JSON (`sdl-theory study absorption ...`); re-run it to reproduce.

# %%
show_committed_study("absorption")
