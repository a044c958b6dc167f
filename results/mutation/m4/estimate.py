"""Where the surviving mutants live (issue 12 part 5, fourth session): pool the three unbiased samples' outcomes
per module and scale by each module's mutant count. Run from the repository root after mutants/ is generated
(the mutant counts are read from mutmut's *.py.meta files)::

    .venv-mutation/bin/python results/mutation/m4/estimate.py > results/mutation/m4/estimate.json

Each sampled mutant's outcome is the one the suite of its own measurement gave (no test written for it later):
killed (a planned test failed or, in m3, its rerun after a timeout failed), survived (real or harmless, its
decision), equivalent (decided so), undecided (timed out, never decided). First measurement: retests
theory_1a..3d only (the theory_fix* retests ran tests written for the survivors, so a mutant killed only there
is counted survived here).
"""
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, "scripts")
from mutation_select import all_mutants, clopper_pearson  # noqa: E402

R = Path("results/mutation")


def outcomes(names, retests, decisions):
    res = {}
    for f in retests:
        for n, v in json.loads(Path(f).read_text())["results"].items():
            c = v["exit_code"]
            if n not in res or (res[n] != 1 and c == 1) or (res[n] == -14 and c == 0):
                res[n] = c
    out = {}
    for n in names:
        c = res.get(n)
        d = decisions.get(n, {}).get("class")
        if c == 1:
            out[n] = "killed"
        elif d == "equivalent":
            out[n] = "equivalent"
        elif c == 0:
            out[n] = "survived"
        elif c == -14:
            out[n] = "undecided"
        else:
            out[n] = "not run"
    return out


def names(p):
    return [n for n in Path(p).read_text().split() if n]


first_dec = json.loads((R / "decisions.json").read_text())
first_dec.update({k: v for k, v in json.loads((R / "m2/decisions_merged.json").read_text()).items()
                  if v.get("class") == "equivalent" and k in first_dec})
samples = {
    "first (seeds 0+1)": outcomes(sorted(set(names(R / "names_theory_seed0.txt") + names(R / "names_theory_seed1.txt"))),
                                  [R / f"retests/theory_{x}.json" for x in ("1a", "1b", "2c", "2d", "3c", "3d")], first_dec),
    "second (seed 2)": outcomes(names(R / "m2/names_seed2.txt"),
                                [R / "m2/retests/measure_A.json", R / "m2/retests/measure_B.json", R / "m2/retests/timeouts_rerun.json"],
                                json.loads((R / "m2/decisions.json").read_text())),
    "third (seed 3)": outcomes(names(R / "m3/names_seed3.txt"),
                               [R / "m3/retests/measure_A.json", R / "m3/retests/measure_B.json",
                                R / "m3/retests/timeouts_rerun_T1.json", R / "m3/retests/timeouts_rerun_T2.json"],
                               json.loads((R / "m3/decisions.json").read_text())),
}
level = sys.argv[1] if len(sys.argv) > 1 else "module"


def key(n):
    mod, _, rest = n.partition(".x")
    if level == "module":
        return mod
    return n.partition("__mutmut_")[0]


muts = all_mutants()
pop = Counter(key(n) for n, v in muts.items() if not v["path"].startswith("numerics/"))
pooled = defaultdict(Counter)
for s, o in samples.items():
    for n, st in o.items():
        pooled[key(n)][st] += 1
rows = []
for m, c in pooled.items():
    decided = c["killed"] + c["survived"] + c["equivalent"]
    rate = c["survived"] / decided if decided else None
    rows.append({"module": m, "mutants": pop.get(m, 0), "sampled": sum(c.values()), **{k: c[k] for k in ("killed", "survived", "equivalent", "undecided", "not run")},
                 "survival_rate": rate, "est_surviving": pop.get(m, 0) * rate if rate is not None else None})
unsampled = sorted((m, k) for m, k in pop.items() if m not in pooled)
rows.sort(key=lambda r: -(r["est_surviving"] or 0))
tot_pop = sum(pop.values())
tot_est = sum(r["est_surviving"] or 0 for r in rows)
print(json.dumps({"level": level, "population": tot_pop, "est_surviving_in_sampled_keys": tot_est,
                  "samples": {s: dict(Counter(o.values())) for s, o in samples.items()},
                  "rows": rows, "unsampled": unsampled}, indent=1))
