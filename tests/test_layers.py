"""Layers point one way: theory <- numerics <- proofs_check <- studies <- sdl_theory (README "Layout").

Read from the source (every ``import`` / ``from ... import`` statement, also inside functions), so a
lazy import that goes the wrong way is caught too."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["theory", "numerics", "proofs_check", "studies", "sdl_theory"]


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", ORDER[:-1])
def test_no_layer_imports_a_layer_above_it(layer):
    above = set(ORDER[ORDER.index(layer) + 1:])
    bad = {str(p.relative_to(ROOT)): sorted(imported_packages(p) & above) for p in (ROOT / layer).rglob("*.py")}
    assert not {k: v for k, v in bad.items() if v}, f"{layer}/ imports a layer above it"


def test_theory_never_imports_torch():
    bad = [str(p.relative_to(ROOT)) for p in (ROOT / "theory").rglob("*.py") if "torch" in imported_packages(p)]
    assert not bad
