"""Atomic safetensors + JSON storage for models, checkpoints and results.

Nothing is ever unpickled: tensors go through safetensors, everything else through JSON. Each file is
written to a temporary file in the same directory and moved into place with ``os.replace``, so a
crash mid-write never leaves a half-written file where a good one was.

Layout of a saved model directory (readable by other tools, as in SAELens): ``cfg.json`` (the model's
registry name and constructor arguments, plus any extra config) and ``model.safetensors``.
A checkpoint directory adds ``optimizer.safetensors`` (Adam state flattened to tensors) and
``state.json`` (step, RNG seed, metadata).
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from theory.errors import SDLInputError

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "cfg.json"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"


def _atomic_write(path: Path, write) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def to_jsonable(obj: Any) -> Any:
    """Turn dataclasses, tuples, paths, numpy/torch scalars and non-finite floats into plain JSON."""
    import dataclasses

    import numpy as np

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, torch.Tensor):
        return to_jsonable(obj.detach().cpu().tolist())
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically (dataclasses and tensors are converted)."""
    text = json.dumps(to_jsonable(obj), indent=2, sort_keys=False) + "\n"

    def write(tmp):
        with open(tmp, "w") as fh:
            fh.write(text)

    _atomic_write(Path(path), write)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    def write(tmp):
        with open(tmp, "w") as fh:
            fh.write(text)

    _atomic_write(Path(path), write)


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    if not path.is_file():
        raise SDLInputError(f"{path} does not exist; expected a JSON file written by sdl-theory")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SDLInputError(f"{path} is not valid JSON ({exc}); was it written by sdl-theory?") from exc


def save_tensors_atomic(path: str | os.PathLike, tensors: dict[str, torch.Tensor],
                        metadata: dict[str, str] | None = None) -> None:
    """safetensors file written atomically; tensors are made contiguous and moved to CPU."""
    flat = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    _atomic_write(Path(path), lambda tmp: save_file(flat, tmp, metadata=metadata))


def load_tensors(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise SDLInputError(f"{path} does not exist; expected a safetensors file written by sdl-theory")
    return load_file(str(path), device=str(device))


# ---------------------------------------------------------------------------------------------- models
def save_model(path_dir: str | os.PathLike, model: torch.nn.Module, config: Any = None) -> Path:
    """Save ``model`` (a :class:`numerics.models.SparseCoder`) as ``cfg.json`` + ``model.safetensors``.

    ``config`` (e.g. the training config) is stored beside the model's own constructor arguments.
    The tensors are written first, so a directory with a ``cfg.json`` always has its weights.
    """
    path_dir = Path(path_dir)
    save_tensors_atomic(path_dir / MODEL_FILE, model.state_dict())
    write_json_atomic(path_dir / CONFIG_FILE, {"model": model.spec(), "config": config})
    return path_dir


def load_model(path_dir: str | os.PathLike, device: str | torch.device = "cpu"):
    """Inverse of :func:`save_model`: returns ``(model, config)``."""
    from numerics.models import build_model

    path_dir = Path(path_dir)
    cfg = read_json(path_dir / CONFIG_FILE)
    if "model" not in cfg:
        raise SDLInputError(f"{path_dir / CONFIG_FILE} has no 'model' entry; not a model saved by save_model")
    model = build_model(**cfg["model"])
    model.load_state_dict(load_tensors(path_dir / MODEL_FILE), strict=True)
    return model.to(device), cfg.get("config")


# ---------------------------------------------------------------------------------------- optimizer
def flatten_optimizer_state(opt: torch.optim.Optimizer, params: dict[str, torch.nn.Parameter]
                            ) -> dict[str, torch.Tensor]:
    """Adam's per-parameter state as named tensors (``name.exp_avg``, ``name.exp_avg_sq``, ``name.step``)."""
    out: dict[str, torch.Tensor] = {}
    for name, p in params.items():
        for key, value in opt.state.get(p, {}).items():
            t = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            out[f"{name}.{key}"] = t
    return out


def restore_optimizer_state(opt: torch.optim.Optimizer, params: dict[str, torch.nn.Parameter],
                            tensors: dict[str, torch.Tensor]) -> None:
    for name, p in params.items():
        state = {key.split(".")[-1]: t.to(p.device) if t.dim() > 0 else t
                 for key, t in tensors.items() if key.rsplit(".", 1)[0] == name}
        if state:
            opt.state[p] = state


def save_checkpoint(path_dir: str | os.PathLike, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    state: dict, config: Any = None, extra_tensors: dict[str, torch.Tensor] | None = None) -> Path:
    """Model + flattened Adam state + ``state.json``; ``state.json`` is written last (it marks completion).

    ``extra_tensors`` (e.g. the trainer's dead-latent counters) are stored beside the optimizer state
    under the prefix ``extra.``.
    """
    path_dir = Path(path_dir)
    params = dict(model.named_parameters())
    tensors = flatten_optimizer_state(optimizer, params)
    tensors.update({f"extra.{k}": v for k, v in (extra_tensors or {}).items()})
    save_tensors_atomic(path_dir / OPTIMIZER_FILE, tensors)
    save_model(path_dir, model, config)
    write_json_atomic(path_dir / STATE_FILE, state)
    return path_dir


def load_checkpoint(path_dir: str | os.PathLike, model: torch.nn.Module, optimizer: torch.optim.Optimizer
                    ) -> tuple[dict, dict[str, torch.Tensor]]:
    """Load weights and Adam state into existing ``model``/``optimizer``.

    Returns ``(state, extra_tensors)``: the ``state.json`` dict and the tensors saved as ``extra_tensors``.
    """
    path_dir = Path(path_dir)
    state = read_json(path_dir / STATE_FILE)
    device = next(model.parameters()).device
    model.load_state_dict(load_tensors(path_dir / MODEL_FILE, device), strict=True)
    tensors = load_tensors(path_dir / OPTIMIZER_FILE)
    extra = {k[len("extra."):]: v.to(device) for k, v in tensors.items() if k.startswith("extra.")}
    opt_tensors = {k: v for k, v in tensors.items() if not k.startswith("extra.")}
    restore_optimizer_state(optimizer, dict(model.named_parameters()), opt_tensors)
    return state, extra
