"""C7 (Thm 3.8): absorption from a feature hierarchy.

Data model: a parent fires iff one of its children fires, so the inputs are ``w_p^c + w_p^parent``
(each child with its parent, unit magnitudes) and every feature outside the hierarchy alone.
Patterns (one extra neuron is kept dead so that A and B have the same number of neurons):

- **A**: one neuron per parent firing on all its children's inputs, one neuron per other feature;
- **B(p, c)**: as A, but the parent neuron of p is off on child c's input and the spare neuron fires
  on that input only.

Claim: if A is realizable then for every parent p some child c has B(p, c) realizable. Both are
linear feasibility problems (:func:`theory.patterns.region_on_inputs`), so the claim is
decided exactly on each instance. The published construction is also replayed on A's witness:

1. "shrink the parent's encoder row until its weakest child drops out" — scaling a row (and its
   bias) by ``s > 0`` multiplies every pre-activation by s: for a positively homogeneous σ (ReLU,
   TopK, TopK∘ReLU, with or without bias) no child ever drops out; only a threshold θ > 0 lets the
   weakest child fall below it;
2. "add a neuron aligned with that child" — row ``w_p^c`` has pre-activation
   ``<w_p^c, w_p^{c'}> + <w_p^c, w_p^p>`` on a sibling's input, positive under positive interference,
   so the new neuron also fires on siblings (and on other features).

Corrected condition (sufficient, every family): the inputs ``{w_p^c + w_p^p} ∪ {w_p^f}`` (with a bias:
the same vectors with a 1 appended) are linearly independent. Then the map from an encoder row to
its pre-activations on the inputs is onto, so every mask σ can produce is realizable, B(p, c) keeps
A's per-input counts, and every child can be split off. The exact criterion is the LP itself.
"""
from __future__ import annotations

from dataclasses import dataclass

from functools import lru_cache

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from proofs_check.algebra import equality_step, inequality_step
from proofs_check.claim import Claim
from theory.partial_optimum import interior_point
from theory.patterns import active_on_inputs, region_on_inputs
from proofs_check.search import (GATED, SKIP, describe_families, families_searched, find_counterexample, gated_apart,
                                 search_condition)
from proofs_check.verdict import MIN_MET, CorrectedCondition, StepCheck, Verdict, merged_counts, with_part
from theory.activations import JumpReLU, ReLU
from theory import validation as V
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.strategies import activations, feature_matrices, searched_families

@dataclass(frozen=True)
class Options:
    """The options of ``check_instance`` (``check("C7", instance, **options)``)."""

    parents: object = None  # the hierarchy: parent → children
    W_E: object = None  # the encoder
    b_E: object = None  # the encoder bias


CLAIM = Claim(
    id="C7",
    title="Absorption from a feature hierarchy",
    paper_ref="Thm 3.8",
    statement=(
        "With a parent feature that fires iff one of its children fires: if the pattern 'one neuron per parent, "
        "firing on all its children' is realizable, then for every parent some child can be split off — the "
        "pattern where that child has its own neuron and the parent neuron fires on the remaining children is "
        "realizable too."
    ),
)


# --------------------------------------------------------------------------------------------
# The hierarchy's inputs and the two patterns
# --------------------------------------------------------------------------------------------


def _normalise_parents(instance: Instance, parents) -> dict[int, tuple[int, ...]]:
    if parents is None:
        raise SDLInputError("C7 needs a hierarchy: parents={parent_index: [child_indices]}")
    if not isinstance(parents, dict):
        raise SDLInputError(f"parents must be a dict {{parent_index: [child_indices]}}, e.g. {{0: [1, 2]}}; got {V.got(parents)}")
    h = {}
    for p, cs in parents.items():
        if isinstance(cs, (set, frozenset)):  # children in a fixed order: the pattern's neurons follow it
            cs = sorted(cs) if all(isinstance(c, int) for c in cs) else list(cs)
        if not isinstance(cs, (list, tuple, range, np.ndarray)):
            raise SDLInputError(f"parents[{V.got(p)}] must be a list of child indices, e.g. [1, 2]; got {V.got(cs)}")
        h[V.index("a parent index", p, instance.n)] = tuple(V.index(f"a child of parent {p}", c, instance.n) for c in cs)
    used = [p for p in h] + [c for cs in h.values() for c in cs]
    if len(used) != len(set(used)):
        raise SDLInputError("each feature may appear once in the hierarchy (one level: parents and their children)")
    return h


