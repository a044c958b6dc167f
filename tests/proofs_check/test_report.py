"""proofs_check.report: table, report.md for new readers, report.json, figures, error rows."""
import json

import numpy as np

from proofs_check.report import ClaimOutcome, counterexample_summary, markdown, table, write_report
from proofs_check.verdict import CorrectedCondition, StepCheck, Verdict


def _outcomes():
    holds = Verdict("C5", "Example", "holds", "both gradients vanish. More text.", steps=(StepCheck("s", "a = a", True),))
    fails = Verdict(
        "C3", "Construction", "fails", "L̃ = 2 > bound 1.",
        counterexample={"instance": {"W_p": [[1.0, 0.0], [0.0, 1.0]], "activation": {"name": "jumprelu", "theta": 1.0},
                                     "encoder_bias": False, "W_r": None}, "loss": 2.0, "bound": np.float64(1.0)},
        corrected_condition=CorrectedCondition("θ < 1", "theta < 1", True, "searched 120",
                                               counts={"met": 120, "held": 120, "skipped": 3, "undecided": 0,
                                                       "failed": 0, "superposition_met": 30}),
        steps=(StepCheck("unit kept", "σ keeps 1", False, "r_01", {"r_01": "2"}, "fails for θ ≥ 1"),),
        numbers={"figure": {"title": "t", "xlabel": "x", "ylabel": "y", "x": [1, 2, 3],
                            "series": {"a": [1, 2, 3], "b": np.array([3.0, 2.0, 1.0])}, "caption": "see a and b"}},
        seed=0, budget=5)
    return [
        ClaimOutcome("C3", fails, None, "The construction has small loss.", "Thm 3.3"),
        ClaimOutcome("C5", holds, None, "The example is stationary.", "Example 3.5"),
        ClaimOutcome("C9", None, "ImportError: no module (at x.py:1)", "", ""),
    ]


def test_table_has_every_claim_status_and_error_row():
    text = table(_outcomes(), {"C3": 1.0, "C5": 0.5, "C9": 0.0}, columns=160)
    for token in ("C3", "fails", "C5", "holds", "C9", "error", "ImportError", "[verified, sufficient;", "jumprelu(theta=1.0)"):
        assert token in text
    assert max(len(line) for line in text.splitlines()) <= 160


def test_table_fits_the_terminal_and_cuts_at_word_boundaries(monkeypatch):
    long = Verdict("C4", "t", "fails", "alpha beta gamma " * 40 + "omega.", counterexample={"summary": "x y z " * 30},
                   corrected_condition=CorrectedCondition("delta epsilon " * 40, None, False, ""))
    outcomes = [ClaimOutcome("C4", long, None, "", "")]
    monkeypatch.setenv("COLUMNS", "110")  # what shutil.get_terminal_size reads first
    text = table(outcomes, {"C4": 1.0})
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 110
    words = {"alpha", "beta", "gamma", "omega.", "x", "y", "z", "delta", "epsilon", "…", "[NOT", "verified,", "sufficient;", "no", "search", "counts]"}
    for line in lines[2:]:
        for cell in line.split(" | ")[2:5]:
            assert set(cell.split()) <= words  # every cut is at a word boundary: no piece of a word
    assert "…" in text  # the rest is in report.md


def test_counterexample_summary_prefers_the_claims_own_summary():
    assert counterexample_summary({"summary": "x breaks it", "loss": 1.0}) == "x breaks it"
    assert counterexample_summary(None) == "—"
    assert "loss=2" in counterexample_summary(_outcomes()[0].verdict.counterexample)


def test_markdown_is_readable_without_the_paper():
    md = markdown(_outcomes(), seed=0, budget=5, figures={"C3": "figures/C3.png"})
    assert "How to read this report" in md and "activation pattern" in md
    assert "**The claim, in plain words.** The construction has small loss." in md
    assert "**Verdict: fails.**" in md and "**Verdict: error.**" in md
    assert "(verified, sufficient; met 120" in md and "`theta < 1`" in md
    assert "| unit kept: σ keeps 1 | **no** |" in md and "figures/C3.png" in md and "see a and b" in md


def test_write_report_files_figures_and_determinism(tmp_path):
    a = write_report(tmp_path / "a", _outcomes(), seed=0, budget=5)
    write_report(tmp_path / "b", _outcomes(), seed=0, budget=5)
    data = json.loads((tmp_path / "a" / "report.json").read_text())
    assert [c["claim"] for c in data["claims"]] == ["C3", "C5", "C9"]
    assert [c["status"] for c in data["claims"]] == ["fails", "holds", "error"]
    assert data["claims"][0]["corrected_condition"]["verified"] is True
    assert (tmp_path / "a" / "report.json").read_bytes() == (tmp_path / "b" / "report.json").read_bytes()
    assert (tmp_path / "a" / "report.md").read_bytes() == (tmp_path / "b" / "report.md").read_bytes()
    assert a["figures"] and (tmp_path / "a" / "figures" / "C3.png").read_bytes() == (tmp_path / "b" / "figures" / "C3.png").read_bytes()
    assert not list((tmp_path / "a").glob("*.tmp"))


def test_sets_become_sorted_json_lists():
    from proofs_check.verdict import to_jsonable

    assert to_jsonable({"F": {3, 1, 2}, "G": frozenset({np.int64(5), 4}), "empty": set()}) == \
        {"F": [1, 2, 3], "G": [4, 5], "empty": []}
