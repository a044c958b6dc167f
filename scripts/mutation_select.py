"""Choose the mutants a mutation run tests, and summarise a finished run (issue 12, part 5; never CI).

Run with the mutation venv's python from the repository root, after ``mutmut run`` has generated
``mutants/`` (scripts/mutation.sh does both)::

    .venv-mutation/bin/python scripts/mutation_select.py select --seed 0 --sample 150 > names.txt
    .venv-mutation/bin/python scripts/mutation_select.py report --names names.txt --out results/mutation
    ... report --names names.txt --out results/mutation --retest r1.json r2.json   # with mutation_retest.py results

Groups: ``metrics_sparse`` = every mutant of ``numerics/metrics.py`` and ``numerics/sparse_decode.py``
(all of them are tested); ``theory_proofs_check`` = every mutant of ``theory/`` and ``proofs_check/``,
of which a uniform random sample (the first ``sample`` names of the sorted names shuffled by
``random.Random(seed)``) is tested.
A mutant counts as killed when its tests fail or time out; "no tests" (no selected test executes the
mutated function) and "survived" count as not killed. ``--retest`` merges results of
``scripts/mutation_retest.py`` (in the order given): a failing retest kills the mutant ("killed (retest)");
a mutant mutmut did not check whose retest passed (only its fastest covering tests, or only the tests
named) or ran out of the retest's time is "undecided", which is not counted as killed either. The sample's kill rate gets a Clopper–Pearson 95%
interval (scipy.stats.binomtest), which is the interval for the whole group's kill rate.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

GROUP_A = ("numerics/metrics.py", "numerics/sparse_decode.py")
# mutmut 3.8.1's meanings of a mutant's exit code (mutmut.stats.status_by_exit_code), repeated here so the
# summary does not depend on mutmut's internals; anything else is "suspicious"
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 35: "suspicious",
          36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout", 37: "caught by type check",
          -11: "segfault", -9: "segfault", None: "not checked", 2: "interrupted"}
KILLED = {"killed", "timeout", "caught by type check", "segfault"}


def all_mutants(root: Path = Path("mutants")) -> dict[str, dict]:
    """``{mutant name: {"path", "exit_code", "duration"}}`` from mutmut's ``*.py.meta`` files."""
    out = {}
    for meta in sorted(root.rglob("*.py.meta")):
        rel = str(meta.relative_to(root))[: -len(".meta")]
        data = json.loads(meta.read_text())
        for key, code in data.get("exit_code_by_key", {}).items():
            out[key] = {"path": rel, "exit_code": code, "duration": data.get("durations_by_key", {}).get(key)}
    return out


def group_of(path: str) -> str:
    return "metrics_sparse" if path in GROUP_A else "theory_proofs_check"


def select(seed: int, sample: int) -> list[str]:
    muts = all_mutants()
    a = sorted(k for k, v in muts.items() if group_of(v["path"]) == "metrics_sparse")
    b = sorted(k for k, v in muts.items() if group_of(v["path"]) == "theory_proofs_check")
    order = list(b)
    random.Random(seed).shuffle(order)  # the first k of one seeded shuffle: a larger sample extends a smaller one
    picked = order[:sample]
    print(f"{len(muts)} mutants: {len(a)} in {GROUP_A} (all tested), {len(b)} in theory/ + proofs_check/ "
          f"({len(picked)} sampled, seed {seed})", file=sys.stderr)
    return a + sorted(picked)


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    from scipy.stats import binomtest

    if n == 0:
        return (0.0, 1.0)
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    return float(ci.low), float(ci.high)


RETEST_KILLED = "killed (retest)"
KILLED.add(RETEST_KILLED)


def merged_status(status: str, retests: list[dict], name: str) -> str:
    """A mutant's status after the retests (see the module docstring). A retest result file made with
    ``--plan`` (every planned test of the mutant) decides: its pass is "survived", its timeout "undecided"."""
    for r in retests:
        res = r["results"].get(name, {})
        code = res.get("exit_code")
        if code is None:
            continue
        if code == 1:
            return RETEST_KILLED
        if r.get("decides") and status in ("not checked", "undecided", "survived"):
            status = "survived" if code == 0 else "undecided"
        elif status in ("not checked", "undecided") and code in (0, -14):
            status = "undecided"
    return status


