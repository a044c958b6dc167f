"""One rule for every command that writes into ``--out``: a directory holds the outputs of one
configuration. A rerun with the same configuration continues (finished checkpoints are reused); a
rerun with another configuration refuses, naming the fields that differ, unless ``overwrite`` is
given, which first deletes the outputs this command wrote there before (and nothing else).

Torch-free, so the CLI can check ``--out`` before importing the heavy layers.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Iterable

from theory.errors import SDLInputError


def _flat(d, prefix=""):
    if isinstance(d, dict):
        out = {}
        for k, v in d.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


def config_differences(old: dict, new: dict, ignore: Iterable[str] = ()) -> list[str]:
    """``field: old → new`` for every leaf that differs (``ignore``: leaf names such as ``out``)."""
    ignore = set(ignore)
    a, b = _flat(old), _flat(new)
    diffs = []
    for key in sorted(set(a) | set(b)):
        if key.rsplit(".", 1)[-1] in ignore:
            continue
        if a.get(key, "<absent>") != b.get(key, "<absent>"):
            diffs.append(f"{key}: {a.get(key, '<absent>')!r} → {b.get(key, '<absent>')!r}")
    return diffs


def claim_out_dir(out: str | Path, config: dict, marker: str, outputs: Iterable[str], *, overwrite: bool = False,
                  ignore: Iterable[str] = ("out",), what: str = "run") -> Path:
    """Make ``out`` ready for a run of ``config`` (a JSON-ready dict).

    ``marker`` is the JSON file (relative to ``out``) whose ``"config"`` entry records the configuration
    of the outputs already there; ``outputs`` are every file or directory the run writes (relative).
    Raises :class:`SDLInputError` before any work when ``out`` cannot be used.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SDLInputError(f"--out {out} is a file, not a directory; choose a directory")
    outputs = list(outputs)
    present = [name for name in outputs if (out / name).exists()]
    if present and not overwrite:
        try:
            old = json.loads((out / marker).read_text()).get("config")
        except (OSError, ValueError, AttributeError):
            old = None
        if old is None:
            raise SDLInputError(
                f"--out {out} already holds {', '.join(present)} but no readable {marker} saying which configuration "
                f"made them; choose another --out, or pass --overwrite to delete them first")
        diffs = config_differences(old, json.loads(json.dumps(config)), ignore)
        if diffs:
            shown = "; ".join(diffs[:6]) + (f"; and {len(diffs) - 6} more" if len(diffs) > 6 else "")
            raise SDLInputError(
                f"--out {out} holds a {what} with a different configuration ({shown}); its checkpoints and results "
                f"would be mixed with this one's. Choose another --out, or pass --overwrite to delete them first")
    if overwrite:
        for name in present:
            path = out / name
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".sdl-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise SDLInputError(f"cannot write into --out {out} ({exc.strerror or exc}); choose another directory") from None
    return out
