"""theory.derivation's automatic method choice: "symbolic" (lambdified sympy forms) when n · n_q² <= 200 000,
else "vectorized"; explicit names pass through, anything else is refused. On a small instance gradients(method="auto")
takes the symbolic path (it builds the lambdified functions) and its gradients are the hand-computed ones.

By hand: W_p = I₂, weights M = (1, 3), ReLU, W_E = I, W_D = ½ I. Feature d's pre-activation is e_d (on), its residual
r_d = e_d − ½ e_d = ½ e_d, so ∂L/∂W_D = −2 Σ_d M_d r_d s_dᵀ = −diag(M) = diag(−1, −3) and
∂L/∂W_E = −2 Σ_d M_d (S_d W_Dᵀ r_d) w_p^dᵀ = −½ diag(M) = diag(−0.5, −1.5)."""
import numpy as np
import pytest

from theory import derivation
from theory.instance import Instance


def test_auto_chooses_symbolic_up_to_the_size_limit():
    five = Instance(W_p=np.eye(5))
    assert derivation._choose("auto", five, 200) == "symbolic"  # 5 · 200² = 200 000
    assert derivation._choose("auto", five, 201) == "vectorized"  # 5 · 201² = 202 005
    assert derivation._choose("auto", Instance(W_p=np.eye(2)), 2) == "symbolic"
    assert derivation._choose("symbolic", five, 1000) == "symbolic"
    assert derivation._choose("vectorized", five, 1) == "vectorized"


def test_auto_gradients_on_a_small_instance_take_the_symbolic_path(monkeypatch):
    inst = Instance(W_p=np.eye(2), weights=[1.0, 3.0])
    calls = []
    real = derivation._functions

    def spy(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(derivation, "_functions", spy)
    g = derivation.gradients(inst, 0.5 * np.eye(2), np.eye(2))
    assert calls, "method='auto' on a 2-feature instance did not use the symbolic functions"
    assert np.asarray(g.W_D, float) == pytest.approx(np.diag([-1.0, -3.0]), abs=1e-12)
    assert np.asarray(g.W_E, float) == pytest.approx(np.diag([-0.5, -1.5]), abs=1e-12)
    calls.clear()
    g = derivation.gradients(inst, 0.5 * np.eye(2), np.eye(2), method="vectorized")
    assert not calls and np.asarray(g.W_D, float) == pytest.approx(np.diag([-1.0, -3.0]), abs=1e-12)
