"""Tests aimed at the classes of planted bugs of issue 12 (part 5), each against an independent value:
a hand-computed number, another algorithm, or the activation's own evaluation."""
import numpy as np
import pytest
from hypothesis import strategies as st

from proofs_check.search import SKIP, find_counterexample
from theory.activations import BatchTopK, Gated, JumpReLU, ReLU, TopK, TopKReLU
from theory.derivation import block_form, hessian, neuron_blocks
from theory.distribution import Constant, FeatureDistribution
from theory.instance import Instance
from theory.objective import approx_loss, exact_loss


def test_exact_loss_keeps_the_zero_input_term_with_biases():
    # n = 1, p = 1/2, magnitude 1, ReLU with b = 1/2, W_E = W_D = 1, b_D = 1/4 (hand-computed):
    # x = 0: reconstruction σ(b) + b_D = 3/4, error 9/16; x = 1: σ(1.5) + 1/4 = 7/4, error 9/16 → L = 9/16
    inst = Instance(W_p=np.eye(1), activation=ReLU(), encoder_bias=True,
                    distribution=FeatureDistribution(np.array([0.5]), Constant(1.0)))
    est = exact_loss(inst, np.eye(1), np.eye(1), np.array([0.5]), b_D=np.array([0.25]))
    assert est.method == "exact" and est.value == pytest.approx(9 / 16, abs=1e-15)
    # p = 1/4 weights the two events 3/4, 1/4: with b = 1, b_D = 0: x = 0 → 1, x = 1 → (2 − 1)² = 1 → L = 1
    inst2 = inst.replace(distribution=FeatureDistribution(np.array([0.25]), Constant(1.0)), weights=None)
    assert exact_loss(inst2, np.eye(1), np.eye(1), np.array([1.0])).value == pytest.approx(1.0, abs=1e-15)
    # Monte-Carlo and subset enumeration agree with the hand value within their intervals
    for method in ("monte_carlo", "subsets"):
        e = exact_loss(inst, np.eye(1), np.eye(1), np.array([0.5]), b_D=np.array([0.25]), method=method, samples=20_000)
        assert e.low - 1e-12 <= 9 / 16 <= e.high + 1e-12


@pytest.mark.parametrize("act", [ReLU(), JumpReLU(theta=0.5), TopK(k=1), TopK(k=2), TopKReLU(k=1), TopKReLU(k=2),
                                 BatchTopK(k=1), Gated(), Gated(tied=True)])
def test_region_inequalities_agree_with_the_activation(act):
    """Each family's region_constraints(mask) hold at Z exactly when active(Z) == mask (random Z, no ties),
    judged by active() alone; a different mask's constraints are violated at Z."""
    rng = np.random.default_rng(0)
    n_units = 3
    for _ in range(200):
        Z = rng.normal(size=(3, n_units * act.pre_per_unit)) + 0.5 * rng.choice([-1, 1])
        mask = act.active(Z)

        def holds(m):
            for con in act.region_constraints(m):
                lhs = sum(c * Z[cell] for cell, c in con.terms)
                if not (lhs < con.rhs if con.strict else lhs <= con.rhs):
                    return False
            return act.mask_is_possible(m) is None
        assert holds(mask)
        other = mask.copy()
        other[rng.integers(3), rng.integers(n_units)] ^= True
        assert not holds(other)


def test_jumprelu_on_inequality_has_the_threshold_sign_by_hand():
    act = JumpReLU(theta=0.5)
    (on,) = act.region_constraints(np.array([[True]]))
    (off,) = act.region_constraints(np.array([[False]]))
    # on: −z < −θ; off: z < θ (strict: z = θ is in neither)
    assert on.terms == (((0, 0), -1.0),) and on.rhs == -0.5 and on.strict
    assert off.terms == (((0, 0), 1.0),) and off.rhs == 0.5 and off.strict


def test_search_counts_skips_apart_from_held():
    seen = {"held": 0, "skip": 0}

    def pred(x):
        if x % 2:
            seen["skip"] += 1
            return SKIP
        seen["held"] += 1
        return None

    r = find_counterexample(st.integers(0, 10_000), pred, budget=30, seed=3)
    assert not r.found and r.tried == 30
    assert (r.held, r.skipped) == (seen["held"], seen["skip"]) and r.held + r.skipped == r.tried


def test_search_returns_the_smallest_failure_after_the_shrink_cap():
    failing = []

    def pred(x):
        if x >= 100:
            failing.append(x)
            return {"x": x}
        return None

    for cap in (1, 3, 10):
        failing.clear()
        r = find_counterexample(st.integers(0, 10**6), pred, budget=50, seed=0, shrink_budget=cap)
        assert r.found and r.example == min(failing) and r.details == {"x": r.example}


def test_block_hessian_in_u_has_its_factor_two():
    # one neuron on features with activations a = (1, 2), M = (1, 1): L = Σ_d ||w_r^d − a_d u||², ∇²_u = 2 Σ a_d² I = 10 I
    bf = block_form()
    S = bf.symbols
    expr = bf.hess_uu.subs({S["m"]: 2}).doit().subs({S["M"][1]: 1, S["M"][2]: 1, S["a"][1]: 1, S["a"][2]: 2})
    assert float(expr) == pytest.approx(10.0)
    # the same number from the matrix-form Hessian (another derivation): DD block of a 1-neuron model
    inst = Instance(W_p=np.eye(2), weights=[1.0, 1.0])
    h = hessian(inst, np.ones((2, 1)), np.array([[1.0, 2.0]]))
    np.testing.assert_allclose(h.DD, 10.0 * np.eye(2))
    blk = neuron_blocks(inst, np.ones((2, 1)), np.array([[1.0, 2.0]]))[0]
    np.testing.assert_allclose(blk.activations, [1.0, 2.0])


