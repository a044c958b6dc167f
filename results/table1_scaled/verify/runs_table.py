"""The scaled run store as README rows: every stored run, judged by today's criterion (never CI)::

    .venv/bin/python results/table1_scaled/verify/runs_table.py [results/table1_scaled/verify/bench-runs]

Each run is read as ``verify --resume`` reads it (``numerics.convergence.judge``: a run that reached the budget
converges on a plateau when its last 4 windows' fitted trend, with two standard errors, is below eps). Runs
whose setting no sweep asks for any more are listed apart (``--all`` prints them in the table too).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from numerics.convergence import Convergence, judge

ORDER = ("relu_sae", "jumprelu_sae", "topk_sae", "batchtopk_sae", "matryoshka_sae")


def rows(store: Path) -> list[dict]:
    out = []
    for f in sorted(store.glob("*.json")):
        doc = json.loads(f.read_text())
        rec, fields = doc["record"], doc["fields"]
        crit = Convergence(**fields["criterion"])
        out.append({**rec, **judge(rec, crit), "file": f.stem, "digest": doc.get("code_digest"),
                    "n_features": fields["data"]["n_features"], "p_active": fields["data"]["p_active"]})
    key = lambda r: (ORDER.index(r["method"]) if r["method"] in ORDER else 9, r["scored_from"], r["anchor_k"],
                     r["n_features"], r["p_active"], json.dumps(r["setting"], sort_keys=True), r["seed"])
    return sorted(out, key=key)


def fmt(r: dict) -> str:
    conv = {"spread": "yes", "plateau": "plateau"}.get(r["converged_by"], "**no**")
    p = r.get("plateau")
    trend = "–" if r["converged_by"] == "spread" or p is None else f"{100 * p['trend']:+.2f} ± {200 * p['stderr']:.2f} %"
    arm = ("n = %d" % r["n_features"] if r["n_features"] != 250 else
           "p = %g" % r["p_active"] if r["p_active"] != 0.01 else "")
    setting = {k: v for k, v in r["setting"].items() if k not in ("threshold_momentum", "threshold_start")}
    return (f"| {r['method']} | `{json.dumps(setting)}`{' (' + arm + ')' if arm else ''} | {r['seed']} | {r['anchor_k']} | "
            f"{r['scored_from']} | {conv} | {r['steps']} | {r['train_s']:.0f} | {r['l0']:.2f} | "
            f"{r['explained_variance']:.3f} | {r['dead_frac']:.3f} | {r['m_gt_decoder']:.2f} | {r['m_gt_encoder']:.2f} | "
            f"{r['m_ip_decoder']:.3f} | {r['m_ip_encoder']:.3f} | {trend} | `{r['file'][:8]}…` |")


def main(argv: list[str]) -> None:
    show_all = "--all" in argv
    args = [a for a in argv if a != "--all"]
    store = Path(args[0] if args else "results/table1_scaled/verify/bench-runs")
    from proofs_check.bench_recovery import spec_for

    spec = spec_for("scaled")
    asked = {m: [json.dumps(s, sort_keys=True) for s in spec.grid(m)] for m in spec.methods}
    rs = rows(store)
    stale = [r for r in rs if r["scored_from"] == 0 and r["n_features"] == 250 and r["p_active"] == 0.01
             and json.dumps(r["setting"], sort_keys=True) not in asked.get(r["method"], [])]
    print("| method | setting | seed | anchors | scored from | converged | steps | wall s | L0 | EV | dead | M_GT dec | "
          "M_GT enc | M_IP dec | M_IP enc | trend / window | file |")
    print("|---" * 17 + "|")
    for r in rs:
        if show_all or r not in stale:
            print(fmt(r))
    kept = [r for r in rs if r not in stale]
    by = {k: sum(r["converged_by"] == k for r in kept) for k in ("spread", "plateau", None)}
    print(f"\n{len(kept)} runs: {by['spread']} converged on the spread test, {by['plateau']} on a plateau at the budget, "
          f"{by[None]} not converged; code digests {sorted({r['digest'] for r in kept})}")
    if stale:
        print(f"{len(stale)} stored runs of settings no sweep asks for any more: "
              + ", ".join(f"{r['method']} {r['setting']} ({r['file'][:8]}…)" for r in stale))


if __name__ == "__main__":
    main(sys.argv[1:])
