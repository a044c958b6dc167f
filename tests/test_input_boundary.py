"""Issue 10's examples, one regression test each: bad input at the public boundary is one
SDLInputError naming the argument, never a raw exception, a hang, a silent misreading or a NaN."""
import json
import os
import time

import numpy as np
import pytest

from proofs_check import check
from sdl_theory.cli import main
from theory import (Constant, FeatureDistribution, Instance, SDLInputError, ActivationPattern, approx_loss,
                    exact_loss, region)
from theory.activations import BatchTopK, JumpReLU, TopK, TopKReLU
from theory import validation as V

EYE2 = np.eye(2)


def _rc(argv):
    """``sdl-theory ARGV``'s exit code (argparse's usage errors exit through SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def _raises(fn, *words):
    """``fn()`` raises SDLInputError whose one-line message contains every word (the argument's name...)."""
    with pytest.raises(SDLInputError) as info:
        fn()
    msg = str(info.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, (w, msg)
    return msg


# --- wrong types ------------------------------------------------------------------------------------
@pytest.mark.parametrize("W_p", ["abc", None, {"a": 1}, [[1.0, "x"], [0.0, 1.0]], [[1.0, 0.0], [0.0]], 3.0,
                                 np.array([[1 + 0j, 0], [0, 1]]), [[True, False], [False, True]]])
def test_wrong_W_p_is_named(W_p):
    _raises(lambda: Instance(W_p=W_p), "W_p")


def test_complex_W_p_is_refused_not_truncated():
    # numpy would silently drop the imaginary part
    _raises(lambda: Instance(W_p=np.eye(2) * (1 + 1e-3j)), "W_p", "complex")


@pytest.mark.parametrize("weights", ["ab", [1.0, None], {1.0, 2.0}, [1.0, float("nan")], [1.0, 1e300], [[1.0, 1.0]]])
def test_wrong_weights_are_named(weights):
    _raises(lambda: Instance(W_p=EYE2, weights=weights), "weights")


@pytest.mark.parametrize("bias", ["no", 0, 1, None, "False"])
def test_encoder_bias_must_be_a_bool(bias):
    # encoder_bias='no' used to be taken as True
    _raises(lambda: Instance(W_p=EYE2, encoder_bias=bias), "encoder_bias", repr(bias))


@pytest.mark.parametrize("k", ["2", 1.5, None, 0, -1, True, float("inf")])
def test_wrong_k(k):
    for cls in (TopK, TopKReLU, BatchTopK):
        _raises(lambda: cls(k=k), "k must be a positive integer")


def test_integral_k_is_read_as_int():
    assert TopK(k=2.0).k == 2 and isinstance(TopK(k=np.int64(3)).k, int)


@pytest.mark.parametrize("theta", ["0.5", None, 1j, float("nan"), float("inf"), -0.1])
def test_wrong_theta(theta):
    _raises(lambda: JumpReLU(theta=theta), "theta")


@pytest.mark.parametrize("budget", ["10", 1.5, 0, -3, 10**22, None.__class__])
def test_wrong_budget(budget):
    _raises(lambda: check("C5", budget=budget), "budget")


@pytest.mark.parametrize("seed", ["x", -1, 0.5, 2**64, [1]])
def test_wrong_seed(seed):
    _raises(lambda: check("C5", seed=seed), "seed")


@pytest.mark.parametrize("inst", ["x", np.eye(2), {"W_p": [[1.0]]}, 3])
def test_check_refuses_a_non_instance(inst):
    _raises(lambda: check("C6", inst), "instance", "theory.Instance")


@pytest.mark.parametrize("claim", [None, 5, ["C1"], "C99"])
def test_unknown_claim(claim):
    _raises(lambda: check(claim), "claim")


# --- non-finite or huge arrays -----------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e300])
def test_non_finite_or_huge_points_are_refused(bad):
    inst = Instance(W_p=EYE2)
    W = np.eye(2)
    W[0, 1] = bad
    _raises(lambda: approx_loss(inst, W, np.eye(2)), "W_D")
    _raises(lambda: approx_loss(inst, np.eye(2), W), "W_E")
    R = region(inst, [{0}, {1}])
    _raises(lambda: R.contains(W), "W_E")
    _raises(lambda: check("C4", inst, W_D=np.eye(2), W_E=W), "W_E")


def test_region_contains_none_and_wrong_shapes():
    R = region(Instance(W_p=EYE2), [{0}, {1}])
    _raises(lambda: R.contains(None), "W_E")
    _raises(lambda: R.contains(np.eye(3)), "W_E", "shape")
    _raises(lambda: R.contains("ab"), "W_E")
    assert R.contains(np.eye(2)) and not R.contains(-np.eye(2))


def test_repr_of_a_wide_instance_does_not_build_the_gram_matrix():
    n = 60_000  # Gram matrix: 29 GB
    W = np.zeros((2, n))
    W[0] = 1.0
    inst = Instance(W_p=W)
    t0 = time.perf_counter()
    text = repr(inst)
    assert time.perf_counter() - t0 < 1.0
    assert f"n={n}" in text and "interference" not in text
    assert "interference=" in repr(Instance(W_p=EYE2))


# --- hangs -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("batch", [0, -1, 0.5, "1"])
def test_exact_loss_monte_carlo_batch_zero_does_not_hang(batch):
    inst = Instance(W_p=EYE2, distribution=FeatureDistribution.uniform(2, 0.3))
    _raises(lambda: exact_loss(inst, EYE2, EYE2, method="monte_carlo", batch=batch), "batch")


def test_exact_loss_other_arguments():
    inst = Instance(W_p=EYE2, distribution=FeatureDistribution.uniform(2, 0.3))
    _raises(lambda: exact_loss(inst, EYE2, EYE2, samples=10**22), "samples")
    _raises(lambda: exact_loss(inst, EYE2, EYE2, samples=1), "samples")
    _raises(lambda: exact_loss(inst, EYE2, EYE2, confidence=float("nan")), "confidence")
    _raises(lambda: exact_loss(inst, EYE2, EYE2, seed=-1), "seed")
    _raises(lambda: exact_loss(inst, EYE2, EYE2, method=None), "method")
    _raises(lambda: exact_loss(inst, EYE2, EYE2, b_D=[np.nan, 0.0]), "b_D")
    _raises(lambda: exact_loss("inst", EYE2, EYE2), "instance")
    assert np.isfinite(exact_loss(inst, EYE2, EYE2, method="monte_carlo", samples=100, batch=7).value)


def test_verify_budget_has_a_bound(capsys):
    t0 = time.perf_counter()
    assert main(["verify", "C5", "--budget", str(10**22), "--no-figures"]) == 2
    err = capsys.readouterr().err
    # refused before any search (a search of that size would never end); generous bound for a loaded runner
    assert time.perf_counter() - t0 < 60 and "--budget" in err and err.count("\n") == 1


# --- silently wrong -------------------------------------------------------------------------------------
@pytest.mark.parametrize("mask", [np.array([[1, 0], [0, 1]]), np.array([[1.0, 0.0], [0.0, 1.0]])])
def test_numeric_0_1_mask_is_not_read_as_indices(mask):
    inst = Instance(W_p=EYE2)
    _raises(lambda: region(inst, mask), "boolean mask")
    _raises(lambda: check("C6", inst, pattern=mask), "boolean mask")
    assert region(inst, mask.astype(bool)).pattern == ActivationPattern.from_sets([{0}, {1}], 2)


@pytest.mark.parametrize("sets", [[{0.5}, set()], [{1.0}, set()], [{True}, set()], ["01", set()], [3, set()]])
def test_float_or_string_indices_are_refused_not_truncated(sets):
    _raises(lambda: ActivationPattern.from_sets(sets, 2), "F_0")
    _raises(lambda: region(Instance(W_p=EYE2), sets), "F_0")


@pytest.mark.parametrize("parents", [{0: "12"}, {0: 12}, {"0": [1, 2]}, {0.0: [1, 2]}, {0: [1.5, 2]}, [0, 1, 2], "0:12"])
def test_parents_are_not_misread(parents):
    # {0: '12'} used to be read as children 1 and 2
    inst = Instance(W_p=np.eye(3))
    _raises(lambda: check("C7", inst, parents=parents), "parent")


def test_parents_given_correctly_still_work():
    v = check("C7", Instance(W_p=np.eye(3)), parents={0: [1, 2]})
    assert v.status in ("holds", "fails")


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_p_active_0_or_1_giving_zero_weights_is_refused(p):
    _raises(lambda: Instance(W_p=EYE2, distribution=FeatureDistribution.uniform(2, p)), "M_d", "p_active")
    _raises(lambda: Instance(W_p=EYE2, distribution=FeatureDistribution(np.array([0.5, p]) if p == 0 else np.array([1.0, 0.3]))),
            "M_d")


def test_a_feature_count_too_large_to_allocate_is_refused_by_name():
    # found by the random fuzz profile: n = 10**22 reached numpy's allocation ("Maximum allowed dimension exceeded")
    for n in (10**22, 10**12, 10**8 + 1):
        _raises(lambda: FeatureDistribution.uniform(n, 0.5), "number of features n", "<= 100000000", str(n))


def test_p_active_0_or_1_refused_in_c1_not_a_nan_bound():
    # check('C1', …, p_active=1) used to say "holds" on a NaN bound
    for p in (0, 1, 1.0, float("nan"), 1.5, "0.1"):
        _raises(lambda: check("C1", Instance(W_p=EYE2), p_active=p), "p_active")
    v = check("C1", Instance(W_p=EYE2), p_active=0.2)
    assert all(np.isfinite(v.numbers[k]) for k in ("gap", "bound_low", "bound_high"))


@pytest.mark.parametrize("flag,value,name", [
    ("--lr", "nan", "lr"), ("--epochs", "inf", "epochs"), ("--interference", "nan", "interference"),
    ("--beta", "nan", "beta"), ("--c-min", "-inf", "c_min"), ("--anchor-frac", "0.99", "anchor_frac"),
    ("--max-steps", "-1", "max_steps"), ("--l1-coeff", "nan", "l1_coeff"), ("--p-active", "0", "p_active"),
    ("--table-tau", "nan", "table_tau"), ("--seed", "-1", "seed"), ("--batch-size", "0", "batch_size"),
])
def test_bench_flags_refused_before_any_work(flag, value, name, tmp_path, capsys):
    out = tmp_path / "o"
    assert _rc(["bench", "--out", str(out), f"{flag}={value}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and (name in err or flag in err) and "Traceback" not in err
    assert not out.exists()  # refused before anything was written


def test_bench_empty_taus_refused_before_training(tmp_path, capsys):
    # `--taus` with no values used to fail after the first run, writing no results
    assert _rc(["bench", "--out", str(tmp_path / "o"), "--taus"]) == 2
    assert "taus" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# --- the CLI: one line, never a traceback ------------------------------------------------------------
def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        main(["verify", "--budget", "x"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--budget" in err


def test_internal_error_prints_one_line_and_saves_the_traceback(monkeypatch, capsys):
    import sdl_theory.commands.verify as verify

    def boom(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(verify, "run", boom)
    assert main(["verify", "C1"]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ZeroDivisionError: a bug" in err
    path = err.split("full traceback in ")[1].split(";")[0]
    text = open(path).read()
    os.unlink(path)
    assert "Traceback" in text and "boom" in text


# --- lost work ---------------------------------------------------------------------------------------------
def _checkpoint(path):
    import torch

    from numerics.io import save_model
    from numerics.models import build_model
    from proofs_check.bridge import save_instance

    m = build_model("relu", 2, 2, bias=False)
    with torch.no_grad():
        m.W_enc.copy_(torch.eye(2))
        m.W_dec.copy_(torch.eye(2))
    save_model(path, m)
    save_instance(path, np.eye(2))
    return path


def test_inspect_unwritable_out_is_refused_before_the_work(tmp_path, capsys):
    ck = _checkpoint(tmp_path / "ck")
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["inspect", str(ck), "--out", str(blocker / "r.json")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and err.count("\n") == 1
    assert main(["inspect", str(ck), "--out", str(tmp_path)]) == 2  # a directory, not a file
    assert _rc(["inspect", str(ck), "--tol", "inf"]) == 2
    assert main(["inspect", str(ck), "--out", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["seed"] == 0


def test_bench_rerun_with_another_config_refuses_then_overwrite(tmp_path, capsys):
    out = tmp_path / "b"
    base = ["bench", "--out", str(out), "--methods", "topk_sae", "--anchoring", "without", "--quiet",
            "--n-features", "8", "--d-in", "8", "--n-latents", "8", "--k", "2", "--n-samples", "256",
            "--batch-size", "64", "--epochs", "1", "--eval-samples", "64", "--no-save-models",
            "--checkpoint-every", "2"]
    assert main(base) == 0
    first = json.loads((out / "results.json").read_text())
    capsys.readouterr()
    # another lr: refused, naming the field; nothing of the old run is touched
    assert main(base + ["--lr", "0.01"]) == 2
    err = capsys.readouterr().err
    assert "different configuration" in err and "train.lr" in err and "--overwrite" in err
    assert json.loads((out / "results.json").read_text()) == first
    # the same configuration continues (its finished checkpoint is the same run)
    assert main(base) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["runs"]["topk_sae"]["metrics"] == first["runs"]["topk_sae"]["metrics"]
    # --overwrite deletes the old outputs and records the new lr with the new model's metrics
    assert main(base + ["--lr", "0.01", "--overwrite"]) == 0
    new = json.loads((out / "results.json").read_text())
    assert new["config"]["train"]["lr"] == 0.01 and new["runs"]["topk_sae"]["train"]["lr"] == 0.01
    assert new["runs"]["topk_sae"]["metrics"] != first["runs"]["topk_sae"]["metrics"]


def test_bench_refuses_a_foreign_non_empty_out(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    assert main(["bench", "--out", str(tmp_path), "--methods", "topk_sae"]) == 2
    assert "no readable results.json" in capsys.readouterr().err


# --- the checkers themselves --------------------------------------------------------------------------
def test_checkers_name_the_argument_what_it_got_and_what_is_allowed():
    assert _raises(lambda: V.finite_float("lr", float("nan"), lo=0, lo_open=True), "lr", "nan", "> 0")
    assert V.finite_float("x", np.float32(0.5), 0, 1) == 0.5
    _raises(lambda: V.finite_float("x", True), "x", "True")
    _raises(lambda: V.integer("n", 2.5), "n", "2.5", "integer")
    assert V.integer("n", 3.0) == 3
    _raises(lambda: V.bool_flag("flag", "no"), "flag", "'no'", "True or False")
    _raises(lambda: V.index_set("F", "12", 3), "F", "'12'")
    assert V.index_set("F", np.array([0, 2]), 3) == frozenset({0, 2})
    _raises(lambda: V.matrix("W", [[1, 2], [3]]), "W")
    _raises(lambda: V.matrix("W", np.ones((2, 2)), shape=(3, None)), "W", "3 × ?")
    _raises(lambda: V.vector("v", [1.0, 2.0], 3), "v", "length 3")
    _raises(lambda: V.one_of("method", "x", ("a", "b")), "method", "'a', 'b'", "'x'")
    _raises(lambda: V.matrix("W", [[10**400]]), "W")
    _raises(lambda: V.bool_mask("mask", [[True]]), "mask", "boolean")
