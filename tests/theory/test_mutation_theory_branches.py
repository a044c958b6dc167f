"""Branches of theory/ no other test executed (a coverage run of the suite, issue 12 part 5), each run on a
small input and checked against a value computed here by hand or by another method."""
import dataclasses
import math

import numpy as np
import pytest
import sympy as sp

from theory import geometry, registry
from theory.activations import BatchTopK, Gated, JumpReLU, ReLU, TopK, TopKReLU
from theory.distribution import Constant, FeatureDistribution, ShiftedExponential, Uniform
from theory.errors import SDLInputError
from theory.instance import Instance


def test_geometry_small_cases_by_hand():
    e = np.array([[1.0], [0.0]])
    assert geometry.interference(e) == 0.0 and geometry.coherence(e) == 0.0
    W = np.array([[1.0, -0.6], [0.0, 0.8]])
    assert geometry.interference(W) == pytest.approx(-0.6) and geometry.coherence(W) == pytest.approx(0.6)
    assert geometry.welch_bound(2, 2) == 0.0 and geometry.welch_bound(1, 1) == 0.0
    assert geometry.welch_bound(3, 2) == pytest.approx(0.5)            # sqrt((3 - 2) / (2 · 2))
    assert geometry.welch_bound(4, 3) == pytest.approx(1 / 3)          # sqrt(1 / 9)
    assert geometry.column_norm_error(np.zeros((2, 0))) == 0.0
    assert geometry.column_norm_error(np.array([[3.0, 0.0], [4.0, 0.5]])) == pytest.approx(4.0)


def test_loss_estimate_json_and_half_width():
    from theory.objective import LossEstimate

    e = LossEstimate(1.0, 0.5, 2.0, "monte_carlo", 100, 3, 0.95)
    assert e.half_width == 0.75
    assert e.to_json() == {"value": 1.0, "low": 0.5, "high": 2.0, "method": "monte_carlo", "samples": 100, "seed": 3,
                           "confidence": 0.95}


def test_shrinkage_predictions_against_the_optimum_by_hand():
    from theory.shrinkage import assumptions, derive, magnitude_moments, predict

    # Uniform(1, 3): μ1 = 2, μ2 = (27 − 1)/6 = 13/3. Without a bias t* = 1 − λμ1/(2μ2) = 10/13 at λ = 1,
    # ℓ = μ2 (1 − t)² + λ t μ1 = 3/13 + 20/13 = 23/13
    U = Uniform(1.0, 3.0)
    assert magnitude_moments(U) == pytest.approx((2.0, 13 / 3, 1.0))
    p = predict(1.0, U)
    assert (p.scale, p.bias, p.mean_ratio, p.event_loss, p.encoder_bias) == pytest.approx((10 / 13, 0.0, 10 / 13, 23 / 13, False))
    assert p.unmet == () and p.to_json() == {"lam": 1.0, "encoder_bias": False, "scale": p.scale, "bias": 0.0,
                                             "mean_ratio": p.mean_ratio, "event_loss": p.event_loss, "unmet": []}
    # with a bias a = relu(m − λ/2) (λ/2 = 0.5 <= c_min = 1): t = 1, b = −1/2, E[a]/E[m] = 1.5/2, ℓ = λμ1 − λ²/4 = 1.75
    q = predict(1.0, U, encoder_bias=True)
    assert (q.scale, q.bias, q.mean_ratio, q.event_loss) == pytest.approx((1.0, -0.5, 0.75, 1.75))
    # λμ1 > 2μ2: the latent is off, ℓ = μ2
    off = predict(3.0, Constant(1.0))
    assert (off.scale, off.bias, off.mean_ratio, off.event_loss) == (0.0, 0.0, 0.0, 1.0)
    assert off.unmet == ("λ μ1 = 3 > 2 μ2 = 2: the latent switches off (t* = 0)",)
    # λ/2 > c_min with a bias: every constant magnitude 1 is clipped to a = 0, so E[a] = 0 and ℓ = E[m²] = 1
    clip = predict(4.0, Constant(1.0), encoder_bias=True)
    assert clip.mean_ratio == 0.0 and clip.event_loss == pytest.approx(1.0)
    assert clip.unmet == ("λ/2 = 2 exceeds the smallest magnitude c_min = 1: small events are clipped; relu(m − λ/2) is "
                          "still the optimum but its mean and loss are Monte-Carlo, not closed form",)
    assert assumptions(0.1, U, False, W_r=np.array([[1.0, 0.0], [0.0, 0.5]])) == ["target directions w_r^d do not have unit norm"]
    assert assumptions(0.1, U, False, W_r=np.eye(2)) == []
    assert assumptions(0.1, U, False, p_multi=0.2, tol=0.1) == [
        "multi-feature events are not rare: P(>=2 active | >=1 active) = 0.2 > 0.1"]
    assert assumptions(0.1, U, False, p_multi=0.1, tol=0.1) == []
    assert assumptions(0.1, U, False, W_p=np.array([[1.0, 0.6], [0.0, 0.8]])) == [
        "input directions are not orthonormal (max |W_pᵀW_p − I| = 0.6)"]
    d = derive()
    j = d.to_json()
    assert set(j) == {k for k, v in d.__dict__.items() if isinstance(v, sp.Basic)} and len(j) >= 6
    assert all(isinstance(v, str) and v == str(getattr(d, k)) for k, v in j.items())


