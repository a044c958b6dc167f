"""C4 (Thm 3.4): ``L̃ = 0`` iff ``w_r^d = W_D σ(W_E w_p^d)`` for every d; and its consequence,
non-identifiability: with ``n_q > n`` some zero-loss solutions recover no ground-truth feature.

The characterisation is algebra (every term ``M_d ||r_d||²`` is ≥ 0 and ``M_d > 0``), checked with sympy
and numerically on random points. For the consequence the toolkit *constructs* zero-loss solutions
whose directions are far from every feature, for any instance whose input features are linearly
independent (``n ≤ n_p``): with ``E = W_p⁺`` (so ``E w_p^d = e_d``) and an orthogonal ``Q`` that mixes
the features (2×2 blocks ``[[1,1],[1,−1]]/√2``, one 3×3 block ``I − (2/3)11ᵀ`` when n is odd),

    W_E = c [Q E; −Q E],   W_D = [W_r Qᵀ, −W_r Qᵀ] / c   (plus zero padding neurons for TopK),

so that for ReLU ``σ([z; −z]) = [z⁺; z⁻]`` with ``z = c Q e_d`` and ``W_D σ(·) = W_r Qᵀ Q e_d = w_r^d``:
``L̃ = 0`` with ``n_q = 2n > n`` and every learned direction at ``|cos| = max|Q_id| ≤ 1/√2`` (45° for pairs, 2/3 in the triple; for orthonormal features) to
every feature. ``c`` lifts the values above a JumpReLU threshold. It needs σ to keep 2 (3 in a triple)
units per input: for TopK / TopK∘ReLU / BatchTopK with ``k = 1`` the consequence is *false*: one unit
``i`` on with value ``z`` and ``z u_i = w_r^d`` force ``u_i ∥ w_r^d``, so every zero-loss decoder contains
every target feature direction (the encoder need not align).

Distances are measured like the bench's metrics: for each feature the largest ``|cos|`` between it
and any (non-zero) decoder column (against ``w_r^d``) or encoder row (against ``w_p^d``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from proofs_check.algebra import equality_step
from proofs_check.claim import Claim
from proofs_check.search import SKIP, find_counterexample
from proofs_check.verdict import CorrectedCondition, StepCheck, Verdict
from theory.activations import BatchTopK, JumpReLU, ReLU, TopK, TopKReLU
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.objective import approx_loss, approx_residuals
from theory.strategies import activations, feature_matrices, instances, parameters

@dataclass(frozen=True)
class Options:
    """The options of ``check_instance`` (``check("C4", instance, **options)``)."""

    W_D: object = None  # the decoder
    W_E: object = None  # the encoder
    b_E: object = None  # the encoder bias


CLAIM = Claim(
    id="C4",
    title="Zero-loss characterisation and non-identifiability",
    paper_ref="Thm 3.4",
    statement=(
        "L̃ is zero exactly when every single-feature input is reconstructed perfectly. Consequence: with "
        "more neurons than features (n_q > n) the zero-loss solutions form a large set that contains "
        "solutions whose encoder rows and decoder columns are all far from every ground-truth feature."
    ),
)

RECOVERY_THRESHOLD = 0.9  # τ of the bench's recovery metric (THEORY.md section 5)
ZERO = 1e-10


def characterisation_holds(loss: float, residuals: np.ndarray) -> bool:
    """The claim's equivalence on one point: ``L̃ = 0`` iff every residual is 0 (numerically)."""
    return (loss <= ZERO) == bool(np.all(np.linalg.norm(residuals, axis=1) <= np.sqrt(ZERO)))


def units_per_input(activation) -> int | None:
    """How many units σ can keep for one input (None: no limit)."""
    return activation.k if isinstance(activation, (TopK, BatchTopK)) else None


def _mixing_matrix(n: int, order=None, angle: float = np.pi / 4) -> np.ndarray:
    """Orthogonal ``Q`` mixing features in blocks along ``order``: 2×2 reflections
    ``[[cos a, sin a], [sin a, −cos a]]`` (Hadamard at a = π/4) and one 3×3 Householder block
    ``I − (2/3)11ᵀ`` when n is odd. Every entry inside a block is non-zero."""
    order = list(range(n)) if order is None else list(order)
    Q = np.zeros((n, n))
    start = 0
    if n % 2:
        idx = order[:3]
        Q[np.ix_(idx, idx)] = np.eye(3) - 2.0 / 3.0
        start = 3
    block = np.array([[np.cos(angle), np.sin(angle)], [np.sin(angle), -np.cos(angle)]])
    for i in range(start, n, 2):
        idx = order[i:i + 2]
        Q[np.ix_(idx, idx)] = block
    return Q


