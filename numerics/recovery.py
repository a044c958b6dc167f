"""Recovery on the bench, measured the way C10 and C11 need it: trained to convergence, swept over
what the paper leaves open, a setting selected without looking at the ground truth, read both ways.

* :func:`train_run` trains one (method, setting, seed) until :mod:`numerics.convergence` says it has
  converged (or the step budget ends) and returns one *run record*: ``setting``, ``converged``,
  ``steps``, ``l0``, ``explained_variance``, ``dead_frac`` and the ground-truth scores at τ = 0.95
  for both readings — decoder atoms against ``W_r`` and encoder rows against ``W_p`` (the paper's
  metric uses ``W_Eᵀ``): ``m_gt_decoder``, ``m_gt_encoder``, ``m_ip_decoder``, ``m_ip_encoder``.
* :func:`sweep` runs a method over its grid (the family's own, :meth:`theory.registry.Family.sweep_grid`:
  the L1 / L0 coefficient, the JumpReLU threshold initialisation, k; a family of yours declares its
  ``sweep`` or gets one derived from its hyperparameters) and then the learning rate around the selected point.
* :func:`select` is the selection rule, blind to the ground truth: among converged runs, the one
  whose L0 is closest (in log ratio) to the true mean number of active features ``n · p_active``;
  ties go to the higher explained variance.
* :func:`covers_both_ends`: whether the sweep reaches a dense code (L0 ≥ 2 × target) on one side
  and collapse (L0 ≤ target / 2 or half the latents dead) on the other.

Anchored features (the first ``skip``) are left out of every feature-side score, in both arms of a
comparison, so anchored and plain runs are scored on the same features (THEORY.md §6).

**Nothing trained is lost** (:func:`run_store`): inside ``with run_store(DIR):`` every run record is also
written, atomically, as ``DIR/<key>.json`` the moment its run ends, keyed by a digest of everything that
determines it (method, setting, seed, anchoring, the bench instance's, trainer's and criterion's full
configurations, :data:`RUN_FORMAT`). With ``reuse=True`` a run whose file is there is read back instead of
trained again (``sdl-theory verify C10 C11 --resume``: an interrupted hour-scale sweep continues where it
stopped). Each file also records the digest of the training code that produced it (:func:`code_digest`); a
reused record says so (``"resumed": true``), and a report lists the code digests its runs came from.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import torch

from numerics.config import TrainConfig, parse_method
from numerics.convergence import Convergence, ConvergenceMonitor, judge

TAU = 0.95

LR_FACTORS = (1 / 3, 3.0)     # learning rates tried around the selected setting


RUN_FORMAT = 1   # bump when a run record's meaning changes: stored runs of another format are not reused

_STORES: list[tuple[Path, bool]] = []   # the active run_store (innermost last)


@contextmanager
def run_store(directory, *, reuse: bool = False):
    """Within this context every :func:`train_run` record is written to ``directory`` as it finishes;
    with ``reuse`` a run already stored there (same key) is read back instead of trained."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    _STORES.append((path, bool(reuse)))
    try:
        yield path
    finally:
        _STORES.pop()


def active_store() -> tuple[str, bool] | None:
    """The innermost active :func:`run_store` as ``(directory, reuse)``, or None (a cache key for its callers)."""
    return (str(_STORES[-1][0]), _STORES[-1][1]) if _STORES else None


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the training code's sources (numerics/, theory/registry.py, theory/activations/): which code
    produced a stored run (read once per process: the code it has loaded, not later edits on disk)."""
    root = Path(__file__).resolve().parent.parent
    files = sorted([*root.glob("numerics/*.py"), root / "theory/registry.py", *root.glob("theory/activations/*.py")])
    h = hashlib.sha256()
    for f in files:
        if f.is_file():
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def run_key(method: str, setting: dict, data, base: TrainConfig, criterion: Convergence, *, seed: int,
            anchor_k: int, skip: int, eval_samples: int) -> tuple[str, dict]:
    """``(key, fields)``: the stored run's name, a digest of the ``fields`` that determine its record."""
    from numerics.io import to_jsonable

    fields = to_jsonable({"format": RUN_FORMAT, "method": method, "setting": setting, "seed": int(seed),
                          "anchor_k": int(anchor_k), "skip": int(skip), "eval_samples": int(eval_samples),
                          "data": data.config, "train": base, "criterion": criterion})
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24], fields


