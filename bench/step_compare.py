"""One training step of the project's SAEs beside SAELens and dictionary_learning, as ratios to one
dense matmul measured in the same process, interleaved.

The baseline is one dense ``x (B×n_p) · W_Eᵀ (n_p×n_q)`` matmul — the encoder's own cost, which no
SAE step can avoid. Each repetition times the baseline and then every step in turn, so every ratio
is *paired* with a baseline taken seconds before it; we report the median and the range of the
paired ratios (the machine may be shared: absolute times drift, paired ratios much less).

Steps timed (forward, backward, Adam, decoder normalisation where the method has it):

* ``ours:<arch>``: ``numerics.models`` with the project's optimizer (``numerics.optim.make_adam``);
* ``ref:sparse``: a plain-torch sparse TopK reference (topk + ``embedding_bag`` decode, autograd
  through a gather), what a careful hand-written step costs;
* ``saelens:topk``: SAELens ``TopKTrainingSAE`` ``training_forward_pass`` + Adam (when installed);
* ``dictlearn:topk``: dictionary_learning ``TopKTrainer.update`` (when installed).

``--crossover`` times the ReLU step (``--crossover-archs relu,jumprelu,gated``: each of those) with the dense
and the sparse path at a range of code densities (set by the encoder bias) to locate where the sparse path
starts to win (``SparseCoder.sparse_below``, one switch for all three).

    .venv/bin/python bench/step_compare.py                      # paper sizes, k = 32
    .venv/bin/python bench/step_compare.py --crossover --json results/throughput/crossover.json
    .venv/bin/python bench/step_compare.py --small              # quick look
"""
from __future__ import annotations

import dataclasses
import platform
import statistics
import time

import torch

from numerics.models import build_model
from numerics.data import Batch
from numerics.engine import FVU, DecoderNorm, Engine
from theory import registry
from sizes import parse_sizes, size_parser   # bench/sizes.py (the scripts run as files)


def _ours(arch: str, d: int, nq: int, k: int, x: torch.Tensor, **kw):
    hyper = registry.get(arch).hyperparameters
    if hyper is not None and "k" in {f.name for f in dataclasses.fields(hyper)}:   # the TopK family
        kw = {"k": k, **kw}
    m = build_model(arch, d, nq, unit_norm_decoder=True, **kw)
    # the project's one training engine, as the bench trains (FVU, unit-norm decoder, fused Adam)
    batch = Batch(x=None, x_p=x, x_r=x)
    engine = Engine(m, FVU(), lambda i, size, stream: batch, steps=1 << 30, batch_size=x.shape[0], lr=1e-4,
                    callbacks=[DecoderNorm()])
    return engine.train_step, m


def _reference_sparse(d: int, nq: int, k: int, x: torch.Tensor):
    """Plain torch: dense encoder, topk, gather the selected pre-activations, embedding_bag decode."""
    gen = torch.Generator().manual_seed(0)
    W_dec = torch.nn.Parameter(torch.nn.functional.normalize(torch.randn(nq, d, generator=gen), dim=1))
    W_enc = torch.nn.Parameter(W_dec.detach().clone())
    b_enc, b_dec = torch.nn.Parameter(torch.zeros(nq)), torch.nn.Parameter(torch.zeros(d))
    opt = torch.optim.Adam([W_enc, W_dec, b_enc, b_dec], lr=1e-4)
    B = x.shape[0]
    offsets = torch.arange(0, B * k, k)

    def step():
        z = torch.addmm(b_enc, x, W_enc.T)
        top = z.topk(k, dim=1, sorted=False)
        vals = torch.relu(top.values).reshape(-1)
        out = torch.nn.functional.embedding_bag(top.indices.reshape(-1), W_dec, offsets, mode="sum",
                                                per_sample_weights=vals) + b_dec
        loss = (out - x).pow(2).sum() / (x - x.mean(0)).pow(2).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            W_dec.div_(W_dec.norm(dim=1, keepdim=True))
    return step


def _saelens(d: int, nq: int, k: int, x: torch.Tensor):
    try:
        from sae_lens import TopKTrainingSAE, TopKTrainingSAEConfig
        from sae_lens.saes.sae import TrainStepInput
    except Exception as exc:  # not installed, or an incompatible install
        return None, f"{type(exc).__name__}: {exc}"
    cfg = TopKTrainingSAEConfig(d_in=d, d_sae=nq, k=k, device="cpu", dtype="float32")
    sae = TopKTrainingSAE(cfg)
    opt = torch.optim.Adam(sae.parameters(), lr=1e-4)

    def step():
        out = sae.training_forward_pass(TrainStepInput(sae_in=x, coefficients={}, dead_neuron_mask=None,
                                                       n_training_steps=0, is_logging_step=False))
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()
    return step, None


