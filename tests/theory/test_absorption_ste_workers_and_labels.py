"""theory.absorption_ste: ste_field_zeros with workers = 2 (the starts in two processes) returns what one process
returns, in the same order, and the identity start's zero is the hand value (loss λ E[#active] = 0.1 (0.2 · 1 +
0.8 · 2) = 0.18, see test_absorption_ste_zeros); classify_zero's coordinate labels as the code writes them,
"log θ[i]" in log storage and "θ[i]" in direct storage, read off a hand-made Jacobian whose zero columns are chosen."""
import numpy as np
import pytest

from theory.absorption_curve import Hierarchy
from theory.absorption_ste import classify_zero, ste_field_zeros

H1 = Hierarchy(1)  # n_p = n_r = n_q = 2


def test_two_workers_give_the_one_worker_result():
    starts = [((np.eye(2), np.eye(2)), {"a": 1}),
              ((np.array([[0.97, -0.41], [0.03, 1.06]]), np.array([[1.03, 0.39], [-0.02, 0.93]])), {"a": 2}),
              ((np.eye(2), np.eye(2)), {"a": 3})]
    kw = dict(starts=starts, schedule=((5, 1e-2),), max_nfev=10)
    one = ste_field_zeros(H1, 0.1, 0.5, 0.05, **kw)
    two = ste_field_zeros(H1, 0.1, 0.5, 0.05, workers=2, **kw)
    assert one, "no zero found from the identity"
    ident = [p for p in one if p["start"] == {"a": 1}]
    assert len(ident) == 1 and ident[0]["loss"] == pytest.approx(0.18, abs=1e-12) and ident[0]["n_starts"] >= 2
    assert len(two) == len(one)
    for p, q in zip(one, two):
        assert p.keys() == q.keys() and p["start"] == q["start"] and p["n_starts"] == q["n_starts"]
        assert p["loss"] == q["loss"] and p["W_E"] == q["W_E"] and p["W_D"] == q["W_D"]


@pytest.mark.parametrize("storage, theta_label", [("log", "log θ"), ("direct", "θ")])
def test_neutral_labels_of_both_storages(storage, theta_label):
    # coordinates: W_E[0,0] W_E[0,1] W_E[1,0] W_E[1,1] | W_D[0,0] W_D[0,1] W_D[1,0] W_D[1,1] | θ[0] θ[1]
    J = np.diag([1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 6.0, 7.0, 0.0, 0.0])
    J[0, 0] = 0.0
    out = classify_zero(H1, np.eye(2), np.eye(2), 0.1, np.full(2, 0.5), 0.05, storage=storage, J=J)
    assert out["neutral"] == ["W_E[0,0]", "W_D[0,1]", f"{theta_label}[0]", f"{theta_label}[1]"]
    assert out["n_conserved"] == 2  # both latents fire (W_E = I, θ = 0.5 below every magnitude >= 1)
