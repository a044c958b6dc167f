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
# # Study · Absorption thresholds: predicted vs trained
#
# `theory.absorption` predicts, in closed form, the L1 penalty λ* above which absorbing the parent into a
# child latent beats the clean dictionary, and the TopK budget below which it does (notebook 04). This study
# trains small ReLU and TopK SAEs on single-family hierarchy events across λ and k, measures how often the
# parent latent is switched off on child events (the *absorption rate*), and compares the switch with the
# prediction.
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
result = run_study_tiny("absorption", SEED, lams=(0.3, 1.0, 1.6, 2.5), ks=(1, 2), seeds=2, steps=300, topk_steps=300, eval_events=500)

# %% [markdown]
# ## The committed full-size result
#
# Produced by the command recorded in the JSON (`sdl-theory study absorption ...`); re-run it to reproduce.

# %%
show_committed_study("absorption")
