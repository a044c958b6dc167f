"""C1 (Thm 3.1): ``|L − L̃| ≤ n² C (1−S)²`` for independent features active with probability ``p ≤ 1−S``.

The proof splits ``L = E||x_r − W_D σ(W_E x_p)||²`` by the set A of active features:

    L = Pr(A = ∅)·ℓ_∅ + Σ_d Pr(A = {d})·E_m[ℓ_d(m)] + L_{≥2},   ℓ_d(m) = ||m w_r^d − W_D σ(m W_E w_p^d + b)||²,

and uses (i) ``ℓ_∅ = 0`` (no bias: ``σ(0) = 0``); (ii) ``E_m[ℓ_d(m)] = E[m²]·ℓ_d(1)``, so that the middle sum
is exactly ``L̃ = Σ_d M_d ℓ_d(1)`` with ``M_d = Pr(A = {d}) E[m²]``; (iii) ``0 ≤ L_{≥2} ≤ Pr(|A| ≥ 2)·C`` and
``Pr(|A| ≥ 2) ≤ C(n,2) p² ≤ n² p²``. Step (ii) needs ``σ(m z) = m σ(z)`` for ``m > 0`` (positive
homogeneity), which JumpReLU with ``θ > 0`` lacks; step (i) fails with an encoder bias. Neither is
among the theorem's stated hypotheses (the paper's model has no bias, but σ is any family).

Exact decomposition gives the corrected bound the toolkit states and checks:

    |L − L̃| ≤ Pr(A = ∅)·||W_D σ(b)||² + Σ_d Pr(A = {d})·|E_m[ℓ_d(m)] − E[m²] ℓ_d(1)| + C(n,2) p² C.

L is computed exactly for constant magnitudes (enumeration). For uniform magnitudes the empty and
single-feature parts are exact (piecewise-quadratic integrals along each feature's ray) and the
``|A| ≥ 2`` part is bracketed in ``[0, Pr(|A| ≥ 2)·C]``; decisions use only those exact brackets; C exactly for constant magnitudes (max over the support) and, for uniform ones,
between a sampled lower value and an operator-norm upper bound, so a reported failure survives every
C in that range.
"""
from __future__ import annotations

from dataclasses import dataclass

import itertools
import math

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from proofs_check.algebra import equality_step, inequality_step
from proofs_check.claim import Claim
from proofs_check.search import (GATED, SKIP, UNDECIDED, describe_families, families_searched, find_counterexample,
                                 gated_apart, search_condition)
from proofs_check.verdict import (MIN_MET, ROBUST_MARGIN, CorrectedCondition, StepCheck, Verdict, margin_note, merged_counts,
                                  with_part)
from theory.activations import JumpReLU
from theory.distribution import Constant, FeatureDistribution, Uniform
from theory import validation as V
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.objective import approx_loss, exact_loss, sample_losses
from theory.patterns import robust_margin
from theory.strategies import instances, parameters, searched_families

@dataclass(frozen=True)
class Options:
    """The options of ``check_instance`` (``check("C1", instance, **options)``)."""

    W_D: object = None  # the decoder (n_r × n_q); default: the search's own point
    W_E: object = None  # the encoder (n_q × n_p)
    b_E: object = None  # the encoder bias
    p_active: object = None  # activation probability of every feature (builds the distribution)


CLAIM = Claim(
    id="C1",
    title="The approximate objective L̃ is close to the true loss L",
    paper_ref="Thm 3.1",
    statement=(
        "If features are independent and each is active with probability p at most 1−S (with p ≤ 1/n), and the "
        "reconstruction error of every input is at most C, then the true expected loss L and the single-feature "
        "objective L̃ differ by at most n² C p²."
    ),
)

def claimed_bound(n: int, C: float, p: float) -> float:
    """``n² C (1−S)²`` with ``1−S = p``, the largest activation probability (Thm 3.1)."""
    return n**2 * C * p**2


def hypotheses(instance: Instance) -> list[str]:
    """The theorem's hypotheses, as predicates (independence holds for every toolkit distribution)."""
    unmet = []
    dist = instance.distribution
    if dist is None:
        return ["a feature distribution is needed (pass p_active=..., or Instance(distribution=...))"]
    p = dist.max_p(instance.n)
    if p > 1 / instance.n + 1e-12:
        unmet.append(f"p = 1−S = {p:.3g} > 1/n = {1 / instance.n:.3g}")
    if not isinstance(dist.magnitude, (Constant, Uniform)):
        unmet.append(f"{describe_magnitude(dist.magnitude)}: unbounded, so C = sup loss is infinite unless every input is "
                     "reconstructed exactly")
    if not instance.activation.per_sample:
        unmet.append(f"{instance.activation.describe()} has no per-sample σ, so L and L̃ use different activations")
    if instance.encoder_bias:
        unmet.append("the theorem's model has no encoder bias")
    return unmet


