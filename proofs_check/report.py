"""The verification report: a console table, ``report.md``, ``report.json`` and figures.

Input is one :class:`ClaimOutcome` per claim: a :class:`~proofs_check.verdict.Verdict`, or an error
(a claim module missing or raising) so that one broken claim never loses the others' results.
Everything written is a function of the outcomes alone (no timings, no dates), so the same seed and
budget give byte-identical ``report.json`` and ``report.md``; timings appear only on the console.

A claim may put a figure into ``verdict.numbers["figure"]``::

    {"title": ..., "xlabel": ..., "ylabel": ..., "x": [...], "series": {label: [...] or {"x": [...], "y": [...]}},
     "logx": bool, "logy": bool, "caption": "what the reader should see"}

and the report draws it (matplotlib, Agg backend) as ``figures/<claim>.png``.
"""
from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

from numerics.io import dumps, save_figure_atomic, write_text_atomic
from proofs_check.search import describe_families
from proofs_check.verdict import Verdict, to_jsonable

# What a reader who has not seen the paper needs before the claims (kept short).
PREAMBLE = """\
A *sparse dictionary* model (sparse autoencoder, transcoder) reads a representation `x_p = W_p x` of n
hidden **features** `x` (the columns of `W_p` are the feature directions), encodes it with `W_E` and a
sparse activation σ (ReLU, JumpReLU, TopK, …), and decodes a reconstruction of the target
`x_r = W_r x` with `W_D`. Its loss is the expected squared error **L**. When features are rarely
active, the paper replaces L by **L̃**, the weighted error on inputs where exactly one feature is
on (at unit size); the weight of feature d is `M_d`. Which neurons each single feature switches on is
the **activation pattern**; the set of encoders with one pattern is its **region**, inside which L̃
is a polynomial. `M` (or "interference") is the largest inner product between two feature directions.

Each claim below is restated in plain words, then checked by this toolkit: every algebraic step of
the published argument with sympy, exact or numeric computations on instances, and an adversarial
search over the claim's hypotheses (every activation family, with and without bias, unequal feature
weights, non-orthogonal and negatively interfering features, more features than dimensions,
transcoders). A failing claim comes with the smallest counterexample the search found and, where
the toolkit can state one, a corrected condition that was itself checked by the same search.

Verdicts: **holds** (no counterexample; the symbolic steps follow), **fails** (a counterexample),
**hypotheses_not_met** (the instance is outside the claim's assumptions), **inconclusive** (the
computation could not decide), **error** (the check itself crashed or is missing: a bug, not a verdict).
"""


@dataclass(frozen=True)
class ClaimOutcome:
    """One row of the report: a verdict, or an error message for a claim that could not run."""

    claim: str
    verdict: Verdict | None = None
    error: str | None = None
    statement: str = ""
    paper_ref: str = ""
    ref: str = ""  # ``module:Attr`` of a claim of yours (how verify names it), "" for a built-in claim

    @property
    def status(self) -> str:
        return "error" if self.verdict is None else self.verdict.status

    @property
    def status_line(self) -> str:
        """The verdict, or one verdict per reading (``weak holds; strong fails``) when the claim has readings."""
        if self.verdict is None or not self.verdict.readings:
            return self.status
        return "; ".join(f"{r.name} {r.status}" for r in self.verdict.readings)

    def to_json(self) -> dict:
        base = {"claim": self.claim, "status": self.status, "statement": self.statement, "paper_ref": self.paper_ref,
                **({"ref": self.ref} if self.ref else {})}
        if self.verdict is None:
            return base | {"error": self.error}
        return base | self.verdict.to_json() | {"status": self.status}


# --- plain-text pieces ---------------------------------------------------------------------------


