"""One module for every file the toolkit writes: JSON, text, figures, safetensors, model and checkpoint
directories. One policy for all of them:

- **JSON**: strict (``allow_nan=False``); non-finite floats are written as the strings ``"nan"``,
  ``"inf"``, ``"-inf"`` (so a reader can tell them from a missing value, ``null``); dataclasses, tuples,
  paths, numpy and torch values become plain JSON (:func:`to_jsonable`).
- **Atomic**: each file is written to a temporary file in the same directory, flushed and ``fsync``-ed,
  then moved into place with ``os.replace`` (and the directory ``fsync``-ed), so a crash mid-write never
  leaves a half-written file where a good one was.
- **A set of files is one directory swapped in by one rename**: a model directory (``cfg.json`` +
  ``model.safetensors``) and each checkpoint (``step-<n>/``: model, optimizer, ``state.json``) are built
  in a temporary directory and renamed into place, so after a kill at any instant a reader sees either
  the previous complete set or the new complete set, never a mix.
- **Readable by others**: files 0644, directories 0755 (``mkstemp`` would leave 0600).
- **Stale temporaries** (``.<name>.<pid>.<random>.tmp``, left by a killed process) are removed the next
  time anything is written into that directory; a temporary of a process that is still alive is kept.

Nothing is ever unpickled: tensors go through safetensors, everything else through JSON.
Layout of a saved model directory: ``cfg.json`` (the model's registry name and constructor arguments,
plus any extra config) and ``model.safetensors``. This is our own layout, not SAELens's (its loader
expects ``sae_weights.safetensors`` and ``W_enc`` as d_in × d_sae): write SAELens or sparsify
checkpoints with :mod:`numerics.foreign` (``sdl-theory convert``).
A checkpoint root holds ``step-<n>/`` directories, each a model directory plus
``optimizer.safetensors`` (Adam state flattened to tensors, and the trainer's extra tensors) and
``state.json`` (step and whatever the trainer records); only the newest is kept.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from theory.errors import SDLInputError

if TYPE_CHECKING:  # torch and safetensors are imported where tensors are written: JSON-only users stay light
    import torch

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "cfg.json"
OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "state.json"
CHECKPOINT_PREFIX = "step-"
FILE_MODE = 0o644
DIR_MODE = 0o755
_TMP_SUFFIX = ".tmp"


# ------------------------------------------------------------------------------------ atomic writes
def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. a platform without directory file descriptors
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _tmp_name(name: str) -> str:
    """``.<name>.<pid>.<random>.tmp``: the pid says whether its writer may still be running."""
    return f".{name}.{os.getpid()}.{os.urandom(4).hex()}{_TMP_SUFFIX}"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def clean_stale(directory: str | os.PathLike) -> list[str]:
    """Remove temporaries in ``directory`` left by processes that are no longer running; returns their names."""
    directory = Path(directory)
    removed = []
    if not directory.is_dir():
        return removed
    for entry in directory.iterdir():
        name = entry.name
        if not (name.startswith(".") and name.endswith(_TMP_SUFFIX)):
            continue
        parts = name[: -len(_TMP_SUFFIX)].rsplit(".", 2)
        try:
            pid = int(parts[-2])
        except (IndexError, ValueError):
            pid = -1  # not ours in shape, but ours in prefix/suffix: an older writer's; never alive
        if pid > 0 and _pid_alive(pid):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(name)
    return removed


def _mkdir(path: Path) -> None:
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)


def _atomic_write(path: Path, write) -> None:
    """``write(tmp_path)`` then fsync, chmod 0644 and rename onto ``path``."""
    path = Path(path)
    _mkdir(path.parent)
    clean_stale(path.parent)
    tmp = path.parent / _tmp_name(path.name)
    try:
        write(str(tmp))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def to_jsonable(obj: Any) -> Any:
    """Turn dataclasses, tuples, paths, numpy/torch values and non-finite floats into plain JSON.

    The one non-finite policy: ``nan`` -> ``"nan"``, ``±inf`` -> ``"inf"`` / ``"-inf"``."""
    import dataclasses

    import numpy as np

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in (sorted(obj) if isinstance(obj, (set, frozenset)) else obj)]
    if isinstance(obj, Path):
        return str(obj)
    torch = sys.modules.get("torch")  # a tensor exists only if torch is loaded
    if torch is not None and isinstance(obj, torch.Tensor):
        return to_jsonable(obj.detach().cpu().tolist())
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def from_jsonable(obj: Any) -> Any:
    """:func:`to_jsonable`'s non-finite policy undone: ``"nan"`` / ``"inf"`` / ``"-inf"`` back to floats,
    anywhere in lists and dicts (for JSON whose strings are never these words otherwise, e.g. run records)."""
    if isinstance(obj, dict):
        return {k: from_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_jsonable(v) for v in obj]
    if isinstance(obj, str) and obj in ("nan", "inf", "-inf"):
        return float(obj)
    return obj


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Strict JSON text of ``obj`` under :func:`to_jsonable`'s policy (what every JSON file holds)."""
    return json.dumps(to_jsonable(obj), indent=indent, allow_nan=False, ensure_ascii=False) + "\n"


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented strict JSON to ``path`` atomically (dataclasses and tensors are converted)."""
    write_text_atomic(path, dumps(obj))


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    _atomic_write(Path(path), write)


def save_figure_atomic(path: str | os.PathLike, fig, **savefig_kw) -> None:
    """A matplotlib figure as PNG, atomically; no timestamp in the file (same figure, same bytes)."""
    kw = {"format": "png", "metadata": {"Software": None}, **savefig_kw}
    _atomic_write(Path(path), lambda tmp: fig.savefig(tmp, **kw))


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    if not path.is_file():
        raise SDLInputError(f"{path} does not exist; expected a JSON file written by sdl-theory")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SDLInputError(f"{path} is not valid JSON ({exc}); was it written by sdl-theory?") from exc


def _save_tensors(path: str, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, path, metadata=metadata)


def save_tensors_atomic(path: str | os.PathLike, tensors: dict[str, torch.Tensor],
                        metadata: dict[str, str] | None = None) -> None:
    """safetensors file written atomically; tensors are made contiguous and moved to CPU."""
    _atomic_write(Path(path), lambda tmp: _save_tensors(tmp, tensors, metadata))


def load_tensors(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise SDLInputError(f"{path} does not exist; expected a safetensors file written by sdl-theory")
    from safetensors.torch import load_file

    return load_file(str(path), device=str(device))


# ------------------------------------------------------------------------- directories (file sets)
def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    import ctypes

    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0


def _discard(path: Path) -> None:
    """Remove a directory crash-safely: rename it to a stale-temporary name (one step), then delete it."""
    if not path.exists():
        return
    doomed = path.parent / _tmp_name(path.name)
    os.replace(path, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Build a set of files in the yielded temporary directory; on success it becomes ``path`` by one rename.

    Where ``path`` already exists the two are exchanged atomically (Linux) and the old set is deleted;
    elsewhere the old set is first moved aside (a crash in between leaves no ``path``, never a mixed one).
    Files written inside go through :func:`write_file` (fsync + 0644)."""
    path = Path(path)
    _mkdir(path.parent)
    clean_stale(path.parent)
    tmp = path.parent / _tmp_name(path.name)
    tmp.mkdir(mode=DIR_MODE)
    os.chmod(tmp, DIR_MODE)
    try:
        yield tmp
        _fsync_dir(tmp)
        if path.exists():
            if _exchange(tmp, path):
                _fsync_dir(path.parent)
                shutil.rmtree(tmp, ignore_errors=True)  # now holds the old set, under a temporary name
                return
            _discard(path)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_file(path: str | os.PathLike, write) -> None:
    """``write(path)`` inside an :func:`atomic_dir`, then fsync and 0644 (the directory's rename is the
    atomic step)."""
    write(str(path))
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())
    os.chmod(path, FILE_MODE)


