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
# # Study · Shrinkage of feature magnitudes under L1
#
# An L1 penalty makes a ReLU SAE under-report magnitudes. `theory.shrinkage` derives the optimal scale in
# closed form: without an encoder bias the learned magnitude is the true one times $t^* = 1 - \lambda\mu_1/(2\mu_2)$;
# with a bias the code becomes soft-thresholding, $a = \mathrm{relu}(m - \lambda/2)$. This study trains small
# SAEs on orthonormal features across λ, with and without a bias, and compares the measured shrinkage with
# the prediction.
#
# The study is `studies.get("shrinkage")` (defined in `studies.shrinkage`): a config dataclass and
# `run(config, out) -> result`; `sdl-theory study shrinkage --out DIR` runs it at full size and writes
# `shrinkage.json`, `shrinkage.png` and `README.md`. Here it runs at a **tiny size** (few seeds, few steps) so
# that the notebook finishes in seconds: the numbers are noisy and only show the machinery. The committed
# full-size result, when present in `results/studies/shrinkage/`, is shown at the end.

# %%
from sdl_theory.notebook import run_study_tiny, setup, show_committed_study

setup()  # one thread, Agg backend

SEED = 0  # every random choice of the study is seeded from config.seed

# %% [markdown]
# ## Run at a tiny size
#
# Every random choice of the study is seeded from `config.seed`; the log lines are the study's own.

# %%
result = run_study_tiny("shrinkage", SEED, lams=(0.0, 1.0, 2.0), biases=(0, 1), seeds=2, steps=300, eval_events=500)

# %% [markdown]
# ## The committed full-size result
#
# Produced by the command recorded in the JSON (`sdl-theory study shrinkage ...`); re-run it to reproduce.

# %%
show_committed_study("shrinkage")