def _best_mixing(instance: Instance, E: np.ndarray) -> np.ndarray:
    """The block order and angle whose directions stay farthest from every feature (correlated
    features, transcoder targets): all orders for n ≤ 5, 7 angles in (0, π/2)."""
    import itertools

    n = instance.n
    orders = itertools.permutations(range(n)) if n <= 5 else [tuple(range(n))]
    best, best_score = None, np.inf
    for order in orders:
        for angle in np.linspace(np.pi / 16, 7 * np.pi / 16, 7):
            Q = _mixing_matrix(n, order, angle)
            score = max(max_alignment(instance.W_r @ Q.T, instance.W_r).max(), max_alignment((Q @ E).T, instance.W_p).max())
            if score < best_score - 1e-12:
                best, best_score = Q, score
    return best


def non_identifying_solution(instance: Instance):
    """``(W_D, W_E, b_E)`` with L̃ = 0 (when σ keeps enough units) and no learned direction on a feature.

    Needs linearly independent input features (``rank W_p = n``) and ``n ≥ 2``.
    """
    n = instance.n
    if n < 2:
        raise SDLInputError("the construction mixes at least two features; n = 1 has none to mix")
    if np.linalg.matrix_rank(instance.W_p) < n:
        raise SDLInputError(f"the construction needs linearly independent input features (n = {n} ≤ n_p = {instance.n_p} and rank n)")
    E = np.linalg.pinv(instance.W_p)  # E w_p^d = e_d
    Q = _best_mixing(instance, E)
    smallest = np.abs(Q[np.abs(Q) > 1e-12]).min()
    theta = instance.activation.theta if isinstance(instance.activation, JumpReLU) else 0.0
    c = max(1.0, 2.0 * theta / smallest)  # every kept value c·|Q_id| clears the threshold
    W_E = c * np.vstack([Q @ E, -Q @ E])
    W_D = np.hstack([instance.W_r @ Q.T, -instance.W_r @ Q.T]) / c
    k = units_per_input(instance.activation)
    if type(instance.activation) is TopK:
        # TopK without ReLU keeps the k largest even if negative: zero rows rank above negative ones
        W_E = np.vstack([W_E, np.zeros((k, instance.n_p))])
        W_D = np.hstack([W_D, np.zeros((instance.n_r, k))])
    b_E = np.zeros(W_E.shape[0]) if instance.encoder_bias else None
    return W_D, W_E, b_E


def max_alignment(vectors: np.ndarray, features: np.ndarray) -> np.ndarray:
    """For each feature (column of ``features``), the largest |cos| with a non-zero column of ``vectors``."""
    norms = np.linalg.norm(vectors, axis=0)
    V = vectors[:, norms > 1e-12] / norms[norms > 1e-12]
    if V.shape[1] == 0:
        return np.zeros(features.shape[1])
    return np.abs(features.T @ V).max(axis=1)


def identifiability_numbers(instance: Instance, W_D, W_E, b_E=None) -> dict:
    dec = max_alignment(W_D, instance.W_r)
    enc = max_alignment(W_E.T, instance.W_p)
    loss = approx_loss(instance, W_D, W_E, b_E)
    return {
        "loss": loss,
        "n_q": W_E.shape[0],
        "decoder_max_abs_cos": dec,
        "encoder_max_abs_cos": enc,
        "features_recovered_by_decoder": int(np.sum(dec >= RECOVERY_THRESHOLD)),
        "features_recovered_by_encoder": int(np.sum(enc >= RECOVERY_THRESHOLD)),
    }


def hypotheses(instance: Instance) -> list[str]:
    """Unmet hypotheses of the *consequence* (the characterisation itself needs none beyond M_d > 0)."""
    unmet = []
    if instance.n < 2:
        unmet.append("n = 1: nothing to mix")
    elif np.linalg.matrix_rank(instance.W_p) < instance.n:
        unmet.append("input features are linearly dependent (n > n_p): the toolkit's construction needs rank W_p = n")
    return unmet


