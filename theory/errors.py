"""The one exception type for bad user input.

Every validation in the toolkit raises :class:`SDLInputError` with a message that says what is
wrong and how to fix it, before any expensive computation starts. The message is always one line: a
line break inside it (a numpy array's repr quoted in it, say) is folded into a space, so no refusal
anywhere prints more than the one line the CLI promises.
"""
import re

_BREAK = re.compile(r"\s*[\r\n]+\s*")


class SDLInputError(ValueError):
    """Bad input to the toolkit: the message says what is wrong and how to fix it (one line)."""

    def __init__(self, *args):
        if len(args) == 1 and isinstance(args[0], str):
            args = (_BREAK.sub(" ", args[0]).strip(),)
        super().__init__(*args)
