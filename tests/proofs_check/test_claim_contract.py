"""The claim contract: every built-in claim module implements it, options are typed, and a claim of
your own (``examples/rescaling_claim.py``) gets the same search, shrinking, verdict and report."""
import inspect
import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

import proofs_check
from proofs_check.claim import ClaimCheck, builtin_claims, get_claim, register_claim
from sdl_theory.cli import main
from theory.errors import SDLInputError
from theory.instance import Instance

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("claim_id", list(builtin_claims()))
def test_every_builtin_claim_module_implements_the_contract(claim_id):
    module = get_claim(claim_id)
    assert isinstance(module, ClaimCheck)
    assert module.CLAIM.id == claim_id and module.__name__.split(".")[-1].startswith(claim_id.lower() + "_")
    # the typed options are exactly check_instance's keyword options
    params = inspect.signature(module.check_instance).parameters
    keywords = {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY} - {"seed", "budget"}
    assert {f.name for f in fields(module.Options)} == keywords


def test_claims_are_found_by_file_name_and_unknown_options_refused():
    assert proofs_check.CLAIMS[:9] == tuple(f"C{i}" for i in range(1, 10))
    with pytest.raises(SDLInputError, match="C5 takes"):
        proofs_check.check("C5", Instance(W_p=np.eye(2)), pattern=[{0}])
    with pytest.raises(SDLInputError, match="unknown claim"):
        get_claim("C99")


@pytest.fixture
def user_claims(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import rescaling_claim

    return rescaling_claim


def test_a_user_claim_holds_with_its_counts_and_a_weaker_one_fails_shrunk(user_claims):
    v = proofs_check.check("rescaling_claim:RescalingInvariance", budget=30, seed=0)
    assert v.status == "holds" and v.claim == "R1"
    assert v.numbers["met_and_held"] > 0 and v.numbers["met_and_held"] + v.numbers["skipped_or_undecided"] == 30
    w = proofs_check.check("rescaling_claim:WithoutHomogeneity", budget=30, seed=0)
    assert w.status == "fails"
    ce = w.counterexample
    assert ce["instance"]["activation"]["name"] == "jumprelu" and ce["instance"]["activation"]["theta"] > 0
    assert abs(ce["rescaled_loss"] - ce["loss"]) > 1e-6
    # re-evaluated, the shrunk counterexample reproduces what it claims
    inst, W_D, W_E, c = ce["example"]
    from theory.objective import approx_loss
    assert approx_loss(inst, W_D / c, c * W_E) == pytest.approx(ce["rescaled_loss"])
    # same seed, same verdict
    assert proofs_check.check("rescaling_claim:WithoutHomogeneity", budget=30, seed=0).to_json() == w.to_json()


def test_a_user_claim_runs_through_verify_and_its_report(user_claims, tmp_path, capsys):
    assert main(["verify", "rescaling_claim:RescalingInvariance", "C5", "--out", str(tmp_path), "--budget", "10",
                 "--no-figures"]) == 0
    rows = {c["claim"]: c for c in json.loads((tmp_path / "report.json").read_text())["claims"]}
    assert rows["R1"]["status"] == "holds" and rows["C5"]["status"] == "holds"
    md = (tmp_path / "report.md").read_text()
    assert "## R1: Rescaling a neuron leaves L̃ unchanged" in md
    assert "rerun `sdl-theory verify rescaling_claim:RescalingInvariance C5" in md and rows["R1"]["ref"] == "rescaling_claim:RescalingInvariance"
    register_claim(user_claims.RescalingInvariance)  # registered, it is found by its id too
    assert get_claim("R1").CLAIM.title == user_claims.RescalingInvariance.CLAIM.title
    with pytest.raises(SDLInputError, match="built-in"):
        register_claim(type("Clash", (user_claims.RescalingInvariance,), {"CLAIM": proofs_check.claim_module("C5").CLAIM}))