def proof_steps() -> list[StepCheck]:
    M1, M2 = sp.symbols("M_1 M_2", positive=True)
    r = sp.symbols("r_11 r_12 r_21 r_22", real=True)
    nonzero = sp.Symbol("r_11", real=True, nonzero=True)
    t1, t2 = M1 * (r[0] ** 2 + r[1] ** 2), M2 * (r[2] ** 2 + r[3] ** 2)
    steps = [
        StepCheck("terms are non-negative", "M_d ||r_d||² ≥ 0 for M_d > 0", bool(t1.is_nonnegative and t2.is_nonnegative),
                  "0" if t1.is_nonnegative else str(t1)),
        StepCheck("zero sum ⇒ zero terms", "L̃ − M_1||r_1||² = M_2||r_2||² ≥ 0, so L̃ = 0 forces each term to 0",
                  bool(sp.simplify((t1 + t2) - t1 - t2) == 0 and t2.is_nonnegative)),
        StepCheck("M_d > 0 ⇒ r_d = 0", "a non-zero entry of r_1 makes M_1 ||r_1||² > 0, so a zero term has r_1 = 0",
                  bool((M1 * (nonzero**2 + r[1] ** 2)).is_positive)),
    ]
    # Consequence, n = 2, ReLU, orthonormal features, Q = [[1,1],[1,−1]]/√2: units on for e_1 are the two
    # of the '+' half (values 1/√2); for e_2 one '+' unit and one '−' unit.
    Q = sp.Matrix([[1, 1], [1, -1]]) / sp.sqrt(2)
    W_E = Q.col_join(-Q)
    W_D = Q.T.row_join(-Q.T)
    relu = lambda z: z.applyfunc(lambda v: sp.Max(v, 0))  # noqa: E731
    for d in range(2):
        e = sp.eye(2)[:, d]
        steps.append(equality_step(f"zero loss on feature {d + 1}", f"W_D ReLU(W_E e_{d + 1}) = e_{d + 1} for the mixed solution",
                                   W_D * relu(W_E * e), e))
    cosines = (W_E * sp.eye(2)).applyfunc(sp.Abs)
    steps.append(equality_step("45° from every feature", "every encoder row has |cos| = 1/√2 with both features",
                               cosines, sp.ones(4, 2) / sp.sqrt(2)))
    z, u1, u2, w1, w2 = sp.symbols("z u_1 u_2 w_1 w_2", real=True)
    steps.append(equality_step("k = 1 forces alignment", "one unit on with value z ≠ 0 and z u = w_r^d ⇒ u = w_r^d / z",
                               sp.Matrix([sp.solve([z * u1 - w1, z * u2 - w2], [u1, u2], dict=True)[0][s] for s in (u1, u2)]),
                               sp.Matrix([w1 / z, w2 / z]),
                               note="so with k = 1 every zero-loss decoder has a column along every w_r^d"))
    return steps


def _consequence(instance: Instance) -> dict | str:
    """The consequence on one instance: dict of numbers, with ``fails`` True when it is false there,
    or SKIP when the construction does not apply (the toolkit cannot decide)."""
    if hypotheses(instance):
        return SKIP
    W_D, W_E, b_E = non_identifying_solution(instance)
    nums = identifiability_numbers(instance, W_D, W_E, b_E)
    if units_per_input(instance.activation) == 1:
        # proof step "k = 1 forces alignment": no zero-loss solution avoids the features. Show the
        # mixing attempt's loss and a zero-loss solution, whose decoder columns are the features.
        aligned_E, aligned_D = np.linalg.pinv(instance.W_p), instance.W_r.copy()
        aligned = identifiability_numbers(instance, aligned_D, aligned_E, np.zeros(instance.n) if instance.encoder_bias else None)
        return {"mixing_attempt_loss": nums["loss"], "aligned_solution_loss": aligned["loss"],
                "aligned_solution_decoder_max_abs_cos": aligned["decoder_max_abs_cos"], "fails": True, "reason": "σ keeps one unit per input, so every zero-loss decoder column "
                       "used by feature d is parallel to w_r^d (step 'k = 1 forces alignment')"}
    if nums["loss"] > ZERO:
        return SKIP  # e.g. TopK(k=2) with a 3-feature block: this construction needs 3 units, undecided
    if nums["features_recovered_by_decoder"] + nums["features_recovered_by_encoder"]:
        # Strongly correlated features: every mix of them stays within τ of one; that this construction
        # cannot avoid the features does not show that no zero-loss solution can (undecided, not a failure).
        return SKIP
    return nums | {"fails": False, "reason": ""}


