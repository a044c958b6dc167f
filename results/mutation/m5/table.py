"""Per-module before → after tables of the fifth session's targeted samples (run with .venv/bin/python from the
repository root)::

    .venv/bin/python results/mutation/m5/table.py > results/mutation/m5/table.md

Run 1: ``m5/run1.txt`` (each module's first k of its seed-53 shuffle, ``m4/pick.py MODULE 60 53``), each mutant against
its plan at the suite of MEASURED_COMMIT (``retests/before_run1.json``); its survivors and its one timeout then against
the tests written for them (``retests/after_run1_survivors.json``). Run 2: ``m5/run2.txt`` (the next 20 of the same
shuffles of c7 and c4, never looked at before they ran) against their plans at the suite of RUN2_COMMIT, which has run
1's tests (``retests/run2_new_suite.json``); its survivors against the tests written after (``after_run2_survivors.json``).
``m5/decisions.json``: the class of every mutant not killed first. Criterion as in the earlier measurements: killed ÷
(run − equivalent − undecided); harmless counts as not killed; a timeout is undecided; Clopper–Pearson 95 % intervals.
"after" counts kills by tests written for those very survivors: biased upward. Writes ``m5/summary.json``."""
import json

from scipy.stats import binomtest

M5 = "results/mutation/m5"
dec = json.load(open(f"{M5}/decisions.json"))


def ci(k, n):
    c = binomtest(k, n).proportion_ci(method="exact")
    return f"{100 * c.low:.1f}–{100 * c.high:.1f}"


def table(names_file, before_file, after_file, label):
    names = open(f"{M5}/{names_file}").read().split()
    before = json.load(open(f"{M5}/retests/{before_file}"))["results"]
    after = json.load(open(f"{M5}/retests/{after_file}"))["results"]
    rows, out = [], {}
    for mod in dict.fromkeys(n.partition(".x")[0] for n in names):
        ms = [n for n in names if n.partition(".x")[0] == mod]
        equiv = [n for n in ms if dec.get(n, {}).get("class") == "equivalent"]
        killed = [n for n in ms if before[n]["exit_code"] == 1]
        undecided = [n for n in ms if before[n]["exit_code"] not in (0, 1) and n not in equiv]
        killed_after = [n for n in ms if n not in equiv and (before[n]["exit_code"] == 1 or after.get(n, {}).get("exit_code") == 1)]
        undecided_after = [n for n in undecided if n not in killed_after and after.get(n, {}).get("exit_code") != 0]
        nb, na = len(ms) - len(equiv) - len(undecided), len(ms) - len(equiv) - len(undecided_after)
        cls = [dec[n]["class"] for n in ms if n not in killed and n in dec]
        out[mod] = {"run": len(ms), "killed_before": len(killed), "undecided_before": len(undecided),
                    "equivalent": len(equiv), "real": cls.count("real"), "harmless": cls.count("harmless"),
                    "nonequivalent_decided_before": nb, "killed_after": len(killed_after), "nonequivalent_decided_after": na,
                    "not_killed_after": sorted(n for n in ms if n not in killed_after and n not in equiv and n not in undecided_after)}
        rows.append(f"| `{mod}` | {len(ms)} | {len(killed)} | {len(undecided)} | {len(equiv)} | {cls.count('real')} / "
                    f"{cls.count('harmless')} | **{len(killed)} / {nb} = {100 * len(killed) / nb:.1f} %** (CI {ci(len(killed), nb)}) | "
                    f"{len(killed_after)} | {len(killed_after)} / {na} = {100 * len(killed_after) / na:.1f} % |")
    print(f"\n{label}\n")
    print("| module | run | killed | timed out (undecided) | equivalent | real / harmless not killed | non-equivalent killed "
          "(unbiased) | killed after | non-equivalent killed after (biased: tests written for them) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return out


summary = {"run1": table("run1.txt", "before_run1.json", "after_run1_survivors.json",
                         "Run 1 (first k of each seed-53 shuffle), suite of MEASURED_COMMIT (040ae02) → after:"),
           "run2": table("run2.txt", "run2_new_suite.json", "after_run2_survivors.json",
                         "Run 2 (the next 20 of c7's and c4's shuffles), suite of RUN2_COMMIT (339608d, run 1's tests in) → after:"),
           "run3": table("run3.txt", "before_run3_c10.json", "after_run3_survivors.json",
                         "Run 3 (the first 20 of c10_recovery's seed-53 shuffle), suite of RUN3_COMMIT (12f1cc3) → after:")}
import os  # noqa: E402
if os.path.exists(f"{M5}/retests/run4_c10_new_suite.json"):
    summary["run4"] = table("run4.txt", "run4_c10_new_suite.json", "after_run4_survivors.json"
                            if os.path.exists(f"{M5}/retests/after_run4_survivors.json") else "run4_c10_new_suite.json",
                            "Run 4 (c10_recovery's next 20, positions 21–40), suite of RUN4_COMMIT (63d61bf, run 3's tests in) → after:")
if os.path.exists(f"{M5}/retests/before_run5_verdict.json"):
    summary["run5"] = table("run5.txt", "before_run5_verdict.json", "after_run5_survivors.json",
                            "Run 5 (the first 20 of verdict's seed-53 shuffle), suite of RUN5_COMMIT (b5da871) → after:")
json.dump(summary, open(f"{M5}/summary.json", "w"), indent=1)
