"""The training experiment behind C10 and C11, run once and shared by both claims.

One bench instance (THEORY.md §5), each method swept over its open knobs and trained to
convergence (:mod:`numerics.recovery`, :mod:`numerics.convergence`), a setting selected per method
by a rule blind to the ground truth (L0 nearest the true mean active count), and:

* C10's trend arms: the TopK SAE at more superposition (larger ``n`` in the same ``n_p``) and at
  denser features (larger ``p_active``), its ``k`` set by the same rule (``k`` = the target L0);
* C11's paired arms: at each method's selected setting, seeds ``0..S-1`` without and with feature
  anchoring (the first ``anchor_frac · n`` features pinned, THEORY.md §6), both scored on the
  non-anchored features only.

Sizes: ``tiny`` (default; the whole experiment a few CPU-minutes on one core), ``small`` and
``scaled`` (the Table 1 ratios at a quarter of the paper's n; an hour-scale CPU run) and ``paper`` (the paper's
own sizes, n = 1000 in R^768, 16000 latents, batch 4096: for a GPU) by ``sdl-theory verify C10 C11 --bench-size``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache

from theory import registry
from theory.errors import SDLInputError

SIZES = ("micro", "tiny", "small", "scaled", "paper")


def paper_sae_methods(sets_k: bool | None = None) -> tuple[str, ...]:
    """The paper's Table 1 SAE rows, as the families declare them (``Family.paper_rows``); ``sets_k``: only
    the TopK family (sparsity by ``k``) / only the penalised ones (ReLU, JumpReLU: an L1 / L0 coefficient)."""
    return tuple(m for fam in registry.families(trainable=True) for m in fam.paper_rows
                 if fam.methods.get(m) == "sae" and (sets_k is None or fam.sets_k == sets_k))


SAE_METHODS = paper_sae_methods()               # relu_sae … matryoshka_sae
TOPK_FAMILY = paper_sae_methods(sets_k=True)    # C10 part 1: TopK, BatchTopK, Matryoshka
PENALISED = paper_sae_methods(sets_k=False)     # C10 part 2: ReLU, JumpReLU
TREND_METHOD = TOPK_FAMILY[0]                   # C10 parts 3 and 4: the TopK SAE


@dataclass(frozen=True)
class BenchSpec:
    size: str
    data: dict                      # DataConfig fields
    train: dict                     # TrainConfig fields shared by every run
    convergence: dict               # Convergence fields
    methods: tuple = SAE_METHODS
    # knob → values replacing each family's own sweep values at this size (Family.sweep_grid; empty: the families')
    sweep_values: dict = field(default_factory=dict)
    lr_factors: tuple = (1 / 3, 3.0)
    superposition_n: tuple = ()     # C10 trend: n values at the same n_p
    density_p: tuple = ()           # C10 trend: p_active values
    anchor_frac: float = 0.1
    seeds: int = 3                  # C11 paired seeds

    def grid(self, method: str) -> list[dict]:
        """The settings ``method`` is swept over at this size."""
        from numerics.recovery import grid_for

        return grid_for(method, self.sweep_values)

    def to_json(self) -> dict:
        # the criterion as its runs are judged: the fields plus the trend test's constants (numerics.convergence)
        return {**dataclasses.asdict(self), "grids": {m: self.grid(m) for m in self.methods},
                "criterion": _criterion(self).to_json()}


def spec_for(size: str) -> BenchSpec:
    if size == "micro":   # the tests' size: seconds, one method per family, two seeds
        return BenchSpec(
            size="micro",
            data=dict(n_features=12, d_in=10, n_samples=2048, interference=0.3, p_active=0.1, seed=0, pgd_steps=500),
            train=dict(n_latents=24, batch_size=128, lr=1e-2, dead_window=20, k_aux=8, eval_samples=512),
            convergence=dict(eps=2e-2, window=3, eval_every=20, max_steps=200, heldout_samples=256),
            methods=(PENALISED[0], TREND_METHOD),
            sweep_values={"l1_coeff": (0.01, 3.0), "k": (1, 4)},
            lr_factors=(), superposition_n=(12, 14), density_p=(), seeds=2)
    if size == "tiny":
        return BenchSpec(
            size="tiny",
            data=dict(n_features=40, d_in=32, n_samples=8192, interference=0.1, p_active=0.05, seed=0),
            train=dict(n_latents=160, batch_size=256, lr=5e-3, dead_window=50, k_aux=32, eval_samples=2048),
            convergence=dict(eps=5e-3, window=4, eval_every=25, max_steps=1500, heldout_samples=2048),
            sweep_values={"l1_coeff": (0.003, 0.1, 3.0), "threshold_init": (0.1, 1.0), "l0_coeff": (0.01, 0.3),
                          "k": (1, 2, 8)},
            superposition_n=(32, 44), density_p=(0.05, 0.15), seeds=3)   # n/n_p 1.0 → 1.375 (M = 0.1 ≥ Welch)
    if size == "small":
        return BenchSpec(
            size="small",
            data=dict(n_features=100, d_in=80, n_samples=32768, interference=0.1, p_active=0.02, seed=0),
            train=dict(n_latents=800, batch_size=512, lr=2e-3, dead_window=50, k_aux=64, eval_samples=4096),
            convergence=dict(eps=3e-3, window=6, eval_every=50, max_steps=6000, heldout_samples=4096),
            superposition_n=(100, 130), density_p=(0.02, 0.08), seeds=3)
    if size == "scaled":
        return BenchSpec(
            size="scaled",
            data=dict(n_features=250, d_in=192, n_samples=100_000, interference=0.1, p_active=0.01, seed=0),
            train=dict(n_latents=4000, batch_size=1024, lr=1e-3, dead_window=100, k_aux=256, eval_samples=4096,
                       anchor_lambda=0.1),
            convergence=dict(eps=2e-3, window=6, eval_every=100, max_steps=20000, heldout_samples=4096),
            sweep_values={"l1_coeff": (0.01, 0.1, 1.0), "threshold_init": (0.1, 1.0), "l0_coeff": (0.001, 0.01, 0.1),
                          "k": (1, 2, 4, 8, 25)},
            lr_factors=(), superposition_n=(250, 325), density_p=(0.01, 0.04), seeds=3)
    if size == "paper":   # Table 1's own sizes (arXiv 2512.05534): a GPU's job; the sweep as at `scaled`, k around n·p = 10
        return BenchSpec(
            size="paper",
            data=dict(n_features=1000, d_in=768, n_samples=100_000, interference=0.1, p_active=0.01, seed=0),
            train=dict(n_latents=16000, batch_size=4096, lr=1e-3, dead_window=100, k_aux=512, eval_samples=4096,
                       anchor_lambda=0.1),
            convergence=dict(eps=2e-3, window=6, eval_every=50, max_steps=10000, heldout_samples=4096),
            sweep_values={"l1_coeff": (0.01, 0.1, 1.0), "threshold_init": (0.1, 1.0), "l0_coeff": (0.001, 0.01, 0.1),
                          "k": (2, 5, 10, 32, 100)},
            lr_factors=(), superposition_n=(1000, 1300), density_p=(0.01, 0.04), seeds=3)
    raise SDLInputError(f"unknown bench size {size!r}; choose one of {', '.join(SIZES)}")


def resolve_size(claim_id: str, spec, kw: dict) -> str:
    """The bench size a C10/C11 ``check_instance`` was given (a size name, or a :class:`BenchSpec`)."""
    if kw:
        raise SDLInputError(f"{claim_id} takes a bench size, not {sorted(kw)}")
    size = spec if isinstance(spec, str) else getattr(spec, "size", None)
    if size not in SIZES:
        raise SDLInputError(f"{claim_id}: the instance is a bench size, one of {', '.join(SIZES)}; got {spec!r}")
    return size


def bench_check(claim, hypotheses, experiment, verdict_from, spec, *, seed: int, budget: int, kw: dict):
    """``check_instance`` of a claim decided on the bench (C10, C11): ``spec`` names the bench size; the
    claim's ``hypotheses(BenchSpec)`` are checked first, then ``verdict_from(experiment(size, seed), seed,
    budget, size)`` (the experiment, :func:`sweeps` or :func:`anchoring`, is run once and cached)."""
    from proofs_check.verdict import Verdict

    size = resolve_size(claim.id, spec, kw)
    unmet = hypotheses(spec_for(size))
    if unmet:
        return Verdict(claim.id, claim.title, "hypotheses_not_met", "; ".join(unmet), seed=seed, budget=budget)
    return verdict_from(experiment(size, int(seed)), seed, budget, size)


def with_seed(spec: BenchSpec, seed: int) -> BenchSpec:
    """The same experiment on the instance drawn with ``seed`` (model seeds start there too)."""
    return dataclasses.replace(spec, data={**spec.data, "seed": int(seed)})


def trend_configs(spec: BenchSpec) -> list:
    """The DataConfigs of C10's trend arms (more superposition, denser features)."""
    from numerics.config import DataConfig

    return [DataConfig(**{**spec.data, "n_features": n}) for n in spec.superposition_n] + \
        [DataConfig(**{**spec.data, "p_active": p}) for p in spec.density_p]


