"""C5 (Example 3.5): a stationary point of L̃ with positive loss, checked exactly.

Instance: ``n = n_p = n_q = n_r = 2``, σ = Top-1∘ReLU, orthonormal features (``W_p = W_r = I``),
``M_1 = M_2 = 1``; point ``W_E = [[1,1],[0,0]]``, ``W_D = [[1/2,0],[1/2,0]]``. Claim: both gradients
of L̃ vanish in the point's region and ``L̃ = 1``.

Checked in exact rational arithmetic (sympy): the point's pattern and that it lies in the interior
of its region ``Ω_P`` (every region inequality has positive slack); L̃ as the region's polynomial;
its value; both gradients; both Hessian blocks positive semi-definite (so, with the region convex,
the point is a partial minimum: C2 + zero gradient). The adversarial search then tries to find a
point in the same region with a lower loss (perturbing W_D, W_E or both); by Eckart–Young there is
none: inside this region neuron 2 never fires, so ``L̃ = ||I − u aᵀ||_F² ≥ 1``.

``check("C5", instance, W_D=..., W_E=...)`` checks the same statement for any small instance and
point: gradients zero in the interior of its region, and reports L̃.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from proofs_check.algebra import equality_step, exact, region_polynomial
from proofs_check.claim import Claim
from proofs_check.search import find_counterexample
from proofs_check.verdict import StepCheck, Verdict
from theory.activations import TopKReLU
from theory.derivation import gradients
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.objective import approx_loss
from theory.partial_optimum import is_partial_minimum
from theory.patterns import pattern_of, region

@dataclass(frozen=True)
class Options:
    """The options of ``check_instance`` (``check("C5", instance, **options)``)."""

    W_D: object = None  # the decoder (default: the example's)
    W_E: object = None  # the encoder (default: the example's)
    b_E: object = None  # the encoder bias


CLAIM = Claim(
    id="C5",
    title="Example 3.5: a spurious stationary point",
    paper_ref="Example 3.5",
    statement=(
        "With two orthonormal features of weight 1, two neurons and Top-1∘ReLU, the encoder "
        "W_E = [[1,1],[0,0]] and decoder W_D = [[1/2,0],[1/2,0]] make both gradients of L̃ vanish "
        "inside their activation region, with L̃ = 1 (while the global minimum is 0)."
    ),
)

# The example as stated in the paper (C5).
EXAMPLE = Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=TopKReLU(k=1))
EXAMPLE_W_E = np.array([[1.0, 1.0], [0.0, 0.0]])
EXAMPLE_W_D = np.array([[0.5, 0.0], [0.5, 0.0]])
CLAIMED_LOSS = sp.Integer(1)  # the value of L̃ the paper states at the example point
TOL = 1e-9


def hypotheses(instance: Instance, W_D=None, W_E=None, b_E=None) -> list[str]:
    """Unmet hypotheses: the statement is about a point strictly inside one activation region."""
    if W_D is None or W_E is None:
        return ["a point (W_D, W_E) is needed"]
    instance.check_params(W_D, W_E, b_E)
    if not instance.activation.per_sample:
        return [f"{instance.activation.describe()} has no per-sample σ, so L̃'s region is batch-dependent"]
    R = region(instance, pattern_of(instance, W_E, b_E))
    strict, weak = R.slack(W_E, b_E)
    if (strict.size and strict.min() <= 0) or (weak.size and weak.min() <= 0):
        return ["the point lies on the boundary of its activation region (some region inequality is tight), "
                "so L̃ is not one polynomial around it"]
    return []


def _exact_analysis(instance: Instance, W_D, W_E, b_E=None) -> dict:
    """L̃, gradients and Hessian blocks at the point, exactly, from the region's polynomial."""
    mask = instance.activation.active(instance.pre_activations(W_E, b_E))
    n_q = W_E.shape[0]
    loss, D, E, b = region_polynomial(instance, mask, n_q)
    point = dict(zip(list(D), list(exact(W_D)))) | dict(zip(list(E), list(exact(W_E))))
    if instance.encoder_bias:
        point |= dict(zip(list(b), list(exact(np.zeros(n_q) if b_E is None else b_E).T)))
    d_vars, e_vars = list(D), list(E) + (list(b) if instance.encoder_bias else [])
    grad_D = sp.Matrix([sp.diff(loss, v) for v in d_vars]).subs(point)
    grad_E = sp.Matrix([sp.diff(loss, v) for v in e_vars]).subs(point)
    H_DD = sp.hessian(loss, d_vars).subs(point)
    H_EE = sp.hessian(loss, e_vars).subs(point)
    eig_DD = [float(v) for v in np.linalg.eigvalsh(np.array(H_DD, dtype=float))]
    eig_EE = [float(v) for v in np.linalg.eigvalsh(np.array(H_EE, dtype=float))]
    return {
        "pattern": pattern_of(instance, W_E, b_E),
        "loss": sp.nsimplify(loss.subs(point)),
        "grad_D": grad_D,
        "grad_E": grad_E,
        "min_eig_DD": min(eig_DD),
        "min_eig_EE": min(eig_EE),
        "polynomial": loss,
    }


