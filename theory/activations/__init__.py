"""Activation families, one small class each (THEORY.md section 2).

>>> from theory.activations import ReLU, JumpReLU, TopK, TopKReLU, BatchTopK
"""
from __future__ import annotations

from theory.activations.base import Activation, LinearConstraint, topk_mask
from theory.activations.relu import JumpReLU, ReLU
from theory.activations.topk import BatchTopK, TopK, TopKReLU
from theory.errors import SDLInputError

FAMILIES = {cls.name: cls for cls in (ReLU, JumpReLU, TopK, TopKReLU, BatchTopK)}


def make_activation(name: str, **params) -> Activation:
    """Build an activation from its family name and parameters (``theta`` or ``k``); None values are dropped."""
    key = name.lower().replace("-", "_").replace("∘", "_")
    aliases = {"topkrelu": "topk_relu", "batch_topk": "batchtopk"}
    key = aliases.get(key, key)
    if key not in FAMILIES:
        raise SDLInputError(f"unknown activation {name!r}; choose one of {sorted(FAMILIES)}")
    cls = FAMILIES[key]
    allowed = {"relu": (), "jumprelu": ("theta",), "topk": ("k",), "topk_relu": ("k",), "batchtopk": ("k", "threshold")}[key]
    given = {k: v for k, v in params.items() if v is not None}
    extra = sorted(set(given) - set(allowed))
    if extra:
        raise SDLInputError(f"{cls.name} takes {list(allowed) or 'no parameters'}, not {extra}")
    return cls(**given)


def activation_from_json(d: dict) -> Activation:
    d = dict(d)
    return make_activation(d.pop("name"), **d)


__all__ = [
    "Activation", "LinearConstraint", "ReLU", "JumpReLU", "TopK", "TopKReLU", "BatchTopK",
    "FAMILIES", "make_activation", "activation_from_json", "topk_mask",
]