def _data(spec: BenchSpec, **over):
    from numerics.config import DataConfig
    from numerics.data import make_bench

    return make_bench(DataConfig(**{**spec.data, **over}))


def _base(spec: BenchSpec):
    from numerics.config import TrainConfig

    return TrainConfig(**spec.train)


def _criterion(spec: BenchSpec):
    from numerics.convergence import Convergence

    return Convergence(**spec.convergence)


def sweeps(size: str = "tiny", seed: int = 0) -> dict:
    """C10's sweeps and trend arms: ``{"spec", "instance", "methods": {name: sweep}, "trend": …}`` (computed once
    per size, seed and active :func:`numerics.recovery.run_store`: C10's steps and C11 share it)."""
    from numerics.recovery import active_store

    return _sweeps(size, int(seed), active_store())


@lru_cache(maxsize=4)
def _sweeps(size: str, seed: int, store) -> dict:
    from numerics.metrics import random_baseline
    from numerics.recovery import TAU, single_thread, sweep, target_l0, train_run

    spec = with_seed(spec_for(size), seed)
    for cfg in trend_configs(spec):   # an unreachable trend instance is refused before any training
        cfg.validate()
    data = _data(spec)
    base, crit = _base(spec), _criterion(spec)
    out = {"spec": spec.to_json(), "tau": TAU, "methods": {}, "trend": {}}
    with single_thread():
        out["instance"] = {"reached_interference": data.reached, "target_l0": target_l0(data),
                           "random_baseline": random_baseline(base.n_latents, data.W_p, (TAU,), seed=1)}
        for method in spec.methods:
            out["methods"][method] = sweep(method, data, base, crit, grid=spec.grid(method),
                                           lr_factors=spec.lr_factors, seed=seed)
        # trend arms: TopK with k = the instance's true mean active count (the selection rule's own target)
        for key, values, field_name in (("superposition", spec.superposition_n, "n_features"),
                                        ("density", spec.density_p, "p_active")):
            arms = []
            for v in values:
                d = _data(spec, **{field_name: v})
                k = max(1, round(target_l0(d)))
                r = train_run(TREND_METHOD, {"k": k}, d, base, crit, seed=seed)
                r.update({field_name: v, "n_over_n_p": d.config.n_features / d.config.d_in,
                          "reached_interference": d.reached})
                arms.append(r)
            out["trend"][key] = arms
    return out


