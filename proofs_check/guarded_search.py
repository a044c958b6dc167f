"""A guard around :func:`proofs_check.search.find_counterexample` for C6–C9.

When the shrink cap is reached, ``find_counterexample`` answers "not failing" for every further
call, including hypothesis's final replay of the best failing example, and hypothesis then raises
``FlakyFailure``. The guard remembers the last failing example the predicate saw and returns it
(with its own numbers) in that case, so a capped search still reports the smallest failure it reached.
"""
from __future__ import annotations

from hypothesis.errors import Flaky

from proofs_check.search import SKIP, SearchResult, find_counterexample


def find_counterexample_guarded(strategy, predicate, *, budget: int, seed: int, shrink_budget: int | None = None) -> SearchResult:
    seen = {"example": None, "details": None, "first": None, "tried": 0, "skipped": 0, "held": 0, "calls": 0}

    def remember(example):
        out = predicate(example)
        seen["calls"] += 1
        if isinstance(out, dict):
            seen["example"], seen["details"] = example, out
            seen["first"] = seen["first"] or out
        elif seen["first"] is None:
            seen["tried"] += 1
            seen["skipped" if out == SKIP else "held"] += 1
        return out

    try:
        return find_counterexample(strategy, remember, budget=budget, seed=seed, shrink_budget=shrink_budget)
    except Flaky:
        return SearchResult(seen["example"], seen["details"], seen["tried"] + 1, seen["skipped"], seen["held"],
                            seen["calls"] - seen["tried"] - 1, budget, seed, first_details=seen["first"])


__all__ = ["find_counterexample_guarded"]
