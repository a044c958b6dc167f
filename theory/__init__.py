"""sdl-theory's mathematical layer: sympy + numpy, never torch (THEORY.md sections 1–4).

>>> import numpy as np
>>> from theory import Instance
>>> from theory.activations import TopKReLU
>>> inst = Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=TopKReLU(k=1))
"""
from theory.distribution import Constant, FeatureDistribution, ShiftedExponential, Uniform
from theory.errors import SDLInputError
from theory.instance import Instance, normalize_columns
from theory.objective import LossEstimate, approx_loss, approx_loss_terms, exact_loss
from theory.patterns import ActivationPattern, Region, pattern_of, realize, region

__all__ = [
    "Instance", "normalize_columns", "SDLInputError",
    "FeatureDistribution", "Constant", "ShiftedExponential", "Uniform",
    "approx_loss", "approx_loss_terms", "exact_loss", "LossEstimate",
    "ActivationPattern", "Region", "pattern_of", "region", "realize",
]
