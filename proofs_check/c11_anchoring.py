"""C11: feature anchoring (pinning k encoder rows / decoder atoms to known directions) improves the
recovery of the *other* features.

A paired experiment (:mod:`proofs_check.bench_recovery`): for each method at its C10-selected setting
(chosen without the ground truth), seeds ``s`` train once without and once with the anchoring term
``λ_anchor (||W_E[:k] − ŵ_pᵀ||² + ||W_D[:, :k] − ŵ_r||²)`` (THEORY.md §6, the first ``k = 0.1 n``
features as anchors); both runs of a pair share the seed (initialisation and data order) and are
trained to convergence; both are scored on the **non-anchored** features only, in both readings.

Per method and reading, the paired differences ``Δ = M_GT(with) − M_GT(without)`` (τ = 0.95) over
the seeds give a t confidence interval (95 %): *improves* when it lies above 0; *does not improve*
when its upper end is below ``DELTA`` = 0.02 **and** the ``M_IP`` interval's upper end is below
``DELTA_IP`` = 0.005 (no gain by either measure); *at ceiling* when the plain runs already reach
``M_GT ≥ 1 − DELTA`` on every seed (nothing to improve: that reading cannot decide); *unresolved*
otherwise. A method counts as improved when every reading not at ceiling improves (at least one),
as not improved when some reading does not. A pair with a run that
did not converge is dropped; a method left with fewer than 2 pairs is unresolved.

Verdict: ``holds`` when every method improves, ``fails`` when some method does not (the
counterexample), ``inconclusive`` otherwise.
"""
from __future__ import annotations

import numpy as np

from proofs_check.bench_recovery import provenance, anchoring, bench_check, strip_histories
from proofs_check.claim import Claim, NoOptions
from proofs_check.verdict import StepCheck, Verdict

CLAIM = Claim(
    id="C11",
    title="Feature anchoring improves recovery of the non-anchored features",
    paper_ref="Sec. 6 (feature anchoring), Table 1 +FA",
    statement=("Adding λ_anchor(||W_E[1:k,:] − ŵ_pᵀ||² + ||W_D[:,1:k] − ŵ_r||²) for k known feature directions "
               "improves the recovery of the other features."),
)

INSTANCE_TYPES = (str,)          # check(claim, "small"): the instance is a bench size name
SEARCH_OPTIONS = ("size",)      # search(size=...): the bench size (verify --bench-size)
Options = NoOptions             # check_instance(size_name) takes no further options
READINGS = ("decoder", "encoder")
DELTA, DELTA_IP = 0.02, 0.005
CONFIDENCE = 0.95


def hypotheses(spec) -> list[str]:
    unmet = []
    k = int(round(spec.anchor_frac * spec.data["n_features"]))
    if k < 1:
        unmet.append("anchoring needs at least one anchor (anchor_frac · n ≥ 1)")
    if k >= spec.data["n_features"]:
        unmet.append("some features must stay non-anchored")
    return unmet