def hierarchy_inputs(instance: Instance, parents) -> tuple[np.ndarray, list[tuple]]:
    """Rows ``x`` (feature coordinates) and labels: ``("child", p, c)`` for ``e_c + e_p``, ``("feature", f)``."""
    h = _normalise_parents(instance, parents)
    rows, labels = [], []
    for p, cs in h.items():
        for c in cs:
            x = np.zeros(instance.n)
            x[c] = x[p] = 1.0
            rows.append(x)
            labels.append(("child", p, c))
    in_h = set(h) | {c for cs in h.values() for c in cs}
    for f in range(instance.n):
        if f not in in_h:
            x = np.zeros(instance.n)
            x[f] = 1.0
            rows.append(x)
            labels.append(("feature", f))
    return np.array(rows), labels


def pattern_A(instance: Instance, parents) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(X, mask_A, neuron_of)``: neurons = parents, then other features, then one spare (dead)."""
    h = _normalise_parents(instance, parents)
    X, labels = hierarchy_inputs(instance, h)
    parents_list = list(h)
    others = [lab[1] for lab in labels if lab[0] == "feature"]
    neuron_of = {("parent", p): k for k, p in enumerate(parents_list)}
    neuron_of |= {("feature", f): len(parents_list) + k for k, f in enumerate(others)}
    spare = len(parents_list) + len(others)
    neuron_of["spare"] = spare
    mask = np.zeros((len(X), spare + 1), dtype=bool)
    for s, lab in enumerate(labels):
        mask[s, neuron_of[("parent", lab[1])] if lab[0] == "child" else neuron_of[("feature", lab[1])]] = True
    return X, mask, neuron_of | {"labels": labels}


def pattern_B(instance: Instance, parents, parent: int, child: int) -> np.ndarray:
    """A's mask with ``child`` moved from its parent's neuron to the spare neuron."""
    X, mask, info = pattern_A(instance, parents)
    s = info["labels"].index(("child", parent, child))
    mask = mask.copy()
    mask[s, info[("parent", parent)]] = False
    mask[s, info["spare"]] = True
    return mask


def hypotheses(instance: Instance, parents=None) -> list[str]:
    """Unmet hypotheses: a hierarchy with >= 2 children per parent, and pattern A realizable (an LP)."""
    if parents is None:
        return ["a hierarchy parents={parent: [children]} is needed"]
    h = _normalise_parents(instance, parents)
    unmet = [f"parent {p} needs at least two children (got {list(cs)})" for p, cs in h.items() if len(cs) < 2]
    if not h:
        unmet.append("the hierarchy has no parent")
    if unmet:
        return unmet
    X, mask, _ = pattern_A(instance, h)
    R = region_on_inputs(instance, X, mask)
    if interior_point(R) is None:
        unmet.append(f"pattern A (one neuron per parent firing on all its children) must be realizable: "
                     f"{R.impossible or 'the LP certifies that no encoder produces it'}")
    return unmet


# --------------------------------------------------------------------------------------------
# Deciding the claim, replaying the construction
# --------------------------------------------------------------------------------------------


def _construction(instance: Instance, h, parent: int, W_E, b_E) -> dict:
    """Replay the proof: shrink the parent row (and bias) until its weakest child drops out, then add
    the spare neuron aligned with that child (row ``α w_p^c``, bias 0). Does it produce B(p, c)?"""
    X, mask, info = pattern_A(instance, h)
    labels = info["labels"]
    i = info[("parent", parent)]
    rows = [s for s, lab in enumerate(labels) if lab[0] == "child" and lab[1] == parent]
    Z = X @ (W_E @ instance.W_p).T + (0 if b_E is None else b_E)
    zc = Z[rows, i]
    weakest = rows[int(np.argmin(zc))]
    child = labels[weakest][2]
    W, b = W_E.copy(), None if b_E is None else b_E.copy()
    dropped = False
    for s in np.geomspace(1.0, 1e-6, 121)[1:]:  # shrink by factors down to 1e-6
        W[i] = s * W_E[i]
        if b is not None:
            b[i] = s * b_E[i]
        if not active_on_inputs(instance, X, W, b)[weakest, i]:
            dropped = True
            break
    x_c = instance.W_p @ X[weakest]
    own = float(instance.W_p[:, child] @ x_c)
    theta = float(getattr(instance.activation, "theta", 0.0) or 0.0)
    alpha = 2.0 * max(theta, 1.0) / own if own > 0 else 1.0
    W[info["spare"]] = alpha * instance.W_p[:, child]
    if b is not None:
        b[info["spare"]] = 0.0
    got = active_on_inputs(instance, X, W, b)
    want = pattern_B(instance, h, parent, child)
    wrong = [labels[s] for s in range(len(X)) if not np.array_equal(got[s], want[s])]
    return {"parent": parent, "weakest_child": child, "weakest_dropped_out": dropped,
            "produces_B": not wrong, "inputs_with_wrong_pattern": [list(w) for w in wrong]}


def decide(instance: Instance, parents, W_E=None, b_E=None) -> dict:
    """For each parent: which children B(p, c) is realizable for (LP witnesses), and the construction."""
    h = _normalise_parents(instance, parents)
    X, mask, info = pattern_A(instance, h)
    if W_E is None:
        W_E, b_E = interior_point(region_on_inputs(instance, X, mask))
    per_parent = {}
    for p, cs in h.items():
        splittable = {}
        for c in cs:
            splittable[c] = interior_point(region_on_inputs(instance, X, pattern_B(instance, h, p, c))) is not None
        per_parent[p] = {"splittable_children": [c for c in cs if splittable[c]],
                         "construction": _construction(instance, h, p, np.asarray(W_E, float),
                                                       None if b_E is None else np.asarray(b_E, float))}
    failing = [p for p, r in per_parent.items() if not r["splittable_children"]]
    return {"per_parent": per_parent, "failing_parents": failing, "outcome": "fails" if failing else "holds",
            "construction_works": all(r["construction"]["produces_B"] for r in per_parent.values())}


def independent_inputs(instance: Instance, parents) -> bool:
    """Corrected condition (i): the hierarchy's inputs (with a 1 appended under a bias) are independent."""
    X, _ = hierarchy_inputs(instance, parents)
    V = instance.W_p @ X.T
    if instance.encoder_bias:
        V = np.vstack([V, np.ones((1, V.shape[1]))])
    return bool(np.linalg.matrix_rank(V, tol=1e-9) == V.shape[1])


