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
    """Tuples/lists/sets of two or more string literals that are all family (or method) names, and dicts
    keyed by two or more of them (a per-family table, e.g. a sweep grid per family)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        elts = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else \
            [k for k in node.keys if k is not None] if isinstance(node, ast.Dict) else None
        if elts is not None:
            strs = [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(strs) >= 2 and len(strs) == len(elts) and set(strs) <= names:
                found.append((path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path),
                              node.lineno, strs))
    return found


def test_no_family_name_list_outside_the_registry():
    """A family is declared once: no other module spells out a list of family names (a check that fails
    as soon as someone writes ("relu", "topk") somewhere instead of asking the registry)."""
    names = set(registry.names()) | set(registry.method_names())
    files = [p for d in ("theory", "numerics", "proofs_check", "sdl_theory", "studies", "bench", "notebooks")
             for p in (ROOT / d).rglob("*.py") if (ROOT / d).exists()]
    offenders = [hit for p in files if not p.is_relative_to(ROOT / "theory" / "activations") for hit in _name_lists(p, names)]
    assert offenders == []



def test_the_name_list_check_catches_name_lists_and_per_family_dicts(tmp_path):
    names = set(registry.names()) | set(registry.method_names())
    bad = tmp_path / "bad.py"
    bad.write_text('A = ("relu_sae", "topk_sae")\nB = {"relu": [1], "topk_relu": [2]}\nC = {"relu": 1, "x": 2}\n'
                   'D = ("relu",)\n')
    assert [(line, strs) for _, line, strs in _name_lists(bad, names)] == [(1, ["relu_sae", "topk_sae"]),
                                                                           (2, ["relu", "topk_relu"])]


def test_sweep_grids_come_from_the_family_declarations():
    jr = registry.get("jumprelu")
    grid = jr.sweep_grid()
    assert grid[:2] == [{"l0_coeff": 0.003, "threshold_init": 0.1}, {"l0_coeff": 0.03, "threshold_init": 0.1}]
    assert len(grid) == 6 and list(grid[-1]) == ["l0_coeff", "threshold_init"]   # keys in the dataclass's order
    # a bench size replaces a knob's values where the family has that knob, and only there
    assert jr.sweep_grid({"l0_coeff": (1.0,), "k": (3,)}) == [{"l0_coeff": 1.0, "threshold_init": 0.1},
                                                              {"l0_coeff": 1.0, "threshold_init": 1.0}]
    assert registry.get("topk_relu").sweep_grid({"k": (1, 4)}) == [{"k": 1}, {"k": 4}]
    assert registry.get("relu").sweep_grid() != registry.get("topk_relu").sweep_grid()
    assert registry.get("topk_relu").sets_k and not registry.get("relu").sets_k


def test_a_family_without_a_sweep_gets_one_derived_from_its_hyperparameters():
    from dataclasses import dataclass

    from theory.activations import TopKReLU

    @dataclass(frozen=True)
    class Hyper:
        k: int = 0             # 0 = automatic: 1, 2, 4, 8
        width: int = 6         # 3, 6, 12
        coeff: float = 0.5     # 0.05, 0.5, 5
        off: float = 0.0       # 0 = off: not swept
        flag: bool = True      # not a knob
        name: str = "x"        # not a knob

    fam = registry.Family("derived_sweep_demo", TopKReLU, hyperparameters=Hyper)
    assert fam.sweep_axes() == {"k": (1, 2, 4, 8), "width": (3, 6, 12), "coeff": (0.05, 0.5, 5.0)}
    grid = fam.sweep_grid({"width": (7,)})
    assert grid == [{"k": 1}, {"k": 2}, {"k": 4}, {"k": 8}, {"width": 7}, {"coeff": 0.05}, {"coeff": 0.5}, {"coeff": 5.0}]
    assert registry.Family("no_hyper_demo", TopKReLU).sweep_grid() == []
    with pytest.raises(SDLInputError, match="sweep must map its hyperparameters"):
        registry.register(registry.Family("bad_sweep_demo", TopKReLU, hyperparameters=Hyper, sweep={"lamda": (1,)}))
