"""The Linear Representation Bench runner: train each method with and without feature anchoring on one
instance, evaluate it against the ground truth, and write JSON plus a markdown table with the
paper's Table 1 beside ours (REFERENCE_RESULTS.md).

Each finished run is written at once (``runs/<method>[+fa].json``) and a failing method is recorded
as an error without losing the others. ``results.json`` holds the full config (seed included), the
instance's reached interference, the random-dictionary baseline and every run's metrics.
"""
from __future__ import annotations

import dataclasses
import platform
import time
import traceback
from pathlib import Path
from typing import Callable, Optional

import torch

from numerics.config import PAPER_TABLE1, BenchConfig, DataConfig, TrainConfig, parse_method
from numerics.io import save_model, write_json_atomic, write_text_atomic
from theory import validation as V
from theory.errors import SDLInputError

# Presets: overrides of the DataConfig / TrainConfig / BenchConfig defaults.
PRESETS: dict[str, dict] = {
    # CI size: a minute on 2 cores for all seven methods with and without anchoring.
    "small": {
        "data": dict(n_features=40, d_in=32, n_samples=8192, interference=0.1, p_active=0.05),
        "train": dict(n_latents=160, batch_size=256, epochs=12, lr=3e-3, dead_window=20, eval_every=0,
                      eval_samples=1024, k_aux=32, hyper=dict(k=4, l1_coeff=0.1, l0_coeff=0.01)),
        "bench": dict(taus=(0.9, 0.95), table_tau=0.9),
    },
    # The paper's sizes (arXiv 2512.05534 §5 / Table 1). GPU-sized: far too slow on a laptop CPU.
    "paper-table1": {
        "data": dict(n_features=1000, d_in=768, n_samples=100_000, interference=0.1, p_active=0.01),
        "train": dict(n_latents=16000, batch_size=4096, epochs=20, lr=1e-3, anchor_lambda=0.1, eval_samples=4096,
                      hyper=dict(k=100, l1_coeff=0.1, l0_coeff=0.01)),
        "bench": dict(anchor_frac=0.1, table_tau=0.95),
    },
    # Same ratios as paper-table1 (n/n_p = 1.3, n_q/n = 16, k/n = anchors/n = 0.1, p_active, M, τ)
    # at a quarter of n: what results/table1_scaled/ was made with on a 2-core CPU.
    "table1-scaled": {
        "data": dict(n_features=250, d_in=192, n_samples=100_000, interference=0.1, p_active=0.01),
        "train": dict(n_latents=4000, batch_size=1024, epochs=10, lr=1e-3, anchor_lambda=0.1, eval_samples=4096,
                      k_aux=256, hyper=dict(k=25, l1_coeff=0.1, l0_coeff=0.01)),
        "bench": dict(anchor_frac=0.1, table_tau=0.95),
    },
}


def preset_config(name: str, data: dict | None = None, train: dict | None = None, **bench) -> BenchConfig:
    """The preset's config with explicit overrides applied (overrides win)."""
    V.one_of("preset", name, sorted(PRESETS))
    for label, cls, given in (("data", DataConfig, data), ("train", TrainConfig, train), ("bench", BenchConfig, bench)):
        known = {f.name for f in dataclasses.fields(cls)} - {"preset", "data", "train"}
        if given is not None and not isinstance(given, dict):
            raise SDLInputError(f"{label} overrides must be a dict of {cls.__name__} fields, got {V.got(given)}")
        unknown = sorted(map(str, set(given or {}) - known))
        if unknown:
            raise SDLInputError(f"{cls.__name__} has no fields {unknown}; its fields are {sorted(known)}")
    p = PRESETS[name]
    d = DataConfig(**{**p["data"], **(data or {})})
    train = dict(train or {})
    hyper = {**p["train"].get("hyper", {}), **train.pop("hyper", {})}
    t = TrainConfig(**{**p["train"], **train, "hyper": hyper})
    b = {**p.get("bench", {}), **bench}
    return BenchConfig(preset=name, data=d, train=t, **b)


def run_name(method: str, anchored: bool) -> str:
    return method + ("+fa" if anchored else "")


def machine_info() -> dict:
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    return info


