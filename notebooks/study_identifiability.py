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
# # Study · Non-identifiability: zero loss without the features
#
# Claim C4 (notebook 02) says the zero-loss set contains solutions that recover no ground-truth feature. This
# study builds such solutions for several `n` (zero loss, every decoder direction far from every feature) and
# trains SAEs over the superposition ratio `n/n_p` and the width `n_q/n` to see how often training reaches
# (near) zero loss while recovering few features.
#
# The study is `studies.get("identifiability")` (defined in `studies.identifiability`): a config dataclass and
# `run(config, out) -> result`; `sdl-theory study identifiability --out DIR` runs it at full size and writes
# `identifiability.json`, `identifiability.png` and `README.md`. Here it runs at a **tiny size** (few seeds, few steps) so
# that the notebook finishes in seconds: the numbers are noisy and only show the machinery. The committed
# full-size result, when present in `results/studies/identifiability/`, is shown at the end.

# %%
from sdl_theory.notebook import run_study_tiny, setup, show_committed_study

setup()  # one thread, Agg backend

SEED = 0  # every random choice of the study is seeded from config.seed

# %% [markdown]
# ## Run at a tiny size
#
# Every random choice of the study is seeded from `config.seed`; the log lines are the study's own.

# %%
result = run_study_tiny("identifiability", SEED, ratios=(0.5, 1.0), widths=(2.0,), l1s=(0.0,), construction_ns=(2, 3, 4), n_p=4, seeds=2, steps=300)

# %% [markdown]
# ## The committed full-size result
#
# Produced by the command recorded in the JSON (`sdl-theory study identifiability ...`); re-run it to reproduce.

# %%
show_committed_study("identifiability")
