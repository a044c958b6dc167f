"""C8: dead neurons belong to the partial minima of L̃, and gradient descent can stay there.

A neuron is dead when ``F_i = ∅``: no single feature switches it on. Three statements are checked:

1. (L̃, symbolic) both gradient blocks of a dead neuron vanish: ``∂L̃/∂W_D^i = −2 Σ_d M_d r_d s_{d,i} = 0``
   and ``∂L̃/∂w_E^i = −2 Σ_d M_d (S_d W_Dᵀ r_d)_i w_p^d = 0`` since ``s_{d,i} = (S_d)_{ii} = 0`` for every d.
   So L̃ does not depend on the neuron's parameters inside Ω_P: adding a dead neuron to a partial
   minimum keeps it one, and gradient descent on L̃ never moves its row — for per-neuron families
   (ReLU, JumpReLU) it stays dead forever.
2. (L, what training minimises) a neuron dead on every single feature at unit magnitude can fire on
   other inputs of the data: sums of features (JumpReLU with θ > 0: each ``z_d <= θ`` but
   ``z_1 + z_2 > θ``; TopK: never top-k alone, top-k for a sum; with an encoder bias), or a single
   feature at a larger magnitude. There its L-gradient is non-zero and gradient descent on L moves
   it (checked by exact enumeration of the active sets, a seeded Monte-Carlo sample for random
   magnitudes, and a short gradient-descent run on L).
3. (symbolic) ReLU without bias and ``x >= 0``: ``z(x) = Σ_d x_d z_d <= 0`` when every ``z_d <= 0``, so a
   neuron dead on single features is dead on every input and stays dead under L as well.

Verdict: "holds" when the dead neurons are dead on the whole support of the distribution (then both
L̃ and L leave them where they are); "fails" with the input that revives one otherwise (the L̃ part
still holds and is reported). Corrected condition: ReLU without encoder bias, or in general "dead on
the support of the data", which the toolkit decides by enumeration.
"""
from __future__ import annotations

from dataclasses import dataclass

import itertools
from functools import lru_cache

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from proofs_check.algebra import equality_step
from proofs_check.claim import Claim
from theory.partial_optimum import interior_point, is_partial_minimum
from proofs_check.search import (GATED, SKIP, describe_families, families_searched, find_counterexample, gated_apart,
                                 search_condition)
from proofs_check.verdict import MIN_MET, CorrectedCondition, Reading, StepCheck, Verdict, merged_counts, with_part
from theory.derivation import gradients, least_squares_decoder
from theory.distribution import FeatureDistribution
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.patterns import ActivationPattern, pattern_of, region
from theory.activations import ReLU
from theory.strategies import instances, searched_families, seeds

@dataclass(frozen=True)
class Options:
    """The options of ``check_instance`` (``check("C8", instance, **options)``)."""

    W_E: object = None  # the encoder with the dead neuron
    b_E: object = None  # the encoder bias
    W_D: object = None  # the decoder


CLAIM = Claim(
    id="C8",
    title="Dead neurons sit in partial minima and gradient descent can stay there",
    paper_ref="Sec. 3 (dead neurons)",
    statement=(
        "Neurons with F_i = ∅ belong to partial minima of L̃ (their gradients vanish), so gradient descent can stay "
        "at such points with the neurons dead."
    ),
)

DEFAULT_P_ACTIVE = 0.2
GRAD_TOL = 1e-9


