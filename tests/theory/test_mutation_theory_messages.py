"""Every refusal of theory/ is one SDLInputError whose WHOLE text is written here by hand (argument name,
what was got, what is allowed), and the value just inside each bound is accepted (issue 12 part 5: the
mutation runs found refusals raised with no text, misspelt, or at the wrong bound, because the tests
matched a word or two, or reached no refusal at all). Table-driven; each case is a few microseconds."""
import re

import numpy as np
import pytest

from theory import validation as V
from theory.errors import SDLInputError


ARR = np.zeros((2, 3))

# (call, the whole message) -- the validation checkers, which every public function uses
VALIDATION = [
    (lambda: V.finite_float("lr", "x"), "lr must be a finite number, got 'x'"),
    (lambda: V.finite_float("lr", True), "lr must be a finite number, got True"),
    (lambda: V.finite_float("lr", float("nan"), lo=0, lo_open=True), "lr must be a finite number > 0, got nan"),
    (lambda: V.finite_float("lr", 0.0, lo=0, lo_open=True), "lr must be a finite number > 0, got 0.0"),
    (lambda: V.finite_float("lr", -1e-9, lo=0), "lr must be a finite number >= 0, got -1e-09"),
    (lambda: V.finite_float("lr", 2.0, hi=2, hi_open=True), "lr must be a finite number < 2, got 2.0"),
    (lambda: V.finite_float("lr", 2.5, hi=2), "lr must be a finite number <= 2, got 2.5"),
    (lambda: V.finite_float("p", 1.5, 0, 1), "p must be a finite number >= 0 and <= 1, got 1.5"),
    (lambda: V.finite_float("lr", float("inf")), "lr must be a finite number, got inf"),
    (lambda: V.finite_float("lr", 10**400), "lr must be a finite number, got " + V.got(10**400)),
    (lambda: V.probability("p", 0.0, open_low=True), "p must be a finite number > 0 and <= 1, got 0.0"),
    (lambda: V.probability("p", 1.0, open_high=True), "p must be a finite number >= 0 and < 1, got 1.0"),
    (lambda: V.integer("k", 0.5), "k must be an integer, got 0.5"),
    (lambda: V.integer("k", "3"), "k must be an integer, got '3'"),
    (lambda: V.integer("k", True), "k must be an integer, got True"),
    (lambda: V.integer("k", float("inf")), "k must be an integer, got inf"),
    (lambda: V.integer("k", 7, 2, 6), "k must be an integer >= 2 and <= 6, got 7"),
    (lambda: V.integer("k", 1, 2, 6), "k must be an integer >= 2 and <= 6, got 1"),
    (lambda: V.integer("k", -3, hi=-4), "k must be an integer <= -4, got -3"),
    (lambda: V.positive_int("budget", 0), "budget must be a positive integer, got 0"),
    (lambda: V.positive_int("budget", 11, 10), "budget must be a positive integer <= 10, got 11"),
    (lambda: V.nonneg_int("k", -1), "k must be a non-negative integer, got -1"),
    (lambda: V.nonneg_int("k", 4, 3), "k must be a non-negative integer <= 3, got 4"),
    (lambda: V.seed("seed", -1), "seed must be a non-negative integer <= 9223372036854775807, got -1"),
    (lambda: V.seed("seed", 2**63), "seed must be a non-negative integer <= 9223372036854775807, got 9223372036854775808"),
    (lambda: V.bool_flag("encoder_bias", 0), "encoder_bias must be True or False, got 0"),
    (lambda: V.bool_flag("encoder_bias", "no"), "encoder_bias must be True or False, got 'no'"),
    (lambda: V.one_of("method", "x", ("a", "b")), "method must be one of 'a', 'b'; got 'x'"),
    (lambda: V.one_of("method", 1, ("1", 2)), "method must be one of '1', 2; got 1"),
    (lambda: V.one_of("method", np.ones(2), (1.0,)), "method must be one of 1.0; got an array of shape (2,) and dtype float64"),
    (lambda: V.instance_of("instance", 3, str, "a string"), "instance must be a string, got 3"),
    (lambda: V.matrix("W", "abc"), "W must be a non-empty 2-d array of real numbers, got 'abc'"),
    (lambda: V.matrix("W", None, "encoder"), "W must be a non-empty 2-d array of real numbers (encoder), got None"),
    (lambda: V.matrix("W", {1, 2}), "W must be a non-empty 2-d array of real numbers, got {1, 2}"),
    (lambda: V.matrix("W", [1 + 2j, 0]), "W must be a non-empty 2-d array of real numbers with real entries, got complex entries"),
    (lambda: V.matrix("W", [[True, False]]), "W must be a non-empty 2-d array of real numbers with real entries, got booleans"),
    (lambda: V.matrix("W", [["a", "b"]]), "W must be a non-empty 2-d array of real numbers with real entries, got [['a', 'b']]"),
    (lambda: V.matrix("W", [[1.0, None]]), "W must be a non-empty 2-d array of real numbers with real entries, got [[1.0, None]]"),
    (lambda: V.matrix("W", [[10**400, 1]]), "W has entries beyond the float range; entries must satisfy |x| <= 1e+12"),
    (lambda: V.matrix("W", [1.0, 2.0]), "W must be a non-empty 2-d array of real numbers, got shape (2,)"),
    (lambda: V.matrix("W", np.zeros((0, 2))), "W must be a non-empty 2-d array of real numbers, got shape (0, 2)"),
    (lambda: V.matrix("W", ARR, shape=(2, 2)), "W must have shape 2 × 2, got (2, 3)"),
    (lambda: V.matrix("W", ARR, "decoder", shape=(None, 4)), "W must have shape ? × 4 (decoder), got (2, 3)"),
    (lambda: V.matrix("W", [[1.0, np.nan]]), "W contains NaN or infinite entries (first at index [0, 1]); every entry must be finite"),
    (lambda: V.matrix("W", [[1.0], [-np.inf]]), "W contains NaN or infinite entries (first at index [1, 0]); every entry must be finite"),
    (lambda: V.matrix("W", [[1.0, -3e12]]), "W has an entry of magnitude 3e+12; entries must satisfy |x| <= 1e+12"),
    (lambda: V.matrix("W", [[1.0, 5.0]], max_abs=4), "W has an entry of magnitude 5; entries must satisfy |x| <= 4"),
    (lambda: V.vector("b", 3.0), "b must be a 1-d array of real numbers, got shape ()"),
    (lambda: V.vector("b", [1.0, 2.0], 3), "b must be a 1-d array of real numbers of length 3, got shape (2,)"),
    (lambda: V.vector("b", [], hint="bias"), "b must be a 1-d array of real numbers (bias), got shape (0,)"),
    (lambda: V.vector("b", [[1.0]], scalar_ok=True), "b must be a number or a 1-d array of real numbers, got shape (1, 1)"),
    (lambda: V.vector("b", [np.inf]), "b contains NaN or infinite entries (first at index [0]); every entry must be finite"),
    (lambda: V.bool_mask("mask", np.ones((2, 2))), "mask must be a 2-d boolean array; got an array of shape (2, 2) and dtype "
                                                   "float64 (pass mask.astype(bool) for a 0/1 mask)"),
    (lambda: V.bool_mask("mask", [[True]], "inputs"), "mask must be a 2-d boolean array (inputs); got [[True]] (pass "
                                                      "mask.astype(bool) for a 0/1 mask)"),
    (lambda: V.bool_mask("mask", np.ones(3, dtype=bool)), "mask must be a 2-d boolean array, got shape (3,)"),
    (lambda: V.index("i", 3, 3), "i must be an integer index, numbered 0..2; got 3"),
    (lambda: V.index("i", -1, 3), "i must be an integer index, numbered 0..2; got -1"),
    (lambda: V.index("i", 1.0, 3), "i must be an integer index, numbered 0..2; got 1.0"),
    (lambda: V.index("i", True, 3), "i must be an integer index, numbered 0..2; got True"),
    (lambda: V.index_set("F", "12", 3), "F must be a set of integer indices in 0..2, got '12'"),
    (lambda: V.index_set("F", {0: 1}, 3), "F must be a set of integer indices in 0..2, got {0: 1}"),
    (lambda: V.index_set("F", 5, 3), "F must be a set of integer indices in 0..2, got 5"),
    (lambda: V.index_set("F", np.zeros((1, 1), dtype=int), 3), "F must be a set of integer indices in 0..2, got an array "
                                                              "of shape (1, 1) and dtype int64"),
    (lambda: V.index_set("F", [0, 5], 3), "each element of F must be an integer index, numbered 0..2; got 5"),
]


