"""Deterministic adversarial search with shrinking, shared by every claim module (C1–C9).

A claim module describes its hypothesis space as a hypothesis strategy (usually built from
:mod:`theory.strategies`) and the claim as a predicate that looks at one drawn example and answers

- ``None``: the claim holds on this example;
- :data:`SKIP`: the example does not meet the claim's hypotheses, or the check cannot decide it
  (counted, never a failure);
- a ``dict``: the claim fails here; the dict holds the numbers that break it.

:func:`find_counterexample` draws up to ``budget`` examples from a generator seeded by ``seed``
(so the same seed gives the same search), and when one fails, lets hypothesis shrink it to a
minimal failing example, which it returns with the predicate's numbers on that example::

    from proofs_check.search import SKIP, find_counterexample
    result = find_counterexample(instances(max_n=3), lambda inst: ..., budget=40, seed=0)
    if result.found:
        result.example, result.details

Shrinking re-runs the predicate; ``shrink_budget`` caps those calls so a costly predicate stays
within a predictable time (after the cap, further shrink candidates are treated as not failing,
which is still deterministic).
"""
from __future__ import annotations

import random as _random
from dataclasses import dataclass
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, settings
from hypothesis import find as _find
from hypothesis.errors import Flaky, FlakyFailure, NoSuchExample
from hypothesis.strategies import SearchStrategy

from theory.errors import SDLInputError

SKIP = "skip"  # the predicate's answer when an example does not meet the claim's hypotheses


@dataclass(frozen=True)
class SearchResult:
    """What :func:`find_counterexample` found.

    ``example`` is the shrunk minimal failing example (None when nothing failed) and ``details``
    the predicate's dict on it; ``tried`` counts predicate calls during generation (shrinking not
    included), ``skipped`` those that did not meet the hypotheses, ``held`` those where the claim held.
    """

    example: Any = None
    details: dict | None = None
    tried: int = 0
    skipped: int = 0
    held: int = 0
    shrink_calls: int = 0
    budget: int = 0
    seed: int = 0
    first_details: dict | None = None  # the numbers on the first failing example, before shrinking

    @property
    def found(self) -> bool:
        return self.example is not None

    def summary(self) -> str:
        if self.found:
            return (
                f"failure found after {self.tried} examples (seed {self.seed}, budget {self.budget}); "
                f"shrunk with {self.shrink_calls} more evaluations"
            )
        return (
            f"no failure in {self.tried} examples (seed {self.seed}, budget {self.budget}): "
            f"{self.held} met the hypotheses and held, {self.skipped} were outside them or undecided"
        )


def find_counterexample(
    strategy: SearchStrategy,
    predicate: Callable[[Any], dict | str | None],
    *,
    budget: int,
    seed: int,
    shrink_budget: int | None = None,
) -> SearchResult:
    """Search ``strategy`` for an example where ``predicate`` returns a dict; shrink it; return it.

    Deterministic in ``seed``: no example database, no deadline, health checks off (rejections
    are expected, e.g. for points near a region boundary).
    """
    if int(budget) < 1:
        raise SDLInputError(f"the search budget must be a positive number of examples, got {budget}")
    budget, seed = int(budget), int(seed)
    shrink_budget = 5 * budget if shrink_budget is None else int(shrink_budget)
    counts = {"tried": 0, "skipped": 0, "held": 0, "shrink": 0}
    state: dict[str, Any] = {"first": None, "best": None}

    def condition(example) -> bool:
        shrinking = state["first"] is not None
        if shrinking:
            if counts["shrink"] >= shrink_budget:
                return False  # hypothesis then reports the replay as flaky: caught below
            counts["shrink"] += 1
        else:
            counts["tried"] += 1
        outcome = predicate(example)
        if outcome is None:
            counts["held"] += 0 if shrinking else 1
            return False
        if isinstance(outcome, str):
            if outcome != SKIP:
                raise ValueError(f"a search predicate returns None, SKIP or a dict, got {outcome!r}")
            counts["skipped"] += 0 if shrinking else 1
            return False
        if not shrinking:
            state["first"] = dict(outcome)
        state["best"] = example  # hypothesis only accepts smaller examples, so the last true one is the smallest
        return True

    config = settings(
        max_examples=budget,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate, Phase.shrink),
        print_blob=False,
    )
    try:
        example = _find(strategy, condition, settings=config, random=_random.Random(seed))
    except NoSuchExample:
        return SearchResult(None, None, counts["tried"], counts["skipped"], counts["held"], 0, budget, seed)
    except (FlakyFailure, Flaky):
        # only after the shrink cap: the smallest failing example found so far is the answer
        if state["best"] is None:
            raise
        example = state["best"]
    details = predicate(example)  # the numbers on the minimal example itself
    if not isinstance(details, dict):  # pragma: no cover - a predicate that is not a function of its input
        raise RuntimeError(f"search predicate is not deterministic: the shrunk example now returns {details!r}")
    return SearchResult(
        example, details, counts["tried"], counts["skipped"], counts["held"], counts["shrink"], budget, seed,
        first_details=state["first"],
    )


__all__ = ["SKIP", "SearchResult", "find_counterexample"]