def top1_pointed(instance: Instance, parents) -> bool:
    """Corrected condition (ii): σ is TopK(1) or TopK∘ReLU(1), every child has <w_p^c, w_p^p> > −1 and no
    two children's inputs are positively parallel. Then all children's inputs lie in the open half-space
    <x, w_p^p> > 0 (``<w_p^c + w_p^p, w_p^p> = 1 + <w_p^c, w_p^p>``), their cone is pointed, some child c
    is an extreme ray (Farkas: d with <d, x_c> > 0 >= <d, x_c'>), and the spare row P + εd wins the
    top-1 contest exactly on c's input (ties go to the lower index, P) — B(p, c) is realizable."""
    from theory.activations import TopK

    act = instance.activation
    if not (isinstance(act, TopK) and act.k == 1):
        return False
    h = _normalise_parents(instance, parents)
    for p, cs in h.items():
        X = np.array([instance.W_p[:, c] + instance.W_p[:, p] for c in cs])
        if np.any(X @ instance.W_p[:, p] <= 1e-9):
            return False
        U = X / np.linalg.norm(X, axis=1, keepdims=True)
        G = U @ U.T
        if np.any(G[np.triu_indices(len(cs), 1)] >= 1 - 1e-9):
            return False
    return True


def corrected_condition_met(instance: Instance, parents) -> bool:
    return independent_inputs(instance, parents) or top1_pointed(instance, parents)