def check_instance(instance: Instance, *, seed: int = 0, budget: int = 40, W_D=None, W_E=None, b_E=None, **kw) -> Verdict:
    """With a point: the characterisation there. Without: construct a non-identifying zero-loss solution."""
    if kw:
        raise SDLInputError(f"C4 takes W_D, W_E (and b_E), not {sorted(kw)}")
    if W_D is not None or W_E is not None:
        if W_D is None or W_E is None:
            raise SDLInputError("give both W_D and W_E (or neither, to construct a zero-loss solution)")
        W_D, W_E, b = instance.check_params(W_D, W_E, b_E)
        b = b if instance.encoder_bias else None
        loss = approx_loss(instance, W_D, W_E, b)
        R = approx_residuals(instance, W_D, W_E, b)
        ok = characterisation_holds(loss, R)
        numbers = {"loss": loss, "residual_norms": np.linalg.norm(R, axis=1)} | identifiability_numbers(instance, W_D, W_E, b)
        status = "holds" if ok else "fails"
        evidence = (f"L̃ = {loss:.3g}, largest residual ||w_r^d − W_D σ(W_E w_p^d)|| = {numbers['residual_norms'].max():.3g}: "
                    + ("consistent with the characterisation" if ok else "the equivalence is violated"))
        return Verdict("C4", CLAIM.title, status, evidence, None if ok else {"instance": instance.to_json(), **numbers},
                       None, (), numbers, seed, budget)
    out = _consequence(instance)
    if out == SKIP:
        why = hypotheses(instance) or ["the toolkit's mixing construction does not give a zero-loss solution far from "
                                       f"every feature here ({instance.activation.describe()}, feature coherence "
                                       f"{np.abs(instance.W_p.T @ instance.W_p - np.eye(instance.n)).max():.2f}); "
                                       "whether another one does is not decided"]
        return Verdict("C4", CLAIM.title, "hypotheses_not_met" if hypotheses(instance) else "inconclusive",
                       "; ".join(why), seed=seed, budget=budget)
    numbers = {k: v for k, v in out.items() if k not in ("fails", "reason")}
    if out["fails"]:
        return Verdict("C4", CLAIM.title, "fails", f"non-identifiability fails here: {out['reason']}",
                       {"instance": instance.to_json(), "activation": instance.activation.describe(), **numbers},
                       _corrected(), (), numbers, seed, budget)
    return Verdict("C4", CLAIM.title, "holds",
                   f"constructed a zero-loss solution (L̃ = {out['loss']:.2g}, n_q = {out['n_q']} > n = {instance.n}) whose "
                   f"decoder columns reach |cos| ≤ {out['decoder_max_abs_cos'].max():.3f} and encoder rows |cos| ≤ "
                   f"{out['encoder_max_abs_cos'].max():.3f} with any feature (recovery threshold {RECOVERY_THRESHOLD})",
                   None, None, (), numbers, seed, budget)


def _corrected(verified: bool = False, evidence: str = "") -> CorrectedCondition:
    return CorrectedCondition(
        text=("The characterisation holds for every σ. The non-identifiability consequence needs σ to keep at least "
              "two units per input (ReLU, JumpReLU any θ, TopK / TopK∘ReLU / BatchTopK with k ≥ 2) and linearly "
              "independent input features; with k = 1 every zero-loss decoder contains every target feature direction "
              "(only the encoder stays non-identifiable)."),
        sympy="Implies(Eq(k, 1), Eq(Abs(cos(u_i, w_r^d)), 1))",
        verified=verified, evidence=evidence)


@st.composite
def _space(draw, superposition=None):
    """Every family (k ≤ 3, θ ≤ 1), bias or not, SAE or transcoder, any geometry; a random point."""
    inst = draw(instances(min_n=2, max_n=4, max_dim=5, superposition=superposition))
    return inst, draw(parameters(inst, max_q=5))