def describe_magnitude(law) -> str:
    """``constant 0.5``, ``uniform on [0.2, 1.5]``, ``0.5 + Exp(mean 0.5)``: for the report."""
    d = law.to_json()
    if d["law"] == "constant":
        return f"constant magnitude {d['c']:g}"
    if d["law"] == "uniform":
        return f"magnitudes uniform on [{d['low']:g}, {d['high']:g}]"
    return f"magnitudes {d.get('c_min', 0):g} + Exp(mean {d.get('beta', 1):g})"


def _magnitude_bounds(dist: FeatureDistribution) -> tuple[float, float]:
    mag = dist.magnitude
    return (mag.c, mag.c) if isinstance(mag, Constant) else (mag.low, mag.high)


def sup_loss(instance: Instance, W_D, W_E, b_E, rng: np.random.Generator) -> tuple[float, float]:
    """``(C_low, C_high)`` with ``C_low ≤ C = sup_x loss(x) ≤ C_high`` (equal for constant magnitudes)."""
    n = instance.n
    lo, hi = _magnitude_bounds(instance.distribution)
    masks = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    if lo == hi:
        c = float(sample_losses(instance, W_D, W_E, b_E, lo * masks).max())
        return c, c
    corners = np.array(list(itertools.product([lo, hi], repeat=n)))
    X = np.vstack([m * corners for m in masks] + [masks[rng.integers(len(masks), size=2000)] * rng.uniform(lo, hi, (2000, n))])
    low = float(sample_losses(instance, W_D, W_E, b_E, X).max())
    # ||σ(z)|| ≤ ||z|| for every {0, z_i} family, so loss ≤ (||W_r|| r + ||W_D|| (||W_E W_p|| r + ||b||))², r = hi √n
    r = hi * math.sqrt(n)
    b = 0.0 if b_E is None else float(np.linalg.norm(b_E))
    high = (np.linalg.norm(instance.W_r, 2) * r + np.linalg.norm(W_D, 2) * (np.linalg.norm(W_E @ instance.W_p, 2) * r + b)) ** 2
    return low, float(max(high, low))


def _ray_expectation(instance: Instance, W_D, W_E, b_E, d: int) -> float:
    """``E_m[ℓ_d(m)]`` exactly: along ``x = m e_d`` the pre-activations ``m a + b`` are linear in m, so the
    on/off pattern changes only where one crosses 0 or θ or two of them tie; between those points
    ℓ_d is a quadratic in m, integrated exactly by 3-point Gauss–Legendre."""
    lo, hi = _magnitude_bounds(instance.distribution)
    X = np.zeros((1, instance.n))
    if lo == hi:
        X[0, d] = lo
        return float(sample_losses(instance, W_D, W_E, b_E, X)[0])
    a = W_E @ instance.W_p[:, d]
    b = np.zeros_like(a) if b_E is None else np.asarray(b_E, dtype=float)
    levels = {0.0, float(getattr(instance.activation, "theta", 0.0))}
    cuts = [(lev - b[i]) / a[i] for i in range(len(a)) if a[i] != 0 for lev in levels]
    cuts += [(b[j] - b[i]) / (a[i] - a[j]) for i in range(len(a)) for j in range(i + 1, len(a)) if a[i] != a[j]]
    points = np.unique(np.clip([lo, hi] + cuts, lo, hi))
    x, w = np.polynomial.legendre.leggauss(3)
    total = 0.0
    for u, v in zip(points[:-1], points[1:]):
        if v - u <= 0:
            continue
        ms = (u + v) / 2 + (v - u) / 2 * x
        X = np.zeros((3, instance.n))
        X[:, d] = ms
        total += (v - u) / 2 * float(w @ sample_losses(instance, W_D, W_E, b_E, X))
    return total / (hi - lo)


