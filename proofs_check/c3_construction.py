"""C3 (Thm 3.3): the construction ``W_E = [W_p^T; 0]``, ``W_D = [W_r, 0]`` has ``L̃ ≤ n² M² Σ_d M_d``.

The argument: for feature ``d`` the pre-activations are ``z = (G_{1d}, …, G_{nd}, 0, …, 0)`` with
``G = W_p^T W_p`` (``G_dd = 1``); σ keeps some units unchanged and zeroes the rest, so if the unit
``d`` is kept the residual is ``−Σ_{j≠d kept} G_jd w_r^j``, of norm ``≤ Σ_{j≠d kept} |G_jd|``; if every
kept ``G_jd`` is in ``[0, M]`` this is ``≤ (n−1) M``, and ``L̃ ≤ (n−1)² M² Σ M_d ≤ n² M² Σ M_d``.

Two steps need more than the ``{0, z_i}`` property the theorem assumes:
- the unit ``d`` (pre-activation 1) must be kept: false for JumpReLU with ``θ ≥ 1``;
- a kept off-diagonal entry must lie in ``[0, M]``: false for TopK without ReLU, which keeps
  negative entries when ``k`` exceeds the number of non-negative ones (``M`` is a *signed* maximum).
The search looks for these failures over every family, with and without bias (the construction
has ``b = 0``), transcoders, superposition and negative interference, and checks the corrected
statement with the same search.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from proofs_check.algebra import equality_step, inequality_step
from proofs_check.claim import Claim
from proofs_check.search import (GATED, SKIP, describe_families, families_searched, find_counterexample, gated_apart,
                                 search_condition)
from proofs_check.verdict import (MIN_MET, ROBUST_MARGIN, CorrectedCondition, StepCheck, Verdict, margin_note, merged_counts,
                                  with_part)
from theory.activations import JumpReLU, TopK
from theory.errors import SDLInputError
from theory.geometry import coherence
from theory.instance import Instance
from theory.objective import approx_loss, approx_loss_terms
from theory.patterns import robust_margin
from theory.strategies import activations, instances, searched_families, seeds

@dataclass(frozen=True)
class Options:
    """The options of ``check_instance`` (``check("C3", instance, **options)``)."""

    n_q: object = None  # the number of neurons (default: n)


CLAIM = Claim(
    id="C3",
    title="A near-zero-loss construction",
    paper_ref="Thm 3.3",
    statement=(
        "If there are at least as many neurons as features (n_q ≥ n) and σ keeps each unit or zeroes it, "
        "then the encoder whose first rows are the input features (W_E = [W_pᵀ; 0]) and the decoder whose "
        "first columns are the target features (W_D = [W_r, 0]) have L̃ ≤ n² M² Σ_d M_d, where M is the "
        "largest inner product between two different input features."
    ),
)


def construction(instance: Instance, n_q: int | None = None, scale: float = 1.0):
    """``(W_D, W_E, b_E)`` of Thm 3.3 with ``n_q`` neurons (default ``n``); ``scale`` multiplies
    the encoder and divides the decoder (1 in the theorem; the repair for JumpReLU uses ``scale > θ``)."""
    n = instance.n
    n_q = n if n_q is None else int(n_q)
    if n_q < n:
        raise SDLInputError(f"the construction needs n_q >= n = {n} neurons, got n_q = {n_q}")
    W_E = np.zeros((n_q, instance.n_p))
    W_E[:n] = scale * instance.W_p.T
    W_D = np.zeros((instance.n_r, n_q))
    W_D[:, :n] = instance.W_r / scale
    # one row per unit, lifted to the family (Gated: W_gate = W_mag = [W_pᵀ; 0], so σ(z)_i ∈ {0, z_i} again)
    return (W_D, *instance.activation.unit_encoder(W_E, np.zeros(n_q) if instance.encoder_bias else None))


def claimed_bound(instance: Instance) -> float:
    """``n² M² Σ_d M_d`` with ``M = max_{i≠j} <w_p^i, w_p^j>`` (Thm 3.3)."""
    return instance.n**2 * instance.interference**2 * float(instance.weights.sum())


def corrected_bound(instance: Instance) -> float:
    """The corrected bound: ``n² μ_σ² Σ_d M_d``, ``μ_σ = M`` for families that keep only positive
    entries, ``μ_σ = max_{i≠j} |<w_p^i, w_p^j>|`` (coherence) for TopK without ReLU."""
    mu = coherence(instance.W_p) if type(instance.activation) is TopK else instance.interference
    return instance.n**2 * mu**2 * float(instance.weights.sum())


def corrected_scale(instance: Instance) -> float:
    """The encoder scale that keeps the diagonal unit on: 1, or ``2θ`` for JumpReLU with ``θ ≥ 1``."""
    act = instance.activation
    return 2 * act.theta if isinstance(act, JumpReLU) and act.theta >= 1 else 1.0


def hypotheses(instance: Instance, n_q: int | None = None) -> list[str]:
    unmet = []
    if n_q is not None and n_q < instance.n:
        unmet.append(f"n_q = {n_q} < n = {instance.n}: the construction needs at least one neuron per feature")
    return unmet


def proof_steps() -> list[StepCheck]:
    """The algebra of Thm 3.3 on a generic 3-feature instance (G symmetric with unit diagonal)."""
    g12, g13, g23, s2, s3 = sp.symbols("G_12 G_13 G_23 s_2 s_3", real=True)
    G = sp.Matrix([[1, g12, g13], [g12, 1, g23], [g13, g23, 1]])
    W_r = sp.Matrix(2, 3, lambda r, j: sp.Symbol(f"r_{r}{j + 1}", real=True))
    Wp = sp.Matrix(2, 3, lambda r, j: sp.Symbol(f"p_{r}{j + 1}", real=True))
    steps = [
        equality_step("pre-activations", "W_E w_p^d = (W_pᵀ w_p^d; 0) = (G_{·d}; 0)",
                      sp.Matrix.vstack(Wp.T, sp.zeros(1, 2)) * Wp[:, 0], sp.Matrix.vstack(Wp.T * Wp[:, 0], sp.zeros(1, 1))),
    ]
    # Feature 1 with its own unit kept (s_1 = 1) and units 2, 3 kept iff s_2, s_3 = 1.
    S = sp.diag(1, s2, s3)
    residual = W_r[:, 0] - W_r * S * G[:, 0]
    steps.append(equality_step(
        "residual", "with unit d kept: w_r^d − W_r S_d G_{·d} = −Σ_{j≠d kept} G_jd w_r^j (uses G_dd = 1)",
        residual, -(s2 * g12 * W_r[:, 1] + s3 * g13 * W_r[:, 2])))
    S_off = sp.diag(0, s2, s3)  # unit d switched off (JumpReLU with θ ≥ 1): the step no longer follows
    steps.append(equality_step(
        "unit d is kept", "σ keeps the pre-activation G_dd = 1 (needed by the previous step)",
        W_r[:, 0] - W_r * S_off * G[:, 0], -(s2 * g12 * W_r[:, 1] + s3 * g13 * W_r[:, 2]),
        note="follows only if σ keeps a unit whose pre-activation is 1: false for JumpReLU with θ ≥ 1"))
    c1, c2, rho = sp.symbols("c_1 c_2 rho", real=True)
    steps.append(inequality_step(
        "triangle inequality", "||c_1 w_r^1 + c_2 w_r^2||² ≤ (|c_1| + |c_2|)² for unit columns (ρ = <w_r^1, w_r^2>)",
        (sp.Abs(c1) + sp.Abs(c2)) ** 2 - (c1**2 + c2**2 + 2 * c1 * c2 * rho), {c1: (-1, 1), c2: (-1, 1), rho: (-1, 1)}))
    G_jd, M = sp.symbols("G_jd M", real=True)
    # |G_jd| ≤ M for every kept entry: with G_jd ≤ M only (the definition of M) this needs G_jd ≥ −M.
    steps.append(inequality_step(
        "kept entries are at most M in size", "a kept off-diagonal G_jd ≤ M satisfies |G_jd| ≤ M (here M = 0)",
        (M - sp.Abs(G_jd)).subs(M, 0), {G_jd: (-1, 0)},
        note="true when σ keeps only positive entries (ReLU, JumpReLU, TopK∘ReLU, BatchTopK); TopK without ReLU keeps negative ones"))
    n = sp.Symbol("n", positive=True, integer=True)
    steps.append(equality_step("(n−1)² ≤ n²", "n² M² − (n−1)² M² = (2n − 1) M² ≥ 0",
                               n**2 * M**2 - (n - 1) ** 2 * M**2, (2 * n - 1) * M**2))
    return steps


def _evaluate(instance: Instance, n_q: int | None, bound_fn=None, scale: float = 1.0) -> dict:
    W_D, W_E, b_E = construction(instance, n_q, scale)
    loss = approx_loss(instance, W_D, W_E, b_E)
    bound = (bound_fn or claimed_bound)(instance)
    terms = approx_loss_terms(instance, W_D, W_E, b_E)
    kept = instance.activation.active(instance.pre_activations(W_E, b_E))
    return {
        "loss": loss,
        "bound": bound,
        "violated": loss > bound * (1 + 1e-9) + 1e-12,
        "worst_feature": int(np.argmax(terms)),
        "diagonal_kept": bool(np.all(kept[np.arange(instance.n), np.arange(instance.n)])),
        "negative_entries_kept": bool(np.any(kept[:, : instance.n] & (instance.pre_activations(W_E)[:, : instance.n] < 0))),
        "n_q": W_E.shape[0],
    }


def _record(instance: Instance, r: dict) -> dict:
    return {
        "instance": instance.to_json(),
        "activation": instance.activation.describe(),
        "gram_W_p": instance.W_p.T @ instance.W_p,
        "interference_M": instance.interference,
        "n_q": r["n_q"],
        "loss": r["loss"],
        "bound": r["bound"],
        "diagonal_kept": r["diagonal_kept"],
        "negative_entries_kept": r["negative_entries_kept"],
    }


def _corrected_text() -> CorrectedCondition:
    return CorrectedCondition(
        text=(
            "Add the hypothesis that σ keeps a unit whose pre-activation is 1 (JumpReLU needs θ < 1; with θ ≥ 1 "
            "scale the encoder by c > θ and the decoder by 1/c), and for TopK without ReLU replace M by the "
            "coherence μ = max_{i≠j} |<w_p^i, w_p^j>|: L̃ ≤ n² μ_σ² Σ_d M_d with μ_σ = M for ReLU, JumpReLU, "
            "TopK∘ReLU, BatchTopK and Gated (the construction lifted to W_gate = W_mag) and μ_σ = μ for TopK."
        ),
        sympy="Le(Ltilde, n**2*mu_sigma**2*Sum(M_d, (d, 1, n)))",
    )


def check_instance(instance: Instance, *, seed: int = 0, budget: int = 40, n_q: int | None = None, **kw) -> Verdict:
    """The construction's L̃ against ``n² M² Σ M_d`` on one instance (``n_q`` neurons, default n)."""
    if kw:
        raise SDLInputError(f"C3 takes n_q (the number of neurons), not {sorted(kw)}")
    unmet = hypotheses(instance, n_q)
    if unmet:
        return Verdict("C3", CLAIM.title, "hypotheses_not_met", "; ".join(unmet), seed=seed, budget=budget)
    r = _evaluate(instance, n_q)
    numbers = {k: r[k] for k in ("loss", "bound", "diagonal_kept", "negative_entries_kept", "n_q")}
    if not r["violated"]:
        return Verdict("C3", CLAIM.title, "holds",
                       f"construction with {r['n_q']} neurons: L̃ = {r['loss']:.6g} ≤ n² M² Σ M_d = {r['bound']:.6g}",
                       numbers=numbers, seed=seed, budget=budget)
    fixed = _evaluate(instance, n_q, corrected_bound, corrected_scale(instance))
    cc = _corrected_text()
    cc = CorrectedCondition(cc.text, cc.sympy, not fixed["violated"],
                            f"on this instance the corrected construction/bound gives L̃ = {fixed['loss']:.6g} ≤ {fixed['bound']:.6g}"
                            if not fixed["violated"] else f"corrected statement also fails here: {fixed['loss']:.6g} > {fixed['bound']:.6g}")
    why = ("the diagonal unit is switched off" if not r["diagonal_kept"]
           else "σ keeps negative off-diagonal entries" if r["negative_entries_kept"] else "see the numbers")
    return Verdict("C3", CLAIM.title, "fails",
                   f"L̃ = {r['loss']:.6g} > n² M² Σ M_d = {r['bound']:.6g} ({why})",
                   _record(instance, r), cc, (), numbers, seed, budget)