def _write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _write_model_files(d: Path, model: torch.nn.Module, config: Any) -> None:
    write_file(d / MODEL_FILE, lambda p: _save_tensors(p, model.state_dict()))
    text = dumps({"model": model.spec(), "config": config})
    write_file(d / CONFIG_FILE, lambda p: _write_text(p, text))


# ---------------------------------------------------------------------------------------------- models
def save_model(path_dir: str | os.PathLike, model: torch.nn.Module, config: Any = None) -> Path:
    """Save ``model`` (a :class:`numerics.models.SparseCoder`) as ``cfg.json`` + ``model.safetensors``.

    ``config`` (e.g. the training config) is stored beside the model's own constructor arguments. The
    directory is swapped in whole (:func:`atomic_dir`); other files already in it (e.g. ``instance.json``,
    written beside the model by ``proofs_check.bridge.save_instance``) are carried over."""
    path_dir = Path(path_dir)
    with atomic_dir(path_dir) as d:
        _write_model_files(d, model, config)
        if path_dir.is_dir():
            for f in path_dir.iterdir():
                if f.is_file() and f.name not in (MODEL_FILE, CONFIG_FILE) and not f.name.startswith("."):
                    write_file(d / f.name, lambda p, f=f: shutil.copyfile(f, p))
    return path_dir