def _dictlearn(d: int, nq: int, k: int, x: torch.Tensor):
    try:
        from dictionary_learning.trainers.top_k import TopKTrainer, AutoEncoderTopK
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    try:
        tr = TopKTrainer(steps=10_000, activation_dim=d, dict_size=nq, k=k, layer=0, lm_name="bench",
                         dict_class=AutoEncoderTopK, device="cpu", lr=1e-4, seed=0)
    except TypeError as exc:
        return None, f"TopKTrainer signature: {exc}"
    counter = {"i": 0}

    def step():
        tr.update(counter["i"], x)
        counter["i"] += 1
    return step, None


def paired(steps: dict, x: torch.Tensor, W: torch.Tensor, repeats: int) -> dict:
    """Median / min / max over ``repeats`` of (step time / baseline matmul time just before it)."""
    for f in steps.values():
        f()                                   # warm-up: allocations, kernel choice, lazy init (raises early)
    x @ W.T
    ratios = {n: [] for n in steps}
    base = []
    for _ in range(repeats):
        for n, f in steps.items():
            t = time.perf_counter()
            x @ W.T
            mm = time.perf_counter() - t
            t = time.perf_counter()
            f()
            ratios[n].append((time.perf_counter() - t) / mm)
            base.append(mm)
    return {"baseline_matmul_s_median": statistics.median(base),
            "ratios": {n: {"median": statistics.median(r), "min": min(r), "max": max(r), "all": r}
                       for n, r in ratios.items()}}


def crossover_archs() -> tuple[str, ...]:
    """The trainable families whose code density is not fixed by a ``k`` (ReLU, JumpReLU, Gated, yours)."""
    return tuple(f.name for f in registry.families(trainable=True) if not f.sets_k)


def _penalty_off(arch: str) -> dict:
    """Every sparsity-penalty coefficient of the family (its ``*_coeff`` hyperparameters) set to 0."""
    hyper = registry.get(arch).hyperparameters
    return {f.name: 0.0 for f in dataclasses.fields(hyper) if f.name.endswith("_coeff")} if hyper else {}


