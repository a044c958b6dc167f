"""Activation families, one small class each (THEORY.md section 2), registered in :mod:`theory.registry`.

>>> from theory.activations import ReLU, JumpReLU, TopK, TopKReLU, BatchTopK, Gated
"""
from __future__ import annotations

from theory.activations.base import Activation, LinearConstraint, topk_mask
from theory.activations.gated import Gated, tied_encoder
from theory.activations.relu import JumpReLU, ReLU
from theory.activations.topk import BatchTopK, TopK, TopKReLU
from theory.activations import matryoshka as _matryoshka  # noqa: F401  (registers the family)
from theory.registry import activation_from_json, make_activation

__all__ = [
    "Activation", "LinearConstraint", "ReLU", "JumpReLU", "TopK", "TopKReLU", "BatchTopK",
    "make_activation", "activation_from_json", "topk_mask",
]
