"""numerics.io: one JSON policy, atomic files (0644, fsync), file sets swapped in by one directory rename,
stale temporaries cleaned on the next write."""
import json
import os

import pytest
import torch

from numerics import io
from numerics.models import build_model
from theory.errors import SDLInputError


def _mode(p):
    return os.stat(p).st_mode & 0o777


def test_json_policy_is_strict_and_keeps_non_finite_apart_from_missing(tmp_path):
    import numpy as np

    obj = {"nan": float("nan"), "inf": np.float64("inf"), "ninf": -float("inf"), "none": None,
           "t": torch.tensor([1.0, float("nan")]), "tuple": (1, 2), "set": {3, 1}, "text": "λ"}
    io.write_json_atomic(tmp_path / "a.json", obj)
    text = (tmp_path / "a.json").read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text and "λ" in text
    back = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON token {c}"))
    assert back == {"nan": "nan", "inf": "inf", "ninf": "-inf", "none": None, "t": [1.0, "nan"], "tuple": [1, 2],
                    "set": [1, 3], "text": "λ"}
    assert _mode(tmp_path / "a.json") == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "r.json"
    io.write_json_atomic(path, {"v": 1})

    def boom(tmp):
        with open(tmp, "w") as fh:
            fh.write('{"v": 2, "trunc')
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        io._atomic_write(path, boom)
    assert json.loads(path.read_text()) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_stale_temporaries_of_dead_processes_are_cleaned_on_the_next_write(tmp_path):
    dead_pid = 2 ** 22 + 12345  # above Linux's pid_max default: no such process
    stale_file = tmp_path / f".r.json.{dead_pid}.0badc0de.tmp"
    stale_dir = tmp_path / f".step-000000005.{dead_pid}.0badc0de.tmp"
    mine = tmp_path / f".r.json.{os.getpid()}.00000000.tmp"  # a write of a live process: kept
    stale_file.write_text("half")
    stale_dir.mkdir()
    (stale_dir / "model.safetensors").write_bytes(b"half")
    mine.write_text("in flight")
    io.write_text_atomic(tmp_path / "other.txt", "x")
    names = {p.name for p in tmp_path.iterdir()}
    assert stale_file.name not in names and stale_dir.name not in names
    assert mine.name in names and "other.txt" in names


def _model(seed=0):
    torch.manual_seed(seed)
    return build_model("relu", 5, 7)


def test_checkpoint_is_one_directory_and_only_the_newest_is_kept(tmp_path):
    m = _model()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    m(torch.randn(4, 5)).sum().backward()
    opt.step()
    for step in (5, 10):
        io.save_checkpoint(tmp_path / "ck", m, opt, {"step": step}, extra_tensors={"last_fired": torch.arange(7)})
    (only,) = (tmp_path / "ck").iterdir()
    assert only.name == "step-000000010" and io.latest_checkpoint(tmp_path / "ck") == only
    assert {p.name for p in only.iterdir()} == {"model.safetensors", "cfg.json", "optimizer.safetensors", "state.json"}
    assert all(_mode(p) == 0o644 for p in only.iterdir()) and _mode(only) == 0o755
    m2 = _model(seed=1)
    opt2 = torch.optim.Adam(m2.parameters(), lr=1e-2)
    state, extra = io.load_checkpoint(tmp_path / "ck", m2, opt2)
    assert state == {"step": 10} and torch.equal(extra["last_fired"], torch.arange(7))
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), m2.state_dict().values()))
    assert torch.equal(opt2.state[m2.W_enc]["exp_avg_sq"], opt.state[m.W_enc]["exp_avg_sq"])


@pytest.mark.parametrize("fail_at", range(1, 8))
def test_a_checkpoint_interrupted_anywhere_leaves_the_previous_one_whole(tmp_path, monkeypatch, fail_at):
    """Crash simulated at every file write / rename of the second checkpoint: the first stays loadable and
    nothing of the second is visible; the next save cleans up and succeeds."""
    m = _model()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    io.save_checkpoint(tmp_path, m, opt, {"step": 1})
    calls = {"n": 0}
    real_fsync, real_replace = os.fsync, os.replace

    def counting(real):
        def f(*a, **k):
            calls["n"] += 1
            if calls["n"] == fail_at:
                raise KeyboardInterrupt("killed")
            return real(*a, **k)
        return f

    monkeypatch.setattr(io.os, "fsync", counting(real_fsync))
    monkeypatch.setattr(io.os, "replace", counting(real_replace))
    with torch.no_grad():
        m.W_enc.add_(1.0)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint(tmp_path, m, opt, {"step": 2})
    monkeypatch.undo()
    latest = io.latest_checkpoint(tmp_path)
    step = json.loads((latest / "state.json").read_text())["step"]
    model, _ = io.load_model(latest)  # complete: weights and cfg.json agree
    # either the old set or the new one, whole: its weights are the ones of its step
    assert step in (1, 2) and bool(torch.equal(model.W_enc, m.W_enc)) == (step == 2)
    io.save_checkpoint(tmp_path, m, opt, {"step": 3})
    # (temporaries of this still-running process are kept; a killed process' are removed, test above)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["step-000000003"]


def test_save_model_replaces_the_whole_set_and_keeps_files_beside_it(tmp_path):
    d = tmp_path / "m"
    io.save_model(d, _model(0), {"lr": 1})
    (d / "instance.json").write_text("{}")
    io.save_model(d, _model(1), {"lr": 2})
    assert {p.name for p in d.iterdir()} == {"model.safetensors", "cfg.json", "instance.json"}
    model, cfg = io.load_model(d)
    assert cfg == {"lr": 2} and torch.equal(model.W_enc, _model(1).W_enc)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_a_checkpoint_saved_under_the_old_name_topk_loads_as_topk_relu(tmp_path, monkeypatch):
    """Before the one registry, numerics called the TopK∘ReLU SAE ``topk`` (now the theory-only TopK); a
    cfg.json written then (model name and training config's arch ``topk``) loads as ``topk_relu``."""
    from theory import registry

    model = build_model("topk_relu", 6, 10, k=2, seed=3)
    io.save_model(tmp_path / "old", model, config={"arch": "topk_relu", "lr": 0.01})
    cfg_path = tmp_path / "old" / io.CONFIG_FILE
    cfg = json.loads(cfg_path.read_text())
    cfg["model"]["name"], cfg["config"]["arch"] = "topk", "topk"   # as the old numerics wrote it
    cfg_path.write_text(json.dumps(cfg))
    loaded, config = io.load_model(tmp_path / "old")
    assert loaded.spec()["name"] == "topk_relu" and config == {"arch": "topk_relu", "lr": 0.01}
    assert loaded.k == 2
    x = torch.randn(5, 6)
    assert torch.equal(loaded(x), model(x))
    # the alias table is what makes it load: without it the old name is the theory-only TopK, refused clearly
    monkeypatch.setattr(registry, "SAVED_NAME_ALIASES", {})
    with pytest.raises(SDLInputError, match="no torch model"):
        io.load_model(tmp_path / "old")
    # and a name typed today still means what it says
    assert registry.get("topk").name == "topk"


def test_from_jsonable_undoes_the_non_finite_policy():
    import math

    from numerics.io import from_jsonable, to_jsonable

    obj = {"a": [1.5, float("inf"), {"b": float("-inf")}], "c": float("nan"), "d": "nan-like text", "e": 2}
    back = from_jsonable(to_jsonable(obj))
    assert back["a"][:2] == [1.5, math.inf] and back["a"][2] == {"b": -math.inf}
    assert math.isnan(back["c"]) and back["d"] == "nan-like text" and back["e"] == 2