def _corrected_text(verified: bool, evidence: str, counts: dict | None = None) -> CorrectedCondition:
    return CorrectedCondition(
        text=("Either (i) the hierarchy's inputs {w_p^c + w_p^parent} ∪ {w_p^f : f outside the hierarchy} (with an encoder "
              "bias: these vectors with a 1 appended) are linearly independent — then every child can be split off, for every "
              "family; or (ii) σ is TopK(1) or TopK∘ReLU(1) and every child has <w_p^c, w_p^parent> > −1 with no two "
              "children's inputs parallel — their cone is pointed, an extreme child exists and a spare row P + εd takes "
              "exactly that child (any geometry, superposition included, bias or not). In general the exact criterion is the LP: B(p, c) realizable for some child c (for ReLU without bias, "
              "by Farkas: w_p^c + w_p^p ∉ cone(other inputs) and the remaining children are separable from c and the other "
              "features by a half-space through 0). The published construction needs a threshold θ > 0 (shrinking) and "
              "non-positive interference of the child with its siblings and parent (alignment)."),
        sympy="Eq(Matrix.hstack(*inputs).rank(), len(inputs))",
        verified=verified, kind="sufficient", counts=counts,
        evidence=evidence,
    )


@lru_cache(maxsize=1)
def _proof_steps() -> tuple[StepCheck, ...]:
    s, z, z1, z2, theta = sp.symbols("s z z_1 z_2 theta", positive=True)
    g_sib, g_par = sp.symbols("gamma_sib gamma_par", real=True)
    shrink_relu = (s * z).is_positive  # sympy decides: s > 0, z > 0 ⇒ s z > 0
    steps = [
        StepCheck("shrinking drops the weakest child (θ = 0)",
                  "for ReLU / TopK (positively homogeneous), some s > 0 makes the weakest child's pre-activation s·z <= 0",
                  not bool(shrink_relu), "s*z > 0 for all s > 0, z > 0 (sympy: (s*z).is_positive is True)",
                  {"s": "1/2", "z": "1", "s*z": "1/2"},
                  "scaling a row (and its bias) never changes a sign, so no child drops out"),
        equality_step("shrinking with a threshold θ > 0",
                      "the admissible scales (θ/z_2, θ/z_1] (weakest z_1 < z_2) have length θ(z_2 − z_1)/(z_1 z_2) > 0",
                      theta / z1 - theta / z2, theta * (z2 - z1) / (z1 * z2)),
        inequality_step("aligned neuron fires on its child", "1 + <w_p^c, w_p^p> > 0 (pre-activation of row w_p^c on its input)",
                        1 + g_par, {g_par: (-0.99, 1)}),
        inequality_step("aligned neuron silent on siblings",
                        "−(<w_p^c, w_p^c'> + <w_p^c, w_p^p>) >= 0: row w_p^c is off on a sibling's input w_p^c' + w_p^p",
                        -(g_sib + g_par), {g_sib: (-1, 1), g_par: (-1, 1)}, grid=9,
                        note="fails under positive interference; holds for orthogonal features only at the boundary (= 0)"),
    ]
    return tuple(steps)


def proof_steps() -> list[StepCheck]:
    return list(_proof_steps())


def _record(instance: Instance, h, r: dict | None = None) -> dict:
    out = {"instance": instance.to_json(), "parents": {str(p): list(cs) for p, cs in h.items()}}
    if r is not None:
        out |= {"failing_parents": r["failing_parents"],
                "per_parent": {str(p): v for p, v in r["per_parent"].items()}}
    return out


