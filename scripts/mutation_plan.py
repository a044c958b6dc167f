"""Per-mutant test plans for ``scripts/mutation_retest.py --plan`` (issue 12, part 5; never CI).

Used when mutmut's stats pass (the map of which test executes which function: the whole selected suite once,
single-process, under its tracing) cannot be afforded on the shared machine. Each mutant gets, in order: the
golden-text parts (tests/proofs_check/test_golden_text.py) that print its module's text, the test files of its
module (by name, and a few listed by hand), and every selected test file that names the mutated function;
before them, the fast cross-module files ``tests/{theory,proofs_check}/test_mutation_*.py`` (all but the gaps file). A
kill under a plan is a kill; a pass means only that the planned tests pass (a test elsewhere might still
kill it), so a plan measures a lower bound of the kill rate. Run from the repository root after
``mutation_run.py generate``::

    python scripts/mutation_plan.py NAMES.txt PLAN.json
"""
import json, re, sys
from pathlib import Path
T = Path("mutants/tests")
SEL = ("tests/theory/", "tests/proofs_check/", "tests/numerics/test_numerics_metrics.py", "tests/numerics/test_numerics_sparse_paths.py")
files = sorted(f for f in (str(p.relative_to("mutants")) for p in T.rglob("test_*.py")) if f.startswith(SEL))
texts = {f: Path("mutants", f).read_text() for f in files}
OWN = {"theory/patterns.py": ["tests/theory/test_patterns.py", "tests/theory/test_region_strictness.py"],
       "theory/margins.py": ["tests/theory/test_region_strictness.py", "tests/theory/test_patterns.py"],
       "theory/validation.py": ["tests/theory/test_instance.py"],
       "theory/distribution.py": ["tests/theory/test_instance.py", "tests/theory/test_objective.py"],
       "theory/strategies.py": ["tests/theory/test_region_strictness.py"],
       "theory/activations/": ["tests/theory/test_activations.py", "tests/theory/test_gated.py", "tests/theory/test_region_strictness.py"],
       "theory/printing.py": ["tests/theory/test_printing_points.py", "tests/theory/test_printing_by_hand.py"],
       "proofs_check/bridge.py": ["tests/proofs_check/test_bridge.py", "tests/proofs_check/test_bridge_features.py", "tests/proofs_check/test_bridge_properties.py",
                                  "tests/proofs_check/test_bridge_by_hand_2.py", "tests/proofs_check/test_record_fields_by_hand.py"],
       "proofs_check/bench_recovery.py": ["tests/proofs_check/test_c10_c11.py"],
       "proofs_check/c10_recovery.py": ["tests/proofs_check/test_c10_c11.py"],
       "proofs_check/c11_anchoring.py": ["tests/proofs_check/test_c10_c11.py"],
       "proofs_check/verdict.py": ["tests/proofs_check/test_claim_contract.py", "tests/proofs_check/test_report.py"],
       "proofs_check/claim.py": ["tests/proofs_check/test_claim_contract.py"],
       "proofs_check/__init__.py": ["tests/proofs_check/test_claim_contract.py"],
       "proofs_check/algebra.py": ["tests/proofs_check/test_c2_biconvexity.py"]}
# the cross-module tests of every refusal, hypothesis text and verdict/JSON field (a few seconds in all): in
# every mutant's plan, first, since they cover every module and kill fastest
FAST = [f for f in files if re.fullmatch(r"tests/(theory|proofs_check)/test_mutation_(?!gaps).*\.py", f)]
names = open(sys.argv[1]).read().split()
import importlib.util
plan = {}
for n in names:
    mod, _, fn = n.rpartition(".")
    base = fn.rsplit("__mutmut_", 1)[0]
    func = base.split("ǁ")[-1] if "ǁ" in base else base[2:]   # x_name -> name; xǁClassǁmethod -> method
    path = mod.replace(".", "/") + ".py"
    if not Path("mutants", path).exists():
        path = mod.replace(".", "/") + "/__init__.py"
    own = []
    for k, v in OWN.items():
        if path.startswith(k):
            own += v
    stem = Path(path).stem
    m = re.match(r"c(\d+)_", stem)
    if m:
        own += [f for f in files if re.search(rf"test_c{m.group(1)}_", f)]
        if m.group(1) in ("5", "6", "7", "9"):
            own.append("tests/proofs_check/test_verdict_branches.py")
    own += [f for f in files if Path(f).stem == f"test_{stem}"]
    if path.startswith("theory/"):
        own.append("tests/theory/test_mutation_gaps.py")
    named = [f for f in files if re.search(rf"\b{re.escape(func)}\b", texts[f]) and len(func) > 3]
    G = "tests/proofs_check/test_golden_text.py::test_printed_and_reported_text_is_the_golden_text"
    C = ["C2", "C3", "C4", "C5", "C7", "C7_topk", "C8"]
    if path in ("theory/printing.py", "theory/derivation.py"):
        gold = [f"derive-{d}" for d in ("jumprelu_bias", "topk_relu_pattern", "relu_instance_point")]
    elif m:
        c = "C" + m.group(1)
        gold = ([f"steps-{c}"] if int(m.group(1)) <= 9 else [f"verdict-{c}_record"]) + [f"verdict-{k}" for k in C if k.split("_")[0] == c]
    elif path == "proofs_check/report.py":
        gold = ["report"]
    elif path == "proofs_check/bench_recovery.py":
        gold = ["bench_specs", "verdict-C10_record", "verdict-C11_record"]
    elif path == "proofs_check/algebra.py":
        gold = [f"steps-C{i}" for i in range(1, 10)]
    elif path.startswith("proofs_check/"):
        gold = [f"verdict-{k}" for k in C] + ["verdict-C10_record", "verdict-C11_record", "report"]
    else:   # the rest of theory/: what the checks and derive print from it
        gold = ["derive-relu_instance_point"] + [f"verdict-{k}" for k in C]
    fast = sorted(FAST, key=lambda f: not f.startswith(f"tests/{path.split('/')[0]}/"))  # its own package's first
    plan[n] = list(dict.fromkeys(fast + [f"{G}[{g}]" for g in gold] + own + named))
json.dump(plan, open(sys.argv[2], "w"), indent=1)
print(sum(len(v) for v in plan.values()) / len(plan), "files per mutant")
