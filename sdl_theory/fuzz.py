"""Fuzzing the public boundary (issue 10): malformed inputs for every public function and every CLI
command, each call judged as

- ``ok``: it returned, and no NaN is anywhere in what it returned;
- ``refused``: it raised :class:`SDLInputError` with a one-line message (argparse's usage exit, code 2
  with one line on stderr, counts as refused for the CLI);
- ``unhandled``: any other exception (or an empty / multi-line refusal, or CLI exit 70);
- ``hang``: it ran past the per-call deadline;
- ``nan``: it returned a NaN somewhere.

Used by ``tests/test_fuzz_boundary.py`` (CI-sized) and ``scripts/fuzz_boundary.py`` (≥ 10,000 inputs).
Strategies mix plain junk (None, strings, bools, complex, huge ints, NaN/inf, ragged lists, wrong
shapes) with inputs that are *almost* right, so the calls that pass validation also do real work.
The CLI's expensive work (claim searches, training, studies, model inspection) is replaced by a stub
that records it was reached: the CLI fuzz is about the boundary; the work's own inputs are fuzzed
through the API targets.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import signal
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

from theory.errors import SDLInputError

OUTCOMES = ("ok", "refused", "unhandled", "hang", "nan")


class Hang(BaseException):
    """Raised by the per-call alarm (a BaseException so that no ``except Exception`` swallows it)."""


@contextlib.contextmanager
def deadline(seconds: float):
    """SIGALRM after ``seconds`` (main thread, POSIX); nested use keeps the outer alarm off."""
    def on_alarm(signum, frame):
        raise Hang()

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def has_nan(obj, depth: int = 0) -> bool:
    """Whether a NaN is anywhere in ``obj`` (floats, numpy arrays, containers, dataclass-likes)."""
    if depth > 12:
        return False
    if isinstance(obj, float):
        return math.isnan(obj)
    if isinstance(obj, np.ndarray):
        return obj.dtype.kind in "fc" and bool(np.isnan(obj).any())
    if isinstance(obj, np.generic):
        return has_nan(obj.item(), depth + 1)
    if isinstance(obj, dict):
        return any(has_nan(v, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return any(has_nan(v, depth + 1) for v in obj)
    if hasattr(obj, "to_json") and not isinstance(obj, type):
        try:
            return has_nan(obj.to_json(), depth + 1)
        except Exception:  # noqa: BLE001 - to_json of a returned value failing is itself a finding
            return True
    return False


@dataclass
class Tally:
    counts: dict = field(default_factory=lambda: {o: 0 for o in OUTCOMES})
    per_target: dict = field(default_factory=dict)
    examples: dict = field(default_factory=dict)  # outcome → a few (target, args, error) for the report

    def add(self, target: str, outcome: str, detail: str = "") -> None:
        self.counts[outcome] += 1
        self.per_target.setdefault(target, {o: 0 for o in OUTCOMES})[outcome] += 1
        if outcome not in ("ok", "refused"):
            self.examples.setdefault(outcome, [])
            if len(self.examples[outcome]) < 20:
                self.examples[outcome].append(f"{target}: {detail}"[:600])

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def judge_call(fn: Callable[[], Any], seconds: float) -> tuple[str, str]:
    """Run ``fn`` under a deadline and classify it (see the module docstring)."""
    try:
        with deadline(seconds):
            result = fn()
    except Hang:
        return "hang", f"no answer within {seconds} s"
    except SDLInputError as exc:
        msg = str(exc)
        if not msg.strip() or "\n" in msg:
            return "unhandled", f"SDLInputError without a one-line message: {msg!r}"
        return "refused", msg
    except Exception as exc:  # noqa: BLE001 - exactly what the fuzz looks for
        import traceback

        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return "unhandled", f"{type(exc).__name__}: {exc} (at {frame.filename}:{frame.lineno})"
    if has_nan(result):
        return "nan", f"returned a NaN: {str(result)[:300]}"
    return "ok", ""


# ------------------------------------------------------------------------------------------ strategies
finite = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
weird_floats = st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e300, -1e300, 1e-320, 0.0, -0.0])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 5), st.sampled_from([10**22, -(10**22), 2**64, 10**400]),
    finite, weird_floats, st.complex_numbers(max_magnitude=3) | st.just(complex("nan+1j")), st.text(max_size=4),
    st.sampled_from(["no", "1", "nan", "0,1", "12", "", "relu"]), st.binary(max_size=3),
)


@st.composite
def arrays(draw, shape=None, kinds=("f", "i", "b", "c", "nan", "huge", "obj")):
    """numpy arrays of a given (or drawn) shape, of every dtype, with NaN/inf/huge entries."""
    if shape is None:
        shape = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=3)))
    kind = draw(st.sampled_from(kinds))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    a = rng.normal(size=shape)
    if kind == "i":
        return np.rint(a).astype(int)
    if kind == "b":
        return a > 0
    if kind == "c":
        return a + 1j * rng.normal(size=shape)
    if kind == "nan" and a.size:
        a.flat[draw(st.integers(0, a.size - 1))] = draw(weird_floats)
    if kind == "huge" and a.size:
        a.flat[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from([1e13, 1e200, -1e300]))
    if kind == "obj":
        return a.astype(object)
    return a


def unit_columns(rng: np.random.Generator, dim: int, n: int) -> np.ndarray:
    W = rng.normal(size=(dim, n))
    return W / np.linalg.norm(W, axis=0)


@st.composite
def good_matrices(draw, dim=None, n=None):
    dim = dim or draw(st.integers(1, 3))
    n = n or draw(st.integers(1, 4))
    return unit_columns(np.random.default_rng(draw(st.integers(0, 2**16))), dim, n)


junk = st.recursive(scalars | arrays(), lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
                    | st.dictionaries(st.text(max_size=2) | st.integers(0, 3), inner, max_size=2)
                    | st.sets(st.integers(-1, 4) | st.floats(0, 3) | st.text(max_size=1), max_size=3), max_leaves=6)


@st.composite
def mostly(draw, strategy, bad=None):
    """``strategy`` three times in four, else ``bad`` (default: junk): most calls get past validation."""
    return draw(strategy) if draw(st.integers(0, 3)) else draw(junk if bad is None else bad)


@st.composite
def activations_or_junk(draw):
    from theory.activations import BatchTopK, JumpReLU, ReLU, TopK, TopKReLU

    choice = draw(st.integers(0, 5))
    try:
        return [ReLU(), JumpReLU(theta=0.5), TopK(k=1), TopKReLU(k=2), BatchTopK(k=1), BatchTopK(k=1, threshold=0.2)][choice]
    except SDLInputError:  # pragma: no cover
        return None


@st.composite
def instances_or_junk(draw):
    """A valid small instance most of the time (so the target does real work), else junk."""
    from theory import FeatureDistribution, Instance

    if draw(st.integers(0, 9)) == 0:
        return draw(junk)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n, dim = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dist = FeatureDistribution.uniform(n, draw(st.sampled_from([0.05, 0.2, 0.5]))) if draw(st.booleans()) else None
    return Instance(W_p=unit_columns(rng, dim, n), activation=draw(activations_or_junk()),
                    encoder_bias=draw(st.booleans()), distribution=dist)


@st.composite
def params_for(draw, inst):
    """``(W_D, W_E, b_E)`` right-shaped for ``inst`` (or not), sometimes junk or poisoned."""
    n_q = draw(st.integers(1, 3))
    n_p = getattr(inst, "n_p", 2)
    n_r = getattr(inst, "n_r", 2)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    W_E, W_D = rng.normal(size=(n_q, n_p)), rng.normal(size=(n_r, n_q))
    b_E = rng.normal(size=n_q) if getattr(inst, "encoder_bias", False) else None
    mode = draw(st.integers(0, 9))
    if mode == 1:
        W_E = draw(arrays(shape=W_E.shape))
    elif mode == 2:
        W_D = draw(arrays(shape=W_D.shape))
    elif mode == 3:
        W_E = draw(junk)
    elif mode == 4:
        b_E = draw(mostly(arrays(shape=(n_q,))))
    return W_D, W_E, b_E


@st.composite
def patterns_for(draw, n):
    """Patterns as sets, masks (bool and numeric), junk, or out-of-range indices."""
    mode = draw(st.integers(0, 4))
    n_q = draw(st.integers(1, 3))
    if mode == 0:
        return [set(draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=n))) for _ in range(n_q)]
    if mode == 1:
        return np.random.default_rng(draw(st.integers(0, 99))).random((n, n_q)) > 0.5
    if mode == 2:
        return draw(arrays(shape=(n, n_q)))
    if mode == 3:
        return [draw(junk) for _ in range(n_q)]
    return draw(junk)


# --------------------------------------------------------------------------------------- API targets
def api_targets() -> dict[str, st.SearchStrategy]:
    """name → strategy of zero-argument callables (one public call each)."""
    import theory
    from proofs_check import check
    from theory import activations as A
    from theory import distribution as D
    from theory.derivation import derive, least_squares_decoder
    from theory.patterns import ActivationPattern

    def call(fn, *a, **k):
        return lambda: fn(*a, **k)

    @st.composite
    def instance_ctor(draw):
        W_p = draw(mostly(good_matrices(), arrays() | junk))
        n = W_p.shape[1] if isinstance(W_p, np.ndarray) and W_p.ndim == 2 else 2
        kw = {}
        for name, strat in (("W_r", mostly(good_matrices(n=n), arrays() | junk)),
                            ("weights", mostly(st.lists(st.floats(0.1, 3), min_size=n, max_size=n), arrays() | junk)),
                            ("activation", mostly(activations_or_junk())), ("encoder_bias", mostly(st.booleans())),
                            ("distribution", mostly(st.builds(lambda p: D.FeatureDistribution(p), st.sampled_from([0.1, 0.5]))))):
            if draw(st.integers(0, 2)) == 0:
                kw[name] = draw(strat)
        return call(theory.Instance, W_p=W_p, **kw)

    @st.composite
    def from_json(draw):
        rng = np.random.default_rng(draw(st.integers(0, 999)))
        base = theory.Instance(W_p=unit_columns(rng, 2, 2)).to_json()
        key = draw(st.sampled_from(sorted(base) + ["activation.name", "activation.theta", "distribution"]))
        d = dict(base)
        if key.startswith("activation."):
            d["activation"] = {"name": "jumprelu", "theta": 0.5} | {key.split(".")[1]: draw(junk)}
        else:
            d[key] = draw(junk)
        return call(theory.Instance.from_json, draw(st.one_of(st.just(d), junk)))

    @st.composite
    def activation_ctor(draw):
        cls = draw(st.sampled_from([A.ReLU, A.JumpReLU, A.TopK, A.TopKReLU, A.BatchTopK]))
        arg = draw(mostly(st.integers(0, 4) | st.floats(0, 3), junk | st.integers(-2, 0) | finite))
        key = "theta" if hasattr(cls, "theta") else "k"   # ReLU / JumpReLU take a threshold, the TopK family k
        if cls is A.BatchTopK and draw(st.booleans()):
            return call(cls, k=1, threshold=arg)
        return call(cls, **{key: arg})

    @st.composite
    def make_activation(draw):
        name = draw(mostly(st.sampled_from(["relu", "jumprelu", "topk", "topk_relu", "batchtopk", "TopK-ReLU"])))
        params = {}
        named = isinstance(name, str)   # junk names (arrays among them) are compared as nothing
        if (named and name == "jumprelu") or draw(st.integers(0, 3)) == 0:
            params["theta"] = draw(mostly(st.floats(0, 2)))
        if (named and name in ("topk", "topk_relu", "batchtopk", "TopK-ReLU")) or draw(st.integers(0, 3)) == 0:
            params["k"] = draw(mostly(st.integers(1, 4)))
        return call(A.make_activation, name, **params) if draw(st.booleans()) else call(A.activation_from_json, draw(junk | st.just({"name": name, **params})))

    @st.composite
    def distribution_ctor(draw):
        which = draw(st.integers(0, 5))
        a, b = draw(mostly(st.floats(0, 3))), draw(mostly(st.floats(0, 3)))
        if which == 0:
            return call(D.Constant, a)
        if which == 1:
            return call(D.ShiftedExponential, a, b)
        if which == 2:
            return call(D.Uniform, a, b)
        if which == 3:
            return call(D.FeatureDistribution, draw(mostly(st.lists(st.floats(0, 1), min_size=1, max_size=3), arrays())),
                        draw(mostly(st.just(D.Constant(1.0)))))
        if which == 4:
            return call(D.FeatureDistribution.uniform, draw(mostly(st.integers(1, 4))), draw(mostly(st.floats(0, 1), st.floats(-0.5, 1.5) | junk)))
        return call(D.FeatureDistribution.from_json, draw(mostly(st.fixed_dictionaries({
            "p_active": mostly(st.floats(0, 1)),
            "magnitude": mostly(st.sampled_from([{"law": "constant", "c": 2.0}, {"law": "uniform", "low": 0.0, "high": 1.0},
                                                 {"law": "shifted_exponential", "c_min": 1.0, "beta": 0.5}]))}))))

    @st.composite
    def with_instance_and_params(draw, fn):
        inst = draw(instances_or_junk())
        W_D, W_E, b_E = draw(params_for(inst))
        return call(fn, inst, W_D, W_E, b_E)

    @st.composite
    def exact_loss(draw):
        from theory import FeatureDistribution

        inst = draw(instances_or_junk())
        if isinstance(inst, theory.Instance) and inst.distribution is None and draw(st.booleans()):
            inst = inst.replace(distribution=FeatureDistribution.uniform(inst.n, 0.3), weights=None)
        W_D, W_E, b_E = draw(params_for(inst))
        kw = {}
        n_r = getattr(inst, "n_r", 2)
        for name, good, bad in (("method", st.sampled_from(["auto", "exact", "subsets", "monte_carlo"]), junk),
                                ("samples", st.integers(2, 300), st.integers(-2, 1) | junk), ("batch", st.integers(1, 50), st.integers(-1, 0) | junk),
                                ("seed", st.integers(0, 5), st.integers(-3, -1) | junk), ("confidence", st.floats(0.01, 0.99), st.floats(-1, 2) | junk),
                                ("b_D", arrays(shape=(n_r,), kinds=("f",)), arrays() | junk)):
            if draw(st.integers(0, 2)) == 0:
                kw[name] = draw(mostly(good, bad))
        kw.setdefault("samples", 200)
        return call(theory.exact_loss, inst, W_D, W_E, b_E, **kw)

    @st.composite
    def pattern_calls(draw):
        inst = draw(instances_or_junk())
        n = getattr(inst, "n", 2)
        pat = draw(patterns_for(n))
        which = draw(st.integers(0, 5))
        if which == 0:
            return call(theory.region, inst, pat)
        if which == 1:
            return call(theory.realize, inst, pat)
        if which == 2:
            W_D, W_E, b_E = draw(params_for(inst))
            return call(theory.pattern_of, inst, W_E, b_E)
        if which == 3:
            return call(ActivationPattern.from_sets, pat, draw(st.integers(-1, 4) | junk))
        if which == 4:
            return call(ActivationPattern.from_mask, pat)

        def contains():
            R = theory.region(inst, pat)
            W_D, W_E, b_E = draw(params_for(inst))
            return R.contains(W_E, b_E), R.find_point()
        return contains

    @st.composite
    def derive_calls(draw):
        act = draw(activations_or_junk() | junk)
        if draw(st.booleans()):
            inst = draw(instances_or_junk())
            W_D, W_E, b_E = draw(params_for(inst))
            return call(least_squares_decoder, inst, W_E, b_E)
        return call(derive, act, encoder_bias=draw(st.booleans() | junk))

    @st.composite
    def check_calls(draw):
        from theory import Instance

        claim = draw(mostly(st.sampled_from(["C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"])))
        kw = {"budget": draw(mostly(st.integers(1, 2), st.integers(-1, 0) | junk)), "seed": draw(mostly(st.integers(0, 3)))}
        inst = draw(instances_or_junk())
        if isinstance(inst, Instance) and draw(st.booleans()):
            inst = Instance(W_p=inst.W_p, activation=inst.activation)  # without the extras, fewer refusals
        n = getattr(inst, "n", 2)
        extra = draw(st.sampled_from(["", "W_E", "W_D", "b_E", "pattern", "parents", "p_active", "n_q"]))
        if extra in ("W_E", "W_D", "b_E"):
            W_D, W_E, b_E = draw(params_for(inst))
            kw |= {"W_D": W_D, "W_E": W_E} if extra != "b_E" else {"W_D": W_D, "W_E": W_E, "b_E": b_E}
        elif extra == "pattern":
            kw["pattern"] = draw(patterns_for(n))
        elif extra == "parents":
            kw["parents"] = draw(junk | st.dictionaries(st.integers(0, n) | st.floats(0, 2) | st.text(max_size=2),
                                                        st.lists(st.integers(0, n)) | junk, max_size=2))
        elif extra == "p_active":
            kw["p_active"] = draw(mostly(st.floats(0.01, 0.6), st.floats(-0.1, 1.1) | junk))
        elif extra == "n_q":
            kw["n_q"] = draw(mostly(st.integers(1, 4), st.integers(-1, 0) | junk))
        return call(check, claim, inst, **kw)

    @st.composite
    def configs(draw):
        import dataclasses

        from numerics import config as C

        cls = draw(st.sampled_from([C.DataConfig, C.TrainConfig, C.BenchConfig]))
        f = draw(st.sampled_from([f.name for f in dataclasses.fields(cls)]))
        value = draw(junk | st.integers(-1, 3) | st.floats(-1, 2) | weird_floats)

        def build():
            cfg = cls(**{f: value})
            return cfg.validate()
        return build

    @st.composite
    def preset(draw):
        from numerics.bench import preset_config

        data = draw(st.dictionaries(st.sampled_from(["n_features", "d_in", "p_active", "interference", "beta"]),
                                    junk | finite | st.integers(-1, 50), max_size=2))
        return lambda: preset_config(draw(st.sampled_from(["small", "x"]) | junk), data=data).validate()

    return {
        "Instance": instance_ctor(), "Instance.from_json": from_json(), "activations": activation_ctor(),
        "make_activation": make_activation(), "distributions": distribution_ctor(),
        "approx_loss": with_instance_and_params(theory.approx_loss),
        "approx_loss_terms": with_instance_and_params(theory.approx_loss_terms),
        "exact_loss": exact_loss(), "patterns/regions": pattern_calls(), "derive": derive_calls(),
        "proofs_check.check": check_calls(), "numerics.config": configs(), "bench.preset_config": preset(),
    }


# --------------------------------------------------------------------------------------- CLI targets
CLI_VALUES = ["nan", "inf", "-inf", "-1", "0", "1", "2", "0.5", "1e400", str(10**22), "", "abc", "C1", "relu",
              "0,1|2|", "0.99", "-0", "1e-9", "x=1", "small"]


def _stub_cli_work(stack: contextlib.ExitStack) -> None:
    """Replace the CLI's expensive work by stubs (see the module docstring)."""
    from unittest import mock

    import proofs_check.bridge as bridge
    import sdl_theory.commands.verify as verify

    def fake_claim(claim_id, budget, seed, *args, **kwargs):
        from proofs_check.report import ClaimOutcome

        return ClaimOutcome(claim_id, None, "stubbed by the fuzz", "", "")

    stack.enter_context(mock.patch.object(verify, "run_claim", fake_claim))
    stack.enter_context(mock.patch("proofs_check.report.write_report",
                                   lambda out, outcomes, **k: {"markdown": "-", "json": "-", "figures": []}))
    def fake_bench(cfg, out=None, overwrite=False, **k):
        import dataclasses
        from pathlib import Path

        from numerics.bench import BENCH_OUTPUTS
        from numerics.io import to_jsonable
        from numerics.outdir import claim_out_dir

        d = claim_out_dir(out or cfg.out, to_jsonable(dataclasses.asdict(cfg)), "results.json", BENCH_OUTPUTS,
                          overwrite=overwrite, what="bench run")
        Path(d, "table.md").write_text("stub\n")
        return {"errors": {}}

    stack.enter_context(mock.patch("numerics.bench.run_bench", fake_bench))
    import studies

    def fake_study_run(self, config=None, out=None, log=print, command=None):
        cfg = self.config() if config is None else config
        cfg.validate()
        return {"note": "stub", "wall_s": 0.0, "files": {"json": "-", "png": "-", "readme": "-"}}

    stack.enter_context(mock.patch.object(studies.Study, "run", fake_study_run))
    stack.enter_context(mock.patch("theory.derivation.derive", lambda *a, **k: None))
    stack.enter_context(mock.patch("theory.printing.render", lambda *a, **k: "stub\n"))

    class _Res:
        def to_json(self):
            return {"stub": True}

        def to_text(self):
            return "stub"

    stack.enter_context(mock.patch.object(bridge, "inspect_model", lambda *a, **k: _Res()))