@pytest.mark.parametrize("call,text", VALIDATION)
def test_each_checker_refusal_is_its_whole_one_line_message(call, text, refuses):
    refuses(call, text)


def test_checkers_accept_the_values_just_inside_their_bounds():
    assert V.finite_float("x", 0.0, lo=0) == 0.0 and V.finite_float("x", 2, hi=2) == 2.0
    assert V.finite_float("x", 1e-300, lo=0, lo_open=True) == 1e-300 and V.finite_float("x", 1.999, hi=2, hi_open=True) == 1.999
    assert V.finite_float("x", np.float32(0.5)) == 0.5 and type(V.finite_float("x", 3)) is float
    assert V.probability("p", 0.0) == 0.0 and V.probability("p", 1.0) == 1.0
    assert V.integer("k", 3.0) == 3 and type(V.integer("k", 3.0)) is int and V.integer("k", np.int64(6), 2, 6) == 6
    assert V.integer("k", 2, 2, 6) == 2 and V.positive_int("b", 10, 10) == 10 and V.nonneg_int("k", 0) == 0
    assert V.seed("seed", 2**63 - 1) == 2**63 - 1 and V.seed("seed", 0) == 0
    assert V.bool_flag("f", np.bool_(True)) is True and V.bool_flag("f", False) is False
    assert V.one_of("m", "b", ("a", "b")) == "b" and V.one_of("m", None, (None, 1)) is None
    assert V.index("i", np.int64(2), 3) == 2 and V.index("i", 0, 1) == 0
    assert V.index_set("F", range(3), 3) == frozenset({0, 1, 2}) and V.index_set("F", np.array([2]), 3) == frozenset({2})
    assert V.index_set("F", (), 3) == frozenset()


