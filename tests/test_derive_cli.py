"""``sdl-theory derive``: the commands of issue 2's "Done when", asserting on what they print."""
import json

import numpy as np
import pytest

from sdl_theory.cli import main
from theory.instance import Instance


def run(capsys, *argv):
    code = main(["derive", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_relu_prints_on_and_off_conditions(capsys):
    code, out, _ = run(capsys, "--activation", "relu")
    assert code == 0
    assert "<w_E^i, w_p^d> > 0" in out and "<w_E^i, w_p^d> <= 0" in out
    assert "encoder stationarity" in out and "Hessian block EE" in out and "u* = " in out


def test_jumprelu_theta(capsys):
    code, out, _ = run(capsys, "--activation", "jumprelu", "--theta", "0.5")
    assert code == 0
    assert "<w_E^i, w_p^d> > 0.5" in out and "<w_E^i, w_p^d> < 0.5" in out  # strict: the tie z = θ is in no region
    assert "not positively homogeneous" in out


def test_latex_format(capsys):
    code, out, _ = run(capsys, "--format", "latex")
    assert code == 0
    assert r"\frac" in out and r"\sum" in out and r"\begin{align*}" in out


def test_json_format_with_pattern(capsys):
    code, out, _ = run(capsys, "--activation", "topk_relu", "--k", "1", "--pattern", "0,1|2|", "--format", "json")
    assert code == 0
    data = json.loads(out)
    keys = [s["key"] for s in data["sections"]]
    assert keys == ["setting", "region", "matrix_form", "block_form", "pattern", "instance", "point"]
    point = next(s for s in data["sections"] if s["key"] == "point")
    assert next(ln for ln in point["lines"] if ln["label"] == "pattern at this point")["value"] == [[0, 1], [2], []]


def test_instance_file_with_point(capsys, tmp_path):
    inst = Instance(W_p=np.eye(2), weights=[1.0, 2.0])
    path = tmp_path / "inst.json"
    path.write_text(json.dumps({**inst.to_json(), "W_E": [[1.0, 1.0]]}))
    code, out, _ = run(capsys, "--instance", str(path))
    assert code == 0
    assert "== Specialised to the point ==" in out and "least squares" in out
    assert "coef = [-0.2222  0.2222]" in out  # M_d (c_d* − a_d q*) for M = (1, 2), hand-checked in test_derivation


@pytest.mark.parametrize("argv, message", [
    (["--activation", "relu", "--theta", "0.5"], "--theta"),
    (["--activation", "jumprelu", "--theta", "-1"], "theta"),
    (["--activation", "relu", "--k", "2"], "--k applies"),
    (["--activation", "topk", "--k", "0"], "k must be a positive integer"),
    (["--pattern", "0,7|1"], "feature 7 (neuron 0) does not exist"),
    (["--pattern", "0,x"], "is not a feature index"),
    (["--form", "block", "--pattern", "0,1|1,2"], "not a partition"),
    (["--instance", "/nonexistent/inst.json"], "no such file"),
])
def test_bad_input_is_one_clear_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_instance_files(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert run(capsys, "--instance", str(bad))[0] == 2
    point = tmp_path / "point.json"
    inst = Instance(W_p=np.eye(2), weights=[1.0, 1.0])
    point.write_text(json.dumps({**inst.to_json(), "W_E": [[1.0, 1.0]]}))
    code, _, err = run(capsys, "--instance", str(point), "--pattern", "0|1")
    assert code == 2 and "--pattern says" in err
    point.write_text(json.dumps({**inst.to_json(), "W_E": [[1.0, 1.0, 1.0]]}))
    code, _, err = run(capsys, "--instance", str(point))
    assert code == 2 and "W_E" in err


def test_specialised_witness_reproduces_the_pattern(capsys, tmp_path):
    # the instance where Region.find_point's witness sits on a weak boundary (tests/theory/test_patterns.py):
    # derive must specialise at an encoder that really has the requested pattern
    from theory.instance import normalize_columns

    W_p = normalize_columns([[-0.586, 0.928, 0.384, -0.708], [-0.017, -0.348, 0.087, -0.693], [0.81, 0.131, 0.919, 0.137]])
    path = tmp_path / "inst.json"
    path.write_text(json.dumps(Instance(W_p=W_p).to_json()))
    code, out, _ = run(capsys, "--instance", str(path), "--pattern", "", "--format", "json")
    assert code == 0
    point = next(s for s in json.loads(out)["sections"] if s["key"] == "point")
    assert next(ln for ln in point["lines"] if ln["label"] == "pattern at this point")["value"] == [[]]
    assert "strictly inside" in point["lines"][0]["label"]


def test_absorption_family_stationarity_system(capsys):
    code, out, _ = run(capsys, "--absorption", "1", "--lam", "1.0")
    assert code == 0
    assert "dL/dgamma_1 = " in out and "G_11(1/gamma_1)" in out and "dL/dv_1 = " in out
    # the local minima at λ = 1: the partially absorbed one (lowest loss), the fully absorbed one next (and, from
    # the random starts, the dictionary with every latent dead: L locally constant, loss E||x||² = 9)
    mins = [line for line in out.splitlines() if line.startswith("  #")]
    assert len(mins) >= 2
    rate0 = float(mins[0].split(":")[1].split(",")[0])
    assert 0 < rate0 < 0.5 and mins[1].split(":")[1].strip().startswith("1.0000")
    code, out, _ = run(capsys, "--absorption", "2", "--format", "json")
    assert code == 0 and "gamma_2" in json.loads(out)["stationarity"]
    code, _, err = run(capsys, "--absorption", "0")
    assert code == 2 and "--absorption takes the number of children" in err


def test_absorption_bias_and_two_level_stationarity_systems(capsys):
    """--absorption K --bias prints the encoder-bias family's system (region moments J, Q, T, F; a ∂L/∂β per
    bias), --two-level the grandparent → parent → K children family's (W, V, D; a ∂L/∂δ_j per child); both
    together are refused. (Their equations are checked against the exact objectives in the theory tests.)"""
    code, out, _ = run(capsys, "--absorption", "1", "--bias")
    assert code == 0 and "dL/dbeta_0 = " in out and "dL/dbeta_1 = " in out and "J_11(gamma_1" in out
    code, out, _ = run(capsys, "--absorption", "1", "--two-level", "--format", "json")
    st = json.loads(out)["stationarity"]
    assert code == 0 and {"delta_1", "gamma", "a", "e", "v_1"} <= set(st) and "D_011" in out
    code, _, err = run(capsys, "--absorption", "1", "--two-level", "--bias")
    assert code == 2 and "not both" in err