# --------------------------------------------------------------------------------------------
# Symbolic steps
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _proof_steps() -> tuple[StepCheck, ...]:
    # Two features, n_p = n_r = n_q = 2, fully symbolic entries; neuron 2 dead (S_d = diag(s_d, 0)),
    # neuron 1 on for feature d iff s_d = 1 (any pattern), with an encoder bias.
    E = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"E_{i}{j}", real=True))
    D = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"D_{i}{j}", real=True))
    b = sp.Matrix(sp.symbols("b_0 b_1", real=True))
    loss = sp.Integer(0)
    for d in range(2):
        wp = sp.Matrix(sp.symbols(f"p_{d}0 p_{d}1", real=True))
        wr = sp.Matrix(sp.symbols(f"r_{d}0 r_{d}1", real=True))
        s = sp.Symbol(f"s_{d}", nonnegative=True)
        S = sp.diag(s, 0)
        r = wr - D * S * (E * wp + b)
        loss += sp.Symbol(f"M_{d}", positive=True) * (r.T * r)[0, 0]
    dead_params = [D[0, 1], D[1, 1], E[1, 0], E[1, 1], b[1]]
    grads = sp.Matrix([sp.diff(loss, v) for v in dead_params])
    x = sp.symbols("x_1:4", nonnegative=True)
    z = sp.symbols("z_1:4", nonpositive=True)
    relu_sum = sum(xi * zi for xi, zi in zip(x, z))
    z1, z2, theta, bb = sp.Rational(1, 2), sp.Rational(1, 2), sp.Rational(3, 5), 0
    steps = [
        equality_step("dead neuron gradients vanish",
                      "∂L̃/∂(W_D column, w_E row, b) of a neuron with S_d[i,i] = 0 for all d is 0 (symbolic entries, any pattern of the others)",
                      grads, sp.zeros(len(dead_params), 1)),
        StepCheck("ReLU without bias: dead on singles ⇒ dead on all x >= 0",
                  "z(x) = Σ_d x_d z_d <= 0 for x_d >= 0, z_d <= 0",
                  bool(relu_sum.is_nonpositive), "0" if relu_sum.is_nonpositive else str(relu_sum), None,
                  "sympy decides the sign from the assumptions x_d >= 0, z_d <= 0"),
        StepCheck("threshold or bias: dead on singles ⇒ dead on sums",
                  "z_1 + b <= θ and z_2 + b <= θ imply z_1 + z_2 + b <= θ",
                  bool(z1 + z2 + bb <= theta), str(z1 + z2 + bb - theta),
                  {"z_1": str(z1), "z_2": str(z2), "theta": str(theta), "b": str(bb), "z_1 + z_2 + b - theta": str(z1 + z2 + bb - theta)},
                  "JumpReLU(θ = 3/5): each feature alone is below θ, their sum is above; likewise ReLU with b = −1, z_d = 1"),
    ]
    return tuple(steps)


def proof_steps() -> list[StepCheck]:
    return list(_proof_steps())


# --------------------------------------------------------------------------------------------
# The exact loss over the support: inputs, gradient, gradient descent
# --------------------------------------------------------------------------------------------


def _with_distribution(instance: Instance) -> Instance:
    if instance.distribution is not None:
        return instance
    return instance.replace(weights=None, distribution=FeatureDistribution.uniform(instance.n, DEFAULT_P_ACTIVE))