def test_matrix_and_vector_return_read_only_float_copies():
    src = [[1, 2], [3, 4]]
    M = V.matrix("W", src, shape=(2, None))
    assert M.dtype == np.float64 and not M.flags.writeable and M.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    obj = np.array([[1, 2.5]], dtype=object)   # Python numbers in an object array are fine
    assert V.matrix("W", obj).tolist() == [[1.0, 2.5]]
    assert V.matrix("W", [[1e12, -1e12]]).tolist() == [[1e12, -1e12]]   # |x| = MAX_ABS is allowed
    v = V.vector("b", 2.5, scalar_ok=True)
    assert v.shape == (1,) and v[0] == 2.5 and not v.flags.writeable
    assert V.vector("b", [1, 2], 2).tolist() == [1.0, 2.0]
    mask = np.zeros((2, 1), dtype=bool)
    assert V.bool_mask("m", mask) is mask


def test_got_summarises_arrays_cuts_long_text_and_survives_a_broken_repr():
    assert V.got(np.zeros((3, 4), dtype=np.float32)) == "an array of shape (3, 4) and dtype float32"
    assert V.got("a\nb") == "'a\\nb'" and V.got([1,
                                                2]) == "[1, 2]"
    long = "x" * 100
    assert V.got(long) == repr(long)[:59] + "…" and len(V.got(long)) == 60
    assert V.got("x" * 58) == repr("x" * 58)   # 60 characters with its quotes: not cut
    assert V.got(long, limit=10) == repr(long)[:9] + "…"

    class Broken:
        def __repr__(self):
            raise RuntimeError("no")

    assert V.got(Broken()) == "<Broken>"


def test_frozen_means_read_only_and_owning_its_data():
    a = np.zeros(3)
    assert not V.frozen(a) and not V.frozen([0.0])
    a.setflags(write=False)
    assert V.frozen(a)
    b = np.zeros(3)
    view = b[:]
    view.setflags(write=False)
    assert not V.frozen(view)   # a read-only view of a writable array can still change