@st.composite
def _opposed_pair(draw, n: int, dim: int) -> np.ndarray:
    """Unit features where ``w_1·w_2 = −c`` and all other pairs are orthogonal (negative interference
    with ``M = 0`` once ``n ≥ 3``), in a random orthonormal frame of ``R^dim`` (``dim ≥ n``)."""
    c = draw(st.sampled_from([0.5, 0.9, 0.99]))
    rng = np.random.default_rng(draw(seeds))
    Q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    coords = np.eye(dim)[:, :n]
    coords[:2, 1] = [-c, np.sqrt(1 - c**2)]
    return Q @ coords


@st.composite
def _space(draw, families=None):
    """Every family (θ up to 1.5, k up to 4), bias or not, SAE or transcoder, n > n_p or not,
    orthonormal, random, all-negative and opposed-pair geometries, 0–2 extra neurons."""
    inst = draw(instances(min_n=2, max_n=4, max_dim=4))
    if draw(st.booleans()):  # plant negative interference next to orthogonality (C3's weak spot)
        dim = draw(st.integers(inst.n, 4))
        inst = inst.replace(W_p=draw(_opposed_pair(inst.n, dim)), W_r=None if inst.is_sae else inst.W_r)
    if families is None:
        act = draw(st.one_of(activations(max_k=4), st.sampled_from([JumpReLU(theta=1.0), JumpReLU(theta=1.5)])))
    elif isinstance(families, tuple):  # family names
        act = draw(activations(families, max_k=4))
    else:
        act = draw(families)
    return inst, act, draw(st.integers(0, 2))


