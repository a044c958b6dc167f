"""The claim contract: what every claim check provides, and the registry that finds them.

A claim is checked by an object of the shape :class:`ClaimCheck` describes (a Protocol):

- ``CLAIM``: its static description (:class:`Claim`: id, title, paper reference, statement);
- ``Options``: a dataclass of the keyword options ``check_instance`` takes (typed; an unknown one is
  refused with one clear line before any work);
- ``hypotheses(instance, **options) -> list[str]``: the unmet hypotheses (empty when all hold);
- ``proof_steps() -> list[StepCheck]``: the symbolic check of every algebraic step;
- ``check_instance(instance, *, seed, budget, **options) -> Verdict``: exact / numeric checks on one instance;
- ``search(budget, seed) -> Verdict``: the adversarial search over the claim's hypothesis space.

The built-in claims C1, C2, … are the modules ``proofs_check/c<N>_<name>.py`` (found by their file
name: a new claim is one new module). A claim of your own is a subclass of :class:`SearchClaim`,
which is the one search template: you give the hypothesis space (a strategy built from
:mod:`theory.strategies`), the hypotheses as predicates and the check; it gives the same seeded
search, shrinking, verdict (with its counts) and report as the built-in claims::

    sdl-theory verify mypkg.claims:MyClaim C6
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from theory.errors import SDLInputError


@dataclass(frozen=True)
class Claim:
    id: str  # "C6"
    title: str  # "Spurious partial minima are everywhere"
    paper_ref: str  # "Thm 3.6"
    statement: str  # the claim in words, with its hypotheses


@dataclass(frozen=True)
class NoOptions:
    """A claim whose ``check_instance`` takes no options."""


@runtime_checkable
class ClaimCheck(Protocol):  # pragma: no mutate block  (a mutant of a Protocol adds members: no module matches it)
    """The shape of every claim check (a built-in claim module or a :class:`SearchClaim`)."""

    CLAIM: Claim
    Options: type

    def hypotheses(self, instance, **options) -> list[str]: ...

    def proof_steps(self) -> list: ...

    def check_instance(self, instance, *, seed: int = 0, budget: int = 40, **options): ...

    def search(self, budget: int = 40, seed: int = 0): ...


def options(check: ClaimCheck, values: dict) -> dict:
    """``values`` checked against the claim's ``Options`` dataclass: unknown names refused, defaults filled."""
    from theory.options import build

    # a module without Options yet takes none (tests/proofs_check/test_claim_contract.py flags it)
    return dataclasses.asdict(build(getattr(check, "Options", NoOptions), dict(values), what=check.CLAIM.id))


class SearchClaim:
    """The one search template, for claims of your own (see the module docstring).

    Override ``CLAIM``, :meth:`space` (a hypothesis strategy of examples), :meth:`hypotheses` (the
    unmet hypotheses of one example, as plain-word strings) and :meth:`check` (None when the claim
    holds on the example, a dict of the numbers that break it otherwise, or :data:`SKIP` when the
    check cannot decide). Optionally :meth:`proof_steps`, ``Options`` and :meth:`example_of` (how
    ``check_instance`` turns an instance and options into an example).
    """

    CLAIM: ClassVar[Claim]
    Options: ClassVar[type] = NoOptions

    # --- what a claim of yours provides ---------------------------------------------------------
    def space(self):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.space() must return a hypothesis strategy of examples")

    def hypotheses(self, example, **options) -> list[str]:
        return []

    def check(self, example) -> dict | str | None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.check(example) must return None, SKIP or a dict")

    def proof_steps(self) -> list:
        return []

    def example_of(self, instance, **options):
        """The example ``check_instance`` checks (default: the instance itself)."""
        return instance

    # --- the template ---------------------------------------------------------------------------
    def _predicate(self, example):
        from proofs_check.search import SKIP

        if self.hypotheses(example):
            return SKIP
        return self.check(example)

    def check_instance(self, instance, *, seed: int = 0, budget: int = 40, **opts):
        from proofs_check.search import SKIP
        from proofs_check.verdict import Verdict

        c = self.CLAIM
        example = self.example_of(instance, **opts)
        unmet = self.hypotheses(example, **opts) if opts else self.hypotheses(example)
        if unmet:
            return Verdict(c.id, c.title, "hypotheses_not_met", "; ".join(unmet), seed=seed, budget=budget)
        out = self.check(example)
        if out is None:
            return Verdict(c.id, c.title, "holds", "the check passes on this instance", seed=seed, budget=budget)
        if out == SKIP:
            return Verdict(c.id, c.title, "inconclusive", "the check could not decide this instance", seed=seed,
                           budget=budget)
        return Verdict(c.id, c.title, "fails", "the check fails on this instance", {"example": example, **out},
                       seed=seed, budget=budget, numbers=dict(out))

    def search(self, budget: int = 40, seed: int = 0):
        from proofs_check.search import find_counterexample
        from proofs_check.verdict import Verdict

        c = self.CLAIM
        steps = tuple(self.proof_steps())
        bad_steps = [s.name for s in steps if not s.holds]
        result = find_counterexample(self.space(), self._predicate, budget=budget, seed=seed)
        counts = {"tried": result.tried, "met_and_held": result.held, "skipped_or_undecided": result.skipped}
        numbers = {"search": result.summary(), **counts}
        if result.found:
            ce = {"example": result.example, **result.details}
            evidence = f"fails on the minimal example the search found ({result.summary()})"
            return Verdict(c.id, c.title, "fails", evidence, ce, None, steps, numbers, seed, budget)
        if bad_steps:
            return Verdict(c.id, c.title, "fails", f"symbolic steps that do not follow: {bad_steps}", None, None, steps,
                           numbers, seed, budget)
        if result.held == 0:
            return Verdict(c.id, c.title, "inconclusive", f"no drawn example met the hypotheses and was decided "
                           f"({result.summary()}): widen the search space", None, None, steps, numbers, seed, budget)
        evidence = (f"{'all ' + str(len(steps)) + ' symbolic steps follow; ' if steps else ''}{result.summary()}")
        return Verdict(c.id, c.title, "holds", evidence, None, None, steps, numbers, seed, budget)


