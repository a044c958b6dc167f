"""proofs_check.check(): what it hands to a claim's search or check_instance, read by a spy standing in for the
claim's own function (issue 12: a claim's search options were never shown to reach its search; the validated
keyword options' names and conversions were not read field by field)."""
import numpy as np
import pytest

import proofs_check
from proofs_check import c3_construction as c3
from proofs_check import c5_example as c5
from proofs_check import c9_resampling as c9
from proofs_check import c10_recovery as c10
from proofs_check import c11_anchoring as c11
from theory.instance import Instance

I2 = Instance(W_p=np.eye(2))


def _spy(calls):
    def fn(*args, **kw):
        calls.append((args, kw))
        return "spied"
    return fn


@pytest.mark.parametrize("mod", [c10, c11])
def test_a_claims_search_options_reach_its_search_with_budget_and_seed(monkeypatch, mod):
    """C10/C11 declare SEARCH_OPTIONS = ("size",): a non-default size given to check() is what their search gets,
    with the budget and seed asked for; without them the defaults 40 and 0 and no size (the search's own default)."""
    calls = []
    monkeypatch.setattr(mod, "search", _spy(calls))
    assert proofs_check.check(mod.CLAIM.id, budget=3, seed=4, size="small") == "spied"
    assert proofs_check.check(mod.CLAIM.id) == "spied"
    assert calls == [((), {"budget": 3, "seed": 4, "size": "small"}), ((), {"budget": 40, "seed": 0})]


def test_a_claim_without_search_options_refuses_them_and_its_search_gets_budget_and_seed(monkeypatch, refuses):
    calls = []
    monkeypatch.setattr(c5, "search", _spy(calls))
    refuses(lambda: proofs_check.check("C5", size="small"), "C5: ['size'] apply to a given instance; pass instance=... too")
    proofs_check.check("C5", budget=7, seed=11)
    assert calls == [((), {"budget": 7, "seed": 11})]


def test_check_instance_gets_only_the_options_given_validated_and_converted(monkeypatch):
    """Only the options passed reach check_instance (not the Options defaults of the others), converted by their
    validators: encoder_scale to a float, steps and n_q to ints, under their own names."""
    calls = []
    monkeypatch.setattr(c9, "check_instance", _spy(calls))
    monkeypatch.setattr(c3, "check_instance", _spy(calls))
    proofs_check.check("C9", I2, encoder_scale=2, steps=np.int64(5), seed=3, budget=9)
    proofs_check.check("C3", I2, n_q=np.int64(4))
    (args9, kw9), (args3, kw3) = calls
    assert args9 == (I2,) and kw9 == {"seed": 3, "budget": 9, "encoder_scale": 2.0, "steps": 5}
    assert type(kw9["encoder_scale"]) is float and type(kw9["steps"]) is int
    assert args3 == (I2,) and kw3 == {"seed": 0, "budget": 40, "n_q": 4} and type(kw3["n_q"]) is int


@pytest.mark.parametrize("W_D, got", [(np.ones((3, 2)), "(3, 2)"), (np.ones((2, 3)), "(2, 3)")])
def test_a_decoder_is_checked_against_the_instance_and_the_encoders_neurons(W_D, got, refuses):
    """W_E is 2 × 2 (two neurons), so W_D must be n_r × n_q = 2 × 2: too many rows or too many columns refused."""
    refuses(lambda: proofs_check.check("C5", I2, W_E=np.eye(2), W_D=W_D),
            f"W_D must have shape 2 × 2 (decoder, n_r × n_q), got {got}")


def test_a_claim_of_several_instance_types_names_each_in_its_refusal(monkeypatch, refuses):
    """INSTANCE_TYPES of two types: the refusal lists both, joined by ' or '."""
    monkeypatch.setattr(c10, "INSTANCE_TYPES", (Instance, str), raising=False)
    refuses(lambda: proofs_check.check("C10", 5),
            "instance must be a theory.Instance or a str (or None for the claim's own search), got 5")
