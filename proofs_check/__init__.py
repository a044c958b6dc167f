"""Every claim of THEORY.md (C1, C2, …) as an executable, adversarial check with a verdict.

>>> from proofs_check import CLAIMS, check
>>> v = check("C5")            # the claim's own instance / default search
>>> v.status, v.evidence

One module per claim (``proofs_check/c1_loss_approximation.py`` …), all of the shape
:class:`proofs_check.claim.ClaimCheck` describes:

- ``CLAIM``: a :class:`proofs_check.claim.Claim` (id, title, statement, paper reference);
- ``Options``: the typed keyword options of ``check_instance``;
- ``hypotheses(instance, **kw) -> list[str]``: the unmet hypotheses (empty when all hold);
- ``proof_steps() -> list[StepCheck]``: the symbolic check of every algebraic step;
- ``check_instance(instance, **kw) -> Verdict``: exact / numeric checks on one instance;
- ``search(budget, seed) -> Verdict``: the adversarial search over the claim's hypothesis space.

A new module ``c<N>_<name>.py`` is claim C<N> (found by its file name); a claim of your own is a
:class:`proofs_check.claim.SearchClaim` named as ``module:Attr`` (``check("mypkg.claims:MyClaim")``).
"""
from __future__ import annotations

from proofs_check.claim import builtin_claims, claim_ids, get_claim, options, register_claim
from proofs_check.verdict import STATUSES, CorrectedCondition, StepCheck, Verdict
from theory.errors import SDLInputError

CLAIMS: tuple[str, ...] = tuple(builtin_claims())

DEFAULT_BUDGET = 40
DEFAULT_SEED = 0


def claim_module(claim_id: str):
    """The check of one claim: a built-in claim's module, or a claim of yours (see ``get_claim``)."""
    return get_claim(claim_id)


def check(claim_id: str, instance=None, *, budget: int | None = None, seed: int | None = None, **kwargs) -> Verdict:
    """Check one claim (an id such as ``"C6"``, or ``"module:Attr"`` for a claim of yours).

    Without an instance: the claim's default adversarial search (``budget`` examples, ``seed``).
    With an instance: check that instance; the keyword options are the fields of the claim's
    ``Options`` (e.g. ``pattern``, ``parents`` (C7), ``W_D``, ``W_E``, ``b_E``, ``p_active`` (C1)).
    """
    claim = get_claim(claim_id)
    budget = DEFAULT_BUDGET if budget is None else int(budget)
    seed = DEFAULT_SEED if seed is None else int(seed)
    if budget < 1:
        raise SDLInputError(f"budget must be a positive number of search examples, got {budget}")
    if instance is None:
        # a claim may take options for its default search (C10/C11: the bench size)
        search_options = {k: kwargs.pop(k) for k in getattr(claim, "SEARCH_OPTIONS", ()) if k in kwargs}
        if kwargs:
            raise SDLInputError(f"{claim_id}: {sorted(kwargs)} apply to a given instance; pass instance=... too")
        return claim.search(budget=budget, seed=seed, **search_options)
    given = {k: v for k, v in options(claim, kwargs).items() if k in kwargs}  # unknown options refused here
    return claim.check_instance(instance, seed=seed, budget=budget, **given)


__all__ = ["CLAIMS", "check", "claim_module", "claim_ids", "get_claim", "register_claim", "Verdict", "StepCheck",
           "CorrectedCondition", "STATUSES"]
