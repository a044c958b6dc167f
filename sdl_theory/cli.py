"""``sdl-theory``: one sub-command per module in :mod:`sdl_theory.commands`.

Each command module defines ``register(subparsers)`` which adds its parser and sets
``func=run``. Heavy imports (torch, sympy) happen inside ``run`` so that ``--help`` is fast.
Input errors (:class:`theory.errors.SDLInputError`, and argparse's usage errors) are printed as one
clear line, exit code 2; any other exception is a bug: one line naming it and the file where its full
traceback was saved, exit code 70.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

COMMANDS = ("verify", "derive", "bench", "study", "inspect", "convert")


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (what was wrong and where to look), like every other input error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
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
        print(f"sdl-theory {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sdl-theory {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug: one line for the user, the traceback kept for the report
        path = save_traceback(args.command)
        print(f"sdl-theory {args.command}: internal error {type(exc).__name__}: {_one_line(str(exc))[:300]} "
              f"(full traceback in {path}; please report it)", file=sys.stderr)
        return 70


def _one_line(text: str) -> str:
    return " ".join(text.split())


def save_traceback(command: str) -> str:
    """Write the current exception's traceback to a fresh file under the temp directory; return its path."""
    import tempfile
    import traceback

    fd, path = tempfile.mkstemp(prefix=f"sdl-theory-{command}-traceback-", suffix=".txt")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"sdl-theory {' '.join(sys.argv[1:])}\n\n{traceback.format_exc()}")
    return path


if __name__ == "__main__":
    raise SystemExit(main())
