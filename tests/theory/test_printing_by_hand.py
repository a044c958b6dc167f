"""derive's printout by hand (issue 12 part 5, results/mutation/m6h_hbridge): the parts that depend on an instance and a
pattern (the pattern section with its region constraints and LP line, the instance section) in text and in LaTeX, the
Gated family's own wording, every branch of a region constraint's layout, the cut-off of the constraints shown, and the
numbers of a point given as integers. None of these is in the golden file (its derive cases have no instance with a
pattern, and no Gated activation)."""
import json

import numpy as np

from theory.activations import Gated, ReLU
from theory.activations.base import LinearConstraint
from theory.derivation import derive
from theory.instance import Instance
from theory.printing import Point, _format_constraint, render, sections, to_json

LP_YES = "yes: witness encoder strictly inside every inequality, margin 1, re-evaluated with the activation"


def _after(text: str, head: str) -> str:
    return text[text.index(head):]


# ReLU on orthonormal features of weights 1, 2, P = ({0}, {1}). Each neuron alone on one feature (m = 1): the block loss
# M_d ||w_r^d − a_d u||² = M_d (q a_d² − 2 a_d c_d + g_d), u* = M a w_r / (M a²) = w_r^d / a_d, the encoder
# coefficient M_d (c_d − a_d q). Region: on cells z > 0, off cells z <= 0. Instance: M = (1, 2), both Grams I, no
# interference.
PATTERN_TEXT = """== Pattern ({0}, {1}) ==
  pattern P = (F_1, …, F_{n_q}):
      ({0}, {1})
  polysemantic:
      no
  partition of the features:
      yes
  neuron 0:
      F_0 = {0}, m = 1
  neuron 0: block loss (a_d, c_d, q of neuron 0):
      L_0 = (q*a[0]^2 - 2*a[0]*c[0] + g[0])*M[0]
  neuron 0: least-squares decoder column:
      u_0* = w_r^0/a[0]
  neuron 0: encoder stationarity:
      (-q*a[0] + c[0])*M[0]*w_p^0 = 0
  neuron 1:
      F_1 = {1}, m = 1
  neuron 1: block loss (a_d, c_d, q of neuron 1):
      L_1 = (q*a[1]^2 - 2*a[1]*c[1] + g[1])*M[1]
  neuron 1: least-squares decoder column:
      u_1* = w_r^1/a[1]
  neuron 1: encoder stationarity:
      (-q*a[1] + c[1])*M[1]*w_p^1 = 0
  region Ω_P, in the pre-activations of neuron i on feature d:
      z[d,i] = <w_E^i, w_p^d>
  region constraint:
      z[0,0] > 0
  region constraint:
      z[0,1] <= 0
  region constraint:
      z[1,0] <= 0
  region constraint:
      z[1,1] > 0
  realizable (linear program):
      """ + LP_YES + """

== Instance ==
  sizes:
      n = 2, n_p = 2, n_r = 2 (SAE)
  feature weights:
      M_d = [1. 2.]
  input Gram entries <w_p^d, w_p^e>:
      W_pᵀW_p = [[1. 0.]
       [0. 1.]]
  target Gram entries G_de = <w_r^d, w_r^e>:
      W_rᵀW_r = [[1. 0.]
       [0. 1.]]
  interference max_{d≠e} <w_p^d, w_p^e>:
      interference = 0
"""

PATTERN_LATEX = r"""\subsection*{Pattern (\{0\}, \{1\})}
\begin{align*}
  &\text{pattern P = (F\_1, \dots{}, F\_\{n\_q\})}: && (\{0\}, \{1\}) \\
  &\text{polysemantic}: && \text{no} \\
  &\text{partition of the features}: && \text{yes} \\
  &\text{neuron 0}: && F_{0} = \{0\},\ m = 1 \\
  &\text{neuron 0: block loss (a\_d, c\_d, q of neuron 0)}: && L_{0} = \left(q {a}_{0}^{2} - 2 {a}_{0} {c}_{0} + {g}_{0}\right) {M}_{0} \\
  &\text{neuron 0: least-squares decoder column}: && u_{0}^{*} = \frac{w^{0}_{r}}{{a}_{0}} \\
  &\text{neuron 0: encoder stationarity}: && \left(- q {a}_{0} + {c}_{0}\right) {M}_{0} w^{0}_{p} = 0 \\
  &\text{neuron 1}: && F_{1} = \{1\},\ m = 1 \\
  &\text{neuron 1: block loss (a\_d, c\_d, q of neuron 1)}: && L_{1} = \left(q {a}_{1}^{2} - 2 {a}_{1} {c}_{1} + {g}_{1}\right) {M}_{1} \\
  &\text{neuron 1: least-squares decoder column}: && u_{1}^{*} = \frac{w^{1}_{r}}{{a}_{1}} \\
  &\text{neuron 1: encoder stationarity}: && \left(- q {a}_{1} + {c}_{1}\right) {M}_{1} w^{1}_{p} = 0 \\
  &\text{region $\Omega$\_P, in the pre-activations of neuron i on feature d}: && z_{d,i} = \langle w_E^i, w_p^d \rangle \\
  &\text{region constraint}: && z_{0,0} > 0 \\
  &\text{region constraint}: && z_{0,1} \le 0 \\
  &\text{region constraint}: && z_{1,0} \le 0 \\
  &\text{region constraint}: && z_{1,1} > 0 \\
  &\text{realizable (linear program)}: && \text{""" + LP_YES + r"""}
\end{align*}
\subsection*{Instance}
\begin{align*}
  &\text{sizes}: && \text{n = 2, n\_p = 2, n\_r = 2 (SAE)} \\
  &\text{feature weights}: && M_d = \texttt{[1. 2.]} \\
  &\text{input Gram entries <w\_p\^{}d, w\_p\^{}e>}: && W_p^T W_p = \texttt{[[1. 0.]
       [0. 1.]]} \\
  &\text{target Gram entries G\_de = <w\_r\^{}d, w\_r\^{}e>}: && W_r^T W_r = \texttt{[[1. 0.]
       [0. 1.]]} \\
  &\text{interference max\_\{d$\neq$e\} <w\_p\^{}d, w\_p\^{}e>}: && \max_{d \ne e} \langle w_p^d, w_p^e \rangle = \texttt{0}
\end{align*}
"""


