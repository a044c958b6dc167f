"""Re-test mutants of an existing ``mutants/`` against chosen tests (issue 12, part 5; never CI).

After a mutmut run, new tests are written for the survivors; this re-tests exactly those mutants the way
mutmut does (the mutated copy in ``mutants/``, ``MUTANT_UNDER_TEST`` naming the mutant for mutmut's
trampolines, one forked process per mutant, ``-x``), but only against the tests given, so it needs
neither a new stats pass nor the slow covering tests. Run from the repository root with the mutation venv::

    CI=true PYTHONPATH=$PWD/mutants .venv-mutation/bin/python scripts/mutation_retest.py \\
        --names FILE --tests tests/numerics/test_numerics_metrics.py ... --out FILE.json
    ... --names FILE --fastest 30 --timeout 150 --out FILE.json   # each mutant's fastest covering tests
                                                                      # (mutmut's stats), up to 30 s of them
    ... --names FILE --plan PLAN.json --timeout 150 --out FILE.json   # the tests PLAN.json names per mutant
                                                                       # ({mutant: [test, ...]})

Exit code of each mutant's run: 1 = killed (a test failed), 0 = the tests given pass (not killed by them:
for ``--fastest`` that decides nothing about the slower covering tests), -14 = over ``--timeout`` seconds.
Copy the test files into ``mutants/tests`` first (mutmut copies ``tests/`` only when it runs).

Before any mutant, the union of the tests is run once with no mutant active (the *baseline*): a test that
fails on the unmutated code would "kill" every mutant whose tests include it, so a failing baseline stops
the run (exit code 2) before it measures anything. ``--no-baseline`` skips it (for a rerun of a few names on
tests known to pass).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--names", required=True)
    p.add_argument("--tests", nargs="*", default=[])
    p.add_argument("--fastest", type=float, default=None, help="seconds of each mutant's fastest covering tests")
    p.add_argument("--plan", default=None, help="JSON {mutant: [tests]}: the tests to run for each mutant")
    p.add_argument("--pytest-args", default="", help="more pytest arguments for every mutant, one string, e.g. \"-m 'not slow'\"")
    p.add_argument("--timeout", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--no-baseline", action="store_true", help="skip the run of the tests with no mutant active")
    a = p.parse_args(argv)
    names = open(a.names).read().split()
    out_path = os.path.abspath(a.out)
    plan_given = json.load(open(a.plan)) if a.plan else None
    os.chdir("mutants")
    sys.path.insert(0, os.getcwd())
    if plan_given is not None:
        plan = {n: list(plan_given.get(n, [])) for n in names}
    elif a.fastest is not None:
        st = json.load(open("mutmut-stats.json"))
        tests, dur = st["tests_by_mangled_function_name"], st["duration_by_test"]
        plan = {}
        for n in names:
            pick, total = [], 0.0
            for t in sorted(tests.get(n.partition("__mutmut_")[0], []), key=lambda t: dur.get(t, 1e9)):
                if pick and total + dur.get(t, 1e9) > a.fastest:
                    break
                pick.append(t)
                total += dur.get(t, 0.0)
            plan[n] = pick
    else:
        plan = {n: list(a.tests) for n in names}
    import pytest

    os.environ["MUTANT_UNDER_TEST"] = ""
    files = sorted({t.split("::")[0] for ts in plan.values() for t in ts})
    pytest.main(["-q", "-p", "no:cacheprovider", "--collect-only", "-qqq"] + files)  # import once, before forking
    baseline = None
    if not a.no_baseline and files:
        baseline = _run_tests(sorted({t for ts in plan.values() for t in ts}), "", a.pytest_args, 0)
        print("baseline (no mutant):", baseline, flush=True)
        if baseline != 0:
            sys.exit(f"the tests fail with no mutant active (pytest exit code {baseline}): every mutant would count "
                     f"as killed; fix the tests (or the copy in mutants/tests) first")
    out = {}
    for n in names:
        if not plan[n]:
            out[n] = {"exit_code": 33, "tests": 0}  # no test executes the mutated function
            continue
        out[n] = {"exit_code": _run_tests(plan[n], n, a.pytest_args, a.timeout), "tests": len(plan[n])}
        json.dump({"partial": True, "results": out}, open(out_path + ".partial", "w"))
        print(n, out[n]["exit_code"], flush=True)
    how = (f"per mutant from {a.plan}" if a.plan else a.tests or f"each mutant's fastest covering tests, up to {a.fastest} s")
    json.dump({"tests": how, "pytest_args": a.pytest_args, "timeout_s": a.timeout, "baseline_exit_code": baseline,
               "results": out}, open(out_path, "w"), indent=1)


def _run_tests(tests: list[str], mutant: str, pytest_args: str, timeout: int) -> int:
    """pytest on ``tests`` in a forked child with ``MUTANT_UNDER_TEST = mutant`` ("" = none): its exit code."""
    import pytest

    pid = os.fork()
    if pid == 0:
        os.environ["MUTANT_UNDER_TEST"] = mutant
        signal.alarm(timeout)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os._exit(int(pytest.main(["-x", "-q", "-p", "no:cacheprovider"] + shlex.split(pytest_args) + tests)))
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    main()