def corrected_bound(instance: Instance, W_D, W_E, b_E, C: float) -> tuple[float, dict]:
    """The corrected bound and its three terms (see the module docstring)."""
    dist = instance.distribution
    p = dist.for_n(instance.n)
    none = float(np.prod(1 - p))
    zero_input = float(sample_losses(instance, W_D, W_E, b_E, np.zeros((1, instance.n)))[0])
    second = dist.magnitude.second_moment()
    from theory.objective import approx_loss_terms

    unit = approx_loss_terms(instance.replace(distribution=None, weights=np.ones(instance.n)), W_D, W_E, b_E)  # ℓ_d(1)
    only = _only_probs(p)
    defects = np.array([_ray_expectation(instance, W_D, W_E, b_E, d) - second * unit[d] for d in range(instance.n)])
    pmax = float(p.max())
    terms = {
        "zero_input_term": none * zero_input,
        "homogeneity_defect_term": float(only @ np.abs(defects)),
        "two_or_more_term": math.comb(instance.n, 2) * pmax**2 * C,
    }
    return float(sum(terms.values())), terms


def _only_probs(p: np.ndarray) -> np.ndarray:
    """``Pr(A = {d}) = p_d ∏_{j≠d} (1 − p_j)`` per feature, as products (exact also where some p_j = 1, where
    a ratio of products would be 0/0)."""
    return np.array([p[d] * np.prod(np.delete(1 - p, d)) for d in range(len(p))])


def _pieces(instance: Instance, W_D, W_E, b_E) -> dict:
    """The proof's split of L: ``L_∅``, ``L_1 = Σ_d Pr(A={d}) E_m ℓ_d(m)`` (both exact) and the mass of ``|A| ≥ 2``."""
    p = instance.distribution.for_n(instance.n)
    n = instance.n
    none = float(np.prod(1 - p))
    only = _only_probs(p)
    L0 = none * float(sample_losses(instance, W_D, W_E, b_E, np.zeros((1, n)))[0])
    L1 = float(sum(only[d] * _ray_expectation(instance, W_D, W_E, b_E, d) for d in range(n)))
    return {"L0": L0, "L1": L1, "P2": max(0.0, 1.0 - none - float(only.sum()))}


def _two_or_more_estimate(instance: Instance, W_D, W_E, b_E, rng, per: int = 2000) -> float:
    """Monte-Carlo value of ``L_{≥2}`` (shown in the report only; decisions use its exact bracket)."""
    p = instance.distribution.for_n(instance.n)
    total = 0.0
    for A in itertools.product([0.0, 1.0], repeat=instance.n):
        if sum(A) < 2:
            continue
        mask = np.array(A)
        prob = float(np.prod(np.where(mask > 0, p, 1 - p)))
        X = mask * instance.distribution.magnitude.sample(rng, (per, instance.n))
        total += prob * float(sample_losses(instance, W_D, W_E, b_E, X).mean())
    return total


def evaluate(instance: Instance, W_D, W_E, b_E=None, seed: int = 0) -> dict:
    """L (with CI), L̃, C range, the claimed and the corrected bound on one instance and point."""
    rng = np.random.default_rng(seed)
    W_D, W_E, b = instance.check_params(W_D, W_E, b_E)
    b_E = b if instance.encoder_bias else None
    Lt = approx_loss(instance, W_D, W_E, b_E)
    C_low, C_high = sup_loss(instance, W_D, W_E, b_E, rng)
    p = instance.distribution.max_p(instance.n)
    parts = _pieces(instance, W_D, W_E, b_E)
    if instance.distribution.magnitude.is_constant:
        L = exact_loss(instance, W_D, W_E, b_E, method="exact").value
        method, L2_low, L2_high = "exact", L - parts["L0"] - parts["L1"], L - parts["L0"] - parts["L1"]
    else:
        # L_{≥2} ∈ [0, Pr(|A| ≥ 2)·C]: a rigorous bracket; the Monte-Carlo value is shown, never decided on
        L = parts["L0"] + parts["L1"] + _two_or_more_estimate(instance, W_D, W_E, b_E, rng)
        method, L2_low, L2_high = "exact single-feature part, |A|≥2 part bracketed", 0.0, parts["P2"] * C_high
    D = parts["L0"] + parts["L1"] - Lt  # L − L̃ = D + L_{≥2}
    gap_low = 0.0 if D + L2_low <= 0 <= D + L2_high else min(abs(D + L2_low), abs(D + L2_high))
    gap_high = max(abs(D + L2_low), abs(D + L2_high))
    corr, terms = corrected_bound(instance, W_D, W_E, b_E, C_high)
    return {
        "L": L, "L_low": parts["L0"] + parts["L1"] + L2_low, "L_high": parts["L0"] + parts["L1"] + L2_high, "L_method": method,
        "L_tilde": Lt, "gap": abs(L - Lt), "gap_low": gap_low, "gap_high": gap_high,
        "D": D, "P2": parts["P2"], "L2_exact": L2_low == L2_high, "bound_per_C": claimed_bound(instance.n, 1.0, p),
        "p": p, "C_low": C_low, "C_high": C_high,
        "bound_low": claimed_bound(instance.n, C_low, p), "bound_high": claimed_bound(instance.n, C_high, p),
        "corrected_bound": corr, **terms,
    }


