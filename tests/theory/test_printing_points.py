"""derive's point section on inputs no other test gave it (a bias, a dead neuron, a given decoder, a
non-partition pattern; issue 12 part 5), its numbers computed here by hand."""
import numpy as np
import pytest

from theory.instance import Instance


def test_derive_at_a_biased_point_with_a_dead_neuron_prints_numbers_computed_by_hand():
    from theory.derivation import derive
    from theory.printing import Point, to_json

    inst = Instance(W_p=np.eye(2), encoder_bias=True)
    W_E = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    b = np.array([-0.5, -0.5, -1.0])      # unit 0 is 0.5 on e_0 (off on e_1 at −0.5), unit 1 likewise, unit 2 dead
    W_D = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    d = derive(instance=inst)
    out = to_json(d, Point(W_E, W_D, b))
    point = next(s for s in out["sections"] if s["key"] == "point")
    val = {ln["label"]: ln["value"] for ln in point["lines"]}
    assert val["encoder bias"] == [-0.5, -0.5, -1.0]
    # each feature is reconstructed as 0.5 e_d: L̃ = 2 · 0.5² = 0.5
    assert val["approximate loss"] == pytest.approx(0.5)
    # ∂L̃/∂b_i = −2 Σ_{d: i on} M_d <W_D^i, w_r^d − W_D σ(z_d)> = −2 · 0.5 for units 0 and 1, 0 for the dead unit
    assert val["bias gradient"] == pytest.approx([-1.0, -1.0, 0.0])
    # the least-squares decoder of a partition pattern: u* = w_r^d / a_d = 2 e_d, the dead column 0
    assert np.allclose(val["least-squares decoder for this encoder"], [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    assert val["neuron 2"] == {"neuron": 2, "features": []}
    assert {ln["text"] for ln in point["lines"] if ln["label"] == "neuron 2"} == {"dead (F_i = ∅): no block"}
    assert val["neuron 0"] == {"neuron": 0, "features": [0]}
    # without W_D the section uses the least-squares decoder and prints no separate W_D* line
    ls = next(s for s in to_json(d, Point(W_E, None, b))["sections"] if s["key"] == "point")
    labels = [ln["label"] for ln in ls["lines"]]
    assert "least-squares decoder for this encoder" not in labels and "decoder (least squares W_D* = B G⁺)" in labels
    assert {ln["label"]: ln["value"] for ln in ls["lines"]}["approximate loss"] == pytest.approx(0.0, abs=1e-12)


def test_derive_at_a_point_whose_pattern_is_not_a_partition_says_the_block_form_does_not_apply():
    from theory.derivation import derive
    from theory.printing import Point, sections

    inst = Instance(W_p=np.eye(2))
    sec = next(s for s in sections(derive(instance=inst), Point(np.array([[1.0, 1.0], [1.0, 0.0]]))) if s.key == "point")
    assert [n for n in sec.notes if n.startswith("Block form does not apply at this point: ")]
    assert not [ln for ln in sec.lines if ln.label.startswith("neuron ")]