def test_a_large_checked_matrix_is_not_copied_again_but_a_tighter_bound_is_rechecked():
    big = V.matrix("W", np.full((256, 256), 3.0))        # 65 536 entries: remembered
    assert V.matrix("W", big) is big                     # passed back: the same array, no copy
    with pytest.raises(SDLInputError, match=r"^W has an entry of magnitude 3; entries must satisfy \|x\| <= 2$"):
        V.matrix("W", big, max_abs=2.0)                  # checked against a looser bound only
    with pytest.raises(SDLInputError, match=r"^W must have shape 1 × \?, got \(256, 256\)$"):
        V.matrix("W", big, shape=(1, None))
    small = V.matrix("W", np.ones((2, 2)))
    assert V.matrix("W", small) is not small             # small arrays are simply checked again


# --- the refusals of theory's modules, each with its whole text --------------------------------------
from theory.activations import BatchTopK, Gated, JumpReLU, ReLU, TopK  # noqa: E402
from theory.distribution import Constant, FeatureDistribution, ShiftedExponential, Uniform, magnitude_from_json  # noqa: E402
from theory.instance import Instance  # noqa: E402

I2 = Instance(W_p=np.eye(2))
I2D = Instance(W_p=np.eye(2), distribution=FeatureDistribution.uniform(2, 0.1))


