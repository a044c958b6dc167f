"""Time and peak memory of ``sdl-theory inspect`` on a paper-size model (issue 9).

Writes a checkpoint with n = 1000 unit features in n_p = 768 dimensions (seeded) and an SAE with
n_q = 16000 latents, then runs the real command ``sdl-theory inspect CHECKPOINT --json`` in a child
process limited to 2 threads, and reports its wall time and peak resident memory (``ru_maxrss`` of
the child). Three models, all of paper size:

* ``topk``: TopK∘ReLU(k = 32); the first 1000 encoder rows are the features, the rest random unit
  rows (what a trained TopK SAE that found the features looks like);
* ``relu-sparse``: ReLU with encoder bias −0.3 (features fire their own row; random rows stay off);
* ``relu-dense``: ReLU without bias (half of all 16 million (feature, latent) cells fire): the worst case.

    .venv/bin/python bench/inspect_scale.py --out results/inspect_scale     # paper size
    .venv/bin/python bench/inspect_scale.py --small                         # n = 100, n_q = 1600

``--out DIR`` writes ``DIR/results.json`` (sizes, seconds, peak MB, what inspect printed).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch


def make_checkpoint(path: Path, kind: str, n: int, n_p: int, n_q: int, seed: int) -> None:
    from numerics.io import save_model
    from numerics.models import build_model
    from proofs_check.bridge import save_instance

    rng = np.random.default_rng(seed)
    W_p = rng.normal(size=(n_p, n))
    W_p /= np.linalg.norm(W_p, axis=0, keepdims=True)
    rows = rng.normal(size=(n_q, n_p))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    rows[:n] = W_p.T
    if kind == "topk":
        m = build_model("topk_relu", n_p, n_q, k=32, seed=seed)
        b = np.zeros(n_q)
    else:
        m = build_model("relu", n_p, n_q, seed=seed, l1_coeff=0.0)
        b = np.full(n_q, -0.3 if kind == "relu-sparse" else 0.0)
    with torch.no_grad():
        m.W_enc.copy_(torch.tensor(rows, dtype=torch.float32))
        m.W_dec.copy_(torch.tensor(rows, dtype=torch.float32))    # atoms = encoder rows (tied)
        m.b_enc.copy_(torch.tensor(b, dtype=torch.float32))
        m.b_dec.zero_()
    save_model(path, m)
    save_instance(path, W_p, provenance={"bench": "inspect_scale", "seed": seed})


_CHILD = """
import contextlib, io, json, resource, sys, time
t = time.perf_counter()
from sdl_theory.cli import main
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    rc = main(["inspect", sys.argv[1], "--json"])
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"rc": rc, "seconds": wall, "cpu_seconds": ru.ru_utime + ru.ru_stime, "peak_rss_mb": ru.ru_maxrss / 1024,
                  "out": buf.getvalue()}))
"""


def run_inspect(path: Path, threads: int) -> dict:
    """The CLI's ``main`` in a fresh interpreter (imports included in the time), 2 BLAS/torch threads."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not proc.stdout.strip():
        return {"returncode": proc.returncode, "stderr": proc.stderr.strip().splitlines()[-3:]}
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    out = {"returncode": child["rc"], "seconds": round(child["seconds"], 2), "cpu_seconds": round(child["cpu_seconds"], 2),
           "peak_rss_mb": round(child["peak_rss_mb"], 1)}
    if child["rc"] == 0:
        res = json.loads(child["out"])
        out["summary"] = {"dead_neurons": len(res["dead_neurons"]), "polysemantic": len(res["polysemantic_neurons"]),
                          "achieved_loss": res["achieved_loss"], "residual_relative": res["residual"]["relative"],
                          "ls_decoder_relative_error": res["ls_decoder"]["relative_error"],
                          "partial_optimum": res["partial_optimum"], "global_status": res["global_optimum"]["status"],
                          "global_reference": res["global_optimum"]["reference"]}
    else:
        out["stderr"] = proc.stderr.strip().splitlines()[-3:]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="n = 100, n_p = 96, n_q = 1600")
    ap.add_argument("--kinds", default="topk,relu-sparse,relu-dense")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    n, n_p, n_q = (100, 96, 1600) if args.small else (1000, 768, 16000)
    results = {"sizes": {"n": n, "n_p": n_p, "n_q": n_q}, "threads": args.threads, "seed": args.seed,
               "machine": f"{platform.machine()}, {os.cpu_count()} cores visible, shared with other jobs", "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            ck = Path(tmp) / kind
            make_checkpoint(ck, kind, n, n_p, n_q, args.seed)
            r = run_inspect(ck, args.threads)
            results["runs"][kind] = r
            if "seconds" in r:
                print(f"{kind:12s} n={n} n_p={n_p} n_q={n_q}: rc {r['returncode']}, {r['seconds']:.2f} s wall, "
                      f"{r['cpu_seconds']:.2f} s CPU, peak RSS {r['peak_rss_mb']:.0f} MB" + ("" if r["returncode"] == 0 else f"  {r.get('stderr')}"),
                      flush=True)
            else:
                print(f"{kind:12s} n={n} n_p={n_p} n_q={n_q}: failed (rc {r['returncode']}): {r['stderr']}", flush=True)
    if args.out:
        from numerics.io import write_json_atomic

        write_json_atomic(Path(args.out) / "results.json", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
