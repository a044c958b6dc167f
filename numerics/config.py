"""Run configurations as plain dataclasses: their fields are the ``sdl-theory bench`` flags.

This module imports neither torch nor the models, so the CLI can build its parser (and ``--help``)
from these fields without paying for torch. Validation happens here too, before any expensive work.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from theory import registry
from theory.options import option
from theory import validation as V
from theory.errors import SDLInputError
from theory.geometry import welch_bound

KINDS = ("sae", "transcoder", "crosscoder")


@dataclass(frozen=True)
class DataConfig:
    """Bench instance. Field names are the ``sdl-theory bench`` flags."""

    kind: str = option("sae", "sae | transcoder | crosscoder (which x_r is reconstructed from x_p)")
    n_features: int = option(1000, "n")
    d_in: int = option(768, "n_p (per source for a crosscoder)")
    d_out: int = option(0, "n_r for a transcoder; 0 = same as d_in")
    n_sources: int = option(2, "m, crosscoder only")
    interference: float = option(0.1, "target M for every generated feature matrix")
    signed_interference: bool = option(False, "target max <w_i,w_j> (paper's M) instead of max |<w_i,w_j>|")
    p_active: float = option(0.01, "probability that a feature is on (the paper's ambiguous S); with "
                                   "--firing zipf the mean over features")
    firing: str = option("uniform", "uniform | zipf: per-feature firing probabilities p_d ∝ (d+1)^(-zipf_exponent) "
                                    "with mean p_active (SynthSAEBench's Zipfian firing)")
    zipf_exponent: float = option(1.0, "exponent of --firing zipf")
    c_min: float = option(1.0, "active magnitude = c_min + Exp(beta)")
    beta: float = option(1.0, "mean of the exponential part")
    magnitude_spread: float = option(0.0, "per-feature magnitude scale exp(σ·z_d − σ²/2), z_d ~ N(0,1) drawn once "
                                          "from the seed, times c_min + Exp(beta); σ = this (0 = the same law for all)")
    offset_norm: float = option(0.0, "norm of a data offset added to every input (and target): a seeded random "
                                     "direction (SynthSAEBench's bias); 0 = none")
    n_parents: int = option(0, "hierarchy: number of parent features (0 = no hierarchy)")
    n_children: int = option(0, "children per parent (per node, at every level)")
    hierarchy_levels: int = option(1, "levels of children below each parent (2: parent → children → grandchildren); "
                                      "a feature is on whenever one of its children is")
    exclusive_children: bool = option(False, "at most one child of a parent on at once (at every level)")
    n_samples: int = option(100_000, "size of the (streamed) training set")
    pgd_steps: int = option(3000, "max projected-gradient steps per feature matrix")
    seed: int = option(0, "seed of the feature matrices and the samples")

    def hierarchy_features(self) -> int:
        """Features the hierarchy takes (``n_parents·(1 + C + … + C^levels)``), the first of ``n_features``."""
        return sum(hierarchy_level_sizes(self))

    def validate(self) -> None:
        V.one_of("kind", self.kind, KINDS)
        for name in ("n_features", "d_in", "n_samples", "n_sources"):
            V.positive_int(name, getattr(self, name))
        for name in ("d_out", "n_parents", "n_children", "seed"):
            V.nonneg_int(name, getattr(self, name))
        V.positive_int("pgd_steps", self.pgd_steps)
        V.seed("seed", self.seed)
        V.finite_float("interference", self.interference, -1.0, 1.0)
        for name in ("signed_interference", "exclusive_children"):
            V.bool_flag(name, getattr(self, name))
        # p_active = 0: no feature is ever on, every metric is 0/0
        V.probability("p_active (the probability that a feature is on)", self.p_active, open_low=True)
        V.finite_float("c_min", self.c_min, lo=0)
        V.finite_float("beta", self.beta, lo=0)
        if self.c_min + self.beta <= 0:
            raise SDLInputError(f"magnitudes c_min + Exp(beta) need c_min > 0 or beta > 0 (else every feature is 0), "
                                f"got c_min={self.c_min}, beta={self.beta}")
        if (self.n_parents > 0) != (self.n_children > 0):
            raise SDLInputError("a hierarchy needs both n_parents > 0 and n_children > 0 (or both 0 for none)")
        V.positive_int("hierarchy_levels", self.hierarchy_levels, 12)
        if self.hierarchy_features() > self.n_features:
            L = self.hierarchy_levels
            raise SDLInputError(
                f"hierarchy needs n_parents·(1 + n_children + … + n_children^{L}) = {self.hierarchy_features()} "
                f"features but n_features = {self.n_features}; raise n_features or shrink the hierarchy")
        V.one_of("firing", self.firing, ("uniform", "zipf"))
        V.finite_float("zipf_exponent", self.zipf_exponent, lo=0, hi=10)
        V.finite_float("magnitude_spread", self.magnitude_spread, lo=0, hi=5)
        V.finite_float("offset_norm", self.offset_norm, lo=0)
        if self.firing == "zipf":
            firing_probabilities(self)   # refuses a mean p_active the law cannot have (some p_d > 1)
        check_interference_target(self.n_features, self.d_in, self.interference, self.signed_interference)
        if self.kind == "transcoder":
            check_interference_target(self.n_features, self.d_out or self.d_in, self.interference,
                                      self.signed_interference)


def hierarchy_level_sizes(cfg: "DataConfig") -> list[int]:
    """Features per level of the hierarchy (level 0: the parents); [] without one."""
    if not (cfg.n_parents and cfg.n_children):
        return []
    return [cfg.n_parents * cfg.n_children ** level for level in range(cfg.hierarchy_levels + 1)]


def firing_probabilities(cfg: "DataConfig"):
    """``p_d`` per feature (numpy, length n): ``p_active`` for all, or Zipfian ``p_d = c·(d+1)^(-s)`` with ``c``
    such that the mean is ``p_active``; refuses a law with some ``p_d > 1``."""
    import numpy as np

    n = cfg.n_features
    if cfg.firing == "uniform":
        return np.full(n, float(cfg.p_active))
    w = (np.arange(n) + 1.0) ** (-float(cfg.zipf_exponent))
    p = w * (cfg.p_active * n / w.sum())
    if p[0] > 1.0:
        raise SDLInputError(f"--firing zipf with zipf_exponent = {cfg.zipf_exponent:g} and mean p_active = {cfg.p_active:g} "
                            f"over {n} features puts the first feature's probability at {p[0]:.3g} > 1; lower "
                            f"zipf_exponent or p_active (at most {cfg.p_active / p[0]:.3g} here)")
    return p


def check_interference_target(n: int, dim: int, M: float, signed: bool = False) -> None:
    """Refuse an interference target no set of ``n`` unit vectors in ``R^dim`` can reach."""
    if signed:
        # The signed maximum can go below the Welch bound (e.g. ±e_i); its floor is the simplex's -1/(n-1).
        floor = -1.0 / (n - 1) if n > 1 else -1.0
        if M < floor:
            raise SDLInputError(f"signed interference M = {M} is below -1/(n-1) = {floor:.6g}, the smallest "
                                f"possible max <w_i,w_j> of n = {n} unit vectors; choose M >= {floor:.6g}")
        return
    bound = welch_bound(n, dim)
    if M < bound:
        raise SDLInputError(
            f"interference M = {M} is below the Welch bound sqrt((n-n_p)/(n_p(n-1))) = {bound:.6g} for "
            f"n = {n} unit vectors in R^{dim}: no feature matrix reaches it; choose M >= {bound:.6g} "
            f"(or fewer features / more dimensions)")



@dataclass
class TrainConfig:
    """One model and how it is trained. Field names are the ``sdl-theory bench`` flags."""

    arch: str = option("topk_relu", "a trainable family of theory.registry (or module:Attr of your own)")
    n_latents: int = option(16000, "n_q")
    # the family's hyperparameters by name, e.g. {"k": 4, "l1_coeff": 0.1}; each family takes the fields of its
    # hyperparameter dataclass (theory.registry.Family.hyperparameters), which are the bench's family flags
    hyper: dict = field(default_factory=dict, metadata={"flag": False})
    bias: bool = option(True, "encoder/decoder biases (the paper's analysis has none)")
    unit_norm_decoder: bool = option(True, "renormalise atoms after each step, drop the parallel gradient")
    lr: float = option(1e-3, "Adam learning rate")
    batch_size: int = option(1024, "samples per step")
    epochs: float = option(1.0, "passes over data.n_samples")
    max_steps: int = option(0, "0 = as many as epochs give")
    aux_k: bool = option(True, "TopK family: aux-k loss on dead latents (Gao et al. 2024)")
    aux_k_coeff: float = option(1 / 32, "α")
    k_aux: int = option(256, "capped at n_latents // 2")
    dead_window: int = option(50, "steps without firing after which a latent counts as dead")
    resample: bool = option(False, "resample dead neurons (Bricken et al. 2023, THEORY.md §8)")
    resample_every: int = option(0, "steps between resamplings (0 = a quarter of the run)")
    resample_batch: int = option(4096, "inputs scored for resampling")
    anchor_k: int = option(0, "feature anchoring: first k features are anchors (THEORY.md §6)")
    anchor_lambda: float = option(0.1, "λ_anchor")
    anchor_init: bool = option(True, "also start the anchored rows/atoms at the anchors (ours, not the paper's)")
    eval_every: int = option(0, "steps between evaluations (0 = 10 per run)")
    eval_samples: int = option(4096, "samples per evaluation")
    checkpoint_every: int = option(0, "steps between checkpoints into checkpoint_dir (0 = only at end)")
    checkpoint_dir: str = option("", "where checkpoints go (\"\" = none)")
    resume: bool = option(True, "continue from checkpoint_dir when it holds a checkpoint")
    device: str = option("auto", "auto | cpu | cuda | cuda:N")
    seed: int = option(0, "seed of the model's initialisation and of resampling")
    quiet: bool = option(False, "no progress bar")

    def validate(self, data=None) -> None:
        if not isinstance(self.arch, str):
            raise SDLInputError(f"arch must be a family name (or module:Attr), got {V.got(self.arch)}")
        family = registry.get(self.arch)
        if not family.trainable:
            family.model_class()  # the error listing the trainable families
        for name in ("n_latents", "batch_size", "eval_samples", "resample_batch", "dead_window"):
            V.positive_int(name, getattr(self, name))
        for name in ("max_steps", "k_aux", "resample_every", "anchor_k", "eval_every", "checkpoint_every"):
            V.nonneg_int(name, getattr(self, name))
        V.seed("seed", self.seed)
        if not isinstance(self.hyper, dict):
            raise SDLInputError(f"hyper must be a dict of family hyperparameters, got {V.got(self.hyper)}")
        check_hyper(self.hyper)
        family.hyper(self.hyper, n_latents=self.n_latents)
        V.finite_float("lr", self.lr, lo=0, lo_open=True)
        V.finite_float("epochs", self.epochs, lo=0, lo_open=True)
        for name in ("anchor_lambda", "aux_k_coeff"):
            V.finite_float(name, getattr(self, name), lo=0)
        for name in ("bias", "unit_norm_decoder", "aux_k", "resample", "anchor_init", "resume", "quiet"):
            V.bool_flag(name, getattr(self, name))
        if not isinstance(self.checkpoint_dir, str) or not isinstance(self.device, str):
            raise SDLInputError("checkpoint_dir and device must be strings")
        if data is not None:
            if self.anchor_k > min(data.n_features, self.n_latents):
                raise SDLInputError(f"anchor_k = {self.anchor_k} exceeds the number of features "
                                    f"({data.n_features}) or latents ({self.n_latents})")
        if not (self.device in ("auto", "cpu") or self.device.startswith("cuda")):
            raise SDLInputError(f"unknown device {self.device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'")

    def model_kwargs(self) -> dict:
        """Constructor arguments of ``arch`` only (so a saved ``cfg.json`` lists what matters): the
        common ones and the fields of the family's hyperparameter dataclass."""
        common = {"bias": self.bias, "unit_norm_decoder": self.unit_norm_decoder, "seed": self.seed}
        return {**common, **registry.get(self.arch).hyper_kwargs(self.hyper, n_latents=self.n_latents)}