def _theory_cases():
    from theory import geometry, objective, options, patterns, printing, registry, shrinkage
    from theory.activations.gated import absorb_scale, tied_encoder
    from theory.activations.topk import TopKTraining
    from theory.derivation import least_squares_decoder, tied_gated_gradients
    from theory.partial_optimum import alternating_convex_search
    from theory.patterns import ActivationPattern, as_pattern, pattern_of, region_on_inputs

    P = ActivationPattern
    return [
        (lambda: magnitude_from_json({"law": "gamma"}), "a magnitude law JSON is an object with 'law' one of "
                                                        "['constant', 'shifted_exponential', 'uniform']; got {'law': 'gamma'}"),
        (lambda: magnitude_from_json([1]), "a magnitude law JSON is an object with 'law' one of "
                                           "['constant', 'shifted_exponential', 'uniform']; got [1]"),
        (lambda: magnitude_from_json({"law": "uniform", "low": 0.5, "high": 1.0, "mid": 2}),
         "magnitude law Uniform takes ['high', 'low'], not ['mid']"),
        (lambda: FeatureDistribution(0.1, magnitude=2.0), "magnitude must be a theory.distribution magnitude law (Constant, "
                                                          "ShiftedExponential, Uniform), got 2.0"),
        (lambda: FeatureDistribution([0.1, 1.5]), "p_active is the probability that a feature is ON and must lie in [0, 1]; "
                                                  "got [0.1, 1.5] (if you meant the paper's sparsity S, pass p_active = 1 - S)"),
        (lambda: FeatureDistribution([-0.1]), "p_active is the probability that a feature is ON and must lie in [0, 1]; "
                                              "got [-0.1] (if you meant the paper's sparsity S, pass p_active = 1 - S)"),
        (lambda: FeatureDistribution([0.1, 0.2]).for_n(3), "the distribution has p_active for 2 features but the instance has n = 3"),
        (lambda: FeatureDistribution.from_json({"magnitude": {}}), "a distribution JSON is an object with 'p_active' and "
                                                                   "'magnitude'; got {'magnitude': {}}"),
        (lambda: Instance(W_p=np.eye(2), distribution="uniform"), "distribution must be a theory.distribution.FeatureDistribution, "
                                                                  "got 'uniform'"),
        (lambda: Instance(W_p=np.eye(2), distribution=FeatureDistribution([0.0, 0.5])),
         "the distribution gives feature weights M_d = p_d Π(1-p_j) E[m²] = 0 for features [0] (p_active 0, or another feature "
         "always on): L̃ would ignore them; every M_d must be > 0, so use p_active strictly between 0 and 1"),
        (lambda: Instance(W_p=np.eye(2), weights=[1.0, 0.0]), "feature weights M_d must be finite and > 0, got [1.0, 0.0]"),
        (lambda: Instance.from_json({"W_r": [[1.0]]}), "an instance JSON is an object with 'W_p' (and optionally W_r, weights, "
                                                       "activation, encoder_bias, distribution) as written by Instance.to_json(); "
                                                       "got {'W_r': [[1.0]]}"),
        (lambda: Instance.from_json({"W_p": [[1.0]], "activation": "relu"}),
         re.compile(r"an instance JSON is an object with 'W_p' \(and optionally .*got \{'W_p': \[\[1\.0\]\], 'activation': 'relu'\}")),
        (lambda: geometry.welch_bound(0, 2), "welch_bound needs n >= 1 and dim >= 1, got n=0, dim=2"),
        (lambda: geometry.welch_bound(3, 0), "welch_bound needs n >= 1 and dim >= 1, got n=3, dim=0"),
        (lambda: objective.exact_loss(I2, np.eye(2), np.eye(2)), "the exact objective needs a feature distribution: "
                                                                  "Instance(..., distribution=FeatureDistribution.uniform(n, p_active))"),
        (lambda: objective.exact_loss(I2D, np.eye(2), np.eye(2), method="sampled"),
         "method must be one of 'auto', 'exact', 'subsets', 'monte_carlo'; got 'sampled'"),
        (lambda: objective.exact_loss(Instance(W_p=np.eye(2), distribution=FeatureDistribution.uniform(2, 0.1, Uniform(0.5, 1.0))),
                                      np.eye(2), np.eye(2), method="exact"),
         "method='exact' needs constant magnitudes and n <= 20; use 'subsets' or 'monte_carlo'"),
        (lambda: objective.exact_loss(Instance(W_p=np.eye(15), distribution=FeatureDistribution.uniform(15, 0.01)),
                                      np.eye(15), np.eye(15), method="subsets"),
         "method='subsets' enumerates 2^n active sets; use it for n <= 14"),
        (lambda: shrinkage.magnitude_moments(3.0), "no moments known for magnitude law 3.0; use Constant, ShiftedExponential or Uniform"),
        (lambda: options.build(TopKTraining, {"kk": 1}, what="TopK training"), "TopK training takes ['k'], not ['kk']"),
        (lambda: TopKTraining(k=5).validate(4), "k = 5 must be an integer in [0, n_latents = 4] (0 = sqrt(n_latents))"),
        (lambda: TopKTraining(k=-1).validate(), "k = -1 must be an integer in [0, n_latents = None] (0 = sqrt(n_latents))"),
        (lambda: TopKTraining(k=0.5).validate(), "k must be an integer, got 0.5"),
        (lambda: registry.get("matryoshka").hyper({"prefixes": (2, 0)}), "Matryoshka prefixes must be positive integers, got [2, 0]"),
        (lambda: registry.get("matryoshka").hyper({"prefixes": (True,)}), "Matryoshka prefixes must be positive integers, got [True]"),
        (lambda: registry.get("jumprelu").hyper({"l0_coeff": -1.0}), "l0_coeff must be a finite number >= 0, got -1.0"),
        (lambda: registry.get("jumprelu").hyper({"threshold_init": 0.0}), "JumpReLU threshold_init must be a finite number > 0, got 0.0"),
        (lambda: registry.get("jumprelu").hyper({"bandwidth": 0.0}), "JumpReLU bandwidth must be a finite number > 0, got 0.0"),
        (lambda: registry.get("relu").hyper({"k": 3}, strict=True), "family relu takes hyperparameters ['l1_coeff'], not ['k']"),
        (lambda: registry.register("relu"), "register() takes a theory.registry.Family, got 'relu'"),
        (lambda: registry.get("theory.activations:NoSuchThing"),
         "activation family 'theory.activations:NoSuchThing': module 'theory.activations' has no 'NoSuchThing'"),
        (lambda: registry.get("theory.errors:SDLInputError"), "theory.errors.SDLInputError has no registered family; declare one "
                                                               "with theory.registry.register(Family(name, activation=...)) in its module"),
        (lambda: registry.get("theory.validation:MAX_ABS"), "'theory.validation:MAX_ABS' is neither a theory.registry.Family "
                                                             "nor an activation class"),
        (lambda: registry.activation_from_json({"theta": 1.0}), "an activation JSON is an object with 'name' (and its "
                                                                 "parameters), e.g. {'name': 'relu'}; got {'theta': 1.0}"),
        (lambda: Gated(tied="yes"), "Gated tied must be True or False, got 'yes'"),
        (lambda: Gated().active(np.zeros((2, 3))), "a Gated encoder stacks gate rows over magnitude rows (2 n_q pre-activations), got 3"),
        (lambda: tied_encoder(np.eye(2), np.zeros(3)), "r must have one entry per unit: shape (2,), got (3,)"),
        (lambda: absorb_scale(np.eye(2), np.ones((3, 2))),
         "a Gated encoder stacks gate rows over magnitude rows: W_E needs 2 n_q rows, got 3"),
        (lambda: tied_gated_gradients(I2, np.eye(2), np.eye(2), np.zeros(2)),
         "tied_gated_gradients needs a Gated(tied=True) instance, got ReLU"),
        (lambda: least_squares_decoder(I2, np.eye(2), np.zeros(2)), "b_E given but the instance has encoder_bias=False"),
        (lambda: P("ab", 2), "a pattern is a list of sets of feature indices, one set per neuron, e.g. [{0, 1}, set()]; got 'ab'"),
        (lambda: P([], 2), "a pattern needs at least one neuron (one set F_i per neuron)"),
        (lambda: P.from_sets(np.array([[0, 1]]), 2), "a pattern given as an array must be a features × neurons boolean mask "
                                                     "(pass mask.astype(bool)); got an array of shape (1, 2) and dtype int64, "
                                                     "which reads equally well as indices"),
        (lambda: P.from_sets({0: 1}, 2), "a pattern is a list of sets of feature indices, one set per neuron, e.g. "
                                         "[{0, 1}, set()]; got {0: 1}"),
        (lambda: P.from_mask(np.zeros((2, 0), dtype=bool)), "a pattern mask is features × neurons with at least one of each, "
                                                            "got shape (2, 0)"),
        (lambda: as_pattern([{0}, {1}, set()], I2, 2), "pattern has 3 neurons but the encoder has n_q = 2 rows"),
        (lambda: as_pattern(P([{0}, {1}], 3), I2), "pattern is over 3 features but the instance has n = 2"),
        (lambda: as_pattern([{0}, {2}], I2), "each element of the features F_1 of neuron 1 must be an integer index, "
                                             "numbered 0..1; got 2"),
        (lambda: pattern_of(Instance(W_p=np.eye(2), activation=Gated()), np.ones((3, 2))),
         "W_E: a Gated encoder stacks gate rows over magnitude rows: W_E needs 2 n_q rows, got 3"),
        (lambda: patterns.region(I2, [{0}, {1}]).pack(np.eye(2), np.zeros(2)), "b_E given but the instance has encoder_bias=False"),
        (lambda: region_on_inputs(I2, np.ones((1, 3)), np.ones((1, 2), dtype=bool)),
         "inputs must be given in feature coordinates (rows of length n = 2), got shape (1, 3)"),
        (lambda: region_on_inputs(I2, np.ones((2, 2)), np.ones((1, 2), dtype=bool)),
         "mask must be inputs × neurons with 2 rows, got shape (1, 2)"),
        (lambda: alternating_convex_search(I2, [{0}, {1}], W_E0=-np.eye(2)), "the starting encoder is not in the region of "
                                                                             + str(P([{0}, {1}], 2))),
        (lambda: printing.sections(None, forms=("matrix", "tensor")), "forms must be a non-empty subset of ['matrix', 'block'], "
                                                                      "got ['matrix', 'tensor']"),
        (lambda: printing.sections(None, forms=()), "forms must be a non-empty subset of ['matrix', 'block'], got []"),
        (lambda: registry.get("relu").hyper({"l1_coeff": 0.1, "x": 1}, strict=True),
         "family relu takes hyperparameters ['l1_coeff'], not ['x']"),
    ]


THEORY = _theory_cases()


@pytest.mark.parametrize("i", range(len(THEORY)))
def test_each_theory_refusal_is_its_whole_one_line_message(i, refuses):
    refuses(*THEORY[i])