# ------------------------------------------------------------------------------------------------
# The registry: built-in claim modules by file name, claims of yours by registration or module:Attr
# ------------------------------------------------------------------------------------------------

_REGISTERED: dict[str, Any] = {}
_MODULE_NAME = re.compile(r"^c(\d+)_\w+$")


def builtin_claims() -> dict[str, str]:
    """``{"C1": "proofs_check.c1_loss_approximation", …}``: every ``proofs_check/c<N>_*.py``, in order."""
    import proofs_check

    found = {}
    for info in pkgutil.iter_modules(proofs_check.__path__):
        m = _MODULE_NAME.match(info.name)
        if m:
            found[int(m.group(1))] = f"proofs_check.{info.name}"
    return {f"C{n}": found[n] for n in sorted(found)}


def register_claim(check):
    """Register a claim of yours (a :class:`SearchClaim` subclass or instance) under its ``CLAIM.id``;
    usable as a class decorator."""
    obj = check() if isinstance(check, type) else check
    if not isinstance(obj, ClaimCheck):
        raise SDLInputError(f"{check!r} does not implement the claim contract (proofs_check.claim.ClaimCheck)")
    key = obj.CLAIM.id.upper()
    if key in builtin_claims():
        raise SDLInputError(f"claim id {obj.CLAIM.id!r} is a built-in claim's; choose another id")
    _REGISTERED[key] = obj
    return check


def claim_ids() -> tuple[str, ...]:
    """The built-in claims, then the registered ones."""
    return tuple(builtin_claims()) + tuple(k for k in _REGISTERED if k not in builtin_claims())


def get_claim(name: str) -> ClaimCheck:
    """A claim check by id (``C6``, ``6``, a registered id) or as ``module:Attr`` (a :class:`SearchClaim`
    subclass or instance, or a claim module)."""
    if not isinstance(name, str):
        raise SDLInputError(f"a claim is named by a string such as 'C6' (or 'module:Attr'), got {name!r:.60}")
    text = name.strip()
    if ":" in text:
        from theory.registry import _import

        obj = _import(text, what=f"claim {text!r}")
        obj = obj() if isinstance(obj, type) else obj
        if not isinstance(obj, ClaimCheck):
            raise SDLInputError(f"{text!r} does not implement the claim contract: it needs CLAIM, Options, hypotheses, "
                                "proof_steps, check_instance and search (subclass proofs_check.claim.SearchClaim)")
        return obj
    key = text.upper() if text.upper().startswith("C") or not text.isdigit() else f"C{text}"
    builtin = builtin_claims()
    if key in builtin:
        return importlib.import_module(builtin[key])
    if key in _REGISTERED:
        return _REGISTERED[key]
    raise SDLInputError(f"unknown claim {name!r}; choose from {' '.join(claim_ids())} or name your own as module:Attr")


__all__ = ["Claim", "ClaimCheck", "NoOptions", "SearchClaim", "options", "builtin_claims", "register_claim",
           "claim_ids", "get_claim"]