def load_model(path_dir: str | os.PathLike, device: str | torch.device = "cpu"):
    """Inverse of :func:`save_model`: returns ``(model, config)``. A checkpoint root (``step-<n>/`` inside)
    is read at its newest checkpoint."""
    from numerics.models import build_model

    path_dir = Path(path_dir)
    if not (path_dir / CONFIG_FILE).is_file():
        path_dir = latest_checkpoint(path_dir) or path_dir
    from theory.registry import saved_name

    cfg = read_json(path_dir / CONFIG_FILE)
    if not isinstance(cfg, dict) or not isinstance(cfg.get("model"), dict):
        raise SDLInputError(f"{path_dir / CONFIG_FILE} has no 'model' entry; not a model saved by save_model")
    spec = dict(cfg["model"])
    spec["name"] = saved_name(spec.get("name"))   # a family renamed since the file was saved (topk → topk_relu)
    model = build_model(**spec)
    model.load_state_dict(load_tensors(path_dir / MODEL_FILE), strict=True)
    config = cfg.get("config")
    if isinstance(config, dict) and "arch" in config:
        config = {**config, "arch": saved_name(config["arch"])}
    return model.to(device), config


# ---------------------------------------------------------------------------------------- optimizer
def flatten_optimizer_state(opt: torch.optim.Optimizer, params: dict[str, torch.nn.Parameter]
                            ) -> dict[str, torch.Tensor]:
    """Adam's per-parameter state as named tensors (``name.exp_avg``, ``name.exp_avg_sq``, ``name.step``)."""
    import torch

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




# --------------------------------------------------------------------------------------- checkpoints
def checkpoint_path(root: str | os.PathLike, step: int) -> Path:
    return Path(root) / f"{CHECKPOINT_PREFIX}{int(step):09d}"


def latest_checkpoint(root: str | os.PathLike) -> Path | None:
    """The newest checkpoint under ``root`` (``step-<n>/``, complete because it was renamed into place
    whole), or ``root`` itself for a checkpoint of the older flat layout; None when there is none."""
    root = Path(root)
    if not root.is_dir():
        return None
    steps = []
    for d in root.iterdir():
        if d.is_dir() and d.name.startswith(CHECKPOINT_PREFIX) and (d / STATE_FILE).is_file():
            try:
                steps.append((int(d.name[len(CHECKPOINT_PREFIX):]), d))
            except ValueError:
                continue
    if steps:
        return max(steps)[1]
    return root if (root / STATE_FILE).is_file() and (root / OPTIMIZER_FILE).is_file() else None


def save_checkpoint(root: str | os.PathLike, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    state: dict, config: Any = None, extra_tensors: dict[str, torch.Tensor] | None = None) -> Path:
    """Model + flattened Adam state + ``state.json`` as ``root/step-<state["step"]>/``, swapped in by one
    rename; older checkpoints under ``root`` are removed afterwards. Returns the checkpoint's directory.

    ``extra_tensors`` (e.g. the trainer's dead-latent counters) are stored beside the optimizer state
    under the prefix ``extra.``.
    """
    root = Path(root)
    target = checkpoint_path(root, state["step"])
    tensors = flatten_optimizer_state(optimizer, dict(model.named_parameters()))
    tensors.update({f"extra.{k}": v for k, v in (extra_tensors or {}).items()})
    text = dumps(state)
    with atomic_dir(target) as d:
        write_file(d / OPTIMIZER_FILE, lambda p: _save_tensors(p, tensors))
        _write_model_files(d, model, config)
        write_file(d / STATE_FILE, lambda p: _write_text(p, text))
    for old in root.iterdir():
        if old.is_dir() and old.name.startswith(CHECKPOINT_PREFIX) and old != target:
            _discard(old)
    for name in (STATE_FILE, OPTIMIZER_FILE, MODEL_FILE, CONFIG_FILE):  # an older flat checkpoint, superseded
        (root / name).unlink(missing_ok=True)
    return target


def load_checkpoint(path_dir: str | os.PathLike, model: torch.nn.Module, optimizer: torch.optim.Optimizer
                    ) -> tuple[dict, dict[str, torch.Tensor]]:
    """Load weights and Adam state into existing ``model``/``optimizer`` from the newest checkpoint under
    ``path_dir`` (a checkpoint root or one ``step-<n>/`` directory).

    Returns ``(state, extra_tensors)``: the ``state.json`` dict and the tensors saved as ``extra_tensors``.
    """
    found = latest_checkpoint(path_dir)
    if found is None:
        raise SDLInputError(f"no checkpoint under {path_dir}; expected step-<n>/ directories written by sdl-theory")
    state = read_json(found / STATE_FILE)
    device = next(model.parameters()).device
    model.load_state_dict(load_tensors(found / MODEL_FILE, device), strict=True)
    tensors = load_tensors(found / OPTIMIZER_FILE)
    extra = {k[len("extra."):]: v.to(device) for k, v in tensors.items() if k.startswith("extra.")}
    opt_tensors = {k: v for k, v in tensors.items() if not k.startswith("extra.")}
    restore_optimizer_state(optimizer, dict(model.named_parameters()), opt_tensors)
    return state, extra