def check_instance(instance: Instance, *, seed: int = 0, budget: int = 40, parents=None, W_E=None, b_E=None,
                   **kw) -> Verdict:
    """C7 on one instance and hierarchy ``parents={p: [children]}`` (``W_E``: an encoder realizing A,
    used to replay the construction; default an LP witness). Without ``parents``: every one-parent
    hierarchy on the instance's features (up to ``budget``)."""
    if kw:
        raise SDLInputError(f"C7 takes parents, W_E (b_E), not {sorted(kw)}")
    steps = tuple(proof_steps())
    if parents is None:
        return _check_all_hierarchies(instance, seed, budget, steps)
    unmet = hypotheses(instance, parents)
    if unmet:
        return Verdict("C7", CLAIM.title, "hypotheses_not_met", "; ".join(unmet), steps=steps, seed=seed, budget=budget)
    h = _normalise_parents(instance, parents)
    r = decide(instance, h, W_E, b_E)
    numbers = {"splittable_children": {str(p): v["splittable_children"] for p, v in r["per_parent"].items()},
               "construction": {str(p): v["construction"] for p, v in r["per_parent"].items()},
               "corrected_condition_met": corrected_condition_met(instance, h)}
    cons = "the published construction works here" if r["construction_works"] else \
        "the published construction does not produce B here (see numbers.construction)"
    if r["outcome"] == "holds":
        return Verdict("C7", CLAIM.title, "holds",
                       f"every parent has a child that can be split off (LP witnesses): {numbers['splittable_children']}; {cons}",
                       None, None, steps, numbers, seed, budget)
    return Verdict("C7", CLAIM.title, "fails",
                   f"pattern A is realizable but for parents {r['failing_parents']} no child can be split off: the LP "
                   f"certifies B(p, c) empty for every child; {cons}",
                   _record(instance, h, r),
                   _corrected_text(not (rep := _corrected_search(min(budget, 20), seed))[0].found,
                                   f"this instance {'meets' if numbers['corrected_condition_met'] else 'does not meet'} "
                                   f"the corrected condition; search restricted to it: {rep[1]}", rep[2]),
                   steps, numbers, seed, budget)


def _check_all_hierarchies(instance: Instance, seed: int, budget: int, steps) -> Verdict:
    """No hierarchy given: every one-parent hierarchy (parent p, >= 2 children) on the instance's
    features, up to ``budget`` of them, in a fixed order."""
    import itertools

    tried = []
    for p in range(instance.n):
        rest = [d for d in range(instance.n) if d != p]
        for size in range(2, len(rest) + 1):
            for cs in itertools.combinations(rest, size):
                if len(tried) >= budget:
                    break
                h = {p: list(cs)}
                if hypotheses(instance, h):
                    continue
                r = decide(instance, h)
                tried.append((h, r))
                if r["outcome"] == "fails":
                    v = check_instance(instance, seed=seed, budget=budget, parents=h)
                    return Verdict("C7", CLAIM.title, "fails",
                                   f"{len(tried)} hierarchies checked; hierarchy {h}: {v.evidence}", v.counterexample,
                                   v.corrected_condition, steps, v.numbers | {"hierarchies_checked": len(tried)}, seed, budget)
    if not tried:
        return Verdict("C7", CLAIM.title, "hypotheses_not_met",
                       "no one-parent hierarchy on this instance has a realizable pattern A (or n < 3)",
                       steps=steps, seed=seed, budget=budget)
    return Verdict("C7", CLAIM.title, "holds",
                   f"all {len(tried)} one-parent hierarchies with a realizable pattern A have a splittable child",
                   None, None, steps, {"hierarchies": [{"parents": h, "splittable": r["per_parent"][next(iter(h))]["splittable_children"]}
                                                       for h, r in tried]}, seed, budget)


# --------------------------------------------------------------------------------------------
# Adversarial search
# --------------------------------------------------------------------------------------------


@st.composite
def _space(draw, independent: bool = False, top1: bool = False, families=None):
    """One or two parents with 2–3 children, 0–3 other features; n_p 2–4 (superposition allowed);
    random / orthonormal / negative geometries; every family (``families``: only those); bias or not.
    ``independent``: n_p large enough that the inputs are generically independent (corrected condition)."""
    n_parents = draw(st.integers(1, 2))
    kids = [draw(st.integers(2, 3)) for _ in range(n_parents)]
    n_other = draw(st.integers(0, 3))
    n = n_parents + sum(kids) + n_other
    n_inputs = sum(kids) + n_other
    bias = draw(st.booleans())
    n_p = draw(st.integers(n_inputs, n_inputs + 1)) if independent else draw(st.integers(2, 4))
    W_p = draw(feature_matrices(n, n_p))
    if top1:
        from theory.activations import TopK, TopKReLU

        act = draw(st.sampled_from([TopK(k=1), TopKReLU(k=1)]))
    elif families is not None:
        act = draw(activations(families, max_k=2))
    else:
        act = draw(st.one_of(activations(max_k=2), st.sampled_from([JumpReLU(theta=0.5), ReLU()])))
    h, k = {}, n_parents
    for p in range(n_parents):
        h[p] = list(range(k, k + kids[p]))
        k += kids[p]
    inst = Instance(W_p=W_p, weights=np.ones(n), activation=act, encoder_bias=bias)
    return inst, h


