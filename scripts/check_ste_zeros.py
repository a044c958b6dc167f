"""Heavy check, outside CI: the zeros of the ε-estimator's expected field (theory.absorption_ste) against the
engine itself, and their classification against the flow.

For one (λ, θ₀) of the absorption study's JumpReLU arm, from the runs' own initialisations (seeds 0 and 1):

1. find the zero ``ste_field_zero`` reaches (deterministic Adam with the study's schedule, then least squares);
2. **Monte Carlo of the engine's own update there**: the model loaded with the zero's weights and thresholds
   (log storage, bandwidth ε), the engine's objective (``TheoryUnits(l0=λ)``) on ``n`` fresh sampled events,
   autograd's gradient of every parameter — its norm against its own sampling noise (16 independent batches:
   at a zero of the expected field ||mean|| is of the order of the noise's norm, the standard errors', and each
   noisy entry within a few standard errors of 0), and, as a control, the same at a perturbed point (where not);
3. **the Jacobian against the flow**: from the zero plus a small perturbation δ₀ (off the conserved and neutral
   directions), the gradient flow of the exact field for time T against ``expm(−J T) δ₀`` from the Jacobian;
4. the kind (stable / unstable / undecided) and the smallest real part, as classify_zero reads them, and the same
   for Adam's linearised step (the Jacobian preconditioned by 1 / the sampled update's standard deviation).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python scripts/check_ste_zeros.py --lam 1.0 --theta0 0.1`` (minutes).
"""
from __future__ import annotations

import argparse
import json

import numpy as np


def engine_gradient(W_E, W_D, th, lam, eps, n, seed):
    import torch

    from numerics.data import Batch
    from numerics.engine import TheoryUnits
    from studies.common import hierarchy_event_sampler, make_model, set_params

    model = make_model("jumprelu", 3, 3, seed=0, bandwidth=eps).double()
    set_params(model, W_E, W_D)
    with torch.no_grad():
        model.log_threshold.copy_(torch.log(torch.tensor(th)))
    x, y = hierarchy_event_sampler(np.eye(3), 0, [1, 2], 0.2, 1.0, 1.0)(torch.Generator().manual_seed(seed), n)
    terms, _, _ = TheoryUnits(l0=lam)(model, Batch(x=None, x_p=x.double(), x_r=y.double()))
    sum(terms.values()).backward()
    return np.concatenate([model.W_enc.grad.numpy().ravel(), model.W_dec.grad.numpy().T.ravel(),
                           model.log_threshold.grad.numpy()])


def mc_check(z, lam, eps, n=2**16, batches=16, seed=0):
    W_E, W_D, th = np.array(z["W_E"]), np.array(z["W_D"]), np.array(z["thresholds"])
    G = np.array([engine_gradient(W_E, W_D, th, lam, eps, n, 1000 * seed + b) for b in range(batches)])
    mean, se = G.mean(0), G.std(0, ddof=1) / np.sqrt(batches)
    noisy = se > 1e-6 * se.max()  # entries with no sampling noise (a dead reading) carry only float32 rounding
    return {"_se": se, "engine_mean_norm": float(np.linalg.norm(mean)), "noise_norm": float(np.linalg.norm(se)),
            "mean_over_noise": float(np.linalg.norm(mean) / np.linalg.norm(se)),
            "largest_t": float(np.max(np.abs(mean[noisy]) / se[noisy]))}


def flow_check(h, z, lam, eps, T=2.0, dt=1e-3, size=1e-3, seed=0):
    from scipy.linalg import expm

    from theory.absorption_ste import _join, _split, field_jacobian, ste_field

    W_E, W_D, th = np.array(z["W_E"]), np.array(z["W_D"]), np.array(z["thresholds"])
    v0 = _join(W_E, W_D, th, "log")
    J = field_jacobian(h, W_E, W_D, lam, th, eps)
    rng = np.random.default_rng(seed)
    d0 = rng.normal(size=v0.size)
    d0 *= size / np.linalg.norm(d0)
    v = v0 + d0
    for _ in range(int(T / dt)):
        WE, WD, t = _split(h, 3, v, "log")
        v = v - dt * ste_field(h, WE, WD, lam, t, eps)
    lin = expm(-J * T) @ d0
    return {"simulated_displacement": float(np.linalg.norm(v - v0)), "linear_prediction": float(np.linalg.norm(lin)),
            "relative_gap": float(np.linalg.norm((v - v0) - lin) / np.linalg.norm(lin)), "T": T}


