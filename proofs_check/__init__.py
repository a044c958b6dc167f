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
from theory import validation as V
from theory.errors import SDLInputError
from theory.instance import Instance

CLAIMS: tuple[str, ...] = tuple(builtin_claims())

DEFAULT_BUDGET = 40
DEFAULT_SEED = 0
# A search draws and checks one example per unit of budget (seconds each for some claims): a larger
# budget is a run that does not end, not a stronger check.
MAX_BUDGET = 100_000
MAX_NEURONS = 10_000  # n_q of a checked construction (C3): beyond it the exact checks take hours
MAX_STEPS = 1_000_000  # gradient steps of C9's experiment


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
    budget = DEFAULT_BUDGET if budget is None else V.positive_int("budget (search examples)", budget, MAX_BUDGET)
    seed = DEFAULT_SEED if seed is None else V.seed("seed", seed)
    if instance is None:
        # a claim may take options for its default search (C10/C11: the bench size)
        search_options = {k: kwargs.pop(k) for k in getattr(claim, "SEARCH_OPTIONS", ()) if k in kwargs}
        if kwargs:
            raise SDLInputError(f"{claim_id}: {sorted(kwargs)} apply to a given instance; pass instance=... too")
        return claim.search(budget=budget, seed=seed, **search_options)
    # most claims check a theory.Instance; a claim may declare what else it checks (C10/C11: a bench size name)
    types = getattr(claim, "INSTANCE_TYPES", (Instance,))
    V.instance_of("instance", instance, types, " or ".join(
        "a theory.Instance" if t is Instance else f"a {t.__name__}" for t in types) + " (or None for the claim's own search)")
    given = {k: v for k, v in options(claim, kwargs).items() if k in kwargs}  # unknown options refused here
    if isinstance(instance, Instance):
        given = _checked_kwargs(instance, given)
    return claim.check_instance(instance, seed=seed, budget=budget, **given)


def _checked_kwargs(instance: Instance, kw: dict) -> dict:
    """The point, pattern and sizes a claim takes, validated once here for every claim (shapes too)."""
    from theory.patterns import as_pattern

    kw = dict(kw)
    W_E = kw.get("W_E")
    if W_E is not None:
        W_E = kw["W_E"] = V.matrix("W_E", W_E, "encoder, n_q × n_p", shape=(None, instance.n_p))
    n_q = None if W_E is None else W_E.shape[0]
    if kw.get("W_D") is not None:
        kw["W_D"] = V.matrix("W_D", kw["W_D"], "decoder, n_r × n_q", shape=(instance.n_r, n_q))
    if kw.get("b_E") is not None:
        if not instance.encoder_bias:
            raise SDLInputError("b_E given but the instance has encoder_bias=False; use instance.replace(encoder_bias=True)")
        if W_E is None:
            raise SDLInputError("b_E given without W_E: the encoder bias belongs to an encoder, pass W_E too")
        kw["b_E"] = V.vector("b_E", kw["b_E"], n_q, "encoder bias, one entry per neuron")
    if kw.get("pattern") is not None:
        kw["pattern"] = as_pattern(kw["pattern"], instance, n_q)
    if kw.get("n_q") is not None:
        kw["n_q"] = V.positive_int("n_q (the number of neurons)", kw["n_q"], MAX_NEURONS)
    if kw.get("encoder_scale") is not None:
        kw["encoder_scale"] = V.finite_float("encoder_scale", kw["encoder_scale"], 0, 1e6, lo_open=True)
    if kw.get("steps") is not None:
        kw["steps"] = V.positive_int("steps (gradient steps)", kw["steps"], MAX_STEPS)
    return kw


__all__ = ["CLAIMS", "check", "claim_module", "claim_ids", "get_claim", "register_claim", "Verdict", "StepCheck",
           "CorrectedCondition", "STATUSES"]
