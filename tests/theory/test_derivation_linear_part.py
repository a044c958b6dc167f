"""derive's Hessian blocks read the coefficient of t off a matrix polynomial; sympy collects several powers of
t on one product ((1 + t)·A·B), and that term's t-coefficient is its scalar's, not the product at t = 1."""
import sympy as sp

from theory.derivation import _linear_part

A, B = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("B", 3, 3)
t = sp.Symbol("t")


def _same(x, y):
    return sp.simplify((x - y).as_explicit()) == sp.zeros(3, 3)


def test_powers_of_t_collected_on_one_product():
    assert _same(_linear_part((A + t * A) * B, t), A * B)                        # (1 + t)·AB → AB, not 2AB
    assert _same(_linear_part(3 * t * A * B + t ** 2 * A * B + A * B, t), 3 * A * B)   # (1 + 3t + t²)·AB → 3AB
    assert _same(_linear_part((t - 2 * t ** 3) * A + t * B, t), A + B)


def test_terms_without_t_or_with_only_higher_powers_drop_out():
    assert _same(_linear_part(A * B + t ** 2 * B, t), sp.ZeroMatrix(3, 3))
    assert _same(_linear_part(A, t), sp.ZeroMatrix(3, 3))
    assert _same(_linear_part(A * B + t * A * B.T, t), A * B.T)
