"""Study: absorption thresholds, predicted (theory.absorption) vs trained (THEORY.md §7, C7).

Setting = the derivation's assumptions: orthonormal parent ``p = e_0`` and children ``c_j = e_j``
(SAE, ``n_p = 1 + K``), single-family events (the parent alone with probability ``p_alone``, else one
child with its parent), magnitudes ``c_min + Exp(β)``, ``n_q = 1 + K`` latents, no biases (except the
encoder-bias arm).

- **L1**: ReLU SAEs trained on ``E||x − x̂||² + λ E Σ a_i ||d_i||`` across λ and seeds. Per model, on
  fresh child events: the *absorption rate* (THEORY.md §8: no pure parent latent contributes while a
  latent whose decoder mixes parent and child does; see :func:`measure`), and the parent cosine of the
  decoder that best matches each child. Predicted: the switch at ``λ*``
  (:func:`theory.absorption.l1_threshold`), the absorbed decoder's parent cosine above it and the
  clean configuration's decoder tilt below it (:func:`theory.absorption.clean_tilt`).
- **TopK**: TopK∘ReLU SAEs (no penalty) across ``k``; the rigid comparison's ``k* = 2``, and the curve in k:
  the local minima of the exact TopK objective per k (:func:`theory.absorption_curve.stationary_points`),
  each run trained to convergence and matched to them.
- **Encoder bias**: ReLU SAEs with a trained encoder bias (decoder bias frozen at 0) across λ, against the
  minima of the exact objective with a bias (:func:`theory.absorption_bias.stationary_points_bias`).
- **JumpReLU**: JumpReLU SAEs (no bias) trained on the family's own ``E||x − x̂||² + λ E Σ_i H(z_i − θ_i)`` with θ
  trained by its straight-through estimator, across λ and initial θ, against the stationary points of that exact
  objective (:func:`theory.absorption_bias.stationary_points_jumprelu`: the same for every θ up to scale); per run
  also the norm of the field the engine follows (:func:`theory.absorption_bias.jumprelu_field`), which lacks the
  threshold lines' terms of ∇L; and a second, separately labelled kind of prediction: the **stable zeros of the
  ε-estimator's expected training field** at the arm's bandwidth (:mod:`theory.absorption_ste`: where training can
  stop that is not a minimum of L), searched per (λ, θ₀) from the same kinds of starts, never from trained weights.
- **Two levels**: grandparent → parent → children (:mod:`theory.absorption_two_level`).

The empirical threshold is where the mean absorption rate first crosses 1/2 (linear interpolation).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from studies import Study
from studies.common import code_of, hierarchy_event_sampler, make_model, mean_ci, seed_all, train, two_level_sampler
from theory.options import option

NAME = "absorption"


@dataclass
class AbsorptionConfig:
    lams: tuple = option((0.1, 0.3, 0.6, 0.9, 1.2, 1.6, 2.0, 2.5, 3.0), "L1 coefficients λ of the ReLU SAEs")
    ks: tuple = option((1, 2, 3), "k values of the TopK∘ReLU SAEs")
    seeds: int = option(3, "number of seeds (runs per setting)")
    seed: int = option(0, "first seed")
    n_children: int = option(2, "children of the parent feature")
    p_alone: float = option(0.2, "probability that the parent is on alone")
    c_min: float = option(1.0, "active magnitude = c_min + Exp(beta)")
    beta: float = option(1.0, "mean of the exponential part of the magnitude")
    steps: int = option(1500, "Adam steps per training run")
    topk_steps: int = option(3000, "Adam steps per TopK run")
    batch: int = option(512, "samples per step")
    lr: float = option(1e-2, "Adam learning rate")
    eval_events: int = option(4000, "events drawn to evaluate each trained model")
    off_fraction: float = option(0.1, "parent latent \"off\" if a_P < off_fraction · m_P")
    parent_cos: float = option(0.3, "a child decoder \"has a clear parent component\" above this cosine")
    refine_steps: int = option(200, "convergence: after the main run, two segments of this many steps at refine_lr")
    refine_lr: float = option(1e-3, "learning rate of the two convergence segments")
    refine_batch: int = option(2048, "batch of the two convergence segments")
    plateau_tol: float = option(1e-3, "converged iff the exact objective changes by at most this (relative) over the second segment")
    plateau_abs_tol: float = option(1e-6, "converged also iff the exact objective changes by at most this (absolute) over "
                                          "the second segment: a loss near 0 keeps changing by more than plateau_tol of "
                                          "itself at Adam's constant step (every arm, the same floor)")
    match_tol: float = option(0.03, "a run is at a predicted minimum when every child's absorption rate and tilt are within this")
    zero_loss_tol: float = option(1e-6, "TopK: a run whose exact objective is at most this is at the global minimum (loss 0)")
    extra_lams: tuple = option((0.3, 1.2, 2.5), "λ values of the further hierarchies (several children; a transcoder)")
    extra_seeds: int = option(2, "seeds per λ of the further hierarchies (0: none)")
    extra_children: int = option(3, "children of the several-children hierarchy")
    bias_lams: tuple = option((0.3, 1.2, 2.5), "λ values of the encoder-bias arm (ReLU SAEs with an encoder bias)")
    bias_seeds: int = option(2, "seeds per λ of the encoder-bias arm (0: none)")
    two_level_lams: tuple = option((0.3, 1.2, 2.5), "λ values of the two-level arm (grandparent → parent → children)")
    two_level_seeds: int = option(2, "seeds per λ of the two-level arm (0: none)")
    two_level_children: int = option(2, "children of the two-level arm's one parent")
    two_level_p_parent: float = option(0.2, "two-level arm: probability of grandparent + parent without a child")
    two_level_grandparent: float = option(2.0, "two-level arm: the grandparent's constant magnitude (a varying one "
                                               "makes the exact objective a 1-d quadrature, ~100x slower)")
    two_level_random_starts: int = option(32, "the two-level arm's random starts per λ (its minima with dead or "
                                                 "doubled-up latents are many; 8 miss some that runs reach)")
    jumprelu_lams: tuple = option((0.3, 1.0, 3.0), "L0 coefficients λ of the JumpReLU arm (the family's own "
                                                     "λ Σ H(z − θ), on the unnormalised squared error)")
    jumprelu_thetas: tuple = option((0.1, 0.5), "JumpReLU arm: initial thresholds θ (trained, straight-through)")
    jumprelu_seeds: int = option(2, "seeds per (λ, θ) of the JumpReLU arm (0: none)")
    jumprelu_bandwidth: float = option(0.05, "JumpReLU arm: the straight-through estimator's bandwidth ε (the family's "
                                             "default)")
    jumprelu_bandwidth_scan: tuple = option((0.2, 0.05, 0.01), "JumpReLU arm: one run (first seed, middle λ, first θ) "
                                                               "per bandwidth, and the ε → 0 limit of the training field")
    jumprelu_random_starts: int = option(16, "JumpReLU arm: the search's random starts per λ and per initial θ's scale")
    jumprelu_search_theta: float = option(0.5, "JumpReLU arm: the θ at which the stationary points are searched "
                                               "(any θ > 0 gives the same points up to scale)")
    jumprelu_ste_zeros: bool = option(True, "JumpReLU arm: also search the zeros of the ε-estimator's expected training "
                                            "field (theory.absorption_ste) at each (λ, θ₀), and match runs to its stable ones")
    jumprelu_ste_random_starts: int = option(2, "JumpReLU arm: the ε-field zero search's seeded random starts per (λ, θ₀)")
    jumprelu_ste_mixed: bool = option(False, "JumpReLU arm: the ε-field zero search also from every per-child "
                                             "clean / partially / fully absorbed assignment")
    jumprelu_ste_max_nfev: int = option(30, "JumpReLU arm: least-squares evaluations of the ε-field zero search after "
                                            "its Adam flow")
    jumprelu_ste_workers: int = option(1, "JumpReLU arm: processes for the ε-field zero search's starts (the same result)")
    reuse_from: str = option("", "a committed absorption.json: keep its results and recompute only the arms in "
                                 "`recompute` (their settings from this config)")
    recompute: str = option("", "with reuse_from: the arms to recompute, comma-separated, of 'bias', 'two_level', "
                                "'jumprelu', 'topk', 'several_children', 'transcoder'")
    mixed_starts: bool = option(True, "search also from every per-child assignment of clean / partially / fully absorbed")
    random_starts: int = option(8, "search also from this many seeded random weights per λ (and per k)")
    search_seed: int = option(0, "seed of the search's random starts (a numpy stream, apart from the training seeds)")
    bias_children: int = option(1, "children of the encoder-bias arm's hierarchy (its exact objective integrates over polygons: slower)")

    def validate(self):
        from theory.errors import SDLInputError

        if self.seeds < 1 or self.steps < 1 or self.n_children < 1:
            raise SDLInputError("seeds, steps and n_children must be >= 1")
        if not 0 <= self.p_alone < 1:
            raise SDLInputError(f"p_alone must lie in [0, 1), got {self.p_alone}")
        if any(lam < 0 for lam in self.lams) or any(int(k) < 1 for k in self.ks):
            raise SDLInputError("λ values must be >= 0 and k values >= 1")
        if any(lam < 0 for lam in self.extra_lams) or self.extra_seeds < 0 or self.extra_children < 1:
            raise SDLInputError("extra_lams must be >= 0, extra_seeds >= 0 and extra_children >= 1")
        if any(lam < 0 for lam in self.bias_lams) or self.bias_seeds < 0 or self.bias_children < 1:
            raise SDLInputError("bias_lams must be >= 0, bias_seeds >= 0 and bias_children >= 1")
        if (any(lam < 0 for lam in self.two_level_lams) or self.two_level_seeds < 0 or self.two_level_children < 1
                or not 0 <= self.two_level_p_parent < 1 - self.p_alone or self.two_level_grandparent <= 0):
            raise SDLInputError("two_level_lams must be >= 0, two_level_seeds >= 0, two_level_children >= 1, "
                                "0 <= two_level_p_parent < 1 − p_alone and two_level_grandparent > 0")
        if (any(lam < 0 for lam in self.jumprelu_lams) or self.jumprelu_seeds < 0
                or any(not t > 0 for t in self.jumprelu_thetas) or not self.jumprelu_search_theta > 0
                or not self.jumprelu_bandwidth > 0 or any(not e > 0 for e in self.jumprelu_bandwidth_scan)
                or self.jumprelu_random_starts < 0 or self.jumprelu_ste_random_starts < 0
                or self.jumprelu_ste_max_nfev < 1 or self.jumprelu_ste_workers < 1):
            raise SDLInputError("jumprelu_lams must be >= 0, jumprelu_seeds, jumprelu_random_starts and "
                                "jumprelu_ste_random_starts >= 0, jumprelu_ste_max_nfev and jumprelu_ste_workers >= 1, jumprelu_thetas, "
                                "jumprelu_search_theta and the bandwidths > 0")
        if self.recompute and not self.reuse_from or any(a not in _RECOMPUTABLE for a in _names(self.recompute)):
            raise SDLInputError(f"recompute names arms of {_RECOMPUTABLE} and needs reuse_from; got {self.recompute!r}")
        if self.random_starts < 0 or self.two_level_random_starts < 0:
            raise SDLInputError(f"random_starts and two_level_random_starts must be >= 0, got {self.random_starts}, "
                                f"{self.two_level_random_starts}")
        if self.plateau_abs_tol < 0:
            raise SDLInputError(f"plateau_abs_tol must be >= 0, got {self.plateau_abs_tol}")
        if self.refine_steps < 1 or not 0 < self.plateau_tol < 1 or not 0 < self.match_tol < 1:
            raise SDLInputError(f"refine_steps must be >= 1 and plateau_tol, match_tol in (0, 1); got "
                                f"{self.refine_steps}, {self.plateau_tol}, {self.match_tol}")


_ARMS = ("bias", "two_level", "jumprelu")
# with reuse_from these can be redone alone too: the TopK curve in k, and the several-children and transcoder curves
_EXTRA = ("several_children", "transcoder")
_RECOMPUTABLE = (*_ARMS, "topk", *_EXTRA)


def stored_config(result: dict) -> AbsorptionConfig:
    """The config a stored result of this study was made with (its ``config`` block; JSON's lists back as tuples)."""
    return AbsorptionConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in result["config"].items()})


