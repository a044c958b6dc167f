"""theory.registry: one declaration per family, the same name on every layer, no name lists elsewhere."""
import ast
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from theory import registry
from theory.errors import SDLInputError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", registry.names())
def test_every_family_makes_draws_and_prints_its_own_activations(name):
    fam = registry.get(name)
    assert registry.get(fam.ref) is fam and fam.builtin

    @settings(max_examples=10, deadline=None, database=None)
    @given(fam.activations(max_k=3))
    def drawn(act):
        assert isinstance(act, fam.activation)
        assert registry.activation_from_json(act.to_json()) == act
        if fam.region_text is not None:
            lines, notes = fam.region_text(act, "z", "z", False)
            assert lines and all(ln.text for ln in lines)

    drawn()


def test_lookups_and_errors():
    assert registry.get("TopK∘ReLU") is registry.get("topkrelu") is registry.get("topk_relu")
    assert registry.method("topk_sae", ("sae", "transcoder")) == ("sae", "topk_relu")
    assert registry.method("transcoder:jumprelu", ("sae", "transcoder")) == ("transcoder", "jumprelu")
    with pytest.raises(SDLInputError, match="unknown activation family 'gelu'"):
        registry.get("gelu")
    with pytest.raises(SDLInputError, match="no torch model"):
        registry.method("topk", ("sae",))  # plain TopK is theory only
    with pytest.raises(SDLInputError, match="cannot import module"):
        registry.get("no_such_module_xyz:Unit")
    with registry.searching(["relu", "topk"]):
        assert registry.names(searched=True) == ("relu", "topk")
        assert registry.names(searched=True, homogeneous=True, per_sample=True) == ("relu", "topk")
    assert "batchtopk" in registry.names(searched=True)


def test_theory_imports_no_torch():
    import subprocess

    code = "import sys, theory.registry, theory.activations, theory.strategies; assert 'torch' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def _name_lists(path: Path, names: set) -> list:
    """Tuples/lists/sets of two or more string literals that are all family names."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            strs = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(strs) >= 2 and len(strs) == len(node.elts) and set(strs) <= names:
                found.append((path.relative_to(ROOT).as_posix(), node.lineno, strs))
    return found


def test_no_family_name_list_outside_the_registry():
    """A family is declared once: no other module spells out a list of family names (a check that fails
    as soon as someone writes ("relu", "topk") somewhere instead of asking the registry)."""
    names = set(registry.names()) | {"topk"}
    files = [p for d in ("theory", "numerics", "proofs_check", "sdl_theory", "studies", "bench", "notebooks")
             for p in (ROOT / d).rglob("*.py") if (ROOT / d).exists()]
    offenders = [hit for p in files if not p.is_relative_to(ROOT / "theory" / "activations") for hit in _name_lists(p, names)]
    assert offenders == []
