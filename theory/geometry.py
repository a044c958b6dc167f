"""Feature geometry: interference (max coherence) and the Welch bound (THEORY.md sections 1 and 5).

``interference`` is the paper's ``M = max_{i≠j} <w^i, w^j>`` (signed, not absolute), which is what
Theorem 3.3 (C3) uses. ``coherence`` is the absolute version that the Welch bound speaks about.
"""
from __future__ import annotations

import math

import numpy as np

from theory.errors import SDLInputError


def gram(W: np.ndarray) -> np.ndarray:
    """Gram matrix ``W^T W`` of the columns of ``W``."""
    W = np.asarray(W, dtype=float)
    return W.T @ W


def interference(W: np.ndarray) -> float:
    """``M = max_{i≠j} <w^i, w^j>`` over the columns of ``W`` (0 for a single column)."""
    G = gram(W)
    n = G.shape[0]
    if n < 2:
        return 0.0
    off = G[~np.eye(n, dtype=bool)]
    return float(off.max())


def coherence(W: np.ndarray) -> float:
    """``max_{i≠j} |<w^i, w^j>|`` over the columns of ``W``."""
    G = gram(W)
    n = G.shape[0]
    if n < 2:
        return 0.0
    return float(np.abs(G[~np.eye(n, dtype=bool)]).max())


def welch_bound(n: int, dim: int) -> float:
    """Smallest possible max |coherence| of ``n`` unit vectors in ``R^dim``.

    ``sqrt((n - dim) / (dim (n - 1)))`` for ``n > dim``; 0 when ``n <= dim`` (orthonormal columns
    exist). Note the bound is on |<w_i, w_j>|; the signed maximum can be lower (e.g. a simplex has
    all inner products equal to ``-1/(n-1)``), which is why a target for the *signed* interference
    is only compared with ``-1/(n-1)``, the smallest possible signed maximum.
    """
    if n < 1 or dim < 1:
        raise SDLInputError(f"welch_bound needs n >= 1 and dim >= 1, got n={n}, dim={dim}")
    if n <= dim:
        return 0.0
    return math.sqrt((n - dim) / (dim * (n - 1)))


def column_norm_error(W: np.ndarray) -> float:
    """``max_d | ||w^d|| - 1 |``: how far the columns are from unit norm."""
    W = np.asarray(W, dtype=float)
    if W.size == 0:
        return 0.0
    return float(np.abs(np.linalg.norm(W, axis=0) - 1.0).max())