def proof_steps() -> list[StepCheck]:
    """Every step of Example 3.5, exactly (sympy rationals)."""
    a = _exact_analysis(EXAMPLE, EXAMPLE_W_D, EXAMPLE_W_E)
    zero = sp.zeros(4, 1)
    steps = [
        equality_step("loss value", "L̃(W_D, W_E) = 1 at the example point", a["loss"], CLAIMED_LOSS),
        equality_step("decoder gradient", "∂L̃/∂W_D = 0 at the example point", a["grad_D"], zero),
        equality_step("encoder gradient", "∂L̃/∂W_E = 0 at the example point (inside the region's polynomial)",
                      a["grad_E"], zero),
        StepCheck("convex in W_D", "the W_D-Hessian is positive semi-definite", a["min_eig_DD"] >= -TOL,
                  "min eigenvalue" if a["min_eig_DD"] >= -TOL else f"{a['min_eig_DD']:.3g}"),
        StepCheck("convex in W_E", "the W_E-Hessian on the region's polynomial is positive semi-definite",
                  a["min_eig_EE"] >= -TOL, "min eigenvalue" if a["min_eig_EE"] >= -TOL else f"{a['min_eig_EE']:.3g}"),
    ]
    # Eckart–Young: in this region neuron 2 never fires, L̃ = ||I − u aᵀ||_F², whose minimum over
    # rank-one matrices is the smaller squared singular value of I, i.e. 1.
    u1, u2, a1, a2 = sp.symbols("u1 u2 a1 a2", real=True)
    rank_one = (sp.eye(2) - sp.Matrix([u1, u2]) * sp.Matrix([[a1, a2]]))
    f = sum(x**2 for x in rank_one)
    g = (u1 * a2 - u2 * a1) ** 2 + (u1 * a1 + u2 * a2 - 1) ** 2  # ||I − u aᵀ||² − 1 written as a sum of squares
    steps.append(equality_step(
        "region minimum is 1", "inside Ω_P, L̃ − 1 = (u1 a2 − u2 a1)² + (u·a − 1)² ≥ 0 (so the point minimises L̃ on its region)",
        f - 1, g))
    return steps


def check_instance(instance: Instance, *, seed: int = 0, budget: int = 40, W_D=None, W_E=None, b_E=None, **kw) -> Verdict:
    """Both gradients of L̃ vanish at ``(W_D, W_E)`` inside its region (default: the example point)."""
    if kw:
        raise SDLInputError(f"C5 takes W_D, W_E (and b_E), not {sorted(kw)}")
    if W_D is None and W_E is None and instance.n_p == 2 and instance.n_r == 2:
        W_D, W_E = EXAMPLE_W_D, EXAMPLE_W_E
    unmet = hypotheses(instance, W_D, W_E, b_E)
    if unmet:
        return Verdict("C5", CLAIM.title, "hypotheses_not_met", "; ".join(unmet), seed=seed, budget=budget)
    W_D, W_E, b = instance.check_params(W_D, W_E, b_E)
    b_E = b if instance.encoder_bias else None
    a = _exact_analysis(instance, W_D, W_E, b_E)
    gD = float(max(abs(float(v)) for v in a["grad_D"]))
    gE = float(max(abs(float(v)) for v in a["grad_E"]))
    numbers = {
        "pattern": a["pattern"].to_json(),
        "loss": float(a["loss"]),
        "loss_exact": str(a["loss"]),
        "max_abs_grad_W_D": gD,
        "max_abs_grad_W_E": gE,
        "min_eig_hessian_W_D": a["min_eig_DD"],
        "min_eig_hessian_W_E": a["min_eig_EE"],
    }
    # An independent check of the region-sense partial minimum (KKT certificate + attainment LP, part of C6's tooling)
    certificate = is_partial_minimum(instance, W_D, W_E, b_E)
    numbers["partial_minimum_certificate"] = certificate.is_partial_minimum
    numbers["partial_minimum_reason"] = certificate.reason
    is_example = instance.is_sae and np.array_equal(instance.W_p, EXAMPLE.W_p) and instance.activation == EXAMPLE.activation \
        and np.array_equal(instance.weights, EXAMPLE.weights) and np.array_equal(W_E, EXAMPLE_W_E) and np.array_equal(W_D, EXAMPLE_W_D)
    loss_ok = (not is_example) or sp.nsimplify(a["loss"] - CLAIMED_LOSS) == 0
    stationary = gD <= TOL and gE <= TOL
    where = f"pattern {a['pattern']} (point strictly inside its region)"
    if stationary and loss_ok:
        status = "holds"
        evidence = (f"both gradients vanish exactly (max |∂L̃/∂W_D| = {gD:g}, max |∂L̃/∂W_E| = {gE:g}) at {where}; "
                    f"L̃ = {a['loss']}; Hessian blocks PSD (min eigenvalues {a['min_eig_DD']:.3g}, {a['min_eig_EE']:.3g}), "
                    "so with the convex region this is a partial minimum"
                    + (" (confirmed by the KKT certificate of theory.partial_optimum)" if certificate.is_partial_minimum
                       else f" — but the KKT certificate disagrees: {certificate.reason}"))
        counterexample = None
    else:
        status = "fails"
        why = []
        if not stationary:
            why.append(f"gradients do not vanish (max |∂L̃/∂W_D| = {gD:.3g}, max |∂L̃/∂W_E| = {gE:.3g})")
        if not loss_ok:
            why.append(f"L̃ = {a['loss']}, not the claimed {CLAIMED_LOSS}")
        evidence = f"at {where}: " + "; ".join(why)
        counterexample = {"instance": instance.to_json(), "W_D": W_D, "W_E": W_E, **numbers}
    return Verdict("C5", CLAIM.title, status, evidence, counterexample, None, (), numbers, seed, budget)


