"""Labels and numbers of derive's lines that no other test reads, against hand values and the activation's own
evaluation (issue 12 part 5: survivors of results/mutation/m3)."""
import numpy as np

from theory.activations import Gated, JumpReLU


def test_jumprelu_region_constraints_print_flipped_with_the_threshold():
    """JumpReLU θ = 1/2, P = ({0}, {1}): on-cells z > 1/2 (stored as −z < −1/2, printed flipped, in the text and in
    LaTeX), off-cells z < 1/2 — and they hold exactly at a point whose own evaluation has pattern P."""
    from theory.patterns import ActivationPattern
    from theory.printing import _format_constraint

    act = JumpReLU(theta=0.5)
    cons = act.region_constraints(ActivationPattern([{0}, {1}], 2).mask)
    assert [_format_constraint(c) for c in cons] == [
        ("z[0,0] > 0.5", "z_{0,0} > 0.5"), ("z[0,1] < 0.5", "z_{0,1} < 0.5"),
        ("z[1,0] < 0.5", "z_{1,0} < 0.5"), ("z[1,1] > 0.5", "z_{1,1} > 0.5")]
    Z = np.array([[0.9, 0.1], [0.2, 0.7]])
    np.testing.assert_array_equal(act.active(Z), [[True, False], [False, True]])
    assert all((sum(c * Z[cell] for cell, c in con.terms) < con.rhs) if con.strict else
               (sum(c * Z[cell] for cell, c in con.terms) <= con.rhs) for con in cons)


def test_gated_region_lines_are_labelled_by_what_they_state():
    from theory.activations.gated import _gated_region

    out = _gated_region(Gated(tied=False), "", "", False)
    lines = out[0] if isinstance(out, tuple) else out
    by_label = {ln.label: ln for ln in lines}
    on, off = by_label["unit i on for feature d (gate open)"], by_label["unit i off for feature d"]
    assert (on.text, on.value) == ("<w_gate^i, w_p^d> > 0", {"op": ">", "threshold": 0.0})
    assert (off.text, off.value) == ("<w_gate^i, w_p^d> < 0", {"op": "<", "threshold": 0.0})
    assert by_label["output of unit i when on"].text == "<w_mag^i, w_p^d>"
