"""The exact text the toolkit prints and reports, for fixed tiny inputs, against a committed golden file.

Most of what ``sdl-theory derive`` and ``verify`` say is text — region conditions, gradient formulas, proof
steps' statements and notes, verdict evidence, report.md, the console table, the bench protocol — and a
change to it passes every test that asserts only on numbers and statuses (issue 12, part 5: most surviving
mutants were in these strings). This test pins it: the golden file was written once from reviewed output
and is compared, not regenerated, at test time.

When a change of wording (or of a bench setting) is intended, regenerate the file and review its diff:

    SDL_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/proofs_check/test_golden_text.py
    git diff tests/proofs_check/golden_text.json
"""
import difflib
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).with_name("golden_text.json")
REGENERATE = "SDL_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/proofs_check/test_golden_text.py"


# rounding noise (|x| < 1e-12, and the sign of a printed zero) differs between BLAS builds: not text to pin
_NOISE = re.compile(r"-?\d+(?:\.\d+)?e-(?:1[2-9]|[2-9]\d|\d{3})")
_NEG_ZERO = re.compile(r"-0\.(?![0-9])")


def _normal(obj):
    """JSON values with floats at 9 significant digits and rounding noise as 0 (the text is compared exactly
    otherwise; numbers to rounding)."""
    if isinstance(obj, float):
        return (0.0 if abs(obj) < 1e-12 else float(f"{obj:.9g}")) if np.isfinite(obj) else str(obj)
    if isinstance(obj, str):
        return _NEG_ZERO.sub("0.", _NOISE.sub("0", obj))
    if isinstance(obj, dict):
        return {str(k): _normal(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_normal(v) for v in obj]
    return obj


def _derive_part() -> dict:
    from theory.activations import JumpReLU, TopKReLU
    from theory.derivation import derive
    from theory.instance import Instance
    from theory.printing import Point, render, to_json

    out = {}
    for name, d in (("jumprelu_bias", derive(JumpReLU(theta=0.5), encoder_bias=True)),
                    ("topk_relu_pattern", derive(TopKReLU(k=1), pattern=[{0, 1}, {2}]))):
        out[name] = {"text": render(d, "text"), "latex": render(d, "latex")}
    d = derive(instance=Instance(W_p=np.eye(2), weights=[1.0, 2.0]))
    out["relu_instance_point"] = to_json(d, Point(np.array([[1.0, 1.0]])))
    return out


def _claims_part() -> tuple[dict, dict, list]:
    import importlib

    from proofs_check import check
    from theory.activations import JumpReLU, ReLU, TopKReLU
    from theory.instance import Instance

    steps = {}
    for cid, mod in (("C1", "c1_loss_approximation"), ("C2", "c2_biconvexity"), ("C3", "c3_construction"),
                     ("C4", "c4_zero_loss"), ("C5", "c5_example"), ("C6", "c6_spurious_minima"), ("C7", "c7_absorption"),
                     ("C8", "c8_dead_neurons"), ("C9", "c9_resampling")):
        steps[cid] = [s.to_json() for s in importlib.import_module(f"proofs_check.{mod}").proof_steps()]
    eye2 = Instance(W_p=np.eye(2), activation=ReLU())
    verdicts = {
        "C2": check("C2", eye2),
        "C3": check("C3", Instance(W_p=np.eye(2), activation=JumpReLU(theta=0.5))),
        "C4": check("C4", eye2, W_D=np.eye(2), W_E=np.diag([1.0, 0.0])),
        "C5": check("C5"),
        "C7": check("C7", Instance(W_p=np.eye(3)), parents={0: [1, 2]}),
        "C7_topk": check("C7", Instance(W_p=np.eye(3), activation=TopKReLU(k=1)), parents={0: [1, 2]}),
        "C8": check("C8", eye2),
    }
    return steps, verdicts, list(verdicts.items())


def _current() -> dict:
    from proofs_check.bench_recovery import SIZES, spec_for
    from proofs_check.report import ClaimOutcome, markdown, report_json, table

    steps, verdicts, items = _claims_part()
    outcomes = [ClaimOutcome(k, v, None, f"statement of {k}", "ref") for k, v in items]
    outcomes.append(ClaimOutcome("C9", None, "RuntimeError: a claim that crashed (at x.py:1)", "", ""))
    specs = {}
    for size in SIZES:
        s = spec_for(size)
        specs[size] = {k: getattr(s, k) for k in sorted(vars(s))}
    return _normal(json.loads(json.dumps({
        "derive": _derive_part(),
        "proof_steps": steps,
        "verdicts": {k: v.to_json() for k, v in verdicts.items()},
        "report_md": markdown(outcomes, seed=0, budget=5, figures={}),
        "report_json": json.loads(report_json(outcomes, seed=0, budget=5)),
        "table": table(outcomes, width=60),
        "bench_specs": specs,
    }, default=str)))


def _flat(obj, path=""):
    """``{json path: leaf}`` so that a failure names the place that changed."""
    if isinstance(obj, dict):
        return {p: v for k, x in obj.items() for p, v in _flat(x, f"{path}/{k}").items()}
    if isinstance(obj, list):
        return {p: v for i, x in enumerate(obj) for p, v in _flat(x, f"{path}[{i}]").items()}
    return {path: obj}


def test_printed_and_reported_text_is_the_golden_text():
    now = _current()
    if os.environ.get("SDL_REGENERATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(now, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
        pytest.skip(f"regenerated {GOLDEN.name}: review `git diff` before committing")
    golden, got = _flat(json.loads(GOLDEN.read_text())), _flat(now)
    changed = sorted(p for p in set(golden) | set(got) if golden.get(p, "<absent>") != got.get(p, "<absent>"))
    if changed:
        p = changed[0]
        a, b = str(golden.get(p, "<absent>")), str(got.get(p, "<absent>"))
        diff = "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), "golden", "now", lineterm="", n=1))
        pytest.fail(f"{len(changed)} golden values changed, first {p}:\n{diff[:3000]}\n"
                    f"all changed: {changed[:20]}\nIf intended, regenerate: {REGENERATE}")