def _status(r: dict) -> str:
    """Decide ``|L − L̃| ≤ n² C p²`` for every admissible C in ``[C_low, C_high]`` and L_{≥2} in its bracket.

    ``L − L̃ = D + L_{≥2}`` with ``D`` exact. Exact L_{≥2}: compare directly. Otherwise
    ``L_{≥2} ∈ [0, Pr(|A|≥2)·C]`` for the true C, and ``Pr(|A|≥2) ≤ n² p²`` (step 5), so: *holds* for every
    ``C ≥ C_low`` when ``D ≤ (n²p² − Pr(|A|≥2)) C_low`` (D ≥ 0) or ``−D ≤ n²p² C_low`` (D < 0); *fails* for every
    ``C ≤ C_high`` when ``D > n²p² C_high`` or ``−D − Pr(|A|≥2) C_high > n²p² C_high``.
    """
    D, P2, nb, lo, hi = r["D"], r["P2"], r["bound_per_C"], r["C_low"], r["C_high"]
    slack = 1e-9 * max(1.0, abs(D)) + 1e-12
    if r["L2_exact"]:
        # |L − L̃| is exact but C is only bracketed: fails for every admissible C only above n²p² C_high
        if r["gap"] > nb * hi + slack:
            return "fails"
        return "holds" if r["gap"] <= nb * lo + slack else "inconclusive"
    if D > nb * hi + slack or -D - P2 * hi > nb * hi + slack:
        return "fails"
    if (D >= 0 and D <= (nb - P2) * lo + slack) or (D < 0 and -D <= nb * lo + slack):
        return "holds"
    return "inconclusive"


def _corrected_fails(r: dict) -> bool:
    return r["gap_low"] > r["corrected_bound"] * (1 + 1e-6) + 1e-9


def curve(instance: Instance, W_D, W_E, b_E=None, ps=None) -> dict:
    """|L − L̃|, the claimed and the corrected bound as p_active varies (for the report's figure)."""
    n = instance.n
    ps = np.geomspace(1e-3, min(0.5, 1 / n), 12) if ps is None else np.asarray(ps)
    out = {"p_active": [], "gap": [], "claimed_bound": [], "corrected_bound": []}
    for p in ps:
        inst = instance.replace(distribution=FeatureDistribution(np.full(n, p), instance.distribution.magnitude), weights=None)
        r = evaluate(inst, W_D, W_E, b_E)
        out["p_active"].append(float(p))
        out["gap"].append(r["gap"])
        out["claimed_bound"].append(r["bound_high"])
        out["corrected_bound"].append(r["corrected_bound"])
    return out


