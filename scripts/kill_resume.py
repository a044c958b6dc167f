"""Kill training with SIGKILL at random instants, resume it each time, and compare the final model with
an uninterrupted run of the same configuration, tensor by tensor and bit for bit (issue 10).

A checkpoint is written after every step (``checkpoint_every=1``), so most kills land during or
between checkpoint writes: a checkpoint whose pieces disagree (model at step s+1, ``state.json`` at
step s) makes the resumed run apply a batch twice and the final model differ.

    .venv/bin/python scripts/kill_resume.py --kills 25 --seed 0 --out results/kill_resume/summary.json

``tests/numerics/test_kill_resume.py`` runs the same function with a few kills (CI size).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A small TopK SAE with the recipes that carry state across steps (Adam moments, aux-k's dead-latent
# counters, resampling) so that every piece of a checkpoint matters.
SPEC = {
    "data": {"n_features": 12, "d_in": 10, "n_samples": 2048, "interference": 0.4, "p_active": 0.1,
             "pgd_steps": 200, "seed": 3},
    "train": {"arch": "topk_relu", "n_latents": 24, "hyper": {"k": 3}, "batch_size": 32, "epochs": 3.0, "lr": 3e-3,
              "dead_window": 5, "k_aux": 4, "resample": True, "resample_every": 40, "resample_batch": 64,
              "eval_every": 25, "eval_samples": 128, "checkpoint_every": 1, "device": "cpu", "quiet": True,
              "seed": 5},
}

CHILD = r"""
import json, sys
import torch
torch.set_num_threads(1)
from numerics.config import DataConfig, TrainConfig
from numerics.data import make_bench
from numerics.io import save_model
from numerics.train import Trainer
spec = json.loads(sys.argv[1])
data = make_bench(DataConfig(**spec["data"]))
trainer = Trainer(TrainConfig(**spec["train"], checkpoint_dir=spec["ckdir"]), data)
print("START", trainer.step, flush=True)
res = trainer.run()
save_model(spec["final"], res.model)
print("DONE", res.steps, flush=True)
"""


def _spawn(spec: dict) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _wait_start(proc: subprocess.Popen) -> int:
    line = proc.stdout.readline()
    if not line.startswith("START"):
        proc.kill()
        raise RuntimeError(f"training child did not start: {line!r} {proc.stderr.read()[-2000:]}")
    return int(line.split()[1])


def _finish(proc: subprocess.Popen) -> None:
    out, err = proc.communicate(timeout=600)
    if proc.returncode != 0 or "DONE" not in out:
        raise RuntimeError(f"training child failed (rc {proc.returncode}): {err[-3000:]}")


def _checkpointed_step(root: str) -> int:
    from numerics.io import latest_checkpoint

    try:
        path = latest_checkpoint(root)
        return -1 if path is None else int(str(path.name).rsplit("-", 1)[-1])
    except (OSError, ValueError):  # mid-rename: try again
        return -1


def _total_steps(spec: dict) -> int:
    t, d = spec["train"], spec["data"]
    steps = int(round(t["epochs"] * (d["n_samples"] // t["batch_size"])))
    return min(steps, t["max_steps"]) if t.get("max_steps") else steps


def _tensors(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def run(workdir: str | Path, kills: int, seed: int = 0, spec: dict | None = None, log=print) -> dict:
    """Reference run, then a run killed ``kills`` times at random instants and resumed; compare."""
    import torch

    spec = json.loads(json.dumps(spec or SPEC))
    work = Path(workdir)
    rng = random.Random(seed)
    ref = {**spec, "ckdir": str(work / "ref_ck"), "final": str(work / "ref_final")}
    t0 = time.perf_counter()
    proc = _spawn(ref)
    _wait_start(proc)
    t_start = time.perf_counter()
    _finish(proc)
    train_s = time.perf_counter() - t_start
    log(f"uninterrupted run: {train_s:.2f} s of training after start-up ({time.perf_counter() - t0:.1f} s in all)")

    total_steps = _total_steps(spec)
    killed = {**spec, "ckdir": str(work / "kill_ck"), "final": str(work / "kill_final")}
    resumed_from, delays, finished_early = [], [], 0
    done = 0
    while done < kills:
        proc = _spawn(killed)
        step = _wait_start(proc)
        resumed_from.append(step)
        # Kill once the run has checkpointed a randomly chosen later step (spreading the kills evenly over
        # what is left), then a random few milliseconds more: the kill lands inside or between writes.
        left = kills - done
        target = min(total_steps - 1, step + rng.randint(1, max(1, 2 * (total_steps - step) // (left + 1))))
        t_kill = time.perf_counter()
        while proc.poll() is None and _checkpointed_step(killed["ckdir"]) < target:
            time.sleep(0.002)
        delay = rng.uniform(0.0, 0.03)
        time.sleep(delay)
        delay += time.perf_counter() - t_kill
        if proc.poll() is not None:  # finished before the kill: start over from scratch
            _finish(proc)
            finished_early += 1
            import shutil

            shutil.rmtree(killed["ckdir"], ignore_errors=True)
            shutil.rmtree(killed["final"], ignore_errors=True)
            if finished_early > 3 * kills:
                raise RuntimeError("the run keeps finishing before the kill; lengthen it")
            continue
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        delays.append(round(delay, 3))
        done += 1
    proc = _spawn(killed)
    resumed_from.append(_wait_start(proc))
    _finish(proc)
    a, b = _tensors(Path(ref["final"])), _tensors(Path(killed["final"]))
    differing = sorted(k for k in a if k not in b or not torch.equal(a[k], b[k]))
    leftovers = sorted(str(p.relative_to(work)) for p in work.rglob("*") if ".tmp" in p.name or p.name.startswith(".tmp"))
    summary = {
        "kills": done, "seed": seed, "total_steps": total_steps, "resumed_from_steps": resumed_from,
        "kill_delays_s": delays,
        "restarts_from_scratch": finished_early, "uninterrupted_train_s": round(train_s, 3),
        "tensors": sorted(a), "differing_tensors": differing, "bit_identical": not differing and set(a) == set(b),
        "temporary_files_left": leftovers,
    }
    log(json.dumps({k: summary[k] for k in ("kills", "resumed_from_steps", "bit_identical", "differing_tensors",
                                            "temporary_files_left")}))
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default=None, help="where the runs go (default: a fresh temporary directory)")
    ap.add_argument("--out", default=None, help="write the JSON summary here")
    args = ap.parse_args(argv)
    import tempfile

    work = args.workdir or tempfile.mkdtemp(prefix="sdl-kill-resume-")
    summary = run(work, args.kills, args.seed)
    summary |= {"command": "python scripts/kill_resume.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                "spec": SPEC, "machine": platform.platform()}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if summary["bit_identical"] and not summary["temporary_files_left"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