def hyperparameter_fields() -> dict:
    """Every registered family's hyperparameter fields by name → ``(field, families having it, type)``:
    the ``sdl-theory bench`` family flags (one flag per name, applied to each family that has it)."""
    import dataclasses
    import typing

    out: dict = {}
    for fam in registry.families(trainable=True):
        if fam.hyperparameters is None:
            continue
        hints = typing.get_type_hints(fam.hyperparameters)
        for f in dataclasses.fields(fam.hyperparameters):
            if f.init:
                out.setdefault(f.name, (f, [], hints.get(f.name)))[1].append(fam.name)
    return out


def check_hyper(hyper: dict) -> None:
    """Every name in ``hyper`` must be a hyperparameter of some registered family (typos are refused)."""
    known = hyperparameter_fields()
    bad = sorted(set(hyper) - set(known))
    if bad:
        raise SDLInputError(f"unknown family hyperparameters {bad}; the registered families take {sorted(known)}")


# The paper's Table 1 (arXiv 2512.05534; τ = 0.95, p_active = 0.01): (M_GT %, M_IP, +FA M_GT %, +FA M_IP) per
# method, as each family declares its rows (theory.registry.Family.paper_rows).
PAPER_TABLE1 = registry.paper_table()
PAPER_METHODS = tuple(PAPER_TABLE1)


