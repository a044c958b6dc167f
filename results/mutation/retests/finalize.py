"""Assemble the measurement's result files (issue 12 part 5) from the retest outputs in this copy."""
import json, os, subprocess, sys
from pathlib import Path
D = Path("/tmp/i12mut-meas")
OUT = Path(sys.argv[1])           # e.g. /work/wt/i12-mut/results/mutation
OUT.mkdir(parents=True, exist_ok=True)
R = OUT / "retests"
R.mkdir(exist_ok=True)
PLAN = "per mutant from plan_theory.json"
theory_runs = []
for src, name, plan in (("done_a1.json", "theory_1a.json", "plan_theory (first version: no C10/C11 record parts), -m 'not slow', 120 s"),
                        ("done_b1.json", "theory_1b.json", "plan_theory (first version: no C10/C11 record parts), -m 'not slow', 120 s"),
                        ("retest_theory_c.json.partial", "theory_2c.json", "plan_theory, -m 'not slow', 90 s"),
                        ("retest_theory_d.json.partial", "theory_2d.json", "plan_theory, -m 'not slow', 90 s"),
                        ("retest_fix1.json", "theory_fix1.json", "plan_fix1 (tests added for survivors), 120 s"),
                        ("retest_fix2.json", "theory_fix2.json", "plan_fix2 (tests added for survivors / timeouts), 120 s"),
                        ("retest_fix3.json", "theory_fix3.json", "plan_fix3 (tests added for survivors; timeouts rerun with their fast tests), 200 s"),
                        ("retest_fix4.json", "theory_fix4.json", "plan_fix4 (tests added for survivors; timeouts rerun with their fast tests), 200 s")):
    p = D / src
    if not p.exists():
        continue
    data = json.loads(p.read_text())
    data = {"tests": f"{PLAN} ({plan})", "results": data["results"]}
    (R / name).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    theory_runs.append(R / name)
num = json.loads((D / "retest_numerics.json").read_text())
num["tests"] = "per mutant from plan_numerics.json (the 32 not killed at cd28bf6, against the current numerics tests)"
(R / "numerics_survivors.json").write_text(json.dumps(num, indent=1, ensure_ascii=False) + "\n")
prev = json.loads(Path("/work/wt/i12-mut/results/mutation/retest.json").read_text()) if Path("/work/wt/i12-mut/results/mutation/retest.json").exists() else None
allnum = [n for n in (D / "names.txt").read_text().split() if n.startswith("numerics.")]
carried = {n: {"exit_code": 1} for n in allnum if n not in num["results"]}
(R / "numerics_killed_at_cd28bf6.json").write_text(json.dumps(
    {"tests": "per mutant from the cd28bf6 measurement (mutmut run + retest, results/mutation at 0a62882): killed there; "
              "the functions and their tests are unchanged since but for added tests", "results": carried}, indent=1) + "\n")
for p in (R / "plan_theory.json", R / "plan_numerics.json", R / "plan_fix1.json", R / "plan_fix2.json", R / "plan_fix3.json",
          R / "plan_fix4.json"):
    if (D / p.name).exists():
        p.write_text((D / p.name).read_text())
run = set()
for f in theory_runs:
    run |= set(json.loads(f.read_text())["results"])
seed0 = [n for n in Path("/tmp/seed0_theory.txt").read_text().split()]
seed1 = [n for n in Path("/tmp/seed1_theory.txt").read_text().split()]
th = [n for n in (D / "theory_names.txt").read_text().split()]
groups = {"seed0": [n for n in seed0 if n in th], "seed1": [n for n in seed1 if n in th]}
meta_base = {"mutmut": "3.8.1", "measured_commit": (D / "MEASURED_COMMIT").read_text().strip(),
             "sources": "theory/, proofs_check/, numerics/metrics.py, numerics/sparse_decode.py of e19aa20 (main at 13:58 UTC)"}
dec = OUT / "decisions.json"
fixes = [R / f for f in ("theory_fix1.json", "theory_fix2.json", "theory_fix3.json", "theory_fix4.json") if (R / f).exists()]
decs = {**json.loads(Path("/tmp/i12dec/numerics.json").read_text()), **json.loads(Path("/tmp/i12dec/theory.json").read_text())}
dec.write_text(json.dumps(dict(sorted(decs.items())), indent=1, ensure_ascii=False) + "\n")
for key, names, extra in (("numerics", allnum, [R / "numerics_killed_at_cd28bf6.json", R / "numerics_survivors.json"] + fixes),
                          ("theory_seed0", [n for n in groups["seed0"] if n in run], theory_runs),
                          ("theory_seed1", [n for n in groups["seed1"] if n in run], theory_runs),
                          ("theory_all", sorted({n for n in th if n in run}), theory_runs)):
    nf = OUT / f"names_{key}.txt"
    nf.write_text("\n".join(names) + "\n")
    meta = dict(meta_base, group=key, not_run=[n for n in (groups.get(key[7:], th) if key != "numerics" else []) if n not in run])
    cmd = [sys.executable, "scripts/mutation_select.py", "report", "--names", str(nf), "--out", str(OUT / key),
           "--meta", json.dumps(meta), "--retest", *map(str, extra)] + (["--decisions", str(dec)] if dec.exists() else [])
    print(key, len(names), subprocess.run(cmd, capture_output=True, text=True, cwd=D).stdout[-1500:])
