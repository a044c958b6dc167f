"""Outside CI: why a TopK run of the absorption study does or does not meet the plateau criterion.

Retrains the named TopK∘ReLU runs with the study's recipe (same seeds: the JSON stores no weights), then continues
each with ``--segments`` more refine segments (``refine_steps`` Adam steps at ``refine_lr``, batch
``refine_batch``, fresh seeds) and records after every segment the exact objective, the exact gradient norm and
the weights' displacement: at a minimum of L the loss changes to second order in Adam's jitter, at a stable zero
of the field sampled training follows that is not stationary for L (exact gradient ≠ 0) to first order, |ΔL| of
the order of |∇L| · |Δw|.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python scripts/absorption_topk_plateau.py results/studies/absorption/absorption.json
--runs 1,2 1,0 1,1 --out /tmp/plateau.json``
"""
from __future__ import annotations

import argparse
import json

import numpy as np


def main():
    from studies.absorption import _exact, _weights, stored_config, train_to_convergence
    from studies.common import hierarchy_event_sampler, make_model, seed_all, train
    from theory.absorption_curve import Hierarchy

    ap = argparse.ArgumentParser()
    ap.add_argument("result")
    ap.add_argument("--runs", nargs="+", required=True, help="k,seed pairs")
    ap.add_argument("--segments", type=int, default=8)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    r = json.loads(open(a.result).read())
    cfg = stored_config(r)
    h = Hierarchy(cfg.n_children)
    sampler = hierarchy_event_sampler(np.eye(1 + cfg.n_children), 0, list(range(1, cfg.n_children + 1)), cfg.p_alone,
                                      cfg.c_min, cfg.beta)
    out = []
    for spec in a.runs:
        k, s = (int(x) for x in spec.split(","))
        seed_all(s)
        model = make_model("topk_relu", h.n_p, h.n_p, k=k, seed=s)
        q = train_to_convergence(model, sampler, h, 0.0, cfg, s, activation="topk_relu", k=k)
        w0 = np.concatenate([x.ravel() for x in _weights(model)])
        segs = []
        loss0 = q["exact_loss"]
        for n in range(a.segments):
            train(model, sampler, steps=cfg.refine_steps, batch=cfg.refine_batch, lr=cfg.refine_lr, seed=5000 + 100 * s + n)
            w = np.concatenate([x.ravel() for x in _weights(model)])
            loss, gn = _exact(h, model, 0.0, "topk_relu", k)
            segs.append({"exact_loss": loss, "relative_change": abs(loss - loss0) / max(abs(loss), 1e-12),
                         "abs_change": abs(loss - loss0), "exact_grad_norm": gn,
                         "displacement": float(np.linalg.norm(w - w0))})
            loss0, w0 = loss, w
        rec = {"k": k, "seed": s, "converged": q["converged"], "plateau_change": q["plateau_change"],
               "exact_loss": q["exact_loss"], "exact_grad_norm": q["exact_grad_norm"],
               "interior_grad_norm": q["interior_grad_norm"], "segments": segs,
               "median_relative_change": float(np.median([x["relative_change"] for x in segs])),
               "median_abs_change_over_grad_times_displacement": float(np.median(
                   [x["abs_change"] / max(x["exact_grad_norm"] * x["displacement"], 1e-300) for x in segs]))}
        print(json.dumps({kk: v for kk, v in rec.items() if kk != "segments"}), flush=True)
        out.append(rec)
    if a.out:
        from pathlib import Path

        import sys
        Path(a.out).write_text(json.dumps({"source": a.result, "command": "scripts/absorption_topk_plateau.py "
                                           + " ".join(sys.argv[1:]), "runs": out}, indent=1))


if __name__ == "__main__":
    main()
