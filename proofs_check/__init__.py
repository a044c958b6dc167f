"""Every claim C1–C9 of THEORY.md as an executable, adversarial check with a verdict.

>>> from proofs_check import CLAIMS, check
>>> v = check("C5")            # the claim's own instance / default search
>>> v.status, v.evidence

One module per claim (``proofs_check/c1_loss_approximation.py`` …), all of the same shape:

- ``CLAIM``: a :class:`proofs_check.claim.Claim` (id, title, statement, paper reference);
- ``hypotheses(instance, **kw) -> list[str]``: the unmet hypotheses (empty when all hold);
- ``proof_steps() -> list[StepCheck]``: the symbolic check of every algebraic step;
- ``check_instance(instance, **kw) -> Verdict``: exact / numeric checks on one instance;
- ``search(budget, seed) -> Verdict``: the adversarial search over the claim's hypothesis space.
"""
from __future__ import annotations

import importlib

from proofs_check.verdict import STATUSES, CorrectedCondition, StepCheck, Verdict
from theory.errors import SDLInputError

_MODULES = {
    "C1": "c1_loss_approximation",
    "C2": "c2_biconvexity",
    "C3": "c3_construction",
    "C4": "c4_zero_loss",
    "C5": "c5_example",
    "C6": "c6_spurious_minima",
    "C7": "c7_absorption",
    "C8": "c8_dead_neurons",
    "C9": "c9_resampling",
}
CLAIMS: tuple[str, ...] = tuple(_MODULES)

DEFAULT_BUDGET = 40
DEFAULT_SEED = 0


def claim_module(claim_id: str):
    key = str(claim_id).upper()
    if key not in _MODULES:
        raise SDLInputError(f"unknown claim {claim_id!r}; choose one of {', '.join(CLAIMS)}")
    return importlib.import_module(f"proofs_check.{_MODULES[key]}")


def check(claim_id: str, instance=None, *, budget: int | None = None, seed: int | None = None, **kwargs) -> Verdict:
    """Check one claim.

    Without an instance: the claim's default adversarial search (``budget`` examples, ``seed``).
    With an instance: check that instance; extra keyword arguments a claim understands are
    ``pattern``, ``parents`` (C7), ``W_D``, ``W_E``, ``b_E``, ``p_active`` (C1).
    """
    module = claim_module(claim_id)
    budget = DEFAULT_BUDGET if budget is None else int(budget)
    seed = DEFAULT_SEED if seed is None else int(seed)
    if budget < 1:
        raise SDLInputError(f"budget must be a positive number of search examples, got {budget}")
    if instance is None:
        if kwargs:
            raise SDLInputError(f"{claim_id}: {sorted(kwargs)} apply to a given instance; pass instance=... too")
        return module.search(budget=budget, seed=seed)
    return module.check_instance(instance, seed=seed, budget=budget, **kwargs)


__all__ = ["CLAIMS", "check", "claim_module", "Verdict", "StepCheck", "CorrectedCondition", "STATUSES"]