def parse_method(name: str) -> tuple[str, str]:
    """A bench method → ``(kind, family)``: ``topk_sae`` → ``("sae", "topk_relu")``, ``transcoder:relu`` →
    ``("transcoder", "relu")``, ``relu`` → ``("sae", "relu")`` (see :func:`theory.registry.method`)."""
    try:
        return registry.method(name, KINDS)
    except SDLInputError as exc:
        raise SDLInputError(f"unknown method {name!r}: use one of {list(registry.method_names())}, a trainable family "
                            f"({', '.join(registry.names(trainable=True))}) or KIND:FAMILY with KIND in {list(KINDS)} "
                            f"({exc})") from None


@dataclass
class BenchConfig:
    """A bench run: methods × anchoring on one instance. ``data``/``train`` fields are flags too."""

    preset: str = option("small", "the preset the other values came from", flag=False)
    methods: tuple[str, ...] = option(PAPER_METHODS, "methods to train: a family's method name (topk_sae), a trainable family (an SAE of it) or KIND:FAMILY")
    anchoring: str = option("both", "without | with | both")
    anchor_frac: float = option(0.1, "anchors k = anchor_frac · n (paper: 100 of 1000)")
    taus: tuple[float, ...] = option((0.9, 0.95), "cosine thresholds τ of GT recovery")
    table_tau: float = option(0.95, "τ of the markdown table (paper's Table 1: 0.95)")
    out: str = option("out/bench", "output directory")
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self) -> None:
        if not isinstance(self.methods, tuple) or not all(isinstance(m, str) for m in self.methods):
            raise SDLInputError(f"methods must be a tuple of method names, got {V.got(self.methods)}")
        for m in self.methods:
            parse_method(m)
        if not self.methods:
            raise SDLInputError("no methods to run: pass --methods with at least one method")
        V.one_of("anchoring", self.anchoring, ("without", "with", "both"))
        V.finite_float("anchor_frac", self.anchor_frac, 0.0, 1.0, hi_open=True)
        if not isinstance(self.taus, tuple) or not self.taus:
            raise SDLInputError(f"taus (GT-recovery thresholds) must be at least one cosine in [0, 1], got {V.got(self.taus)}")
        for t in self.taus:
            V.finite_float("taus (a GT-recovery threshold τ)", t, 0.0, 1.0)
        V.finite_float("table_tau", self.table_tau, 0.0, 1.0)
        if not isinstance(self.out, str) or not self.out:
            raise SDLInputError(f"out must be a directory path, got {V.got(self.out)}")
        V.instance_of("data", self.data, DataConfig, "a DataConfig")
        V.instance_of("train", self.train, TrainConfig, "a TrainConfig")
        self.data.validate()
        self.train.validate()
        if self.anchoring != "without":
            # metrics skip the anchored features: at least one feature must be left to measure
            k = self.anchor_k
            if k >= self.data.n_features or k > self.train.n_latents:
                raise SDLInputError(
                    f"anchor_frac = {self.anchor_frac} anchors k = {k} of n_features = {self.data.n_features} "
                    f"(n_latents = {self.train.n_latents}); anchors must leave at least one feature unanchored and "
                    f"fit in the latents: choose anchor_frac < {min(self.data.n_features - 0.5, self.train.n_latents + 0.5) / self.data.n_features:.4g}")

    @property
    def anchor_k(self) -> int:
        return int(round(self.anchor_frac * self.data.n_features))