def test_mask_firing_compares_and_prints_like_its_sets():
    from theory.patterns import MaskFiring

    m = np.array([[True, False], [True, True], [False, False]])
    F, G = MaskFiring(m), MaskFiring(m.copy())
    assert F == G and hash(F) == hash(G)
    assert F == (frozenset({0, 1}), frozenset({1})) and F == [frozenset({0, 1}), frozenset({1})]
    assert F != (frozenset({0, 1}),) and F != (frozenset({0}), frozenset({1}))
    assert F != MaskFiring(np.array([[True, False], [True, True], [False, True]]))
    assert F != MaskFiring(m[:2])                      # the same sets over fewer features
    assert (F == 3) is False and F.__eq__(3) is NotImplemented
    assert repr(F) == "MaskFiring(2 neurons over 3 features)"
    assert len(F) == 2 and F[1] == frozenset({1}) and F[0:2] == (frozenset({0, 1}), frozenset({1}))
    assert list(F) == [frozenset({0, 1}), frozenset({1})]


def test_region_certificate_of_an_empty_inequality_system_and_the_robust_margin():
    from theory.patterns import region, robust_margin

    inst = Instance(W_p=np.eye(2))
    R = region(inst, [{0}, {1}])
    v, y = R.certificate()          # realizable: the Motzkin system has a positive minimum (no certificate of emptiness)
    assert y is None or v > 0
    # W_E = I: the off cells sit at z = 0, on the ReLU threshold: margin 0
    assert robust_margin(inst, np.eye(2)) == 0.0
    # on cells at 1, off cells at −0.5: every pre-activation 0.5 from 0; a half-scaled encoder halves it
    W = np.array([[1.0, -0.5], [-0.5, 1.0]])
    assert robust_margin(inst, W) == pytest.approx(0.5)
    assert robust_margin(inst, 0.5 * W) == pytest.approx(0.25)
    J = Instance(W_p=np.eye(2), activation=JumpReLU(theta=0.5))
    # JumpReLU θ = 0.5, W_E = 0.8 I: on-cells 0.3 above θ, off-cells 0.5 below it
    assert robust_margin(J, 0.8 * np.eye(2)) == pytest.approx(0.3)


def test_point_slack_by_hand_for_each_family_kind():
    from theory.margins import point_slack

    inst = Instance(W_p=np.eye(2), activation=JumpReLU(theta=0.25))
    s = point_slack(inst, np.array([[1.0, 0.0], [0.0, 0.5]]))
    # on: 1 − 0.25, 0.5 − 0.25; off: 0.25 − 0 twice: strict min 0.25, no weak inequality
    assert s == {"strict": 0.25, "weak": float("inf"), "inside": True, "method": "per-neuron reduction"}
    r = point_slack(Instance(W_p=np.eye(2)), np.array([[2.0, -1.0], [0.0, 3.0]]))
    # ReLU: on-cells 2, 3 (strict), off-cells −(−1) = 1 and −0 = 0 (weak)
    assert r == {"strict": 2.0, "weak": 0.0, "inside": True, "method": "per-neuron reduction"}
    t = point_slack(Instance(W_p=np.eye(2), activation=TopK(k=1)), np.array([[2.0, 0.5], [1.0, 0.0]]))
    # rows (features): e_0 → z = (2, 1): gap 1; e_1 → (0.5, 0): gap 0.5
    assert t["strict"] == pytest.approx(0.5) and t["weak"] == float("inf") and t["method"] == "per-row top-k reduction"
    g = point_slack(Instance(W_p=np.eye(2), activation=Gated()), np.array([[1.0, -2.0], [0.5, 0.5]]))
    assert g["strict"] == pytest.approx(1.0) and g["method"] == "per-neuron reduction (gate pre-activations)"
    tie = point_slack(Instance(W_p=np.eye(2), activation=TopK(k=1)), np.array([[1.0, 1.0], [1.0, 0.0]]))
    assert tie["strict"] == 0.0 and tie["inside"] is False