def _figure() -> dict:
    """L̃ of the construction vs the bounds on the opposed-pair family (w_1·w_2 = −c, w_3 ⟂ both, M = 0)."""
    cs = np.linspace(0.0, 0.95, 12)
    series = {"ReLU L̃": [], "TopK(k=3) L̃": [], "claimed bound n² M² Σ M_d": [], "corrected bound (TopK: coherence)": []}
    for c in cs:
        W = np.eye(3)
        W[:2, 1] = [-c, np.sqrt(1 - c**2)]
        for act, key in ((JumpReLU(0.0), "ReLU L̃"), (TopK(k=3), "TopK(k=3) L̃")):
            inst = Instance(W_p=W, activation=act)
            series[key].append(approx_loss(inst, *construction(inst)))
        inst = Instance(W_p=W, activation=TopK(k=3))
        series["claimed bound n² M² Σ M_d"].append(claimed_bound(inst))
        series["corrected bound (TopK: coherence)"].append(corrected_bound(inst))
    return {"title": "C3: construction loss, 3 features with <w_1, w_2> = −c", "xlabel": "c", "ylabel": "L̃",
            "x": cs, "series": series, "logx": False, "logy": False,
            "caption": "with M = 0 the claimed bound is 0; ReLU stays at 0 but TopK keeps the negative entry and its loss "
                       "grows like 2c², below the corrected bound 9c²·3 that uses the coherence |<w_1, w_2>|"}


