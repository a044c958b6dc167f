"""Outside CI: where the absorption study's JumpReLU runs are on the path of the ε-estimator's expected field.

For each JumpReLU run named (λ, θ₀, seed) of a committed absorption.json:

1. **the expected path from the run's own initialisation** (no trained weights): deterministic Adam on the exact
   expected training field (:func:`theory.absorption_ste.ste_field`, ε and log-θ as the engine trains) with the
   study's schedule, the observables every ``--every`` steps; the step whose point is nearest the run (rate and
   tilt, children matched as the study matches them) and that distance; where the path ends;
2. **the run itself, retrained** (same seed, the study's recipe; the JSON stores no weights): the expected field's
   norm there and the engine's sampled update's signal-to-noise on batches of the refine segments' size (per
   coordinate, |mean| / standard deviation over 32 batches): Adam's step along a coordinate is of order the
   learning rate times that ratio, so where it is small the run barely moves although the field is not 0.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python scripts/absorption_jumprelu_paths.py results/studies/absorption/absorption.json
--runs 1.0,0.1,1 --out /tmp/paths.json`` (about a minute per run).
"""
from __future__ import annotations

import argparse
import json

import numpy as np


def path(h, W_E, W_D, lam, th0, eps, schedule, every):
    from theory.absorption_bias import observables_bias
    from theory.absorption_ste import _field_at, _join, _split

    v = _join(W_E, W_D, np.full(3, th0), "log")
    m, s, t, out = np.zeros_like(v), np.zeros_like(v), 0, []
    for steps, lr in schedule:
        for _ in range(steps):
            g = _field_at(h, 3, v, lam, eps, "log")
            if g is None:
                return out
            t += 1
            m = 0.9 * m + 0.1 * g
            s = 0.999 * s + 0.001 * g * g
            v = v - lr * (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
            if t % every == 0:
                WE, WD, th = _split(h, 3, v, "log")
                o = observables_bias(h, WE, np.zeros(3), WD, thresholds=th)
                out.append({"step": t, "field_norm": float(np.linalg.norm(g)), "thresholds": th.tolist(),
                            "per_child_rate": o["per_child_rate"], "per_child_tilt": o["per_child_tilt"],
                            "parent_gain": o["parent_gain"]})
    return out


def snr(model, lam, cfg, seed, batches=32):
    import copy

    import torch

    from numerics.data import Batch
    from numerics.engine import TheoryUnits
    from studies.common import hierarchy_event_sampler

    G = []
    for b in range(batches):
        m = copy.deepcopy(model).double()
        x, y = hierarchy_event_sampler(np.eye(3), 0, [1, 2], cfg.p_alone, cfg.c_min, cfg.beta)(
            torch.Generator().manual_seed(90_000 + 100 * seed + b), cfg.refine_batch)
        terms, _, _ = TheoryUnits(l0=lam)(m, Batch(x=None, x_p=x.double(), x_r=y.double()))
        sum(terms.values()).backward()
        G.append(np.concatenate([m.W_enc.grad.numpy().ravel(), m.W_dec.grad.numpy().T.ravel(),
                                 m.log_threshold.grad.numpy()]))
    G = np.array(G)
    mean, sd = G.mean(0), G.std(0, ddof=1)
    ratio = np.abs(mean) / np.maximum(sd, 1e-300)
    return {"mean_norm": float(np.linalg.norm(mean)), "largest_ratio": float(ratio.max()),
            "median_ratio": float(np.median(ratio)), "ratios": ratio.tolist()}


def main():
    from studies.absorption import _weights, match_minimum, stored_config, train_to_convergence
    from studies.common import hierarchy_event_sampler, make_model, seed_all
    from theory.absorption_bias import observables_bias
    from theory.absorption_curve import Hierarchy
    from theory.absorption_ste import ste_field

    ap = argparse.ArgumentParser()
    ap.add_argument("result")
    ap.add_argument("--runs", nargs="+", required=True, help="λ,θ₀,seed triples")
    ap.add_argument("--every", type=int, default=25)
    ap.add_argument("--no-retrain", action="store_true")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    r = json.loads(open(a.result).read())
    cfg = stored_config(r)
    jr = next(c for c in r["curves"] if c.get("activation") == "jumprelu")
    h = Hierarchy(2)
    eps = cfg.jumprelu_bandwidth
    schedule = ((cfg.steps, cfg.lr), (2 * cfg.refine_steps, cfg.refine_lr))
    sampler = hierarchy_event_sampler(np.eye(3), 0, [1, 2], cfg.p_alone, cfg.c_min, cfg.beta)
    out = []
    for spec in a.runs:
        lam, th0, s = (float(x) for x in spec.split(","))
        s = int(s)
        row = next(x for x in jr["rows"] if x["lam"] == lam and x["theta_init"] == th0)
        q = next(x for x in row["runs"] if x["seed"] == s)
        W_E, W_D = _weights(make_model("jumprelu", 3, 3, seed=s))
        p = path(h, W_E, W_D, lam, th0, eps, schedule, a.every)
        d = [match_minimum(q, [x], np.inf)[1] for x in p]
        n = int(np.argmin(d)) if d else None
        rec = {"lam": lam, "theta_init": th0, "seed": s, "run": {k: q[k] for k in (
            "per_child_rate", "per_child_tilt", "thresholds", "predicted_minimum", "distance_to_prediction")},
            "path_nearest": None if n is None else {"distance": d[n], **p[n]},
            "path_end": p[-1] if p else None, "path_steps": p[-1]["step"] if p else 0}
        if not a.no_retrain:
            seed_all(s)
            model = make_model("jumprelu", 3, 3, seed=s, threshold_init=th0, bandwidth=eps)
            qq = train_to_convergence(model, sampler, h, lam, cfg, s, activation="jumprelu")
            WE, WD = _weights(model)
            th = model.threshold.detach().double().numpy()
            o = observables_bias(h, WE, np.zeros(3), WD, thresholds=th)
            rec["retrained"] = {"exact_loss": qq["exact_loss"], "same_as_json": bool(abs(qq["exact_loss"] - q["exact_loss"])
                                                                                    < 1e-6),
                                "per_child_rate": o["per_child_rate"], "per_child_tilt": o["per_child_tilt"],
                                "ste_field_norm": float(np.linalg.norm(ste_field(h, WE, WD, lam, th, eps))),
                                "sampled_update": snr(model, lam, cfg, s)}
        print(json.dumps({k: v for k, v in rec.items()}, default=float)[:2000], flush=True)
        out.append(rec)
    if a.out:
        from pathlib import Path

        Path(a.out).write_text(json.dumps({"source": a.result, "runs": out, "command": "scripts/absorption_jumprelu_paths.py "
                                           + " ".join(__import__("sys").argv[1:])}, indent=1, default=float))


if __name__ == "__main__":
    main()
