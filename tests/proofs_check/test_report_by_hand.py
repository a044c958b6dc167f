"""proofs_check.report by hand: every line of a small report.md, the console table's layout, one-line
counterexamples, the figure as matplotlib drew it, and the paths and table1.md that write_report returns.
Each expected string is written out here from the documented layout, not taken from the code under test."""
import json

import numpy as np
import pytest

import proofs_check.report as rep
from proofs_check.report import ClaimOutcome, counterexample_summary, markdown, report_json, table, write_report
from proofs_check.verdict import CorrectedCondition, Reading, StepCheck, Verdict


# --- _first_sentence and counterexample_summary ------------------------------------------------------------------


def test_first_sentence_collapses_whitespace_and_cuts_at_the_first_full_stop():
    fs = rep._first_sentence
    assert fs("  one\n two.  three four. ", 40) == "one two."          # ". " at 8 < 40: cut after the stop
    assert fs("one two. three", 8) == "one two."   # ". " at 7 < 8: text[:8] = "one two." fits the 8 characters
    assert fs("alpha beta gamma delta", 14) == "alpha beta …"   # no ". ": shortened at a word, placeholder " …"
    assert fs(12345, 10) == "12345"                               # anything printable


def test_first_sentence_at_the_limit():
    fs = rep._first_sentence
    # ". " at 6 is not < limit 6: no sentence cut; the whole text (14 chars) is longer than 6, so it is shortened
    assert fs("abc de. fgh ij", 6) == "abc …"
    assert fs("abc de. fgh ij", 7) == "abc de."


def test_counterexample_summary_of_an_instance_record_field_by_field():
    ce = {"instance": {"activation": {"name": "jumprelu", "theta": 0.5, "k": None},
                       "W_p": [[1.0, 0.0, 0.6], [0.0, 1.0, 0.8]], "encoder_bias": True, "W_r": [[1.0]]},
          "loss": 0.123456789, "n_q": 3, "flag": True, "name": "x", "bound": np.float64(2.0)}
    # activation with its non-None parameters; n = columns of W_p (3), n_p = rows (2); bias; transcoder;
    # then numbers in order: floats as .4g, ints as they are; bools and strings skipped
    assert counterexample_summary(ce) == "jumprelu(theta=0.5); n=3, n_p=2; bias; transcoder; loss=0.1235; n_q=3; bound=2"


def test_counterexample_summary_without_parameters_and_with_a_top_level_activation():
    assert counterexample_summary({"instance": {"activation": {"name": "relu"}, "W_p": [[1.0]]}}) == "relu; n=1, n_p=1"
    assert counterexample_summary({"activation": "TopK(k=2)", "gap": 0.5}) == "TopK(k=2); gap=0.5"


def test_counterexample_summary_stops_at_seven_parts():
    ce = {f"v{i}": i for i in range(10)}
    assert counterexample_summary(ce) == "v0=0; v1=1; v2=2; v3=3; v4=4; v5=5; v6=6"
    ce = {"activation": "relu"} | {f"v{i}": float(i) + 0.5 for i in range(10)}
    assert counterexample_summary(ce) == "relu; v0=0.5; v1=1.5; v2=2.5; v3=3.5; v4=4.5; v5=5.5"


def test_counterexample_summary_without_numbers_falls_back_to_the_json():
    assert counterexample_summary({"why": "text only"}) == '{"why": "text only"}'
    assert counterexample_summary({}) == "—"
    long = {"why": "w " * 100}
    out = counterexample_summary(long)
    assert out.endswith(" …") and len(out) <= 120 and out.startswith('{"why": "w w')


# --- the console table ---------------------------------------------------------------------------------------------


def _v(status="holds", evidence="all good. More.", **kw):
    return Verdict("C5", "Example", status, evidence, **kw)


