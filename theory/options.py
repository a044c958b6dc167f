"""Config fields that carry their own help: the CLI builds its flags from them (``sdl_theory.flags``).

A config is a plain dataclass; a field declared with :func:`option` keeps its help text in the
field's metadata, so the flag, its help and the printed config all come from the one declaration::

    @dataclass(frozen=True)
    class ReLUTraining:
        l1_coeff: float = option(3e-3, "L1 coefficient λ (on the FVU scale)")
"""
from __future__ import annotations

import dataclasses

from theory.errors import SDLInputError


def option(default, help: str, *, flag: bool = True):
    """A dataclass field with ``default`` (an immutable value) and its ``help`` text.

    ``flag=False`` keeps the field out of the generated command line (set by the program itself)."""
    if isinstance(default, (list, dict, set)):
        raise TypeError("option defaults must be immutable (use a tuple)")
    return dataclasses.field(default=default, metadata={"help": help, "flag": flag})


def help_of(f: dataclasses.Field) -> str:
    return f.metadata.get("help", f.name.replace("_", " "))


def is_flag(f: dataclasses.Field) -> bool:
    return f.init and f.metadata.get("flag", True)


def default_of(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def build(cls, values: dict, *, what: str):
    """``cls(**values)`` with one clear error for a name ``cls`` does not have."""
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    extra = sorted(set(values) - set(names))
    if extra:
        raise SDLInputError(f"{what} takes {names or 'no settings'}, not {extra}")
    return cls(**values)


__all__ = ["option", "help_of", "is_flag", "default_of", "build"]
