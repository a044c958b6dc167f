"""What a claim check returns: a :class:`Verdict` (and the pieces it is made of).

Every field comes from a computation that :func:`proofs_check.check` reruns from the same
arguments and seed; nothing here is a hard-coded result.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

STATUSES = ("holds", "fails", "hypotheses_not_met", "inconclusive")


def to_jsonable(obj: Any) -> Any:
    """Convert numpy arrays/scalars, sets, sympy expressions and nested containers to JSON values."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        return float(obj) if isinstance(obj, float) and not np.isfinite(obj) else obj
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(to_jsonable(v) for v in obj)
    if hasattr(obj, "to_json"):
        return to_jsonable(obj.to_json())
    try:  # sympy expressions and anything else printable
        import sympy as sp

        if isinstance(obj, sp.Basic):
            return str(obj)
    except ImportError:  # pragma: no cover
        pass
    return str(obj)


@dataclass(frozen=True)
class StepCheck:
    """One algebraic step of a published argument, checked symbolically (sympy).

    ``holds`` is True when the step's residual simplifies to 0 (or its inequality is proved);
    otherwise ``residual`` is the simplified residual and ``numeric_witness`` an instance of the
    symbols at which it is non-zero.
    """

    name: str
    statement: str
    holds: bool
    residual: str = "0"
    numeric_witness: dict | None = None
    note: str = ""

    def to_json(self) -> dict:
        return to_jsonable(self.__dict__)


KINDS = ("sufficient", "necessary", "exact")
MIN_MET = 100  # a corrected condition is "verified" only after this many instances met it without a failure


@dataclass(frozen=True)
class CorrectedCondition:
    """A repaired hypothesis: text, an optional sympy form, and how it was itself checked.

    ``kind``: whether the condition is claimed ``sufficient`` (it implies the conclusion), ``necessary``
    (the conclusion implies it) or ``exact`` (both). ``counts``: the search that checked it over the
    claim's whole space — ``met`` (instances meeting the condition; for a necessary one, instances
    where the conclusion holds), ``held``, ``skipped`` (outside it), ``undecided``, ``failed`` and
    ``superposition_met`` (met with n > n_p). ``verified`` is granted only when no instance failed,
    at least :data:`MIN_MET` met it *and were decided* (held: an undecided one counts for nothing) and
    superposition was among them;
    otherwise it is downgraded here, with the reason appended to the evidence.
    """

    text: str
    sympy: str | None = None
    verified: bool = False
    evidence: str = ""
    kind: str = "sufficient"
    counts: dict | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.verified:
            why = verification_gap(self.counts)
            if why:
                object.__setattr__(self, "verified", False)
                object.__setattr__(self, "evidence", f"{self.evidence} [not verified: {why}]".strip())

    def label(self) -> str:
        c = self.counts or {}
        tally = (f"met {c.get('met', 0)} (n > n_p: {c.get('superposition_met', 0)}), held {c.get('held', 0)}, "
                 f"skipped {c.get('skipped', 0)}, undecided {c.get('undecided', 0)}") if c else "no search counts"
        return f"{'verified' if self.verified else 'NOT verified'}, {self.kind}; {tally}"

    def to_json(self) -> dict:
        return to_jsonable(self.__dict__)


ROBUST_MARGIN = 0.05  # a robust counterexample keeps every pre-activation this far from every threshold and tie


def margin_note(margin: float) -> str:
    """How a counterexample's distance from thresholds and ties reads (issue 12: no verdict on a tie)."""
    flips = ", so it flips with the > vs >= convention" if margin < ROBUST_MARGIN else ""
    return f"smallest distance of a pre-activation from a threshold or tie {margin:.3g}{flips}"


def verification_gap(counts: dict | None) -> str | None:
    """Why a search with these counts does not verify a corrected condition (None when it does)."""
    if not counts:
        return "no search counts"
    if counts.get("failed", 0):
        return "the search found a failure"
    met = min(counts.get("met", 0), counts.get("least_met_per_part", counts.get("met", 0)))
    if met < MIN_MET:
        return f"only {met} instances met it{' (in its weakest part)' if 'least_met_per_part' in counts else ''} (need {MIN_MET})"
    if counts.get("held", 0) < MIN_MET:   # an undecided instance is no evidence either way
        return (f"only {counts.get('held', 0)} of the {counts.get('met', 0)} instances that met it were decided "
                f"(held); {counts.get('undecided', 0)} undecided (need {MIN_MET} decided)")
    if not counts.get("superposition_met", 0):
        return "no instance with n > n_p (superposition) met it"
    return None


