"""theory.printing: text / LaTeX / JSON renderings of a Derivation assert on content."""
import json

import numpy as np
import pytest

from theory.activations import BatchTopK, JumpReLU, ReLU, TopK, TopKReLU
from theory.derivation import derive, least_squares_decoder
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.printing import Point, render, sections, to_json


def _section(d, key, **kw):
    return next(s for s in sections(d, **kw) if s.key == key)


def test_relu_region_conditions():
    sec = _section(derive(ReLU()), "region")
    texts = [ln.text for ln in sec.lines]
    assert "<w_E^i, w_p^d> > 0" in texts and "<w_E^i, w_p^d> <= 0" in texts
    biased = [ln.text for ln in _section(derive(ReLU(), encoder_bias=True), "region").lines]
    assert "<w_E^i, w_p^d> + b_i > 0" in biased


def test_jumprelu_threshold_and_homogeneity_note():
    sec = _section(derive(JumpReLU(theta=0.5)), "region")
    assert "<w_E^i, w_p^d> > 0.5" in [ln.text for ln in sec.lines]
    assert any("not positively homogeneous" in n for n in sec.notes)
    assert not any("not positively homogeneous" in n for n in _section(derive(ReLU()), "region").notes)


def test_topk_and_batchtopk_describe_ranking():
    topk = render(derive(TopK(k=2)), "text")
    assert "k = 2 largest" in topk and "no sign condition" in topk
    assert "and the on unit is positive" in render(derive(TopKReLU(k=1)), "text")
    btk = render(derive(BatchTopK(k=1)), "text")
    assert "no per-sample σ" in btk and "single-feature inputs" in btk and "across features" in btk


def test_matrix_and_block_forms_are_printed():
    text = render(derive(ReLU()), "text")
    assert "∇_{W_D} L̃ = Σ_d (-2*M_d)*r_d*z_dᵀ*S_d" in text
    assert "∇_{W_E} L̃ = Σ_d (-2*M_d)*S_d*W_Dᵀ*r_d*w_p^dᵀ" in text
    assert "Σ_d M_d*r_d*z_dᵀ*S_d = 0" in text  # decoder stationarity
    assert "W_D* = B G⁺" in text
    assert "H_EE[Δ_E]" in text and "H_DE[Δ_E]" in text
    assert "u* = Sum(M[j]*a[j]*w_r^j/Sum(M[d]*a[d]^2, (d, 1, m)), (j, 1, m))" in text
    assert "Σ_j (-q*a[j] + c[j])*M[j] w_p^j = 0" in text
    assert "∇_b" not in text  # no bias: no bias gradient
    assert "∇_b L̃" in render(derive(ReLU(), encoder_bias=True), "text")


def test_latex_and_json_formats():
    tex = render(derive(JumpReLU(theta=0.5)), "latex")
    assert r"\begin{align*}" in tex and r"\sum" in tex and r"\frac" in tex and r"\theta" in tex
    assert "σ" not in tex.split("\n", 1)[1]  # unicode mapped to LaTeX outside the header comment
    data = json.loads(render(derive(JumpReLU(theta=0.5)), "json"))
    assert data["activation"] == {"name": "jumprelu", "theta": 0.5}
    region = next(s for s in data["sections"] if s["key"] == "region")
    assert region["lines"][0]["value"] == {"op": ">", "threshold": 0.5}
    with pytest.raises(SDLInputError, match="format"):
        render(derive(ReLU()), "html")


def test_pattern_specialisation_flags_dead_and_overlapping():
    inst = Instance(W_p=np.eye(3), weights=[1.0, 2.0, 1.0])
    sec = _section(derive(instance=inst, pattern=[{0, 1}, {2}, set()]), "pattern")
    texts = [ln.text for ln in sec.lines]
    assert "F_0 = {0, 1}, m = 2" in texts and "F_2 = ∅ (dead)" in texts
    assert any("Dead neurons [2]" in n for n in sec.notes)
    assert any(t.startswith("yes: witness") for t in texts)
    lp = [ln for ln in sec.lines if ln.text.startswith("yes: witness")]
    assert len(lp) == 1 and lp[0].label == "realizable (linear program)" and lp[0].value["realizable"] is True
    overlap = _section(derive(instance=inst, pattern=[{0, 1}, {1, 2}]), "pattern")
    assert any("does not apply" in n and "matrix form" in n for n in overlap.notes)
    assert not any(t.startswith("L_0") for t in (ln.text for ln in overlap.lines))


def test_unrealizable_pattern_is_reported():
    inst = Instance(W_p=np.eye(2), weights=[1.0, 1.0], activation=TopK(k=1))
    sec = _section(derive(instance=inst, pattern=[{0, 1}, {0}]), "pattern")
    assert any(ln.label == "realizable" and ln.text.startswith("no:") for ln in sec.lines)


def test_point_specialisation_numbers():
    inst = Instance(W_p=np.eye(2), weights=[1.0, 2.0])
    W_E = np.array([[1.0, 1.0]])
    d = derive(instance=inst)
    data = to_json(d, Point(W_E))
    point = next(s for s in data["sections"] if s["key"] == "point")
    values = {ln["label"]: ln["value"] for ln in point["lines"]}
    np.testing.assert_allclose(values["decoder (least squares W_D* = B G⁺)"], least_squares_decoder(inst, W_E))
    np.testing.assert_allclose(values["neuron 0: encoder coefficients M_d (c_d* − a_d q*) at u*"], [-2 / 9, 2 / 9], atol=1e-12)
    with pytest.raises(SDLInputError, match="instance"):
        sections(derive(ReLU()), Point(W_E))


def test_pattern_without_instance_is_specialised_symbolically():
    secs = sections(derive(ReLU(), pattern=[{0, 1}, {2}]))
    assert [s.key for s in secs][-1] == "pattern"
    texts = [ln.text for ln in secs[-1].lines]
    assert "F_0 = {0, 1}, m = 2" in texts and not any("realizable" in ln.label for ln in secs[-1].lines)