def test_table_header_and_rows_exactly():
    cc = CorrectedCondition("use θ < 1", None, True, "", counts={"met": 2, "held": 2})
    outs = [ClaimOutcome("C5", _v(), None, "", ""),
            ClaimOutcome("C10", _v("fails", "bad. More.", counterexample={"summary": "see x"}, corrected_condition=cc)),
            ClaimOutcome("C9", None, "ImportError: gone")]
    text = table(outs, {"C5": 1.25, "C10": 0.04}, width=16)
    lines = text.splitlines()
    # widths: claim max(5, len("C10") = 3) = 5, verdict 18, three text columns 16, time 7; " | " between
    head = ["claim", "verdict", "evidence", "counterexample", "corrected condition", "time"]
    wd = [5, 18, 16, 16, 16, 7]
    sep = "-+-".join("-" * w for w in wd)
    assert lines[0] == " | ".join(h.ljust(w) for h, w in zip(head, wd))
    assert lines[1] == sep
    row = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, wd))  # noqa: E731
    assert lines[2] == row(["C5", "holds", "all good.", "—", "—", "1.2s"])          # 1.25 → "1.2" (round half even)
    assert lines[3] == sep
    # the corrected condition "[NOT verified, sufficient; met 2 (n > n_p: 0), held 2, …] use θ < 1" (2 met: too few
    # to verify, so NOT verified) is first cut to 3·16 = 48 characters, "[NOT verified, sufficient; met 2 (n > n_p: 0), …",
    # then wrapped at 16 characters, at most 3 lines: the third line "2 (n > n_p: 0)," has no room for " …", so it
    # drops its last word
    assert lines[4] == row(["C10", "fails", "bad.", "see x", "[NOT verified,", "0.0s"])   # 0.04 s → "0.0s"
    assert lines[5] == row(["", "", "", "", "sufficient; met", ""])
    assert lines[6] == row(["", "", "", "", "2 (n > n_p: …", ""])
    assert lines[7] == sep
    assert lines[8] == row(["C9", "error", "ImportError:", "—", "—", "0.0s"])
    assert lines[9] == row(["", "", "gone", "", "", ""])
    assert lines[10] == sep and len(lines) == 11


def test_table_width_from_columns_and_long_claim_names():
    outs = [ClaimOutcome("mypkg.claims:Mine", _v())]
    text = table(outs, columns=100)
    # fixed: claim 17, verdict 18; used = 35 + 3·4 = 47; width = (100 − 47) // 3 = 17
    wd = [17, 18, 17, 17, 17]
    assert text.splitlines()[1] == "-+-".join("-" * w for w in wd)
    assert len(text.splitlines()[0]) == 17 + 18 + 17 + 17 + len("corrected condition") + 3 * 4  # a title is never cut
    narrow = table(outs, columns=40)   # (40 − 47) // 3 < 16: the text columns stay 16 wide
    assert narrow.splitlines()[1] == "-+-".join("-" * w for w in [17, 18, 16, 16, 16])
    assert table([], width=20).splitlines() == [" | ".join(c.ljust(w) for c, w in zip(
        ["claim", "verdict", "evidence", "counterexample", "corrected condition"], [5, 18, 20, 20, 20])),
        "-+-".join("-" * w for w in [5, 18, 20, 20, 20])]


def test_table_shows_each_reading():
    v = _v("fails", "x.", readings=(Reading("weak", "w", "holds", "e"), Reading("strong", "s", "fails", "f")))
    line = table([ClaimOutcome("C5", v)], width=16).splitlines()[2]
    assert line.split(" | ")[1] == "weak holds; strong"   # 18 wide: "weak holds; strong fails" wraps
    assert ClaimOutcome("C5", v).status_line == "weak holds; strong fails"


# --- report.md -----------------------------------------------------------------------------------------------------


def _md_outcomes():
    cc = CorrectedCondition("θ < 1 | small", "theta < 1", False, "searched 3", kind="necessary",
                            counts={"met": 3, "held": 3, "skipped": 1, "undecided": 0, "superposition_met": 2})
    steps = (StepCheck("a", "x = x", True),
             StepCheck("b", "y | z", False, "r_1", None, "a note"),
             StepCheck("c", "w", False, "q", {"q": 2}),
             StepCheck("d", "v", False, "p"))
    fig = {"title": "t", "x": [1, 2], "series": {"s": [1, 2]}, "caption": "look here"}
    fails = Verdict("C3", "Construction", "fails", "L̃ = 2 > 1. Second sentence.",
                    counterexample={"summary": "jumprelu breaks it"}, corrected_condition=cc, steps=steps,
                    numbers={"figure": fig, "families_searched": {"default_space": ["relu", "topk"], "apart": ["gated"],
                                                                 "not_searched": {"batchtopk": "no σ"}}})
    read = Verdict("C7", "Absorption", "fails", "e7\nnext", numbers={"families_searched": ["relu", "jumprelu"]},
                   readings=(Reading("weak", "W holds.", "holds", "ok"), Reading("strong", "S fails.", "fails", "bad", "n ≥ 3")))
    return [ClaimOutcome("C3", fails, None, "The construction is small.", "Thm 3.3"),
            ClaimOutcome("C7", read, None, "", "", ref="pkg.mod:C7x"),
            ClaimOutcome("C9", None, "boom | x", "", "")]