def test_registry_lookups_by_every_kind_of_name():
    relu = registry.get("relu")
    assert registry.get(relu) is relu                 # a registered Family: registering it again is a no-op
    assert registry.register(relu) is relu
    assert registry.get(ReLU) is relu and registry.get(ReLU()) is relu
    assert registry.get(" ReLU ") is relu
    clash = dataclasses.replace(relu, activation=JumpReLU)
    with pytest.raises(SDLInputError) as info:
        registry.register(clash)
    assert str(info.value) == "a family named 'relu' is already registered (theory.activations.relu); choose another name"
    assert relu.parameter_names() == () and registry.get("jumprelu").parameter_names() == ("theta",)
    assert relu.hyper({"l1_coeff": 0.5}).l1_coeff == 0.5 and relu.hyper({"other": 1}).l1_coeff == relu.hyper().l1_coeff
    none = dataclasses.replace(relu, hyperparameters=None)
    assert none.hyper({"x": 1}) is None and none.hyper() is None
    with pytest.raises(SDLInputError) as info:
        none.hyper({"x": 1}, strict=True)
    assert str(info.value) == "family relu takes no hyperparameters, not ['x']"
    with pytest.raises(SDLInputError) as info:
        relu.make(theta=1.0)
    assert str(info.value) == "activation relu takes no parameters, not ['theta']"
    assert registry.get("jumprelu").make(theta=0.5, other=None) == JumpReLU(theta=0.5)
    nodraw = dataclasses.replace(registry.get("jumprelu"), draw_activation=None)
    with pytest.raises(SDLInputError) as info:
        nodraw.draw(None)
    assert str(info.value).startswith("family jumprelu has parameters ['theta'] but no way to draw them; declare Family(")
    assert dataclasses.replace(relu, draw_activation=None).draw(None) == ReLU()
    with pytest.raises(SDLInputError) as info:
        with registry.searching(()):
            pass
    assert str(info.value) == "searching() needs at least one family"
    with pytest.raises(SDLInputError) as info:
        registry.get("no_such_family")
    assert str(info.value).startswith("unknown activation family 'no_such_family'; choose one of relu, ")


def test_options_defaults_and_immutability():
    from theory.options import default_of, help_of, option

    @dataclasses.dataclass
    class O:
        d: int
        a: int = option(3, "the a")
        b: tuple = dataclasses.field(default_factory=lambda: (1, 2))
        c: int = dataclasses.field(default=0)

    fd, fa, fb, fc = dataclasses.fields(O)
    assert default_of(fa) == 3 and default_of(fb) == (1, 2) and default_of(fc) == 0 and default_of(fd) is dataclasses.MISSING
    assert help_of(fa) == "the a" and help_of(fc) == "c"
    with pytest.raises(TypeError) as info:
        option([1], "a list")
    assert str(info.value) == "option defaults must be immutable (use a tuple)"


def test_topk_masks_with_k_zero_and_nan_entries():
    from theory.activations.base import _topk_mask

    Z = np.array([[3.0, 1.0, 2.0]])
    assert _topk_mask(Z, 0).tolist() == [[False, False, False]]
    assert _topk_mask(Z, 2).tolist() == [[True, False, True]]
    assert _topk_mask(Z, 5).tolist() == [[True, True, True]]
    # a NaN sorts last (stable order of −Z), so it is never among the top 2 here
    assert _topk_mask(np.array([[np.nan, 1.0, 2.0]]), 2).tolist() == [[False, True, True]]


def test_symbolic_units_evaluate_like_the_activations():
    z = sp.Symbol("z", real=True)
    j = JumpReLU(theta=0.5).symbolic(z)
    for v in (0.2, 0.5, 0.7):
        assert float(j.subs(z, v)) == float(JumpReLU(theta=0.5).evaluate(np.array([[v]]))[0, 0])
    with pytest.raises(NotImplementedError) as info:
        Gated().symbolic(z)
    assert str(info.value) == "a Gated unit has two pre-activations (gate, magnitude); see symbolic_unit()"
    zg, zm = sp.symbols("zg zm", real=True)
    u = Gated().symbolic_unit(zg, zm)
    assert u.subs({zg: 1, zm: 3}) == 3 and u.subs({zg: -1, zm: 3}) == 0 and u.subs({zg: 0, zm: 3}) == 0



