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
# # Study · Resampling dead neurons (torch models)
#
# Claim C9 (notebook 03) is checked on the exact loss L in float64 with the family's own σ; this study
# repeats the experiment with the bench's torch models: start at a spurious partial minimum with a dead
# neuron, train with and without resampling (Bricken et al. 2023), and compare the final objective over
# paired seeds — for ReLU and for TopK, and for the resampled row's encoder scale.
#
# The study is `studies.get("resampling")` (defined in `studies.resampling`): a config dataclass and
# `run(config, out) -> result`; `sdl-theory study resampling --out DIR` runs it at full size and writes
# `resampling.json`, `resampling.png` and `README.md`. Here it runs at a **tiny size** (few seeds, few steps) so
# that the notebook finishes in seconds: the numbers are noisy and only show the machinery. The committed
# full-size result, when present in `results/studies/resampling/`, is shown at the end.

# %%
from sdl_theory.notebook import run_study_tiny, setup, show_committed_study

setup()  # one thread, Agg backend

SEED = 0  # every random choice of the study is seeded from config.seed

# %% [markdown]
# ## Run at a tiny size
#
# Every random choice of the study is seeded from `config.seed`; the log lines are the study's own.

# %%
result = run_study_tiny("resampling", SEED, seeds=2, steps=200, resample_every=60, topk_scales=(0.2, 2.0))

# %% [markdown]
# ## The committed full-size result
#
# Produced by the command recorded in the JSON (`sdl-theory study resampling ...`); re-run it to reproduce.

# %%
show_committed_study("resampling")
