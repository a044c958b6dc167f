"""Command-line flags generated from config dataclasses (shared by ``bench`` and ``study``).

Every field is one flag: ``n_features`` → ``--n-features``; its type comes from the annotation
(``bool`` → ``--x/--no-x``, ``tuple[float, ...]`` → a list of floats), its help from the field's
``option(default, help)`` metadata (:mod:`theory.options`). Flags are added with
``argparse.SUPPRESS`` defaults so that :func:`given` returns only what the user typed: a preset or a
study's defaults supply the rest.
"""
from __future__ import annotations

import argparse
import dataclasses
import typing

from theory.options import default_of, help_of, is_flag


def finite_float(text: str) -> float:
    """A float flag's type: ``nan``, ``inf`` and ``1e400`` are refused by argparse, not passed on."""
    import math

    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return x


def _flag_type(t):
    return finite_float if t is float else t


def _element_type(hint, base):
    args = [a for a in typing.get_args(hint) if a is not Ellipsis]
    if args and args[0] in (int, float, str):
        return _flag_type(args[0])
    if isinstance(base, tuple) and base and type(base[0]) in (int, float, str):
        return _flag_type(type(base[0]))  # a bare ``tuple`` annotation: the default's elements say
    return str


def _scalar_type(hint, default):
    if hint in (int, float, str):
        return _flag_type(hint)
    if isinstance(default, (int, float, str)) and not isinstance(default, bool):
        return _flag_type(type(default))
    return str


def add_fields(group, cls, *, skip=(), seen: set | None = None, dest=lambda name: name, default=None,
               note: str = "") -> list[str]:
    """One flag per field of ``cls`` (minus ``skip`` and names already in ``seen``); returns the dests.

    ``default``: an instance whose values are shown in the help as the base defaults; ``note`` is
    appended to every help text."""
    hints = typing.get_type_hints(cls)
    seen = set() if seen is None else seen
    added = []
    for f in dataclasses.fields(cls):
        if not is_flag(f) or f.name in skip or f.name in seen:
            continue
        seen.add(f.name)
        base = getattr(default, f.name) if default is not None else default_of(f)
        add_field(group, f, hints.get(f.name, type(base)), base, dest(f.name), note)
        added.append(dest(f.name))
    return added


def add_field(group, f: dataclasses.Field, hint, base, dest: str, note: str = "") -> None:
    """The flag of one field (see the module docstring)."""
    origin = typing.get_origin(hint) or hint
    shown = ", ".join(map(str, base)) if isinstance(base, tuple) else base
    kw = {"dest": dest, "default": argparse.SUPPRESS, "help": f"{help_of(f)} [default: {shown}]{note}"}
    flag = "--" + f.name.replace("_", "-")
    if hint is bool or isinstance(base, bool):
        group.add_argument(flag, action=argparse.BooleanOptionalAction, **kw)
    elif origin in (tuple, list) or isinstance(base, tuple):
        group.add_argument(flag, nargs="*", type=_element_type(hint, base), metavar="V", **kw)
    else:
        group.add_argument(flag, type=_scalar_type(hint, base), metavar=f.name.upper(), **kw)


def given(args: argparse.Namespace, cls, *, dest=lambda name: name) -> dict:
    """The fields of ``cls`` the user gave on the command line (lists turned into tuples)."""
    ns = vars(args)
    out = {}
    for f in dataclasses.fields(cls):
        if dest(f.name) in ns:
            v = ns[dest(f.name)]
            out[f.name] = tuple(v) if isinstance(v, list) else v
    return out


def parse_assignments(items, fields: dict, *, flag: str) -> dict:
    """``["k=3", "lams=0.2,1"]`` → typed values, ``fields`` mapping a name to its current value
    (whose type decides how the text is read); one clear error per bad item."""
    from theory.errors import SDLInputError

    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise SDLInputError(f"{flag} expects NAME=VALUE, got {item!r}")
        if name not in fields:
            raise SDLInputError(f"{flag}: no setting {name!r}; settings: {', '.join(sorted(fields))}")
        out[name] = read_value(text.strip(), fields[name], what=f"{flag} {name}")
    return out


def read_value(text: str, current, *, what: str):
    """``text`` read as the type of ``current`` (bool, int, float, str, or a comma-separated tuple)."""
    from theory import validation as V
    from theory.errors import SDLInputError

    def one(kind, v):
        return V.finite_float(what, float(v)) if kind is float else kind(v)

    try:
        if isinstance(current, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if isinstance(current, tuple):
            kind = type(current[0]) if current else float
            return tuple(one(kind, v) for v in text.split(",") if v.strip() != "")
        return one(type(current), text) if current is not None else text
    except SDLInputError:
        raise
    except ValueError:
        raise SDLInputError(f"{what}: cannot read {text!r} as {type(current).__name__}") from None


__all__ = ["add_fields", "add_field", "given", "parse_assignments", "read_value"]