def support_inputs(instance: Instance, seed: int = 0, draws: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """``(X, π)``: every active set of the distribution with weights π. Constant magnitudes: exact
    (one input per set, π its probability). Otherwise ``draws`` seeded magnitude draws per set plus
    the set at magnitudes 1 and at the 99th percentile of the magnitude law (π split evenly)."""
    dist = instance.distribution
    n = instance.n
    if n > 10:
        raise SDLInputError(f"C8 enumerates the 2^n active sets; use n <= 10 (got n = {n})")
    p = dist.for_n(n)
    rng = np.random.default_rng(seed)
    masks = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    probs = np.prod(np.where(masks > 0, p, 1 - p), axis=1)
    if dist.magnitude.is_constant:
        return masks * dist.magnitude.sample(None, 1)[0], probs
    hi = float(np.quantile(dist.magnitude.sample(np.random.default_rng(seed + 1), 4000), 0.99))
    X, w = [], []
    for m, pr in zip(masks, probs):
        mags = [np.ones(n), np.full(n, hi)] + [dist.magnitude.sample(rng, n) for _ in range(draws)]
        for mag in mags:
            X.append(m * mag)
            w.append(pr / len(mags))
    return np.array(X), np.array(w)


def _forward(instance: Instance, X, W_D, W_E, b):
    act = instance.activation if instance.activation.per_sample else instance.activation.at_inference()
    Z = X @ (W_E @ instance.W_p).T + (0.0 if b is None else b)
    on = act.active(Z)
    H = act.evaluate(Z)
    R = X @ instance.W_r.T - H @ W_D.T
    return on, H, R, act


def unit_rows(activation, units, n_pre: int) -> list[int]:
    """The encoder rows (and bias entries) of ``units``: one per unit, or a Gated unit's gate and magnitude rows."""
    q = activation.n_units(n_pre)
    return [int(i) + j * q for j in range(activation.pre_per_unit) for i in units]


def exact_gradients(instance: Instance, X, probs, W_D, W_E, b):
    """Gradients of ``L = Σ_s π_s ||W_r x_s − W_D σ(W_E W_p x_s + b)||²`` (through the units that are on:
    ``σ(z_s) = C_s z_s`` on the region of sample s, so ``∂L/∂z_s = −2 C_sᵀ W_Dᵀ r_s π_s``)."""
    on, H, R, act = _forward(instance, X, W_D, W_E, b)
    PR = probs[:, None] * R
    gD = -2 * PR.T @ H
    back = np.einsum("sq,sqp->sp", PR @ W_D, act.output_matrix(on))  # ∂L/∂z up to −2
    gE = -2 * back.T @ (X @ instance.W_p.T)
    gb = -2 * back.sum(axis=0)
    loss = float(probs @ np.einsum("sr,sr->s", R, R))
    return loss, gD, gE, gb


def gradient_descent_on_L(instance: Instance, X, probs, W_D, W_E, b, *, steps: int = 300, lr: float = 0.1):
    """Gradient descent on L over the enumerated support, with the step halved until the loss does not
    increase (L is piecewise quadratic; a fixed step diverges for large magnitudes). Returns the final
    parameters and the first and last losses."""
    W_D, W_E = W_D.copy(), W_E.copy()
    b = None if b is None else b.copy()
    T = instance.activation.tie_basis(instance.activation.n_units(W_E.shape[0]), W_E.shape[1], b is not None)
    proj = None if T is None else T @ np.linalg.pinv(T)  # a tied family (Gated): steps stay in its subspace

    def grads(D, E, bb):
        out = exact_gradients(instance, X, probs, D, E, bb)
        if proj is None:
            return out
        v = proj @ np.concatenate([out[2].ravel(), [] if bb is None else out[3]])
        return out[0], out[1], v[:E.size].reshape(E.shape), None if bb is None else v[E.size:]

    loss, gD, gE, gb = grads(W_D, W_E, b)
    first = loss
    for _ in range(steps):
        step = lr
        while True:
            D2, E2 = W_D - step * gD, W_E - step * gE
            b2 = None if b is None else b - step * gb
            new = grads(D2, E2, b2)
            if new[0] <= loss or step < 1e-10:
                break
            step /= 2
        if new[0] > loss:  # no descent step exists along the gradient: a (piecewise) stationary point
            break
        W_D, W_E, b = D2, E2, b2
        loss, gD, gE, gb = new
    return W_D, W_E, b, first, loss


def dead_on_support(instance: Instance, X, W_E, b, neurons) -> dict:
    """Inputs of the support on which a neuron dead on single features fires (the smallest one)."""
    act = instance.activation if instance.activation.per_sample else instance.activation.at_inference()
    Z = X @ (W_E @ instance.W_p).T + (0.0 if b is None else b)
    on = act.active(Z)
    out = {}
    for i in neurons:
        rows = np.flatnonzero(on[:, i])
        if rows.size:
            s = rows[np.argmin([np.count_nonzero(X[r]) for r in rows])]
            out[i] = {"fires_on": X[s].tolist(), "pre_activation": float(Z[s, i]), "inputs_firing": int(rows.size)}
    return out


# --------------------------------------------------------------------------------------------
# Points with a dead neuron
# --------------------------------------------------------------------------------------------


def near_boundary_dead_point(instance: Instance, firing, seed: int = 0):
    """An encoder with pattern ``firing`` (its last neurons dead) whose dead rows are pushed from the LP's
    interior point towards a random row as far as they stay dead on single features ("just dead")."""
    P = ActivationPattern.from_sets(firing, instance.n)
    R = region(instance, P)
    point = interior_point(R)
    if point is None:
        return None
    W_E, b = point
    rng = np.random.default_rng(seed)
    for unit in P.dead_neurons:
        i = unit_rows(instance.activation, [unit], W_E.shape[0])  # every row of the unit moves to the same target
        target = rng.normal(size=instance.n_p) * 2.0
        tb = float(rng.normal()) if b is not None else None
        lo, hi = 0.0, 1.0
        for _ in range(30):  # bisection on the segment: stay in Ω_P with the same numeric pattern
            t = (lo + hi) / 2
            W2, b2 = W_E.copy(), None if b is None else b.copy()
            W2[i] = (1 - t) * W_E[i] + t * target
            if b2 is not None:
                b2[i] = (1 - t) * b[i] + t * tb
            if R.contains(W2, b2) and pattern_of(instance, W2, b2).firing == P.firing:
                lo = t
            else:
                hi = t
        W_E[i] = (1 - lo * 0.999) * W_E[i] + lo * 0.999 * target
        if b is not None:
            b[i] = (1 - lo * 0.999) * b[i] + lo * 0.999 * tb
    return W_E, b


# --------------------------------------------------------------------------------------------
# Hypotheses, per-instance check
# --------------------------------------------------------------------------------------------


def hypotheses(instance: Instance, W_E=None, b_E=None) -> list[str]:
    unmet = []
    if W_E is None:
        return ["an encoder W_E with a dead neuron is needed"]
    if not pattern_of(instance, W_E, b_E).dead_neurons:
        unmet.append("the encoder has no dead neuron (some F_i = ∅ is needed)")
    act = instance.activation
    if not act.per_sample and getattr(act, "threshold", None) is None:
        unmet.append(f"{act.describe()} needs an inference threshold to define the per-sample σ of the exact loss")
    if instance.n > 10:
        unmet.append("n <= 10 (the support is enumerated)")
    return unmet


def analyse(instance: Instance, W_E, b_E=None, W_D=None, *, seed: int = 0, gd_steps: int = 200) -> dict:
    """Everything C8 says about the dead neurons of ``W_E`` (L̃ gradients, partial minimum, L on the support)."""
    W_E = np.asarray(W_E, dtype=float)
    b = None if b_E is None else np.asarray(b_E, dtype=float)
    P = pattern_of(instance, W_E, b)
    dead = P.dead_neurons
    rows = unit_rows(instance.activation, dead, W_E.shape[0])  # the dead units' encoder rows (gate and magnitude)
    W_D = least_squares_decoder(instance, W_E, b) if W_D is None else np.asarray(W_D, dtype=float)
    g = gradients(instance, W_D, W_E, b, method="vectorized")
    approx_grad = float(max(np.abs(g.W_D[:, dead]).max(), np.abs(g.W_E[rows]).max(),
                            0.0 if g.b_E is None else np.abs(g.b_E[rows]).max()))
    pm = is_partial_minimum(instance, W_D, W_E, b, P)
    full = _with_distribution(instance)
    X, probs = support_inputs(full, seed)
    fires = dead_on_support(full, X, W_E, b, dead)
    _, gD, gE, gb = exact_gradients(full, X, probs, W_D, W_E, b)
    exact_grad = float(max(np.abs(gD[:, dead]).max(), np.abs(gE[rows]).max(), 0.0 if b is None else np.abs(gb[rows]).max()))
    # the same descent on L̃ itself: the single features at unit magnitude weighted by M_d
    _, W_Ea, b_a, _, _ = gradient_descent_on_L(instance, np.eye(instance.n), np.asarray(instance.weights), W_D, W_E, b,
                                                steps=gd_steps)
    revived_approx = [i for i in dead if i not in pattern_of(instance, W_Ea, b_a).dead_neurons]
    W_D2, W_E2, b2, first, last = gradient_descent_on_L(full, X, probs, W_D, W_E, b, steps=gd_steps)
    moved = float(np.abs(W_E2[rows] - W_E[rows]).max() + (0.0 if b is None else np.abs(b2[rows] - b[rows]).max()))
    revived = [i for i in dead if i not in pattern_of(instance, W_E2, b2).dead_neurons]
    return {
        "pattern": P.to_json(), "dead_neurons": dead,
        "approx_loss_dead_gradient": approx_grad,
        "partial_minimum_with_dead_neurons": pm.is_partial_minimum, "partial_minimum_check": pm.reason,
        "distribution": full.distribution.to_json(), "support_inputs": int(len(X)),
        "fires_on_support": {str(k): v for k, v in fires.items()},
        "exact_loss_dead_gradient": exact_grad,
        "gd_on_approx_loss": {"steps": gd_steps, "dead_rows_moved_by": float(np.abs(W_Ea[rows] - W_E[rows]).max()),
                              "revived_on_single_features": revived_approx},
        "gd_on_L": {"steps": gd_steps, "loss_start": first, "loss_end": last, "dead_rows_moved_by": moved,
                    "revived_on_single_features": revived},
        "outcome": "fails" if fires and exact_grad > GRAD_TOL else "holds",
    }


def _default_point(instance: Instance, seed: int):
    """Monosemantic neurons plus one dead neuron (or one neuron on all features plus a dead one)."""
    for firing in ([{d} for d in range(instance.n)] + [set()], [set(range(instance.n)), set()]):
        pt = near_boundary_dead_point(instance, firing, seed)
        if pt is not None:
            return pt
    return None


def _corrected_text(verified: bool, evidence: str, counts: dict | None = None) -> CorrectedCondition:
    return CorrectedCondition(
        text=("Under the exact loss L a dead neuron stays dead iff it is dead on the support of the data (decided here by "
              "enumeration). Sufficient: ReLU (or a Gated unit, whose gate decides) without encoder bias and non-negative "
              "features (Σ_d x_d z_d <= 0 when every z_d <= 0). With a threshold θ > 0, an encoder bias, TopK competition or magnitudes other than 1, 'dead on "
              "single unit-magnitude features' (F_i = ∅) does not imply it, and gradient descent on L revives the neuron."),
        sympy="Implies(And(*[z_d <= 0 for d]), Sum(x_d*z_d, d) <= 0)",
        verified=verified, kind="sufficient", counts=counts,
        evidence=evidence,
    )


def check_instance(instance: Instance, *, seed: int = 0, budget: int = 40, W_E=None, b_E=None, W_D=None, **kw) -> Verdict:
    """C8 at ``W_E`` (default: monosemantic neurons plus one just-dead neuron, seeded). Without a
    distribution on the instance, L uses independent features active with probability 0.2, magnitude 1."""
    if kw:
        raise SDLInputError(f"C8 takes W_E (b_E) and W_D, not {sorted(kw)}")
    steps = tuple(proof_steps())
    if W_E is None:
        pt = _default_point(instance, seed)
        if pt is None:
            return Verdict("C8", CLAIM.title, "hypotheses_not_met", "no realizable pattern with a dead neuron on this instance",
                           steps=steps, seed=seed, budget=budget)
        W_E, b_E = pt
    unmet = hypotheses(instance, W_E, b_E)
    if unmet:
        return Verdict("C8", CLAIM.title, "hypotheses_not_met", "; ".join(unmet), steps=steps, seed=seed, budget=budget)
    a = analyse(instance, W_E, b_E, W_D, seed=seed)
    numbers = a | {"W_E": np.asarray(W_E).tolist(), "b_E": None if b_E is None else np.asarray(b_E).tolist()}
    lt = (f"L̃ part holds: the dead neurons' L̃-gradient is {a['approx_loss_dead_gradient']:.2g}"
          f"{' and the point is a partial minimum' if a['partial_minimum_with_dead_neurons'] else ''}")
    if a["outcome"] == "holds":
        return Verdict("C8", CLAIM.title, "holds",
                       f"{lt}; the dead neurons {a['dead_neurons']} are dead on all {a['support_inputs']} support inputs, so the "
                       f"exact loss L leaves them too (gradient {a['exact_loss_dead_gradient']:.2g})",
                       None, None, steps, numbers, seed, budget)
    i, f = next(iter(a["fires_on_support"].items()))
    ce = {"instance": instance.to_json(), "W_E": np.asarray(W_E).tolist(),
          "b_E": None if b_E is None else np.asarray(b_E).tolist(), "dead_neuron": int(i), "fires_on": f,
          "exact_loss_dead_gradient": a["exact_loss_dead_gradient"], "gd_on_L": a["gd_on_L"]}
    return Verdict("C8", CLAIM.title, "fails",
                   f"{lt}; but dead neuron {i} fires on the input x = {f['fires_on']} of the data (pre-activation "
                   f"{f['pre_activation']:.4g}), its gradient under the exact loss L is {a['exact_loss_dead_gradient']:.3g}, and "
                   f"{a['gd_on_L']['steps']} steps of gradient descent on L move its row by {a['gd_on_L']['dead_rows_moved_by']:.3g}"
                   f" (revived on single features: {a['gd_on_L']['revived_on_single_features']})",
                   ce, _corrected_text(not (rep := _corrected_search(min(budget, 20), seed)).found,
                                       f"search restricted to ReLU without bias: {rep.summary()}", merged_counts(rep)),
                   steps, numbers, seed, budget)


# --------------------------------------------------------------------------------------------
# Adversarial search
# --------------------------------------------------------------------------------------------


@st.composite
def _space(draw, relu_no_bias: bool = False, families=None, bias=None):
    """Every per-sample family (BatchTopK at inference), bias or not, SAE or transcoder, n > n_p or not,
    random distributions (constant / exponential / uniform magnitudes); a random pattern of the live
    neurons plus 1–2 just-dead neurons."""
    if relu_no_bias:
        inst = draw(instances(min_n=2, max_n=3, max_dim=3, families=(ReLU.name,), bias=False, with_distribution=True))
    else:
        inst = draw(instances(min_n=2, max_n=3, max_dim=3,
                              families=searched_families(per_sample=True) if families is None else families,
                              with_distribution=True, bias=bias))
    live = draw(st.integers(1, inst.n))
    labels = draw(st.lists(st.integers(0, live - 1), min_size=inst.n, max_size=inst.n))
    firing = [set() for _ in range(live)]
    for d, lab in enumerate(labels):
        firing[lab].add(d)
    firing += [set() for _ in range(draw(st.integers(1, 2)))]
    return inst, firing, draw(seeds)


def _predicate(example):
    inst, firing, seed = example
    pt = near_boundary_dead_point(inst, firing, seed)
    if pt is None:
        return SKIP
    W_E, b = pt
    if hypotheses(inst, W_E, b):
        return SKIP
    a = analyse(inst, W_E, b, seed=0, gd_steps=60)
    if a["outcome"] == "holds":
        return None
    return {"instance": inst.to_json(), "W_E": W_E.tolist(), "b_E": None if b is None else b.tolist(),
            "pattern": a["pattern"], "fires_on_support": a["fires_on_support"],
            "exact_loss_dead_gradient": a["exact_loss_dead_gradient"], "gd_on_L": a["gd_on_L"]}


def hand_instances() -> dict[str, tuple[Instance, np.ndarray, np.ndarray | None]]:
    """One small instance per mechanism by which a neuron dead on single features fires on the data."""
    from theory.activations import JumpReLU, ReLU, TopKReLU

    return {
        "JumpReLU θ = 0.6, sum of two features": (Instance(W_p=np.eye(3), weights=np.ones(3), activation=JumpReLU(theta=0.6)),
                                                  np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.5]]), None),
        "Top-1∘ReLU, sum wins the competition": (Instance(W_p=np.eye(2), weights=np.ones(2), activation=TopKReLU(k=1)),
                                                 np.array([[1.0, -1.0], [-1.0, 1.0], [0.4, 0.4]]), None),
        "ReLU with bias, sum above −b": (Instance(W_p=np.eye(3), weights=np.ones(3), activation=ReLU(), encoder_bias=True),
                                         np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 1.0]]), np.array([0.0, 0.0, -1.0])),
        "ReLU without bias (corrected condition)": (Instance(W_p=np.eye(3), weights=np.ones(3), activation=ReLU()),
                                                    np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-0.5, 0.0, -0.5]]), None),
    }


