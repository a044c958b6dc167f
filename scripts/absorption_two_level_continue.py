"""Outside CI: does a two-level run of the absorption study that stopped short of a predicted minimum keep moving
towards it?

Retrains one run of the two-level arm with the study's recipe (same seed: the JSON stores no weights), checks it is
the same run (exact loss as in the JSON), then continues it with ``--segments`` more refine segments (``refine_steps``
Adam steps at ``refine_lr``, batch ``refine_batch``, fresh seeds) and records after each its distance to the row's
predicted minima (as the study matches: every child's and parent's rate and tilt and the grandparent's gain), its
exact loss and exact gradient norm.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python scripts/absorption_two_level_continue.py
results/studies/absorption/absorption.json --lam 2.5 --seed 1 --segments 10``
"""
from __future__ import annotations

import argparse
import json

import numpy as np


def main():
    from studies.absorption import _exact, _law_of, _weights, match_minimum, stored_config, train_to_convergence
    from studies.common import make_model, seed_all, train, two_level_sampler
    from theory.absorption_curve import observables
    from theory.absorption_two_level import TwoLevel
    from theory.distribution import Constant

    ap = argparse.ArgumentParser()
    ap.add_argument("result")
    ap.add_argument("--lam", type=float, default=2.5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--segments", type=int, default=10)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    r = json.loads(open(a.result).read())
    cfg = stored_config(r)
    c = next(x for x in r["curves"] if x.get("two_level"))
    row = next(x for x in c["rows"] if x["lam"] == a.lam)
    q0 = next(x for x in row["runs"] if x["seed"] == a.seed)
    law = _law_of(cfg)
    h = TwoLevel(1, cfg.two_level_children, Constant(cfg.two_level_grandparent), law, law, cfg.p_alone,
                 cfg.two_level_p_parent)
    sampler = two_level_sampler(h)
    seed_all(a.seed)
    model = make_model("relu", h.n_features, h.n_features, seed=a.seed)
    q = train_to_convergence(model, sampler, h, a.lam, cfg, a.seed)

    def where():
        obs = observables(h, *_weights(model), a.lam, off_fraction=cfg.off_fraction, parent_cos=cfg.parent_cos)
        idx, dist, near = match_minimum(obs, row["minima"], cfg.match_tol)
        loss, gn = _exact(h, model, a.lam, "relu", None)
        return {"predicted_minimum": idx, "distance": dist, "nearest": near, "exact_loss": loss, "exact_grad_norm": gn,
                "per_child_tilt": obs["per_child_tilt"]}

    out = {"lam": a.lam, "seed": a.seed, "json_exact_loss": q0["exact_loss"], "retrained_exact_loss": q["exact_loss"],
           "same_run": bool(abs(q["exact_loss"] - q0["exact_loss"]) < 1e-6), "start": where(), "segments": []}
    print(json.dumps(out["start"]), out["same_run"], flush=True)
    for n in range(a.segments):
        train(model, sampler, steps=cfg.refine_steps, batch=cfg.refine_batch, lr=cfg.refine_lr, seed=7000 + 100 * a.seed + n,
              l1=a.lam)
        out["segments"].append(where())
        print(json.dumps(out["segments"][-1]), flush=True)
    if a.out:
        from pathlib import Path

        Path(a.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