def _first_sentence(text: str, limit: int) -> str:
    """The first sentence of ``text``, cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(str(text).split())
    cut = text.find(". ")
    if 0 < cut < limit:
        text = text[: cut + 1]
    return text if len(text) <= limit else textwrap.shorten(text, width=limit, placeholder=" …")


def counterexample_summary(ce) -> str:
    """One line for a counterexample dict: the activation, sizes and the numbers that break the claim."""
    if not ce:
        return "—"
    ce = to_jsonable(ce)
    if isinstance(ce, dict) and isinstance(ce.get("summary"), str):
        return ce["summary"]
    parts = []
    inst = ce.get("instance") if isinstance(ce, dict) else None
    if isinstance(inst, dict):
        act = inst.get("activation")
        if isinstance(act, dict):
            params = ", ".join(f"{k}={v}" for k, v in act.items() if k != "name" and v is not None)
            parts.append(f"{act.get('name')}({params})" if params else str(act.get("name")))
        W_p = inst.get("W_p")
        if isinstance(W_p, list) and W_p and isinstance(W_p[0], list):
            parts.append(f"n={len(W_p[0])}, n_p={len(W_p)}")
        if inst.get("encoder_bias"):
            parts.append("bias")
        if inst.get("W_r") is not None:
            parts.append("transcoder")
    elif isinstance(ce, dict) and "activation" in ce:
        parts.append(str(ce["activation"]))
    if isinstance(ce, dict):
        for key, value in ce.items():
            if key in ("instance", "activation") or not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            parts.append(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}")
            if len(parts) >= 7:
                break
    return "; ".join(parts) if parts else _first_sentence(json.dumps(ce), 120)


def _corrected_text(outcome: ClaimOutcome) -> str:
    cc = None if outcome.verdict is None else outcome.verdict.corrected_condition
    if cc is None:
        return "—"
    return f"[{cc.label()}] {cc.text}"


TABLE_LINES = 3  # lines per cell on the console; report.md has the whole text


def table(outcomes: list[ClaimOutcome], seconds: dict | None = None, width: int | None = None,
          columns: int | None = None) -> str:
    """The console table: claim, verdict, evidence, counterexample, corrected condition, wrapped to fit
    ``columns`` characters (default: the terminal's width) and cut at word boundaries after
    :data:`TABLE_LINES` lines per cell. ``width`` fixes the three text columns' width instead."""
    import shutil

    cols = ["claim", "verdict", "evidence", "counterexample", "corrected condition"]
    fixed = [max(5, *(len(o.claim) for o in outcomes)) if outcomes else 5, 18]
    if seconds:
        cols.append("time")
    if width is None:
        columns = columns or shutil.get_terminal_size((120, 24)).columns
        used = sum(fixed) + (7 if seconds else 0) + 3 * (len(cols) - 1)
        width = max(16, (columns - used) // 3)
    widths = fixed + [width, width, width] + ([7] if seconds else [])
    lines = [" | ".join(c.ljust(w) for c, w in zip(cols, widths)), "-+-".join("-" * w for w in widths)]
    for o in outcomes:
        evidence = o.error if o.verdict is None else o.verdict.evidence
        cells = [o.claim, o.status_line, _first_sentence(evidence, TABLE_LINES * width),
                 counterexample_summary(None if o.verdict is None else o.verdict.counterexample),
                 _first_sentence(_corrected_text(o), TABLE_LINES * width)]
        if seconds:
            cells.append(f"{seconds.get(o.claim, 0.0):.1f}s")
        wrapped = [textwrap.wrap(c, w, max_lines=TABLE_LINES, placeholder=" …") or [""] for c, w in zip(cells, widths)]
        for i in range(max(len(w) for w in wrapped)):
            lines.append(" | ".join((w[i] if i < len(w) else "").ljust(wd) for w, wd in zip(wrapped, widths)))
        lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


# --- report.md -----------------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(outcomes: list[ClaimOutcome], *, seed: int, budget: int, figures: dict[str, str], families=()) -> str:
    counts = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    only = "".join(f" --activation {f}" for f in families)
    out = [
        "# sdl-theory verify: report",
        "",
        f"Claims checked: {', '.join(o.claim for o in outcomes)}. Search budget {budget} examples per search, seed {seed}"
        + (f", activation families searched: {', '.join(families)} only" if families else "")
        + f" (rerun `sdl-theory verify {' '.join(o.ref or o.claim for o in outcomes)}{only} --budget {budget} --seed {seed}` to "
          "reproduce this file).",
        "",
        "Summary: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) + ".",
        "",
        "## How to read this report",
        "",
        PREAMBLE,
        "## Summary table",
        "",
        "| claim | paper | verdict | in one line |",
        "|---|---|---|---|",
    ]
    for o in outcomes:
        line = o.error if o.verdict is None else o.verdict.evidence
        out.append(f"| {o.claim} | {o.paper_ref} | **{o.status_line}** | {_md_escape(_first_sentence(line, 160))} |")
    out.append("")
    for o in outcomes:
        title = o.verdict.title if o.verdict is not None else "(could not run)"
        out += [f"## {o.claim}: {title}" + (f" ({o.paper_ref})" if o.paper_ref else ""), ""]
        if o.statement:
            out += [f"**The claim, in plain words.** {o.statement}", ""]
        out += [f"**Verdict: {o.status}.**", ""]
        if o.verdict is None:
            out += ["The check raised an error (a bug in the check or a missing module, not a verdict on the claim):", "",
                    "```", str(o.error), "```", ""]
            continue
        v = o.verdict
        for r in v.readings:
            out += [f"**{r.name.capitalize()} reading: {r.status}.** {r.statement} — {r.evidence}"
                    + (f" Scope of the failure: {r.scope}" if r.scope else ""), ""]
        out += ["**Evidence.** " + v.evidence, ""]
        fams = (v.numbers or {}).get("families_searched")
        if fams:
            text = describe_families(fams) if isinstance(fams, dict) else ", ".join(map(str, fams))
            out += [f"**Activation families searched.** {text}.", ""]
        if v.counterexample:
            out += ["**Counterexample.** " + counterexample_summary(v.counterexample) + " (full numbers in report.json)", ""]
        if v.corrected_condition is not None:
            cc = v.corrected_condition
            out += [f"**Corrected condition** ({cc.label()}). {cc.text}", ""]
            if cc.sympy:
                out += [f"In symbols: `{cc.sympy}`", ""]
            if cc.evidence:
                out += [f"How it was checked: {cc.evidence}", ""]
        if v.steps:
            out += ["**Steps of the published argument, checked symbolically.**", "", "| step | follows | residual / note |", "|---|---|---|"]
            for s in v.steps:
                note = s.note or ""
                detail = "" if s.holds else f"residual `{_md_escape(_first_sentence(s.residual, 120))}`" + (
                    f" ≠ 0 at {_md_escape(json.dumps(s.numeric_witness))}" if s.numeric_witness else "")
                out.append(f"| {_md_escape(s.name)}: {_md_escape(s.statement)} | {'yes' if s.holds else '**no**'} | "
                           f"{_md_escape('; '.join(x for x in (detail, note) if x))} |")
            out.append("")
        if o.claim in figures:
            fig = v.numbers.get("figure", {})
            out += [f"![{o.claim}]({figures[o.claim]})", ""]
            if fig.get("caption"):
                out += [f"*Figure: {fig['caption']}*", ""]
    return "\n".join(out).rstrip() + "\n"


# --- figures and files ---------------------------------------------------------------------------


def draw_figure(spec: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8), dpi=100)
    x = spec["x"]
    styles = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "x")]  # overlapping series stay visible
    for i, (label, ys) in enumerate(spec["series"].items()):
        line, marker = styles[i % len(styles)]
        xs = x
        if isinstance(ys, dict):   # a series with its own x values ({"x": [...], "y": [...]})
            xs, ys = ys["x"], ys["y"]
        ax.plot(xs, ys, linestyle=line, marker=marker, markersize=4, linewidth=1.6, label=label)
    if spec.get("logx"):
        ax.set_xscale("log")
    if spec.get("logy"):
        ax.set_yscale("log")
    ax.set_xlabel(spec.get("xlabel", ""))
    ax.set_ylabel(spec.get("ylabel", ""))
    ax.set_title(spec.get("title", ""), fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    try:
        save_figure_atomic(path, fig)  # Agg output carries no timestamp: same numbers, same file
    finally:
        plt.close(fig)


def report_json(outcomes: list[ClaimOutcome], *, seed: int, budget: int, families=()) -> str:
    """Strict JSON (numerics.io's one policy: non-finite floats as "nan" / "inf" / "-inf")."""
    payload = {"tool": "sdl-theory verify", "seed": seed, "budget": budget,
               **({"activation_families": list(families)} if families else {}),
               "claims": [o.to_json() for o in outcomes]}
    return dumps(payload)


def write_report(out_dir, outcomes: list[ClaimOutcome], *, seed: int, budget: int, figures: bool = True,
                 families=()) -> dict:
    """Write ``report.json``, ``report.md`` and ``figures/*.png`` into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    drawn: dict[str, str] = {}
    if figures:
        (out / "figures").mkdir(exist_ok=True)
        for o in outcomes:
            spec = None if o.verdict is None else o.verdict.numbers.get("figure")
            if spec:
                try:
                    draw_figure(to_jsonable(spec), out / "figures" / f"{o.claim}.png")
                    drawn[o.claim] = f"figures/{o.claim}.png"
                except Exception as exc:  # a broken figure must not lose the report
                    drawn.pop(o.claim, None)
                    print(f"warning: figure for {o.claim} not drawn: {exc}")
    write_text_atomic(out / "report.json", report_json(outcomes, seed=seed, budget=budget, families=families))
    write_text_atomic(out / "report.md", markdown(outcomes, seed=seed, budget=budget, figures=drawn, families=families))
    paths = {"json": str(out / "report.json"), "markdown": str(out / "report.md"),
             "figures": [str(out / p) for p in drawn.values()]}
    by_id = {o.claim: o.verdict for o in outcomes if o.verdict is not None}
    if by_id.get("C10") is not None and by_id["C10"].numbers.get("methods"):   # the paper's Table 1, as measured
        from proofs_check.table1 import table1_markdown

        c11 = by_id.get("C11")
        write_text_atomic(out / "table1.md", table1_markdown(to_jsonable(by_id["C10"].numbers),
                                                             None if c11 is None else to_jsonable(c11.numbers)))
        paths["table1"] = str(out / "table1.md")
    return paths


__all__ = ["TABLE_LINES", "ClaimOutcome", "table", "markdown", "report_json", "write_report", "counterexample_summary", "draw_figure"]
