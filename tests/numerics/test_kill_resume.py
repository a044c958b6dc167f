"""Crash consistency (issue 10): training killed with SIGKILL at random instants and resumed each time
ends with the same model, bit for bit, as an uninterrupted run; no temporary file is left behind.
CI size: a few kills of a small TopK SAE; ``scripts/kill_resume.py --kills 25`` is the long run."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("kill_resume", ROOT / "scripts" / "kill_resume.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_killed_and_resumed_training_is_bit_identical(tmp_path):
    kr = _script()
    spec = json.loads(json.dumps(kr.SPEC))
    spec["train"]["epochs"] = 1.0  # 64 steps, a checkpoint after each
    spec["train"]["resample_every"] = 20
    summary = kr.run(tmp_path, kills=3, seed=1, spec=spec, log=lambda s: None)
    assert summary["kills"] == 3
    assert summary["resumed_from_steps"][-1] > 0  # the last run really resumed from a checkpoint
    assert summary["bit_identical"], summary["differing_tensors"]
    assert summary["temporary_files_left"] == []


def test_the_comparison_can_fail(tmp_path):
    """Another seed of the same run differs: the bit-for-bit comparison is not vacuous."""
    import torch
    from safetensors.torch import load_file

    kr = _script()
    spec = json.loads(json.dumps(kr.SPEC))
    spec["train"] |= {"epochs": 0.25, "checkpoint_every": 0}
    for name, seed in (("a", 5), ("b", 6)):
        s = json.loads(json.dumps(spec))
        s["train"]["seed"] = seed
        proc = kr._spawn({**s, "ckdir": str(tmp_path / f"{name}_ck"), "final": str(tmp_path / name)})
        kr._wait_start(proc)
        kr._finish(proc)
    a, b = load_file(str(tmp_path / "a" / "model.safetensors")), load_file(str(tmp_path / "b" / "model.safetensors"))
    assert any(not torch.equal(a[k], b[k]) for k in a)