def _stored(key: str, fields: dict, criterion: Convergence) -> dict | None:
    if not _STORES or not _STORES[-1][1]:
        return None
    f = _STORES[-1][0] / f"{key}.json"
    if not f.is_file():
        return None
    from numerics.io import from_jsonable, read_json

    try:
        doc = read_json(f)
    except Exception:   # noqa: BLE001 - a damaged file is trained again (and rewritten), never trusted
        return None
    if not isinstance(doc, dict) or doc.get("fields") != fields or not isinstance(doc.get("record"), dict):
        return None
    record = from_jsonable(doc["record"])
    # judged again by today's criterion (the trend test at the budget reads the kept history; it changes no training)
    return {**record, **judge(record, criterion), "resumed": True, "code_digest": doc.get("code_digest")}


def _store(key: str, fields: dict, record: dict) -> None:
    if _STORES:
        from numerics.io import write_json_atomic

        write_json_atomic(_STORES[-1][0] / f"{key}.json",
                          {"fields": fields, "code_digest": code_digest(), "record": record})


def train_run(method: str, setting: dict, data, base: TrainConfig, criterion: Convergence, *, seed: int = 0,
              anchor_k: int = 0, skip: int | None = None, eval_samples: int = 4096) -> dict:
    """Train ``method`` with ``setting`` (TrainConfig overrides) to convergence; one run record
    (read back instead when a :func:`run_store` with ``reuse`` holds it)."""
    skip = int(anchor_k) if skip is None else int(skip)
    key = fields = None
    if _STORES:
        key, fields = run_key(method, setting, data, base, criterion, seed=seed, anchor_k=anchor_k, skip=skip,
                              eval_samples=eval_samples)
        got = _stored(key, fields, criterion)
        if got is not None:
            return got
    record = _train_run(method, setting, data, base, criterion, seed=seed, anchor_k=anchor_k, skip=skip,
                        eval_samples=eval_samples)
    if key is not None:
        _store(key, fields, record)
    return record


def _train_run(method: str, setting: dict, data, base: TrainConfig, criterion: Convergence, *, seed: int,
               anchor_k: int, skip: int, eval_samples: int) -> dict:
    from numerics.metrics import evaluate
    from numerics.train import Trainer

    _, arch = parse_method(method)
    criterion.validate()
    # a setting names TrainConfig fields (lr, …) and family hyperparameters (k, l1_coeff, …) alike
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    direct = {k: v for k, v in setting.items() if k in fields}
    hyper = {**base.hyper, **{k: v for k, v in setting.items() if k not in fields}}
    tcfg = dataclasses.replace(base, arch=arch, seed=int(seed), anchor_k=int(anchor_k), max_steps=criterion.max_steps,
                               epochs=max(base.epochs, 1e6), eval_every=criterion.max_steps, quiet=True,
                               checkpoint_dir="", hyper=hyper, **direct)
    monitor = ConvergenceMonitor(criterion)
    t0 = time.perf_counter()
    res = Trainer(tcfg, data, callbacks=[monitor]).run()
    wall = time.perf_counter() - t0
    m = evaluate(res.model, data, n_samples=eval_samples, taus=(TAU,), skip=skip)
    conv = monitor.record()
    extra = {}
    if anchor_k:   # did the anchoring term hold the anchored atoms on their directions?
        from numerics.metrics import unit_columns
        cos = (unit_columns(res.model.W_dec[:anchor_k].T.detach()) * unit_columns(data.W_r[:, :anchor_k])).sum(0).abs()
        extra["anchor_cos_min"] = float(cos.min())
    return {**extra,
        "method": method, "setting": dict(setting), "seed": int(seed), "anchor_k": int(anchor_k), "scored_from": skip,
        "converged": conv["converged"], "converged_by": conv["converged_by"], "plateau": conv["plateau"],
        "steps": res.steps, "heldout_loss": conv["heldout_loss"],
        "final_spread": conv["final_spread"],
        "l0": m["l0"], "explained_variance": m["explained_variance"], "dead_frac": m["dead_frac"],
        "m_gt_decoder": m["dec"]["gt"][TAU], "m_gt_encoder": m["enc"]["gt"][TAU],
        "m_ip_decoder": m["dec"]["mip"], "m_ip_encoder": m["enc"]["mip"],
        "mcc_decoder": m["dec"]["mcc"], "mcc_encoder": m["enc"]["mcc"], "train_s": wall,
        "device": _device_name(res.model),
        "heldout_history": conv["heldout_history"],
    }


