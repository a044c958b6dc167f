"""From a trained model to the theory's predictions (issue 5; C2, C3, C6, C8).

For a point ``(W_D, W_E, b_E)`` of an instance — a trained model of the bench, or matrices a user
loads — :func:`inspect_point` computes, on the single-feature inputs of the approximate objective L̃:

- the activation pattern ``P`` (``F_i`` per neuron), polysemantic and dead neurons (C8);
- the symbolic stationarity residuals of L̃ in the region of ``P`` (:func:`theory.derivation.stationarity_residual`);
- the least-squares decoder ``W_D* = argmin L̃(·, W_E)`` against the learned ``W_D`` (relative error,
  cosine per live column) and the loss it reaches;
- the partial optimum of ``P`` reached by alternating convex search from the current point inside
  ``Ω_P`` (:func:`theory.partial_optimum.alternating_convex_search`) against the achieved L̃, and
  whether the point itself passes the KKT partial-minimum certificate;
- global or spurious: against the exact global minimum when it is known (C3's construction reaches
  ``L̃ = 0`` when ``n_q >= n`` and the features are orthonormal) or else against the best of several ACS
  restarts from random encoders (an *upper bound* on the global minimum; the report says which).

What the predictions assume, and how a trained model can differ (every mismatch is listed in
``unmet``): L̃ has no decoder bias (a model's ``b_dec`` is reported, and L̃ is also given with it
added); no sparsity penalty (an L1/L0-trained model is not expected to be stationary for L̃: its
shrinkage shows up as a decoder/encoder residual); one σ with the ``{0, z_i}`` property (per-neuron
JumpReLU thresholds and Gated models are approximated, and said so); features independent (bench
hierarchies are not in ``M_d``). Encoder biases are supported (``Instance(encoder_bias=True)``).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theory.derivation import least_squares_decoder, stationarity_residual
from theory.errors import SDLInputError
from theory.instance import Instance
from theory.objective import approx_loss
from theory.margins import point_slack
from theory.patterns import pattern_of, region

INSTANCE_FILE = "instance.json"


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


PATTERN_JSON_MAX = 100_000   # firing (feature, neuron) pairs listed in an inspection's JSON


@dataclass(frozen=True)
class Inspection:
    """Everything :func:`inspect_point` found; ``to_json`` / ``to_text`` print it."""

    sizes: dict
    activation: str
    encoder_bias: bool
    pattern: list | None                   # F_i per neuron; None above PATTERN_JSON_MAX firing cells
    dead_neurons: list
    polysemantic_neurons: list
    partition_problem: str | None
    achieved_loss: float
    loss_scale: float                      # Σ_d M_d ||w_r^d||² = L̃ at W_D = 0
    residual: dict                         # gradient norms of L̃ in the region, and relative to loss_scale
    ls_decoder: dict                       # relative error, cosines, loss at W_D*
    partial_optimum: dict                  # ACS from the current point (or why skipped)
    global_optimum: dict                   # reference, status
    unmet: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
    pattern_mask: np.ndarray | None = field(default=None, repr=False, compare=False)  # features × neurons

    def to_json(self) -> dict:
        return _jsonable({k: getattr(self, k) for k in self.__dataclass_fields__ if k != "pattern_mask"})

    def to_text(self) -> str:
        s = self.sizes
        lines = [f"instance: n={s['n']} features, n_p={s['n_p']}, n_r={s['n_r']}, n_q={s['n_q']} neurons; "
                 f"σ = {self.activation}; encoder bias: {self.encoder_bias}"]
        live = s["n_q"] - len(self.dead_neurons)
        lines.append(f"pattern on single-feature inputs: {live} live neurons, {len(self.dead_neurons)} dead, "
                     f"{len(self.polysemantic_neurons)} polysemantic; "
                     + ("a partition of the features" if self.partition_problem is None else
                        (self.partition_problem if len(self.partition_problem) < 160 else self.partition_problem[:150] + " …")))
        if s["n_q"] <= 12 and self.pattern is None:   # above PATTERN_JSON_MAX firing cells: the sets are not kept
            counts = self.extra["pattern_counts"]   # set with pattern = None (inspect_point)
            lines.append(f"  P: {sum(counts):,} (feature, neuron) pairs fire, too many to list; |F_i| per neuron: "
                         f"{_short(counts)}")
        elif s["n_q"] <= 12:
            lines.append("  P = (" + ", ".join("{" + ",".join(map(str, F)) + "}" if F else "∅" for F in self.pattern) + ")")
        elif self.dead_neurons:
            lines.append(f"  dead neurons: {_short(self.dead_neurons)}")
        lines.append(f"achieved L̃ = {self.achieved_loss:.6g}  (L̃ at W_D = 0: {self.loss_scale:.6g})")
        r = self.residual
        lines.append("stationarity residual of L̃ in Ω_P: " + ", ".join(
            f"||∇_{k}|| = {v:.3g}" for k, v in r["norms"].items()) + f"  (relative {r['relative']:.3g})")
        if "region_slack" in r:
            sl = r["region_slack"]
            lines.append(f"position in Ω_P: smallest slack {sl['strict']:.3g} over the strict inequalities, "
                         f"{sl['weak']:.3g} over the weak ones — "
                         + ("strictly inside" if sl["inside"] and sl["strict"] > 0 else "ON A BOUNDARY (a tie)"))
        d = self.ls_decoder
        lines.append(f"least-squares decoder W_D*: relative error of learned W_D {d['relative_error']:.3g}; "
                     f"cosine per live column min {_fmt(d['cosine_min'])}, mean {_fmt(d['cosine_mean'])}; "
                     f"L̃(W_D*, W_E) = {d['loss']:.6g}")
        p = self.partial_optimum
        if p.get("skipped"):
            lines.append(f"partial optimum of P: skipped ({p['skipped']}); L̃(W_D*, W_E) = {d['loss']:.6g} bounds it above")
        else:
            lines.append(f"partial optimum of P (ACS from this point, {p['iterations']} iterations, "
                         f"{'converged' if p['converged'] else 'not converged'}"
                         f"{', pressed on a region boundary' if p['on_boundary'] else ''}): "
                         f"predicted L̃ = {p['loss']:.6g} vs achieved {self.achieved_loss:.6g} "
                         f"(gap {self.achieved_loss - p['loss']:.3g}); point itself a partial minimum: "
                         f"{p['point_is_partial_minimum']}")
        g = self.global_optimum
        ref = "unknown" if g["reference_loss"] is None else f"{g['reference_loss']:.6g}"
        lines.append(f"global optimum: reference {ref} from {g['reference']}; status: {g['status'].upper()} — {g['why']}")
        for u in self.unmet:
            lines.append(f"unmet assumption: {u}")
        return "\n".join(lines)


def _short(xs, k=20):
    return ", ".join(map(str, xs[:k])) + (f", … ({len(xs)} in all)" if len(xs) > k else "")


def _fmt(x):
    return "–" if x is None else f"{x:.4f}"


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# --------------------------------------------------------------------------------------------
# The computation
# --------------------------------------------------------------------------------------------


def c3_construction(inst: Instance, n_q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """C3's ``W_E = [W_pᵀ; 0]``, ``W_D = [W_r, 0]`` padded to ``n_q >= n`` units (zero biases), lifted to the
    family's encoder layout (a Gated unit: gate row = magnitude row)."""
    W_E = np.zeros((n_q, inst.n_p))
    W_E[:inst.n] = inst.W_p.T
    W_D = np.zeros((inst.n_r, n_q))
    W_D[:, :inst.n] = inst.W_r
    W_E, b = inst.activation.unit_encoder(W_E, np.zeros(n_q) if inst.encoder_bias else None)
    return W_D, W_E, b


