"""C10: on the Linear Representation Bench, TopK-family SAEs recover most features while ReLU and
JumpReLU SAEs recover almost none; recovery falls as superposition ``n/n_p`` rises and as the
features get denser.

An empirical claim, decided by training (:mod:`proofs_check.bench_recovery`): every run trained to
convergence on held-out batches (:mod:`numerics.convergence`; a run that did not converge decides
nothing), each method swept over the knobs the paper leaves open (L1 / L0 coefficient, JumpReLU
threshold initialisation, k, then the learning rate around the selected point), a setting selected
per method *without the ground truth* (L0 nearest the true mean active count ``n · p_active``), and
every score read both ways — decoder atoms against ``W_r`` and encoder rows against ``W_p``
(``M_GT`` at τ = 0.95 and ``M_IP``).

The claim's four parts, each with margins so that no verdict rests on a boundary point:

1. *TopK family recovers most*: at its selected setting each of TopK, BatchTopK, Matryoshka has
   ``M_GT ≥ 0.5`` in both readings (holds) — ``M_GT < 0.25`` in either reading is a failure;
2. *ReLU and JumpReLU recover almost none*: over the **whole sweep**, every run has ``M_GT ≤ 0.10``
   in both readings, all runs converged and the sweep reaches both ends (a dense code and a
   collapsed one) — one converged run with ``M_GT ≥ 0.25`` in either reading is a failure;
3. / 4. *falls with superposition / with density*: TopK (k by the same rule) on instances with larger
   ``n`` at the same ``n_p`` / larger ``p_active``: ``M_GT`` drops by at least 0.05 (or, when ``M_GT``
   moves by less than 0.05, ``M_IP`` drops by at least 0.01) in both readings — a rise by those
   margins is a failure.

Verdict: ``fails`` when any part fails (the counterexample is the run that breaks it), ``holds``
when all hold, ``inconclusive`` otherwise. ``numbers["methods"]`` has every run of every sweep
(``setting``, ``converged``, ``steps``, ``l0``, ``explained_variance``, ``m_gt_decoder``,
``m_gt_encoder``, ``m_ip_decoder``, ``m_ip_encoder``, …) and the selected one; the figure is each
method's recovery–L0 frontier.
"""
from __future__ import annotations

from proofs_check.bench_recovery import provenance, PENALISED, TOPK_FAMILY, bench_check, spec_for, strip_histories, sweeps
from proofs_check.claim import Claim, NoOptions
from proofs_check.verdict import StepCheck, Verdict

CLAIM = Claim(
    id="C10",
    title="TopK-family SAEs recover the bench's features, ReLU/JumpReLU almost none",
    paper_ref="Sec. 5, Table 1 (Linear Representation Bench)",
    statement=(
        "On the Linear Representation Bench, TopK-family SAEs recover most ground-truth features while ReLU and "
        "JumpReLU SAEs recover almost none; recovery falls as superposition n/n_p rises and as sparsity falls."
    ),
)

INSTANCE_TYPES = (str,)          # check(claim, "small"): the instance is a bench size name
SEARCH_OPTIONS = ("size",)      # search(size=...): the bench size (verify --bench-size)
Options = NoOptions             # check_instance(size_name) takes no further options
READINGS = ("decoder", "encoder")
MOST, MOST_FAIL = 0.5, 0.25          # part 1
NONE, NONE_FAIL = 0.10, 0.25         # part 2
GT_MARGIN, IP_MARGIN = 0.05, 0.01    # parts 3 and 4


def hypotheses(spec) -> list[str]:
    """The claim is about SAEs on the bench as §5 generates it: the feature matrix must reach M."""
    unmet = []
    if spec.data.get("kind", "sae") != "sae":
        unmet.append(f"C10 is about SAEs; the bench kind is {spec.data.get('kind')!r}")
    return unmet


def _gt(run: dict, reading: str) -> float:
    return run[f"m_gt_{reading}"]


def _ip(run: dict, reading: str) -> float:
    return run[f"m_ip_{reading}"]


def _describe(run: dict) -> str:
    how = "converged on a plateau at the budget" if run.get("converged_by") == "plateau" else "converged"
    return (f"{run['method']} {run['setting']} ({how} in {run['steps']} steps, L0 {run['l0']:.2f}, EV "
            f"{run['explained_variance']:.3f}): M_GT decoder {_gt(run, 'decoder'):.2f}, encoder {_gt(run, 'encoder'):.2f}")


