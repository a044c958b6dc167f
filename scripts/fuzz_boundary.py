"""The larger fuzz run of the public boundary (issue 10): the targets of ``sdl_theory.fuzz`` (every
public API function group and every CLI command) on many generated inputs; writes a JSON summary
(counts per target and outcome, and the first findings) and exits 1 when anything is unhandled,
hangs or returns a NaN.

    .venv/bin/python scripts/fuzz_boundary.py --per-target 800 --cli 1600 --seed 0 --out results/fuzz/summary.json
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hseed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sdl_theory import fuzz  # noqa: E402


def run_target(name, strategy, n, seed, seconds, tally, judge):
    # generate only (no shrinking): every drawn input is counted once, failures are recorded, not raised
    @settings(max_examples=n, deadline=None, database=None, derandomize=False, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def body(x):
        outcome, detail = judge(x)
        tally.add(name, outcome, detail)

    hseed(seed)(body)()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-target", type=int, default=800, help="inputs per API target")
    ap.add_argument("--cli", type=int, default=1600, help="CLI invocations")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--deadline", type=float, default=20.0, help="seconds per call before it counts as a hang")
    ap.add_argument("--out", default=None, help="write the JSON summary here")
    args = ap.parse_args(argv)
    tally = fuzz.Tally()
    start = time.perf_counter()
    per_target_s = {}
    for name, strategy in sorted(fuzz.api_targets().items()):
        t0 = time.perf_counter()
        n = args.per_target // 4 if name == "proofs_check.check" else args.per_target
        run_target(name, strategy, n, args.seed, args.deadline, tally, lambda call: fuzz.judge_call(call, args.deadline))
        per_target_s[name] = round(time.perf_counter() - t0, 1)
        print(f"{name:22s} {tally.per_target.get(name)}  ({per_target_s[name]} s)", flush=True)
    workdir = fuzz.cli_workdir()
    t0 = time.perf_counter()
    run_target("cli", fuzz.cli_argv(workdir), args.cli, args.seed, args.deadline, tally,
               lambda argv: fuzz.judge_cli(argv, args.deadline))
    per_target_s["cli"] = round(time.perf_counter() - t0, 1)
    print(f"{'cli':22s} {tally.per_target.get('cli')}  ({per_target_s['cli']} s)", flush=True)
    summary = {
        "command": "python scripts/fuzz_boundary.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seed": args.seed, "deadline_s": args.deadline, "total_inputs": tally.total, "counts": tally.counts,
        "per_target": tally.per_target, "seconds_per_target": per_target_s,
        "wall_s": round(time.perf_counter() - start, 1), "machine": platform.platform(),
        "findings": tally.examples,
    }
    print(json.dumps({k: summary[k] for k in ("total_inputs", "counts", "wall_s")}))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    bad = sum(tally.counts[o] for o in ("unhandled", "hang", "nan"))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