def test_markdown_every_line_by_hand():
    md = markdown(_md_outcomes(), seed=4, budget=7, figures={"C3": "figures/C3.png"}, families=("relu", "topk"))
    lines = md.split("\n")
    assert lines[:6] == [
        "# sdl-theory verify: report", "",
        "Claims checked: C3, C7, C9. Search budget 7 examples per search, seed 4, activation families searched: "
        "relu, topk only (rerun `sdl-theory verify C3 pkg.mod:C7x C9 --activation relu --activation topk --budget 7 "
        "--seed 4` to reproduce this file).", "",
        "Summary: 1 error, 2 fails.", ""]
    assert lines[6:9] == ["## How to read this report", "", rep.PREAMBLE.split("\n")[0]]
    body = md[md.index("## Summary table"):].split("\n")
    assert body == [
        "## Summary table", "",
        "| claim | paper | verdict | in one line |", "|---|---|---|---|",
        "| C3 | Thm 3.3 | **fails** | L̃ = 2 > 1. |",
        "| C7 |  | **weak holds; strong fails** | e7 next |",
        "| C9 |  | **error** | boom \\| x |", "",
        "## C3: Construction (Thm 3.3)", "",
        "**The claim, in plain words.** The construction is small.", "",
        "**Verdict: fails.**", "",
        "**Evidence.** L̃ = 2 > 1. Second sentence.", "",
        "**Activation families searched.** relu, topk; gated; batchtopk not searched: no σ.", "",
        "**Counterexample.** jumprelu breaks it (full numbers in report.json)", "",
        "**Corrected condition** (NOT verified, necessary; met 3 (n > n_p: 2), held 3, skipped 1, undecided 0). "
        "θ < 1 | small", "",
        "In symbols: `theta < 1`", "",
        "How it was checked: searched 3", "",
        "**Steps of the published argument, checked symbolically.**", "",
        "| step | follows | residual / note |", "|---|---|---|",
        "| a: x = x | yes |  |",
        "| b: y \\| z | **no** | residual `r_1`; a note |",
        '| c: w | **no** | residual `q` ≠ 0 at {"q": 2} |',
        "| d: v | **no** | residual `p` |", "",
        "![C3](figures/C3.png)", "",
        "*Figure: look here*", "",
        "## C7: Absorption", "",
        "**Verdict: fails.**", "",
        "**Weak reading: holds.** W holds. — ok", "",
        "**Strong reading: fails.** S fails. — bad Scope of the failure: n ≥ 3", "",
        "**Evidence.** e7", "next", "",   # the section keeps the evidence's own line break
        "**Activation families searched.** relu, jumprelu.", "",
        "## C9: (could not run)", "",
        "**Verdict: error.**", "",
        "The check raised an error (a bug in the check or a missing module, not a verdict on the claim):", "",
        "```", "boom | x", "```", ""]


def test_markdown_without_families_a_figure_not_drawn_and_no_caption():
    v = Verdict("C5", "Example", "holds", "ok.", numbers={"figure": {"x": [1], "series": {}}})
    md = markdown([ClaimOutcome("C5", v)], seed=0, budget=3, figures={"C5": "f.png"})
    assert ("Claims checked: C5. Search budget 3 examples per search, seed 0 (rerun `sdl-theory verify C5 --budget 3 "
            "--seed 0` to reproduce this file).") in md.split("\n")
    assert md.endswith("**Evidence.** ok.\n\n![C5](f.png)\n")   # no caption line, one final newline
    md2 = markdown([ClaimOutcome("C5", v)], seed=0, budget=3, figures={})
    assert md2.endswith("**Evidence.** ok.\n") and "![" not in md2


# --- report.json ---------------------------------------------------------------------------------------------------