def merged_counts(*results) -> dict:
    """Sum the counts of several searches of one corrected condition."""
    out: dict = {}
    for r in results:
        for k, v in r.counts().items():
            out[k] = out.get(k, 0) + v
    out.setdefault("superposition_met", 0)
    if len(results) > 1:  # every part must meet the bar on its own
        out["least_met_per_part"] = min(r.met for r in results)
    return out


def with_part(counts: dict, *results) -> dict:
    """``counts`` (of :func:`merged_counts`) plus further searches of the same condition over another part of
    the claim's space (e.g. the Gated family, searched apart), summed in; the least-met bar stays that of
    the parts it was computed over."""
    out = dict(counts)
    for r in results:
        for k, v in r.counts().items():
            out[k] = out.get(k, 0) + v
    return out


@dataclass(frozen=True)
class Reading:
    """One reading of a claim whose wording admits several (C8 "GD *can* stay", C9 "moves training out"),
    with its own verdict; ``scope`` says in words where a failing reading fails (recipe, family, scale)."""

    name: str  # "weak" | "strong"
    statement: str
    status: str
    evidence: str
    scope: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    def to_json(self) -> dict:
        return to_jsonable(self.__dict__)


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one claim (C1…C9) on one instance or over a search space."""

    claim: str
    title: str
    status: str
    evidence: str
    counterexample: dict | None = None
    corrected_condition: CorrectedCondition | None = None
    steps: tuple[StepCheck, ...] = ()
    numbers: dict = field(default_factory=dict)
    seed: int | None = None
    budget: int | None = None
    readings: tuple[Reading, ...] = ()  # weak/strong readings, each with its own verdict

    def __post_init__(self):
        # a verdict assembled wrongly (a missing claim id, fields shifted by one) fails here, where it is built,
        # not later in a report: the rarely reached branches of a claim's verdict logic get the same check
        if not isinstance(self.claim, str) or not self.claim:
            raise ValueError(f"claim must be the claim's id (e.g. 'C6'), got {self.claim!r}")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if not isinstance(self.evidence, str):
            raise ValueError(f"evidence must be text, got {type(self.evidence).__name__}")
        if self.counterexample is not None and not isinstance(self.counterexample, dict):
            raise ValueError(f"counterexample must be a dict or None, got {type(self.counterexample).__name__}")
        if self.corrected_condition is not None and not isinstance(self.corrected_condition, CorrectedCondition):
            raise ValueError(f"corrected_condition must be a CorrectedCondition or None, "
                             f"got {type(self.corrected_condition).__name__}")
        if not isinstance(self.steps, (tuple, list)) or not all(isinstance(x, StepCheck) for x in self.steps):
            raise ValueError(f"steps must be a sequence of StepCheck, got {type(self.steps).__name__}")
        if not isinstance(self.numbers, dict):
            raise ValueError(f"numbers must be a dict, got {type(self.numbers).__name__}")
        if not isinstance(self.readings, (tuple, list)) or not all(isinstance(r, Reading) for r in self.readings):
            raise ValueError(f"readings must be a sequence of Reading, got {type(self.readings).__name__}")

    def to_json(self) -> dict:
        return to_jsonable(
            {
                "claim": self.claim,
                "title": self.title,
                "status": self.status,
                "evidence": self.evidence,
                "counterexample": self.counterexample,
                "corrected_condition": self.corrected_condition,
                "steps": list(self.steps),
                "numbers": self.numbers,
                "seed": self.seed,
                "budget": self.budget,
                "readings": list(self.readings),
            }
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2)

    def summary(self) -> str:
        return f"{self.claim} [{self.status}] {self.evidence.splitlines()[0] if self.evidence else ''}"