def _relu_pattern():
    return derive(instance=Instance(W_p=np.eye(2), weights=[1.0, 2.0]), pattern=[{0}, {1}])


def test_derive_prints_the_pattern_and_instance_sections_by_hand():
    d = _relu_pattern()
    assert _after(render(d, "text"), "== Pattern") == PATTERN_TEXT
    assert _after(render(d, "latex"), r"\subsection*{Pattern") == PATTERN_LATEX


def test_derive_json_of_the_pattern_and_instance_sections_by_hand():
    out = json.loads(render(_relu_pattern(), "json"))
    pat, ins = out["sections"][-2], out["sections"][-1]
    assert (pat["key"], pat["title"], pat["notes"]) == ("pattern", "Pattern ({0}, {1})", [])
    val = {ln["label"]: ln["value"] for ln in pat["lines"]}
    assert val["pattern P = (F_1, …, F_{n_q})"] == [[0], [1]]
    assert (val["polysemantic"], val["partition of the features"]) == (False, True)
    assert val["neuron 0"] == {"neuron": 0, "features": [0]} and val["neuron 1"] == {"neuron": 1, "features": [1]}
    assert val["realizable (linear program)"]["realizable"] is True
    assert [ln["value"] for ln in pat["lines"] if ln["label"] == "region constraint"] == [None] * 4
    assert (ins["key"], ins["title"]) == ("instance", "Instance")
    iv = {ln["label"]: ln["value"] for ln in ins["lines"]}
    assert iv == {"sizes": {"n": 2, "n_p": 2, "n_r": 2, "sae": True}, "feature weights": [1.0, 2.0],
                  "input Gram entries <w_p^d, w_p^e>": [[1.0, 0.0], [0.0, 1.0]],
                  "target Gram entries G_de = <w_r^d, w_r^e>": [[1.0, 0.0], [0.0, 1.0]],
                  "interference max_{d≠e} <w_p^d, w_p^e>": 0.0}


def test_derive_of_a_gated_instance_says_gate_and_magnitude_by_hand():
    """A Gated unit reads two pre-activations (gate, magnitude): the setting says so, the matrix form has the output
    matrix C_d instead of S_d, the block form's a_d is the magnitude row's, and the region constraints name the gates."""
    d = derive(instance=Instance(W_p=np.eye(2), activation=Gated(tied=False), encoder_bias=True), pattern=[{0}, {1}])
    secs = {s.key: s for s in sections(d)}
    assert secs["setting"].notes == (
        "Each unit reads 2 pre-activations (W_E stacks 2 rows per unit); inside an activation region Ω_P each unit's "
        "output is a fixed linear function of them, σ(z_d) = C_d z_d, so L̃ is a polynomial there; everything below "
        "holds inside one region.",)
    out = [ln for ln in secs["matrix_form"].lines if ln.label == "output matrix"]
    assert [(ln.text, ln.latex) for ln in out] == [
        ("C_d: σ(z_d) = C_d z_d, n_q × n_e (fixed inside the region; see the region conditions)", r"\sigma(z_d) = C_d z_d")]
    assert not [ln for ln in secs["matrix_form"].lines if ln.label == "selection matrix"]
    first = secs["block_form"].lines[0]
    assert first.text == "a_d = <w_mag^i, w_p^d> + b_mag,i,  u = W_D[:, i],  c_d = <u, w_r^d>,  q = ||u||²,  g_d = ||w_r^d||²"
    assert first.latex == (r"a_d = \langle w_{mag}^i, w_p^d \rangle + b_{mag,i},\; u = W_D^{(i)},\; c_d = \langle u, w_r^d "
                           r"\rangle,\; q = \|u\|^2,\; g_d = \|w_r^d\|^2")
    z = [ln for ln in secs["pattern"].lines if ln.label.startswith("region Ω_P")]
    assert [(ln.text, ln.latex) for ln in z] == [("z[d,i] = <w_E^i, w_p^d> + b_i (row i of W_E: unit i's gate)",
                                                  r"z_{d,i} = \langle w_E^i, w_p^d \rangle + b_i")]
    # both sides of a gate are strict: on z > 0, off z < 0
    assert [ln.text for ln in secs["pattern"].lines if ln.label == "region constraint"] == [
        "z[0,0] > 0", "z[0,1] < 0", "z[1,0] < 0", "z[1,1] > 0"]


