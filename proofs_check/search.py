"""Deterministic adversarial search with shrinking, shared by every claim module (C1–C9).

A claim module describes its hypothesis space as a hypothesis strategy (usually built from
:mod:`theory.strategies`) and the claim as a predicate that looks at one drawn example and answers

- ``None``: the claim holds on this example;
- :data:`SKIP`: the example does not meet the claim's hypotheses (counted, never a failure);
- :data:`UNDECIDED`: it meets them but the check cannot decide it (counted apart: neither held nor failed);
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
import numpy as np

from theory.errors import SDLInputError

SKIP = "skip"  # the predicate's answer when an example does not meet the claim's hypotheses
UNDECIDED = "undecided"  # the example meets them but the check could not decide it (never a pass)


@dataclass(frozen=True)
class SearchResult:
    """What :func:`find_counterexample` found.

    ``example`` is the shrunk minimal failing example (None when nothing failed) and ``details``
    the predicate's dict on it; ``tried`` counts predicate calls during generation (shrinking not
    included), ``skipped`` those that did not meet the hypotheses, ``undecided`` those that met them but
    could not be decided, ``held`` those where the claim held; ``met = tried − skipped``.
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
    undecided: int = 0
    superposed_met: int | None = None  # of the met examples, those with n > n_p (when the search counts them)

    @property
    def found(self) -> bool:
        return self.example is not None

    @property
    def met(self) -> int:
        return self.tried - self.skipped

    def counts(self) -> dict:
        out = {"met": self.met, "held": self.held, "skipped": self.skipped, "undecided": self.undecided,
               "failed": int(self.found), "tried": self.tried}
        if self.superposed_met is not None:
            out["superposition_met"] = self.superposed_met
        return out

    def summary(self) -> str:
        if self.found:
            return (
                f"failure found after {self.tried} examples (seed {self.seed}, budget {self.budget}); "
                f"shrunk with {self.shrink_calls} more evaluations"
            )
        sup = "" if self.superposed_met is None else f" ({self.superposed_met} of them with n > n_p)"
        return (
            f"no failure in {self.tried} examples (seed {self.seed}, budget {self.budget}): "
            f"{self.met} met the hypotheses{sup}: {self.held} held, {self.undecided} undecided; "
            f"{self.skipped} were outside them"
        )


def find_counterexample(
    strategy: SearchStrategy,
    predicate: Callable[[Any], dict | str | None],
    *,
    budget: int,
    seed: int,
    shrink_budget: int | None = None,
    superposed: Callable[[Any], bool] | None = None,
) -> SearchResult:
    """Search ``strategy`` for an example where ``predicate`` returns a dict; shrink it; return it.

    Deterministic in ``seed``: no example database, no deadline, health checks off (rejections
    are expected, e.g. for points near a region boundary). ``superposed(example)`` (optional) says
    whether an example has more features than dimensions; met examples with it are counted.
    """
    if int(budget) < 1:
        raise SDLInputError(f"the search budget must be a positive number of examples, got {budget}")
    budget, seed = int(budget), int(seed)
    shrink_budget = 5 * budget if shrink_budget is None else int(shrink_budget)
    counts = {"tried": 0, "skipped": 0, "held": 0, "shrink": 0, "undecided": 0, "superposed": 0}
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
        if isinstance(outcome, str) and outcome not in (SKIP, UNDECIDED):
            raise ValueError(f"a search predicate returns None, SKIP, UNDECIDED or a dict, got {outcome!r}")
        if not shrinking and outcome != SKIP and superposed is not None and superposed(example):
            counts["superposed"] += 1  # met the hypotheses with n > n_p
        if outcome is None:
            counts["held"] += 0 if shrinking else 1
            return False
        if isinstance(outcome, str):
            if not shrinking:
                counts["skipped" if outcome == SKIP else "undecided"] += 1
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
        return SearchResult(None, None, counts["tried"], counts["skipped"], counts["held"], 0, budget, seed,
                            undecided=counts["undecided"], superposed_met=_sup(counts, superposed))
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
        first_details=state["first"], undecided=counts["undecided"], superposed_met=_sup(counts, superposed),
    )


def _sup(counts: dict, superposed) -> int | None:
    return None if superposed is None else counts["superposed"]


def search_condition(strategy: SearchStrategy, predicate, *, seed: int, min_met: int, superposed=None,
                     max_rounds: int = 6, first_budget: int | None = None) -> SearchResult:
    """A corrected condition's search: draw until at least ``min_met`` examples meet it (rounds with
    seeds ``seed, seed + 1000, …``, each sized from the acceptance seen so far), stop at a failure.
    The counts are summed over the rounds; deterministic in ``seed``."""
    total = {"tried": 0, "skipped": 0, "held": 0, "undecided": 0, "superposed": 0}
    budget = int(first_budget or min_met)
    last = None
    for r in range(max_rounds):
        res = find_counterexample(strategy, predicate, budget=budget, seed=seed + 1000 * r, superposed=superposed)
        for k in ("tried", "skipped", "held", "undecided"):
            total[k] += getattr(res, k)
        total["superposed"] += res.superposed_met or 0
        last = res
        if res.found:
            break
        met = total["tried"] - total["skipped"]
        if met >= min_met:
            break
        rate = max(met, 1) / max(total["tried"], 1)
        budget = int(min(20 * min_met, max(10, np.ceil(1.2 * (min_met - met) / rate))))
    return SearchResult(last.example, last.details, total["tried"], total["skipped"], total["held"],
                        last.shrink_calls, total["tried"], seed, last.first_details, total["undecided"],
                        total["superposed"] if superposed is not None else None)


__all__ = ["SKIP", "UNDECIDED", "SearchResult", "find_counterexample", "search_condition"]


GATED = ("gated",)  # the Gated family; its strategy draws tied and untied units
GATED_NOTE = "gated (tied and untied), searched apart"


def gated_apart() -> bool:
    """Whether a claim searches the Gated family apart from its default space (whose families, by default,
    do not include it, so that its examples per seed stay what they were): yes, unless ``verify --activation``
    chose the families, which the default space then draws itself."""
    from theory import registry

    return not registry.narrowed()


def families_searched(default, gated: bool | str = True) -> dict:
    """``numbers["families_searched"]`` of a claim: its default space's families, and whether Gated was
    searched apart (``gated``: True, False, or the reason the claim's statement excludes it)."""
    out = {"default_space": list(default)}
    if isinstance(gated, str):
        out["not_searched"] = {"gated": gated}
    elif gated and gated_apart():
        out["apart"] = [GATED_NOTE]
    return out


def describe_families(fs: dict) -> str:
    """One sentence for a claim's evidence and the report."""
    parts = [", ".join(fs.get("default_space", []))] + list(fs.get("apart", []))
    parts += [f"{fam} not searched: {why}" for fam, why in fs.get("not_searched", {}).items()]
    return "; ".join(p for p in parts if p)

