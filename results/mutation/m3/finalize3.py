"""Assemble the third measurement's result files (issue 12 part 5, 1 December, from 20:04 UTC) from the two retest
outputs (and the rerun of its timeouts) in the worktree (run from the repository root with the mutation venv's python, mutants/ as measured)::

    .venv-mutation/bin/python results/mutation/m3/finalize3.py

Inputs in results/mutation/m3/: names_seed3.txt (the sample), run_A.txt / run_B.txt (its two halves, in run order),
plan_measure.json, retest_A.json / retest_B.json (or their .partial files when stopped), decisions.json (the class of
every mutant not killed). Outputs: retests/measure_{A,B}.json, names_seed3_run.txt, names_not_run.txt,
seed3/summary.json, seed3/survivors.md. (The raw retest_*.json outputs are not committed: retests/ holds their copies.)
"""
import json
import subprocess
import sys
from pathlib import Path

M3 = Path("results/mutation/m3")
(M3 / "retests").mkdir(parents=True, exist_ok=True)


def load(p: Path):
    if p.exists():
        return json.loads(p.read_text()), False
    q = Path(str(p) + ".partial")
    return (json.loads(q.read_text()), True) if q.exists() else (None, True)


ran, files = {}, []
for half in ("A", "B"):
    data, partial = load(M3 / f"retest_{half}.json")
    if data is None:
        continue
    out = {"tests": "per mutant from plan_measure.json (scripts/mutation_plan.py on the tests of the measured commit), "
                    "-m 'not slow', 180 s wall per mutant", "partial": partial, "results": data["results"]}
    dst = M3 / "retests" / f"measure_{half}.json"
    dst.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    files.append(str(dst))
    ran.update(data["results"])
for half in ("T1", "T2"):   # the measurement's timeouts rerun on the quiet machine with 400 s
    data, partial = load(M3 / f"retest_{half}.json")
    if data is None:
        continue
    out = {"tests": "per mutant from plan_measure.json, the first run's timeouts (180 s) rerun with 400 s wall, -m 'not slow'",
           "partial": partial, "results": data["results"]}
    dst = M3 / "retests" / f"timeouts_rerun_{half}.json"
    dst.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    files.append(str(dst))
sample = (M3 / "names_seed3.txt").read_text().split()
run = [n for n in sample if n in ran]
not_run = [n for n in sample if n not in ran]
(M3 / "names_seed3_run.txt").write_text("\n".join(run) + "\n")
(M3 / "names_not_run.txt").write_text("\n".join(not_run) + ("\n" if not_run else ""))
commit = (M3 / "retests" / "MEASURED_COMMIT").read_text().strip()
meta = {"mutmut": "3.8.1", "measured_commit": commit, "seed": 3, "sample": len(sample), "run": len(run),
        "not_run": not_run, "timeout_s": 180,
        "what": "fresh uniform sample (seed 3, 150 of the theory/ + proofs_check/ mutants of the measured commit) against "
                "the suite of the same commit: unbiased"}
cmd = [sys.executable, "scripts/mutation_select.py", "report", "--names", str(M3 / "names_seed3_run.txt"),
       "--out", str(M3 / "seed3"), "--meta", json.dumps(meta, ensure_ascii=False), "--retest", *files]
if (M3 / "decisions.json").exists():
    cmd += ["--decisions", str(M3 / "decisions.json")]
r = subprocess.run(cmd, capture_output=True, text=True)
if r.returncode:
    raise SystemExit(r.stderr)
g = json.loads((M3 / "seed3" / "summary.json").read_text())["groups"]["theory_proofs_check"]
print(json.dumps({k: g[k] for k in ("tested", "counts", "kill_rate_non_equivalent",
                                    "kill_rate_non_equivalent_ci95_clopper_pearson", "undecided", "equivalent")},
                 indent=1, ensure_ascii=False), "not run:", len(not_run))
