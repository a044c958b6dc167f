"""C2 (Thm 3.2): on ``R^{n_r×n_q} × Ω_P`` L̃ is convex in ``W_D`` (``W_E`` fixed) and in ``W_E`` (``W_D`` fixed).

Inside a region every unit is on or off for each single-feature input, so with ``S_d`` the
diagonal on/off matrix and ``s_d = S_d (W_E w_p^d + b)``

    L̃ = Σ_d M_d ||w_r^d − W_D s_d||²,
    ∇²_{W_D} L̃ = Σ_d 2 M_d (I_{n_r} ⊗ s_d s_dᵀ),                       (row-major vec)
    ∇²_{(W_E, b)} L̃ = Σ_d 2 M_d J_dᵀ J_d,  J_d = W_D S_d [I_{n_q} ⊗ w_p^dᵀ, I_{n_q}],

sums of Kronecker products / Gram matrices of PSD matrices, hence PSD: the two partial problems are
convex quadratics. ``Ω_P`` is cut out by linear inequalities in the pre-activations, which are linear
in ``(W_E, b)``: an intersection of half-spaces, hence convex. Joint convexity is *not* claimed;
the check reports how often the full Hessian has a negative eigenvalue (informative only).

BatchTopK has no per-sample σ: the toolkit's L̃ treats the ``n`` single-feature inputs as one batch
(``theory.activations.topk``). Under that reading the region is still a polyhedron and the blocks the
same formulas; such instances are reported separately as outside the claim's hypotheses.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from proofs_check.algebra import equality_step
from proofs_check.claim import Claim
from proofs_check.search import SKIP, find_counterexample
from proofs_check.verdict import StepCheck, Verdict
from theory.derivation import hessian, matrix_form
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.objective import approx_loss
from theory.patterns import as_pattern, pattern_of, region
from theory.strategies import instances, points_in_region, searched_families

@dataclass(frozen=True)
class Options:
    """The options of ``check_instance`` (``check("C2", instance, **options)``)."""

    W_D: object = None  # the decoder
    W_E: object = None  # the encoder
    b_E: object = None  # the encoder bias
    pattern: object = None  # an activation pattern (its region is checked)


CLAIM = Claim(
    id="C2",
    title="Piecewise biconvexity",
    paper_ref="Thm 3.2",
    statement=(
        "Fix which neurons each single-feature input switches on (an activation region Ω_P). On that region "
        "L̃ is a convex function of the decoder for a fixed encoder, and a convex function of the encoder "
        "for a fixed decoder; the region itself is convex."
    ),
)

# Which Hessian blocks the claim says are PSD; a planted false variant adds "joint".
CLAIMED_BLOCKS: tuple[str, ...] = ("decoder", "encoder")
TOL = 1e-8


def hypotheses(instance: Instance) -> list[str]:
    if not instance.activation.per_sample:
        return [f"{instance.activation.describe()} has no per-sample σ; L̃ is defined here only with the n "
                "single-feature inputs as one batch"]
    return []


def closed_form_blocks(instance: Instance, W_D, W_E, b_E=None) -> dict:
    """The Kronecker / Gram forms of the Hessian blocks at a point (numpy, row-major vec)."""
    W_D, W_E, b = instance.check_params(W_D, W_E, b_E)
    mask = instance.activation.active(instance.pre_activations(W_E, b))
    C = instance.activation.output_matrix(mask)  # S_d = diag(mask_d), or a Gated unit's [0 | diag(gate open)]
    n_q, n_e, n_p, n_r = W_D.shape[1], W_E.shape[0], instance.n_p, instance.n_r
    DD = np.zeros((n_r * n_q, n_r * n_q))
    Eb = np.zeros((n_e * n_p + n_e, n_e * n_p + n_e))
    for d in range(instance.n):
        S = C[d]
        w_p = instance.W_p[:, d]
        s = S @ (W_E @ w_p + b)
        DD += 2 * instance.weights[d] * np.kron(np.eye(n_r), np.outer(s, s))
        J = W_D @ S @ np.hstack([np.kron(np.eye(n_e), w_p[None, :]), np.eye(n_e)])
        Eb += 2 * instance.weights[d] * J.T @ J
    k = n_e * n_p
    return {"DD": DD, "EE": Eb[:k, :k], "Eb_full": Eb if instance.encoder_bias else Eb[:k, :k]}


def block_eigenvalues(instance: Instance, W_D, W_E, b_E=None) -> dict:
    """Smallest eigenvalues of the decoder block, the encoder(+bias) block and the full Hessian,
    from ``theory.derivation.hessian``; and the largest gap to the closed forms."""
    h = hessian(instance, W_D, W_E, b_E)
    enc = h.EE if h.bb is None else np.block([[h.EE, h.Eb], [h.Eb.T, h.bb]])
    closed = closed_form_blocks(instance, W_D, W_E, b_E)
    full = h.full()
    scale = max(1.0, float(np.abs(full).max()))
    return {
        "decoder": float(np.linalg.eigvalsh(h.DD).min()) / scale,
        "encoder": float(np.linalg.eigvalsh(enc).min()) / scale,
        "joint": float(np.linalg.eigvalsh(full).min()) / scale,
        "closed_form_gap": float(max(np.abs(h.DD - closed["DD"]).max(), np.abs(enc - closed["Eb_full"]).max())) / scale,
    }


def midpoint_checks(instance: Instance, W_D, W_E, b_E, rng: np.random.Generator) -> dict:
    """Convexity of L̃ along random segments in each block, and of Ω_P (midpoint stays inside)."""
    R = region(instance, pattern_of(instance, W_E, b_E))
    out = {"decoder_gap": 0.0, "encoder_gap": 0.0, "region_midpoint_outside": False, "segments": 0}
    for _ in range(4):
        D2 = W_D + rng.normal(size=W_D.shape)
        lo, mid, hi = (approx_loss(instance, D, W_E, b_E) for D in (W_D, (W_D + D2) / 2, D2))
        out["decoder_gap"] = max(out["decoder_gap"], mid - (lo + hi) / 2)
        for scale in (0.3, 0.1, 0.03):  # a second encoder in the same region
            E2 = W_E + scale * rng.normal(size=W_E.shape)
            b2 = None if b_E is None else b_E + scale * rng.normal(size=b_E.shape)
            if R.contains(E2, b2):
                break
        else:
            continue
        out["segments"] += 1
        Em, bm = (W_E + E2) / 2, None if b_E is None else (b_E + b2) / 2
        out["region_midpoint_outside"] |= not R.contains(Em, bm)
        lo, mid, hi = (approx_loss(instance, W_D, E, b) for E, b in ((W_E, b_E), (Em, bm), (E2, b2)))
        out["encoder_gap"] = max(out["encoder_gap"], mid - (lo + hi) / 2)
    return out


def _violations(eig: dict, mids: dict) -> list[str]:
    bad = [f"{b} Hessian block has eigenvalue {eig[b]:.3g} < 0" for b in CLAIMED_BLOCKS if eig[b] < -TOL]
    if eig["closed_form_gap"] > 1e-8:
        bad.append(f"theory.derivation's Hessian differs from the Kronecker form by {eig['closed_form_gap']:.3g}")
    for b in ("decoder", "encoder"):
        if b in CLAIMED_BLOCKS and mids[f"{b}_gap"] > 1e-9:
            bad.append(f"L̃ is not midpoint-convex along a {b} segment (gap {mids[f'{b}_gap']:.3g})")
    if mids["region_midpoint_outside"]:
        bad.append("the midpoint of two encoders in Ω_P lies outside Ω_P")
    return bad


def proof_steps() -> list[StepCheck]:
    mf = matrix_form()
    steps = [StepCheck("decoder gradient", "∂ℓ_d/∂W_D = 2 (W_D G_d − B_d), G_d = M_d s_d s_dᵀ, B_d = M_d w_r^d s_dᵀ (any size)",
                       bool(mf.decoder_gradient_identity == sp.ZeroMatrix(*mf.decoder_gradient_identity.shape)),
                       str(mf.decoder_gradient_identity))]
    # Explicit 2×2×2 case with symbolic entries, on/off symbols σ_1, σ_2 and a bias.
    M = sp.Symbol("M_d", positive=True)
    D = sp.Matrix(2, 2, lambda r, i: sp.Symbol(f"D_{r}{i}", real=True))
    E = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"E_{i}{j}", real=True))
    b = sp.Matrix(sp.symbols("b_0 b_1", real=True))
    wp = sp.Matrix(sp.symbols("p_0 p_1", real=True))
    wr = sp.Matrix(sp.symbols("r_0 r_1", real=True))
    S = sp.diag(*sp.symbols("sigma_0 sigma_1", real=True))
    s = S * (E * wp + b)
    res = wr - D * s
    loss = M * (res.T * res)[0, 0]
    vD, vE = list(D), list(E)  # sympy's list() of a Matrix is row-major, as the toolkit's vec
    steps.append(equality_step("decoder Hessian", "∇²_{W_D} ℓ_d = 2 M_d (I ⊗ s_d s_dᵀ)",
                               sp.hessian(loss, vD), 2 * M * sp.kronecker_product(sp.eye(2), s * s.T)))
    J = res.jacobian(vE + list(b))
    steps.append(equality_step("encoder Hessian", "∇²_{(W_E, b)} ℓ_d = 2 M_d J_dᵀ J_d (Gram form, PSD), J_d = ∂r_d/∂(W_E, b)",
                               sp.hessian(loss, vE + list(b)), 2 * M * J.T * J))
    steps.append(equality_step("Kronecker form", "∇²_{W_E} ℓ_d = 2 M_d (S W_Dᵀ W_D S) ⊗ (w_p w_pᵀ)",
                               sp.hessian(loss, vE), 2 * M * sp.kronecker_product(S * D.T * D * S, wp * wp.T)))
    v = sp.Matrix(sp.symbols("v_0 v_1", real=True))
    steps.append(equality_step("s sᵀ is PSD", "vᵀ (s_d s_dᵀ) v = (s_dᵀ v)² ≥ 0 for every v (and I ⊗ PSD, JᵀJ are PSD alike)",
                               (v.T * s * s.T * v)[0, 0], ((s.T * v)[0, 0]) ** 2))
    steps.append(StepCheck("residual is affine in (W_E, b)", "∂²r_d/∂(W_E, b)² = 0 inside Ω_P (σ acts as a fixed diagonal S_d)",
                           all(sp.simplify(sp.diff(ri, v1, v2)) == 0 for ri in res for v1 in vE + list(b) for v2 in vE + list(b)),
                           note="so ℓ_d is a convex quadratic in (W_E, b)"))
    return steps


def _point_from(instance: Instance, rng, W_D=None, W_E=None, b_E=None, pattern=None):
    if W_E is None:
        if pattern is not None:
            found = region(instance, as_pattern(pattern, instance)).find_point()
            if not found.realizable:
                raise SDLInputError(f"pattern {pattern} is not realizable for this instance: {found.reason}")
            W_E, b_E = found.W_E, found.b_E
        else:
            W_E = rng.normal(size=(instance.n + 1, instance.n_p))
            b_E = 0.3 * rng.normal(size=W_E.shape[0]) if instance.encoder_bias else None
    if W_D is None:
        W_D = rng.normal(size=(instance.n_r, np.asarray(W_E).shape[0]))
    W_D, W_E, b = instance.check_params(W_D, W_E, b_E)
    return W_D, W_E, (b if instance.encoder_bias else None)


def check_instance(instance: Instance, *, seed: int = 0, budget: int = 40, W_D=None, W_E=None, b_E=None, pattern=None, **kw) -> Verdict:
    """Block Hessians PSD and midpoint convexity at a point (given, from ``pattern``'s LP witness, or random)."""
    if kw:
        raise SDLInputError(f"C2 takes W_D, W_E, b_E or pattern, not {sorted(kw)}")
    unmet = hypotheses(instance)
    rng = np.random.default_rng(seed)
    point = _point_from(instance, rng, W_D, W_E, b_E, pattern)
    eig = block_eigenvalues(instance, *point)
    mids = midpoint_checks(instance, *point, rng)
    numbers = {"pattern": pattern_of(instance, point[1], point[2]).to_json(), **eig, **mids}
    bad = _violations(eig, mids)
    joint = "jointly convex here" if eig["joint"] >= -TOL else f"not jointly convex (full Hessian eigenvalue {eig['joint']:.3g}; not claimed)"
    if unmet:
        return Verdict("C2", CLAIM.title, "hypotheses_not_met",
                       "; ".join(unmet) + f". Under the batch reading: {'; '.join(bad) or 'both blocks PSD'}",
                       numbers=numbers, seed=seed, budget=budget)
    if bad:
        return Verdict("C2", CLAIM.title, "fails", "; ".join(bad),
                       {"instance": instance.to_json(), "W_D": point[0], "W_E": point[1], "b_E": point[2], **numbers},
                       None, (), numbers, seed, budget)
    return Verdict("C2", CLAIM.title, "holds",
                   f"in region {numbers['pattern']}: decoder block min eigenvalue {eig['decoder']:.2g}, encoder block "
                   f"{eig['encoder']:.2g} (relative), equal to the Kronecker forms; {mids['segments']} encoder segments "
                   f"and 4 decoder segments midpoint-convex, midpoints stay in Ω_P; {joint}",
                   None, None, (), numbers, seed, budget)


@st.composite
def _space(draw, families=None):
    """Every family (θ, k), bias or not, transcoders, superposition, any geometry; a point inside its region."""
    inst = draw(instances(min_n=1, max_n=4, max_dim=4, families=families))
    return inst, draw(points_in_region(inst, max_q=4)), draw(st.integers(0, 2**31 - 1))


@st.composite
def _gated_space(draw):
    """Untied Gated units (the stacked encoder [W_gate; W_mag] is the encoder block C2 speaks of)."""
    from theory.activations import Gated

    inst = draw(instances(min_n=1, max_n=4, max_dim=4, families=("relu",))).replace(activation=Gated())
    return inst, draw(points_in_region(inst, max_q=3)), draw(st.integers(0, 2**31 - 1))


def search(budget: int = 40, seed: int = 0) -> Verdict:
    steps = tuple(proof_steps())
    tally = {"joint_nonconvex": 0, "checked": 0, "batch_checked": 0, "batch_bad": 0}
    joint_example: list = []

    def predicate(example):
        inst, point, s = example
        eig = block_eigenvalues(inst, *point)
        mids = midpoint_checks(inst, *point, np.random.default_rng(s))
        bad = _violations(eig, mids)
        if hypotheses(inst):
            tally["batch_checked"] += 1
            tally["batch_bad"] += bool(bad)
            return SKIP
        tally["checked"] += 1
        if eig["joint"] < -TOL:
            tally["joint_nonconvex"] += 1
            if not joint_example:
                joint_example.append({"instance": repr(inst), "joint_min_eigenvalue": eig["joint"]})
        if bad:
            return {"instance": inst.to_json(), "activation": inst.activation.describe(), "W_D": point[0],
                    "W_E": point[1], "b_E": point[2], "violations": bad, **eig}
        return None

    result = find_counterexample(_space(), predicate, budget=budget, seed=seed)
    if not result.found:  # the Gated unit (two pre-activations per unit), searched apart so the above stays comparable
        gated = find_counterexample(_gated_space(), predicate, budget=max(10, budget // 2), seed=seed + 7)
        result = gated if gated.found else result
        tally["gated_search"] = gated.summary()
    numbers = {"search": result.summary(), **tally, "joint_nonconvex_example": joint_example[0] if joint_example else None,
               "families_searched": list(searched_families()) + ["gated (untied)"]}
    failed_steps = [s.name for s in steps if not s.holds]
    if result.found or failed_steps:
        what = f"{result.details['violations']} ({result.details['activation']})" if result.found else f"steps {failed_steps}"
        return Verdict("C2", CLAIM.title, "fails", f"counterexample: {what}; {result.summary()}",
                       result.details, None, steps, numbers, seed, budget)
    return Verdict(
        "C2", CLAIM.title, "holds",
        f"all {len(steps)} symbolic steps follow (Hessian blocks are 2 M_d (I ⊗ s_d s_dᵀ) and 2 M_d J_dᵀ J_d); "
        f"{result.summary()}; BatchTopK under the batch reading: {tally['batch_checked'] - tally['batch_bad']} of "
        f"{tally['batch_checked']} convex in both blocks. Joint convexity (not claimed) failed at "
        f"{tally['joint_nonconvex']} of {tally['checked']} points. Gated (untied, stacked encoder): "
        f"{tally.get('gated_search', 'not searched')}. Families searched: {', '.join(numbers['families_searched'])}.",
        None, None, steps, numbers, seed, budget)
