"""The exact text the toolkit prints and reports, for fixed tiny inputs, against a committed golden file.

Most of what ``sdl-theory derive`` and ``verify`` say is text — region conditions, gradient formulas, proof
steps' statements and notes, verdict evidence, report.md, the console table, the bench protocol — and a
change to it passes every test that asserts only on numbers and statuses (issue 12, part 5: most surviving
mutants were in these strings). This test pins it: the golden file was written once from reviewed output
and is compared, not regenerated, at test time.

When a change of wording (or of a bench setting) is intended, regenerate the file and review its diff:

    SDL_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest -q -p no:xdist tests/proofs_check/test_golden_text.py
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
REGENERATE = "SDL_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest -q -p no:xdist tests/proofs_check/test_golden_text.py"


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


def _derive(name: str):
    from theory.activations import JumpReLU, TopKReLU
    from theory.derivation import derive
    from theory.instance import Instance
    from theory.printing import Point, render, to_json

    if name == "relu_instance_point":
        return to_json(derive(instance=Instance(W_p=np.eye(2), weights=[1.0, 2.0])), Point(np.array([[1.0, 1.0]])))
    d = {"jumprelu_bias": lambda: derive(JumpReLU(theta=0.5), encoder_bias=True),
         "topk_relu_pattern": lambda: derive(TopKReLU(k=1), pattern=[{0, 1}, {2}])}[name]()
    return {"text": render(d, "text"), "latex": render(d, "latex")}


STEP_MODULES = {"C1": "c1_loss_approximation", "C2": "c2_biconvexity", "C3": "c3_construction", "C4": "c4_zero_loss",
                "C5": "c5_example", "C6": "c6_spurious_minima", "C7": "c7_absorption", "C8": "c8_dead_neurons",
                "C9": "c9_resampling"}


def _steps(cid: str):
    import importlib

    return [s.to_json() for s in importlib.import_module(f"proofs_check.{STEP_MODULES[cid]}").proof_steps()]


def _verdict(key: str):
    """Cheap verdicts on tiny instances (milliseconds each)."""
    from proofs_check import check
    from theory.activations import JumpReLU, ReLU, TopKReLU
    from theory.instance import Instance

    eye2 = Instance(W_p=np.eye(2), activation=ReLU())
    return {"C2": lambda: check("C2", eye2),
            "C3": lambda: check("C3", Instance(W_p=np.eye(2), activation=JumpReLU(theta=0.5))),
            "C4": lambda: check("C4", eye2, W_D=np.eye(2), W_E=np.diag([1.0, 0.0])),
            "C5": lambda: check("C5"),
            "C7": lambda: check("C7", Instance(W_p=np.eye(3)), parents={0: [1, 2]}),
            "C7_topk": lambda: check("C7", Instance(W_p=np.eye(3), activation=TopKReLU(k=1)), parents={0: [1, 2]}),
            "C8": lambda: check("C8", eye2)}[key]()


VERDICTS = ("C2", "C3", "C4", "C5", "C7", "C7_topk", "C8")


def _run(method, setting, dec, enc, l0, converged=True, **extra):
    return {"method": method, "setting": setting, "converged": converged, "steps": 500, "l0": l0,
            "explained_variance": 0.9, "dead_frac": 0.0, "m_gt_decoder": dec, "m_gt_encoder": enc,
            "m_ip_decoder": dec, "m_ip_encoder": enc, **extra}


def _bench_record_verdict(cid: str):
    """C10 / C11's verdict on a hand-made bench record (what the bench would have trained), its experiment
    replaced by the record for the proof steps too; the training code's digest left out (it changes with numerics)."""
    from unittest import mock

    from proofs_check import c10_recovery as c10
    from proofs_check import c11_anchoring as c11

    if cid == "C10":
        relu = [_run("relu_sae", {"l1_coeff": c}, g, 0.8 * g, l0) for c, g, l0 in ((0.01, 0.05, 9.0), (0.1, 0.6, 2.0),
                                                                                 (1.0, 0.02, 0.1))]
        topk = [_run("topk_sae", {"k": k}, d, e, float(k)) for k, d, e in ((1, 0.5, 0.4), (4, 0.9, 0.3))]
        ends = {"dense_end": True, "collapse_end": True, "both": True}
        sweep = lambda runs, sel: {"sweep": runs, "selected": sel, "target_l0": 2.0, "all_converged": True,  # noqa: E731
                                   "ends": ends}
        trend = {"superposition": [_run("topk_sae", {"k": 2}, 0.9, 0.9, 2.0, n_over_n_p=1.0),
                                   _run("topk_sae", {"k": 2}, 0.5, 0.6, 2.0, n_over_n_p=1.5)],
                 "density": [_run("topk_sae", {"k": 2}, 0.8, 0.8, 2.0, p_active=0.05),
                             _run("topk_sae", {"k": 2}, 0.82, 0.81, 2.0, p_active=0.15)]}
        r = {"methods": {"relu_sae": sweep(relu, relu[1]), "topk_sae": sweep(topk, topk[1])}, "trend": trend,
             "spec": {"size": "micro"}, "tau": 0.95,
             "instance": {"reached_interference": {"W_p": 0.28}, "random_baseline": {"gt": {0.95: 0.01}, "mip": 0.12}}}
        with mock.patch.object(c10, "sweeps", lambda size, seed: r):
            v = c10.verdict_from(r, 0, 8, "micro").to_json()
    else:
        def pair(seed, without, with_):
            return {"seed": seed, "without": _run("m", {}, without, without, 2.0),
                    "with": _run("m", {}, with_, with_, 2.0, anchor_cos_min=0.99)}

        r = {"anchor_k": 1, "spec": {"data": {"n_features": 12}},
             "methods": {"relu_sae": {"pairs": [pair(s, 0.3 + 0.01 * s, 0.6 + 0.02 * s) for s in range(3)],
                                      "selected_setting": {"l1_coeff": 0.1}},
                         "topk_sae": {"pairs": [pair(s, 0.0, 0.0) for s in range(3)], "selected_setting": {"k": 2}}}}
        with mock.patch.object(c11, "anchoring", lambda size, seed: r):
            v = c11.verdict_from(r, 0, 8, "micro").to_json()
    v["numbers"].get("provenance", {}).pop("code_digest", None)
    return v


