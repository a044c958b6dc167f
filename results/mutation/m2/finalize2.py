"""Assemble the second measurement's result files (issue 12 part 5, 1 December 16:47 UTC) from the retest
outputs in the measurement copy (run from that copy's root with the mutation venv's python)::

    .venv-mutation/bin/python m2/finalize2.py OUT_DIR      # e.g. /work/wt/i12b/results/mutation
"""
import json, subprocess, sys
from pathlib import Path

OUT = Path(sys.argv[1])
M2 = OUT / "m2"
(M2 / "retests").mkdir(parents=True, exist_ok=True)


def load(p):
    p = Path(p)
    if p.exists():
        return json.loads(p.read_text())
    q = Path(str(p) + ".partial")
    return json.loads(q.read_text()) if q.exists() else None


# every retest of this measurement, copied with what it ran
RUNS = {
    "old22_targeted.json": ("retest_fix22.json", "per mutant from plan_fix22.json (the test written for each of the 22 "
                             "survivors/undecided of the first measurement), no timeout hit, 120 s"),
    "old22_c4_rerun.json": ("retest_c4.json", "per mutant from plan_fix22.json (the three C4 mutants after their tests were "
                            "extended to TopK), 120 s"),
    "measure_A.json": ("retest_A.json", "per mutant from plan_measure.json (mutation_plan.py on the suite of 29e4031), "
                       "-m 'not slow', 90 s wall"),
    "measure_B.json": ("retest_B.json", "per mutant from plan_measure.json (mutation_plan.py on the suite of 29e4031), "
                       "-m 'not slow', 90 s wall"),
    "seed2_survivor_tests.json": ("retest_fix2.json", "per mutant from plan_fix2.json (the tests written for the fresh "
                                  "sample's survivors), 120 s"),
    "timeouts_rerun.json": ("retest_timeouts.json", "per mutant from plan_measure.json (the timeouts of measure_A/B rerun), "
                            "-m 'not slow', 240 s wall"),
}
have = {}
for dst, (src, how) in RUNS.items():
    data = load(src)
    if data is None:
        continue
    data = {"tests": f"per mutant from {how}", "partial": src.endswith(".partial") or "partial" in data,
            "results": data["results"]}
    (M2 / "retests" / dst).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    have[dst] = M2 / "retests" / dst
for plan in ("plan_fix22.json", "plan_measure.json", "plan_fix2.json"):
    if Path(plan).exists():
        (M2 / "retests" / plan).write_text(Path(plan).read_text())
(M2 / "retests" / "MEASURED_COMMIT").write_text(Path("MEASURED_COMMIT").read_text())

ran = set()
for k in ("measure_A.json", "measure_B.json"):
    if k in have:
        ran |= set(json.loads(have[k].read_text())["results"])
seed2 = Path("names_seed2.txt").read_text().split()
old37 = Path("names_notrun37.txt").read_text().split()
old22 = Path("names_fix22.txt").read_text().split()
dec = json.loads((OUT / "decisions.json").read_text())
dec_new = json.loads(Path("m2/dec_new.json").read_text())
decisions = {**dec, **dec_new}
(M2 / "decisions.json").write_text(json.dumps(dict(sorted(dec_new.items())), indent=1, ensure_ascii=False) + "\n")
dfile = M2 / "decisions_merged.json"   # the first measurement's decisions, this one's overriding
dfile.write_text(json.dumps(dict(sorted(decisions.items())), indent=1, ensure_ascii=False) + "\n")
meta0 = {"mutmut": "3.8.1", "measured_commit": Path("MEASURED_COMMIT").read_text().strip(),
         "sources": "theory/, proofs_check/ of 4a28211 (main at 16:26 UTC); tests of 29e4031 (+ the survivor tests named per retest)"}
pick = lambda *ks: [str(have[k]) for k in ks if k in have]  # noqa: E731
groups = {
    "seed2": ([n for n in seed2 if n in ran], pick("measure_A.json", "measure_B.json", "timeouts_rerun.json"),
              "fresh uniform sample (seed 2, 150 of the current theory/ + proofs_check/ mutants) against the suite of 29e4031: unbiased"),
    "seed2_after_tests": ([n for n in seed2 if n in ran], pick("measure_A.json", "measure_B.json", "timeouts_rerun.json",
                                                               "seed2_survivor_tests.json"),
                          "the same, after tests written for its survivors (biased upward)"),
    "old22": (old22, pick("old22_targeted.json", "old22_c4_rerun.json"),
              "the 19 real survivors and 3 undecided of the first measurement, against tests written for them (biased)"),
    "old37": ([n for n in old37 if n in ran], pick("measure_A.json", "measure_B.json", "timeouts_rerun.json"),
              "the first measurement's sampled mutants that it did not run"),
}
out = {}
for key, (names, retests, what) in groups.items():
    nf = M2 / f"names_{key}.txt"
    nf.write_text("\n".join(names) + ("\n" if names else ""))
    if not names:
        out[key] = {"what": what, "tested": 0}
        continue
    not_run = [n for n in (seed2 if key.startswith("seed2") else old37 if key == "old37" else []) if n not in ran]
    meta = dict(meta0, group=key, what=what, not_run=not_run)
    cmd = [sys.executable, "scripts/mutation_select.py", "report", "--names", str(nf), "--out", str(M2 / key),
           "--meta", json.dumps(meta, ensure_ascii=False), "--retest", *retests, "--decisions", str(dfile)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr)
    out[key] = json.loads((M2 / key / "summary.json").read_text())["groups"]["theory_proofs_check"] | {"what": what,
                                                                                                       "not_run": len(not_run)}
print(json.dumps({k: {x: v.get(x) for x in ("tested", "counts", "kill_rate_non_equivalent", "not_run")} for k, v in out.items()},
                 indent=1, ensure_ascii=False))
(M2 / "groups.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