@st.composite
def _orthonormal_instances(draw):
    """Orthonormal input features (random frame), SAE or transcoder, bias or not: where mixing can avoid τ."""
    inst = draw(instances(min_n=2, max_n=4, max_dim=5, superposition=False))
    return inst.replace(W_p=draw(feature_matrices(inst.n, inst.n_p, geometry=("orthonormal",))),
                        W_r=None if inst.is_sae else inst.W_r)


def search(budget: int = 40, seed: int = 0) -> Verdict:
    steps = tuple(proof_steps())

    def characterisation(example):
        inst, (W_D, W_E, b_E) = example
        for point in ((W_D, W_E, b_E), non_identifying_solution(inst) if not hypotheses(inst) else (W_D, W_E, b_E)):
            loss = approx_loss(inst, *point)
            R = approx_residuals(inst, *point)
            if not characterisation_holds(loss, R):
                return {"instance": inst.to_json(), "loss": loss, "residual_norms": np.linalg.norm(R, axis=1)}
        return None

    def consequence(example):
        out = _consequence(example[0])
        if out == SKIP:
            return SKIP
        return {"instance": example[0].to_json(), "activation": example[0].activation.describe(), **out} if out["fails"] else None

    char = find_counterexample(_space(), characterisation, budget=budget, seed=seed)
    # n > n_p is outside the consequence's construction (hypotheses not met): search where it applies
    cons = find_counterexample(_space(superposition=False), consequence, budget=budget, seed=seed + 1)
    # The corrected consequence: the same search restricted to σ that keep ≥ 2 units per input.
    keep_two = st.tuples(st.one_of(_orthonormal_instances(), instances(min_n=2, max_n=4, max_dim=5, superposition=False)),
                         st.one_of(activations((ReLU.name, JumpReLU.name)), st.builds(TopK, k=st.integers(2, 4)),
                                   st.builds(BatchTopK, k=st.integers(2, 4)),
                                   st.builds(TopKReLU, k=st.integers(2, 4))))
    fixed = find_counterexample(st.builds(lambda t: (t[0].replace(activation=t[1]), None), keep_two), consequence,
                                budget=budget, seed=seed + 2)
    numbers = {"characterisation_search": char.summary(), "consequence_search": cons.summary(),
               "corrected_search": fixed.summary()}
    failed_steps = [s.name for s in steps if not s.holds]
    if char.found or failed_steps:
        return Verdict("C4", CLAIM.title, "fails",
                       f"the characterisation itself fails: {char.summary() if char.found else failed_steps}",
                       char.details, None, steps, numbers, seed, budget)
    if cons.found:
        ex = cons.details
        cc = _corrected(not fixed.found, f"same search restricted to σ keeping ≥ 2 units: {fixed.summary()}")
        ex["summary"] = (f"{ex['activation']} with n = {len(ex['aligned_solution_decoder_max_abs_cos'])} features: "
                         f"a zero-loss solution exists (L̃ = {ex['aligned_solution_loss']:.2g}) but only one unit is on per input, "
                         "so its decoder columns are the feature directions (|cos| = 1); the mixing construction reaches only "
                         f"L̃ = {ex['mixing_attempt_loss']:.3g}")
        return Verdict("C4", CLAIM.title, "fails",
                       f"The non-identifiability consequence fails for {ex['activation']}: {ex['reason']} (minimal example "
                       f"n = {len(ex['aligned_solution_decoder_max_abs_cos'])}; {cons.summary()}). The characterisation itself "
                       f"holds: L̃ = 0 ⇔ every residual is 0, all symbolic steps follow and {char.summary()}. For σ that keep "
                       f"two or more units the toolkit constructs zero-loss solutions with every direction below the recovery threshold τ = 0.9 (|cos| ≤ 1/√2 for orthonormal features) "
                       f"from every feature ({fixed.summary()}).",
                       ex, cc, steps, numbers, seed, budget)
    return Verdict("C4", CLAIM.title, "holds",
                   f"L̃ = 0 ⇔ every residual is 0 ({char.summary()}); non-identifying zero-loss solutions constructed: {cons.summary()}",
                   None, None, steps, numbers, seed, budget)
