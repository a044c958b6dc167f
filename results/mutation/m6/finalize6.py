"""Assemble the sixth measurement (issue 12 part 5, 2 December from 04:34 UTC) from its retest outputs; run from the
repository root with the mutation venv's python, mutants/ as measured (aaf54e5's sources)::

    .venv-mutation/bin/python results/mutation/m6/finalize6.py

Inputs in results/mutation/m6/: names_seed67.txt (the sample), run_A.txt / run_B.txt (its halves, in run order),
retest_{A,B}.json (or .partial), retest_T.json, retest_T2.json (the timeouts rerun), retest_Fa/Fb.json (the
survivors rerun on the suite of the final commit; every file a --plan run, so a pass decides "survived" and a timeout "undecided": mutation_select reads that from
the "tests" text starting "per mutant from"), decisions.json. Outputs: retests/*.json, names_seed67_run.txt, names_not_run.txt and two
reports: seed67_measured/ (the suite of aaf54e5: the unbiased estimate of that suite) and seed67_final/ (the same
sample, its survivors retested on the final suite, whose new tests were written without seeing this sample).
"""
import json
import subprocess
import sys
from pathlib import Path

M6 = Path("results/mutation/m6")
(M6 / "retests").mkdir(parents=True, exist_ok=True)
WHAT = {"A": "per mutant from plan_measure.json (scripts/mutation_plan.py on the tests of aaf54e5), -m 'not slow', 400 s wall",
        "B": "per mutant from plan_measure.json (scripts/mutation_plan.py on the tests of aaf54e5), -m 'not slow', 400 s wall",
        "T": "per mutant from plan_measure.json: the measurement's timeout theory.absorption_curve.x__restricted_hessian__mutmut_28 rerun with 900 s wall, same plan",
        "T2": "per mutant from plan_measure.json: the measurement's timeout proofs_check.x_check__mutmut_35 rerun with 700 s wall, same plan",
        "Fa": "per mutant from plan_final.json: the survivors and timeouts rerun on the suite of the final commit (plan_final.json: scripts/mutation_plan.py of "
              "that commit on its tests, a superset of each mutant's plan_measure.json entry), -m 'not slow', 400 s wall",
        "Fb": "per mutant from plan_final.json: as Fa, the other half"}


def load(p: Path):
    if p.exists():
        return json.loads(p.read_text()), False
    q = Path(str(p) + ".partial")
    return (json.loads(q.read_text()), True) if q.exists() else (None, True)


files, ran = {}, {}
for half, what in WHAT.items():
    data, partial = load(M6 / f"retest_{half}.json")
    if data is None:
        continue
    dst = M6 / "retests" / f"{half}.json"
    dst.write_text(json.dumps({"tests": what, "decides": True, "partial": partial, "results": data["results"]}, indent=1,
                              ensure_ascii=False) + "\n")
    files[half] = str(dst)
    if half in ("A", "B"):
        ran.update(data["results"])
sample = (M6 / "names_seed67.txt").read_text().split()
run = [n for n in sample if n in ran]
not_run = [n for n in sample if n not in ran]
(M6 / "names_seed67_run.txt").write_text("\n".join(run) + "\n")
(M6 / "names_not_run.txt").write_text("\n".join(not_run) + ("\n" if not_run else ""))
commit = (M6 / "MEASURED_COMMIT").read_text().strip()
final = (M6 / "FINAL_COMMIT").read_text().strip() if (M6 / "FINAL_COMMIT").exists() else None
out = {}
for name, halves, what in (("seed67_measured", ("A", "B", "T", "T2"), f"fresh uniform sample (seed 67, 150 of the theory/ + proofs_check/ "
                                                     f"mutants of {commit}) against the suite of the same commit: unbiased"),
                           ("seed67_final", ("A", "B", "T", "T2", "Fa", "Fb"), f"the same sample, its survivors retested on the suite of {final}, "
                                                   "whose new tests were written without seeing this sample")):
    meta = {"mutmut": "3.8.1", "measured_commit": commit, "tests_commit": final if "Fa" in halves else commit,
            "seed": 67, "sample": len(sample), "run": len(run), "not_run": not_run, "what": what}
    cmd = [sys.executable, "scripts/mutation_select.py", "report", "--names", str(M6 / "names_seed67_run.txt"),
           "--out", str(M6 / name), "--meta", json.dumps(meta, ensure_ascii=False),
           "--retest", *[files[h] for h in halves if h in files], "--decisions", str(M6 / "decisions.json")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr)
    g = json.loads((M6 / name / "summary.json").read_text())["groups"]["theory_proofs_check"]
    out[name] = {k: g[k] for k in ("tested", "counts", "kill_rate_non_equivalent",
                                   "kill_rate_non_equivalent_ci95_clopper_pearson", "undecided", "equivalent")}
print(json.dumps(out, indent=1, ensure_ascii=False), "not run:", len(not_run))