@st.composite
def cli_argv(draw, workdir: str):
    """An argv for one command: its real flags with junk values, positional junk, instance files."""
    from sdl_theory.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    name = draw(st.sampled_from(sorted(sub.choices)))
    p = sub.choices[name]
    argv = [name]
    if name == "study":  # the study's own flags come from its config (sdl-theory study NAME --help)
        from sdl_theory.commands.study import study_parser
        from studies import STUDIES

        which = draw(st.sampled_from(sorted(STUDIES) + ["nope"]))
        argv.append(which)
        p = study_parser(which) if which in STUDIES else argparse.ArgumentParser()
    else:
        for a in p._actions:  # positionals
            if not a.option_strings and a.dest != "help":
                argv += draw(st.lists(st.sampled_from(CLI_VALUES + ["C5", workdir]), min_size=0, max_size=2))
    flags = [a for a in p._actions if a.option_strings and a.dest != "help"]
    for a in (draw(st.lists(st.sampled_from(flags), max_size=4, unique_by=lambda a: a.dest)) if flags else []):
        opt = a.option_strings[-1]
        if a.nargs == 0:
            argv.append(opt)
            continue
        if a.dest in ("instance",):
            path = os.path.join(workdir, f"inst{draw(st.integers(0, 3))}.json")
            with open(path, "w") as fh:
                fh.write(draw(st.sampled_from(['{"W_p": [[1, 0], [0, 1]]}', '{"W_p": [[1, 0], [0, "x"]]}', "{broken", "[]",
                                                '{"W_p": [[1, 0], [0, 1]], "W_E": [[1, NaN]]}', '{"W_p": [[1, 0], [0, 1]], "encoder_bias": "no"}',
                                                '{"W_p": [[1, 0], [0, 1]], "activation": {"name": "topk", "k": 0.5}}'])))
            argv += [opt, path]
            continue
        if a.dest == "out":
            argv += [opt, draw(st.sampled_from([os.path.join(workdir, "out"), os.path.join(workdir, "f.txt/x"), "/proc/x"]))]
            continue
        if a.choices and draw(st.booleans()):
            argv += [opt, str(draw(st.sampled_from(list(a.choices))))]
            continue
        if a.nargs in ("*", "+"):
            argv += [opt] + draw(st.lists(st.sampled_from(CLI_VALUES), max_size=2))
        else:
            argv.append(f"{opt}={draw(st.sampled_from(CLI_VALUES))}")
    return argv


def judge_cli(argv: list[str], seconds: float) -> tuple[str, str]:
    """Run ``sdl-theory ARGV`` in-process (work stubbed) and classify it."""
    from sdl_theory.cli import main

    err, outb = io.StringIO(), io.StringIO()

    def run():
        with contextlib.ExitStack() as stack:
            _stub_cli_work(stack)
            stack.enter_context(contextlib.redirect_stderr(err))
            stack.enter_context(contextlib.redirect_stdout(outb))
            try:
                return main(argv)
            except SystemExit as exc:
                return exc.code
    outcome, detail = judge_call(run, seconds)
    if outcome != "ok":
        return outcome, f"{argv}: {detail}"
    text = err.getvalue()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("usage:")]
    if "Traceback" in text or "internal error" in text:
        return "unhandled", f"{argv}: {text[-400:]}"
    if text.strip() and " error: " in text:
        return ("refused", text.strip()) if len(lines) == 1 else ("unhandled", f"{argv}: multi-line error {text!r}")
    return "ok", ""


def cli_workdir() -> str:
    d = tempfile.mkdtemp(prefix="sdl-fuzz-")
    with open(os.path.join(d, "f.txt"), "w") as fh:
        fh.write("a file where a directory is expected")
    return d
