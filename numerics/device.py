"""Device choice: the same code runs on CPU (default) and on CUDA when one is available."""
from __future__ import annotations

import torch

from theory.errors import SDLInputError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available, else CPU; ``cpu``/``cuda``/``cuda:N`` are taken as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise SDLInputError(f"unknown device {name!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SDLInputError(f"device {name!r} asked for but CUDA is not available here; use --device cpu or auto")
    return dev