@lru_cache(maxsize=8)
def _corrected_search(budget: int, seed: int):
    # at least MIN_MET instances of ReLU without bias (superposition counted)
    return search_condition(_space(relu_no_bias=True), _predicate, seed=seed + 1, min_met=MIN_MET,
                            first_budget=MIN_MET, superposed=lambda ex: ex[0].n > ex[0].n_p)


@lru_cache(maxsize=8)
def _gated_search(budget: int, seed: int):
    """The Gated family (tied and untied), searched apart: the strong statement over its whole space, and the
    corrected condition's analogue (no encoder bias: the gate pre-activation Σ_d x_d z_d < 0 on the data)."""
    g_budget = max(10, budget // 2)
    found = find_counterexample(_space(families=GATED), _predicate, budget=g_budget, seed=seed + 7, shrink_budget=budget)
    no_bias = find_counterexample(_space(families=GATED, bias=False), _predicate, budget=g_budget, seed=seed + 8,
                                  superposed=lambda ex: ex[0].n > ex[0].n_p)
    return found, no_bias


@lru_cache(maxsize=8)
def _search(budget: int, seed: int):
    found = find_counterexample(_space(), _predicate, budget=budget, seed=seed, shrink_budget=budget)
    return found, _corrected_search(budget, seed)


def search(budget: int = 40, seed: int = 0) -> Verdict:
    steps = tuple(proof_steps())
    found, repaired = _search(int(budget), int(seed))
    gated = gated_apart()
    fams = families_searched(searched_families(per_sample=True), gated)
    g_found = g_no_bias = None
    if gated:
        g_found, g_no_bias = _gated_search(int(budget), int(seed))
    cc = _corrected_text(not repaired.found and not (gated and g_no_bias.found),
                         f"same search restricted to ReLU without bias: {repaired.summary()}"
                         + (f"; fails at {repaired.details}" if repaired.found else "")
                         + (f"; Gated without bias (searched apart): {g_no_bias.summary()}" if gated else ""),
                         with_part(merged_counts(repaired), *((g_no_bias,) if gated else ())))
    hand = {name: {k: a[k] for k in ("outcome", "fires_on_support", "exact_loss_dead_gradient")}
            for name, (inst, W_E, b) in hand_instances().items() for a in [analyse(inst, W_E, b, gd_steps=50)]}
    numbers = {"search": found.summary(), "corrected_search": repaired.summary(), "hand_instances": hand,
               "families_searched": fams}
    gated_text = ""
    if gated:
        numbers |= {"gated_search": g_found.summary(), "gated_no_bias_search": g_no_bias.summary(),
                    "gated_counterexample": g_found.details}
        gated_text = (f" Gated units (tied and untied), searched apart: {g_found.summary()}"
                      + (f" (a dead Gated unit revived: bias {g_found.details['instance']['encoder_bias']})" if g_found.found else "")
                      + f"; without bias: {g_no_bias.summary()}.")
        if g_found.found and not found.found:
            found = g_found
    gated_text += f" Families searched: {describe_families(fams)}."
    lt = "the L̃ statement holds symbolically (step 'dead neuron gradients vanish')" if steps[0].holds else \
        "the L̃ gradient step does NOT hold symbolically"
    readings = _readings(found, repaired, hand)
    if not found.found:
        return Verdict("C8", CLAIM.title, "holds",
                       f"{lt}; every searched just-dead neuron is dead on the whole support: {found.summary()}." + gated_text,
                       None, cc, steps, numbers, seed, budget, readings)
    d = found.details
    i, f = next(iter(d["fires_on_support"].items()))
    from theory.activations import activation_from_json

    evidence = (f"A neuron dead on every single feature is revived by gradient descent on the exact loss L: "
                f"{activation_from_json(d['instance']['activation']).describe()}, bias {d['instance']['encoder_bias']}, "
                f"magnitudes {d['instance']['distribution']['magnitude']}, pattern {d['pattern']}: dead neuron {i} fires on "
                f"x = {np.round(f['fires_on'], 4).tolist()}; L-gradient "
                f"{d['exact_loss_dead_gradient']:.3g}; gradient descent on L moves its row by {d['gd_on_L']['dead_rows_moved_by']:.3g}. "
                f"{found.summary()}. Mechanisms: " + "; ".join(f"{k}: {v['outcome']}" for k, v in hand.items())
                + f". ({lt}: it is L, not L̃, that training follows.)" + gated_text)
    return Verdict("C8", CLAIM.title, "fails", evidence, d, cc, steps, numbers, seed, budget, readings)


def _readings(found, repaired, hand: dict) -> tuple[Reading, ...]:
    """C8 says GD "can stay" at a dead neuron: the weak reading (some dead neuron stays dead under gradient
    descent on L) and the strong one (every neuron dead on the single features stays dead)."""
    stays = [k for k, v in hand.items() if v["outcome"] == "holds"]
    revived = [k for k, v in hand.items() if v["outcome"] == "fails"]
    weak_ok = bool(stays) or repaired.held > 0
    weak = Reading(
        "weak", "Gradient descent on the exact loss L can stay at a dead neuron (some instance, some dead neuron).",
        "holds" if weak_ok else "inconclusive",
        (f"witnesses: {stays} (dead on every input of the support, enumerated; L-gradient 0) and {repaired.held} searched "
         "ReLU-without-bias instances" if weak_ok else "no instance with a dead neuron that stays dead was found"))
    if found.found:
        strong = Reading(
            "strong", "Every neuron dead on the single features (F_i = ∅) stays dead under gradient descent on L.", "fails",
            f"the search's minimal counterexample revives one ({found.summary()}); mechanisms that revive: {revived}",
            scope=("fails for JumpReLU with θ > 0 (a sum of features crosses θ), TopK∘ReLU (a sum wins the competition), any "
                   "family with an encoder bias (a sum above −b) and magnitudes other than 1, at every scale searched (n ≤ 3 "
                   "features, exact enumeration of the data's active sets); holds for ReLU without bias and non-negative "
                   "magnitudes, where z(x) = Σ_d x_d z_d <= 0"))
    else:
        strong = Reading("strong", "Every neuron dead on the single features stays dead under gradient descent on L.",
                         "holds", f"no revived dead neuron in the search ({found.summary()})")
    return weak, strong


__all__ = ["CLAIM", "hypotheses", "proof_steps", "check_instance", "search", "analyse", "support_inputs",
           "exact_gradients", "gradient_descent_on_L", "near_boundary_dead_point", "hand_instances"]
