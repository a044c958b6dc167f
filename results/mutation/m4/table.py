"""Markdown table of results/mutation/m4/estimate_module.json (run with .venv/bin/python from the repository root)."""
import json

from scipy.stats import binomtest

d = json.load(open("results/mutation/m4/estimate_module.json"))
print("| module | mutants (now) | sampled | decided | killed | survived | equivalent | undecided | survival rate (CI 95 %) | est. surviving |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in d["rows"]:
    dec = r["killed"] + r["survived"] + r["equivalent"]
    ci = binomtest(r["survived"], dec).proportion_ci(method="exact") if dec else None
    rate = "–" if r["survival_rate"] is None else f"{100 * r['survival_rate']:.0f} % ({100 * ci.low:.0f}–{100 * ci.high:.0f})"
    est = "–" if r["est_surviving"] is None else f"{r['est_surviving']:.0f}"
    print(f"| {r['module']} | {r['mutants']} | {r['sampled']} | {dec} | {r['killed']} | {r['survived']} | {r['equivalent']} | "
          f"{r['undecided']} | {rate} | {est} |")
print(f"\nPopulation (theory/ + proofs_check/, now): {d['population']}; estimated surviving in the sampled modules: "
      f"{d['est_surviving_in_sampled_keys']:.0f}; modules never sampled: {d['unsampled']}")