def run_one(cfg: BenchConfig, method: str, anchored: bool, data_cache: dict, out: Path,
            save_models: bool = True) -> dict:
    from numerics.data import make_bench
    from numerics.metrics import evaluate
    from numerics.train import Trainer

    kind, arch = parse_method(method)
    if kind not in data_cache:
        data_cache[kind] = make_bench(dataclasses.replace(cfg.data, kind=kind))
    data = data_cache[kind]
    name = run_name(method, anchored)
    k = cfg.anchor_k if anchored else 0
    tcfg = dataclasses.replace(cfg.train, arch=arch, anchor_k=k,
                               checkpoint_dir=str(out / "checkpoints" / name) if cfg.train.checkpoint_every else "")
    trainer = Trainer(tcfg, data)
    res = trainer.run()
    t0 = time.perf_counter()
    metrics = evaluate(res.model, data, n_samples=tcfg.eval_samples, taus=cfg.taus, skip=k)
    record = {"method": method, "kind": kind, "arch": arch, "anchored": anchored, "anchor_k": k,
              "train": dataclasses.asdict(tcfg), "steps": res.steps, "train_s": res.wall_s,
              "eval_s": time.perf_counter() - t0, "resampled": res.resampled, "history": res.history,
              "metrics": metrics, "reached_interference": data.reached}
    if save_models:
        save_model(out / "models" / name, res.model, dataclasses.asdict(tcfg))
    write_json_atomic(out / "runs" / f"{name}.json", record)
    return record


BENCH_OUTPUTS = ("results.json", "table.md", "runs", "models", "checkpoints")


def run_bench(cfg: BenchConfig, out: str | Path | None = None,
              log: Callable[[str], None] = print, save_models: bool = True, overwrite: bool = False) -> dict:
    """Run every method (× anchoring) of ``cfg``; returns and writes ``results.json`` and ``table.md``.

    ``out`` must be new, empty, or hold a run of the same configuration (then its checkpoints are
    continued); a different configuration is refused unless ``overwrite``, which deletes the old outputs.
    """
    from numerics.data import make_bench
    from numerics.io import to_jsonable
    from numerics.metrics import random_baseline
    from numerics.outdir import claim_out_dir

    cfg.validate()
    out = claim_out_dir(out or cfg.out, to_jsonable(dataclasses.asdict(cfg)), "results.json", BENCH_OUTPUTS,
                        overwrite=overwrite, ignore=("out", "quiet", "resume"), what="bench run")
    settings = {"without": [False], "with": [True], "both": [False, True]}[cfg.anchoring]
    start = time.perf_counter()
    data_cache: dict = {}
    results: dict = {"config": dataclasses.asdict(cfg), "machine": machine_info(), "runs": {}, "errors": {}}
    write_json_atomic(out / "results.json", results)  # records the configuration before any work
    # the SAE instance is also the one the random baseline is measured on
    data_cache["sae"] = make_bench(dataclasses.replace(cfg.data, kind="sae"))
    results["reached_interference"] = data_cache["sae"].reached
    results["random_baseline"] = random_baseline(cfg.train.n_latents, data_cache["sae"].W_p, cfg.taus,
                                                 seed=cfg.data.seed + 1, skip=cfg.anchor_k)
    for method in cfg.methods:
        for anchored in settings:
            name = run_name(method, anchored)
            t0 = time.perf_counter()
            try:
                rec = run_one(cfg, method, anchored, data_cache, out, save_models)
            except SDLInputError:
                raise
            except Exception as exc:  # keep the other methods' results (project rule)
                results["errors"][name] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
                log(f"{name}: FAILED ({type(exc).__name__}: {exc})")
                continue
            results["runs"][name] = rec
            m = rec["metrics"]["dec"]
            log(f"{name:22s} GT@{cfg.table_tau}={100 * m['gt'][cfg.table_tau]:6.2f}%  M_IP={m['mip']:.3f}  "
                f"MCC={m['mcc']:.3f}  EV={rec['metrics']['explained_variance']:.3f}  "
                f"L0={rec['metrics']['l0']:.1f}  ({time.perf_counter() - t0:.1f}s)")
            results["wall_s"] = time.perf_counter() - start
            write_json_atomic(out / "results.json", results)
    results["wall_s"] = time.perf_counter() - start
    write_json_atomic(out / "results.json", results)
    table = markdown_table(results)
    write_text_atomic(out / "table.md", table)
    return results