def crossover(d: int, nq: int, B: int, repeats: int, densities=(0.005, 0.01, 0.02, 0.04, 0.08),
              archs=("relu",)) -> list[dict]:
    """The step of each of ``archs`` (ReLU, JumpReLU, Gated: their code is as dense as the data makes it), dense
    path vs sparse path, at codes of the given densities (fraction of entries on): the encoder bias (Gated: the
    gate's bias) is set so that that fraction of pre-activations passes the unit's own firing test (> 0; JumpReLU:
    > θ), with the sparsity penalty off so one step does not move it. The path is switched per model by its
    ``sparse_below`` (0: always dense, 1: sparse whenever anything is off)."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(B, d, generator=gen)
    W = torch.randn(nq, d, generator=gen) / d ** 0.5
    rows = []
    for arch in archs:
        for rho in densities:
            step, m = _ours(arch, d, nq, 0, x, **_penalty_off(arch))
            with torch.no_grad():
                z = x @ m.W_enc.T
                # the firing test's level: a threshold where the unit has one (JumpReLU), else 0
                cut = float(m.threshold.mean()) if hasattr(m, "threshold") else 0.0
                m.b_enc.copy_(cut - torch.quantile(z[:512].reshape(-1)[:2_000_000], 1 - rho))
                got = float(((x @ m.W_enc.T + m.b_enc) > cut).float().mean())
            res = {}
            for mode, thr in (("dense", 0.0), ("sparse", 1.0)):
                m.sparse_below = thr          # this model only: the class default stays as it is
                res[mode] = paired({mode: step}, x, W, repeats)["ratios"][mode]["median"]
            rows.append({"arch": arch, "density_target": rho, "density": got, "dense_over_matmul": res["dense"],
                         "sparse_over_matmul": res["sparse"], "sparse_faster": res["sparse"] < res["dense"]})
            print(f"{arch:9s} density {got:.4f}: dense {res['dense']:.2f}x  sparse {res['sparse']:.2f}x")
    return rows


def markdown(res: dict) -> str:
    """The results as markdown tables (paste into ``results/throughput/STEP_COMPARE.md``)."""
    n = res["repeats"]
    lines = [f"B = {res['batch']}, n_p = {res['d_in']}, n_q = {res['n_latents']}, k = {res['k']}, fp32, "
             f"{res['threads']} threads, torch {res['torch']}; baseline matmul median "
             f"{res['baseline_matmul_s_median'] * 1e3:.0f} ms", "",
             f"| step | × dense matmul (median of {n} paired ratios) | range |", "|---|---|---|"]
    lines += [f"| `{name}` | {r['median']:.2f} | {r['min']:.2f} – {r['max']:.2f} |" for name, r in res["ratios"].items()]
    lines += [f"| `{name}` | skipped: {why} | |" for name, why in res["skipped"].items()]
    if res.get("crossover"):
        lines += ["", "| step | code density (measured) | dense path | sparse path | faster |", "|---|---|---|---|---|"]
        lines += [f"| {r.get('arch', 'relu')} | {r['density']:.4f} | {r['dense_over_matmul']:.2f} | {r['sparse_over_matmul']:.2f} | "
                  f"{'sparse' if r['sparse_faster'] else 'dense'} |" for r in res["crossover"]]
    return "\n".join(lines)


def main(argv=None) -> dict:
    ap = size_parser(__doc__, k=32, repeats=5, small=(1024, 192, 4000, 8))
    ap.add_argument("--archs", default=",".join(f.name for f in registry.families(trainable=True)),
                    help="the project's families to time (comma-separated; default: every trainable family)")
    ap.add_argument("--no-peers", action="store_true", help="skip SAELens / dictionary_learning")
    ap.add_argument("--crossover", action="store_true", help="also locate the dense/sparse cross-over")
    ap.add_argument("--crossover-archs", default="relu",
                    help=f"the families whose cross-over --crossover locates (comma-separated, of {', '.join(crossover_archs())})")
    ap.add_argument("--densities", default="0.005,0.01,0.02,0.04,0.08", help="code densities of --crossover")
    a = parse_sizes(ap, argv)
    cross_archs = tuple(v for v in a.crossover_archs.split(",") if v)
    bad = [v for v in cross_archs if v not in crossover_archs()]
    if bad:   # refused before minutes of timing, not after
        ap.error(f"--crossover-archs: {bad[0]!r} is not one of {', '.join(crossover_archs())}")
    torch.manual_seed(0)
    B, d, nq, k = a.batch, a.d_in, a.n_latents, a.k
    x = torch.randn(B, d).abs() * (torch.rand(B, d) < 0.5)   # non-negative, half zeros: ReLU codes stay sparse-ish
    W = torch.randn(nq, d) / d ** 0.5
    steps, skipped = {}, {}
    for arch in [s for s in a.archs.split(",") if s]:
        steps[f"ours:{arch}"] = _ours(arch, d, nq, k, x)[0]
    steps["ref:sparse"] = _reference_sparse(d, nq, k, x)
    if not a.no_peers:
        for name, make in (("saelens:topk", _saelens), ("dictlearn:topk", _dictlearn)):
            f, why = make(d, nq, k, x)
            if f is not None:
                try:
                    f()                       # a peer whose API changed is skipped, not a crash
                except Exception as exc:  # noqa: BLE001
                    f, why = None, f"{type(exc).__name__}: {exc}"
            if f is None:
                skipped[name] = why
            else:
                steps[name] = f
    res = {"machine": platform.processor() or platform.machine(), "platform": platform.platform(),
           "threads": torch.get_num_threads(), "torch": torch.__version__, "batch": B, "d_in": d,
           "n_latents": nq, "k": k, "repeats": a.repeats, "skipped": skipped}
    res.update(paired(steps, x, W, a.repeats))
    print(f"B={B}, n_p={d}, n_q={nq}, k={k}, {res['threads']} threads, torch {res['torch']}; "
          f"baseline matmul median {res['baseline_matmul_s_median'] * 1e3:.0f} ms")
    for n, r in res["ratios"].items():
        print(f"{n:18s} {r['median']:6.2f} x matmul   (paired, {a.repeats} reps: {r['min']:.2f} – {r['max']:.2f})")
    for n, why in skipped.items():
        print(f"{n:18s} skipped: {why}")
    if a.crossover:
        res["crossover"] = crossover(d, nq, B, max(2, a.repeats - 1),
                                     tuple(float(v) for v in a.densities.split(",") if v), cross_archs)
    print()
    print(markdown(res))
    if a.json:
        from numerics.io import write_json_atomic
        write_json_atomic(a.json, res)
    return res


if __name__ == "__main__":
    main()
