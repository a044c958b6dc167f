"""Run configurations as plain dataclasses: their fields are the ``sdl-theory bench`` flags.

This module imports neither torch nor the models, so the CLI can build its parser (and ``--help``)
from these fields without paying for torch. Validation happens here too, before any expensive work.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from theory.errors import SDLInputError
from theory.geometry import welch_bound

ARCHS = ("relu", "jumprelu", "topk", "batchtopk", "matryoshka", "gated")

KINDS = ("sae", "transcoder", "crosscoder")


@dataclass(frozen=True)
class DataConfig:
    """Bench instance. Field names are the ``sdl-theory bench`` flags."""

    kind: str = "sae"              # sae | transcoder | crosscoder (which x_r is reconstructed from x_p)
    n_features: int = 1000         # n
    d_in: int = 768                # n_p (per source for a crosscoder)
    d_out: int = 0                 # n_r for a transcoder; 0 = same as d_in
    n_sources: int = 2             # m, crosscoder only
    interference: float = 0.1      # target M for every generated feature matrix
    signed_interference: bool = False  # target max <w_i,w_j> (paper's M) instead of max |<w_i,w_j>|
    p_active: float = 0.01         # probability that a feature is on (the paper's ambiguous S)
    c_min: float = 1.0             # active magnitude = c_min + Exp(beta)
    beta: float = 1.0              # mean of the exponential part
    n_parents: int = 0             # hierarchy: number of parent features (0 = no hierarchy)
    n_children: int = 0            # children per parent
    exclusive_children: bool = False  # at most one child of a parent on at once
    n_samples: int = 100_000       # size of the (streamed) training set
    pgd_steps: int = 3000          # max projected-gradient steps per feature matrix
    seed: int = 0

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise SDLInputError(f"kind must be one of {KINDS}, got {self.kind!r}")
        for name in ("n_features", "d_in", "n_samples"):
            if getattr(self, name) < 1:
                raise SDLInputError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.d_out < 0:
            raise SDLInputError(f"d_out must be >= 0 (0 = same as d_in), got {self.d_out}")
        if self.kind == "crosscoder" and self.n_sources < 1:
            raise SDLInputError(f"a crosscoder needs n_sources >= 1, got {self.n_sources}")
        if not 0.0 <= self.p_active <= 1.0:
            raise SDLInputError(f"p_active is a probability and must lie in [0, 1], got {self.p_active}")
        if self.c_min < 0 or self.beta < 0:
            raise SDLInputError(f"magnitudes c_min + Exp(beta) need c_min >= 0 and beta >= 0, "
                                f"got c_min={self.c_min}, beta={self.beta}")
        if self.n_parents < 0 or self.n_children < 0:
            raise SDLInputError("n_parents and n_children must be >= 0")
        if (self.n_parents > 0) != (self.n_children > 0):
            raise SDLInputError("a hierarchy needs both n_parents > 0 and n_children > 0 (or both 0 for none)")
        if self.n_parents * (1 + self.n_children) > self.n_features:
            raise SDLInputError(
                f"hierarchy needs n_parents*(1+n_children) = {self.n_parents * (1 + self.n_children)} "
                f"features but n_features = {self.n_features}; raise n_features or shrink the hierarchy")
        check_interference_target(self.n_features, self.d_in, self.interference, self.signed_interference)
        if self.kind == "transcoder":
            check_interference_target(self.n_features, self.d_out or self.d_in, self.interference,
                                      self.signed_interference)


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

    arch: str = "topk"                 # relu | jumprelu | topk | batchtopk | matryoshka | gated
    n_latents: int = 16000             # n_q
    k: int = 0                         # TopK family: active latents per sample (0 = sqrt(n_q))
    l1_coeff: float = 3e-3             # ReLU / Gated: L1 coefficient (on FVU scale)
    l0_coeff: float = 3e-3             # JumpReLU: L0 coefficient (on FVU scale)
    threshold_init: float = 0.1        # JumpReLU: initial θ
    bandwidth: float = 0.05            # JumpReLU: rectangle-kernel width ε of the straight-through estimator
    prefixes: tuple = ()               # Matryoshka: nested prefix sizes (empty = n_q/16 … n_q/2)
    bias: bool = True                  # encoder/decoder biases (the paper's analysis has none)
    unit_norm_decoder: bool = True     # renormalise atoms after each step, drop the parallel gradient
    lr: float = 1e-3
    batch_size: int = 1024
    epochs: float = 1.0                # passes over data.n_samples
    max_steps: int = 0                 # 0 = as many as epochs give
    aux_k: bool = True                 # TopK family: aux-k loss on dead latents (Gao et al. 2024)
    aux_k_coeff: float = 1 / 32        # α
    k_aux: int = 256                   # capped at n_latents // 2
    dead_window: int = 50              # steps without firing after which a latent counts as dead
    resample: bool = False             # resample dead neurons (Bricken et al. 2023, THEORY.md §8)
    resample_every: int = 0            # steps between resamplings (0 = a quarter of the run)
    resample_batch: int = 4096         # inputs scored for resampling
    anchor_k: int = 0                  # feature anchoring: first k features are anchors (THEORY.md §6)
    anchor_lambda: float = 0.1         # λ_anchor
    anchor_init: bool = True           # also start the anchored rows/atoms at the anchors (ours, not the paper's)
    eval_every: int = 0                # steps between evaluations (0 = 10 per run)
    eval_samples: int = 4096
    checkpoint_every: int = 0          # steps between checkpoints into checkpoint_dir (0 = only at end)
    checkpoint_dir: str = ""           # where checkpoints go ("" = none)
    resume: bool = True                # continue from checkpoint_dir when it holds a checkpoint
    device: str = "auto"
    seed: int = 0
    quiet: bool = False

    def validate(self, data=None) -> None:
        if self.arch not in ARCHS:
            raise SDLInputError(f"unknown arch {self.arch!r}; choose one of {list(ARCHS)}")
        for name in ("n_latents", "batch_size"):
            if getattr(self, name) < 1:
                raise SDLInputError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0 <= self.k <= self.n_latents:
            raise SDLInputError(f"k = {self.k} must lie in [0, n_latents = {self.n_latents}] (0 = sqrt(n_latents))")
        if self.lr <= 0 or self.epochs <= 0:
            raise SDLInputError(f"lr and epochs must be positive, got lr={self.lr}, epochs={self.epochs}")
        for name in ("l1_coeff", "l0_coeff", "anchor_lambda", "aux_k_coeff"):
            if getattr(self, name) < 0:
                raise SDLInputError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.threshold_init <= 0 or self.bandwidth <= 0:
            raise SDLInputError("JumpReLU threshold_init and bandwidth must be > 0")
        if self.anchor_k < 0:
            raise SDLInputError(f"anchor_k must be >= 0, got {self.anchor_k}")
        if data is not None:
            if self.anchor_k > min(data.n_features, self.n_latents):
                raise SDLInputError(f"anchor_k = {self.anchor_k} exceeds the number of features "
                                    f"({data.n_features}) or latents ({self.n_latents})")
        if not (self.device in ("auto", "cpu") or self.device.startswith("cuda")):
            raise SDLInputError(f"unknown device {self.device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'")

    def model_kwargs(self) -> dict:
        """Constructor arguments of ``arch`` only (so a saved ``cfg.json`` lists what matters)."""
        common = {"bias": self.bias, "unit_norm_decoder": self.unit_norm_decoder, "seed": self.seed}
        extra = {
            "relu": {"l1_coeff": self.l1_coeff},
            "gated": {"l1_coeff": self.l1_coeff},
            "jumprelu": {"l0_coeff": self.l0_coeff, "threshold_init": self.threshold_init,
                         "bandwidth": self.bandwidth},
            "topk": {"k": self.k},
            "batchtopk": {"k": self.k},
            "matryoshka": {"k": self.k, "prefixes": list(self.prefixes)},
        }[self.arch]
        return {**common, **extra}




# name → (kind, arch) of the bench's methods; any "kind:arch" pair is accepted as well
METHODS = {
    "relu_sae": ("sae", "relu"),
    "jumprelu_sae": ("sae", "jumprelu"),
    "topk_sae": ("sae", "topk"),
    "batchtopk_sae": ("sae", "batchtopk"),
    "matryoshka_sae": ("sae", "matryoshka"),
    "transcoder": ("transcoder", "topk"),
    "crosscoder": ("crosscoder", "topk"),
    "gated_sae": ("sae", "gated"),
}
PAPER_METHODS = tuple(list(METHODS)[:7])


def parse_method(name: str) -> tuple[str, str]:
    """``topk_sae`` → ``("sae", "topk")``; ``transcoder:relu`` → ``("transcoder", "relu")``."""
    if name in METHODS:
        return METHODS[name]
    if ":" in name:
        kind, arch = name.split(":", 1)
        if kind in KINDS and arch in ARCHS:
            return kind, arch
    raise SDLInputError(f"unknown method {name!r}: use one of {list(METHODS)} or KIND:ARCH with KIND in "
                        f"{list(KINDS)} and ARCH in {list(ARCHS)}")


@dataclass
class BenchConfig:
    """A bench run: methods × anchoring on one instance. ``data``/``train`` fields are flags too."""

    preset: str = "small"
    methods: tuple = PAPER_METHODS
    anchoring: str = "both"            # without | with | both
    anchor_frac: float = 0.1           # anchors k = anchor_frac · n (paper: 100 of 1000)
    taus: tuple = (0.9, 0.95)
    table_tau: float = 0.95            # τ of the markdown table (paper's Table 1: 0.95)
    out: str = "out/bench"
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self) -> None:
        for m in self.methods:
            parse_method(m)
        if not self.methods:
            raise SDLInputError("no methods to run: pass --methods with at least one method")
        if self.anchoring not in ("without", "with", "both"):
            raise SDLInputError(f"anchoring must be without, with or both; got {self.anchoring!r}")
        if not 0 <= self.anchor_frac < 1:
            raise SDLInputError(f"anchor_frac must lie in [0, 1), got {self.anchor_frac}")
        for t in tuple(self.taus) + (self.table_tau,):
            if not 0 <= t <= 1:
                raise SDLInputError(f"thresholds τ are cosines in [0, 1], got {t}")
        self.data.validate()
        self.train.validate()

    @property
    def anchor_k(self) -> int:
        return int(round(self.anchor_frac * self.data.n_features))
