"""Display helpers shared by the notebooks in ``notebooks/`` (jupytext ``py:percent`` sources paired with
``.ipynb``). Needs IPython (the ``notebooks`` / ``test`` extras); nothing else in the package imports this.
"""
from __future__ import annotations

import io
import os
import textwrap
from pathlib import Path


def setup() -> None:
    """Each notebook's first call, before numpy/torch are imported: one thread (tiny models are fastest that
    way on a shared CPU), matplotlib's non-interactive backend (figures are shown as PNG by
    :func:`show_figure`), short numpy printing, no tqdm notebook-bar warning."""
    import warnings

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    np.set_printoptions(precision=4, suppress=True)
    warnings.filterwarnings("ignore", message="IProgress not found")


def show_figure(fig) -> None:
    """Show a matplotlib figure as a PNG and close it (deterministic, any backend)."""
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="png"))


def say(text, width: int = 110) -> None:
    """Print a long sentence wrapped."""
    print("\n".join(textwrap.wrap(" ".join(str(text).split()), width)))


def show_verdict(v) -> None:
    """A verdict of proofs_check.check: status, evidence, counterexample, corrected condition."""
    from IPython.display import Markdown, display

    from proofs_check.report import counterexample_summary

    display(Markdown(f"**{v.claim} — {v.title}: `{v.status}`** (seed {v.seed}, budget {v.budget})"))
    say("Evidence: " + v.evidence)
    if v.counterexample:
        say("Counterexample: " + counterexample_summary(v.counterexample))
    if v.corrected_condition is not None:
        cc = v.corrected_condition
        say(f"Corrected condition ({'verified by the same search' if cc.verified else 'NOT verified'}): {cc.text}")


def show_steps(steps) -> None:
    """The symbolic proof steps (StepCheck) as a table: does each step of the published argument follow?"""
    from IPython.display import Markdown, display

    rows = ["| step | statement | follows | residual / note |", "|---|---|---|---|"]
    for s in steps:
        extra = "" if s.holds else f"residual `{s.residual}`"
        if s.numeric_witness:
            extra += f" at {s.numeric_witness}"
        note = "; ".join(x for x in (extra, s.note) if x).replace("|", "\\|")
        rows.append(f"| {s.name} | {s.statement.replace('|', chr(92) + '|')} | {'yes' if s.holds else '**no**'} | {note} |")
    display(Markdown("\n".join(rows)))


def show_lines(derivation, section_key, labels=None, point=None) -> None:
    """Display the LaTeX of the lines of one section of theory.printing's layout of a derivation."""
    from IPython.display import Markdown, Math, display

    from theory.printing import sections

    for sec in sections(derivation, point):
        if sec.key != section_key:
            continue
        for line in sec.lines:
            if labels is None or any(lab in line.label for lab in labels):
                display(Markdown(f"*{line.label}*"))
                display(Math(line.latex) if line.latex else Markdown(f"`{line.text}`"))


def repository_root(start: Path | None = None) -> Path:
    start = Path.cwd() if start is None else Path(start)
    return next((p for p in (start, *start.parents) if (p / "pyproject.toml").exists()), start)


def run_study_tiny(name: str, seed: int, **overrides) -> dict:
    """A study at a tiny size (noisy numbers, the machinery only): its config, log, note and figure."""
    import dataclasses
    import importlib

    from IPython.display import Markdown, display

    import studies

    study = studies.get(name)
    display(Markdown(importlib.import_module(studies.STUDIES[name]).__doc__))
    config = dataclasses.replace(study.config(), seed=seed, **overrides)
    config.validate()
    print(config)
    result = study.run(config, log=print)
    say(result["note"])
    show_figure(study.figure(result))
    return result


def show_committed_study(name: str) -> None:
    """The committed full-size result of a study (``results/studies/NAME/``): README and figure."""
    import json

    from IPython.display import Image, Markdown, display

    committed = repository_root() / "results" / "studies" / name
    readme, saved, png = committed / "README.md", committed / f"{name}.json", committed / f"{name}.png"
    if readme.exists():  # the command, seeds, wall time and a table of the result
        display(Markdown(readme.read_text()))
    elif saved.exists():
        full = json.loads(saved.read_text())
        print("command:", full.get("command"))
        say(full["note"])
    else:
        print(f"no committed result in {committed} yet: run `sdl-theory study {name} --out {committed}`")
    if png.exists():
        display(Image(filename=str(png)))
