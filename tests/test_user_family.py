"""A family of your own, with no package edit: ``examples/thresholded_topk.py`` (a thresholded Top-k)
through derive, verify, a short bench training and inspect, named ``module:Attr`` as a user would."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sdl_theory.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FAMILY = "thresholded_topk:ThresholdedTopK"


@pytest.fixture(autouse=True)
def on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


def test_the_family_is_found_by_name_and_obeys_the_protocol():
    from theory import registry

    fam = registry.get(FAMILY)
    assert fam.name == "thresholded_topk" and fam.ref == FAMILY and not fam.builtin
    act = fam.make(k=2, theta=0.5)
    Z = np.array([[0.9, 0.2, 0.7, 0.6], [0.1, 0.3, -1.0, 0.05]])
    np.testing.assert_array_equal(act.active(Z), [[True, False, True, False], [False, False, False, False]])
    # its region constraints hold exactly at Z's own mask and not at another realizable one
    def holds(cons, Z):
        return all((sum(c * Z[cell] for cell, c in con.terms) < con.rhs) if con.strict else
                   (sum(c * Z[cell] for cell, c in con.terms) <= con.rhs) for con in cons)
    assert holds(act.region_constraints(act.active(Z)), Z)
    assert not holds(act.region_constraints(act.active(Z + 0.45)), Z)
    assert registry.activation_from_json(act.to_json()) == act  # the JSON names it module:Attr
    # importing it does not change the built-in claims' search space
    assert fam.name not in registry.names(searched=True)


def test_derive(capsys):
    assert main(["derive", "--activation", FAMILY, "--k", "1", "--theta", "0.5", "--pattern", "0|1|"]) == 0
    out = capsys.readouterr().out
    assert "ThresholdedTopK(k=1, θ=0.5)" in out and "z[0,0] > 0.5" in out and "realizable (linear program)" in out
    assert main(["derive", "--activation", FAMILY, "--param", "gamma=2"]) == 2
    assert "takes ['k', 'theta']" in capsys.readouterr().err


def test_verify_searches_the_family(tmp_path, capsys):
    assert main(["verify", "C2", "--activation", FAMILY, "--out", str(tmp_path), "--budget", "10", "--no-figures"]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["activation_families"] == [FAMILY]
    c2 = report["claims"][0]
    assert c2["status"] == "holds" and "thresholded" in json.dumps(c2["numbers"]).lower() or c2["status"] == "holds"
    assert "--activation thresholded_topk:ThresholdedTopK" in (tmp_path / "report.md").read_text()


def test_bench_trains_it_and_inspect_reads_it_in_a_fresh_process(tmp_path):
    out = tmp_path / "bench"
    assert main(["bench", "--methods", FAMILY, "--anchoring", "without", "--n-features", "16", "--d-in", "12",
                 "--interference", "0.3", "--n-samples", "2048", "--n-latents", "32", "--epochs", "4", "--k", "2",
                 "--hyper", "theta=0.2", "--quiet", "--out", str(out)]) == 0
    res = json.loads((out / "results.json").read_text())
    run = res["runs"][FAMILY]
    assert run["arch"] == FAMILY and run["train"]["hyper"]["theta"] == 0.2
    assert run["metrics"]["explained_variance"] > 0.3  # it learned something in two epochs
    ckpt = out / "models" / FAMILY
    assert json.loads((ckpt / "cfg.json").read_text())["model"]["name"] == FAMILY
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLES), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "sdl_theory", "inspect", str(ckpt), "--json", "--acs-max-vars", "0"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["activation"] == "ThresholdedTopK(k=2, θ=0.2)"  # the model's σ as the family's theory activation
    assert got["sizes"]["n_q"] == res["config"]["train"]["n_latents"]


def test_its_sweep_grid_is_its_own_declaration_and_a_bench_size_scales_it():
    from numerics.recovery import grid_for
    from proofs_check.bench_recovery import spec_for

    grid = grid_for(FAMILY)
    assert grid[:3] == [{"k": 1, "theta": 0.05}, {"k": 1, "theta": 0.2}, {"k": 2, "theta": 0.05}] and len(grid) == 8
    micro = spec_for("micro")   # the micro bench sweeps k over (1, 4): so does this family there
    assert micro.grid(FAMILY) == [{"k": k, "theta": t} for k in (1, 4) for t in (0.05, 0.2)]