def t_interval(d, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean and two-sided t interval of paired differences (infinite with fewer than two)."""
    from scipy.stats import t

    d = np.asarray(d, float)
    mean = float(d.mean()) if d.size else float("nan")
    if d.size < 2:
        return mean, -np.inf, np.inf
    half = float(t.ppf(0.5 + confidence / 2, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size))
    return mean, mean - half, mean + half


def compare(pairs: list[dict]) -> dict:
    ok = [p for p in pairs if p["without"]["converged"] and p["with"]["converged"]]
    out = {"pairs_used": len(ok), "pairs_total": len(pairs), "per_reading": {}}
    for r in READINGS:
        d_gt = [p["with"][f"m_gt_{r}"] - p["without"][f"m_gt_{r}"] for p in ok]
        d_ip = [p["with"][f"m_ip_{r}"] - p["without"][f"m_ip_{r}"] for p in ok]
        m, lo, hi = t_interval(d_gt)
        mi, loi, hii = t_interval(d_ip)
        base = [p["without"][f"m_gt_{r}"] for p in ok]
        if len(ok) < 2:
            outcome = "unresolved"
        elif min(base) >= 1 - DELTA:
            outcome = "at ceiling"          # nothing left to improve: this reading cannot decide
        elif lo > 0:
            outcome = "improves"
        elif hi < DELTA and hii < DELTA_IP:
            outcome = "does not improve"
        else:
            outcome = "unresolved"
        out["per_reading"][r] = {"delta_m_gt": d_gt, "mean": m, "ci95": [lo, hi], "delta_m_ip": d_ip,
                                 "mean_ip": mi, "ci95_ip": [loi, hii], "outcome": outcome,
                                 "m_gt_without": [p["without"][f"m_gt_{r}"] for p in ok],
                                 "m_gt_with": [p["with"][f"m_gt_{r}"] for p in ok]}
    outs = [v["outcome"] for v in out["per_reading"].values()]
    deciding = [o for o in outs if o != "at ceiling"]
    out["outcome"] = ("does not improve" if "does not improve" in deciding else
                      "improves" if deciding and all(o == "improves" for o in deciding) else "unresolved")
    return out


def _line(name: str, c: dict) -> str:
    pr = c["per_reading"]
    return (f"{name}: {c['outcome']} (ΔM_GT decoder {pr['decoder']['mean']:+.3f} CI [{pr['decoder']['ci95'][0]:.3f}, "
            f"{pr['decoder']['ci95'][1]:.3f}], encoder {pr['encoder']['mean']:+.3f} CI [{pr['encoder']['ci95'][0]:.3f}, "
            f"{pr['encoder']['ci95'][1]:.3f}]; ΔM_IP enc {pr['encoder']['mean_ip']:+.4f}; {c['pairs_used']}/{c['pairs_total']} pairs)")


def proof_steps(size: str = "tiny", seed: int = 0) -> list[StepCheck]:
    """Checkable step: the anchored runs end with their anchors in place (the term did what it says)."""
    r = anchoring(size, seed)
    worst = min((p["with"]["anchor_cos_min"] for m in r["methods"].values() for p in m["pairs"]
                 if "anchor_cos_min" in p["with"]), default=None)
    ok = worst is not None and worst > 0.9
    return [StepCheck("anchors held", "every anchored run ends with each anchored decoder atom at |cos| > 0.9 to its "
                      "anchor direction", ok, "0" if ok else str(worst), None,
                      f"smallest anchor |cos| over all anchored runs: {worst if worst is None else round(worst, 4)}")]


def verdict_from(r: dict, seed: int, budget: int, size: str) -> Verdict:
    comps = {name: compare(m["pairs"]) for name, m in r["methods"].items()}
    for name, m in r["methods"].items():
        comps[name]["selected_setting"] = m["selected_setting"]
    outs = [c["outcome"] for c in comps.values()]
    status = "fails" if "does not improve" in outs else "holds" if outs and all(o == "improves" for o in outs) \
        else "inconclusive"
    lines = "; ".join(_line(n, c) for n, c in comps.items())
    ce = None
    if status == "fails":
        bad = next(n for n, c in comps.items() if c["outcome"] == "does not improve")
        ce = {"summary": _line(bad, comps[bad]), "method": bad, "setting": comps[bad]["selected_setting"],
              "comparison": comps[bad]}
    names = list(comps)
    figure = {"title": f"C11: paired change in M_GT (τ = 0.95) from anchoring, non-anchored features ({size})",
              "xlabel": "method (index)", "ylabel": "mean ΔM_GT (with − without)", "x": list(range(len(names))),
              "series": {f"{rd} reading": [comps[n]["per_reading"][rd]["mean"] for n in names] for rd in READINGS},
              "caption": "x: " + ", ".join(f"{i} = {n}" for i, n in enumerate(names)) + "; CIs in numbers.comparisons"}
    numbers = {"size": size, "anchor_k": r["anchor_k"], "confidence": CONFIDENCE, "delta": DELTA, "delta_ip": DELTA_IP,
               "comparisons": comps, "pairs": strip_histories({n: m["pairs"] for n, m in r["methods"].items()}),
               "figure": figure, "provenance": provenance(r)}
    evidence = (f"anchoring {r['anchor_k']} of {r['spec']['data']['n_features']} features, paired over seeds at each "
                f"method's selected setting: {lines}")
    return Verdict("C11", CLAIM.title, status, evidence, ce, None, tuple(proof_steps(size, seed)), numbers, seed, budget)


def check_instance(spec, *, seed: int = 0, budget: int = 40, **kw) -> Verdict:
    """``spec``: a bench size name (``micro``, ``tiny``, ``small``, ``scaled``)."""
    return bench_check(CLAIM, hypotheses, anchoring, verdict_from, spec, seed=seed, budget=budget, kw=kw)


def search(budget: int = 40, seed: int = 0, size: str = "tiny") -> Verdict:
    return check_instance(size, seed=seed, budget=budget)


__all__ = ["CLAIM", "hypotheses", "proof_steps", "check_instance", "search", "verdict_from", "compare", "t_interval"]