def _acs(inst, pattern, W_E, b, iters):
    from theory.partial_optimum import alternating_convex_search

    return alternating_convex_search(inst, pattern, W_E, b, iters=iters)


def global_reference(inst: Instance, n_q: int, *, restarts: int = 4, seed: int = 0, max_vars: int = 400,
                     iters: int = 30, tol: float = 1e-9) -> dict:
    """The best reference for the global minimum of L̃ with ``n_q`` neurons that can be afforded.

    ``exact``: True when the reference *is* the global minimum (C3's construction at loss 0, since
    ``L̃ >= 0``); otherwise the reference is an upper bound (the best of ``restarts`` ACS runs from
    seeded random encoders, or the construction's loss when positive)."""
    scale = float(inst.weights @ np.einsum("rd,rd->d", inst.W_r, inst.W_r))
    best, how, exact = None, "none affordable", False
    if n_q >= inst.n:
        W_D, W_E, b = c3_construction(inst, n_q)
        loss_c = approx_loss(inst, W_D, W_E, b)
        if loss_c <= tol * max(1.0, scale):
            return {"reference": "C3 construction W_E = [W_pᵀ; 0], W_D = [W_r, 0] (L̃ = 0 is the global minimum)",
                    "reference_loss": 0.0, "exact": True, "restarts": 0}
        best, how = loss_c, "C3 construction (upper bound; its L̃ > 0 here)"
    n_pre = n_q * inst.activation.pre_per_unit   # encoder rows
    n_vars = n_pre * inst.n_p + (n_pre if inst.encoder_bias else 0)
    done = 0
    if restarts > 0 and n_vars <= max_vars:
        rng = np.random.default_rng(seed)
        for _ in range(restarts):
            W_E0 = rng.normal(size=(n_q, inst.n_p))
            b0 = 0.3 * rng.normal(size=n_q) if inst.encoder_bias else None
            W_E0, b0 = inst.activation.unit_encoder(W_E0, b0)   # the family's layout (tied Gated stays tied)
            P = pattern_of(inst, W_E0, b0)
            if not region(inst, P).contains(W_E0, b0):
                continue
            try:
                res = _acs(inst, P, W_E0, b0, iters)
            except SDLInputError:
                continue
            done += 1
            if best is None or res.loss < best:
                best, how = res.loss, f"best of {restarts} ACS restarts from seeded random encoders (seed {seed}; an upper bound on the global minimum)"
        if done and "restarts" not in how:
            how += f"; {done} ACS restarts found nothing lower"
    elif restarts > 0:
        how += f"; ACS restarts skipped ({n_vars} encoder variables > {max_vars})"
    return {"reference": how, "reference_loss": best, "exact": exact, "restarts": done}