def part_topk_family(methods: dict) -> dict:
    rows, status = [], "holds"
    for name in TOPK_FAMILY:
        if name not in methods:
            continue
        sel = methods[name]["selected"]
        if sel is None:
            rows.append({"method": name, "outcome": "inconclusive", "why": "no converged run in the sweep"})
            status = "inconclusive" if status == "holds" else status
            continue
        per = {r: ("holds" if _gt(sel, r) >= MOST else "fails" if _gt(sel, r) < MOST_FAIL else "unresolved")
               for r in READINGS}
        outcome = "fails" if "fails" in per.values() else "holds" if all(v == "holds" for v in per.values()) \
            else "inconclusive"
        rows.append({"method": name, "outcome": outcome, "per_reading": per, "run": _describe(sel)})
        if outcome == "fails":
            status = "fails"
        elif outcome == "inconclusive" and status == "holds":
            status = "inconclusive"
    return {"part": "TopK family recovers most (selected setting)", "status": status, "rows": rows}


def part_penalised(methods: dict) -> dict:
    rows, status = [], "holds"
    for name in PENALISED:
        if name not in methods:
            continue
        s = methods[name]
        runs = s["sweep"]
        conv = [r for r in runs if r["converged"]]
        breaking = [r for r in conv if max(_gt(r, "decoder"), _gt(r, "encoder")) >= NONE_FAIL]
        best = max(runs, key=lambda r: max(_gt(r, "decoder"), _gt(r, "encoder")))
        if breaking:
            b = max(breaking, key=lambda r: max(_gt(r, "decoder"), _gt(r, "encoder")))
            rows.append({"method": name, "outcome": "fails", "run": _describe(b), "counterexample": b})
            status = "fails"
            continue
        if len(conv) < len(runs):
            why = f"{len(runs) - len(conv)} of {len(runs)} sweep runs did not converge"
        elif not s["ends"]["both"]:
            why = f"the sweep does not reach both ends ({s['ends']})"
        elif all(max(_gt(r, "decoder"), _gt(r, "encoder")) <= NONE for r in runs):
            rows.append({"method": name, "outcome": "holds", "best": _describe(best)})
            continue
        else:
            why = f"best run between {NONE} and {NONE_FAIL}: {_describe(best)}"
        rows.append({"method": name, "outcome": "inconclusive", "why": why, "best": _describe(best)})
        if status == "holds":
            status = "inconclusive"
    return {"part": "ReLU / JumpReLU recover almost none (whole sweep)", "status": status, "rows": rows}


def _direction(first: dict, last: dict, reading: str) -> str:
    d_gt = _gt(last, reading) - _gt(first, reading)
    if d_gt <= -GT_MARGIN:
        return "falls"
    if d_gt >= GT_MARGIN:
        return "rises"
    d_ip = _ip(last, reading) - _ip(first, reading)
    return "falls" if d_ip <= -IP_MARGIN else "rises" if d_ip >= IP_MARGIN else "flat"


def part_trend(arms: list[dict], label: str, key: str) -> dict:
    name = f"recovery falls as {label} rises (TopK, k = target L0)"
    if len(arms) < 2:
        return {"part": name, "status": "inconclusive", "rows": [], "why": "fewer than two instances"}
    if not all(a["converged"] for a in arms):
        return {"part": name, "status": "inconclusive", "why": "a trend run did not converge",
                "rows": [{key: a[key], "converged": a["converged"]} for a in arms]}
    first, last = arms[0], arms[-1]
    per = {r: _direction(first, last, r) for r in READINGS}
    status = "fails" if "rises" in per.values() else "holds" if all(v == "falls" for v in per.values()) \
        else "inconclusive"
    rows = [{key: a[key], "k": a["setting"]["k"], "m_gt_decoder": a["m_gt_decoder"], "m_gt_encoder": a["m_gt_encoder"],
             "m_ip_decoder": a["m_ip_decoder"], "m_ip_encoder": a["m_ip_encoder"], "l0": a["l0"]} for a in arms]
    return {"part": name, "status": status, "per_reading": per, "rows": rows}


def frontier_figure(methods: dict, size: str) -> dict:
    series = {}
    for name, s in methods.items():
        runs = sorted(s["sweep"], key=lambda r: r["l0"])
        for reading, short in (("encoder", "enc"), ("decoder", "dec")):
            series[f"{name.replace('_sae', '')} {short}"] = {"x": [max(r["l0"], 1e-3) for r in runs],
                                                             "y": [_gt(r, reading) for r in runs]}
    return {"title": f"C10: recovery–L0 frontier of each sweep ({size} bench, τ = 0.95)",
            "xlabel": "L0 (mean active latents per sample)", "ylabel": "M_GT at τ = 0.95", "x": [],
            "series": series, "logx": True,
            "caption": "Each point is one converged-or-not sweep run (numbers.methods); enc = encoder rows vs W_p "
                       "(the paper's reading), dec = decoder atoms vs W_r."}


