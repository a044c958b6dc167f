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
# # Study · Spurious partial minima and dead neurons under training
#
# Claims C6 and C8 (notebook 03) say training can get stuck in spurious partial minima, often with dead
# neurons. This study starts gradient descent exactly at a predicted spurious partial minimum and at small
# perturbations of it (does training stay?), and classifies where random initialisations end up (global
# or spurious), using the bridge between trained models and the theory (`proofs_check.bridge`).
#
# The study is `studies.get("partial-minima")` (defined in `studies.partial_minima`): a config dataclass and
# `run(config, out) -> result`; `sdl-theory study partial-minima --out DIR` runs it at full size and writes
# `partial-minima.json`, `partial-minima.png` and `README.md`. Here it runs at a **tiny size** (few seeds, few steps) so
# that the notebook finishes in seconds: the numbers are noisy and only show the machinery. The committed
# full-size result, when present in `results/studies/partial-minima/`, is shown at the end.

# %%
from sdl_theory.notebook import run_study_tiny, setup, show_committed_study

setup()  # one thread, Agg backend

SEED = 0  # every random choice of the study is seeded from config.seed

# %% [markdown]
# ## Run at a tiny size
#
# Every random choice of the study is seeded from `config.seed`; the log lines are the study's own.

# %%
result = run_study_tiny("partial-minima", SEED, eps=(0.0, 0.1), widths=(3,), seeds=2, random_seeds=2, steps=200, gd_steps=200)

# %% [markdown]
# ## The committed full-size result
#
# Produced by the command recorded in the JSON (`sdl-theory study partial-minima ...`); re-run it to reproduce.

# %%
show_committed_study("partial-minima")
