"""Hypothesis profiles: CI runs derandomised (same examples every run, no example database), so a CI
verdict is reproducible; local runs keep hypothesis' random exploration to find new failures.
Each test still sets its own ``max_examples`` and ``deadline``."""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


import numpy as np  # noqa: E402
import pytest  # noqa: E402


def _family_gradients_match(grads, syms, vals, num, f, step=1e-6, tol=1e-6):
    """Each symbolic ``∂L/∂θ`` of a family system (``grads``; ``num`` evaluates an expression at ``vals``) equals a
    central difference of the exact loss ``f(values)`` in that parameter (``syms[name]``: a symbol or a tuple)."""
    for prm, expr in grads.items():
        name = next(n for n in vals if prm == syms[n] or prm in np.atleast_1d(syms[n]))
        lo = {k: (list(x) if isinstance(x, tuple) else x) for k, x in vals.items()}
        hi = {k: (list(x) if isinstance(x, tuple) else x) for k, x in vals.items()}
        if isinstance(vals[name], tuple):
            i = list(syms[name]).index(prm)
            lo[name][i] -= step
            hi[name][i] += step
        else:
            lo[name] -= step
            hi[name] += step
        assert num(expr) == pytest.approx((f(hi) - f(lo)) / (2 * step), abs=tol), prm


@pytest.fixture(scope="session")
def family_gradients_match():
    return _family_gradients_match


def _of_its_kind(h, p, lam, N, rng, n=16, radii=(1e-4, 1e-3)):
    """A predicted stationary point ``p`` (theory.absorption_curve) of kind ``minimum`` does not decrease the
    exact loss over ``n`` seeded random directions in the columns' span ``N`` (its kink's tangent space), at
    ``radii`` of the parameter norm, both signs (drawn here, not by check_type); a ``saddle``'s exhibited descent
    direction was confirmed."""
    from theory.absorption_curve import _pack, _unpack, exact_objective

    theta = _pack(p.W_E, p.W_D)
    n_q = p.W_E.shape[0]
    if p.kind == "minimum":
        r0 = max(1.0, float(np.linalg.norm(theta)))
        dirs = [N @ y for y in rng.normal(size=(n, N.shape[1]))]
        worst = min(exact_objective(h, *_unpack(theta + s * r * r0 * d / np.linalg.norm(d), n_q, h), lam,
                                    gradient=False)[0] - p.loss for d in dirs for r in radii for s in (1, -1))
        assert worst > -1e-12 * max(1.0, p.loss)
    elif p.kind == "saddle":
        assert p.check["confirmed"] is not False


@pytest.fixture(scope="session")
def of_its_kind():
    return _of_its_kind


def _second_differences(f, theta, step=1e-4):
    """The Hessian of ``f`` at ``theta`` by four-point central second differences (each pair of coordinates)."""
    n, e = theta.size, np.eye(theta.size)
    return np.array([[(f(theta + step * (e[i] + e[j])) - f(theta + step * (e[i] - e[j])) - f(theta - step * (e[i] - e[j]))
                       + f(theta - step * (e[i] + e[j]))) / (4 * step**2) for j in range(n)] for i in range(n)])


@pytest.fixture(scope="session")
def second_differences():
    return _second_differences


def _central_gradient(f, theta, step=1e-6):
    """The gradient of ``f`` at ``theta`` by two-point central differences, one coordinate at a time."""
    return np.array([(f(theta + e) - f(theta - e)) / (2 * step) for e in np.eye(theta.size) * step])


@pytest.fixture(scope="session")
def central_gradient():
    return _central_gradient


def _refuses(fn, text):
    """``fn()`` raises SDLInputError with exactly ``text`` (a plain string), or matching ``text`` in full
    (a compiled pattern, for messages that quote an object's repr)."""
    import re

    from theory.errors import SDLInputError

    with pytest.raises(SDLInputError) as info:
        fn()
    msg = str(info.value)
    if isinstance(text, re.Pattern):
        assert text.fullmatch(msg), msg
    else:
        assert msg == text


@pytest.fixture(scope="session")
def refuses():
    return _refuses


@pytest.fixture
def stub_claim_search(monkeypatch):
    """``stub(module, results, condition)``: a claim module's search sees ``results[seed]`` from each
    find_counterexample call, ``condition`` from search_condition, and no separate Gated search."""
    def stub(module, results, condition):
        monkeypatch.setattr(module, "find_counterexample",
                            lambda strategy, predicate, budget, seed, superposed=None: results[seed])
        monkeypatch.setattr(module, "search_condition", lambda *a, **k: condition)
        monkeypatch.setattr(module, "gated_apart", lambda: False)
    return stub
