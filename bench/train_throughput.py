"""Training throughput of a dense ReLU SAE and a TopK SAE beside the dense-matmul roofline.

Everything is measured in the same run on the same machine:

* the encoder matmul ``x (B×n_p) · W_E^T (n_p×n_q)`` alone (GFLOP/s = this machine's dense roofline);
* one full training step (forward, backward, Adam, unit-norm decoder) of a ReLU+L1 SAE, which needs
  six such matmuls (encoder and decoder, forward and two backward each), and of a TopK SAE, whose
  sparse decode and sparse encoder gradient should make it cost little more than the one encoder matmul.

Prints samples/s and the ratios step time / encoder-matmul time. Paper sizes by default
(B = 4096, n_p = 768, n_q = 16000, k = 100); ``--small`` for a quick look.

    .venv/bin/python bench/train_throughput.py            # paper sizes
    .venv/bin/python bench/train_throughput.py --small
"""
from __future__ import annotations

import platform
import time

import torch

from numerics.config import TrainConfig
from numerics.data import Batch
from numerics.device import resolve_device
from numerics.engine import FVU, DecoderNorm, Engine
from numerics.models import build_model
from sizes import parse_sizes, size_parser   # bench/sizes.py (the scripts run as files)


def timeit(fn, repeats: int, sync) -> float:
    fn()                     # warm-up (allocations, kernel selection)
    sync()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> dict:
    ap = size_parser(__doc__, k=100, repeats=3, small=(1024, 192, 4000, 25))
    ap.add_argument("--device", default="auto")
    a = parse_sizes(ap, argv)
    dev = resolve_device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    torch.manual_seed(0)
    B, d, nq = a.batch, a.d_in, a.n_latents
    # realistic non-negative sparse-ish inputs do not change the matmul cost; Gaussian is fine here
    x = torch.randn(B, d, device=dev)
    W = torch.randn(nq, d, device=dev) / d ** 0.5
    flop = 2.0 * B * d * nq
    t_mm = timeit(lambda: x @ W.T, a.repeats, sync)

    def step_fn(arch):
        # the project's one engine, as the bench trains: FVU objective, unit-norm decoder, Adam (no aux-k:
        # nothing is dead in a few steps); every batch is the same x, so only the step itself is timed
        cfg = TrainConfig(arch=arch, n_latents=nq, hyper={"k": a.k, "l1_coeff": 1e-3})
        m = build_model(arch, d, nq, **cfg.model_kwargs()).to(dev)
        batch = Batch(x=None, x_p=x, x_r=x)
        engine = Engine(m, FVU(), lambda i, size, stream: batch, steps=1 << 30, batch_size=B, lr=1e-4,
                        callbacks=[DecoderNorm()])
        return engine.train_step

    t_relu = timeit(step_fn("relu"), a.repeats, sync)
    t_topk = timeit(step_fn("topk_relu"), a.repeats, sync)
    res = {
        "device": str(dev) if dev.type == "cpu" else torch.cuda.get_device_name(dev),
        "machine": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
        "torch": torch.__version__, "batch": B, "d_in": d, "n_latents": nq, "k": a.k,
        "matmul_gflops": flop / t_mm / 1e9, "encoder_matmul_s": t_mm,
        "roofline_dense_sae_samples_per_s": B / (6 * t_mm),
        "relu_step_s": t_relu, "relu_samples_per_s": B / t_relu, "relu_step_over_matmul": t_relu / t_mm,
        "topk_step_s": t_topk, "topk_samples_per_s": B / t_topk, "topk_step_over_matmul": t_topk / t_mm,
    }
    print(f"device {res['device']} ({res['threads']} threads), B={B}, n_p={d}, n_q={nq}, k={a.k}")
    print(f"dense matmul roofline : {res['matmul_gflops']:8.1f} GFLOP/s   encoder matmul {t_mm * 1e3:8.1f} ms")
    print(f"roofline dense SAE    : {res['roofline_dense_sae_samples_per_s']:8.0f} samples/s (6 matmuls per step)")
    print(f"ReLU SAE train step   : {res['relu_samples_per_s']:8.0f} samples/s   {t_relu * 1e3:8.1f} ms "
          f"= {res['relu_step_over_matmul']:.2f} x encoder matmul")
    print(f"TopK SAE train step   : {res['topk_samples_per_s']:8.0f} samples/s   {t_topk * 1e3:8.1f} ms "
          f"= {res['topk_step_over_matmul']:.2f} x encoder matmul")
    if a.json:
        from numerics.io import write_json_atomic
        write_json_atomic(a.json, res)
    return res


if __name__ == "__main__":
    main()