def test_c1_status_by_hand_and_on_the_minimal_counterexample():
    from proofs_check.c1_loss_approximation import _status, check_instance

    exact = {"L2_exact": True, "D": 0.125, "P2": 0.0, "bound_per_C": 0.25, "C_low": 0.25, "C_high": 0.25}
    assert _status(exact | {"gap": 0.125}) == "fails"  # 0.125 > 0.0625
    assert _status(exact | {"gap": 0.05}) == "holds"
    # C only bracketed (continuous magnitudes): between n²p² C_low and n²p² C_high nothing is decided
    wide = exact | {"C_low": 0.25, "C_high": 1.0}
    assert _status(wide | {"gap": 0.125}) == "inconclusive" and _status(wide | {"gap": 0.3}) == "fails"
    brk = {"L2_exact": False, "gap": None, "bound_per_C": 0.1, "C_low": 1.0, "C_high": 1.0}
    assert _status(brk | {"D": 0.2, "P2": 0.0}) == "fails"          # D > n²p² C_high
    assert _status(brk | {"D": -0.3, "P2": 0.1}) == "fails"         # −D − P2 C > n²p² C
    assert _status(brk | {"D": 0.01, "P2": 0.02}) == "holds"        # D <= (n²p² − P2) C_low
    assert _status(brk | {"D": -0.05, "P2": 0.02}) == "holds"       # −D <= n²p² C_low
    assert _status(brk | {"D": 0.09, "P2": 0.05}) == "inconclusive"  # neither side decided
    # JumpReLU(θ = 0.5), n = 1, p = 1/2, magnitude 1/2, W_E = W_D = 1 (by hand): L = ½·(½)² = 1/8 (the half-size
    # input stays below θ), L̃ = 0 (the unit-size input clears it): |L − L̃| = 1/8 > n² C p² = 1/16
    inst = Instance(W_p=np.eye(1), activation=JumpReLU(theta=0.5),
                    distribution=FeatureDistribution(np.array([0.5]), Constant(0.5)))
    v = check_instance(inst, W_D=np.eye(1), W_E=np.eye(1))
    assert v.status == "fails" and v.numbers["gap"] == pytest.approx(0.125) and v.numbers["L_tilde"] == pytest.approx(0.0)
    # ReLU, n = 1, no bias: L = p E[m²] ℓ(1) = L̃ exactly, so the gap is 0 and the bound holds
    v = check_instance(inst.replace(activation=ReLU()), W_D=np.array([[0.7]]), W_E=np.array([[1.3]]))
    assert v.status == "holds" and v.numbers["gap"] == pytest.approx(0.0, abs=1e-15)


def test_shrinkage_switches_the_latent_off_by_hand():
    from theory.shrinkage import assumptions, event_loss, predict

    # no bias, magnitude 1: ℓ(t) = (1 − t)² + λ t; λ = 1: t* = ½, ℓ = ¾; λ = 3: ℓ'(0) = 1 > 0, so t* = 0, ℓ = 1
    on, off = predict(1.0, Constant(1.0)), predict(3.0, Constant(1.0))
    assert (on.scale, on.event_loss) == (pytest.approx(0.5), pytest.approx(0.75))
    assert (off.scale, off.event_loss, off.mean_ratio) == (0.0, pytest.approx(1.0), 0.0)
    assert any("switches off" in u for u in assumptions(3.0, Constant(1.0), False))
    assert not any("switches off" in u for u in assumptions(1.0, Constant(1.0), False))
    # a grid search over t (another algorithm) lands on the same optima
    m = np.ones(1)
    for lam, pred in ((1.0, on), (3.0, off)):
        ts = np.linspace(0, 2, 20001)
        best = ts[np.argmin([event_loss(t, 0.0, lam, m) for t in ts])]
        assert best == pytest.approx(pred.scale, abs=1e-4)


def test_an_undecided_c6_instance_is_reported_inconclusive():
    from proofs_check import check
    from theory.partial_optimum import stationary_points_exhaust

    # 3 features in R², JumpReLU(θ = 0.25): dependent columns (rank 2 < 3), so the stationary solver is not
    # exact, and ACS finds no partial minimum: undecided, never "holds" or "fails"
    W_p = np.array([[0.77900466586666, 0.7207614687242684, 0.4907366647952067],
                    [0.6270181261797569, -0.693183168579875, 0.8713079397237679]])
    inst = Instance(W_p=W_p, weights=[0.2565480825881614, 0.25, 0.7482668128317524], activation=JumpReLU(theta=0.25))
    assert np.linalg.matrix_rank(W_p) == 2 and not stationary_points_exhaust(inst)
    v = check("C6", inst, pattern=[{0, 1, 2}, set(), set()])
    assert v.status == "inconclusive"