def proof_steps() -> list[StepCheck]:
    p1, p2, p3, p = (sp.Symbol(s, nonnegative=True) for s in ("p_1", "p_2", "p_3", "p"))
    probs = [p1, p2, p3]
    total = sum(sp.Mul(*[q if on else 1 - q for q, on in zip(probs, A)]) for A in itertools.product([0, 1], repeat=3))
    steps = [equality_step("split by active set", "Σ_A Pr(A) = 1 (n = 3): L is the sum over ∅, singletons and |A| ≥ 2", total, 1)]
    m, t = sp.Symbol("m", positive=True), sp.Symbol("t", positive=True)
    w, u = sp.symbols("w u", real=True)
    relu = lambda z: sp.Piecewise((z, z > 0), (0, True))  # noqa: E731
    # ℓ(m) = (m w − u σ(m a))² against m² ℓ(1), for a > 0, a < 0 and a = 0 (sign cases make Piecewise decide)
    cases = [sp.simplify((m * w - u * relu(m * a)) ** 2 - m**2 * (w - u * relu(a)) ** 2) for a in (t, -t, sp.Integer(0))]
    steps.append(StepCheck("single-feature part = L̃ (ReLU)", "||m w_r − W_D σ(m z)||² = m² ||w_r − W_D σ(z)||² for m > 0",
                           all(c == 0 for c in cases), "0" if all(c == 0 for c in cases) else str(cases)))
    theta = sp.Rational(1, 2)
    a = sp.Symbol("a", real=True)
    jump = lambda z: sp.Piecewise((z, z > theta), (0, True))  # noqa: E731
    steps.append(equality_step("single-feature part = L̃ (JumpReLU θ = 1/2)",
                               "(m w − u σ_θ(m a))² = m² (w − u σ_θ(a))² for m > 0",
                               (m * w - u * jump(m * a)) ** 2, m**2 * (w - u * jump(a)) ** 2,
                               note="positive homogeneity fails: a single feature of magnitude m ≠ 1 can cross the threshold differently"))
    b = sp.Symbol("b", real=True)
    steps.append(equality_step("zero input costs nothing (no bias)", "||W_D σ(W_E·0)||² = 0", (u * relu(0 * w)) ** 2, 0))
    steps.append(equality_step("zero input costs nothing (with bias b)", "||W_D σ(W_E·0 + b)||² = 0", (u * relu(b)) ** 2, 0,
                               note="outside the paper's setting (no bias), but every trained SAE has one: Pr(x = 0) ≈ 1 multiplies it"))
    for n in (2, 3, 4, 6):
        two_or_more = 1 - (1 - p) ** n - n * p * (1 - p) ** (n - 1)
        steps.append(inequality_step(f"Pr(≥2 active) ≤ C(n,2) p² (n = {n})", f"C({n},2) p² − Pr(|A| ≥ 2) ≥ 0 on p ∈ [0, 1]",
                                     sp.expand(sp.binomial(n, 2) * p**2 - two_or_more), {p: (0, 1)}))
    nn = sp.Symbol("n", positive=True, integer=True)
    steps.append(equality_step("C(n,2) ≤ n²", "n² − n(n−1)/2 = n(n+1)/2 ≥ 0", nn**2 - nn * (nn - 1) / 2, nn * (nn + 1) / 2))
    return steps


def _with_distribution(instance: Instance, p_active) -> Instance:
    if p_active is None:
        return instance
    if instance.distribution is not None:
        raise SDLInputError("give p_active or an instance with a distribution, not both")
    # p = 0 or 1 makes every M_d = 0 (L̃ ≡ 0) and C1's bound n² C p² meaningless
    p_active = V.probability("p_active (the probability that a feature is on)", p_active, open_low=True, open_high=True)
    return instance.replace(distribution=FeatureDistribution.uniform(instance.n, p_active), weights=None)


def check_instance(instance: Instance, *, seed: int = 0, budget: int = 40, W_D=None, W_E=None, b_E=None, p_active=None, **kw) -> Verdict:
    """|L − L̃| against n² C p² on one instance (constant magnitude 1 when only ``p_active`` is given)."""
    if kw:
        raise SDLInputError(f"C1 takes W_D, W_E, b_E and p_active, not {sorted(kw)}")
    instance = _with_distribution(instance, p_active)
    unmet = hypotheses(instance)
    if instance.distribution is None:
        return Verdict("C1", CLAIM.title, "hypotheses_not_met", unmet[0], seed=seed, budget=budget)
    rng = np.random.default_rng(seed)
    if W_E is None:
        W_E = rng.normal(size=(instance.n, instance.n_p))
        b_E = 0.3 * rng.normal(size=instance.n) if instance.encoder_bias else None
    if W_D is None:
        W_D = rng.normal(size=(instance.n_r, np.asarray(W_E).shape[0]))
    hard = [u for u in unmet if "unbounded" in u or "per-sample" in u]
    if hard:
        return Verdict("C1", CLAIM.title, "hypotheses_not_met", "; ".join(hard), seed=seed, budget=budget)
    r = evaluate(instance, W_D, W_E, b_E, seed)
    status = _status(r)
    text = (f"|L − L̃| = {r['gap']:.4g} (L = {r['L']:.4g} [{r['L_method']}], L̃ = {r['L_tilde']:.4g}) vs n² C p² = "
            f"{r['bound_low']:.4g}–{r['bound_high']:.4g} (C ∈ [{r['C_low']:.3g}, {r['C_high']:.3g}], p = {r['p']:.3g}); "
            f"corrected bound {r['corrected_bound']:.4g}")
    if unmet:
        return Verdict("C1", CLAIM.title, "hypotheses_not_met", "; ".join(unmet) + f". On this instance: {text} ({status})",
                       numbers=r, seed=seed, budget=budget)
    cc = None
    ce = None
    if status == "fails":
        ce = {"instance": instance.to_json(), "W_D": np.asarray(W_D), "W_E": np.asarray(W_E), **r}
        cc = _corrected(not _corrected_fails(r), f"on this instance |L − L̃| = {r['gap']:.4g} ≤ corrected bound {r['corrected_bound']:.4g}")
    return Verdict("C1", CLAIM.title, status, text, ce, cc, (), r, seed, budget)