def report(names: list[str], out: Path, meta: dict, retests: list[dict] = (), decisions: dict | None = None) -> dict:
    muts = all_mutants()
    missing = [n for n in names if n not in muts]
    if missing:
        raise SystemExit(f"{len(missing)} selected mutants are not in mutants/ (e.g. {missing[:3]}): regenerate")
    totals = {"metrics_sparse": {"population": 0}, "theory_proofs_check": {"population": 0}}
    for v in muts.values():
        totals[group_of(v["path"])]["population"] += 1
    rows = {g: Counter() for g in totals}
    survivors = []
    stats = Path("mutants/mutmut-stats.json")   # absent when mutmut's stats pass did not run (retests only)
    tests = json.loads(stats.read_text())["tests_by_mangled_function_name"] if stats.exists() else None
    for n in names:
        v = muts[n]
        status = STATUS.get(v["exit_code"], "suspicious")
        if status == "not checked" and tests is not None and not tests.get(n.partition("__mutmut_")[0]):
            status = "no tests"  # never submitted: no selected test executes the mutated function
        status = merged_status(status, list(retests), n)
        g = group_of(v["path"])
        rows[g][status] += 1
        if status not in KILLED:
            survivors.append((g, v["path"], n, status))
            rows[g]["decided: " + (decisions or {}).get(n, {}).get("class", "not decided")] += 1
    summary = {"meta": meta, "groups": {}}
    for g, c in rows.items():
        tested = sum(v for k, v in c.items() if not k.startswith("decided: "))
        killed = sum(c[s] for s in KILLED)
        low, high = clopper_pearson(killed, tested)
        # over the non-equivalent mutants (an equivalent mutant cannot be killed by any test); "undecided"
        # mutants (their slower covering tests not run) are left out of this rate and counted apart
        equivalent, undecided = c["decided: equivalent"], c["undecided"]
        non_eq = tested - equivalent - undecided
        ne_low, ne_high = clopper_pearson(killed, non_eq)
        summary["groups"][g] = {"population": totals[g]["population"], "tested": tested, "counts": dict(sorted(c.items())),
                                "killed_incl_timeout": killed, "kill_rate": killed / tested if tested else None,
                                "kill_rate_ci95_clopper_pearson": [low, high],
                                "equivalent": equivalent, "undecided": undecided, "non_equivalent_decided": non_eq,
                                "kill_rate_non_equivalent": killed / non_eq if non_eq else None,
                                "kill_rate_non_equivalent_ci95_clopper_pearson": [ne_low, ne_high]}
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    lines = []
    for g, path, n, status in sorted(survivors):
        diff = subprocess.run([sys.executable, "-m", "mutmut", "show", n], capture_output=True, text=True).stdout
        diff = "\n".join(line for line in diff.splitlines() if line.startswith(("+", "-")) and not line.startswith(("+++", "---")))
        d = (decisions or {}).get(n, {})
        why = f"**{d['class']}**: {d['why']}\n" if d else ""
        lines.append(f"## {n}  [{status}; {g}; {path}]\n{why}```diff\n{diff}\n```\n")
    (out / "survivors.md").write_text(f"# Mutants not killed ({len(survivors)})\n\n" + "\n".join(lines))
    return summary


def _retest(path: Path) -> dict:
    data = json.loads(path.read_text())
    return {"results": data["results"], "decides": str(data.get("tests", "")).startswith("per mutant from")}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("select")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--sample", type=int, default=150)
    r = sub.add_parser("report")
    r.add_argument("--names", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--meta", default="{}", help="JSON object recorded in summary.json (the command, seed, ...)")
    r.add_argument("--retest", type=Path, nargs="*", default=[], help="mutation_retest.py result files, merged in order")
    r.add_argument("--decisions", type=Path, default=None,
                   help='JSON {mutant: {"class": "equivalent" | "harmless" | "real", "why": ...}} for the survivors')
    a = p.parse_args(argv)
    if a.cmd == "select":
        print("\n".join(select(a.seed, a.sample)))
    else:
        names = [n for n in a.names.read_text().split() if n]
        s = report(names, a.out, json.loads(a.meta), [_retest(f) for f in a.retest],
                   json.loads(a.decisions.read_text()) if a.decisions else None)
        print(json.dumps(s["groups"], indent=2))


if __name__ == "__main__":
    main()
