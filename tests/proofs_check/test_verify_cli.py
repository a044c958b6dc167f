"""`sdl-theory verify`: runs claims, writes the report, same seed → same report.json, errors don't lose results."""
import json
import subprocess
import sys

import proofs_check
from sdl_theory.cli import main


def test_verify_one_claim_writes_report(tmp_path, capsys):
    assert main(["verify", "C5", "--out", str(tmp_path), "--budget", "5", "--seed", "3"]) == 0
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["seed"] == 3 and data["budget"] == 5
    assert data["claims"][0]["claim"] == "C5" and data["claims"][0]["status"] == "holds"
    assert "## C5" in (tmp_path / "report.md").read_text()
    out = capsys.readouterr().out
    assert "C5" in out and "holds" in out and "report.md" in out


def test_same_seed_same_report_json(tmp_path):
    for name in ("a", "b"):
        assert main(["verify", "C3", "C4", "--out", str(tmp_path / name), "--budget", "8", "--seed", "1", "--no-figures"]) == 0
    assert (tmp_path / "a" / "report.json").read_bytes() == (tmp_path / "b" / "report.json").read_bytes()


def test_unknown_claim_is_a_clear_input_error(tmp_path, capsys):
    assert main(["verify", "C42", "--out", str(tmp_path)]) == 2
    assert "unknown claim" in capsys.readouterr().err
    assert not (tmp_path / "report.json").exists()


def test_a_raising_claim_becomes_an_error_row(tmp_path, monkeypatch):
    real = proofs_check.check

    def broken(claim_id, *a, **kw):
        if claim_id == "C3":
            raise RuntimeError("planted crash")
        return real(claim_id, *a, **kw)

    monkeypatch.setattr(proofs_check, "check", broken)
    assert main(["verify", "C3", "C5", "--out", str(tmp_path), "--budget", "5", "--no-figures"]) == 1
    rows = {c["claim"]: c for c in json.loads((tmp_path / "report.json").read_text())["claims"]}
    assert rows["C3"]["status"] == "error" and "planted crash" in rows["C3"]["error"]
    assert rows["C5"]["status"] == "holds"


def test_console_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sdl_theory", "verify", "C5", "--out", str(tmp_path), "--budget", "3"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "report.md").exists() and "holds" in proc.stdout


def test_unwritable_out_dir_is_an_input_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["verify", "C5", "--out", str(blocker / "sub"), "--budget", "2"]) == 2
    assert "cannot write the report" in capsys.readouterr().err
