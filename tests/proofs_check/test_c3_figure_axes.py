"""C3's figure: drawn on linear axes (its x values start at c = 0, which a log axis could not show), and its series
are the construction's losses and bounds computed by hand."""
import numpy as np

from proofs_check import c3_construction as c3
from proofs_check import report as rep


def test_the_c3_figure_is_drawn_on_linear_axes_with_hand_computed_series(monkeypatch):
    spec = c3._figure()
    seen = {}

    def spy(path, fig):
        ax = fig.axes[0]
        seen.update(xscale=ax.get_xscale(), yscale=ax.get_yscale(), xlabel=ax.get_xlabel(), ylabel=ax.get_ylabel())

    monkeypatch.setattr(rep, "save_figure_atomic", spy)
    rep.draw_figure(spec, "c3.png")
    assert seen == {"xscale": "linear", "yscale": "linear", "xlabel": "c", "ylabel": "L̃"}
    assert spec["logx"] is False and spec["logy"] is False
    c = np.asarray(spec["x"])
    assert c.shape == (12,) and c[0] == 0.0 and np.isclose(c[-1], 0.95)
    s = spec["series"]
    # W_E = W_pᵀ, W_D = W_p: feature 1 gives pre-activations (1, −c, 0); TopK(k=3) keeps −c, residual −c w_2 (and the
    # same for feature 2), so L̃ = 2c²; ReLU drops it: 0. The claimed bound is 0 (M = 0), the corrected one
    # n² c² Σ M_d = 27 c².
    assert np.allclose(s["TopK(k=3) L̃"], 2 * c**2) and np.allclose(s["ReLU L̃"], 0.0, atol=1e-20)
    assert np.allclose(s["claimed bound n² M² Σ M_d"], 0.0) and np.allclose(s["corrected bound (TopK: coherence)"], 27 * c**2)
