"""Assemble one mutation measurement (issue 12 part 5) from its retest outputs; run from the repository root with the
mutation venv's python, mutants/ as measured::

    .venv-mutation/bin/python results/mutation/finalize.py results/mutation/m7

DIR/measurement.json names the sample (``seed``, ``names``), the retest halves (``halves``: {half: what its tests
were}; the files are DIR/retest_<half>.json, or .partial) and the reports (``reports``: {name: {"halves": [...],
"what": text, "tests_commit": key of a commit file}}). Every half is a --plan run, so a pass decides "survived" and
a timeout "undecided" (mutation_select reads that from the "tests" text starting "per mutant from"). The first
report's halves are the measurement's own runs: the mutants in them are "run", the rest of the sample "not run".
Outputs: DIR/retests/*.json, DIR/names_run.txt, DIR/names_not_run.txt and one report folder per report.
"""
import json
import subprocess
import sys
from pathlib import Path

M = Path(sys.argv[1])
spec = json.loads((M / "measurement.json").read_text())
(M / "retests").mkdir(parents=True, exist_ok=True)


def load(p: Path):
    if p.exists():
        return json.loads(p.read_text()), False
    q = Path(str(p) + ".partial")
    return (json.loads(q.read_text()), True) if q.exists() else (None, True)


files, results = {}, {}
for half, what in spec["halves"].items():
    data, partial = load(M / f"retest_{half}.json")
    if data is None:
        continue
    dst = M / "retests" / f"{half}.json"
    dst.write_text(json.dumps({"tests": what, "decides": True, "partial": partial, "results": data["results"]}, indent=1,
                              ensure_ascii=False) + "\n")
    files[half], results[half] = str(dst), data["results"]
sample = (M / spec["names"]).read_text().split()
first = next(iter(spec["reports"].values()))["halves"]
ran = {n for h in first for n in results.get(h, {})}
run = [n for n in sample if n in ran]
not_run = [n for n in sample if n not in ran]
(M / "names_run.txt").write_text("\n".join(run) + "\n")
(M / "names_not_run.txt").write_text("\n".join(not_run) + ("\n" if not_run else ""))
commit = (M / "MEASURED_COMMIT").read_text().strip()
out = {}
for name, rep in spec["reports"].items():
    tests_commit = (M / rep["tests_commit"]).read_text().strip()
    meta = {"mutmut": "3.8.1", "measured_commit": commit, "tests_commit": tests_commit, "seed": spec["seed"],
            "sample": len(sample), "run": len(run), "not_run": not_run, "what": rep["what"]}
    cmd = [sys.executable, "scripts/mutation_select.py", "report", "--names", str(M / "names_run.txt"),
           "--out", str(M / name), "--meta", json.dumps(meta, ensure_ascii=False),
           "--retest", *[files[h] for h in rep["halves"] if h in files], "--decisions", str(M / "decisions.json")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr)
    g = json.loads((M / name / "summary.json").read_text())["groups"]["theory_proofs_check"]
    out[name] = {k: g[k] for k in ("tested", "counts", "kill_rate_non_equivalent",
                                   "kill_rate_non_equivalent_ci95_clopper_pearson", "undecided", "equivalent")}
print(json.dumps(out, indent=1, ensure_ascii=False), "not run:", len(not_run))