def _superposed(example) -> bool:
    return example[0].n > example[0].n_p


def data_margin(instance: Instance, W_E, b_E=None) -> float:
    """The smallest distance of a pre-activation from a threshold or a tie over the inputs both objectives
    evaluate: the unit single features (L̃) and, for constant magnitudes, every active set at that magnitude
    (L; with an encoder bias the zero input too). With continuous magnitudes L is an integral and a tie has
    measure zero, so only the L̃ inputs count."""
    import itertools

    X = [np.eye(instance.n)]
    mag = instance.distribution.magnitude if instance.distribution is not None else None
    if mag is not None and mag.is_constant:
        c = float(mag.sample(None, 1)[0])
        sets = np.array([m for m in itertools.product([0.0, 1.0], repeat=instance.n) if any(m)])
        X.append(c * sets)
    if instance.encoder_bias:
        X.append(np.zeros((1, instance.n)))
    return min(robust_margin(instance, W_E, b_E, x) for x in X)


def _corrected(verified: bool, evidence: str, counts: dict | None = None) -> CorrectedCondition:
    return CorrectedCondition(
        text=("The bound n² C p² holds when σ is positively homogeneous (ReLU, TopK, TopK∘ReLU, Gated) and there is no encoder "
              "bias: then L − L̃ = L_{≥2} ∈ [0, C(n,2) p² C]. In general |L − L̃| ≤ Pr(no feature active)·||W_D σ(b)||² + "
              "Σ_d Pr(only d active)·|E_m ℓ_d(m) − E[m²] ℓ_d(1)| + C(n,2) p² C, the middle term being the homogeneity defect "
              "(0 for homogeneous σ) of each single-feature input."),
        sympy="Abs(L - Ltilde) <= P0*Abs(W_D*sigma(b))**2 + Sum(P_d*Abs(E(l_d(m)) - E(m**2)*l_d(1)), (d, 1, n)) + binomial(n, 2)*p**2*C",
        verified=verified, evidence=evidence, kind="sufficient", counts=counts)


@st.composite
def _space(draw, families=None, bias=False):
    """Small instances (n ≤ 3) in the theorem's hypotheses: p ≤ 1/n, bounded magnitudes (constant ≠ 1 or uniform);
    ``families`` default: every searched per-sample family."""
    families = searched_families(per_sample=True) if families is None else families
    inst = draw(instances(min_n=1, max_n=3, max_dim=3, families=families, bias=bias))
    if JumpReLU.name in families:  # half the draws: a threshold that single features of magnitude m ≠ 1 can cross
        inst = inst.replace(activation=draw(st.one_of(st.builds(JumpReLU, theta=st.sampled_from([0.5, 1.0, 0.25])),
                                                      st.just(inst.activation))))
    # p on a log scale up to min(1/n, 1/2) (p = 1 makes M_d = 0·∞): the gaps the proof misses are O(p),
    # the bound O(p²), so small p is where a failure shows
    p = min(0.5, 1.0 / inst.n) * draw(st.sampled_from([1.0, 0.3, 0.1, 0.03, 0.01]))
    magnitude = draw(st.sampled_from([Constant(0.5), Uniform(0.2, 1.5), Constant(2.0), Constant(1.0)]))
    inst = inst.replace(distribution=FeatureDistribution(np.full(inst.n, p), magnitude), weights=None)
    if draw(st.booleans()):
        params = draw(parameters(inst, max_q=3))
    else:  # a model that fits (like a trained one): C is small, so the bound n² C p² is tight
        rng = np.random.default_rng(draw(st.integers(0, 2**16)))
        noise = draw(st.sampled_from([0.0, 0.05, 0.2]))
        W_E = inst.W_p.T + noise * rng.normal(size=(inst.n, inst.n_p))
        W_D = inst.W_r + noise * rng.normal(size=(inst.n_r, inst.n))
        W_E, b_E = inst.activation.unit_encoder(W_E, 0.1 * rng.normal(size=inst.n) if inst.encoder_bias else None)
        params = (W_D, W_E, b_E)
    return inst, params, draw(st.integers(0, 2**16))


