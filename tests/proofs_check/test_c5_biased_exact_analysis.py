"""C5's exact analysis on an instance with an encoder bias (the example's σ, features and point, plus a bias),
against L̃ and its gradients computed by hand."""
import numpy as np
import sympy as sp

from proofs_check import c5_example as c5
from theory import Instance
from theory.activations import TopKReLU

BIASED = Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=TopKReLU(k=1), encoder_bias=True)


def test_the_bias_enters_the_exact_loss_and_gradients():
    """b_E = (1/2, −1): neuron 1's pre-activation is a_d = E_1d + b_1 = 3/2 for both features (neuron 2's is −1,
    never kept), so with u = W_D's first column (1/2, 1/2): r_1 = e_1 − (3/4, 3/4) = (1/4, −3/4),
    r_2 = (−3/4, 1/4), L̃ = 2·(1/16 + 9/16) = 5/4. ∂L̃/∂a_d = −2 u·r_d = 1/2, so ∂L̃/∂E_1j = 1/2 and
    ∂L̃/∂b_1 = 1/2 + 1/2 = 1 (neuron 2: 0); ∂L̃/∂D_r1 = −2 Σ_d r_d[r] a_d = −3·(−1/2) = 3/2 (column 2: 0)."""
    a = c5._exact_analysis(BIASED, c5.EXAMPLE_W_D, c5.EXAMPLE_W_E, np.array([0.5, -1.0]))
    R = sp.Rational
    assert a["loss"] == R(5, 4)
    assert list(a["grad_E"]) == [R(1, 2), R(1, 2), 0, 0, 1, 0]   # E_00, E_01, E_10, E_11, b_0, b_1
    assert list(a["grad_D"]) == [R(3, 2), 0, R(3, 2), 0]         # D_00, D_01, D_10, D_11
    # Hessians: H_DD = diag(2 Σ a_d² = 9 on column 1, 0 on column 2), H_EE has the kernel of the unused neuron
    assert abs(a["min_eig_DD"]) < 1e-12 and abs(a["min_eig_EE"]) < 1e-12
    v = c5.check_instance(BIASED, W_D=c5.EXAMPLE_W_D, W_E=c5.EXAMPLE_W_E, b_E=[0.5, -1.0])
    assert v.status == "fails"
    assert (v.numbers["loss_exact"], v.numbers["max_abs_grad_W_D"], v.numbers["max_abs_grad_W_E"]) == ("5/4", 1.5, 1.0)


def test_a_biased_instance_without_a_bias_vector_is_analysed_at_zero_bias():
    """b_E = None on a biased instance: the bias symbols are set to 0, so this is the example point itself:
    L̃ = 1 and every gradient (bias entries included) vanishes."""
    a = c5._exact_analysis(BIASED, c5.EXAMPLE_W_D, c5.EXAMPLE_W_E, None)
    assert a["loss"] == 1
    assert list(a["grad_E"]) == [0] * 6 and list(a["grad_D"]) == [0] * 4