def inspect_point(inst: Instance, W_D, W_E, b_E=None, *, b_D=None, acs: bool = True, acs_max_vars: int = 400,
                  acs_iters: int = 30, restarts: int = 4, seed: int = 0, tol: float = 1e-3,
                  unmet=(), extra: dict | None = None) -> Inspection:
    """The inspection of one point (see the module docstring). ``tol`` is relative to ``Σ_d M_d ||w_r^d||²``."""
    W_D, W_E, b = inst.check_params(W_D, W_E, b_E)
    bb = b if inst.encoder_bias else None
    n_q = W_D.shape[1]   # units (a Gated unit has a gate and a magnitude row in W_E)
    unmet = list(unmet)
    P = pattern_of(inst, W_E, bb)
    scale = float(inst.weights @ np.einsum("rd,rd->d", inst.W_r, inst.W_r))
    achieved = approx_loss(inst, W_D, W_E, bb)
    extra = dict(extra or {})
    if b_D is not None:
        b_D = np.asarray(b_D, dtype=float)
        from theory.objective import single_feature_codes

        R = inst.W_r.T - b_D[None, :] - single_feature_codes(inst, W_E, bb) @ W_D.T
        extra["decoder_bias_norm"] = float(np.linalg.norm(b_D))
        extra["loss_with_decoder_bias"] = float(inst.weights @ np.einsum("dr,dr->d", R, R))
        if np.linalg.norm(b_D) > 0:
            unmet.append(f"the model has a decoder bias (||b_D|| = {np.linalg.norm(b_D):.3g}); L̃ and every prediction "
                         f"here have none (L̃ with it added: {extra['loss_with_decoder_bias']:.6g})")
    method = "vectorized" if inst.n * n_q * n_q > 200_000 else "symbolic"
    norms = stationarity_residual(inst, W_D, W_E, bb, method=method)
    residual = {"norms": norms, "relative": float(math.sqrt(sum(v * v for v in norms.values())) / max(scale, 1e-300)),
                "method": method}
    # least-squares decoder (C6's decoder step)
    W_Ds = least_squares_decoder(inst, W_E, bb)
    live = np.flatnonzero(P.neuron_counts() > 0)
    na, nc = np.linalg.norm(W_D[:, live], axis=0), np.linalg.norm(W_Ds[:, live], axis=0)
    dots = np.einsum("ri,ri->i", W_D[:, live], W_Ds[:, live])
    ok = (na > 0) & (nc > 0)
    cos = [float(d / (a * c)) if k else None for d, a, c, k in zip(dots, na, nc, ok)]
    live = live.tolist()
    good = [c for c in cos if c is not None]
    ls = {"relative_error": float(np.linalg.norm(W_D - W_Ds) / max(np.linalg.norm(W_Ds), 1e-300)),
          "cosine_per_live_column": dict(zip(map(str, live), cos)) if n_q <= 64 else None,
          "cosine_min": min(good) if good else None, "cosine_mean": float(np.mean(good)) if good else None,
          "loss": approx_loss(inst, W_Ds, W_E, bb)}
    # partial optimum of the pattern by ACS from the current point
    n_vars = W_E.size + (W_E.shape[0] if inst.encoder_bias else 0)
    # where the point sits in its own region, from Z alone (O(n·n_q); the dense region is never built here)
    slack = point_slack(inst, W_E, bb)
    po: dict
    if not acs:
        po = {"skipped": "disabled"}
    elif n_vars > acs_max_vars:
        po = {"skipped": f"{n_vars} encoder variables > acs_max_vars = {acs_max_vars}"}
    elif not (slack["inside"] and region(inst, P).contains(W_E, bb)):
        po = {"skipped": "the point lies on a boundary of its region (ties); ACS needs an interior start"}
    else:
        res = _acs(inst, P, W_E, bb, acs_iters)
        same = pattern_of(inst, res.W_E, res.b_E).firing == P.firing
        from theory.partial_optimum import is_partial_minimum

        chk = is_partial_minimum(inst, W_D, W_E, bb, P, tol=1e-6)
        po = {"loss": res.loss, "iterations": res.iterations, "converged": res.converged, "on_boundary": res.on_boundary,
              "pattern_kept": same, "end_is_partial_minimum": bool(res.check and res.check.is_partial_minimum),
              "point_is_partial_minimum": chk.is_partial_minimum, "point_check": chk.reason,
              "gap": achieved - res.loss}
    ref = global_reference(inst, n_q, restarts=restarts if acs else 0, seed=seed, max_vars=acs_max_vars, iters=acs_iters)
    # every configuration evaluated here is an upper bound on the global minimum; L̃ >= 0 makes 0 exact
    for loss_u, how in ((ls["loss"], "the least-squares decoder at this encoder"),
                        (po.get("loss"), "the ACS partial optimum from this point")):
        if loss_u is not None and not ref["exact"] and (ref["reference_loss"] is None or loss_u < ref["reference_loss"]):
            exact0 = loss_u <= 1e-9 * max(1.0, scale)
            ref = dict(ref, reference_loss=0.0 if exact0 else loss_u, exact=exact0,
                       reference=f"{how} (L̃ = 0 is the global minimum)" if exact0 else f"{how} (an upper bound)")
    gref = ref["reference_loss"]
    at_partial = (po.get("point_is_partial_minimum") or
                  ("loss" in po and achieved - po["loss"] <= tol * scale))
    if gref is None:
        status, why = "unknown", "no reference for the global minimum could be afforded"
    elif achieved <= gref + tol * scale:
        status = "global" if ref["exact"] else "best_known"
        why = ("achieved L̃ equals the global minimum" if ref["exact"]
               else "no lower L̃ was found; the reference is only an upper bound")
    elif at_partial:
        status = "spurious"
        why = (f"the point is (within tol) a partial optimum of its pattern but a configuration with L̃ = {gref:.6g} "
               f"< {achieved:.6g} exists")
    else:
        status = "not_global"
        why = (f"L̃ = {achieved:.6g} is above the reference {gref:.6g} and the point is not at the partial optimum of its "
               "pattern (unfinished training, or a penalty that L̃ does not have)")
    glob = dict(ref, status=status, why=why, tol=tol)
    cells = P.n_cells
    if cells <= PATTERN_JSON_MAX:
        pattern_json = P.to_json()
    else:  # a paper-size ReLU pattern is 8 million indices: counts in the JSON, the mask by --pattern-out
        pattern_json = None
        extra["pattern_omitted"] = (f"{cells:,} (feature, neuron) pairs fire, more than {PATTERN_JSON_MAX:,}: the sets F_i "
                                    "are left out of the JSON (sdl-theory inspect --pattern-out FILE writes the mask)")
        extra["pattern_counts"] = P.neuron_counts().tolist()
    return Inspection(
        sizes={"n": inst.n, "n_p": inst.n_p, "n_r": inst.n_r, "n_q": n_q},
        activation=inst.activation.describe(), encoder_bias=inst.encoder_bias,
        pattern=pattern_json, dead_neurons=P.dead_neurons, pattern_mask=P.mask,
        polysemantic_neurons=P.polysemantic_neurons,
        partition_problem=P.partition_problem(), achieved_loss=achieved, loss_scale=scale,
        residual=dict(residual, region_slack=slack),
        ls_decoder=ls, partial_optimum=po, global_optimum=glob, unmet=tuple(unmet), extra=extra)