def test_report_json_payload_by_hand():
    o = [ClaimOutcome("C9", None, "boom", "st", "ref 1", ref="m:A")]
    assert json.loads(report_json(o, seed=2, budget=3)) == {
        "tool": "sdl-theory verify", "seed": 2, "budget": 3,
        "claims": [{"claim": "C9", "status": "error", "statement": "st", "paper_ref": "ref 1", "ref": "m:A", "error": "boom"}]}
    assert json.loads(report_json([], seed=0, budget=1, families=("relu",)))["activation_families"] == ["relu"]
    v = Verdict("C5", "t", "holds", "e", numbers={"x": float("nan")})
    data = json.loads(report_json([ClaimOutcome("C5", v)], seed=0, budget=1))["claims"][0]
    assert data["status"] == "holds" and data["numbers"] == {"x": "nan"} and "ref" not in data and "error" not in data


# --- figures -------------------------------------------------------------------------------------------------------


def _drawn(monkeypatch, spec):
    """draw_figure's figure as matplotlib holds it when it is saved (read before the figure is closed)."""
    seen = {}

    def spy(path, fig):
        ax = fig.axes[0]
        leg = ax.get_legend()
        seen.update(path=path, title=ax.get_title(), title_size=ax.title.get_fontsize(), xlabel=ax.get_xlabel(),
                    ylabel=ax.get_ylabel(), xscale=ax.get_xscale(), yscale=ax.get_yscale(),
                    labels=[t.get_text() for t in leg.get_texts()], sizes=[t.get_fontsize() for t in leg.get_texts()],
                    lines=[(tuple(ln.get_xdata()), tuple(ln.get_ydata()), ln.get_linestyle(), ln.get_marker(),
                            ln.get_markersize(), ln.get_linewidth()) for ln in ax.get_lines()],
                    size=tuple(fig.get_size_inches()), dpi=fig.dpi, grid=ax.xaxis._major_tick_kw.get("gridOn"))

    monkeypatch.setattr(rep, "save_figure_atomic", spy)
    rep.draw_figure(spec, "where.png")
    return seen


def test_draw_figure_draws_what_the_spec_says(monkeypatch):
    spec = {"title": "T", "xlabel": "X", "ylabel": "Y", "x": [1, 2, 3], "logx": True, "logy": True,
            "series": {"a": [1, 2, 3], "b": [3, 2, 1], "c": {"x": [1, 3], "y": [5, 6]}, "d": [1, 1, 1], "e": [2, 2, 2]}}
    s = _drawn(monkeypatch, spec)
    assert s["path"] == "where.png"
    assert (s["title"], s["xlabel"], s["ylabel"], s["xscale"], s["yscale"]) == ("T", "X", "Y", "log", "log")
    assert s["title_size"] == 10
    assert s["labels"] == ["a", "b", "c", "d", "e"] and s["sizes"] == [8, 8, 8, 8, 8]
    # styles cycle: (-, o), (--, s), (:, ^), (-., x), then (-, o) again; markers 4, lines 1.6 wide
    assert s["lines"] == [((1, 2, 3), (1, 2, 3), "-", "o", 4, 1.6), ((1, 2, 3), (3, 2, 1), "--", "s", 4, 1.6),
                          ((1, 3), (5, 6), ":", "^", 4, 1.6), ((1, 2, 3), (1, 1, 1), "-.", "x", 4, 1.6),
                          ((1, 2, 3), (2, 2, 2), "-", "o", 4, 1.6)]
    assert s["size"] == (5.5, 3.8) and s["dpi"] == 100 and s["grid"] is True


def test_draw_figure_defaults_linear_axes_and_empty_labels(monkeypatch):
    s = _drawn(monkeypatch, {"x": [0, 1], "series": {"only": [1, 0]}})
    assert (s["title"], s["xlabel"], s["ylabel"], s["xscale"], s["yscale"]) == ("", "", "", "linear", "linear")
    assert s["labels"] == ["only"] and s["sizes"] == [8]


# --- write_report --------------------------------------------------------------------------------------------------