def adam_check(h, z, lam, eps, se):
    """Stability under Adam's per-coordinate step sizes: near a zero Adam's second moment is the sampled update's
    variance, so its linearised step is −lr D J with D = diag(1 / standard deviation) (up to a constant factor,
    which changes no sign). D J is read as classify_zero reads J: off its left null vectors D⁻¹ v_i (the conserved
    rescalings) and off the neutral coordinates (zero columns); entries without sampling noise (neutral ones) get
    the largest D."""
    from theory.absorption_ste import _live, field_jacobian

    W_E, W_D, th = np.array(z["W_E"]), np.array(z["W_D"]), np.array(z["thresholds"])
    J = field_jacobian(h, W_E, W_D, lam, th, eps)
    noisy = se > 1e-6 * se.max()
    d = np.where(noisy, 1.0 / np.where(noisy, se, 1.0), 1.0 / se[noisy].min())
    M = d[:, None] * J
    n = J.shape[0]
    col = np.linalg.norm(J, axis=0)
    flat = [np.eye(n)[c] for c in range(n) if col[c] <= 1e-6 * max(1.0, col.max())]
    for i in np.flatnonzero(_live(h, W_E, th)):
        dE, dD = np.zeros_like(W_E), np.zeros_like(W_D)
        dE[i], dD[:, i] = W_E[i], -W_D[:, i]
        flat.append(np.concatenate([dE.ravel(), dD.ravel(), np.zeros(3)]) / d)
    U, sv, _ = np.linalg.svd(np.array(flat).T, full_matrices=True)
    comp = U[:, int((sv > 1e-9 * sv.max()).sum()):]
    ev = np.linalg.eigvals(comp.T @ M @ comp)
    return {"min_real_eigenvalue": float(ev.real.min()), "largest_modulus": float(np.abs(ev).max()),
            "stable": bool(ev.real.min() > 1e-6 * np.abs(ev).max())}


def main():
    from studies.absorption import _weights
    from studies.common import make_model
    from theory.absorption_curve import Hierarchy
    from theory.absorption_ste import ste_field_zero

    ap = argparse.ArgumentParser()
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--theta0", type=float, default=0.1)
    ap.add_argument("--eps", type=float, default=0.05)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    h = Hierarchy(2)
    out = []
    for s in a.seeds:
        W_E, W_D = _weights(make_model("jumprelu", 3, 3, seed=s))
        z = ste_field_zero(h, W_E, W_D, a.lam, np.full(3, a.theta0), a.eps)
        rec = {"seed": s, "zero": None if z is None else {k: z[k] for k in (
            "kind", "min_real_eigenvalue", "field_norm", "loss", "per_child_rate", "per_child_tilt", "thresholds",
            "neutral")}}
        if z is not None:
            rec["mc_at_zero"] = mc_check(z, a.lam, a.eps)
            rec["adam_preconditioned"] = adam_check(h, z, a.lam, a.eps, rec["mc_at_zero"].pop("_se"))
            off = dict(z)
            rng = np.random.default_rng(7)
            off["W_D"] = (np.array(z["W_D"]) + 0.05 * rng.normal(size=(3, 3)) / 3).tolist()
            rec["mc_control_off_zero"] = mc_check(off, a.lam, a.eps)
            rec["mc_control_off_zero"].pop("_se")
            rec["flow_vs_jacobian"] = flow_check(h, z, a.lam, a.eps)
        print(json.dumps(rec), flush=True)
        out.append(rec)
    if a.out:
        from pathlib import Path

        Path(a.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