# --------------------------------------------------------------------------------------------
# Trained models (numerics) → arrays of the theory
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelPoint:
    """A trained model's parameters in the theory's shapes, and what the conversion had to assume."""

    W_D: np.ndarray
    W_E: np.ndarray
    b_E: np.ndarray | None
    b_D: np.ndarray | None
    activation: object
    unmet: tuple[str, ...]
    spec: dict


def model_point(model) -> ModelPoint:
    """``W_E = encoder rows`` (n_q × n_p), ``W_D = W_decᵀ`` (n_r × n_q), biases, and σ as a theory activation."""
    import torch

    with torch.no_grad():
        spec = dict(model.spec())
        # the encoder in the theory's layout (a Gated model: [W_gate; W_mag]); a decoder bias subtracted
        # before encoding is folded into the encoder bias (same function)
        W_E, b_E = model.theory_encoder()
        W_E = W_E.detach().double().cpu().numpy()
        b_E = None if b_E is None else b_E.detach().double().cpu().numpy()
        W_D = model.W_dec.detach().double().cpu().numpy().T
        b_D = None if model.b_dec is None else model.b_dec.detach().double().cpu().numpy()
        act, unmet = model.theory_activation()  # declared by the family's torch model
        unmet = list(unmet)
        if getattr(act, "name", None) == "gated" and act.tied:
            from theory.activations.gated import absorb_scale

            # [W_gate; e^r ⊙ W_gate] as regions take it: [W_gate; W_gate], e^r in the decoder (same function)
            W_D, W_E, b_E = absorb_scale(W_D, W_E, b_E)
        for key in ("l1_coeff", "l0_coeff"):
            if spec.get(key):
                unmet.append(f"trained with a sparsity penalty ({key} = {spec[key]:g}); L̃ has none, so the point is not "
                             "expected to be stationary for L̃ (shrinkage shows as a residual)")
    return ModelPoint(W_D, W_E, b_E, b_D, act, tuple(unmet), spec)