def test_write_report_returns_the_paths_it_wrote(tmp_path):
    v = Verdict("C5", "t", "holds", "e.", numbers={"figure": {"x": [1, 2], "series": {"s": [1, 2]}}})
    out = tmp_path / "deep" / "r"
    paths = write_report(out, [ClaimOutcome("C5", v), ClaimOutcome("C9", None, "x")], seed=1, budget=2)
    assert paths == {"json": str(out / "report.json"), "markdown": str(out / "report.md"),
                     "figures": [str(out / "figures" / "C5.png")]}
    assert (out / "report.md").read_text().startswith("# sdl-theory verify: report\n")
    assert json.loads((out / "report.json").read_text())["seed"] == 1
    assert (out / "figures" / "C5.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![C5](figures/C5.png)" in (out / "report.md").read_text()


def test_write_report_without_figures_and_with_a_broken_one(tmp_path, capsys):
    v = Verdict("C5", "t", "holds", "e.", numbers={"figure": {"x": [1, 2], "series": {"s": [1, 2]}}})
    p = write_report(tmp_path / "a", [ClaimOutcome("C5", v)], seed=0, budget=1, figures=False)
    assert p["figures"] == [] and not (tmp_path / "a" / "figures").exists()
    assert "![" not in (tmp_path / "a" / "report.md").read_text()
    broken = Verdict("C6", "t", "holds", "e.", numbers={"figure": {"series": {"s": [1]}}})   # no "x"
    p = write_report(tmp_path / "b", [ClaimOutcome("C6", broken)], seed=0, budget=1)
    assert p["figures"] == [] and "table1" not in p
    assert capsys.readouterr().out == "warning: figure for C6 not drawn: 'x'\n"
    assert "![" not in (tmp_path / "b" / "report.md").read_text()


def test_write_report_hands_c10_and_c11_numbers_to_table1(tmp_path, monkeypatch):
    import proofs_check.table1 as t1

    seen = []
    monkeypatch.setattr(t1, "table1_markdown", lambda c10, c11: seen.append((c10, c11)) or "TABLE\n")
    c10 = Verdict("C10", "t", "holds", "e.", numbers={"methods": {"relu": 1}, "size": "tiny"})
    c11 = Verdict("C11", "t", "holds", "e.", numbers={"comparisons": {"relu": 2}})
    p = write_report(tmp_path, [ClaimOutcome("C10", c10), ClaimOutcome("C11", c11)], seed=0, budget=1)
    assert seen == [({"methods": {"relu": 1}, "size": "tiny"}, {"comparisons": {"relu": 2}})]
    assert p["table1"] == str(tmp_path / "table1.md") and (tmp_path / "table1.md").read_text() == "TABLE\n"
    seen.clear()
    write_report(tmp_path / "b", [ClaimOutcome("C10", c10)], seed=0, budget=1)
    assert seen == [({"methods": {"relu": 1}, "size": "tiny"}, None)]
    seen.clear()   # C10 without methods, or C10 not run: no table1.md
    p = write_report(tmp_path / "c", [ClaimOutcome("C10", Verdict("C10", "t", "holds", "e.")), ClaimOutcome("C11", c11)],
                     seed=0, budget=1)
    assert seen == [] and "table1" not in p and not (tmp_path / "c" / "table1.md").exists()
    p = write_report(tmp_path / "d", [ClaimOutcome("C10", None, "broken"), ClaimOutcome("C11", c11)], seed=0, budget=1)
    assert seen == [] and "table1" not in p


@pytest.mark.parametrize("status", ["holds", "fails"])
def test_claim_outcome_json_puts_the_status_last_over_the_verdicts(status):
    v = Verdict("C5", "t", status, "e.")
    j = ClaimOutcome("C5", v, None, "st", "p").to_json()
    assert j["status"] == status and j["statement"] == "st" and j["paper_ref"] == "p" and j["title"] == "t"
    assert "ref" not in j and "error" not in j and j["evidence"] == "e." and j["claim"] == "C5"


def test_counterexample_summary_json_fallback_is_cut_at_120_characters():
    # json.dumps gives '{"why": "' + 108 a's + ' b' + ' cc'·10: the words '{"why":' (7) and '"aaa…' (109) take 117
    # characters; with " b" (119) the placeholder " …" would end at 121 > 120, so " b" is dropped
    ce = {"why": "a" * 108 + " b" + " cc" * 10}
    assert counterexample_summary(ce) == '{"why": "' + "a" * 108 + " …"
