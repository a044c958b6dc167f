"""``sdl-theory verify [CLAIM ...] --out DIR --budget N --seed S``: check the paper's claims (C1, C2, …).

A CLAIM is an id (``C6``) or a claim of your own named ``module:Attr`` (a
``proofs_check.claim.SearchClaim``): it gets the same search, shrinking, verdict and report.
``--activation FAMILY`` (repeatable; a registered family or ``module:Attr``) makes the claims'
default search spaces draw from those families only. Runs each claim's check (symbolic steps, exact and numeric checks, adversarial search with
``--budget`` examples per search from ``--seed``), prints a table and writes ``report.md``,
``report.json`` and ``figures/`` into ``--out``. A claim whose module is missing or raises becomes an
``error`` row; the others are still reported, and the report is rewritten after every claim so an
interrupted run keeps what it finished. The same seed and budget give the same ``report.json``.
The training claims (C10, C11) write every trained run to ``--out``/bench-runs/ as it ends; ``--resume``
reads back the runs already there (same configuration) instead of training them again, so an
interrupted ``--bench-size scaled`` run continues where it stopped.
Exit status: 0 when every claim produced a verdict (whatever it is), 1 when some check errored.
"""
from __future__ import annotations

import argparse

DEFAULT_OUT = "sdl-verify-report"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "verify",
        help="check the paper's claims (and your own) and write a report",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("claims", nargs="*", metavar="CLAIM",
                   help="claims to check, e.g. C1 C3 or mypkg.claims:MyClaim (default: every built-in claim)")
    p.add_argument("--activation", action="append", default=[], metavar="FAMILY",
                   help="search only these activation families (repeatable; a registered name or module:Attr)")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help=f"report directory (default: ./{DEFAULT_OUT}); a report already there is replaced by this run's "
                        "(report.md, report.json and the figures of the claims checked)")
    p.add_argument("--budget", type=int, default=None, metavar="N",
                   help="examples per adversarial search (default: 40; C1–C9 take about 30 s, the training claims C10/C11 a few minutes)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="search seed (default: 0); same seed, same report")
    p.add_argument("--no-figures", action="store_true", help="skip the matplotlib figures")
    p.add_argument("--bench-size", default="tiny", choices=("micro", "tiny", "small", "scaled", "paper"),
                   help="bench instance of the training claims C10/C11 (micro: seconds, for tests; default tiny: a few CPU-minutes; "
                        "small: about 10×; scaled: Table 1's ratios at n = 250, hours on a CPU; paper: Table 1's own "
                        "sizes, n = 1000, 16000 latents, for a GPU)")
    p.add_argument("--resume", action="store_true",
                   help="C10/C11: reuse the trained runs already in --out/bench-runs/ (same configuration) "
                        "instead of training them again (the report counts them under numbers.provenance)")
    p.set_defaults(func=run)


def _claim_ids(requested: list[str]) -> list[str]:
    """The claims to run, each once: built-in ids normalised (``6`` → ``C6``), ``module:Attr`` kept."""
    from proofs_check import CLAIMS
    from proofs_check.claim import get_claim

    if not requested:
        return list(CLAIMS)
    ids = []
    for c in requested:
        key = c if ":" in c else get_claim(c).CLAIM.id  # unknown ones: one clear error before any work
        if key not in ids:
            ids.append(key)
    return ids


def _check_writable(out: str) -> None:
    """Fail before any work if the report directory cannot be written."""
    import os
    import tempfile

    from theory.errors import SDLInputError

    try:
        os.makedirs(out, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise SDLInputError(f"cannot write the report into --out {out!r} ({exc.strerror or exc}); choose another directory") from None


def run_claim(claim_id: str, budget: int, seed: int, bench_size: str = "tiny"):
    """One claim → :class:`proofs_check.report.ClaimOutcome` (errors caught and described)."""
    import traceback

    from proofs_check import check, claim_module
    from proofs_check.report import ClaimOutcome

    statement = paper_ref = ""
    try:
        claim = claim_module(claim_id)
        statement, paper_ref = claim.CLAIM.statement, claim.CLAIM.paper_ref
        ref = claim_id if ":" in claim_id else ""  # a claim of yours: how to name it again to rerun it
        opts = {"size": bench_size} if "size" in getattr(claim, "SEARCH_OPTIONS", ()) else {}
        return ClaimOutcome(claim.CLAIM.id, check(claim_id, budget=budget, seed=seed, **opts), None, statement,
                            paper_ref, ref)
    except Exception as exc:  # noqa: BLE001 - one broken claim must not lose the others
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" (at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})" if frame else ""
        return ClaimOutcome(claim_id, None, f"{type(exc).__name__}: {exc}{where}", statement, paper_ref,
                            claim_id if ":" in claim_id else "")


def _trains(claim_id: str) -> bool:
    """Whether a claim's check trains models on the bench (C10, C11: it takes a bench size)."""
    from proofs_check import claim_module

    try:
        return "size" in getattr(claim_module(claim_id), "SEARCH_OPTIONS", ())
    except Exception:  # noqa: BLE001 - a claim that cannot load becomes an error row in run_claim
        return False


def run(args) -> int:
    import contextlib
    import os
    import time

    from proofs_check import DEFAULT_BUDGET, DEFAULT_SEED, MAX_BUDGET
    from proofs_check.report import table, write_report
    from theory import validation as V

    from theory import registry

    ids = _claim_ids(args.claims)
    searched = [registry.get(a).ref for a in args.activation]  # unknown families: one clear error first
    budget = DEFAULT_BUDGET if args.budget is None else V.positive_int("--budget (search examples)", args.budget, MAX_BUDGET)
    seed = DEFAULT_SEED if args.seed is None else V.seed("--seed", args.seed)
    _check_writable(args.out)
    outcomes, seconds = [], {}
    if searched:
        print(f"searching the activation families {', '.join(searched)} only", flush=True)
    with contextlib.ExitStack() as stack:
        if any(_trains(cid) for cid in ids):   # every trained run is kept (and, with --resume, reused)
            from numerics.recovery import run_store

            store = stack.enter_context(run_store(os.path.join(args.out, "bench-runs"),
                                                  reuse=getattr(args, "resume", False)))
            print(f"trained runs are kept in {store}" + (" (reusing those already there)"
                                                          if getattr(args, "resume", False) else ""), flush=True)
        for cid in ids:
            start = time.perf_counter()
            print(f"checking {cid} ...", flush=True)
            with registry.searching(searched) if searched else contextlib.nullcontext():
                outcome = run_claim(cid, budget, seed, getattr(args, "bench_size", "tiny"))
            cid = outcome.claim
            seconds[cid] = time.perf_counter() - start
            outcomes.append(outcome)
            print(f"  {cid}: {outcome.status} ({seconds[cid]:.1f} s)", flush=True)
            # rewrite after every claim: an interrupted run keeps what it finished (figures at the end)
            write_report(args.out, outcomes, seed=seed, budget=budget, figures=False, families=searched)
    paths = write_report(args.out, outcomes, seed=seed, budget=budget, figures=not args.no_figures, families=searched)
    print()
    print(table(outcomes, seconds))
    print("(cells are cut to fit the terminal; report.md has every verdict's full evidence, counterexample and "
          "corrected condition)")
    print()
    print(f"report: {paths['markdown']}  data: {paths['json']}" + (f"  figures: {len(paths['figures'])}" if paths["figures"] else "")
          + (f"  Table 1: {paths['table1']}" if "table1" in paths else ""))
    print(f"total {sum(seconds.values()):.1f} s, budget {budget}, seed {seed}")
    return 1 if any(o.status == "error" for o in outcomes) else 0
