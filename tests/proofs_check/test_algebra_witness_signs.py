"""A failing algebra step's witness respects each symbol's sign assumption (positive and nonnegative symbols are
never negated; unrestricted ones take both signs over seeds), and reproduces the residual it reports."""
import random

import sympy as sp

from proofs_check.algebra import _witness


def test_witness_values_respect_sign_assumptions_and_reproduce_the_residual():
    p, q, x = sp.Symbol("p", positive=True), sp.Symbol("q", nonnegative=True), sp.Symbol("x", real=True)
    expr = p + q + x + 100          # non-zero at every draw the witness makes (|x| ≤ 9): each seed's first try returns
    signs = set()
    for seed in range(40):
        w = _witness(expr, [p, q, x], random.Random(seed))
        vals = {s: sp.Rational(w[str(s)]) for s in (p, q, x)}
        assert vals[p] > 0 and vals[q] >= 0, w
        signs.add(vals[x] > 0)
        assert sp.Rational(w["residual"]) == expr.subs(vals)      # the reported residual, re-evaluated
    assert signs == {True, False}   # an unrestricted symbol is drawn with both signs
