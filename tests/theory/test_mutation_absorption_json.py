"""The JSON of the absorption modules' records, each field read back against the record it came from
(issue 12 part 5: the mutation runs found record keys no test read). Records built by hand; no search."""
import numpy as np

from theory.absorption import AbsorptionPrediction, SwitchOff, TopKPrediction, clean_stationarity, derive
from theory.absorption_curve import StationaryPoint
from theory.absorption_two_level import TwoLevel
from theory.distribution import Constant, ShiftedExponential


def test_absorption_records_json_by_hand():
    p = AbsorptionPrediction(0.5, 1.25, 1.0, (0.5, 0.75), True, 0.1, 2.0, ("an assumption",))
    assert p.to_json() == {"lam": 0.5, "clean_loss": 1.25, "absorbed_loss": 1.0, "absorbed_decoder": [0.5, 0.75],
                           "absorbed": True, "threshold": 0.1, "valid_up_to": 2.0, "unmet": ["an assumption"]}
    t = TopKPrediction(1, 2, 0.0, 0.5, "clean")
    assert t.to_json() == {"k": 1, "k_threshold": 2, "clean_loss": 0.0, "absorbed_loss": 0.5, "preferred": "clean"}
    s = SwitchOff(True, 0.25, np.array([1.0, -2.0]), -0.5, "why")
    assert s.to_json() == {"possible": True, "margin": 0.25, "note": "why", "encoder_row": [1.0, -2.0], "bias": -0.5}
    n = SwitchOff(False, -1.0, None, None, "no")
    assert n.to_json() == {"possible": False, "margin": -1.0, "note": "no", "encoder_row": None, "bias": None}


def test_absorption_derivations_json_are_their_expressions_as_text():
    d = derive()
    j = d.to_json()
    assert set(j) == set(d.__dict__) - {"symbols"}
    for k, v in d.__dict__.items():
        if k != "symbols":
            assert j[k] == ([str(e) for e in v] if isinstance(v, tuple) else str(v))
    assert isinstance(j["thresholds"], list) and isinstance(j["absorbed_decoder"], list) and len(j["absorbed_decoder"]) == 2
    c = clean_stationarity()
    assert c.to_json() == {"encoder_slope": str(c.encoder_slope), "decoder_tilt": str(c.decoder_tilt),
                           "decoder_parent_cosine": str(c.decoder_parent_cosine)}


def test_two_level_hierarchy_json_and_indices_by_hand():
    h = TwoLevel(n_parents=2, n_children=2, grandparent_law=Constant(1.0), parent_law=Constant(0.5),
                 child_law=ShiftedExponential(1.0, 2.0), p_alone=0.1, p_parent=0.3)
    assert h.to_json() == {"levels": 2, "n_parents": 2, "n_children": 2, "grandparent_law": {"law": "constant", "c": 1.0},
                           "parent_law": {"law": "constant", "c": 0.5},
                           "child_law": {"law": "shifted_exponential", "c_min": 1.0, "beta": 2.0},
                           "p_alone": 0.1, "p_parent": 0.3}
    # features: 0 the grandparent, 1..2 the parents, 3..4 parent 1's children, 5..6 parent 2's
    assert h.n_features == 7 and h.parents() == [1, 2] and h.children_of(1) == [3, 4] and h.children_of(2) == [5, 6]
    assert h.children() == [3, 4, 5, 6] and [h.parent_of(c) for c in (3, 4, 5, 6)] == [1, 1, 2, 2]


def test_stationary_point_json_by_hand():
    p = StationaryPoint(np.eye(2), 2 * np.eye(2), 0.5, 1e-9, "minimum", 0.1, 2, {"loss": 0.5, "absorbed": 1}, {"gamma": 0.0},
                        kinks=[(0, 1)], check={"confirmed": True}, n_starts=3, replaced="saddle")
    assert p.to_json() == {"W_E": [[1.0, 0.0], [0.0, 1.0]], "W_D": [[2.0, 0.0], [0.0, 2.0]], "loss": 0.5, "grad_norm": 1e-9,
                           "kind": "minimum", "min_eigenvalue": 0.1, "n_flat": 2, "absorbed": 1, "start": {"gamma": 0.0},
                           "kinks": [(0, 1)], "check": {"confirmed": True}, "n_starts": 3, "replaced": "saddle"}
