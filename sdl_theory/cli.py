"""``sdl-theory``: one sub-command per module in :mod:`sdl_theory.commands`.

Each command module defines ``register(subparsers)`` which adds its parser and sets
``func=run``. Heavy imports (torch, sympy) happen inside ``run`` so that ``--help`` is fast.
Input errors (:class:`theory.errors.SDLInputError`) are printed as one clear line, exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("verify", "derive", "bench", "study", "inspect", "convert")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sdl-theory",
        description="Check the theory of sparse dictionary learning symbolically and against training.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"sdl_theory.commands.{name}")
        except ModuleNotFoundError as exc:  # a command not built yet must not break the others
            if exc.name != f"sdl_theory.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from theory.errors import SDLInputError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except SDLInputError as exc:
        print(f"sdl-theory {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