def test_derive_of_a_single_row_activation_says_selection_matrix():
    secs = {s.key: s for s in sections(derive(ReLU()))}
    sel = [ln for ln in secs["matrix_form"].lines if ln.label == "selection matrix"]
    assert [(ln.text, ln.latex) for ln in sel] == [
        ("S_d = diag(1{unit i on for feature d}) (fixed inside the region)",
         r"S_d = \operatorname{diag}\left(\mathbb{1}\{\text{unit } i \text{ on for feature } d\}\right)")]
    assert secs["setting"].notes == (
        "Inside an activation region Ω_P every unit is on (σ(z)_i = z_i) or off (σ(z)_i = 0) for each single-feature "
        "input, so L̃ is a polynomial there; everything below holds inside one region.",)
    first = secs["block_form"].lines[0]
    assert first.text.startswith("a_d = <w_E^i, w_p^d>,  u = W_D[:, i],")
    assert first.latex.startswith(r"a_d = \langle w_E^i, w_p^d \rangle,\; u = W_D^{(i)},")


def test_every_layout_of_a_region_constraint_by_hand():
    C = LinearConstraint
    cases = [
        (C((((0, 1), 1.0),), 0.5, True), ("z[0,1] < 0.5", "z_{0,1} < 0.5")),          # z < rhs
        (C((((0, 1), 1.0),), 0.5, False), ("z[0,1] <= 0.5", r"z_{0,1} \le 0.5")),
        (C((((2, 0), -1.0),), -0.25, True), ("z[2,0] > 0.25", "z_{2,0} > 0.25")),      # −z < −c  ⇔  z > c
        (C((((2, 0), -1.0),), 0.0, False), ("z[2,0] >= 0", r"z_{2,0} \ge 0")),
        # z_a − z_b (< or <=) 0 reads z_a < z_b, whichever order the terms come in
        (C((((1, 0), -1.0), ((1, 2), 1.0)), 0.0, True), ("z[1,2] < z[1,0]", "z_{1,2} < z_{1,0}")),
        (C((((1, 2), 1.0), ((1, 0), -1.0)), 0.0, False), ("z[1,2] <= z[1,0]", r"z_{1,2} \le z_{1,0}")),
        # anything else is written out term by term
        (C((((0, 0), 2.0),), 1.0, True), ("2·z[0,0] < 1", "2 z_{0,0} < 1")),
        (C((((0, 0), 1.0), ((0, 1), -1.0)), 0.5, True), ("1·z[0,0] + -1·z[0,1] < 0.5", "1 z_{0,0} + -1 z_{0,1} < 0.5")),
        (C((((0, 0), 2.0), ((1, 1), -0.5)), 1.5, False),
         ("2·z[0,0] + -0.5·z[1,1] <= 1.5", r"2 z_{0,0} + -0.5 z_{1,1} \le 1.5")),
    ]
    assert [_format_constraint(c) for c, _ in cases] == [want for _, want in cases]


def test_derive_shows_at_most_40_region_constraints_and_says_how_many_more():
    """ReLU, one feature, n_q units (unit 0 on it, the rest dead): n_q constraints, 40 shown."""
    for n_q, note in ((40, None), (41, "1 more region constraints not shown.")):
        d = derive(instance=Instance(W_p=np.eye(1)), pattern=[{0}] + [set()] * (n_q - 1))
        sec = next(s for s in sections(d, forms=("block",)) if s.key == "pattern")
        shown = [ln.text for ln in sec.lines if ln.label == "region constraint"]
        assert shown == ["z[0,0] > 0"] + [f"z[0,{i}] <= 0" for i in range(1, 40)]
        assert [n for n in sec.notes if "more region constraints" in n] == ([] if note is None else [note])


def test_derive_at_a_point_given_as_integers_prints_floats():
    """A point passed as integer lists is read as floats: the JSON carries 1.0, not 1, for W_E, W_D and b."""
    inst = Instance(W_p=np.eye(2), encoder_bias=True)
    out = to_json(derive(instance=inst), Point([[1, 0], [0, 1]], [[1, 0], [0, 1]], [0, 0], source="by hand"))
    point = next(s for s in out["sections"] if s["key"] == "point")
    val = {ln["label"]: ln["value"] for ln in point["lines"]}
    assert json.dumps(val["encoder (by hand)"]) == "[[1.0, 0.0], [0.0, 1.0]]"
    assert json.dumps(val["decoder (given)"]) == "[[1.0, 0.0], [0.0, 1.0]]"
    assert json.dumps(val["encoder bias"]) == "[0.0, 0.0]"
    assert val["approximate loss"] == 0.0     # W_D σ(W_E e_d) = e_d