def search(budget: int = 40, seed: int = 0) -> Verdict:
    steps = tuple(proof_steps())

    def original(example):
        inst, (W_D, W_E, b_E), s = example
        r = evaluate(inst, W_D, W_E, b_E, s)
        st_ = _status(r)
        if st_ == "inconclusive":
            return UNDECIDED
        return {"instance": inst.to_json(), "activation": inst.activation.describe(), "W_D": W_D, "W_E": W_E, "b_E": b_E, **r} \
            if st_ == "fails" else None

    def corrected(example):
        inst, (W_D, W_E, b_E), s = example
        r = evaluate(inst, W_D, W_E, b_E, s)
        return {"instance": inst.to_json(), "activation": inst.activation.describe(), **r} if _corrected_fails(r) else None

    # the corrected condition's families: positively homogeneous σ (every member of the family)
    homogeneous_families = searched_families(per_sample=True, homogeneous=True)
    found = find_counterexample(_space(), original, budget=budget, seed=seed)

    def robust(example):  # the same failure with every pre-activation at a margin from thresholds and ties
        out = original(example)
        if not isinstance(out, dict):
            return out
        inst, (W_D, W_E, b_E), _ = example
        margin = data_margin(inst, W_E, b_E)
        return out | {"robust_margin": margin} if margin >= ROBUST_MARGIN else SKIP

    robust_found = find_counterexample(_space(), robust, budget=budget, seed=seed + 5)
    # corrected conditions: at least MIN_MET instances each, superposition (n > n_p) counted
    homogeneous = search_condition(_space(homogeneous_families), original, seed=seed + 1, min_met=MIN_MET,
                                   superposed=_superposed, first_budget=max(budget, MIN_MET))
    with_bias = find_counterexample(_space(homogeneous_families, bias=True), original, budget=budget, seed=seed + 2)
    repaired = search_condition(_space(bias=None), corrected, seed=seed + 3, min_met=MIN_MET,
                                superposed=_superposed, first_budget=max(budget, MIN_MET))
    # the Gated family (positively homogeneous, per sample), searched apart: the claim, and the corrected bound
    gated = gated_apart()
    g_budget = max(10, budget // 2)
    g_found = find_counterexample(_space(GATED), original, budget=g_budget, seed=seed + 7) if gated else None
    g_repaired = (find_counterexample(_space(GATED, bias=None), corrected, budget=g_budget, seed=seed + 8, superposed=_superposed)
                  if gated else None)
    fams = families_searched(searched_families(per_sample=True), gated)
    numbers = {"search": found.summary(), "homogeneous_no_bias_search": homogeneous.summary(),
               "homogeneous_with_bias_search": with_bias.summary(), "corrected_search": repaired.summary(),
               "bias_counterexample": with_bias.details, "families_searched": fams}
    gated_text = ""
    if gated:
        numbers |= {"gated_search": g_found.summary(), "gated_corrected_search": g_repaired.summary(),
                    "gated_counterexample": g_found.details, "gated_corrected_counterexample": g_repaired.details}
        gated_text = (f" Gated units (tied and untied, no bias: positively homogeneous), searched apart: the claimed bound "
                      + (f"fails: |L − L̃| = {g_found.details['gap']:.4g} > n² C p² = {g_found.details['bound_high']:.4g}"
                         if g_found.found else "holds") + f" ({g_found.summary()}); the corrected bound, with and without "
                      f"bias: {g_repaired.summary()}.")
    gated_parts = (g_found, g_repaired) if gated else ()
    if found.found:
        ex = found.details
        inst = Instance.from_json(ex["instance"])
        numbers["curve"] = curve(inst, ex["W_D"], ex["W_E"], ex["b_E"])
        numbers["figure"] = {
            "title": f"C1 on the minimal counterexample ({ex['activation']}, n = {inst.n})",
            "xlabel": "p (probability a feature is active)", "ylabel": "loss difference",
            "x": numbers["curve"]["p_active"],
            "series": {"|L − L̃| (exact)": numbers["curve"]["gap"], "claimed bound n² C p²": numbers["curve"]["claimed_bound"],
                       "corrected bound": numbers["curve"]["corrected_bound"]},
            "logx": True, "logy": True,
            "caption": "the true gap shrinks like p while the claimed bound shrinks like p², so the bound fails for every "
                       "small p; the corrected bound (zero-input + homogeneity-defect + C(n,2)p²C terms) stays above the gap",
        }
        ex["summary"] = (f"{ex['activation']}, n = {inst.n}, p = {ex['p']:.3g}, {describe_magnitude(inst.distribution.magnitude)}, "
                         f"W_E = {np.round(np.asarray(ex['W_E']), 3).tolist()}, W_D = {np.round(np.asarray(ex['W_D']), 3).tolist()}: "
                         f"L = {ex['L']:.4g}, L̃ = {ex['L_tilde']:.4g}, |L − L̃| = {ex['gap']:.4g} > n² C p² = {ex['bound_high']:.4g}")
    failed_steps = [s.name for s in steps if not s.holds]
    ok_restricted = not homogeneous.found and not (gated and g_found.found)
    cc = _corrected(ok_restricted and not repaired.found and not (gated and g_repaired.found),
                    f"homogeneous σ without bias, original bound: {homogeneous.summary()}; whole space with and without bias, "
                    f"corrected bound: {repaired.summary()}"
                    + (f"; Gated, original bound without bias: {g_found.summary()}; Gated, corrected bound: "
                       f"{g_repaired.summary()}" if gated else ""),
                    with_part(merged_counts(homogeneous, repaired), *gated_parts))
    gated_text += f" Families searched: {describe_families(fams)}."
    bias_note = (f" Outside the paper's setting, an encoder bias alone breaks the bound (ReLU-type σ): "
                 f"|L − L̃| = {with_bias.details['gap']:.3g} > {with_bias.details['bound_high']:.3g}, the zero-input term being "
                 f"{with_bias.details['zero_input_term']:.3g}." if with_bias.found else
                 f" With an encoder bias (outside the paper's setting): {with_bias.summary()}.")
    if not found.found and gated and g_found.found:
        found = g_found  # the default space holds, the Gated family does not
    if not found.found:
        return Verdict("C1", CLAIM.title, "holds", f"{found.summary()}." + bias_note + gated_text, None, cc, steps, numbers,
                       seed, budget)
    ex = found.details
    ex["margin_from_thresholds"] = data_margin(inst, ex["W_E"], ex["b_E"])
    minimal = (f"minimal counterexample: {ex['activation']}, n = {len(ex['instance']['weights'])}, p = {ex['p']:.3g}, "
               f"{describe_magnitude(inst.distribution.magnitude)}: |L − L̃| = {ex['gap']:.4g} > n² C p² = {ex['bound_high']:.4g} "
               f"(C ≤ {ex['C_high']:.3g}; {margin_note(ex['margin_from_thresholds'])})"
               f"; the single-feature part differs from L̃ by {ex['homogeneity_defect_term']:.3g}. {found.summary()}.")
    numbers["robust_search"] = robust_found.summary()
    if robust_found.found:
        rb = robust_found.details
        ri = Instance.from_json(rb["instance"])
        robust_text = (f"Robust counterexample (every pre-activation at least {rb['robust_margin']:.3g} from every threshold "
                       f"and tie): {rb['activation']}, n = {ri.n}, p = {rb['p']:.3g}, {describe_magnitude(ri.distribution.magnitude)}, "
                       f"W_E = {np.round(np.asarray(rb['W_E']), 3).tolist()}, W_D = {np.round(np.asarray(rb['W_D']), 3).tolist()}: "
                       f"|L − L̃| = {rb['gap']:.4g} > n² C p² = {rb['bound_high']:.4g} ({robust_found.summary()}). Beside it, the ")
        rb["summary"] = (f"robust: {rb['activation']}, n = {ri.n}, p = {rb['p']:.3g}, {describe_magnitude(ri.distribution.magnitude)}, "
                         f"margin {rb['robust_margin']:.3g} from every threshold: |L − L̃| = {rb['gap']:.4g} > n² C p² = "
                         f"{rb['bound_high']:.4g}; minimal (on a threshold): {ex.get('summary', '')}")
        ex = rb | {"minimal": ex}
    else:
        robust_text = (f"No counterexample with every pre-activation ≥ {ROBUST_MARGIN} from every threshold and tie was found "
                       f"({robust_found.summary()}). The ")
    evidence = robust_text + minimal + f" Symbolic steps that do not follow: {failed_steps}." + bias_note + gated_text
    return Verdict("C1", CLAIM.title, "fails", evidence, ex, cc, steps, numbers, seed, budget)


__all__ = ["CLAIM", "hypotheses", "proof_steps", "check_instance", "search", "evaluate", "claimed_bound",
           "corrected_bound", "curve"]