def _predicate(example):
    inst, h = example
    if hypotheses(inst, h):
        return SKIP
    r = decide(inst, h)
    return _record(inst, h, r) if r["outcome"] == "fails" else None


def _corrected_predicate(example):
    inst, h = example
    if not corrected_condition_met(inst, h) or hypotheses(inst, h):
        return SKIP
    r = decide(inst, h)
    return _record(inst, h, r) if r["outcome"] == "fails" else None


def _construction_predicate(example):
    inst, h = example
    if hypotheses(inst, h):
        return SKIP
    r = decide(inst, h)
    if r["construction_works"]:
        return None
    return _record(inst, h, r)


def family_survey(count: int, seed: int, gated: bool = False) -> dict:
    """Per family and bias: how many random one-parent hierarchies (2–3 children, 0–3 other features,
    n_p = 2–3, Gaussian features) meet the hypotheses, hold, fail; the first failure of each (seeded).
    ``gated``: Gated units (tied, untied) too, on the same hierarchies."""
    from theory.activations import Gated, TopK, TopKReLU
    from theory.instance import normalize_columns

    rng = np.random.default_rng(seed)
    acts = [ReLU(), JumpReLU(theta=0.5), TopK(k=1), TopKReLU(k=1), TopKReLU(k=2)] + (
        [Gated(tied=False), Gated(tied=True)] if gated else [])
    out = {}
    for _ in range(count):
        kids, n_other, n_p = int(rng.integers(2, 4)), int(rng.integers(0, 4)), int(rng.integers(2, 4))
        n = 1 + kids + n_other
        W = normalize_columns(rng.normal(size=(n_p, n)))
        h = {0: list(range(1, 1 + kids))}
        for act in acts:
            for bias in (False, True):
                inst = Instance(W_p=W, weights=np.ones(n), activation=act, encoder_bias=bias)
                row = out.setdefault(f"{act.describe()}, bias={bias}", {"met": 0, "fails": 0, "first_failure": None})
                if hypotheses(inst, h):
                    continue
                row["met"] += 1
                r = decide(inst, h)
                if r["outcome"] == "fails":
                    row["fails"] += 1
                    row["first_failure"] = row["first_failure"] or _record(inst, h, r)
    return out


@lru_cache(maxsize=8)
def _corrected_search(budget: int, seed: int):
    """Both branches of the corrected condition, searched over the same space (independent inputs; Top-1)."""
    sup = lambda ex: ex[0].n > ex[0].n_p  # noqa: E731
    a = search_condition(_space(independent=True), _corrected_predicate, seed=seed + 1, min_met=MIN_MET,
                         first_budget=max(budget, MIN_MET), superposed=sup)
    b = search_condition(_space(top1=True), _corrected_predicate, seed=seed + 4, min_met=MIN_MET,
                         first_budget=max(budget, MIN_MET), superposed=sup)
    return (a if a.found or not b.found else b, f"independent inputs: {a.summary()}; Top-1 families: {b.summary()}",
            merged_counts(a, b))