def _unit_features(W_p: np.ndarray, W_r: np.ndarray, weights: np.ndarray, notes: list):
    """Instance needs unit columns; a crosscoder's stacked columns have norm √m. For a positively
    homogeneous σ, ``||s w̃_r − W_D σ(W_E s w̃_p)||² = s² ||w̃_r − W_D σ(W_E w̃_p)||²``, so unit columns with
    weights ``M_d s_d²`` give the same L̃ exactly when both sides share the norms ``s_d``."""
    sp_, sr = np.linalg.norm(W_p, axis=0), np.linalg.norm(W_r, axis=0)
    if np.allclose(sp_, 1, atol=1e-5) and np.allclose(sr, 1, atol=1e-5):
        return W_p / sp_, W_r / sr, weights
    if not np.allclose(sp_, sr, rtol=1e-5):
        raise SDLInputError("feature columns are not unit-norm and W_p, W_r norms differ; normalise them before inspecting")
    notes.append(f"feature columns have norms up to {sp_.max():.3g} (stacked sources); inspected with unit columns "
                 "and weights M_d·||w^d||² (exact for positively homogeneous σ)")
    return W_p / sp_, W_r / sr, weights * sp_**2


def instance_for_model(point: ModelPoint, W_p, W_r=None, weights=None, notes=None) -> Instance:
    notes = [] if notes is None else notes
    W_p = np.asarray(W_p, dtype=float)
    W_r = W_p if W_r is None else np.asarray(W_r, dtype=float)
    weights = np.ones(W_p.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    W_p, W_r, weights = _unit_features(W_p, W_r, weights, notes)
    if point.W_E.shape[1] != W_p.shape[0] or point.W_D.shape[0] != W_r.shape[0]:
        raise SDLInputError(f"the model reads {point.W_E.shape[1]} and writes {point.W_D.shape[0]} dimensions but the "
                            f"instance has n_p = {W_p.shape[0]}, n_r = {W_r.shape[0]}: wrong instance for this model")
    sae = W_r.shape == W_p.shape and np.allclose(W_r, W_p)
    return Instance(W_p=W_p, W_r=None if sae else W_r, weights=weights, activation=point.activation,
                    encoder_bias=point.b_E is not None)


def inspect_model(model, W_p, W_r=None, weights=None, **kw) -> Inspection:
    """:func:`inspect_point` for a :class:`numerics.models.SparseCoder` on the features ``W_p`` (``W_r``)."""
    point = model_point(model)
    notes = list(point.unmet)
    inst = instance_for_model(point, W_p, W_r, weights, notes)
    extra = {"model": point.spec}
    if inst.activation.pre_per_unit == 2 and point.b_E is not None:   # Gated: where relu(π_mag) would differ
        q = point.W_D.shape[1]
        Z = inst.pre_activations(point.W_E, point.b_E)
        bad = int(np.count_nonzero((Z[:, :q] > 0) & (Z[:, q:] <= 0)))
        extra["gated_magnitude_nonpositive"] = {
            "open_gates_with_magnitude_le_0": bad, "open_gates": int(np.count_nonzero(Z[:, :q] > 0)),
            "exact_on_single_features": bad == 0}
    return inspect_point(inst, point.W_D, point.W_E, point.b_E, b_D=point.b_D, unmet=notes, extra=extra, **kw)


# --------------------------------------------------------------------------------------------
# Files: a checkpoint directory and the instance stored beside it
# --------------------------------------------------------------------------------------------


def save_instance(path_dir, W_p, W_r=None, weights=None, provenance: dict | None = None) -> Path:
    """Write ``instance.json`` (W_p, W_r, M_d, provenance) beside a saved model, atomically."""
    from numerics.io import write_json_atomic

    W_p = np.asarray(W_p, dtype=float)
    out = Path(path_dir) / INSTANCE_FILE
    write_json_atomic(out, {"W_p": W_p.tolist(), "W_r": None if W_r is None else np.asarray(W_r, dtype=float).tolist(),
                            "weights": None if weights is None else np.asarray(weights, dtype=float).tolist(),
                            "provenance": provenance or {}})
    return out


def _read_instance_file(path: Path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, str]:
    try:
        d = json.loads(path.read_text())
        W_p = np.asarray(d["W_p"], dtype=float)
        W_r = None if d.get("W_r") is None else np.asarray(d["W_r"], dtype=float)
        w = None if d.get("weights") is None else np.asarray(d["weights"], dtype=float)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SDLInputError(f"{path} is not a valid instance file (JSON with W_p, optional W_r and weights): {exc}") from None
    if W_p.ndim != 2:
        raise SDLInputError(f"{path}: W_p must be a 2-d array (n_p × n), got shape {W_p.shape}")
    return W_p, W_r, w, f"instance file {path}"


def _bench_instance(ckpt: Path):
    """A bench model saved at ``OUT/models/<run>``: regenerate its instance from ``OUT/results.json``."""
    results = ckpt.parent.parent / "results.json"
    if not results.is_file():
        return None
    import dataclasses

    from numerics.config import DataConfig
    from numerics.data import make_bench
    from theory.distribution import FeatureDistribution, ShiftedExponential

    try:
        res = json.loads(results.read_text())
        data = dict(res["config"]["data"])
        run = res.get("runs", {}).get(ckpt.name, {})
    except (ValueError, KeyError, TypeError) as exc:
        raise SDLInputError(f"{results} is not a bench results file: {exc}") from None
    cfg = dataclasses.replace(DataConfig(**data), kind=run.get("kind", data.get("kind", "sae")))
    bench = make_bench(cfg)
    n = bench.n_features
    mag = ShiftedExponential(cfg.c_min, cfg.beta) if cfg.beta > 0 else None
    from theory.distribution import Constant

    from numerics.config import firing_probabilities
    from numerics.data import feature_scales

    # independent features: M_d = p_d Π_{j≠d}(1 − p_j) E[m²] s_d² (a hierarchy's dependence is not in L̃'s weights)
    dist = FeatureDistribution(firing_probabilities(cfg), mag or Constant(cfg.c_min))
    weights = dist.feature_weights(n)
    scales = feature_scales(cfg)
    if scales is not None:
        weights = weights * scales.double().numpy() ** 2
    W_p = bench.W_p.double().numpy()
    W_r = bench.W_r.double().numpy()
    return W_p, (None if bench.W_r is bench.W_p else W_r), weights, \
        f"regenerated from bench config {results} (data seed {cfg.seed}, kind {cfg.kind})"


def load_checkpoint_instance(path, instance_path=None, features: str | None = None):
    """``(model, W_p, W_r, weights, provenance)`` for a checkpoint (ours or a foreign library's; never
    unpickles). ``features="decoder"`` takes the model's own dictionary as the features
    (:func:`decoder_features`) instead of an instance file."""
    from numerics.foreign import load_any

    ckpt = Path(path)
    if not ckpt.exists():
        raise SDLInputError(f"checkpoint {ckpt} does not exist; pass a directory with cfg.json and model.safetensors "
                            "(or a SAELens, sparsify or dictionary_learning checkpoint)")
    try:
        model = load_any(ckpt).model
    except SDLInputError:
        raise
    except Exception as exc:  # malformed safetensors / wrong shapes: one clear line, not a traceback
        raise SDLInputError(f"cannot load the model in {ckpt}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                            ) from None
    if features not in (None, "instance", "decoder"):
        raise SDLInputError(f"--features must be 'instance' or 'decoder', got {features!r}")
    if features == "decoder":
        if instance_path is not None:
            raise SDLInputError("--features decoder and --instance exclude each other: pick one source of features")
        W_p, W_r, how = decoder_features(model)
        return model, W_p, W_r, None, how
    if instance_path is not None:
        found = _read_instance_file(Path(instance_path))
    elif (ckpt / INSTANCE_FILE).is_file():
        found = _read_instance_file(ckpt / INSTANCE_FILE)
    else:
        found = _bench_instance(ckpt)
        if found is None:
            raise SDLInputError(f"no instance for {ckpt}: put {INSTANCE_FILE} (W_p, W_r, weights) beside the model, pass "
                                "--instance FILE, pass --features decoder (the model's own atoms as features), or "
                                "inspect a bench model inside its OUT/models/ directory")
    W_p, W_r, w, how = found
    return model, W_p, W_r, w, how


def decoder_features(model) -> tuple[np.ndarray, np.ndarray | None, str]:
    """The model's own dictionary as the features, for checkpoints without ground truth.

    An SAE's unit decoder atoms are ``W_p = W_r``; a transcoder's (``d_in != d_out``) feature ``d`` is
    its unit encoder row (input side) and unit decoder atom (output side). Atoms of norm 0 are left out.
    Inspecting against them asks whether the model sits at a stationary point of L̃ for the dictionary
    it learned (features of equal weight)."""
    import torch

    with torch.no_grad():
        atoms = model.W_dec.detach().double().cpu().numpy()                 # n_q × n_r
        rows = model.encoder_directions().detach().double().cpu().numpy()   # n_q × n_p
    na, nr = np.linalg.norm(atoms, axis=1), np.linalg.norm(rows, axis=1)
    if model.d_in == model.d_out:
        keep = na > 1e-12
        W = (atoms[keep] / na[keep, None]).T
        return W, None, f"the model's own {W.shape[1]} unit decoder atoms as features (weights 1)"
    keep = (na > 1e-12) & (nr > 1e-12)
    W_p, W_r = (rows[keep] / nr[keep, None]).T, (atoms[keep] / na[keep, None]).T
    return W_p, W_r, f"the model's own {W_p.shape[1]} (unit encoder row, unit decoder atom) pairs as features (weights 1)"