def test_magnitude_laws_moments_json_and_samples_by_hand():
    from theory.distribution import magnitude_from_json

    c, e, u = Constant(2.0), ShiftedExponential(1.0, 0.5), Uniform(1.0, 3.0)
    assert c.second_moment() == 4.0 and e.second_moment() == pytest.approx(1 + 2 * 0.5 + 2 * 0.25)   # c² + 2cβ + 2β²
    assert u.second_moment() == pytest.approx(13 / 3)                                              # (27 − 1) / (3 · 2)
    assert c.is_constant and not e.is_constant and not u.is_constant
    assert c.to_json() == {"law": "constant", "c": 2.0}
    assert e.to_json() == {"law": "shifted_exponential", "c_min": 1.0, "beta": 0.5}
    assert u.to_json() == {"law": "uniform", "low": 1.0, "high": 3.0}
    for law in (c, e, u):
        assert magnitude_from_json(law.to_json()) == law
    rng = np.random.default_rng(0)
    assert c.sample(rng, (2, 3)).tolist() == [[2.0] * 3] * 2
    xe, xu = e.sample(rng, 200_000), u.sample(rng, 200_000)
    assert xe.min() >= 1.0 and xe.mean() == pytest.approx(1.5, abs=0.01) and (xe**2).mean() == pytest.approx(2.5, rel=0.02)
    assert 1.0 <= xu.min() and xu.max() <= 3.0 and xu.mean() == pytest.approx(2.0, abs=0.01)
    for bad, text in ((lambda: Constant(0.0), "constant magnitude c must be a finite number > 0 and <= 1e+12, got 0.0"),
                      (lambda: ShiftedExponential(-1.0), "c_min must be a finite number >= 0 and <= 1e+12, got -1.0"),
                      (lambda: ShiftedExponential(0.0, 0.0), "beta (the exponential's mean) must be a finite number > 0 and "
                                                             "<= 1e+12, got 0.0"),
                      (lambda: Uniform(2.0, 2.0), "Uniform magnitudes need 0 <= low < high, got [2.0, 2.0]"),
                      (lambda: Uniform(-1.0, 2.0), "Uniform low must be a finite number >= 0 and <= 1e+12, got -1.0"),
                      (lambda: Uniform(0.0, 1e13), "Uniform high must be a finite number >= 0 and <= 1e+12, got 10000000000000.0")):
        with pytest.raises(SDLInputError) as info:
            bad()
        assert str(info.value) == text


def test_feature_distribution_weights_json_and_samples_by_hand():
    d = FeatureDistribution([0.5, 0.25, 1.0 / 3.0], Constant(2.0))
    # M_d = p_d Π_{j≠d} (1 − p_j) · c²: 0.5 · 0.75 · (2/3) · 4 = 1, 0.25 · 0.5 · (2/3) · 4 = 1/3, (1/3) · 0.5 · 0.75 · 4 = 0.5
    assert d.feature_weights(3) == pytest.approx([1.0, 1 / 3, 0.5])
    assert d.max_p(3) == 0.5 and d.for_n(3).tolist() == [0.5, 0.25, 1.0 / 3.0]
    assert d.to_json() == {"p_active": [0.5, 0.25, 1.0 / 3.0], "magnitude": {"law": "constant", "c": 2.0}}
    s = FeatureDistribution(0.1)
    assert s.to_json() == {"p_active": 0.1, "magnitude": {"law": "constant", "c": 1.0}}
    assert s.for_n(4).tolist() == [0.1] * 4
    back = FeatureDistribution.from_json({"p_active": [0.2, 0.3]})
    assert back.p_active.tolist() == [0.2, 0.3] and back.magnitude == Constant(1.0)
    # a feature that is always on makes every other feature's weight 0 (the product has a factor 1 − 1)
    assert FeatureDistribution([1.0, 0.5]).feature_weights(2).tolist() == [0.5, 0.0]
    X = FeatureDistribution([0.0, 1.0, 0.5], Constant(3.0)).sample(3, 4000, np.random.default_rng(1))
    assert X.shape == (4000, 3) and set(np.unique(X)) <= {0.0, 3.0}
    assert (X[:, 0] == 0).all() and (X[:, 1] == 3.0).all() and (X[:, 2] > 0).mean() == pytest.approx(0.5, abs=0.03)
    assert FeatureDistribution.uniform(2, 0.3).p_active.tolist() == [0.3, 0.3]