def _names(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


def _unit(V):
    return V / np.linalg.norm(V, axis=1, keepdims=True).clip(1e-12)


def measure(model, cfg: AbsorptionConfig, seed: int) -> dict:
    """Absorption metrics of one model on fresh child events (THEORY.md §8).

    A latent *contributes* to an event when ``a_i ||d_i|| > off_fraction · m_P``. A child-j event is
    *absorbed* when no contributing latent is a pure parent latent (decoder cosine with ``p`` > 0.9)
    while a contributing latent's decoder mixes parent and child (cosines with ``p`` and ``c_j`` both >
    ``parent_cos``). Decided by decoder geometry, not by latent identity, so it also catches a parent
    latent that absorbed the child (seen with TopK, k = 1)."""
    K = cfg.n_children
    W = np.eye(1 + K)
    D = model.W_dec.detach().double().numpy()  # n_q × n_p, rows = atoms
    norms = np.linalg.norm(D, axis=1)
    dec = _unit(D)
    gen = torch.Generator().manual_seed(50_000 + seed)
    rates, cosines = [], []
    for j in range(1, K + 1):
        sampler = hierarchy_event_sampler(W, 0, [j], 0.0, cfg.c_min, cfg.beta)
        x, _ = sampler(gen, cfg.eval_events)
        a = code_of(model, x).detach().double().numpy()
        mP = x[:, 0].double().numpy()
        contributes = a * norms[None, :] > cfg.off_fraction * mP[:, None]
        pure_parent = dec[:, 0] > 0.9
        mixture = (dec[:, 0] > cfg.parent_cos) & (dec[:, j] > cfg.parent_cos)
        absorbed = ~(contributes & pure_parent[None, :]).any(1) & (contributes & mixture[None, :]).any(1)
        rates.append(float(absorbed.mean()))
        # the latent that best matches the child: its decoder's parent component
        child_latent = int(np.argmax(dec[:, j]))
        cosines.append(float(dec[child_latent, 0]))
    return {"absorption_rate": float(np.mean(rates)), "per_child_rate": rates,
            "child_decoder_parent_cosine": float(np.mean(cosines))}


def _crossing(xs, ys, level=0.5):
    for i in range(1, len(xs)):
        if ys[i - 1] < level <= ys[i]:
            return float(xs[i - 1] + (level - ys[i - 1]) * (xs[i] - xs[i - 1]) / (ys[i] - ys[i - 1]))
    return float(xs[0]) if ys and ys[0] >= level else None


def _weights(model) -> tuple[np.ndarray, np.ndarray]:
    """``(W_E, W_D)`` in the theory's layout (n_q × n_p, n_r × n_q), float64."""
    return model.W_enc.detach().double().numpy(), model.W_dec.detach().double().numpy().T


def _exact(h, model, lam, activation, k, gradient=True):
    """``(loss, gradient norm or None)`` of the exact objective at the model's weights (with its encoder bias when it
    has one: :func:`theory.absorption_bias.exact_objective_bias`)."""
    from theory.absorption_bias import exact_objective_bias
    from theory.absorption_curve import exact_objective

    if activation == "jumprelu":  # no bias; the L0 term; the threshold's own derivative is part of the gradient
        from theory.absorption_bias import threshold_gradient

        W_E, W_D = _weights(model)
        th = model.threshold.detach().double().numpy()
        loss, *g = exact_objective_bias(h, W_E, np.zeros(len(th)), W_D, lam, theta=th, penalty="l0",
                                        gradient=gradient)
        if gradient:
            g.append(threshold_gradient(h, W_E, np.zeros(len(th)), W_D, lam, th, penalty="l0"))
    elif model.b_enc is not None:
        b = model.b_enc.detach().double().numpy()
        loss, *g = exact_objective_bias(h, model.W_enc.detach().double().numpy(), b,
                                        model.W_dec.detach().double().numpy().T, lam, gradient=gradient)
    else:
        loss, *g = exact_objective(h, *_weights(model), lam, activation=activation, k=k, gradient=gradient)
    return float(loss), (float(np.sqrt(sum((x**2).sum() for x in g))) if gradient else None)


def _weights_bias(model):
    """``(W_E, b_E, W_D)`` in the theory's layout, float64."""
    return (model.W_enc.detach().double().numpy(), model.b_enc.detach().double().numpy(),
            model.W_dec.detach().double().numpy().T)


def train_to_convergence(model, sampler, h, lam: float, cfg: AbsorptionConfig, seed: int, *, activation="relu",
                         k=None) -> dict:
    """The study's recipe (Adam, ``cfg.steps`` at ``cfg.lr``; TopK: ``cfg.topk_steps``), then two segments of
    ``cfg.refine_steps`` at ``cfg.refine_lr`` with batch ``cfg.refine_batch``. *Converged*: the **exact** objective
    (:func:`theory.absorption_curve.exact_objective`, no sampling noise) changes by at most ``cfg.plateau_tol``
    (relative) over the second segment. The exact gradient norm is recorded too but is not the criterion: at a
    minimum on a kink (a latent's reading pinned at 0) the gradient does not vanish."""
    steps = cfg.topk_steps if activation == "topk_relu" else cfg.steps
    pen = {"l0": lam} if activation == "jumprelu" else {"l1": lam}  # JumpReLU: the family's own L0 term
    tl = train(model, sampler, steps=steps, batch=cfg.batch, lr=cfg.lr, seed=seed, **pen)
    exact = []
    for seg in (1, 2):
        train(model, sampler, steps=cfg.refine_steps, batch=cfg.refine_batch, lr=cfg.refine_lr, seed=1000 * seg + seed,
              **pen)
        exact.append(_exact(h, model, lam, activation, k, gradient=False)[0])
    loss, gn = _exact(h, model, lam, activation, k)
    delta = abs(exact[1] - exact[0])
    change = delta / max(abs(exact[1]), 1e-12)
    # a run at zero loss (the global minimum) has nothing left to change; a loss near 0 changes by more than
    # plateau_tol of itself at Adam's constant step, so an absolute floor too (the same for every arm)
    out = {"final_loss": tl.final_loss, "exact_loss": loss, "plateau_change": float(change),
           "plateau_change_abs": float(delta),
           "converged": bool(change <= cfg.plateau_tol or delta <= cfg.plateau_abs_tol
                             or exact[1] <= cfg.zero_loss_tol), "exact_grad_norm": gn}
    if activation == "topk_relu":
        # what autograd of sampled batches follows: the gradient without the swap edges' terms
        from theory.absorption_curve import exact_objective

        _, gE, gD = exact_objective(h, *_weights(model), lam, activation=activation, k=k, edges=False)
        out["interior_grad_norm"] = float(np.sqrt((gE**2).sum() + (gD**2).sum()))
    if activation == "jumprelu":
        # what the engine follows: the cells' gradient (no jump terms) and θ's derivative (the STE's ε → 0 limit)
        from theory.absorption_bias import jumprelu_field

        th = model.threshold.detach().double().numpy()
        out["thresholds"] = th.tolist()
        field = jumprelu_field(h, *_weights(model), lam, th, train_theta=True)
        out["interior_grad_norm"] = float(np.linalg.norm(field))
        out["theta_grad_exact"] = field[-len(th):].tolist()
        out["theta_grad_ste"] = _ste_theta_gradient(model, lam, cfg, seed)
    return out


def _ste_theta_gradient(model, lam: float, cfg: AbsorptionConfig, seed: int, n: int = 2**17) -> list[float]:
    """``∂/∂θ`` of the engine's own objective (``TheoryUnits(l0=λ)``, the model's straight-through estimator at its
    bandwidth) on ``n`` fresh events: what training's θ step follows, beside the exact derivative."""
    import copy

    from numerics.data import Batch
    from numerics.engine import TheoryUnits

    m = copy.deepcopy(model).double()
    x, y = hierarchy_event_sampler(np.eye(m.d_in), 0, list(range(1, m.d_in)), cfg.p_alone, cfg.c_min, cfg.beta)(
        torch.Generator().manual_seed(70_000 + seed), n)
    terms, _, _ = TheoryUnits(l0=lam)(m, Batch(x=None, x_p=x.double(), x_r=y.double()))
    sum(terms.values()).backward()
    if m.threshold_storage == "log":  # d/dθ = (d/d log θ) / θ
        return (m.log_threshold.grad / m.threshold).detach().numpy().tolist()
    return m.threshold.grad.detach().numpy().tolist()


def match_minimum(obs: dict, minima: list[dict], tol: float):
    """``(index or None, distance, nearest index)``: distance = the largest difference, over children (best
    matching of children) and, in a two-level hierarchy, parents, of absorption rate and tilt (and there the
    grandparent's gain) between a run and a predicted minimum."""
    import itertools

    K = len(obs["per_child_rate"])
    best, best_d = None, np.inf
    for i, m in enumerate(minima):
        # a two-level hierarchy: every parent's rate and tilt too (parents in order; children permuted)
        up = max((abs(a - b) for key in ("per_parent_rate", "per_parent_tilt")
                  for a, b in zip(obs.get(key, ()), m.get(key, ()))), default=0.0)
        if "per_parent_rate" in obs:  # and the grandparent's gain: minima that differ only in it exist
            up = max(up, abs(obs["parent_gain"] - m["parent_gain"]))
        for perm in itertools.permutations(range(K)):
            d = max(up, max(abs(obs["per_child_rate"][c] - m["per_child_rate"][perm[c]]) for c in range(K)),
                    max(abs(obs["per_child_tilt"][c] - m["per_child_tilt"][perm[c]]) for c in range(K)))
            if d < best_d:
                best, best_d = i, d
    return (best if best_d <= tol else None), float(best_d), best


def _diagnose(h, model, lam: float, cfg: AbsorptionConfig, activation="relu", k=None) -> dict:
    """Where a converged run that matches no predicted minimum is: the stationary point reached by minimising the
    exact objective from its weights (a diagnosis after the fact, never a prediction), classified."""
    from theory.absorption_curve import classify, observables, polish

    if activation == "jumprelu":  # polished at the run's own thresholds (stationary there = stationary in θ too)
        from theory.absorption_bias import _unpack3, classify_bias, observables_bias, polish_bias

        th = model.threshold.detach().double().numpy()
        theta, loss, gn = polish_bias(h, *_weights(model)[:1], np.zeros(len(th)), _weights(model)[1], lam,
                                      thresholds=th, penalty="l0", bias=False)
        kind = (classify_bias(h, theta, len(th), lam, thresholds=th, penalty="l0", bias=False)["kind"]
                if gn < 1e-6 else "not stationary")
        WE, _, WD = _unpack3(theta, len(th), h)
        return {"kind": kind, "grad_norm": gn, "kinks": [], "loss": loss,
                **observables_bias(h, WE, np.zeros(len(th)), WD, thresholds=th, off_fraction=cfg.off_fraction,
                                   parent_cos=cfg.parent_cos)}
    if model.b_enc is not None:
        from theory.absorption_bias import _unpack3, classify_bias, observables_bias, polish_bias

        theta, loss, gn = polish_bias(h, *_weights_bias(model), lam)
        kind = classify_bias(h, theta, h.n_children + 1, lam)["kind"] if gn < 1e-6 else "not stationary"
        return {"kind": kind, "grad_norm": gn, "kinks": [], "loss": loss,
                **observables_bias(h, *_unpack3(theta, h.n_children + 1, h), off_fraction=cfg.off_fraction,
                                   parent_cos=cfg.parent_cos)}
    W_E, W_D, loss, gn, kinks = polish(h, *_weights(model), lam, activation=activation, k=k)
    kind = classify(h, W_E, W_D, lam, kinks=kinks, activation=activation, k=k)[0] if gn < 1e-6 else "not stationary"
    obs = observables(h, W_E, W_D, lam, off_fraction=cfg.off_fraction, parent_cos=cfg.parent_cos,
                      activation=activation, k=k)
    return {"kind": kind, "grad_norm": gn, "kinks": [list(map(int, kk)) for kk in kinks], **obs}


def _transcoder_targets(K: int, seed: int) -> np.ndarray:
    """Seeded unit target directions in R^{1+K}, not orthogonal (a transcoder: W_r ≠ W_p)."""
    rng = np.random.default_rng(seed)
    Wr = np.eye(1 + K) + 0.4 * rng.normal(size=(1 + K, 1 + K))
    return Wr / np.linalg.norm(Wr, axis=0)


def curve(cfg: AbsorptionConfig, label: str, K: int, lams, n_seeds: int, law, W_r=None, log=print, ks=None,
          bias: bool = False, two_level=None, thetas=None) -> dict:
    """Predicted minima per λ (theory.absorption_curve) and runs trained to convergence, each matched to them.

    ``ks``: a TopK∘ReLU curve instead, one row per budget k (λ = 0). A TopK row also lists the *degenerate*
    stationary points (Hessian singular off the known symmetries) at which seeded perturbations of the exact loss
    found no descent; a run that matches no minimum but one of those records it (``predicted_degenerate``), and
    a run whose exact loss is at most ``zero_loss_tol`` is at the global minimum (loss 0, ``at_zero_loss``).
    ``bias``: ReLU SAEs with an encoder bias (no decoder bias: it stays 0, frozen), predicted by
    :func:`theory.absorption_bias.stationary_points_bias`. ``two_level``: a
    :class:`theory.absorption_two_level.TwoLevel` hierarchy instead (ReLU SAEs with one latent per feature; every
    run is matched on every child's and every parent's rate and tilt). ``thetas``: a JumpReLU arm instead (no bias,
    the family's L0 term with coefficient λ, θ trained by its straight-through estimator from each initial θ): one
    row per (λ, θ), the stationary points of :func:`theory.absorption_bias.stationary_points_jumprelu` searched once
    per λ (they do not depend on θ but for scale); a run that matches no minimum but a degenerate point with no
    descent records it, as under TopK."""
    from theory.absorption_bias import observables_bias, stationary_points_bias
    from theory.absorption_curve import _ZERO_LOSS, Hierarchy, observables, stationary_points

    h = Hierarchy(K, law, law, cfg.p_alone, W_r=W_r) if two_level is None else two_level
    n_f = 1 + K if two_level is None else two_level.n_features
    base = hierarchy_event_sampler(np.eye(1 + K), 0, list(range(1, K + 1)), cfg.p_alone, cfg.c_min, cfg.beta)
    if two_level is not None:
        sampler = two_level_sampler(two_level)
    elif W_r is None:
        sampler = base
    else:
        Wr_t = torch.tensor(W_r, dtype=torch.float32)

        def sampler(gen, B):
            x, _ = base(gen, B)
            return x, x @ Wr_t.T

    activation = "jumprelu" if thetas is not None else ("relu" if ks is None else "topk_relu")
    settings = [(float(lam), None) for lam in lams] if ks is None else [(0.0, int(k)) for k in ks]
    if thetas is not None:
        settings = [(float(lam), None, float(t)) for lam in lams for t in thetas]
    settings = [st if len(st) == 3 else (*st, None) for st in settings]
    rows = []
    searched = {}
    for lam, k, theta0 in settings:
        if thetas is not None:
            from theory.absorption_bias import stationary_points_jumprelu

            if lam not in searched:
                searched[lam] = stationary_points_jumprelu(
                    h, lam, cfg.jumprelu_search_theta, mixed=cfg.mixed_starts, n_random=cfg.jumprelu_random_starts,
                    seed=cfg.search_seed, random_scales=[cfg.jumprelu_search_theta / t for t in thetas],
                    extra_starts=_training_inits(h, cfg, thetas, n_seeds))
            pts = searched[lam]
        elif bias:
            pts = stationary_points_bias(h, lam)
        else:
            n_random = cfg.random_starts if two_level is None else cfg.two_level_random_starts
            pts = [p.to_json() for p in stationary_points(h, lam, activation=activation, k=k, mixed=cfg.mixed_starts,
                                                          n_random=n_random, seed=cfg.search_seed)]
        minima = [p for p in pts if p["kind"] == "minimum"]
        others = [p for p in pts if p["kind"] != "minimum"]
        zeros = stable = None
        if thetas is not None and cfg.jumprelu_ste_zeros:
            zeros = _estimator_zeros(h, lam, theta0, cfg, n_seeds)
            stable = [z for z in zeros if z["kind"] == "stable"]
        flat = [i for i, p in enumerate(others) if p["kind"] == "degenerate" and p["check"].get("no_descent_found")]
        zero = next((i for i, m in enumerate(minima) if m["loss"] <= _ZERO_LOSS), None)  # the zero-loss set's index
        runs = []
        for s in range(cfg.seed, cfg.seed + n_seeds):
            seed_all(s)
            model = make_model(activation, n_f, n_f, None if W_r is None else n_f, k=k or 0, seed=s, bias=bias,
                               **({} if theta0 is None else {"threshold_init": theta0,
                                                             "bandwidth": cfg.jumprelu_bandwidth}))
            if bias:
                model.b_dec.requires_grad_(False)  # the theory has an encoder bias only; Adam skips a param without grad
            q = train_to_convergence(model, sampler, h, lam, cfg, s, activation=activation, k=k)
            if thetas is not None:
                W_E, W_D = _weights(model)
                obs = observables_bias(h, W_E, np.zeros(n_f), W_D, thresholds=model.threshold.detach().double().numpy(),
                                       off_fraction=cfg.off_fraction, parent_cos=cfg.parent_cos)
            elif bias:
                obs = observables_bias(h, *_weights_bias(model), off_fraction=cfg.off_fraction,
                                       parent_cos=cfg.parent_cos)
                q["b_E"] = model.b_enc.detach().double().numpy().tolist()
            else:
                obs = observables(h, *_weights(model), lam, off_fraction=cfg.off_fraction,
                                  parent_cos=cfg.parent_cos, activation=activation, k=k)
            idx, dist, nearest = match_minimum(obs, minima, cfg.match_tol)
            q.update(seed=s, **{kk: v for kk, v in obs.items() if kk != "loss"}, predicted_minimum=idx,
                     distance_to_prediction=dist, nearest_minimum=nearest,
                     predicted_loss=None if nearest is None else minima[nearest]["loss"])
            if ks is not None or thetas is not None:
                q["at_zero_loss"] = bool(q["exact_loss"] <= cfg.zero_loss_tol)
                if idx is None and q["at_zero_loss"] and zero is not None:
                    # the zero-loss set is one predicted minimum (L >= 0: every point of it is a global minimum), a
                    # continuum whose rate and tilt vary along it (TopK at k > K): a run is in it when its exact loss
                    # is, within zero_loss_tol; its distance is that loss (the rate/tilt one to the listed member kept)
                    q.update(predicted_minimum=zero, matched_by="zero_loss_set", observable_distance=dist,
                             distance_to_prediction=float(q["exact_loss"]), nearest_minimum=zero, predicted_loss=0.0)
                    idx = zero
                if idx is None and flat:
                    j, dj, _ = match_minimum(obs, [others[i] for i in flat], cfg.match_tol)
                    q.update(predicted_degenerate=None if j is None else flat[j], distance_to_degenerate=dj)
            if stable is not None:
                # the ε-estimator's own fixed points: a separate kind of prediction (stable zeros of the expected
                # training field at the run's bandwidth, not minima of L), matched with the same tolerance
                q.update(_estimator_match(h, model, lam, cfg, obs, stable))
            # a miss, converged or not (a run still moving: where is it heading?)
            if (idx is None and not q.get("at_zero_loss") and q.get("predicted_degenerate") is None
                    and q.get("predicted_estimator_zero") is None):
                q["diagnosis"] = dg = _diagnose(h, model, lam, cfg, activation, k)
                # is the point its weights polish to one of the predicted minima (the run stopped short of it)?
                dg["predicted_minimum"] = match_minimum(dg, minima, cfg.match_tol)[0] if dg["kind"] == "minimum" else None
                if dg["kind"] == "minimum" and dg["loss"] <= _ZERO_LOSS and zero is not None:
                    dg["predicted_minimum"] = zero  # polishes into the zero-loss set
                if stable is not None:
                    q["estimator_diagnosis"] = _estimator_diagnosis(h, model, lam, cfg, obs, zeros)
            if ks is not None and idx is None and not q.get("at_zero_loss"):
                # where the field sampled TopK training follows (no swap-edge terms) goes from the run's weights
                from theory.absorption_curve import training_field_zero

                z = training_field_zero(h, *_weights(model), lam, k)
                if z is not None:
                    z = {kk: v for kk, v in z.items() if kk not in ("W_E", "W_D")}
                    z["distance"] = match_minimum(obs, [z], np.inf)[1]
                q["training_field_zero"] = z
            if W_r is None and K == cfg.n_children and not bias and two_level is None and thetas is None:
                q["measured"] = measure(model, cfg, s)  # the sampled estimate, as the threshold part reports it
            runs.append(q)
        row = {"lam": lam, "minima": minima, "other_stationary": others, "runs": runs}
        if zeros is not None:
            row["estimator_zeros"] = zeros
        if k is not None:
            row["k"] = k
        if theta0 is not None:
            row["theta_init"] = theta0
        rows.append(row)
        log(f"[{label}] {_setting(row)}: predicted minima (rate, tilt, loss): "
            + "; ".join(f"({m['absorption_rate']:.3f}, {m['tilt']:.3f}, {m['loss']:.3f})" for m in minima)
            + " | runs (minimum, distance): "
            + ", ".join(f"{r['predicted_minimum']}/{r['distance_to_prediction']:.3f}{'' if r['converged'] else ' (not converged)'}"
                        for r in runs))
    out = {"label": label, "hierarchy": h.to_json(), "rows": rows}
    if thetas is not None and rows and cfg.jumprelu_bandwidth_scan:
        out["bandwidth_scan"] = _bandwidth_scan(cfg, h, sampler, rows, log)
    if two_level is not None:
        out["two_level"] = True
    if ks is not None:
        out["activation"] = activation
    if bias:
        out["encoder_bias"] = True
    if thetas is not None:
        out["activation"] = activation
        out["search_theta"] = cfg.jumprelu_search_theta
        out["bandwidth"] = cfg.jumprelu_bandwidth
    return out


def _estimator_zeros(h, lam: float, theta0: float, cfg: AbsorptionConfig, n_seeds: int) -> list[dict]:
    """Zeros of the ε-estimator's expected field (:func:`theory.absorption_ste.ste_field_zeros`) at the arm's
    bandwidth and log-θ storage, from the structured starts, ``cfg.jumprelu_ste_random_starts`` random ones and
    the runs' own initialisations at θ₀ (not rescaled: ε does not scale with the model), each followed by
    deterministic Adam with the runs' schedule (``cfg.steps`` at ``cfg.lr``, then ``2 · cfg.refine_steps`` at
    ``cfg.refine_lr``) and solved by least squares; classified by the field's Jacobian."""
    from theory.absorption_ste import ste_field_zeros

    inits = []
    for s in range(cfg.seed, cfg.seed + n_seeds):
        inits.append((_weights(make_model("jumprelu", h.n_p, h.n_p, seed=s)), {"training_init": s,
                                                                              "theta_init": float(theta0)}))
    return ste_field_zeros(h, lam, theta0, cfg.jumprelu_bandwidth, mixed=cfg.jumprelu_ste_mixed,
                           n_random=cfg.jumprelu_ste_random_starts, seed=cfg.search_seed, extra_starts=inits,
                           schedule=((cfg.steps, cfg.lr), (2 * cfg.refine_steps, cfg.refine_lr)),
                           max_nfev=cfg.jumprelu_ste_max_nfev, workers=cfg.jumprelu_ste_workers)


def _run_point(model):
    W_E, W_D = _weights(model)
    return W_E, W_D, model.threshold.detach().double().numpy()


def _estimator_match(h, model, lam: float, cfg: AbsorptionConfig, obs: dict, stable: list[dict]) -> dict:
    """A JumpReLU run against the stable zeros of the ε-estimator's field: ``predicted_estimator_zero`` (index into
    the row's stable zeros, or None), the distance (as :func:`match_minimum`) and the field's norm at the run."""
    from theory.absorption_ste import ste_field

    W_E, W_D, th = _run_point(model)
    norm = (float(np.linalg.norm(ste_field(h, W_E, W_D, lam, th, cfg.jumprelu_bandwidth)))
            if (th > cfg.jumprelu_bandwidth / 2).all() else None)
    if not stable:
        return {"predicted_estimator_zero": None, "distance_to_estimator_zero": None, "ste_field_norm": norm}
    j, dj, nj = match_minimum(obs, stable, cfg.match_tol)
    return {"predicted_estimator_zero": j, "distance_to_estimator_zero": dj, "nearest_estimator_zero": nj,
            "ste_field_norm": norm}


def _estimator_diagnosis(h, model, lam: float, cfg: AbsorptionConfig, obs: dict, zeros: list[dict]) -> dict | None:
    """Where the ε-estimator's field goes from a missed run's own weights (a diagnosis after the fact, never a
    prediction): the zero least squares reaches from them (no flow first), classified, its distance to the run and
    whether it is one of the row's zeros."""
    from theory.absorption_ste import ste_field_zero

    W_E, W_D, th = _run_point(model)
    if not (th > cfg.jumprelu_bandwidth / 2).all():
        return None
    z = ste_field_zero(h, W_E, W_D, lam, th, cfg.jumprelu_bandwidth, schedule=(),
                       max_nfev=cfg.jumprelu_ste_max_nfev)
    if z is None:
        return None
    z = {k: v for k, v in z.items() if k not in ("W_E", "W_D", "eigenvalues_real")}
    z["distance"] = match_minimum(obs, [z], np.inf)[1]
    j = match_minimum(z, zeros, cfg.match_tol)[0] if zeros else None
    z["listed_zero"] = j
    return z


def _training_inits(h, cfg: AbsorptionConfig, thetas, n_seeds: int) -> list:
    """The JumpReLU runs' own initial weights (seed s, initial θ₀), carried to the search's θ by the scaling: starts
    that reach what those runs can reach (the search never sees trained weights)."""
    out = []
    for s in range(cfg.seed, cfg.seed + n_seeds):
        W_E, W_D = _weights(make_model("jumprelu", h.n_p, h.n_p, seed=s))
        for t in thetas:
            c = cfg.jumprelu_search_theta / t
            out.append(((c * W_E, W_D / c), {"training_init": s, "theta_init": float(t)}))
    return out


def _bandwidth_scan(cfg: AbsorptionConfig, h, sampler, rows: list[dict], log=print) -> dict:
    """Where JumpReLU training ends as the straight-through bandwidth ε shrinks: one run per ε (the first seed, the
    middle λ, the first initial θ), its distance to the nearest predicted minimum and the norm of the ε → 0 field
    there; then the zero of that field (:func:`theory.absorption_bias.jumprelu_field_zero`) reached from the
    smallest ε's weights — what training would reach as ε → 0 — and its distance to the same minimum."""
    from theory.absorption_bias import jumprelu_field_zero, observables_bias

    lams = sorted({r["lam"] for r in rows})
    lam = lams[len(lams) // 2]
    row = next(r for r in rows if r["lam"] == lam)
    minima, theta0, s = row["minima"], row["theta_init"], cfg.seed
    out = {"lam": lam, "theta_init": theta0, "seed": s, "runs": []}
    model = None
    for eps in cfg.jumprelu_bandwidth_scan:
        seed_all(s)
        model = make_model("jumprelu", h.n_p, h.n_p, seed=s, threshold_init=theta0, bandwidth=float(eps))
        q = train_to_convergence(model, sampler, h, lam, cfg, s, activation="jumprelu")
        obs = observables_bias(h, *_weights(model)[:1], np.zeros(h.n_p), _weights(model)[1],
                               thresholds=model.threshold.detach().double().numpy(), off_fraction=cfg.off_fraction,
                               parent_cos=cfg.parent_cos)
        idx, dist, nearest = match_minimum(obs, minima, cfg.match_tol)
        out["runs"].append({"bandwidth": float(eps), **{k: q[k] for k in ("exact_loss", "converged", "exact_grad_norm",
                                                                            "interior_grad_norm", "thresholds")},
                            "per_child_rate": obs["per_child_rate"], "per_child_tilt": obs["per_child_tilt"],
                            "parent_gain": obs["parent_gain"], "predicted_minimum": idx, "distance": dist,
                            "nearest_minimum": nearest})
    if model is not None:
        W_E, W_D = _weights(model)
        z = jumprelu_field_zero(h, W_E, W_D, lam, model.threshold.detach().double().numpy())
        if z is not None:
            z = {k: v for k, v in z.items() if k not in ("W_E", "W_D")}
            idx, dist, nearest = match_minimum(z, minima, cfg.match_tol)
            z.update(predicted_minimum=idx, distance=dist, nearest_minimum=nearest)
        out["field_zero"] = z
    log(f"[JumpReLU bandwidth scan] λ = {lam:g}: " + ", ".join(
        f"ε = {q['bandwidth']:g}: distance {q['distance']:.3f} (field {q['interior_grad_norm']:.3g})" for q in out["runs"])
        + ("" if out.get("field_zero") is None else f"; ε → 0 zero: distance {out['field_zero']['distance']:.3f}"))
    return out


def _setting(row: dict) -> str:
    if "theta_init" in row:
        return f"λ = {row['lam']:g}, θ₀ = {row['theta_init']:g}"
    return f"k = {row['k']}" if "k" in row else f"λ = {row['lam']:g}"


def _law_of(cfg: AbsorptionConfig):
    from theory.distribution import Constant, ShiftedExponential

    return ShiftedExponential(cfg.c_min, cfg.beta) if cfg.beta > 0 else Constant(cfg.c_min)


def _arm(cfg: AbsorptionConfig, name: str, log=print):
    """One of the further arms (:data:`_RECOMPUTABLE`), or ``None`` when its seeds are 0."""
    law = _law_of(cfg)
    if name == "topk":
        K = cfg.n_children
        return curve(cfg, f"TopK∘ReLU, K = {K}", K, (), cfg.seeds, law, log=log, ks=cfg.ks)
    if name == "several_children" and cfg.extra_seeds:
        return curve(cfg, f"SAE, K = {cfg.extra_children}", cfg.extra_children, cfg.extra_lams, cfg.extra_seeds, law,
                     log=log)
    if name == "transcoder" and cfg.extra_seeds:
        K = cfg.n_children
        return curve(cfg, f"transcoder, K = {K}", K, cfg.extra_lams, cfg.extra_seeds, law,
                     W_r=_transcoder_targets(K, cfg.seed + 7), log=log)
    if name == "bias" and cfg.bias_seeds:
        return curve(cfg, f"SAE with encoder bias, K = {cfg.bias_children}", cfg.bias_children, cfg.bias_lams,
                     cfg.bias_seeds, law, log=log, bias=True)
    if name == "two_level" and cfg.two_level_seeds:
        from theory.absorption_two_level import TwoLevel
        from theory.distribution import Constant

        tl = TwoLevel(1, cfg.two_level_children, Constant(cfg.two_level_grandparent), law, law, cfg.p_alone,
                      cfg.two_level_p_parent)
        return curve(cfg, f"two levels, grandparent → parent → {cfg.two_level_children} children",
                     cfg.two_level_children, cfg.two_level_lams, cfg.two_level_seeds, law, log=log, two_level=tl)
    if name == "jumprelu" and cfg.jumprelu_seeds:
        return curve(cfg, f"JumpReLU + L0, K = {cfg.n_children}", cfg.n_children, cfg.jumprelu_lams,
                     cfg.jumprelu_seeds, law, log=log, thetas=cfg.jumprelu_thetas)
    return None


def _arm_of(c: dict, position: int) -> str | None:
    """The arm a stored curve belongs to (``position``: its index in the result's curves; 0 is the main ReLU one)."""
    if c.get("activation") == "jumprelu":
        return "jumprelu"
    if c.get("activation") == "topk_relu":
        return "topk"
    if c.get("two_level"):
        return "two_level"
    if c.get("encoder_bias"):
        return "bias"
    if c["label"].startswith("transcoder"):
        return "transcoder"
    return "several_children" if position > 0 and c["label"].startswith("SAE, K =") else None


def _topk_result(cfg: AbsorptionConfig, topk_curve: dict, log=print) -> dict:
    """The result's ``topk`` part from the TopK curve: per k the sampled absorption rate beside the rigid comparison
    (:func:`theory.absorption.predict_topk`) and the curve's predicted minima and degenerate points."""
    from theory.absorption import predict_topk

    law = _law_of(cfg)
    topk_rows = []
    for crow in topk_curve["rows"]:
        k = crow["k"]
        per_seed = [dict(q["measured"], seed=q["seed"], final_loss=q["final_loss"]) for q in crow["runs"]]
        pk = predict_topk(int(k), law, law)
        row = {"k": int(k), "runs": per_seed, "absorption_rate": mean_ci([r["absorption_rate"] for r in per_seed]),
               "child_decoder_parent_cosine": mean_ci([r["child_decoder_parent_cosine"] for r in per_seed]),
               "predicted": pk.to_json()}
        topk_rows.append(row)
        log(f"k = {k}  absorption rate {row['absorption_rate']['mean']:.2f}  (rigid prediction: {pk.preferred})")
    k_emp = next((r["k"] for r in topk_rows if r["absorption_rate"]["mean"] < 0.5), None)
    keys = ("absorption_rate", "per_child_rate", "tilt", "per_child_tilt", "parent_gain", "loss")
    return {"predicted_k_threshold": topk_rows[0]["predicted"]["k_threshold"] if topk_rows else None,
            "largest_absorbing_k": max([r["k"] for r in topk_rows if r["absorption_rate"]["mean"] >= 0.5], default=None),
            "smallest_clean_k": k_emp, "rows": topk_rows,
            "predicted_curve": [{"k": r["k"], "minima": [{kk: m[kk] for kk in keys} for m in r["minima"]],
                                 "degenerate_no_descent": [{kk: m[kk] for kk in keys} for m in r["other_stationary"]
                                                           if m["kind"] == "degenerate"
                                                           and m["check"].get("no_descent_found")]}
                                for r in topk_curve["rows"]]}


def _reuse(cfg: AbsorptionConfig, log=print) -> dict:
    """The committed result ``cfg.reuse_from`` with the arms in ``cfg.recompute`` computed afresh (and appended
    where the file has none); the rest of it, and what it says of how it was made, kept as it was."""
    import json
    from pathlib import Path

    from theory.errors import SDLInputError

    t0 = time.perf_counter()
    try:
        prev = json.loads(Path(cfg.reuse_from).read_text())
    except (OSError, ValueError) as e:
        raise SDLInputError(f"reuse_from: cannot read {cfg.reuse_from}: {e}") from None
    if prev.get("study") != NAME or "curves" not in prev:
        raise SDLInputError(f"reuse_from: {cfg.reuse_from} is not an absorption study result")
    result = dict(prev)
    kept = {k: prev[k] for k in ("config", "wall_s", "cpu_s", "command") if k in prev}
    curves = list(prev["curves"])
    for name in _names(cfg.recompute):
        new = _arm(cfg, name, log)
        at = next((i for i, c in enumerate(curves) if _arm_of(c, i) == name), None)
        if name == "topk":
            result["topk"] = _topk_result(cfg, new, log)
        if new is None:
            if at is not None:
                curves.pop(at)
        elif at is None:
            curves.append(new)
        else:
            curves[at] = new
    result["curves"] = curves
    result["config"] = asdict(cfg)
    result["reused"] = {"from": cfg.reuse_from, "recomputed": _names(cfg.recompute),
                        "kept_arms_made_with": kept, "recompute_wall_s": time.perf_counter() - t0,
                        **({"previous": prev["reused"]} if "reused" in prev else {})}
    result["match_summary"] = _match_summary(curves)
    result["wall_s"] = time.perf_counter() - t0
    result["note"] = _note(result)
    return result


def compute(cfg: AbsorptionConfig, log=print) -> dict:
    from theory.absorption import clean_tilt, l1_threshold, predict_l1, validity_limit

    torch.set_num_threads(1)
    if cfg.reuse_from:
        return _reuse(cfg, log)
    t0 = time.perf_counter()
    law = _law_of(cfg)
    K = cfg.n_children
    W = np.eye(1 + K)
    sampler = hierarchy_event_sampler(W, 0, list(range(1, K + 1)), cfg.p_alone, cfg.c_min, cfg.beta)
    lam_star = l1_threshold(law, law)
    seeds = [cfg.seed + s for s in range(cfg.seeds)]
    main = curve(cfg, "SAE, K = %d" % K, K, cfg.lams, cfg.seeds, law, log=log)
    l1_rows = []
    for crow in main["rows"]:
        lam = crow["lam"]
        per_seed = [dict(q["measured"], seed=q["seed"], final_loss=q["final_loss"]) for q in crow["runs"]]
        pred = predict_l1(lam, law, law)
        tilt = clean_tilt(lam, law, law)
        from theory.shrinkage import predict as predict_shrinkage

        f_parent = predict_shrinkage(lam, law).event_loss  # parent-alone events cost the same in both
        total = {"clean": cfg.p_alone * f_parent + (1 - cfg.p_alone) * pred.clean_loss,
                 "absorbed": cfg.p_alone * f_parent + (1 - cfg.p_alone) * pred.absorbed_loss}
        v = np.array(pred.absorbed_decoder)
        row = {"lam": lam, "runs": per_seed,
               "absorption_rate": mean_ci([r["absorption_rate"] for r in per_seed]),
               "child_decoder_parent_cosine": mean_ci([r["child_decoder_parent_cosine"] for r in per_seed]),
               "predicted": {"absorbed": pred.absorbed, "clean_loss_per_child_event": pred.clean_loss,
                             "absorbed_loss_per_child_event": pred.absorbed_loss,
                             "absorbed_decoder_parent_cosine": float(v[0] / np.linalg.norm(v)),
                             "clean_decoder_parent_cosine": tilt["decoder_parent_cosine"],
                             "clean_encoder_slope": tilt["encoder_slope"], "unmet": list(pred.unmet),
                             "objective_clean": total["clean"], "objective_absorbed": total["absorbed"]},
               "final_loss": mean_ci([r["final_loss"] for r in per_seed])}
        l1_rows.append(row)
    topk_curve = _arm(cfg, "topk", log)
    lams = [r["lam"] for r in l1_rows]
    rates = [r["absorption_rate"]["mean"] for r in l1_rows]
    emp = _crossing(lams, rates)
    # seeds split between full and partial absorption (bimodal): the median's crossing says where most runs switch
    medians = [float(np.median([q["absorption_rate"] for q in r["runs"]])) for r in l1_rows]
    emp_median = _crossing(lams, medians)
    result = {
        "study": NAME, "config": asdict(cfg), "seeds": seeds,
        "assumptions": ["orthonormal parent/child directions (SAE)", "single-family events (parent alone or one child + parent)",
                        f"independent magnitudes c_min + Exp(β) = {cfg.c_min} + Exp({cfg.beta})",
                        "ReLU + L1 on the unnormalised squared error, L1 weighted by decoder norms, no biases",
                        "configurations compared: clean (each latent reads/decodes its own direction) vs absorbed "
                        "(parent latent off on the child, child latent decodes along (κ p + c_j))"],
        "l1": {"predicted_threshold": lam_star, "validity_limit": validity_limit(law, law),
               "empirical_threshold": emp, "gap": None if emp is None else emp - lam_star,
               "empirical_threshold_median": emp_median,
               "gap_median": None if emp_median is None else emp_median - lam_star, "rows": l1_rows},
        "topk": _topk_result(cfg, topk_curve, log),
        "wall_s": time.perf_counter() - t0,
    }
    # runs that ended in one of the two rigid configurations: does their loss match the closed form?
    fits = {"absorbed": [], "clean": []}
    for row in l1_rows:
        for q in row["runs"]:
            kind = "absorbed" if q["absorption_rate"] >= 0.99 else ("clean" if q["absorption_rate"] <= 0.15 else None)
            if kind:
                pred_obj = row["predicted"][f"objective_{kind}"]
                fits[kind].append({"lam": row["lam"], "seed": q["seed"], "final_loss": q["final_loss"],
                                   "predicted": pred_obj, "relative_error": (q["final_loss"] - pred_obj) / pred_obj})
    result["l1"]["configuration_fits"] = fits
    from theory.absorption import parent_switch_off, switch_off_leak

    result["switch_off"] = {
        "no_bias_unit_magnitudes": parent_switch_off(W, 0, list(range(1, K + 1)), 1).to_json(),
        "bias_unit_magnitudes": parent_switch_off(W, 0, list(range(1, K + 1)), 1, encoder_bias=True).to_json(),
        "leak_Pr(m_P > γ m_C)": {str(g): switch_off_leak(g, law, law, seed=cfg.seed) for g in (1.0, 2.0, 5.0, 10.0)},
        "why": "at unit magnitudes (L̃) e = p − γ c_j switches the parent latent off on child j exactly (γ >= 1, no bias "
               "needed); with c_min + Exp(β) magnitudes no finite γ does it on every event, a bias does not change that",
    }
    extras = [main, topk_curve]
    extras += [c for c in (_arm(cfg, name, log) for name in (*_EXTRA, *_ARMS)) if c is not None]
    result["curves"] = extras
    result["predicted_curve"] = [{"lam": r["lam"], "minima": [{k: m[k] for k in (
        "absorption_rate", "per_child_rate", "tilt", "per_child_tilt", "parent_gain", "loss")} for m in r["minima"]]}
        for r in main["rows"]]
    result["match_summary"] = _match_summary(extras)
    result["wall_s"] = time.perf_counter() - t0
    result["note"] = _note(result)
    return result


def _match_summary(curves: list[dict]) -> dict:
    out = {}
    for c in curves:
        rows = []
        for r in c["rows"]:
            conv = [q for q in r["runs"] if q["converged"]]
            row = {"lam": r["lam"], "n_minima": len(r["minima"]), "runs": len(r["runs"]), "converged": len(conv),
                   "at_a_predicted_minimum": sum(q["predicted_minimum"] is not None for q in conv),
                   "misses": [{"seed": q["seed"], "distance": q["distance_to_prediction"],
                               "converged": q["converged"]}
                              for q in r["runs"] if q["predicted_minimum"] is None]}
            if "theta_init" in r:
                row.update(theta_init=r["theta_init"],
                           at_a_degenerate_point=sum(q.get("predicted_degenerate") is not None for q in conv))
                if "estimator_zeros" in r:
                    row["at_a_stable_estimator_zero_only"] = sum(
                        q["predicted_minimum"] is None and q.get("predicted_estimator_zero") is not None for q in conv)
                    row["stable_estimator_zeros"] = sum(z["kind"] == "stable" for z in r["estimator_zeros"])
            if "k" in r:
                row.update(k=r["k"], at_zero_loss=sum(bool(q.get("at_zero_loss")) for q in conv),
                           at_a_degenerate_point=sum(q.get("predicted_degenerate") is not None for q in conv))
            rows.append(row)
        out[c["label"]] = rows
    return out


def _curve_sentence(c: dict, tol: float, zero_tol: float = 1e-6) -> str:
    from theory.absorption_curve import _ZERO_LOSS

    rows = c["rows"]
    n_runs = sum(len(r["runs"]) for r in rows)
    conv = [q for r in rows for q in r["runs"] if q["converged"]]
    hit = [q for q in conv if q["predicted_minimum"] is not None]
    bist = [_setting(r) for r in rows if len(r["minima"]) >= 2]
    what = "k" if rows and "k" in rows[0] else "λ"
    who = ("every child's and parent's rate and tilt and the grandparent's gain" if c.get("two_level")
           else "every child's rate and tilt")
    s = (f"{c['label']}: {len(conv)} of {n_runs} runs converged, {len(hit)} of those at a predicted minimum "
         f"({who} within {tol:g})")
    zero = [q for q in conv if q["predicted_minimum"] is None and q.get("at_zero_loss")]
    in_set = [q for q in hit if q.get("matched_by") == "zero_loss_set"]
    flat = [q for q in conv if q.get("predicted_degenerate") is not None]
    if in_set:
        s += (f" — {len(in_set)} of them in the zero-loss set (the global minimum, a continuum along which rate and "
              f"tilt vary: matched by exact loss <= {zero_tol:g})")
    if zero:
        s += f", {len(zero)} more at zero loss (the global minimum set, a continuum at these k)"
    if flat:
        s += f", {len(flat)} more at a degenerate stationary point where no perturbation found descent"
    ez = [(r, q) for r in rows for q in r["runs"] if q["converged"] and q["predicted_minimum"] is None
          and q.get("predicted_estimator_zero") is not None]
    if any("estimator_zeros" in r for r in rows):
        s += (f", {len(ez)} more at a stable zero of the ε-estimator's expected training field (ε = "
              f"{c.get('bandwidth', 0.05):g}, log θ; not a minimum of L)"
              + ("" if not ez else ": " + ", ".join(
                  f"{_setting(r)} seed {q['seed']} (distance {q['distance_to_estimator_zero']:.3f} to zero "
                  f"z{q['predicted_estimator_zero']})" for r, q in ez)))
    if conv:
        worst = max([q for q in conv if q.get("matched_by") != "zero_loss_set"] or conv,
                    key=lambda q: q["distance_to_prediction"])
        gaps = [abs(q["exact_loss"] - q["predicted_loss"]) / max(q["predicted_loss"], 1e-12) for q in hit
                if q["predicted_loss"] > 1e-9]
        s += (f"; largest distance {worst['distance_to_prediction']:.3f}"
              + (f", exact loss within {100 * max(gaps):.3f}% of the predicted minimum's" if gaps else ""))
    s += f"; two or more local minima (bistable) at {len(bist)} of {len(rows)} {what} values"
    miss = [(r, q) for r in rows for q in r["runs"] if q["predicted_minimum"] is None and not q.get("at_zero_loss")
            and q.get("predicted_degenerate") is None and q.get("predicted_estimator_zero") is None]
    if miss:
        s += "; not at a predicted minimum: " + ", ".join(
            f"{_setting(r)} seed {q['seed']} (distance {q['distance_to_prediction']:.3f}"
            + ("" if q["converged"] else ", not converged")
            + (f"; exact gradient norm {q['exact_grad_norm']:.3g}, "
               + ("the field the engine follows (the cells' gradient, no threshold-line terms, and θ's derivative) "
                  if c.get("activation") == "jumprelu" else
                  "without the swap edges' terms (what sampled autograd follows) ")
               + f"{q['interior_grad_norm']:.3g}" if "interior_grad_norm" in q else "")
            + (f"; largest exact ∂L/∂θ_i {max(q['theta_grad_exact'], key=abs):.3g}, the straight-through estimate "
               f"there {q['theta_grad_ste'][int(np.argmax(np.abs(q['theta_grad_exact'])))]:.3g}"
               if "theta_grad_ste" in q else "")
            + (f"; the ε-estimator's expected field there {q['ste_field_norm']:.3g}"
               + ("" if q.get("distance_to_estimator_zero") is None else
                  f", nearest stable zero of it z{q['nearest_estimator_zero']} at distance "
                  f"{q['distance_to_estimator_zero']:.3f}")
               + ("" if "estimator_diagnosis" not in q else
                  "; least squares on that field from its weights reaches no zero"
                  if q["estimator_diagnosis"] is None else
                  f"; least squares on that field from its weights reaches a {q['estimator_diagnosis']['kind']} zero "
                  f"at distance {q['estimator_diagnosis']['distance']:.3f} (smallest real eigenvalue "
                  f"{q['estimator_diagnosis']['min_real_eigenvalue']:.2g}, loss {q['estimator_diagnosis']['loss']:.4f}"
                  + ("" if q["estimator_diagnosis"].get("listed_zero") is None else
                     f", listed as z{q['estimator_diagnosis']['listed_zero']}") + ")")
               if q.get("ste_field_norm") is not None else "")
            + (("; the flow of that field from its weights reaches no zero" if q["training_field_zero"] is None else
                f"; the flow of that field from its weights reaches a {q['training_field_zero']['kind']} zero of it at "
                f"distance {q['training_field_zero']['distance']:.3f} (loss {q['training_field_zero']['loss']:.4f}, "
                f"exact gradient norm {q['training_field_zero']['exact_grad_norm']:.3g})")
               if "training_field_zero" in q else "")
            + ((f"; polishing its weights on the exact objective reaches the zero-loss set (loss "
                f"{q['diagnosis']['loss']:.1e}, predicted minimum #{q['diagnosis']['predicted_minimum']}): the run is "
                "still descending into it" if q["diagnosis"].get("predicted_minimum") is not None
                and q["diagnosis"]["loss"] <= _ZERO_LOSS else
                f"; polishing its weights on the exact objective reaches predicted minimum "
                f"#{q['diagnosis']['predicted_minimum']} (loss {q['diagnosis']['loss']:.4f})"
                + (": the run stopped short of it" if q["distance_to_prediction"] <= 2 * tol else
                   ", far from where the run is")
                if q["diagnosis"].get("predicted_minimum") is not None else
                f"; polishing its weights on the exact objective ends at no stationary point (gradient norm "
                f"{q['diagnosis']['grad_norm']:.2g}" + (" on its kink" if q["diagnosis"].get("kinks") else "")
                + f"; per-child rate {', '.join(f'{x:.3f}' for x in q['diagnosis']['per_child_rate'])}, loss "
                f"{q['diagnosis']['loss']:.4f})" if q["diagnosis"]["kind"] == "not stationary" else
                f"; polishing its weights on the exact objective reaches a {q['diagnosis']['kind']} the search's starts "
                f"do not reach: per-child rate {', '.join(f'{x:.3f}' for x in q['diagnosis']['per_child_rate'])}, "
               f"tilt {', '.join(f'{x:.3f}' for x in q['diagnosis']['per_child_tilt'])}, loss {q['diagnosis']['loss']:.4f}")
               if "diagnosis" in q else "") + ")" for r, q in miss)
    return s + "."


def _note(r: dict) -> str:
    tol = r["config"]["match_tol"]
    c = r["config"]
    s = ("Predicted curve (theory.absorption_curve: stationary points of the exact objective, reached from the "
         "partially absorbed family" + (", every per-child assignment of clean / partially / fully absorbed"
                                        if c.get("mixed_starts") else "")
         + (f" and {c['random_starts']} seeded random starts (seed {c.get('search_seed', 0)})"
            if c.get("random_starts") else "") + ", classified by the Hessian): ")
    s += " ".join(_curve_sentence(c, tol, c_.get("zero_loss_tol", 1e-6)) for c_ in [r["config"]] for c in r["curves"]) + " "
    main = r["curves"][0]["rows"]
    g = [(x["lam"], x["minima"][0]) for x in main if x["minima"]]
    if g:
        s += ("Lowest-loss minimum, absorption rate from " + f"{g[0][1]['absorption_rate']:.3f} at λ = {g[0][0]:g} to "
              f"{g[-1][1]['absorption_rate']:.3f} at λ = {g[-1][0]:g} (continuous: absorption starts at λ = 0+); ")
    l1 = r["l1"]
    emp, pred = l1["empirical_threshold"], l1["predicted_threshold"]
    s += (f"the old threshold λ* = {pred:.3f} is only where the two rigid configurations (clean, fully absorbed) "
          "cross, neither of which is stationary for λ > 0; the mean trained absorption rate crosses 1/2 at "
          + ("no λ of the grid" if emp is None else f"λ ≈ {emp:.3f}")
          + (", the median at " + (f"λ ≈ {l1['empirical_threshold_median']:.3f}" if l1.get("empirical_threshold_median")
                                  is not None else "no λ of the grid")) + ". ")
    tk = r["topk"]
    curve_k = "; ".join(f"k = {x['k']}: " + (", ".join(f"{m['absorption_rate']:.3f} (loss {m['loss']:.4f})"
                                                       for m in x["minima"]) or "none")
                        for x in tk.get("predicted_curve", []))
    s += (f"TopK: predicted local minima per k (absorption rate, loss): {curve_k}; the rigid comparison's k* = "
          f"{tk['predicted_k_threshold']}; trained (sampled): absorption rate >= 1/2 up to k = "
          f"{tk['largest_absorbing_k']}, below 1/2 from k = {tk['smallest_clean_k']}.")
    return s


def tables(r: dict) -> str:
    tol = r["config"]["match_tol"]
    out = []
    for c in r["curves"]:
        topk = bool(c["rows"]) and "k" in c["rows"][0]
        out += [f"### {c['label']}", "",
                f"| {'k' if topk else 'λ'} | predicted minima: (absorption rate, tilt ⟨d_child, p⟩, parent gain, loss) |"
                " runs: seed → minimum (distance; exact loss vs predicted) |", "|---|---|---|"]
        for row in c["rows"]:
            mins = "<br>".join(f"#{i}: ({m['absorption_rate']:.3f}, {m['tilt']:.3f}, {m['parent_gain']:.3f}, {m['loss']:.4f})"
                               + (f"; parent: rate {', '.join(f'{x:.3f}' for x in m['per_parent_rate'])}, tilt "
                                  f"{', '.join(f'{x:.3f}' for x in m['per_parent_tilt'])}" if "per_parent_rate" in m else "")
                               for i, m in enumerate(row["minima"])) or "none found"
            if topk or "theta_init" in row:
                mins += "".join(f"<br>degenerate d{i}: ({m['absorption_rate']:.3f}, {m['tilt']:.3f}, "
                                f"{m['parent_gain']:.3f}, {m['loss']:.4f}), no descent found"
                                for i, m in enumerate(row["other_stationary"])
                                if m["kind"] == "degenerate" and m["check"].get("no_descent_found"))
            if "estimator_zeros" in row:
                st_ = [z for z in row["estimator_zeros"] if z["kind"] == "stable"]
                mins += "".join(f"<br>ε-estimator zero z{i} (stable, not a minimum of L): ({z['absorption_rate']:.3f}, "
                                f"{z['tilt']:.3f}, {z['parent_gain']:.3f}, {z['loss']:.4f})" for i, z in enumerate(st_))
                n_other = len(row["estimator_zeros"]) - len(st_)
                if n_other:
                    kinds = sorted({z["kind"] for z in row["estimator_zeros"] if z["kind"] != "stable"})
                    mins += f"<br>{n_other} more zero(s) of that field: {', '.join(kinds)}"

            def where(q):
                if q["predicted_minimum"] is not None:
                    return "#" + str(q["predicted_minimum"]) + (" (zero-loss set)" if q.get("matched_by") == "zero_loss_set"
                                                                else "")
                if q.get("at_zero_loss"):
                    return "zero loss (global minimum set)"
                if q.get("predicted_degenerate") is not None:
                    return f"degenerate d{q['predicted_degenerate']}"
                if q.get("predicted_estimator_zero") is not None:
                    return f"ε-estimator zero z{q['predicted_estimator_zero']} ({q['distance_to_estimator_zero']:.3f})"
                return "none"
            runs = "<br>".join(
                f"{q['seed']} → {where(q)} "
                f"({q['distance_to_prediction']:.3f}; {q['exact_loss']:.4f} vs "
                f"{q['predicted_loss'] if q['predicted_loss'] is None else format(q['predicted_loss'], '.4f')})"
                + ("" if q["converged"] else f" not converged (plateau change {q['plateau_change']:.1e})")
                for q in row["runs"])
            setting = row['k'] if topk else format(row['lam'], 'g')
            if "theta_init" in row:
                setting = f"{row['lam']:g}, θ₀ = {row['theta_init']:g}"
            out.append(f"| {setting} | {mins} | {runs} |")
        out.append("")
    out.append(f"Tolerance: a run is at minimum #i when every child's absorption rate and tilt are within {tol:g} of "
               "it (computed exactly from the trained weights, no sampling). Converged: the exact objective changed by "
               f"at most {r['config']['plateau_tol']:g} (relative)"
               + (f" or {r['config']['plateau_abs_tol']:g} (absolute)" if r["config"].get("plateau_abs_tol") else "")
               + f" over the last {r['config']['refine_steps']} steps.")
    out += ["", "| k | absorption rate (sampled) | predicted (rigid configurations) |", "|---|---|---|"]
    for x in r["topk"]["rows"]:
        p = x["predicted"]
        out.append(f"| {x['k']} | {x['absorption_rate']['mean']:.2f} | {p['preferred']} (clean {p['clean_loss']:.3f}, "
                   f"absorbed {p['absorbed_loss']:.3f} per child event) |")
    return "\n".join(out)


def figure(r: dict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(2, 3, figsize=(19, 9))
    axes = list(grid[0]) + [grid[1][0]]
    main = r["curves"][0]["rows"]
    lam_star = r["l1"]["predicted_threshold"]
    for ax, key, title in ((axes[0], "absorption_rate", "absorption rate"), (axes[1], "tilt", "child decoder · p (tilt)"),
                           (axes[2], "loss", "objective per event")):
        # predicted minima: the lowest-loss one as a line, every other local minimum as open markers
        lams = [x["lam"] for x in main if x["minima"]]
        ax.plot(lams, [x["minima"][0][key] for x in main if x["minima"]], "-", color="k", lw=1.5,
                label="predicted: lowest-loss minimum")
        other = [(x["lam"], m[key]) for x in main for m in x["minima"][1:]]
        if other:
            ax.plot(*zip(*other), "s", mfc="none", mec="k", ms=8, label="predicted: other local minima")
        for x in main:
            for q in x["runs"]:
                val = q["exact_loss"] if key == "loss" else q[key]
                ok = q["predicted_minimum"] is not None
                ax.scatter([x["lam"]], [val], color="C2" if ok else "C3", marker="o" if q["converged"] else "x",
                           s=22, zorder=3)
        ax.scatter([], [], color="C2", s=22, label="trained, at a predicted minimum")
        ax.scatter([], [], color="C3", s=22, label="trained, at none")
        if key == "loss":
            rows = r["l1"]["rows"]
            ax.plot([x["lam"] for x in rows], [x["predicted"]["objective_clean"] for x in rows], ":", color="C0",
                    label="rigid clean configuration")
            ax.plot([x["lam"] for x in rows], [x["predicted"]["objective_absorbed"] for x in rows], ":", color="C1",
                    label="rigid absorbed configuration")
        ax.axvline(lam_star, color="gray", ls="--", lw=0.8,
                   label=f"λ* = {lam_star:.2f}: crossing of the two rigid configurations")
        ax.set_xlabel("L1 coefficient λ (unnormalised squared error)")
        ax.set_title(f"ReLU + L1, {r['curves'][0]['label']}: {title}")
        ax.legend(fontsize=6.5)
    ax = axes[3]
    trow = r["topk"]["rows"]
    ks = [x["k"] for x in trow]
    tcurve = next((c for c in r["curves"] if c.get("activation") == "topk_relu"), None)
    if tcurve is not None:  # predicted minima per k (filled: the lowest-loss one), degenerate points, trained runs
        first = [(x["k"], x["minima"][0]["absorption_rate"]) for x in tcurve["rows"] if x["minima"]]
        if first:
            ax.plot(*zip(*first), "-", color="k", lw=1.5, label="predicted: lowest-loss minimum")
        other = [(x["k"], m["absorption_rate"]) for x in tcurve["rows"] for m in x["minima"][1:]]
        if other:
            ax.plot(*zip(*other), "s", mfc="none", mec="k", ms=8, label="predicted: other local minima")
        flat = [(x["k"], m["absorption_rate"]) for x in tcurve["rows"] for m in x["other_stationary"]
                if m["kind"] == "degenerate" and m["check"].get("no_descent_found")]
        if flat:
            ax.plot(*zip(*flat), "D", mfc="none", mec="C1", ms=8, label="predicted: degenerate, no descent found")
        for x in tcurve["rows"]:
            for n, q in enumerate(x["runs"]):
                ok = q["predicted_minimum"] is not None or q.get("at_zero_loss")
                color = "C2" if ok else ("C1" if q.get("predicted_degenerate") is not None else "C3")
                ax.scatter([x["k"] + 0.06 * (n - 1)], [q["absorption_rate"]], color=color,
                           marker="o" if q["converged"] else "x", s=22, zorder=3)
        ax.scatter([], [], color="C2", s=22, label="trained, at a predicted minimum (or zero loss)")
        ax.scatter([], [], color="C1", s=22, label="trained, at a degenerate point")
        ax.scatter([], [], color="C3", s=22, label="trained, at none")
    ax.plot(ks, [x["absorption_rate"]["mean"] for x in trow], ":", color="C0", label="mean absorption rate (trained, sampled)")
    ax.axvline(r["topk"]["predicted_k_threshold"] - 0.5, color="gray", ls="--", lw=0.8,
               label=f"rigid comparison's k* = {r['topk']['predicted_k_threshold']}")
    ax.set_xlabel("TopK budget k")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xticks(ks)
    ax.set_title("TopK∘ReLU (λ = 0): absorption rate")
    ax.legend(fontsize=6.5)
    for ax, arm, title in ((grid[1][1], "two_level", "two levels: children's absorption rate"),
                           (grid[1][2], "jumprelu", "JumpReLU + L0 (θ trained): absorption rate")):
        c = next((c for i, c in enumerate(r["curves"]) if _arm_of(c, i) == arm), None)
        if c is None:
            ax.set_axis_off()
            ax.set_title(f"{title}: not run")
            continue
        _arm_panel(ax, c, f"{c['label']}: {title.split(': ', 1)[1]}")
    fig.tight_layout()
    return fig


def _arm_panel(ax, c: dict, title: str) -> None:
    """Absorption rate against λ for one further arm: every predicted minimum (filled: the lowest-loss one),
    degenerate points with no descent found, and the trained runs (green at a predicted minimum, orange at a
    degenerate point, blue at a stable zero of the ε-estimator's field (JumpReLU), red at none; x = not converged;
    JumpReLU's two initial θ side by side)."""
    rows = c["rows"]
    lams = sorted({x["lam"] for x in rows})
    first = {}
    for x in rows:
        if x["minima"]:
            first.setdefault(x["lam"], x["minima"][0]["absorption_rate"])
    if first:
        ax.plot(sorted(first), [first[lam] for lam in sorted(first)], "-", color="k", lw=1.5,
                label="predicted: lowest-loss minimum")
    seen = set()
    other, flat = [], []
    for x in rows:
        if x["lam"] in seen:  # JumpReLU: the same points for every θ
            continue
        seen.add(x["lam"])
        other += [(x["lam"], m["absorption_rate"]) for m in x["minima"][1:]]
        flat += [(x["lam"], m["absorption_rate"]) for m in x["other_stationary"]
                 if m["kind"] == "degenerate" and m["check"].get("no_descent_found")]
    if other:
        ax.plot(*zip(*other), "s", mfc="none", mec="k", ms=8, label="predicted: other local minima")
    if flat:
        ax.plot(*zip(*flat), "D", mfc="none", mec="C1", ms=8, label="predicted: degenerate, no descent found")
    thetas = sorted({x["theta_init"] for x in rows if "theta_init" in x})
    span = 0.04 * (max(lams) - min(lams) if len(lams) > 1 else 1.0)
    for x in rows:
        off = (thetas.index(x["theta_init"]) - (len(thetas) - 1) / 2) * 2 * span if thetas else 0.0
        for n, q in enumerate(x["runs"]):
            color = ("C2" if q["predicted_minimum"] is not None else
                     "C1" if q.get("predicted_degenerate") is not None else
                     "C0" if q.get("predicted_estimator_zero") is not None else "C3")
            ax.scatter([x["lam"] + off + 0.5 * span * (n - 0.5)], [q["absorption_rate"]], color=color,
                       marker=("o" if not thetas or thetas.index(x["theta_init"]) == 0 else "^")
                       if q["converged"] else "x", s=22, zorder=3)
    ax.scatter([], [], color="C2", s=22, label="trained, at a predicted minimum")
    ax.scatter([], [], color="C1", s=22, label="trained, at a degenerate point")
    if any(q.get("predicted_estimator_zero") is not None for x in rows for q in x["runs"]):
        ax.scatter([], [], color="C0", s=22, label="trained, at a stable zero of the ε-estimator's field")
    ax.scatter([], [], color="C3", s=22, label="trained, at none")
    if thetas:
        for n, t in enumerate(thetas[:2]):
            ax.scatter([], [], color="gray", marker="o" if n == 0 else "^", s=22, label=f"θ₀ = {t:g}")
    ax.set_xlabel("L0 coefficient λ" if thetas else "L1 coefficient λ")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6.5)


STUDY = Study(name=NAME, config=AbsorptionConfig, compute=compute, figure=figure, tables=tables,
              summary="Absorption as a curve: the local minima of the exact hierarchy objective (theory/absorption_curve.py) — "
                      "absorption rate, child-decoder tilt, parent gain and loss as functions of λ, several where the model is "
                      "bistable — against ReLU SAEs (and a transcoder) trained to convergence across λ and seeds; the closed-form "
                      "threshold λ* of theory/absorption.py kept as what it is, the crossing of two rigid configurations, and the "
                      "TopK budget threshold k*; and the same curve in the TopK budget k (λ = 0), with TopK∘ReLU SAEs trained to "
                      "convergence per k; and ReLU SAEs with a trained encoder bias against the bias minima (theory/absorption_bias.py); "
                      "a two-level hierarchy; and JumpReLU SAEs with the family's L0 term (θ trained, several initial θ) "
                      "against the stationary points of that exact objective. "
                      "Panels: rate, tilt, loss against λ (curve = predicted, dots = trained: green at a predicted minimum, red at "
                      "none, x = not converged); absorption rate against k; the two-level and JumpReLU arms' absorption rate "
                      "against λ.")