def _perturbation(seed: int, scale: float, which: str):
    """A point near the example inside its region (or None if the perturbation leaves it)."""
    rng = np.random.default_rng(seed)
    W_E = EXAMPLE_W_E + (scale * rng.normal(size=(2, 2)) if which in ("encoder", "both") else 0)
    W_D = EXAMPLE_W_D + (scale * rng.normal(size=(2, 2)) if which in ("decoder", "both") else 0)
    R = region(EXAMPLE, pattern_of(EXAMPLE, EXAMPLE_W_E))
    return (W_D, W_E) if R.contains(W_E) else None


# the example fixes σ = Top-1∘ReLU: no other family is in its statement
FAMILIES_SEARCHED = {"default_space": ["topk_relu (k = 1, the example's σ)"],
                     "not_searched": {"gated": "the example's statement fixes σ = Top-1∘ReLU (as every other family)"}}


def search(budget: int = 40, seed: int = 0) -> Verdict:
    """The exact check of the example, then a seeded search for a lower L̃ in the same region."""
    base = check_instance(EXAMPLE, seed=seed, budget=budget)
    steps = tuple(proof_steps())
    claimed = float(CLAIMED_LOSS)

    moved = [0.0]   # the largest displacement evaluated: a search that perturbs nothing cannot fail

    def predicate(example):
        s, scale, which = example
        point = _perturbation(s, scale, which)
        if point is None:
            return "skip"
        moved[0] = max(moved[0], float(np.abs(point[0] - EXAMPLE_W_D).max()), float(np.abs(point[1] - EXAMPLE_W_E).max()))
        value = approx_loss(EXAMPLE, *point)
        return {"W_D": point[0], "W_E": point[1], "loss": value, "moved": which} if value < claimed - 1e-9 else None

    strategy = st.tuples(st.integers(0, 2**31 - 1), st.sampled_from([1e-3, 1e-2, 0.1, 0.5]),
                         st.sampled_from(["decoder", "encoder", "both"]))
    result = find_counterexample(strategy, predicate, budget=budget, seed=seed)
    failed_steps = [s.name for s in steps if not s.holds]
    global_min = approx_loss(EXAMPLE, np.eye(2), np.eye(2))  # W_E = W_D = I reconstructs every feature
    numeric = gradients(EXAMPLE, EXAMPLE_W_D, EXAMPLE_W_E)  # theory.derivation's lambdified gradients agree
    numbers = dict(base.numbers) | {"search": result.summary(), "search_max_displacement": moved[0],
                                    "loss_at_identity": global_min,
                                    "derivation_grad_norms": [float(np.abs(numeric.W_D).max()), float(np.abs(numeric.W_E).max())],
                                    "families_searched": FAMILIES_SEARCHED}
    if base.status != "holds" or failed_steps or result.found:
        parts = [base.evidence] if base.status != "holds" else []
        if failed_steps:
            parts.append(f"symbolic steps that do not follow: {failed_steps}")
        if result.found:
            parts.append(f"a point in the same region has lower L̃ = {result.details['loss']:.6g} ({result.summary()})")
        counterexample = base.counterexample or (result.details if result.found else None)
        return Verdict("C5", CLAIM.title, "fails", "; ".join(parts), counterexample, None, steps, numbers, seed, budget)
    evidence = (base.evidence + f". Exact steps all follow ({len(steps)}), including L̃ − 1 = a sum of squares on the region "
                f"(Eckart–Young), so the point minimises L̃ on its whole region although L̃(I, I) = {global_min:g} "
                f"(theory.derivation's gradients agree: max |·| = {max(numbers['derivation_grad_norms']):g}). Search for a lower loss nearby: {result.summary()}.")
    return Verdict("C5", CLAIM.title, "holds", evidence, None, None, steps, numbers, seed, budget)
