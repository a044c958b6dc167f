"""Activation regions for arbitrary inputs (C7, C8).

:func:`theory.patterns.region` builds Ω_P from the single-feature inputs ``w_p^d``. Absorption (C7)
and dead neurons under the exact loss (C8) need the same construction for other inputs — a child
together with its parent, sums of features: rows ``x_s`` in feature coordinates, presented to the
encoder as ``W_p x_s``. The pre-activations are ``Z[s, i] = <w_E^i, W_p x_s> + b_i`` and the region
is the pull-back of ``activation.region_constraints(mask)`` to ``v = (vec W_E, b)``, exactly as in
:func:`theory.patterns.region` (which is the case ``X = I``).
"""
from __future__ import annotations

import numpy as np

from theory.errors import SDLInputError
from theory.instance import Instance
from theory.patterns import ActivationPattern, Region


def region_on_inputs(instance: Instance, X, mask) -> Region:
    """Ω for ``mask[s, i]`` (inputs × neurons) on the inputs ``X`` (inputs × n, feature coordinates)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    mask = np.asarray(mask, dtype=bool)
    if X.shape[1] != instance.n:
        raise SDLInputError(f"inputs must be given in feature coordinates (rows of length n = {instance.n}), got shape {X.shape}")
    if mask.shape[0] != X.shape[0]:
        raise SDLInputError(f"mask has {mask.shape[0]} rows but there are {X.shape[0]} inputs")
    P = ActivationPattern.from_mask(mask)
    n_q, n_p = mask.shape[1], instance.n_p
    nv = n_q * n_p + (n_q if instance.encoder_bias else 0)
    inputs = instance.W_p @ X.T  # n_p × inputs
    act = instance.activation
    impossible = act.mask_is_possible(mask)
    strict_rows, strict_rhs, weak_rows, weak_rhs = [], [], [], []
    if impossible is None:
        for con in act.region_constraints(mask):
            row = np.zeros(nv)
            for (s, i), coeff in con.terms:
                row[i * n_p:(i + 1) * n_p] += coeff * inputs[:, s]
                if instance.encoder_bias:
                    row[n_q * n_p + i] += coeff
            (strict_rows if con.strict else weak_rows).append(row)
            (strict_rhs if con.strict else weak_rhs).append(con.rhs)

    def stack(rows):
        return np.array(rows, dtype=float).reshape(len(rows), nv)

    return Region(instance, P, stack(strict_rows), np.array(strict_rhs, dtype=float), stack(weak_rows),
                  np.array(weak_rhs, dtype=float), impossible)


def active_on_inputs(instance: Instance, X, W_E, b_E=None) -> np.ndarray:
    """``mask[s, i]``: neuron i on for input ``x_s`` (a batch, so BatchTopK competes across the rows)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    Z = X @ (np.asarray(W_E, dtype=float) @ instance.W_p).T
    if b_E is not None:
        Z = Z + np.asarray(b_E, dtype=float)
    return instance.activation.active(Z)


__all__ = ["region_on_inputs", "active_on_inputs"]