def _device_name(model) -> str:
    """Where a run trained: ``cpu`` or the GPU's name (float rounding differs between devices)."""
    dev = next(model.parameters()).device
    return "cpu" if dev.type == "cpu" else f"{dev} ({torch.cuda.get_device_name(dev)})"


def target_l0(data) -> float:
    """The true mean number of active features per sample (``n · p_active``; hierarchy counted)."""
    cfg = data.config
    if cfg.n_parents:
        b = data.batch(0, 4096, "cpu", stream=1)
        return float(b.x._nnz()) / 4096
    return cfg.n_features * cfg.p_active


def _l0_distance(run: dict, target: float) -> float:
    return abs(math.log(max(run["l0"], 1e-6) / target))


def select(runs: list[dict], target: float) -> dict | None:
    """The converged run with L0 closest to ``target`` (log ratio), ties to higher explained variance."""
    ok = [r for r in runs if r["converged"]]
    if not ok:
        return None
    return min(ok, key=lambda r: (round(_l0_distance(r, target), 9), -r["explained_variance"]))


def covers_both_ends(runs: list[dict], target: float) -> dict:
    dense = any(r["l0"] >= 2 * target for r in runs)
    collapse = any(r["l0"] <= target / 2 or r["dead_frac"] >= 0.5 for r in runs)
    return {"dense_end": dense, "collapse_end": collapse, "both": dense and collapse}


def grid_for(method: str, values: dict | None = None) -> list[dict]:
    """The settings ``method``'s family sweeps (:meth:`theory.registry.Family.sweep_grid`); ``values``:
    knob → values replacing the family's (a bench size's grid, e.g. ``{"k": (1, 4)}``)."""
    from theory import registry

    return registry.get(parse_method(method)[1]).sweep_grid(values)


def sweep(method: str, data, base: TrainConfig, criterion: Convergence, *, grid: list[dict] | None = None,
          seed: int = 0, lr_factors=LR_FACTORS, log=None) -> dict:
    """``{"sweep": [run, …], "selected": run | None, "target_l0": …, "ends": …}`` for one method
    (``grid``: the settings; default: :func:`grid_for` the method)."""
    grid = grid_for(method) if grid is None else grid
    target = target_l0(data)
    runs = []
    for setting in grid:
        runs.append(train_run(method, setting, data, base, criterion, seed=seed))
        if log:
            log(_line(runs[-1]))
    first = select(runs, target)
    if first is not None and lr_factors:
        for f in lr_factors:
            setting = {**first["setting"], "lr": base.lr * f}
            runs.append(train_run(method, setting, data, base, criterion, seed=seed))
            if log:
                log(_line(runs[-1]))
    selected = select(runs, target)
    return {"sweep": runs, "selected": selected, "target_l0": target, "ends": covers_both_ends(runs, target),
            "all_converged": all(r["converged"] for r in runs)}


def _line(r: dict) -> str:
    return (f"{r['method']:16s} {str(r['setting']):44s} conv={str(r['converged'])[0]} steps={r['steps']:5d} "
            f"L0={r['l0']:6.2f} EV={r['explained_variance']:.3f} GT dec/enc={r['m_gt_decoder']:.2f}/"
            f"{r['m_gt_encoder']:.2f} IP dec/enc={r['m_ip_decoder']:.3f}/{r['m_ip_encoder']:.3f} ({r['train_s']:.1f}s)")


def single_thread():
    """Context: tiny models run faster on one thread (extra threads only spin on a shared 2-core CPU)."""
    class _One:
        def __enter__(self):
            self.n = torch.get_num_threads()
            torch.set_num_threads(1)

        def __exit__(self, *exc):
            torch.set_num_threads(self.n)
    return _One()