def search(budget: int = 40, seed: int = 0) -> Verdict:
    steps = tuple(proof_steps())

    def original(example):
        inst, act, extra = example
        inst = inst.replace(activation=act)
        r = _evaluate(inst, inst.n + extra)
        return _record(inst, r) if r["violated"] else None

    def corrected(example):
        inst, act, extra = example
        inst = inst.replace(activation=act)
        r = _evaluate(inst, inst.n + extra, corrected_bound, corrected_scale(inst))
        return _record(inst, r) if r["violated"] else None

    def robust(example):  # a failure with every pre-activation at a margin from every threshold and tie
        out = original(example)
        if out is None:
            return None
        inst, act, extra = example
        inst = inst.replace(activation=act)
        W_D, W_E, b_E = construction(inst, inst.n + extra)
        margin = robust_margin(inst, W_E, b_E)
        return out | {"robust_margin": margin} if margin >= ROBUST_MARGIN else SKIP

    # The same hypothesis space searched twice: once for the claim, once for the corrected statement.
    found = find_counterexample(_space(), original, budget=budget, seed=seed)
    robust_found = find_counterexample(_space(), robust, budget=budget, seed=seed + 5)
    repaired = search_condition(_space(), corrected, seed=seed + 1, min_met=MIN_MET, first_budget=max(budget, MIN_MET),
                                superposed=lambda ex: ex[0].n > ex[0].n_p)
    # The two failure modes are separate gaps; show a minimal example of each if the search space has one.
    topk_only = find_counterexample(_space(st.builds(TopK, k=st.integers(2, 4))), original, budget=budget, seed=seed + 2)
    # the Gated family (tied and untied), searched apart, with the construction lifted (W_gate = W_mag)
    gated = gated_apart()
    fams = families_searched(searched_families(), gated)
    numbers = {"search": found.summary(), "corrected_search": repaired.summary(), "topk_search": topk_only.summary(),
               "families_searched": fams}
    gated_text = ""
    if gated:
        g_budget = max(10, budget // 2)
        g_found = find_counterexample(_space(GATED), original, budget=g_budget, seed=seed + 7)
        g_repaired = find_counterexample(_space(GATED), corrected, budget=g_budget, seed=seed + 8,
                                         superposed=lambda ex: ex[0].n > ex[0].n_p)
        numbers |= {"gated_search": g_found.summary(), "gated_corrected_search": g_repaired.summary(),
                    "gated_counterexample": g_found.details}
        gated_text = (f" Gated units (tied and untied; the construction lifted to W_gate = W_mag = [W_pᵀ; 0]), searched "
                      f"apart: {g_found.summary()}"
                      + (f" (L̃ = {g_found.details['loss']:.4g} > {g_found.details['bound']:.4g})" if g_found.found else "")
                      + f"; corrected statement: {g_repaired.summary()}.")
        if g_found.found and not found.found:
            found = g_found
    gated_text += f" Families searched: {describe_families(fams)}."
    cc = _corrected_text()
    cc = CorrectedCondition(cc.text, cc.sympy, not repaired.found and not (gated and g_repaired.found),
                            f"same search over the whole space, corrected statement: {repaired.summary()}"
                            + (f"; fails at {repaired.details}" if repaired.found else "")
                            + (f"; Gated: {g_repaired.summary()}" if gated else ""),
                            kind="sufficient", counts=with_part(merged_counts(repaired), *((g_repaired,) if gated else ())))
    if not found.found:
        return Verdict("C3", CLAIM.title, "holds",
                       f"construction within the bound on every searched instance: {found.summary()}." + gated_text,
                       None, None, steps, numbers, seed, budget)
    ex = found.details
    m_inst = Instance.from_json(ex["instance"])
    ex["margin_from_thresholds"] = robust_margin(m_inst, construction(m_inst, ex["n_q"])[1])
    evidence = (f"minimal counterexample: {ex['activation']}, n = {len(ex['gram_W_p'])}, n_q = {ex['n_q']}, "
                f"M = {ex['interference_M']:.3g}: L̃ = {ex['loss']:.6g} > bound {ex['bound']:.6g} "
                f"({'diagonal unit switched off' if not ex['diagonal_kept'] else 'negative entries kept'}; "
                f"{margin_note(ex['margin_from_thresholds'])}). "
                f"{found.summary()}.")
    numbers["robust_search"] = robust_found.summary()
    if robust_found.found:
        rb = robust_found.details
        evidence = (f"Robust counterexample (every pre-activation at least {rb['robust_margin']:.3g} from every threshold and "
                    f"tie): {rb['activation']}, n = {len(rb['gram_W_p'])}, n_q = {rb['n_q']}, M = {rb['interference_M']:.3g}: "
                    f"L̃ = {rb['loss']:.6g} > bound {rb['bound']:.6g} "
                    f"({'diagonal unit switched off' if not rb['diagonal_kept'] else 'negative entries kept'}; "
                    f"{robust_found.summary()}). Beside it, the " + evidence)
    else:
        evidence = (f"No counterexample with every pre-activation ≥ {ROBUST_MARGIN} from every threshold and tie was found "
                    f"({robust_found.summary()}). The " + evidence)
    if topk_only.found:
        t = topk_only.details
        evidence += (f" TopK without ReLU: {t['activation']}, Gram {np.round(np.asarray(t['gram_W_p']), 3).tolist()}, "
                     f"L̃ = {t['loss']:.4g} > {t['bound']:.4g} (negative entries kept: {t['negative_entries_kept']}).")
    failing_steps = [s.name for s in steps if not s.holds]
    if failing_steps:
        evidence += f" Steps that do not follow in general: {failing_steps}."
    evidence += gated_text
    numbers["topk_counterexample"] = topk_only.details
    numbers["figure"] = _figure()
    ex["summary"] = (f"{ex['activation']}, n = {len(ex['gram_W_p'])}, n_q = {ex['n_q']}, Gram "
                     f"{np.round(np.asarray(ex['gram_W_p']), 3).tolist()}: L̃ = {ex['loss']:.4g} > n² M² Σ M_d = {ex['bound']:.4g}")
    if robust_found.found:
        rb = robust_found.details
        rb["summary"] = (f"robust: {rb['activation']}, n = {len(rb['gram_W_p'])}, n_q = {rb['n_q']}, margin "
                         f"{rb['robust_margin']:.3g}: L̃ = {rb['loss']:.4g} > n² M² Σ M_d = {rb['bound']:.4g}; minimal (on a "
                         f"threshold): {ex['summary']}")
        ex = rb | {"minimal": ex}
    return Verdict("C3", CLAIM.title, "fails", evidence, ex, cc, steps, numbers, seed, budget)


__all__ = ["CLAIM", "hypotheses", "proof_steps", "check_instance", "search", "construction", "claimed_bound",
           "corrected_bound", "corrected_scale"]
