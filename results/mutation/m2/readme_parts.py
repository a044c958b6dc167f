"""Print the README's table rows and survivor lists of the second measurement from m2/ (after finalize2.py)."""
import json, re, sys
from pathlib import Path
M2 = Path(sys.argv[1]) / "m2"
g = json.loads((M2 / "groups.json").read_text())
dec = json.loads((M2 / "decisions_merged.json").read_text())
label = {"seed2": "fresh sample, seed 2 (150), suite of 29e4031", "seed2_after_tests": "the same, after its survivors' tests",
         "old22": "first measurement's 19 real + 3 undecided", "old37": "first measurement's 37 not run"}
print("| group | mutants | run | killed | equivalent | harmless | real, not killed | undecided | not run | non-equivalent killed |")
print("|---|---|---|---|---|---|---|---|---|---|")
for k, v in g.items():
    if not v.get("tested"):
        print(f"| {label[k]} | – | 0 | | | | | | all | – |")
        continue
    c = v["counts"]
    killed = v["killed_incl_timeout"]
    ne = v["non_equivalent_decided"]
    lo, hi = v["kill_rate_non_equivalent_ci95_clopper_pearson"]
    total = v["tested"] + v.get("not_run", 0)
    print(f"| {label[k]} | {total} | {v['tested']} | {killed} | {c.get('decided: equivalent', 0)} | {c.get('decided: harmless', 0)} | "
          f"{c.get('decided: real', 0)} | {v['undecided']} | {v.get('not_run', 0)} | **{killed} / {ne} = {100 * killed / ne:.1f} %** "
          f"(CI {100 * lo:.1f}–{100 * hi:.1f}) |")
for k in g:
    p = M2 / k / "survivors.md"
    if not p.exists():
        continue
    print(f"\n#### {label[k]}\n")
    for sec in p.read_text().split("\n## ")[1:]:
        head = sec.split("\n")[0]
        name, status = head.split()[0], head.split("[")[1].split(";")[0]
        d = dec.get(name)
        if status == "undecided":
            why = "timed out (over the wall limit before its planned tests finished)"
            cls = "undecided"
        else:
            cls, why = (d["class"], d["why"]) if d else ("not decided", "")
        print(f"- `{name.replace('__mutmut_', ' ')}` [{status}; {cls}]: {why}")
