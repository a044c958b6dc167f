"""Matryoshka SAEs (Bussmann et al. 2025; Nabeshima 2024): BatchTopK whose training loss also asks every
nested prefix of the dictionary to reconstruct on its own.

The prefixes change only the training loss, so the theory's σ is BatchTopK's (and the family is not
drawn again by the searches); the torch model is ``numerics.models.matryoshka``.
"""
from __future__ import annotations

from dataclasses import dataclass

from theory.activations.topk import BATCHTOPK_RECIPE, BatchTopK, BatchTopKTraining, _batch_region, _draw_k
from theory.errors import SDLInputError
from theory.options import option
from theory.registry import Family, register


@dataclass(frozen=True)
class MatryoshkaTraining(BatchTopKTraining):
    prefixes: tuple = option((), "Matryoshka: nested prefix sizes (empty = n_q/16 … n_q/2)")

    def validate(self, n_latents=None) -> None:
        super().validate(n_latents)
        if not isinstance(self.prefixes, (tuple, list)) or any(
                isinstance(p, bool) or not isinstance(p, int) or p < 1 for p in self.prefixes):
            raise SDLInputError(f"Matryoshka prefixes must be positive integers, got {list(self.prefixes)}")


MATRYOSHKA = register(Family(
    "matryoshka", BatchTopK, "Matryoshka: BatchTopK trained so that nested prefixes reconstruct too",
    params=("k", "threshold"), draw_activation=_draw_k(BatchTopK), region_text=_batch_region,
    model="numerics.models.matryoshka:MatryoshkaCoder", hyperparameters=MatryoshkaTraining,
    methods={"matryoshka_sae": "sae"}, paper_rows={"matryoshka_sae": (83.70, 0.982, 87.32, 0.985)},
    sweep={"k": (1, 2, 4, 8), **BATCHTOPK_RECIPE}, searched=False))