def _report():
    from proofs_check.report import ClaimOutcome, markdown, report_json, table

    outcomes = [ClaimOutcome(k, _verdict(k), None, f"statement of {k}", "ref") for k in VERDICTS]
    outcomes.append(ClaimOutcome("C9", None, "RuntimeError: a claim that crashed (at x.py:1)", "", ""))
    return {"report_md": markdown(outcomes, seed=0, budget=5, figures={}),
            "report_json": json.loads(report_json(outcomes, seed=0, budget=5)), "table": table(outcomes, width=60)}


def _bench_specs():
    from proofs_check.bench_recovery import SIZES, spec_for

    return {size: {k: getattr(spec_for(size), k) for k in sorted(vars(spec_for(size)))} for size in SIZES}


# one test per part (so that a failure names it, and each part can run alone)
PARTS = {**{f"derive-{n}": (lambda n=n: _derive(n)) for n in ("jumprelu_bias", "topk_relu_pattern", "relu_instance_point")},
         **{f"steps-{c}": (lambda c=c: _steps(c)) for c in STEP_MODULES},
         **{f"verdict-{k}": (lambda k=k: _verdict(k).to_json()) for k in VERDICTS},
         **{f"verdict-{c}_record": (lambda c=c: _bench_record_verdict(c)) for c in ("C10", "C11")},
         "report": _report, "bench_specs": _bench_specs}


def _current(part: str):
    return _normal(json.loads(json.dumps(PARTS[part](), default=str)))


def _flat(obj, path=""):
    """``{json path: leaf}`` so that a failure names the place that changed (an empty list or dict is a leaf)."""
    if isinstance(obj, (dict, list)) and not obj:
        return {path: obj}
    if isinstance(obj, dict):
        return {p: v for k, x in obj.items() for p, v in _flat(x, f"{path}/{k}").items()}
    if isinstance(obj, list):
        return {p: v for i, x in enumerate(obj) for p, v in _flat(x, f"{path}[{i}]").items()}
    return {path: obj}


@pytest.mark.parametrize("part", list(PARTS))
def test_printed_and_reported_text_is_the_golden_text(part):
    now = _current(part)
    if os.environ.get("SDL_REGENERATE_GOLDEN"):
        data = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
        data = {k: v for k, v in data.items() if k in PARTS} | {part: now}
        GOLDEN.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
        pytest.skip(f"regenerated {part} in {GOLDEN.name}: review `git diff` before committing")
    golden, got = _flat(json.loads(GOLDEN.read_text()).get(part, "<absent>"), part), _flat(now, part)
    changed = sorted(p for p in set(golden) | set(got) if golden.get(p, "<absent>") != got.get(p, "<absent>"))
    if changed:
        p = changed[0]
        a, b = str(golden.get(p, "<absent>")), str(got.get(p, "<absent>"))
        diff = "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), "golden", "now", lineterm="", n=1))
        pytest.fail(f"{len(changed)} golden values changed, first {p}:\n{diff[:3000]}\n"
                    f"all changed: {changed[:20]}\nIf intended, regenerate: {REGENERATE}")