def anchoring(size: str = "tiny", seed: int = 0) -> dict:
    """C11's paired runs: per method, seeds × {without, with} anchors at the selected setting (computed once per
    size, seed and active run store)."""
    from numerics.recovery import active_store

    return _anchoring(size, int(seed), active_store())


@lru_cache(maxsize=4)
def _anchoring(size: str, seed: int, store) -> dict:
    from numerics.recovery import single_thread, train_run

    spec = with_seed(spec_for(size), seed)
    sw = sweeps(size, seed)
    data = _data(spec)
    base, crit = _base(spec), _criterion(spec)
    k_anchor = int(round(spec.anchor_frac * data.config.n_features))
    out = {"spec": spec.to_json(), "anchor_k": k_anchor, "methods": {}}
    with single_thread():
        for method, s in sw["methods"].items():
            sel = s["selected"]
            if sel is None:
                out["methods"][method] = {"selected_setting": None, "pairs": []}
                continue
            setting = sel["setting"]
            pairs = []
            for s_ in range(seed, seed + spec.seeds):
                plain = train_run(method, setting, data, base, crit, seed=s_, anchor_k=0, skip=k_anchor)
                anchored = train_run(method, setting, data, base, crit, seed=s_, anchor_k=k_anchor)
                pairs.append({"seed": s_, "without": plain, "with": anchored})
            out["methods"][method] = {"selected_setting": setting, "pairs": pairs}
    return out


def _records(obj):
    """Every run record in an experiment's result (dicts with a ``method`` and a ``converged``)."""
    if isinstance(obj, dict):
        if "method" in obj and "converged" in obj:
            yield obj
            return
        for v in obj.values():
            yield from _records(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _records(v)


def provenance(r: dict) -> dict:
    """How many of the experiment's runs were trained now and how many read back from a run store
    (``verify --resume``), and the training code's digest of each (:func:`numerics.recovery.code_digest`)."""
    from numerics.recovery import code_digest

    runs = {id(x): x for x in _records(r)}.values()   # a selected run is also in its sweep: count it once
    resumed = [x for x in runs if x.get("resumed")]
    return {"runs": len(runs), "resumed": len(resumed), "code_digest": code_digest(),
            "resumed_code_digests": sorted({str(x.get("code_digest")) for x in resumed})}


def strip_histories(obj):
    """The run records without their held-out loss histories (kept in the figure data, not in every row)."""
    if isinstance(obj, dict):
        return {k: strip_histories(v) for k, v in obj.items() if k != "heldout_history"}
    if isinstance(obj, list):
        return [strip_histories(v) for v in obj]
    return obj
