"""Checking one algebraic step of a published argument with sympy (used by C1–C5).

:func:`equality_step` simplifies ``lhs − rhs``; when it is not identically zero it reports the
simplified residual and a numeric instance of the free symbols where it is non-zero.
:func:`inequality_step` checks ``expr >= 0`` on a box of the symbols: by sympy's interval
minimum for one symbol, otherwise on a grid plus the box's corners (reported as such), with a
witness point where it is negative.
"""
from __future__ import annotations

import itertools
import random

import sympy as sp

from proofs_check.verdict import StepCheck


def _witness(expr: sp.Expr, symbols, rng: random.Random, tries: int = 60) -> dict | None:
    """Rational values of ``symbols`` where ``expr`` is non-zero (respecting positivity assumptions)."""
    for _ in range(tries):
        vals = {}
        for s in symbols:
            num = sp.Rational(rng.randint(1, 9), rng.randint(1, 5))
            if not (s.is_positive or s.is_nonnegative) and rng.random() < 0.5:
                num = -num
            vals[s] = num
        try:
            v = sp.nsimplify(expr.subs(vals))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if v.is_number and v != 0 and v.is_finite:
            return {str(k): str(val) for k, val in vals.items()} | {"residual": str(v)}
    return None


def equality_step(name: str, statement: str, lhs, rhs, *, note: str = "", seed: int = 0) -> StepCheck:
    """``lhs == rhs`` as an identity in all free symbols (matrices compared entry-wise)."""
    diff = sp.Matrix(lhs) - sp.Matrix(rhs) if isinstance(lhs, sp.MatrixBase) else sp.sympify(lhs - rhs)
    residual = sp.simplify(diff)
    zero = residual.is_zero_matrix if isinstance(residual, sp.MatrixBase) else residual == 0
    if zero:
        return StepCheck(name, statement, True, "0", None, note)
    entries = list(residual) if isinstance(residual, sp.MatrixBase) else [residual]
    worst = next(e for e in entries if e != 0)
    witness = _witness(worst, sorted(worst.free_symbols, key=str), random.Random(seed))
    return StepCheck(name, statement, False, str(residual), witness, note)


def inequality_step(name: str, statement: str, expr, box: dict, *, note: str = "", grid: int = 21) -> StepCheck:
    """``expr >= 0`` for every point of ``box = {symbol: (low, high)}``.

    One symbol: exact (``sympy.minimum`` on the interval). Several: the minimum over a grid and the
    box's corners, which is evidence, not proof; the note says so.
    """
    expr = sp.sympify(expr)
    syms = list(box)
    if len(syms) == 1:
        (s,) = syms
        low, high = box[s]
        m = sp.minimum(expr, s, sp.Interval(low, high))
        ok = bool(m >= 0)
        witness = None
        if not ok:
            pts = [p for p in sp.solveset(sp.diff(expr, s), s, sp.Interval(low, high)) if p.is_number] + [low, high]
            worst = min(pts, key=lambda p: float(expr.subs(s, p)))
            witness = {str(s): str(worst), "value": str(sp.nsimplify(expr.subs(s, worst)))}
        return StepCheck(name, statement, ok, str(sp.simplify(m)) if not ok else "min >= 0", witness,
                         note or f"exact minimum over [{low}, {high}] is {m}")
    f = sp.lambdify(syms, expr, "math")
    axes = [[lo + (hi - lo) * i / (grid - 1) for i in range(grid)] for lo, hi in (box[s] for s in syms)]
    worst_val, worst_pt = float("inf"), None
    for pt in itertools.product(*axes):
        v = f(*pt)
        if v < worst_val:
            worst_val, worst_pt = v, pt
    ok = worst_val >= -1e-12
    witness = None if ok else {str(s): v for s, v in zip(syms, worst_pt)} | {"value": worst_val}
    return StepCheck(name, statement, ok, "min >= 0 on grid" if ok else f"{worst_val:.6g}", witness,
                     (note + "; " if note else "") + f"checked on a {grid}^{len(syms)} grid of the box (evidence, not proof)")


def exact(value) -> sp.Matrix:
    """A numpy array as a sympy matrix of rationals (exact for the small hand-made instances)."""
    import numpy as np

    arr = np.atleast_2d(np.asarray(value, dtype=float))
    return sp.Matrix(arr.shape[0], arr.shape[1], [sp.nsimplify(float(v), rational=True) for v in arr.ravel()])


def region_polynomial(instance, mask, n_q: int):
    """L̃ inside the region with pattern ``mask`` (features × neurons) as a sympy polynomial (C2, C5).

    Returns ``(loss, W_D, W_E, b)`` with symbol matrices ``W_D[r, i] = D_r_i``, ``W_E[i, j] = E_i_j``
    and ``b[i] = b_i`` (``b`` is zeros without an encoder bias): inside ``Ω_P``
    ``σ(W_E w_p^d + b)_i = (W_E w_p^d + b)_i`` if ``mask[d, i]`` else 0, so
    ``L̃ = Σ_d M_d ||w_r^d − W_D S_d (W_E w_p^d + b)||²``.
    """
    W_D = sp.Matrix(instance.n_r, n_q, lambda r, i: sp.Symbol(f"D_{r}_{i}", real=True))
    W_E = sp.Matrix(n_q, instance.n_p, lambda i, j: sp.Symbol(f"E_{i}_{j}", real=True))
    b = sp.Matrix(n_q, 1, lambda i, _: sp.Symbol(f"b_{i}", real=True)) if instance.encoder_bias else sp.zeros(n_q, 1)
    W_p, W_r, M = exact(instance.W_p), exact(instance.W_r), exact(instance.weights)
    loss = sp.Integer(0)
    for d in range(instance.n):
        S = sp.diag(*[1 if mask[d][i] else 0 for i in range(n_q)])
        r = W_r[:, d] - W_D * S * (W_E * W_p[:, d] + b)
        loss += M[d] * (r.T * r)[0, 0]
    return sp.expand(loss), W_D, W_E, b


__all__ = ["equality_step", "inequality_step", "exact", "region_polynomial"]