def _fmt_pct(x: Optional[float]) -> str:
    return "–" if x is None else f"{100 * x:.2f}%"


def _data_extras(d: dict) -> str:
    """The non-default firing model of a results config, in words (older configs lack these keys)."""
    parts = []
    if d.get("firing", "uniform") == "zipf":
        parts.append(f"Zipfian firing p_d ∝ (d+1)^-{d.get('zipf_exponent', 1.0)} (mean p_active)")
    if d.get("n_parents"):
        parts.append(f"hierarchy {d['n_parents']} parents × {d['n_children']} children, "
                     f"{d.get('hierarchy_levels', 1)} level(s){', exclusive' if d.get('exclusive_children') else ''}")
    if d.get("magnitude_spread", 0):
        parts.append(f"per-feature magnitude spread σ = {d['magnitude_spread']}")
    if d.get("offset_norm", 0):
        parts.append(f"data offset of norm {d['offset_norm']}")
    return (" Data: " + "; ".join(parts) + ".") if parts else ""


def _fmt(x: Optional[float]) -> str:
    return "–" if x is None else f"{x:.3f}"


def markdown_table(results: dict) -> str:
    """Ours beside the paper's Table 1: M_GT at the table's τ and M_IP, decoder atoms, with and without FA."""
    cfg = results["config"]
    tau = float(cfg["table_tau"])
    runs = results["runs"]

    def get(name, side, what):
        r = runs.get(name)
        if r is None:
            return None
        m = r["metrics"][side]
        return m["gt"][str(tau)] if what == "gt" and str(tau) in m["gt"] else (
            m["gt"].get(tau) if what == "gt" else m[what])

    d = cfg["data"]
    t = cfg["train"]
    lines = [
        f"# Linear Representation Bench: preset `{cfg['preset']}`",
        "",
        f"n = {d['n_features']}, n_p = {d['d_in']}, n_q = {t['n_latents']}, samples = {d['n_samples']}, "
        f"M = {d['interference']} (reached {_fmt(results['reached_interference'].get('W_p'))}), "
        f"p_active = {d['p_active']}, k = {t.get('hyper', {}).get('k', t.get('k'))}, anchors = {round(cfg['anchor_frac'] * d['n_features'])} "
        f"(λ = {t['anchor_lambda']}), τ = {tau}, seed = {d['seed']}, wall {results.get('wall_s', 0):.0f}s."
        + _data_extras(d),
        "Ours: decoder atoms vs W_r (encoder rows in results.json). Paper: arXiv 2512.05534 Table 1 "
        "(n = 1000, n_p = 768, n_q = 16000, τ = 0.95).",
        "",
        "| method | M_GT ours | M_GT paper | M_IP ours | M_IP paper | +FA M_GT ours | +FA M_GT paper "
        "| +FA M_IP ours | +FA M_IP paper | MCC ours | EV ours | L0 ours | dead ours |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for method in cfg["methods"]:
        p = PAPER_TABLE1.get(method)
        pg = (lambda i: "–" if p is None else (f"{p[i]:.2f}%" if i in (0, 2) else f"{p[i]:.3f}"))
        base = runs.get(method)
        lines.append(
            f"| {method} | {_fmt_pct(get(method, 'dec', 'gt'))} | {pg(0)} | {_fmt(get(method, 'dec', 'mip'))} "
            f"| {pg(1)} | {_fmt_pct(get(method + '+fa', 'dec', 'gt'))} | {pg(2)} "
            f"| {_fmt(get(method + '+fa', 'dec', 'mip'))} | {pg(3)} | {_fmt(get(method, 'dec', 'mcc'))} "
            f"| {_fmt(base['metrics']['explained_variance'] if base else None)} "
            f"| {_fmt(base['metrics']['l0'] if base else None)} "
            f"| {_fmt(base['metrics']['dead_frac'] if base else None)} |")
    rb = results.get("random_baseline", {})
    rgt = rb.get("gt", {})
    lines.append(f"| random dictionary | {_fmt_pct(rgt.get(str(tau), rgt.get(tau)))} | | {_fmt(rb.get('mip'))} "
                 "| | | | | | | | | |")
    if results.get("errors"):
        lines += ["", "Failed runs: " + ", ".join(sorted(results["errors"])) + " (see results.json)."]
    return "\n".join(lines) + "\n"