def proof_steps(size: str = "tiny", seed: int = 0) -> list[StepCheck]:
    """C10 is empirical; its checkable steps are that the instance is the bench's and that chance scores ~0."""
    r = sweeps(size, seed)
    inst = r["instance"]
    M = spec_for(size).data["interference"]
    reached = inst["reached_interference"]["W_p"]
    rb = inst["random_baseline"]["gt"][r["tau"]]
    return [
        StepCheck("bench instance", f"the generated W_p reaches max |<w_i, w_j>| ≤ M = {M}", reached <= M + 1e-9,
                  "0" if reached <= M + 1e-9 else f"{reached - M:.3g}", None, f"reached {reached:.4f}"),
        StepCheck("chance level", f"a random dictionary of the same width recovers M_GT ≤ {NONE} at τ = {r['tau']} "
                  "(so 'almost none' is distinguishable from 'most')", rb <= NONE, "0" if rb <= NONE else str(rb), None,
                  f"random dictionary M_GT = {rb:.3f}, M_IP = {inst['random_baseline']['mip']:.3f}"),
    ]


def _evidence(parts: list[dict], methods: dict) -> str:
    bits = []
    for name, s in methods.items():
        sel = s["selected"]
        nconv = sum(r["converged"] for r in s["sweep"])
        nplat = sum(r.get("converged_by") == "plateau" for r in s["sweep"])
        best = max(s["sweep"], key=lambda r: max(_gt(r, "decoder"), _gt(r, "encoder")))
        sel_txt = "no converged run" if sel is None else (
            f"selected {sel['setting']} L0 {sel['l0']:.2f}: M_GT dec/enc {_gt(sel, 'decoder'):.2f}/{_gt(sel, 'encoder'):.2f}")
        bits.append(f"{name}: {sel_txt}; best in sweep dec/enc {_gt(best, 'decoder'):.2f}/{_gt(best, 'encoder'):.2f} "
                    f"at {best['setting']}; converged {nconv}/{len(s['sweep'])}"
                    + (f" ({nplat} on a plateau at the budget)" if nplat else ""))
    head = "; ".join(f"[{p['status']}] {p['part']}" for p in parts)
    return head + ". " + " | ".join(bits)


def verdict_from(r: dict, seed: int, budget: int, size: str) -> Verdict:
    methods = r["methods"]
    parts = [part_topk_family(methods), part_penalised(methods),
             part_trend(r["trend"].get("superposition", []), "superposition n/n_p", "n_over_n_p"),
             part_trend(r["trend"].get("density", []), "feature density p_active", "p_active")]
    statuses = [p["status"] for p in parts]
    status = "fails" if "fails" in statuses else "holds" if all(s == "holds" for s in statuses) else "inconclusive"
    counterexample = None
    if status == "fails":
        p = next(p for p in parts if p["status"] == "fails")
        row = next((x for x in p["rows"] if x.get("outcome") == "fails"), None)
        summary = f"{p['part']}: " + (row.get("run", "") if row else str(p.get("per_reading")))
        counterexample = {"summary": summary, "part": p["part"],
                          "run": strip_histories(row.get("counterexample")) if row else None,
                          "rows": p["rows"] if row is None else None}
    numbers = {"size": size, "spec": r["spec"], "tau": r["tau"], "instance": r["instance"], "parts": parts,
               "methods": {name: {"sweep": strip_histories(s["sweep"]), "selected": strip_histories(s["selected"]),
                                  "target_l0": s["target_l0"], "ends": s["ends"], "all_converged": s["all_converged"]}
                           for name, s in methods.items()},
               "trend": strip_histories(r["trend"]),
               "thresholds": {"most": MOST, "most_fail": MOST_FAIL, "none": NONE, "none_fail": NONE_FAIL,
                              "gt_margin": GT_MARGIN, "ip_margin": IP_MARGIN},
               "figure": frontier_figure(methods, size), "provenance": provenance(r)}
    for p in parts:
        for row in p.get("rows", []):
            row.pop("counterexample", None)
    return Verdict("C10", CLAIM.title, status, _evidence(parts, methods), counterexample, None,
                   tuple(proof_steps(size, seed)), numbers, seed, budget)


def check_instance(spec, *, seed: int = 0, budget: int = 40, **kw) -> Verdict:
    """``spec``: a bench size name (``micro``, ``tiny``, ``small``, ``scaled``)."""
    return bench_check(CLAIM, hypotheses, sweeps, verdict_from, spec, seed=seed, budget=budget, kw=kw)


def search(budget: int = 40, seed: int = 0, size: str = "tiny") -> Verdict:
    """The experiment at ``size`` (default ``tiny``: a few CPU-minutes); the budget does not change it."""
    return check_instance(size, seed=seed, budget=budget)


__all__ = ["CLAIM", "hypotheses", "proof_steps", "check_instance", "search", "verdict_from"]