@lru_cache(maxsize=8)
def _gated_search(budget: int, seed: int):
    """The Gated family (tied and untied), searched apart: the claim, and the corrected condition (independent inputs)."""
    g_budget = max(10, budget // 2)
    found = find_counterexample(_space(families=GATED), _predicate, budget=g_budget, seed=seed + 7, shrink_budget=budget)
    repaired = find_counterexample(_space(independent=True, families=GATED), _corrected_predicate, budget=g_budget,
                                   seed=seed + 8, superposed=lambda ex: ex[0].n > ex[0].n_p)
    return found, repaired


@lru_cache(maxsize=8)
def _search(budget: int, seed: int):
    found = find_counterexample(_space(), _predicate, budget=budget, seed=seed, shrink_budget=2 * budget)
    repaired, repaired_summary, repaired_counts = _corrected_search(budget, seed)
    construction = find_counterexample(_space(), _construction_predicate, budget=max(4, budget // 4), seed=seed + 2,
                                       shrink_budget=budget)
    return (found, (repaired, repaired_summary, repaired_counts), construction,
            family_survey(max(5, budget // 2), seed + 3, gated=gated_apart()))


def search(budget: int = 40, seed: int = 0) -> Verdict:
    steps = tuple(proof_steps())
    found, (repaired, repaired_summary, repaired_counts), construction, survey = _search(int(budget), int(seed))
    gated = gated_apart()
    fams = families_searched(searched_families(), gated)
    gated_text = ""
    if gated:
        g_found, g_repaired = _gated_search(int(budget), int(seed))
        repaired_summary += f"; Gated (searched apart), independent inputs: {g_repaired.summary()}"
        repaired_counts = with_part(repaired_counts, g_repaired)
        if g_repaired.found and not repaired.found:
            repaired = g_repaired
        gated_text = f" Gated units (tied and untied), searched apart: {g_found.summary()}" + (
            f" — fails for parent(s) {g_found.details['failing_parents']}" if g_found.found else "") + "."
    gated_text += f" Families searched: {describe_families(fams)}."
    cc = _corrected_text(not repaired.found, f"same search restricted to the corrected condition: {repaired_summary}"
                         + (f"; fails at {repaired.details}" if repaired.found else ""), repaired_counts)
    numbers = {"search": found.summary(), "corrected_search": repaired_summary,
               "construction_search": construction.summary(),
               "construction_counterexample": construction.details, "family_survey": survey, "families_searched": fams}
    if gated:
        numbers |= {"gated_search": g_found.summary(), "gated_counterexample": g_found.details}
        if g_found.found and not found.found:
            found = g_found
    failing_families = [f"{k} ({v['fails']}/{v['met']})" for k, v in survey.items() if v["fails"]]
    holding_families = [k for k, v in survey.items() if v["met"] and not v["fails"]]
    cons = ""
    if construction.found:
        d = construction.details
        from theory.activations import activation_from_json

        c = next(iter(d["per_parent"].values()))["construction"]
        cons = (f" The published construction (shrink the parent row, add a row aligned with the weakest child) fails on "
                f"{activation_from_json(d['instance']['activation']).describe()} (bias {d['instance']['encoder_bias']}), "
                f"hierarchy {d['parents']}: weakest child {c['weakest_child']} dropped out: {c['weakest_dropped_out']}, "
                f"inputs with the wrong pattern {c['inputs_with_wrong_pattern']}.")
    if not found.found:
        return Verdict("C7", CLAIM.title, "holds",
                       f"every searched hierarchy with a realizable pattern A has a splittable child for every parent: "
                       f"{found.summary()}.{cons}{gated_text}", None, cc, steps, numbers, seed, budget)
    d = found.details
    inst = d["instance"]
    from theory.activations import activation_from_json

    W_p = np.asarray(inst["W_p"])
    evidence = (f"Pattern A is realizable but no child of parent(s) {d['failing_parents']} can be split off (LP certificates): "
                f"{activation_from_json(inst['activation']).describe()}, bias {inst['encoder_bias']}, n = {W_p.shape[1]} features "
                f"in n_p = {W_p.shape[0]}, hierarchy {d['parents']}. Minimal counterexample W_p = {np.round(W_p, 4).tolist()}. "
                f"{found.summary()}.{cons} "
                f"Survey of random hierarchies: fails for {failing_families}; no failure for {holding_families}.{gated_text}")
    return Verdict("C7", CLAIM.title, "fails", evidence, d, cc, steps, numbers, seed, budget)


__all__ = ["CLAIM", "hypotheses", "proof_steps", "check_instance", "search", "decide", "hierarchy_inputs",
           "pattern_A", "pattern_B", "corrected_condition_met", "independent_inputs", "top1_pointed", "family_survey"]
